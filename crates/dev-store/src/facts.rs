//! Order facts for `cancel-policy simulate`, and the generator of N orders with a chosen mix.
//!
//! A JSONL line is `{"order": OrderFacts, "at": RFC 3339, "trigger": "customer_request",
//! "request": RequestFacts, "nowLocal": shop-local time}`, where `order` is exactly the serde
//! shape of `cancel_policy_core::facts::OrderFacts`.

use std::io::Write;
use std::path::Path;

use cancel_policy_core::facts::{
    CustomerFacts, FulfillmentOrderFacts, LineFacts, OrderFacts, RequestFacts, RiskAssessmentFacts,
    RiskFacts,
};
use cancel_policy_core::money::{Amount, Money};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::DevStoreError;
use crate::model::{InventoryPolicy, Order, State, gid};
use crate::seed::{self, Fulfillment, InventoryBehaviour, NewLine, NewOrder, NewRisk, Payment};
use crate::store::Rng;

fn money(cents: i64, currency: &str) -> Money {
    Money {
        amount: Amount::from_thousandths(cents.saturating_mul(10)),
        currency_code: currency.to_string(),
    }
}

fn local(state: &State, t: DateTime<Utc>) -> NaiveDateTime {
    let tz: chrono_tz::Tz = state.shop.timezone.parse().unwrap_or(chrono_tz::UTC);
    t.with_timezone(&tz).naive_local()
}

/// The facts a policy sees about `order`, read from the store's state.
pub fn order_facts(state: &State, o: &Order) -> OrderFacts {
    let cur = o.currency.as_str();
    let line_items = o
        .line_items
        .iter()
        .filter(|l| l.current_quantity() > 0)
        .map(|l| {
            let variant = l.variant_id.and_then(|v| state.variants.get(&v));
            let product = l.product_id.and_then(|p| state.products.get(&p));
            let selling_plan = l
                .selling_plan
                .as_ref()
                .map(|(_, name)| name.clone())
                .or_else(|| {
                    product
                        .filter(|p| p.requires_selling_plan)
                        .map(|_| "subscription".to_string())
                });
            LineFacts {
                id: gid("LineItem", l.id),
                quantity: l.current_quantity(),
                sku: l.sku.clone(),
                product_tags: product.map(|p| p.tags.clone()).unwrap_or_default(),
                product_type: product.map(|p| p.product_type.clone()),
                vendor: l.vendor.clone(),
                collection_ids: product
                    .map(|p| {
                        p.collections
                            .iter()
                            .map(|c| gid("Collection", *c))
                            .collect()
                    })
                    .unwrap_or_default(),
                gift_card: l.is_gift_card,
                requires_shipping: l.requires_shipping,
                selling_plan,
                inventory_quantity: variant.map(|v| v.inventory_quantity()),
                inventory_policy: variant.map(|v| match v.policy {
                    InventoryPolicy::Deny => "DENY".to_string(),
                    InventoryPolicy::Continue => "CONTINUE".to_string(),
                }),
                total: Some(money(l.price_cents * l.current_quantity(), cur)),
            }
        })
        .collect();
    let customer = o
        .customer_id
        .and_then(|c| state.customers.get(&c))
        .map(|c| CustomerFacts {
            id: gid("Customer", c.id),
            tags: c.tags.clone(),
            number_of_orders: i64::try_from(c.number_of_orders).unwrap_or(i64::MAX),
            cancelled_order_dates: state
                .orders
                .values()
                .filter(|x| x.customer_id == Some(c.id) && x.id != o.id)
                .filter_map(|x| x.cancelled_at)
                .collect(),
        });
    let shipping_method = o.shipping_lines.first().map(|s| s.title.clone());
    OrderFacts {
        id: gid("Order", o.id),
        created_at: Some(o.created_at),
        created_at_local: Some(local(state, o.created_at)),
        display_fulfillment_status: Some(o.fulfillment_status().to_string()),
        fulfillment_orders: o
            .fulfillment_orders
            .iter()
            .map(|f| FulfillmentOrderFacts {
                id: gid("FulfillmentOrder", f.id),
                status: f.status.as_str().to_string(),
                request_status: f.request_status.as_str().to_string(),
            })
            .collect(),
        display_financial_status: o.financial_status().map(str::to_string),
        total_price: Some(money(o.total_cents(), cur)),
        source_name: Some(o.source_name.clone()),
        tags: o.tags.clone(),
        test: o.test,
        b2b: o.company.is_some(),
        shipping_country: o.shipping_address.as_ref().map(|a| a.country_code.clone()),
        local_pickup: shipping_method
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("pickup")),
        shipping_method,
        discount_codes: o.discount_codes.clone(),
        line_items,
        risk: RiskFacts {
            recommendation: Some(o.risk_recommendation().to_string()),
            assessments: o
                .risk
                .iter()
                .map(|r| RiskAssessmentFacts {
                    risk_level: r.level.clone(),
                    third_party: r.provider.is_some(),
                })
                .collect(),
        },
        customer,
        cancelled: o.cancelled_at.is_some(),
    }
}

