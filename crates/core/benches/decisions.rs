//! Decision speed: nanoseconds per `evaluate` for each preset over its own test cases.
//!
//! `cargo bench -p cancel-policy-core --bench decisions`

use std::hint::black_box;
use std::time::Instant;

use cancel_policy_core::compile::cases::parse_cases;
use cancel_policy_core::compile::compile;
use cancel_policy_core::evaluate;

const ROUNDS: usize = 7;
const TARGET_NANOS_PER_ROUND: u128 = 50_000_000;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../presets");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    println!(
        "{:<28} {:>6} {:>14} {:>14}",
        "preset", "cases", "ns/decision", "with trace"
    );
    for path in paths {
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(policy) = compile(&source, &name).policy else {
            println!("{name}: does not compile");
            continue;
        };
        let Ok(cases) = parse_cases(&source, &name) else {
            continue;
        };
        let inputs: Vec<_> = cases
            .iter()
            .map(|c| (c.facts(&policy), c.at, c.trigger))
            .collect();
        let plain = median_nanos(inputs.len(), || {
            for (facts, at, trigger) in &inputs {
                black_box(evaluate(
                    black_box(&policy),
                    black_box(facts),
                    *at,
                    *trigger,
                ));
            }
        });
        let traced = median_nanos(inputs.len(), || {
            for case in &cases {
                black_box(case.run(black_box(&policy)));
            }
        });
        println!(
            "{name:<28} {:>6} {plain:>14.0} {traced:>14.0}",
            inputs.len()
        );
    }
}

/// Median over rounds of the time per decision, each round long enough to be measurable.
fn median_nanos(decisions_per_call: usize, mut call: impl FnMut()) -> f64 {
    let start = Instant::now();
    call();
    let once = start.elapsed().as_nanos().max(1);
    let calls = (TARGET_NANOS_PER_ROUND / once).clamp(1, 1_000_000) as usize;
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                call();
            }
            start.elapsed().as_nanos() as f64 / (calls * decisions_per_call.max(1)) as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds.get(ROUNDS / 2).copied().unwrap_or_default()
}
