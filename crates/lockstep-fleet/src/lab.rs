//! The canary compatibility lab: `lab run NAME@VERSION --canaries lab.toml [--jobs N]`.
//!
//! Each canary is tested in a throwaway copy under `HOME/lab/RUN/` (never the canary itself):
//! copy, apply the version (rewrite the pin exactly to it, then regenerate the lockfile where
//! the canary has one — for an npm canary with `node_modules`, `npm install`, so the tests load
//! the new version; or run its install command), run the test command with `sh -c` in its
//! own process group with the canary's timeout, capture duration, exit code and output tail.
//! Canaries run in parallel. The run directory holds an OS lock while the run is alive and the
//! process group of every command started, so [`recover`](crate::recover()) can tell a dead run from a live one,
//! kill what it left running and remove its copies.
//!
//! Per canary: `passed`; `warning` (passed after a rerun — flaky — or wrote warnings to the
//! file named by `LOCKSTEP_LAB_WARNINGS`); `skipped` (not applicable: the pin file does not
//! name the component, or pins it in a way a version cannot be written into); `failed`. The
//! verdict: `red` if any failed, else `yellow` if any warned or was skipped, else `green`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use lockstep_manifest::CoreMode;
use lockstep_pins::{Ecosystem, GitRef, LockTool, Pin, PinValue};
use lockstep_smoke::{CommandSpec, Outcome, Pgid, TO_VERSION_VAR};
use lockstep_store::fleet as db;
use serde::Serialize;

use crate::Error;
use crate::events::{DeliveryReport, Event, Notifier};
use crate::home::{Fleet, Pending, event_id, now_text};
use crate::labconf::{Canary, Holding};
use crate::spec::ComponentVersion;

/// The variable naming the file a canary's tests may write warnings to (one per line).
pub const WARNINGS_VAR: &str = "LOCKSTEP_LAB_WARNINGS";
/// The variable naming the component under test.
pub const COMPONENT_VAR: &str = "LOCKSTEP_COMPONENT";

/// The file in a lab run directory listing the process group of every command it started.
pub(crate) const GROUPS_FILE: &str = "groups";
const LOCKFILE_TIMEOUT: Duration = Duration::from_secs(300);
const TAIL_LINES: usize = 40;
/// Directories not copied into a canary's throwaway copy: Cargo's build output (rebuilt from
/// the copy) and lockstep's own state. Installed packages (`node_modules`, a `.venv`) are
/// copied: a canary's tests may rely on them.
const NOT_COPIED: &[&str] = &["target", ".lockstep"];

/// Options of `lab run`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LabOptions {
    /// The candidate.
    pub target: ComponentVersion,
    /// The `lab.toml`.
    pub canaries: PathBuf,
    /// Canaries tested at once.
    pub jobs: usize,
    /// Between SIGTERM and SIGKILL when a test times out.
    pub grace: Duration,
    /// Who ran it (audit).
    pub actor: String,
    /// The clock.
    pub now: SystemTime,
}

impl LabOptions {
    /// Test `target` on the canaries of `canaries`, one job per CPU.
    pub fn new(target: ComponentVersion, canaries: impl Into<PathBuf>) -> Self {
        LabOptions {
            target,
            canaries: canaries.into(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            grace: Duration::from_secs(5),
            actor: "lockstep".to_owned(),
            now: SystemTime::now(),
        }
    }
}

/// One canary's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CanaryResult {
    /// The canary.
    pub name: String,
    /// `passed`, `failed`, `warning` or `skipped`.
    pub status: &'static str,
    /// Applying and testing, in milliseconds.
    pub duration_ms: u64,
    /// The test command's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The last lines of its output.
    pub output_tail: String,
    /// Why it warned, was skipped or failed.
    pub notes: Vec<String>,
}

/// A lab run's outcome (`lockstep.lab-run/v1`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LabOutcome {
    /// The component.
    pub component: String,
    /// The version.
    pub version: String,
    /// `green`, `yellow` or `red`.
    pub verdict: &'static str,
    /// Per canary, in `lab.toml` order.
    pub canaries: Vec<CanaryResult>,
    /// The stored run.
    pub run_id: Option<i64>,
    /// Webhook deliveries.
    pub notifications: Vec<DeliveryReport>,
}

