//! The evaluator: pure, total and deterministic. The first rule whose trigger and conditions
//! hold decides; when none does, the policy's default outcome decides.

mod actions;
pub mod conditions;
#[cfg(feature = "explain")]
pub mod describe;

use std::cell::{Cell, OnceCell};

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};

pub use actions::{STAFF_NOTE_LIMIT, message_locales};

use crate::compiled::{CompiledPolicy, Condition, Rule, Trigger};
use crate::decision::{Decision, TraceResult, TraceStep};
use crate::facts::Facts;
use crate::outcome::Outcome;
use conditions::{LineCheck, LineTagSets, TextField, TextStarts, Tri, eval_all};

/// What to include besides the decision.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Record each rule tried and the first condition that failed.
    pub trace: bool,
    /// Locale for the message when the request carries none.
    pub locale: Option<String>,
}

/// Everything the conditions read.
pub struct Context<'a> {
    pub facts: &'a Facts,
    pub now: DateTime<Utc>,
    pub trigger: Trigger,
    pub now_local: Option<NaiveDateTime>,
    pub placed_local: Option<NaiveDateTime>,
    /// Worked out when a rule first needs them, then shared by every rule: each rule would
    /// otherwise walk every line again to learn the same thing.
    line_tags: OnceCell<Option<LineTagSets<'a>>>,
    /// `None` until read, then `Some(None)` for an order without lines.
    quantity_range: Cell<Option<Option<(i64, i64)>>>,
    /// Per line text (SKU, product type, vendor), worked out when a glob test first needs it.
    text_starts: [Cell<Option<TextStarts>>; 3],
}

impl<'a> Context<'a> {
    pub fn new(facts: &'a Facts, now: DateTime<Utc>, trigger: Trigger) -> Self {
        let now_local = facts.now_local;
        // Without the shop-local placement time, shift the UTC placement by the offset that
        // `now_local` shows; exact except across a DST change between placement and now.
        let placed_local = facts.order.created_at_local.or_else(|| {
            let created = facts.order.created_at?;
            let offset = now_local? - now.naive_utc();
            created.naive_utc().checked_add_signed(offset)
        });
        Context {
            facts,
            now,
            trigger,
            now_local,
            placed_local,
            line_tags: OnceCell::new(),
            quantity_range: Cell::new(None),
            text_starts: Default::default(),
        }
    }

    /// The lines' product tags as bit sets, or `None` where those cannot stand for them (see
    /// `LineTagSets::new`).
    pub fn line_tags(&self) -> Option<&LineTagSets<'a>> {
        // `get_or_init` would bring in a panic for a re-entrant initialisation.
        if self.line_tags.get().is_none() {
            let _ = self
                .line_tags
                .set(LineTagSets::new(&self.facts.order.line_items));
        }
        self.line_tags.get().and_then(Option::as_ref)
    }

    /// Which bytes the lines' `field` texts start with.
    pub fn text_starts(&self, field: TextField) -> TextStarts {
        let [sku, product_type, vendor] = &self.text_starts;
        let cell = match field {
            TextField::Sku => sku,
            TextField::ProductType => product_type,
            TextField::Vendor => vendor,
        };
        if let Some(starts) = cell.get() {
            return starts;
        }
        let starts = TextStarts::new(&self.facts.order.line_items, field);
        cell.set(Some(starts));
        starts
    }

    /// The smallest and the largest line quantity, or `None` for an order without lines.
    pub fn quantity_range(&self) -> Option<(i64, i64)> {
        if let Some(range) = self.quantity_range.get() {
            return range;
        }
        let mut range = None;
        for line in &self.facts.order.line_items {
            let q = line.quantity;
            range = Some(range.map_or((q, q), |(low, high): (i64, i64)| (low.min(q), high.max(q))));
        }
        self.quantity_range.set(Some(range));
        range
    }

    pub fn minutes_since_placed(&self) -> Option<i64> {
        if let Some(created) = self.facts.order.created_at {
            return Some(minutes_between(created.naive_utc(), self.now.naive_utc()));
        }
        self.local_minutes_since_placed()
    }

    /// The minutes between placement and now in shop time, for an order without `createdAt`.
    fn local_minutes_since_placed(&self) -> Option<i64> {
        Some(minutes_between(self.placed_local?, self.now_local?))
    }

    /// The request's source, or the one its trigger implies.
    pub fn request_source(&self) -> &str {
        if let Some(source) = self.facts.request.source.as_deref() {
            return source;
        }
        match self.trigger {
            Trigger::CustomerRequest => "customer",
            Trigger::StaffRequest => "staff",
            Trigger::FlowAction => "flow",
            _ => "automation",
        }
    }

    pub fn placed_at(&self) -> Option<DateTime<Utc>> {
        self.facts.order.created_at.or_else(|| {
            let minutes = self.local_minutes_since_placed()?;
            // Checked: chrono's `-` panics before its first representable moment.
            self.now.checked_sub_signed(Duration::try_minutes(minutes)?)
        })
    }
}

