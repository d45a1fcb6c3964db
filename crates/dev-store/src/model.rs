//! The store's state: shop, catalog, inventory, customers, orders, jobs, metafields.
//!
//! Plain data plus the derived values Shopify computes (financial status, totals,
//! fulfillment status). Everything here is synchronous; callers hold the state lock.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Numeric ids start above 2^53: real Shopify ids do not fit in an f64 either, so a
/// consumer that parses webhook `id`s as floats breaks here as it would in production.
/// (https://shopify.dev/docs/api/usage/gids)
pub const FIRST_ID: u64 = 9_007_199_254_741_000;

pub fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// Parses `gid://shopify/Kind/123` into (`Kind`, 123).
pub fn parse_gid(gid: &str) -> Option<(&str, u64)> {
    let rest = gid.strip_prefix("gid://shopify/")?;
    let (kind, id) = rest.split_once('/')?;
    let id = id.split('?').next()?;
    Some((kind, id.parse().ok()?))
}

pub fn parse_gid_of(gid: &str, kind: &str) -> Option<u64> {
    match parse_gid(gid) {
        Some((k, id)) if k == kind => Some(id),
        _ => None,
    }
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Shopify's Decimal rendering in `MoneyV2.amount`: "25.0", "12.5", "0.0".
pub fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = c / 100;
    let frac = c % 100;
    if frac == 0 {
        format!("{sign}{whole}.0")
    } else if frac.is_multiple_of(10) {
        format!("{sign}{whole}.{}", frac / 10)
    } else {
        format!("{sign}{whole}.{frac:02}")
    }
}

/// Money as Shopify writes it in messages: "$25.00".
pub fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, (cents % 100).abs())
}

/// Parses a Decimal/Money input string ("15.00", "5", "0.5") into cents.
pub fn parse_cents(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac_digits: String = frac.chars().take(2).collect();
    if !frac_digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    while frac_digits.len() < 2 {
        frac_digits.push('0');
    }
    let frac: i64 = frac_digits.parse().ok()?;
    let v = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Basic, Shopify and development stores.
    #[default]
    Standard,
    Advanced,
    Plus,
    Enterprise,
}

