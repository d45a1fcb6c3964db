//! Re-exports Shopify's Function provider so that a `wasm32-unknown-unknown` build of this
//! crate exports `initialize`, `finalize` and the `_shopify_function_*` functions that a
//! `shopify_function` 2.x module imports. crates/function-tests links the two in wasmtime.

pub use shopify_function_provider::*;
