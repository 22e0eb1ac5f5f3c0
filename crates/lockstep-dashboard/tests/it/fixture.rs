//! A fleet built by the test: real git work trees, audit logs written through lockstep-audit,
//! a real state database. The expected figures are worked out by hand from what is written
//! here, never from the dashboard's own output.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lockstep_audit::{AuditLog, NewRecord, action};
use lockstep_dashboard::{Inputs, VerticalInput};
use lockstep_testkit::git::GitRepo;

/// 2026-11-20T10:00:00Z.
pub const T0: u64 = 1_795_168_800;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

fn vertical(root: &Path, name: &str) -> (GitRepo, PathBuf) {
    let repo = GitRepo::init_at(&root.join(name));
    repo.write(
        "vertical_manifest.yaml",
        format!("domain_name: {name}\ndomain_version: 1.0.0\n"),
    );
    let manifest = repo.path().join("vertical_manifest.yaml");
    (repo, manifest)
}

fn log(repo: &GitRepo) -> AuditLog {
    AuditLog::open(repo.path().join(".lockstep/audit.jsonl")).unwrap()
}

fn rec(act: &str, outcome: &str, from: &str, to: &str, snap: &str, t: u64) -> NewRecord {
    let r = NewRecord::new("ci@test", act, outcome)
        .from_version(from)
        .to_version(to)
        .at(at(t));
    if snap.is_empty() { r } else { r.snapshot(snap) }
}

pub struct Fleet {
    pub _dir: tempfile::TempDir,
    pub inputs: Inputs,
}

/// finance: 1.0.0 → 1.1.0 committed after 120 s (day 0), 1.1.0 → 1.2.0 rolled back (day 1),
/// and a check that blocked 2.0.0.
/// health: 1.0.0 → 1.1.0 committed after 60 s (day 1), then rolled back by hand.
/// retail: no audit log at all.
/// Totals: 3 attempted, 2 committed, 1 rolled back; mean time to upgrade 90 s.
/// A cascade log with one started and committed cascade; a state database with a halted
/// rollout, known-good and quarantined versions and two pins (one expired).
pub fn build() -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (finance, finance_manifest) = vertical(root, "finance");
    let l = log(&finance);
    l.append(rec(
        action::UPGRADE_STARTED,
        "started",
        "1.0.0",
        "1.1.0",
        "s1",
        0,
    ))
    .unwrap();
    l.append(rec(
        action::UPGRADE_COMMITTED,
        "committed",
        "1.0.0",
        "1.1.0",
        "s1",
        120,
    ))
    .unwrap();
    l.append(rec(action::CHECK, "blocked", "1.1.0", "2.0.0", "", 3_600))
        .unwrap();
    l.append(rec(
        action::UPGRADE_STARTED,
        "started",
        "1.1.0",
        "1.2.0",
        "s2",
        86_400,
    ))
    .unwrap();
    l.append(rec(
        action::ROLLED_BACK,
        "rolled_back",
        "1.1.0",
        "1.2.0",
        "s2",
        86_460,
    ))
    .unwrap();

    let (health, health_manifest) = vertical(root, "health");
    let l = log(&health);
    l.append(rec(
        action::UPGRADE_STARTED,
        "started",
        "1.0.0",
        "1.1.0",
        "s3",
        90_000,
    ))
    .unwrap();
    l.append(rec(
        action::UPGRADE_COMMITTED,
        "committed",
        "1.0.0",
        "1.1.0",
        "s3",
        90_060,
    ))
    .unwrap();
    l.append(rec(
        action::ROLLBACK,
        "restored",
        "1.1.0",
        "1.0.0",
        "s3",
        95_000,
    ))
    .unwrap();

    let (_retail, retail_manifest) = vertical(root, "retail");

    let cascade = root.join("cascade/.lockstep/audit.jsonl");
    let c = AuditLog::open(&cascade).unwrap();
    c.append(NewRecord::new("ci", action::CASCADE_STARTED, "started").at(at(10)))
        .unwrap();
    c.append(NewRecord::new("ci", action::CASCADE_COMMITTED, "committed").at(at(20)))
        .unwrap();

    let db = root.join("home/state.db");
    let store = lockstep_store::Store::open(&db).unwrap();
    let conn = store.conn();
    use lockstep_store::fleet;
    fleet::promote(
        conn,
        "agent-cli",
        "stable",
        "1.9.0",
        "ana",
        None,
        "2026-11-19T00:00:00Z",
    )
    .unwrap();
    fleet::promote(
        conn,
        "agent-cli",
        "stable",
        "2.0.0",
        "ana",
        None,
        "2026-11-20T00:00:00Z",
    )
    .unwrap();
    fleet::quarantine(
        conn,
        "agent-cli",
        "2.0.0",
        "rollout halted at 10 %",
        "lockstep",
        "2026-11-21T00:00:00Z",
    )
    .unwrap();
    fleet::set_pin(
        conn,
        &fleet::Pin::new(
            "acme",
            "agent-cli",
            "1.8.0",
            "change freeze",
            Some(T0 as i64 + 30 * 86_400),
            "ops",
            "2026-11-20T00:00:00Z",
        ),
    )
    .unwrap();
    fleet::set_pin(
        conn,
        &fleet::Pin::new(
            "globex",
            "agent-cli",
            "1.7.0",
            "old runners",
            Some(T0 as i64 - 86_400),
            "ops",
            "2026-11-01T00:00:00Z",
        ),
    )
    .unwrap();
    let policy = lockstep_rollout::Policy::new(vec![1, 10, 50, 100]).unwrap();
    let mut row = lockstep_store::rollout::RolloutRow::new(
        "agent-cli@2.0.0#1",
        "agent-cli",
        "2.0.0",
        "stable",
        "1.9.0",
        &serde_json::to_string(&policy).unwrap(),
        T0 as i64,
    );
    lockstep_store::rollout::insert(conn, &row).unwrap();
    use lockstep_store::rollout::{EventRow, add_event};
    // Stage 0 (1 %): 120 successes. Stage 1 (10 %): 40 reports, 12 failures → halted.
    for i in 0..120 {
        add_event(
            conn,
            &EventRow::report(&row.id, T0 as i64, 0, &format!("u{i}"), true, None),
        )
        .unwrap();
    }
    for i in 0..40 {
        add_event(
            conn,
            &EventRow::report(&row.id, T0 as i64, 1, &format!("v{i}"), i % 10 >= 3, None),
        )
        .unwrap();
    }
    row.state = "halted".into();
    row.stage = 1;
    lockstep_store::rollout::update(conn, &row).unwrap();
    drop(store);

    let mut inputs = Inputs::default();
    inputs.verticals = vec![
        VerticalInput::new(&finance_manifest, "finance", "stable"),
        VerticalInput::new(&health_manifest, "health", "beta"),
        VerticalInput::new(&retail_manifest, "retail", "stable"),
    ];
    inputs.verticals[0].pending_update = Some("1.3.0".into());
    inputs.cascade_logs = vec![cascade];
    inputs.store = Some(db);
    inputs.now = T0 as i64 + 2 * 86_400;
    Fleet { _dir: dir, inputs }
}
