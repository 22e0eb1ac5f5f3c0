//! Exit codes, signals and spawn failures map to outcomes.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;

use lockstep_smoke::{CommandSpec, ErrorCause, Outcome, run};

use crate::script;

#[test]
fn exit_codes_and_signals() {
    // (name, script body, outcome, exit code, signal)
    type Case = (
        &'static str,
        &'static str,
        Outcome,
        Option<i32>,
        Option<i32>,
    );
    let cases: Vec<Case> = vec![
        ("pass", "echo ok; exit 0", Outcome::Passed, Some(0), None),
        (
            "fail",
            "echo 'assertion failed' >&2; exit 1",
            Outcome::Failed,
            Some(1),
            None,
        ),
        (
            "error 2",
            "exit 2",
            Outcome::Errored(ErrorCause::Exit(2)),
            Some(2),
            None,
        ),
        (
            "error 7",
            "exit 7",
            Outcome::Errored(ErrorCause::Exit(7)),
            Some(7),
            None,
        ),
        (
            "error 255",
            "exit 255",
            Outcome::Errored(ErrorCause::Exit(255)),
            Some(255),
            None,
        ),
        (
            "sigkill",
            "kill -KILL $$",
            Outcome::Errored(ErrorCause::Signal(9)),
            None,
            Some(9),
        ),
        (
            "sigterm",
            "kill -TERM $$",
            Outcome::Errored(ErrorCause::Signal(15)),
            None,
            Some(15),
        ),
        (
            "sigsegv",
            "kill -SEGV $$",
            Outcome::Errored(ErrorCause::Signal(11)),
            None,
            Some(11),
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, body, outcome, code, signal) in cases {
        let path = script(dir.path(), &format!("{}.sh", name.replace(' ', "_")), body);
        let result = run(&CommandSpec::new(&path)).expect("runner");
        assert_eq!(result.outcome, outcome, "{name}: {}", result.output);
        assert_eq!((result.exit_code, result.signal), (code, signal), "{name}");
        assert!(result.pgid.is_some(), "{name}");
        assert!(!result.leftovers_killed, "{name}");
    }
}

#[test]
fn outcome_names_are_stable() {
    for (outcome, name, display) in [
        (Outcome::Passed, "passed", "passed"),
        (Outcome::Failed, "failed", "failed"),
        (Outcome::TimedOut, "timed_out", "timed_out"),
        (
            Outcome::Errored(ErrorCause::Exit(2)),
            "errored",
            "errored (exit code 2)",
        ),
        (
            Outcome::Errored(ErrorCause::Signal(9)),
            "errored",
            "errored (killed by SIGKILL)",
        ),
    ] {
        assert_eq!(outcome.as_str(), name);
        assert_eq!(outcome.to_string(), display);
    }
}

#[test]
fn spawn_failures_are_errored_with_the_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_executable = script(dir.path(), "not_executable.sh", "exit 0");
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    let bad_interpreter = dir.path().join("bad_interpreter.sh");
    std::fs::write(&bad_interpreter, "#!/nonexistent/interpreter\nexit 0\n").expect("write");
    std::fs::set_permissions(&bad_interpreter, std::fs::Permissions::from_mode(0o755))
        .expect("chmod");

    // (name, program, expected io kind)
    let cases = [
        (
            "missing file",
            dir.path().join("missing.sh"),
            ErrorKind::NotFound,
        ),
        (
            "not executable",
            not_executable,
            ErrorKind::PermissionDenied,
        ),
        ("missing interpreter", bad_interpreter, ErrorKind::NotFound),
        (
            "a directory",
            dir.path().to_owned(),
            ErrorKind::PermissionDenied,
        ),
        (
            "missing bare name in PATH",
            "lockstep-no-such-program-anywhere".into(),
            ErrorKind::NotFound,
        ),
    ];
    for (name, program, kind) in cases {
        let result = run(&CommandSpec::new(&program)).expect("runner");
        match &result.outcome {
            Outcome::Errored(ErrorCause::Spawn { kind: got, message }) => {
                assert_eq!(*got, kind, "{name}: {message}");
                assert!(!message.is_empty(), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(result.pgid, None, "{name}");
        assert_eq!((result.exit_code, result.signal), (None, None), "{name}");
        assert_eq!(result.output.total_bytes(), 0, "{name}");
    }
}
