//! Field resolution for the dynamic schema.
//!
//! Objects are JSON views (see `views`); a field is read from its parent view by name, lazily
//! loading `$ref`s and paginating arrays for `*Connection` fields. Fields with arguments or
//! rules of their own (metafields, suggested refunds, scope checks) are resolved here, root
//! fields in `query`, mutations in `mutations`.

use std::sync::Arc;

use async_graphql::dynamic::{FieldValue, ResolverContext};
use async_graphql::{Error, ErrorExtensions, Value as GqlValue};
use base64::Engine;
use serde_json::{Value, json};

use crate::mutations;
use crate::query;
use crate::sdl::Kind;
use crate::store::Shared;
use crate::views;

/// A JSON view standing for one GraphQL object.
pub struct Obj(pub Value);

pub struct FieldMeta {
    pub parent_type: String,
    pub field: String,
    pub return_type: String,
    pub abstract_return: bool,
    pub nullable: bool,
}

pub type FieldResult<'a> = async_graphql::Result<Option<FieldValue<'a>>>;

pub async fn field<'a>(ctx: ResolverContext<'a>, meta: &FieldMeta) -> FieldResult<'a> {
    let ctx_ref = ctx.ctx;
    match resolve_field(ctx, meta).await {
        // A nullable field that fails is null with an error at its path, as Shopify answers
        // (captured: `heldByApp` without `read_apps`); the rest of the data stays.
        Err(e) if meta.nullable => {
            let error = ctx_ref.set_error_path(e.into_server_error(ctx_ref.item.pos));
            ctx_ref.add_error(error);
            Ok(None)
        }
        other => other,
    }
}

async fn resolve_field<'a>(ctx: ResolverContext<'a>, meta: &FieldMeta) -> FieldResult<'a> {
    let shared = ctx.data::<Arc<Shared>>()?.clone();
    let value = match meta.parent_type.as_str() {
        "QueryRoot" => query::root_field(&shared, &ctx, &meta.field)?,
        "Mutation" => mutations::dispatch(&shared, &ctx, &meta.field).await?,
        _ => {
            let parent = ctx.parent_value.try_downcast_ref::<Obj>()?;
            match special(&shared, &ctx, meta, &parent.0)? {
                Some(v) => v,
                None => {
                    let raw = parent.0.get(&meta.field).cloned().unwrap_or(Value::Null);
                    if meta.return_type.ends_with("Connection") {
                        let items = resolve_refs(&shared, raw);
                        connection(&ctx, items.as_array().cloned().unwrap_or_default())?
                    } else {
                        raw
                    }
                }
            }
        }
    };
    Ok(to_field_value(&shared, meta, value))
}

/// Replaces `$ref`s at the top of `value` (an object or the items of an array) by their views.
pub fn resolve_refs(shared: &Shared, value: Value) -> Value {
    let is_ref = |v: &Value| v.get("$ref").is_some();
    let needs = match &value {
        Value::Object(_) => is_ref(&value),
        Value::Array(items) => items.iter().any(is_ref),
        _ => false,
    };
    if !needs {
        return value;
    }
    let state = shared.state();
    let load = |v: Value| match v.get("$ref").and_then(Value::as_array) {
        Some(parts) => views::load(&state, parts),
        None => v,
    };
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(load).collect()),
        other => load(other),
    }
}

fn to_field_value<'a>(shared: &Shared, meta: &FieldMeta, value: Value) -> Option<FieldValue<'a>> {
    let kind = shared.info.kind(&meta.return_type);
    if matches!(kind, Some(Kind::Scalar | Kind::Enum) | None) {
        return match value {
            Value::Null => None,
            Value::Array(items) => Some(FieldValue::list(
                items.into_iter().map(|i| FieldValue::value(gql(i))),
            )),
            other => Some(FieldValue::value(gql(other))),
        };
    }
    let value = resolve_refs(shared, value);
    let object = |v: Value| -> Option<FieldValue<'a>> {
        if v.is_null() {
            return None;
        }
        let type_name = v
            .get("__typename")
            .and_then(Value::as_str)
            .map(str::to_string);
        let fv = FieldValue::owned_any(Obj(v));
        Some(match (meta.abstract_return, type_name) {
            (true, Some(t)) => fv.with_type(t),
            _ => fv,
        })
    };
    match value {
        Value::Null => None,
        Value::Array(items) => Some(FieldValue::list(
            items
                .into_iter()
                .map(|i| object(i).unwrap_or(FieldValue::NULL)),
        )),
        other => object(other),
    }
}