/// One line of a `cancel-policy simulate` input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateLine {
    pub order: OrderFacts,
    pub at: DateTime<Utc>,
    pub trigger: String,
    pub request: RequestFacts,
    pub now_local: NaiveDateTime,
}

pub fn simulate_line(state: &State, o: &Order, at: DateTime<Utc>) -> SimulateLine {
    SimulateLine {
        order: order_facts(state, o),
        at,
        trigger: "customer_request".into(),
        request: RequestFacts {
            source: Some("customer".into()),
            reason: Some("changed_mind".into()),
            locale: Some(o.locale.clone()),
        },
        now_local: local(state, at),
    }
}

pub fn write_jsonl(path: &Path, lines: &[SimulateLine]) -> Result<(), DevStoreError> {
    let err = |source| DevStoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    for line in lines {
        let text = serde_json::to_string(line)
            .map_err(|e| DevStoreError::Invalid(format!("cannot encode a simulate line: {e}")))?;
        writeln!(file, "{text}").map_err(err)?;
    }
    file.flush().map_err(err)
}

/// The share of generated orders in each situation (each 0..=1, drawn independently).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mix {
    pub high_risk: f64,
    pub medium_risk: f64,
    /// Orders with a line sold past zero stock (CONTINUE policy).
    pub oversold: f64,
    pub fulfilled: f64,
    pub partially_fulfilled: f64,
    /// Accepted and in progress at the fulfillment service.
    pub at_fulfillment_service: f64,
    pub on_hold: f64,
    pub b2b: f64,
    pub personalised: f64,
    pub gift_card: f64,
    pub subscription: f64,
    pub authorized_only: f64,
    /// Customer locales, drawn uniformly.
    pub locales: Vec<String>,
    /// Shipping countries, drawn uniformly.
    pub countries: Vec<String>,
    /// Orders are placed up to this many hours ago.
    pub max_age_hours: u32,
}

impl Default for Mix {
    fn default() -> Mix {
        Mix {
            high_risk: 0.05,
            medium_risk: 0.1,
            oversold: 0.05,
            fulfilled: 0.3,
            partially_fulfilled: 0.05,
            at_fulfillment_service: 0.05,
            on_hold: 0.03,
            b2b: 0.05,
            personalised: 0.1,
            gift_card: 0.05,
            subscription: 0.05,
            authorized_only: 0.1,
            locales: ["en", "fr", "de", "es", "zh-CN"].map(String::from).to_vec(),
            countries: ["FR", "DE", "US", "GB", "ES"].map(String::from).to_vec(),
            max_age_hours: 72,
        }
    }
}

const EVERYDAY_SKUS: &[&str] = &["CANDLE-S", "CANDLE-L", "LAMP-FS", "VASE-01"];

fn pick<'a>(rng: &mut Rng, items: &'a [String]) -> Option<&'a String> {
    let n = u64::try_from(items.len()).ok()?;
    items.get(usize::try_from(rng.below(n)).ok()?)
}

/// Generated order ids and the webhook events their creation caused.
pub type Generated = (Vec<u64>, Vec<(String, Value)>);

