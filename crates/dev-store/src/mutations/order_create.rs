//! `orderCreate`, mapped onto the seed model (the captures create their orders this way).
//! https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderCreate

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Outcome, arr, b, coded_errors, s};
use crate::model::{Address, parse_gid_of};
use crate::seed::{self, InventoryBehaviour, NewLine, NewOrder, NewTransaction, Payment};
use crate::store::Shared;
use crate::views;

fn amount_of(set: Option<&Value>) -> Option<String> {
    set?.get("shopMoney")?.get("amount").map(|a| match a {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

pub fn to_new_order(input: &Value, options: &Value, customer_email: Option<String>) -> NewOrder {
    let lines = arr(input, "lineItems")
        .iter()
        .map(|l| NewLine {
            variant_id: s(l, "variantId").and_then(|g| parse_gid_of(g, "ProductVariant")),
            sku: s(l, "sku")
                .map(str::to_string)
                .filter(|_| s(l, "variantId").is_none() && s(l, "title").is_none()),
            title: s(l, "title").map(str::to_string),
            quantity: l.get("quantity").and_then(Value::as_i64).unwrap_or(0),
            price: amount_of(l.get("priceSet")),
            requires_shipping: b(l, "requiresShipping"),
            taxable: b(l, "taxable"),
            gift_card: b(l, "giftCard"),
            ..NewLine::default()
        })
        .collect();
    let transactions = arr(input, "transactions")
        .iter()
        .map(|t| NewTransaction {
            kind: s(t, "kind").unwrap_or("SALE").to_string(),
            status: s(t, "status").map(str::to_string),
            amount: amount_of(t.get("amountSet")).unwrap_or_default(),
            gateway: s(t, "gateway").map(str::to_string),
        })
        .collect();
    let payment = match s(input, "financialStatus") {
        Some("PAID") => Payment::Paid,
        Some("AUTHORIZED") => Payment::Authorized,
        Some("PENDING") => Payment::Pending,
        Some("PARTIALLY_PAID") => Payment::PartiallyPaid,
        _ => Payment::None,
    };
    let shipping_address = input
        .get("shippingAddress")
        .filter(|a| !a.is_null())
        .map(|a| Address {
            first_name: s(a, "firstName").map(str::to_string),
            last_name: s(a, "lastName").map(str::to_string),
            address1: s(a, "address1").map(str::to_string),
            city: s(a, "city").map(str::to_string),
            province_code: s(a, "provinceCode").map(str::to_string),
            country_code: s(a, "countryCode").unwrap_or("US").to_string(),
            zip: s(a, "zip").map(str::to_string),
        });
    let shipping = arr(input, "shippingLines").first().map(|l| {
        (
            s(l, "title").unwrap_or("Shipping").to_string(),
            amount_of(l.get("priceSet")).unwrap_or_else(|| "0.00".into()),
        )
    });
    let inventory = match s(options, "inventoryBehaviour") {
        Some("DECREMENT_IGNORING_POLICY") => InventoryBehaviour::DecrementIgnoringPolicy,
        Some("DECREMENT_OBEYING_POLICY") => InventoryBehaviour::DecrementObeyingPolicy,
        _ => InventoryBehaviour::Bypass,
    };
    NewOrder {
        email: s(input, "email").map(str::to_string),
        customer: customer_email,
        lines,
        created_at: s(input, "processedAt")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc)),
        currency: s(input, "currency").map(str::to_string),
        tags: arr(input, "tags")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        note: s(input, "note").map(str::to_string),
        test: b(input, "test").unwrap_or(false),
        shipping_address,
        shipping,
        source_name: s(input, "sourceName").map(str::to_string),
        payment,
        gateway: Some("manual".into()),
        transactions,
        inventory,
        ..NewOrder::default()
    }
}

pub fn order_create(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let input = args.get("order").cloned().unwrap_or(Value::Null);
    let options = args.get("options").cloned().unwrap_or(Value::Null);
    let mut state = shared.state();
    let associate = input.get("customer").and_then(|c| c.get("toAssociate"));
    let customer_email = associate.and_then(|a| {
        s(a, "email").map(str::to_string).or_else(|| {
            s(a, "id")
                .and_then(|g| parse_gid_of(g, "Customer"))
                .and_then(|id| state.customers.get(&id))
                .map(|c| c.email.clone())
        })
    });
    let new_order = to_new_order(&input, &options, customer_email);
    match seed::create_order(&mut state, &new_order) {
        Ok((id, events)) => {
            let view = state
                .orders
                .get(&id)
                .map_or(Value::Null, |o| views::order(&state, o));
            Outcome {
                payload: json!({ "order": view, "userErrors": [] }),
                events,
            }
        }
        Err(e) => {
            let code = match e {
                seed::SeedError::InventoryClaimFailed { .. } => "INVENTORY_CLAIM_FAILED",
                _ => "INVALID",
            };
            Outcome::payload(json!({
                "order": null,
                "userErrors": coded_errors(&[(json!(["order", "lineItems"]), e.to_string(), code)]),
            }))
        }
    }
}
