//! The result of an evaluation: what to do, which rule decided, what to tell the customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::outcome::{CancelReason, OutcomeKind, RefundMethod};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub outcome: OutcomeKind,
    /// The deciding rule's id; `None` when the policy's default decided.
    pub rule: Option<String>,
    /// What the service carries out, in order.
    pub actions: Vec<Action>,
    /// The customer-facing message, localized.
    pub message: Option<Message>,
    /// Adjustments the evaluator made and why (e.g. a documented Shopify fallback).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Each rule tried, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceStep>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub key: String,
    pub locale: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `orderCancel`.
    CancelOrder {
        reason: CancelReason,
        refund: RefundMethod,
        restock: bool,
        #[serde(rename = "notifyCustomer")]
        notify_customer: bool,
        #[serde(rename = "staffNote", default, skip_serializing_if = "Option::is_none")]
        staff_note: Option<String>,
    },
    /// `refundCreate` for what is left after a cancellation fee.
    RefundPartial {
        amount: Money,
        fee: Money,
        method: RefundMethod,
    },
    /// Cancel (refund, restock) these lines only.
    CancelLines {
        lines: Vec<LineSelection>,
        reason: CancelReason,
        refund: RefundMethod,
        restock: bool,
        #[serde(rename = "notifyCustomer")]
        notify_customer: bool,
    },
    /// `fulfillmentOrderHold` on every open fulfillment order.
    HoldFulfillment {
        reason: String,
        #[serde(rename = "releaseAt", default, skip_serializing_if = "Option::is_none")]
        release_at: Option<DateTime<Utc>>,
    },
    /// Put the order in the staff review queue.
    RequestReview,
    /// Decide again at this moment (trigger `scheduled`).
    Reevaluate { at: DateTime<Utc> },
    /// `tagsAdd` on the order.
    AddTags { tags: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineSelection {
    pub id: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceResult {
    /// Every condition held: this rule decided.
    Matched,
    /// A condition did not hold.
    Failed,
    /// A condition needed a fact the order does not have.
    Unknown,
    /// The rule does not handle this trigger.
    OtherTrigger,
    /// A `cancel_lines` rule whose selector matched no line.
    NoLines,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceStep {
    pub rule: String,
    pub result: TraceResult,
    /// The first condition that did not hold, with the value it saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}
