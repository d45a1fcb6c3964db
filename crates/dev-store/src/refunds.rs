//! `refundCreate` and `Order.suggestedRefund`.
//!
//! Rules: https://shopify.dev/docs/api/admin-graphql/latest/mutations/refundCreate. Messages
//! captured in `tests/captures/refund-create-*.json`: an unknown order, more units than were
//! purchased, and a refund above the net payment (which `allowOverRefunding` does not lift).
//! Refund line items remove units from the order; `RETURN` and `CANCEL` put them back in
//! stock; transactions move `displayFinancialStatus` (PAID → PARTIALLY_REFUNDED → REFUNDED; a
//! VOID of the only authorization → VOIDED).

use std::sync::Arc;

use async_graphql::dynamic::ResolverContext;
use chrono::Utc;
use serde_json::{Value, json};

use crate::model::{
    FoStatus, Notification, Order, Refund, RefundLine, State, Transaction, TxKind, dollars,
    parse_cents, parse_gid_of,
};
use crate::mutations::{Internal, Outcome, arr, b, s, user_errors};
use crate::payloads;
use crate::resolve::{arg_json, shopify_error};
use crate::store::Shared;
use crate::views::{self, money_bag};

fn order_summary(state: &State, order: &Order) -> Value {
    views::order(state, order)
}

struct LineRequest {
    line_item_id: u64,
    quantity: i64,
    restock_type: String,
    location_id: Option<u64>,
}

fn parse_lines(input: &[Value]) -> Vec<LineRequest> {
    input
        .iter()
        .map(|l| LineRequest {
            line_item_id: s(l, "lineItemId")
                .and_then(|g| parse_gid_of(g, "LineItem"))
                .unwrap_or_default(),
            quantity: l.get("quantity").and_then(Value::as_i64).unwrap_or(0),
            restock_type: s(l, "restockType").unwrap_or("NO_RESTOCK").to_string(),
            location_id: s(l, "locationId").and_then(|g| parse_gid_of(g, "Location")),
        })
        .collect()
}

