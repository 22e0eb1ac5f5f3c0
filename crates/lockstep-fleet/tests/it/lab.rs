//! The canary lab on canaries built by `fixtures/fleet/build.sh`: real cargo, real node.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use lockstep_fleet::events::Notifier;
use lockstep_fleet::lab::{self, LabOptions, LabOutcome};

use crate::{TestHome, build_fixture};

fn run(t: &TestHome, fixture: &Path, target: &str, file: &str) -> LabOutcome {
    let mut fleet = t.open();
    let mut opts = LabOptions::new(target.parse().expect("spec"), fixture.join(file));
    opts.jobs = 2;
    opts.grace = Duration::from_secs(1);
    lab::run(&mut fleet, &Notifier::default(), &opts, &|_| {}).expect("the lab runs")
}

fn statuses(o: &LabOutcome) -> Vec<(&str, &str)> {
    o.canaries
        .iter()
        .map(|c| (c.name.as_str(), c.status))
        .collect()
}

#[test]
fn green_red_and_the_canaries_themselves_untouched() {
    let t = TestHome::new();
    let f = build_fixture(&t.tmp.path().join("f"));
    let manifest = std::fs::read_to_string(f.join("canaries/cargo-app/Cargo.toml")).expect("read");
    let lock = std::fs::read_to_string(f.join("canaries/cargo-app/Cargo.lock")).expect("read");

    let green = run(&t, &f, "fleet-component@1.1.0", "lab.toml");
    assert_eq!(green.verdict, "green", "{:#?}", green.canaries);
    assert_eq!(
        statuses(&green),
        [("cargo-app", "passed"), ("npm-app", "passed")]
    );

    let red = run(&t, &f, "fleet-component@2.0.0", "lab.toml");
    assert_eq!(red.verdict, "red");
    assert_eq!(
        statuses(&red),
        [("cargo-app", "failed"), ("npm-app", "failed")]
    );
    let cargo = &red.canaries[0];
    assert!(
        cargo.output_tail.contains("cannot find function `hello`"),
        "{}",
        cargo.output_tail
    );
    assert_eq!(red.canaries[1].exit_code, Some(1));

    // The lab worked on copies: the canaries are as built, and no copy is left.
    assert_eq!(
        std::fs::read_to_string(f.join("canaries/cargo-app/Cargo.toml")).expect("read"),
        manifest
    );
    assert_eq!(
        std::fs::read_to_string(f.join("canaries/cargo-app/Cargo.lock")).expect("read"),
        lock
    );
    assert!(!f.join("canaries/cargo-app/target").exists());
    let left: Vec<_> = std::fs::read_dir(t.home.lab_dir())
        .expect("lab dir")
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Stored with the per-canary results.
    let shown = lab::show(&t.open(), &"fleet-component@2.0.0".parse().expect("spec"))
        .expect("show")
        .expect("stored");
    assert_eq!((shown.verdict, statuses(&shown)), ("red", statuses(&red)));
}

#[test]
fn a_hanging_canary_times_out_and_a_not_applicable_one_makes_it_yellow() {
    let t = TestHome::new();
    let f = build_fixture(&t.tmp.path().join("f"));
    let started = Instant::now();
    let hung = run(&t, &f, "fleet-component@1.1.0", "lab-hang.toml");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(hung.verdict, "red");
    assert_eq!(
        statuses(&hung),
        [("npm-app", "passed"), ("hanging", "failed")]
    );
    assert!(
        hung.canaries[1]
            .notes
            .iter()
            .any(|n| n.contains("timed out after 3s")),
        "{:?}",
        hung.canaries[1].notes
    );
    assert!(hung.canaries[1].output_tail.contains("started"));

    let yellow = run(&t, &f, "fleet-component@1.1.0", "lab-yellow.toml");
    assert_eq!(yellow.verdict, "yellow");
    assert_eq!(
        statuses(&yellow),
        [("npm-app", "passed"), ("unrelated", "skipped")]
    );
}

#[test]
fn a_bad_lab_file_names_the_line_and_field_and_changes_nothing() {
    let t = TestHome::new();
    let f = build_fixture(&t.tmp.path().join("f"));
    std::fs::write(f.join("bad.toml"), "[[canary]]\nname = \"x\"\npath = \"canaries/npm-app\"\ntest = \"true\"\ntimeout = \"soon\"\ncore = { mode = \"pin\", file = \"package.json\", dependency = \"fleet-component\" }\n").expect("write");
    let mut fleet = t.open();
    let opts = LabOptions::new(
        "fleet-component@1.1.0".parse().expect("spec"),
        f.join("bad.toml"),
    );
    let err = lab::run(&mut fleet, &Notifier::default(), &opts, &|_| {}).expect_err("refused");
    assert!(
        err.to_string().ends_with(
            "bad.toml:5:11: canary[1].timeout: expected the test timeout in seconds, 1 to 86400"
        ),
        "{err}"
    );
    assert_eq!(lockstep_state::Classify::severity(&err).exit_code(), 2);
    assert!(
        lab::show(&fleet, &"fleet-component@1.1.0".parse().expect("spec"))
            .expect("show")
            .is_none()
    );
}

#[test]
fn recovery_kills_a_dead_runs_tests_removes_its_copies_and_leaves_live_runs_alone() {
    let t = TestHome::new();
    let dead = t.home.lab_dir().join("run-dead");
    let live = t.home.lab_dir().join("run-live");
    std::fs::create_dir_all(dead.join("01-canary")).expect("mkdir");
    std::fs::create_dir_all(&live).expect("mkdir");
    let mut child = std::process::Command::new("sleep")
        .arg("600")
        .process_group(0)
        .spawn()
        .expect("sleep");
    std::fs::write(dead.join("groups"), format!("{}\n", child.id())).expect("write");
    let _held = lockstep_state::lock::Lock::acquire(&live, "a live lab run").expect("lock");

    let done = lockstep_fleet::recover(&t.home).expect("recover");
    assert_eq!(done.removed, std::slice::from_ref(&dead));
    assert_eq!(done.killed_groups, [child.id()]);
    assert_eq!(done.live, std::slice::from_ref(&live));
    assert!(!dead.exists() && live.exists());
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "the orphaned test was killed");
    // Nothing left to do: a no-op.
    drop(_held);
    let again = lockstep_fleet::recover(&t.home).expect("recover");
    assert_eq!(again.removed, [live]);
    assert!(
        lockstep_fleet::recover(&t.home)
            .expect("recover")
            .removed
            .is_empty()
    );
}
