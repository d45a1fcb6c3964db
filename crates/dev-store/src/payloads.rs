//! Webhook payloads in the REST shape Shopify sends for each topic
//! (https://shopify.dev/docs/api/webhooks): numeric ids next to `admin_graphql_api_id`,
//! lowercase statuses, prices as two-decimal strings, tags as one comma-separated string.

use serde_json::{Value, json};

use crate::model::{FulfillmentOrder, Hold, Order, Refund, State, Variant, gid, iso};

fn price(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn fulfillment_status(order: &Order) -> Value {
    match order.fulfillment_status() {
        "FULFILLED" => json!("fulfilled"),
        "PARTIALLY_FULFILLED" => json!("partial"),
        _ => Value::Null,
    }
}

pub fn order(state: &State, o: &Order) -> Value {
    let cur = &o.currency;
    let customer = o
        .customer_id
        .and_then(|c| state.customers.get(&c))
        .map_or(Value::Null, |c| {
            json!({
                "id": c.id,
                "admin_graphql_api_id": gid("Customer", c.id),
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "tags": c.tags.join(", "),
                "locale": c.locale,
                "orders_count": c.number_of_orders,
            })
        });
    let line_items: Vec<Value> = o
        .line_items
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "admin_graphql_api_id": gid("LineItem", l.id),
                "variant_id": l.variant_id,
                "product_id": l.product_id,
                "title": l.title,
                "variant_title": l.variant_title,
                "name": l.title,
                "sku": l.sku,
                "vendor": l.vendor,
                "quantity": l.quantity,
                "current_quantity": l.current_quantity(),
                "fulfillable_quantity": o.fulfillable_quantity(l.id),
                "fulfillment_status": if l.fulfilled >= l.current_quantity() && l.fulfilled > 0 { json!("fulfilled") } else if l.fulfilled > 0 { json!("partial") } else { Value::Null },
                "price": price(l.price_cents),
                "requires_shipping": l.requires_shipping,
                "taxable": l.taxable,
                "gift_card": l.is_gift_card,
            })
        })
        .collect();
    let shipping_address = o.shipping_address.as_ref().map_or(Value::Null, |a| {
        json!({
            "first_name": a.first_name, "last_name": a.last_name, "address1": a.address1,
            "city": a.city, "province_code": a.province_code, "country_code": a.country_code,
            "zip": a.zip,
        })
    });
    json!({
        "id": o.id,
        "admin_graphql_api_id": gid("Order", o.id),
        "name": o.name(),
        "order_number": o.number,
        "email": o.email,
        "phone": o.phone,
        "created_at": iso(o.created_at),
        "updated_at": iso(o.updated_at),
        "processed_at": iso(o.processed_at),
        "cancelled_at": o.cancelled_at.map(iso),
        "cancel_reason": o.cancel_reason.as_deref().map(lower),
        "closed_at": o.closed_at.map(iso),
        "currency": cur,
        "presentment_currency": cur,
        "financial_status": o.financial_status().map(lower),
        "fulfillment_status": fulfillment_status(o),
        "tags": o.tags.join(", "),
        "note": o.note,
        "test": o.test,
        "source_name": o.source_name,
        "customer_locale": o.locale,
        "total_price": price(o.total_cents()),
        "subtotal_price": price(o.subtotal_cents()),
        "current_total_price": price(o.current_total_cents()),
        "total_outstanding": price(o.outstanding_cents()),
        "payment_gateway_names": o.gateway_names(),
        "discount_codes": o.discount_codes.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
        "line_items": line_items,
        "shipping_lines": o.shipping_lines.iter().map(|s| json!({ "id": s.id, "title": s.title, "code": s.code, "source": s.source, "price": price(s.price_cents) })).collect::<Vec<_>>(),
        "shipping_address": shipping_address,
        "customer": customer,
        "company": o.company.as_ref().map_or(Value::Null, |c| json!({ "id": c.id, "location_id": c.location_id })),
        "refunds": o.refunds.iter().map(|r| refund(o, r)).collect::<Vec<_>>(),
    })
}

pub fn refund(o: &Order, r: &Refund) -> Value {
    let transactions: Vec<Value> = r
        .transaction_ids
        .iter()
        .filter_map(|id| o.transactions.iter().find(|t| t.id == *id))
        .map(|t| {
            json!({
                "id": t.id,
                "admin_graphql_api_id": gid("OrderTransaction", t.id),
                "amount": price(t.amount_cents),
                "kind": lower(t.kind.as_str()),
                "gateway": t.gateway,
                "status": lower(&t.status),
                "parent_id": t.parent_id,
                "currency": o.currency,
            })
        })
        .collect();
    json!({
        "id": r.id,
        "admin_graphql_api_id": gid("Refund", r.id),
        "order_id": o.id,
        "created_at": iso(r.created_at),
        "processed_at": iso(r.created_at),
        "note": r.note,
        "restock": r.lines.iter().any(|l| l.restocked),
        "refund_line_items": r.lines.iter().map(|l| json!({
            "id": l.id,
            "line_item_id": l.line_item_id,
            "location_id": l.location_id,
            "quantity": l.quantity,
            "restock_type": lower(&l.restock_type),
            "subtotal": price(l.unit_price_cents * l.quantity),
        })).collect::<Vec<_>>(),
        "transactions": transactions,
    })
}

pub fn fulfillment_order(fo: &FulfillmentOrder) -> Value {
    json!({
        "id": gid("FulfillmentOrder", fo.id),
        "status": lower(fo.status.as_str()),
        "request_status": lower(fo.request_status.as_str()),
    })
}

pub fn hold(h: &Hold) -> Value {
    json!({
        "id": gid("FulfillmentHold", h.id),
        "handle": h.handle,
        "reason": lower(&h.reason),
        "reason_notes": h.reason_notes,
    })
}

pub fn risk_assessment(o: &Order, level: &str, provider: Option<&str>) -> Value {
    json!({
        "provider_id": provider.map(|_| 2),
        "provider_title": provider,
        "risk_level": lower(level),
        "created_at": iso(chrono::Utc::now()),
        "order_id": o.id,
        "admin_graphql_api_order_id": gid("Order", o.id),
    })
}

pub fn inventory_level(v: &Variant, location_id: u64) -> Value {
    json!({
        "inventory_item_id": v.inventory_item_id,
        "location_id": location_id,
        "available": v.available.get(&location_id).copied().unwrap_or(0),
        "updated_at": iso(chrono::Utc::now()),
        "admin_graphql_api_id": format!("gid://shopify/InventoryLevel/{location_id}?inventory_item_id={}", v.inventory_item_id),
    })
}
