//! Edit, delete, reorder, truncate: `verify` names the first bad record.

use lockstep_audit::{NewRecord, Problem, ProblemKind, Record, action};

use crate::{at, fill, line_with_stale_hash, new_log, read_lines, write_lines};

/// What verify should report: line, named seq, and a check of the kind.
struct Expected {
    line: u64,
    seq: Option<u64>,
    kind: fn(&ProblemKind) -> bool,
    sound_before: u64,
}

/// Five records, `mutate` applied to their lines (and the parsed records), then verify.
fn check(name: &str, mutate: impl FnOnce(&mut Vec<String>, &[Record]), expected: Expected) {
    let (_dir, log) = new_log();
    let records = fill(&log, 5);
    let mut lines = read_lines(log.path());
    mutate(&mut lines, &records);
    write_lines(log.path(), &lines);

    let report = log.verify().expect("verify");
    let problem: Problem = report
        .problem
        .clone()
        .unwrap_or_else(|| panic!("{name}: verify found nothing"));
    assert_eq!(
        (problem.line, problem.seq),
        (expected.line, expected.seq),
        "{name}: {problem}"
    );
    assert!((expected.kind)(&problem.kind), "{name}: {:?}", problem.kind);
    assert_eq!(report.records, expected.sound_before, "{name}");
    assert!(!problem.to_string().is_empty());
}

fn edit(record: &Record, change: impl FnOnce(&mut Record)) -> String {
    let mut edited = record.clone();
    change(&mut edited);
    line_with_stale_hash(&edited)
}

#[test]
fn edits_name_the_edited_record() {
    for k in [0usize, 2, 4] {
        check(
            &format!("edit outcome of record {}", k + 1),
            |lines, records| lines[k] = edit(&records[k], |r| r.outcome = "failed".into()),
            Expected {
                line: k as u64 + 1,
                seq: Some(k as u64 + 1),
                kind: |kind| matches!(kind, ProblemKind::Edited { stored, computed } if stored != computed),
                sound_before: k as u64,
            },
        );
    }
    check(
        "edit a detail by hand in the text",
        |lines, _| lines[2] = lines[2].replace("\"index\":2", "\"index\":7"),
        Expected {
            line: 3,
            seq: Some(3),
            kind: |kind| matches!(kind, ProblemKind::Edited { .. }),
            sound_before: 2,
        },
    );
    check(
        "edit the seq",
        |lines, _| lines[2] = lines[2].replacen("{\"seq\":3,", "{\"seq\":9,", 1),
        Expected {
            line: 3,
            seq: Some(9),
            kind: |kind| matches!(kind, ProblemKind::Edited { .. }),
            sound_before: 2,
        },
    );
    check(
        "edit the stored hash",
        |lines, records| lines[1] = lines[1].replace(&records[1].hash, &"f".repeat(64)),
        Expected {
            line: 2,
            seq: Some(2),
            kind: |kind| matches!(kind, ProblemKind::Edited { .. }),
            sound_before: 1,
        },
    );
}

#[test]
fn a_record_rewritten_with_a_fresh_hash_breaks_the_chain_at_the_next() {
    check(
        "rehash record 3",
        |lines, records| {
            let mut forged = records[2].clone();
            forged.outcome = "failed".into();
            forged.hash = forged.compute_hash();
            lines[2] = line_with_stale_hash(&forged);
        },
        Expected {
            line: 4,
            seq: Some(4),
            kind: |kind| matches!(kind, ProblemKind::ChainBroken { .. }),
            sound_before: 3,
        },
    );
}

#[test]
fn deletions_name_the_missing_record() {
    for k in [0usize, 2, 3] {
        check(
            &format!("delete record {}", k + 1),
            |lines, _| {
                lines.remove(k);
            },
            Expected {
                line: k as u64 + 1,
                seq: Some(k as u64 + 1),
                kind: |kind| matches!(kind, ProblemKind::Deleted { .. }),
                sound_before: k as u64,
            },
        );
    }
}

