//! The other pack commands: remove, list, info, search, test, and setting the core version.

use std::time::SystemTime;

use lockstep_manifest::{PackManifest, VersionBound};
use lockstep_state::failpoint;
use lockstep_store::packs::TestRunRow;
use semver::Version;
use serde::Serialize;

use crate::home::{CORE_SETTING, Home};
use crate::index::Index;
use crate::runner::{self, TestResult, TestStatus};
use crate::txn::{self, Journal, Kind, Move, Recovery, Step};
use crate::{Error, core_version};

/// What to remove.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoveOptions {
    /// The pack.
    pub name: String,
    /// The command line, for the lock and the record.
    pub command: String,
    /// Who, for the record.
    pub actor: String,
}

impl RemoveOptions {
    /// Removing `name`.
    pub fn new(name: impl Into<String>) -> Self {
        RemoveOptions {
            name: name.into(),
            command: "pack remove".into(),
            actor: lockstep_state::default_actor(),
        }
    }
}

/// What `remove` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RemoveOutcome {
    /// The packs removed.
    pub removed: Vec<String>,
    /// An interrupted transaction this command finished or undid first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovery>,
}

/// Removes an installed pack: refused while another installed pack requires it; its
/// `pre_remove` hook runs first and a failure refuses the removal.
pub fn remove(home: &Home, opts: RemoveOptions) -> Result<RemoveOutcome, Error> {
    let _lock = home.lock(&opts.command)?;
    let recovered = txn::recover_locked(home)?;
    let mut store = home.store()?;
    let installed = store.installed_packs()?;
    let Some(pack) = installed.iter().find(|p| p.name == opts.name) else {
        return Err(Error::NotInstalled { name: opts.name });
    };
    let by: Vec<String> = installed
        .iter()
        .filter(|p| p.name != opts.name)
        .filter(|p| {
            PackManifest::parse(&p.manifest)
                .is_ok_and(|m| m.requires.iter().any(|r| r.name == opts.name))
        })
        .map(|p| p.name.clone())
        .collect();
    if !by.is_empty() {
        return Err(Error::RequiredBy {
            name: opts.name,
            by,
        });
    }
    let txid = txn::new_txid();
    let mut journal = Journal::new(&txid, Kind::Remove, &opts.command, &opts.actor);
    let live = home.pack_dir(&opts.name);
    if let Ok(manifest) = PackManifest::parse(&pack.manifest)
        && let Some(hook) = &manifest.hooks.pre_remove
    {
        journal.step = Step::Testing;
        journal.save(home)?;
        let env = runner::pack_env(&manifest, &live, home.dir());
        let ran = runner::run_hook(hook, &live, &env, |pgid| {
            journal.pgid = pgid.map(|g| g.as_raw());
            let _ = journal.save(home);
        });
        let ran = match ran {
            Ok(r) => r,
            Err(e) => {
                home.journal().remove()?;
                return Err(e);
            }
        };
        if let Err((how, tail)) = ran {
            home.journal().remove()?;
            return Err(Error::HookFailed {
                name: opts.name,
                hook: "pre_remove",
                outcome: how,
                output_tail: tail,
            });
        }
    }
    journal.step = Step::Activating;
    journal.pgid = None;
    journal.moves = vec![Move {
        name: opts.name.clone(),
        staged: false,
    }];
    journal.save(home)?;
    let result = (|| {
        txn::move_in(home, &txid, &journal.moves)?;
        failpoint::hit("pack_remove_moved");
        let now = lockstep_state::time::rfc3339(SystemTime::now());
        store.commit_pack_transaction(
            &txid,
            "remove",
            &opts.command,
            &now,
            &[],
            std::slice::from_ref(&opts.name),
        )?;
        failpoint::hit("pack_remove_committed");
        txn::clean(home, &txid)?;
        home.journal().remove()?;
        Ok(())
    })();
    if let Err(e) = result {
        if store.pack_transaction_committed(&txid).unwrap_or(false) {
            return Err(e);
        }
        txn::move_back(home, &txid, &journal.moves)?;
        txn::clean(home, &txid)?;
        home.journal().remove()?;
        return Err(e);
    }
    Ok(RemoveOutcome {
        removed: vec![opts.name],
        recovered,
    })
}

/// One installed pack in `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ListedPack {
    /// The pack.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where it came from.
    pub source: String,
    /// When, RFC 3339 UTC.
    pub installed_at: String,
}

/// What `list` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ListOutcome {
    /// Installed packs, by name.
    pub packs: Vec<ListedPack>,
}

/// Every installed pack.
pub fn list(home: &Home) -> Result<ListOutcome, Error> {
    txn::recover_if_idle(home)?;
    let packs = home
        .store()?
        .installed_packs()?
        .into_iter()
        .map(|p| ListedPack {
            name: p.name,
            version: p.version,
            source: p.source,
            installed_at: p.installed_at,
        })
        .collect();
    Ok(ListOutcome { packs })
}

