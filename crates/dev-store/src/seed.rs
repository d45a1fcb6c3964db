//! Seed data: products, customers and orders described as plain serde structs (also the body
//! of `POST /_dev/seed`), the demo catalog, and `create_order`, which `orderCreate` shares.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{
    Address, Collection, Company, Customer, FoLine, FoStatus, FulfillmentOrder, Hold,
    InventoryPolicy, LineItem, Order, Product, RequestStatus, RiskAssessment, ShippingLine, State,
    Transaction, TxKind, Variant, parse_cents,
};
use crate::payloads;
use crate::views;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewVariant {
    pub title: String,
    pub sku: String,
    /// Decimal price, e.g. `"18.00"`.
    pub price: String,
    /// `available` units per location name; an empty map stocks the default location.
    pub stock: std::collections::BTreeMap<String, i64>,
    /// Units at the default location when `stock` is empty.
    pub quantity: i64,
    /// `DENY` (default) or `CONTINUE` (keep selling when out of stock).
    pub inventory_policy: Option<InventoryPolicy>,
    pub requires_shipping: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewProduct {
    pub title: String,
    pub handle: Option<String>,
    pub tags: Vec<String>,
    pub product_type: String,
    pub vendor: String,
    /// Collection titles; missing collections are created.
    pub collections: Vec<String>,
    pub gift_card: bool,
    pub requires_selling_plan: bool,
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewCustomer {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: Option<String>,
    pub tags: Vec<String>,
    /// Orders placed before the seed (Shopify's `numberOfOrders`).
    pub previous_orders: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewLine {
    /// Finds the variant by SKU.
    pub sku: Option<String>,
    pub variant_id: Option<u64>,
    /// Title of a custom line (no variant).
    pub title: Option<String>,
    pub quantity: i64,
    /// Unit price; defaults to the variant's price.
    pub price: Option<String>,
    pub requires_shipping: Option<bool>,
    pub taxable: Option<bool>,
    pub gift_card: Option<bool>,
    /// A selling-plan name (`subscription`, `pre_order`, …).
    pub selling_plan: Option<String>,
    /// Units already fulfilled.
    pub fulfilled: i64,
}

/// How the order was paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    /// A captured sale for the total.
    #[default]
    Paid,
    /// An authorization not yet captured.
    Authorized,
    /// A pending sale.
    Pending,
    /// Half the total captured.
    PartiallyPaid,
    /// No transaction at all.
    None,
}

/// Where the order's fulfillment stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Fulfillment {
    #[default]
    Unfulfilled,
    /// Every unit shipped.
    Fulfilled,
    /// The first line shipped.
    PartiallyFulfilled,
    /// Assigned to the fulfillment service, which accepted it and is working on it.
    InProgressAtService,
    /// Assigned to the fulfillment service, not yet requested.
    AtService,
    /// Held by someone else (staff or another app) for `reason`.
    OnHold { reason: String },
    /// Scheduled (a pre-order or subscription), released at `fulfill_at`.
    Scheduled { fulfill_at: Option<DateTime<Utc>> },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InventoryBehaviour {
    /// Leave inventory untouched (`orderCreate`'s default).
    #[default]
    Bypass,
    DecrementIgnoringPolicy,
    DecrementObeyingPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewTransaction {
    pub kind: String,
    pub status: Option<String>,
    pub amount: String,
    pub gateway: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewRisk {
    /// HIGH, MEDIUM, LOW, NONE or PENDING.
    pub level: String,
    /// None for Shopify's own assessment.
    pub provider: Option<String>,
    pub facts: Vec<String>,
}

/// An order to seed; the same shape `orderCreate` is mapped to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewOrder {
    pub email: Option<String>,
    /// Associates (or creates) the customer with this email.
    pub customer: Option<String>,
    /// Places the order for a B2B company of this name.
    pub company: Option<String>,
    pub lines: Vec<NewLine>,
    pub created_at: Option<DateTime<Utc>>,
    pub currency: Option<String>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub test: bool,
    /// The customer's locale, e.g. `fr`.
    pub locale: Option<String>,
    pub shipping_country: Option<String>,
    pub shipping_address: Option<Address>,
    /// Shipping line title and price.
    pub shipping: Option<(String, String)>,
    pub discount_codes: Vec<String>,
    pub source_name: Option<String>,
    pub payment: Payment,
    pub gateway: Option<String>,
    /// Explicit transactions (override `payment`).
    pub transactions: Vec<NewTransaction>,
    pub fulfillment: Fulfillment,
    pub location: Option<String>,
    pub risk: Vec<NewRisk>,
    pub return_status: Option<String>,
    pub inventory: InventoryBehaviour,
    /// Sets the order number (`#1286`) when the captures need one.
    pub number: Option<u64>,
}

/// Why an order could not be created.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeedError {
    #[error("line {index}: no variant with SKU `{sku}`")]
    UnknownSku { index: usize, sku: String },
    #[error("line {index}: no variant with id {id}")]
    UnknownVariant { index: usize, id: u64 },
    #[error("line {index}: a line needs a `sku`, a `variant_id` or a `title`")]
    EmptyLine { index: usize },
    #[error("line {index}: `{value}` is not a price")]
    BadPrice { index: usize, value: String },
    #[error("line {index}: quantity must be at least 1")]
    BadQuantity { index: usize },
    #[error("line {index}: not enough inventory for `{title}`")]
    InventoryClaimFailed { index: usize, title: String },
    #[error("an order needs at least one line")]
    NoLines,
    #[error("no location named `{0}`")]
    UnknownLocation(String),
    #[error("no location to fulfill from: seed one first")]
    NoLocation,
    #[error("`{0}` is not an amount")]
    BadAmount(String),
}

fn handle_of(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

pub fn location_by_name(state: &State, name: &str) -> Option<u64> {
    state
        .locations
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.id)
}

pub fn add_product(state: &mut State, p: &NewProduct) -> Result<u64, SeedError> {
    let id = state.next_id();
    let mut collection_ids = Vec::new();
    for title in &p.collections {
        let existing = state
            .collections
            .values()
            .find(|c| &c.title == title)
            .map(|c| c.id);
        let cid = match existing {
            Some(c) => c,
            None => {
                let cid = state.next_id();
                state.collections.insert(
                    cid,
                    Collection {
                        id: cid,
                        title: title.clone(),
                        handle: handle_of(title),
                    },
                );
                cid
            }
        };
        collection_ids.push(cid);
    }
    let default_location = state.default_location();
    let mut variant_ids = Vec::new();
    for v in &p.variants {
        let vid = state.next_id();
        let item = state.next_id();
        let mut available = std::collections::BTreeMap::new();
        if v.stock.is_empty() {
            if let Some(l) = default_location {
                available.insert(l, v.quantity);
            }
        } else {
            for (name, q) in &v.stock {
                let l = location_by_name(state, name)
                    .ok_or_else(|| SeedError::UnknownLocation(name.clone()))?;
                available.insert(l, *q);
            }
        }
        let price_cents =
            parse_cents(&v.price).ok_or_else(|| SeedError::BadAmount(v.price.clone()))?;
        state.variants.insert(
            vid,
            Variant {
                id: vid,
                product_id: id,
                title: if v.title.is_empty() {
                    "Default Title".into()
                } else {
                    v.title.clone()
                },
                sku: v.sku.clone(),
                price_cents,
                inventory_item_id: item,
                policy: v.inventory_policy.unwrap_or(InventoryPolicy::Deny),
                available,
                requires_shipping: v.requires_shipping.unwrap_or(!p.gift_card),
            },
        );
        variant_ids.push(vid);
    }
    state.products.insert(
        id,
        Product {
            id,
            title: p.title.clone(),
            handle: p.handle.clone().unwrap_or_else(|| handle_of(&p.title)),
            tags: p.tags.clone(),
            product_type: p.product_type.clone(),
            vendor: p.vendor.clone(),
            collections: collection_ids,
            is_gift_card: p.gift_card,
            requires_selling_plan: p.requires_selling_plan,
            variants: variant_ids,
        },
    );
    Ok(id)
}

pub fn add_customer(state: &mut State, c: &NewCustomer) -> u64 {
    if let Some(existing) = state.customers.values().find(|x| x.email == c.email) {
        return existing.id;
    }
    let id = state.next_id();
    state.customers.insert(
        id,
        Customer {
            id,
            email: c.email.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            locale: c.locale.clone().unwrap_or_else(|| "en".into()),
            tags: c.tags.clone(),
            number_of_orders: c.previous_orders,
        },
    );
    id
}

fn customer_for(state: &mut State, email: &str, locale: Option<&str>) -> u64 {
    let local = email.split('@').next().unwrap_or_default();
    add_customer(
        state,
        &NewCustomer {
            email: email.to_string(),
            first_name: local.to_string(),
            last_name: String::new(),
            locale: locale.map(str::to_string),
            tags: Vec::new(),
            previous_orders: 0,
        },
    )
}

/// Creates an order with its fulfillment orders and transactions; returns its id and the
/// webhook events (`orders/create`, and `orders/paid` when paid).
pub fn create_order(
    state: &mut State,
    o: &NewOrder,
) -> Result<(u64, Vec<(String, Value)>), SeedError> {
    if o.lines.is_empty() {
        return Err(SeedError::NoLines);
    }
    let location = match &o.location {
        Some(name) => {
            location_by_name(state, name).ok_or_else(|| SeedError::UnknownLocation(name.clone()))?
        }
        None => state.default_location().ok_or(SeedError::NoLocation)?,
    };
    let now = Utc::now();
    let created = o.created_at.unwrap_or(now);
    let currency = o
        .currency
        .clone()
        .unwrap_or_else(|| state.shop.currency.clone());
    let mut lines = Vec::new();
    let mut decrements = Vec::new();
    for (index, l) in o.lines.iter().enumerate() {
        if l.quantity < 1 {
            return Err(SeedError::BadQuantity { index });
        }
        let variant = match (&l.sku, l.variant_id) {
            (_, Some(id)) => Some(
                state
                    .variants
                    .get(&id)
                    .ok_or(SeedError::UnknownVariant { index, id })?,
            ),
            (Some(sku), None) => Some(state.variants.values().find(|v| &v.sku == sku).ok_or_else(
                || SeedError::UnknownSku {
                    index,
                    sku: sku.clone(),
                },
            )?),
            (None, None) if l.title.is_some() => None,
            (None, None) => return Err(SeedError::EmptyLine { index }),
        };
        let product = variant.and_then(|v| state.products.get(&v.product_id));
        let price_cents = match &l.price {
            Some(p) => parse_cents(p).ok_or_else(|| SeedError::BadPrice {
                index,
                value: p.clone(),
            })?,
            None => variant.map_or(0, |v| v.price_cents),
        };
        let title = l
            .title
            .clone()
            .or_else(|| product.map(|p| p.title.clone()))
            .unwrap_or_default();
        if let Some(v) = variant {
            let enforce = o.inventory == InventoryBehaviour::DecrementObeyingPolicy
                && v.policy == InventoryPolicy::Deny;
            if enforce && v.inventory_quantity() < l.quantity {
                return Err(SeedError::InventoryClaimFailed { index, title });
            }
            if o.inventory != InventoryBehaviour::Bypass {
                decrements.push((v.id, l.quantity));
            }
        }
        lines.push(LineItem {
            id: 0,
            title,
            variant_title: variant
                .map(|v| v.title.clone())
                .filter(|t| t != "Default Title"),
            quantity: l.quantity,
            variant_id: variant.map(|v| v.id),
            product_id: variant.map(|v| v.product_id),
            sku: variant.map(|v| v.sku.clone()),
            vendor: product.map(|p| p.vendor.clone()),
            price_cents,
            requires_shipping: l
                .requires_shipping
                .or(variant.map(|v| v.requires_shipping))
                .unwrap_or(true),
            taxable: l.taxable.unwrap_or(true),
            is_gift_card: l
                .gift_card
                .or(product.map(|p| p.is_gift_card))
                .unwrap_or(false),
            selling_plan: l.selling_plan.clone().map(|name| (1, name)),
            removed: 0,
            fulfilled: l.fulfilled.min(l.quantity),
        });
    }
    for (vid, q) in decrements {
        if let Some(v) = state.variants.get_mut(&vid) {
            *v.available.entry(location).or_insert(0) -= q;
        }
    }
    for line in &mut lines {
        line.id = state.next_id();
    }
    match o.fulfillment {
        Fulfillment::Fulfilled => lines.iter_mut().for_each(|l| l.fulfilled = l.quantity),
        Fulfillment::PartiallyFulfilled => {
            if let Some(first) = lines.first_mut() {
                first.fulfilled = first.quantity;
            }
        }
        _ => {}
    }
    let customer_id = o
        .customer
        .as_ref()
        .map(|email| customer_for(state, email, o.locale.as_deref()));
    if let Some(c) = customer_id.and_then(|c| state.customers.get_mut(&c)) {
        c.number_of_orders += 1;
    }
    let company = o.company.as_ref().map(|name| Company {
        id: state.next_id(),
        name: name.clone(),
        location_id: state.next_id(),
        location_name: format!("{name} HQ"),
        contact_id: state.next_id(),
    });
    let mut shipping_lines = Vec::new();
    if let Some((title, price)) = &o.shipping {
        shipping_lines.push(ShippingLine {
            id: state.next_id(),
            title: title.clone(),
            code: title.clone(),
            source: "shopify".into(),
            price_cents: parse_cents(price).ok_or_else(|| SeedError::BadAmount(price.clone()))?,
        });
    }
    let total: i64 = lines
        .iter()
        .map(|l| l.quantity * l.price_cents)
        .sum::<i64>()
        + shipping_lines.iter().map(|s| s.price_cents).sum::<i64>();
    let gateway = o
        .gateway
        .clone()
        .unwrap_or_else(|| "shopify_payments".into());
    let mut transactions = Vec::new();
    if o.transactions.is_empty() {
        let (kind, status, amount) = match o.payment {
            Payment::Paid => (Some(TxKind::Sale), "SUCCESS", total),
            Payment::Authorized => (Some(TxKind::Authorization), "SUCCESS", total),
            Payment::Pending => (Some(TxKind::Sale), "PENDING", total),
            Payment::PartiallyPaid => (Some(TxKind::Sale), "SUCCESS", total / 2),
            Payment::None => (None, "", 0),
        };
        if let Some(kind) = kind.filter(|_| total > 0) {
            transactions.push(Transaction {
                id: state.next_id(),
                kind,
                status: status.into(),
                gateway: gateway.clone(),
                amount_cents: amount,
                parent_id: None,
                created_at: created,
            });
        }
    } else {
        for t in &o.transactions {
            transactions.push(Transaction {
                id: state.next_id(),
                kind: TxKind::parse(&t.kind).unwrap_or(TxKind::Sale),
                status: t.status.clone().unwrap_or_else(|| "SUCCESS".into()),
                gateway: t.gateway.clone().unwrap_or_else(|| gateway.clone()),
                amount_cents: parse_cents(&t.amount)
                    .ok_or_else(|| SeedError::BadAmount(t.amount.clone()))?,
                parent_id: None,
                created_at: created,
            });
        }
    }
    let fo_id = state.next_id();
    let fo_lines: Vec<FoLine> = lines
        .iter()
        .map(|l| (l.id, l.quantity - l.fulfilled))
        .filter(|(_, q)| *q > 0)
        .map(|(line_item_id, q)| FoLine {
            id: 0,
            line_item_id,
            total: q,
            remaining: q,
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|mut l| {
            l.id = state.next_id();
            l
        })
        .collect();
    let (status, request_status, service) = match &o.fulfillment {
        Fulfillment::Fulfilled => (FoStatus::Closed, RequestStatus::Unsubmitted, false),
        Fulfillment::InProgressAtService => (FoStatus::InProgress, RequestStatus::Accepted, true),
        Fulfillment::AtService => (FoStatus::Open, RequestStatus::Unsubmitted, true),
        Fulfillment::OnHold { .. } => (FoStatus::OnHold, RequestStatus::Unsubmitted, false),
        Fulfillment::Scheduled { .. } => (FoStatus::Scheduled, RequestStatus::Unsubmitted, false),
        _ => (FoStatus::Open, RequestStatus::Unsubmitted, false),
    };
    let holds = match &o.fulfillment {
        Fulfillment::OnHold { reason } => vec![Hold {
            id: state.next_id(),
            by_this_app: false,
            handle: String::new(),
            reason: reason.clone(),
            reason_notes: None,
            external_id: None,
        }],
        _ => Vec::new(),
    };
    let fulfill_at = match &o.fulfillment {
        Fulfillment::Scheduled { fulfill_at } => fulfill_at.or(Some(created + TimeDelta::days(14))),
        _ => views::fulfill_at(created),
    };
    let fulfillment_orders = if fo_lines.is_empty() && o.fulfillment != Fulfillment::Fulfilled {
        Vec::new()
    } else {
        vec![FulfillmentOrder {
            id: fo_id,
            status: if fo_lines.is_empty() {
                FoStatus::Closed
            } else {
                status
            },
            request_status,
            location_id: location,
            fulfillment_service: service,
            created_at: created,
            updated_at: created,
            fulfill_at,
            holds,
            lines: fo_lines,
            merchant_requests: Vec::new(),
        }]
    };
    let id = state.next_id();
    let number = match o.number {
        Some(n) => n,
        None => state.next_order_number(),
    };
    let shipping_address = o.shipping_address.clone().or_else(|| {
        o.shipping_country.as_ref().map(|c| Address {
            country_code: c.clone(),
            ..Address::default()
        })
    });
    let email = o.email.clone().or_else(|| o.customer.clone());
    let order = Order {
        id,
        number,
        created_at: created,
        updated_at: created,
        processed_at: created,
        cancelled_at: None,
        cancel_reason: None,
        staff_note: None,
        closed_at: None,
        test: o.test,
        tags: o.tags.clone(),
        note: o.note.clone(),
        email,
        phone: None,
        locale: o
            .locale
            .clone()
            .or_else(|| {
                customer_id
                    .and_then(|c| state.customers.get(&c))
                    .map(|c| c.locale.clone())
            })
            .unwrap_or_else(|| "en".into()),
        currency,
        customer_id,
        company,
        shipping_address,
        shipping_lines,
        discount_codes: o.discount_codes.clone(),
        source_name: o.source_name.clone().unwrap_or_else(|| "web".into()),
        line_items: lines,
        fulfillment_orders,
        transactions,
        refunds: Vec::new(),
        risk: o
            .risk
            .iter()
            .map(|r| RiskAssessment {
                level: r.level.clone(),
                facts: r
                    .facts
                    .iter()
                    .map(|f| (f.clone(), "NEGATIVE".to_string()))
                    .collect(),
                provider: r.provider.clone(),
            })
            .collect(),
        return_status: o
            .return_status
            .clone()
            .unwrap_or_else(|| "NO_RETURN".into()),
        shipping_refunded_cents: 0,
    };
    let paid = order.financial_status() == Some("PAID");
    state.orders.insert(id, order);
    let mut events = Vec::new();
    if let Some(order) = state.orders.get(&id) {
        let payload = payloads::order(state, order);
        events.push(("orders/create".to_string(), payload.clone()));
        if paid {
            events.push(("orders/paid".to_string(), payload));
        }
    }
    Ok((id, events))
}

/// The demo shop's other locations (besides its default one): a store, a closed depot and a
/// fulfillment service (3PL).
pub const LOCATIONS: &[(&str, bool)] = &[
    ("Lyon Store", true),
    ("Old Depot", false),
    ("ShipFast Fulfillment", true),
];

fn variant(
    title: &str,
    sku: &str,
    price: &str,
    quantity: i64,
    policy: InventoryPolicy,
) -> NewVariant {
    NewVariant {
        title: title.into(),
        sku: sku.into(),
        price: price.into(),
        quantity,
        inventory_policy: Some(policy),
        ..NewVariant::default()
    }
}

fn product(
    title: &str,
    kind: &str,
    tags: &[&str],
    collections: &[&str],
    variants: Vec<NewVariant>,
) -> NewProduct {
    NewProduct {
        title: title.into(),
        product_type: kind.into(),
        vendor: "Maison Lumière".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        collections: collections.iter().map(|t| t.to_string()).collect(),
        variants,
        ..NewProduct::default()
    }
}

/// A small homeware catalog with the cases policies care about: personalised items, final
/// sale, gift cards, a subscription, low and oversold stock.
pub fn catalog() -> Vec<NewProduct> {
    use InventoryPolicy::{Continue, Deny};
    vec![
        product(
            "Linen Candle",
            "Candle",
            &["candle", "bestseller"],
            &["Candles"],
            vec![
                variant("Small", "CANDLE-S", "18.00", 40, Deny),
                variant("Large", "CANDLE-L", "32.00", 25, Deny),
            ],
        ),
        product(
            "Engraved Brass Tray",
            "Homeware",
            &["personalised", "made-to-order"],
            &["Personalised"],
            vec![variant("Default Title", "TRAY-ENG", "65.00", 10, Deny)],
        ),
        product(
            "Ceramic Vase",
            "Homeware",
            &["fragile"],
            &["Vases"],
            vec![variant("Default Title", "VASE-01", "48.00", 3, Continue)],
        ),
        product(
            "Wool Throw",
            "Textiles",
            &["pre-order"],
            &["Textiles"],
            vec![variant("Grey", "THROW-GRY", "120.00", 0, Continue)],
        ),
        product(
            "Final Sale Lamp",
            "Lighting",
            &["final-sale"],
            &["Sale"],
            vec![variant("Default Title", "LAMP-FS", "89.00", 5, Deny)],
        ),
        NewProduct {
            gift_card: true,
            ..product(
                "Gift Card",
                "Gift card",
                &["gift-card"],
                &[],
                vec![variant("€50", "GIFT-50", "50.00", 1000, Continue)],
            )
        },
        NewProduct {
            requires_selling_plan: true,
            ..product(
                "Scent Subscription",
                "Subscription",
                &["subscription"],
                &["Candles"],
                vec![variant("Monthly", "SUB-BOX", "29.00", 500, Deny)],
            )
        },
    ]
}

pub fn customers() -> Vec<NewCustomer> {
    let c = |email: &str, first: &str, last: &str, locale: &str, tags: &[&str], previous: u64| {
        NewCustomer {
            email: email.into(),
            first_name: first.into(),
            last_name: last.into(),
            locale: Some(locale.into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            previous_orders: previous,
        }
    };
    vec![
        c("alice@example.com", "Alice", "Martin", "en", &["vip"], 7),
        c("bruno@example.fr", "Bruno", "Lefèvre", "fr", &[], 1),
        c("chen@example.com", "Chen", "Wei", "zh-CN", &[], 0),
        c("dana@example.de", "Dana", "Schulz", "de", &["wholesale"], 3),
        c("eve@example.com", "Eve", "Fraud", "en", &["blocklisted"], 0),
    ]
}

fn line(sku: &str, quantity: i64) -> NewLine {
    NewLine {
        sku: Some(sku.into()),
        quantity,
        ..NewLine::default()
    }
}

/// The seed orders, one per situation a policy decides on.
pub fn orders(now: DateTime<Utc>) -> Vec<NewOrder> {
    let base = |customer: &str, locale: &str, minutes_ago: i64, lines: Vec<NewLine>| NewOrder {
        customer: Some(customer.into()),
        locale: Some(locale.into()),
        created_at: Some(now - TimeDelta::minutes(minutes_ago)),
        lines,
        shipping_country: Some("FR".into()),
        shipping: Some(("Standard".into(), "5.00".into())),
        inventory: InventoryBehaviour::DecrementIgnoringPolicy,
        ..NewOrder::default()
    };
    vec![
        // Inside a short cancellation window, paid, nothing shipped.
        base(
            "alice@example.com",
            "en",
            20,
            vec![line("CANDLE-S", 2), line("CANDLE-L", 1)],
        ),
        // A personalised, made-to-order item; the customer writes in French.
        base("bruno@example.fr", "fr", 45, vec![line("TRAY-ENG", 1)]),
        // Shopify rates it high risk.
        NewOrder {
            risk: vec![NewRisk {
                level: "HIGH".into(),
                provider: None,
                facts: vec!["The billing address does not match the card".into()],
            }],
            tags: vec!["review".into()],
            ..base(
                "eve@example.com",
                "en",
                10,
                vec![line("LAMP-FS", 1), line("CANDLE-L", 2)],
            )
        },
        // More vases than in stock: the line is oversold.
        base(
            "chen@example.com",
            "zh-CN",
            30,
            vec![line("VASE-01", 5), line("CANDLE-S", 1)],
        ),
        // Shipped last week.
        NewOrder {
            fulfillment: Fulfillment::Fulfilled,
            ..base(
                "alice@example.com",
                "en",
                60 * 24 * 7,
                vec![line("CANDLE-L", 1)],
            )
        },
        // Already at the fulfillment service, being packed.
        NewOrder {
            location: Some("ShipFast Fulfillment".into()),
            fulfillment: Fulfillment::InProgressAtService,
            ..base("dana@example.de", "de", 180, vec![line("CANDLE-S", 3)])
        },
        // A B2B order on payment terms.
        NewOrder {
            company: Some("Hôtel Belle Vue".into()),
            payment: Payment::Authorized,
            ..base("dana@example.de", "de", 90, vec![line("CANDLE-L", 12)])
        },
    ]
}

/// Seeds the locations, catalog, customers and orders into an empty state; returns the events.
pub fn seed_demo(state: &mut State, now: DateTime<Utc>) -> Result<Vec<(String, Value)>, SeedError> {
    for (name, active) in LOCATIONS {
        if location_by_name(state, name).is_none() {
            state.add_location(name, *active);
        }
    }
    for p in catalog() {
        add_product(state, &p)?;
    }
    for c in customers() {
        add_customer(state, &c);
    }
    let mut events = Vec::new();
    for o in orders(now) {
        let (_, e) = create_order(state, &o)?;
        events.extend(e);
    }
    Ok(events)
}
