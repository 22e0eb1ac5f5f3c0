//! Audit log benchmarks on divan, as ratios against baselines measured in the same run.
//!
//! - append: `AuditLog::append` (open, lock, read the tail, seal, write, `fdatasync`), 200
//!   records to a fresh log per sample, against a bare loop that writes a line of the same
//!   size to an open file and calls the same `fdatasync` (`File::sync_data`). Target: at most
//!   1.5x.
//! - verify: `AuditLog::verify` over a log of 20,000 records against raw SHA-256 over the same
//!   bytes in memory (and, for reference, read-from-page-cache plus SHA-256). Target: at least
//!   0.5x the speed.
//!
//! Run with `cargo bench -p lockstep-audit`. The summary compares the medians.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use divan::Bencher;
use lockstep_audit::{AuditLog, NewRecord, action};
use sha2::{Digest, Sha256};

#[path = "../../../benches/ratio.rs"]
mod ratio;

use ratio::{Ratio, Target, timed};

const APPENDS: u64 = 200;
const VERIFY_RECORDS: u64 = 20_000;

fn record(i: u64) -> NewRecord {
    NewRecord::new("ana@build-host-1", action::UPGRADE_COMMITTED, "ok")
        .at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_341_600 + i))
        .from_version("1.1.0")
        .to_version("1.2.0")
        .snapshot("pre-upgrade-20261122-100000")
        .detail("smoke", "passed")
        .detail("duration_ms", 1234)
}

/// A temp dir, the size of an appended line, and a 20,000-record log to verify.
struct Fixture {
    dir: tempfile::TempDir,
    line_len: usize,
    verify: AuditLog,
    verify_bytes: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let probe = AuditLog::open(dir.path().join("probe.jsonl")).expect("open");
    for i in 0..APPENDS {
        probe.append(record(i)).expect("append");
    }
    let line_len = std::fs::read(probe.path()).expect("read").len() / APPENDS as usize;

    // Built through the API (fsync-bound, a few seconds), so the chain is the real thing.
    let verify = AuditLog::open(dir.path().join("verify.jsonl")).expect("open");
    for i in 0..VERIFY_RECORDS {
        verify.append(record(i)).expect("append");
    }
    let verify_bytes = std::fs::read(verify.path()).expect("read");
    Fixture {
        dir,
        line_len,
        verify,
        verify_bytes,
    }
});

/// A path no sample has used.
fn fresh(stem: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    FIXTURE.dir.path().join(format!("{stem}-{n}.jsonl"))
}

#[divan::bench_group(sample_count = 7, sample_size = 1)]
mod append {
    use super::*;

    /// `AuditLog::append`, 200 records to a fresh log.
    #[divan::bench]
    fn audit(bencher: Bencher) {
        bencher
            .with_inputs(|| AuditLog::open(fresh("append")).expect("open"))
            .bench_local_values(|log| {
                timed("append", || {
                    for i in 0..APPENDS {
                        black_box(log.append(record(i)).expect("append"));
                    }
                })
            });
    }

    /// The baseline: 200 lines of the same size, each written and `fdatasync`ed.
    #[divan::bench]
    fn bare_write_fdatasync(bencher: Bencher) {
        let mut line = vec![b'x'; FIXTURE.line_len - 1];
        line.push(b'\n');
        bencher
            .with_inputs(|| -> File {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(fresh("bare"))
                    .expect("open")
            })
            .bench_local_values(|mut file| {
                timed("bare", || {
                    for _ in 0..APPENDS {
                        file.write_all(&line).expect("write");
                        file.sync_data().expect("sync");
                    }
                })
            });
    }
}

#[divan::bench_group(sample_count = 7, sample_size = 1)]
mod verify {
    use super::*;

    /// `AuditLog::verify` over 20,000 records.
    #[divan::bench]
    fn audit(bencher: Bencher) {
        bencher.bench_local(|| {
            let report = timed("verify", || FIXTURE.verify.verify().expect("verify"));
            assert!(report.is_ok() && report.records == VERIFY_RECORDS);
        });
    }

    /// The baseline: SHA-256 over the same bytes, in memory.
    #[divan::bench]
    fn raw_sha256(bencher: Bencher) {
        bencher.bench_local(|| {
            timed("sha256", || {
                Sha256::digest(black_box(&FIXTURE.verify_bytes))
            })
        });
    }

    /// For reference: reading the file (from the page cache) and SHA-256 over it.
    #[divan::bench]
    fn read_and_sha256(bencher: Bencher) {
        bencher.bench_local(|| {
            timed("read_sha256", || {
                let fresh = std::fs::read(FIXTURE.verify.path()).expect("read");
                Sha256::digest(&fresh)
            })
        });
    }
}

fn main() {
    let f = &*FIXTURE;
    println!(
        "audit: append {APPENDS} records of {} B, fdatasync each; verify {VERIFY_RECORDS} records, {} B",
        f.line_len,
        f.verify_bytes.len()
    );
    ratio::main(&[
        Ratio::new("append, audit / bare write+fdatasync", "append", "bare")
            .target(Target::AtMost(1.5)),
        Ratio::new(
            "verify speed, audit vs raw sha256 in memory (sha256 time / verify time)",
            "sha256",
            "verify",
        )
        .target(Target::AtLeast(0.5)),
        Ratio::new(
            "verify speed, audit vs read+sha256 (read+sha256 time / verify time)",
            "read_sha256",
            "verify",
        ),
    ]);
    if let Some(verify) = ratio::median("verify").filter(|_| ratio::measuring()) {
        let mib_s = f.verify_bytes.len() as f64 / (1024.0 * 1024.0) / verify.as_secs_f64();
        let per = |key| ratio::median(key).map(|d| d.as_secs_f64() * 1e6 / APPENDS as f64);
        if let (Some(audit), Some(bare)) = (per("append"), per("bare")) {
            println!("  append: audit {audit:.1} us/record, bare {bare:.1} us/record");
        }
        println!("  verify: audit {mib_s:.0} MiB/s");
    }
}
