//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str =
    "Coordinated releases and safe upgrades for a core and the verticals built on it.";

const AFTER: &str = "\
Examples:
  lockstep gate 2.0.0 --verticals 'fixtures/verticals/*/vertical_manifest.yaml' --registry fixtures/registry
  lockstep status --manifest fixtures/verticals/finance/vertical_manifest.yaml --registry fixtures/registry --current 1.2.0
  lockstep update --exit-code --json
  lockstep validate fixtures/registry/releases.json fixtures/verticals/*/vertical_manifest.yaml
  lockstep plan --target 1.1.0 && lockstep upgrade --target 1.1.0 --yes
  lockstep rollback --yes && lockstep history

Exit codes: 0 done, 1 refused or blocked (nothing changed), 2 error before any change,
3 failed and could not restore, 100 update available (update --exit-code).
Environment: LOCKSTEP_REGISTRY (default registry), LOCKSTEP_GITHUB_API, GITHUB_TOKEN,
NO_COLOR, RUST_LOG (log filter, logs go to stderr).";

#[derive(Debug, Parser)]
#[command(name = "lockstep", version, about = ABOUT, after_help = AFTER)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Print one JSON object on stdout (logs and progress stay on stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// When to use colour: auto honours NO_COLOR and non-terminals.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, value_name = "WHEN")]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// Where the vertical and its registry are.
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// The vertical manifest (default: find vertical_manifest.yaml from the current directory
    /// up to the repository root).
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Release registry: a releases.json or a directory holding one, an https:// URL, or
    /// github:OWNER/REPO (default: $LOCKSTEP_REGISTRY, then core.registry in the manifest).
    #[arg(long, value_name = "SPEC")]
    pub registry: Option<String>,
    /// The current core version, instead of finding it from the manifest's core section or
    /// git tags.
    #[arg(long, value_name = "VERSION")]
    pub current: Option<semver::Version>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate manifests and release indexes; every problem with file, line and field.
    #[command(after_help = "\
Examples:
  lockstep validate                                  # the manifest found from here
  lockstep validate fixtures/verticals/*/vertical_manifest.yaml fixtures/registry
  lockstep validate --json releases.json

A file's kind is known by its content: JSON with \"releases\" is a release index, other JSON a
single release.json, anything else a vertical manifest (YAML). A directory means the
releases.json or vertical_manifest.yaml inside it.
Exit codes: 0 all valid, 1 problems found, 2 a file could not be read.")]
    Validate {
        /// Files or directories to validate.
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Show the current core version, channel, pin, latest release and verdict.
    #[command(after_help = "\
Examples:
  lockstep status
  lockstep status --manifest fixtures/verticals/finance/vertical_manifest.yaml --registry fixtures/registry --current 1.2.0
  lockstep status --json

The current version comes from --current, else the manifest's core section (the version the
lockfile resolved, then an exact pin), else `git describe --tags`; the output names the source.")]
    Status {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        common: Common,
    },
    /// Check the registry for newer core releases on the vertical's channel.
    #[command(after_help = "\
Examples:
  lockstep update
  lockstep update --channel beta
  lockstep update --exit-code --json   # exit 100 when a compatible update is available

Channels nest: canary sees canary, beta, stable and lts; beta sees beta, stable and lts;
stable sees stable and lts; lts sees lts only.")]
    Update {
        #[command(flatten)]
        target: Target,
        /// Judge releases as a vertical on this channel would (default: update_channel).
        #[arg(long, value_name = "CHANNEL")]
        channel: Option<lockstep_upgrade::reexports::Channel>,
        /// Exit 100 when a compatible update is available (0 otherwise).
        #[arg(long)]
        exit_code: bool,
        #[command(flatten)]
        common: Common,
    },
    /// CI release gate: block a core release that would break any vertical.
    #[command(after_help = "\
Examples:
  lockstep gate 2.0.0 --verticals 'fixtures/verticals/*/vertical_manifest.yaml' --registry fixtures/registry
  lockstep gate 2.1.0 --verticals 'verticals/*' --release dist/release.json --report gate.json

