//! The four scenes, each through the door a live shop uses, in the order of the README.

use anyhow::Context;
use cancel_policy_dev_store::model::InventoryPolicy;
use cancel_policy_dev_store::seed::InventoryBehaviour;
use cancel_policy_dev_store::{NewCustomer, NewLine, NewOrder, NewProduct, NewVariant};

use super::report;
use super::stage::Stage;

const CANDLE: &str = "CANDLE-BEE";
const MUG: &str = "MUG-NAME";
const LAMP: &str = "LAMP-ARC";
const THROW: &str = "THROW-LINEN";

/// Plays every scene; returns the first order, whose audit the closing URLs point at.
pub async fn play(stage: &Stage) -> anyhow::Result<String> {
    stock_the_shop(stage)?;
    let first = customer_cancels_in_time(stage).await?;
    personalised_item_refused(stage).await?;
    high_risk_cancelled_as_fraud(stage).await?;
    oversold_line_cancelled(stage).await?;
    Ok(first)
}

/// One product of the demo catalog, with a single variant.
struct Product {
    title: &'static str,
    sku: &'static str,
    price: &'static str,
    stock: i64,
    tags: &'static [&'static str],
    inventory_policy: InventoryPolicy,
}

const CATALOG: &[Product] = &[
    Product {
        title: "Beeswax candle",
        sku: CANDLE,
        price: "18.00",
        stock: 20,
        tags: &[],
        inventory_policy: InventoryPolicy::Deny,
    },
    Product {
        title: "Mug with your name",
        sku: MUG,
        price: "24.00",
        stock: 50,
        tags: &["personalised"],
        inventory_policy: InventoryPolicy::Deny,
    },
    Product {
        title: "Arc floor lamp",
        sku: LAMP,
        price: "320.00",
        stock: 5,
        tags: &[],
        inventory_policy: InventoryPolicy::Deny,
    },
    // Sold on when out of stock: the source of oversold lines.
    Product {
        title: "Linen throw",
        sku: THROW,
        price: "65.00",
        stock: 1,
        tags: &[],
        inventory_policy: InventoryPolicy::Continue,
    },
];

fn stock_the_shop(stage: &Stage) -> anyhow::Result<()> {
    for product in CATALOG {
        stage
            .dev
            .add_product(&NewProduct {
                title: product.title.to_string(),
                tags: product.tags.iter().map(|t| t.to_string()).collect(),
                product_type: "Home".to_string(),
                vendor: "Maison Lumière".to_string(),
                variants: vec![NewVariant {
                    title: "Default Title".to_string(),
                    sku: product.sku.to_string(),
                    price: product.price.to_string(),
                    quantity: product.stock,
                    inventory_policy: Some(product.inventory_policy),
                    ..NewVariant::default()
                }],
                ..NewProduct::default()
            })
            .with_context(|| format!("adding {}", product.title))?;
    }
    Ok(())
}

struct Customer {
    email: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    locale: &'static str,
    country: &'static str,
}

/// Adds the customer and places their paid order, `minutes_ago`; returns the order's and the
/// customer's gids.
fn place_order(
    stage: &Stage,
    customer: &Customer,
    lines: &[(&str, i64)],
    minutes_ago: i64,
) -> anyhow::Result<(String, String)> {
    let customer_id = stage.dev.add_customer(&NewCustomer {
        email: customer.email.to_string(),
        first_name: customer.first_name.to_string(),
        last_name: customer.last_name.to_string(),
        locale: Some(customer.locale.to_string()),
        ..NewCustomer::default()
    });
    let order = stage
        .dev
        .create_order(&NewOrder {
            customer: Some(customer.email.to_string()),
            created_at: Some(chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)),
            lines: lines
                .iter()
                .map(|(sku, quantity)| NewLine {
                    sku: Some(sku.to_string()),
                    quantity: *quantity,
                    ..NewLine::default()
                })
                .collect(),
            shipping: Some(("Standard".to_string(), "5.00".to_string())),
            shipping_country: Some(customer.country.to_string()),
            // As the online store does: stock goes down even past zero when the product
            // keeps selling.
            inventory: InventoryBehaviour::DecrementIgnoringPolicy,
            ..NewOrder::default()
        })
        .with_context(|| format!("placing {}'s order", customer.first_name))?;
    Ok((order, customer_id))
}

