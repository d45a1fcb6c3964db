//! The dev store's error type.

use std::path::PathBuf;

use crate::seed::SeedError;

#[derive(Debug, thiserror::Error)]
pub enum DevStoreError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("the pruned Admin schema does not load: {0}")]
    Schema(String),
    #[error("the webhook HTTP client cannot be built: {0}")]
    HttpClient(String),
    #[error("seed data: {0}")]
    Seed(#[from] SeedError),
    #[error("no order `{0}` in the dev store")]
    UnknownOrder(String),
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the HTTP server stopped: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    Invalid(String),
}
