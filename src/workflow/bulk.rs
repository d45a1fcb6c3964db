//! Staff bulk cancellation by policy: every order a Shopify search query matches is decided
//! with the shop's active policy (as a staff request by default), and what the policy
//! approves is carried out by the usual `execute` jobs.
//!
//! A run is a chain of `bulk_page` jobs. Each reads one page of `orders(query:)` after the
//! stored cursor, decides its orders with the dedupe key `bulk:{run}:{order}`, then commits
//! the counts, the next cursor and the next page's job together. A worker killed mid-page
//! leaves the cursor where it was: the page is read again, and its orders already decided are
//! found by their dedupe key, so no order is decided (or cancelled) twice. Pacing is the Admin
//! client's: it waits for the cost bucket and retries THROTTLED.

use std::collections::BTreeMap;
use std::time::Instant;

use cancel_policy_core::Trigger;
use cancel_policy_core::facts::RequestFacts;
use chrono::Utc;
use serde::Deserialize;

use crate::service::AppState;
use crate::shopify::operations::{OrdersPage, orders_page};
use crate::store::{BulkRow, JobRow, Lease, PageResult};
use crate::workflow::JobError;
use crate::workflow::decide::{DecideError, DecideRequest, decide};
use crate::workflow::execute::ExecError;

/// Shopify caps `first` at 250. https://shopify.dev/docs/api/usage/pagination-graphql
pub const MAX_PAGE_SIZE: i64 = 250;
pub const DEFAULT_PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageJob {
    bulk_id: i64,
    page: i64,
}

/// Runs one `bulk_page` job. Errors that retrying cannot mend end the run as `failed`.
pub async fn run_page(app: &AppState, job: &JobRow, lease: &Lease) -> Result<(), JobError> {
    let PageJob { bulk_id, page } = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::BadPayload(format!("job {}: {e}", job.id)))?;
    let Some(bulk) = app.store.bulk(bulk_id).await? else {
        return Err(JobError::BadPayload(format!(
            "bulk cancellation {bulk_id} is not stored"
        )));
    };
    if bulk.status != "running" || bulk.pages != page {
        // Committed before (this is a re-run after a crash) or the run has ended.
        return Ok(());
    }
    match decide_page(app, &bulk, lease).await {
        Ok(result) => {
            if !app
                .store
                .commit_bulk_page(bulk_id, page, &result, lease)
                .await?
            {
                tracing::info!(bulk_id, page, "bulk page committed elsewhere");
            }
            Ok(())
        }
        Err(error) if error.lease_lost() => Err(error),
        Err(error) if error.is_transient() && job.attempts < app.settings.worker.max_attempts => {
            Err(error)
        }
        Err(error) => {
            tracing::warn!(bulk_id, page, %error, "bulk cancellation failed");
            app.store.fail_bulk(bulk_id, &error.to_string()).await?;
            Ok(())
        }
    }
}

