//! `QueryRoot` fields: lookups by id, `orders(query:)` with Shopify's search syntax, `job`.

use async_graphql::dynamic::ResolverContext;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::model::{Order, State, parse_gid, parse_gid_of};
use crate::resolve::connection;
use crate::store::Shared;
use crate::views;

fn id_arg(ctx: &ResolverContext<'_>) -> String {
    ctx.args
        .get("id")
        .and_then(|v| v.string().ok().map(str::to_string))
        .unwrap_or_default()
}

/// Orders older than 60 days need `read_all_orders`.
/// https://shopify.dev/docs/api/admin-graphql/latest/queries/order
fn visible(state: &State, order: &Order) -> bool {
    state.has_scope("read_all_orders") || Utc::now() - order.created_at <= TimeDelta::days(60)
}

pub fn root_field(
    shared: &Shared,
    ctx: &ResolverContext<'_>,
    field: &str,
) -> async_graphql::Result<Value> {
    Ok(match field {
        "order" => {
            let state = shared.state();
            parse_gid_of(&id_arg(ctx), "Order")
                .and_then(|id| state.orders.get(&id))
                .filter(|o| visible(&state, o))
                .map_or(Value::Null, |o| views::order(&state, o))
        }
        "orders" => {
            let query = ctx
                .args
                .get("query")
                .and_then(|v| v.string().ok().map(str::to_string))
                .unwrap_or_default();
            let sort_key = ctx
                .args
                .get("sortKey")
                .and_then(|v| v.enum_name().ok().map(str::to_string))
                .unwrap_or_else(|| "PROCESSED_AT".to_string());
            let filter = SearchQuery::parse(&query);
            let items: Vec<Value> = {
                let state = shared.state();
                let mut orders: Vec<&Order> = state
                    .orders
                    .values()
                    .filter(|o| visible(&state, o) && filter.matches(&state, o))
                    .collect();
                match sort_key.as_str() {
                    "CREATED_AT" => orders.sort_by_key(|o| (o.created_at, o.id)),
                    "UPDATED_AT" => orders.sort_by_key(|o| (o.updated_at, o.id)),
                    "ORDER_NUMBER" => orders.sort_by_key(|o| o.number),
                    "ID" => orders.sort_by_key(|o| o.id),
                    _ => orders.sort_by_key(|o| (o.processed_at, o.id)),
                }
                // Only the page is built into full views: nodes are references until read.
                orders
                    .iter()
                    .map(|o| json!({ "$ref": ["Order", o.id], "id": crate::model::gid("Order", o.id) }))
                    .collect()
            };
            connection(ctx, items)?
        }
        "job" => {
            let id = id_arg(ctx);
            let state = shared.state();
            state.jobs.get(&id).map_or(
                Value::Null,
                |j| json!({ "__typename": "Job", "id": j.id, "done": j.done }),
            )
        }
        "node" => views::node(&shared.state(), &id_arg(ctx)),
        "shop" => views::shop(&shared.state()),
        "fulfillmentOrder" | "product" | "productVariant" | "location" => {
            let kind = match field {
                "fulfillmentOrder" => "FulfillmentOrder",
                "product" => "Product",
                "productVariant" => "ProductVariant",
                _ => "Location",
            };
            let state = shared.state();
            let id = id_arg(ctx);
            if kind == "Location" && id.is_empty() {
                state
                    .default_location()
                    .map_or(Value::Null, |l| views::location(&state, l))
            } else {
                match parse_gid(&id) {
                    Some((k, n)) if k == kind => views::load(&state, &[json!(kind), json!(n)]),
                    _ => Value::Null,
                }
            }
        }
        _ => Value::Null,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
struct Term {
    negated: bool,
    key: Option<String>,
    cmp: Cmp,
    value: String,
}

/// Shopify's search syntax, the subset the service uses: `key:value`, `key:>value`,
/// `-key:value`, `NOT`, `AND`, quoted values, bare words matched against name and email.
/// https://shopify.dev/docs/api/usage/search-syntax
#[derive(Debug, Default)]
pub struct SearchQuery {
    terms: Vec<Term>,
}

fn tokenize(q: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' | '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

impl SearchQuery {
    pub fn parse(q: &str) -> SearchQuery {
        let mut terms = Vec::new();
        let mut negate_next = false;
        for token in tokenize(q) {
            match token.as_str() {
                "AND" => continue,
                "NOT" => {
                    negate_next = true;
                    continue;
                }
                _ => {}
            }
            let (negated, body) = match token.strip_prefix('-') {
                Some(rest) => (true, rest.to_string()),
                None => (false, token.clone()),
            };
            let negated = negated ^ negate_next;
            negate_next = false;
            let term = match body.split_once(':') {
                Some((key, raw)) => {
                    let (cmp, value) = if let Some(v) = raw.strip_prefix(">=") {
                        (Cmp::Ge, v)
                    } else if let Some(v) = raw.strip_prefix("<=") {
                        (Cmp::Le, v)
                    } else if let Some(v) = raw.strip_prefix('>') {
                        (Cmp::Gt, v)
                    } else if let Some(v) = raw.strip_prefix('<') {
                        (Cmp::Lt, v)
                    } else {
                        (Cmp::Eq, raw)
                    };
                    Term {
                        negated,
                        key: Some(key.to_ascii_lowercase()),
                        cmp,
                        value: value.to_string(),
                    }
                }
                None => Term {
                    negated,
                    key: None,
                    cmp: Cmp::Eq,
                    value: body,
                },
            };
            terms.push(term);
        }
        SearchQuery { terms }
    }

    pub fn matches(&self, state: &State, order: &Order) -> bool {
        self.terms
            .iter()
            .all(|t| term_matches(state, order, t) != t.negated)
    }
}

fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

fn compare_time(t: DateTime<Utc>, cmp: &Cmp, value: &str) -> bool {
    let Some(v) = parse_time(value) else {
        return false;
    };
    match cmp {
        Cmp::Eq => t.date_naive() == v.date_naive(),
        Cmp::Gt => t > v,
        Cmp::Ge => t >= v,
        Cmp::Lt => t < v,
        Cmp::Le => t <= v,
    }
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn term_matches(state: &State, o: &Order, t: &Term) -> bool {
    let v = t.value.as_str();
    let Some(key) = t.key.as_deref() else {
        let needle = v.to_ascii_lowercase();
        return o.name().to_ascii_lowercase().contains(&needle)
            || o.email
                .as_deref()
                .is_some_and(|e| e.to_ascii_lowercase().contains(&needle));
    };
    match key {
        "created_at" => compare_time(o.created_at, &t.cmp, v),
        "processed_at" => compare_time(o.processed_at, &t.cmp, v),
        "updated_at" => compare_time(o.updated_at, &t.cmp, v),
        "financial_status" => o.financial_status().is_some_and(|s| eq_ci(s, v)),
        "fulfillment_status" => {
            let s = o.fulfillment_status();
            match v.to_ascii_lowercase().as_str() {
                "unshipped" | "unfulfilled" => s != "FULFILLED" && s != "PARTIALLY_FULFILLED",
                "shipped" | "fulfilled" => s == "FULFILLED",
                "partial" | "partially_fulfilled" => s == "PARTIALLY_FULFILLED",
                "on_hold" => s == "ON_HOLD",
                other => eq_ci(s, other),
            }
        }
        "risk_level" => {
            let highest = o
                .risk
                .iter()
                .map(|r| r.level.as_str())
                .max_by_key(|l| cancel_policy_core::facts::risk_rank(l))
                .unwrap_or("NONE");
            eq_ci(highest, v)
        }
        "return_status" => eq_ci(&o.return_status, v),
        "status" => match v.to_ascii_lowercase().as_str() {
            "open" => o.closed_at.is_none() && o.cancelled_at.is_none(),
            "closed" => o.closed_at.is_some(),
            "cancelled" | "canceled" => o.cancelled_at.is_some(),
            _ => false,
        },
        "tag" => o.tags.iter().any(|tag| eq_ci(tag, v)),
        "tag_not" => !o.tags.iter().any(|tag| eq_ci(tag, v)),
        "customer_id" => o
            .customer_id
            .is_some_and(|c| c.to_string() == v || parse_gid_of(v, "Customer") == Some(c)),
        "sku" => o
            .line_items
            .iter()
            .any(|l| l.sku.as_deref().is_some_and(|s| eq_ci(s, v))),
        "test" => (v == "true") == o.test,
        "source_name" | "channel" => eq_ci(&o.source_name, v),
        "name" => eq_ci(&o.name(), v) || eq_ci(&o.number.to_string(), v.trim_start_matches('#')),
        "id" => {
            let n = parse_gid_of(v, "Order").or_else(|| v.parse().ok());
            match (&t.cmp, n) {
                (Cmp::Eq, Some(n)) => o.id == n,
                (Cmp::Gt, Some(n)) => o.id > n,
                (Cmp::Ge, Some(n)) => o.id >= n,
                (Cmp::Lt, Some(n)) => o.id < n,
                (Cmp::Le, Some(n)) => o.id <= n,
                _ => false,
            }
        }
        "email" => o.email.as_deref().is_some_and(|e| eq_ci(e, v)),
        _ => {
            let _ = state;
            false
        }
    }
}
