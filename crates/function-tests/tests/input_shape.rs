//! How the Function reads its input, through the Wasm: fields by position when an object has
//! the query's fields in the query's order (and by key otherwise), the per-line `hasAnyTag`
//! pre-check, and what the input query leaves out.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::fs;

use cancel_policy_core::compile;
use cancel_policy_core::compiled::{CompiledPolicy, InputNeeds, OrderInputs, Trigger};
use cancel_policy_core::facts::{Facts, FulfillmentOrderFacts, RiskAssessmentFacts};
use cancel_policy_core::money::{Amount, Money};
use cancel_policy_function_tests::bench;
use cancel_policy_function_tests::build::{self, workspace_root};
use cancel_policy_function_tests::harness::FunctionRunner;
use cancel_policy_function_tests::native::{expected_output, rejected};
use cancel_policy_function_tests::render::function_input;
use graphql_parser::query::{
    self, Definition, Field, OperationDefinition, Selection, SelectionSet,
};
use serde_json::{Value, json};

fn runner() -> FunctionRunner {
    let artifacts = build::artifacts().unwrap();
    FunctionRunner::order_cancellation(artifacts).unwrap()
}

/// Cancels the lines tagged `engraved`; sku, selling plan, stock and a second tag set are
/// consulted too, so every field of a line is included and read.
const LINES_POLICY: &str = r#"
id = "lines"
name = "Lines"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["customer_request"]

[default]
cancel_lines = { where = { product_tags = { any_of = ["Engraved", "gift"] } } }

[[rule]]
id = "odd"
on = ["customer_request"]
when = { lines.any = { sku = { matches = "NOPE-*" }, product_tags = { any_of = ["fragile"] } }, line_count = { ge = 1 } }
then.deny = {}

[[rule]]
id = "plans"
on = ["customer_request"]
when.lines.any = { selling_plan = "subscription", inventory_available = { lt = -100 } }
then.deny = {}
"#;

fn lines_policy() -> CompiledPolicy {
    let compiled = compile::compile(LINES_POLICY, "lines.toml");
    compiled
        .policy
        .clone()
        .unwrap_or_else(|| panic!("{}", compiled.render(LINES_POLICY)))
}

/// An order whose every object the query selects is present.
fn full_order(lines: usize) -> Facts {
    let mut facts = bench::order(lines);
    facts.order.b2b = true;
    facts.order.fulfillment_orders = vec![FulfillmentOrderFacts {
        status: "OPEN".into(),
        request_status: "UNSUBMITTED".into(),
        ..FulfillmentOrderFacts::default()
    }];
    facts.order.risk.assessments = vec![RiskAssessmentFacts {
        risk_level: "LOW".into(),
        third_party: true,
    }];
    facts.order.total_price = Some(Money {
        amount: Amount::from_thousandths(10_000),
        currency_code: "EUR".into(),
    });
    for (index, line) in facts.order.line_items.iter_mut().enumerate() {
        line.selling_plan = Some("subscription".into());
        if index % 2 == 1 {
            line.product_tags.push("Engraved".into());
        }
    }
    facts
}

fn run_lines(runner: &FunctionRunner, facts: &Facts, edit: impl Fn(&mut Value)) -> (Value, Value) {
    let policy = lines_policy();
    let (now, trigger) = (bench::now(), Trigger::CustomerRequest);
    let mut input = function_input(facts, now, trigger, Some(&policy), Some(&policy.to_json()));
    edit(&mut input);
    let output = runner.run(&input).unwrap().output;
    (output, expected_output(&policy, facts, now, trigger))
}

/// The message of a run's `inputRejected` operation (the test fails on any other output).
fn rejection_message(output: &Value) -> &str {
    output
        .pointer("/operations/0/inputRejected/message")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{output}"))
}

