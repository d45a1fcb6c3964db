//! JSON views of the state in the Admin API's field names. The resolvers read fields out of
//! these views; fields that point at other resources hold a lazy `{"$ref": [...]}` that the
//! resolver loads on access, so cycles (order → fulfillment order → order) cost nothing.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::model::{
    self, FoStatus, FulfillmentOrder, Hold, LineItem, Order, RequestStatus, State, decimal, gid,
    iso,
};

pub fn reference(parts: &[Value]) -> Value {
    json!({ "$ref": parts })
}

fn money(cents: i64, currency: &str) -> Value {
    json!({ "amount": decimal(cents), "currencyCode": currency })
}

/// `MoneyBag`: the dev store has one currency per order, so shop and presentment agree.
pub fn money_bag(cents: i64, currency: &str) -> Value {
    json!({ "shopMoney": money(cents, currency), "presentmentMoney": money(cents, currency) })
}

fn opt_iso(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(iso(t)))
}

pub fn shop(state: &State) -> Value {
    let s = &state.shop;
    let tz: chrono_tz::Tz = s.timezone.parse().unwrap_or(chrono_tz::UTC);
    let now = Utc::now().with_timezone(&tz);
    let offset_minutes = now.offset().fix().local_minus_utc() / 60;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.abs();
    json!({
        "__typename": "Shop",
        "id": gid("Shop", s.id),
        "name": s.name,
        "email": s.email,
        "myshopifyDomain": s.domain,
        "ianaTimezone": s.timezone,
        "timezoneAbbreviation": now.format("%Z").to_string(),
        "timezoneOffset": format!("{sign}{:02}{:02}", abs / 60, abs % 60),
        "timezoneOffsetMinutes": offset_minutes,
        "currencyCode": s.currency,
        "plan": {
            "partnerDevelopment": false,
            "shopifyPlus": matches!(s.plan, model::Plan::Plus | model::Plan::Enterprise),
            "publicDisplayName": s.plan.display_name(),
        },
    })
}

use chrono::Offset;

pub fn location(state: &State, id: u64) -> Value {
    match state.location(id) {
        Some(l) => json!({
            "__typename": "Location",
            "id": gid("Location", l.id),
            "name": l.name,
            "isActive": l.active,
        }),
        None => Value::Null,
    }
}

pub fn customer(state: &State, id: u64) -> Value {
    let Some(c) = state.customers.get(&id) else {
        return Value::Null;
    };
    json!({
        "__typename": "Customer",
        "id": gid("Customer", c.id),
        "email": c.email,
        "displayName": format!("{} {}", c.first_name, c.last_name).trim().to_string(),
        "firstName": c.first_name,
        "lastName": c.last_name,
        "locale": c.locale,
        "tags": c.tags,
        "numberOfOrders": c.number_of_orders.to_string(),
    })
}

pub fn product(state: &State, id: u64) -> Value {
    let Some(p) = state.products.get(&id) else {
        return Value::Null;
    };
    let collections: Vec<Value> = p
        .collections
        .iter()
        .filter_map(|c| state.collections.get(c))
        .map(|c| {
            json!({
                "__typename": "Collection",
                "id": gid("Collection", c.id),
                "title": c.title,
                "handle": c.handle,
            })
        })
        .collect();
    let total: i64 = p
        .variants
        .iter()
        .filter_map(|v| state.variants.get(v))
        .map(|v| v.inventory_quantity())
        .sum();
    json!({
        "__typename": "Product",
        "id": gid("Product", p.id),
        "title": p.title,
        "handle": p.handle,
        "tags": p.tags,
        "productType": p.product_type,
        "vendor": p.vendor,
        "isGiftCard": p.is_gift_card,
        "requiresSellingPlan": p.requires_selling_plan,
        "collections": collections,
        "totalInventory": total,
    })
}

