//! Which policy decides (the owner's metafield, else the built-in one), and whether this
//! Function's input can answer everything the policy asks.

use cancel_policy_core::Trigger;
use cancel_policy_core::compiled::{
    CompiledPolicy, Condition, FORMAT_VERSION, FactSet, FunctionHeader, InputNeeds, LineInputs,
    LoadError, NotAdmitted, PolicyStream, Rule, StreamedRule, Unanswerable,
};
use cancel_policy_core::facts::Facts;
use cancel_policy_core::outcome::{Outcome, OutcomeKind};

use crate::input::Answers;
use crate::output::RejectCode;

/// The compiled policy built in with `CANCEL_POLICY_BAKED_POLICY` (empty when none was).
const BAKED_POLICY: &str = include_str!(concat!(env!("OUT_DIR"), "/baked_policy.json"));

#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub code: RejectCode,
    pub message: String,
}

fn reject(code: RejectCode, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// The policy a run decides by, read as far as the run has got: each rule is read from the
/// text just before it is tried, and none after the one that decides.
pub struct Chosen<'a> {
    /// What the run may read, and the product tags its input asks about.
    pub header: FunctionHeader,
    stream: PolicyStream<'a>,
    trigger: Trigger,
    source: &'static str,
    /// See `FunctionHeader::admits`.
    next_tag: usize,
    /// The facts of the rules passed so far whose check is their needs alone, checked
    /// together in [`Chosen::finish`].
    passed_facts: FactSet,
}

/// The outcome of a rule whose outcome was not read: it consults nothing.
static CONSULTS_NOTHING: Outcome = Outcome::new(OutcomeKind::Deny);

/// The policy to evaluate for `trigger`: `Ok(None)` when neither the owner nor the build
/// supplies one. Only the text before the rules is read here (see `CompiledPolicy::stream`).
///
/// Both sources are written by `CompiledPolicy::to_json` (`cancel-policy compile`, the
/// service, the build), so only that form is read: anything else is a hand-edited or damaged
/// text, refused with where reading stopped.
pub fn choose(metafield: Option<&str>, trigger: Trigger) -> Result<Option<Chosen<'_>>, Rejection> {
    let (source, json) = match metafield {
        Some(json) => ("the compiled-policy metafield", json),
        None if BAKED_POLICY.trim().is_empty() => return Ok(None),
        None => ("the built-in policy", BAKED_POLICY),
    };
    let (header, stream) =
        CompiledPolicy::stream(json, trigger).map_err(|e| not_read(source, e))?;
    Ok(Some(Chosen {
        header,
        stream,
        trigger,
        source,
        next_tag: 0,
        passed_facts: FactSet::default(),
    }))
}

/// The rejection for a policy text that could not be read.
fn not_read(source: &str, error: LoadError) -> Rejection {
    match error {
        LoadError::UnsupportedVersion { found } => reject(
            RejectCode::UnsupportedPolicyVersion,
            format!(
                "{source} has format version {found}; this Function reads version {FORMAT_VERSION}"
            ),
        ),
        other => {
            // The Function's reads give no other error; the match spares the module the
            // other errors' wording.
            let at = match other {
                LoadError::Invalid { at, .. } => at,
                _ => 0,
            };
            reject(
                RejectCode::InvalidPolicy,
                format!(
                    "{source} is not a compiled policy as `cancel-policy compile` writes it \
                     (reading stopped at byte {at}): recompile it with `cancel-policy compile` \
                     and save it again"
                ),
            )
        }
    }
}

