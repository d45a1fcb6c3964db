//! Test support for the cancel-policy Function: builds the Wasm, runs it under wasmtime with
//! Shopify's provider (instructions counted with fuel), renders order facts as Function input,
//! and computes the input query's size and cost by Shopify's published rules.

pub mod bench;
pub mod build;
pub mod harness;
pub mod native;
pub mod presets;
pub mod query_cost;
pub mod render;
