//! What a rule decides, in compiled form.

use serde::{Deserialize, Serialize};

use crate::compiled::Condition;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Cancel without a person (e.g. fraud, on order creation).
    Cancel,
    /// Grant the customer's request: cancel with the rule's options.
    Allow,
    /// Refuse, with a message for the customer.
    Deny,
    /// Queue for staff, optionally holding fulfillment.
    Review,
    /// Hold fulfillment until the window ends, then decide again.
    Hold,
    /// Cancel and refund only the matching lines.
    CancelLines,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 6] = [
        OutcomeKind::Cancel,
        OutcomeKind::Allow,
        OutcomeKind::Deny,
        OutcomeKind::Review,
        OutcomeKind::Hold,
        OutcomeKind::CancelLines,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Cancel => "cancel",
            OutcomeKind::Allow => "allow",
            OutcomeKind::Deny => "deny",
            OutcomeKind::Review => "review",
            OutcomeKind::Hold => "hold",
            OutcomeKind::CancelLines => "cancel_lines",
        }
    }

    pub fn by_name(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the outcome cancels anything.
    pub fn cancels(self) -> bool {
        matches!(
            self,
            OutcomeKind::Cancel | OutcomeKind::Allow | OutcomeKind::CancelLines
        )
    }
}

/// Shopify's `OrderCancelReason`.
/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/OrderCancelReason
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelReason {
    Customer,
    Declined,
    Fraud,
    Inventory,
    Staff,
    Other,
}

pub const CANCEL_REASONS: &[&str] = &[
    "CUSTOMER",
    "DECLINED",
    "FRAUD",
    "INVENTORY",
    "STAFF",
    "OTHER",
];

impl CancelReason {
    pub fn by_name(name: &str) -> Option<CancelReason> {
        Some(match name {
            "CUSTOMER" => CancelReason::Customer,
            "DECLINED" => CancelReason::Declined,
            "FRAUD" => CancelReason::Fraud,
            "INVENTORY" => CancelReason::Inventory,
            "STAFF" => CancelReason::Staff,
            "OTHER" => CancelReason::Other,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CancelReason::Customer => "CUSTOMER",
            CancelReason::Declined => "DECLINED",
            CancelReason::Fraud => "FRAUD",
            CancelReason::Inventory => "INVENTORY",
            CancelReason::Staff => "STAFF",
            CancelReason::Other => "OTHER",
        }
    }
}

/// Where the money goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundMethod {
    /// `refundMethod: { originalPaymentMethodsRefund: true }`
    Original,
    /// `refundMethod: { storeCreditRefund: {} }`
    StoreCredit,
    /// No refund now (authorized payments are still voided by Shopify).
    None,
}

pub const REFUND_METHODS: &[&str] = &["original", "store_credit", "none"];

impl RefundMethod {
    pub fn name(self) -> &'static str {
        match self {
            RefundMethod::Original => "original",
            RefundMethod::StoreCredit => "store_credit",
            RefundMethod::None => "none",
        }
    }

    pub fn by_name(name: &str) -> Option<RefundMethod> {
        Some(match name {
            "original" => RefundMethod::Original,
            "store_credit" => RefundMethod::StoreCredit,
            "none" => RefundMethod::None,
            _ => return None,
        })
    }
}

/// Shopify's `FulfillmentHoldReason`.
/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/FulfillmentHoldReason
pub const HOLD_REASONS: &[&str] = &[
    "AWAITING_PAYMENT",
    "AWAITING_RETURN_ITEMS",
    "HIGH_RISK_OF_FRAUD",
    "INCORRECT_ADDRESS",
    "INVENTORY_OUT_OF_STOCK",
    "ONLINE_STORE_POST_PURCHASE_CROSS_SELL",
    "OTHER",
    "UNKNOWN_DELIVERY_DATE",
];

/// A cancellation fee kept from the refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Fee {
    #[serde(rename = "pct")]
    Percent(f64),
    /// A fixed amount in the order's currency, as a decimal string.
    #[serde(rename = "fix")]
    Fixed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    #[serde(rename = "k")]
    pub kind: OutcomeKind,
    /// cancel_lines: which lines (all conditions hold for the line). Written right after the
    /// kind: the Shopify Function reads a `cancel_lines` outcome this far to learn whether
    /// it selects any line, before the rest (`PolicyStream::line_selector`).
    #[serde(rename = "ln", default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<Condition>>,
    #[serde(rename = "rs", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<CancelReason>,
    #[serde(rename = "rf", default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundMethod>,
    #[serde(rename = "fee", default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Fee>,
    #[serde(rename = "rk", default, skip_serializing_if = "is_false")]
    pub restock: bool,
    #[serde(rename = "n", default, skip_serializing_if = "is_false")]
    pub notify: bool,
    #[serde(rename = "sn", default, skip_serializing_if = "Option::is_none")]
    pub staff_note: Option<String>,
    #[serde(rename = "tg", default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Message key shown to the customer.
    #[serde(rename = "msg", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Fulfillment hold reason (review, hold).
    #[serde(rename = "hr", default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    /// Hold: minutes after placement when the hold ends and the order is decided again.
    #[serde(rename = "hm", default, skip_serializing_if = "Option::is_none")]
    pub hold_minutes: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Outcome {
    pub const fn new(kind: OutcomeKind) -> Self {
        Outcome {
            kind,
            reason: None,
            refund: None,
            fee: None,
            restock: false,
            notify: false,
            staff_note: None,
            tags: Vec::new(),
            message: None,
            hold_reason: None,
            hold_minutes: None,
            lines: None,
        }
    }
}
