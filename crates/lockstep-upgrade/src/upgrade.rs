//! `plan` and `upgrade`: the consumer side's transaction.
//!
//! [`plan`] computes what an upgrade would do (verdict, changelog, files, tests, risk, downtime)
//! and changes nothing; its digest covers everything the upgrade depends on, so
//! `upgrade --plan DIGEST` can refuse when anything drifted. [`execute`] runs the transaction
//! inside a [`Session`]: journal → snapshot → apply → smoke tests → commit, or an automatic,
//! verified rollback, with every attempt in the audit log.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lockstep_audit::action;
use lockstep_compat::{Checker, Policy, Reason, Status};
use lockstep_manifest::{CoreMode, Release};
use lockstep_pins::{Ecosystem, GitRef, LockTool, Pin, PinValue};
use lockstep_smoke::{CommandSpec, Outcome as RunOutcome, RunResult};
use lockstep_snapshot::SnapshotId;
use semver::Version;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::current::Current;
use crate::journal::{Journal, Kind, Step};
use crate::txn::Session;
use crate::workspace::Vertical;
use crate::{failpoint, fsx};

/// The JSON schema name of a plan.
pub const PLAN_SCHEMA: &str = "lockstep.plan/v1";
/// The JSON schema name of an upgrade report.
pub const UPGRADE_SCHEMA: &str = "lockstep.upgrade/v1";
/// Free disk space an upgrade needs at the work tree, unless `LOCKSTEP_MIN_FREE_BYTES` says otherwise.
pub const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;
/// Grace between SIGTERM and SIGKILL for smoke tests.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// How long a lockfile tool may run.
pub const LOCKFILE_TIMEOUT: Duration = Duration::from_secs(600);

/// Errors of `plan` and `upgrade` before any change was made (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target is not in the registry.
    #[error(
        "release {version} is not in the registry {registry}; `update` lists the releases your channel sees"
    )]
    UnknownTarget {
        /// The requested version.
        version: Version,
        /// The registry spec.
        registry: String,
    },
    /// The target is below the current version.
    #[error(
        "core {current} is installed and {target} is older; to go back, use `rollback` (it restores the snapshot taken before an upgrade)"
    )]
    NotAnUpgrade {
        /// The requested version.
        target: Version,
        /// The current version.
        current: Version,
    },
    /// The manifest does not say how the vertical holds core.
    #[error(
        "{manifest} has no `core.mode`, so lockstep cannot apply an upgrade; add `core: {{mode: pin, file: Cargo.toml, dependency: NAME}}` or `core: {{mode: checkout}}`"
    )]
    NoCoreMode {
        /// The manifest.
        manifest: PathBuf,
    },
    /// The pin file is unreadable or unusable.
    #[error("{file}: {message}")]
    Pin {
        /// The package manifest named by `core.file`.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Checkout mode needs the release's tag.
    #[error(
        "{root} has no tag {tag}; fetch tags from core's remote (`git fetch --tags`) and retry"
    )]
    MissingTag {
        /// The work tree.
        root: PathBuf,
        /// The tag.
        tag: String,
    },
    /// A lockfile tool is not installed.
    #[error(
        "`{program}` is not on PATH, and the lockfile {lockfile} must be regenerated with `{command}`; install it or add it to PATH"
    )]
    ToolMissing {
        /// The program.
        program: String,
        /// The lockfile.
        lockfile: PathBuf,
        /// The full command.
        command: String,
    },
    /// `--plan DIGEST` does not match the plan computed now.
    #[error(
        "the plan changed since it was made (digest {expected}, now {actual}): the repository, manifest or registry moved; run `plan` again and review it"
    )]
    Drift {
        /// The digest given.
        expected: String,
        /// The digest now.
        actual: String,
    },
    /// Too little free disk space.
    #[error(
        "only {available} bytes free at {root}, an upgrade needs {needed}; free some space and retry"
    )]
    DiskSpace {
        /// The work tree.
        root: PathBuf,
        /// Free bytes.
        available: u64,
        /// Required bytes.
        needed: u64,
    },
    /// A failure of the shared machinery (lock, journal, audit, git).
    #[error(transparent)]
    Txn(#[from] crate::txn::Error),
}

impl Error {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnknownTarget { .. } => "unknown_target",
            Error::NotAnUpgrade { .. } => "not_an_upgrade",
            Error::NoCoreMode { .. } => "no_core_mode",
            Error::Pin { .. } => "pin",
            Error::MissingTag { .. } => "missing_tag",
            Error::ToolMissing { .. } => "tool_missing",
            Error::Drift { .. } => "plan_drift",
            Error::DiskSpace { .. } => "disk_space",
            Error::Txn(e) => e.kind(),
        }
    }

    /// Whether the system may be left between states (exit code 3).
    pub fn left_inconsistent(&self) -> bool {
        matches!(self, Error::Txn(e) if e.left_inconsistent())
    }
}

/// One release's changelog in the plan.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ChangelogEntry {
    /// The release.
    pub version: String,
    /// Breaking changes.
    pub breaking: Vec<String>,
    /// Features.
    pub features: Vec<String>,
    /// Fixes.
    pub fixes: Vec<String>,
}

/// Migration notes of one release.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Migration {
    /// The release.
    pub version: String,
    /// Its notes.
    pub notes: Option<String>,
    /// Its guide.
    pub guide_url: Option<String>,
}

