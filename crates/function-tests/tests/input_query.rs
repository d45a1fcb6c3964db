//! The input query stays within Shopify's limits, and the extension's schema is ours.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::fs;

use cancel_policy_function_tests::build::workspace_root;
use cancel_policy_function_tests::query_cost::{self, MAX_BYTES, MAX_COST};

fn read(relative: &str) -> String {
    fs::read_to_string(workspace_root().join(relative)).unwrap()
}

#[test]
fn input_query_is_within_shopifys_size_and_cost_limits() {
    let query = read("extensions/cancel-policy/src/order_cancellation_run.graphql");
    let schema = read("schema/function-order-cancellation.graphql");
    let bytes = query_cost::byte_size(&query);
    let cost = query_cost::cost(&query, &schema).unwrap();
    println!("input query: {bytes} bytes without comments, calculated cost {cost}");
    assert!(
        bytes <= MAX_BYTES,
        "the input query is {bytes} bytes; Shopify allows {MAX_BYTES}"
    );
    assert!(
        cost <= MAX_COST,
        "the input query costs {cost}; Shopify allows {MAX_COST}"
    );
}

#[test]
fn cost_rules_match_shopifys_published_table() {
    let schema = read("schema/function-order-cancellation.graphql");
    let cost = |query: &str| query_cost::cost(query, &schema).unwrap();
    // Leaves cost 1; objects nothing of their own.
    assert_eq!(cost("query { order { id createdAt } }"), 2);
    // `__typename` is free; a Metafield costs 3 whatever is selected on it.
    assert_eq!(cost("query { order { cancellation { __typename } } }"), 0);
    assert_eq!(
        cost(r#"query { shop { metafield(key: "k") { value jsonValue type } } }"#),
        3
    );
    // `hasTags` costs 3 besides its own leaves.
    assert_eq!(
        cost(r#"query { order { lineItems { product { hasTags(tags: ["a"]) { hasTag } } } } }"#),
        4
    );
    assert!(query_cost::cost("query { order { nope } }", &schema).is_err());
    assert_eq!(
        query_cost::byte_size("# comment\nquery { a } # trailing\n"),
        "query { a }\n".len()
    );
}

#[test]
fn extension_schema_is_the_function_api_schema() {
    assert_eq!(
        read("extensions/cancel-policy/schema.graphql"),
        read("schema/function-order-cancellation.graphql"),
        "extensions/cancel-policy/schema.graphql drifted from schema/function-order-cancellation.graphql: copy it over"
    );
}
