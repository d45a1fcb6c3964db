//! Publishing: `POST /api/policies` and rollback write the compiled policy and its input
//! variables to the shop's `$app:cancel-policy` metafields with `metafieldsSet` and
//! `compareDigest`; a change made by someone else in between is a 409 that leaves the active
//! version and the metafields alone.

use cancel_policy::http::merchant::{
    self, COMPILED_POLICY_KEY, INPUT_VARIABLES_KEY, PolicyMetafieldValues, PublishError,
};
use cancel_policy_core::CompiledPolicy;
use serde_json::{Value, json};

use crate::support::*;

const MADE_TO_ORDER: &str = include_str!("../../presets/made-to-order.toml");
const ONE_HOUR_GRACE: &str = include_str!("../../presets/one-hour-grace.toml");

fn compiled(source: &str) -> CompiledPolicy {
    let output = cancel_policy_core::compile::compile(source, "policy.toml");
    output
        .policy
        .unwrap_or_else(|| panic!("{:?}", output.diagnostics))
}

/// The dev store's Admin GraphQL, as any other client of the shop would call it.
async fn admin_graphql(app: &TestApp, query: &str, variables: Value) -> Value {
    app.http
        .post(app.dev.graphql_url())
        .header("X-Shopify-Access-Token", app.dev.access_token())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The shop's policy metafield `key` as the Admin API shows it (null when absent).
async fn shop_metafield(app: &TestApp, key: &str) -> Value {
    let body = admin_graphql(
        app,
        "query($key: String!) { shop { id metafield(namespace: \"$app:cancel-policy\", key: $key) { id type jsonValue compareDigest } } }",
        json!({ "key": key }),
    )
    .await;
    body["data"]["shop"]["metafield"].clone()
}

async fn shop_gid(app: &TestApp) -> String {
    let body = admin_graphql(app, "{ shop { id } }", json!({})).await;
    body["data"]["shop"]["id"].as_str().unwrap().to_string()
}

/// Another writer (a second service instance, a script) sets the compiled-policy metafield
/// without compare-and-set.
async fn foreign_write(app: &TestApp, value: Value) {
    let owner = shop_gid(app).await;
    let body = admin_graphql(
        app,
        "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { code message } } }",
        json!({ "m": [{
            "ownerId": owner,
            "namespace": "$app:cancel-policy",
            "key": COMPILED_POLICY_KEY,
            "type": "json",
            "value": value.to_string(),
        }] }),
    )
    .await;
    assert_eq!(
        body["data"]["metafieldsSet"]["userErrors"],
        json!([]),
        "{body}"
    );
}

async fn publish_http(app: &TestApp, source: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({ "source": source });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let response = app
        .http
        .post(app.url("/api/policies"))
        .bearer_auth(app.admin_token())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn activate_http(app: &TestApp, hash: &str) -> (u16, Value) {
    let response = app
        .http
        .post(app.url(&format!("/api/policies/{hash}/activate")))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The hash of the shop's active version.
async fn active_hash(app: &TestApp) -> String {
    app.store()
        .active_policy(&app.shop)
        .await
        .unwrap()
        .unwrap()
        .hash
}

/// Both metafields hold exactly `policy`'s compiled JSON and input variables, as JSON type.
async fn assert_live(app: &TestApp, policy: &CompiledPolicy) {
    let compiled_mf = shop_metafield(app, COMPILED_POLICY_KEY).await;
    assert_eq!(compiled_mf["type"], "json");
    assert_eq!(
        compiled_mf["jsonValue"],
        serde_json::from_str::<Value>(&policy.to_json()).unwrap()
    );
    let variables_mf = shop_metafield(app, INPUT_VARIABLES_KEY).await;
    assert_eq!(variables_mf["type"], "json");
    assert_eq!(
        variables_mf["jsonValue"],
        serde_json::to_value(policy.input_variables()).unwrap()
    );
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn publishing_writes_the_compiled_policy_and_its_variables_on_the_shop() {
        let app = spawn_app(Options::default()).await;
        assert_eq!(shop_metafield(&app, COMPILED_POLICY_KEY).await, Value::Null);

        let (status, answer) = publish_http(&app, MADE_TO_ORDER, json!({})).await;
        assert_eq!(status, 200, "{answer}");
        let policy = compiled(MADE_TO_ORDER);
        assert!(
            !policy.input_variables().product_tags.is_empty(),
            "the preset should give the Function variables to pass"
        );
        assert_live(&app, &policy).await;

        // The answer names what was written, with the digests to compare against next time.
        let metafields = &answer["metafields"];
        assert_eq!(metafields["owner"], shop_gid(&app).await);
        for (field, key) in [
            ("compiledPolicy", COMPILED_POLICY_KEY),
            ("inputVariables", INPUT_VARIABLES_KEY),
        ] {
            let live = shop_metafield(&app, key).await;
            assert_eq!(metafields[field]["id"], live["id"], "{answer}");
            assert_eq!(metafields[field]["compareDigest"], live["compareDigest"]);
        }
        let hash = answer["published"]["hash"].as_str().unwrap();
        assert_eq!(answer["published"]["active"], true);
        assert_eq!(active_hash(&app).await, hash);

        // Publishing again over our own values reads their digests and goes through.
        let (status, again) = publish_http(&app, ONE_HOUR_GRACE, json!({})).await;
        assert_eq!(status, 200, "{again}");
        assert_live(&app, &compiled(ONE_HOUR_GRACE)).await;
        assert_ne!(
            again["metafields"]["compiledPolicy"]["compareDigest"],
            metafields["compiledPolicy"]["compareDigest"]
        );
        // The metafields were updated in place, not created again.
        assert_eq!(
            again["metafields"]["compiledPolicy"]["id"],
            metafields["compiledPolicy"]["id"]
        );
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_publish_with_a_stale_digest_is_a_conflict_and_changes_nothing() {
        let app = spawn_app(Options::default()).await;
        let (status, first) = publish_http(&app, MADE_TO_ORDER, json!({})).await;
        assert_eq!(status, 200, "{first}");
        let active = active_hash(&app).await;
        let seen = first["metafields"].clone();

        // Someone else writes after the editor loaded the digests.
        let theirs = json!({ "written": "elsewhere" });
        foreign_write(&app, theirs.clone()).await;

        let (status, answer) = publish_http(
            &app,
            ONE_HOUR_GRACE,
            json!({ "compareDigests": {
                "compiledPolicy": seen["compiledPolicy"]["compareDigest"],
                "inputVariables": seen["inputVariables"]["compareDigest"],
            } }),
        )
        .await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["error"], "conflict");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains("someone else published"), "{message}");
        assert!(message.contains(COMPILED_POLICY_KEY), "{message}");
        assert!(!message.contains(INPUT_VARIABLES_KEY), "{message}");

        // Neither the active version nor the other writer's value changed, and the refused
        // version was not stored.
        assert_eq!(active_hash(&app).await, active);
        assert_eq!(
            shop_metafield(&app, COMPILED_POLICY_KEY).await["jsonValue"],
            theirs
        );
        let made = compiled(MADE_TO_ORDER);
        assert_eq!(
            shop_metafield(&app, INPUT_VARIABLES_KEY).await["jsonValue"],
            serde_json::to_value(made.input_variables()).unwrap()
        );
        let versions = app.store().policies(&app.shop).await.unwrap();
        let grace_hash = cancel_policy::service::policy_hash(&compiled(ONE_HOUR_GRACE).to_json());
        assert!(versions.iter().all(|v| v.hash != grace_hash));

        // With fresh digests (the service reads them itself) the publish goes through.
        let (status, answer) = publish_http(&app, ONE_HOUR_GRACE, json!({})).await;
        assert_eq!(status, 200, "{answer}");
        assert_live(&app, &compiled(ONE_HOUR_GRACE)).await;
        assert_eq!(active_hash(&app).await, grace_hash);
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_between_the_read_and_the_write_is_a_conflict() {
        let app = spawn_app(Options::default()).await;
        let service = &app.service.app;
        let policy = compiled(MADE_TO_ORDER);
        let values = PolicyMetafieldValues::new(policy.to_json(), &policy).unwrap();

        // Nothing published yet: the read finds no metafields, so the write expects none
        // (an explicit null digest) and must fail if one appears in between.
        let live = merchant::read_live_policy(service, &app.shop).await.unwrap();
        assert_eq!(live.compiled, None);
        foreign_write(&app, json!({ "first": "someone else" })).await;
        let refused =
            merchant::write_policy_metafields(service, &app.shop, &live.owner, &live.digests(), &values)
                .await;
        assert!(
            matches!(refused, Err(PublishError::Conflict { .. })),
            "{refused:?}"
        );
        assert_eq!(
            shop_metafield(&app, COMPILED_POLICY_KEY).await["jsonValue"],
            json!({ "first": "someone else" })
        );
        // Atomic: the variables metafield was not created either.
        assert_eq!(shop_metafield(&app, INPUT_VARIABLES_KEY).await, Value::Null);

        // Existing metafields: the digest read first is stale once another write lands.
        let live = merchant::read_live_policy(service, &app.shop).await.unwrap();
        foreign_write(&app, json!({ "second": "someone else" })).await;
        let refused =
            merchant::write_policy_metafields(service, &app.shop, &live.owner, &live.digests(), &values)
                .await;
        assert!(
            matches!(refused, Err(PublishError::Conflict { .. })),
            "{refused:?}"
        );

        // A write whose answer was lost and that is sent again meets its own values: that is
        // a success, not a conflict.
        let live = merchant::read_live_policy(service, &app.shop).await.unwrap();
        let written =
            merchant::write_policy_metafields(service, &app.shop, &live.owner, &live.digests(), &values)
                .await
                .unwrap();
        let again =
            merchant::write_policy_metafields(service, &app.shop, &live.owner, &live.digests(), &values)
                .await
                .unwrap();
        assert_eq!(again, written);
        assert_live(&app, &policy).await;
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rolling_back_rewrites_the_metafields_of_the_older_version() {
        let app = spawn_app(Options::default()).await;
        let (status, older) = publish_http(&app, MADE_TO_ORDER, json!({})).await;
        assert_eq!(status, 200, "{older}");
        let (status, newer) = publish_http(&app, ONE_HOUR_GRACE, json!({})).await;
        assert_eq!(status, 200, "{newer}");
        assert_live(&app, &compiled(ONE_HOUR_GRACE)).await;

        let older_hash = older["published"]["hash"].as_str().unwrap();
        let (status, answer) = activate_http(&app, older_hash).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["active"], older_hash);
        assert_live(&app, &compiled(MADE_TO_ORDER)).await;
        assert_eq!(
            answer["metafields"]["compiledPolicy"]["compareDigest"],
            shop_metafield(&app, COMPILED_POLICY_KEY).await["compareDigest"]
        );
        assert_eq!(active_hash(&app).await, older_hash);

        // Rolling forward again works the same way; an unknown version is a 404 that writes
        // nothing.
        let newer_hash = newer["published"]["hash"].as_str().unwrap();
        let (status, answer) = activate_http(&app, newer_hash).await;
        assert_eq!(status, 200, "{answer}");
        assert_live(&app, &compiled(ONE_HOUR_GRACE)).await;
        let (status, answer) = activate_http(&app, "0000").await;
        assert_eq!(status, 404, "{answer}");
        assert_live(&app, &compiled(ONE_HOUR_GRACE)).await;
        assert_eq!(active_hash(&app).await, newer_hash);
    }
}
