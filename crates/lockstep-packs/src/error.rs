//! The crate's one error type: what went wrong, with the pack, source or file in its fields.

use std::path::PathBuf;

use lockstep_state::{Classify, Severity};

/// Everything a pack command can fail with. [`Classify`] says what it means for the home:
/// bad input (nothing changed, exit 2 / HTTP 400), refused (nothing changed, exit 1 / 409), or
/// inconsistent (a journal says what is left, exit 3 / 500).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `pack.yaml` that does not validate; every problem with line, column and field.
    #[error("invalid {path}:\n{}", problems.join("\n"))]
    InvalidManifest {
        /// The file.
        path: PathBuf,
        /// `LINE:COLUMN: FIELD: MESSAGE` per problem.
        problems: Vec<String>,
    },
    /// A SOURCE argument that is none of the accepted forms.
    #[error(
        "`{text}` is not a pack source ({reason}); expected a directory holding pack.yaml, a git URL with an optional @REF, an archive URL ending in .tar.gz, or NAME[@REQUIREMENT] from a configured index"
    )]
    BadSource {
        /// As given.
        text: String,
        /// Why it was not accepted.
        reason: String,
    },
    /// A source that could not be fetched (missing directory, failed clone, download, bad
    /// checksum).
    #[error("cannot fetch {source_text}: {message}")]
    Fetch {
        /// The source.
        source_text: String,
        /// What went wrong.
        message: String,
    },
    /// A fetched pack that is not what its index entry says.
    #[error("{source_text} holds {found}, but the index offers it as {expected}")]
    NotAsIndexed {
        /// The source.
        source_text: String,
        /// NAME@VERSION in its pack.yaml.
        found: String,
        /// NAME@VERSION in the index.
        expected: String,
    },
    /// A pack index or the home's `packs.toml` that cannot be read.
    #[error("invalid {location}: {message}")]
    Config {
        /// The file or URL.
        location: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A pack name no configured index offers.
    #[error(
        "no pack named `{name}` in the configured indexes ({indexes}); add an index to {config}"
    )]
    NotInIndex {
        /// The name asked for.
        name: String,
        /// The indexes read, or `none configured`.
        indexes: String,
        /// `HOME/packs.toml`.
        config: PathBuf,
    },
    /// No set of versions satisfies every requirement; the explanation is the resolver's.
    #[error("cannot install: no set of versions satisfies every requirement\n{explanation}")]
    Conflict {
        /// Why, step by step.
        explanation: String,
    },
    /// A pack whose `core` range excludes the installed core.
    #[error("{name} {version} needs core {range}, but the installed core is {core}")]
    IncompatibleCore {
        /// The pack.
        name: String,
        /// Its version.
        version: String,
        /// Its core range.
        range: String,
        /// The installed core.
        core: String,
    },
    /// The pack is already installed at that version.
    #[error("{name} {version} is already installed; pass --force to reinstall it")]
    AlreadyInstalled {
        /// The pack.
        name: String,
        /// Its version.
        version: String,
    },
    /// The pack is not installed.
    #[error("{name} is not installed (see `lockstep pack list`)")]
    NotInstalled {
        /// The pack.
        name: String,
    },
    /// Removal refused: other installed packs require it.
    #[error("{name} is required by {}; remove them first", by.join(", "))]
    RequiredBy {
        /// The pack.
        name: String,
        /// The installed packs that require it.
        by: Vec<String>,
    },
    /// A hook failed; the install or removal was undone.
    #[error("the {hook} hook of {name} {outcome}; nothing was changed\n{output_tail}")]
    HookFailed {
        /// The pack.
        name: String,
        /// `post_install` or `pre_remove`.
        hook: &'static str,
        /// How it ended.
        outcome: String,
        /// Its last lines of output.
        output_tail: String,
    },
    /// A version that is not SemVer (`--core-version`, `pack core set`).
    #[error("`{text}` is not a SemVer version; expected a version such as 1.4.0")]
    BadVersion {
        /// As given.
        text: String,
    },
    /// Another command holds the home's lock.
    #[error(transparent)]
    Lock(#[from] lockstep_state::lock::Error),
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] lockstep_state::journal::Error),
    /// The state database failed.
    #[error(transparent)]
    Store(#[from] lockstep_store::Error),
    /// The audit log failed.
    #[error(transparent)]
    Audit(#[from] lockstep_audit::Error),
    /// A command could not be started at all.
    #[error("cannot run {what}: {message}")]
    Spawn {
        /// What was being run.
        what: String,
        /// Why not.
        message: String,
    },
    /// A file system operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A failure after the first change that could not be undone; the journal stays.
    #[error(
        "{message}; the journal {journal} says what is left: run `lockstep recover --home {home}`"
    )]
    Inconsistent {
        /// What failed.
        message: String,
        /// The journal file.
        journal: PathBuf,
        /// The home.
        home: PathBuf,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::InvalidManifest { .. } => "invalid_manifest",
            Error::BadSource { .. } => "bad_source",
            Error::Fetch { .. } => "fetch_failed",
            Error::NotAsIndexed { .. } => "not_as_indexed",
            Error::Config { .. } => "invalid_config",
            Error::NotInIndex { .. } => "not_in_index",
            Error::Conflict { .. } => "resolution_conflict",
            Error::IncompatibleCore { .. } => "incompatible_core",
            Error::AlreadyInstalled { .. } => "already_installed",
            Error::NotInstalled { .. } => "not_installed",
            Error::RequiredBy { .. } => "required_by_others",
            Error::HookFailed { .. } => "hook_failed",
            Error::BadVersion { .. } => "bad_version",
            Error::Lock(e) => e.kind(),
            Error::Journal(e) => e.kind(),
            Error::Store(e) => e.kind(),
            Error::Audit(_) => "audit",
            Error::Spawn { .. } => "spawn",
            Error::Io { .. } => "io",
            Error::Inconsistent { .. } => "inconsistent",
        }
    }

    fn severity(&self) -> Severity {
        match self {
            Error::Conflict { .. }
            | Error::IncompatibleCore { .. }
            | Error::AlreadyInstalled { .. }
            | Error::RequiredBy { .. }
            | Error::HookFailed { .. } => Severity::Refused,
            Error::Inconsistent { .. } => Severity::Inconsistent,
            Error::Journal(e) => e.severity(),
            _ => Severity::Input,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_can_tell_bad_input_from_refusals() {
        let refused = Error::RequiredBy {
            name: "base".into(),
            by: vec!["app".into(), "web".into()],
        };
        assert_eq!(refused.severity(), Severity::Refused);
        assert_eq!(refused.kind(), "required_by_others");
        assert_eq!(
            refused.to_string(),
            "base is required by app, web; remove them first"
        );
        let bad = Error::BadVersion { text: "one".into() };
        assert_eq!(
            (bad.severity(), bad.severity().exit_code()),
            (Severity::Input, 2)
        );
        let conflict = Error::Conflict {
            explanation: String::new(),
        };
        assert_eq!(conflict.severity().exit_code(), 1);
    }
}
