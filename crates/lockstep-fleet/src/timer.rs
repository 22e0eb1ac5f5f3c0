//! Periodic checks and the startup notification.
//!
//! [`install`] writes a systemd user timer (or prints a crontab line) that runs
//! `lockstep watch check --notify --home HOME` every few minutes. [`startup_notice`] is the
//! one call a service embeds at start-up: it answers from a cached check younger than a TTL
//! and, when the cache is stale, refreshes it on a background thread, so start-up never waits
//! for the network.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::home::{Fleet, Home};
use crate::watch::{CheckOptions, check};

/// How the periodic check runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerKind {
    /// `lockstep-watch.service` and `lockstep-watch.timer` in this directory (such as
    /// `~/.config/systemd/user`).
    Systemd {
        /// Where to write the units.
        dir: PathBuf,
    },
    /// A crontab line, printed for the user to add.
    Cron,
}

/// Options of `notify install-timer`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TimerOptions {
    /// systemd or cron.
    pub kind: TimerKind,
    /// The `lockstep` program to run.
    pub program: PathBuf,
    /// The home it checks.
    pub home: PathBuf,
    /// Minutes between checks (1 to 1440).
    pub every_minutes: u32,
}

impl TimerOptions {
    /// A timer of `kind` running `program` for `home` every `every_minutes`.
    pub fn new(kind: TimerKind, program: PathBuf, home: PathBuf, every_minutes: u32) -> Self {
        TimerOptions {
            kind,
            program,
            home,
            every_minutes,
        }
    }
}

/// What `notify install-timer` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Installed {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// The crontab line (cron), or the command to enable the timer (systemd).
    pub line: String,
    /// What to do next.
    pub next_step: String,
}

fn quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Writes the timer (systemd) or composes the crontab line (cron).
pub fn install(opts: &TimerOptions) -> Result<Installed, Error> {
    if !(1..=1440).contains(&opts.every_minutes) {
        return Err(Error::invalid(
            "interval",
            &opts.every_minutes.to_string(),
            "minutes from 1 to 1440",
        ));
    }
    let command = format!(
        "{} watch check --notify --home {}",
        quote(&opts.program),
        quote(&opts.home)
    );
    match &opts.kind {
        TimerKind::Cron => {
            let schedule = if opts.every_minutes < 60 {
                format!("*/{} * * * *", opts.every_minutes)
            } else {
                format!("0 */{} * * *", (opts.every_minutes / 60).max(1))
            };
            let line = format!("{schedule} {command} >/dev/null 2>&1");
            Ok(Installed {
                files: Vec::new(),
                next_step: format!("add this line with `crontab -e`:\n{line}"),
                line,
            })
        }
        TimerKind::Systemd { dir } => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            let service = dir.join("lockstep-watch.service");
            let timer = dir.join("lockstep-watch.timer");
            let service_text = format!(
                "[Unit]\nDescription=lockstep: check watched upstream sources and notify\n\n[Service]\nType=oneshot\nExecStart={command}\n"
            );
            let timer_text = format!(
                "[Unit]\nDescription=lockstep: check upstream sources every {} minutes\n\n[Timer]\nOnBootSec=2min\nOnUnitActiveSec={}min\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
                opts.every_minutes, opts.every_minutes
            );
            lockstep_state::fsx::write_atomic(&service, service_text.as_bytes())
                .map_err(|e| Error::io("write", &service, e))?;
            lockstep_state::fsx::write_atomic(&timer, timer_text.as_bytes())
                .map_err(|e| Error::io("write", &timer, e))?;
            let line = "systemctl --user daemon-reload && systemctl --user enable --now lockstep-watch.timer".to_owned();
            Ok(Installed {
                files: vec![service, timer],
                next_step: format!("enable it: {line}"),
                line,
            })
        }
    }
}

/// The cache file of [`startup_notice`], in `HOME/cache`.
pub const STARTUP_CACHE: &str = "startup-check.json";

/// What a service shows at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartupNotice {
    /// Newer versions than the service runs, per watched source: (source, version).
    pub updates: Vec<(String, String)>,
    /// When the answer was checked (Unix seconds); 0 when there was no cached answer.
    pub checked_unix: i64,
    /// Whether the answer is younger than the TTL.
    pub fresh: bool,
}

