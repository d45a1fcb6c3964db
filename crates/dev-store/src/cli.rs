//! `cancel-policy dev-store`: the store in the foreground.

use std::path::PathBuf;

use crate::facts::Mix;
use crate::{DevStore, DevStoreConfig, DevStoreError, Plan};

/// Run a local Shopify dev store (Admin GraphQL API, webhooks, fault knobs).
#[derive(Debug, Clone, clap::Args)]
pub struct DevStoreArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4001)]
    pub port: u16,
    /// The shop's myshopify domain.
    #[arg(long, default_value = "cancel-policy-dev.myshopify.com")]
    pub shop: String,
    /// Admin API access token clients must send.
    #[arg(long, default_value = "shpat_dev_store_0000000000000000")]
    pub token: String,
    /// The app's client secret (the webhook HMAC key).
    #[arg(long, default_value = "dev-store-client-secret")]
    pub secret: String,
    /// Plan preset for throttling: standard, advanced, plus or enterprise.
    #[arg(long, default_value = "standard", value_parser = parse_plan)]
    pub plan: Plan,
    /// Start empty instead of with the demo catalog and orders.
    #[arg(long)]
    pub empty: bool,
    /// Also generate this many orders (default mix).
    #[arg(long, default_value_t = 0)]
    pub generate: usize,
    /// Write the generated orders as `cancel-policy simulate` JSONL here.
    #[arg(long, requires = "generate")]
    pub jsonl: Option<PathBuf>,
    /// Subscribe a webhook: TOPIC=URL (repeatable).
    #[arg(long = "webhook", value_parser = parse_webhook)]
    pub webhooks: Vec<(String, String)>,
    /// Speed Shopify time up (retry backoff, job delays, bucket restore).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    Plan::parse(s)
        .ok_or_else(|| format!("unknown plan `{s}`: use standard, advanced, plus or enterprise"))
}

fn parse_webhook(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(t, u)| (t.to_string(), u.to_string()))
        .ok_or_else(|| format!("`{s}` is not TOPIC=URL"))
}

/// Starts the store and serves until Ctrl-C.
pub async fn run(args: DevStoreArgs) -> Result<(), DevStoreError> {
    let mut config = DevStoreConfig {
        port: args.port,
        shop_domain: args.shop.clone(),
        access_token: args.token.clone(),
        api_secret: args.secret.clone(),
        plan: args.plan,
        seed_demo: !args.empty,
        ..DevStoreConfig::default()
    };
    config.faults.time_scale = args.time_scale;
    let store = DevStore::start(config).await?;
    for (topic, uri) in &args.webhooks {
        store.subscribe_webhook(topic, uri);
    }
    if args.generate > 0 {
        let ids = store.generate_orders(args.generate, &Mix::default(), 42)?;
        if let Some(path) = &args.jsonl {
            store.write_simulate_jsonl(path, &ids, chrono::Utc::now())?;
            println!("wrote {} simulate lines to {}", ids.len(), path.display());
        }
    }
    println!("Shopify dev store for {}", store.shop_domain());
    println!("  Admin GraphQL  POST {}", store.graphql_url());
    println!("  access token   {}", store.access_token());
    println!("  API secret     {}", store.api_secret());
    println!(
        "  dev endpoints  {}/_dev (faults, seed, orders, webhooks)",
        store.base_url()
    );
    println!("  orders         {}", store.order_ids().len());
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(DevStoreError::Serve)?;
    store.shutdown().await;
    Ok(())
}
