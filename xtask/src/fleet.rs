//! `lockstep watch|lab|known-good|pin|resolve|notify …`: fleet updates, part 1.
//!
//! Glue only: parse, open the home, call one `lockstep_fleet` function, render.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use lockstep_fleet::events::{DeliveryReport, Notifier};
use lockstep_fleet::spec::ComponentVersion;
use lockstep_fleet::{Fleet, Home, lab, watch};
use serde::Serialize;

use crate::cli::Common;
use crate::cli::env;
use crate::fail::fail;
use crate::out::{BOLD, DIM, Failure, GREEN, Out, RED, Table, YELLOW, paint};

mod notify;
mod registry;

pub use notify::NotifyArgs;
pub use registry::{KnownGoodArgs, PinArgs, ResolveArgs};

/// Where the fleet's state is.
#[derive(Debug, Args, Clone)]
pub struct Place {
    /// The home directory (default: $LOCKSTEP_HOME, else .lockstep/ at the work tree's root).
    #[arg(long, value_name = "DIR", global = true)]
    pub home: Option<PathBuf>,
    /// The state database (default: $LOCKSTEP_STORE, else HOME/state.db).
    #[arg(long, value_name = "PATH", global = true)]
    pub store: Option<PathBuf>,
}

impl Place {
    pub(crate) fn home(&self, cwd: &Path) -> Home {
        let home = self
            .home
            .clone()
            .or_else(|| env("LOCKSTEP_HOME").map(PathBuf::from));
        let store = self
            .store
            .clone()
            .or_else(|| env("LOCKSTEP_STORE").map(PathBuf::from));
        Home::resolve(cwd, home, store)
    }

    pub(crate) fn open(&self, cwd: &Path) -> Result<(Fleet, Notifier), Failure> {
        let home = self.home(cwd);
        let notifier = Notifier::load(&home).map_err(fail)?;
        let fleet = Fleet::open(&home).map_err(fail)?;
        Ok((fleet, notifier))
    }
}

fn parse<T: std::str::FromStr<Err = lockstep_fleet::Error>>(s: &str) -> Result<T, Failure> {
    s.parse().map_err(fail)
}

pub(crate) fn actor(by: Option<String>) -> String {
    by.or_else(|| env("LOCKSTEP_ACTOR"))
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "lockstep".to_owned())
}

#[derive(Serialize)]
struct Schema<'a, T: Serialize> {
    schema: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

fn json<T: Serialize>(out: &Out, schema: &str, body: &T) {
    out.print_json(&Schema { schema, body });
}