fn query_selection() -> SelectionSet<'static, String> {
    let text = fs::read_to_string(
        workspace_root().join("extensions/cancel-policy/src/order_cancellation_run.graphql"),
    )
    .unwrap();
    let doc = graphql_parser::parse_query::<String>(&text)
        .unwrap()
        .into_static();
    doc.definitions
        .into_iter()
        .find_map(|d| match d {
            Definition::Operation(OperationDefinition::Query(q)) => Some(q.selection_set),
            _ => None,
        })
        .unwrap()
}

/// Whether `variables` include `field`: false when it has `@include(if: $v)` and `v` is false
/// (a variable not given takes the query's default, true).
fn included(field: &Field<String>, variables: &Value) -> bool {
    field
        .directives
        .iter()
        .filter(|directive| directive.name == "include")
        .flat_map(|directive| &directive.arguments)
        .all(|(_, value)| match value {
            query::Value::Variable(name) => variables[name.as_str()] != json!(false),
            query::Value::Boolean(included) => *included,
            _ => panic!("unexpected @include argument {value}"),
        })
}

/// The key a field has in the response: its alias, else its name.
fn key_of<'a>(field: &'a Field<String>) -> &'a str {
    field.alias.as_deref().unwrap_or(&field.name)
}

/// Every key of `value` is a field of `selection`, in the selection's order; with `complete`,
/// every selected field that `variables` include is there.
fn check_order(
    value: &Value,
    selection: &SelectionSet<String>,
    at: &str,
    complete: bool,
    variables: &Value,
) {
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let at = format!("{at}[{index}]");
                check_order(item, selection, &at, complete, variables);
            }
        }
        Value::Object(object) => {
            let fields: Vec<_> = selection
                .items
                .iter()
                .map(|item| match item {
                    Selection::Field(field) => field,
                    _ => panic!("the input query uses only fields"),
                })
                .collect();
            let names: Vec<&str> = fields.iter().map(|f| key_of(f)).collect();
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            let mut position = 0;
            for key in &keys {
                let found = names[position..].iter().position(|name| name == key);
                let Some(offset) = found else {
                    panic!(
                        "{at}: key `{key}` is not selected, or not in query order {names:?}: {keys:?}"
                    );
                };
                position += offset + 1;
            }
            if complete {
                let wanted: Vec<&str> = fields
                    .iter()
                    .filter(|field| included(field, variables))
                    .map(|field| key_of(field))
                    .collect();
                assert_eq!(keys, wanted, "{at}");
            }
            for field in fields {
                if let Some(child) = object.get(key_of(field)) {
                    let at = format!("{at}.{}", key_of(field));
                    check_order(child, &field.selection_set, &at, complete, variables);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn rendered_inputs_and_fixtures_follow_the_query_order() {
    let selection = query_selection();
    let policy = lines_policy();
    let input = function_input(
        &full_order(3),
        bench::now(),
        Trigger::CustomerRequest,
        Some(&policy),
        Some(&policy.to_json()),
    );
    let variables = serde_json::to_value(policy.input_variables()).unwrap();
    check_order(&input, &selection, "input", true, &variables);
    let dir = workspace_root().join("extensions/cancel-policy/tests/fixtures");
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let fixture: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        // Some fixtures leave fields out on purpose (bad input); none reorders them.
        check_order(
            &fixture["payload"]["input"],
            &selection,
            &path.display().to_string(),
            false,
            &json!({}),
        );
    }
}

/// A line's id only names it in a `cancel_lines` decision, and so does its quantity when no
/// condition tests it: those of the lines it cancels are read, and only theirs.
#[test]
fn only_the_cancelled_lines_ids_are_read() {
    let runner = runner();
    let facts = full_order(4);
    let (output, expected) = run_lines(&runner, &facts, |input| {
        for line in [0, 2] {
            input["order"]["lineItems"][line]["id"] = json!(7);
            input["order"]["lineItems"][line]["quantity"] = json!("many");
        }
    });
    assert_eq!(output, expected);
    let cancelled = expected.pointer("/operations/0/decisionSet/actions/0/lines");
    assert_eq!(
        cancelled,
        Some(&json!([
            { "id": "gid://shopify/LineItem/1001", "quantity": 2 },
            { "id": "gid://shopify/LineItem/1003", "quantity": 1 }
        ]))
    );
    let (output, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineItems"][1]["id"] = json!(7);
    });
    assert_eq!(
        rejection_message(&output),
        "`input.order.lineItems[1].id`: expected a string, found a number"
    );
    let (output, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineItems"][3]["quantity"] = json!("many");
    });
    assert_eq!(
        rejection_message(&output),
        "`input.order.lineItems[3].quantity`: expected an integer, found a string"
    );
}

