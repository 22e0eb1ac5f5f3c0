//! Timeouts kill the whole group in bounded time; leftovers are cleaned; the pgid hook; kill_group.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lockstep_smoke::{
    CommandSpec, GroupKill, KILL_SLACK, Outcome, Pgid, kill_group, run, run_with,
};

use crate::{is_gone, read_pid, script};

const TIMEOUT: Duration = Duration::from_secs(1);
const GRACE: Duration = Duration::from_secs(1);
/// Scheduling margin on top of the runner's own bound, for a loaded machine.
const MARGIN: Duration = Duration::from_millis(750);

/// Starts a background process that ignores SIGTERM and keeps the output pipe, and waits until
/// it has said so (its pid in `gc.pid`, written after the trap is set).
const IGNORING_HOLDER: &str = "sh -c 'trap \"\" TERM; echo $$ > gc.pid; exec sleep 1000' &
while [ ! -s gc.pid ]; do sleep 0.01; done";
/// The same with its output closed.
const IGNORING_CLOSED: &str =
    "sh -c 'trap \"\" TERM; echo $$ > gc.pid; exec sleep 1000 >/dev/null 2>&1' &
while [ ! -s gc.pid ]; do sleep 0.01; done";

#[test]
fn a_timeout_kills_the_whole_group_within_timeout_plus_grace() {
    // (name, script, leader's signal, whether something ignores SIGTERM)
    let cases = [
        (
            "leader and grandchild ignore SIGTERM, grandchild holds stdout",
            "trap '' TERM\nsleep 1000 &\necho $! > gc.pid\necho started\nwait",
            libc_sig::KILL,
            true,
        ),
        (
            "grandchild ignores SIGTERM and holds stdout",
            &format!("{IGNORING_HOLDER}\necho started\nwait"),
            libc_sig::TERM,
            true,
        ),
        (
            "grandchild ignores SIGTERM with its output closed",
            &format!("{IGNORING_CLOSED}\necho started\nwait"),
            libc_sig::TERM,
            true,
        ),
        (
            "everything stops on SIGTERM",
            "sleep 1000 &\necho $! > gc.pid\necho started\nwait",
            libc_sig::TERM,
            false,
        ),
    ];
    for (name, body, leader_signal, ignores_term) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = script(dir.path(), "hang.sh", body);
        let spec = CommandSpec::new(&path)
            .current_dir(dir.path())
            .timeout(TIMEOUT)
            .grace(GRACE);
        let started = Instant::now();
        let result = run(&spec).expect("runner");
        let elapsed = started.elapsed();

        assert_eq!(result.outcome, Outcome::TimedOut, "{name}");
        assert_eq!(result.signal, Some(leader_signal), "{name}");
        assert_eq!(result.exit_code, None, "{name}");
        assert_eq!(result.output.to_text(), "started\n", "{name}");
        assert!(elapsed >= TIMEOUT, "{name}: returned after {elapsed:?}");
        if ignores_term {
            assert!(
                elapsed >= TIMEOUT + GRACE,
                "{name}: SIGKILL came early, {elapsed:?}"
            );
            assert!(
                elapsed <= TIMEOUT + GRACE + KILL_SLACK + MARGIN,
                "{name}: took {elapsed:?}"
            );
        } else {
            assert!(elapsed < TIMEOUT + GRACE, "{name}: took {elapsed:?}");
        }
        assert!(result.duration <= elapsed, "{name}");
        let grandchild = read_pid(&dir.path().join("gc.pid"));
        assert!(
            is_gone(grandchild),
            "{name}: grandchild {grandchild} survived"
        );
    }
}