/// A file the upgrade will change.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FileChange {
    /// Relative to the work tree's root.
    pub path: String,
    /// What changes, in words.
    pub change: String,
}

/// The smoke tests an upgrade runs.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SmokePlan {
    /// Program and arguments.
    pub command: Vec<String>,
    /// The working directory.
    pub dir: String,
    /// Seconds before SIGTERM.
    pub timeout_seconds: u64,
}

/// The risk of an upgrade.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Risk {
    /// `high`, `medium` or `low`.
    pub level: &'static str,
    /// Why.
    pub why: Vec<String>,
}

/// The estimated downtime.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Downtime {
    /// Estimated seconds.
    pub seconds: u64,
    /// How the estimate was made.
    pub basis: String,
}

/// How the change is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Apply {
    /// Rewrite a pin and regenerate the lockfile.
    Pin {
        /// The package manifest, relative to the work tree's root.
        file: String,
        /// Core's name there.
        dependency: String,
        /// The pin now, as written.
        pin_from: String,
        /// The pin after, as written, or `(unchanged)` when the requirement already admits the
        /// target.
        pin_to: String,
        /// The value written into the pin; `None` when it stays as it is.
        #[serde(skip)]
        new_pin: Option<PinValue>,
        /// The lockfile, relative to the work tree's root.
        lockfile: String,
        /// The command that regenerates it.
        lockfile_command: Vec<String>,
        /// Where that command runs, relative to the work tree's root.
        lockfile_dir: String,
    },
    /// Check out tag `v<target>`.
    Checkout {
        /// The tag.
        tag: String,
    },
}

/// An upgrade plan. Changes nothing; [`Plan::digest`] covers everything it depends on.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// Always [`PLAN_SCHEMA`].
    pub schema: &'static str,
    /// The vertical's `domain_name`.
    pub vertical: String,
    /// The manifest file.
    pub manifest: String,
    /// The core version now.
    pub current: String,
    /// How the current version was found.
    pub current_source: String,
    /// The target version.
    pub target: String,
    /// The verdict for the target.
    pub verdict: Status,
    /// Its reasons.
    pub reasons: Vec<Reason>,
    /// Changelogs of every release in (current, target], lowest first.
    pub changelog: Vec<ChangelogEntry>,
    /// Migration notes and guides in that range.
    pub migration: Vec<Migration>,
    /// How the change is applied.
    pub apply: Apply,
    /// Files that will change.
    pub changes: Vec<FileChange>,
    /// The smoke tests that will run, if any.
    pub smoke_tests: Option<SmokePlan>,
    /// The risk.
    pub risk: Risk,
    /// The estimated downtime.
    pub downtime: Downtime,
    /// HEAD's commit when the plan was made.
    pub head: Option<String>,
    /// sha256 over the plan, HEAD, the manifest and the pin file.
    pub digest: String,
    /// Set when an interrupted transaction's journal is waiting for `recover`.
    pub pending_recovery: bool,
}

/// What to plan.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Request {
    /// The target; the highest release the channel sees that is not blocked when `None`.
    pub target: Option<Version>,
    /// The registry spec (for messages).
    pub registry: String,
    /// The compatibility policy.
    pub policy: Policy,
    /// Smoke test timeout override (the manifest's `smoke_tests_timeout` otherwise).
    pub smoke_timeout: Option<Duration>,
}

impl Request {
    /// A request for `target` (or the latest compatible release) from `registry`.
    pub fn new(target: Option<Version>, registry: impl Into<String>) -> Self {
        Request {
            target,
            registry: registry.into(),
            ..Request::default()
        }
    }

    /// Overrides the smoke test timeout.
    pub fn smoke_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.smoke_timeout = timeout;
        self
    }
}

/// What `plan` found: a plan, or that the vertical is up to date.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Planned {
    /// There is something to do.
    Plan(Box<Plan>),
    /// No release above the current one is compatible (or none exists).
    UpToDate {
        /// The current version.
        current: Version,
        /// The highest release above it that the channel sees, if blocked.
        latest_blocked: Option<(Version, Vec<Reason>)>,
        /// Set when an interrupted transaction's journal is waiting for `recover`.
        pending_recovery: bool,
    },
}