impl Chosen<'_> {
    /// The trigger's next rule, `None` after the last: not checked yet, and its outcome
    /// perhaps not read. Each is then either [`Chosen::passed`] or made [`Chosen::whole`],
    /// and so checked (a rule's conditions are tried before they are checked; the evaluator
    /// answers for any facts, and a rule whose check fails refuses the run whatever they
    /// answered).
    pub fn next_rule(&mut self) -> Result<Option<StreamedRule>, Rejection> {
        self.stream
            .next_rule()
            .map_err(|e| not_read(self.source, e))
    }

    /// Checks a rule that does not decide against the header and for what this Function's
    /// input can answer: its conditions, and its outcome if it was read with them, or the
    /// part of it that was (`selector`, from [`Chosen::line_selector`]). (An outcome passed
    /// over is never applied, so the run does not need what it consults.) Where that check
    /// is the needs of its facts alone (most rules), it is made with the other such rules'
    /// in [`Chosen::finish`], before the decision: one check, not one a rule (about 200
    /// instructions each). The refusal is the same; only its place among other errors in the
    /// text moves.
    pub fn passed(
        &mut self,
        rule: StreamedRule,
        selector: Option<&Outcome>,
    ) -> Result<(), Rejection> {
        let facts = self.stream.facts_read();
        if rule.outcome().is_none() && selector.is_none() && facts.needs_alone() {
            self.passed_facts = self.passed_facts.union(facts);
            // (Not dropped: the bump allocator would not reuse the memory.)
            std::mem::forget(rule);
            return Ok(());
        }
        let outcome = rule.outcome().or(selector).unwrap_or(&CONSULTS_NOTHING);
        if let Err(refused) = self.admits(&rule.when, outcome) {
            if rule.outcome().is_none() {
                // Refused as the whole rule is, with what its outcome adds to the reasons.
                self.whole(rule)?;
            }
            return Err(refusal(refused, self.source));
        }
        // (Not dropped: the bump allocator would not reuse the memory.)
        std::mem::forget(rule);
        Ok(())
    }

    /// `PolicyStream::line_selector` of a rule from [`Chosen::next_rule`].
    pub fn line_selector(&mut self, rule: &StreamedRule) -> Result<Option<Outcome>, Rejection> {
        self.stream
            .line_selector(rule)
            .map_err(|e| not_read(self.source, e))
    }

    /// A rule from [`Chosen::next_rule`] whose conditions hold, whole, and checked whole.
    pub fn whole(&mut self, rule: StreamedRule) -> Result<Rule, Rejection> {
        let rule = self
            .stream
            .whole(rule)
            .map_err(|e| not_read(self.source, e))?;
        let admitted = self.admits(&rule.when, &rule.then);
        refuse_unadmitted(admitted, self.source)?;
        Ok(rule)
    }

    /// `FunctionHeader::admits_read` for the rule the stream read last.
    fn admits(&mut self, when: &[Condition], then: &Outcome) -> Result<(), NotAdmitted> {
        let facts = self.stream.facts_read();
        self.header
            .admits_read(self.trigger, facts, when, then, &mut self.next_tag)
    }

    /// The policy for the decision's wording (see `PolicyStream::finish`), and the default
    /// outcome when no rule decided (`decided` is the deciding rule's outcome).
    pub fn finish(
        self,
        decided: Option<&Outcome>,
        locale: Option<&str>,
    ) -> Result<CompiledPolicy, Rejection> {
        let Chosen {
            header,
            stream,
            trigger,
            source,
            mut next_tag,
            passed_facts,
        } = self;
        if passed_facts != FactSet::default() {
            refuse_unadmitted(header.admits_passed(trigger, passed_facts), source)?;
        }
        let policy = stream
            .finish(decided, locale)
            .map_err(|e| not_read(source, e))?
            .policy;
        if decided.is_none() {
            check(
                &header,
                trigger,
                source,
                &[],
                &policy.default,
                &mut next_tag,
            )?;
        }
        Ok(policy)
    }
}

/// Refuses a rule (or the default outcome) that `header` does not account for, or that tests
/// what this Function's input does not carry.
fn check(
    header: &FunctionHeader,
    trigger: Trigger,
    source: &str,
    conditions: &[Condition],
    outcome: &Outcome,
    next_tag: &mut usize,
) -> Result<(), Rejection> {
    refuse_unadmitted(
        header.admits(trigger, conditions, outcome, next_tag),
        source,
    )
}

/// The rejection for what `FunctionHeader::admits` (or `admits_read`) refused.
fn refuse_unadmitted(admitted: Result<(), NotAdmitted>, source: &str) -> Result<(), Rejection> {
    admitted.map_err(|refused| refusal(refused, source))
}

fn refusal(refused: NotAdmitted, source: &str) -> Rejection {
    match refused {
        NotAdmitted::Unanswerable(missing) => unsupported(&missing),
        // A hand-edited header could otherwise make the Function read less of its input, or
        // match product tags to other answers, than the service's decision consults.
        NotAdmitted::Needs | NotAdmitted::ProductTags => reject(
            RejectCode::InvalidPolicy,
            format!(
                "{source} does not match its header (what a rule consults, or the product tags \
                 it asks about): recompile it with `cancel-policy compile` and save it again"
            ),
        ),
    }
}