/// Decides what to do with an order. Never panics, for any input.
pub fn evaluate(
    policy: &CompiledPolicy,
    facts: &Facts,
    now: DateTime<Utc>,
    trigger: Trigger,
) -> Decision {
    evaluate_with(policy, facts, now, trigger, &EvalOptions::default())
}

/// `evaluate` with a trace and a fallback locale.
pub fn evaluate_with(
    policy: &CompiledPolicy,
    facts: &Facts,
    now: DateTime<Utc>,
    trigger: Trigger,
    options: &EvalOptions,
) -> Decision {
    let ctx = Context::new(facts, now, trigger);
    let mut trace = options.trace.then(Vec::new);
    for rule in &policy.rules {
        let step = try_rule(rule, &ctx, trace.is_some());
        if let Some(trace) = trace.as_mut() {
            trace.push(TraceStep {
                rule: rule.id.clone(),
                result: step.result,
                condition: step.failed.clone(),
            });
        }
        if let Some(selected) = step.decided {
            let id = Some(rule.id.clone());
            let mut decision = decide(policy, id, &rule.then, selected, &ctx, options);
            decision.trace = trace;
            return decision;
        }
    }
    let mut decision = by_default(policy, &policy.default, &ctx, options);
    decision.trace = trace;
    decision
}

/// The decision of the default outcome `default`.
fn by_default(
    policy: &CompiledPolicy,
    default: &Outcome,
    ctx: &Context,
    options: &EvalOptions,
) -> Decision {
    // A default that cancels lines cancels those its selector picks, as a rule's would.
    let selected = default
        .lines
        .as_deref()
        .map(|selector| selected_lines(selector, ctx));
    decide(policy, None, default, selected, ctx, options)
}

/// `actions::decide`, from one place: the Function reaches it from a rule and from the
/// default, and a copy inlined in each would cost its module several kB.
#[inline(never)]
fn decide(
    policy: &CompiledPolicy,
    rule_id: Option<String>,
    outcome: &Outcome,
    selected: Option<Vec<usize>>,
    ctx: &Context,
    options: &EvalOptions,
) -> Decision {
    actions::decide(policy, rule_id, outcome, selected, ctx, options)
}

/// [`evaluate`] for a caller that supplies the rules one at a time (the Shopify Function reads
/// each from the policy's text just before trying it, and stops reading at the one that
/// decides): the same steps, and so the same decision for the same rules.
pub struct RuleByRule<'a> {
    ctx: Context<'a>,
}

/// A rule that decides: for `cancel_lines`, the lines its selector picks.
#[derive(Debug, PartialEq)]
pub struct Decides(Option<Vec<usize>>);

impl Decides {
    /// For `cancel_lines`, the indexes of the lines it cancels.
    pub fn lines(&self) -> Option<&[usize]> {
        self.0.as_deref()
    }
}

impl<'a> RuleByRule<'a> {
    pub fn new(facts: &'a Facts, now: DateTime<Utc>, trigger: Trigger) -> Self {
        RuleByRule {
            ctx: Context::new(facts, now, trigger),
        }
    }

    /// Whether `rule`, the next in the policy's order, decides.
    pub fn try_rule(&self, rule: &Rule) -> Option<Decides> {
        try_rule(rule, &self.ctx, false).decided.map(Decides)
    }

    /// The first half of [`RuleByRule::try_rule`], for a rule whose outcome is not read yet:
    /// whether the rule (of `triggers`, with conditions `when`) applies.
    pub fn conditions_hold(&self, triggers: u8, when: &[Condition]) -> bool {
        triggers & self.ctx.trigger.bit() != 0 && eval_all(when, &self.ctx, None).0 == Tri::True
    }

    /// The second half: whether a rule that applies, with outcome `then`, decides.
    pub fn outcome_decides(&self, then: &Outcome) -> Option<Decides> {
        outcome_decides(then, &self.ctx).map(Decides)
    }

    /// The decision of the rule with this `id` and outcome (`then`), which
    /// [`RuleByRule::try_rule`] found to decide. `policy` gives the messages (its rules and
    /// default are not consulted). The id is taken, not copied: it becomes the decision's.
    pub fn decide(
        &self,
        policy: &CompiledPolicy,
        id: String,
        then: &Outcome,
        decides: Decides,
    ) -> Decision {
        let options = EvalOptions::default();
        decide(policy, Some(id), then, decides.0, &self.ctx, &options)
    }

