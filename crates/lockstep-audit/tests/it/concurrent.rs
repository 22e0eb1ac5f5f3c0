//! Many writers at once, threads and processes: no record lost, the chain stays sound.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use lockstep_audit::{AuditLog, NewRecord, action};

const CHILD_LOG: &str = "LOCKSTEP_AUDIT_TEST_CHILD_LOG";
const CHILD_WRITER: &str = "LOCKSTEP_AUDIT_TEST_CHILD_WRITER";
const PER_WRITER: u64 = 25;

/// Appends `PER_WRITER` records tagged with `writer`.
fn append_as(path: &Path, writer: &str) {
    let log = AuditLog::open(path).expect("open");
    for i in 0..PER_WRITER {
        log.append(
            NewRecord::new(format!("{writer}@test"), action::CHECK, "ok")
                .detail("writer", writer)
                .detail("i", i),
        )
        .expect("append");
    }
}

/// Every (writer, i) exactly once, and a sound chain.
fn assert_complete(log: &AuditLog, writers: &[String]) {
    let report = log.verify().expect("verify");
    assert!(report.is_ok(), "{:?}", report.problem);
    let records = log.records().expect("records");
    let expected_total = writers.len() as u64 * PER_WRITER;
    assert_eq!(records.len() as u64, expected_total);
    assert_eq!(report.records, expected_total);
    let seen: BTreeSet<(String, u64)> = records
        .iter()
        .map(|r| {
            (
                r.details["writer"].as_str().expect("writer").to_owned(),
                r.details["i"].as_u64().expect("i"),
            )
        })
        .collect();
    assert_eq!(seen.len() as u64, expected_total, "no duplicates");
    for writer in writers {
        for i in 0..PER_WRITER {
            assert!(seen.contains(&(writer.clone(), i)), "lost {writer}/{i}");
        }
    }
}

#[test]
fn threads_appending_at_once_lose_nothing() {
    let (_dir, log) = crate::new_log();
    let writers: Vec<String> = (0..8).map(|t| format!("thread{t}")).collect();
    std::thread::scope(|s| {
        for writer in &writers {
            let path = log.path();
            s.spawn(move || append_as(path, writer));
        }
    });
    assert_complete(&log, &writers);
}

#[test]
fn processes_and_threads_appending_at_once_lose_nothing() {
    let (_dir, log) = crate::new_log();
    let exe = std::env::current_exe().expect("test binary");
    let processes: Vec<String> = (0..4).map(|p| format!("process{p}")).collect();
    let children: Vec<_> = processes
        .iter()
        .map(|writer| {
            Command::new(&exe)
                .args(["--exact", "concurrent::child_appender", "--test-threads=1"])
                .env(CHILD_LOG, log.path())
                .env(CHILD_WRITER, writer)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn the test binary")
        })
        .collect();
    let threads: Vec<String> = (0..2).map(|t| format!("parent-thread{t}")).collect();
    std::thread::scope(|s| {
        for writer in &threads {
            let path = log.path();
            s.spawn(move || append_as(path, writer));
        }
    });
    for mut child in children {
        let status = child.wait().expect("wait");
        assert!(status.success(), "child appender failed: {status}");
    }
    let all: Vec<String> = processes.into_iter().chain(threads).collect();
    assert_complete(&log, &all);
}

/// In a child process (spawned above), appends as the writer it is told; run on its own,
/// appends as one writer to a log of its own and checks it.
#[test]
fn child_appender() {
    match (std::env::var_os(CHILD_LOG), std::env::var(CHILD_WRITER)) {
        (Some(path), Ok(writer)) => append_as(Path::new(&path), &writer),
        _ => {
            let (_dir, log) = crate::new_log();
            append_as(log.path(), "alone");
            assert_complete(&log, &["alone".to_owned()]);
        }
    }
}

#[test]
fn verify_and_records_during_appends_never_see_half_a_record() {
    let (_dir, log) = crate::new_log();
    let writers: Vec<String> = (0..3).map(|t| format!("writer{t}")).collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut checks = 0u32;
                    // At least a few checks, and keep checking until the writers are done.
                    while checks < 5 || !done.load(std::sync::atomic::Ordering::Acquire) {
                        let report = log.verify().expect("verify");
                        assert!(report.is_ok(), "{:?}", report.problem);
                        let records = log.records().expect("records");
                        assert!(records.len() as u64 >= report.records);
                        checks += 1;
                    }
                })
            })
            .collect();
        let appenders: Vec<_> = writers
            .iter()
            .map(|writer| {
                let path = log.path();
                s.spawn(move || append_as(path, writer))
            })
            .collect();
        for a in appenders {
            a.join().expect("appender");
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        for r in readers {
            r.join().expect("reader");
        }
    });
    assert_complete(&log, &writers);
}
