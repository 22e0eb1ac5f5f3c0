//! The known-good registry: what the lab allows, rollback targets, quarantine, pins.

use lockstep_fleet::Fleet;
use lockstep_fleet::events::Notifier;
use lockstep_fleet::known_good::{self, PromoteOptions, QuarantineOptions};
use lockstep_fleet::pins::{self, PinOptions, ResolveOptions, Why};
use lockstep_fleet::spec::Channel;
use lockstep_state::Classify;
use lockstep_store::fleet as db;

use crate::TestHome;

fn lab_result(fleet: &Fleet, component: &str, version: &str, verdict: &str) {
    let run = db::LabRun::new(
        component,
        version,
        verdict,
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:01:00Z",
        "lab.toml",
    );
    db::record_lab_run(fleet.store().conn(), &run, &[]).expect("stored");
}

fn promote(
    fleet: &mut Fleet,
    spec: &str,
    channel: Channel,
) -> Result<known_good::Promotion, lockstep_fleet::Error> {
    known_good::promote(
        fleet,
        &Notifier::default(),
        &PromoteOptions::new(spec.parse().expect("spec"), channel, "ana"),
    )
}

#[test]
fn promotion_follows_the_lab_verdict() {
    let t = TestHome::new();
    let mut f = t.open();
    let check = |r: Result<known_good::Promotion, lockstep_fleet::Error>| {
        r.map(|p| p.version)
            .map_err(|e| (e.kind(), e.severity().exit_code()))
    };
    assert_eq!(
        check(promote(&mut f, "cli@1.0.0", Channel::Stable)),
        Err(("no_lab_result", 1))
    );
    lab_result(&f, "cli", "1.0.0", "yellow");
    assert_eq!(
        check(promote(&mut f, "cli@1.0.0", Channel::Stable)),
        Err(("lab_verdict", 1))
    );
    assert_eq!(
        check(promote(&mut f, "cli@1.0.0", Channel::Beta)),
        Ok("1.0.0".into())
    );
    lab_result(&f, "cli", "1.1.0", "red");
    assert_eq!(
        check(promote(&mut f, "cli@1.1.0", Channel::Beta)),
        Err(("lab_verdict", 1))
    );
    lab_result(&f, "cli", "1.1.0", "green");
    assert_eq!(
        check(promote(&mut f, "cli@1.1.0", Channel::Stable)),
        Ok("1.1.0".into())
    );
    known_good::quarantine(
        &mut f,
        &Notifier::default(),
        &QuarantineOptions::new("cli@1.1.0".parse().expect("spec"), "crashes on start", "bo"),
    )
    .expect("q");
    assert_eq!(
        check(promote(&mut f, "cli@1.1.0", Channel::Stable)),
        Err(("quarantined", 1))
    );
    // Every change is an audit record with its actor; the chain verifies.
    let log = lockstep_audit::AuditLog::open(t.home.audit_path()).expect("log");
    let actions: Vec<(String, String)> = log
        .records()
        .expect("records")
        .into_iter()
        .map(|r| (r.action, r.actor))
        .collect();
    assert_eq!(
        actions,
        [
            ("fleet_promoted".into(), "ana".into()),
            ("fleet_promoted".into(), "ana".into()),
            ("fleet_quarantined".into(), "bo".into())
        ]
    );
    assert!(log.verify().expect("verify").is_ok());
}

#[test]
fn the_rollback_target_is_the_known_good_version_before_the_current_one() {
    let t = TestHome::new();
    let mut f = t.open();
    for v in ["1.0.0", "1.1.0", "1.2.0"] {
        lab_result(&f, "cli", v, "green");
        promote(&mut f, &format!("cli@{v}"), Channel::Stable).expect("promoted");
    }
    let target = known_good::rollback_target(&f, "cli", Channel::Stable).expect("target");
    assert_eq!(
        (target.version.as_str(), target.current.as_str()),
        ("1.1.0", "1.2.0")
    );
    let err = known_good::rollback_target(&f, "cli", Channel::Beta).expect_err("none on beta");
    assert_eq!(err.severity().exit_code(), 1);
    // Quarantining the current version: 1.1.0 becomes current, 1.0.0 the target.
    known_good::quarantine(
        &mut f,
        &Notifier::default(),
        &QuarantineOptions::new("cli@1.2.0".parse().expect("spec"), "memory leak", "ana"),
    )
    .expect("q");
    let target = known_good::rollback_target(&f, "cli", Channel::Stable).expect("target");
    assert_eq!(
        (target.version.as_str(), target.current.as_str()),
        ("1.0.0", "1.1.0")
    );
    let list = known_good::list(&f, Some(Channel::Stable)).expect("list");
    let q = list.iter().find(|e| e.version == "1.2.0").expect("listed");
    assert_eq!(
        (q.state, q.reason.as_deref()),
        ("quarantined", Some("memory leak"))
    );
    // Quarantine needs no promotion.
    known_good::quarantine(
        &mut f,
        &Notifier::default(),
        &QuarantineOptions::new("cli@9.0.0".parse().expect("spec"), "never", "ana"),
    )
    .expect("q");
    assert!(
        known_good::list(&f, None)
            .expect("list")
            .iter()
            .any(|e| e.version == "9.0.0" && e.channel.is_none())
    );
}

