//! Format-preserving edits of dependency pins and package versions in
//! `Cargo.toml`, `package.json` and `pyproject.toml`.
//!
//! lockstep rewrites the pins that tie one repository to another: a
//! vertical's pin on core during an upgrade, and every downstream pin during
//! a release cascade. This crate reads those pins, writes new ones and says
//! which lockfile command must follow. It takes text and returns text.
//!
//! What it does:
//!
//! - [`dependencies`] lists every dependency of a manifest with its pin,
//!   kind (normal, dev, build, workspace) and Cargo target, so a caller can
//!   discover the edges between packages.
//! - [`pins`] reads one dependency wherever it appears (Cargo renames and
//!   npm aliases resolved to the real package name; Python names compared
//!   after PEP 503 normalisation).
//! - [`set_pin`] writes a version requirement, a git tag or a git rev into
//!   every entry of that dependency, and reports each change.
//! - [`package`], [`set_version`] and [`bump_version`] read and change the
//!   package's own version; [`package`] also returns workspace members.
//! - [`LockTool`] names each ecosystem's lockfile, the binary that
//!   regenerates it and the command to run.
//!
//! Every edit is a set of byte-range replacements over the original text:
//! comments, key order, whitespace and quoting outside the changed values
//! stay byte for byte, and a string keeps its quoting style (`'…'` stays
//! `'…'`). For `package.json` the JSON is never re-serialised; for a PEP 508
//! string only the version specifier or the `@ref` inside it changes.
//! An edit is all or nothing: if any entry cannot take the value, nothing is
//! changed and the error says which entry and what it would accept.
//!
//! What it deliberately does not do: read or write files, run lockfile
//! tools, resolve versions against a registry, expand workspace globs or
//! follow `workspace = true` into the workspace root. The caller has the
//! file system and the processes; this crate has no I/O and does not log.
//!
//! # Limitations
//!
//! - npm URLs and PEP 508 direct references cannot say whether `#ref` /
//!   `@ref` is a tag, a branch or a commit: 7 to 40 hex digits are read as a
//!   rev, anything else as a tag. For the same reason a rev written there
//!   must be hexadecimal.
//! - A branch pin is never replaced: changing what a dependency tracks is
//!   left to a person.
//! - A git dependency without a `version` key does not take a version
//!   requirement, and a registry dependency does not take a tag: the pin
//!   kind is never changed behind the caller's back (tag ↔ rev is allowed).
//! - Yarn and pnpm lockfiles are not modelled; npm's is. Poetry 1's
//!   `poetry lock --no-update` is not modelled; Poetry 2's `poetry lock` is.
//! - Cargo `[patch]` and `[replace]` tables are not read or edited: they
//!   override sources for the whole graph and are left to a person.
//! - A dependency written several times (Poetry's multiple constraints, a
//!   range in both `dependencies` and `peerDependencies`) gets the same
//!   value in every entry.
//! - Python versions are checked loosely (a digit first, then PEP 440
//!   characters); bumping needs `MAJOR.MINOR.PATCH`.
//!
//! ## Examples
//!
//! ```
//! use lockstep_pins::{Ecosystem, Pin, GitRef, PinValue, set_pin, pins};
//!
//! let cargo_toml = r#"[package]
//! name = "vertical"
//! version = "0.3.0"
//!
//! [dependencies]   # the platform first
//! core = { git = "https://example.com/core.git", tag = 'v1.1.0' } # pinned
//! serde = "1"
//! "#;
//!
//! let edit = set_pin(Ecosystem::Cargo, cargo_toml, "core", &PinValue::Tag("v1.2.0".into()))?;
//! assert_eq!(edit.text, cargo_toml.replace("'v1.1.0'", "'v1.2.0'"));
//! assert_eq!(edit.changes[0].location.to_string(), "[dependencies].core");
//!
//! let found = pins(Ecosystem::Cargo, &edit.text, "core")?;
//! assert!(matches!(&found[0].pin, Pin::Git { reference: GitRef::Tag(t), .. } if t == "v1.2.0"));
//!
//! let lock = lockstep_pins::LockTool::for_manifest(Ecosystem::Cargo, &edit.text)?;
//! let command = lock.after_pin_change("core", &PinValue::Tag("v1.2.0".into()), None);
//! assert_eq!(command.to_string(), "cargo update -p core");
//! # Ok::<(), lockstep_pins::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cargo;
mod error;
mod json;
mod lockfile;
mod model;
mod npm;
mod occurrence;
mod pep508;
mod python;
mod splice;
mod toml_text;
mod version;

