//! The policy file as data, for its JSON Schema (editor completion) and for tools that read
//! policy files without compiling them. The compiler reads the same shape with spans and
//! reports every diagnostic; a test checks that every preset deserializes into this model.

use std::collections::BTreeMap;

use serde::Deserialize;

// Used by the JSON Schema helpers only.
#[cfg_attr(not(feature = "schema"), allow(unused_imports))]
use crate::catalog::{CATALOG, FactType, Scope, WEEKDAYS};
use crate::compiled::Trigger;
use crate::facts::{OrderFacts, RequestFacts};
#[cfg_attr(not(feature = "schema"), allow(unused_imports))]
use crate::outcome::{CANCEL_REASONS, HOLD_REASONS, REFUND_METHODS};

/// A cancellation policy: a header, ordered rules, a default outcome, messages and test cases.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Stable identifier, e.g. `one-hour-grace`.
    pub id: String,
    pub name: String,
    /// Semantic version (MAJOR.MINOR.PATCH).
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"))
    )]
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Locale of messages when the customer's is not supported, e.g. `en`.
    pub default_locale: String,
    /// Locales the messages are translated into.
    #[serde(default)]
    pub locales: Vec<String>,
    /// IANA time zone used when the shop's own is not given, e.g. `Europe/Paris`.
    pub timezone: String,
    /// Triggers this policy handles.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// The outcome when no rule matches.
    pub default: Outcome,
    /// Rules, tried in order: the first whose trigger and conditions match decides.
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    /// locale → message key → text.
    #[serde(default)]
    pub messages: BTreeMap<String, BTreeMap<String, String>>,
    /// Test cases run by `cancel-policy test`.
    #[serde(default)]
    pub case: Vec<CaseSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The triggers this rule handles.
    pub on: Vec<Trigger>,
    /// Conditions, all of which must hold.
    #[serde(default)]
    pub when: Option<Conditions>,
    pub then: Outcome,
}

/// Exactly one outcome with its options.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Outcome {
    /// Cancel without a person.
    Cancel(CancelOptions),
    /// Grant the customer's request.
    Allow(CancelOptions),
    /// Refuse, with a message for the customer.
    Deny(DenyOptions),
    /// Queue for staff, optionally holding fulfillment.
    Review(ReviewOptions),
    /// Hold fulfillment until the window ends, then decide again.
    Hold(HoldOptions),
    /// Cancel, refund and restock only the lines that match.
    CancelLines(CancelLinesOptions),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelOptions {
    /// Shopify's OrderCancelReason.
    #[cfg_attr(feature = "schema", schemars(extend("enum" = CANCEL_REASONS)))]
    pub reason: Option<String>,
    #[cfg_attr(feature = "schema", schemars(extend("enum" = REFUND_METHODS)))]
    pub refund: Option<String>,
    pub fee: Option<Fee>,
    pub restock: Option<bool>,
    pub notify: Option<bool>,
    /// At most 255 characters after templating ({rule} {order} {reason} {risk_level} {request_reason}).
    pub staff_note: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Message key shown to the customer.
    pub message: Option<String>,
}

/// A cancellation fee, kept by refunding the rest.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// Percent of the order total, 0 to 100.
    pub percent: Option<f64>,
    /// A fixed amount in the order's currency, e.g. "5.00".
    pub amount: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DenyOptions {
    pub message: Option<String>,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewOptions {
    /// A FulfillmentHoldReason, or `true` for OTHER.
    pub hold: Option<serde_json::Value>,
    pub staff_note: Option<String>,
    pub tags: Option<Vec<String>>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HoldOptions {
    /// Shopify's FulfillmentHoldReason.
    #[cfg_attr(feature = "schema", schemars(extend("enum" = HOLD_REASONS)))]
    pub reason: Option<String>,
    /// Minutes after placement when the hold ends.
    pub minutes: u32,
    pub tags: Option<Vec<String>>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelLinesOptions {
    /// Which lines (line facts).
    #[serde(rename = "where")]
    pub lines: LineConditions,
    #[cfg_attr(feature = "schema", schemars(extend("enum" = CANCEL_REASONS)))]
    pub reason: Option<String>,
    #[cfg_attr(feature = "schema", schemars(extend("enum" = REFUND_METHODS)))]
    pub refund: Option<String>,
    pub restock: Option<bool>,
    pub notify: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub message: Option<String>,
}

/// Conditions over the order: fact tests, `any`/`all`/`not` groups and `lines` quantifiers.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Conditions(pub BTreeMap<String, serde_json::Value>);

/// Conditions over one line item.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct LineConditions(pub BTreeMap<String, serde_json::Value>);

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub name: String,
    pub trigger: Trigger,
    /// The moment of the decision, RFC 3339 UTC.
    pub at: String,
    /// Order facts, named as in the Admin API (camelCase).
    #[serde(default)]
    pub order: Option<OrderFactsShape>,
    #[serde(default)]
    pub request: Option<RequestShape>,
    pub expect: ExpectSpec,
}

/// Order facts as JSON/TOML (see `OrderFacts`).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct OrderFactsShape(pub OrderFacts);

#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RequestShape(pub RequestFacts);

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["cancel", "allow", "deny", "review", "hold", "cancel_lines"])))]
    pub outcome: String,
    /// The deciding rule's id, or `default`.
    pub rule: String,
    pub message: Option<String>,
    pub actions: Option<Vec<String>>,
}

