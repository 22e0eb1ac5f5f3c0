//! `pack install SOURCE…` (and `pack register PATH`): resolve, fetch into staging, run each
//! pack's tests in dependency order, then activate atomically or roll back. See [`crate::txn`]
//! for the journal and recovery.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::SystemTime;

use lockstep_state::failpoint;
use lockstep_store::packs::InstalledPack;
use lockstep_vocab::{Ecosystem, Requirement};
use semver::Version;
use serde::Serialize;

use crate::home::Home;
use crate::index::{Index, IndexEntry, Needs};
use crate::resolve::{self, Problem};
use crate::runner::{self, TestResult, TestStatus};
use crate::source::{self, Fetched, Source};
use crate::txn::{self, AuditIntent, Journal, Kind, Move, Recovery, Step};
use crate::{Error, core_version};

/// What to install, and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InstallOptions {
    /// Directories, git URLs with `@REF`, archive URLs, or `NAME[@REQUIREMENT]`.
    pub sources: Vec<String>,
    /// Install even when tests fail (recorded as a risk acceptance), or reinstall a version
    /// already installed.
    pub force: bool,
    /// Do not run the tests (recorded as such).
    pub skip_tests: bool,
    /// The installed core, instead of the home's record of it.
    pub core_version: Option<String>,
    /// Where relative directory sources are read from.
    pub cwd: PathBuf,
    /// The command line, recorded with the installed packs and in the lock.
    pub command: String,
    /// Who, for the audit log.
    pub actor: String,
    /// HTTP settings for indexes and archives.
    pub registry: lockstep_registry::Options,
}

impl InstallOptions {
    /// Installing `sources` with tests, not forced.
    pub fn new(sources: Vec<String>, cwd: impl Into<PathBuf>) -> Self {
        InstallOptions {
            sources,
            force: false,
            skip_tests: false,
            core_version: None,
            cwd: cwd.into(),
            command: "pack install".into(),
            actor: lockstep_state::default_actor(),
            registry: lockstep_registry::Options::default(),
        }
    }

    /// Sets `force`.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Sets `skip_tests`.
    pub fn skip_tests(mut self, skip: bool) -> Self {
        self.skip_tests = skip;
        self
    }

    /// Sets the installed core version.
    pub fn core_version(mut self, version: Option<String>) -> Self {
        self.core_version = version;
        self
    }

    /// Sets the command line recorded.
    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = command.into();
        self
    }
}

/// How an install ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Installed, every test passed (or passed partially).
    Installed,
    /// Tests failed; nothing was changed.
    Refused,
    /// Installed with `--force` although tests failed.
    Forced,
    /// Installed with `--skip-tests`.
    Untested,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Installed => "installed",
            Outcome::Refused => "refused",
            Outcome::Forced => "forced",
            Outcome::Untested => "untested",
        }
    }
}

/// One pack of an install, in installation order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackReport {
    /// The pack.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where it came from, as resolved.
    pub source: String,
    /// Its test run, `None` when it was not tested (an earlier pack's tests failed).
    pub test_result: Option<TestResult>,
    /// Whether `--skip-tests` skipped its tests.
    pub tests_skipped: bool,
}

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InstallOutcome {
    /// How it ended.
    pub outcome: Outcome,
    /// The packs, dependencies first.
    pub packs: Vec<PackReport>,
    /// Things the user should know (the core check was skipped, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// An interrupted transaction this command finished or undid first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovery>,
}

/// Installs packs; see the [crate documentation](crate).
///
/// # Errors
///
/// Bad input before any change ([`Error::BadSource`], [`Error::InvalidManifest`],
/// [`Error::Fetch`], …), refusals with nothing changed ([`Error::Conflict`],
/// [`Error::IncompatibleCore`], [`Error::AlreadyInstalled`], [`Error::HookFailed`]). Failing
/// tests are not an error: the outcome is [`Outcome::Refused`].
pub fn install(home: &Home, opts: InstallOptions) -> Result<InstallOutcome, Error> {
    let _lock = home.lock(&opts.command)?;
    let recovered = txn::recover_locked(home)?;
    let store = home.store()?;
    let mut warnings = Vec::new();
    let core = core_version(&store, opts.core_version.as_deref(), &mut warnings)?;
    let txid = txn::new_txid();
    let journal = Journal::new(&txid, Kind::Install, &opts.command, &opts.actor);
    journal.save(home)?;
    let mut tx = Tx {
        home,
        opts: &opts,
        store,
        journal,
        core,
        prefetched: BTreeMap::new(),
    };
    let result = tx.run();
    // Refused, failed before activation, or undone: staging and the journal go. An
    // inconsistent home keeps its journal for `recover`.
    if !matches!(result, Err(Error::Inconsistent { .. })) && home.journal().exists() {
        txn::clean(home, &txid)?;
        home.journal().remove()?;
    }
    let (outcome, packs) = result?;
    Ok(InstallOutcome {
        outcome,
        packs,
        warnings,
        recovered,
    })
}

