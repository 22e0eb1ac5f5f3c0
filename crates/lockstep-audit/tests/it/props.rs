//! Random logs, one random mutation: verify names exactly the mutated record.

use lockstep_audit::{AuditLog, NewRecord, ProblemKind, Record};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::{line_with_stale_hash, read_lines, write_lines};

#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// Change record k's outcome, keep its hash.
    Edit(usize),
    /// Remove line k.
    Delete(usize),
    /// Swap lines k and k+1.
    Swap(usize),
    /// Cut line k in half, keeping its newline.
    CutLine(usize),
    /// Cut the file in the middle of line k.
    CutFile(usize),
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\\\\é]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn new_record() -> impl Strategy<Value = NewRecord> {
    (
        "[a-z]{1,6}@[a-z0-9-]{1,8}",
        prop::sample::select(vec!["check", "plan", "upgrade_started", "rolled_back"]),
        "\\PC{0,10}",
        prop::option::of("[0-9]\\.[0-9]\\.[0-9]"),
        prop::collection::btree_map("[a-z_]{1,6}", value(), 0..4),
    )
        .prop_map(|(actor, action, outcome, to, details)| {
            let mut new = NewRecord::new(actor, action, outcome);
            if let Some(to) = to {
                new = new.to_version(to);
            }
            new.details = details.into_iter().collect::<Map<String, Value>>();
            new
        })
}

fn scenario() -> impl Strategy<Value = (Vec<NewRecord>, Mutation)> {
    prop::collection::vec(new_record(), 2..10).prop_flat_map(|records| {
        let n = records.len();
        let mutation = prop_oneof![
            Just(Mutation::None),
            (0..n).prop_map(Mutation::Edit),
            (0..n).prop_map(Mutation::Delete),
            (0..n - 1).prop_map(Mutation::Swap),
            (0..n).prop_map(Mutation::CutLine),
            (0..n).prop_map(Mutation::CutFile),
        ];
        (Just(records), mutation)
    })
}

fn apply(lines: &mut Vec<String>, records: &[Record], mutation: &Mutation) {
    match *mutation {
        Mutation::None => {}
        Mutation::Edit(k) => {
            let mut edited = records[k].clone();
            edited.outcome.push('!');
            lines[k] = line_with_stale_hash(&edited);
        }
        Mutation::Delete(k) => {
            lines.remove(k);
        }
        Mutation::Swap(k) => lines.swap(k, k + 1),
        Mutation::CutLine(k) | Mutation::CutFile(k) => {
            // Cut on a char boundary; every line is longer than its fixed ~200-byte frame.
            let mut cut = lines[k].len() / 2;
            while !lines[k].is_char_boundary(cut) {
                cut -= 1;
            }
            lines[k].truncate(cut);
            if matches!(mutation, Mutation::CutFile(_)) {
                lines.truncate(k + 1);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn verify_names_the_mutated_record((news, mutation) in scenario()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::open(dir.path().join("audit.jsonl")).expect("open");
        let records: Vec<Record> = news
            .into_iter()
            .map(|n| log.append(n).expect("append"))
            .collect();
        let n = records.len();
        let mut lines = read_lines(log.path());
        apply(&mut lines, &records, &mutation);
        if let Mutation::CutFile(k) = mutation {
            let mut text = lines[..k].iter().map(|l| format!("{l}\n")).collect::<String>();
            text.push_str(&lines[k]);
            std::fs::write(log.path(), text).expect("write");
        } else {
            write_lines(log.path(), &lines);
        }

        let report = log.verify().expect("verify");
        let anchored = log.verify_against(&records[n - 1].anchor()).expect("verify");
        let problem = report.problem.clone();
        let line_of = |k: usize| k as u64 + 1;
        match mutation {
            Mutation::None => {
                prop_assert!(report.is_ok());
                prop_assert!(anchored.is_ok());
                prop_assert_eq!(report.records, n as u64);
                prop_assert_eq!(log.records().expect("records"), records);
            }
            Mutation::Edit(k) => {
                let p = problem.expect("edit found");
                prop_assert_eq!((p.line, p.seq), (line_of(k), Some(line_of(k))));
                prop_assert!(matches!(p.kind, ProblemKind::Edited { .. }), "{:?}", p.kind);
            }
            Mutation::Delete(k) if k == n - 1 => {
                // The chain cannot see a record cut from the end; the anchor can.
                prop_assert!(report.is_ok());
                let p = anchored.problem.expect("truncation found");
                prop_assert_eq!(p.seq, Some(n as u64));
                prop_assert_eq!(p.kind, ProblemKind::Truncated { last_seq: Some(n as u64 - 1) });
            }
            Mutation::Delete(k) => {
                let p = problem.expect("deletion found");
                prop_assert_eq!((p.line, p.seq), (line_of(k), Some(line_of(k))));
                prop_assert_eq!(p.kind, ProblemKind::Deleted { found: line_of(k) + 1 });
            }
            Mutation::Swap(k) => {
                let p = problem.expect("reorder found");
                prop_assert_eq!((p.line, p.seq), (line_of(k), Some(line_of(k))));
                prop_assert_eq!(
                    p.kind,
                    ProblemKind::Reordered { found: line_of(k) + 1, found_at_line: line_of(k) + 1 }
                );
            }
            Mutation::CutLine(k) => {
                let p = problem.expect("cut found");
                prop_assert_eq!((p.line, p.seq), (line_of(k), None));
                prop_assert!(matches!(p.kind, ProblemKind::BadLine { .. }), "{:?}", p.kind);
            }
            Mutation::CutFile(k) => {
                let p = problem.expect("tear found");
                prop_assert_eq!((p.line, p.seq), (line_of(k), None));
                prop_assert!(matches!(p.kind, ProblemKind::TornTail { .. }), "{:?}", p.kind);
                let repair = log.repair_torn_tail("prop@test").expect("repair").expect("torn");
                prop_assert_eq!(repair.record.seq, line_of(k));
                prop_assert!(log.verify().expect("verify").is_ok());
            }
        }
    }
}
