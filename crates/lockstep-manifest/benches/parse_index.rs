//! Parses a generated 10,000-release index, on divan, and compares in the same run with
//! `serde_json::Value` on the same text (the baseline: JSON parsing with no typed model).
//! Target: under 100 ms in release mode. Run with `cargo bench -p lockstep-manifest`.

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::Duration;

use divan::Bencher;
use lockstep_manifest::ReleaseIndex;

#[path = "../../../benches/ratio.rs"]
mod ratio;

use ratio::{Ratio, timed};

const RELEASES: usize = 10_000;
const TARGET: Duration = Duration::from_millis(100);

fn index_text() -> String {
    let channels = ["stable", "stable", "lts", "beta", "canary"];
    let releases: Vec<serde_json::Value> = (0..RELEASES)
        .map(|i| {
            let (major, minor, patch) = (1 + i / 2000, (i / 20) % 100, i % 20);
            serde_json::json!({
                "version": format!("{major}.{minor}.{patch}"),
                "channel": channels[i % channels.len()],
                "contracts_version": format!("{major}.{}.0", minor / 10),
                "released_at": format!("2026-{:02}-{:02}T{:02}:30:00Z", 1 + i % 12, 1 + i % 28, i % 24),
                "commit": format!("{:040x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)),
                "capabilities": ["ledger.v1", "events.stream", "auth.oidc", "reports.csv", format!("feature.f{}", i % 50)],
                "deprecated_capabilities": if i % 7 == 0 { vec!["reports.pdf"] } else { vec![] },
                "changelog": {
                    "breaking": [],
                    "features": [format!("feature {i}: faster ledger posting for large batches")],
                    "fixes": [format!("fix {i}: events redelivered after broker restart"), "auth: clock skew tolerance".to_owned()],
                },
                "migration_notes": "none",
                "artifacts": [{
                    "name": format!("core-{major}.{minor}.{patch}.tar.gz"),
                    "url": format!("https://downloads.example.com/core/{major}.{minor}.{patch}/core.tar.gz"),
                    "sha256": format!("{:064x}", (i as u128).wrapping_mul(0x2545_f491_4f6c_dd1d)),
                    "size": 1_000_000 + i,
                }],
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({"schema": 1, "releases": releases}))
        .expect("the index serialises")
}

static TEXT: LazyLock<String> = LazyLock::new(|| {
    let text = index_text();
    let parsed = ReleaseIndex::parse(&text).expect("the generated index is valid");
    assert_eq!(parsed.releases.len(), RELEASES);
    text
});

#[divan::bench_group(sample_count = 15, sample_size = 1)]
mod parse_index {
    use super::*;

    /// The typed model: `ReleaseIndex::parse`.
    #[divan::bench]
    fn release_index(bencher: Bencher) {
        bencher.bench_local(|| timed("ours", || ReleaseIndex::parse(black_box(&TEXT)).ok()));
    }

    /// The baseline: the same text into `serde_json::Value`.
    #[divan::bench]
    fn serde_json_value(bencher: Bencher) {
        bencher.bench_local(|| {
            timed("baseline", || {
                serde_json::from_str::<serde_json::Value>(black_box(&TEXT)).ok()
            })
        });
    }
}

fn main() {
    println!(
        "parse_index: {RELEASES} releases, {:.1} MiB",
        TEXT.len() as f64 / (1024.0 * 1024.0)
    );
    ratio::main(&[Ratio::new(
        "ReleaseIndex::parse / serde_json::Value",
        "ours",
        "baseline",
    )]);
    if let Some(ours) = ratio::median("ours").filter(|_| ratio::measuring()) {
        let verdict = if ours <= TARGET { "ok" } else { "MISSED" };
        println!(
            "  ReleaseIndex::parse {}: target < {} ms: {verdict}",
            ratio::show(ours),
            TARGET.as_millis()
        );
    }
}
