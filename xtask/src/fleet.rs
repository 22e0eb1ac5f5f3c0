//! `lockstep watch|lab|known-good|pin|resolve|notify …`: fleet updates, part 1.
//!
//! Glue only: parse, open the home, call one `lockstep_fleet` function, render.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use lockstep_fleet::events::{DeliveryReport, Notifier};
use lockstep_fleet::spec::{Channel, ComponentVersion};
use lockstep_fleet::{Fleet, Home, events, known_good, lab, pins, timer, watch};
use lockstep_state::Classify;
use serde::Serialize;

use crate::cli::Common;
use crate::commands::env;
use crate::out::{BOLD, DIM, Failure, GREEN, Out, RED, Table, YELLOW, paint};

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
    fn home(&self, cwd: &Path) -> Home {
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

    fn open(&self, cwd: &Path) -> Result<(Fleet, Notifier), Failure> {
        let home = self.home(cwd);
        let notifier = Notifier::load(&home).map_err(fail)?;
        let fleet = Fleet::open(&home).map_err(fail)?;
        Ok((fleet, notifier))
    }
}

fn fail(e: lockstep_fleet::Error) -> Failure {
    Failure::new(e.severity().exit_code(), e.kind(), e.to_string())
}

fn parse<T: std::str::FromStr<Err = lockstep_fleet::Error>>(s: &str) -> Result<T, Failure> {
    s.parse().map_err(fail)
}

