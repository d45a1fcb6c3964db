//! Compares a captured Shopify response with the dev store's: same shape and values, with ids
//! and timestamps allowed to differ. Ids must correspond one to one across a whole scenario
//! (the captured order id always maps to the same local id), so relations are checked too.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Default)]
pub struct Matcher {
    /// captured gid → local gid
    pub ids: HashMap<String, String>,
    reverse: HashMap<String, String>,
    /// Compare `extensions.cost.requestedQueryCost` (only meaningful when the query is the
    /// captured one, on the captured API version).
    pub check_requested_cost: bool,
}

fn gid_kind(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("gid://shopify/")?;
    rest.split('/').next()
}

fn is_timestamp(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.len() == 20
}

impl Matcher {
    pub fn new(check_requested_cost: bool) -> Matcher {
        Matcher {
            check_requested_cost,
            ..Matcher::default()
        }
    }

    /// Declares that a captured id stands for a local one (for ids no response shows).
    pub fn map(&mut self, captured: &str, local: &str) {
        self.ids.insert(captured.to_string(), local.to_string());
        self.reverse.insert(local.to_string(), captured.to_string());
    }

    /// Rewrites captured ids in request variables to the local ones.
    pub fn localize(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => {
                Value::String(self.ids.get(s).cloned().unwrap_or_else(|| s.clone()))
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.localize(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.localize(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Returns the differences (empty when they match).
    pub fn compare(&mut self, expected: &Value, actual: &Value) -> Vec<String> {
        let mut diffs = Vec::new();
        self.walk(expected, actual, "$", &mut diffs);
        diffs
    }

    fn walk(&mut self, expected: &Value, actual: &Value, path: &str, diffs: &mut Vec<String>) {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (k, ev) in e {
                    let p = format!("{path}.{k}");
                    if p.ends_with(".extensions.cost.actualQueryCost")
                        || p.ends_with(".throttleStatus.currentlyAvailable")
                        || (p.ends_with(".extensions.cost.requestedQueryCost")
                            && !self.check_requested_cost)
                    {
                        continue;
                    }
                    match a.get(k) {
                        Some(av) => self.walk(ev, av, &p, diffs),
                        None => diffs.push(format!("{p}: missing (expected {ev})")),
                    }
                }
                for k in a.keys() {
                    if !e.contains_key(k) {
                        diffs.push(format!("{path}.{k}: unexpected field"));
                    }
                }
            }
            (Value::Array(e), Value::Array(a)) => {
                if e.len() != a.len() {
                    diffs.push(format!(
                        "{path}: expected {} items, got {}",
                        e.len(),
                        a.len()
                    ));
                }
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.walk(ev, av, &format!("{path}[{i}]"), diffs);
                }
            }
            (Value::String(e), Value::String(a)) if gid_kind(e).is_some() => {
                if gid_kind(e) != gid_kind(a) {
                    diffs.push(format!(
                        "{path}: expected a {} id, got {a}",
                        gid_kind(e).unwrap_or("?")
                    ));
                    return;
                }
                match (self.ids.get(e), self.reverse.get(a)) {
                    (Some(mapped), _) if mapped != a => {
                        diffs.push(format!("{path}: {e} was {mapped} before, now {a}"));
                    }
                    (None, Some(other)) if other != e => {
                        diffs.push(format!("{path}: {a} already stands for {other}, not {e}"));
                    }
                    (None, _) => self.map(e, a),
                    _ => {}
                }
            }
            (Value::String(e), Value::String(a)) if is_timestamp(e) => {
                if !is_timestamp(a) {
                    diffs.push(format!("{path}: expected a timestamp like {e}, got {a}"));
                }
            }
            (e, a) => {
                if e != a {
                    diffs.push(format!("{path}: expected {e}, got {a}"));
                }
            }
        }
    }
}