/// Generates `count` orders (seeding the demo catalog into an empty store first).
pub fn generate(
    state: &mut State,
    count: usize,
    mix: &Mix,
    seed: u64,
) -> Result<Generated, DevStoreError> {
    if state.products.is_empty() {
        for (name, active) in seed::LOCATIONS {
            if seed::location_by_name(state, name).is_none() {
                state.add_location(name, *active);
            }
        }
        for p in seed::catalog() {
            seed::add_product(state, &p)?;
        }
    }
    let mut rng = Rng::new(seed);
    let now = Utc::now();
    let mut ids = Vec::with_capacity(count);
    let mut events = Vec::new();
    for i in 0..count {
        let locale = pick(&mut rng, &mix.locales)
            .cloned()
            .unwrap_or_else(|| "en".into());
        let country = pick(&mut rng, &mix.countries)
            .cloned()
            .unwrap_or_else(|| "FR".into());
        let mut lines = Vec::new();
        let n_lines = 1 + rng.below(3);
        for _ in 0..n_lines {
            let idx = usize::try_from(rng.below(EVERYDAY_SKUS.len() as u64)).unwrap_or(0);
            let sku = EVERYDAY_SKUS.get(idx).copied().unwrap_or("CANDLE-S");
            if lines
                .iter()
                .any(|l: &NewLine| l.sku.as_deref() == Some(sku))
            {
                continue;
            }
            lines.push(NewLine {
                sku: Some(sku.into()),
                quantity: 1 + i64::try_from(rng.below(3)).unwrap_or(0),
                ..NewLine::default()
            });
        }
        let mut extra = |sku: &str, plan: Option<&str>| {
            lines.push(NewLine {
                sku: Some(sku.into()),
                quantity: 1,
                selling_plan: plan.map(str::to_string),
                ..NewLine::default()
            })
        };
        if rng.chance(mix.personalised) {
            extra("TRAY-ENG", None);
        }
        if rng.chance(mix.gift_card) {
            extra("GIFT-50", None);
        }
        if rng.chance(mix.subscription) {
            extra("SUB-BOX", Some("subscription"));
        }
        let oversold = rng.chance(mix.oversold);
        if oversold {
            extra("THROW-GRY", Some("pre_order"));
        }
        let mut risk = Vec::new();
        if rng.chance(mix.high_risk) {
            risk.push(NewRisk {
                level: "HIGH".into(),
                provider: None,
                facts: vec!["Card declined twice before succeeding".into()],
            });
        } else if rng.chance(mix.medium_risk) {
            risk.push(NewRisk {
                level: "MEDIUM".into(),
                provider: None,
                facts: vec!["Shipping and billing countries differ".into()],
            });
        } else {
            risk.push(NewRisk {
                level: "LOW".into(),
                provider: None,
                facts: Vec::new(),
            });
        }
        let fulfillment = if rng.chance(mix.fulfilled) {
            Fulfillment::Fulfilled
        } else if rng.chance(mix.partially_fulfilled) {
            Fulfillment::PartiallyFulfilled
        } else if rng.chance(mix.at_fulfillment_service) {
            Fulfillment::InProgressAtService
        } else if rng.chance(mix.on_hold) {
            Fulfillment::OnHold {
                reason: "INCORRECT_ADDRESS".into(),
            }
        } else {
            Fulfillment::Unfulfilled
        };
        let location = matches!(fulfillment, Fulfillment::InProgressAtService)
            .then(|| "ShipFast Fulfillment".to_string());
        let b2b = rng.chance(mix.b2b);
        let minutes =
            i64::try_from(rng.below(u64::from(mix.max_age_hours.max(1)) * 60)).unwrap_or(0);
        let order = NewOrder {
            customer: Some(format!(
                "customer{}@example.com",
                rng.below(count as u64 / 3 + 1)
            )),
            company: b2b.then(|| format!("Company {}", i % 7)),
            locale: Some(locale),
            created_at: Some(now - TimeDelta::minutes(minutes)),
            lines,
            shipping_country: Some(country),
            shipping: Some(("Standard".into(), "5.00".into())),
            payment: if b2b || rng.chance(mix.authorized_only) {
                Payment::Authorized
            } else {
                Payment::Paid
            },
            fulfillment,
            location,
            risk,
            inventory: InventoryBehaviour::Bypass,
            ..NewOrder::default()
        };
        let (id, e) = seed::create_order(state, &order)?;
        if oversold {
            // The pre-order throw sells past zero: take the units from stock.
            let default = state.default_location();
            if let (Some(v), Some(loc)) = (
                state.variants.values_mut().find(|v| v.sku == "THROW-GRY"),
                default,
            ) {
                *v.available.entry(loc).or_insert(0) -= 1;
            }
        }
        ids.push(id);
        events.extend(e);
    }
    Ok((ids, events))
}