/// Computes the upgrade plan. Reads the work tree; changes nothing.
pub fn plan(
    vertical: &Vertical,
    current: &Current,
    releases: &[Release],
    request: &Request,
) -> Result<Planned, Error> {
    let manifest = &vertical.manifest;
    let checker = Checker::new(releases, request.policy.clone());
    let target_release = match &request.target {
        Some(v) => {
            releases
                .iter()
                .find(|r| r.version == *v)
                .ok_or_else(|| Error::UnknownTarget {
                    version: v.clone(),
                    registry: request.registry.clone(),
                })?
        }
        None => {
            let report = crate::update::report(
                manifest,
                &current.version,
                None,
                releases,
                request.policy.clone(),
            );
            match report.latest_compatible {
                Some(c) => releases
                    .iter()
                    .find(|r| r.version.to_string() == c.version)
                    .ok_or_else(|| Error::UnknownTarget {
                        version: current.version.clone(),
                        registry: request.registry.clone(),
                    })?,
                None => {
                    return Ok(Planned::UpToDate {
                        pending_recovery: Journal::path(&vertical.state_dir()).exists(),
                        current: current.version.clone(),
                        latest_blocked: report
                            .latest
                            .and_then(|l| Some((Version::parse(&l.version).ok()?, l.reasons))),
                    });
                }
            }
        }
    };
    match target_release.version.cmp_precedence(&current.version) {
        Ordering::Equal => {
            return Ok(Planned::UpToDate {
                current: current.version.clone(),
                latest_blocked: None,
                pending_recovery: Journal::path(&vertical.state_dir()).exists(),
            });
        }
        Ordering::Less => {
            return Err(Error::NotAnUpgrade {
                target: target_release.version.clone(),
                current: current.version.clone(),
            });
        }
        Ordering::Greater => {}
    }
    let verdict = checker.check(target_release, manifest);
    let target = &target_release.version;

    let mut in_range: Vec<&Release> = releases
        .iter()
        .filter(|r| {
            r.version.cmp_precedence(&current.version) == Ordering::Greater
                && r.version.cmp_precedence(target) != Ordering::Greater
        })
        .collect();
    in_range.sort_by(|a, b| a.version.cmp_precedence(&b.version));
    let changelog: Vec<ChangelogEntry> = in_range
        .iter()
        .map(|r| ChangelogEntry {
            version: r.version.to_string(),
            breaking: r.changelog.breaking.clone(),
            features: r.changelog.features.clone(),
            fixes: r.changelog.fixes.clone(),
        })
        .collect();
    let migration: Vec<Migration> = in_range
        .iter()
        .filter(|r| r.migration_notes.is_some() || r.migration_guide_url.is_some())
        .map(|r| Migration {
            version: r.version.to_string(),
            notes: r.migration_notes.clone(),
            guide_url: r.migration_guide_url.clone(),
        })
        .collect();

    let (apply, changes, extra_digest) = plan_apply(vertical, target_release)?;
    let smoke_tests = smoke_plan(vertical, request.smoke_timeout);

    let breaking: usize = changelog.iter().map(|c| c.breaking.len()).sum();
    let mut why = Vec::new();
    if breaking > 0 {
        why.push(format!(
            "{breaking} breaking change(s) between {} and {target}",
            current.version
        ));
    }
    if smoke_tests.is_none() {
        why.push("no smoke tests: a broken upgrade would be committed".to_owned());
    }
    let level = if !why.is_empty() {
        "high"
    } else if verdict.status == Status::CompatibleWithWarnings {
        why.extend(verdict.reasons.iter().map(|r| r.message.clone()));
        "medium"
    } else {
        why.push("compatible, no breaking changes, smoke tests will run".to_owned());
        "low"
    };
    if verdict.status == Status::Blocked {
        why.insert(
            0,
            "the verdict is blocked: `upgrade` will refuse".to_owned(),
        );
    }
    let downtime = estimate_downtime(vertical, &apply, smoke_tests.as_ref());
    let head = lockstep_snapshot::head(&vertical.root)
        .ok()
        .and_then(|h| h.commit)
        .map(|c| c.to_string());
    let pending_recovery = Journal::path(&vertical.state_dir()).exists();

    let mut plan = Plan {
        schema: PLAN_SCHEMA,
        vertical: manifest.domain_name.clone(),
        manifest: vertical.manifest_path.display().to_string(),
        current: current.version.to_string(),
        current_source: current.source.to_string(),
        target: target.to_string(),
        verdict: verdict.status,
        reasons: verdict.reasons,
        changelog,
        migration,
        apply,
        changes,
        smoke_tests,
        risk: Risk { level, why },
        downtime,
        head,
        digest: String::new(),
        pending_recovery: false,
    };
    plan.digest = digest(&plan, vertical, &extra_digest);
    plan.pending_recovery = pending_recovery;
    Ok(Planned::Plan(Box::new(plan)))
}