fn actor(by: Option<String>) -> String {
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

fn print_deliveries(out: &Out, deliveries: &[DeliveryReport]) {
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
                if !outcome.new.is_empty() && exit_code {
                    Ok(100)
                } else if failed {
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

// ---------------------------------------------------------------------------------------------
// known-good

/// `lockstep known-good …`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep known-good promote gemini-cli@0.9.0 --channel stable
  lockstep known-good quarantine gemini-cli@0.9.1 --reason 'breaks SSO login'
  lockstep known-good list --channel stable --json
  lockstep known-good rollback-target gemini-cli --channel stable

Stable needs a green lab result for that version, beta a green or yellow one; a quarantined
version is never promoted. The last two known-good versions of a channel are the current one
and the rollback target.
Exit codes: 0 done, 1 refused (no or insufficient lab result, quarantined, no rollback
target), 2 bad input.")]
pub struct KnownGoodArgs {
    #[command(subcommand)]
    action: KnownGoodAction,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
enum KnownGoodAction {
    /// Promote NAME@VERSION to a channel.
    Promote {
        /// NAME@VERSION.
        target: String,
        /// stable or beta.
        #[arg(long, value_name = "CHANNEL")]
        channel: String,
        /// Who promotes (audit; default $LOCKSTEP_ACTOR, then $USER).
        #[arg(long, value_name = "ACTOR")]
        by: Option<String>,
    },
    /// Mark NAME@VERSION known-bad: never offered, never promoted.
    Quarantine {
        /// NAME@VERSION.
        target: String,
        /// Why (shown wherever the version is listed).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who (audit; default $LOCKSTEP_ACTOR, then $USER).
        #[arg(long, value_name = "ACTOR")]
        by: Option<String>,
    },
    /// Known-good and quarantined versions.
    List {
        /// Only this channel.
        #[arg(long, value_name = "CHANNEL")]
        channel: Option<String>,
    },
    /// The version a channel falls back to.
    #[command(name = "rollback-target")]
    RollbackTarget {
        /// The component.
        name: String,
        /// stable or beta.
        #[arg(long, value_name = "CHANNEL", default_value = "stable")]
        channel: String,
    },
}

impl KnownGoodArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let (mut fleet, notifier) = self.place.open(cwd)?;
        match self.action {
            KnownGoodAction::Promote {
                target,
                channel,
                by,
            } => {
                let opts =
                    known_good::PromoteOptions::new(parse(&target)?, parse(&channel)?, actor(by));
                let p = known_good::promote(&mut fleet, &notifier, &opts).map_err(fail)?;
                if out.json {
                    json(out, "lockstep.known-good-promote/v1", &p);
                } else {
                    out.print(&format!(
                        "{} {}@{} to {} (lab verdict {}){}\n",
                        paint(GREEN, "promoted"),
                        p.component,
                        p.version,
                        p.channel,
                        p.verdict,
                        p.rollback_target
                            .as_ref()
                            .map(|t| format!("; rollback target {t}"))
                            .unwrap_or_default()
                    ));
                    print_deliveries(out, &p.notifications);
                }
                Ok(0)
            }
            KnownGoodAction::Quarantine { target, reason, by } => {
                let opts = known_good::QuarantineOptions::new(parse(&target)?, reason, actor(by));
                let q = known_good::quarantine(&mut fleet, &notifier, &opts).map_err(fail)?;
                if out.json {
                    json(out, "lockstep.known-good-quarantine/v1", &q);
                } else {
                    out.print(&format!(
                        "{} {}@{}: {}{}\n",
                        paint(RED, "quarantined"),
                        q.component,
                        q.version,
                        q.reason,
                        if q.already {
                            " (already quarantined)"
                        } else {
                            ""
                        }
                    ));
                    for c in &q.channels {
                        out.print(&format!(
                            "  {} now runs {}\n",
                            c.channel,
                            c.current.as_deref().unwrap_or("nothing")
                        ));
                    }
                    print_deliveries(out, &q.notifications);
                }
                Ok(0)
            }
            KnownGoodAction::List { channel } => {
                let channel: Option<Channel> = channel.as_deref().map(parse).transpose()?;
                let entries = known_good::list(&fleet, channel).map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.known-good/v1",
                        &serde_json::json!({"entries": entries}),
                    );
                } else if entries.is_empty() {
                    out.print("no known-good or quarantined versions yet\n");
                } else {
                    let mut t = Table::new(&[
                        "COMPONENT",
                        "VERSION",
                        "CHANNEL",
                        "STATE",
                        "PROMOTED",
                        "NOTE",
                    ]);
                    for e in &entries {
                        t.row(vec![
                            e.component.clone(),
                            e.version.clone(),
                            e.channel.clone().unwrap_or_else(|| "-".into()),
                            if e.state == "quarantined" {
                                paint(RED, e.state)
                            } else {
                                paint(GREEN, e.state)
                            },
                            e.promoted_at.clone().unwrap_or_else(|| "-".into()),
                            match (&e.reason, e.current, e.rollback_target) {
                                (Some(r), _, _) => r.clone(),
                                (None, true, _) => "current".into(),
                                (None, _, true) => "rollback target".into(),
                                _ => String::new(),
                            },
                        ]);
                    }
                    out.print(&t.render());
                }
                Ok(0)
            }
            KnownGoodAction::RollbackTarget { name, channel } => {
                let t =
                    known_good::rollback_target(&fleet, &name, parse(&channel)?).map_err(fail)?;
                if out.json {
                    json(out, "lockstep.rollback-target/v1", &t);
                } else {
                    out.print(&format!(
                        "{} on {}: roll back to {} (current {})\n",
                        t.component,
                        t.channel,
                        paint(BOLD, &t.version),
                        t.current
                    ));
                }
                Ok(0)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pin, resolve

/// `lockstep pin …`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep pin set acme gemini-cli@0.8.2 --reason 'SSO regression in 0.9' --expires 2026-12-31 --by ana
  lockstep pin list --json
  lockstep pin clear acme gemini-cli --by ana

--expires takes YYYY-MM-DD or RFC 3339 (past dates too: such a pin is expired at once).
Every change is an audit record in HOME/audit.jsonl with its actor and reason.
Exit codes: 0 done, 1 nothing to clear, 2 bad input.")]
pub struct PinArgs {
    #[command(subcommand)]
    action: PinAction,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
enum PinAction {
    /// Pin an organisation to NAME@VERSION.
    Set {
        /// The organisation.
        org: String,
        /// NAME@VERSION.
        target: String,
        /// Why (required).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// When the pin stops applying: YYYY-MM-DD or RFC 3339.
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
        /// Who pins (required).
        #[arg(long, value_name = "ACTOR")]
        by: String,
    },
    /// Every pin, expired ones marked.
    List {
        /// Only this organisation.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// Remove an organisation's pin.
    Clear {
        /// The organisation.
        org: String,
        /// The component.
        name: String,
        /// Who clears it (required).
        #[arg(long, value_name = "ACTOR")]
        by: String,
    },
}

impl PinArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let (mut fleet, notifier) = self.place.open(cwd)?;
        match self.action {
            PinAction::Set {
                org,
                target,
                reason,
                expires,
                by,
            } => {
                let mut opts = pins::PinOptions::new(org, parse(&target)?, reason, by);
                opts.expires = expires;
                let set = pins::set_pin(&mut fleet, &notifier, &opts).map_err(fail)?;
                if out.json {
                    json(out, "lockstep.pin-set/v1", &set);
                } else {
                    out.print(&format!(
                        "pinned {} to {}@{}{}: {}\n",
                        set.pin.org,
                        set.pin.component,
                        set.pin.version,
                        set.pin
                            .expires
                            .as_ref()
                            .map(|e| format!(" until {e}"))
                            .unwrap_or_default(),
                        set.pin.reason
                    ));
                    for n in &set.notes {
                        out.eprint(&format!("{} {n}\n", paint(YELLOW, "note:")));
                    }
                    print_deliveries(out, &set.notifications);
                }
                Ok(0)
            }
            PinAction::List { org } => {
                let list =
                    pins::list_pins(&mut fleet, &notifier, org.as_deref(), SystemTime::now())
                        .map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.pin-list/v1",
                        &serde_json::json!({"pins": list}),
                    );
                } else if list.is_empty() {
                    out.print("no pins\n");
                } else {
                    let mut t =
                        Table::new(&["ORG", "COMPONENT", "VERSION", "EXPIRES", "BY", "REASON"]);
                    for p in &list {
                        t.row(vec![
                            p.org.clone(),
                            p.component.clone(),
                            p.version.clone(),
                            match (&p.expires, p.expired) {
                                (Some(e), true) => paint(YELLOW, &format!("{e} (expired)")),
                                (Some(e), false) => e.clone(),
                                (None, _) => "never".into(),
                            },
                            p.set_by.clone(),
                            p.reason.clone(),
                        ]);
                    }
                    out.print(&t.render());
                }
                Ok(0)
            }
            PinAction::Clear { org, name, by } => {
                let old = pins::clear_pin(&mut fleet, &org, &name, &by, SystemTime::now())
                    .map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.pin-clear/v1",
                        &serde_json::json!({"cleared": old}),
                    );
                } else {
                    out.print(&format!(
                        "cleared {}'s pin on {} (was {})\n",
                        old.org, old.component, old.version
                    ));
                }
                Ok(0)
            }
        }
    }
}

