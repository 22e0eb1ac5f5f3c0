//! The CI release gate: hold one core release against every vertical's manifest and block the
//! release if any vertical would break.

use std::path::{Path, PathBuf};

use lockstep_compat::{Checker, Policy, Reason, Status};
use lockstep_manifest::{Problem, Release, VerticalManifest};
use semver::Version;
use serde::Serialize;

/// The JSON schema name of a gate report.
pub const SCHEMA: &str = "lockstep.gate/v1";

/// Errors of the gate workflow (before any verdict).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `--verticals` pattern is not a valid glob.
    #[error(
        "invalid glob {pattern:?}: {message}; use *, ? and [..], e.g. 'verticals/*/vertical_manifest.yaml'"
    )]
    BadGlob {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// The release to gate is not in the registry and was not given.
    #[error(
        "core {version} is not in the registry ({registry}); publish its metadata there first or pass --release FILE with its release.json"
    )]
    UnknownRelease {
        /// The version asked for.
        version: Version,
        /// Where we looked.
        registry: String,
    },
    /// Neither a registry nor a release file says what the release is.
    #[error(
        "gate needs the release's metadata: pass --registry SPEC, set LOCKSTEP_REGISTRY, or pass --release FILE"
    )]
    NoRegistry,
    /// The release file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadRelease {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The release file is not a valid `release.json`.
    #[error("{} is not a valid release.json:\n{}", path.display(), Problem::located(&path.display().to_string(), problems))]
    InvalidRelease {
        /// The file.
        path: PathBuf,
        /// Every problem, located.
        problems: Vec<Problem>,
    },
    /// The release file describes another version.
    #[error("{} describes core {found}, not {version}; pass the release.json of {version}", path.display())]
    VersionMismatch {
        /// The file.
        path: PathBuf,
        /// The version it describes.
        found: Version,
        /// The version gated.
        version: Version,
    },
}

impl Error {
    /// A short machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadGlob { .. } => "bad_glob",
            Error::UnknownRelease { .. } => "unknown_release",
            Error::NoRegistry => "no_registry",
            Error::ReadRelease { .. } => "io",
            Error::InvalidRelease { .. } => "invalid_release",
            Error::VersionMismatch { .. } => "version_mismatch",
        }
    }
}

/// The release to gate: read from `release_file` (a `release.json`) when given, else found in
/// the registry's `releases` (`registry` names it for messages; `None` when there is none).
pub fn candidate(
    version: &Version,
    release_file: Option<&Path>,
    releases: &[Release],
    registry: Option<&str>,
) -> Result<Release, Error> {
    if let Some(path) = release_file {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadRelease {
            path: path.to_path_buf(),
            source,
        })?;
        let release = Release::parse_json(&text).map_err(|e| Error::InvalidRelease {
            path: path.to_path_buf(),
            problems: e.problems,
        })?;
        if release.version != *version {
            return Err(Error::VersionMismatch {
                path: path.to_path_buf(),
                found: release.version,
                version: version.clone(),
            });
        }
        return Ok(release);
    }
    match (releases.iter().find(|r| r.version == *version), registry) {
        (Some(r), _) => Ok(r.clone()),
        (None, None) => Err(Error::NoRegistry),
        (None, Some(spec)) => Err(Error::UnknownRelease {
            version: version.clone(),
            registry: spec.to_owned(),
        }),
    }
}

/// A manifest file as the gate found it: parsed, or with its problems.
#[derive(Debug, Clone)]
pub struct ManifestInput {
    /// Where it was read from.
    pub path: PathBuf,
    /// The manifest, or the problems that made it invalid (including a read error).
    pub parsed: Result<VerticalManifest, Vec<Problem>>,
}

/// One vertical's line in the gate report.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct GateVertical {
    /// The vertical's `domain_name` (or its directory name when the manifest is invalid).
    pub name: String,
    /// The manifest path as given.
    pub manifest: String,
    /// `compatible`, `compatible_with_warnings`, `blocked` or `invalid`.
    pub verdict: String,
    /// Every reason (for an invalid manifest, one `invalid_manifest` reason per problem).
    pub reasons: Vec<GateReason>,
}

/// A reason as the gate reports it: a code and a message (codes include `invalid_manifest`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GateReason {
    /// The reason code.
    pub code: String,
    /// The explanation.
    pub message: String,
}

impl From<&Reason> for GateReason {
    fn from(r: &Reason) -> Self {
        GateReason {
            code: r.code.as_str().to_owned(),
            message: r.message.clone(),
        }
    }
}

