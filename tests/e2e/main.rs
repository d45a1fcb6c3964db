//! End to end: the service and the dev store over real HTTP on loopback.
//! Every test runs twice, on SQLite and on PostgreSQL (`TEST_DATABASE_URL`, or a local
//! server started by `scripts/start-postgres.sh`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod support;

mod bulk;
mod crashes;
mod customers;
mod flow;
mod inventory;
mod publish;
mod tokens;
mod webhooks;
