//! The producer side of lockstep: release a change through a DAG of repositories, upstream
//! first, and roll everything back when any step fails.
//!
//! The workflow in reading order, one module per job:
//!
//! - [`load`] and [`discover`]: `cascade.toml`, then each repository's own manifests at its
//!   root: `Cargo.toml` (a workspace contributes every member, globs expanded,
//!   `version.workspace = true` and `dep.workspace = true` followed into the root),
//!   `package.json` (npm workspaces too) and `pyproject.toml`. A dependency whose name is a
//!   package of *another* repository is an edge, whatever its pin (a requirement, a git tag or
//!   rev, a path) and whichever ecosystems the two sides are in (Python names compared after
//!   PEP 503 normalisation); `depends_on` adds edges the manifests do not show.
//! - [`request`]: from options (`--from`, `--bump`, `--exact-pins`) and the config to a
//!   [`Plan`] from the pure planner (`lockstep-cascade`); saved plans are read back here.
//! - [`execute`]: the executor (preflight, journal, waves in parallel, per-repository release
//!   steps, rollback, push), with [`execute::resume`] and [`execute::abort`] after a crash.
//! - [`status`]: versions, tags and lagging pins across the cascade (`--status`).
//! - [`emit`]: a CI workflow running a saved plan one repository per job.
//! - [`tagcheck`]: the release-tag rule (strict SemVer, equal to the package's version at the
//!   tagged commit) and the pre-push hook that enforces it.
//! - [`demo`]: the bundled demo DAG, built as real git repositories.
//!
//! # Limitations
//!
//! - A repository whose packages sit on a cycle through another repository (A's package
//!   needs B's, which needs another of A's) is released one commit per wave, not one in all.
//! - A repository given only by `url` must already be checked out under
//!   `.lockstep/checkouts/NAME` beside `cascade.toml`; discovery does not clone.
//! - Pins that follow a branch or a direct archive URL are not edges; they are listed in
//!   [`Discovered::notes`].
//! - Python package versions must be SemVer-shaped (`1.2` is read as 1.2.0).
//!
//! ## Examples
//!
//! ```no_run
//! use lockstep_release as cascade;
//!
//! let config = cascade::load("cascade.toml".as_ref())?;
//! let discovered = cascade::discover(&config)?;
//! let report = cascade::status(&discovered)?;
//! println!("{}", report.to_json());
//! # Ok::<(), cascade::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use lockstep_state::{failpoint, fsx};

mod cargo_release;
mod config;
mod conventions;
pub mod demo;
pub mod demo_python;
mod discover;
pub mod emit;
mod error;
pub mod execute;
mod packages;
mod pnpm;
pub mod request;
mod status;
pub mod tagcheck;
pub mod tags;

/// The failpoints of the cascade executor (`LOCKSTEP_FAILPOINT=<name>` makes the process SIGKILL
/// itself there), in the order a repository reaches them.
pub const FAILPOINTS: &[&str] = &[
    "cascade_after_journal",
    "cascade_after_snapshot",
    "cascade_during_smoke",
    "cascade_after_commit",
    "cascade_after_repo",
    "cascade_before_finish",
    "cascade_before_publish",
    "cascade_during_publish",
    "cascade_after_publish",
    "cascade_while_waiting",
];

pub use lockstep_cascade::{Bump, Plan, ReleaseDependents};

pub use config::{CHECKOUTS_DIR, LoadedConfig, load};
pub use discover::{Discovered, DiscoveredRepo, Note, RepoEdge, discover};
pub use error::Error;
pub use request::{PlanError, PlanOptions, UnpublishedPin, plan, read_plan};
pub use status::{LaggingPin, PackageStatus, STATUS_SCHEMA, StatusReport, status};

/// The summaries of the commits on HEAD's first-parent line since `since` (a tag), newest
/// first: what the planner reads conventional-commit bumps from.
pub fn commits_since(
    repo_dir: &std::path::Path,
    since: Option<&str>,
) -> Result<Vec<String>, Error> {
    lockstep_snapshot::log_since(repo_dir, since)
        .map(|log| log.into_iter().map(|c| c.message).collect())
        .map_err(|source| Error::Git {
            repo: repo_dir.display().to_string(),
            source,
        })
}

/// Whether `tag` exists in the repository at `repo_dir` (false when it cannot be read).
pub fn tag_exists(repo_dir: &std::path::Path, tag: &str) -> bool {
    lockstep_snapshot::tag_exists(repo_dir, tag).unwrap_or(false)
}