/// Reads the page after the stored cursor and decides each of its orders.
async fn decide_page(
    app: &AppState,
    bulk: &BulkRow,
    lease: &Lease,
) -> Result<PageResult, JobError> {
    let trigger: Trigger = bulk.trigger_name.parse().map_err(JobError::BadPayload)?;
    let session = app.session(&bulk.shop).await?;
    let data = app
        .client
        .run::<OrdersPage>(
            &session,
            orders_page::Variables {
                query: bulk.query.clone(),
                first: bulk.page_size,
                after: bulk.cursor.clone(),
            },
        )
        .await
        .map_err(DecideError::Admin)?;
    let orders = data.orders;
    let mut result = PageResult {
        orders_seen: i64::try_from(orders.nodes.len()).unwrap_or(i64::MAX),
        outcomes: BTreeMap::new(),
        errors: Vec::new(),
        end_cursor: orders.page_info.end_cursor,
        has_next_page: orders.page_info.has_next_page,
    };
    let dry_run = bulk.dry_run != 0;
    // Renew the lease well before it lapses, but not once per order: each renewal is a write.
    let renew_every = app.timing.lease / 3;
    let mut renewed = Instant::now();
    for order in orders.nodes {
        if renewed.elapsed() >= renew_every {
            if !app.store.heartbeat(lease, app.timing.lease).await? {
                return Err(JobError::Exec(ExecError::LeaseLost));
            }
            renewed = Instant::now();
        }
        let dedupe_key = format!("bulk:{}:{}", bulk.id, order.id);
        if !dry_run
            && let Some((_, outcome)) = app.store.decision_by_dedupe_key(&dedupe_key).await?
        {
            // Decided before this page was interrupted: count it, do not read it again.
            *result.outcomes.entry(outcome).or_default() += 1;
            continue;
        }
        let decided = decide(
            app,
            DecideRequest {
                shop: &bulk.shop,
                order_id: &order.id,
                trigger,
                request: RequestFacts::default(),
                dedupe_key,
                source: "staff",
                customer: None,
                now: Utc::now(),
                dry_run,
            },
        )
        .await;
        match decided {
            Ok(decided) => {
                *result
                    .outcomes
                    .entry(decided.decision.outcome.name().to_string())
                    .or_default() += 1;
            }
            // The order vanished between the page and its read, or its read was refused:
            // report that order and go on with the others.
            Err(error) if only_this_order(&error) => {
                result.errors.push((order.id, error.to_string()));
            }
            // No policy, a broken policy, the database or Shopify unavailable: the whole page
            // waits (or the run fails), and the orders decided so far are kept.
            Err(error) => return Err(error.into()),
        }
    }
    Ok(result)
}

/// Whether a failed decision concerns this order alone (and retrying will not change it).
fn only_this_order(error: &DecideError) -> bool {
    match error {
        DecideError::OrderNotFound(_) => true,
        DecideError::Admin(admin) => !admin.is_transient(),
        _ => false,
    }
}

/// Why a search query is refused before a run starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is empty: a bulk cancellation must say which orders it is for")]
    Empty,
    #[error("unbalanced quote in the query")]
    UnbalancedQuote,
    #[error("unbalanced parenthesis in the query")]
    UnbalancedParenthesis,
    #[error("`{key}` is not an orders search filter{hint}")]
    UnknownFilter { key: String, hint: String },
    #[error("`{term}` has no value after `:`")]
    MissingValue { term: String },
    #[error("`{key}` cannot be compared with `{comparator}`: only dates, ids and amounts can")]
    NotComparable { key: String, comparator: String },
    #[error("`{connective}` must stand between two terms")]
    DanglingConnective { connective: String },
}

/// Filters the `orders` query accepts in 2026-04.
/// https://shopify.dev/docs/api/admin-graphql/2026-04/queries/orders#arguments-query
const ORDER_FILTERS: &[&str] = &[
    "cart_token",
    "channel",
    "channel_id",
    "chargeback_status",
    "checkout_token",
    "confirmation_number",
    "created_at",
    "credit_card_last4",
    "current_total_price",
    "customer_accepts_email_marketing",
    "customer_accepts_marketing",
    "customer_accepts_sms_marketing",
    "customer_email",
    "customer_first_name",
    "customer_id",
    "customer_last_name",
    "customer_name",
    "customer_phone",
    "delivery_method",
    "discount_code",
    "email",
    "estimated_delivery_date",
    "expected_delivery_date",
    "financial_status",
    "fraud_protection_level",
    "fulfillment_location_id",
    "fulfillment_status",
    "gateway",
    "id",
    "location_id",
    "name",
    "payment_id",
    "payment_provider_id",
    "po_number",
    "processed_at",
    "reference_location_id",
    "return_status",
    "risk_level",
    "sales_channel",
    "sku",
    "source_identifier",
    "source_name",
    "status",
    "subtotal_line_items_quantity",
    "tag",
    "tag_not",
    "test",
    "total_weight",
    "updated_at",
];

/// Filters with a range (`>`, `>=`, `<`, `<=`).
const RANGE_FILTERS: &[&str] = &[
    "created_at",
    "current_total_price",
    "estimated_delivery_date",
    "expected_delivery_date",
    "id",
    "processed_at",
    "subtotal_line_items_quantity",
    "total_weight",
    "updated_at",
];