/// The gate's result; also the `--report` file.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct GateReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The core version gated.
    pub version: String,
    /// Whether the release is blocked.
    pub blocked: bool,
    /// Why the gate blocked without a vertical to blame (`no_verticals`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Every vertical, ordered by manifest path.
    pub verticals: Vec<GateVertical>,
}

/// Expands `--verticals` globs (relative to `base`) into manifest paths, sorted and deduplicated.
pub fn expand(patterns: &[String], base: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            base.join(pattern).display().to_string()
        };
        let paths = glob::glob(&full).map_err(|e| Error::BadGlob {
            pattern: pattern.clone(),
            message: e.msg.to_owned(),
        })?;
        for p in paths.flatten() {
            let p = if p.is_dir() {
                p.join(crate::workspace::MANIFEST_FILE)
            } else {
                p
            };
            if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Reads and parses each manifest; unreadable or invalid ones become [`ManifestInput`]s with
/// problems, so the gate can report them as `invalid` rather than stop.
pub fn read_manifests(paths: &[PathBuf]) -> Vec<ManifestInput> {
    paths
        .iter()
        .map(|path| {
            let parsed = match std::fs::read_to_string(path) {
                Ok(text) => VerticalManifest::parse(&text).map_err(|e| e.problems),
                Err(e) => Err(vec![Problem::new(
                    lockstep_manifest::Pos::UNKNOWN,
                    "",
                    lockstep_manifest::ProblemKind::Syntax,
                    format!("cannot read: {e}"),
                )]),
            };
            ManifestInput {
                path: path.clone(),
                parsed,
            }
        })
        .collect()
}

/// Runs the gate. `releases` is the known landscape (for the support window); `candidate` is
/// the release being gated. Pure: the caller reads files and the registry.
pub fn gate(
    candidate: &Release,
    releases: &[Release],
    manifests: &[ManifestInput],
    policy: Policy,
    display_base: &Path,
) -> GateReport {
    let mut landscape = releases.to_vec();
    if !landscape.iter().any(|r| r.version == candidate.version) {
        landscape.push(candidate.clone());
    }
    let checker = Checker::new(&landscape, policy);
    let mut verticals: Vec<GateVertical> = manifests
        .iter()
        .map(|m| {
            let shown = m
                .path
                .strip_prefix(display_base)
                .unwrap_or(&m.path)
                .display()
                .to_string();
            match &m.parsed {
                Ok(manifest) => {
                    let verdict = checker.check(candidate, manifest);
                    GateVertical {
                        name: manifest.domain_name.clone(),
                        manifest: shown,
                        verdict: verdict.status.as_str().to_owned(),
                        reasons: verdict.reasons.iter().map(GateReason::from).collect(),
                    }
                }
                Err(problems) => GateVertical {
                    name: m
                        .path
                        .parent()
                        .and_then(|p| p.file_name())
                        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned()),
                    manifest: shown,
                    verdict: "invalid".to_owned(),
                    reasons: problems
                        .iter()
                        .map(|p| GateReason {
                            code: "invalid_manifest".to_owned(),
                            message: p.to_string(),
                        })
                        .collect(),
                },
            }
        })
        .collect();
    verticals.sort_by(|a, b| a.manifest.cmp(&b.manifest));
    let none = verticals.is_empty();
    let blocked = none
        || verticals
            .iter()
            .any(|v| v.verdict == "invalid" || v.verdict == Status::Blocked.as_str());
    GateReport {
        schema: SCHEMA,
        version: candidate.version.to_string(),
        blocked,
        reason: none.then_some("no_verticals"),
        verticals,
    }
}

/// A Markdown summary for `$GITHUB_STEP_SUMMARY`.
pub fn markdown(report: &GateReport) -> String {
    let mut out = String::new();
    let head = if report.blocked {
        "❌ blocked"
    } else {
        "✅ passed"
    };
    out.push_str(&format!(
        "## lockstep gate: core {} — {head}\n\n",
        report.version
    ));
    if report.verticals.is_empty() {
        out.push_str("No vertical manifest matched `--verticals`: a gate that checks nothing does not pass.\n");
        return out;
    }
    out.push_str("| vertical | verdict | reasons |\n|---|---|---|\n");
    for v in &report.verticals {
        let reasons = if v.reasons.is_empty() {
            "—".to_owned()
        } else {
            v.reasons
                .iter()
                .map(|r| format!("`{}` {}", r.code, r.message.replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        out.push_str(&format!("| {} | {} | {} |\n", v.name, v.verdict, reasons));
    }
    out
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}
