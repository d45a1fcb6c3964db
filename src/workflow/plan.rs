//! The planner: a decision and the order's facts in, the ordered steps that carry it out.
//! Pure and total; the executor runs each step at most once in effect.

use cancel_policy_core::Trigger;
use cancel_policy_core::decision::{Action, Decision, LineSelection};
use cancel_policy_core::facts::OrderFacts;
use cancel_policy_core::money::Money;
use cancel_policy_core::outcome::{CancelReason, OutcomeKind, RefundMethod};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Our fulfillment holds carry this handle (unique per app per fulfillment order), so we
/// release only our own. https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/fulfillmentOrderHold
pub const HOLD_HANDLE: &str = "cancel-policy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// `fulfillmentOrderHold` with our handle.
    Hold {
        fulfillment_order_id: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release_at: Option<DateTime<Utc>>,
    },
    /// `fulfillmentOrderSubmitCancellationRequest` to the fulfillment service holding an
    /// IN_PROGRESS fulfillment order; waits for its accept/reject webhook.
    RequestFulfillmentCancellation {
        fulfillment_order_id: String,
        message: String,
    },
    /// `orderCancel`, then `job(id){done}` polling and a re-read of the order.
    CancelOrder {
        reason: CancelReason,
        refund: RefundMethod,
        restock: bool,
        notify_customer: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        staff_note: Option<String>,
    },
    /// `refundCreate` of what is left after a cancellation fee, with `@idempotent`.
    Refund {
        amount: Money,
        fee: Money,
        method: RefundMethod,
    },
    /// `refundCreate` of these lines (restocked when asked), with `@idempotent`.
    CancelLines {
        lines: Vec<LineSelection>,
        reason: CancelReason,
        refund: RefundMethod,
        restock: bool,
        notify_customer: bool,
    },
    /// `tagsAdd` on the order.
    AddTags { tags: Vec<String> },
    /// `fulfillmentOrderReleaseHold` of our holds only.
    ReleaseHolds,
    /// The order waits for staff (listed by the audit API).
    Review,
    /// Decide again at this moment.
    Reevaluate { at: DateTime<Utc> },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Hold { .. } => "hold",
            Step::RequestFulfillmentCancellation { .. } => "request_fulfillment_cancellation",
            Step::CancelOrder { .. } => "cancel_order",
            Step::Refund { .. } => "refund",
            Step::CancelLines { .. } => "cancel_lines",
            Step::AddTags { .. } => "add_tags",
            Step::ReleaseHolds => "release_holds",
            Step::Review => "review",
            Step::Reevaluate { .. } => "reevaluate",
        }
    }
}

/// Fulfillment orders a merchant can still hold.
fn holdable(status: &str) -> bool {
    matches!(status, "OPEN" | "SCHEDULED" | "ON_HOLD")
}

/// A fulfillment service is working on it: only the service can agree to cancel.
/// https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/fulfillmentOrderSubmitCancellationRequest
fn needs_cancellation_request(status: &str, request_status: &str) -> bool {
    status == "IN_PROGRESS" && matches!(request_status, "SUBMITTED" | "ACCEPTED")
}