pub(crate) fn print_deliveries(out: &Out, deliveries: &[DeliveryReport]) {
    for d in deliveries {
        let status = if d.delivered {
            paint(GREEN, "delivered")
        } else {
            paint(
                RED,
                &format!("not delivered ({})", d.error.as_deref().unwrap_or("?")),
            )
        };
        out.eprint(&format!(
            "notified {} {} → {status} after {} attempt(s)\n",
            d.event, d.url, d.attempts
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// watch

/// `lockstep watch …`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep watch add npm:@google/gemini-cli
  lockstep watch add pypi:black && lockstep watch add crates:serde && lockstep watch add github:actions/runner
  lockstep watch check --exit-code --json      # exit 100 when a new version appeared
  lockstep watch check --notify                # send new_version to notify.toml's webhooks
  lockstep watch list

Registry bases: LOCKSTEP_NPM_REGISTRY, LOCKSTEP_PYPI_URL, LOCKSTEP_CRATES_INDEX (sparse+URL/),
LOCKSTEP_GITHUB_API (and GITHUB_TOKEN). Plain http:// only to loopback.
Exit codes: 0 checked, 100 new versions (--exit-code), 2 bad input or a source failed.")]
pub struct WatchArgs {
    #[command(subcommand)]
    action: WatchAction,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
enum WatchAction {
    /// Watch an upstream source: npm:NAME, pypi:NAME, crates:NAME or github:OWNER/REPO.
    Add {
        /// The source.
        source: String,
    },
    /// Stop watching a source (and forget the versions seen).
    Remove {
        /// The source.
        source: String,
    },
    /// The watched sources, their latest version and last check.
    List,
    /// Fetch every source and record versions not seen before.
    Check {
        /// Exit 100 when a new version appeared.
        #[arg(long)]
        exit_code: bool,
        /// Send `new_version` to the webhooks of notify.toml.
        #[arg(long)]
        notify: bool,
        /// Seconds one fetch may take.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
    },
}

impl WatchArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let (mut fleet, notifier) = self.place.open(cwd)?;
        match self.action {
            WatchAction::Add { source } => {
                let added = watch::add(&fleet, &source, SystemTime::now()).map_err(fail)?;
                if out.json {
                    json(out, "lockstep.watch-add/v1", &added);
                } else if added.added {
                    out.print(&format!("watching {}\n", added.source));
                } else {
                    out.print(&format!("already watching {}\n", added.source));
                }
                Ok(0)
            }
            WatchAction::Remove { source } => {
                let removed = watch::remove(&fleet, &source).map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.watch-remove/v1",
                        &serde_json::json!({"source": source, "removed": removed}),
                    );
                } else {
                    out.print(&format!(
                        "{} {source}\n",
                        if removed {
                            "stopped watching"
                        } else {
                            "was not watching"
                        }
                    ));
                }
                Ok(0)
            }
            WatchAction::List => {
                let list = watch::list(&fleet).map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.watch-list/v1",
                        &serde_json::json!({"sources": list}),
                    );
                } else if list.is_empty() {
                    out.print("no sources watched; add one with `lockstep watch add npm:NAME`\n");
                } else {
                    let mut t =
                        Table::new(&["SOURCE", "LATEST", "VERSIONS", "LAST CHECK", "STATUS"]);
                    for w in &list {
                        t.row(vec![
                            w.source.clone(),
                            w.latest.clone().unwrap_or_else(|| "-".into()),
                            w.versions.to_string(),
                            w.last_checked_at.clone().unwrap_or_else(|| "never".into()),
                            match (&w.last_status, &w.last_error) {
                                (Some(s), None) => s.clone(),
                                (_, Some(e)) => paint(RED, &format!("error: {e}")),
                                _ => "-".into(),
                            },
                        ]);
                    }
                    out.print(&t.render());
                }
                Ok(0)
            }
            WatchAction::Check {
                exit_code,
                notify,
                timeout,
            } => {
                let mut opts = watch::CheckOptions::from_env(fleet.home());
                opts.registry.timeout = Duration::from_secs(timeout.max(1));
                opts.notify = notify;
                let outcome = watch::check(&mut fleet, &notifier, &opts).map_err(fail)?;
                let failed = outcome.sources.iter().any(|s| s.status == "error");
                if out.json {
                    json(out, "lockstep.watch-check/v1", &outcome);
                } else {
                    for n in &outcome.new {
                        out.print(&format!(
                            "{} {} {}{}{}\n",
                            paint(GREEN, "new"),
                            n.source,
                            paint(BOLD, &n.version),
                            if n.prerelease { " (pre-release)" } else { "" },
                            n.released_at
                                .as_ref()
                                .map(|t| format!(" released {t}"))
                                .unwrap_or_default()
                        ));
                    }
                    for s in &outcome.sources {
                        match &s.error {
                            Some(e) => {
                                out.eprint(&format!("{} {}: {e}\n", paint(RED, "error:"), s.source))
                            }
                            None if outcome.new.iter().all(|n| n.source != s.source) => {
                                out.print(&format!(
                                    "{} {}: no new versions (latest {})\n",
                                    paint(DIM, "ok"),
                                    s.source,
                                    s.latest.as_deref().unwrap_or("-")
                                ))
                            }
                            None => {}
                        }
                    }
                    print_deliveries(out, &outcome.notifications);
                }
                // A failed source is never "no new versions": exit 2, unless another source
                // found something new (then 100 with --exit-code, else 0).
                if !outcome.new.is_empty() && exit_code {
                    Ok(100)
                } else if failed && outcome.new.is_empty() {
                    Ok(2)
                } else {
                    Ok(0)
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// lab

/// `lockstep lab …`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep lab run gemini-cli@0.9.0 --canaries lab.toml
  lockstep lab run serde@1.0.228 --canaries fixtures/fleet/lab.toml --jobs 2 --json
  lockstep lab show gemini-cli@0.9.0

lab.toml: [[canary]] tables with name, path, test (a command run with sh -c), timeout
(seconds), and core = {mode = \"pin\", file, dependency} | {mode = \"command\", install}.
Each canary is tested in a throwaway copy under HOME/lab (never the canary itself).
Verdict: green (all passed), yellow (passed with warnings: a flaky rerun, a canary not
applicable, warnings written to $LOCKSTEP_LAB_WARNINGS), red (any failure).
Exit codes: 0 green or yellow, 1 red, 2 bad input.")]
pub struct LabArgs {
    #[command(subcommand)]
    action: LabAction,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
enum LabAction {
    /// Test NAME@VERSION on the canaries of lab.toml.
    Run {
        /// The candidate, NAME@VERSION.
        target: String,
        /// The lab file.
        #[arg(long, value_name = "FILE", default_value = "lab.toml")]
        canaries: PathBuf,
        /// Canaries tested at once (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// The newest stored lab result of NAME@VERSION.
    Show {
        /// NAME@VERSION.
        target: String,
    },
}

impl LabArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let (mut fleet, notifier) = self.place.open(cwd)?;
        let outcome = match self.action {
            LabAction::Run {
                target,
                canaries,
                jobs,
            } => {
                let mut opts = lab::LabOptions::new(parse(&target)?, cwd.join(canaries));
                if let Some(j) = jobs {
                    opts.jobs = j.max(1);
                }
                let progress = |line: &str| {
                    if !out.json {
                        out.eprint(&format!("{}\n", paint(DIM, line)));
                    }
                };
                lab::run(&mut fleet, &notifier, &opts, &progress).map_err(fail)?
            }
            LabAction::Show { target } => {
                let t: ComponentVersion = parse(&target)?;
                lab::show(&fleet, &t).map_err(fail)?.ok_or_else(|| {
                    Failure::new(1, "no_lab_result", format!("{t} has no lab result"))
                })?
            }
        };
        if out.json {
            json(out, "lockstep.lab-run/v1", &outcome);
        } else {
            let mut t = Table::new(&["CANARY", "STATUS", "EXIT", "DURATION", "NOTES"]);
            for c in &outcome.canaries {
                let style = match c.status {
                    "passed" => GREEN,
                    "warning" | "skipped" => YELLOW,
                    _ => RED,
                };
                t.row(vec![
                    c.name.clone(),
                    paint(style, c.status),
                    c.exit_code.map_or("-".into(), |e| e.to_string()),
                    format!("{:.1}s", c.duration_ms as f64 / 1000.0),
                    c.notes.join("; "),
                ]);
            }
            out.print(&t.render());
            for c in outcome.canaries.iter().filter(|c| c.status == "failed") {
                out.print(&format!(
                    "\n{} output (tail):\n{}\n",
                    paint(BOLD, &c.name),
                    c.output_tail
                ));
            }
            let style = match outcome.verdict {
                "green" => GREEN,
                "yellow" => YELLOW,
                _ => RED,
            };
            out.print(&format!(
                "\n{}@{}: {}\n",
                outcome.component,
                outcome.version,
                paint(style.bold(), outcome.verdict)
            ));
            print_deliveries(out, &outcome.notifications);
        }
        Ok(if outcome.verdict == "red" { 1 } else { 0 })
    }
}