#[test]
fn lines_in_another_key_order_or_with_extra_fields_are_read_by_key() {
    let runner = runner();
    let facts = full_order(4);
    let (in_order, expected) = run_lines(&runner, &facts, |_| {});
    assert_eq!(in_order, expected);
    assert!(
        in_order.pointer("/operations/0/decisionSet").is_some(),
        "{in_order}"
    );

    let reverse = |object: &mut Value| {
        let map = object.as_object_mut().unwrap();
        let reversed: serde_json::Map<String, Value> = map
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *map = reversed;
    };
    let (reordered, _) = run_lines(&runner, &facts, |input| {
        for line in input["order"]["lineItems"].as_array_mut().unwrap() {
            for field in ["variant", "product"] {
                reverse(&mut line[field]);
            }
            reverse(line);
        }
    });
    assert_eq!(reordered, expected);

    // Two strings trade places: only their keys tell them apart.
    let (swapped, _) = run_lines(&runner, &facts, |input| {
        for line in input["order"]["lineItems"].as_array_mut().unwrap() {
            let map = line.as_object_mut().unwrap();
            let (id, sku) = (map["id"].clone(), map["sku"].clone());
            let reordered: serde_json::Map<String, Value> = map
                .iter()
                .map(|(key, value)| match key.as_str() {
                    "id" => ("sku".to_string(), sku.clone()),
                    "sku" => ("id".to_string(), id.clone()),
                    _ => (key.clone(), value.clone()),
                })
                .collect();
            *map = reordered;
        }
    });
    assert_eq!(swapped, expected);

    let (wider, _) = run_lines(&runner, &facts, |input| {
        input["order"]["id"] = json!("gid://shopify/Order/1");
        for line in input["order"]["lineItems"].as_array_mut().unwrap() {
            line["requiresShipping"] = json!(true);
        }
    });
    assert_eq!(wider, expected);

    let (short, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineItems"][2]
            .as_object_mut()
            .unwrap()
            .shift_remove("sku");
    });
    let message = rejection_message(&short);
    assert!(
        message.starts_with("`input.order.lineItems[2]`: no `sku`, which the policy needs"),
        "{message}"
    );
}