fn digest(plan: &Plan, vertical: &Vertical, extra: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"lockstep.plan/v1\0");
    // `downtime` comes from the audit history, which every run extends: leave it out.
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("downtime");
        obj.remove("digest");
        obj.remove("pending_recovery");
    }
    h.update(value.to_string().as_bytes());
    h.update(b"\0");
    h.update(std::fs::read(&vertical.manifest_path).unwrap_or_default());
    h.update(b"\0");
    h.update(extra);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn plan_apply(
    vertical: &Vertical,
    release: &Release,
) -> Result<(Apply, Vec<FileChange>, Vec<u8>), Error> {
    let target = &release.version;
    let mode = vertical
        .manifest
        .core
        .as_ref()
        .and_then(|c| c.mode.clone())
        .ok_or_else(|| Error::NoCoreMode {
            manifest: vertical.manifest_path.clone(),
        })?;
    match mode {
        CoreMode::Checkout => {
            let tag = format!("v{target}");
            if !lockstep_snapshot::tag_exists(&vertical.root, &tag)
                .map_err(crate::txn::Error::from)?
            {
                return Err(Error::MissingTag {
                    root: vertical.root.clone(),
                    tag,
                });
            }
            let changes = vec![FileChange {
                path: ".".to_owned(),
                change: format!(
                    "the work tree is checked out at tag {tag} (the branch moves to it)"
                ),
            }];
            Ok((Apply::Checkout { tag }, changes, Vec::new()))
        }
        CoreMode::Pin { file, dependency } => {
            let path = vertical.dir.join(&file);
            let perr = |message: String| Error::Pin {
                file: path.clone(),
                message,
            };
            let text =
                std::fs::read_to_string(&path).map_err(|e| perr(format!("cannot read it: {e}")))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let eco = Ecosystem::from_file_name(name).ok_or_else(|| {
                perr("core.file must name a Cargo.toml, package.json or pyproject.toml".to_owned())
            })?;
            let deps =
                lockstep_pins::pins(eco, &text, &dependency).map_err(|e| perr(e.to_string()))?;
            let first = deps
                .first()
                .ok_or_else(|| perr(format!("no dependency named `{dependency}`; core.dependency must name core as written there")))?;
            let new = new_pin(&first.pin, target, release, eco).map_err(perr)?;
            let pin_from = first.pin.describe();
            let (pin_to, changed) = match &new {
                Some(value) => {
                    let edit = lockstep_pins::set_pin(eco, &text, &dependency, value)
                        .map_err(|e| perr(e.to_string()))?;
                    (value.as_str().to_owned(), edit.text != text)
                }
                None => (pin_from.clone(), false),
            };
            let tool = LockTool::for_manifest(eco, &text).map_err(|e| perr(e.to_string()))?;
            let pin_value = new
                .clone()
                .unwrap_or_else(|| PinValue::Version(target.to_string()));

            let cmd = tool.after_pin_change(&dependency, &pin_value, Some(&target.to_string()));
            let pkg_dir = path.parent().unwrap_or(&vertical.dir).to_path_buf();
            let lockfile = find_lockfile(&pkg_dir, &vertical.root, tool.lockfile_name());
            let lock_dir = lockfile.parent().unwrap_or(&pkg_dir).to_path_buf();
            let mut changes = Vec::new();
            if changed {
                changes.push(FileChange {
                    path: rel(&vertical.root, &path),
                    change: format!("`{dependency}`: {pin_from} → {pin_to}"),
                });
            }
            changes.push(FileChange {
                path: rel(&vertical.root, &lockfile),
                change: format!("`{dependency}` resolved to {target} by `{cmd}`"),
            });
            let mut extra = text.into_bytes();
            extra.extend(std::fs::read(&lockfile).unwrap_or_default());
            let mut command = vec![cmd.program.to_owned()];
            command.extend(cmd.args.iter().cloned());
            Ok((
                Apply::Pin {
                    file: rel(&vertical.root, &path),
                    dependency,
                    pin_from,
                    pin_to: if changed {
                        pin_to
                    } else {
                        "(unchanged)".to_owned()
                    },
                    new_pin: new.filter(|_| changed),
                    lockfile: rel(&vertical.root, &lockfile),
                    lockfile_command: command,
                    lockfile_dir: rel(&vertical.root, &lock_dir),
                },
                changes,
                extra,
            ))
        }
    }
}

/// The pin value that makes `old` select `target`; `None` when `old` already admits it.
fn new_pin(
    old: &Pin,
    target: &Version,
    release: &Release,
    eco: Ecosystem,
) -> Result<Option<PinValue>, String> {
    match old {
        Pin::Git { reference: GitRef::Tag(tag), .. } => {
            let prefix = if tag.starts_with('v') { "v" } else { "" };
            Ok(Some(PinValue::Tag(format!("{prefix}{target}"))))
        }
        Pin::Git { reference: GitRef::Rev(_), .. } => release
            .commit
            .clone()
            .map(|c| Some(PinValue::Rev(c)))
            .ok_or_else(|| format!("core is pinned by git rev, and release {target} does not name its commit in the registry")),
        Pin::Version(req) | Pin::Path { version: Some(req), .. } => Ok(rewrite_requirement(req, target, eco).map(PinValue::Version)),
        other => Err(format!(
            "core is pinned as {}; lockstep rewrites a version requirement or a git tag or rev",
            other.describe()
        )),
    }
}

/// Rewrites a requirement to select `target`, keeping its operator; `None` when it already
/// admits `target` and is not exact.
pub fn rewrite_requirement(req: &str, target: &Version, eco: Ecosystem) -> Option<String> {
    let req = req.trim();
    for op in ["==", "~=", "=", "^", "~", ">="] {
        if let Some(rest) = req.strip_prefix(op) {
            if rest.contains(',')
                || rest.contains(' ')
                    && !rest
                        .trim()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.')
            {
                break;
            }
            if matches!(op, "==" | "=") {
                return Some(format!("{op}{target}"));
            }
            if eco == Ecosystem::Cargo
                && semver::VersionReq::parse(req).is_ok_and(|r| r.matches(target))
            {
                return None;
            }
            return Some(format!("{op}{target}"));
        }
    }
    if eco == Ecosystem::Cargo && semver::VersionReq::parse(req).is_ok_and(|r| r.matches(target)) {
        return None;
    }
    if eco == Ecosystem::Python {
        return Some(format!("=={target}"));
    }
    // A bare version: Cargo reads it as a caret requirement, npm as exact; either way,
    // write the target in the same form.
    Some(target.to_string())
}

fn find_lockfile(start: &Path, root: &Path, name: &str) -> PathBuf {
    let mut d = Some(start);
    while let Some(cur) = d {
        if cur.join(name).exists() {
            return cur.join(name);
        }
        if cur == root {
            break;
        }
        d = cur.parent();
    }
    start.join(name)
}

/// The smoke command: the manifest's `smoke_tests.command`, else `smoke_tests/run.sh` beside
/// the manifest when it exists.
pub fn smoke_command(vertical: &Vertical) -> Option<Vec<String>> {
    if let Some(st) = &vertical.manifest.smoke_tests {
        return Some(st.command.clone());
    }
    let script = vertical.dir.join("smoke_tests").join("run.sh");
    script
        .is_file()
        .then(|| vec!["smoke_tests/run.sh".to_owned()])
}

