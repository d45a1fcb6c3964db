//! The cancel-policy Shopify Function: Function input → order facts → core evaluator → output.
//!
//! `#[typegen]` checks the input query and the output against `schema.graphql` at compile time.
//! Input is read through `input.rs` rather than the generated accessors, which unwrap and would
//! trap on malformed input; a bad input must give a defined error result instead.

use shopify_function::prelude::*;

mod input;
mod order_cancellation_run;
mod output;
mod policy;
#[cfg(test)]
mod tests;

#[typegen("schema.graphql")]
pub mod schema {
    #[query("src/order_cancellation_run.graphql")]
    pub mod order_cancellation_run {}
}

fn main() {
    log!("Invoke a named export.");
    std::process::abort();
}
