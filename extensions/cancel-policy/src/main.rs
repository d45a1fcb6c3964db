//! The cancel-policy Shopify Function: Function input → order facts → core evaluator → output.
//!
//! `#[typegen]` checks the input query and the output against `schema.graphql` at compile time.
//! Input is read through `input.rs` rather than the generated accessors, which unwrap and would
//! trap on malformed input; a bad input must give a defined error result instead.

// No `main` in the Wasm: Shopify runs the named export (`order_cancellation_run`), never a
// start function, and std's start-up code behind `main` took 1.1 kB of the module.
#![cfg_attr(target_arch = "wasm32", no_main)]

use shopify_function::prelude::*;

mod input;
mod order_cancellation_run;
mod output;
mod policy;
#[cfg(test)]
mod tests;

/// A Function instance runs once and is then thrown away, so nothing needs freeing: a bump
/// allocator makes each allocation a handful of instructions and each free none. The benchmark
/// prints the resulting peak memory next to Shopify's 10,000 kB limit.
/// https://shopify.dev/docs/api/functions/latest#limitations
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: a Function runs on a single thread.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::LeakingAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::LeakingAllocator::new()) };

#[typegen("schema.graphql")]
pub mod schema {
    #[query("src/order_cancellation_run.graphql")]
    pub mod order_cancellation_run {}
}

/// A native build (`cargo build --workspace`) still links a binary, which needs a `main`.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    log!("Invoke a named export.");
    std::process::abort();
}