#[test]
fn leftovers_of_a_finished_command_are_stopped() {
    // (name, script, whether the leftover ignores SIGTERM; None: no leftover)
    let cases = [
        ("no leftover", "echo done", None),
        (
            "background process stops on SIGTERM",
            "sleep 1000 &\necho $! > gc.pid\necho done",
            Some(false),
        ),
        (
            "background process ignores SIGTERM and holds stdout",
            &format!("{IGNORING_HOLDER}\necho done"),
            Some(true),
        ),
        (
            "daemon ignores SIGTERM with its output closed",
            &format!("{IGNORING_CLOSED}\necho done"),
            Some(true),
        ),
    ];
    for (name, body, leftover) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = script(dir.path(), "leaves.sh", body);
        let spec = CommandSpec::new(&path)
            .current_dir(dir.path())
            .timeout(Duration::from_secs(30))
            .grace(GRACE);
        let result = run(&spec).expect("runner");
        assert_eq!(result.outcome, Outcome::Passed, "{name}");
        assert_eq!(result.output.to_text(), "done\n", "{name}");
        assert_eq!(result.leftovers_killed, leftover.is_some(), "{name}");
        match leftover {
            None => assert!(result.duration < GRACE, "{name}: {:?}", result.duration),
            Some(ignores_term) => {
                let pid = read_pid(&dir.path().join("gc.pid"));
                assert!(is_gone(pid), "{name}: leftover {pid} survived");
                if ignores_term {
                    assert!(result.duration >= GRACE, "{name}: {:?}", result.duration);
                    assert!(
                        result.duration <= GRACE + KILL_SLACK + MARGIN,
                        "{name}: {:?}",
                        result.duration
                    );
                } else if cfg!(target_os = "linux") {
                    // Done as soon as the leftover is gone, even if nobody reaps the zombie.
                    assert!(result.duration < GRACE, "{name}: {:?}", result.duration);
                }
            }
        }
    }
}

#[test]
fn the_hook_gets_the_live_group_before_the_wait() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The script waits for the hook's go-ahead, so the group is certainly alive in the hook.
    let path = script(
        dir.path(),
        "handshake.sh",
        "while [ ! -e go ]; do sleep 0.01; done\necho \"leader=$$\"",
    );
    let spec = CommandSpec::new(&path)
        .current_dir(dir.path())
        .timeout(Duration::from_secs(30));
    let mut seen = None;
    let result = run_with(&spec, |pgid| {
        assert_eq!(kill_zero(pgid), Ok(()), "the group is alive in the hook");
        seen = Some(pgid);
        std::fs::write(dir.path().join("go"), "").expect("go-ahead");
    })
    .expect("runner");
    assert_eq!(result.outcome, Outcome::Passed, "{}", result.output);
    let pgid = seen.expect("the hook ran");
    assert_eq!(result.pgid, Some(pgid));
    // The command leads its own group: its pid is the group id.
    assert_eq!(result.output.to_text(), format!("leader={pgid}\n"));
}

fn kill_zero(pgid: Pgid) -> Result<(), nix::errno::Errno> {
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid.as_raw() as i32), None)
}

/// Starts `sh -c body` as the leader of its own group, waits for it to print a line, and reaps
/// it from a thread (as init would for an orphan).
fn detached_group(body: &str) -> Pgid {
    let mut child = Command::new("/bin/sh")
        .args(["-c", body])
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    assert_eq!(line, "ready\n");
    let pgid = Pgid::new(child.id()).expect("pgid");
    std::thread::spawn(move || child.wait());
    pgid
}

#[test]
fn kill_group_stops_what_a_crashed_parent_left() {
    let grace = Duration::from_millis(300);
    // (name, script, expected)
    let cases = [
        (
            "stops on SIGTERM",
            "echo ready; exec sleep 1000",
            GroupKill::Terminated,
        ),
        (
            "ignores SIGTERM",
            "trap '' TERM; echo ready; exec sleep 1000",
            GroupKill::Killed,
        ),
    ];
    for (name, body, expected) in cases {
        let pgid = detached_group(body);
        let started = Instant::now();
        assert_eq!(kill_group(pgid, grace).expect("kill"), expected, "{name}");
        let elapsed = started.elapsed();
        if expected == GroupKill::Killed {
            assert!(elapsed >= grace, "{name}: {elapsed:?}");
        }
        assert!(
            elapsed < grace + Duration::from_secs(1),
            "{name}: {elapsed:?}"
        );
        // Gone now: a second call is a no-op, not an error.
        assert_eq!(
            kill_group(pgid, grace).expect("kill again"),
            GroupKill::NotFound,
            "{name}"
        );
    }
}

#[test]
fn kill_group_of_a_gone_group_is_not_an_error() {
    let mut child = Command::new("/bin/sh")
        .args(["-c", "exit 0"])
        .process_group(0)
        .spawn()
        .expect("spawn");
    let pgid = Pgid::new(child.id()).expect("pgid");
    child.wait().expect("wait");
    assert_eq!(
        kill_group(pgid, Duration::from_secs(5)).expect("kill"),
        GroupKill::NotFound
    );
}

/// Signal numbers, spelled out to keep libc out of the test's imports.
mod libc_sig {
    pub const TERM: i32 = nix::sys::signal::Signal::SIGTERM as i32;
    pub const KILL: i32 = nix::sys::signal::Signal::SIGKILL as i32;
}
