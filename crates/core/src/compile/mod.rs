//! The compiler: policy TOML → compiled policy, with every diagnostic found in one run.

pub mod cases;
mod conditions;
pub mod diagnostic;
mod lints;
mod outcome;
mod reader;

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use crate::catalog::Scope;
use crate::compiled::{
    CompiledPolicy, FORMAT_VERSION, INPUT_LIST_LIMIT, InputVariables, METAFIELD_LIMIT_BYTES, Rule,
    Trigger,
};
pub use diagnostic::{Diagnostic, Severity};
use diagnostic::{Diagnostics, codes, did_you_mean};
use outcome::MessageUse;
use reader::{Node, Reader, head_span};

const TOP_KEYS: &[&str] = &[
    "id",
    "name",
    "version",
    "description",
    "default_locale",
    "locales",
    "timezone",
    "triggers",
    "default",
    "rule",
    "messages",
    "case",
];
const RULE_KEYS: &[&str] = &["id", "description", "on", "when", "then"];

/// What `compile` returns: the policy when there is no error, and every diagnostic.
#[derive(Debug)]
pub struct CompileOutput {
    pub policy: Option<CompiledPolicy>,
    pub diagnostics: Vec<Diagnostic>,
    /// Header fields kept for tools (name, description, locales).
    pub info: PolicyInfo,
}

#[derive(Debug, Default, Clone)]
pub struct PolicyInfo {
    pub name: String,
    pub description: String,
    pub locales: Vec<String>,
}

/// The compiled JSON and input variables of a policy that compiled.
#[derive(Debug, Clone)]
pub struct Artifacts {
    pub json: String,
    pub variables: InputVariables,
}

impl CompileOutput {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn artifacts(&self) -> Option<Artifacts> {
        let policy = self.policy.as_ref()?;
        Some(Artifacts {
            json: policy.to_json(),
            variables: policy.input_variables(),
        })
    }

    /// All diagnostics rendered rustc-style.
    pub fn render(&self, source: &str) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(source))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Compiles a policy file. `file` names it in diagnostics.
pub fn compile(source: &str, file: &str) -> CompileOutput {
    let mut reader = Reader {
        diags: Diagnostics::new(source, file),
    };
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    for error in &syntax_errors {
        let span = error.span().unwrap_or(0..0);
        reader.diags.error(
            codes::SYNTAX,
            span,
            format!("invalid TOML: {}", error.message().trim()),
        );
    }
    let mut info = PolicyInfo::default();
    let policy = if syntax_errors.is_empty() {
        build(&mut reader, root.get_ref(), source.len(), &mut info)
    } else {
        None
    };
    let mut diagnostics = reader.diags.list;
    diagnostics.sort_by_key(|d| (d.span.start, d.severity));
    let has_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    CompileOutput {
        policy: if has_errors { None } else { policy },
        diagnostics,
        info,
    }
}

