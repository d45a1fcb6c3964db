//! The typed catalog of facts a condition may test.
//!
//! The compiler checks names, types and enum values against it; the evaluator reads each fact
//! from `Facts`. Enum values are Shopify's own where the fact comes from Shopify.

use serde::{Deserialize, Serialize};

/// The type of a fact decides which tests apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Number,
    Bool,
    /// One of a closed set of values.
    Enum(&'static [&'static str]),
    /// An enum whose values are ordered (lowest first): also `at_least`/`at_most`.
    OrderedEnum(&'static [&'static str]),
    /// A set of values from a closed set (e.g. the statuses of all fulfillment orders).
    EnumSet(&'static [&'static str]),
    /// Free text: `eq`, `in`, `prefix`, `matches`.
    Text,
    /// A set of free-text values (tags, codes, ids); compared without case for tags.
    TextSet,
    /// Shop-local time of day, `HH:MM`.
    TimeOfDay,
    /// Daily cut-off: `{ at = "HH:MM", days = [...] }`.
    Cutoff,
}

impl FactType {
    pub fn describe(self) -> &'static str {
        match self {
            FactType::Number => "a number",
            FactType::Bool => "a boolean",
            FactType::Enum(_) | FactType::OrderedEnum(_) => "one of a fixed set of values",
            FactType::EnumSet(_) => "a set of values from a fixed list",
            FactType::Text => "text",
            FactType::TextSet => "a list of text values",
            FactType::TimeOfDay => "a time of day (\"HH:MM\")",
            FactType::Cutoff => "a daily cut-off",
        }
    }

    pub fn enum_values(self) -> Option<&'static [&'static str]> {
        match self {
            FactType::Enum(v) | FactType::OrderedEnum(v) | FactType::EnumSet(v) => Some(v),
            _ => None,
        }
    }
}

/// Whether a fact is about the order (top-level condition) or one line (inside `lines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Order,
    Line,
}

pub const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `Order.displayFulfillmentStatus` (`OrderDisplayFulfillmentStatus`).
/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/OrderDisplayFulfillmentStatus
pub const DISPLAY_FULFILLMENT_STATUS: &[&str] = &[
    "UNFULFILLED",
    "PARTIALLY_FULFILLED",
    "FULFILLED",
    "RESTOCKED",
    "PENDING_FULFILLMENT",
    "OPEN",
    "IN_PROGRESS",
    "ON_HOLD",
    "SCHEDULED",
    "REQUEST_DECLINED",
];

/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/FulfillmentOrderStatus
pub const FULFILLMENT_ORDER_STATUS: &[&str] = &[
    "OPEN",
    "IN_PROGRESS",
    "CANCELLED",
    "INCOMPLETE",
    "CLOSED",
    "SCHEDULED",
    "ON_HOLD",
];

/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/FulfillmentOrderRequestStatus
pub const FULFILLMENT_REQUEST_STATUS: &[&str] = &[
    "UNSUBMITTED",
    "SUBMITTED",
    "ACCEPTED",
    "REJECTED",
    "CANCELLATION_REQUESTED",
    "CANCELLATION_ACCEPTED",
    "CANCELLATION_REJECTED",
    "CLOSED",
];

/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/OrderDisplayFinancialStatus
pub const FINANCIAL_STATUS: &[&str] = &[
    "PENDING",
    "AUTHORIZED",
    "PARTIALLY_PAID",
    "PAID",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
    "VOIDED",
    "EXPIRED",
];

/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/RiskAssessmentResult (lowest first).
pub const RISK_LEVEL: &[&str] = &["NONE", "PENDING", "LOW", "MEDIUM", "HIGH"];

/// https://shopify.dev/docs/api/admin-graphql/2026-04/enums/OrderRiskRecommendationResult
pub const RISK_RECOMMENDATION: &[&str] = &["CANCEL", "INVESTIGATE", "ACCEPT", "NONE"];

pub const REQUEST_SOURCE: &[&str] = &["customer", "staff", "automation", "flow"];

pub const SELLING_PLAN: &[&str] = &["subscription", "pre_order", "none"];

