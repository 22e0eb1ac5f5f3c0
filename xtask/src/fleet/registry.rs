//! `lockstep known-good|pin|resolve …`: the known-good registry and organisation pins.

use std::path::Path;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use lockstep_fleet::spec::Channel;
use lockstep_fleet::{known_good, pins};

use super::{Place, actor, fail, json, parse, print_deliveries};
use crate::cli::Common;
use crate::out::{BOLD, Failure, GREEN, Out, RED, Table, YELLOW, paint};

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
