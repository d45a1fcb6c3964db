//! `shopify.extension.toml` agrees with the code: the target's export is the one the built
//! module exports, the input query is the file the tests measure, the build command's profile
//! exists, and the input-variables metafield is the namespace the query reads.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::fs;

use cancel_policy_function_tests::build::{self, workspace_root};
use toml::Value;

fn extension() -> Value {
    let path = workspace_root().join("extensions/cancel-policy/shopify.extension.toml");
    toml::from_str(&fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn extension_config_matches_the_function() {
    let config = extension();
    assert_eq!(config["api_version"].as_str(), Some("2026-04"));
    let function = &config["extensions"][0];
    assert_eq!(function["type"].as_str(), Some("function"));
    let target = &function["targeting"][0];
    assert_eq!(
        target["target"].as_str(),
        Some("cancel-policy.order-cancellation.run")
    );

    let query_path = target["input_query"].as_str().unwrap();
    let query = fs::read_to_string(
        workspace_root()
            .join("extensions/cancel-policy")
            .join(query_path),
    )
    .unwrap();
    let variables = &function["input"]["variables"];
    let namespace = variables["namespace"].as_str().unwrap();
    assert!(
        query.contains(&format!("namespace: \"{namespace}\"")),
        "the input query reads another namespace than `{namespace}`"
    );
    assert_eq!(variables["key"].as_str(), Some("input-variables"));

    // Shopify's build command is the script the tests build with, and its path the module
    // that script writes (the one the tests run).
    let build_command = function["build"]["command"].as_str().unwrap();
    let script = build::FUNCTION_BUILD_SCRIPT;
    let script_name = script.rsplit('/').next().unwrap();
    assert_eq!(build_command, format!("sh {script_name}"));
    let script_text = fs::read_to_string(workspace_root().join(script)).unwrap();
    assert!(script_text.contains("--profile function"));
    assert!(script_text.contains(&format!("-o \"$out/{}\"", build::FUNCTION_MODULE)));
    let manifest = fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[profile.function]"));
    let path = function["build"]["path"].as_str().unwrap();
    assert_eq!(
        path,
        format!(
            "../../target/wasm32-unknown-unknown/function/{}",
            build::FUNCTION_MODULE
        )
    );

    // The export Shopify calls is one the built module has.
    let export = target["export"].as_str().unwrap();
    let artifacts = build::artifacts().unwrap();
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::from_file(&engine, &artifacts.function).unwrap();
    assert!(
        module.exports().any(|e| e.name() == export),
        "the module does not export `{export}`"
    );
}