fn smoke_plan(vertical: &Vertical, timeout: Option<Duration>) -> Option<SmokePlan> {
    smoke_command(vertical).map(|command| SmokePlan {
        command,
        dir: vertical.dir.display().to_string(),
        timeout_seconds: timeout.map_or(
            u64::from(vertical.manifest.compatibility.smoke_tests_timeout),
            |t| t.as_secs(),
        ),
    })
}

fn estimate_downtime(vertical: &Vertical, apply: &Apply, smoke: Option<&SmokePlan>) -> Downtime {
    let last = crate::txn::audit_log(&vertical.root)
        .ok()
        .and_then(|log| log.records().ok())
        .and_then(|records| {
            records.into_iter().rev().find_map(|r| {
                let smoke = r.details.get("smoke_ms")?.as_u64()?;
                let lock = r
                    .details
                    .get("lockfile_ms")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                Some(smoke + lock)
            })
        });
    match (last, smoke) {
        (Some(ms), _) => Downtime {
            seconds: ms.div_ceil(1000) + 1,
            basis: format!(
                "the last upgrade's lockfile update and smoke tests took {:.1} s",
                ms as f64 / 1000.0
            ),
        },
        (None, Some(s)) => Downtime {
            seconds: s.timeout_seconds,
            basis: format!(
                "at most the smoke test timeout ({} s){}; no earlier run to measure",
                s.timeout_seconds,
                if matches!(apply, Apply::Pin { .. }) {
                    " plus the lockfile update"
                } else {
                    ""
                }
            ),
        },
        (None, None) => Downtime {
            seconds: 1,
            basis: "no smoke tests run; the change itself takes about a second".to_owned(),
        },
    }
}

/// Options of [`execute`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// Stop after the preflight checks.
    pub dry_run: bool,
    /// Grace between SIGTERM and SIGKILL for smoke tests.
    pub grace: Duration,
    /// The digest the user approved, if any.
    pub expected_digest: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dry_run: false,
            grace: DEFAULT_GRACE,
            expected_digest: None,
        }
    }
}

impl RunOptions {
    /// Sets `dry_run`.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
    /// Sets the SIGTERM→SIGKILL grace.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// Requires the plan's digest to equal `digest`.
    pub fn expect_digest(mut self, digest: Option<String>) -> Self {
        self.expected_digest = digest;
        self
    }
}

/// How an upgrade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Applied, tested and committed (exit 0).
    Committed,
    /// The verdict is blocked; nothing was changed (exit 1).
    Blocked,
    /// Applied, failed, and restored to the snapshot, verified (exit 1).
    RolledBack,
    /// Applied, failed, and the restore could not be verified (exit 3).
    RestoreFailed,
    /// `--dry-run`: every preflight check passed; nothing was changed (exit 0).
    DryRun,
}

impl Outcome {
    /// The exit code design.md assigns.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Committed | Outcome::DryRun => 0,
            Outcome::Blocked | Outcome::RolledBack => 1,
            Outcome::RestoreFailed => 3,
        }
    }
}

/// A command the transaction ran.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CommandRun {
    /// Program and arguments.
    pub command: Vec<String>,
    /// `passed`, `failed`, `errored` or `timed_out`.
    pub outcome: String,
    /// The exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Wall time.
    pub duration_ms: u64,
    /// The last lines of its output.
    pub output_tail: String,
}

impl CommandRun {
    fn from_result(command: Vec<String>, r: &RunResult) -> Self {
        CommandRun {
            command,
            outcome: r.outcome.to_string(),
            exit_code: r.exit_code,
            duration_ms: u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
            output_tail: r.output.tail_text(20),
        }
    }
}

/// Why a transaction was rolled back.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// `apply`, `lockfile`, `smoke_tests` or `commit`.
    pub step: &'static str,
    /// What happened.
    pub message: String,
}

/// What `upgrade` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct UpgradeReport {
    /// Always [`UPGRADE_SCHEMA`].
    pub schema: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// The version before.
    pub from: String,
    /// The target.
    pub to: String,
    /// The snapshot taken, if one was.
    pub snapshot: Option<String>,
    /// The commit made (pin mode) or checked out (checkout mode).
    pub commit: Option<String>,
    /// The plan's digest.
    pub plan_digest: String,
    /// The lockfile tool run, if any.
    pub lockfile: Option<CommandRun>,
    /// The smoke test run, if any.
    pub smoke: Option<CommandRun>,
    /// Why it was rolled back, if it was.
    pub failure: Option<Failure>,
    /// For a rollback: whether the restore verified, and the mismatches if not.
    pub restore: Option<RestoreSummary>,
    /// The blocking reasons, when blocked.
    pub reasons: Vec<Reason>,
}

/// The result of an automatic restore.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoreSummary {
    /// Whether HEAD, index, tracked files and copies equal the snapshot.
    pub verified: bool,
    /// The problems, if not.
    pub problems: Option<String>,
}