/// `lockstep resolve ORG NAME`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep resolve acme gemini-cli
  lockstep resolve acme gemini-cli --channel beta --json

A valid pin wins; an expired pin is reported and ignored; else the newest known-good version
on the channel that is not quarantined.
Exit codes: 0 a version, 1 nothing to run, 2 bad input.")]
pub struct ResolveArgs {
    /// The organisation.
    org: String,
    /// The component.
    name: String,
    /// stable or beta.
    #[arg(long, value_name = "CHANNEL", default_value = "stable")]
    channel: String,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

impl ResolveArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let (mut fleet, notifier) = self.place.open(cwd)?;
        let mut opts = pins::ResolveOptions::new(self.org, self.name);
        opts.channel = parse(&self.channel)?;
        let r = pins::resolve(&mut fleet, &notifier, &opts).map_err(fail)?;
        if out.json {
            json(out, "lockstep.resolve/v1", &r);
        } else {
            match (&r.version, r.why) {
                (Some(v), Some(why)) => out.print(&format!(
                    "{} runs {} {} ({})\n",
                    r.org,
                    r.component,
                    paint(BOLD, v),
                    match why {
                        pins::Why::Pin => format!(
                            "pinned: {}",
                            r.pin
                                .as_ref()
                                .map(|p| p.reason.as_str())
                                .unwrap_or_default()
                        ),
                        pins::Why::KnownGood => format!("newest known-good on {}", r.channel),
                        other => format!("{other:?}"),
                    }
                )),
                _ => out.print(&format!(
                    "{} has nothing to run for {}\n",
                    r.org, r.component
                )),
            }
            for n in &r.notes {
                out.eprint(&format!("{} {n}\n", paint(YELLOW, "note:")));
            }
        }
        Ok(if r.version.is_some() { 0 } else { 1 })
    }
}

// ---------------------------------------------------------------------------------------------
// notify