/// The startup notification: answers at once from `HOME/cache/startup-check.json` and, when
/// that is missing or older than `ttl`, starts a background thread that runs a check and
/// rewrites the file (the next start-up sees it). `running` is the version the service runs;
/// every watched source with a newer stable version is listed.
///
/// Never blocks on the network; the returned handle (when a refresh started) may be joined or
/// dropped (dropping detaches it).
pub fn startup_notice(
    home: &Home,
    running: &str,
    ttl: Duration,
) -> (StartupNotice, Option<std::thread::JoinHandle<()>>) {
    let path = home.cache_dir().join(STARTUP_CACHE);
    let now = lockstep_state::time::unix_seconds(SystemTime::now());
    let cached: Option<StartupNotice> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let fresh = cached
        .as_ref()
        .is_some_and(|c| now - c.checked_unix < i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let mut notice = cached.unwrap_or(StartupNotice {
        updates: Vec::new(),
        checked_unix: 0,
        fresh: false,
    });
    notice.fresh = fresh;
    if fresh {
        return (notice, None);
    }
    let home = home.clone();
    let running = running.to_owned();
    let handle = std::thread::Builder::new()
        .name("lockstep-startup-check".into())
        .spawn(move || {
            if let Err(e) = refresh(&home, &running) {
                tracing::warn!(error = %e, "startup update check failed");
            }
        })
        .ok();
    (notice, handle)
}

fn refresh(home: &Home, running: &str) -> Result<(), Error> {
    let mut fleet = Fleet::open(home)?;
    let opts = CheckOptions::from_env(home);
    let outcome = check(&mut fleet, &crate::events::Notifier::default(), &opts)?;
    let current = semver::Version::parse(running).ok();
    let updates = outcome
        .sources
        .iter()
        .filter_map(|s| Some((s.source.clone(), s.latest.clone()?)))
        .filter(
            |(_, latest)| match (&current, semver::Version::parse(latest)) {
                (Some(c), Ok(l)) => l.cmp_precedence(c).is_gt(),
                _ => latest != running,
            },
        )
        .collect();
    let notice = StartupNotice {
        updates,
        checked_unix: lockstep_state::time::unix_seconds(SystemTime::now()),
        fresh: true,
    };
    let path = home.cache_dir().join(STARTUP_CACHE);
    std::fs::create_dir_all(home.cache_dir())
        .map_err(|e| Error::io("create", home.cache_dir(), e))?;
    let bytes = serde_json::to_vec(&notice).map_err(|e| Error::Nothing {
        what: e.to_string(),
    })?;
    lockstep_state::fsx::write_atomic(&path, &bytes).map_err(|e| Error::io("write", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_lines_and_systemd_units() {
        let cron = install(&TimerOptions::new(
            TimerKind::Cron,
            "/usr/bin/lockstep".into(),
            "/srv/fleet home".into(),
            15,
        ))
        .expect("cron");
        assert_eq!(
            cron.line,
            "*/15 * * * * /usr/bin/lockstep watch check --notify --home '/srv/fleet home' >/dev/null 2>&1"
        );
        let dir = tempfile::tempdir().expect("temp");
        let sd = install(&TimerOptions::new(
            TimerKind::Systemd {
                dir: dir.path().into(),
            },
            "/usr/bin/lockstep".into(),
            "/srv/h".into(),
            30,
        ))
        .expect("systemd");
        assert_eq!(sd.files.len(), 2);
        let timer = std::fs::read_to_string(&sd.files[1]).expect("timer");
        assert!(timer.contains("OnUnitActiveSec=30min"), "{timer}");
        let service = std::fs::read_to_string(&sd.files[0]).expect("service");
        assert!(
            service.contains("ExecStart=/usr/bin/lockstep watch check --notify --home /srv/h"),
            "{service}"
        );
        assert!(
            install(&TimerOptions::new(
                TimerKind::Cron,
                "/x".into(),
                "/h".into(),
                0
            ))
            .is_err()
        );
    }

    #[test]
    fn startup_answers_from_a_fresh_cache_without_waiting() {
        let dir = tempfile::tempdir().expect("temp");
        let home = Home::new(dir.path(), None);
        std::fs::create_dir_all(home.cache_dir()).expect("mkdir");
        let now = lockstep_state::time::unix_seconds(SystemTime::now());
        let cached = StartupNotice {
            updates: vec![("npm:cli".into(), "2.0.0".into())],
            checked_unix: now,
            fresh: true,
        };
        std::fs::write(
            home.cache_dir().join(STARTUP_CACHE),
            serde_json::to_vec(&cached).expect("json"),
        )
        .expect("write");
        let started = std::time::Instant::now();
        let (notice, refresh) = startup_notice(&home, "1.0.0", Duration::from_secs(3600));
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(refresh.is_none() && notice.fresh);
        assert_eq!(notice.updates, cached.updates);
        let (stale, refresh) = startup_notice(&home, "1.0.0", Duration::ZERO);
        assert!(!stale.fresh);
        // The refresh checks no sources (none watched) and rewrites the cache.
        refresh.expect("a refresh started").join().expect("joined");
        let (again, _) = startup_notice(&home, "1.0.0", Duration::from_secs(3600));
        assert!(again.fresh && again.updates.is_empty());
    }
}