#[test]
fn reorders_name_the_displaced_record() {
    check(
        "swap records 2 and 3",
        |lines, _| lines.swap(1, 2),
        Expected {
            line: 2,
            seq: Some(2),
            kind: |kind| {
                matches!(
                    kind,
                    ProblemKind::Reordered {
                        found: 3,
                        found_at_line: 3
                    }
                )
            },
            sound_before: 1,
        },
    );
    check(
        "move the last record first",
        |lines, _| {
            let last = lines.pop().expect("five lines");
            lines.insert(0, last);
        },
        Expected {
            line: 1,
            seq: Some(1),
            kind: |kind| {
                matches!(
                    kind,
                    ProblemKind::Reordered {
                        found: 5,
                        found_at_line: 2
                    }
                )
            },
            sound_before: 0,
        },
    );
    check(
        "duplicate record 2",
        |lines, _| {
            let copy = lines[1].clone();
            lines.insert(2, copy);
        },
        Expected {
            line: 3,
            seq: Some(2),
            kind: |kind| matches!(kind, ProblemKind::Duplicate),
            sound_before: 2,
        },
    );
}

#[test]
fn truncations_name_the_cut_record() {
    check(
        "record 3 cut short in the middle of the file",
        |lines, _| {
            let half = lines[2].len() / 2;
            lines[2].truncate(half);
        },
        Expected {
            line: 3,
            seq: None,
            kind: |kind| matches!(kind, ProblemKind::BadLine { .. }),
            sound_before: 2,
        },
    );
    check(
        "garbage in place of record 4",
        |lines, _| lines[3] = "\u{0}\u{0}\u{0}".to_owned(),
        Expected {
            line: 4,
            seq: None,
            kind: |kind| matches!(kind, ProblemKind::BadLine { .. }),
            sound_before: 3,
        },
    );
}

#[test]
fn a_file_cut_mid_record_is_a_torn_tail() {
    let (_dir, log) = new_log();
    fill(&log, 5);
    let bytes = std::fs::read(log.path()).expect("read");
    let cut = bytes.len() - 40;
    std::fs::write(log.path(), &bytes[..cut]).expect("write");
    let report = log.verify().expect("verify");
    let problem = report.problem.expect("torn");
    assert_eq!((problem.line, problem.seq), (5, None));
    let last_line_len = read_lines(log.path())[4].len() as u64;
    assert_eq!(
        problem.kind,
        ProblemKind::TornTail {
            bytes: last_line_len
        }
    );
    assert_eq!(report.records, 4);
}

#[test]
fn a_reformatted_but_intact_record_still_verifies() {
    let (_dir, log) = new_log();
    let records = fill(&log, 3);
    let mut lines = read_lines(log.path());
    lines[1] = serde_json::to_string_pretty(&records[1])
        .expect("json")
        .replace('\n', " ");
    write_lines(log.path(), &lines);
    let report = log.verify().expect("verify");
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.records, 3);
}

#[test]
fn an_anchor_detects_records_cut_from_the_end() {
    let (_dir, log) = new_log();
    let records = fill(&log, 5);
    let anchor = records[4].anchor();
    assert!(log.verify_against(&anchor).expect("verify").is_ok());

    let mut lines = read_lines(log.path());
    lines.truncate(3);
    write_lines(log.path(), &lines);
    // The chain alone cannot tell...
    assert!(log.verify().expect("verify").is_ok());
    // ...the anchor can.
    let problem = log
        .verify_against(&anchor)
        .expect("verify")
        .problem
        .expect("truncated");
    assert_eq!((problem.line, problem.seq), (4, Some(5)));
    assert_eq!(problem.kind, ProblemKind::Truncated { last_seq: Some(3) });
}

#[test]
fn an_anchor_detects_a_rewritten_end() {
    let (_dir, log) = new_log();
    let records = fill(&log, 3);
    let anchor = records[2].anchor();
    let mut lines = read_lines(log.path());
    lines.truncate(2);
    write_lines(log.path(), &lines);
    log.append(NewRecord::new("eve@evil", action::UPGRADE_COMMITTED, "ok").at(at(1)))
        .expect("append");
    assert!(log.verify().expect("verify").is_ok());
    let problem = log
        .verify_against(&anchor)
        .expect("verify")
        .problem
        .expect("rewritten");
    assert_eq!((problem.line, problem.seq), (3, Some(3)));
    assert!(matches!(problem.kind, ProblemKind::AnchorMismatch { .. }));
}