pub fn refund_create(shared: &Arc<Shared>, args: &Value) -> Result<Outcome, Internal> {
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    let mut state = shared.state();
    let order_id = s(&input, "orderId").and_then(|g| parse_gid_of(g, "Order"));
    let Some(order) = order_id.and_then(|id| state.orders.get(&id)).cloned() else {
        return Ok(Outcome::payload(json!({
            "order": null,
            "refund": null,
            "userErrors": user_errors(&[(json!(["orderId"]), "Order does not exist".into())]),
        })));
    };
    let mut errors: Vec<(Value, String)> = Vec::new();
    let lines = parse_lines(arr(&input, "refundLineItems"));
    for (i, req) in lines.iter().enumerate() {
        match order.line(req.line_item_id) {
            None => errors.push((
                json!(["refundLineItems", i.to_string(), "lineItemId"]),
                "Line item does not exist".into(),
            )),
            Some(_) if req.quantity > order.refundable_quantity(req.line_item_id) => errors.push((
                json!(["refundLineItems", i.to_string(), "quantity"]),
                "Quantity cannot refund more items than were purchased".into(),
            )),
            Some(_) if req.restock_type == "LEGACY_RESTOCK" => errors.push((
                json!(["refundLineItems", i.to_string(), "restockType"]),
                "Restock type LEGACY_RESTOCK is not supported for new refunds".into(),
            )),
            Some(_) => {}
        }
    }
    let mut refund_cents = 0;
    let mut txs = Vec::new();
    for (i, t) in arr(&input, "transactions").iter().enumerate() {
        let amount = s(t, "amount").and_then(parse_cents).unwrap_or(0);
        let kind = s(t, "kind")
            .and_then(TxKind::parse)
            .unwrap_or(TxKind::Refund);
        let parent = s(t, "parentId").and_then(|g| parse_gid_of(g, "OrderTransaction"));
        if parent.is_some_and(|p| !order.transactions.iter().any(|x| x.id == p)) {
            errors.push((
                json!(["transactions", i.to_string(), "parentId"]),
                "Parent transaction does not exist".into(),
            ));
        }
        if kind == TxKind::Refund {
            refund_cents += amount;
        }
        txs.push((
            amount,
            kind,
            parent,
            s(t, "gateway").unwrap_or("manual").to_string(),
        ));
    }
    if refund_cents > order.net_payment_cents() {
        errors.push((
            Value::Null,
            format!(
                "Refund amount {} is greater than net payment received {}",
                dollars(refund_cents),
                dollars(order.net_payment_cents())
            ),
        ));
    }
    let mut store_credit_cents = 0;
    for (i, m) in arr(&input, "refundMethods").iter().enumerate() {
        if let Some(credit) = m.get("storeCreditRefund").filter(|c| !c.is_null()) {
            let field = json!(["refundMethods", i.to_string(), "storeCreditRefund"]);
            if order.company.is_some() {
                errors.push((
                    field,
                    "Store credit can't be refunded for B2B orders".into(),
                ));
            } else if order.customer_id.is_none() {
                errors.push((
                    field,
                    "A customer is required to refund to store credit".into(),
                ));
            } else {
                store_credit_cents += credit
                    .get("amount")
                    .and_then(|a| s(a, "amount"))
                    .and_then(parse_cents)
                    .unwrap_or(0);
            }
        }
    }
    if refund_cents + store_credit_cents > order.net_payment_cents() && store_credit_cents > 0 {
        errors.push((
            Value::Null,
            format!(
                "Refund amount {} is greater than net payment received {}",
                dollars(refund_cents + store_credit_cents),
                dollars(order.net_payment_cents())
            ),
        ));
    }
    if !errors.is_empty() {
        return Ok(Outcome::payload(json!({
            "order": order_summary(&state, &order),
            "refund": null,
            "userErrors": user_errors(&errors),
        })));
    }
    let money_moves = txs.iter().any(|t| t.0 > 0) || store_credit_cents > 0;
    if money_moves {
        let mut faults = shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if faults.refund_gateway_failures > 0 {
            faults.refund_gateway_failures -= 1;
            return Err(Internal(shopify_error(
                "Internal error. Looks like something went wrong on our end.",
                "INTERNAL_SERVER_ERROR",
            )));
        }
    }

    let now = Utc::now();
    let mut events = Vec::new();
    let mut restocked = Vec::new();
    let mut refund_lines = Vec::new();
    for req in &lines {
        let Some(line) = order.line(req.line_item_id) else {
            continue;
        };
        let location = req.location_id.or_else(|| {
            order
                .fulfillment_orders
                .iter()
                .find(|f| f.lines.iter().any(|l| l.line_item_id == line.id))
                .map(|f| f.location_id)
        });
        let restock = req.restock_type != "NO_RESTOCK" && line.variant_id.is_some();
        if restock
            && let (Some(v), Some(loc)) = (line.variant_id, location)
            && let Some(variant) = state.variants.get_mut(&v)
        {
            *variant.available.entry(loc).or_insert(0) += req.quantity;
            restocked.push((v, loc));
        }
        let id = state.next_id();
        refund_lines.push(RefundLine {
            id,
            line_item_id: line.id,
            quantity: req.quantity,
            restock_type: req.restock_type.clone(),
            restocked: restock,
            location_id: location,
            unit_price_cents: line.price_cents,
        });
    }
    let mut tx_ids = Vec::new();
    let mut new_txs = Vec::new();
    for (amount, kind, parent, gateway) in txs {
        let id = state.next_id();
        tx_ids.push(id);
        new_txs.push(Transaction {
            id,
            kind,
            status: "SUCCESS".into(),
            gateway,
            amount_cents: amount,
            parent_id: parent,
            created_at: now,
        });
    }
    let shipping = input.get("shipping").cloned().unwrap_or(Value::Null);
    let shipping_left = (order.shipping_cents() - order.shipping_refunded_cents).max(0);
    let shipping_cents = if b(&shipping, "fullRefund") == Some(true) {
        shipping_left
    } else {
        s(&shipping, "amount")
            .and_then(parse_cents)
            .unwrap_or(0)
            .min(shipping_left)
    };
    let refund_id = state.next_id();
    let notify = b(&input, "notify") == Some(true);
    let Some(o) = state.orders.get_mut(&order.id) else {
        return Ok(Outcome::payload(Value::Null));
    };
    o.transactions.extend(new_txs);
    o.shipping_refunded_cents += shipping_cents;
    for rl in &refund_lines {
        // Refunded units leave the order; unfulfilled ones also leave their fulfillment order.
        let mut to_take = rl
            .quantity
            .min(o.line(rl.line_item_id).map_or(0, |l| l.unfulfilled()));
        if let Some(line) = o.line_items.iter_mut().find(|l| l.id == rl.line_item_id) {
            line.removed += rl.quantity;
        }
        for fo in o
            .fulfillment_orders
            .iter_mut()
            .filter(|f| !matches!(f.status, FoStatus::Closed | FoStatus::Cancelled))
        {
            for l in fo
                .lines
                .iter_mut()
                .filter(|l| l.line_item_id == rl.line_item_id)
            {
                let take = to_take.min(l.remaining);
                l.remaining -= take;
                l.total -= take;
                to_take -= take;
            }
            if fo.lines.iter().all(|l| l.remaining == 0) {
                fo.status = FoStatus::Closed;
            }
            fo.updated_at = now;
        }
    }
    o.refunds.push(Refund {
        id: refund_id,
        note: s(&input, "note").map(str::to_string),
        created_at: now,
        lines: refund_lines,
        transaction_ids: tx_ids,
        shipping_cents,
        store_credit_cents,
    });
    o.updated_at = now;
    let email = o.email.clone();
    if notify {
        state.notifications.push(Notification {
            order_id: order.id,
            email,
            kind: "refund_created".into(),
            at: now,
        });
    }
    let Some(o) = state.orders.get(&order.id) else {
        return Ok(Outcome::payload(Value::Null));
    };
    let refund_view = o
        .refunds
        .last()
        .map_or(Value::Null, |r| views::refund(o, r));
    if let Some(r) = o.refunds.last() {
        events.push(("refunds/create".to_string(), payloads::refund(o, r)));
    }
    events.push(("orders/updated".to_string(), payloads::order(&state, o)));
    for (v, loc) in restocked {
        if let Some(variant) = state.variants.get(&v) {
            events.push((
                "inventory_levels/update".to_string(),
                payloads::inventory_level(variant, loc),
            ));
        }
    }
    Ok(Outcome {
        payload: json!({
            "order": views::order(&state, o),
            "refund": refund_view,
            "userErrors": [],
        }),
        events,
    })
}

