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
        channel: Option<lockstep_manifest::Channel>,
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
}

impl Command {
    pub fn common(&self) -> &Common {
        match self {
            Command::Validate { common, .. }
            | Command::Status { common, .. }
            | Command::Update { common, .. }
            | Command::Gate { common, .. } => common,
        }
    }
}