impl Plan {
    /// Restore rate and bucket size per plan, in points per second and points.
    /// Rates from https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits;
    /// the bucket is 20 seconds of restore (a 2026-04 dev store reported
    /// `maximumAvailable: 2000, restoreRate: 100`).
    pub fn limits(self) -> (f64, f64) {
        match self {
            Plan::Standard => (100.0, 2000.0),
            Plan::Advanced => (200.0, 4000.0),
            Plan::Plus => (1000.0, 20000.0),
            Plan::Enterprise => (2000.0, 40000.0),
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Plan::Standard => "Basic",
            Plan::Advanced => "Advanced",
            Plan::Plus => "Shopify Plus",
            Plan::Enterprise => "Commerce Components",
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        match s.to_ascii_lowercase().as_str() {
            "standard" | "basic" | "shopify" => Some(Plan::Standard),
            "advanced" => Some(Plan::Advanced),
            "plus" | "shopify_plus" => Some(Plan::Plus),
            "enterprise" | "commerce_components" => Some(Plan::Enterprise),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Shop {
    pub id: u64,
    pub name: String,
    pub domain: String,
    pub timezone: String,
    pub plan: Plan,
    pub currency: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub id: u64,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    pub id: u64,
    pub title: String,
    pub handle: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: u64,
    pub title: String,
    pub handle: String,
    pub tags: Vec<String>,
    pub product_type: String,
    pub vendor: String,
    pub collections: Vec<u64>,
    pub is_gift_card: bool,
    pub requires_selling_plan: bool,
    pub variants: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InventoryPolicy {
    Deny,
    Continue,
}

#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    pub id: u64,
    pub product_id: u64,
    pub title: String,
    pub sku: String,
    pub price_cents: i64,
    pub inventory_item_id: u64,
    pub policy: InventoryPolicy,
    /// `available` quantity per location id.
    pub available: BTreeMap<u64, i64>,
    pub requires_shipping: bool,
}

impl Variant {
    pub fn inventory_quantity(&self) -> i64 {
        self.available.values().sum()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
    pub tags: Vec<String>,
    pub number_of_orders: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Company {
    pub id: u64,
    pub name: String,
    pub location_id: u64,
    pub location_name: String,
    pub contact_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub province_code: Option<String>,
    pub country_code: String,
    pub zip: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShippingLine {
    pub id: u64,
    pub title: String,
    pub code: String,
    pub source: String,
    pub price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineItem {
    pub id: u64,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    pub variant_id: Option<u64>,
    pub product_id: Option<u64>,
    pub sku: Option<String>,
    pub vendor: Option<String>,
    pub price_cents: i64,
    pub requires_shipping: bool,
    pub taxable: bool,
    pub is_gift_card: bool,
    pub selling_plan: Option<(u64, String)>,
    /// Units refunded (any restock type) or removed by cancellation.
    pub removed: i64,
    pub fulfilled: i64,
}

impl LineItem {
    pub fn current_quantity(&self) -> i64 {
        (self.quantity - self.removed).max(0)
    }
    pub fn unfulfilled(&self) -> i64 {
        (self.current_quantity() - self.fulfilled).max(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FoStatus {
    Open,
    InProgress,
    Cancelled,
    Incomplete,
    Closed,
    Scheduled,
    OnHold,
}

impl FoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FoStatus::Open => "OPEN",
            FoStatus::InProgress => "IN_PROGRESS",
            FoStatus::Cancelled => "CANCELLED",
            FoStatus::Incomplete => "INCOMPLETE",
            FoStatus::Closed => "CLOSED",
            FoStatus::Scheduled => "SCHEDULED",
            FoStatus::OnHold => "ON_HOLD",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Unsubmitted,
    Submitted,
    Accepted,
    Rejected,
    CancellationRequested,
    CancellationAccepted,
    CancellationRejected,
    Closed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Unsubmitted => "UNSUBMITTED",
            RequestStatus::Submitted => "SUBMITTED",
            RequestStatus::Accepted => "ACCEPTED",
            RequestStatus::Rejected => "REJECTED",
            RequestStatus::CancellationRequested => "CANCELLATION_REQUESTED",
            RequestStatus::CancellationAccepted => "CANCELLATION_ACCEPTED",
            RequestStatus::CancellationRejected => "CANCELLATION_REJECTED",
            RequestStatus::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub id: u64,
    /// False for holds another app (or staff) placed: they do not count toward this app's limit.
    pub by_this_app: bool,
    pub handle: String,
    pub reason: String,
    pub reason_notes: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FoLine {
    pub id: u64,
    pub line_item_id: u64,
    pub total: i64,
    pub remaining: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MerchantRequest {
    pub id: u64,
    pub kind: String,
    pub message: Option<String>,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FulfillmentOrder {
    pub id: u64,
    pub status: FoStatus,
    pub request_status: RequestStatus,
    pub location_id: u64,
    /// Assigned to a fulfillment service (3PL) that answers cancellation requests.
    pub fulfillment_service: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub fulfill_at: Option<DateTime<Utc>>,
    pub holds: Vec<Hold>,
    pub lines: Vec<FoLine>,
    pub merchant_requests: Vec<MerchantRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxKind {
    Sale,
    Authorization,
    Capture,
    Refund,
    Void,
}

impl TxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Sale => "SALE",
            TxKind::Authorization => "AUTHORIZATION",
            TxKind::Capture => "CAPTURE",
            TxKind::Refund => "REFUND",
            TxKind::Void => "VOID",
        }
    }
    pub fn parse(s: &str) -> Option<TxKind> {
        match s {
            "SALE" => Some(TxKind::Sale),
            "AUTHORIZATION" => Some(TxKind::Authorization),
            "CAPTURE" => Some(TxKind::Capture),
            "REFUND" => Some(TxKind::Refund),
            "VOID" => Some(TxKind::Void),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Transaction {
    pub id: u64,
    pub kind: TxKind,
    /// SUCCESS, PENDING, FAILURE, ERROR.
    pub status: String,
    pub gateway: String,
    pub amount_cents: i64,
    pub parent_id: Option<u64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefundLine {
    pub id: u64,
    pub line_item_id: u64,
    pub quantity: i64,
    pub restock_type: String,
    pub restocked: bool,
    pub location_id: Option<u64>,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    pub id: u64,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<RefundLine>,
    pub transaction_ids: Vec<u64>,
    pub shipping_cents: i64,
    pub store_credit_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskAssessment {
    pub level: String,
    pub facts: Vec<(String, String)>,
    /// None = Shopify's own assessment.
    pub provider: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: u64,
    pub number: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub processed_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub staff_note: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub test: bool,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub currency: String,
    pub customer_id: Option<u64>,
    pub company: Option<Company>,
    pub shipping_address: Option<Address>,
    pub shipping_lines: Vec<ShippingLine>,
    pub discount_codes: Vec<String>,
    pub source_name: String,
    pub line_items: Vec<LineItem>,
    pub fulfillment_orders: Vec<FulfillmentOrder>,
    pub transactions: Vec<Transaction>,
    pub refunds: Vec<Refund>,
    pub risk: Vec<RiskAssessment>,
    /// NO_RETURN, IN_PROGRESS, RETURN_REQUESTED, ...
    pub return_status: String,
    pub shipping_refunded_cents: i64,
}

impl Order {
    pub fn name(&self) -> String {
        format!("#{}", self.number)
    }

    pub fn subtotal_cents(&self) -> i64 {
        self.line_items
            .iter()
            .map(|l| l.quantity * l.price_cents)
            .sum()
    }

    pub fn shipping_cents(&self) -> i64 {
        self.shipping_lines.iter().map(|s| s.price_cents).sum()
    }

    pub fn total_cents(&self) -> i64 {
        self.subtotal_cents() + self.shipping_cents()
    }

    /// What is still owed for the order: current items plus unrefunded shipping.
    /// A cancelled order's current total is 0 (captured: orderCancel-*-parity).
    pub fn current_total_cents(&self) -> i64 {
        if self.cancelled_at.is_some() {
            return 0;
        }
        let items: i64 = self
            .line_items
            .iter()
            .map(|l| l.current_quantity() * l.price_cents)
            .sum();
        items + (self.shipping_cents() - self.shipping_refunded_cents).max(0)
    }

    fn sum_tx(&self, kinds: &[TxKind]) -> i64 {
        self.transactions
            .iter()
            .filter(|t| t.status == "SUCCESS" && kinds.contains(&t.kind))
            .map(|t| t.amount_cents)
            .sum()
    }

    pub fn received_cents(&self) -> i64 {
        self.sum_tx(&[TxKind::Sale, TxKind::Capture])
    }

    pub fn refunded_cents(&self) -> i64 {
        self.sum_tx(&[TxKind::Refund])
            + self
                .refunds
                .iter()
                .map(|r| r.store_credit_cents)
                .sum::<i64>()
    }

    pub fn net_payment_cents(&self) -> i64 {
        self.received_cents() - self.refunded_cents()
    }

    /// Authorizations not yet captured or voided.
    pub fn open_authorizations(&self) -> Vec<&Transaction> {
        self.transactions
            .iter()
            .filter(|t| t.kind == TxKind::Authorization && t.status == "SUCCESS")
            .filter(|auth| {
                !self.transactions.iter().any(|t| {
                    t.parent_id == Some(auth.id)
                        && t.status == "SUCCESS"
                        && matches!(t.kind, TxKind::Capture | TxKind::Void)
                })
            })
            .collect()
    }

    pub fn outstanding_cents(&self) -> i64 {
        (self.current_total_cents() - self.net_payment_cents()).max(0)
    }

    /// `Order.displayFinancialStatus`
    /// (https://shopify.dev/docs/api/admin-graphql/latest/enums/OrderDisplayFinancialStatus).
    /// Null when the order has no transactions (captured: orderCancel-parity).
    pub fn financial_status(&self) -> Option<&'static str> {
        if self.transactions.is_empty() {
            return None;
        }
        let received = self.received_cents();
        let refunded = self.refunded_cents();
        if self.transactions.iter().any(|t| t.status == "PENDING") && received == 0 {
            return Some("PENDING");
        }
        if received == 0 {
            let authorized = self.sum_tx(&[TxKind::Authorization]);
            let voided = self.sum_tx(&[TxKind::Void]);
            if authorized > 0 && voided >= authorized {
                return Some("VOIDED");
            }
            if authorized > 0 {
                return Some("AUTHORIZED");
            }
            if refunded > 0 {
                return Some("REFUNDED");
            }
            return Some("PENDING");
        }
        if refunded >= received {
            Some("REFUNDED")
        } else if refunded > 0 {
            Some("PARTIALLY_REFUNDED")
        } else if received >= self.total_cents() {
            Some("PAID")
        } else {
            Some("PARTIALLY_PAID")
        }
    }

    /// `Order.displayFulfillmentStatus`.
    pub fn fulfillment_status(&self) -> &'static str {
        let total: i64 = self.line_items.iter().map(|l| l.current_quantity()).sum();
        let fulfilled: i64 = self.line_items.iter().map(|l| l.fulfilled).sum();
        if total > 0 && fulfilled >= total {
            return "FULFILLED";
        }
        if fulfilled > 0 {
            return "PARTIALLY_FULFILLED";
        }
        let active: Vec<&FulfillmentOrder> = self
            .fulfillment_orders
            .iter()
            .filter(|f| !matches!(f.status, FoStatus::Closed | FoStatus::Cancelled))
            .collect();
        if !active.is_empty() && active.iter().all(|f| f.status == FoStatus::OnHold) {
            return "ON_HOLD";
        }
        if !active.is_empty() && active.iter().all(|f| f.status == FoStatus::Scheduled) {
            return "SCHEDULED";
        }
        if active.iter().any(|f| f.status == FoStatus::InProgress) {
            return "IN_PROGRESS";
        }
        "UNFULFILLED"
    }

    pub fn risk_recommendation(&self) -> &'static str {
        let levels: Vec<&str> = self.risk.iter().map(|r| r.level.as_str()).collect();
        if levels.contains(&"HIGH") {
            "CANCEL"
        } else if levels.contains(&"MEDIUM") {
            "INVESTIGATE"
        } else if levels.is_empty() || levels.iter().all(|l| *l == "PENDING" || *l == "NONE") {
            "NONE"
        } else {
            "ACCEPT"
        }
    }

    pub fn gateway_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.transactions {
            if !out.contains(&t.gateway) {
                out.push(t.gateway.clone());
            }
        }
        out
    }

    pub fn line(&self, id: u64) -> Option<&LineItem> {
        self.line_items.iter().find(|l| l.id == id)
    }

    /// Units of a line that can be fulfilled now: remaining on fulfillment orders that are
    /// neither on hold nor closed (captured: a held FO makes `fulfillableQuantity` 0).
    pub fn fulfillable_quantity(&self, line_id: u64) -> i64 {
        self.fulfillment_orders
            .iter()
            .filter(|f| matches!(f.status, FoStatus::Open | FoStatus::InProgress))
            .flat_map(|f| f.lines.iter())
            .filter(|l| l.line_item_id == line_id)
            .map(|l| l.remaining)
            .sum()
    }

    /// Units still refundable: current quantity not yet refunded.
    pub fn refundable_quantity(&self, line_id: u64) -> i64 {
        self.line(line_id).map_or(0, |l| l.current_quantity())
    }

    pub fn fo(&self, fo_id: u64) -> Option<&FulfillmentOrder> {
        self.fulfillment_orders.iter().find(|f| f.id == fo_id)
    }

    pub fn fo_mut(&mut self, fo_id: u64) -> Option<&mut FulfillmentOrder> {
        self.fulfillment_orders.iter_mut().find(|f| f.id == fo_id)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Metafield {
    pub id: u64,
    pub owner: String,
    pub namespace: String,
    pub key: String,
    pub value: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Metafield {
    /// Digest used for `compareDigest` (opaque to clients; any stable hash of the value works).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.kind.as_bytes());
        h.update([0]);
        h.update(self.value.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: String,
    pub done: bool,
    /// The cancellation the job carries out when it runs.
    pub cancel: Option<CancelRequest>,
}

/// The validated arguments of an `orderCancel`, applied when its job runs.
#[derive(Debug, Clone, Serialize)]
pub struct CancelRequest {
    pub order_id: u64,
    pub reason: String,
    pub restock: bool,
    pub refund_original: bool,
    pub store_credit: bool,
    pub notify_customer: bool,
    pub staff_note: Option<String>,
}

/// A `flowTriggerReceive` call the store accepted.
#[derive(Debug, Clone, Serialize)]
pub struct FlowTrigger {
    pub handle: String,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A message the store would have sent to a customer (orderCancel and refundCreate `notify`).
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub order_id: u64,
    pub email: Option<String>,
    pub kind: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum IdempotencyRecord {
    InFlight {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        result: serde_json::Value,
    },
    Failed {
        fingerprint: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct InventoryChangeRecord {
    pub name: String,
    pub delta: i64,
    pub quantity_after: i64,
    pub inventory_item_id: u64,
    pub location_id: u64,
    pub ledger_document_uri: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentGroup {
    pub id: u64,
    pub created_at: DateTime<Utc>,
    pub reason: String,
    pub reference_document_uri: Option<String>,
    pub changes: Vec<InventoryChangeRecord>,
}

/// The whole store. One shop per dev store.
#[derive(Debug, Clone)]
pub struct State {
    pub shop: Shop,
    next_id: u64,
    next_order_number: u64,
    pub locations: Vec<Location>,
    pub collections: BTreeMap<u64, Collection>,
    pub products: BTreeMap<u64, Product>,
    pub variants: BTreeMap<u64, Variant>,
    pub customers: BTreeMap<u64, Customer>,
    pub orders: BTreeMap<u64, Order>,
    pub jobs: HashMap<String, Job>,
    pub metafields: Vec<Metafield>,
    pub idempotency: HashMap<(String, String), IdempotencyRecord>,
    pub adjustment_groups: BTreeMap<u64, AdjustmentGroup>,
    /// Flow trigger handles the app has deployed.
    pub flow_trigger_handles: Vec<String>,
    /// Granted access scopes of the calling app.
    pub scopes: Vec<String>,
    pub app_title: String,
    pub notifications: Vec<Notification>,
    pub flow_triggers: Vec<FlowTrigger>,
}

impl State {
    pub fn new(shop: Shop) -> State {
        State {
            shop,
            next_id: FIRST_ID,
            next_order_number: 1001,
            locations: Vec::new(),
            collections: BTreeMap::new(),
            products: BTreeMap::new(),
            variants: BTreeMap::new(),
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            jobs: HashMap::new(),
            metafields: Vec::new(),
            idempotency: HashMap::new(),
            adjustment_groups: BTreeMap::new(),
            flow_trigger_handles: vec!["cancel-policy-decision".to_string()],
            scopes: [
                "read_orders",
                "read_all_orders",
                "write_orders",
                "read_products",
                "read_inventory",
                "write_inventory",
                "read_customers",
                "write_customers",
                "read_merchant_managed_fulfillment_orders",
                "write_merchant_managed_fulfillment_orders",
                "read_third_party_fulfillment_orders",
                "write_third_party_fulfillment_orders",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            app_title: "cancel-policy".to_string(),
            notifications: Vec::new(),
            flow_triggers: Vec::new(),
        }
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Reserve ids so explicitly chosen ones (from captures) never collide with generated ones.
    pub fn bump_ids_past(&mut self, id: u64) {
        if id >= self.next_id && id < u64::MAX {
            self.next_id = id + 1;
        }
    }

    pub fn next_order_number(&mut self) -> u64 {
        let n = self.next_order_number;
        self.next_order_number += 1;
        n
    }

    pub fn set_next_order_number(&mut self, n: u64) {
        self.next_order_number = n;
    }

    pub fn add_location(&mut self, name: &str, active: bool) -> u64 {
        let id = self.next_id();
        self.locations.push(Location {
            id,
            name: name.to_string(),
            active,
        });
        id
    }

    pub fn default_location(&self) -> Option<u64> {
        self.locations.iter().find(|l| l.active).map(|l| l.id)
    }

    pub fn location(&self, id: u64) -> Option<&Location> {
        self.locations.iter().find(|l| l.id == id)
    }

    pub fn variant_by_item(&self, inventory_item_id: u64) -> Option<&Variant> {
        self.variants
            .values()
            .find(|v| v.inventory_item_id == inventory_item_id)
    }

    /// Finds the order owning a fulfillment order.
    pub fn order_of_fo(&self, fo_id: u64) -> Option<u64> {
        self.orders
            .values()
            .find(|o| o.fulfillment_orders.iter().any(|f| f.id == fo_id))
            .map(|o| o.id)
    }

    pub fn metafield(&self, owner: &str, namespace: &str, key: &str) -> Option<&Metafield> {
        self.metafields
            .iter()
            .find(|m| m.owner == owner && m.namespace == namespace && m.key == key)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_like_shopify() {
        assert_eq!(decimal(2500), "25.0");
        assert_eq!(decimal(1250), "12.5");
        assert_eq!(decimal(1299), "12.99");
        assert_eq!(decimal(0), "0.0");
        assert_eq!(dollars(99900), "$999.00");
        assert_eq!(parse_cents("15.00"), Some(1500));
        assert_eq!(parse_cents("5"), Some(500));
        assert_eq!(parse_cents("0.5"), Some(50));
        assert_eq!(parse_cents("abc"), None);
    }

    #[test]
    fn gids_round_trip() {
        assert_eq!(parse_gid("gid://shopify/Order/12"), Some(("Order", 12)));
        assert_eq!(parse_gid_of("gid://shopify/Order/12", "LineItem"), None);
        assert_eq!(gid("Job", 3), "gid://shopify/Job/3");
    }
}
