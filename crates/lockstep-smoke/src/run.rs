//! Running one command: spawn in a new process group, capture, time out, kill the group.

use std::fmt;
use std::io::{self, PipeReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use process_wrap::std::{ChildWrapper, CommandWrap, ProcessGroup};

use crate::group::{self, POLL, Pgid};
use crate::output::{Capture, CapturedOutput};
use crate::{CommandSpec, Error};

/// How long to wait, after SIGKILL, for the group to be gone, the leader reaped and the output
/// pipe closed, before giving up on them (a process outside the group holding the pipe, a process stuck in
/// the kernel). Beyond this the runner returns with what it has.
pub const KILL_SLACK: Duration = Duration::from_secs(1);

/// How often a spawn that fails with `ETXTBSY` is retried: a script just written by another
/// thread of this process can be momentarily "busy" while that thread forks.
const SPAWN_ATTEMPTS: u32 = 5;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Exit status 0.
    Passed,
    /// Exit status 1: the tests ran and failed.
    Failed,
    /// Anything else: exit status 2 or another code, a signal, a failed spawn.
    Errored(ErrorCause),
    /// The timeout expired; the group was sent SIGTERM (and SIGKILL after the grace period).
    TimedOut,
}

impl Outcome {
    /// A stable name: `passed`, `failed`, `errored` or `timed_out`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Errored(_) => "errored",
            Outcome::TimedOut => "timed_out",
        }
    }

    /// Whether the command passed.
    pub fn is_passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Errored(cause) => write!(f, "errored ({cause})"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Why a command [errored](Outcome::Errored).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCause {
    /// It exited with this code (2, or anything but 0 and 1).
    Exit(i32),
    /// It was killed by this signal (not by the runner: that is [`Outcome::TimedOut`]).
    Signal(i32),
    /// It could not be started.
    Spawn {
        /// The class of the failure (`NotFound`, `PermissionDenied`…).
        kind: io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// Its exit status could not be collected.
    Wait {
        /// The operating system's message.
        message: String,
    },
}

impl fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCause::Exit(code) => write!(f, "exit code {code}"),
            ErrorCause::Signal(sig) => match Signal::try_from(*sig) {
                Ok(signal) => write!(f, "killed by {}", signal.as_str()),
                Err(_) => write!(f, "killed by signal {sig}"),
            },
            ErrorCause::Spawn { message, .. } => write!(f, "could not start: {message}"),
            ErrorCause::Wait { message } => write!(f, "exit status lost: {message}"),
        }
    }
}

/// The result of running one command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunResult {
    /// How it ended.
    pub outcome: Outcome,
    /// The leader's exit code, when it exited on its own.
    pub exit_code: Option<i32>,
    /// The signal that ended the leader, if one did (also after a timeout).
    pub signal: Option<i32>,
    /// From just before the spawn to the return.
    pub duration: Duration,
    /// Combined stdout and stderr, capped.
    pub output: CapturedOutput,
    /// The process group the command ran in; `None` when it could not be spawned.
    pub pgid: Option<Pgid>,
    /// Whether processes were left in the group after the leader exited in time and had to be
    /// signalled (a background process the command forgot).
    pub leftovers_killed: bool,
}

impl RunResult {
    fn spawn_failed(error: &io::Error, duration: Duration) -> Self {
        Self {
            outcome: Outcome::Errored(ErrorCause::Spawn {
                kind: error.kind(),
                message: error.to_string(),
            }),
            exit_code: None,
            signal: None,
            duration,
            output: CapturedOutput::default(),
            pgid: None,
            leftovers_killed: false,
        }
    }
}

/// Runs `spec` to completion (or timeout) and returns what happened.
///
/// See [`run_with`].
///
/// # Errors
///
/// Only when the runner cannot set up (no pipe, no thread); the command's own failures are in
/// the [`RunResult`].
pub fn run(spec: &CommandSpec) -> Result<RunResult, Error> {
    run_with(spec, |_| {})
}

/// [`run_with`] for a crash journal: `record(Some(group))` once the command has started (before
/// waiting on it), `record(None)` once it is over, however it ended. Every workflow that runs a
/// command under a journal goes through here, so recovery always finds the group to kill.
///
/// # Errors
///
/// As for [`run`]; `record(None)` is called on errors too.
pub fn run_recorded(
    spec: &CommandSpec,
    mut record: impl FnMut(Option<Pgid>),
) -> Result<RunResult, Error> {
    let result = run_with(spec, |pgid| record(Some(pgid)));
    record(None);
    result
}

