//! The one error type of this crate.

use crate::{Ecosystem, Location, PinValue};

/// Why reading or editing a manifest failed.
///
/// Every variant carries the manifest kind and enough context (dependency
/// name, table path, value) for a caller to tell the user what went wrong,
/// where, and what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid TOML or JSON.
    #[error("{file_name} is not valid {syntax} at line {line}, column {column}: {message}", file_name = .file.manifest_file_name())]
    Syntax {
        /// Which kind of manifest was being read.
        file: Ecosystem,
        /// `TOML` or `JSON`.
        syntax: &'static str,
        /// Line of the problem, counting from 1.
        line: usize,
        /// Column of the problem (in characters), counting from 1.
        column: usize,
        /// The parser's description of the problem.
        message: String,
    },
    /// A table or value has a type the manifest format does not allow there.
    #[error("{file_name}: {path} is {found}, expected {expected}", file_name = .file.manifest_file_name())]
    Shape {
        /// Which kind of manifest was being read.
        file: Ecosystem,
        /// Where the value sits, e.g. `[dependencies].core` or `devDependencies`.
        path: String,
        /// What was found there, e.g. `an integer`.
        found: &'static str,
        /// What would be accepted there.
        expected: &'static str,
    },
    /// The dependency does not appear in any dependency section.
    #[error("{file_name} has no dependency `{name}`; searched {}", searched.join(", "), file_name = .file.manifest_file_name())]
    DependencyNotFound {
        /// Which kind of manifest was searched.
        file: Ecosystem,
        /// The package name that was looked for.
        name: String,
        /// Every section that was searched, in the order searched.
        searched: Vec<String>,
    },
    /// The dependency is pinned in a way that cannot take the requested value.
    #[error("cannot set {requested} on `{name}` at {location}: it is {current}; {accepted}")]
    IncompatiblePin {
        /// Which kind of manifest was edited.
        file: Ecosystem,
        /// The dependency's package name.
        name: String,
        /// The entry that refused the value (boxed to keep `Error` small).
        location: Box<Location>,
        /// The pin found there, described in words (`a git dependency on branch main`).
        current: String,
        /// The value that was asked for.
        requested: PinValue,
        /// What kind of value this entry would accept.
        accepted: &'static str,
    },
    /// The requested value cannot be written into this kind of manifest.
    #[error("{file_name}: {value} cannot be written: {reason}; expected {expected}", file_name = .file.manifest_file_name())]
    InvalidValue {
        /// Which kind of manifest was edited.
        file: Ecosystem,
        /// The rejected value.
        value: PinValue,
        /// Why it was rejected.
        reason: &'static str,
        /// What would be accepted instead.
        expected: &'static str,
    },
    /// The manifest declares no version of its own package.
    #[error("{file_name} declares no package version; searched {}", searched.join(", "), file_name = .file.manifest_file_name())]
    NoVersion {
        /// Which kind of manifest was searched.
        file: Ecosystem,
        /// Every place a version was looked for.
        searched: Vec<String>,
    },
    /// The package's version is not written in this file, so it cannot be set here.
    #[error("{file_name}: the package version at {location} is {how}; set it {instead}", file_name = .file.manifest_file_name())]
    VersionNotHere {
        /// Which kind of manifest was edited.
        file: Ecosystem,
        /// Where the version would be.
        location: String,
        /// How the version is provided instead (`inherited from the workspace`, `dynamic`).
        how: &'static str,
        /// Where to set it instead.
        instead: &'static str,
    },
    /// The new package version is not usable.
    #[error("{file_name}: `{version}` is not a valid package version: {reason}", file_name = .file.manifest_file_name())]
    InvalidVersion {
        /// Which kind of manifest was edited.
        file: Ecosystem,
        /// The rejected version.
        version: String,
        /// What is wrong with it, and what would be accepted.
        reason: &'static str,
    },
    /// An edit produced text that no longer parses. This is a bug in this
    /// crate; the original text is untouched because edits return new text.
    #[error(
        "editing {file_name} produced invalid text ({message}); the edit was not applied, please report this"
    , file_name = .file.manifest_file_name())]
    EditBroke {
        /// Which kind of manifest was edited.
        file: Ecosystem,
        /// The parser's complaint about the edited text.
        message: String,
    },
}