fn build(
    reader: &mut Reader,
    root: &DeTable,
    source_len: usize,
    info: &mut PolicyInfo,
) -> Option<CompiledPolicy> {
    let whole = 0..source_len.min(1);
    reader.check_keys(root, TOP_KEYS, "the policy");
    let id = reader
        .required(root, "id", whole.clone(), "the policy")
        .and_then(|n| reader.string(n, "`id`"));
    info.name = reader
        .required(root, "name", whole.clone(), "the policy")
        .and_then(|n| reader.string(n, "`name`"))
        .unwrap_or_default();
    info.description = root
        .get("description")
        .and_then(|n| reader.string(n, "`description`"))
        .unwrap_or_default();
    let version = reader
        .required(root, "version", whole.clone(), "the policy")
        .and_then(|n| {
            let v = reader.string(n, "`version`")?;
            if is_semver(&v) {
                Some(v)
            } else {
                reader
                    .diags
                    .error(
                        codes::INVALID_VALUE,
                        n.span(),
                        format!("`version` `{v}` is not a semantic version"),
                    )
                    .with_help("use MAJOR.MINOR.PATCH, e.g. \"1.2.0\"");
                None
            }
        });
    let default_locale_node = reader.required(root, "default_locale", whole.clone(), "the policy");
    let default_locale = default_locale_node.and_then(|n| reader.string(n, "`default_locale`"));
    let mut locales: Vec<String> = root
        .get("locales")
        .and_then(|n| reader.strings(n, "`locales`"))
        .map(|l| l.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    if let Some(default_locale) = &default_locale
        && !locales.contains(default_locale)
    {
        locales.insert(0, default_locale.clone());
    }
    info.locales = locales.clone();
    let timezone = reader
        .required(root, "timezone", whole.clone(), "the policy")
        .and_then(|n| {
            let tz = reader.string(n, "`timezone`")?;
            check_timezone(reader, &tz, n)
        });
    let declared_triggers = root
        .get("triggers")
        .map(|n| triggers(reader, n))
        .unwrap_or_default();

    let mut message_uses: Vec<MessageUse> = Vec::new();
    let default = reader
        .required(root, "default", whole.clone(), "the policy")
        .and_then(|n| reader.outcome(n, "`default`", &mut message_uses));

    let mut rules = Vec::new();
    let mut rule_spans = Vec::new();
    if let Some(node) = root.get("rule") {
        match node.get_ref() {
            DeValue::Array(items) => {
                for item in items.iter() {
                    if let Some((rule, spans)) = rule(reader, item, &mut message_uses) {
                        rules.push(rule);
                        rule_spans.push(spans);
                    }
                }
            }
            _ => reader.wrong_type(node, "`rule`", "an array of tables ([[rule]])"),
        }
    }

    let messages = root
        .get("messages")
        .map(|n| messages(reader, n))
        .unwrap_or_default();
    if let Some(default_locale) = &default_locale {
        check_messages(reader, &messages, &message_uses, default_locale, &locales);
    }

    let policy = CompiledPolicy {
        format: FORMAT_VERSION,
        id: id?,
        version: version?,
        default_locale: default_locale?,
        timezone: timezone?,
        rules,
        default: default?,
        messages: messages
            .into_iter()
            .map(|(locale, (_, entries))| {
                (
                    locale,
                    entries.into_iter().map(|(k, (v, _))| (k, v)).collect(),
                )
            })
            .collect(),
    };
    let triggers_span = root
        .get("triggers")
        .map_or(0..source_len.min(1), |n| n.span());
    let default_span = root
        .get("default")
        .map_or(0..source_len.min(1), |n| n.span());
    // A rule with an error lost the conditions that failed to compile: lints about what it
    // matches would be wrong, so they wait until the errors are fixed.
    if !reader
        .diags
        .list
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        lints::run(
            reader,
            &policy,
            &rule_spans,
            &declared_triggers,
            triggers_span,
            default_span,
        );
    }
    check_size(reader, &policy, source_len);
    Some(policy)
}

/// Spans of one rule for lints.
pub(crate) struct RuleSpans {
    pub id: std::ops::Range<usize>,
    pub rule: std::ops::Range<usize>,
}

fn rule(
    reader: &mut Reader,
    node: &Node,
    message_uses: &mut Vec<MessageUse>,
) -> Option<(Rule, RuleSpans)> {
    let table = reader.table(node, "each `[[rule]]`")?;
    reader.check_keys(table, RULE_KEYS, "a rule");
    let head = head_span(node);
    let id_node = reader.required(table, "id", head.clone(), "a rule");
    let id = id_node.and_then(|n| reader.string(n, "the rule's `id`"));
    let ctx = format!("rule `{}`", id.as_deref().unwrap_or("?"));
    let on = reader
        .required(table, "on", head.clone(), &ctx)
        .map(|n| triggers(reader, n))
        .unwrap_or_default();
    let when = table
        .get("when")
        .map(|n| reader.conditions(n, Scope::Order))
        .unwrap_or_default();
    let then = reader
        .required(table, "then", head.clone(), &ctx)
        .and_then(|n| reader.outcome(n, "`then`", message_uses));
    let triggers = on.iter().fold(0u8, |bits, t| bits | t.bit());
    let spans = RuleSpans {
        id: id_node.map_or(head.clone(), |n| n.span()),
        rule: node.span(),
    };
    Some((
        Rule {
            id: id?,
            triggers,
            when,
            then: then?,
        },
        spans,
    ))
}

