//! The command line through its real entry point: the built `cancel-policy` binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cancel_policy_core::CompiledPolicy;
use cancel_policy_core::compile::cases::parse_cases;
use cancel_policy_core::compile::compile;

const LOCALES: [&str; 5] = ["en", "fr", "da", "nb", "de"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cancel-policy"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn presets() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("presets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().display().to_string()
}

#[test]
fn test_command_runs_every_preset_case() {
    let output = run(&["test", "presets/"]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    let last = text.lines().last().unwrap();
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 64, "{last}");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn test_command_reports_a_failing_case_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(root().join("presets/one-hour-grace.toml")).unwrap();
    let broken = source.replacen(
        "expect = { outcome = \"allow\", rule = \"within-grace\" }",
        "expect = { outcome = \"deny\", rule = \"within-grace\" }",
        1,
    );
    assert_ne!(source, broken);
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, broken).unwrap();
    let output = run(&["test", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("outcome: expected `deny`, got `allow`"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("8 passed, 1 failed"), "{text}");
}

#[test]
fn five_mistakes_give_five_diagnostics_with_line_and_column() {
    let output = run(&["check", "tests/data/five-mistakes.toml"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1));
    let locations: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start()
                .starts_with("--> tests/data/five-mistakes.toml:")
        })
        .collect();
    assert_eq!(locations.len(), 5, "{text}");
    insta::assert_snapshot!("five_mistakes", text);
}

#[test]
fn check_accepts_every_preset_without_warnings() {
    let output = run(&["check", "presets/"]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.trim_end().ends_with("0 error(s), 0 warning(s)"),
        "{text}"
    );
}