pub fn inventory_item(state: &State, variant_id: u64) -> Value {
    let Some(v) = state.variants.get(&variant_id) else {
        return Value::Null;
    };
    let levels: Vec<Value> = v
        .available
        .iter()
        .map(|(loc, qty)| {
            json!({
                "__typename": "InventoryLevel",
                "id": format!("gid://shopify/InventoryLevel/{}?inventory_item_id={}", loc, v.inventory_item_id),
                "location": reference(&[json!("Location"), json!(loc)]),
                "quantitiesAll": { "available": qty, "on_hand": qty },
            })
        })
        .collect();
    json!({
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", v.inventory_item_id),
        "sku": v.sku,
        "tracked": true,
        "inventoryLevels": levels,
    })
}

pub fn variant(state: &State, id: u64) -> Value {
    let Some(v) = state.variants.get(&id) else {
        return Value::Null;
    };
    let product_title = state
        .products
        .get(&v.product_id)
        .map(|p| p.title.clone())
        .unwrap_or_default();
    json!({
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", v.id),
        "title": v.title,
        "sku": v.sku,
        "price": decimal(v.price_cents),
        "inventoryQuantity": v.inventory_quantity(),
        "inventoryPolicy": v.policy,
        "inventoryItem": inventory_item(state, v.id),
        "product": reference(&[json!("Product"), json!(v.product_id)]),
        "displayName": format!("{product_title} - {}", v.title),
    })
}

pub fn line_item(order: &Order, line: &LineItem) -> Value {
    let cur = &order.currency;
    let selling_plan = line.selling_plan.as_ref().map_or(
        Value::Null,
        |(id, name)| json!({ "name": name, "sellingPlanId": gid("SellingPlan", *id) }),
    );
    let fulfillable = order.fulfillable_quantity(line.id);
    let name = match &line.variant_title {
        Some(v) if !v.is_empty() => format!("{} - {v}", line.title),
        _ => line.title.clone(),
    };
    json!({
        "__typename": "LineItem",
        "id": gid("LineItem", line.id),
        "name": name,
        "title": line.title,
        "quantity": line.quantity,
        "currentQuantity": line.current_quantity(),
        "unfulfilledQuantity": line.unfulfilled(),
        "refundableQuantity": order.refundable_quantity(line.id),
        "nonFulfillableQuantity": (line.unfulfilled() - fulfillable).max(0),
        "fulfillableQuantity": fulfillable,
        "restockable": line.variant_id.is_some() && line.current_quantity() > 0,
        "sku": line.sku,
        "variantTitle": line.variant_title,
        "vendor": line.vendor,
        "isGiftCard": line.is_gift_card,
        "requiresShipping": line.requires_shipping,
        "taxable": line.taxable,
        "variant": line.variant_id.map_or(Value::Null, |v| reference(&[json!("ProductVariant"), json!(v)])),
        "product": line.product_id.map_or(Value::Null, |p| reference(&[json!("Product"), json!(p)])),
        "sellingPlan": selling_plan,
        "originalUnitPriceSet": money_bag(line.price_cents, cur),
        "discountedUnitPriceSet": money_bag(line.price_cents, cur),
        "originalTotalSet": money_bag(line.price_cents * line.quantity, cur),
    })
}

pub fn hold_display_reason(reason: &str) -> &'static str {
    // Display texts as Shopify shows them; AWAITING_RETURN_ITEMS and OTHER are captured.
    match reason {
        "AWAITING_PAYMENT" => "Awaiting payment",
        "HIGH_RISK_OF_FRAUD" => "High risk of fraud",
        "INCORRECT_ADDRESS" => "Incorrect address",
        "INVENTORY_OUT_OF_STOCK" => "Inventory out of stock",
        "UNKNOWN_DELIVERY_DATE" => "Unknown delivery date",
        "ONLINE_STORE_POST_PURCHASE_CROSS_SELL" => "Post-purchase cross-sell",
        "AWAITING_RETURN_ITEMS" => "Exchange items awaiting return delivery",
        _ => "Other",
    }
}

pub fn hold(h: &Hold) -> Value {
    json!({
        "__typename": "FulfillmentHold",
        "id": gid("FulfillmentHold", h.id),
        "handle": h.handle,
        "reason": h.reason,
        "reasonNotes": h.reason_notes,
        "displayReason": hold_display_reason(&h.reason),
        "heldByApp": { "__typename": "App", "id": gid("App", 1), "title": "cancel-policy", "handle": "cancel-policy" },
        "heldByRequestingApp": h.by_this_app,
    })
}