struct Tx<'a> {
    home: &'a Home,
    opts: &'a InstallOptions,
    store: lockstep_store::Store,
    journal: Journal,
    core: Option<Version>,
    /// Index packs fetched while resolving, to learn what they need.
    prefetched: BTreeMap<(String, Version), Fetched>,
}

impl Tx<'_> {
    fn staging(&self) -> PathBuf {
        self.home.staging_dir(&self.journal.txid)
    }

    fn run(&mut self) -> Result<(Outcome, Vec<PackReport>), Error> {
        let opts = self.opts;
        let sources: Vec<Source> = opts
            .sources
            .iter()
            .map(|s| Source::parse(s, &opts.cwd))
            .collect::<Result<_, _>>()?;
        // Direct sources are fetched first: their pack.yaml says what they are.
        let mut direct: BTreeMap<String, Fetched> = BTreeMap::new();
        let mut wanted: Vec<(String, Requirement)> = Vec::new();
        for (i, (src, text)) in sources.iter().zip(&opts.sources).enumerate() {
            if let Source::Index { name, requirement } = src {
                wanted.push((name.clone(), requirement.clone()));
                continue;
            }
            let dest = self.staging().join("fetch").join(format!("src-{i}"));
            let f = source::fetch(src, text, None, &dest, &opts.registry)?;
            if let Some(core) = &self.core
                && !f.manifest.core.admits(core)
            {
                return Err(Error::IncompatibleCore {
                    name: f.manifest.name.clone(),
                    version: f.manifest.version.to_string(),
                    range: f.manifest.core.describe(),
                    core: core.to_string(),
                });
            }
            if direct.contains_key(&f.manifest.name) {
                return Err(Error::BadSource {
                    text: text.clone(),
                    reason: format!("{} is given twice", f.manifest.name),
                });
            }
            direct.insert(f.manifest.name.clone(), f);
        }
        failpoint::hit("pack_fetched");
        let installed: BTreeMap<String, InstalledPack> = self
            .store
            .installed_packs()?
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        let index = Index::load(self.home, &opts.registry)?;
        for (name, _) in &wanted {
            if index.versions_of(name).next().is_none() && !installed.contains_key(name) {
                return Err(Error::NotInIndex {
                    name: name.clone(),
                    indexes: if index.locations.is_empty() {
                        "none configured".into()
                    } else {
                        index.locations.join(", ")
                    },
                    config: self.home.config_path(),
                });
            }
        }
        let selection = self.resolve(&direct, &wanted, &installed, &index)?;
        let requested: BTreeSet<&str> = direct
            .keys()
            .map(String::as_str)
            .chain(wanted.iter().map(|(n, _)| n.as_str()))
            .collect();
        // What changes: new packs, other versions, and forced reinstalls of requested ones.
        let mut plan: Vec<(String, Version)> = Vec::new();
        for (name, version) in &selection {
            let same = installed
                .get(name)
                .is_some_and(|p| p.version == version.to_string());
            if same && requested.contains(name.as_str()) && !opts.force {
                return Err(Error::AlreadyInstalled {
                    name: name.clone(),
                    version: version.to_string(),
                });
            }
            if !same || requested.contains(name.as_str()) {
                plan.push((name.clone(), version.clone()));
            }
        }
        let mut staged: BTreeMap<String, Fetched> = BTreeMap::new();
        for (name, version) in &plan {
            let f = self.take(name, version, &mut direct, &index, &installed)?;
            let dest = self.staging().join(name);
            std::fs::rename(&f.dir, &dest).map_err(|e| Error::io("move", &f.dir, e))?;
            staged.insert(name.clone(), Fetched { dir: dest, ..f });
        }
        let order = install_order(&staged);
        self.test_and_activate(&order, &staged)
    }

    fn resolve(
        &mut self,
        direct: &BTreeMap<String, Fetched>,
        wanted: &[(String, Requirement)],
        installed: &BTreeMap<String, InstalledPack>,
        index: &Index,
    ) -> Result<BTreeMap<String, Version>, Error> {
        let mut problem = Problem {
            core: self.core.clone(),
            ..Problem::default()
        };
        for (name, f) in direct {
            let exact = Requirement::parse(&format!("={}", f.manifest.version), Ecosystem::Cargo)
                .map_err(|_| Error::BadVersion {
                text: f.manifest.version.to_string(),
            })?;
            problem.requested.push((name.clone(), exact));
            problem
                .candidates
                .insert(name.clone(), vec![f.manifest.version.clone()]);
        }
        problem.requested.extend(wanted.iter().cloned());
        for e in index.entries() {
            if !direct.contains_key(&e.name) {
                problem
                    .candidates
                    .entry(e.name.clone())
                    .or_default()
                    .push(e.version.clone());
            }
        }
        for (name, p) in installed {
            if let Ok(v) = Version::parse(&p.version) {
                if !direct.contains_key(name) {
                    problem
                        .candidates
                        .entry(name.clone())
                        .or_default()
                        .push(v.clone());
                }
                problem.held.insert(name.clone(), v);
            }
        }
        let staging = self.staging().join("fetch");
        let opts = self.opts;
        let registry = &opts.registry;
        let mut fetched: BTreeMap<(String, Version), Fetched> = BTreeMap::new();
        let mut needs = |name: &str, version: &Version| -> Result<Needs, Error> {
            if let Some(f) = direct.get(name) {
                return Ok(needs_of(&f.manifest));
            }
            if let Some(e) = index.versions_of(name).find(|e| e.version == *version) {
                if let Some(n) = &e.needs {
                    return Ok(n.clone());
                }
                let f = fetch_entry(e, &staging, registry)?;
                let n = needs_of(&f.manifest);
                fetched.insert((name.to_owned(), version.clone()), f);
                return Ok(n);
            }
            if let Some(p) = installed.get(name)
                && p.version == version.to_string()
                && let Ok(m) = lockstep_manifest::PackManifest::parse(&p.manifest)
            {
                return Ok(needs_of(&m));
            }
            Ok(Needs {
                requires: Vec::new(),
                core: Default::default(),
            })
        };
        let selection = resolve::resolve(&problem, &mut needs)?;
        self.prefetched = fetched;
        Ok(selection)
    }

    /// The fetched copy of NAME@VERSION: a direct source, one fetched while resolving, a
    /// fresh fetch from the index, or (a forced reinstall) the installed copy.
    fn take(
        &mut self,
        name: &str,
        version: &Version,
        direct: &mut BTreeMap<String, Fetched>,
        index: &Index,
        installed: &BTreeMap<String, InstalledPack>,
    ) -> Result<Fetched, Error> {
        if let Some(f) = direct.remove(name) {
            return Ok(f);
        }
        if let Some(f) = self.prefetched.remove(&(name.to_owned(), version.clone())) {
            return Ok(f);
        }
        let fetch_dir = self.staging().join("fetch");
        if let Some(e) = index.versions_of(name).find(|e| e.version == *version) {
            return fetch_entry(e, &fetch_dir, &self.opts.registry);
        }
        match installed.get(name) {
            Some(p) if p.version == version.to_string() => {
                let dest = fetch_dir.join(format!("installed-{name}"));
                source::copy_tree(&self.home.pack_dir(name), &dest)?;
                let (manifest, manifest_text) = source::read_manifest(&dest)?;
                Ok(Fetched {
                    dir: dest,
                    manifest,
                    manifest_text,
                    source: p.source.clone(),
                })
            }
            _ => Err(Error::NotInIndex {
                name: name.to_owned(),
                indexes: index.locations.join(", "),
                config: self.home.config_path(),
            }),
        }
    }

    fn test_and_activate(
        &mut self,
        order: &[String],
        staged: &BTreeMap<String, Fetched>,
    ) -> Result<(Outcome, Vec<PackReport>), Error> {
        let opts = self.opts;
        let home = self.home;
        let mut reports = Vec::new();
        let mut failed_any = Vec::new();
        for name in order {
            let f = &staged[name];
            let result = if opts.skip_tests {
                TestResult::skipped_by_user()
            } else {
                self.journal.step = Step::Testing;
                self.journal.save(home)?;
                let env = runner::pack_env(&f.manifest, &f.dir, home.dir());
                let journal = &mut self.journal;
                runner::run_tests(&f.manifest, &f.dir, &env, |pgid| {
                    journal.pgid = pgid.map(|g| g.as_raw());
                    if let Err(e) = journal.save(home) {
                        tracing::warn!(error = %e, "cannot record the test process group");
                    }
                    if pgid.is_some() {
                        failpoint::hit("pack_testing");
                    }
                })?
            };
            self.store.insert_test_run(&result.row(
                name,
                &f.manifest.version.to_string(),
                &self.journal.txid,
                opts.force,
                opts.skip_tests,
            ))?;
            let failed = result.status == TestStatus::Failed;
            reports.push(PackReport {
                name: name.clone(),
                version: f.manifest.version.to_string(),
                source: f.source.clone(),
                test_result: Some(result),
                tests_skipped: opts.skip_tests,
            });
            if failed {
                if !opts.force {
                    // Fail fast: nothing was changed; `install` removes staging and the journal.
                    return Ok((Outcome::Refused, reports));
                }
                failed_any.push(name.clone());
            }
        }
        failpoint::hit("pack_tested");
        let outcome = if opts.skip_tests {
            Outcome::Untested
        } else if failed_any.is_empty() {
            Outcome::Installed
        } else {
            Outcome::Forced
        };
        self.journal.step = Step::Activating;
        self.journal.pgid = None;
        self.journal.moves = order
            .iter()
            .map(|n| Move {
                name: n.clone(),
                staged: true,
            })
            .collect();
        self.journal.audit = audit_intents(outcome, &reports, &failed_any);
        self.journal.save(home)?;
        failpoint::hit("pack_activating");
        match self.activate(order, staged, outcome, &failed_any) {
            Ok(()) => Ok((outcome, reports)),
            Err(e) => Err(self.undo(e)),
        }
    }

    fn activate(
        &mut self,
        order: &[String],
        staged: &BTreeMap<String, Fetched>,
        outcome: Outcome,
        failed: &[String],
    ) -> Result<(), Error> {
        let home = self.home;
        let txid = self.journal.txid.clone();
        txn::move_in(home, &txid, &self.journal.moves)?;
        for name in order {
            let f = &staged[name];
            let Some(hook) = &f.manifest.hooks.post_install else {
                continue;
            };
            let live = home.pack_dir(name);
            let env = runner::pack_env(&f.manifest, &live, home.dir());
            let journal = &mut self.journal;
            let ran = runner::run_hook(hook, &live, &env, |pgid| {
                journal.pgid = pgid.map(|g| g.as_raw());
                let _ = journal.save(home);
            })?;
            if let Err((how, tail)) = ran {
                return Err(Error::HookFailed {
                    name: name.clone(),
                    hook: "post_install",
                    outcome: how,
                    output_tail: tail,
                });
            }
        }
        failpoint::hit("pack_hooked");
        let now = lockstep_state::time::rfc3339(SystemTime::now());
        let rows: Vec<InstalledPack> = order
            .iter()
            .map(|name| {
                let f = &staged[name];
                let pack_outcome = match outcome {
                    Outcome::Untested => "untested",
                    _ if failed.contains(name) => "forced",
                    _ => "installed",
                };
                InstalledPack::new(
                    name.clone(),
                    f.manifest.version.to_string(),
                    f.manifest.description.clone(),
                    f.manifest.keywords.clone(),
                    f.source.clone(),
                    f.manifest_text.clone(),
                    now.clone(),
                    self.opts.command.clone(),
                    pack_outcome,
                    txid.clone(),
                )
            })
            .collect();
        self.store.commit_pack_transaction(
            &txid,
            "install",
            &self.opts.command,
            &now,
            &rows,
            &[],
        )?;
        failpoint::hit("pack_committed");
        txn::write_audit(home, &self.journal)?;
        txn::clean(home, &txid)?;
        failpoint::hit("pack_cleaned");
        home.journal().remove()?;
        Ok(())
    }

    /// After a failure during activation (before the database committed): moves everything
    /// back. If that fails too, the journal stays for `recover`.
    fn undo(&mut self, error: Error) -> Error {
        let home = self.home;
        let txid = self.journal.txid.clone();
        let committed = self
            .store
            .pack_transaction_committed(&txid)
            .unwrap_or(false);
        if committed {
            // Only the bookkeeping after the commit failed: recovery finishes it.
            return Error::Inconsistent {
                message: format!("installed, but could not finish: {error}"),
                journal: home.journal_path(),
                home: home.dir().to_path_buf(),
            };
        }
        let undone = txn::move_back(home, &txid, &self.journal.moves)
            .and_then(|()| txn::clean(home, &txid))
            .and_then(|()| Ok(home.journal().remove()?));
        match undone {
            Ok(()) => error,
            Err(e) => Error::Inconsistent {
                message: format!("{error}; undoing it failed too: {e}"),
                journal: home.journal_path(),
                home: home.dir().to_path_buf(),
            },
        }
    }
}