async fn customer_cancels_in_time(stage: &Stage) -> anyhow::Result<String> {
    report::scene(
        1,
        "Alice cancels ten minutes after ordering",
        "customer door: POST /api/customer/orders/{id}/cancel with her session token",
    );
    let alice = Customer {
        email: "alice@example.com",
        first_name: "Alice",
        last_name: "Martin",
        locale: "en",
        country: "GB",
    };
    let (order, customer) = place_order(stage, &alice, &[(CANDLE, 3)], 10)?;
    let placed = report::stock_of(&stage.dev, &order);
    // The shop's own decision on the new order comes first (nothing to do here).
    stage.carried_out(&order, "order_created").await?;
    let answer = stage
        .customer_cancel(&order, &customer, "changed_mind")
        .await?;
    report::door_answer(&answer);
    let decision = stage.carried_out(&order, "customer_request").await?;
    report::decision(&decision);
    report::order(&stage.dev, &order, &placed)?;
    Ok(order)
}

async fn personalised_item_refused(stage: &Stage) -> anyhow::Result<()> {
    report::scene(
        2,
        "Camille, in France, asks to cancel a mug with her name on it",
        "customer door, French customer account",
    );
    let camille = Customer {
        email: "camille@example.fr",
        first_name: "Camille",
        last_name: "Dubois",
        locale: "fr",
        country: "FR",
    };
    let (order, customer) = place_order(stage, &camille, &[(MUG, 1), (CANDLE, 1)], 5)?;
    let placed = report::stock_of(&stage.dev, &order);
    stage.carried_out(&order, "order_created").await?;
    let answer = stage
        .customer_cancel(&order, &customer, "changed_mind")
        .await?;
    report::door_answer(&answer);
    let decision = stage.carried_out(&order, "customer_request").await?;
    report::decision(&decision);
    report::order(&stage.dev, &order, &placed)
}

async fn high_risk_cancelled_as_fraud(stage: &Stage) -> anyhow::Result<()> {
    report::scene(
        3,
        "A fraud-screening app rates a new order HIGH risk",
        "orderRiskAssessmentCreate on the store → orders/risk_assessment_changed webhook",
    );
    let buyer = Customer {
        email: "m.lory@example.net",
        first_name: "Mal",
        last_name: "Lory",
        locale: "en",
        country: "US",
    };
    let (order, _) = place_order(stage, &buyer, &[(LAMP, 2)], 2)?;
    let placed = report::stock_of(&stage.dev, &order);
    stage.carried_out(&order, "order_created").await?;
    stage
        .assess_risk(
            &order,
            "HIGH",
            "Billing and shipping countries differ; card issued elsewhere",
        )
        .await?;
    let decision = stage.carried_out(&order, "risk_changed").await?;
    report::decision(&decision);
    report::order(&stage.dev, &order, &placed)
}

async fn oversold_line_cancelled(stage: &Stage) -> anyhow::Result<()> {
    report::scene(
        4,
        "Jonas orders three linen throws when one is left (the product keeps selling)",
        "orders/create webhook",
    );
    let jonas = Customer {
        email: "jonas@example.de",
        first_name: "Jonas",
        last_name: "Weber",
        locale: "de",
        country: "DE",
    };
    let (order, _) = place_order(stage, &jonas, &[(THROW, 3), (CANDLE, 2)], 0)?;
    let placed = report::stock_of(&stage.dev, &order);
    let decision = stage.carried_out(&order, "order_created").await?;
    report::decision(&decision);
    report::order(&stage.dev, &order, &placed)
}