/// `lockstep notify …`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep notify log --limit 20
  lockstep notify test --event promotion
  lockstep notify install-timer --systemd ~/.config/systemd/user --every 15
  lockstep notify install-timer --cron

HOME/notify.toml lists [[webhook]] tables: url, secret (or secret_env), events. Events:
new_version, lab_verdict, promotion, quarantine, pin_set, pin_expired, rollout_halted.
Each POST is signed: X-Lockstep-Signature: sha256=HMAC(secret, TIMESTAMP.BODY) with
X-Lockstep-Timestamp and X-Lockstep-Event. Failed deliveries are retried with back-off for
at most 45 s, then recorded (notify log).")]
pub struct NotifyArgs {
    #[command(subcommand)]
    action: NotifyAction,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
enum NotifyAction {
    /// Every webhook delivery attempt, newest last.
    Log {
        /// Show the last N attempts.
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
    },
    /// Send a test event to the webhooks that list it.
    Test {
        /// The event name.
        #[arg(long, value_name = "EVENT", default_value = "lab_verdict")]
        event: String,
    },
    /// Run `watch check --notify` periodically: write a systemd timer, or print a crontab line.
    #[command(name = "install-timer")]
    InstallTimer {
        /// Write lockstep-watch.service and .timer into this directory.
        #[arg(long, value_name = "DIR", conflicts_with = "cron")]
        systemd: Option<PathBuf>,
        /// Print a crontab line instead.
        #[arg(long)]
        cron: bool,
        /// Minutes between checks.
        #[arg(long, value_name = "MINUTES", default_value_t = 15)]
        every: u32,
    },
}

impl NotifyArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        match self.action {
            NotifyAction::Log { limit } => {
                let (fleet, _) = self.place.open(cwd)?;
                let log = events::log(&fleet, limit).map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.notify-log/v1",
                        &serde_json::json!({"attempts": log}),
                    );
                } else if log.is_empty() {
                    out.print("no deliveries yet\n");
                } else {
                    let mut t = Table::new(&["AT", "EVENT", "VERSION", "URL", "ATTEMPT", "RESULT"]);
                    for a in &log {
                        t.row(vec![
                            a.at.clone(),
                            a.event.clone(),
                            format!(
                                "{} {}",
                                a.component.as_deref().unwrap_or(""),
                                a.version.as_deref().unwrap_or("")
                            ),
                            a.url.clone(),
                            a.attempt.to_string(),
                            if a.delivered {
                                paint(GREEN, &format!("{}", a.status.unwrap_or(200)))
                            } else {
                                paint(RED, a.error.as_deref().unwrap_or("failed"))
                            },
                        ]);
                    }
                    out.print(&t.render());
                }
                Ok(0)
            }
            NotifyAction::Test { event } => {
                let (fleet, notifier) = self.place.open(cwd)?;
                let sent = events::send_test(&fleet, &notifier, &event).map_err(fail)?;
                if out.json {
                    json(
                        out,
                        "lockstep.notify-test/v1",
                        &serde_json::json!({"deliveries": sent}),
                    );
                } else if sent.is_empty() {
                    out.print(&format!("no webhook in notify.toml lists {event}\n"));
                } else {
                    print_deliveries(out, &sent);
                }
                Ok(if sent.iter().all(|d| d.delivered) {
                    0
                } else {
                    1
                })
            }
            NotifyAction::InstallTimer {
                systemd,
                cron,
                every,
            } => {
                let home = self.place.home(cwd);
                let program = std::env::current_exe()
                    .map_err(|e| Failure::input("io", format!("cannot find this program: {e}")))?;
                let kind = match (systemd, cron) {
                    (Some(dir), _) => timer::TimerKind::Systemd { dir: cwd.join(dir) },
                    (None, _) => timer::TimerKind::Cron,
                };
                let installed = timer::install(&timer::TimerOptions::new(
                    kind,
                    program,
                    home.dir().to_path_buf(),
                    every,
                ))
                .map_err(fail)?;
                if out.json {
                    json(out, "lockstep.notify-timer/v1", &installed);
                } else {
                    for f in &installed.files {
                        out.print(&format!("wrote {}\n", f.display()));
                    }
                    out.print(&format!("{}\n", installed.next_step));
                }
                Ok(0)
            }
        }
    }
}