fn triggers(reader: &mut Reader, node: &Node) -> Vec<Trigger> {
    let names = reader.strings(node, "`on`").unwrap_or_default();
    let mut out = Vec::new();
    for (name, span) in names {
        match Trigger::by_name(&name) {
            Some(t) => out.push(t),
            None => {
                let all = Trigger::ALL.map(Trigger::name);
                let d = reader.diags.error(
                    codes::UNKNOWN_TRIGGER,
                    span,
                    format!("unknown trigger `{name}`"),
                );
                match did_you_mean(&name, all.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("one of: {}", all.join(", "))),
                };
            }
        }
    }
    out
}

type MessageTable = BTreeMap<
    String,
    (
        std::ops::Range<usize>,
        BTreeMap<String, (String, std::ops::Range<usize>)>,
    ),
>;

fn messages(reader: &mut Reader, node: &Node) -> MessageTable {
    let mut out = MessageTable::new();
    let Some(table) = reader.table(node, "`messages`") else {
        return out;
    };
    for (locale, entries) in table.iter() {
        let Some(entries_table) =
            reader.table(entries, &format!("`messages.{}`", locale.get_ref()))
        else {
            continue;
        };
        let mut map = BTreeMap::new();
        for (key, text) in entries_table.iter() {
            if let Some(text) = reader.string(text, &format!("message `{}`", key.get_ref())) {
                map.insert(key.get_ref().to_string(), (text, key.span()));
            }
        }
        out.insert(locale.get_ref().to_string(), (locale.span(), map));
    }
    out
}

fn check_messages(
    reader: &mut Reader,
    messages: &MessageTable,
    uses: &[MessageUse],
    default_locale: &str,
    locales: &[String],
) {
    let default = messages.get(default_locale).map(|(_, m)| m);
    for message in uses {
        if default.is_none_or(|m| !m.contains_key(&message.key)) {
            reader
                .diags
                .error(
                    codes::MISSING_MESSAGE,
                    message.span.clone(),
                    format!(
                        "message `{}` has no text in the default locale `{default_locale}`",
                        message.key
                    ),
                )
                .with_help(format!("add it under [messages.{default_locale}]"));
            continue;
        }
        for locale in locales.iter().filter(|l| l.as_str() != default_locale) {
            if messages
                .get(locale)
                .is_none_or(|(_, m)| !m.contains_key(&message.key))
            {
                reader
                    .diags
                    .warning(
                        codes::UNTRANSLATED_MESSAGE,
                        message.span.clone(),
                        format!("message `{}` has no `{locale}` text; `{default_locale}` is shown instead", message.key),
                    )
                    .with_help(format!("add it under [messages.{locale}]"));
            }
        }
    }
}

fn check_size(reader: &mut Reader, policy: &CompiledPolicy, source_len: usize) {
    let size = policy.to_json().len();
    if size > METAFIELD_LIMIT_BYTES {
        reader
            .diags
            .error(
                codes::TOO_LARGE,
                0..source_len.min(1),
                format!("the compiled policy is {size} bytes; a Shopify metafield read by a Function holds at most {METAFIELD_LIMIT_BYTES}"),
            )
            .with_help("shorten messages or merge rules; https://shopify.dev/docs/api/functions/latest#limitations");
    }
    let vars = policy.input_variables();
    for (name, list) in [
        ("orderTags", &vars.order_tags),
        ("customerTags", &vars.customer_tags),
        ("productTags", &vars.product_tags),
        ("collectionIds", &vars.collection_ids),
    ] {
        if list.len() > INPUT_LIST_LIMIT {
            reader.diags.error(
                codes::LIST_TOO_LONG,
                0..source_len.min(1),
                format!("the policy names {} distinct {name}; a Function input variable holds at most {INPUT_LIST_LIMIT}", list.len()),
            );
        }
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn check_timezone(reader: &mut Reader, tz: &str, node: &Node) -> Option<String> {
    if crate::tz::is_known(tz) {
        return Some(tz.to_string());
    }
    let d = reader.diags.error(
        codes::INVALID_VALUE,
        node.span(),
        format!("`{tz}` is not an IANA time zone"),
    );
    match did_you_mean(tz, crate::tz::names()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("e.g. \"Europe/Copenhagen\" or \"America/New_York\""),
    };
    None
}