/// Every fact a condition may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    // time
    MinutesSincePlaced,
    BusinessDaysSincePlaced,
    LocalTime,
    LocalWeekday,
    BeforeCutoff,
    // order
    FulfillmentStatus,
    FulfillmentOrderStatus,
    FulfillmentRequestStatus,
    FinancialStatus,
    TotalPrice,
    Currency,
    SalesChannel,
    OrderTags,
    TestOrder,
    B2b,
    ShippingCountry,
    ShippingMethod,
    LocalPickup,
    DiscountCodes,
    LineCount,
    Cancelled,
    // risk
    RiskLevel,
    RiskRecommendation,
    RiskThirdParty,
    // customer
    CustomerTags,
    CustomerOrders,
    CustomerCancellations30d,
    CustomerCancellations90d,
    CustomerCancellations365d,
    // request
    RequestSource,
    RequestReason,
    RequestLocale,
    // line facts (inside `lines`)
    ProductTags,
    ProductType,
    Vendor,
    Sku,
    Collections,
    GiftCard,
    RequiresShipping,
    SellingPlan,
    InventoryAvailable,
    Oversold,
    Quantity,
}

/// One catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct FactSpec {
    pub fact: Fact,
    pub name: &'static str,
    pub ty: FactType,
    pub scope: Scope,
    pub doc: &'static str,
}

const fn spec(
    fact: Fact,
    name: &'static str,
    ty: FactType,
    scope: Scope,
    doc: &'static str,
) -> FactSpec {
    FactSpec {
        fact,
        name,
        ty,
        scope,
        doc,
    }
}