/// JSON Schema of one fact's test, from its type in the catalog.
#[cfg(feature = "schema")]
fn fact_schema(ty: FactType, doc: &str) -> serde_json::Value {
    use serde_json::json;
    let number = json!({ "type": "number" });
    let ops = |names: &[&str], item: &serde_json::Value| {
        let props: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .map(|n| ((*n).to_string(), item.clone()))
            .collect();
        json!({ "type": "object", "properties": props, "additionalProperties": false })
    };
    let values = |allowed: Option<&[&str]>| match allowed {
        Some(list) => json!({ "enum": list }),
        None => json!({ "type": "string" }),
    };
    let list_of = |item: serde_json::Value| json!({ "type": "array", "items": item });
    let schema = match ty {
        FactType::Number => {
            json!({ "anyOf": [number, ops(&["eq", "ne", "lt", "le", "gt", "ge"], &number)] })
        }
        FactType::Bool => {
            json!({ "anyOf": [{ "type": "boolean" }, ops(&["eq"], &json!({ "type": "boolean" }))] })
        }
        FactType::Enum(list) | FactType::OrderedEnum(list) | FactType::EnumSet(list) => {
            let one = values(Some(list));
            let mut names = vec!["eq", "ne", "in", "not_in"];
            if matches!(ty, FactType::OrderedEnum(_)) {
                names.extend(["at_least", "at_most"]);
            }
            if matches!(ty, FactType::EnumSet(_)) {
                names = vec!["any_of", "all_of", "none_of", "all_in"];
                return json!({ "description": doc, "anyOf": [ops(&names, &list_of(one))] });
            }
            let mut props = serde_json::Map::new();
            for name in names {
                let item = if name == "in" || name == "not_in" {
                    list_of(one.clone())
                } else {
                    one.clone()
                };
                props.insert(name.to_string(), item);
            }
            json!({ "anyOf": [one, { "type": "object", "properties": props, "additionalProperties": false }] })
        }
        FactType::Text => {
            let s = values(None);
            json!({ "anyOf": [s, {
                "type": "object",
                "properties": {
                    "eq": s, "ne": s, "in": list_of(s.clone()), "not_in": list_of(s.clone()),
                    "prefix": list_of(s.clone()), "matches": s
                },
                "additionalProperties": false
            }] })
        }
        FactType::TextSet => ops(
            &["any_of", "all_of", "none_of", "all_in"],
            &list_of(values(None)),
        ),
        FactType::TimeOfDay => {
            let hhmm = json!({ "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" });
            ops(&["before", "after"], &hhmm)
        }
        FactType::Cutoff => {
            let hhmm = json!({ "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" });
            json!({ "anyOf": [hhmm, {
                "type": "object",
                "properties": { "at": hhmm, "days": list_of(json!({ "enum": WEEKDAYS })) },
                "required": ["at"],
                "additionalProperties": false
            }] })
        }
    };
    let mut schema = schema;
    if let Some(object) = schema.as_object_mut() {
        object.insert("description".to_string(), json!(doc));
    }
    schema
}

/// The conditions object for one scope: one property a fact, plus the groups.
#[cfg(feature = "schema")]
fn conditions_schema(scope: Scope, self_ref: &str, line_ref: &str) -> serde_json::Value {
    use serde_json::json;
    let mut props = serde_json::Map::new();
    for spec in CATALOG.iter().filter(|s| s.scope == scope) {
        props.insert(spec.name.to_string(), fact_schema(spec.ty, spec.doc));
    }
    let me = json!({ "$ref": self_ref });
    let alternatives = json!([{ "type": "array", "items": me }, me]);
    props.insert(
        "any".into(),
        json!({ "description": "holds when one group holds", "anyOf": alternatives }),
    );
    props.insert(
        "all".into(),
        json!({ "description": "holds when every group holds", "anyOf": alternatives }),
    );
    props.insert(
        "not".into(),
        json!({ "description": "holds when the conditions inside do not", "$ref": self_ref }),
    );
    if scope == Scope::Order {
        let line = json!({ "$ref": line_ref });
        props.insert(
            "lines".into(),
            json!({
                "description": "conditions over line items",
                "type": "object",
                "properties": {
                    "any": line, "all": line, "none": line,
                    "count": {
                        "type": "object",
                        "properties": {
                            "where": line,
                            "eq": { "type": "number" }, "ne": { "type": "number" },
                            "lt": { "type": "number" }, "le": { "type": "number" },
                            "gt": { "type": "number" }, "ge": { "type": "number" }
                        },
                        "required": ["where"],
                        "additionalProperties": false
                    }
                },
                "additionalProperties": false
            }),
        );
    }
    json!({ "type": "object", "properties": props, "additionalProperties": false })
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Conditions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Conditions".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let line_ref = generator.subschema_for::<LineConditions>();
        let line_ref = line_ref
            .get("$ref")
            .and_then(|r| r.as_str())
            .unwrap_or("#/$defs/LineConditions")
            .to_string();
        let value = conditions_schema(Scope::Order, "#/$defs/Conditions", &line_ref);
        schemars::Schema::try_from(value).unwrap_or_default()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for LineConditions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LineConditions".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = conditions_schema(Scope::Line, "#/$defs/LineConditions", "");
        schemars::Schema::try_from(value).unwrap_or_default()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for OrderFactsShape {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OrderFacts".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "object", "description": "order facts named as in the Admin API (see OrderFacts)" })
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for RequestShape {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RequestFacts".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "properties": {
                "source": { "enum": crate::catalog::REQUEST_SOURCE },
                "reason": { "type": "string" },
                "locale": { "type": "string" }
            },
            "additionalProperties": false
        })
    }
}

/// The policy file's JSON Schema, pretty-printed (committed as `schema/policy.schema.json`).
#[cfg(feature = "schema")]
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