/// An installed pack in `info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackDetails {
    /// The pack.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line.
    pub description: String,
    /// Search words.
    pub keywords: Vec<String>,
    /// Where it came from.
    pub source: String,
    /// What it requires: `{name, version}`.
    pub requires: Vec<serde_json::Value>,
    /// Its core range, for people.
    pub core: String,
    /// When, RFC 3339 UTC.
    pub installed_at: String,
    /// The command line that installed it.
    pub installed_by: String,
    /// `installed`, `forced` or `untested`.
    pub outcome: String,
}

/// One stored test run in `info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TestRunInfo {
    /// The version tested.
    pub version: String,
    /// `passed`, `partial`, `failed` or `skipped`.
    pub status: String,
    /// Counts.
    pub total: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped by the tests.
    pub skipped: u64,
    /// RFC 3339 UTC.
    pub started: String,
    /// How long.
    pub duration_ms: u64,
    /// Whether the install used `--force`.
    pub forced: bool,
    /// Whether `--skip-tests` skipped it.
    pub skipped_by_user: bool,
}

/// What `info` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InfoOutcome {
    /// The installed pack; `None` when it is not installed but has test runs (a refused
    /// install).
    pub pack: Option<PackDetails>,
    /// Every test run, newest first.
    pub tests: Vec<TestRunInfo>,
}

/// An installed pack's manifest, source, installation and test history.
pub fn info(home: &Home, name: &str) -> Result<InfoOutcome, Error> {
    txn::recover_if_idle(home)?;
    let store = home.store()?;
    let runs = store.test_runs(name)?;
    let pack = store.installed_pack(name)?;
    if pack.is_none() && runs.is_empty() {
        return Err(Error::NotInstalled {
            name: name.to_owned(),
        });
    }
    let pack = pack.map(|p| {
        let m = PackManifest::parse(&p.manifest).ok();
        PackDetails {
            requires: m
                .as_ref()
                .map(|m| {
                    m.requires
                        .iter()
                        .map(|r| serde_json::json!({"name": r.name, "version": r.version.as_str()}))
                        .collect()
                })
                .unwrap_or_default(),
            core: m.as_ref().map(|m| m.core.describe()).unwrap_or_default(),
            name: p.name,
            version: p.version,
            description: p.description,
            keywords: p.keywords,
            source: p.source,
            installed_at: p.installed_at,
            installed_by: p.installed_by,
            outcome: p.outcome,
        }
    });
    let tests = runs.into_iter().map(run_info).collect();
    Ok(InfoOutcome { pack, tests })
}

fn run_info(r: TestRunRow) -> TestRunInfo {
    TestRunInfo {
        version: r.version,
        status: r.status,
        total: r.total,
        passed: r.passed,
        failed: r.failed,
        skipped: r.skipped,
        started: r.started,
        duration_ms: r.duration_ms,
        forced: r.forced,
        skipped_by_user: r.skipped_by_user,
    }
}

/// What to search for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SearchOptions {
    /// Matched, case-insensitively, against names, descriptions and keywords.
    pub term: String,
    /// The installed core, instead of the home's record of it.
    pub core_version: Option<String>,
    /// HTTP settings for URL indexes.
    pub registry: lockstep_registry::Options,
}

impl SearchOptions {
    /// Searching for `term`.
    pub fn new(term: impl Into<String>) -> Self {
        SearchOptions {
            term: term.into(),
            core_version: None,
            registry: lockstep_registry::Options::default(),
        }
    }
}

/// One offered version in `search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SearchResult {
    /// The pack.
    pub name: String,
    /// The version offered.
    pub version: String,
    /// One line.
    pub description: String,
    /// Whether it works with the installed core; `None` when its range is not known without
    /// downloading it (an archive whose index entry gives no `core`).
    pub compatible: Option<bool>,
    /// The installed version of this pack, if any.
    pub installed: Option<String>,
}

/// What `search` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SearchOutcome {
    /// Matches by name, newest version first.
    pub results: Vec<SearchResult>,
    /// Things the user should know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Searches the configured indexes.
pub fn search(home: &Home, opts: SearchOptions) -> Result<SearchOutcome, Error> {
    txn::recover_if_idle(home)?;
    let store = home.store()?;
    let mut warnings = Vec::new();
    let core = core_version(&store, opts.core_version.as_deref(), &mut warnings)?;
    let index = Index::load(home, &opts.registry)?;
    Ok(SearchOutcome {
        results: search_index(&index, &opts.term, core.as_ref(), |name| {
            store.installed_pack(name).ok().flatten().map(|p| p.version)
        }),
        warnings,
    })
}