pub fn gql(v: Value) -> GqlValue {
    GqlValue::from_json(v).unwrap_or(GqlValue::Null)
}

/// An error in Shopify's shape: `message` plus `extensions.code`.
pub fn shopify_error(message: impl Into<String>, code: &str) -> Error {
    let code = code.to_string();
    Error::new(message).extend_with(move |_, e| e.set("code", code.clone()))
}

fn arg_str(ctx: &ResolverContext<'_>, name: &str) -> Option<String> {
    ctx.args
        .get(name)
        .and_then(|v| v.string().ok().map(str::to_string))
}

pub fn arg_i64(ctx: &ResolverContext<'_>, name: &str) -> Option<i64> {
    ctx.args.get(name).and_then(|v| v.i64().ok())
}

/// The argument as JSON (input objects, lists), or null.
pub fn arg_json(ctx: &ResolverContext<'_>, name: &str) -> Value {
    ctx.args
        .get(name)
        .and_then(|v| v.as_value().clone().into_json().ok())
        .unwrap_or(Value::Null)
}

fn special(
    shared: &Shared,
    ctx: &ResolverContext<'_>,
    meta: &FieldMeta,
    parent: &Value,
) -> async_graphql::Result<Option<Value>> {
    let owner = parent.get("id").and_then(Value::as_str).unwrap_or_default();
    Ok(match (meta.parent_type.as_str(), meta.field.as_str()) {
        (_, "metafield") => {
            let key = arg_str(ctx, "key").unwrap_or_default();
            let namespace = crate::mutations::metafields::canonical_namespace(
                arg_str(ctx, "namespace").as_deref(),
            );
            let state = shared.state();
            Some(
                state
                    .metafield(owner, &namespace, &key)
                    .map_or(Value::Null, views::metafield),
            )
        }
        (_, "metafields") if meta.return_type == "MetafieldConnection" => {
            let namespace = arg_str(ctx, "namespace")
                .map(|n| crate::mutations::metafields::canonical_namespace(Some(&n)));
            let keys: Vec<String> = arg_json(ctx, "keys")
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let items: Vec<Value> = {
                let state = shared.state();
                state
                    .metafields
                    .iter()
                    .filter(|m| m.owner == owner)
                    .filter(|m| namespace.as_ref().is_none_or(|n| &m.namespace == n))
                    .filter(|m| {
                        keys.is_empty() || keys.contains(&format!("{}.{}", m.namespace, m.key))
                    })
                    .map(views::metafield)
                    .collect()
            };
            Some(connection(ctx, items)?)
        }
        ("Order", "suggestedRefund") => {
            let state = shared.state();
            let id = crate::model::parse_gid_of(owner, "Order").unwrap_or_default();
            match state.orders.get(&id) {
                Some(order) => Some(crate::refunds::suggested_refund(&state, order, ctx)?),
                None => Some(Value::Null),
            }
        }
        ("Order", "transactions" | "refunds") => {
            let mut items = parent
                .get(&meta.field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(first) = arg_i64(ctx, "first") {
                items.truncate(usize::try_from(first.max(0)).unwrap_or(0));
            }
            Some(Value::Array(items))
        }
        ("FulfillmentOrder", "merchantRequests") => {
            let kind = ctx
                .args
                .get("kind")
                .and_then(|k| k.enum_name().ok().map(str::to_string));
            let items: Vec<Value> = parent
                .get("merchantRequests")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|r| {
                    kind.as_ref()
                        .is_none_or(|k| r.get("kind").and_then(Value::as_str) == Some(k))
                })
                .collect();
            Some(connection(ctx, items)?)
        }
        ("FulfillmentHold", "heldByApp") => {
            // Captured: without `read_apps` the field is null with an ACCESS_DENIED error.
            // https://shopify.dev/docs/api/usage/access-scopes
            if !shared.state().has_scope("read_apps") {
                return Err(Error::new(
                    "Access denied for heldByApp field. Required access: `read_apps` access scope.",
                )
                .extend_with(|_, e| {
                    e.set("code", "ACCESS_DENIED");
                    e.set(
                        "documentation",
                        "https://shopify.dev/api/usage/access-scopes",
                    );
                    e.set("requiredAccess", "`read_apps` access scope.");
                }));
            }
            None
        }
        ("InventoryLevel", "quantities") => {
            let names: Vec<String> = arg_json(ctx, "names")
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let all = parent.get("quantitiesAll").cloned().unwrap_or(Value::Null);
            Some(Value::Array(
                names
                    .iter()
                    .map(|n| json!({ "name": n, "quantity": all.get(n).and_then(Value::as_i64).unwrap_or(0) }))
                    .collect(),
            ))
        }
        ("Job", "query") => {
            if parent.get("done").and_then(Value::as_bool) == Some(true) {
                Some(json!({ "__typename": "QueryRoot" }))
            } else {
                Some(Value::Null)
            }
        }
        _ => None,
    })
}

