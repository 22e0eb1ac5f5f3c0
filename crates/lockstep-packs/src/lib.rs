//! Add-on packs: install with tests run first and a fail-fast rollback, remove, list, search,
//! info, test.
//!
//! A platform carries add-ons ("packs": engines, connectors, plug-ins) installed into a pack
//! home ([`Home`]). Each pack has a `pack.yaml` ([`lockstep_manifest::PackManifest`]) saying
//! what it is, what it needs from core and from other packs, and how its tests run. Installing
//! is a transaction: resolve the whole set with `pubgrub` (the requested packs and every
//! missing requirement, one version each, compatible with the installed core), fetch each into
//! a staging directory (directories, git `URL@REF`, checksum-verified `.tar.gz` archives from
//! an index), run each pack's tests in dependency order (own process group, timeout), then
//! activate atomically or leave nothing behind. Every test run is stored, refused, forced and
//! skipped ones too; a forced or untested install leaves a risk record in the audit log.
//!
//! One entry function per command, each taking an options value and returning a serializable
//! outcome: [`install()`], [`remove()`], [`list()`], [`info()`], [`search()`], [`test()`],
//! [`set_core()`], [`recover()`]. Errors are [`Error`], which implements
//! [`lockstep_state::Classify`]: bad input (exit 2, HTTP 400), refused with nothing changed
//! (exit 1, 409), inconsistent (exit 3, 500). Failing tests are not an error: the install's
//! [`Outcome`] is [`Outcome::Refused`].
//!
//! What it does not do: render anything, prompt, or read the process environment behind the
//! caller's back ([`Home::locate`] takes the variable as a value).
//!
//! # Limitations
//!
//! - Unix only (process groups, directory fsync).
//! - Installed packs that are not requested keep their versions: installing a pack that needs
//!   a newer version of an installed one is a conflict, not an upgrade of both.
//! - A pack's tests run in its staged directory, before its dependencies are activated; they
//!   find the home in `LOCKSTEP_HOME` and themselves in `LOCKSTEP_PACK_DIR`.
//! - `search` learns a version's core range from the index entry, a local directory, or a clone
//!   of a git source (one per matching entry); for an archive without `core` in its index
//!   entry, `compatible` is `None`.
//! - `core.contracts_major` is recorded but not checked: the home knows the core's version,
//!   not its contracts.
//!
//! ## Examples
//!
//! ```
//! use lockstep_packs::{Home, InstallOptions, Outcome, TestStatus, info, install, list};
//!
//! let dir = tempfile::tempdir()?;
//! let pack = dir.path().join("hello");
//! std::fs::create_dir(&pack)?;
//! std::fs::write(
//!     pack.join("pack.yaml"),
//!     "name: hello\nversion: 1.0.0\ndescription: says hello\n\
//!      tests:\n  command: [/bin/sh, -c, 'test -f pack.yaml']\n",
//! )?;
//! let home = Home::new(dir.path().join("home"));
//!
//! let done = install(&home, InstallOptions::new(vec!["hello".into()], dir.path()))?;
//! assert_eq!(done.outcome, Outcome::Installed);
//! assert!(home.pack_dir("hello").join("pack.yaml").is_file());
//! assert_eq!(list(&home)?.packs[0].version, "1.0.0");
//! assert_eq!(info(&home, "hello")?.tests[0].status, TestStatus::Passed.as_str());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod commands;
mod error;
pub mod home;
pub mod index;
mod install;
pub mod junit;
pub mod resolve;
mod runner;
mod source;
pub mod txn;

pub use commands::{
    CoreOutcome, InfoOutcome, ListOutcome, ListedPack, PackDetails, RemoveOptions, RemoveOutcome,
    SearchOptions, SearchOutcome, SearchResult, TestOptions, TestOutcome, TestRunInfo, info, list,
    remove, search, search_index, set_core, test,
};
pub use error::Error;
pub use home::Home;
pub use install::{InstallOptions, InstallOutcome, Outcome, PackReport, install};
pub use runner::{TestResult, TestStatus};
pub use source::Source;
pub use txn::{Recovery, recover};

/// Every failpoint of the pack workflows, in the order an install (then a removal) reaches
/// them; `LOCKSTEP_FAILPOINT=<name>` makes the process SIGKILL itself there.
pub const FAILPOINTS: &[&str] = &[
    "pack_fetched",
    "pack_testing",
    "pack_tested",
    "pack_activating",
    "pack_moved_old",
    "pack_moved_new",
    "pack_hooked",
    "pack_committed",
    "pack_cleaned",
    "pack_remove_moved",
    "pack_remove_committed",
];

/// The installed core: `explicit`, else the home's record, else unknown (with a warning).
fn core_version(
    store: &lockstep_store::Store,
    explicit: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Option<semver::Version>, Error> {
    if let Some(v) = explicit {
        return commands::parse_version(v).map(Some);
    }
    match store.pack_setting(home::CORE_SETTING)? {
        Some(v) => commands::parse_version(&v).map(Some),
        None => {
            warnings.push(
                "the installed core version is not known (pass --core-version or run `lockstep pack core set V`); core ranges were not checked"
                    .into(),
            );
            Ok(None)
        }
    }
}

/// The README's example, compiled and run as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;