/// `Order.suggestedRefund`: what a refund of the given lines and shipping would return, capped
/// at the net payment, split over the original payments.
/// https://shopify.dev/docs/api/admin-graphql/latest/objects/SuggestedRefund
pub fn suggested_refund(
    state: &State,
    order: &Order,
    ctx: &ResolverContext<'_>,
) -> async_graphql::Result<Value> {
    let _ = state;
    let cur = order.currency.as_str();
    let full = ctx
        .args
        .get("suggestFullRefund")
        .and_then(|v| v.boolean().ok())
        == Some(true);
    let mut lines = parse_lines(
        arg_json(ctx, "refundLineItems")
            .as_array()
            .map_or(&[][..], Vec::as_slice),
    );
    if full {
        lines = order
            .line_items
            .iter()
            .filter(|l| l.current_quantity() > 0)
            .map(|l| LineRequest {
                line_item_id: l.id,
                quantity: l.current_quantity(),
                restock_type: if l.unfulfilled() > 0 {
                    "CANCEL"
                } else {
                    "NO_RESTOCK"
                }
                .into(),
                location_id: None,
            })
            .collect();
    }
    let mut subtotal = 0;
    let mut refund_line_views = Vec::new();
    for req in &lines {
        let Some(line) = order.line(req.line_item_id) else {
            continue;
        };
        let quantity = req.quantity.min(order.refundable_quantity(line.id)).max(0);
        subtotal += quantity * line.price_cents;
        refund_line_views.push(json!({
            "__typename": "RefundLineItem",
            "id": null,
            "quantity": quantity,
            "restockType": req.restock_type,
            "restocked": false,
            "lineItem": views::line_item(order, line),
            "location": null,
            "priceSet": money_bag(line.price_cents, cur),
            "subtotalSet": money_bag(quantity * line.price_cents, cur),
        }));
    }
    let shipping_left = (order.shipping_cents() - order.shipping_refunded_cents).max(0);
    let refund_shipping = ctx
        .args
        .get("refundShipping")
        .and_then(|v| v.boolean().ok())
        == Some(true);
    let shipping = if full || refund_shipping {
        shipping_left
    } else {
        ctx.args
            .get("shippingAmount")
            .and_then(|v| v.string().ok().and_then(parse_cents))
            .unwrap_or(0)
            .min(shipping_left)
    };
    let maximum = order.net_payment_cents().max(0);
    let amount = (subtotal + shipping).min(maximum);
    let mut remaining = amount;
    let mut suggested = Vec::new();
    for parent in order
        .transactions
        .iter()
        .filter(|t| t.status == "SUCCESS" && matches!(t.kind, TxKind::Sale | TxKind::Capture))
    {
        let refunded: i64 = order
            .transactions
            .iter()
            .filter(|t| {
                t.kind == TxKind::Refund && t.status == "SUCCESS" && t.parent_id == Some(parent.id)
            })
            .map(|t| t.amount_cents)
            .sum();
        let available = parent.amount_cents - refunded;
        let take = remaining.min(available);
        if take <= 0 {
            continue;
        }
        remaining -= take;
        suggested.push(json!({
            "kind": "SUGGESTED_REFUND",
            "gateway": parent.gateway,
            "amountSet": money_bag(take, cur),
            "maximumRefundableSet": money_bag(available, cur),
            "parentTransaction": views::transaction(order, parent),
        }));
    }
    Ok(json!({
        "amountSet": money_bag(amount, cur),
        "maximumRefundableSet": money_bag(maximum, cur),
        "subtotalSet": money_bag(subtotal, cur),
        "totalTaxSet": money_bag(0, cur),
        "discountedSubtotalSet": money_bag(subtotal, cur),
        "totalCartDiscountAmountSet": money_bag(0, cur),
        "refundLineItems": refund_line_views,
        "shipping": {
            "amountSet": money_bag(shipping, cur),
            "maximumRefundableSet": money_bag(shipping_left, cur),
        },
        "suggestedTransactions": suggested,
    }))
}