pub fn plan(decision: &Decision, order: &OrderFacts, trigger: Trigger) -> Vec<Step> {
    let mut steps = Vec::new();
    if order.cancelled {
        // Nothing to carry out on a cancelled order but its tags.
        for action in &decision.actions {
            if let Action::AddTags { tags } = action {
                steps.push(Step::AddTags { tags: tags.clone() });
            }
        }
        return steps;
    }
    for action in &decision.actions {
        match action {
            Action::HoldFulfillment { reason, release_at } => {
                for fo in order
                    .fulfillment_orders
                    .iter()
                    .filter(|fo| holdable(&fo.status))
                {
                    steps.push(Step::Hold {
                        fulfillment_order_id: fo.id.clone(),
                        reason: reason.clone(),
                        release_at: *release_at,
                    });
                }
            }
            Action::CancelOrder {
                reason,
                refund,
                restock,
                notify_customer,
                staff_note,
            } => {
                for fo in order
                    .fulfillment_orders
                    .iter()
                    .filter(|fo| needs_cancellation_request(&fo.status, &fo.request_status))
                {
                    steps.push(Step::RequestFulfillmentCancellation {
                        fulfillment_order_id: fo.id.clone(),
                        message: format!("Order cancelled by policy ({})", reason.name()),
                    });
                }
                steps.push(Step::CancelOrder {
                    reason: *reason,
                    refund: *refund,
                    restock: *restock,
                    notify_customer: *notify_customer,
                    staff_note: staff_note.clone(),
                });
            }
            Action::RefundPartial {
                amount,
                fee,
                method,
            } => {
                if amount.amount.thousandths() > 0 && *method != RefundMethod::None {
                    steps.push(Step::Refund {
                        amount: amount.clone(),
                        fee: fee.clone(),
                        method: *method,
                    });
                }
            }
            Action::CancelLines {
                lines,
                reason,
                refund,
                restock,
                notify_customer,
            } => {
                if !lines.is_empty() {
                    steps.push(Step::CancelLines {
                        lines: lines.clone(),
                        reason: *reason,
                        refund: *refund,
                        restock: *restock,
                        notify_customer: *notify_customer,
                    });
                }
            }
            Action::RequestReview => steps.push(Step::Review),
            Action::Reevaluate { at } => steps.push(Step::Reevaluate { at: *at }),
            Action::AddTags { tags } => {
                if !tags.is_empty() {
                    steps.push(Step::AddTags { tags: tags.clone() })
                }
            }
        }
    }
    // The window ended (or staff decided) without a cancellation: let the order ship.
    let keeps_order = !decision.outcome.cancels()
        && !matches!(decision.outcome, OutcomeKind::Hold | OutcomeKind::Review);
    if keeps_order && matches!(trigger, Trigger::Scheduled | Trigger::StaffRequest) {
        steps.push(Step::ReleaseHolds);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use cancel_policy_core::facts::FulfillmentOrderFacts;
    use cancel_policy_core::money::Amount;

    fn decision(outcome: OutcomeKind, actions: Vec<Action>) -> Decision {
        Decision {
            outcome,
            rule: Some("r".into()),
            actions,
            message: None,
            notes: vec![],
            trace: None,
        }
    }

    fn fo(id: &str, status: &str, request: &str) -> FulfillmentOrderFacts {
        FulfillmentOrderFacts {
            id: id.into(),
            status: status.into(),
            request_status: request.into(),
        }
    }

    fn cancel() -> Action {
        Action::CancelOrder {
            reason: CancelReason::Customer,
            refund: RefundMethod::Original,
            restock: true,
            notify_customer: true,
            staff_note: None,
        }
    }

    fn eur(text: &str) -> Money {
        Money {
            amount: Amount::parse(text).unwrap(),
            currency_code: "EUR".into(),
        }
    }

    #[test]
    fn in_progress_fulfillment_is_asked_to_cancel_before_the_order() {
        let order = OrderFacts {
            fulfillment_orders: vec![
                fo("fo1", "IN_PROGRESS", "ACCEPTED"),
                fo("fo2", "OPEN", "UNSUBMITTED"),
            ],
            ..OrderFacts::default()
        };
        let d = decision(
            OutcomeKind::Allow,
            vec![
                cancel(),
                Action::AddTags {
                    tags: vec!["x".into()],
                },
            ],
        );
        let kinds: Vec<_> = plan(&d, &order, Trigger::CustomerRequest)
            .iter()
            .map(Step::kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "request_fulfillment_cancellation",
                "cancel_order",
                "add_tags"
            ]
        );
    }

    #[test]
    fn fee_becomes_a_refund_after_a_cancel_without_refund() {
        let d = decision(
            OutcomeKind::Allow,
            vec![
                Action::CancelOrder {
                    reason: CancelReason::Customer,
                    refund: RefundMethod::None,
                    restock: true,
                    notify_customer: false,
                    staff_note: None,
                },
                Action::RefundPartial {
                    amount: eur("45.00"),
                    fee: eur("5.00"),
                    method: RefundMethod::Original,
                },
            ],
        );
        let steps = plan(&d, &OrderFacts::default(), Trigger::CustomerRequest);
        assert_eq!(steps.len(), 2);
        assert!(
            matches!(&steps[1], Step::Refund { amount, .. } if amount.amount == Amount::parse("45").unwrap())
        );
    }

    #[test]
    fn hold_applies_to_holdable_fulfillment_orders_and_schedules_a_decision() {
        let at: DateTime<Utc> = "2026-03-02T11:00:00Z".parse().unwrap();
        let order = OrderFacts {
            fulfillment_orders: vec![fo("a", "OPEN", "UNSUBMITTED"), fo("b", "CLOSED", "CLOSED")],
            ..OrderFacts::default()
        };
        let d = decision(
            OutcomeKind::Hold,
            vec![
                Action::HoldFulfillment {
                    reason: "OTHER".into(),
                    release_at: Some(at),
                },
                Action::Reevaluate { at },
            ],
        );
        let steps = plan(&d, &order, Trigger::OrderCreated);
        assert_eq!(
            steps,
            vec![
                Step::Hold {
                    fulfillment_order_id: "a".into(),
                    reason: "OTHER".into(),
                    release_at: Some(at)
                },
                Step::Reevaluate { at }
            ]
        );
    }

    #[test]
    fn a_scheduled_denial_releases_our_holds_and_cancelled_orders_get_only_tags() {
        let d = decision(OutcomeKind::Deny, vec![]);
        assert_eq!(
            plan(&d, &OrderFacts::default(), Trigger::Scheduled),
            vec![Step::ReleaseHolds]
        );
        assert!(plan(&d, &OrderFacts::default(), Trigger::CustomerRequest).is_empty());

        let cancelled = OrderFacts {
            cancelled: true,
            ..OrderFacts::default()
        };
        let d = decision(
            OutcomeKind::Cancel,
            vec![
                cancel(),
                Action::AddTags {
                    tags: vec!["t".into()],
                },
            ],
        );
        assert_eq!(
            plan(&d, &cancelled, Trigger::RiskChanged),
            vec![Step::AddTags {
                tags: vec!["t".into()]
            }]
        );
    }
}
