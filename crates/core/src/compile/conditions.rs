//! `when` tables: fact tests, `any`/`all`/`not` groups and `lines` quantifiers.

use toml::de::{DeTable, DeValue};

use super::diagnostic::{codes, did_you_mean};
use super::reader::{Node, Reader, parse_hhmm};
use crate::catalog::{CATALOG, Fact, FactSpec, FactType, Scope, WEEKDAYS};
use crate::compiled::{Condition, Quantifier, Test};

const GROUP_KEYS: &[&str] = &["any", "all", "not", "lines"];

impl Reader<'_> {
    /// A table of conditions, all of which must hold.
    pub fn conditions(&mut self, node: &Node, scope: Scope) -> Vec<Condition> {
        let Some(table) = self.table(node, "`when`") else {
            return Vec::new();
        };
        self.condition_table(table, scope)
    }

    fn condition_table(&mut self, table: &DeTable, scope: Scope) -> Vec<Condition> {
        let mut out = Vec::new();
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            match name {
                "any" | "all" => {
                    let groups = self.group_list(value, name, scope);
                    let groups = groups.into_iter().map(flatten_all).collect();
                    out.push(if name == "any" {
                        Condition::Any(groups)
                    } else {
                        Condition::All(groups)
                    });
                }
                "not" => {
                    if let Some(inner) = self.table(value, "`not`") {
                        let conds = self.condition_table(inner, scope);
                        out.push(Condition::Not(Box::new(flatten_all(conds))));
                    }
                }
                "lines" if scope == Scope::Order => {
                    if let Some(cond) = self.lines(value) {
                        out.push(cond);
                    }
                }
                _ => out.extend(self.fact(name, key.span(), value, scope)),
            }
        }
        out
    }

    fn group_list(&mut self, node: &Node, name: &str, scope: Scope) -> Vec<Vec<Condition>> {
        match node.get_ref() {
            DeValue::Array(items) => {
                let mut groups = Vec::new();
                for item in items.iter() {
                    if let Some(t) = self.table(item, &format!("each element of `{name}`")) {
                        groups.push(self.condition_table(t, scope));
                    }
                }
                groups
            }
            // `any = { a = 1, b = 2 }`: each key is one alternative.
            DeValue::Table(t) => t
                .iter()
                .map(|(k, v)| {
                    let mut single = DeTable::new();
                    single.insert(k.clone(), v.clone());
                    self.condition_table(&single, scope)
                })
                .collect(),
            _ => {
                self.wrong_type(node, &format!("`{name}`"), "an array of tables");
                Vec::new()
            }
        }
    }

    fn lines(&mut self, node: &Node) -> Option<Condition> {
        let table = self.table(node, "`lines`")?;
        self.check_keys(table, &["any", "all", "none", "count"], "`lines`");
        let mut found = None;
        for (key, value) in table.iter() {
            let quantifier = match key.get_ref().as_ref() {
                "any" => Quantifier::Any,
                "all" => Quantifier::All,
                "none" => Quantifier::None,
                "count" => {
                    let t = self.table(value, "`lines.count`")?;
                    let Some(selector) = t.get("where") else {
                        self.diags
                            .error(
                                codes::MISSING_KEY,
                                value.span(),
                                "`lines.count` is missing `where`",
                            )
                            .with_help(
                                "e.g. lines.count = { where = { oversold = true }, ge = 2 }",
                            );
                        return None;
                    };
                    let conds = self.conditions(selector, Scope::Line);
                    let mut bounds = DeTable::new();
                    for (k, v) in t.iter() {
                        if k.get_ref() != "where" {
                            bounds.insert(k.clone(), v.clone());
                        }
                    }
                    let tests = self.number_tests(&bounds, value, "`lines.count`");
                    let mut all: Vec<Condition> = tests
                        .into_iter()
                        .map(|test| Condition::Lines(Quantifier::Count(test), conds.clone()))
                        .collect();
                    found = match all.len() {
                        1 => all.pop(),
                        _ => Some(Condition::All(all)),
                    };
                    continue;
                }
                _ => continue,
            };
            let conds = self.conditions(value, Scope::Line);
            found = Some(Condition::Lines(quantifier, conds));
        }
        if found.is_none() && !table.is_empty() {
            return None;
        }
        if table.is_empty() {
            self.diags.error(
                codes::MISSING_KEY,
                node.span(),
                "`lines` needs one of `any`, `all`, `none` or `count`",
            );
        }
        found
    }

    fn fact(
        &mut self,
        name: &str,
        key_span: std::ops::Range<usize>,
        value: &Node,
        scope: Scope,
    ) -> Vec<Condition> {
        let Some(spec) = Fact::by_name(name) else {
            let in_scope = CATALOG.iter().filter(|s| s.scope == scope).map(|s| s.name);
            let extra: &[&str] = if scope == Scope::Order {
                GROUP_KEYS
            } else {
                &["any", "all", "not"]
            };
            let d = self.diags.error(
                codes::UNKNOWN_FACT,
                key_span,
                format!("unknown fact `{name}`"),
            );
            match did_you_mean(name, in_scope.chain(extra.iter().copied())) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help("see the fact catalog in the README"),
            };
            return Vec::new();
        };
        if spec.scope != scope {
            let help = match spec.scope {
                Scope::Line => {
                    format!("line facts go inside `lines`, e.g. lines.any = {{ {name} = … }}")
                }
                Scope::Order => "only line facts may be used inside `lines`".to_string(),
            };
            self.diags
                .error(
                    codes::WRONG_SCOPE,
                    key_span,
                    format!("`{name}` is a {} fact", scope_name(spec.scope)),
                )
                .with_help(help);
            return Vec::new();
        }
        self.tests(spec, value)
            .into_iter()
            .map(|test| Condition::Fact(spec.fact, test))
            .collect()
    }

    fn tests(&mut self, spec: &FactSpec, value: &Node) -> Vec<Test> {
        let what = format!("`{}`", spec.name);
        match (spec.ty, value.get_ref()) {
            (FactType::Number, DeValue::Table(t)) => self.number_tests(t, value, &what),
            (FactType::Number, _) => self
                .number(value, &what)
                .map(Test::Eq)
                .into_iter()
                .collect(),
            (FactType::Bool, DeValue::Boolean(b)) => vec![Test::Is(*b)],
            (FactType::Bool, DeValue::Table(t)) => {
                self.check_keys(t, &["eq"], &what);
                t.get("eq")
                    .and_then(|v| self.boolean(v, &what))
                    .map(Test::Is)
                    .into_iter()
                    .collect()
            }
            (FactType::Bool, _) => {
                self.wrong_type(value, &what, "true or false");
                Vec::new()
            }
            (FactType::TimeOfDay, DeValue::Table(t)) => {
                self.check_keys(t, &["before", "after"], &what);
                let mut tests = Vec::new();
                for (key, node) in t.iter() {
                    let Some(minutes) =
                        self.hhmm(node, &format!("`{}.{}`", spec.name, key.get_ref()))
                    else {
                        continue;
                    };
                    match key.get_ref().as_ref() {
                        "before" => tests.push(Test::Before(minutes)),
                        "after" => tests.push(Test::After(minutes)),
                        _ => {}
                    }
                }
                tests
            }
            (FactType::TimeOfDay, _) => {
                self.wrong_type(value, &what, "a table such as { before = \"14:00\" }");
                Vec::new()
            }
            (FactType::Cutoff, _) => self.cutoff(spec, value).into_iter().collect(),
            (FactType::Text | FactType::Enum(_) | FactType::OrderedEnum(_), _) => {
                self.text_tests(spec, value)
            }
            (FactType::TextSet | FactType::EnumSet(_), _) => self.set_tests(spec, value),
        }
    }

    pub(super) fn number_tests(&mut self, t: &DeTable, node: &Node, what: &str) -> Vec<Test> {
        const OPS: &[&str] = &["eq", "ne", "lt", "le", "gt", "ge"];
        self.check_keys(t, OPS, what);
        if t.is_empty() {
            self.diags
                .error(
                    codes::MISSING_KEY,
                    node.span(),
                    format!("{what} needs a comparison"),
                )
                .with_help(format!("use one of: {}", OPS.join(", ")));
        }
        let mut tests = Vec::new();
        for (key, value) in t.iter() {
            let op: &str = key.get_ref();
            let Some(n) = (if OPS.contains(&op) {
                self.number(value, &format!("{what}.{op}"))
            } else {
                None
            }) else {
                continue;
            };
            tests.push(match op {
                "eq" => Test::Eq(n),
                "ne" => Test::Ne(n),
                "lt" => Test::Lt(n),
                "le" => Test::Le(n),
                "gt" => Test::Gt(n),
                _ => Test::Ge(n),
            });
        }
        tests
    }

    fn hhmm(&mut self, node: &Node, what: &str) -> Option<u16> {
        let text = self.string(node, what)?;
        let parsed = parse_hhmm(&text);
        if parsed.is_none() {
            self.diags
                .error(
                    codes::INVALID_VALUE,
                    node.span(),
                    format!("{what} `{text}` is not a time of day"),
                )
                .with_help("write it as \"HH:MM\" in 24-hour shop time, e.g. \"14:00\"");
        }
        parsed
    }

    fn cutoff(&mut self, spec: &FactSpec, value: &Node) -> Option<Test> {
        let what = format!("`{}`", spec.name);
        let (at_node, days_node) = match value.get_ref() {
            DeValue::String(_) => (value, None),
            DeValue::Table(t) => {
                self.check_keys(t, &["at", "days"], &what);
                (self.required(t, "at", value.span(), &what)?, t.get("days"))
            }
            _ => {
                self.wrong_type(
                    value,
                    &what,
                    "a table such as { at = \"14:00\", days = [\"mon\", \"tue\"] }",
                );
                return None;
            }
        };
        let at = self.hhmm(at_node, &format!("{what}.at"));
        let mut days: u8 = 0x7f;
        if let Some(node) = days_node {
            days = 0;
            let list = self.strings(node, &format!("{what}.days"))?;
            if list.is_empty() {
                self.diags
                    .warning(codes::EMPTY_CUTOFF_DAYS, node.span(), "the cut-off has no days, so it never comes")
                    .with_help("list the days orders leave the warehouse, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]");
            }
            for (day, span) in list {
                match WEEKDAYS.iter().position(|d| *d == day) {
                    Some(i) => days |= 1 << i,
                    None => {
                        let d = self.diags.error(
                            codes::UNKNOWN_VALUE,
                            span,
                            format!("unknown day `{day}`"),
                        );
                        match did_you_mean(&day, WEEKDAYS.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("days are {}", WEEKDAYS.join(", "))),
                        };
                    }
                }
            }
        }
        Some(Test::Cutoff { at: at?, days })
    }

    /// Checks enum values; tag-like values are lower-cased (Shopify tags ignore case).
    fn values(
        &mut self,
        spec: &FactSpec,
        list: Vec<(String, std::ops::Range<usize>)>,
    ) -> Vec<String> {
        let allowed = spec.ty.enum_values();
        let mut out = Vec::new();
        for (value, span) in list {
            if let Some(allowed) = allowed
                && !allowed.contains(&value.as_str())
            {
                let d = self.diags.error(
                    codes::UNKNOWN_VALUE,
                    span,
                    format!("`{value}` is not a value of `{}`", spec.name),
                );
                match did_you_mean(&value, allowed.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("expected one of: {}", allowed.join(", "))),
                };
                continue;
            }
            out.push(if spec.fact.case_insensitive() {
                value.to_lowercase()
            } else {
                value
            });
        }
        out
    }

    fn text_tests(&mut self, spec: &FactSpec, value: &Node) -> Vec<Test> {
        let what = format!("`{}`", spec.name);
        let ordered = matches!(spec.ty, FactType::OrderedEnum(_));
        let free = spec.ty == FactType::Text;
        let table = match value.get_ref() {
            DeValue::Table(t) => t,
            _ => {
                let Some(list) = self.strings(value, &what) else {
                    return Vec::new();
                };
                return vec![Test::In(self.values(spec, list))];
            }
        };
        let mut ops = vec!["eq", "ne", "in", "not_in"];
        if ordered {
            ops.extend(["at_least", "at_most"]);
        }
        if free {
            ops.extend(["prefix", "matches"]);
        }
        self.check_keys(table, &ops, &what);
        let mut tests = Vec::new();
        for (key, node) in table.iter() {
            let op: &str = key.get_ref();
            if !ops.contains(&op) {
                continue;
            }
            let op_what = format!("{what}.{op}");
            if op == "matches" {
                if let Some(p) = self.string(node, &op_what) {
                    tests.push(Test::Matches(p));
                }
                continue;
            }
            let list = match op {
                "eq" | "ne" | "at_least" | "at_most" => {
                    self.string(node, &op_what).map(|s| vec![(s, node.span())])
                }
                _ => self.strings(node, &op_what),
            };
            let Some(list) = list else { continue };
            let values = self.values(spec, list);
            if values.is_empty() {
                continue;
            }
            tests.push(match op {
                "eq" | "in" => Test::In(values),
                "ne" | "not_in" => Test::NotIn(values),
                "prefix" => Test::Prefix(values),
                "at_least" => Test::AtLeast(values.into_iter().next().unwrap_or_default()),
                _ => Test::AtMost(values.into_iter().next().unwrap_or_default()),
            });
        }
        tests
    }

    fn set_tests(&mut self, spec: &FactSpec, value: &Node) -> Vec<Test> {
        let what = format!("`{}`", spec.name);
        let table = match value.get_ref() {
            DeValue::Table(t) => t,
            _ => {
                let Some(list) = self.strings(value, &what) else {
                    return Vec::new();
                };
                return vec![Test::AnyOf(self.values(spec, list))];
            }
        };
        const OPS: &[&str] = &["any_of", "all_of", "none_of", "all_in"];
        self.check_keys(table, OPS, &what);
        let mut tests = Vec::new();
        for (key, node) in table.iter() {
            let op: &str = key.get_ref();
            if !OPS.contains(&op) {
                continue;
            }
            let Some(list) = self.strings(node, &format!("{what}.{op}")) else {
                continue;
            };
            let values = self.values(spec, list);
            tests.push(match op {
                "any_of" => Test::AnyOf(values),
                "all_of" => Test::AllOf(values),
                "none_of" => Test::NoneOf(values),
                _ => Test::AllIn(values),
            });
        }
        tests
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Order => "order",
        Scope::Line => "line",
    }
}

fn flatten_all(mut conds: Vec<Condition>) -> Condition {
    if conds.len() == 1 {
        conds.pop().unwrap_or(Condition::All(Vec::new()))
    } else {
        Condition::All(conds)
    }
}
