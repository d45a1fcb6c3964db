//! The compiled policy: compact, versioned JSON stored in a Shopify metafield.
//!
//! Keys are short because Shopify does not return metafield values over 10,000 bytes to a
//! Function. https://shopify.dev/docs/api/functions/latest#limitations

use serde::{Deserialize, Serialize};

use crate::catalog::Fact;
use crate::outcome::Outcome;
use crate::text_map::TextMap;

mod function_facts;
mod header;
mod line_inputs;
mod reader;

pub use function_facts::{
    FUNCTION_FACTS, FactSet, Unanswerable, function_answers, unanswerable_in,
};
pub use header::{FunctionHeader, InputNeeds, NotAdmitted};
pub use line_inputs::{LineField, LineInputs, OrderInputs};
pub use reader::{PolicyStream, StreamEnd, StreamedRule};

/// Version of the compiled format; `load` refuses any other.
pub const FORMAT_VERSION: u32 = 1;

/// Shopify returns no metafield value over this many bytes to a Function.
pub const METAFIELD_LIMIT_BYTES: usize = 10_000;

/// List arguments and list variables of an input query hold at most 100 elements.
/// https://shopify.dev/docs/api/functions/latest#limitations
pub const INPUT_LIST_LIMIT: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledPolicy {
    #[serde(rename = "v")]
    pub format: u32,
    pub id: String,
    #[serde(rename = "ver")]
    pub version: String,
    /// Default locale for messages.
    #[serde(rename = "loc")]
    pub default_locale: String,
    /// Shop time zone (IANA) used when the shop's own is not given.
    #[serde(rename = "tz")]
    pub timezone: String,
    #[serde(rename = "r")]
    pub rules: Vec<Rule>,
    /// The outcome when no rule matches.
    #[serde(rename = "d")]
    pub default: Outcome,
    /// locale → message key → text.
    #[serde(rename = "m", default)]
    pub messages: TextMap<TextMap<String>>,
}

/// A rule as [`CompiledPolicy::to_json`] writes it: its members and, before the outcome,
/// the outcome's length in bytes (`ol`), so that the Function passes over the outcome of a
/// rule whose conditions fail rather than reading it (an outcome costs it about a thousand
/// instructions; a rule that decides has its outcome read from where `ol` skipped). Only
/// that use trusts it, and only where the bytes it points at are those that end an outcome
/// (see `reader::fast::outcome_end`); every reader accepts a rule without `ol`, or with any
/// value there, as `load` passes over a key it does not know.
#[derive(Serialize)]
struct RuleText<'a> {
    id: &'a str,
    t: u8,
    #[serde(skip_serializing_if = "<[Condition]>::is_empty")]
    w: &'a [Condition],
    ol: usize,
    o: &'a Outcome,
}

impl<'a> RuleText<'a> {
    fn of(rule: &'a Rule) -> Self {
        RuleText {
            id: &rule.id,
            t: rule.triggers,
            w: &rule.when,
            // Serialized twice (here and in the rule): only when compiling.
            ol: serde_json::to_string(&rule.then).map_or(0, |text| text.len()),
            o: &rule.then,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    /// Triggers as a bit set (see `Trigger::bit`).
    #[serde(rename = "t")]
    pub triggers: u8,
    /// All must hold; an empty list always holds.
    #[serde(rename = "w", default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Condition>,
    #[serde(rename = "o")]
    pub then: Outcome,
}

/// What asks for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    CustomerRequest,
    StaffRequest,
    OrderCreated,
    RiskChanged,
    InventoryChanged,
    FlowAction,
    Scheduled,
}

impl Trigger {
    pub const ALL: [Trigger; 7] = [
        Trigger::CustomerRequest,
        Trigger::StaffRequest,
        Trigger::OrderCreated,
        Trigger::RiskChanged,
        Trigger::InventoryChanged,
        Trigger::FlowAction,
        Trigger::Scheduled,
    ];

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn name(self) -> &'static str {
        match self {
            Trigger::CustomerRequest => "customer_request",
            Trigger::StaffRequest => "staff_request",
            Trigger::OrderCreated => "order_created",
            Trigger::RiskChanged => "risk_changed",
            Trigger::InventoryChanged => "inventory_changed",
            Trigger::FlowAction => "flow_action",
            Trigger::Scheduled => "scheduled",
        }
    }

