//! The lockstep vocabulary: the vertical manifest (`vertical_manifest.yaml`), the release index
//! (`releases.json`), per-release metadata (`release.json`), the cascade config
//! (`cascade.toml`, see [`CascadeConfig`]) and the pack manifest (`pack.yaml`, see
//! [`PackManifest`]).
//!
//! Everything here takes text and returns values: parsing and validation report **every**
//! problem found, each with its line, column, field path and what would be accepted, so a tool
//! can print `vertical_manifest.yaml:7:21: compatibility.max_core_version: …` and the user knows
//! what to fix. This crate does no I/O: reading files, fetching registries and deciding
//! compatibility live elsewhere (`lockstep-registry`, `lockstep-compat`).
//!
//! YAML is read with `serde-saphyr` under an explicit budget (depth, nodes, aliases, 1 MiB), so
//! alias bombs and nesting bombs fail fast; duplicate keys are problems, reported at their
//! second occurrence. JSON is read with `serde_json`; positions for problems are found only
//! when there are problems, so valid indexes parse at full speed.
//!
//! # Limitations
//!
//! - One YAML document per manifest. YAML tags and merge keys are not part of the format.
//! - Comments are not kept: [`VerticalManifest::to_yaml`] renders a fresh document. Edits that
//!   must keep comments (switching channel, say) belong to a format-preserving editor.
//! - Inputs are bounded: 1 MiB for a manifest or one release, 64 MiB for an index.
//!
//! ## Examples
//!
//! ```
//! use lockstep_manifest::{VerticalManifest, Channel};
//!
//! let text = "\
//! domain_name: finance
//! domain_version: 2.3.0
//! status: active
//! compatibility:
//!   min_core_version: 1.0.0
//!   max_core_version: 1.x.x
//!   contracts_major: 1
//!   update_channel: stable
//!   smoke_tests_timeout: 300
//! ownership:
//!   team: payments
//!   tech_lead: Ada Lovelace
//!   contact: ada@example.com
//! ";
//! let manifest = VerticalManifest::parse(text).expect("valid");
//! assert_eq!(manifest.compatibility.update_channel, Channel::Stable);
//!
//! let broken = text.replace("1.x.x", "one-ish").replace("300", "5");
//! let err = VerticalManifest::parse(&broken).unwrap_err();
//! let fields: Vec<_> = err.problems.iter().map(|p| (p.line, p.field.as_str())).collect();
//! assert_eq!(fields, [(6, "compatibility.max_core_version"), (9, "compatibility.smoke_tests_timeout")]);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cascade;
mod cascade_schema;
mod node;
mod pack;
mod problem;
mod reader;
mod release;
pub mod schema;
mod toml_node;
mod version;
mod vertical;

pub use cascade::{
    CASCADE_FILE_NAME, CASCADE_SCHEMA_FILE_NAME, CascadeConfig, CascadeOptions, MAX_CASCADE_BYTES,
    MAX_JOBS, MAX_WAIT_S, Registries, RepoEntry, RepoSource, WaitBudgets,
};
pub use pack::{
    DEFAULT_PACK_TEST_TIMEOUT, MAX_PACK_NAME, PACK_FILE_NAME, PACK_SCHEMA_FILE_NAME,
    PACK_TEST_TIMEOUT_RANGE, PackCore, PackHooks, PackManifest, PackRequirement, PackTests,
    is_pack_name,
};
pub use problem::{Invalid, Pos, Problem, ProblemKind};
pub use release::{
    Artifact, Changelog, MAX_INDEX_BYTES, MAX_RELEASE_BYTES, Release, ReleaseIndex, is_rfc3339,
};
pub use version::{BadBound, Channel, UnknownChannel, VersionBound};
pub use vertical::{
    Compatibility, CoreMode, CoreSource, DEFAULT_SMOKE_TESTS_TIMEOUT, Ownership,
    SMOKE_TESTS_TIMEOUT_RANGE, SmokeTests, VerticalManifest, VerticalStatus,
};

/// What kind of document a text is, judged by its content as `validate` does: JSON with
/// `releases` is a release index, TOML with `[[repo]]` a cascade config, anything else YAML (a
/// vertical manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentKind {
    /// `vertical_manifest.yaml`.
    VerticalManifest,
    /// `releases.json`.
    ReleaseIndex,
    /// A single release's `release.json`.
    Release,
    /// `cascade.toml`.
    CascadeConfig,
}

/// Guesses a document's kind from its content.
pub fn detect_kind(text: &str) -> DocumentKind {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if trimmed.contains("\"releases\"") {
            DocumentKind::ReleaseIndex
        } else {
            DocumentKind::Release
        }
    } else if text.lines().any(|l| l.trim() == "[[repo]]") {
        DocumentKind::CascadeConfig
    } else {
        DocumentKind::VerticalManifest
    }
}

/// The README's example, compiled and run as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;