#[test]
fn resolve_prefers_a_valid_pin_reports_an_expired_one_and_skips_quarantined_versions() {
    let t = TestHome::new();
    let mut f = t.open();
    let q = Notifier::default();
    for v in ["1.0.0", "1.1.0"] {
        lab_result(&f, "cli", v, "green");
        promote(&mut f, &format!("cli@{v}"), Channel::Stable).expect("promoted");
    }
    let resolve = |f: &mut Fleet, org: &str| {
        pins::resolve(f, &q, &ResolveOptions::new(org, "cli")).expect("resolve")
    };
    let r = resolve(&mut f, "globex");
    assert_eq!(
        (r.version.as_deref(), r.why),
        (Some("1.1.0"), Some(Why::KnownGood))
    );

    let mut pin = PinOptions::new(
        "acme",
        "cli@1.0.0".parse().expect("spec"),
        "waiting for SSO fix",
        "ana",
    );
    pin.expires = Some("2099-01-01".into());
    pins::set_pin(&mut f, &q, &pin).expect("pin");
    let r = resolve(&mut f, "acme");
    assert_eq!(
        (r.version.as_deref(), r.why),
        (Some("1.0.0"), Some(Why::Pin))
    );

    pin.expires = Some("2020-01-01T00:00:00Z".into());
    pins::set_pin(&mut f, &q, &pin).expect("pin with a past expiry");
    let r = resolve(&mut f, "acme");
    assert_eq!(
        (r.version.as_deref(), r.why),
        (Some("1.1.0"), Some(Why::KnownGood))
    );
    assert!(
        r.notes.iter().any(|n| n.starts_with("expired")),
        "{:?}",
        r.notes
    );
    resolve(&mut f, "acme");
    let expired = lockstep_audit::AuditLog::open(t.home.audit_path())
        .expect("log")
        .records()
        .expect("records")
        .iter()
        .filter(|r| r.action == "pin_expired")
        .count();
    assert_eq!(expired, 1, "the expiry is recorded once");

    known_good::quarantine(
        &mut f,
        &q,
        &QuarantineOptions::new("cli@1.1.0".parse().expect("spec"), "bad", "ana"),
    )
    .expect("q");
    assert_eq!(resolve(&mut f, "globex").version.as_deref(), Some("1.0.0"));

    let bad = PinOptions::new("acme", "cli@1.0.0".parse().expect("spec"), " ", "ana");
    assert_eq!(
        pins::set_pin(&mut f, &q, &bad)
            .expect_err("no reason")
            .kind(),
        "invalid_argument"
    );
    let mut bad = PinOptions::new("acme", "cli@1.0.0".parse().expect("spec"), "r", "ana");
    bad.expires = Some("next tuesday".into());
    let err = pins::set_pin(&mut f, &q, &bad).expect_err("bad date");
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    let cleared = pins::clear_pin(&mut f, "acme", "cli", "bo", std::time::SystemTime::now())
        .expect("cleared");
    assert_eq!(cleared.version, "1.0.0");
    assert_eq!(
        pins::clear_pin(&mut f, "acme", "cli", "bo", std::time::SystemTime::now())
            .expect_err("nothing")
            .severity()
            .exit_code(),
        1
    );
}

#[test]
fn concurrent_changes_each_leave_exactly_one_audit_record_and_the_chain_verifies() {
    let t = TestHome::new();
    t.open();
    std::thread::scope(|s| {
        for worker in 0..4 {
            let t = &t;
            s.spawn(move || {
                let mut f = t.open();
                for i in 0..5 {
                    let pin = PinOptions::new(
                        format!("org-{worker}-{i}"),
                        "cli@1.0.0".parse().expect("spec"),
                        "load",
                        "ana",
                    );
                    pins::set_pin(&mut f, &Notifier::default(), &pin).expect("pin");
                    // Another process opening the home drains the outbox while others commit.
                    drop(t.open());
                }
            });
        }
    });
    let log = lockstep_audit::AuditLog::open(t.home.audit_path()).expect("log");
    let records = log.records().expect("records");
    assert_eq!(records.len(), 20);
    let mut orgs: Vec<String> = records
        .iter()
        .map(|r| r.details["org"].as_str().expect("org").to_owned())
        .collect();
    orgs.sort();
    orgs.dedup();
    assert_eq!(orgs.len(), 20, "no record twice");
    assert!(log.verify().expect("verify").is_ok());
    assert_eq!(
        pins::list_pins(
            &mut t.open(),
            &Notifier::default(),
            None,
            std::time::SystemTime::now()
        )
        .expect("list")
        .len(),
        20
    );
}