#[test]
// A shipped preset stays a fifth of the metafield's 10,000 bytes, with the header the Function
// reads before the rules (about 120 bytes: needs per trigger, product tags, offsets).
fn every_preset_compiles_to_at_most_2200_bytes_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    for preset in presets() {
        let out = dir.path().join("policy.json");
        let output = run(&["compile", &rel(&preset), "-o", out.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json = std::fs::read_to_string(&out).unwrap();
        assert!(
            json.len() <= 2_200,
            "{} compiles to {} bytes",
            preset.display(),
            json.len()
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{} bytes of 10000", json.len())),
            "{stderr}"
        );
        let loaded = CompiledPolicy::load(&json).unwrap();
        let source = std::fs::read_to_string(&preset).unwrap();
        assert_eq!(
            Some(loaded),
            compile(&source, "p").policy,
            "{}",
            preset.display()
        );
    }
}

#[test]
fn compiled_presets_snapshot() {
    for preset in presets() {
        let output = run(&["compile", &rel(&preset)]);
        let name = preset.file_stem().unwrap().to_string_lossy().into_owned();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        insta::assert_json_snapshot!(format!("compiled_{name}"), json);
    }
}

/// Every preset explains a refusal in each of the five locales, in that locale's own words.
#[test]
fn every_preset_is_explained_in_all_five_locales() {
    let dir = tempfile::tempdir().unwrap();
    for preset in presets() {
        let source = std::fs::read_to_string(&preset).unwrap();
        let policy = compile(&source, "p").policy.unwrap();
        let cases = parse_cases(&source, "p").unwrap();
        let case = cases
            .iter()
            .find(|c| c.expect.message.is_some())
            .unwrap_or_else(|| panic!("{} has no case with a message", preset.display()));
        let key = case.expect.message.clone().unwrap();
        let record =
            serde_json::json!({ "order": case.order, "at": case.at, "trigger": case.trigger });
        let order = dir.path().join("order.json");
        std::fs::write(&order, record.to_string()).unwrap();
        let mut texts = Vec::new();
        for locale in LOCALES {
            let output = run(&[
                "explain",
                &rel(&preset),
                "--order",
                order.to_str().unwrap(),
                "--locale",
                locale,
                "--json",
            ]);
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(decision["message"]["key"], key.as_str());
            assert_eq!(
                decision["message"]["locale"],
                locale,
                "{}",
                preset.display()
            );
            let expected = &policy.messages[locale][&key];
            assert_eq!(decision["message"]["text"], expected.as_str());
            assert!(decision["trace"].as_array().is_some());
            texts.push(expected.clone());
        }
        texts.sort();
        texts.dedup();
        assert_eq!(
            texts.len(),
            5,
            "{}: some locales share a text",
            preset.display()
        );
    }
}

#[test]
fn explain_in_words_names_the_rule_and_the_failed_condition() {
    let output = run(&[
        "explain",
        "presets/one-hour-grace.toml",
        "--order",
        "tests/data/order-shipped.json",
        "--at",
        "2026-03-02T10:20:00Z",
        "--locale",
        "de",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!("explain_shipped_de", stdout(&output));
}

#[test]
fn explain_rejects_a_bad_order_file_saying_where() {
    let dir = tempfile::tempdir().unwrap();
    let order = dir.path().join("bad.json");
    std::fs::write(&order, r#"{"order": {"createdAt": "yesterday"}}"#).unwrap();
    let output = run(&[
        "explain",
        "presets/one-hour-grace.toml",
        "--order",
        order.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("order.createdAt"), "{stderr}");
}

#[test]
fn simulate_counts_by_outcome_rule_and_reason_and_reports_bad_lines() {
    let output = run(&[
        "simulate",
        "presets/one-hour-grace.toml",
        "--orders",
        "tests/data/orders.jsonl",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "one line is invalid");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["orders"], 4);
    assert_eq!(summary["invalid"], 1);
    // The bare order (line 6) has no `at`: decided now, long after its window.
    assert_eq!(summary["by_outcome"]["allow"], 1);
    assert_eq!(summary["by_outcome"]["deny"], 3);
    assert_eq!(summary["by_rule"]["within-grace"], 1);
    assert_eq!(summary["by_rule"]["default"], 2);
    assert_eq!(summary["by_rule"]["fulfillment-started"], 1);
    assert_eq!(summary["by_reason"]["CUSTOMER"], 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("orders.jsonl:5: skipped: at `order.createdAt`"),
        "{stderr}"
    );
}

#[test]
fn committed_json_schema_matches_the_model() {
    let output = run(&["schema"]);
    assert!(output.status.success());
    let committed = std::fs::read_to_string(root().join("schema/policy.schema.json")).unwrap();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(root().join("schema/policy.schema.json"), &output.stdout).unwrap();
        return;
    }
    assert!(
        stdout(&output) == committed,
        "schema/policy.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test --test cli committed_json_schema`"
    );
}

#[test]
fn every_preset_reads_into_the_schema_model() {
    for preset in presets() {
        let source = std::fs::read_to_string(&preset).unwrap();
        let model: Result<cancel_policy_core::model::PolicyFile, _> = toml::from_str(&source);
        assert!(model.is_ok(), "{}: {:?}", preset.display(), model.err());
    }
}

/// The README's first command is a plain `cargo run` at the root, whose default members hold
/// other binaries too (the Function, the benchmarks): `default-run` makes it this one.
#[test]
fn the_readmes_first_command_runs_this_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let first = readme
        .lines()
        .skip_while(|line| !line.starts_with("```"))
        .nth(1)
        .unwrap();
    assert!(first.starts_with("cargo run --release -- demo"), "{first}");
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    assert_eq!(
        manifest["package"]["default-run"].as_str(),
        Some(env!("CARGO_PKG_NAME"))
    );
}

/// The README's first command: a dev store and the service on loopback, the story policy
/// published, four scenes through the real doors, each order's state read back from the store.
#[test]
fn demo_plays_the_four_scenes() {
    let started = std::time::Instant::now();
    let output = run(&["demo", "--exit"]);
    let text = stdout(&output);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the demo took {:?}",
        started.elapsed()
    );
    assert!(
        text.contains("`demo-story` 1.0.0 published through POST /api/policies"),
        "{text}"
    );
    let scenes: Vec<&str> = text.split("\n── ").skip(1).collect();
    assert_eq!(scenes.len(), 4, "{text}");
    let expect = |scene: &str, lines: &[&str]| {
        for line in lines {
            assert!(scene.contains(line), "missing `{line}` in:\n{scene}");
        }
    };
    // 1. Inside the window: approved, cancelled, refunded, restocked, tagged.
    expect(
        scenes[0],
        &[
            "decision   allow by rule `within-hour` (customer_request, from customer)",
            "[en] Your order is cancelled; the payment goes back to your card.",
            "steps      cancel_order done, add_tags done (decision done)",
            "CANCELLED (reason CUSTOMER) · financial REFUNDED",
            "refunded 59.00 EUR",
            "3 × Beeswax candle (CANDLE-BEE): 0 left",
            "CANDLE-BEE: 17 after the order → 20 now (restocked 3)",
            "tags       cancelled-by-customer",
        ],
    );
    // 2. A personalised item: refused in French, nothing changes.
    expect(
        scenes[1],
        &[
            "decision   deny by rule `personalised`",
            "[fr] Cette commande contient un article fabriqué pour vous : elle ne peut pas être annulée.",
            "open · financial PAID",
            "refunded 0.00 EUR",
            "tags       none",
        ],
    );
    // 3. HIGH risk from a fraud app: cancelled as FRAUD, silently, refunded and restocked.
    expect(
        scenes[2],
        &[
            "decision   cancel by rule `high-risk` (risk_changed, from webhook)",
            "(none: the customer is not told)",
            "CANCELLED (reason FRAUD) · financial REFUNDED",
            "LAMP-ARC: 3 after the order → 5 now (restocked 2)",
            "tags       fraud-cancelled",
        ],
    );
    // 4. An oversold line: only that line cancelled, refunded and restocked.
    expect(
        scenes[3],
        &[
            "decision   cancel_lines by rule `oversold-lines` (order_created, from webhook)",
            "[de] Leider waren einige Artikel ausverkauft. Sie wurden erstattet.",
            "open · financial PARTIALLY_REFUNDED",
            "refunded 195.00 EUR",
            "3 × Linen throw (THROW-LINEN): 0 left",
            "2 × Beeswax candle (CANDLE-BEE): 2 left",
            "THROW-LINEN: -2 after the order → 1 now (restocked 3)",
        ],
    );
    assert!(text.contains("/api/stats"), "{text}");
    assert!(text.contains("/audit"), "{text}");
    assert!(text.contains("/admin/api/2026-04/graphql.json"), "{text}");
}

/// The dev store's order generator writes JSON Lines that `simulate` replays as they are.
#[test]
fn dev_store_generates_orders_that_simulate_replays() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("orders.jsonl");
    let mut store = Command::new(env!("CARGO_BIN_EXE_cancel-policy"))
        .args([
            "dev-store",
            "--port",
            "0",
            "--generate",
            "300",
            "--jsonl",
            jsonl.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    for line in BufReader::new(store.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    store.kill().unwrap();
    let _ = store.wait();
    assert!(
        banner.contains("/admin/api/2026-04/graphql.json"),
        "{banner}"
    );
    let output = run(&[
        "simulate",
        "presets/fraud-first.toml",
        "--orders",
        jsonl.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["invalid"], 0);
    assert_eq!(summary["orders"], 300);
    let decided: u64 = summary["by_outcome"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(decided, 300);
}