/// The verdict of a set of canary statuses.
pub fn verdict<'a>(statuses: impl IntoIterator<Item = &'a str>) -> &'static str {
    let mut v = "green";
    for s in statuses {
        match s {
            "failed" => return "red",
            "warning" | "skipped" => v = "yellow",
            _ => {}
        }
    }
    v
}

/// `lab run`: tests the candidate on every canary, stores the result with the per-canary
/// results, sends `lab_verdict`. `progress` gets one line per step.
pub fn run(
    fleet: &mut Fleet,
    notifier: &Notifier,
    opts: &LabOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<LabOutcome, Error> {
    let canaries = crate::labconf::load(&opts.canaries)?;
    let cleaned = crate::recover::recover_lab(&fleet.home)?;
    if !cleaned.removed.is_empty() {
        progress(&format!(
            "removed {} lab run(s) a crash left behind",
            cleaned.removed.len()
        ));
    }
    let started = now_text(opts.now);
    let run_dir = fleet.home.lab_dir().join(format!("run-{}", event_id()));
    std::fs::create_dir_all(&run_dir).map_err(|e| Error::io("create", &run_dir, e))?;
    let lock =
        lockstep_state::lock::Lock::acquire(&run_dir, "lab run").map_err(|e| Error::Nothing {
            what: format!("cannot lock the lab run directory: {e}"),
        })?;
    let groups = Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(run_dir.join(GROUPS_FILE))
            .map_err(|e| Error::io("create", run_dir.join(GROUPS_FILE), e))?,
    );
    let ctx = Ctx {
        target: &opts.target,
        run_dir: &run_dir,
        groups: &groups,
        grace: opts.grace,
        progress,
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CanaryResult>>> = Mutex::new(vec![None; canaries.len()]);
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.clamp(1, canaries.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(canary) = canaries.get(i) else { break };
                    let result = ctx.test(i, canary);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(result);
                    }
                }
            });
        }
    });
    let results: Vec<CanaryResult> = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .zip(&canaries)
        .map(|(r, c)| {
            r.unwrap_or_else(|| CanaryResult {
                name: c.name.clone(),
                status: "failed",
                duration_ms: 0,
                exit_code: None,
                output_tail: String::new(),
                notes: vec!["the canary's worker stopped unexpectedly".into()],
            })
        })
        .collect();
    let verdict = verdict(results.iter().map(|r| r.status));
    let ComponentVersion { component, version } = &opts.target;
    let stored = db::LabRun::new(
        component,
        version,
        verdict,
        started,
        now_text(SystemTime::now()),
        opts.canaries.display().to_string(),
    );
    let rows: Vec<db::LabResult> = results
        .iter()
        .map(|r| {
            db::LabResult::new(
                &r.name,
                r.status,
                r.duration_ms,
                r.exit_code,
                &r.output_tail,
                r.notes.clone(),
            )
        })
        .collect();
    let record = Pending::new(&opts.actor, "lab_run", verdict)
        .to(version)
        .detail("component", component.as_str())
        .detail(
            "canaries",
            results
                .iter()
                .map(|r| serde_json::json!({"name": r.name, "status": r.status}))
                .collect::<Vec<_>>(),
        );
    let run_id = fleet.commit("lab", record, |tx| {
        Ok(db::record_lab_run(tx, &stored, &rows)?)
    })?;
    drop(groups);
    drop(lock);
    if let Err(e) = std::fs::remove_dir_all(&run_dir) {
        tracing::warn!(dir = %run_dir.display(), error = %e, "cannot remove the lab copies; `lockstep recover --home` will");
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.status == "failed")
        .map(|r| r.name.as_str())
        .collect();
    let passed = results.iter().filter(|r| r.status == "passed").count();
    let event = Event::new(
        "lab_verdict",
        component,
        version,
        verdict,
        format!(
            "{component} {version} on {} canaries: {passed} passed{}",
            results.len(),
            if failed.is_empty() { String::new() } else { format!(", failed: {}", failed.join(", ")) }
        ),
        match verdict {
            "red" => format!("nothing was changed (the lab tests copies); to keep it out: lockstep known-good quarantine {component}@{version} --reason TEXT"),
            _ => format!("nothing was changed; to offer it: lockstep known-good promote {component}@{version} --channel {}", if verdict == "green" { "stable" } else { "beta" }),
        },
    )
    .with("canaries", results.iter().map(|r| serde_json::json!({"name": r.name, "status": r.status})).collect::<Vec<_>>());
    let notifications = notifier.send(fleet, &event);
    Ok(LabOutcome {
        component: component.clone(),
        version: version.clone(),
        verdict,
        canaries: results,
        run_id: Some(run_id),
        notifications,
    })
}

