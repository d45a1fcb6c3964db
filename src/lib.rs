//! cancel-policy: the agency command line and the companion service.

pub mod cli;
pub mod presets;
