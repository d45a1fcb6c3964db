//! Order facts: everything a policy can ask about an order, its customer and the request.
//!
//! Facts are plain data built by a caller (the Function adapter from its input, the service
//! from the Admin API, the CLI from a JSON file). Shop-local times are given, never computed
//! here, so evaluation needs no time-zone database (see `crate::tz` for callers that have one).
//! Field names follow the Admin GraphQL API so one order snapshot can feed every caller.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The facts about one order at the moment of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderFacts {
    /// Admin GraphQL id, e.g. `gid://shopify/Order/1`.
    pub id: String,
    /// When the order was placed (UTC).
    pub created_at: Option<DateTime<Utc>>,
    /// When the order was placed, in the shop's time zone.
    pub created_at_local: Option<NaiveDateTime>,
    pub display_fulfillment_status: Option<String>,
    pub fulfillment_orders: Vec<FulfillmentOrderFacts>,
    pub display_financial_status: Option<String>,
    pub total_price: Option<Money>,
    /// The sales channel, e.g. `web`, `pos`, `shopify_draft_order`.
    pub source_name: Option<String>,
    pub tags: Vec<String>,
    pub test: bool,
    /// True when the order belongs to a B2B purchasing company.
    pub b2b: bool,
    /// ISO 3166-1 alpha-2 code of the shipping address.
    pub shipping_country: Option<String>,
    /// Title of the shipping line, e.g. `Standard`.
    pub shipping_method: Option<String>,
    pub local_pickup: bool,
    pub discount_codes: Vec<String>,
    pub line_items: Vec<LineFacts>,
    pub risk: RiskFacts,
    pub customer: Option<CustomerFacts>,
    /// True when the order was already cancelled.
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FulfillmentOrderFacts {
    pub id: String,
    /// `FulfillmentOrderStatus`: OPEN, IN_PROGRESS, ON_HOLD, SCHEDULED, CLOSED, CANCELLED, INCOMPLETE.
    pub status: String,
    /// `FulfillmentOrderRequestStatus`: UNSUBMITTED, SUBMITTED, ACCEPTED, REJECTED, …
    pub request_status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LineFacts {
    pub id: String,
    pub quantity: i64,
    pub sku: Option<String>,
    pub product_tags: Vec<String>,
    pub product_type: Option<String>,
    pub vendor: Option<String>,
    pub collection_ids: Vec<String>,
    pub gift_card: bool,
    pub requires_shipping: bool,
    /// `subscription`, `pre_order` or absent.
    pub selling_plan: Option<String>,
    pub inventory_quantity: Option<i64>,
    /// `DENY` or `CONTINUE` (sell when out of stock).
    pub inventory_policy: Option<String>,
    /// Price of the whole line (unit price × quantity), for partial refunds.
    pub total: Option<Money>,
}

impl LineFacts {
    /// Oversold: sold past zero under the CONTINUE policy.
    pub fn oversold(&self) -> bool {
        self.inventory_policy.as_deref() == Some("CONTINUE")
            && self.inventory_quantity.is_some_and(|q| q < 0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RiskFacts {
    /// `OrderRiskRecommendationResult`: CANCEL, INVESTIGATE, ACCEPT, NONE.
    pub recommendation: Option<String>,
    pub assessments: Vec<RiskAssessmentFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RiskAssessmentFacts {
    /// `RiskAssessmentResult`: HIGH, MEDIUM, LOW, NONE, PENDING.
    pub risk_level: String,
    /// True when a third-party provider (not Shopify) made the assessment.
    pub third_party: bool,
}

impl RiskFacts {
    /// The highest level over all assessments, in the order NONE < PENDING < LOW < MEDIUM < HIGH.
    pub fn highest_level(&self) -> &str {
        // The last of the highest, as `max_by_key` picks.
        let mut highest: Option<(&str, u8)> = None;
        for level in self.assessments.iter().map(|a| a.risk_level.as_str()) {
            let rank = risk_rank(level);
            if highest.is_none_or(|(_, best)| rank >= best) {
                highest = Some((level, rank));
            }
        }
        highest.map_or("NONE", |(level, _)| level)
    }
}

/// Orders risk levels; unknown levels rank lowest.
pub fn risk_rank(level: &str) -> u8 {
    match level {
        "HIGH" => 4,
        "MEDIUM" => 3,
        "LOW" => 2,
        "PENDING" => 1,
        _ => 0,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerFacts {
    pub id: String,
    pub tags: Vec<String>,
    pub number_of_orders: i64,
    /// When this customer's earlier orders were cancelled (supplied by the service).
    pub cancelled_order_dates: Vec<DateTime<Utc>>,
}

/// Who asks for the decision and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestFacts {
    /// `customer`, `staff`, `automation` or `flow`.
    pub source: Option<String>,
    /// The reason the customer picked, e.g. `changed_mind`.
    pub reason: Option<String>,
    /// The customer's locale, e.g. `fr` or `fr-CA`.
    pub locale: Option<String>,
}

/// Everything `evaluate` reads besides the policy, the clock and the trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Facts {
    pub order: OrderFacts,
    pub request: RequestFacts,
    /// The moment of evaluation in shop-local time (Shopify Functions get it as
    /// `shop.localTime`). Time-of-day, weekday, cut-off and business-day facts need it.
    pub now_local: Option<NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_level_is_the_last_of_the_highest_ranked() {
        let levels: [&[&str]; 6] = [
            &[],
            &["LOW", "odd", "HIGH", "MEDIUM"],
            &["odd", "other"],
            &["PENDING", "NONE", "PENDING"],
            &["MEDIUM", "HIGH", "HIGH"],
            &["NONE"],
        ];
        for levels in levels {
            let risk = RiskFacts {
                recommendation: None,
                assessments: levels
                    .iter()
                    .map(|level| RiskAssessmentFacts {
                        risk_level: level.to_string(),
                        third_party: false,
                    })
                    .collect(),
            };
            // What it was: `max_by_key` gives the last of equal maxima.
            let expected = risk
                .assessments
                .iter()
                .map(|a| a.risk_level.as_str())
                .max_by_key(|level| risk_rank(level))
                .unwrap_or("NONE");
            assert_eq!(risk.highest_level(), expected, "{levels:?}");
            assert!(std::ptr::eq(risk.highest_level(), expected) || levels.is_empty());
        }
    }
}