/// `lab show NAME@VERSION`: the newest stored run.
pub fn show(fleet: &Fleet, target: &ComponentVersion) -> Result<Option<LabOutcome>, Error> {
    let conn = fleet.store.conn();
    let Some(run) = db::latest_lab_run(conn, &target.component, &target.version)? else {
        return Ok(None);
    };
    let canaries = db::lab_results(conn, run.id)?
        .into_iter()
        .map(|(r, notes)| CanaryResult {
            name: r.canary,
            status: status_name(&r.status),
            duration_ms: r.duration_ms,
            exit_code: r.exit_code,
            output_tail: r.output_tail,
            notes: serde_json::from_str(&notes).unwrap_or_default(),
        })
        .collect();
    Ok(Some(LabOutcome {
        component: run.component,
        version: run.version,
        verdict: match run.verdict.as_str() {
            "green" => "green",
            "yellow" => "yellow",
            _ => "red",
        },
        canaries,
        run_id: Some(run.id),
        notifications: Vec::new(),
    }))
}

fn status_name(s: &str) -> &'static str {
    match s {
        "passed" => "passed",
        "warning" => "warning",
        "skipped" => "skipped",
        _ => "failed",
    }
}

struct Ctx<'a> {
    target: &'a ComponentVersion,
    run_dir: &'a Path,
    groups: &'a Mutex<std::fs::File>,
    grace: Duration,
    progress: &'a (dyn Fn(&str) + Sync),
}

/// What a step decided, when it ends the canary early.
struct Early {
    status: &'static str,
    note: String,
    exit_code: Option<i32>,
    tail: String,
}

impl Early {
    fn skip(note: String) -> Self {
        Early {
            status: "skipped",
            note,
            exit_code: None,
            tail: String::new(),
        }
    }
    fn fail(note: String) -> Self {
        Early {
            status: "failed",
            note,
            exit_code: None,
            tail: String::new(),
        }
    }
}