/// `FulfillmentOrder.supportedActions` (captured for OPEN and ON_HOLD merchant-managed FOs).
pub fn supported_actions(fo: &FulfillmentOrder) -> Vec<&'static str> {
    let units: i64 = fo.lines.iter().map(|l| l.remaining).sum();
    match (fo.status, fo.fulfillment_service, fo.request_status) {
        (FoStatus::OnHold, _, _) => {
            // At the hold limit HOLD is no longer offered (captured).
            let mine = fo.holds.iter().filter(|h| h.by_this_app).count();
            if mine >= crate::mutations::holds::HOLD_LIMIT {
                vec!["RELEASE_HOLD", "MOVE"]
            } else {
                vec!["RELEASE_HOLD", "HOLD", "MOVE"]
            }
        }
        (FoStatus::Open, false, _) => {
            let mut a = vec!["CREATE_FULFILLMENT", "REPORT_PROGRESS", "MOVE", "HOLD"];
            if units > 1 {
                a.push("SPLIT");
            }
            a
        }
        (FoStatus::Open, true, RequestStatus::Submitted) => vec!["CANCEL_FULFILLMENT_ORDER"],
        (FoStatus::Open, true, _) => vec!["REQUEST_FULFILLMENT", "MOVE", "HOLD"],
        (FoStatus::InProgress, true, RequestStatus::Accepted) => vec!["REQUEST_CANCELLATION"],
        (FoStatus::InProgress, _, _) => vec!["CREATE_FULFILLMENT", "REPORT_PROGRESS", "HOLD"],
        (FoStatus::Scheduled, _, _) => vec!["MARK_AS_OPEN"],
        _ => Vec::new(),
    }
}

pub fn fulfillment_order(state: &State, order: &Order, fo: &FulfillmentOrder) -> Value {
    let loc = state.location(fo.location_id);
    let lines: Vec<Value> = fo
        .lines
        .iter()
        .filter_map(|l| {
            let line = order.line(l.line_item_id)?;
            Some(json!({
                "__typename": "FulfillmentOrderLineItem",
                "id": gid("FulfillmentOrderLineItem", l.id),
                "totalQuantity": l.total,
                "remainingQuantity": l.remaining,
                "lineItem": reference(&[json!("LineItem"), json!(order.id), json!(line.id)]),
                "sku": line.sku,
                "productTitle": line.title,
            }))
        })
        .collect();
    let requests: Vec<Value> = fo
        .merchant_requests
        .iter()
        .map(|r| {
            json!({
                "__typename": "FulfillmentOrderMerchantRequest",
                "id": gid("FulfillmentOrderMerchantRequest", r.id),
                "kind": r.kind,
                "message": r.message,
                "requestOptions": { "notify_customer": false },
                "sentAt": iso(r.sent_at),
            })
        })
        .collect();
    let country = order
        .shipping_address
        .as_ref()
        .map_or("US".to_string(), |a| a.country_code.clone());
    let actions: Vec<Value> = supported_actions(fo)
        .into_iter()
        .map(|a| json!({ "action": a, "externalUrl": null }))
        .collect();
    json!({
        "__typename": "FulfillmentOrder",
        "id": gid("FulfillmentOrder", fo.id),
        "status": fo.status,
        "requestStatus": fo.request_status,
        "createdAt": iso(fo.created_at),
        "updatedAt": iso(fo.updated_at),
        "fulfillAt": opt_iso(fo.fulfill_at),
        "fulfillBy": null,
        "fulfillmentHolds": fo.holds.iter().map(hold).collect::<Vec<_>>(),
        "supportedActions": actions,
        "assignedLocation": {
            "name": loc.map(|l| l.name.clone()).unwrap_or_default(),
            "location": reference(&[json!("Location"), json!(fo.location_id)]),
            "countryCode": country,
        },
        "lineItems": lines,
        "merchantRequests": requests,
        "order": reference(&[json!("Order"), json!(order.id)]),
        "orderId": gid("Order", order.id),
        "orderName": order.name(),
    })
}

