//! The order generator, the `simulate` JSONL it writes, and the `dev-store` command's args.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use cancel_policy_core::facts::{Facts, OrderFacts};
use cancel_policy_dev_store::{DevStoreArgs, Mix, Plan};
use clap::Parser;
use serde_json::{Value, json};
use support::{client, gql, start};

#[tokio::test]
async fn generates_orders_with_the_chosen_mix_and_writes_simulate_jsonl() {
    let store = start().await;
    let mix = Mix {
        high_risk: 0.2,
        b2b: 0.1,
        oversold: 0.1,
        fulfilled: 0.25,
        ..Mix::default()
    };
    let ids = store.generate_orders(300, &mix, 7).unwrap();
    assert_eq!(ids.len(), 300);
    // The same seed gives the same orders.
    let again = start().await;
    let ids2 = again.generate_orders(300, &mix, 7).unwrap();
    let summary = |s: &cancel_policy_dev_store::RunningDevStore, ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                let o = s.order(id).unwrap();
                format!(
                    "{} {} {}",
                    o["lineItems"].as_array().unwrap().len(),
                    o["risk"]["recommendation"],
                    o["displayFulfillmentStatus"]
                )
            })
            .collect()
    };
    assert_eq!(summary(&store, &ids), summary(&again, &ids2));

    let dir = std::env::temp_dir().join(format!("dev-store-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("orders.jsonl");
    let at = chrono::Utc::now();
    store.write_simulate_jsonl(&path, &ids, at).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 300);

    let (mut high, mut b2b, mut oversold, mut fulfilled, mut locales) =
        (0, 0, 0, 0, std::collections::BTreeSet::new());
    for line in &lines {
        assert_eq!(line["trigger"], "customer_request");
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(line["at"].as_str().unwrap()).unwrap(),
            at
        );
        // `order` is exactly OrderFacts' serde shape: it round-trips unchanged.
        let facts: OrderFacts = serde_json::from_value(line["order"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&facts).unwrap(), line["order"]);
        // And the whole line reads as the evaluator's Facts (order, request, nowLocal).
        let all: Facts = serde_json::from_value(json!({ "order": line["order"], "request": line["request"], "nowLocal": line["nowLocal"] })).unwrap();
        assert_eq!(all.order, facts);
        high += usize::from(facts.risk.highest_level() == "HIGH");
        b2b += usize::from(facts.b2b);
        oversold += usize::from(facts.line_items.iter().any(|l| l.oversold()));
        fulfilled += usize::from(facts.display_fulfillment_status.as_deref() == Some("FULFILLED"));
        locales.insert(line["request"]["locale"].as_str().unwrap().to_string());
    }
    for (name, count, share) in [
        ("high risk", high, 0.2),
        ("b2b", b2b, 0.1),
        ("fulfilled", fulfilled, 0.25),
    ] {
        let expected = 300.0 * share;
        assert!(
            (count as f64 - expected).abs() < expected * 0.5,
            "{name}: {count} of 300, expected about {expected}"
        );
    }
    assert!(oversold > 0);
    assert!(locales.len() >= 4, "{locales:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn generation_over_http_returns_the_simulate_lines() {
    let store = start().await;
    let res = client()
        .post(format!("{}/_dev/generate", store.base_url()))
        .body(r#"{"count": 5, "seed": 3, "mix": {"b2b": 1.0}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(body["orders"].as_array().unwrap().len(), 5);
    assert!(
        body["simulate"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["order"]["b2b"] == true)
    );
    // The generated orders are real orders of the store.
    let q = "query($id: ID!) { order(id: $id) { purchasingEntity { __typename ... on PurchasingCompany { company { name } } } } }";
    let read = gql(&store, q, json!({ "id": body["orders"][0] })).await;
    assert_eq!(
        read["data"]["order"]["purchasingEntity"]["__typename"],
        "PurchasingCompany"
    );
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: DevStoreArgs,
}

#[test]
fn dev_store_args_parse() {
    let cli = Cli::try_parse_from([
        "dev-store",
        "--port",
        "0",
        "--plan",
        "plus",
        "--webhook",
        "orders/create=http://127.0.0.1:9/hooks",
        "--generate",
        "10",
        "--jsonl",
        "out.jsonl",
        "--time-scale",
        "60",
    ])
    .unwrap();
    assert_eq!(cli.args.port, 0);
    assert_eq!(cli.args.plan, Plan::Plus);
    assert_eq!(
        cli.args.webhooks,
        vec![(
            "orders/create".to_string(),
            "http://127.0.0.1:9/hooks".to_string()
        )]
    );
    assert_eq!(cli.args.generate, 10);
    assert_eq!(cli.args.time_scale, 60.0);
    let err = Cli::try_parse_from(["dev-store", "--plan", "gold"])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown plan `gold`"), "{err}");
    assert!(Cli::try_parse_from(["dev-store", "--webhook", "no-equals"]).is_err());
    assert!(
        Cli::try_parse_from(["dev-store", "--jsonl", "x.jsonl"]).is_err(),
        "--jsonl needs --generate"
    );
}