/// The risk records a forced or untested install leaves in the audit log.
fn audit_intents(outcome: Outcome, reports: &[PackReport], failed: &[String]) -> Vec<AuditIntent> {
    let packs: Vec<String> = reports
        .iter()
        .map(|r| format!("{}@{}", r.name, r.version))
        .collect();
    let mut details = serde_json::Map::new();
    details.insert("packs".into(), packs.into());
    match outcome {
        Outcome::Forced => {
            details.insert("failed_tests".into(), failed.to_vec().into());
            details.insert(
                "risk".into(),
                "installed despite failing tests (--force): the user accepted the risk".into(),
            );
            vec![AuditIntent {
                action: lockstep_audit::action::FORCED.into(),
                outcome: "risk_accepted".into(),
                details,
            }]
        }
        Outcome::Untested => {
            details.insert(
                "risk".into(),
                "installed without running its tests (--skip-tests)".into(),
            );
            vec![AuditIntent {
                action: lockstep_audit::action::TESTS_SKIPPED.into(),
                outcome: "untested".into(),
                details,
            }]
        }
        _ => Vec::new(),
    }
}

pub(crate) fn needs_of(m: &lockstep_manifest::PackManifest) -> Needs {
    Needs {
        requires: m
            .requires
            .iter()
            .map(|r| (r.name.clone(), r.version.clone()))
            .collect(),
        core: m.core.clone(),
    }
}