fn item_key(item: &Value, index: usize) -> String {
    item.get("id")
        .and_then(Value::as_str)
        .and_then(crate::model::parse_gid)
        .map_or(index.to_string(), |(_, id)| id.to_string())
}

pub fn cursor(item: &Value, index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(
        json!({ "last_id": item_key(item, index), "last_value": item_key(item, index) })
            .to_string(),
    )
}

fn cursor_position(items: &[Value], cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    let key = v.get("last_id")?.as_str()?.to_string();
    items
        .iter()
        .enumerate()
        .position(|(i, item)| item_key(item, i) == key)
}

/// Relay pagination over a list, Shopify style: `first` or `last` is required.
/// https://shopify.dev/docs/api/usage/pagination-graphql
pub fn connection(
    ctx: &ResolverContext<'_>,
    mut items: Vec<Value>,
) -> async_graphql::Result<Value> {
    let first = arg_i64(ctx, "first");
    let last = arg_i64(ctx, "last");
    if first.is_none() && last.is_none() {
        return Err(shopify_error(
            "you must provide one of first or last",
            "BAD_REQUEST",
        ));
    }
    for (name, n) in [("first", first), ("last", last)] {
        if let Some(n) = n
            && !(0..=250).contains(&n)
        {
            return Err(shopify_error(
                format!("The value of the argument `{name}` must be between 0 and 250."),
                "BAD_REQUEST",
            ));
        }
    }
    if ctx.args.get("reverse").and_then(|r| r.boolean().ok()) == Some(true) {
        items.reverse();
    }
    let keyed: Vec<(String, Value)> = items
        .iter()
        .enumerate()
        .map(|(i, v)| (cursor(v, i), v.clone()))
        .collect();
    let mut start = 0usize;
    let mut end = keyed.len();
    if let Some(after) = arg_str(ctx, "after") {
        start = cursor_position(&items, &after).map_or(end, |p| p + 1);
    }
    if let Some(before) = arg_str(ctx, "before") {
        end = cursor_position(&items, &before).unwrap_or(end).max(start);
    }
    let (mut from, mut to) = (start, end);
    if let Some(f) = first {
        to = (from + usize::try_from(f).unwrap_or(0)).min(to);
    }
    if let Some(l) = last {
        from = to.saturating_sub(usize::try_from(l).unwrap_or(0)).max(from);
    }
    let page = keyed.get(from..to).unwrap_or_default();
    let edges: Vec<Value> = page
        .iter()
        .map(|(c, v)| json!({ "node": v, "cursor": c }))
        .collect();
    Ok(json!({
        "nodes": page.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "edges": edges,
        "pageInfo": {
            "hasNextPage": to < end,
            "hasPreviousPage": from > start,
            "startCursor": page.first().map(|(c, _)| c.clone()),
            "endCursor": page.last().map(|(c, _)| c.clone()),
        },
    }))
}