/// Matches `term` in an index: the search behind [`search`], without a home.
pub fn search_index(
    index: &Index,
    term: &str,
    core: Option<&Version>,
    installed: impl Fn(&str) -> Option<String>,
) -> Vec<SearchResult> {
    let term = term.to_lowercase();
    let mut hits: Vec<&crate::index::IndexEntry> = index
        .entries()
        .iter()
        .filter(|e| {
            e.name.contains(&term)
                || e.description.to_lowercase().contains(&term)
                || e.keywords.iter().any(|k| k.to_lowercase().contains(&term))
        })
        .collect();
    hits.sort_by(|a, b| a.name.cmp(&b.name).then(b.version.cmp(&a.version)));
    hits.into_iter()
        .map(|e| {
            let compatible = match core {
                None => Some(true),
                Some(core) => core_range(e).map(|c| c.admits(core)),
            };
            SearchResult {
                name: e.name.clone(),
                version: e.version.to_string(),
                description: e.description.clone(),
                compatible,
                installed: installed(&e.name),
            }
        })
        .collect()
}

/// An entry's core range: from the index, else from its `pack.yaml` (a local directory is
/// read in place, a git source is cloned into a temp directory); `None` for archives.
fn core_range(e: &crate::index::IndexEntry) -> Option<lockstep_manifest::PackCore> {
    if let Some(n) = &e.needs {
        return Some(n.core.clone());
    }
    match crate::Source::from_index(&e.source).ok()? {
        crate::Source::Dir(dir) => crate::source::read_manifest(&dir).ok().map(|(m, _)| m.core),
        crate::Source::Git { url, reference } => {
            let tmp = std::env::temp_dir().join(format!(
                "lockstep-search-{}-{}-{}",
                std::process::id(),
                e.name,
                e.version
            ));
            let _ = std::fs::remove_dir_all(&tmp);
            let core = lockstep_snapshot::clone_at(&url, reference.as_deref(), &tmp)
                .ok()
                .and_then(|_| crate::source::read_manifest(&tmp).ok())
                .map(|(m, _)| m.core);
            let _ = std::fs::remove_dir_all(&tmp);
            core
        }
        _ => None,
    }
}

/// What to test.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestOptions {
    /// The installed pack.
    pub name: String,
    /// The command line, for the lock.
    pub command: String,
    /// Who.
    pub actor: String,
}

impl TestOptions {
    /// Testing `name`.
    pub fn new(name: impl Into<String>) -> Self {
        TestOptions {
            name: name.into(),
            command: "pack test".into(),
            actor: lockstep_state::default_actor(),
        }
    }
}

/// What `test` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TestOutcome {
    /// The pack.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The run, also stored.
    pub test_result: TestResult,
}

/// Runs an installed pack's tests again and stores the result.
pub fn test(home: &Home, opts: TestOptions) -> Result<TestOutcome, Error> {
    let _lock = home.lock(&opts.command)?;
    txn::recover_locked(home)?;
    let store = home.store()?;
    let Some(pack) = store.installed_pack(&opts.name)? else {
        return Err(Error::NotInstalled { name: opts.name });
    };
    let dir = home.pack_dir(&opts.name);
    let manifest = PackManifest::parse(&pack.manifest).map_err(|e| Error::InvalidManifest {
        path: dir.join(lockstep_manifest::PACK_FILE_NAME),
        problems: e.problems.iter().map(ToString::to_string).collect(),
    })?;
    let txid = txn::new_txid();
    let mut journal = Journal::new(&txid, Kind::Test, &opts.command, &opts.actor);
    journal.step = Step::Testing;
    journal.save(home)?;
    let env = runner::pack_env(&manifest, &dir, home.dir());
    let result = runner::run_tests(&manifest, &dir, &env, |pgid| {
        journal.pgid = pgid.map(|g| g.as_raw());
        let _ = journal.save(home);
    });
    home.journal().remove()?;
    let result = result?;
    store.insert_test_run(&result.row(&opts.name, &pack.version, &txid, false, false))?;
    Ok(TestOutcome {
        name: opts.name,
        version: pack.version,
        test_result: result,
    })
}

impl TestOutcome {
    /// Whether the tests failed.
    pub fn failed(&self) -> bool {
        self.test_result.status == TestStatus::Failed
    }
}

/// What `core set` recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CoreOutcome {
    /// The installed core version now on record.
    pub core_version: String,
}

/// Records the installed core version in the home.
pub fn set_core(home: &Home, version: &str) -> Result<CoreOutcome, Error> {
    let v = parse_version(version)?;
    let _lock = home.lock("pack core set")?;
    home.store()?
        .set_pack_setting(CORE_SETTING, &v.to_string())?;
    Ok(CoreOutcome {
        core_version: v.to_string(),
    })
}

pub(crate) fn parse_version(text: &str) -> Result<Version, Error> {
    match text.trim().parse::<VersionBound>() {
        Ok(VersionBound::Exact(v)) => Ok(v),
        _ => Err(Error::BadVersion {
            text: text.to_owned(),
        }),
    }
}
