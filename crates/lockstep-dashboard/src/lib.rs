//! A static dashboard of a fleet: upgrades, rollouts, known-good versions and pins on one page.
//!
//! [`collect`] reads the audit logs of the verticals it is given (each `.lockstep/audit.jsonl`
//! at the root of the git work tree holding a `vertical_manifest.yaml`), cascade audit logs
//! and the state database (`lockstep-store`: rollouts, known-good and quarantined versions,
//! organisation pins) into [`Figures`], one serialisable value (`dashboard --json` prints it).
//! [`render`] turns the figures into a [`Site`]: `index.html` and `assets/dashboard.css`, with
//! charts drawn as inline SVG here. The page loads nothing from the network, runs no script
//! and works when opened from `file://`. [`Site::write`] writes it crash-safely.
//!
//! The KPIs count attempted upgrades (`upgrade_started` records): successful upgrades are
//! committed ÷ attempted, the rollback rate rolled back ÷ attempted; every KPI carries its
//! definition, which the page shows beside the number.
//!
//! It deliberately does not decide anything: which release is a pending compatible update is
//! the caller's (the command line asks the compatibility engine), and a log it cannot read is
//! listed as a problem on the page rather than hidden.
//!
//! # Limitations
//!
//! - Verticals in the same git work tree share one audit log; their rows show the same
//!   history and the KPIs count that log once.
//! - No interactivity: the tables are plain HTML (the browser's find works; sorting does not).
//! - Mean time to upgrade is measured from an upgrade's start to its commit, not from the
//!   release's publication.
//!
//! ## Examples
//!
//! ```
//! use lockstep_audit::{action, AuditLog, NewRecord};
//! use lockstep_dashboard::{collect, render, Inputs, VerticalInput};
//!
//! let dir = tempfile::tempdir()?;
//! let manifest = dir.path().join("vertical_manifest.yaml");
//! std::fs::write(&manifest, "domain_name: finance\n")?;
//! let log = AuditLog::open(dir.path().join(".lockstep/audit.jsonl"))?;
//! log.append(NewRecord::new("ci", action::UPGRADE_STARTED, "started").from_version("1.0.0").to_version("1.1.0"))?;
//! log.append(NewRecord::new("ci", action::UPGRADE_COMMITTED, "committed").from_version("1.0.0").to_version("1.1.0"))?;
//!
//! let mut inputs = Inputs::default();
//! inputs.verticals.push(VerticalInput::new(&manifest, "finance", "stable"));
//! let figures = collect(&inputs)?;
//! assert_eq!(figures.kpis.list[0].value, Some(100.0)); // successful upgrades, %
//! assert_eq!(figures.verticals[0].current.as_deref(), Some("1.1.0"));
//!
//! let site = render(&figures);
//! site.write(&dir.path().join("site"))?;
//! let html = std::fs::read_to_string(dir.path().join("site/index.html"))?;
//! assert!(html.contains(r#"data-vertical="finance""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collect;
pub mod figures;
pub mod html;
mod kpi;
mod svg;

use std::path::{Path, PathBuf};

pub use collect::{Inputs, VerticalInput, cascade_log, collect};
pub use figures::Figures;

/// Errors reading the state database or writing the site.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The state database could not be opened or queried.
    #[error(transparent)]
    Store(#[from] lockstep_store::Error),
    /// A rollout's stored policy is not valid JSON.
    #[error("rollout {rollout}: stored policy is unreadable: {source}")]
    Policy {
        /// The rollout id.
        rollout: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A file of the site could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Store(e) => e.kind(),
            Error::Policy { .. } => "dashboard_policy",
            Error::Write { .. } => "dashboard_write",
        }
    }
}

/// The files of the static site, relative to its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Site {
    /// (relative path, bytes), `index.html` first.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl Site {
    /// Writes every file under `dir` (created if needed), each crash-safely.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            let fail = |source| Error::Write {
                path: path.clone(),
                source,
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(fail)?;
            }
            lockstep_state::fsx::write_atomic(&path, bytes).map_err(fail)?;
        }
        Ok(())
    }
}

/// The page and its stylesheet.
pub fn render(figures: &Figures) -> Site {
    Site {
        files: vec![
            (
                PathBuf::from("index.html"),
                html::page(figures).into_bytes(),
            ),
            (
                PathBuf::from("assets/dashboard.css"),
                html::CSS.as_bytes().to_vec(),
            ),
        ],
    }
}