pub use error::Error;
pub use lockfile::{Command, LockTool, locked_version, npm_lock_version, toml_lock_version};
pub use model::{
    Bump, Change, DepKind, Dependency, Ecosystem, Edit, GitRef, Location, OwnVersion, Package, Pin,
    PinValue, SkipReason, Skipped, Workspace, normalize_python_name,
};

use occurrence::Scan;

fn scan(ecosystem: Ecosystem, text: &str) -> Result<Scan, Error> {
    match ecosystem {
        Ecosystem::Cargo => cargo::scan(text),
        Ecosystem::Npm => npm::scan(text),
        Ecosystem::Python => python::scan(text),
    }
}

/// Every dependency entry of a manifest, in file order within each section,
/// sections in a fixed order (Cargo: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]`, `[workspace.dependencies]`, then target tables;
/// npm: `dependencies`, `devDependencies`, `peerDependencies`,
/// `optionalDependencies`; Python: `[project]`, optional dependencies,
/// dependency groups, `[build-system]`, Poetry, `[tool.uv.sources]`).
///
/// A dependency written in several places appears once per place.
pub fn dependencies(ecosystem: Ecosystem, text: &str) -> Result<Vec<Dependency>, Error> {
    Ok(scan(ecosystem, text)?
        .occurrences
        .into_iter()
        .map(|o| o.dep)
        .collect())
}

/// Every entry for the package `name` (the real name, after renames), or
/// [`Error::DependencyNotFound`] naming the sections searched.
pub fn pins(ecosystem: Ecosystem, text: &str, name: &str) -> Result<Vec<Dependency>, Error> {
    let (found, _) = scan(ecosystem, text)?.matching(ecosystem, name)?;
    Ok(found.into_iter().map(|o| o.dep).collect())
}

/// Writes `new` into every entry for the package `name`, keeping everything
/// else in the file as it was.
///
/// Entries that inherit their pin (`workspace = true`), path dependencies
/// (for a tag or rev, or for a version when none is written beside the
/// path), and bare Python names whose git
/// source is a separate uv entry (for a tag or rev) are left alone and
/// listed in [`Edit::skipped`]. It is an error when the dependency is
/// absent, when any entry cannot take the value, or when no entry takes it.
pub fn set_pin(
    ecosystem: Ecosystem,
    text: &str,
    name: &str,
    new: &PinValue,
) -> Result<Edit, Error> {
    let edit = occurrence::set_pin(ecosystem, text, scan(ecosystem, text)?, name, new)?;
    check_edit(ecosystem, || scan(ecosystem, &edit.text).map(drop))?;
    Ok(edit)
}

/// The package this manifest declares: name, own version, workspace members.
pub fn package(ecosystem: Ecosystem, text: &str) -> Result<Package, Error> {
    match ecosystem {
        Ecosystem::Cargo => cargo::package(text),
        Ecosystem::Npm => npm::package(text),
        Ecosystem::Python => python::package(text),
    }
}

/// Sets the package's own version where this file writes it: Cargo
/// `[package] version`, or `[workspace.package] version` of this file when
/// the package inherits it (or the file is a virtual manifest); npm
/// `version`; Python `[project] version`, else `[tool.poetry] version`.
///
/// A version inherited from another file or computed by the build backend
/// is an error that says where to set it instead. Cargo and npm versions
/// must be SemVer.
pub fn set_version(ecosystem: Ecosystem, text: &str, version: &str) -> Result<Edit, Error> {
    let edit = version::set_version(ecosystem, text, version)?;
    check_edit(ecosystem, || package(ecosystem, &edit.text).map(drop))?;
    Ok(edit)
}

/// Bumps the package's own version (see [`set_version`] for where).
/// A pre-release is released by the bump that reaches it: `1.3.0-rc.1`
/// bumped by minor is `1.3.0`.
pub fn bump_version(ecosystem: Ecosystem, text: &str, bump: Bump) -> Result<Edit, Error> {
    let edit = version::bump_version(ecosystem, text, bump)?;
    check_edit(ecosystem, || package(ecosystem, &edit.text).map(drop))?;
    Ok(edit)
}

/// Re-reads edited text: an edit must never hand back a file that no longer parses.
fn check_edit(
    ecosystem: Ecosystem,
    reread: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    reread().map_err(|err| Error::EditBroke {
        file: ecosystem,
        message: err.to_string(),
    })
}

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