pub const CATALOG: &[FactSpec] = &[
    spec(
        Fact::MinutesSincePlaced,
        "minutes_since_placed",
        FactType::Number,
        Scope::Order,
        "minutes from the order's creation to now",
    ),
    spec(
        Fact::BusinessDaysSincePlaced,
        "business_days_since_placed",
        FactType::Number,
        Scope::Order,
        "weekdays (Mon–Fri, shop time) passed since the day of placement",
    ),
    spec(
        Fact::LocalTime,
        "local_time",
        FactType::TimeOfDay,
        Scope::Order,
        "the shop-local time of day now",
    ),
    spec(
        Fact::LocalWeekday,
        "local_weekday",
        FactType::Enum(WEEKDAYS),
        Scope::Order,
        "the shop-local day of week now",
    ),
    spec(
        Fact::BeforeCutoff,
        "before_cutoff",
        FactType::Cutoff,
        Scope::Order,
        "now is before the first daily cut-off after placement",
    ),
    spec(
        Fact::FulfillmentStatus,
        "fulfillment_status",
        FactType::Enum(DISPLAY_FULFILLMENT_STATUS),
        Scope::Order,
        "Order.displayFulfillmentStatus",
    ),
    spec(
        Fact::FulfillmentOrderStatus,
        "fulfillment_order_status",
        FactType::EnumSet(FULFILLMENT_ORDER_STATUS),
        Scope::Order,
        "the status of each fulfillment order",
    ),
    spec(
        Fact::FulfillmentRequestStatus,
        "fulfillment_request_status",
        FactType::EnumSet(FULFILLMENT_REQUEST_STATUS),
        Scope::Order,
        "the request status of each fulfillment order (3PL)",
    ),
    spec(
        Fact::FinancialStatus,
        "financial_status",
        FactType::Enum(FINANCIAL_STATUS),
        Scope::Order,
        "Order.displayFinancialStatus",
    ),
    spec(
        Fact::TotalPrice,
        "total_price",
        FactType::Number,
        Scope::Order,
        "the order total in its currency",
    ),
    spec(
        Fact::Currency,
        "currency",
        FactType::Text,
        Scope::Order,
        "the order's currency code",
    ),
    spec(
        Fact::SalesChannel,
        "sales_channel",
        FactType::Text,
        Scope::Order,
        "Order.sourceName, e.g. web or pos",
    ),
    spec(
        Fact::OrderTags,
        "order_tags",
        FactType::TextSet,
        Scope::Order,
        "the order's tags",
    ),
    spec(
        Fact::TestOrder,
        "test_order",
        FactType::Bool,
        Scope::Order,
        "a test order",
    ),
    spec(
        Fact::B2b,
        "b2b",
        FactType::Bool,
        Scope::Order,
        "the order belongs to a B2B purchasing company",
    ),
    spec(
        Fact::ShippingCountry,
        "shipping_country",
        FactType::Text,
        Scope::Order,
        "ISO country code of the shipping address",
    ),
    spec(
        Fact::ShippingMethod,
        "shipping_method",
        FactType::Text,
        Scope::Order,
        "title of the shipping line",
    ),
    spec(
        Fact::LocalPickup,
        "local_pickup",
        FactType::Bool,
        Scope::Order,
        "the order is picked up locally",
    ),
    spec(
        Fact::DiscountCodes,
        "discount_codes",
        FactType::TextSet,
        Scope::Order,
        "discount codes used",
    ),
    spec(
        Fact::LineCount,
        "line_count",
        FactType::Number,
        Scope::Order,
        "number of line items",
    ),
    spec(
        Fact::Cancelled,
        "cancelled",
        FactType::Bool,
        Scope::Order,
        "the order is already cancelled",
    ),
    spec(
        Fact::RiskLevel,
        "risk_level",
        FactType::OrderedEnum(RISK_LEVEL),
        Scope::Order,
        "the highest risk level over all assessments",
    ),
    spec(
        Fact::RiskRecommendation,
        "risk_recommendation",
        FactType::Enum(RISK_RECOMMENDATION),
        Scope::Order,
        "Shopify's risk recommendation",
    ),
    spec(
        Fact::RiskThirdParty,
        "risk_third_party",
        FactType::Bool,
        Scope::Order,
        "a third-party provider assessed the order",
    ),
    spec(
        Fact::CustomerTags,
        "customer_tags",
        FactType::TextSet,
        Scope::Order,
        "the customer's tags",
    ),
    spec(
        Fact::CustomerOrders,
        "customer_orders",
        FactType::Number,
        Scope::Order,
        "the customer's number of orders",
    ),
    spec(
        Fact::CustomerCancellations30d,
        "customer_cancellations_30d",
        FactType::Number,
        Scope::Order,
        "the customer's cancelled orders in the last 30 days",
    ),
    spec(
        Fact::CustomerCancellations90d,
        "customer_cancellations_90d",
        FactType::Number,
        Scope::Order,
        "the customer's cancelled orders in the last 90 days",
    ),
    spec(
        Fact::CustomerCancellations365d,
        "customer_cancellations_365d",
        FactType::Number,
        Scope::Order,
        "the customer's cancelled orders in the last 365 days",
    ),
    spec(
        Fact::RequestSource,
        "request_source",
        FactType::Enum(REQUEST_SOURCE),
        Scope::Order,
        "who asks: customer, staff, automation or flow",
    ),
    spec(
        Fact::RequestReason,
        "request_reason",
        FactType::Text,
        Scope::Order,
        "the reason the customer picked",
    ),
    spec(
        Fact::RequestLocale,
        "request_locale",
        FactType::Text,
        Scope::Order,
        "the customer's locale",
    ),
    spec(
        Fact::ProductTags,
        "product_tags",
        FactType::TextSet,
        Scope::Line,
        "the line's product tags",
    ),
    spec(
        Fact::ProductType,
        "product_type",
        FactType::Text,
        Scope::Line,
        "the line's product type",
    ),
    spec(
        Fact::Vendor,
        "vendor",
        FactType::Text,
        Scope::Line,
        "the line's vendor",
    ),
    spec(
        Fact::Sku,
        "sku",
        FactType::Text,
        Scope::Line,
        "the line's variant SKU",
    ),
    spec(
        Fact::Collections,
        "collections",
        FactType::TextSet,
        Scope::Line,
        "ids of the collections holding the product",
    ),
    spec(
        Fact::GiftCard,
        "gift_card",
        FactType::Bool,
        Scope::Line,
        "the line is a gift card",
    ),
    spec(
        Fact::RequiresShipping,
        "requires_shipping",
        FactType::Bool,
        Scope::Line,
        "the line requires shipping",
    ),
    spec(
        Fact::SellingPlan,
        "selling_plan",
        FactType::Enum(SELLING_PLAN),
        Scope::Line,
        "subscription, pre_order or none",
    ),
    spec(
        Fact::InventoryAvailable,
        "inventory_available",
        FactType::Number,
        Scope::Line,
        "the variant's available inventory",
    ),
    spec(
        Fact::Oversold,
        "oversold",
        FactType::Bool,
        Scope::Line,
        "sold past zero under the CONTINUE inventory policy",
    ),
    spec(
        Fact::Quantity,
        "quantity",
        FactType::Number,
        Scope::Line,
        "the line's quantity",
    ),
];