The release's metadata comes from --release, else from the registry. A manifest that does not
validate counts as an invalid vertical and blocks; a gate that matches no manifest blocks.
With $GITHUB_STEP_SUMMARY set, a Markdown summary is appended to it.
Exit codes: 0 pass, 1 blocked, 2 error.")]
    Gate {
        /// The core version to gate.
        version: semver::Version,
        /// Globs of vertical manifests (or directories holding one); repeatable.
        #[arg(long, num_args = 1.., value_name = "GLOB", default_value = "**/vertical_manifest.yaml")]
        verticals: Vec<String>,
        /// Release registry (default: $LOCKSTEP_REGISTRY).
        #[arg(long, value_name = "SPEC")]
        registry: Option<String>,
        /// The candidate's release.json, when it is not in the registry yet.
        #[arg(long, value_name = "FILE")]
        release: Option<PathBuf>,
        /// Also write the JSON report to this file.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Show what an upgrade would change, its risk, tests and downtime; changes nothing.
    #[command(after_help = "\
Examples:
  lockstep plan                       # to the latest compatible release on your channel
  lockstep plan --target 1.2.0
  lockstep plan --json | jq .digest   # then: lockstep upgrade --plan DIGEST --yes

Risk is HIGH with breaking changes or without smoke tests, MEDIUM with warnings, LOW otherwise.
The digest covers the plan, HEAD, the manifest and the pinned files: `upgrade --plan DIGEST`
refuses when any of them moved.
Exit codes: 0 a plan (or up to date), 1 the target is blocked, 2 error.")]
    Plan {
        #[command(flatten)]
        target: Target,
        /// The version to upgrade to (default: the latest compatible release).
        #[arg(long = "target", value_name = "VERSION")]
        to: Option<semver::Version>,
        #[command(flatten)]
        common: Common,
    },
    /// Upgrade core as a transaction: snapshot, apply, smoke tests, commit or roll back.
    #[command(after_help = "\
Examples:
  lockstep upgrade --target 1.1.0 --yes
  lockstep upgrade --dry-run                 # every preflight check, no change
  lockstep upgrade --plan 3f2a9c1b --yes     # exactly the plan you reviewed

Steps: lock → recover an interrupted run → preflight (clean tree, verdict not blocked, 100 MB
free, lockfile tool present) → journal → snapshot → apply (pin + lockfile, or checkout of
v<VERSION>) → smoke tests → commit, or an automatic, verified rollback. Every attempt is in
the audit log (`lockstep history`). Without --yes it asks; without a terminal it refuses.
Set LOCKSTEP_MIN_FREE_BYTES to change the free-space floor.
Exit codes: 0 applied (or dry run passed), 1 blocked, or failed and rolled back, 2 refused
before any change, 3 failed and could not restore (run `lockstep recover`).")]
    Upgrade {
        #[command(flatten)]
        target: Target,
        /// The version to upgrade to (default: the latest compatible release).
        #[arg(long = "target", value_name = "VERSION")]
        to: Option<semver::Version>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Run the preflight checks and show the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Refuse unless the plan's digest (or a prefix of it) equals DIGEST.
        #[arg(long, value_name = "DIGEST")]
        plan: Option<String>,
        /// Smoke test timeout in seconds (default: smoke_tests_timeout from the manifest).
        #[arg(long, value_name = "SECS")]
        smoke_timeout: Option<u64>,
        /// Seconds between SIGTERM and SIGKILL when a smoke test times out.
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        grace: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Restore a snapshot (default: the one taken before the last committed upgrade).
    #[command(after_help = "\
Examples:
  lockstep rollback --yes
  lockstep rollback --to pre-upgrade-20260219-183000 --yes

The restore is verified (HEAD, index, tracked files and copied lockfiles equal the snapshot)
and audited. Attempts that were rolled back automatically do not count as the last upgrade.
Exit codes: 0 restored, 2 refused before any change, 3 the restore could not be verified.")]
    Rollback {
        #[command(flatten)]
        place: Where,
        /// The snapshot id (see `lockstep history`).
        #[arg(long, value_name = "ID")]
        to: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Finish or undo an interrupted transaction from its journal; a no-op when there is none.
    #[command(after_help = "\
Examples:
  lockstep recover
  lockstep recover --json

Every mutating command recovers first; this does only that. An upgrade interrupted before it
committed is restored to its snapshot; one that committed is finished. Orphaned smoke test
processes are killed, and a torn audit tail is repaired.
Exit codes: 0 nothing to do or recovered, 2 error, 3 the restore could not be verified.")]
    Recover {
        #[command(flatten)]
        place: Where,
        /// Recover the pack home (and fleet lab) at DIR instead of a vertical: finish or undo an
        /// interrupted pack install, remove lab copies a crash left.
        #[arg(long, value_name = "DIR")]
        home: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Show the audit log.
    #[command(after_help = "\
Examples:
  lockstep history
  lockstep history --json --limit 5")]
    History {
        #[command(flatten)]
        place: Where,
        /// Show only the last N records.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// The audit log's integrity.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Release a change through a DAG of repositories, upstream first, or roll it all back.
    #[command(
        name = "release-cascade",
        after_help = "\
Examples:
  lockstep release-cascade --demo                       # build a demo DAG in a temp dir and release it
  lockstep release-cascade --demo --fail-at runtime     # watch the whole cascade roll back
  lockstep release-cascade --demo python                # Python + npm, published to a local PyPI and npm registry
  lockstep release-cascade --status                     # versions, tags and lagging pins
  lockstep release-cascade --from manifest --bump minor --dry-run
  lockstep release-cascade --dry-run --json > plan.json && lockstep release-cascade --plan plan.json --yes
  lockstep release-cascade --only runtime --plan plan.json --yes   # one CI job of a saved plan
  lockstep release-cascade --emit github-actions --plan plan.json > .github/workflows/cascade.yml

Each repository of a wave (in parallel, --jobs): snapshot → pins → version bump → lockfile →
smoke test → CHANGELOG.md → one commit `chore(release): NAME vX.Y.Z` → annotated tag. Any
failure rolls back every repository the cascade touched (snapshots restored, tags deleted).
A crash leaves .lockstep/cascade-journal.json beside cascade.toml: --resume or --abort.
Without --bump, bumps come from conventional commits since each package's last tag.
Exit codes: 0 released (or plan shown, or nothing to resume), 1 failed and rolled back
(--status --check: a tag mismatches or a pin lags), 2 refused before any change, 3 could not
restore."
    )]
    ReleaseCascade {
        #[command(flatten)]
        args: CascadeArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Show the update channel, or switch it (rewrites update_channel in the manifest).
    #[command(after_help = "\
Examples:
  lockstep channel
  lockstep channel beta

Channels: stable, beta, lts, canary. The manifest keeps its comments and layout; commit the
change yourself.")]
    Channel {
        /// The channel to switch to.
        channel: Option<lockstep_upgrade::reexports::Channel>,
        #[command(flatten)]
        place: Where,
        #[command(flatten)]
        common: Common,
    },
    /// Git hooks that keep release tags honest.
    Hooks {
        #[command(subcommand)]
        action: HooksAction,
    },
    /// Check release tags: strict SemVer, equal to the package version at the tagged commit.
    #[command(
        name = "tag-check",
        after_help = "\
Examples:
  lockstep tag-check                        # the tags pointing at HEAD
  lockstep tag-check v1.2.0 runtime-v0.4.1
  lockstep tag-check --all --json           # every tag of the repository
  lockstep tag-check \"${GITHUB_REF_NAME}\"    # in CI, on a tag push

A tag is vX.Y.Z (the repository's package) or NAME-vX.Y.Z (the package or workspace member
NAME), strict SemVer with optional -pre and +build, and must equal the version that
Cargo.toml, package.json or pyproject.toml declares at the tagged commit.
Exit codes: 0 every tag is good, 1 a tag is bad (named, with the expected version and the
file), 2 error (not a repository, no such tag, unreadable manifest)."
    )]
    TagCheck {
        /// Tags to check (default: the tags pointing at HEAD).
        #[arg(conflicts_with = "all")]
        tags: Vec<String>,
        /// The repository (default: the current directory).
        #[arg(long, value_name = "DIR", default_value = ".")]
        repo: PathBuf,
        /// Check every tag of the repository.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Add-on packs: install (tests run first), remove, list, search, info, test.
    Pack(crate::pack::PackArgs),
    /// Watch upstream releases on npm, PyPI, crates.io and GitHub.
    Watch(crate::fleet::WatchArgs),
    /// Test a candidate version on canary repositories.
    Lab(crate::fleet::LabArgs),
    /// The known-good registry: promote, quarantine, list, rollback targets.
    #[command(name = "known-good")]
    KnownGood(crate::fleet::KnownGoodArgs),
    /// Pin an organisation to a version, with a reason and an audit trail.
    Pin(crate::fleet::PinArgs),
    /// Which version an organisation should run, and why.
    Resolve(crate::fleet::ResolveArgs),
    /// Webhook notifications: log, install-timer.
    Notify(crate::fleet::NotifyArgs),
    /// Staged rollout with automatic halt: start, assign, report, advance, status.
    Rollout(crate::rollout::RolloutArgs),
    /// Write a static dashboard of verticals, upgrades, rollouts and pins.
    Dashboard(crate::rollout::DashboardArgs),
}

#[derive(Debug, Subcommand)]
pub enum HooksAction {
    /// Install a pre-push hook that refuses tags `tag-check` rejects.
    #[command(after_help = "\
Examples:
  lockstep hooks install
  lockstep hooks install --repo ../runtime --force

The hook (in core.hooksPath, else .git/hooks) runs `lockstep tag-check` on every tag a push
carries and refuses the push when one is bad; `git push --no-verify` skips it. Installing
again is a no-op; another pre-push hook is kept unless --force, which moves it to
pre-push.pre-lockstep. The hook runs `lockstep` from PATH, or $LOCKSTEP.
Exit codes: 0 installed (or already there), 2 refused or error.")]
    Install {
        /// The repository (default: the current directory).
        #[arg(long, value_name = "DIR", default_value = ".")]
        repo: PathBuf,
        /// Replace a pre-push hook lockstep did not write (it is kept as pre-push.pre-lockstep).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        common: Common,
    },
}

impl Command {
    pub fn common(&self) -> &Common {
        match self {
            Command::Validate { common, .. }
            | Command::Status { common, .. }
            | Command::Update { common, .. }
            | Command::Gate { common, .. }
            | Command::Plan { common, .. }
            | Command::Upgrade { common, .. }
            | Command::Rollback { common, .. }
            | Command::Recover { common, .. }
            | Command::History { common, .. }
            | Command::Channel { common, .. }
            | Command::ReleaseCascade { common, .. }
            | Command::TagCheck { common, .. } => common,
            Command::Hooks { action } => match action {
                HooksAction::Install { common, .. } => common,
            },
            Command::Pack(a) => a.common(),
            Command::Watch(a) => a.common(),
            Command::Lab(a) => a.common(),
            Command::KnownGood(a) => a.common(),
            Command::Pin(a) => a.common(),
            Command::Resolve(a) => a.common(),
            Command::Notify(a) => a.common(),
            Command::Rollout(a) => a.common(),
            Command::Dashboard(a) => a.common(),
            Command::Audit { action } => match action {
                AuditAction::Verify { common, .. } => common,
            },
        }
    }
}

/// The vertical a transaction command works on.
#[derive(Debug, Args, Clone)]
pub struct Where {
    /// The vertical manifest (default: find vertical_manifest.yaml from the current directory
    /// up to the repository root).
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the audit log's hash chain; name the first bad record.
    #[command(after_help = "\
Examples:
  lockstep audit verify
  lockstep audit verify --json

Exit codes: 0 the chain verifies, 1 a record was edited, deleted, reordered or truncated
(the first one is named), 2 the log cannot be read.")]
    Verify {
        #[command(flatten)]
        place: Where,
        #[command(flatten)]
        common: Common,
    },
}

/// The options of `release-cascade`.
#[derive(Debug, Args, Clone)]
pub struct CascadeArgs {
    /// The cascade config.
    #[arg(long, value_name = "FILE", default_value = "cascade.toml")]
    pub config: PathBuf,
    /// Packages the change starts from (default: every package with releasable commits).
    #[arg(long, num_args = 1.., value_name = "PKG")]
    pub from: Vec<String>,
    /// The start packages' bump (default: from conventional commits).
    #[arg(long, value_name = "LEVEL")]
    pub bump: Option<lockstep_release::Bump>,
    /// Rewrite version requirements even when they already admit the new version.
    #[arg(long)]
    pub exact_pins: bool,
    /// Which dependents are released: those whose pin had to change (needed, the default,
    /// or `release_dependents` in cascade.toml), or every transitive dependent (always).
    #[arg(long, value_enum, value_name = "RULE")]
    pub release_dependents: Option<ReleaseDependentsArg>,
    /// Show the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the plan as a Mermaid graph (with --dry-run).
    #[arg(long)]
    pub mermaid: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Continue an interrupted cascade.
    #[arg(long, conflicts_with = "abort")]
    pub resume: bool,
    /// Roll an interrupted cascade back.
    #[arg(long)]
    pub abort: bool,
    /// Show each package's version, latest tag, and lagging pins.
    #[arg(long)]
    pub status: bool,
    /// With --status: exit 1 when a tag mismatches or a pin lags.
    #[arg(long, requires = "status")]
    pub check: bool,
    /// Build a demo in a temp dir and release a change through it: `rust` (the default; Cargo,
    /// npm and Python repositories pinned by git tag) or `python` (hatch-vcs and npm
    /// packages published to a local pypiserver and verdaccio that the demo starts and stops).
    #[arg(long, value_name = "KIND", num_args = 0..=1, default_missing_value = "rust")]
    pub demo: Option<DemoKind>,
    /// With --demo: make this repository's smoke test fail.
    #[arg(long, value_name = "REPO", requires = "demo")]
    pub fail_at: Option<String>,
    /// With --demo: build the demo here instead of a new temp dir.
    #[arg(long, value_name = "DIR", requires = "demo")]
    pub demo_dir: Option<PathBuf>,
    /// Repositories released at once within a wave (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// A saved plan (from --dry-run --json): refuse if the plan now differs, or with --only
    /// apply that plan's step for one repository.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Release only this repository's step of the saved --plan.
    #[arg(long, value_name = "REPO", requires = "plan")]
    pub only: Option<String>,
    /// Push branches and tags to each repository's remote after every wave succeeded.
    #[arg(long)]
    pub push: bool,
    /// Write a CI workflow for the plan instead of running it.
    #[arg(long, value_name = "KIND", value_parser = ["github-actions"])]
    pub emit: Option<String>,
}

/// An environment variable, `None` when unset or empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// `--release-dependents`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReleaseDependentsArg {
    Needed,
    Always,
}

impl From<ReleaseDependentsArg> for lockstep_release::ReleaseDependents {
    fn from(a: ReleaseDependentsArg) -> Self {
        match a {
            ReleaseDependentsArg::Needed => lockstep_release::ReleaseDependents::Needed,
            ReleaseDependentsArg::Always => lockstep_release::ReleaseDependents::Always,
        }
    }
}

/// Which demo `release-cascade --demo` builds.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DemoKind {
    /// Cargo crates, an npm and a Python package, pinned by git tag; offline.
    Rust,
    /// hatch-vcs Python and `0.0.0-dev` npm packages, pinned by registry requirement and
    /// published to local registries.
    Python,
}
