//! `lockstep pack …`: add-on packs. Glue only: parse, call one `lockstep-packs` function,
//! render.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use lockstep_packs::{
    Home, InfoOutcome, InstallOptions, InstallOutcome, Outcome, RemoveOptions, SearchOptions,
    TestOptions, TestResult, TestStatus,
};

use crate::cli::Common;
use crate::out::{BOLD, DIM, Failure, GREEN, Out, RED, Table, YELLOW, paint};

const AFTER: &str = "\
Examples:
  lockstep pack install ./packs/pg-connector
  lockstep pack install file:///srv/packs/tls.git@v1.2.0 --core-version 1.4.0
  lockstep pack install pg-connector@^1.2 --home /srv/platform/.lockstep
  lockstep pack install ./packs/flaky --force        # installs despite failing tests (audited)
  lockstep pack info pg-connector --json
  lockstep pack search postgres

The home (--home, else LOCKSTEP_HOME, else .lockstep/ of the git work tree) holds the installed
packs (packs/NAME/), the state database (state.db: every test run) and packs.toml
(indexes = [\"path-or-https-url\", …]).
Exit codes: 0 done (installed, forced or untested), 1 refused with nothing changed (failing
tests, already installed, a conflict, an incompatible core, a pack others require), 2 bad
input or error before any change, 3 interrupted and not undone (run `lockstep recover --home`).";

/// Add-on packs: install (tests run first), remove, list, search, info, test.
#[derive(Debug, Args)]
#[command(after_help = AFTER)]
pub struct PackArgs {
    #[command(subcommand)]
    action: PackAction,
    /// The pack home (default: $LOCKSTEP_HOME, else .lockstep/ at the root of the git work
    /// tree).
    #[arg(long, value_name = "DIR", global = true)]
    home: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
struct InstallFlags {
    /// Install even if tests fail (a risk acceptance goes to the audit log), or reinstall a
    /// version already installed.
    #[arg(long)]
    force: bool,
    /// Do not run the tests; the pack is recorded as untested.
    #[arg(long)]
    skip_tests: bool,
    /// Do not ask for confirmation on a terminal.
    #[arg(long)]
    yes: bool,
    /// The installed core version (default: the home's record, `pack core set`).
    #[arg(long, value_name = "V")]
    core_version: Option<String>,
}

#[derive(Debug, Subcommand)]
enum PackAction {
    /// Install packs: resolve, fetch, run their tests, then activate or roll back.
    #[command(after_help = "\
Examples:
  lockstep pack install ./packs/pg-connector
  lockstep pack install file:///srv/packs/tls.git@main ./packs/metrics
  lockstep pack install pg-connector@^1.2 --core-version 1.4.0
  lockstep pack install ./packs/flaky --force
  lockstep pack install ./packs/slow --skip-tests

SOURCE: a directory holding pack.yaml; a git URL with an optional @REF (branch, tag or
commit; file:// works offline); or NAME[@REQUIREMENT] from the indexes in HOME/packs.toml.
Missing requirements are installed too, dependencies first.
Exit codes: 0 installed (also forced or untested), 1 refused (nothing changed), 2 bad input.")]
    Install {
        /// What to install.
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<String>,
        #[command(flatten)]
        flags: InstallFlags,
    },
    /// Install the pack in a local directory (`install PATH`).
    #[command(after_help = "\
Examples:
  lockstep pack register ./packs/pg-connector
  lockstep pack register ./packs/flaky --force --json")]
    Register {
        /// The pack's directory.
        path: PathBuf,
        #[command(flatten)]
        flags: InstallFlags,
    },
    /// Remove an installed pack (refused while another installed pack requires it).
    #[command(after_help = "\
Examples:
  lockstep pack remove pg-connector --yes")]
    Remove {
        /// The pack.
        name: String,
        /// Do not ask for confirmation on a terminal.
        #[arg(long)]
        yes: bool,
    },
    /// List installed packs.
    #[command(after_help = "\
Examples:
  lockstep pack list
  lockstep pack list --json --home /srv/platform/.lockstep")]
    List,
    /// Show a pack: manifest, source, when and how it was installed, every test run.
    #[command(after_help = "\
Examples:
  lockstep pack info pg-connector")]
    Info {
        /// The pack.
        name: String,
    },
    /// Search the configured indexes by name, description and keyword.
    #[command(after_help = "\
Examples:
  lockstep pack search postgres --core-version 1.4.0")]
    Search {
        /// What to look for.
        term: String,
        /// The installed core version (default: the home's record).
        #[arg(long, value_name = "V")]
        core_version: Option<String>,
    },
    /// Run an installed pack's tests again and store the result.
    #[command(after_help = "\
Examples:
  lockstep pack test pg-connector

Exit codes: 0 passed or partial, 1 failed.")]
    Test {
        /// The pack.
        name: String,
    },
    /// The installed core version the home records.
    Core {
        #[command(subcommand)]
        action: CoreAction,
    },
}

#[derive(Debug, Subcommand)]
enum CoreAction {
    /// Record the installed core version.
    #[command(after_help = "\
Examples:
  lockstep pack core set 1.4.0")]
    Set {
        /// A SemVer version.
        version: String,
    },
}

impl PackArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let home = Home::locate(
            self.home.as_deref(),
            std::env::var_os(lockstep_packs::home::HOME_ENV),
            cwd,
        );
        match self.action {
            PackAction::Install { sources, flags } => install(&home, cwd, sources, flags, out),
            PackAction::Register { path, flags } => {
                if !cwd.join(&path).is_dir() {
                    return Err(Failure::input(
                        "bad_source",
                        format!(
                            "{} is not a directory; register takes a pack's directory (use `install` for git URLs and index names)",
                            path.display()
                        ),
                    ));
                }
                let path = cwd.join(&path).display().to_string();
                install(&home, cwd, vec![path], flags, out)
            }
            PackAction::Remove { name, yes } => {
                confirm(&format!("Remove {name}?"), yes)?;
                let mut opts = RemoveOptions::new(name);
                opts.command = command_line();
                let done = lockstep_packs::remove(&home, opts).map_err(failure)?;
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.pack-remove/v1",
                        "removed": done.removed,
                    }));
                } else {
                    for name in &done.removed {
                        out.print(&format!("{} {name}\n", paint(GREEN, "removed")));
                    }
                }
                Ok(0)
            }
            PackAction::List => {
                let done = lockstep_packs::list(&home).map_err(failure)?;
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.pack-list/v1",
                        "packs": done.packs,
                    }));
                } else if done.packs.is_empty() {
                    out.print(&format!("no packs installed in {}\n", home.dir().display()));
                } else {
                    let mut t = Table::new(&["NAME", "VERSION", "INSTALLED", "SOURCE"]);
                    for p in &done.packs {
                        t.row(vec![
                            p.name.clone(),
                            p.version.clone(),
                            p.installed_at.clone(),
                            p.source.clone(),
                        ]);
                    }
                    out.print(&t.render());
                }
                Ok(0)
            }
            PackAction::Info { name } => {
                let done = lockstep_packs::info(&home, &name).map_err(failure)?;
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.pack-info/v1",
                        "pack": done.pack,
                        "tests": done.tests,
                    }));
                } else {
                    out.print(&render_info(&name, &done));
                }
                Ok(0)
            }
            PackAction::Search { term, core_version } => {
                let mut opts = SearchOptions::new(term);
                opts.core_version = core_version;
                opts.registry = home.registry_options_from_env();
                let done = lockstep_packs::search(&home, opts).map_err(failure)?;
                warn(out, &done.warnings);
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.pack-search/v1",
                        "results": done.results,
                    }));
                } else if done.results.is_empty() {
                    out.print("no pack matches\n");
                } else {
                    let mut t = Table::new(&["NAME", "VERSION", "CORE", "DESCRIPTION"]);
                    for r in &done.results {
                        let compat = match r.compatible {
                            Some(true) => paint(GREEN, "compatible"),
                            Some(false) => paint(RED, "incompatible"),
                            None => paint(DIM, "unknown"),
                        };
                        let version = match &r.installed {
                            Some(v) if *v == r.version => format!("{} (installed)", r.version),
                            _ => r.version.clone(),
                        };
                        t.row(vec![r.name.clone(), version, compat, r.description.clone()]);
                    }
                    out.print(&t.render());
                }
                Ok(0)
            }
            PackAction::Test { name } => {
                let mut opts = TestOptions::new(name);
                opts.command = command_line();
                let done = lockstep_packs::test(&home, opts).map_err(failure)?;
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.pack-test/v1",
                        "name": done.name,
                        "version": done.version,
                        "test_result": done.test_result,
                    }));
                } else {
                    out.print(&format!(
                        "{} {}  {}\n",
                        done.name,
                        done.version,
                        result_line(&done.test_result)
                    ));
                    if done.failed() {
                        out.print(&indent(&done.test_result.output_tail));
                    }
                }
                Ok(if done.failed() { 1 } else { 0 })
            }
            PackAction::Core {
                action: CoreAction::Set { version },
            } => {
                let done = lockstep_packs::set_core(&home, &version).map_err(failure)?;
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.pack-core/v1",
                        "core_version": done.core_version,
                    }));
                } else {
                    out.print(&format!("installed core version: {}\n", done.core_version));
                }
                Ok(0)
            }
        }
    }
}

