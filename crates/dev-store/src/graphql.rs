//! One Admin GraphQL request: authentication, fault knobs, `@idempotent`, cost and throttling,
//! execution by async-graphql against the pruned schema, Shopify-shaped errors, and
//! `extensions.cost` on every answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use serde_json::{Map, Value, json};

use crate::cost::{self, MAX_QUERY_COST};
use crate::store::Shared;

/// Per-request data the resolvers read.
#[derive(Debug, Default)]
pub struct RequestData {
    /// `@idempotent(key:)` per mutation response key.
    pub idempotency_keys: HashMap<String, String>,
}

/// An HTTP answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer { status, body }
}

#[derive(serde::Deserialize)]
struct Body {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
}

/// Removes every `@idempotent(...)` from the query text, keeping line and column positions
/// (the directive is blanked with spaces). async-graphql's dynamic schema cannot declare
/// custom executable directives, so the store reads them itself before validation.
fn strip_idempotent(query: &str) -> String {
    let chars: Vec<char> = query.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let mut i = 0;
    let directive: Vec<char> = "@idempotent".chars().collect();
    while i < chars.len() {
        match chars.get(i) {
            Some('#') => {
                while i < chars.len() && chars.get(i) != Some(&'\n') {
                    i += 1;
                }
            }
            Some('"') => {
                i += 1;
                while i < chars.len() && chars.get(i) != Some(&'"') {
                    if chars.get(i) == Some(&'\\') {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            Some('@') if chars.get(i..i + directive.len()) == Some(&directive[..]) => {
                let start = i;
                let mut j = i + directive.len();
                while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                    j += 1;
                }
                if chars.get(j) == Some(&'(') {
                    let mut in_string = false;
                    while j < chars.len() {
                        match chars.get(j) {
                            Some('\\') if in_string => j += 1,
                            Some('"') => in_string = !in_string,
                            Some(')') if !in_string => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    j += 1;
                } else {
                    j = start + directive.len();
                }
                for k in start..j.min(chars.len()) {
                    if let Some(c) = out.get_mut(k)
                        && *c != '\n'
                    {
                        *c = ' ';
                    }
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    out.into_iter().collect()
}

/// Char ranges of the text outside string literals and comments, as (index, char) pairs.
fn code_chars(chars: &[char]) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '#' => {
                while chars.get(i).is_some_and(|c| *c != '\n') {
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                while let Some(&c) = chars.get(i) {
                    if c == '\\' {
                        i += 1;
                    } else if c == '"' {
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            c => {
                out.push((i, c));
                i += 1;
            }
        }
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// After the directives are gone, a variable only they used (`$key`) is unused, which
/// GraphQL rejects: blank its definition, and a variable list left empty.
fn strip_unused_variables(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let code = code_chars(&chars);
    let mut definitions: Vec<(String, usize)> = Vec::new();
    let mut uses: HashMap<String, usize> = HashMap::new();
    let mut k = 0;
    while let Some(&(i, c)) = code.get(k) {
        k += 1;
        if c != '$' {
            continue;
        }
        let mut name = String::new();
        while let Some(&(_, c)) = code.get(k).filter(|(_, c)| is_name_char(*c)) {
            name.push(c);
            k += 1;
        }
        let mut j = k;
        while code.get(j).is_some_and(|(_, c)| c.is_whitespace()) {
            j += 1;
        }
        if code.get(j).is_some_and(|(_, c)| *c == ':') {
            definitions.push((name, i));
        } else {
            *uses.entry(name).or_insert(0) += 1;
        }
    }
    for (name, start) in definitions {
        if uses.get(&name).copied().unwrap_or(0) > 0 {
            continue;
        }
        let mut depth = 0i32;
        let mut end = start + 1;
        while let Some(&c) = chars.get(end) {
            match c {
                '[' | '{' | '(' => depth += 1,
                ']' | '}' => depth -= 1,
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                ',' | '$' if depth == 0 => break,
                _ => {}
            }
            end += 1;
        }
        for c in chars.iter_mut().take(end).skip(start) {
            if *c != '\n' {
                *c = ' ';
            }
        }
    }
    // A variable list with nothing left: `( )`.
    let code = code_chars(&chars);
    for (k, &(open, c)) in code.iter().enumerate() {
        if c != '(' {
            continue;
        }
        let rest = code
            .iter()
            .skip(k + 1)
            .find(|(_, c)| !c.is_whitespace() && *c != ',');
        if let Some(&(close, ')')) = rest {
            if let Some(c) = chars.get_mut(open) {
                *c = ' ';
            }
            if let Some(c) = chars.get_mut(close) {
                *c = ' ';
            }
        }
    }
    chars.into_iter().collect()
}

/// Reads `@idempotent(key:)` on the operation's root mutation fields.
fn idempotency_keys(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Value,
) -> Result<HashMap<String, String>, String> {
    let mut keys = HashMap::new();
    let Some(op) = cost::operation(doc, operation_name) else {
        return Ok(keys);
    };
    if op.node.ty != OperationType::Mutation {
        return Ok(keys);
    }
    for item in &op.node.selection_set.node.items {
        let Selection::Field(field) = &item.node else {
            continue;
        };
        for d in &field.node.directives {
            if d.node.name.node != "idempotent" {
                continue;
            }
            let key = match d.node.get_argument("key").map(|v| &v.node) {
                Some(async_graphql_value::Value::String(s)) => Some(s.clone()),
                Some(async_graphql_value::Value::Variable(name)) => {
                    match variables.get(name.as_str()).and_then(Value::as_str) {
                        Some(k) => Some(k.to_string()),
                        None => {
                            return Err(format!(
                                "Variable ${name} of type String! was provided invalid value"
                            ));
                        }
                    }
                }
                _ => None,
            };
            match key {
                Some(k) if !k.trim().is_empty() => {
                    keys.insert(field.node.response_key().node.to_string(), k);
                }
                _ => return Err("The idempotency key cannot be empty.".to_string()),
            }
        }
    }
    Ok(keys)
}

fn throttle_status(shared: &Shared) -> Value {
    shared.bucket().status()
}

fn shopify_errors(errors: Vec<Value>) -> Vec<Value> {
    errors
        .into_iter()
        .map(|mut e| {
            let message = e.get("message").and_then(Value::as_str).unwrap_or_default().to_string();
            let parts: Vec<&str> = message.split('"').collect();
            let rewrite = if message.starts_with("Unknown field ") && parts.len() >= 4 {
                let (field, ty) = (parts.get(1).copied().unwrap_or_default(), parts.get(3).copied().unwrap_or_default());
                Some((format!("Field '{field}' doesn't exist on type '{ty}'"), json!({ "code": "undefinedField", "typeName": ty, "fieldName": field })))
            } else if message.starts_with("Unknown argument ") && parts.len() >= 6 {
                let (arg, field, ty) = (parts.get(1).copied().unwrap_or_default(), parts.get(3).copied().unwrap_or_default(), parts.get(5).copied().unwrap_or_default());
                Some((format!("Field '{field}' doesn't accept argument '{arg}'"), json!({ "code": "argumentNotAccepted", "name": field, "typeName": ty, "argumentName": arg })))
            } else if message.starts_with("Field \"") && message.contains("is required but not provided") && parts.len() >= 4 {
                let (field, arg) = (parts.get(1).copied().unwrap_or_default(), parts.get(3).copied().unwrap_or_default());
                Some((format!("Field '{field}' is missing required arguments: {arg}"), json!({ "code": "missingRequiredArguments", "className": "Field", "name": field, "arguments": arg })))
            } else {
                None
            };
            if let (Some((m, ext)), Some(obj)) = (rewrite, e.as_object_mut()) {
                obj.insert("message".into(), Value::String(m));
                obj.insert("extensions".into(), ext);
            }
            e
        })
        .collect()
}

/// Handles `POST /admin/api/2026-04/graphql.json`.
pub async fn handle(shared: &Arc<Shared>, token: Option<&str>, raw: &[u8]) -> Answer {
    let accepted = shared.tokens().accept(token);
    if !accepted {
        // https://shopify.dev/docs/api/usage/authentication
        return answer(401, json!({ "errors": crate::tokens::INVALID_TOKEN }));
    }
    let faults = shared.faults();
    if shared.rng().chance(faults.error_rate) {
        return answer(
            503,
            json!({ "errors": "Service Unavailable: the dev store's error_rate knob dropped this request" }),
        );
    }
    let body: Body = match serde_json::from_slice(raw) {
        Ok(b) => b,
        Err(e) => {
            return answer(
                400,
                json!({ "errors": { "query": format!("Required parameter missing or invalid: {e}") } }),
            );
        }
    };
    let Some(query) = body.query.filter(|q| !q.trim().is_empty()) else {
        return answer(
            400,
            json!({ "errors": { "query": "Required parameter missing or invalid" } }),
        );
    };
    let variables = body
        .variables
        .filter(|v| !v.is_null())
        .unwrap_or_else(|| json!({}));
    let operation_name = body.operation_name.filter(|n| !n.is_empty());

    // The original text carries the directives; the stripped one is what gets executed.
    let doc = async_graphql::parser::parse_query(&query).ok();
    let stripped = strip_unused_variables(&strip_idempotent(&query));
    let keys = match &doc {
        Some(doc) => match idempotency_keys(doc, operation_name.as_deref(), &variables) {
            Ok(k) => k,
            Err(message) => {
                return answer(
                    200,
                    json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] }),
                );
            }
        },
        None => HashMap::new(),
    };
    if faults.latency_ms > 0 && keys.is_empty() {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }

    let requested = doc.as_ref().map_or(0, |d| {
        cost::cost(&shared.info, d, operation_name.as_deref(), &variables, None)
    });
    if requested > MAX_QUERY_COST {
        return answer(
            200,
            json!({
                "errors": [{
                    "message": format!("Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"),
                    "extensions": { "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST, "documentation": "https://shopify.dev/api/usage/rate-limits" },
                }],
                "extensions": { "cost": { "requestedQueryCost": requested, "actualQueryCost": null, "throttleStatus": throttle_status(shared) } },
            }),
        );
    }
    let admitted = {
        let mut bucket = shared.bucket();
        bucket.refill(faults.time_scale, faults.throttle_pressure);
        bucket.try_take(requested)
    };
    if !admitted {
        // The HTTP status of a throttled GraphQL call is not documented; Shopify's GraphQL
        // errors come with 200, and clients handle 429 too.
        return answer(
            200,
            json!({
                "errors": [{
                    "message": "Throttled",
                    "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" },
                }],
                "extensions": { "cost": { "requestedQueryCost": requested, "actualQueryCost": null, "throttleStatus": throttle_status(shared) } },
            }),
        );
    }

    let mut request = async_graphql::Request::new(stripped)
        .variables(async_graphql::Variables::from_json(variables.clone()))
        .data(shared.clone())
        .data(RequestData {
            idempotency_keys: keys,
        });
    if let Some(name) = &operation_name {
        request = request.operation_name(name.clone());
    }
    let response = shared.schema.execute(request).await;
    let response_json = serde_json::to_value(&response).unwrap_or(Value::Null);
    let data = response_json.get("data").cloned().unwrap_or(Value::Null);
    let errors: Vec<Value> = response_json
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let executed = !data.is_null();
    let actual = match (&doc, executed) {
        (Some(d), true) => cost::cost(
            &shared.info,
            d,
            operation_name.as_deref(),
            &variables,
            Some(&data),
        )
        .min(requested),
        _ => 0,
    };
    shared.bucket().refund(requested - actual);

    let mut out = Map::new();
    if !errors.is_empty() {
        out.insert("errors".into(), Value::Array(shopify_errors(errors)));
    }
    if executed || response_json.get("data").is_some_and(|d| !d.is_null()) {
        out.insert("data".into(), data);
    }
    out.insert(
        "extensions".into(),
        json!({ "cost": { "requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": throttle_status(shared) } }),
    );
    answer(200, Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_keeps_positions_and_strings() {
        let q = "mutation { refundCreate(input: $i) @idempotent(key: \"a)b\") { userErrors { message } } }";
        let s = strip_idempotent(q);
        assert_eq!(s.len(), q.len());
        assert!(!s.contains("idempotent"));
        assert!(s.contains("refundCreate(input: $i)"));
        assert!(s.contains("{ userErrors"));
    }

    #[test]
    fn variables_only_the_directive_used_are_dropped() {
        let q = "mutation R($i: RefundInput!, $key: String!) { refundCreate(input: $i) @idempotent(key: $key) { userErrors { message } } }";
        let s = strip_unused_variables(&strip_idempotent(q));
        assert!(!s.contains("$key"));
        assert!(s.contains("$i: RefundInput!"));
        async_graphql::parser::parse_query(&s).unwrap();
        let only = "mutation($key: String!) { refundCreate(input: {orderId: \"x\"}) @idempotent(key: $key) { userErrors { message } } }";
        let s = strip_unused_variables(&strip_idempotent(only));
        assert!(!s.contains('$'));
        async_graphql::parser::parse_query(&s).unwrap();
    }
}
