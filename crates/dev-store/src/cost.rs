//! Query cost and the leaky bucket.
//!
//! Shopify documents the rules qualitatively: scalars and enums cost 0, objects 1, connections
//! 2 plus the objects requested, mutations 10, and the bucket must hold the requested cost
//! before execution, the difference to the actual cost being refunded afterwards
//! (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). The exact weights
//! below are fitted to the 2026-04 captures (`tests/captures/`): `MoneyBag`, `MoneyV2` and
//! `PageInfo` are free; a plain list of objects costs like one object; a connection costs
//! `2 + ceil(sqrt(first)) × node cost`; a mutation costs 10 and covers its payload's own
//! fields. The captured requested costs (1, 3, 10, 20, 24, 32, 39) all come out exactly.

use std::collections::HashMap;
use std::time::Instant;

use async_graphql::Name;
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::parser::{Positioned, types::Field};
use async_graphql_value::Value as GqlValue;
use serde_json::{Value, json};

use crate::sdl::{Kind, SchemaInfo};

/// A single query may not cost more than this (requested cost).
pub const MAX_QUERY_COST: u64 = 1000;
const MUTATION_COST: u64 = 10;

fn free_type(name: &str) -> bool {
    matches!(name, "MoneyBag" | "MoneyV2" | "PageInfo")
}

struct Walker<'a> {
    info: &'a SchemaInfo,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Value,
}

impl Walker<'_> {
    fn int_arg(&self, field: &Field, name: &str) -> Option<u64> {
        let v = &field.get_argument(name)?.node;
        match v {
            GqlValue::Number(n) => n.as_u64(),
            GqlValue::Variable(var) => self.variables.get(var.as_str())?.as_u64(),
            _ => None,
        }
    }

    /// Fields of a selection set with fragments flattened, paired with the type they apply to.
    fn fields<'s>(
        &'s self,
        set: &'s SelectionSet,
        on: &'s str,
        out: &mut Vec<(&'s Field, String)>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => out.push((&f.node, on.to_string())),
                Selection::InlineFragment(frag) => {
                    let ty = frag
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(on, |t| t.node.on.node.as_str());
                    self.fields(&frag.node.selection_set.node, ty, out);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(def) = self.fragments.get(&spread.node.fragment_name.node) {
                        let ty = def.node.type_condition.node.on.node.as_str();
                        self.fields(&def.node.selection_set.node, ty, out);
                    }
                }
            }
        }
    }

    /// Cost of a selection set on `type_name`; `data` is the response value for the actual
    /// cost (None for the requested cost). `payload` marks a mutation payload, whose own
    /// object fields are covered by the mutation's cost.
    fn set_cost(
        &self,
        set: &SelectionSet,
        type_name: &str,
        data: Option<&Value>,
        payload: bool,
    ) -> u64 {
        let mut fields = Vec::new();
        self.fields(set, type_name, &mut fields);
        fields
            .into_iter()
            .map(|(f, on)| {
                let child = data.map(|d| {
                    d.get(f.response_key().node.as_str())
                        .unwrap_or(&Value::Null)
                });
                self.field_cost(f, &on, child, payload)
            })
            .sum()
    }

    fn field_cost(&self, f: &Field, on: &str, data: Option<&Value>, payload: bool) -> u64 {
        let name = f.name.node.as_str();
        if name.starts_with("__") {
            return 0;
        }
        let Some(info) = self.info.field(on, name) else {
            return 0;
        };
        let ty = info.type_name.as_str();
        let kind = self.info.kind(ty);
        if matches!(kind, Some(Kind::Scalar | Kind::Enum) | None) {
            return 0;
        }
        let set = &f.selection_set.node;
        if ty.ends_with("Connection") {
            let node_type = ty.trim_end_matches("Connection");
            let node_cost = |node_data: Option<&Value>| -> u64 {
                let mut inner = Vec::new();
                self.fields(set, ty, &mut inner);
                let mut best = 0;
                for (cf, _) in inner {
                    let key = cf.response_key().node.as_str();
                    let cost = match cf.name.node.as_str() {
                        "nodes" => {
                            1 + self.set_cost(&cf.selection_set.node, node_type, node_data, false)
                        }
                        "edges" => {
                            let mut edge_fields = Vec::new();
                            self.fields(&cf.selection_set.node, "", &mut edge_fields);
                            edge_fields
                                .iter()
                                .filter(|(ef, _)| ef.name.node == "node")
                                .map(|(ef, _)| {
                                    1 + self.set_cost(
                                        &ef.selection_set.node,
                                        node_type,
                                        node_data,
                                        false,
                                    )
                                })
                                .sum()
                        }
                        _ => 0,
                    };
                    let _ = key;
                    best = best.max(cost);
                }
                best
            };
            return match data {
                None => {
                    let size = self
                        .int_arg(f, "first")
                        .or_else(|| self.int_arg(f, "last"))
                        .unwrap_or(0);
                    2 + size_factor(size) * node_cost(None)
                }
                Some(Value::Null) => 0,
                Some(conn) => {
                    let nodes = conn
                        .as_object()
                        .and_then(|m| m.values().find_map(|v| v.as_array().filter(|_| true)))
                        .cloned()
                        .unwrap_or_default();
                    let per_node = nodes
                        .iter()
                        .map(|n| node_cost(Some(n.get("node").unwrap_or(n))))
                        .max()
                        .unwrap_or(0);
                    2 + size_factor(nodes.len() as u64) * per_node
                }
            };
        }
        let own = if payload || free_type(ty) { 0 } else { 1 };
        match data {
            None => own + self.set_cost(set, ty, None, false),
            Some(Value::Null) => own,
            Some(Value::Array(items)) => {
                own + items
                    .iter()
                    .map(|i| self.set_cost(set, ty, Some(i), false))
                    .max()
                    .unwrap_or(0)
            }
            Some(v) => own + self.set_cost(set, ty, Some(v), false),
        }
    }
}