fn install(
    home: &Home,
    cwd: &Path,
    sources: Vec<String>,
    flags: InstallFlags,
    out: &Out,
) -> Result<u8, Failure> {
    confirm(&format!("Install {}?", sources.join(" ")), flags.yes)?;
    let opts = InstallOptions::new(sources, cwd)
        .force(flags.force)
        .skip_tests(flags.skip_tests)
        .core_version(flags.core_version)
        .command(command_line());
    let mut opts = opts;
    opts.registry = home.registry_options_from_env();
    let done = lockstep_packs::install(home, opts).map_err(failure)?;
    warn(out, &done.warnings);
    if out.json {
        out.print_json(&serde_json::json!({
            "schema": "lockstep.pack-install/v1",
            "outcome": done.outcome,
            "packs": done.packs,
        }));
    } else {
        out.print(&render_install(home, &done));
    }
    Ok(if done.outcome == Outcome::Refused {
        1
    } else {
        0
    })
}

fn render_install(home: &Home, done: &InstallOutcome) -> String {
    let mut s = String::new();
    if let Some(r) = &done.recovered {
        s.push_str(&format!(
            "recovered an interrupted pack transaction ({}): {}\n",
            r.txid, r.action
        ));
    }
    for p in &done.packs {
        let line = match &p.test_result {
            Some(r) => result_line(r),
            None => paint(DIM, "not tested"),
        };
        s.push_str(&format!(
            "  {} {}  {line}\n",
            paint(BOLD, &p.name),
            p.version
        ));
    }
    match done.outcome {
        Outcome::Installed => s.push_str(&format!("{}\n", paint(GREEN, "installed"))),
        Outcome::Untested => s.push_str(&format!(
            "{} installed without running tests (--skip-tests); recorded in {}\n",
            paint(YELLOW, "untested:"),
            home.audit_path().display()
        )),
        Outcome::Forced => s.push_str(&format!(
            "{} installed despite failing tests (--force); the risk acceptance is recorded in {}\n",
            paint(YELLOW, "warning:"),
            home.audit_path().display()
        )),
        Outcome::Refused => {
            if let Some(p) = done.packs.last()
                && let Some(r) = &p.test_result
            {
                s.push_str(&format!(
                    "{} the tests of {} {} failed (total {}, passed {}, failed {}, skipped {})\n",
                    paint(RED, "refused:"),
                    p.name,
                    p.version,
                    r.total,
                    r.passed,
                    r.failed,
                    r.skipped
                ));
                s.push_str(&indent(&r.output_tail));
            }
            s.push_str("nothing was installed; pass --force to install anyway\n");
        }
    }
    s
}

