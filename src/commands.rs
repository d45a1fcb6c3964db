//! The service's commands: `serve`, `audit ORDER_ID`, `stats`.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Settings;
use crate::service::{self, Tuning};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The order: numeric id or `gid://shopify/Order/…`.
    pub order_id: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The shop's myshopify domain (default: `SHOPIFY_SHOP`).
    #[arg(long)]
    pub shop: Option<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `DATABASE_URL` (or the default SQLite file), for commands that only read the store.
fn database_url() -> String {
    let _ = dotenvy::dotenv();
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        let dir = std::env::var("CANCEL_POLICY_DATA_DIR").unwrap_or_else(|_| "data".to_string());
        format!("sqlite://{dir}/cancel-policy.sqlite?mode=rwc")
    })
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_env(args.listen)?;
    crate::telemetry::init(&settings.log_filter);
    if let Some(dir) = settings
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|p| {
            std::path::Path::new(p.split('?').next().unwrap_or(p))
                .parent()
                .map(|d| d.to_path_buf())
        })
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    runtime()?.block_on(async {
        let running = service::start(settings, Tuning::default()).await?;
        println!("cancel-policy serving on {}", running.url());
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        running.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn audit(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let order_id = crate::http::order_gid(&args.order_id).map_err(|e| anyhow::anyhow!("{e}"))?;
    runtime()?.block_on(async {
        let store = Store::connect(&database_url()).await?;
        let rows = store.decisions_for_order_any_shop(&order_id).await?;
        if rows.is_empty() {
            println!("no decision recorded for {order_id}");
            return Ok(ExitCode::from(1));
        }
        let entries = crate::http::merchant::audit_entries(&store, rows)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&entries)?);
            return Ok(ExitCode::SUCCESS);
        }
        for entry in entries {
            println!(
                "decision {} [{}] {} by {} → {} (rule {}, policy {})",
                entry.decision_id,
                entry.created_at,
                entry.trigger,
                entry.source,
                entry.outcome,
                entry.rule.as_deref().unwrap_or("default"),
                entry.policy_hash
            );
            for step in entry.steps {
                let detail = step
                    .error
                    .clone()
                    .or_else(|| step.result.as_ref().map(|r| r.to_string()))
                    .unwrap_or_default();
                println!(
                    "  {}. {:<34} {:<8} attempts {} {}",
                    step.seq + 1,
                    step.kind,
                    step.status,
                    step.attempts,
                    detail
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn stats(args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let shop = args
        .shop
        .clone()
        .or_else(|| std::env::var("SHOPIFY_SHOP").ok())
        .context("name the shop with --shop or SHOPIFY_SHOP")?;
    runtime()?.block_on(async {
        let store = Store::connect(&database_url()).await?;
        let stats = store.stats(&shop).await?;
        println!("{}", serde_json::to_string_pretty(&stats)?);
        Ok(ExitCode::SUCCESS)
    })
}