/// The preflight checks that need no lock: a tool that is missing, too little disk, drift.
fn preflight(session: &Session, plan: &Plan, options: &RunOptions) -> Result<(), Error> {
    if let Some(expected) = &options.expected_digest
        && !plan.digest.starts_with(expected.as_str())
    {
        return Err(Error::Drift {
            expected: expected.clone(),
            actual: plan.digest.clone(),
        });
    }
    session.require_clean()?;
    let needed = std::env::var("LOCKSTEP_MIN_FREE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MIN_FREE_BYTES);
    if let Ok(available) = fsx::free_bytes(session.root()) {
        if available < needed {
            return Err(Error::DiskSpace {
                root: session.root().to_path_buf(),
                available,
                needed,
            });
        }
    }
    if let Apply::Pin {
        lockfile_command,
        lockfile,
        ..
    } = &plan.apply
        && let Some(program) = lockfile_command.first()
        && !fsx::on_path(program)
    {
        return Err(Error::ToolMissing {
            program: program.clone(),
            lockfile: session.root().join(lockfile),
            command: lockfile_command.join(" "),
        });
    }
    Ok(())
}

/// Runs the upgrade transaction in `session` (which holds the lock and has recovered any
/// interrupted transaction). `progress` receives one line per step.
pub fn execute(
    session: &Session,
    vertical: &Vertical,
    plan: &Plan,
    options: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<UpgradeReport, Error> {
    let mut report = UpgradeReport {
        schema: UPGRADE_SCHEMA,
        outcome: Outcome::DryRun,
        from: plan.current.clone(),
        to: plan.target.clone(),
        snapshot: None,
        commit: None,
        plan_digest: plan.digest.clone(),
        lockfile: None,
        smoke: None,
        failure: None,
        restore: None,
        reasons: Vec::new(),
    };
    if plan.verdict == Status::Blocked {
        report.outcome = Outcome::Blocked;
        report.reasons = plan.reasons.clone();
        session.record(
            |r| {
                r.from_version(&plan.current)
                    .to_version(&plan.target)
                    .detail(
                        "reasons",
                        plan.reasons
                            .iter()
                            .map(|r| r.code.to_string())
                            .collect::<Vec<_>>(),
                    )
            },
            action::CHECK,
            "blocked",
        )?;
        return Ok(report);
    }
    preflight(session, plan, options)?;
    if options.dry_run {
        return Ok(report);
    }

    let root = session.root();
    let state = session.state_dir();
    let id = session.new_snapshot_id("pre-upgrade")?;
    let mut journal = Journal::new(
        Kind::Upgrade,
        id.as_str(),
        lockstep_audit::rfc3339(SystemTime::now()),
    );
    journal.from = Some(plan.current.clone());
    journal.to = Some(plan.target.clone());
    if let Apply::Pin { file, .. } = &plan.apply {
        journal.writes.push(file.clone());
    }
    journal.save(state).map_err(crate::txn::Error::from)?;
    failpoint::hit("after_journal");

    progress(&format!("snapshot {id}"));
    let copies: Vec<PathBuf> = match &plan.apply {
        Apply::Pin { file, lockfile, .. } => vec![PathBuf::from(file), PathBuf::from(lockfile)],
        Apply::Checkout { .. } => Vec::new(),
    };
    if let Err(e) = lockstep_snapshot::snapshot(root, &id, &copies, &session.snapshot_store()) {
        // Nothing was changed: the transaction ends here.
        let _ = Journal::remove(state);
        return Err(crate::txn::Error::from(e).into());
    }
    failpoint::hit("after_snapshot");
    journal
        .advance(state, Step::Snapshotted)
        .map_err(crate::txn::Error::from)?;
    report.snapshot = Some(id.to_string());
    session.record(
        |r| {
            r.from_version(&plan.current)
                .to_version(&plan.target)
                .snapshot(id.as_str())
                .detail("plan_digest", plan.digest.clone())
        },
        action::UPGRADE_STARTED,
        "started",
    )?;
    failpoint::hit("before_apply");

    let tx = Tx {
        session,
        vertical,
        plan,
        options,
        id: &id,
    };
    match tx.apply(&mut journal, &mut report, progress) {
        Ok(()) => {}
        Err(failure) => return tx.roll_back(&mut journal, report, failure, progress),
    }
    failpoint::hit("after_apply");
    if let Err(failure) = tx.smoke(&mut journal, &mut report, progress) {
        return tx.roll_back(&mut journal, report, failure, progress);
    }
    journal.pgid = None;
    journal
        .advance(state, Step::Passed)
        .map_err(crate::txn::Error::from)?;
    failpoint::hit("before_commit");
    match tx.commit(progress) {
        Ok(commit) => report.commit = commit,
        Err(failure) => return tx.roll_back(&mut journal, report, failure, progress),
    }
    journal.commit = report.commit.clone();
    journal
        .advance(state, Step::Committed)
        .map_err(crate::txn::Error::from)?;
    failpoint::hit("after_commit");
    session.record(
        |r| {
            let r = r
                .from_version(&plan.current)
                .to_version(&plan.target)
                .snapshot(id.as_str())
                .detail("commit", report.commit.clone().unwrap_or_default());
            let r = match &report.smoke {
                Some(s) => r.detail("smoke_ms", s.duration_ms),
                None => r.detail("smoke_tests", "none"),
            };
            match &report.lockfile {
                Some(l) => r.detail("lockfile_ms", l.duration_ms),
                None => r,
            }
        },
        action::UPGRADE_COMMITTED,
        "committed",
    )?;
    failpoint::hit("after_audit");
    Journal::remove(state).map_err(crate::txn::Error::from)?;
    if let Err(e) = lockstep_snapshot::prune(root, &session.snapshot_store(), 5) {
        tracing::warn!(error = %e, "could not prune old snapshots");
    }
    report.outcome = Outcome::Committed;
    progress(&format!(
        "committed: core {} → {}",
        plan.current, plan.target
    ));
    Ok(report)
}

struct Tx<'a> {
    session: &'a Session,
    vertical: &'a Vertical,
    plan: &'a Plan,
    options: &'a RunOptions,
    id: &'a SnapshotId,
}

impl Tx<'_> {
    fn run_tracked(
        &self,
        journal: &mut Journal,
        spec: &CommandSpec,
        failpoint_name: &str,
    ) -> Result<RunResult, Failure> {
        let state = self.session.state_dir();
        let mut journal_error = None;
        let result = lockstep_smoke::run_with(spec, |pgid| {
            journal.pgid = Some(pgid.as_raw());
            if let Err(e) = journal.save(state) {
                journal_error = Some(e);
            }
            failpoint::hit(failpoint_name);
        });
        if let Some(e) = journal_error {
            tracing::warn!(error = %e, "could not record the process group in the journal");
        }
        journal.pgid = None;
        result.map_err(|e| Failure {
            step: "run",
            message: format!("cannot run {}: {e}", spec.get_program().display()),
        })
    }

    fn apply(
        &self,
        journal: &mut Journal,
        report: &mut UpgradeReport,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Failure> {
        let root = self.session.root();
        match &self.plan.apply {
            Apply::Checkout { tag } => {
                progress(&format!("check out {tag}"));
                let v = lockstep_snapshot::checkout_tag(root, tag).map_err(|e| Failure {
                    step: "apply",
                    message: format!("cannot check out {tag}: {e}"),
                })?;
                if !v.is_verified() {
                    return Err(Failure {
                        step: "apply",
                        message: format!(
                            "checkout of {tag} did not verify: {}",
                            v.mismatches
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    });
                }
                report.commit = lockstep_snapshot::head(root)
                    .ok()
                    .and_then(|h| h.commit)
                    .map(|c| c.to_string());
            }
            Apply::Pin {
                file,
                dependency,
                new_pin,
                lockfile_command,
                lockfile_dir,
                ..
            } => {
                if let Some(value) = new_pin {
                    let path = root.join(file);
                    progress(&format!("pin {dependency} = {} in {file}", value.as_str()));
                    let text = std::fs::read_to_string(&path).map_err(|e| Failure {
                        step: "apply",
                        message: format!("cannot read {}: {e}", path.display()),
                    })?;
                    let eco = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(Ecosystem::from_file_name)
                        .ok_or_else(|| Failure {
                            step: "apply",
                            message: format!("{file} is not a known package manifest"),
                        })?;
                    let edit =
                        lockstep_pins::set_pin(eco, &text, dependency, value).map_err(|e| {
                            Failure {
                                step: "apply",
                                message: format!("cannot rewrite the pin in {file}: {e}"),
                            }
                        })?;
                    fsx::write_atomic(&path, edit.text.as_bytes()).map_err(|e| Failure {
                        step: "apply",
                        message: format!("cannot write {}: {e}", path.display()),
                    })?;
                }
                failpoint::hit("after_pin");
                progress(&format!(
                    "regenerate lockfile: {}",
                    lockfile_command.join(" ")
                ));
                let (program, args) = lockfile_command.split_first().ok_or_else(|| Failure {
                    step: "lockfile",
                    message: "no lockfile command".to_owned(),
                })?;
                let spec = CommandSpec::new(program)
                    .args(args)
                    .current_dir(root.join(lockfile_dir))
                    .versions(&self.plan.current, &self.plan.target)
                    .timeout(LOCKFILE_TIMEOUT)
                    .grace(self.options.grace);
                let result = self.run_tracked(journal, &spec, "during_lockfile")?;
                let run = CommandRun::from_result(lockfile_command.clone(), &result);
                let passed = result.outcome.is_passed();
                report.lockfile = Some(run.clone());
                if !passed {
                    return Err(Failure {
                        step: "lockfile",
                        message: format!(
                            "`{}` {}:\n{}",
                            lockfile_command.join(" "),
                            result.outcome,
                            run.output_tail
                        ),
                    });
                }
            }
        }
        journal
            .advance(self.session.state_dir(), Step::Applied)
            .map_err(|e| Failure {
                step: "apply",
                message: e.to_string(),
            })?;
        Ok(())
    }

    fn smoke(
        &self,
        journal: &mut Journal,
        report: &mut UpgradeReport,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Failure> {
        let Some(smoke) = &self.plan.smoke_tests else {
            progress("no smoke tests to run");
            return Ok(());
        };
        // The command is re-read from the manifest: in checkout mode the new version's own
        // smoke tests run.
        let vertical = crate::workspace::Vertical::load(
            Some(&self.vertical.manifest_path),
            &self.vertical.dir,
        )
        .unwrap_or_else(|_| self.vertical.clone());
        let command = smoke_command(&vertical).unwrap_or_else(|| smoke.command.clone());
        let (program, args) = command.split_first().ok_or_else(|| Failure {
            step: "smoke_tests",
            message: "the smoke test command is empty".to_owned(),
        })?;
        let program_path = if program.contains('/') {
            vertical.dir.join(program)
        } else {
            PathBuf::from(program)
        };
        progress(&format!(
            "smoke tests: {} (timeout {} s)",
            command.join(" "),
            smoke.timeout_seconds
        ));
        journal
            .advance(self.session.state_dir(), Step::Testing)
            .map_err(|e| Failure {
                step: "smoke_tests",
                message: e.to_string(),
            })?;
        let spec = CommandSpec::new(program_path)
            .args(args)
            .current_dir(&vertical.dir)
            .versions(&self.plan.current, &self.plan.target)
            .timeout(Duration::from_secs(smoke.timeout_seconds))
            .grace(self.options.grace);
        let result = self.run_tracked(journal, &spec, "during_smoke")?;
        let run = CommandRun::from_result(command.clone(), &result);
        report.smoke = Some(run.clone());
        match result.outcome {
            RunOutcome::Passed => {
                progress(&format!(
                    "smoke tests passed in {:.1} s",
                    result.duration.as_secs_f64()
                ));
                Ok(())
            }
            RunOutcome::TimedOut => Err(Failure {
                step: "smoke_tests",
                message: format!(
                    "smoke tests timed out after {} s and were killed (SIGTERM, then SIGKILL after {} s):\n{}",
                    smoke.timeout_seconds,
                    self.options.grace.as_secs(),
                    run.output_tail
                ),
            }),
            other => Err(Failure {
                step: "smoke_tests",
                message: format!(
                    "smoke tests {other}{}:\n{}",
                    result
                        .exit_code
                        .map(|c| format!(" (exit {c})"))
                        .unwrap_or_default(),
                    run.output_tail
                ),
            }),
        }
    }

    fn commit(&self, progress: &mut dyn FnMut(&str)) -> Result<Option<String>, Failure> {
        let root = self.session.root();
        let Apply::Pin {
            file, dependency, ..
        } = &self.plan.apply
        else {
            // Checkout mode: the branch already points at the release.
            return Ok(lockstep_snapshot::head(root)
                .ok()
                .and_then(|h| h.commit)
                .map(|c| c.to_string()));
        };
        let message = format!(
            "chore(deps): upgrade {dependency} from {} to {}\n\nApplied by lockstep (snapshot {}, plan {}).\n",
            self.plan.current,
            self.plan.target,
            self.id,
            &self.plan.digest[..12.min(self.plan.digest.len())]
        );
        progress("commit");
        let paths = [PathBuf::from(file)];
        let result = crate::git::commit(root, &message, &paths);
        match result {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.kind() == lockstep_snapshot::ErrorKind::NothingToCommit => Ok(None),
            Err(e) => Err(Failure {
                step: "commit",
                message: e.to_string(),
            }),
        }
    }

    fn roll_back(
        &self,
        journal: &mut Journal,
        mut report: UpgradeReport,
        failure: Failure,
        progress: &mut dyn FnMut(&str),
    ) -> Result<UpgradeReport, Error> {
        let state = self.session.state_dir();
        progress(&format!(
            "{} failed; rolling back to {}",
            failure.step, self.id
        ));
        journal.pgid = None;
        journal
            .advance(state, Step::RollingBack)
            .map_err(crate::txn::Error::from)?;
        failpoint::hit("during_rollback");
        let restored = self.session.restore_verified(self.id.as_str());
        let (outcome, restore) = match &restored {
            Ok(_) => (
                Outcome::RolledBack,
                RestoreSummary {
                    verified: true,
                    problems: None,
                },
            ),
            Err(p) => (
                Outcome::RestoreFailed,
                RestoreSummary {
                    verified: false,
                    problems: Some(p.clone()),
                },
            ),
        };
        if outcome == Outcome::RestoreFailed {
            journal
                .advance(state, Step::RestoreFailed)
                .map_err(crate::txn::Error::from)?;
        }
        self.session.record(
            |r| {
                let r = r
                    .from_version(&self.plan.current)
                    .to_version(&self.plan.target)
                    .snapshot(self.id.as_str())
                    .detail("failed_step", failure.step)
                    .detail("failure", failure.message.clone());
                match &restore.problems {
                    Some(p) => r.detail("restore_problems", p.clone()),
                    None => r,
                }
            },
            action::ROLLED_BACK,
            if outcome == Outcome::RolledBack {
                "rolled_back"
            } else {
                "restore_failed"
            },
        )?;
        if outcome == Outcome::RolledBack {
            Journal::remove(state).map_err(crate::txn::Error::from)?;
            progress("rolled back; the work tree equals the snapshot");
        }
        report.outcome = outcome;
        report.failure = Some(failure);
        report.restore = Some(restore);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_keep_their_operator() {
        let v = Version::new(1, 3, 0);
        let check = |req: &str, eco: Ecosystem, want: Option<&str>| {
            assert_eq!(
                rewrite_requirement(req, &v, eco).as_deref(),
                want,
                "{req} ({eco:?})"
            );
        };
        check("=1.2.0", Ecosystem::Cargo, Some("=1.3.0"));
        check("^1.2", Ecosystem::Cargo, None); // already admits 1.3.0
        check("~1.2", Ecosystem::Cargo, Some("~1.3.0"));
        check("1.2", Ecosystem::Cargo, None);
        check("0.9", Ecosystem::Cargo, Some("1.3.0"));
        check("==1.2.0", Ecosystem::Python, Some("==1.3.0"));
        check("~=1.2", Ecosystem::Python, Some("~=1.3.0"));
        check("1.2.0", Ecosystem::Npm, Some("1.3.0"));
        check("^1.2.0", Ecosystem::Npm, Some("^1.3.0"));
    }
}