/// Refuses a rule (or the default outcome) that tests facts this Function's input does not
/// carry, naming them all (`cancel-policy check` warns about the same rules: W109).
///
/// Only what the run consults is checked: a rule after the one that decides, or of another
/// trigger, or the outcome of a rule whose conditions fail, does not refuse this run, as the
/// Function refuses only what it would have to answer.
fn unsupported(missing: &[Unanswerable]) -> Rejection {
    let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
    reject(
        RejectCode::UnsupportedFact,
        format!(
            "the policy uses {} that this Function's input query does not supply",
            names.join(", ")
        ),
    )
}

/// Turns each line's tag answers into its product tags.
pub fn apply_answers(
    header: &FunctionHeader,
    facts: &mut Facts,
    tag_answers: &[Answers],
) -> Result<(), Rejection> {
    // A line without answers (no product, or none of the tags) keeps its empty tag list.
    if tag_answers
        .iter()
        .all(|answers| matches!(answers, Answers::Unread))
    {
        return Ok(());
    }
    let asked = &header.product_tags;
    let answered_by_any = header.tags_by_any;
    for (index, (line, answers)) in facts
        .order
        .line_items
        .iter_mut()
        .zip(tag_answers)
        .enumerate()
    {
        match answers {
            Answers::Unread => {}
            Answers::Each(each) => {
                line.product_tags = matched(asked, each, index)?;
            }
            // Every tag test asks about any of exactly these tags, so a product with some of
            // them tests as one with all of them.
            Answers::Any if answered_by_any => {
                line.product_tags = asked.clone();
            }
            Answers::Any => {
                return Err(reject(
                    RejectCode::InputVariablesMismatch,
                    format!(
                        "`input.order` has no `lineTags`, whose answers this policy's tag \
                         tests need for `lineItems[{index}]`: set the `withTagAnswers` input \
                         variable from this policy"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The tags of `asked` that a line's `hasTags` answers say its product has.
fn matched(asked: &[String], answers: &[bool], line: usize) -> Result<Vec<String>, Rejection> {
    if answers.len() != asked.len() {
        return Err(reject(
            RejectCode::InputVariablesMismatch,
            format!(
                "`input.order.lineTags[{line}].product.hasTags` has {} answers but the policy \
                 asks about {} values: set the `productTags` input variable from this policy",
                answers.len(),
                asked.len()
            ),
        ));
    }
    Ok(asked
        .iter()
        .zip(answers)
        .filter(|(_, has)| **has)
        .map(|(value, _)| value.clone())
        .collect())
}

/// The parts of the input a decision can depend on. Shopify's provider decodes the input
/// lazily and each field read costs about a thousand instructions, so the Function reads only
/// what the rules of this trigger, their outcomes and the default can consult.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub request_reason: bool,
    /// `shop.localTime`: time of day, weekday, and the placement's local time (business days,
    /// cut-off).
    pub now_local: bool,
    /// `createdAt`.
    pub placed: bool,
    pub cancelled: bool,
    pub fulfillment_status: bool,
    pub fulfillment_orders: bool,
    pub financial_status: bool,
    pub total_price: bool,
    pub b2b: bool,
    pub risk: bool,
    /// `None` when no line is consulted, not even the number of lines.
    pub lines: Option<LineNeeds>,
    /// The lines' quantities only name the lines a decision cancels: read for those, after it
    /// (`InputNeeds::LINE_QUANTITY_NAMED`).
    pub quantities_later: bool,
}

/// Which fields of each line are consulted (the number of lines always is): the line fields
/// of the input variables, for this trigger's rules (`with_tag_answers` is not used here).
pub type LineNeeds = LineInputs;

impl From<InputNeeds> for Needs {
    fn from(needs: InputNeeds) -> Self {
        Needs {
            request_reason: needs.has(InputNeeds::REQUEST_REASON),
            now_local: needs.has(InputNeeds::NOW_LOCAL),
            placed: needs.has(InputNeeds::PLACED),
            cancelled: needs.has(InputNeeds::CANCELLED),
            fulfillment_status: needs.has(InputNeeds::FULFILLMENT_STATUS),
            fulfillment_orders: needs.has(InputNeeds::FULFILLMENT_ORDERS),
            financial_status: needs.has(InputNeeds::FINANCIAL_STATUS),
            total_price: needs.has(InputNeeds::TOTAL_PRICE),
            b2b: needs.has(InputNeeds::B2B),
            risk: needs.has(InputNeeds::RISK),
            lines: needs
                .has(InputNeeds::LINES)
                .then(|| LineInputs::of_needs(needs)),
            quantities_later: needs.has(InputNeeds::LINE_QUANTITY_NAMED)
                && !needs.has(InputNeeds::LINE_QUANTITY),
        }
    }
}