/// Runs `spec`, calling `on_spawn` with the process group id as soon as the command is started
/// (before waiting on it), so the caller can record the group in a crash journal.
///
/// The command runs as the leader of a new process group, with stdin from `/dev/null` and
/// stdout and stderr into one pipe. When the timeout expires, the whole group gets SIGTERM, and
/// SIGKILL after the grace period; the runner returns within timeout + grace + [`KILL_SLACK`]
/// even if a grandchild ignores SIGTERM or holds the pipe open. When the leader exits in time
/// but leaves processes in its group, they are stopped the same way (SIGTERM, SIGKILL after the
/// grace period) and [`RunResult::leftovers_killed`] is set; the outcome is still the leader's.
///
/// # Errors
///
/// As for [`run`].
pub fn run_with(spec: &CommandSpec, on_spawn: impl FnOnce(Pgid)) -> Result<RunResult, Error> {
    let program = spec.resolved_program();
    let span = tracing::info_span!(
        "smoke.run",
        program = %program.display(),
        timeout_ms = spec.get_timeout().as_millis() as u64,
        pgid = tracing::field::Empty,
    );
    let _entered = span.enter();
    let start = Instant::now();

    let (reader, writer) = io::pipe().map_err(|source| Error::Pipe {
        program: program.clone(),
        source,
    })?;
    let writer_for_stderr = writer.try_clone().map_err(|source| Error::Pipe {
        program: program.clone(),
        source,
    })?;

    // Start both helper threads before the process, so a failure to start one leaves no
    // process behind.
    let (head_bytes, tail_bytes) = spec.get_output_limit();
    let capture = Arc::new(Mutex::new(Capture::new(head_bytes, tail_bytes)));
    let (events, inbox) = mpsc::channel();
    let thread_error = |role: &'static str| {
        let program = program.clone();
        move |source| Error::Thread {
            role,
            program,
            source,
        }
    };
    let (child_tx, child_rx) = mpsc::channel::<Box<dyn ChildWrapper>>();
    thread::Builder::new()
        .name("smoke-wait".into())
        .spawn({
            let events = events.clone();
            move || wait_for_child(&child_rx, &events)
        })
        .map_err(thread_error("waiter"))?;
    thread::Builder::new()
        .name("smoke-output".into())
        .spawn({
            let capture = Arc::clone(&capture);
            move || read_output(reader, &capture, &events)
        })
        .map_err(thread_error("output reader"))?;

    let mut command = Command::new(&program);
    command
        .args(spec.get_args())
        .envs(spec.get_envs())
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer_for_stderr));
    if let Some(dir) = spec.get_current_dir() {
        command.current_dir(dir);
    }
    // process-wrap puts the command at the head of a new group and, in `wait`, reaps whatever
    // of ours is left in it. Signals go to the group through `killpg` directly (see `group`):
    // the child handle lives in the waiter thread, blocked in `wait(&mut self)`, so it cannot
    // also be used to signal without a lock that the blocked wait would hold.
    let mut command = CommandWrap::from(command);
    command.wrap(ProcessGroup::leader());
    let spawned = spawn(&mut command);
    // Closes the parent's copies of the pipe's write end, so the reader sees EOF once the
    // command's processes have closed theirs.
    drop(command);
    let child = match spawned {
        Ok(child) => child,
        Err(error) => {
            tracing::info!(%error, "command could not be started");
            return Ok(RunResult::spawn_failed(&error, start.elapsed()));
        }
    };
    let Some(pgid) = Pgid::new(child.id()) else {
        // A child's pid is never 0 or 1; if it were, signalling its "group" would be a disaster.
        unreachable!("a spawned child has pid {}", child.id());
    };
    span.record("pgid", pgid.as_raw());
    tracing::debug!("command started");
    // The waiter thread is alive (it holds the receiver until it gets the child).
    if child_tx.send(child).is_err() {
        unreachable!("the waiter thread ends only after receiving the child");
    }
    on_spawn(pgid);

    let ending = supervise(pgid, spec, start, &inbox);
    let output = capture
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .snapshot();
    let duration = start.elapsed();
    let (exit_code, signal) = match &ending.status {
        Some(Ok(status)) => (status.code(), status.signal()),
        _ => (None, None),
    };
    let outcome = if ending.timed_out {
        Outcome::TimedOut
    } else {
        match ending.status {
            Some(Ok(status)) => outcome_of(status),
            Some(Err(error)) => Outcome::Errored(ErrorCause::Wait {
                message: error.to_string(),
            }),
            None => Outcome::Errored(ErrorCause::Wait {
                message: "the process did not exit after SIGKILL".into(),
            }),
        }
    };
    tracing::info!(
        outcome = %outcome,
        duration_ms = duration.as_millis() as u64,
        output_bytes = output.total_bytes(),
        "command finished"
    );
    Ok(RunResult {
        outcome,
        exit_code,
        signal,
        duration,
        output,
        pgid: Some(pgid),
        leftovers_killed: ending.leftovers_killed,
    })
}

fn outcome_of(status: ExitStatus) -> Outcome {
    match (status.code(), status.signal()) {
        (Some(0), _) => Outcome::Passed,
        (Some(1), _) => Outcome::Failed,
        (Some(code), _) => Outcome::Errored(ErrorCause::Exit(code)),
        (None, Some(sig)) => Outcome::Errored(ErrorCause::Signal(sig)),
        (None, None) => Outcome::Errored(ErrorCause::Wait {
            message: format!("unrecognised exit status {status}"),
        }),
    }
}

