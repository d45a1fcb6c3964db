//! `explain FILE --order ORDER.json`: the decision, the deciding rule, the message, the trace.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cancel_policy_core::decision::{Action, TraceResult};
use cancel_policy_core::{Decision, EvalOptions, Trigger, evaluate_with};
use chrono::{DateTime, Utc};

use super::order_input::OrderRecord;
use super::policy_file::PolicyFile;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The policy file.
    pub file: PathBuf,
    /// The order: its facts as JSON, or `{"order": …, "request": …, "at": …, "trigger": …}`.
    #[arg(long)]
    pub order: PathBuf,
    /// The moment of the decision (RFC 3339); defaults to the order file's `at`, then now.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// What asks for the decision; defaults to the order file's trigger, then customer_request.
    #[arg(long)]
    pub trigger: Option<Trigger>,
    /// The customer's locale for the message (overrides the request's).
    #[arg(long)]
    pub locale: Option<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let file = PolicyFile::read(&args.file)?;
    let policy = file.policy()?;
    let text = std::fs::read_to_string(&args.order)
        .with_context(|| format!("cannot read {}", args.order.display()))?;
    let record =
        OrderRecord::parse(&text).with_context(|| format!("in {}", args.order.display()))?;
    let at = args.at.or(record.at).unwrap_or_else(Utc::now);
    let trigger = args
        .trigger
        .or(record.trigger)
        .unwrap_or(Trigger::CustomerRequest);
    let mut facts = record.facts(policy, at)?;
    if let Some(locale) = &args.locale {
        facts.request.locale = Some(locale.clone());
    }
    let options = EvalOptions {
        trace: true,
        locale: None,
    };
    let decision = evaluate_with(policy, &facts, at, trigger, &options);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&decision)?);
    } else {
        print!("{}", render(&decision, trigger, at));
    }
    Ok(ExitCode::SUCCESS)
}

/// The decision in words, for people.
pub fn render(decision: &Decision, trigger: Trigger, at: DateTime<Utc>) -> String {
    let mut out = String::new();
    let by = decision.rule.as_deref().map_or_else(
        || "the policy's default".to_string(),
        |r| format!("rule `{r}`"),
    );
    let _ = writeln!(out, "decision: {} by {by}", decision.outcome.name());
    let _ = writeln!(out, "trigger:  {} at {}", trigger.name(), at.to_rfc3339());
    if let Some(message) = &decision.message {
        let _ = writeln!(
            out,
            "message:  [{}] {}: {}",
            message.locale, message.key, message.text
        );
    }
    if !decision.actions.is_empty() {
        let _ = writeln!(out, "actions:");
        for action in &decision.actions {
            let _ = writeln!(out, "  - {}", describe_action(action));
        }
    }
    for note in &decision.notes {
        let _ = writeln!(out, "note:     {note}");
    }
    if let Some(trace) = &decision.trace {
        let _ = writeln!(out, "trace:");
        for (n, step) in trace.iter().enumerate() {
            let result = match step.result {
                TraceResult::Matched => "matched",
                TraceResult::Failed => "failed",
                TraceResult::Unknown => "unknown fact",
                TraceResult::OtherTrigger => "not for this trigger",
                TraceResult::NoLines => "no line selected",
            };
            let _ = write!(out, "  {}. {:<28} {result}", n + 1, step.rule);
            if let Some(condition) = &step.condition {
                let _ = write!(out, ": {condition}");
            }
            out.push('\n');
        }
        if decision.rule.is_none() {
            let _ = writeln!(out, "  → no rule matched: the default decided");
        }
    }
    out
}

pub fn describe_action(action: &Action) -> String {
    let flag = |on: bool, name: &str| {
        if on {
            format!(", {name}")
        } else {
            String::new()
        }
    };
    match action {
        Action::CancelOrder {
            reason,
            refund,
            restock,
            notify_customer,
            staff_note,
        } => {
            let mut s = format!(
                "cancel the order: reason {}, refund {}{}{}",
                reason.name(),
                refund.name(),
                flag(*restock, "restock"),
                flag(*notify_customer, "notify the customer")
            );
            if let Some(note) = staff_note {
                let _ = write!(s, ", staff note \"{note}\"");
            }
            s
        }
        Action::RefundPartial {
            amount,
            fee,
            method,
        } => format!(
            "refund {} {} to {} (keeping a fee of {} {})",
            amount.amount,
            amount.currency_code,
            method.name(),
            fee.amount,
            fee.currency_code
        ),
        Action::CancelLines {
            lines,
            reason,
            refund,
            restock,
            notify_customer,
        } => {
            let ids: Vec<String> = lines
                .iter()
                .map(|l| format!("{} × {}", l.quantity, l.id))
                .collect();
            format!(
                "cancel lines [{}]: reason {}, refund {}{}{}",
                ids.join(", "),
                reason.name(),
                refund.name(),
                flag(*restock, "restock"),
                flag(*notify_customer, "notify the customer")
            )
        }
        Action::HoldFulfillment { reason, release_at } => match release_at {
            Some(at) => format!("hold fulfillment ({reason}) until {}", at.to_rfc3339()),
            None => format!("hold fulfillment ({reason})"),
        },
        Action::RequestReview => "queue for staff review".to_string(),
        Action::Reevaluate { at } => format!("decide again at {}", at.to_rfc3339()),
        Action::AddTags { tags } => format!("add tags {}", tags.join(", ")),
    }
}