impl Ctx<'_> {
    fn test(&self, index: usize, canary: &Canary) -> CanaryResult {
        let began = Instant::now();
        let mut result = CanaryResult {
            name: canary.name.clone(),
            status: "passed",
            duration_ms: 0,
            exit_code: None,
            output_tail: String::new(),
            notes: Vec::new(),
        };
        if let Err(early) = self.apply_and_test(index, canary, &mut result) {
            result.status = early.status;
            result.notes.push(early.note);
            result.exit_code = result.exit_code.or(early.exit_code);
            if result.output_tail.is_empty() {
                result.output_tail = early.tail;
            }
        }
        result.duration_ms = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
        (self.progress)(&format!(
            "{}: {} in {:.1}s",
            canary.name,
            result.status,
            began.elapsed().as_secs_f64()
        ));
        result
    }

    fn apply_and_test(
        &self,
        index: usize,
        canary: &Canary,
        result: &mut CanaryResult,
    ) -> Result<(), Early> {
        let copy = self
            .run_dir
            .join(format!("{:02}-{}", index + 1, safe_name(&canary.name)));
        (self.progress)(&format!(
            "{}: copying {} to the lab",
            canary.name,
            canary.path.display()
        ));
        copy_tree(&canary.path, &copy)
            .map_err(|e| Early::fail(format!("cannot copy the canary: {e}")))?;
        lockstep_state::failpoint::hit("lab_copied");
        let version = &self.target.version;
        match &canary.holding {
            Holding::Manifest(CoreMode::Pin { file, dependency }) => {
                self.apply_pin(canary, &copy, file, dependency)?
            }
            Holding::Manifest(other) => {
                return Err(Early::skip(format!(
                    "core mode {other:?} is not supported by the lab"
                )));
            }
            Holding::Install { command } => {
                (self.progress)(&format!("{}: install {version}: {command}", canary.name));
                let run = self.run(&copy, command, LOCKFILE_TIMEOUT)?;
                if !run.outcome.is_passed() {
                    return Err(Early {
                        status: "failed",
                        note: format!("the install command {}", run.outcome),
                        exit_code: run.exit_code,
                        tail: run.output.tail_text(TAIL_LINES),
                    });
                }
            }
        }
        let warnings = self.run_dir.join(format!("{:02}.warnings", index + 1));
        let mut attempt = 0;
        loop {
            attempt += 1;
            (self.progress)(&format!("{}: testing ({})", canary.name, canary.test));
            let _ = std::fs::remove_file(&warnings);
            let spec = self
                .spec(&copy, &canary.test, Duration::from_secs(canary.timeout))
                .env(WARNINGS_VAR, &warnings);
            let run = self.spawn(&spec, true)?;
            result.exit_code = run.exit_code;
            result.output_tail = run.output.tail_text(TAIL_LINES);
            match run.outcome {
                Outcome::Passed => {
                    if attempt > 1 {
                        result.status = "warning";
                        result.notes.push(format!(
                            "flaky: passed on rerun {} after failing",
                            attempt - 1
                        ));
                    }
                    let written = std::fs::read_to_string(&warnings).unwrap_or_default();
                    let lines: Vec<String> = written
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if !lines.is_empty() {
                        result.status = "warning";
                        result.notes.extend(lines);
                    }
                    return Ok(());
                }
                ref other if attempt <= canary.retries as usize => {
                    result
                        .notes
                        .push(format!("attempt {attempt} {other}; rerunning"));
                }
                Outcome::TimedOut => {
                    return Err(Early::fail(format!("timed out after {}s", canary.timeout)));
                }
                other => return Err(Early::fail(format!("tests {other}"))),
            }
        }
    }

    fn apply_pin(
        &self,
        canary: &Canary,
        copy: &Path,
        file: &str,
        dependency: &str,
    ) -> Result<(), Early> {
        let version = &self.target.version;
        let path = copy.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Early::fail(format!("cannot read {file}: {e}")))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let eco = Ecosystem::from_file_name(name)
            .ok_or_else(|| Early::fail(format!("{file} is not a package manifest")))?;
        let deps = match lockstep_pins::pins(eco, &text, dependency) {
            Ok(d) => d,
            Err(lockstep_pins::Error::DependencyNotFound { .. }) => {
                return Err(Early::skip(format!(
                    "not applicable: {file} does not depend on {dependency}"
                )));
            }
            Err(e) => return Err(Early::fail(format!("cannot read the pin in {file}: {e}"))),
        };
        let value = match deps.first().map(|d| &d.pin) {
            Some(Pin::Git {
                reference: GitRef::Tag(tag),
                ..
            }) => PinValue::Tag(format!(
                "{}{version}",
                if tag.starts_with('v') { "v" } else { "" }
            )),
            Some(
                Pin::Version(_)
                | Pin::Path {
                    version: Some(_), ..
                },
            ) => PinValue::Version(exact(eco, version)),
            Some(other) => {
                return Err(Early::skip(format!(
                    "not applicable: {dependency} is {}; the lab writes a version or a git tag",
                    other.describe()
                )));
            }
            None => {
                return Err(Early::skip(format!(
                    "not applicable: {file} does not depend on {dependency}"
                )));
            }
        };
        (self.progress)(&format!(
            "{}: pin {dependency} = {} in {file}",
            canary.name,
            value.as_str()
        ));
        let edit = lockstep_pins::set_pin(eco, &text, dependency, &value)
            .map_err(|e| Early::fail(format!("cannot write the pin: {e}")))?;
        lockstep_state::fsx::write_atomic(&path, edit.text.as_bytes())
            .map_err(|e| Early::fail(format!("cannot write {file}: {e}")))?;
        let tool =
            LockTool::for_manifest(eco, &edit.text).map_err(|e| Early::fail(e.to_string()))?;
        let manifest_dir = path.parent().unwrap_or(copy);
        let (argv, dir) = if eco == Ecosystem::Npm && manifest_dir.join("node_modules").is_dir() {
            // Installed packages are what the tests load: install the new version, not only
            // its lockfile entry (the copy is thrown away anyway).
            (
                vec![
                    "npm".to_owned(),
                    "install".into(),
                    "--no-audit".into(),
                    "--no-fund".into(),
                ],
                manifest_dir.to_path_buf(),
            )
        } else if let Some(lockfile) = find_up(manifest_dir, copy, tool.lockfile_name()) {
            let cmd = tool.after_pin_change(dependency, &value, Some(version));
            let mut argv = vec![cmd.program.to_owned()];
            argv.extend(cmd.args.iter().cloned());
            (argv, lockfile.parent().unwrap_or(copy).to_path_buf())
        } else {
            return Ok(());
        };
        let cmd = argv.join(" ");
        (self.progress)(&format!("{}: {cmd}", canary.name));
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Early::fail("no lockfile command".into()))?;
        let spec = CommandSpec::new(program)
            .args(args)
            .current_dir(&dir)
            .env(TO_VERSION_VAR, version)
            .timeout(LOCKFILE_TIMEOUT)
            .grace(self.grace);
        let run = self.spawn(&spec, false)?;
        if !run.outcome.is_passed() {
            return Err(Early {
                status: "failed",
                note: format!("`{cmd}` {}: {version} cannot be resolved", run.outcome),
                exit_code: run.exit_code,
                tail: run.output.tail_text(TAIL_LINES),
            });
        }
        Ok(())
    }

    fn spec(&self, dir: &Path, command: &str, timeout: Duration) -> CommandSpec {
        CommandSpec::new("/bin/sh")
            .args(["-c", command])
            .current_dir(dir)
            .env(TO_VERSION_VAR, &self.target.version)
            .env(COMPONENT_VAR, &self.target.component)
            .timeout(timeout)
            .grace(self.grace)
    }

    fn run(
        &self,
        dir: &Path,
        command: &str,
        timeout: Duration,
    ) -> Result<lockstep_smoke::RunResult, Early> {
        self.spawn(&self.spec(dir, command, timeout), false)
    }

    /// Runs `spec`, recording its process group in the run directory first.
    fn spawn(&self, spec: &CommandSpec, testing: bool) -> Result<lockstep_smoke::RunResult, Early> {
        // Only starts are recorded: recovery kills every group listed, and a group that is over
        // is simply not found.
        lockstep_smoke::run_recorded(spec, |group: Option<Pgid>| {
            let Some(pgid) = group else { return };
            if let Ok(mut f) = self.groups.lock() {
                let _ = writeln!(f, "{}", pgid.as_raw());
                let _ = f.sync_data();
            }
            if testing {
                lockstep_state::failpoint::hit("lab_testing");
            }
        })
        .map_err(|e| Early::fail(format!("cannot run {}: {e}", spec.get_program().display())))
    }
}