#[test]
fn only_the_answers_of_lines_with_some_of_the_tags_are_read() {
    let runner = runner();
    let facts = full_order(3);
    let (output, expected) = run_lines(&runner, &facts, |_| {});
    assert_eq!(output, expected);
    let cancelled = &output["operations"][0]["decisionSet"]["actions"][0]["lines"];
    assert_eq!(cancelled.as_array().unwrap().len(), 1, "{output}");
    assert_eq!(cancelled[0]["id"], facts.order.line_items[1].id.as_str());

    // `hasAnyTag` false on the tagged line: its answers are not read, so it has no tag.
    let (untagged, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineItems"][1]["product"]["hasAnyTag"] = json!(false);
    });
    let mut without = facts.clone();
    without.order.line_items[1]
        .product_tags
        .retain(|t| t != "Engraved");
    let (_, expected_without) = run_lines(&runner, &without, |_| {});
    assert_eq!(untagged, expected_without);
    assert_ne!(untagged, expected);

    // The answers of a tagged line are matched to the policy's tags.
    let (stale, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineTags"][1]["product"]["hasTags"] = json!([{ "hasTag": false }]);
    });
    assert!(rejected("INPUT_VARIABLES_MISMATCH")(&stale), "{stale}");
    let message = stale["operations"][0]["inputRejected"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("`input.order.lineTags[1].product.hasTags` has 1 answers"),
        "{message}"
    );
    // Lines whose pre-check is false are not read at all.
    let (others, _) = run_lines(&runner, &facts, |input| {
        for line in [0, 2] {
            input["order"]["lineTags"][line]["product"]["hasTags"] = json!("not read");
        }
    });
    assert_eq!(others, expected);
    // An answer that is not a boolean is refused, saying where.
    let (bad, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineTags"][1]["product"]["hasTags"][1] = json!({ "hasTag": "yes" });
    });
    let message = rejection_message(&bad);
    assert_eq!(
        message,
        "`input.order.lineTags[1].product.hasTags[1].hasTag`: expected a boolean, found a string"
    );
    // `lineTags` is the same list as `lineItems`.
    let (short, _) = run_lines(&runner, &facts, |input| {
        input["order"]["lineTags"].as_array_mut().unwrap().pop();
    });
    let message = rejection_message(&short);
    assert_eq!(
        message,
        "`input.order.lineTags`: expected 3 lines, as `lineItems`, found 2"
    );
}

#[test]
fn left_out_fields_are_derived_or_refused() {
    let runner = runner();
    // A request's source is the one its trigger implies.
    let source = r#"
id = "source"
name = "Source"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["customer_request", "staff_request"]

[default]
deny = {}

[[rule]]
id = "staff"
on = ["customer_request", "staff_request"]
when = { request_source = "staff" }
then.allow = { reason = "STAFF", refund = "original", restock = true, notify = false, staff_note = "By {rule} for {order}." }
"#;
    let policy = compile::compile(source, "source.toml").policy.unwrap();
    let facts = bench::order(1);
    let now = bench::now();
    let json = policy.to_json();
    let input = function_input(
        &facts,
        now,
        Trigger::StaffRequest,
        Some(&policy),
        Some(&json),
    );
    let output = runner.run(&input).unwrap().output;
    assert!(rejected("UNSUPPORTED_FACT")(&output), "{output}");
    let message = output["operations"][0]["inputRejected"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("`{order}` in a staff note"), "{message}");
    // For a customer's request the rule's conditions fail: its outcome is never applied (nor
    // read), so what it would consult does not refuse the run.
    let input = function_input(
        &facts,
        now,
        Trigger::CustomerRequest,
        Some(&policy),
        Some(&json),
    );
    let output = runner.run(&input).unwrap().output;
    let expected = expected_output(&policy, &facts, now, Trigger::CustomerRequest);
    assert_eq!(output, expected);
    assert_eq!(output["operations"][0]["decisionSet"]["outcome"], "deny");

    let source = source.replace(" for {order}", "");
    let policy = compile::compile(&source, "source.toml").policy.unwrap();
    let json = policy.to_json();
    for (trigger, allowed) in [
        (Trigger::StaffRequest, true),
        (Trigger::CustomerRequest, false),
    ] {
        let mut facts = facts.clone();
        // Not in the input: the trigger decides.
        facts.request.source = Some("customer".into());
        let input = function_input(&facts, now, trigger, Some(&policy), Some(&json));
        let output = runner.run(&input).unwrap().output;
        assert_eq!(output, expected_output(&policy, &facts, now, trigger));
        let outcome = &output["operations"][0]["decisionSet"]["outcome"];
        assert_eq!(outcome == "allow", allowed, "{output}");
    }
}