/// Shopify sets `fulfillAt` to the hour the order was placed (captured).
pub fn fulfill_at(created: DateTime<Utc>) -> Option<DateTime<Utc>> {
    created.duration_trunc(TimeDelta::hours(1)).ok()
}

pub fn transaction(order: &Order, tx: &model::Transaction) -> Value {
    json!({
        "__typename": "OrderTransaction",
        "id": gid("OrderTransaction", tx.id),
        "kind": tx.kind,
        "status": tx.status,
        "gateway": tx.gateway,
        "amountSet": money_bag(tx.amount_cents, &order.currency),
        "createdAt": iso(tx.created_at),
        "processedAt": iso(tx.created_at),
        "parentTransaction": tx.parent_id.and_then(|p| order.transactions.iter().find(|t| t.id == p)).map_or(Value::Null, |p| transaction(order, p)),
        "test": order.test,
    })
}

pub fn refund_line(order: &Order, r: &model::RefundLine) -> Value {
    json!({
        "__typename": "RefundLineItem",
        "id": gid("RefundLineItem", r.id),
        "quantity": r.quantity,
        "restockType": r.restock_type,
        "restocked": r.restocked,
        "lineItem": reference(&[json!("LineItem"), json!(order.id), json!(r.line_item_id)]),
        "location": r.location_id.map_or(Value::Null, |l| reference(&[json!("Location"), json!(l)])),
        "priceSet": money_bag(r.unit_price_cents, &order.currency),
        "subtotalSet": money_bag(r.unit_price_cents * r.quantity, &order.currency),
    })
}

pub fn refund(order: &Order, refund: &model::Refund) -> Value {
    let txs: Vec<Value> = refund
        .transaction_ids
        .iter()
        .filter_map(|id| order.transactions.iter().find(|t| t.id == *id))
        .map(|t| transaction(order, t))
        .collect();
    let tx_total: i64 = refund
        .transaction_ids
        .iter()
        .filter_map(|id| order.transactions.iter().find(|t| t.id == *id))
        .filter(|t| t.kind == model::TxKind::Refund && t.status == "SUCCESS")
        .map(|t| t.amount_cents)
        .sum();
    json!({
        "__typename": "Refund",
        "id": gid("Refund", refund.id),
        "note": refund.note,
        "createdAt": iso(refund.created_at),
        "updatedAt": iso(refund.created_at),
        "processedAt": iso(refund.created_at),
        "totalRefundedSet": money_bag(tx_total + refund.store_credit_cents, &order.currency),
        "refundLineItems": refund.lines.iter().map(|l| refund_line(order, l)).collect::<Vec<_>>(),
        "transactions": txs,
        "order": reference(&[json!("Order"), json!(order.id)]),
    })
}

