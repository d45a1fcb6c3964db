//! Shopify: the Admin GraphQL client, its operations, facts from an Admin order, signatures.

pub mod client;
pub mod facts;
pub mod operations;
pub mod signatures;
pub mod tokens;

pub use client::{AdminClient, AdminError, ShopSession};

/// The Admin API version every operation is written for.
pub const API_VERSION: &str = "2026-04";