/// A `cancel_lines` rule whose selector picks no line does not decide, and the Function
/// learns so from the selector alone (`to_json` writes it right after the outcome's kind):
/// damage in the rest of the outcome does not change the decision; once a line is picked
/// the rule is read whole and the damage refused.
#[test]
fn a_cancel_lines_rule_that_picks_no_line_is_not_read_whole() {
    let runner = runner();
    let source = r#"
id = "oversold"
name = "Oversold"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["order_created"]

[default]
deny = {}

[[rule]]
id = "oversold"
on = ["order_created"]
then.cancel_lines = { where = { oversold = true }, reason = "INVENTORY", notify = true }
"#;
    let policy = compile::compile(source, "oversold.toml").policy.unwrap();
    let json = policy.to_json();
    // Not a boolean, and as long as `true`: the outcome still ends where its `ol` says.
    let damaged = json.replace(r#""n":true"#, r#""n":"ab""#);
    assert_ne!(damaged, json);
    assert!(CompiledPolicy::load(&damaged).is_err());
    let now = bench::now();
    let trigger = Trigger::OrderCreated;
    let mut facts = bench::order(3);
    for line in &mut facts.order.line_items {
        line.inventory_policy = Some("CONTINUE".into());
        line.inventory_quantity = Some(4);
    }
    let input = function_input(&facts, now, trigger, Some(&policy), Some(&damaged));
    let output = runner.run(&input).unwrap().output;
    assert_eq!(output, expected_output(&policy, &facts, now, trigger));
    assert_eq!(output["operations"][0]["decisionSet"]["outcome"], "deny");

    if let Some(line) = facts.order.line_items.get_mut(1) {
        line.inventory_quantity = Some(-2);
    }
    let input = function_input(&facts, now, trigger, Some(&policy), Some(&damaged));
    let output = runner.run(&input).unwrap().output;
    assert!(rejected("INVALID_POLICY")(&output), "{output}");
    let input = function_input(&facts, now, trigger, Some(&policy), Some(&json));
    let output = runner.run(&input).unwrap().output;
    assert_eq!(output, expected_output(&policy, &facts, now, trigger));
    assert_eq!(
        output["operations"][0]["decisionSet"]["outcome"],
        "cancel_lines"
    );
}

/// A rule whose conditions fail is checked against the header with the other such rules,
/// once, before the decision: a header that leaves out what such a rule consults (here a
/// hand-edited one) still refuses the run, whether a later rule or the default decides.
#[test]
fn a_passed_rule_the_header_does_not_cover_refuses_the_run() {
    let runner = runner();
    let source = r#"
id = "passed"
name = "Passed"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["customer_request"]

[default]
deny = {}

[[rule]]
id = "shipped"
on = ["customer_request"]
when = { fulfillment_status = { in = ["FULFILLED"] } }
then.deny = {}

[[rule]]
id = "recent"
on = ["customer_request"]
when = { minutes_since_placed = { lt = 180 } }
then.allow = { reason = "CUSTOMER", refund = "original" }
"#;
    let policy = compile::compile(source, "passed.toml").policy.unwrap();
    let json = policy.to_json();
    let trigger = Trigger::CustomerRequest;
    let needs = policy.function_header().needs_of(trigger).0;
    assert_ne!(needs & InputNeeds::FULFILLMENT_STATUS, 0);
    let without_status = needs & !InputNeeds::FULFILLMENT_STATUS;
    let edited = json.replacen(
        &format!(r#""n":[{needs},"#),
        &format!(r#""n":[{without_status},"#),
        1,
    );
    assert_ne!(edited, json);
    let now = bench::now();
    // Placed two hours ago ("recent" decides), then a day ago (the default does).
    for hours_ago in [2, 24] {
        let mut facts = bench::order(2);
        facts.order.created_at = Some(now - chrono::Duration::hours(hours_ago));
        let input = function_input(&facts, now, trigger, Some(&policy), Some(&json));
        let output = runner.run(&input).unwrap().output;
        assert_eq!(output, expected_output(&policy, &facts, now, trigger));
        let decided = &output["operations"][0]["decisionSet"];
        let rule = if hours_ago == 2 {
            json!("recent")
        } else {
            Value::Null
        };
        assert_eq!(decided["rule"], rule);

        let input = function_input(&facts, now, trigger, Some(&policy), Some(&edited));
        let output = runner.run(&input).unwrap().output;
        assert!(rejected("INVALID_POLICY")(&output), "{output}");
        assert!(rejection_message(&output).contains("does not match its header"));
    }
}

/// One tag set and no sku, selling plan or stock: its variables leave those fields and
/// `hasTags` out of the input.
const ENGRAVED_POLICY: &str = r#"
id = "engraved"
name = "Engraved"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["customer_request"]

[default]
cancel_lines = { where = { product_tags = { any_of = ["Engraved", "gift"] } } }

[[rule]]
id = "none-tagged"
on = ["customer_request"]
when.lines.all = { product_tags = { none_of = ["gift", "engraved"] } }
then.deny = {}
"#;

#[test]
fn fields_the_variables_leave_out_are_not_read_and_a_needed_one_is_refused() {
    let runner = runner();
    let policy = compile::compile(ENGRAVED_POLICY, "engraved.toml")
        .policy
        .unwrap();
    let variables = policy.input_variables();
    let lines = variables.lines;
    assert!(lines.with_line_id && lines.with_quantity && lines.with_product);
    assert!(!lines.with_sku && !lines.with_selling_plan && !lines.with_variant);
    assert!(!lines.with_tag_answers, "hasAnyTag answers both tests");
    assert!(function_input_has_no_line_tags(&policy));

    let facts = full_order(4);
    let (now, trigger) = (bench::now(), Trigger::CustomerRequest);
    let render = |json: &str| function_input(&facts, now, trigger, Some(&policy), Some(json));
    let input = render(&policy.to_json());
    let as_value = serde_json::to_value(&variables).unwrap();
    check_order(&input, &query_selection(), "input", true, &as_value);
    let line = input["order"]["lineItems"][1].as_object().unwrap();
    assert_eq!(
        line.keys().collect::<Vec<_>>(),
        ["id", "quantity", "product"]
    );
    assert_eq!(line["product"], json!({ "hasAnyTag": true }));

    let output = runner.run(&input).unwrap().output;
    assert_eq!(output, expected_output(&policy, &facts, now, trigger));
    let cancelled = &output["operations"][0]["decisionSet"]["actions"][0]["lines"];
    let ids: Vec<_> = cancelled
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    assert_eq!(
        ids,
        [&facts.order.line_items[1].id, &facts.order.line_items[3].id]
    );

    // A policy whose tag tests need each answer, with these variables: refused, not guessed.
    let two_sets = ENGRAVED_POLICY.replace(r#"["gift", "engraved"]"#, r#"["fragile"]"#);
    let two_sets = compile::compile(&two_sets, "two-sets.toml").policy.unwrap();
    assert!(two_sets.input_variables().lines.with_tag_answers);
    let output = runner.run(&render(&two_sets.to_json())).unwrap().output;
    assert!(rejected("INPUT_VARIABLES_MISMATCH")(&output), "{output}");
    let message = output["operations"][0]["inputRejected"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("`input.order` has no `lineTags`, whose answers"),
        "{message}"
    );

    // A policy that reads the sku, with these variables: the sku is not there.
    let output = runner
        .run(&render(&lines_policy().to_json()))
        .unwrap()
        .output;
    let message = rejection_message(&output);
    assert!(
        message.starts_with("`input.order.lineItems[0]`: no `sku`, which the policy needs"),
        "{message}"
    );
}

fn function_input_has_no_line_tags(policy: &CompiledPolicy) -> bool {
    let input = function_input(
        &full_order(2),
        bench::now(),
        Trigger::CustomerRequest,
        Some(policy),
        Some(&policy.to_json()),
    );
    input["order"].get("lineTags").is_none() && input["order"].get("lineItems").is_some()
}

/// A policy that allows when a line's sku starts with `SKU-` and `when` holds: it scans the
/// lines, so its variables leave out every order field `when` does not consult.
fn order_policy(when: &str) -> CompiledPolicy {
    let source = format!(
        r#"
id = "order-fields"
name = "Order fields"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["customer_request"]

[default]
deny = {{}}

[[rule]]
id = "match"
on = ["customer_request"]
when = {{ lines.any = {{ sku = {{ matches = "SKU-*" }} }}, {when} }}
then.allow = {{ reason = "CUSTOMER", refund = "original", restock = true, notify = false }}
"#
    );
    let compiled = compile::compile(&source, "order-fields.toml");
    compiled
        .policy
        .clone()
        .unwrap_or_else(|| panic!("{}", compiled.render(&source)))
}

#[test]
fn order_fields_no_rule_consults_are_left_out_and_those_one_does_are_read() {
    let runner = runner();
    let (now, trigger) = (bench::now(), Trigger::CustomerRequest);
    let selection = query_selection();
    type Unmatch = fn(&mut Facts);
    let cases: [(&str, &str, Unmatch); 7] = [
        (
            r#"fulfillment_order_status = { any_of = ["OPEN"] }"#,
            "fulfillmentOrders",
            |facts| facts.order.fulfillment_orders[0].status = "CLOSED".into(),
        ),
        (
            r#"fulfillment_request_status = { any_of = ["UNSUBMITTED"] }"#,
            "fulfillmentOrders",
            |facts| facts.order.fulfillment_orders.clear(),
        ),
        ("total_price = { gt = 5 }", "totalPriceSet", |facts| {
            facts.order.total_price = None
        }),
        ("b2b = true", "purchasingEntity", |facts| {
            facts.order.b2b = false
        }),
        (r#"risk_level = "LOW""#, "risk", |facts| {
            facts.order.risk.assessments[0].risk_level = "HIGH".into()
        }),
        (
            r#"financial_status = { in = ["PAID"] }"#,
            "displayFinancialStatus",
            |facts| facts.order.display_financial_status = Some("REFUNDED".into()),
        ),
        ("cancelled = false", "cancellation", |facts| {
            facts.order.cancelled = true
        }),
    ];
    for (when, key, unmatch) in cases {
        let policy = order_policy(when);
        let variables = serde_json::to_value(policy.input_variables()).unwrap();
        let mut unmatched = full_order(3);
        unmatch(&mut unmatched);
        for (facts, outcome) in [(full_order(3), "allow"), (unmatched, "deny")] {
            let input =
                function_input(&facts, now, trigger, Some(&policy), Some(&policy.to_json()));
            check_order(&input, &selection, "input", true, &variables);
            let keys: Vec<&String> = input["order"].as_object().unwrap().keys().collect();
            assert_eq!(keys, [key, "lineItems"], "{when}");
            let output = runner.run(&input).unwrap().output;
            assert_eq!(
                output,
                expected_output(&policy, &facts, now, trigger),
                "{when}"
            );
            let decided = &output["operations"][0]["decisionSet"]["outcome"];
            assert_eq!(decided, outcome, "{when}: {output}");
        }
    }
}

#[test]
fn order_fields_the_variables_leave_out_or_move_are_read_by_key_or_refused() {
    let runner = runner();
    let (now, trigger) = (bench::now(), Trigger::CustomerRequest);
    let facts = full_order(3);
    let total = order_policy("total_price = { gt = 5 }");
    let expected = expected_output(&total, &facts, now, trigger);
    let run = |variables: Option<&CompiledPolicy>, edit: &dyn Fn(&mut Value)| {
        let mut input = function_input(&facts, now, trigger, variables, Some(&total.to_json()));
        edit(&mut input);
        runner.run(&input).unwrap().output
    };
    assert_eq!(run(Some(&total), &|_| {}), expected);

    // Variables of a policy that consults whether the buyer is a company: as many order
    // fields, `purchasingEntity` where `totalPriceSet` would be. Refused, not misread.
    let b2b = order_policy("b2b = true");
    let output = run(Some(&b2b), &|_| {});
    assert!(rejected("INVALID_INPUT")(&output), "{output}");
    let message = output["operations"][0]["inputRejected"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("`input.order`: no `totalPriceSet`, which the policy needs"),
        "{message}"
    );

    // Variables that include more than the policy consults: its fields are found by name.
    let both = order_policy("total_price = { gt = 5 }, b2b = true");
    assert_eq!(run(Some(&both), &|_| {}), expected);
    // A metafield written before the order switches: every field, with `lineTags` (the
    // query's order, trusted on the length) or without (read by name).
    assert_eq!(run(None, &|_| {}), expected);
    let without_tags = run(None, &|input| {
        input["order"]
            .as_object_mut()
            .unwrap()
            .shift_remove("lineTags");
    });
    assert_eq!(without_tags, expected);
    // `createdAt` and `lineItems` have names of one length: their types tell them apart.
    // Variables with no order field but `lineTags`: as many fields as the policy's.
    let placed = order_policy("minutes_since_placed = { ge = 0 }");
    let no_order_field = lines_policy();
    let vars = no_order_field.input_variables();
    assert!(vars.lines.with_tag_answers && !vars.order.with_created_at);
    let input = function_input(
        &facts,
        now,
        trigger,
        Some(&no_order_field),
        Some(&placed.to_json()),
    );
    let keys: Vec<&String> = input["order"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["lineItems", "lineTags"]);
    let output = runner.run(&input).unwrap().output;
    let message = rejection_message(&output);
    assert!(
        message.starts_with("`input.order`: no `createdAt`, which the policy needs"),
        "{message}"
    );
}

#[test]
fn line_tags_kept_only_to_keep_every_order_field_are_not_read() {
    let runner = runner();
    let (now, trigger) = (bench::now(), Trigger::CustomerRequest);
    // Nearly every order field is consulted, so every one is kept, and `lineTags` with them;
    // one set of tags, so `hasAnyTag` alone answers the tag test.
    let source = ENGRAVED_POLICY.replace(
        r#"when.lines.all = { product_tags = { none_of = ["gift", "engraved"] } }"#,
        r#"when = { lines.all = { product_tags = { none_of = ["gift", "engraved"] } }, minutes_since_placed = { ge = 0 }, fulfillment_status = { in = ["UNFULFILLED"] }, financial_status = { in = ["PAID"] }, total_price = { gt = 5 }, b2b = true, risk_level = "LOW" }"#,
    );
    let policy = compile::compile(&source, "kept.toml").policy.unwrap();
    let variables = policy.input_variables();
    assert_eq!(variables.order, OrderInputs::ALL);
    assert!(variables.lines.with_tag_answers);
    assert!(policy.tags_answered_by_any(&variables.product_tags));

    let facts = full_order(4);
    let input = function_input(&facts, now, trigger, Some(&policy), Some(&policy.to_json()));
    assert!(input["order"]["lineTags"].is_array());
    let output = runner.run(&input).unwrap().output;
    let expected = expected_output(&policy, &facts, now, trigger);
    assert_eq!(output, expected);
    assert!(
        output
            .pointer("/operations/0/decisionSet/actions/0/lines")
            .is_some(),
        "{output}"
    );
    // Its answers are not read: these would be refused.
    let mut unread = input.clone();
    for line in unread["order"]["lineTags"].as_array_mut().unwrap() {
        line["product"]["hasTags"] = json!("not read");
    }
    assert_eq!(runner.run(&unread).unwrap().output, expected);
}
