//! The cancel-policy language: policy model, compiler, compiled form, facts and evaluator.
//!
//! Pure: no I/O, no async, builds for `wasm32-unknown-unknown`. The Shopify Function and the
//! companion service both evaluate the same compiled policy with [`evaluate`].

pub mod catalog;
#[cfg(feature = "compile")]
pub mod compile;
pub mod compiled;
pub mod decision;
pub mod eval;
pub mod facts;
pub mod lowercase;
pub mod model;
pub mod money;
pub mod outcome;
pub mod placeholder;
pub mod text;
pub mod text_map;
pub mod tz;

pub use compiled::{CompiledPolicy, InputVariables, Trigger};
pub use decision::{Action, Decision};
pub use eval::{EvalOptions, evaluate, evaluate_with};
pub use facts::Facts;