fn result_line(r: &TestResult) -> String {
    let style = match r.status {
        TestStatus::Passed => GREEN,
        TestStatus::Partial | TestStatus::Skipped => YELLOW,
        TestStatus::Failed => RED,
    };
    if r.status == TestStatus::Skipped {
        return paint(style, "tests skipped (--skip-tests)");
    }
    format!(
        "tests {} ({}/{} passed, {} failed, {} skipped, {:.1}s)",
        paint(style, r.status.as_str()),
        r.passed,
        r.total,
        r.failed,
        r.skipped,
        r.duration_ms as f64 / 1000.0
    )
}

fn render_info(name: &str, done: &InfoOutcome) -> String {
    let mut s = String::new();
    match &done.pack {
        Some(p) => {
            s.push_str(&format!("{} {}\n", paint(BOLD, &p.name), p.version));
            s.push_str(&format!("  {}\n", p.description));
            let kv = [
                ("keywords", p.keywords.join(", ")),
                ("source", p.source.clone()),
                ("core", p.core.clone()),
                (
                    "requires",
                    p.requires
                        .iter()
                        .map(|r| {
                            format!(
                                "{} {}",
                                r["name"].as_str().unwrap_or_default(),
                                r["version"].as_str().unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                ("installed", format!("{} ({})", p.installed_at, p.outcome)),
                ("by", p.installed_by.clone()),
            ];
            for (k, v) in kv {
                if !v.is_empty() {
                    s.push_str(&format!("  {k:<10} {v}\n"));
                }
            }
        }
        None => s.push_str(&format!("{name} is not installed\n")),
    }
    s.push_str(&format!(
        "\ntest runs ({}), newest first:\n",
        done.tests.len()
    ));
    let mut t = Table::new(&[
        "STARTED", "VERSION", "STATUS", "PASSED", "FAILED", "SKIPPED", "NOTE",
    ]);
    for r in &done.tests {
        let note = match (r.forced, r.skipped_by_user) {
            (_, true) => "--skip-tests",
            (true, _) => "--force",
            _ => "",
        };
        t.row(vec![
            r.started.clone(),
            r.version.clone(),
            r.status.clone(),
            format!("{}/{}", r.passed, r.total),
            r.failed.to_string(),
            r.skipped.to_string(),
            note.to_owned(),
        ]);
    }
    s.push_str(&t.render());
    s
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn warn(out: &Out, warnings: &[String]) {
    for w in warnings {
        out.eprint(&format!("{} {w}\n", paint(YELLOW, "warning:")));
    }
}

fn failure(e: lockstep_packs::Error) -> Failure {
    crate::fail::fail(e)
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("lockstep {}", args.join(" "))
}

/// On a terminal without --yes, asks first; without a terminal, proceeds (scripts and CI pass
/// what they mean on the command line).
fn confirm(question: &str, yes: bool) -> Result<(), Failure> {
    if yes || !std::io::stdin().is_terminal() {
        return Ok(());
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::input("io", format!("cannot read the answer: {e}")))?;
    if matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            "cancelled",
            "cancelled; nothing was changed",
        ))
    }
}

/// `recover --home DIR`: finishes or undoes an interrupted pack transaction, then lets the
/// fleet workflow clean what a crash left in the same home (dead lab runs, pending audit
/// records).
pub fn recover_home(home: &Path, out: &Out) -> Result<u8, Failure> {
    let recovered = lockstep_packs::recover(&Home::new(home)).map_err(failure)?;
    let fleet = lockstep_fleet::recover(&lockstep_fleet::Home::new(home, None))
        .map_err(crate::fail::fail)?;
    if out.json {
        out.print_json(&serde_json::json!({
            "schema": "lockstep.recover/v1",
            "recovered": recovered,
            "fleet": fleet,
        }));
        return Ok(0);
    }
    match recovered {
        None => out.print("nothing to recover: no interrupted pack transaction\n"),
        Some(r) => out.print(&format!(
            "recovered pack transaction {} ({:?} at {:?}): {}\n",
            r.txid, r.kind, r.step, r.action
        )),
    }
    if !fleet.removed.is_empty() || !fleet.killed_groups.is_empty() || fleet.audit_repaired {
        out.print(&format!(
            "fleet: removed {} dead lab run(s), killed {} process group(s){}\n",
            fleet.removed.len(),
            fleet.killed_groups.len(),
            if fleet.audit_repaired {
                ", repaired the audit log's torn tail"
            } else {
                ""
            }
        ));
    }
    Ok(0)
}
