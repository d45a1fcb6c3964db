//! Order facts from one Admin GraphQL read (`schema/operations/order_facts.graphql`).
//!
//! Field by field the same mapping as the Function's input adapter, so a policy decides the
//! same whether the Function or the service evaluates it.

use cancel_policy_core::facts::{
    CustomerFacts, FulfillmentOrderFacts, LineFacts, OrderFacts, RiskAssessmentFacts, RiskFacts,
};
use cancel_policy_core::money::{Amount, Money};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::shopify::operations::order_facts::{
    self, OrderFactsOrder, OrderFactsOrderLineItemsNodes, OrderFactsOrderPurchasingEntity,
};

/// The order as read, with what the service needs beside the policy facts.
#[derive(Debug, Clone)]
pub struct AdminOrder {
    pub facts: OrderFacts,
    pub name: String,
    pub updated_at: Option<DateTime<Utc>>,
    pub customer_locale: Option<String>,
    pub shop_timezone: String,
}

/// The GraphQL enum's name as Shopify writes it (`PAID`, `IN_PROGRESS`, …).
pub fn enum_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn money(amount: &str, currency: &impl Serialize) -> Option<Money> {
    Some(Money {
        amount: Amount::parse(amount).ok()?,
        currency_code: enum_name(currency),
    })
}

fn unsigned(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::Number(n) => n.as_i64().unwrap_or(i64::MAX),
        serde_json::Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Builds the policy facts from an `OrderFacts` response; `None` when there is no such order.
pub fn from_response(data: order_facts::ResponseData) -> Option<AdminOrder> {
    let shop_timezone = data.shop.iana_timezone;
    let order = data.order?;
    Some(from_order(order, shop_timezone))
}

fn from_order(order: OrderFactsOrder, shop_timezone: String) -> AdminOrder {
    let b2b = matches!(
        order.purchasing_entity,
        Some(OrderFactsOrderPurchasingEntity::PurchasingCompany(_))
    );
    let customer = order.customer.map(|c| CustomerFacts {
        id: c.id,
        tags: c.tags,
        number_of_orders: unsigned(&c.number_of_orders),
        cancelled_order_dates: Vec::new(),
    });
    let shipping_method = order.shipping_line.as_ref().map(|l| l.title.clone());
    // Local pickup shipping lines carry the source `shopify` and a pickup title; Shopify
    // marks them with a `pickup` delivery method, which 2026-04 exposes only on
    // fulfillment orders. The title is the signal both the Function and the Admin read share.
    let local_pickup = order
        .shipping_line
        .as_ref()
        .is_some_and(|l| l.title.to_ascii_lowercase().contains("pickup"));
    let facts = OrderFacts {
        id: order.id,
        created_at: parse_time(&order.created_at),
        created_at_local: None,
        display_fulfillment_status: Some(enum_name(&order.display_fulfillment_status)),
        fulfillment_orders: order
            .fulfillment_orders
            .nodes
            .into_iter()
            .map(|fo| FulfillmentOrderFacts {
                id: fo.id,
                status: enum_name(&fo.status),
                request_status: enum_name(&fo.request_status),
            })
            .collect(),
        display_financial_status: order.display_financial_status.as_ref().map(enum_name),
        total_price: money(
            &order.total_price_set.shop_money.amount,
            &order.total_price_set.shop_money.currency_code,
        ),
        source_name: order.source_name,
        tags: order.tags,
        test: order.test,
        b2b,
        shipping_country: order
            .shipping_address
            .and_then(|a| a.country_code_v2)
            .map(|c| enum_name(&c)),
        shipping_method,
        local_pickup,
        discount_codes: order.discount_codes,
        line_items: order.line_items.nodes.into_iter().map(line).collect(),
        risk: RiskFacts {
            recommendation: Some(enum_name(&order.risk.recommendation)),
            assessments: order
                .risk
                .assessments
                .into_iter()
                .map(|a| RiskAssessmentFacts {
                    risk_level: enum_name(&a.risk_level),
                    third_party: a.provider.is_some(),
                })
                .collect(),
        },
        customer,
        cancelled: order.cancelled_at.is_some(),
    };
    AdminOrder {
        facts,
        name: order.name,
        updated_at: parse_time(&order.updated_at),
        customer_locale: order.customer_locale,
        shop_timezone,
    }
}

fn line(node: OrderFactsOrderLineItemsNodes) -> LineFacts {
    let (product_tags, product_type, vendor, collection_ids) = match node.product {
        Some(p) => (
            p.tags,
            Some(p.product_type).filter(|t| !t.is_empty()),
            Some(p.vendor).filter(|v| !v.is_empty()),
            p.collections.nodes.into_iter().map(|c| c.id).collect(),
        ),
        None => (Vec::new(), None, None, Vec::new()),
    };
    let selling_plan = node.selling_plan.map(|plan| {
        let name = plan.name.to_ascii_lowercase();
        if name.contains("pre-order") || name.contains("preorder") || name.contains("pre order") {
            "pre_order".to_string()
        } else {
            "subscription".to_string()
        }
    });
    LineFacts {
        id: node.id,
        quantity: node.current_quantity,
        sku: node.sku,
        product_tags,
        product_type,
        vendor,
        collection_ids,
        gift_card: node.is_gift_card,
        requires_shipping: node.requires_shipping,
        selling_plan,
        inventory_quantity: node.variant.as_ref().and_then(|v| v.inventory_quantity),
        inventory_policy: node
            .variant
            .as_ref()
            .map(|v| enum_name(&v.inventory_policy)),
        total: money(
            &node.original_total_set.shop_money.amount,
            &node.original_total_set.shop_money.currency_code,
        ),
    }
}
