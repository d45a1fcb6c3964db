//! cancel-policy: the agency command line and the companion service.

pub mod cli;
pub mod presets;

// The companion service.
pub mod commands;
pub mod config;
pub mod http;
pub mod service;
pub mod shopify;
pub mod store;
pub mod telemetry;
pub mod worker;
pub mod workflow;