    /// The decision when no rule decides: the default outcome `default`'s. `policy` gives
    /// the messages (its rules and default are not consulted).
    pub fn decide_by_default(&self, policy: &CompiledPolicy, default: &Outcome) -> Decision {
        by_default(policy, default, &self.ctx, &EvalOptions::default())
    }
}

struct RuleStep {
    result: TraceResult,
    failed: Option<String>,
    /// Set when the rule decides; for `cancel_lines`, the selected lines.
    decided: Option<Option<Vec<usize>>>,
}

/// `explain` says which condition failed; only a trace shows it, and describing a condition
/// costs more than testing it (it matters in the Function's instruction budget).
fn try_rule(rule: &Rule, ctx: &Context, explain: bool) -> RuleStep {
    if rule.triggers & ctx.trigger.bit() == 0 {
        return RuleStep {
            result: TraceResult::OtherTrigger,
            failed: None,
            decided: None,
        };
    }
    let (result, first) = eval_all(&rule.when, ctx, None);
    let failed = first
        .filter(|_| explain)
        .and_then(|i| rule.when.get(i))
        .and_then(|c| describe_failure(c, ctx));
    match result {
        Tri::True => match outcome_decides(&rule.then, ctx) {
            Some(decided) => RuleStep {
                result: TraceResult::Matched,
                failed: None,
                decided: Some(decided),
            },
            // A line selector that picks no line.
            None => RuleStep {
                result: TraceResult::NoLines,
                failed: rule
                    .then
                    .lines
                    .as_deref()
                    .filter(|_| explain)
                    .and_then(describe_no_line),
                decided: None,
            },
        },
        Tri::False => RuleStep {
            result: TraceResult::Failed,
            failed,
            decided: None,
        },
        Tri::Unknown => RuleStep {
            result: TraceResult::Unknown,
            failed,
            decided: None,
        },
    }
}

/// Whether a rule that applies, with outcome `then`, decides: unless its line selector picks
/// no line; for `cancel_lines`, the lines it picks.
fn outcome_decides(then: &Outcome, ctx: &Context) -> Option<Option<Vec<usize>>> {
    match &then.lines {
        Some(selector) => {
            let selected = selected_lines(selector, ctx);
            (!selected.is_empty()).then_some(Some(selected))
        }
        None => Some(None),
    }
}

/// The indexes of the lines for which every selector condition holds.
fn selected_lines(selector: &[Condition], ctx: &Context) -> Vec<usize> {
    let check = LineCheck::new(selector);
    ctx.facts
        .order
        .line_items
        .iter()
        .enumerate()
        .filter(|(_, line)| check.test(line, ctx) == Tri::True)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(feature = "explain")]
fn describe_failure(condition: &Condition, ctx: &Context) -> Option<String> {
    Some(describe::with_value(condition, ctx))
}

#[cfg(not(feature = "explain"))]
fn describe_failure(_: &Condition, _: &Context) -> Option<String> {
    None
}

#[cfg(feature = "explain")]
fn describe_no_line(selector: &[Condition]) -> Option<String> {
    Some(format!(
        "no line matched {}",
        describe::conjunction(selector)
    ))
}

#[cfg(not(feature = "explain"))]
fn describe_no_line(_: &[Condition]) -> Option<String> {
    None
}

/// `(to - from).num_minutes()`. Within one year (nearly every order's case) from the days of
/// the year and the seconds of the day, without chrono's calendar arithmetic: about 550
/// instructions less in Wasm, on every run that tests the time since placement.
fn minutes_between(from: NaiveDateTime, to: NaiveDateTime) -> i64 {
    // (A leap second's nanoseconds run past a second: left to chrono.)
    let plain = |at: &NaiveDateTime| at.nanosecond() < 1_000_000_000;
    if from.year() != to.year() || !plain(&from) || !plain(&to) {
        return (to - from).num_minutes();
    }
    let days = i64::from(to.ordinal()) - i64::from(from.ordinal());
    let seconds = days * 86_400 + i64::from(to.num_seconds_from_midnight())
        - i64::from(from.num_seconds_from_midnight());
    let nanos = i64::from(to.nanosecond()) - i64::from(from.nanosecond());
    // Whole seconds toward zero, then minutes toward zero, as `TimeDelta` counts them.
    let whole_seconds = match (seconds, nanos) {
        (s, n) if s > 0 && n < 0 => s - 1,
        (s, n) if s < 0 && n > 0 => s + 1,
        (s, _) => s,
    };
    whole_seconds / 60
}

