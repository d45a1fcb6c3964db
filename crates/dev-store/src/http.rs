//! HTTP routes: the Admin GraphQL endpoint, and `/_dev/...` for tests and the demo.
//!
//! | route | what |
//! |---|---|
//! | `POST /admin/api/2026-04/graphql.json` | Admin GraphQL (`X-Shopify-Access-Token`) |
//! | `POST /admin/oauth/access_token` | token refresh (`grant_type=refresh_token`, form or JSON) |
//! | `GET /_dev` | URLs, shop domain, token, API secret |
//! | `GET`/`PUT`/`PATCH /_dev/faults` | fault knobs ([`crate::Faults`]; PATCH merges) |
//! | `GET`/`PUT /_dev/throttle` | bucket status; `{"available": n}` sets the points left |
//! | `POST /_dev/seed` | `{"demo": true}` and/or `{"products": [...], "customers": [...], "orders": [...]}` |
//! | `POST /_dev/generate` | `{"count": n, "mix": {...}, "seed": s, "at": "..."}` → order ids and simulate lines |
//! | `GET /_dev/orders`, `GET /_dev/orders/{id}` | order ids; one order as the API shows it |
//! | `POST /_dev/orders/{id}/fulfill` | ship every unit |
//! | `GET`/`POST /_dev/webhooks`, `DELETE /_dev/webhooks/{id}` | subscriptions (`{"topic", "uri"}`) |
//! | `GET /_dev/webhooks/deliveries`, `POST /_dev/webhooks/flush` | delivery log; send held-back webhooks |
//! | `GET /_dev/events`, `/_dev/notifications`, `/_dev/flow-triggers` | what the store emitted |
//! | `PUT /_dev/scopes` | the app's granted scopes (a JSON list) |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::facts::Mix;
use crate::seed::{NewCustomer, NewOrder, NewProduct};
use crate::store::{Faults, Shared};
use crate::{DevStoreHandle, graphql, sdl::API_VERSION};

type St = AxumState<Arc<Shared>>;

fn handle(shared: &Arc<Shared>) -> DevStoreHandle {
    DevStoreHandle {
        shared: shared.clone(),
    }
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn fail(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": message.to_string() }))).into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(fail(
            StatusCode::BAD_REQUEST,
            format!("invalid JSON body: {e}"),
        ))
    })
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            &format!("/admin/api/{API_VERSION}/graphql.json"),
            post(admin_graphql),
        )
        .route("/admin/oauth/access_token", post(access_token))
        .route("/_dev", get(info))
        .route(
            "/_dev/faults",
            get(get_faults).put(put_faults).patch(patch_faults),
        )
        .route("/_dev/throttle", get(get_throttle).put(put_throttle))
        .route("/_dev/seed", post(seed))
        .route("/_dev/generate", post(generate))
        .route("/_dev/orders", get(list_orders))
        .route("/_dev/orders/{id}", get(get_order))
        .route("/_dev/orders/{id}/fulfill", post(fulfill_order))
        .route("/_dev/webhooks", get(list_webhooks).post(add_webhook))
        .route("/_dev/webhooks/{id}", axum::routing::delete(delete_webhook))
        .route("/_dev/webhooks/deliveries", get(deliveries))
        .route("/_dev/webhooks/flush", post(flush))
        .route("/_dev/events", get(events))
        .route("/_dev/notifications", get(notifications))
        .route("/_dev/flow-triggers", get(flow_triggers))
        .route("/_dev/scopes", get(get_scopes).put(put_scopes))
        .with_state(shared)
}

async fn admin_graphql(AxumState(shared): St, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers
        .get("X-Shopify-Access-Token")
        .and_then(|v| v.to_str().ok());
    let answer = graphql::handle(&shared, token, &body).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(answer.body)).into_response()
}

async fn access_token(AxumState(shared): St, headers: HeaderMap, body: Bytes) -> Response {
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (status, answer) =
        shared
            .tokens()
            .refresh(&body, json_body, &shared.api_key, &shared.api_secret);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(answer)).into_response()
}

async fn info(AxumState(shared): St, headers: HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let h = handle(&shared);
    ok(json!({
        "graphqlUrl": format!("http://{host}/admin/api/{API_VERSION}/graphql.json"),
        "apiVersion": API_VERSION,
        "shopDomain": h.shop_domain(),
        "accessToken": h.access_token(),
        "apiSecret": h.api_secret(),
    }))
}

async fn get_faults(AxumState(shared): St) -> Response {
    ok(serde_json::to_value(shared.faults()).unwrap_or(Value::Null))
}

async fn put_faults(AxumState(shared): St, body: Bytes) -> Response {
    match parse::<Faults>(&body) {
        Ok(f) => {
            shared.set_faults(f.clone());
            ok(serde_json::to_value(f).unwrap_or(Value::Null))
        }
        Err(r) => *r,
    }
}

