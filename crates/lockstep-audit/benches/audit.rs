//! Audit log benchmarks, as ratios against baselines measured in the same run.
//!
//! - append: `AuditLog::append` (open, lock, read the tail, seal, write, `fdatasync`) against a
//!   bare loop that writes a line of the same size to an open file and calls the same
//!   `fdatasync` (`File::sync_data`). Target: at most 1.5x.
//! - verify: `AuditLog::verify` over a log of 20,000 records against raw SHA-256 over the same
//!   bytes in memory (and, for reference, read-from-page-cache plus SHA-256). Target: at least
//!   0.5x the speed.
//!
//! Run with `cargo bench -p lockstep-audit`. Each figure is the median of several rounds.

use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use lockstep_audit::{AuditLog, NewRecord, action};
use sha2::{Digest, Sha256};

const APPENDS: u64 = 200;
const ROUNDS: usize = 5;
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

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn bench_append(dir: &std::path::Path) -> (Duration, Duration, usize) {
    let mut ours = Vec::new();
    let mut bare = Vec::new();
    let mut line_len = 0;
    for round in 0..ROUNDS {
        let log = AuditLog::open(dir.join(format!("append-{round}.jsonl"))).expect("open");
        let start = Instant::now();
        for i in 0..APPENDS {
            black_box(log.append(record(i)).expect("append"));
        }
        ours.push(start.elapsed());
        let bytes = std::fs::read(log.path()).expect("read");
        line_len = bytes.len() / APPENDS as usize;

        let line = {
            let mut l = vec![b'x'; line_len - 1];
            l.push(b'\n');
            l
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("bare-{round}.jsonl")))
            .expect("open");
        let start = Instant::now();
        for _ in 0..APPENDS {
            file.write_all(&line).expect("write");
            file.sync_data().expect("sync");
        }
        bare.push(start.elapsed());
    }
    (median(ours), median(bare), line_len)
}

fn bench_verify(dir: &std::path::Path) -> (Duration, Duration, Duration, u64) {
    let path = dir.join("verify.jsonl");
    let log = AuditLog::open(&path).expect("open");
    // Built through the API (fsync-bound, a few seconds), so the chain is the real thing.
    for i in 0..VERIFY_RECORDS {
        log.append(record(i)).expect("append");
    }
    let bytes = std::fs::read(&path).expect("read");
    let mut ours = Vec::new();
    let mut raw = Vec::new();
    let mut read_raw = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let report = log.verify().expect("verify");
        ours.push(start.elapsed());
        assert!(report.is_ok() && report.records == VERIFY_RECORDS);

        let start = Instant::now();
        black_box(Sha256::digest(black_box(&bytes)));
        raw.push(start.elapsed());

        let start = Instant::now();
        let fresh = std::fs::read(&path).expect("read");
        black_box(Sha256::digest(&fresh));
        read_raw.push(start.elapsed());
    }
    (
        median(ours),
        median(raw),
        median(read_raw),
        bytes.len() as u64,
    )
}

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");

    let (ours, bare, line_len) = bench_append(dir.path());
    let per = |d: Duration| d.as_secs_f64() * 1e6 / APPENDS as f64;
    let ratio = ours.as_secs_f64() / bare.as_secs_f64();
    println!(
        "append ({APPENDS} records of {line_len} B, fdatasync each): audit {:.1} us/record, bare write+fdatasync {:.1} us/record, ratio {ratio:.2}x (target <= 1.5x) {}",
        per(ours),
        per(bare),
        if ratio <= 1.5 { "OK" } else { "MISSED" }
    );

    let (ours, raw, read_raw, len) = bench_verify(dir.path());
    let speed = raw.as_secs_f64() / ours.as_secs_f64();
    let speed_read = read_raw.as_secs_f64() / ours.as_secs_f64();
    println!(
        "verify ({VERIFY_RECORDS} records, {len} B): audit {:.0} MiB/s, raw sha256 in memory {:.0} MiB/s, speed ratio {speed:.2}x (target >= 0.5x) {}; vs read+sha256 {:.0} MiB/s: {speed_read:.2}x",
        mib_per_s(len, ours),
        mib_per_s(len, raw),
        if speed >= 0.5 { "OK" } else { "MISSED" },
        mib_per_s(len, read_raw),
    );
}