pub fn order(state: &State, o: &Order) -> Value {
    let cur = o.currency.as_str();
    let financial = o.financial_status();
    let received = o.received_cents();
    let refunded = o.refunded_cents();
    let capturable: i64 = o.open_authorizations().iter().map(|t| t.amount_cents).sum();
    let shipping_address = o.shipping_address.as_ref().map_or(Value::Null, |a| {
        json!({
            "__typename": "MailingAddress",
            "id": gid("MailingAddress", o.id),
            "address1": a.address1, "city": a.city, "province": a.province_code,
            "provinceCode": a.province_code, "country": a.country_code,
            "countryCodeV2": a.country_code, "zip": a.zip,
            "firstName": a.first_name, "lastName": a.last_name,
        })
    });
    let shipping_lines: Vec<Value> = o
        .shipping_lines
        .iter()
        .map(|s| {
            json!({
                "id": gid("ShippingLine", s.id),
                "title": s.title, "code": s.code, "source": s.source,
                "carrierIdentifier": null,
                "originalPriceSet": money_bag(s.price_cents, cur),
                "discountedPriceSet": money_bag(s.price_cents, cur),
            })
        })
        .collect();
    let purchasing_entity = match (&o.company, o.customer_id) {
        (Some(c), _) => json!({
            "__typename": "PurchasingCompany",
            "company": { "__typename": "Company", "id": gid("Company", c.id), "name": c.name, "externalId": null },
            "contact": { "__typename": "CompanyContact", "id": gid("CompanyContact", c.contact_id) },
            "location": { "__typename": "CompanyLocation", "id": gid("CompanyLocation", c.location_id), "name": c.location_name },
        }),
        (None, Some(c)) => reference(&[json!("Customer"), json!(c)]),
        (None, None) => Value::Null,
    };
    let assessments: Vec<Value> = o
        .risk
        .iter()
        .map(|r| {
            json!({
                "riskLevel": r.level,
                "facts": r.facts.iter().map(|(d, s)| json!({ "description": d, "sentiment": s })).collect::<Vec<_>>(),
                "provider": r.provider.as_ref().map_or(Value::Null, |p| json!({ "__typename": "App", "id": gid("App", 2), "title": p, "handle": null })),
            })
        })
        .collect();
    let all_fulfilled = o.fulfillment_status() == "FULFILLED";
    json!({
        "__typename": "Order",
        "id": gid("Order", o.id),
        "legacyResourceId": o.id.to_string(),
        "name": o.name(),
        "createdAt": iso(o.created_at),
        "updatedAt": iso(o.updated_at),
        "processedAt": iso(o.processed_at),
        "cancelledAt": opt_iso(o.cancelled_at),
        "cancelReason": o.cancel_reason,
        "cancellation": if o.cancelled_at.is_some() { json!({ "staffNote": o.staff_note }) } else { Value::Null },
        "closed": o.closed_at.is_some(),
        "closedAt": opt_iso(o.closed_at),
        "confirmed": true,
        "test": o.test,
        "tags": o.tags,
        "note": o.note,
        "email": o.email,
        "phone": o.phone,
        "customerLocale": o.locale,
        "currencyCode": cur,
        "presentmentCurrencyCode": cur,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": o.fulfillment_status(),
        "returnStatus": o.return_status,
        "totalPriceSet": money_bag(o.total_cents(), cur),
        "currentTotalPriceSet": money_bag(o.current_total_cents(), cur),
        "subtotalPriceSet": money_bag(o.subtotal_cents(), cur),
        "totalRefundedSet": money_bag(refunded, cur),
        "totalReceivedSet": money_bag(received, cur),
        "netPaymentSet": money_bag(o.net_payment_cents(), cur),
        "totalOutstandingSet": money_bag(o.outstanding_cents(), cur),
        "totalShippingPriceSet": money_bag(o.shipping_cents(), cur),
        "totalCapturableSet": money_bag(capturable, cur),
        "originalTotalPriceSet": money_bag(o.total_cents(), cur),
        "paymentGatewayNames": o.gateway_names(),
        "fullyPaid": o.outstanding_cents() == 0 && received > 0,
        "unpaid": received == 0,
        "refundable": o.net_payment_cents() > 0,
        "fulfillable": o.cancelled_at.is_none() && !all_fulfilled && o.line_items.iter().any(|l| o.fulfillable_quantity(l.id) > 0),
        "restockable": o.line_items.iter().any(|l| l.variant_id.is_some() && l.current_quantity() > 0),
        "requiresShipping": o.line_items.iter().any(|l| l.requires_shipping),
        "customer": o.customer_id.map_or(Value::Null, |c| reference(&[json!("Customer"), json!(c)])),
        "purchasingEntity": purchasing_entity,
        "shippingAddress": shipping_address,
        "shippingLine": shipping_lines.first().cloned().unwrap_or(Value::Null),
        "shippingLines": shipping_lines,
        "discountCode": o.discount_codes.first(),
        "discountCodes": o.discount_codes,
        "channelInformation": null,
        "sourceName": o.source_name,
        "lineItems": o.line_items.iter().map(|l| line_item(o, l)).collect::<Vec<_>>(),
        "fulfillmentOrders": o.fulfillment_orders.iter().map(|f| fulfillment_order(state, o, f)).collect::<Vec<_>>(),
        "risk": { "recommendation": o.risk_recommendation(), "assessments": assessments },
        "refunds": o.refunds.iter().map(|r| refund(o, r)).collect::<Vec<_>>(),
        "transactions": o.transactions.iter().map(|t| transaction(o, t)).collect::<Vec<_>>(),
        "returns": [],
    })
}