impl Fact {
    pub fn spec(self) -> Option<&'static FactSpec> {
        CATALOG.iter().find(|s| s.fact == self)
    }

    /// The fact's name in policies, as `CATALOG` has it (a test checks that). A `match` rather
    /// than a catalog search keeps the catalog, with its descriptions, out of the Function's
    /// Wasm module, which names facts only in its error messages.
    pub fn name(self) -> &'static str {
        match self {
            Fact::MinutesSincePlaced => "minutes_since_placed",
            Fact::BusinessDaysSincePlaced => "business_days_since_placed",
            Fact::LocalTime => "local_time",
            Fact::LocalWeekday => "local_weekday",
            Fact::BeforeCutoff => "before_cutoff",
            Fact::FulfillmentStatus => "fulfillment_status",
            Fact::FulfillmentOrderStatus => "fulfillment_order_status",
            Fact::FulfillmentRequestStatus => "fulfillment_request_status",
            Fact::FinancialStatus => "financial_status",
            Fact::TotalPrice => "total_price",
            Fact::Currency => "currency",
            Fact::SalesChannel => "sales_channel",
            Fact::OrderTags => "order_tags",
            Fact::TestOrder => "test_order",
            Fact::B2b => "b2b",
            Fact::ShippingCountry => "shipping_country",
            Fact::ShippingMethod => "shipping_method",
            Fact::LocalPickup => "local_pickup",
            Fact::DiscountCodes => "discount_codes",
            Fact::LineCount => "line_count",
            Fact::Cancelled => "cancelled",
            Fact::RiskLevel => "risk_level",
            Fact::RiskRecommendation => "risk_recommendation",
            Fact::RiskThirdParty => "risk_third_party",
            Fact::CustomerTags => "customer_tags",
            Fact::CustomerOrders => "customer_orders",
            Fact::CustomerCancellations30d => "customer_cancellations_30d",
            Fact::CustomerCancellations90d => "customer_cancellations_90d",
            Fact::CustomerCancellations365d => "customer_cancellations_365d",
            Fact::RequestSource => "request_source",
            Fact::RequestReason => "request_reason",
            Fact::RequestLocale => "request_locale",
            Fact::ProductTags => "product_tags",
            Fact::ProductType => "product_type",
            Fact::Vendor => "vendor",
            Fact::Sku => "sku",
            Fact::Collections => "collections",
            Fact::GiftCard => "gift_card",
            Fact::RequiresShipping => "requires_shipping",
            Fact::SellingPlan => "selling_plan",
            Fact::InventoryAvailable => "inventory_available",
            Fact::Oversold => "oversold",
            Fact::Quantity => "quantity",
        }
    }

    pub fn by_name(name: &str) -> Option<&'static FactSpec> {
        CATALOG.iter().find(|s| s.name == name)
    }

    /// Tag facts are compared without regard to case, as Shopify treats tags.
    pub fn case_insensitive(self) -> bool {
        matches!(
            self,
            Fact::OrderTags | Fact::CustomerTags | Fact::ProductTags | Fact::DiscountCodes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fact_is_named_as_in_the_catalog() {
        for spec in CATALOG {
            assert_eq!(spec.fact.name(), spec.name);
            assert_eq!(Fact::by_name(spec.name).map(|s| s.fact), Some(spec.fact));
        }
    }
}
