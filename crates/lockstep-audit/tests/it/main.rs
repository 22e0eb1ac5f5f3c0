//! Integration tests of lockstep-audit: one binary, one module per area.

mod concurrent;
mod props;
mod roundtrip;
mod tamper;
mod torn;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lockstep_audit::{AuditLog, NewRecord, Record, action};
use tempfile::TempDir;

/// A log in a fresh temp dir, under a directory that does not exist yet.
pub fn new_log() -> (TempDir, AuditLog) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = AuditLog::open(dir.path().join(".lockstep").join("audit.jsonl")).expect("open");
    (dir, log)
}

/// A fixed instant: 2026-11-22T10:00:00Z plus `minutes`.
pub fn at(minutes: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_341_600 + minutes * 60)
}

/// Appends `n` varied records with fixed times.
pub fn fill(log: &AuditLog, n: u64) -> Vec<Record> {
    let actions = [
        action::CHECK,
        action::PLAN,
        action::UPGRADE_STARTED,
        action::UPGRADE_COMMITTED,
        action::ROLLED_BACK,
    ];
    (0..n)
        .map(|i| {
            let new = NewRecord::new("ana@build-1", actions[(i % 5) as usize], "ok")
                .at(at(i))
                .from_version(format!("1.{i}.0"))
                .to_version(format!("1.{}.0", i + 1))
                .detail("index", i)
                .detail("note", format!("record \"{i}\" ünïcode"));
            log.append(new).expect("append")
        })
        .collect()
}

/// The log's lines, without newlines (a last line without newline included).
pub fn read_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read log");
    let body = text.strip_suffix('\n').unwrap_or(&text);
    body.split('\n').map(str::to_owned).collect()
}

/// Writes `lines` back, each with a newline.
pub fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    if !lines.is_empty() {
        text.push('\n');
    }
    std::fs::write(path, text).expect("write log");
}

/// `record` re-serialised canonically with a changed field but its old hash.
pub fn line_with_stale_hash(record: &Record) -> String {
    let mut body = String::from_utf8(record.canonical_bytes()).expect("utf-8");
    body.pop();
    format!("{body},\"hash\":\"{}\"}}", record.hash)
}