#[cfg(test)]
mod minutes_tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{DateTime, NaiveDate, Utc};

    use super::minutes_between;

    proptest::proptest! {
        /// The minutes between two moments are chrono's count, within a year or across
        /// years, with fractions of a second either way.
        #[test]
        fn minutes_between_counts_as_chrono_does(
            from in -4_000_000_000i64..4_000_000_000,
            minutes in -700_000i64..700_000,
            // Spans of whole minutes give or take a second: where fractions tip the count.
            extra_seconds in -2i64..=2,
            from_nanos in 0u32..1_000_000_000,
            to_nanos in 0u32..1_000_000_000,
            whole in proptest::bool::ANY,
        ) {
            let at = |secs: i64, nanos: u32| DateTime::from_timestamp(secs, nanos).unwrap();
            let (nanos_a, nanos_b) = if whole { (0, 0) } else { (from_nanos, to_nanos) };
            let span = minutes * 60 + extra_seconds;
            let (earlier, later) = (at(from, nanos_a), at(from + span, nanos_b));
            proptest::prop_assert_eq!(
                minutes_between(earlier.naive_utc(), later.naive_utc()),
                (later - earlier).num_minutes()
            );
        }
    }

    /// A leap second (nanoseconds past a second) is counted by chrono.
    #[test]
    fn a_leap_second_is_counted_as_chrono_counts_it() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        let before: DateTime<Utc> = leap - chrono::Duration::seconds(3599);
        let (leap_at, before_at) = (leap.naive_utc(), before.naive_utc());
        assert_eq!(
            minutes_between(before_at, leap_at),
            (leap - before).num_minutes()
        );
        assert_eq!(
            minutes_between(leap_at, before_at),
            (before - leap).num_minutes()
        );
    }
}

#[cfg(all(test, feature = "compile"))]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::panic,
        clippy::field_reassign_with_default
    )]

    use super::*;
    use crate::compile::compile;
    use crate::decision::Action;
    use crate::facts::CustomerFacts;

    fn policy(rules: &str) -> CompiledPolicy {
        let source = format!(
            "id = \"edge\"\nname = \"Edge\"\nversion = \"1.0.0\"\ndefault_locale = \"en\"\n\
             timezone = \"UTC\"\ntriggers = [\"customer_request\"]\n\n\
             [default]\ndeny = {{}}\n\n{rules}"
        );
        let output = compile(&source, "edge.toml");
        let messages: Vec<_> = output.diagnostics.iter().map(|d| &d.message).collect();
        output.policy.unwrap_or_else(|| panic!("{messages:?}"))
    }

    /// Moments at the ends of chrono's range: what the evaluator works out from them would
    /// fall outside it, where chrono's `+` and `-` panic. It decides instead.
    #[test]
    fn moments_at_the_ends_of_the_range_decide() {
        let hold = policy(
            "[[rule]]\nid = \"hold\"\non = [\"customer_request\"]\n\
             then.hold = { minutes = 60, reason = \"OTHER\" }\n",
        );
        let mut facts = Facts::default();
        facts.order.created_at = Some(DateTime::<Utc>::MAX_UTC);
        let decision = evaluate(
            &hold,
            &facts,
            DateTime::<Utc>::MAX_UTC,
            Trigger::CustomerRequest,
        );
        assert!(matches!(
            decision.actions.first(),
            Some(Action::HoldFulfillment {
                release_at: None,
                ..
            })
        ));
        assert!(
            decision
                .notes
                .iter()
                .any(|n| n.contains("the hold has no end"))
        );

        // Placed a minute before now, both known only shop-locally: the UTC placement is
        // now less a minute, before chrono's first moment.
        let mut facts = Facts::default();
        facts.now_local = Some(NaiveDateTime::MIN + Duration::minutes(1));
        facts.order.created_at_local = Some(NaiveDateTime::MIN);
        let decision = evaluate(
            &hold,
            &facts,
            DateTime::<Utc>::MIN_UTC,
            Trigger::CustomerRequest,
        );
        assert!(matches!(
            decision.actions.first(),
            Some(Action::HoldFulfillment {
                release_at: None,
                ..
            })
        ));

        let count = policy(
            "[[rule]]\nid = \"repeat\"\non = [\"customer_request\"]\n\
             when = { customer_cancellations_365d = { ge = 1 } }\nthen.allow = {}\n",
        );
        let mut facts = Facts::default();
        facts.order.customer = Some(CustomerFacts {
            cancelled_order_dates: vec![DateTime::<Utc>::MIN_UTC],
            ..CustomerFacts::default()
        });
        let decision = evaluate(
            &count,
            &facts,
            DateTime::<Utc>::MIN_UTC,
            Trigger::CustomerRequest,
        );
        assert_eq!(decision.rule.as_deref(), Some("repeat"));
    }
}