/// Checks a search query against Shopify's search syntax and the `orders` filters, so that a
/// typo is a 400 now rather than a run that silently matches nothing (Shopify ignores unknown
/// filters with only a warning). https://shopify.dev/docs/api/usage/search-syntax
pub fn validate_query(query: &str) -> Result<(), QueryError> {
    let tokens = tokenize(query)?;
    if tokens.is_empty() {
        return Err(QueryError::Empty);
    }
    let mut previous_was_connective = true;
    let mut depth = 0i64;
    for token in &tokens {
        let mut text = token.as_str();
        while let Some(rest) = text.strip_prefix('(') {
            depth += 1;
            text = rest;
        }
        while let Some(rest) = text.strip_suffix(')') {
            depth -= 1;
            if depth < 0 {
                return Err(QueryError::UnbalancedParenthesis);
            }
            text = rest;
        }
        if text.is_empty() {
            continue;
        }
        match text {
            "AND" | "OR" => {
                if previous_was_connective {
                    return Err(QueryError::DanglingConnective {
                        connective: text.to_string(),
                    });
                }
                previous_was_connective = true;
                continue;
            }
            "NOT" => {
                previous_was_connective = true;
                continue;
            }
            _ => previous_was_connective = false,
        }
        let term = text.strip_prefix('-').unwrap_or(text);
        let Some((key, value)) = term.split_once(':') else {
            // A bare word searches the default fields.
            continue;
        };
        let key = key.to_ascii_lowercase();
        let known = ORDER_FILTERS.contains(&key.as_str()) || key.starts_with("metafields.");
        if !known {
            return Err(QueryError::UnknownFilter {
                hint: did_you_mean(&key),
                key,
            });
        }
        let comparator: String = value
            .chars()
            .take_while(|c| matches!(c, '<' | '>' | '='))
            .collect();
        let rest = value.get(comparator.len()..).unwrap_or_default();
        if rest.is_empty() {
            return Err(QueryError::MissingValue {
                term: text.to_string(),
            });
        }
        if !comparator.is_empty() && !RANGE_FILTERS.contains(&key.as_str()) {
            return Err(QueryError::NotComparable { key, comparator });
        }
    }
    if depth != 0 {
        return Err(QueryError::UnbalancedParenthesis);
    }
    if previous_was_connective && let Some(last) = tokens.last() {
        return Err(QueryError::DanglingConnective {
            connective: last.clone(),
        });
    }
    Ok(())
}

/// Splits on whitespace outside quotes; quotes stay out of the tokens.
fn tokenize(query: &str) -> Result<Vec<String>, QueryError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            (_, c) => current.push(c),
        }
    }
    if quote.is_some() {
        return Err(QueryError::UnbalancedQuote);
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

fn did_you_mean(key: &str) -> String {
    ORDER_FILTERS
        .iter()
        .map(|known| (edit_distance(key, known), known))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, known)| format!(" (did you mean `{known}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = substitution.min(above + 1).min(left + 1);
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        for query in [
            "tag:fraud-check",
            "tag:fraud-check created_at:>2026-01-01",
            "tag:'fraud check' AND -status:cancelled",
            "(tag:a OR tag:b) financial_status:paid",
            "NOT tag:vip created_at:>='2026-01-01T00:00:00Z'",
            "#1001",
            "metafields.custom.batch:7",
        ] {
            assert_eq!(validate_query(query), Ok(()), "{query}");
        }
    }

    #[test]
    fn refuses_what_would_match_nothing_or_everything() {
        assert_eq!(validate_query("   "), Err(QueryError::Empty));
        assert_eq!(
            validate_query("tagg:fraud"),
            Err(QueryError::UnknownFilter {
                key: "tagg".into(),
                hint: " (did you mean `tag`?)".into()
            })
        );
        assert_eq!(
            validate_query("tag:'open"),
            Err(QueryError::UnbalancedQuote)
        );
        assert_eq!(
            validate_query("(tag:a OR tag:b"),
            Err(QueryError::UnbalancedParenthesis)
        );
        assert!(matches!(
            validate_query("tag:>a"),
            Err(QueryError::NotComparable { .. })
        ));
        assert!(matches!(
            validate_query("tag:"),
            Err(QueryError::MissingValue { .. })
        ));
        assert!(matches!(
            validate_query("tag:a OR"),
            Err(QueryError::DanglingConnective { .. })
        ));
    }
}
