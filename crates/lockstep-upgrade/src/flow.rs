//! The consumer side's front door: find the vertical and its registry, detect the current
//! core version, load the releases and plan, in one call per command.
//!
//! A service embedding lockstep calls [`inputs`] then [`plan`] (or [`status`]) and gets the same
//! answers the command line prints; the command line itself does nothing more.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lockstep_compat::Policy;
use lockstep_manifest::{Channel, Release};
use semver::Version;

use crate::current::{self, Current};
use crate::upgrade::{self, Planned};
use crate::workspace::{self, Vertical};
use crate::{registry, update};

/// Where the vertical and its registry are, as a caller names them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Target {
    /// The manifest (default: found from the working directory up to the repository root).
    pub manifest: Option<PathBuf>,
    /// The registry spec (`--registry`).
    pub registry: Option<String>,
    /// The registry spec from the environment (`LOCKSTEP_REGISTRY`), used when `registry` is
    /// not given.
    pub registry_env: Option<String>,
    /// The current core version, instead of detecting it.
    pub current: Option<Version>,
}

impl Target {
    /// A target with these parts.
    pub fn new(
        manifest: Option<PathBuf>,
        registry: Option<String>,
        registry_env: Option<String>,
        current: Option<Version>,
    ) -> Self {
        Target {
            manifest,
            registry,
            registry_env,
            current,
        }
    }
}

/// A vertical found on disk with its registry spec.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Inputs {
    /// The vertical.
    pub vertical: Vertical,
    /// The registry spec, resolved relative to the manifest when it came from there.
    pub spec: String,
}

/// Errors of the front door: locating, detecting, loading or planning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The vertical could not be found or read.
    #[error(transparent)]
    Workspace(#[from] workspace::Error),
    /// The current version could not be told.
    #[error(transparent)]
    Current(#[from] current::Error),
    /// The registry could not be read.
    #[error("cannot read registry {spec}: {source}")]
    Registry {
        /// The registry spec.
        spec: String,
        /// Why.
        source: Box<registry::Error>,
    },
    /// Planning failed.
    #[error(transparent)]
    Upgrade(#[from] Box<upgrade::Error>),
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Workspace(e) => e.kind(),
            Error::Current(e) => e.kind(),
            Error::Registry { .. } => "registry",
            Error::Upgrade(e) => e.kind(),
        }
    }
    fn severity(&self) -> lockstep_state::Severity {
        match self {
            Error::Upgrade(e) => lockstep_state::Classify::severity(e.as_ref()),
            _ => lockstep_state::Severity::Input,
        }
    }
}

/// Finds the vertical (from `target.manifest`, else searching up from `cwd`) and its registry.
pub fn inputs(cwd: &Path, target: &Target) -> Result<Inputs, Error> {
    let vertical = Vertical::load(target.manifest.as_deref(), cwd)?;
    let spec =
        vertical.registry_spec(target.registry.as_deref(), target.registry_env.as_deref())?;
    Ok(Inputs { vertical, spec })
}

/// The releases of the registry, with the ETag cache in the vertical's state directory.
pub fn releases(inputs: &Inputs) -> Result<Vec<Release>, Error> {
    registry::load(&inputs.spec, Some(&inputs.vertical.state_dir())).map_err(|source| {
        Error::Registry {
            spec: inputs.spec.clone(),
            source: Box::new(source),
        }
    })
}

/// Detects the current version, loads the releases and plans an upgrade to `to` (default: the
/// newest compatible release on the vertical's channel).
pub fn plan(
    inputs: &Inputs,
    target: &Target,
    to: Option<&Version>,
    smoke_timeout: Option<Duration>,
) -> Result<Planned, Error> {
    let vertical = &inputs.vertical;
    let _span =
        tracing::info_span!("upgrade.plan", manifest = %vertical.manifest_path.display()).entered();
    let current = current::detect(vertical, target.current.as_ref())?;
    let releases = releases(inputs)?;
    let request =
        upgrade::Request::new(to.cloned(), inputs.spec.clone()).smoke_timeout(smoke_timeout);
    upgrade::plan(vertical, &current, &releases, &request).map_err(|e| Error::Upgrade(Box::new(e)))
}

/// Where a vertical stands: its current version (and where it came from) and the update
/// report for its channel (or `channel`).
pub fn status(
    inputs: &Inputs,
    target: &Target,
    channel: Option<Channel>,
) -> Result<(Current, update::UpdateReport), Error> {
    let vertical = &inputs.vertical;
    let current = current::detect(vertical, target.current.as_ref())?;
    let releases = releases(inputs)?;
    let report = update::report(
        &vertical.manifest,
        &current.version,
        channel,
        &releases,
        Policy::default(),
    );
    Ok((current, report))
}
