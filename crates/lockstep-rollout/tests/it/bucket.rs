use lockstep_rollout::{State, View, Why, assign, bucket};

fn check(rollout: &str, unit: &str, expected: u16) {
    assert_eq!(
        bucket(rollout, unit),
        expected,
        "bucket({rollout:?}, {unit:?})"
    );
}

#[test]
fn fixed_vectors_are_stable_across_runs_and_platforms() {
    // Computed independently with Python's hashlib:
    // int.from_bytes(sha256(b"lockstep/rollout/v1\0" + id + b"\0" + unit)[:8], "big") % 10000
    check("ro-1", "session-42", 5894);
    check("ro-1", "session-43", 4532);
    check("cli@2.0.0#1", "org:acme", 3596);
    check("", "", 7797);
    check("r", "ünïcode-ü", 8670);
}

fn view(stage_bp: u16, state: State) -> View<'static> {
    View {
        id: "ro-dist",
        version: "2.0.0",
        rollback: "1.9.0",
        state,
        stage_bp,
    }
}

#[test]
fn each_stage_holds_its_share_of_100000_units() {
    let units: Vec<String> = (0..100_000).map(|i| format!("unit-{i}")).collect();
    for percent in [1u16, 10, 50, 100] {
        let v = view(percent * 100, State::Running);
        let inside = units
            .iter()
            .filter(|u| assign(&v, u, None).why == Why::Rollout)
            .count() as f64;
        let p = f64::from(percent) / 100.0;
        let expected = p * units.len() as f64;
        // Five standard deviations of the binomial count (zero at 100 %).
        let tolerance = 5.0 * (units.len() as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (inside - expected).abs() <= tolerance,
            "{percent} %: {inside} units inside, expected {expected} ± {tolerance:.0}"
        );
    }
}

#[test]
fn stages_only_add_units() {
    let stages = [100u16, 1_000, 5_000, 10_000];
    for i in 0..20_000 {
        let unit = format!("runner-{i}");
        let mut was_inside = false;
        for &bp in &stages {
            let a = assign(&view(bp, State::Running), &unit, None);
            let inside = a.why == Why::Rollout;
            assert!(inside || !was_inside, "{unit} left the rollout at {bp} bp");
            assert_eq!(inside, a.bucket < bp);
            was_inside = inside;
        }
        assert!(was_inside, "{unit} is not in the 100 % stage");
    }
}

#[test]
fn pins_win_and_halts_send_everyone_back() {
    let units: Vec<String> = (0..1_000).map(|i| format!("s-{i}")).collect();
    for state in [State::Halted, State::Aborted] {
        for u in &units {
            let a = assign(&view(10_000, state), u, None);
            assert_eq!((a.version, a.why), ("1.9.0", Why::RollbackTarget));
        }
    }
    let a = assign(&view(0, State::Halted), "org-a", Some("1.8.0"));
    assert_eq!((a.version, a.why), ("1.8.0", Why::Pin));
    let a = assign(&view(0, State::Completed), "org-b", None);
    assert_eq!((a.version, a.why), ("2.0.0", Why::Rollout));
    // A paused rollout keeps its stage.
    let paused = units
        .iter()
        .filter(|u| assign(&view(5_000, State::Paused), u, None).version == "2.0.0")
        .count();
    let running = units
        .iter()
        .filter(|u| assign(&view(5_000, State::Running), u, None).version == "2.0.0")
        .count();
    assert_eq!(paused, running);
    assert!(paused > 400 && paused < 600, "{paused}");
}