/// Fetches an index entry into `dir/NAME-VERSION` and checks it is what the index says.
fn fetch_entry(
    e: &IndexEntry,
    dir: &std::path::Path,
    registry: &lockstep_registry::Options,
) -> Result<Fetched, Error> {
    let src = Source::from_index(&e.source)?;
    let dest = dir.join(format!("{}-{}", e.name, e.version));
    let f = source::fetch(&src, &e.source, e.sha256.as_deref(), &dest, registry)?;
    if f.manifest.name != e.name || f.manifest.version != e.version {
        return Err(Error::NotAsIndexed {
            source_text: e.source.clone(),
            found: format!("{}@{}", f.manifest.name, f.manifest.version),
            expected: format!("{}@{}", e.name, e.version),
        });
    }
    Ok(f)
}

/// Dependencies first; among packs that could go next, by name.
fn install_order(staged: &BTreeMap<String, Fetched>) -> Vec<String> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < staged.len() {
        let next = staged
            .iter()
            .find(|(name, f)| {
                !done.contains(*name)
                    && f.manifest
                        .requires
                        .iter()
                        .all(|r| done.contains(&r.name) || !staged.contains_key(&r.name))
            })
            .map(|(n, _)| n.clone());
        // A cycle (the resolver allows one): take the first remaining by name.
        let next = next.or_else(|| staged.keys().find(|n| !done.contains(*n)).cloned());
        let Some(n) = next else { break };
        done.insert(n.clone());
        order.push(n);
    }
    order
}
