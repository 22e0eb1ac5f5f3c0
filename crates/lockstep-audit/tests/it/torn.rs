//! Torn tails: detected, dropped atomically, and recorded.

use std::io::Write;

use lockstep_audit::{ErrorKind, NewRecord, ProblemKind, TornReason, action};
use sha2::{Digest, Sha256};

use crate::{at, fill, new_log};

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn append_raw(path: &std::path::Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open");
    file.write_all(bytes).expect("write");
}

/// (name, sound records before, garbage appended, expected reason, expected dropped bytes)
fn cases() -> Vec<(&'static str, u64, Vec<u8>, TornReason)> {
    let half_record = br#"{"seq":4,"time":"2026-11-22T10:00:00Z","actor":"an"#.to_vec();
    vec![
        (
            "half a record",
            3,
            half_record.clone(),
            TornReason::NoNewline,
        ),
        ("zero bytes", 3, vec![0; 37], TornReason::NoNewline),
        (
            "a garbage line",
            3,
            b"\x00\x00garbage\n".to_vec(),
            TornReason::Unparsable,
        ),
        (
            "not json with newline",
            2,
            b"{\"seq\":3,\"ti\n".to_vec(),
            TornReason::Unparsable,
        ),
        (
            "the very first line torn",
            0,
            half_record,
            TornReason::NoNewline,
        ),
    ]
}

#[test]
fn repair_drops_the_torn_tail_and_records_it() {
    for (name, sound, garbage, reason) in cases() {
        let (_dir, log) = new_log();
        let before = fill(&log, sound);
        if sound == 0 {
            std::fs::write(log.path(), &garbage).expect("write");
        } else {
            append_raw(log.path(), &garbage);
        }
        let len_before_garbage =
            std::fs::metadata(log.path()).expect("meta").len() - garbage.len() as u64;

        let report = log.verify().expect("verify");
        let problem = report.problem.expect("verify sees the tear");
        assert_eq!(problem.line, sound + 1, "{name}");
        match reason {
            TornReason::NoNewline => assert_eq!(
                problem.kind,
                ProblemKind::TornTail {
                    bytes: garbage.len() as u64
                },
                "{name}"
            ),
            _ => assert!(
                matches!(problem.kind, ProblemKind::BadLine { .. }),
                "{name}"
            ),
        }

        let repair = log
            .repair_torn_tail("ops@host")
            .expect("repair")
            .expect("something to repair");
        assert_eq!(repair.reason, reason, "{name}");
        assert_eq!(repair.offset, len_before_garbage, "{name}");
        assert_eq!(repair.dropped_bytes, garbage.len() as u64, "{name}");
        assert_eq!(repair.dropped_sha256, hex_sha256(&garbage), "{name}");
        let record = &repair.record;
        assert_eq!(
            (record.seq, record.action.as_str(), record.actor.as_str()),
            (sound + 1, action::REPAIRED, "ops@host"),
            "{name}"
        );
        assert_eq!(record.details["reason"], reason.as_str(), "{name}");
        assert_eq!(record.details["dropped_bytes"], garbage.len(), "{name}");
        assert_eq!(record.details["offset"], len_before_garbage, "{name}");

        let after = log.records().expect("records");
        assert_eq!(
            &after[..before.len()],
            &before[..],
            "{name}: kept records untouched"
        );
        assert_eq!(after.last(), Some(record), "{name}");
        let report = log.verify().expect("verify");
        assert!(report.is_ok(), "{name}: {:?}", report.problem);
        assert_eq!(report.records, sound + 1, "{name}");

        // Nothing left behind, and a second repair has nothing to do.
        let leftovers: Vec<_> = std::fs::read_dir(log.path().parent().expect("parent"))
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(leftovers, vec!["audit.jsonl"], "{name}");
        assert_eq!(
            log.repair_torn_tail("ops@host").expect("repair"),
            None,
            "{name}"
        );
    }
}

#[test]
fn append_repairs_a_torn_tail_first() {
    let (_dir, log) = new_log();
    fill(&log, 3);
    append_raw(log.path(), b"{\"seq\":4,\"ti");
    let record = log
        .append(NewRecord::new("bo@ci", action::RECOVERED, "ok").at(at(10)))
        .expect("append");
    assert_eq!(record.seq, 5);
    let records = log.records().expect("records");
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["check", "plan", "upgrade_started", "repaired", "recovered"]
    );
    assert_eq!(records[3].actor, "bo@ci", "the appender signs the repair");
    assert!(log.verify().expect("verify").is_ok());
}

#[test]
fn a_sound_log_is_left_byte_for_byte() {
    let (_dir, log) = new_log();
    fill(&log, 4);
    let before = std::fs::read(log.path()).expect("read");
    assert_eq!(log.repair_torn_tail("ops@host").expect("repair"), None);
    assert_eq!(std::fs::read(log.path()).expect("read"), before);
}

#[test]
fn a_last_line_that_is_json_but_not_a_record_is_refused() {
    let (_dir, log) = new_log();
    fill(&log, 2);
    append_raw(log.path(), b"{\"hello\":\"world\"}\n");
    let before = std::fs::read(log.path()).expect("read");

    let err = log
        .append(NewRecord::new("bo@ci", action::CHECK, "ok"))
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        matches!(err, lockstep_audit::Error::CorruptTail { offset, .. } if offset == before.len() as u64 - 18),
        "{err:?}"
    );
    let err = log.repair_torn_tail("ops@host").expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(
        std::fs::read(log.path()).expect("read"),
        before,
        "untouched"
    );
}

#[cfg(unix)]
#[test]
fn repair_keeps_the_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, log) = new_log();
    fill(&log, 1);
    std::fs::set_permissions(log.path(), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    append_raw(log.path(), b"torn");
    log.repair_torn_tail("ops@host")
        .expect("repair")
        .expect("repaired");
    let mode = std::fs::metadata(log.path())
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