async fn patch_faults(AxumState(shared): St, body: Bytes) -> Response {
    let patch: Value = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut current = serde_json::to_value(shared.faults()).unwrap_or(Value::Null);
    if let (Some(cur), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            cur.insert(k.clone(), v.clone());
        }
    }
    match serde_json::from_value::<Faults>(current) {
        Ok(f) => {
            shared.set_faults(f.clone());
            ok(serde_json::to_value(f).unwrap_or(Value::Null))
        }
        Err(e) => fail(StatusCode::BAD_REQUEST, format!("invalid fault knobs: {e}")),
    }
}

async fn get_throttle(AxumState(shared): St) -> Response {
    ok(serde_json::to_value(handle(&shared).throttle_status()).unwrap_or(Value::Null))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThrottleBody {
    available: f64,
}

async fn put_throttle(AxumState(shared): St, body: Bytes) -> Response {
    match parse::<ThrottleBody>(&body) {
        Ok(b) => {
            let h = handle(&shared);
            h.set_throttle_available(b.available);
            ok(serde_json::to_value(h.throttle_status()).unwrap_or(Value::Null))
        }
        Err(r) => *r,
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SeedBody {
    demo: bool,
    products: Vec<NewProduct>,
    customers: Vec<NewCustomer>,
    orders: Vec<NewOrder>,
}

async fn seed(AxumState(shared): St, body: Bytes) -> Response {
    let b: SeedBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let h = handle(&shared);
    if b.demo
        && let Err(e) = h.seed_demo()
    {
        return fail(StatusCode::BAD_REQUEST, e);
    }
    let mut products = Vec::new();
    for (i, p) in b.products.iter().enumerate() {
        match h.add_product(p) {
            Ok(id) => products.push(id),
            Err(e) => return fail(StatusCode::BAD_REQUEST, format!("products[{i}]: {e}")),
        }
    }
    let customers: Vec<String> = b.customers.iter().map(|c| h.add_customer(c)).collect();
    let mut orders = Vec::new();
    for (i, o) in b.orders.iter().enumerate() {
        match h.create_order(o) {
            Ok(id) => orders.push(id),
            Err(e) => return fail(StatusCode::BAD_REQUEST, format!("orders[{i}]: {e}")),
        }
    }
    ok(json!({ "products": products, "customers": customers, "orders": orders }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateBody {
    count: usize,
    #[serde(default)]
    mix: Mix,
    #[serde(default)]
    seed: u64,
    at: Option<DateTime<Utc>>,
}

async fn generate(AxumState(shared): St, body: Bytes) -> Response {
    let b: GenerateBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let h = handle(&shared);
    match h.generate_orders(b.count, &b.mix, b.seed) {
        Ok(ids) => {
            let lines = h.simulate_lines(&ids, b.at.unwrap_or_else(Utc::now));
            ok(json!({ "orders": ids, "simulate": lines }))
        }
        Err(e) => fail(StatusCode::BAD_REQUEST, e),
    }
}

async fn list_orders(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).order_ids()))
}

async fn get_order(AxumState(shared): St, Path(id): Path<String>) -> Response {
    match handle(&shared).order(&id) {
        Some(o) => ok(o),
        None => fail(StatusCode::NOT_FOUND, format!("no order `{id}`")),
    }
}

async fn fulfill_order(AxumState(shared): St, Path(id): Path<String>) -> Response {
    let h = handle(&shared);
    match h.fulfill_order(&id) {
        Ok(()) => ok(h.order(&id).unwrap_or(Value::Null)),
        Err(e) => fail(StatusCode::NOT_FOUND, e),
    }
}

async fn list_webhooks(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).webhook_subscriptions()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    topic: String,
    #[serde(alias = "address", alias = "callbackUrl")]
    uri: String,
}

async fn add_webhook(AxumState(shared): St, body: Bytes) -> Response {
    match parse::<WebhookBody>(&body) {
        Ok(b) => ok(json!(handle(&shared).subscribe_webhook(&b.topic, &b.uri))),
        Err(r) => *r,
    }
}

async fn delete_webhook(AxumState(shared): St, Path(id): Path<u64>) -> Response {
    if handle(&shared).unsubscribe_webhook(id) {
        ok(json!({ "deleted": id }))
    } else {
        fail(
            StatusCode::NOT_FOUND,
            format!("no webhook subscription {id}"),
        )
    }
}

async fn deliveries(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).webhook_deliveries()))
}

async fn flush(AxumState(shared): St) -> Response {
    handle(&shared).flush_webhooks();
    ok(json!({ "flushed": true }))
}

async fn events(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).events()))
}

async fn notifications(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).notifications()))
}

async fn flow_triggers(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).flow_triggers()))
}

async fn get_scopes(AxumState(shared): St) -> Response {
    ok(json!(handle(&shared).scopes()))
}

async fn put_scopes(AxumState(shared): St, body: Bytes) -> Response {
    match parse::<Vec<String>>(&body) {
        Ok(scopes) => {
            let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            handle(&shared).set_scopes(&refs);
            ok(json!(scopes))
        }
        Err(r) => *r,
    }
}