pub fn metafield(m: &model::Metafield) -> Value {
    let json_value = if m.kind == "json" || m.kind.starts_with("list.") {
        serde_json::from_str(&m.value).unwrap_or(Value::String(m.value.clone()))
    } else if m.kind == "number_integer" {
        m.value
            .parse::<i64>()
            .map_or(Value::String(m.value.clone()), Value::from)
    } else if m.kind == "boolean" {
        Value::Bool(m.value == "true")
    } else {
        Value::String(m.value.clone())
    };
    json!({
        "__typename": "Metafield",
        "id": gid("Metafield", m.id),
        "namespace": m.namespace,
        "key": m.key,
        "value": m.value,
        "type": m.kind,
        "jsonValue": json_value,
        "compareDigest": m.digest(),
        "createdAt": iso(m.created_at),
        "updatedAt": iso(m.updated_at),
    })
}

/// Loads a `{"$ref": [kind, ids...]}` (or a node by gid) into its view; null when absent.
pub fn load(state: &State, parts: &[Value]) -> Value {
    let kind = parts.first().and_then(Value::as_str).unwrap_or_default();
    let id = parts.get(1).and_then(Value::as_u64).unwrap_or_default();
    match kind {
        "Order" => state
            .orders
            .get(&id)
            .map_or(Value::Null, |o| order(state, o)),
        "Customer" => customer(state, id),
        "Product" => product(state, id),
        "ProductVariant" => variant(state, id),
        "Location" => location(state, id),
        "LineItem" => {
            let line_id = parts.get(2).and_then(Value::as_u64).unwrap_or_default();
            state
                .orders
                .get(&id)
                .and_then(|o| o.line(line_id).map(|l| line_item(o, l)))
                .unwrap_or(Value::Null)
        }
        "FulfillmentOrder" => state
            .order_of_fo(id)
            .and_then(|oid| state.orders.get(&oid))
            .and_then(|o| o.fo(id).map(|f| fulfillment_order(state, o, f)))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Replaces nested `$ref`s by their views for plain-JSON readers (the Rust handle and
/// `/_dev/orders`); a reference back to an order becomes `{"id": ...}` to stop the cycle.
pub fn inline_refs(state: &State, value: Value, depth: usize) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(parts) = map.get("$ref").and_then(Value::as_array) {
                if depth > 4 || parts.first().and_then(Value::as_str) == Some("Order") {
                    let id = parts.get(1).and_then(Value::as_u64).unwrap_or_default();
                    let kind = parts.first().and_then(Value::as_str).unwrap_or_default();
                    let id = match kind {
                        "LineItem" => parts.get(2).and_then(Value::as_u64).unwrap_or_default(),
                        _ => id,
                    };
                    return json!({ "id": gid(kind, id) });
                }
                return inline_refs(state, load(state, parts), depth + 1);
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, inline_refs(state, v, depth)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| inline_refs(state, v, depth))
                .collect(),
        ),
        other => other,
    }
}

/// Resolves `node(id:)` and the typed root lookups by gid.
pub fn node(state: &State, gid_str: &str) -> Value {
    let Some((kind, id)) = model::parse_gid(gid_str) else {
        return Value::Null;
    };
    match kind {
        "Shop" if id == state.shop.id => shop(state),
        "Metafield" => state
            .metafields
            .iter()
            .find(|m| m.id == id)
            .map_or(Value::Null, metafield),
        "InventoryItem" => state
            .variant_by_item(id)
            .map_or(Value::Null, |v| inventory_item(state, v.id)),
        "Refund" => state
            .orders
            .values()
            .find_map(|o| o.refunds.iter().find(|r| r.id == id).map(|r| refund(o, r)))
            .unwrap_or(Value::Null),
        "LineItem" => state
            .orders
            .values()
            .find_map(|o| o.line(id).map(|l| line_item(o, l)))
            .unwrap_or(Value::Null),
        _ => load(state, &[json!(kind), json!(id)]),
    }
}