    pub fn by_name(name: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::str::FromStr for Trigger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Trigger::by_name(s).ok_or_else(|| {
            let names: Vec<&str> = Trigger::ALL.iter().map(|t| t.name()).collect();
            format!(
                "unknown trigger `{s}`; expected one of {}",
                names.join(", ")
            )
        })
    }
}

/// A condition over the order (or over one line, inside `Lines`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    #[serde(rename = "all")]
    All(Vec<Condition>),
    #[serde(rename = "any")]
    Any(Vec<Condition>),
    #[serde(rename = "not")]
    Not(Box<Condition>),
    /// A test of one fact.
    #[serde(rename = "f")]
    Fact(Fact, Test),
    /// A quantifier over the order's lines; the inner conditions all hold for a matching line.
    #[serde(rename = "l")]
    Lines(Quantifier, Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Quantifier {
    #[serde(rename = "any")]
    Any,
    #[serde(rename = "all")]
    All,
    #[serde(rename = "none")]
    None,
    /// The number of matching lines passes the test.
    #[serde(rename = "count")]
    Count(Test),
}

/// A test applied to a fact's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Test {
    #[serde(rename = "is")]
    Is(bool),
    #[serde(rename = "eq")]
    Eq(f64),
    #[serde(rename = "ne")]
    Ne(f64),
    #[serde(rename = "lt")]
    Lt(f64),
    #[serde(rename = "le")]
    Le(f64),
    #[serde(rename = "gt")]
    Gt(f64),
    #[serde(rename = "ge")]
    Ge(f64),
    /// The value is one of these.
    #[serde(rename = "in")]
    In(Vec<String>),
    #[serde(rename = "nin")]
    NotIn(Vec<String>),
    /// The value starts with one of these.
    #[serde(rename = "pre")]
    Prefix(Vec<String>),
    /// The value matches a glob (`*` any run, `?` one character).
    #[serde(rename = "glob")]
    Matches(String),
    /// Sets: at least one of these is present.
    #[serde(rename = "anyof")]
    AnyOf(Vec<String>),
    /// Sets: every one of these is present.
    #[serde(rename = "allof")]
    AllOf(Vec<String>),
    /// Sets: none of these is present.
    #[serde(rename = "noneof")]
    NoneOf(Vec<String>),
    /// Sets: every present value is one of these.
    #[serde(rename = "allin")]
    AllIn(Vec<String>),
    /// Ordered enums: at least this value.
    #[serde(rename = "min")]
    AtLeast(String),
    #[serde(rename = "max")]
    AtMost(String),
    /// Time of day strictly before, in minutes after midnight.
    #[serde(rename = "before")]
    Before(u16),
    /// Time of day at or after, in minutes after midnight.
    #[serde(rename = "after")]
    After(u16),
    /// Before the first daily cut-off after placement.
    #[serde(rename = "cut")]
    Cutoff {
        /// Minutes after midnight, shop time.
        at: u16,
        /// Weekdays as bits, Monday = bit 0.
        days: u8,
    },
}

/// Input-query variables for the Function, stored as a second JSON metafield: the lists that
/// `hasTags(tags:)` and `inCollections(ids:)` ask about, and which line and order fields are
/// included.
/// https://shopify.dev/docs/apps/build/functions/input-queries/use-variables-input-queries
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputVariables {
    pub order_tags: Vec<String>,
    pub customer_tags: Vec<String>,
    pub product_tags: Vec<String>,
    pub collection_ids: Vec<String>,
    #[serde(flatten)]
    pub lines: LineInputs,
    /// Which of the order's own fields are included.
    #[serde(flatten)]
    pub order: OrderInputs,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the compiled policy is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "the compiled policy has format version {found}; this build reads version {FORMAT_VERSION}"
    )]
    UnsupportedVersion { found: u64 },
    #[error("the compiled policy has no format version (`v`)")]
    MissingVersion,
    /// From [`CompiledPolicy::read`]: the text is not JSON, or not a compiled policy of this
    /// format (a missing field, a value of the wrong type or out of range, an unknown variant).
    #[error("the compiled policy is not valid: {problem} at byte {at}")]
    Invalid {
        /// Byte offset in the text where the problem was found.
        at: usize,
        problem: String,
    },
}

impl CompiledPolicy {
    /// Reads a compiled policy, refusing unknown format versions with a clear error.
    ///
    /// Goes through `serde_json`; [`CompiledPolicy::read`] gives the same policy for far fewer
    /// instructions (the Function uses it).
    pub fn load(json: &str) -> Result<Self, LoadError> {
        let value: serde_json::Value = serde_json::from_str(json)?;
        Self::from_value(value)
    }