fn whole(x: f64) -> i64 {
    if x.is_finite() { x.round() as i64 } else { 0 }
}

fn size_factor(n: u64) -> u64 {
    let root = (n as f64).sqrt().ceil();
    if root.is_finite() && root >= 0.0 {
        root as u64
    } else {
        0
    }
}

/// The operation a request runs: the named one, or the only one.
pub fn operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d Positioned<async_graphql::parser::types::OperationDefinition>> {
    doc.operations
        .iter()
        .find(|(n, _)| name.is_none() || n.map(|n| n.as_str()) == name)
        .map(|(_, op)| op)
}

/// Requested cost, or actual cost when `data` (the response's `data`) is given.
pub fn cost(
    info: &SchemaInfo,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Value,
    data: Option<&Value>,
) -> u64 {
    let Some(op) = operation(doc, operation_name) else {
        return 0;
    };
    let walker = Walker {
        info,
        fragments: &doc.fragments,
        variables,
    };
    let op = &op.node;
    match op.ty {
        OperationType::Mutation => {
            let mut fields = Vec::new();
            walker.fields(&op.selection_set.node, "Mutation", &mut fields);
            fields
                .into_iter()
                .map(|(f, _)| {
                    if f.name.node.starts_with("__") {
                        return 0;
                    }
                    let ty = info
                        .field("Mutation", f.name.node.as_str())
                        .map(|i| i.type_name.clone())
                        .unwrap_or_default();
                    let child = data.map(|d| {
                        d.get(f.response_key().node.as_str())
                            .unwrap_or(&Value::Null)
                    });
                    let payload = match child {
                        Some(Value::Null) => 0,
                        _ => walker.set_cost_payload(&f.selection_set.node, &ty, child),
                    };
                    MUTATION_COST + payload
                })
                .sum()
        }
        _ => walker.set_cost(&op.selection_set.node, "QueryRoot", data, false),
    }
}

impl Walker<'_> {
    fn set_cost_payload(&self, set: &SelectionSet, type_name: &str, data: Option<&Value>) -> u64 {
        self.set_cost(set, type_name, data, true)
    }
}

/// A leaky bucket per app and shop.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub maximum: f64,
    pub restore_rate: f64,
    available: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(maximum: f64, restore_rate: f64) -> Bucket {
        Bucket {
            maximum,
            restore_rate,
            available: maximum,
            last: Instant::now(),
        }
    }

    /// Restores points for the time since the last call; `time_scale` speeds time up and
    /// `pressure` (0..1) is the share of the restore rate other traffic eats.
    pub fn refill(&mut self, time_scale: f64, pressure: f64) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64() * time_scale.max(0.0);
        self.last = now;
        let rate = self.restore_rate * (1.0 - pressure.clamp(0.0, 1.0));
        self.available = (self.available + elapsed * rate).min(self.maximum);
    }

    pub fn available(&self) -> f64 {
        self.available
    }

    pub fn set_available(&mut self, points: f64) {
        self.available = points.clamp(0.0, self.maximum);
        self.last = Instant::now();
    }

    pub fn try_take(&mut self, cost: u64) -> bool {
        let cost = cost as f64;
        if self.available + 1e-9 < cost {
            return false;
        }
        self.available -= cost;
        true
    }

    pub fn refund(&mut self, points: u64) {
        self.available = (self.available + points as f64).min(self.maximum);
    }

    pub fn status(&self) -> Value {
        // Whole numbers, as the 2026-04 captures show them.
        json!({
            "maximumAvailable": whole(self.maximum),
            "currentlyAvailable": whole(self.available.floor()),
            "restoreRate": whole(self.restore_rate),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requested(query: &str, variables: Value) -> u64 {
        let (_, info) = crate::sdl::build().unwrap();
        let doc = async_graphql::parser::parse_query(query).unwrap();
        cost(&info, &doc, None, &variables, None)
    }

    #[test]
    fn order_read_costs_one() {
        assert_eq!(
            requested(
                "query($id: ID!) { order(id: $id) { id closed } }",
                json!({})
            ),
            1
        );
    }

    #[test]
    fn money_is_free_and_lists_cost_one() {
        let q = "query($id: ID!) { order(id: $id) { id totalOutstandingSet { shopMoney { amount } } customer { id } transactions { kind amountSet { shopMoney { amount } } } } }";
        assert_eq!(requested(q, json!({})), 3);
    }

    #[test]
    fn connections_scale_with_the_square_root_of_first() {
        let q = "query($id: ID!) { fulfillmentOrder(id: $id) { id supportedActions { action } assignedLocation { name location { id } } fulfillmentHolds { id } merchantRequests(first: 10) { nodes { kind } } lineItems(first: 20) { nodes { id lineItem { id } } } order { id } } }";
        assert_eq!(requested(q, json!({})), 24);
    }
}
