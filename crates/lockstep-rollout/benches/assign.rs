//! `assign` on one core, against SHA-256 alone over the same bytes, in one run.
//!
//! `cargo bench -p lockstep-rollout` prints the median of 9 runs of 200,000 calls each:
//! - `assign`: one call per unit id (bucket hash, stage comparison, decision);
//! - `sha256`: the same domain tag, rollout id and unit id hashed with `sha2` and nothing else;
//! - the ratio `assign / sha256`, which is what to compare across machines.
//!
//! Target (issue 13): under 1 µs per assignment.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lockstep_rollout::{DOMAIN, State, View, assign};
use sha2::{Digest, Sha256};

const CALLS: usize = 200_000;
const RUNS: usize = 9;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let units: Vec<String> = (0..CALLS).map(|i| format!("session-{i:08}")).collect();
    let view = View {
        id: "agent-cli@2.0.0#1733312000",
        version: "2.0.0",
        rollback: "1.9.0",
        state: State::Running,
        stage_bp: 1_000,
    };
    let mut assign_runs = Vec::new();
    let mut hash_runs = Vec::new();
    let mut inside = 0usize;
    for _ in 0..RUNS {
        let start = Instant::now();
        for u in &units {
            let a = assign(black_box(&view), black_box(u), None);
            inside += usize::from(a.version == "2.0.0");
        }
        assign_runs.push(start.elapsed());

        let start = Instant::now();
        for u in &units {
            let d = Sha256::new()
                .chain_update(DOMAIN)
                .chain_update(black_box(view.id).as_bytes())
                .chain_update([0u8])
                .chain_update(black_box(u).as_bytes())
                .finalize();
            black_box(d);
        }
        hash_runs.push(start.elapsed());
    }
    let a = median(assign_runs).as_nanos() as f64 / CALLS as f64;
    let h = median(hash_runs).as_nanos() as f64 / CALLS as f64;
    println!("assign: {a:.1} ns/call ({CALLS} calls, median of {RUNS} runs)");
    println!("sha256 alone: {h:.1} ns/call");
    println!("ratio assign / sha256: {:.2}", a / h);
    println!(
        "units on the new version at 10 %: {:.2} %",
        inside as f64 * 100.0 / (CALLS * RUNS) as f64
    );
    println!(
        "target: < 1000 ns/call: {}",
        if a < 1000.0 { "met" } else { "MISSED" }
    );
}
