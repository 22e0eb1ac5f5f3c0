use lockstep_audit::{AuditLog, GENESIS_PREV, NewRecord, action, rfc3339};
use serde_json::json;

use crate::{at, fill, new_log, read_lines};

#[test]
fn append_read_verify_round_trip() {
    let (_dir, log) = new_log();
    let written = fill(&log, 5);

    assert_eq!(log.records().expect("records"), written);
    let report = log.verify().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, 5);
    assert_eq!(report.last, Some(written[4].anchor()));

    for (i, record) in written.iter().enumerate() {
        assert_eq!(record.seq, i as u64 + 1);
        assert_eq!(record.compute_hash(), record.hash);
        let expected_prev = if i == 0 {
            GENESIS_PREV
        } else {
            written[i - 1].hash.as_str()
        };
        assert_eq!(record.prev, expected_prev);
    }
}

#[test]
fn a_line_has_the_documented_keys_in_order() {
    let (_dir, log) = new_log();
    let record = log
        .append(
            NewRecord::new("ana@ci", action::UPGRADE_COMMITTED, "ok")
                .at(at(0))
                .from_version("1.1.0")
                .to_version("1.2.0")
                .snapshot("pre-upgrade-20261122-100000")
                .detail("tests", json!({"passed": 3, "failed": 0})),
        )
        .expect("append");
    let line = &read_lines(log.path())[0];
    let expected = format!(
        concat!(
            r#"{{"seq":1,"time":"2026-11-22T10:00:00Z","actor":"ana@ci","action":"upgrade_committed","#,
            r#""from":"1.1.0","to":"1.2.0","snapshot":"pre-upgrade-20261122-100000","outcome":"ok","#,
            r#""details":{{"tests":{{"failed":0,"passed":3}}}},"prev":"{}","hash":"{}"}}"#
        ),
        GENESIS_PREV, record.hash
    );
    assert_eq!(line, &expected);
}

#[test]
fn time_defaults_to_now() {
    let (_dir, log) = new_log();
    let before = rfc3339(std::time::SystemTime::now());
    let record = log
        .append(NewRecord::new("ana@ci", action::CHECK, "compatible"))
        .expect("append");
    let after = rfc3339(std::time::SystemTime::now());
    // RFC 3339 UTC strings of one format sort like the instants they name.
    assert!(
        before <= record.time && record.time <= after,
        "{}",
        record.time
    );
}

#[test]
fn a_missing_log_reads_and_verifies_as_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = AuditLog::open(dir.path().join("nested/audit.jsonl")).expect("open");
    assert!(dir.path().join("nested").is_dir(), "parent dir created");
    assert_eq!(log.records().expect("records"), vec![]);
    let report = log.verify().expect("verify");
    assert!(report.is_ok());
    assert_eq!((report.records, report.last), (0, None));
    assert_eq!(log.repair_torn_tail("ana@ci").expect("repair"), None);
    assert!(!log.path().exists(), "reading does not create the file");
}

#[test]
fn records_names_the_line_that_does_not_parse() {
    let (_dir, log) = new_log();
    fill(&log, 3);
    let mut lines = read_lines(log.path());
    lines[1] = "not json".to_owned();
    crate::write_lines(log.path(), &lines);
    let err = log.records().expect_err("line 2 is bad");
    assert_eq!(err.kind(), lockstep_audit::ErrorKind::Corrupt);
    assert!(
        matches!(err, lockstep_audit::Error::Parse { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn a_reopened_log_continues_the_chain() {
    let (_dir, log) = new_log();
    let first = fill(&log, 2);
    let again = AuditLog::open(log.path()).expect("reopen");
    let third = again
        .append(NewRecord::new("bo@ci", action::ROLLBACK, "ok").at(at(9)))
        .expect("append");
    assert_eq!(third.seq, 3);
    assert_eq!(third.prev, first[1].hash);
    assert!(again.verify().expect("verify").is_ok());
}