    pub fn from_value(value: serde_json::Value) -> Result<Self, LoadError> {
        match value.get("v").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(FORMAT_VERSION) => Ok(serde_json::from_value(value)?),
            Some(found) => Err(LoadError::UnsupportedVersion { found }),
            None => Err(LoadError::MissingVersion),
        }
    }

    /// The metafield's text: the policy's fields with the Function's header (`h`, see
    /// [`FunctionHeader`]) before the rules. `load` and the readers skip the header (it is
    /// derived from the rules), and read a text without it (one written before it existed)
    /// as well; the Function then reads the whole policy, as it did before.
    pub fn to_json(&self) -> String {
        /// The fields before the rules, in the order the Function reads them (its fast reader
        /// tries the keys in this order first).
        #[derive(Serialize)]
        struct Head<'a> {
            v: u32,
            id: &'a str,
            ver: &'a str,
            loc: &'a str,
            tz: &'a str,
            h: FunctionHeader,
        }
        fn json<T: Serialize + ?Sized>(value: &T) -> String {
            // Serializing plain data with string keys cannot fail.
            serde_json::to_string(value).unwrap_or_default()
        }
        let rules = json(&self.rules.iter().map(RuleText::of).collect::<Vec<_>>());
        let default = json(&self.default);
        let mut header = self.function_header();
        let after_rules = rules.len();
        let after_default = after_rules + r#","d":"#.len() + default.len();
        header.after_rules = [after_rules, after_default].map(|at| u32::try_from(at).unwrap_or(0));
        let head = json(&Head {
            v: self.format,
            id: &self.id,
            ver: &self.version,
            loc: &self.default_locale,
            tz: &self.timezone,
            h: header,
        });
        let head = head.strip_suffix('}').unwrap_or(&head);
        let messages = json(&self.messages);
        format!(r#"{head},"r":{rules},"d":{default},"m":{messages}}}"#)
    }

    /// The values of the Function's input-query variables: the lists it asks Shopify about
    /// and the line fields it includes.
    pub fn input_variables(&self) -> InputVariables {
        let mut vars = self.asked_lists();
        (vars.lines, vars.order) = self.included_inputs(&vars.product_tags);
        vars
    }

    /// The lists the Function's input query asks Shopify about (with every line field
    /// included): what the Function matches `hasTags` answers to.
    pub fn asked_lists(&self) -> InputVariables {
        let mut vars = InputVariables::default();
        let mut visit = |fact: Fact, test: &Test| {
            let list = match fact {
                Fact::OrderTags => &mut vars.order_tags,
                Fact::CustomerTags => &mut vars.customer_tags,
                Fact::ProductTags => &mut vars.product_tags,
                Fact::Collections => &mut vars.collection_ids,
                _ => return,
            };
            for value in test.values() {
                let value = if fact == Fact::Collections {
                    value.clone()
                } else {
                    crate::lowercase::to_lowercase(value)
                };
                if !list.contains(&value) {
                    list.push(value);
                }
            }
        };
        self.visit_facts(&mut visit);
        vars
    }

    /// Every fact test the policy holds: each rule's conditions and its outcome's line
    /// selector, in rule order, then the default outcome's line selector.
    pub fn visit_facts(&self, visit: &mut impl FnMut(Fact, &Test)) {
        fn selectors(outcome: &Outcome) -> impl Iterator<Item = &Condition> {
            outcome.lines.iter().flatten()
        }
        for rule in &self.rules {
            for cond in rule.when.iter().chain(selectors(&rule.then)) {
                cond.visit_facts(visit);
            }
        }
        for cond in selectors(&self.default) {
            cond.visit_facts(visit);
        }
    }
}

impl Test {
    /// The text values a test names.
    pub fn values(&self) -> &[String] {
        match self {
            Test::In(v)
            | Test::NotIn(v)
            | Test::Prefix(v)
            | Test::AnyOf(v)
            | Test::AllOf(v)
            | Test::NoneOf(v)
            | Test::AllIn(v) => v,
            _ => &[],
        }
    }
}

impl Condition {
    pub fn visit_facts(&self, f: &mut impl FnMut(Fact, &Test)) {
        match self {
            Condition::All(list) | Condition::Any(list) | Condition::Lines(_, list) => {
                for c in list {
                    c.visit_facts(f);
                }
            }
            Condition::Not(inner) => inner.visit_facts(f),
            Condition::Fact(fact, test) => f(*fact, test),
        }
    }
}