fn spawn(command: &mut CommandWrap) -> io::Result<Box<dyn ChildWrapper>> {
    let mut attempt = 1;
    loop {
        match command.spawn() {
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && attempt < SPAWN_ATTEMPTS => {
                tracing::debug!(attempt, "executable busy; retrying the spawn");
                thread::sleep(Duration::from_millis(10) * attempt);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// What the helper threads report.
enum Event {
    Exited(io::Result<ExitStatus>),
    OutputClosed,
}

fn wait_for_child(child_rx: &Receiver<Box<dyn ChildWrapper>>, events: &Sender<Event>) {
    // No child arrives when the spawn failed: nothing to wait for.
    if let Ok(mut child) = child_rx.recv() {
        // `wait` of the process-group wrapper also reaps any other child of ours in the group.
        let status = child.wait();
        // The runner may have returned already (it gave up on us): nobody to tell.
        let _ = events.send(Event::Exited(status));
    }
}

fn read_output(mut reader: PipeReader, capture: &Mutex<Capture>, events: &Sender<Event>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => capture
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                tracing::debug!(%error, "reading the command's output failed");
                break;
            }
        }
    }
    let _ = events.send(Event::OutputClosed);
}

/// Where the supervision loop stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the timeout, leader running.
    Running,
    /// The leader exited and its group is empty, but the pipe is still open (held by a process
    /// that left the group); wait up to the grace period for it.
    Draining,
    /// SIGTERM sent to the group; SIGKILL when the grace period ends.
    Terminating,
    /// SIGKILL sent; wait up to [`KILL_SLACK`] for the leader and the pipe.
    Killed,
}

struct Ending {
    status: Option<io::Result<ExitStatus>>,
    timed_out: bool,
    leftovers_killed: bool,
}

/// Waits for the leader and the output, enforcing the timeout on the whole group.
fn supervise(pgid: Pgid, spec: &CommandSpec, start: Instant, inbox: &Receiver<Event>) -> Ending {
    let mut ending = Ending {
        status: None,
        timed_out: false,
        leftovers_killed: false,
    };
    let mut output_closed = false;
    let mut phase = Phase::Running;
    let mut phase_end = start + spec.get_timeout();
    loop {
        let now = Instant::now();
        if ending.status.is_some() {
            let done = match phase {
                Phase::Running => {
                    // The leader finished in time. Whatever is left in its group is a leftover.
                    if alive(pgid) {
                        tracing::info!(
                            "processes left in the group after the command exited; sending SIGTERM"
                        );
                        send(pgid, Signal::SIGTERM);
                        ending.leftovers_killed = true;
                        phase = Phase::Terminating;
                        phase_end = now + spec.get_grace();
                        false
                    } else if output_closed {
                        true
                    } else {
                        phase = Phase::Draining;
                        phase_end = now + spec.get_grace();
                        false
                    }
                }
                Phase::Draining => output_closed,
                // Wait for the group to be gone, not just the pipe closed: a process closes its
                // files before it is done exiting, and the caller may be about to roll back.
                Phase::Terminating | Phase::Killed => output_closed && !alive(pgid),
            };
            if done {
                return ending;
            }
        }
        if now >= phase_end {
            match phase {
                Phase::Running => {
                    tracing::warn!("timed out; sending SIGTERM to the process group");
                    ending.timed_out = true;
                    send(pgid, Signal::SIGTERM);
                    phase = Phase::Terminating;
                    phase_end = now + spec.get_grace();
                }
                Phase::Terminating => {
                    tracing::warn!("grace period over; sending SIGKILL to the process group");
                    send(pgid, Signal::SIGKILL);
                    phase = Phase::Killed;
                    phase_end = now + KILL_SLACK;
                }
                Phase::Draining | Phase::Killed => {
                    tracing::warn!(
                        leader_reaped = ending.status.is_some(),
                        output_closed,
                        "giving up waiting; returning with the output captured so far"
                    );
                    return ending;
                }
            }
            continue;
        }
        // Once the leader is reaped and the pipe closed, no event will say when the rest of
        // the group is gone: look again shortly.
        let polling = matches!(phase, Phase::Terminating | Phase::Killed)
            && ending.status.is_some()
            && output_closed;
        let wait = if polling {
            POLL.min(phase_end - now)
        } else {
            phase_end - now
        };
        match inbox.recv_timeout(wait) {
            Ok(Event::Exited(status)) => ending.status = Some(status),
            Ok(Event::OutputClosed) => output_closed = true,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                // Both helper threads are gone; they always report before ending, so this
                // means one panicked. Treat what is missing as done.
                output_closed = true;
                if ending.status.is_none() {
                    ending.status = Some(Err(io::Error::other("the waiter thread panicked")));
                }
            }
        }
    }
}

/// Signals the group; a failure is logged, not fatal: the runner must still return in time.
fn send(pgid: Pgid, sig: Signal) {
    if let Err(error) = group::signal(pgid, sig) {
        tracing::warn!(%error, "could not signal the process group");
    }
}

/// Whether the group still has members; an unexpected error counts as "gone" (logged), so the
/// runner never waits on a group it cannot observe.
fn alive(pgid: Pgid) -> bool {
    group::alive(pgid).unwrap_or_else(|error| {
        tracing::warn!(%error, "could not check the process group");
        false
    })
}