/// Pin exactly `version`: Cargo `=V`, npm `V`, Python `==V`.
fn exact(eco: Ecosystem, version: &str) -> String {
    match eco {
        Ecosystem::Cargo => format!("={version}"),
        Ecosystem::Python => format!("=={version}"),
        _ => version.to_owned(),
    }
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn find_up(start: &Path, root: &Path, name: &str) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(name).is_file() {
            return Some(d.join(name));
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    None
}

/// Copies a directory tree (symlinks as symlinks), leaving out [`NOT_COPIED`].
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if NOT_COPIED.iter().any(|n| name == *n) {
            continue;
        }
        let kind = entry.file_type()?;
        let dest = to.join(&name);
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &dest)?;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        for (statuses, expected) in [
            (&["passed", "passed"][..], "green"),
            (&["passed", "warning"][..], "yellow"),
            (&["skipped", "passed"][..], "yellow"),
            (&["warning", "failed"][..], "red"),
            (&[][..], "green"),
        ] {
            assert_eq!(verdict(statuses.iter().copied()), expected, "{statuses:?}");
        }
        assert_eq!(exact(Ecosystem::Cargo, "1.2.0"), "=1.2.0");
        assert_eq!(exact(Ecosystem::Python, "1.2.0"), "==1.2.0");
        assert_eq!(safe_name("a b/c"), "a_b_c");
    }
}
