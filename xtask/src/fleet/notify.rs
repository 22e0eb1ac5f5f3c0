//! `lockstep notify …`: the delivery log, test events, the periodic-check timer.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use lockstep_fleet::events;
use lockstep_fleet::timer;

use super::{Place, fail, json, print_deliveries};
use crate::cli::Common;
use crate::out::{Failure, GREEN, Out, RED, Table, paint};

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
