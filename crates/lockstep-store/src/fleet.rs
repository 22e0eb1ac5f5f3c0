//! The fleet workflow's tables (migration `0002_fleet.sql`, documented in
//! `docs/state-db.md`, section "Fleet") and the queries on them.
//!
//! Functions take a [`Connection`] so that a caller can run several of them in one
//! transaction (a `rusqlite::Transaction` dereferences to a connection): a promotion and its
//! pending audit record ([`outbox_put`]) commit together or not at all. The only function that
//! opens a transaction itself is [`record_versions`], which must be atomic on its own.
//!
//! Times are RFC 3339 text; a pin's expiry is Unix seconds, so `resolve` compares integers.

use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// An upstream source registered with `watch add`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Watch {
    /// As given: `npm:NAME`, `pypi:NAME`, `crates:NAME`, `github:OWNER/REPO`.
    pub source: String,
    /// `npm`, `pypi`, `crates` or `github`.
    pub kind: String,
    /// The package name or `OWNER/REPO`.
    pub name: String,
    /// When it was added.
    pub added_at: String,
    /// When it was last checked, if ever.
    pub last_checked_at: Option<String>,
    /// `ok` or `error`, after a check.
    pub last_status: Option<String>,
    /// The last check's error.
    pub last_error: Option<String>,
}

/// One upstream version, as a watcher reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SeenVersion {
    /// The source (`watch add` argument).
    pub source: String,
    /// The version as published (a GitHub tag without its `v`).
    pub version: String,
    /// Whether it is a pre-release.
    pub prerelease: bool,
    /// When upstream published it, when it says.
    pub released_at: Option<String>,
    /// Where it was seen.
    pub url: String,
    /// When lockstep first recorded it.
    pub seen_at: String,
}

impl SeenVersion {
    /// A version of `source` first seen at `seen_at`.
    pub fn new(
        source: impl Into<String>,
        version: impl Into<String>,
        prerelease: bool,
        released_at: Option<String>,
        url: impl Into<String>,
        seen_at: impl Into<String>,
    ) -> Self {
        SeenVersion {
            source: source.into(),
            version: version.into(),
            prerelease,
            released_at,
            url: url.into(),
            seen_at: seen_at.into(),
        }
    }
}

/// Registers a source; `false` when it was already registered (nothing changes).
pub fn add_watch(
    conn: &Connection,
    source: &str,
    kind: &str,
    name: &str,
    now: &str,
) -> Result<bool, Error> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO fleet_watches (source, kind, name, added_at) VALUES (?1, ?2, ?3, ?4)",
        params![source, kind, name, now],
    )?;
    Ok(n == 1)
}

/// Removes a source and the versions seen of it; `false` when it was not registered.
pub fn remove_watch(conn: &Connection, source: &str) -> Result<bool, Error> {
    Ok(conn.execute("DELETE FROM fleet_watches WHERE source = ?1", [source])? == 1)
}

/// Every registered source, by source.
pub fn watches(conn: &Connection) -> Result<Vec<Watch>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, kind, name, added_at, last_checked_at, last_status, last_error
         FROM fleet_watches ORDER BY source",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Watch {
            source: r.get(0)?,
            kind: r.get(1)?,
            name: r.get(2)?,
            added_at: r.get(3)?,
            last_checked_at: r.get(4)?,
            last_status: r.get(5)?,
            last_error: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records the outcome of checking `source`.
pub fn record_check(
    conn: &Connection,
    source: &str,
    now: &str,
    error: Option<&str>,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE fleet_watches SET last_checked_at = ?2, last_status = ?3, last_error = ?4
         WHERE source = ?1",
        params![
            source,
            now,
            if error.is_some() { "error" } else { "ok" },
            error
        ],
    )?;
    Ok(())
}

/// Records every version not recorded before, in one immediate transaction, and returns
/// exactly those (in the order given). Two processes checking at once never both return the
/// same version: the primary key and `INSERT OR IGNORE` decide who recorded it.
pub fn record_versions(
    conn: &mut Connection,
    versions: &[SeenVersion],
) -> Result<Vec<SeenVersion>, Error> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut new = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO fleet_versions
             (source, version, prerelease, released_at, url, seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for v in versions {
            let n = stmt.execute(params![
                v.source,
                v.version,
                v.prerelease,
                v.released_at,
                v.url,
                v.seen_at
            ])?;
            if n == 1 {
                new.push(v.clone());
            }
        }
    }
    tx.commit()?;
    Ok(new)
}

/// Every version seen of `source`, in the order they were first recorded.
pub fn versions(conn: &Connection, source: &str) -> Result<Vec<SeenVersion>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, version, prerelease, released_at, url, seen_at
         FROM fleet_versions WHERE source = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([source], |r| {
        Ok(SeenVersion {
            source: r.get(0)?,
            version: r.get(1)?,
            prerelease: r.get(2)?,
            released_at: r.get(3)?,
            url: r.get(4)?,
            seen_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One canary's result in a lab run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabResult {
    /// The canary's name in `lab.toml`.
    pub canary: String,
    /// `passed`, `failed`, `warning` or `skipped`.
    pub status: String,
    /// How long applying and testing took.
    pub duration_ms: u64,
    /// The test command's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The last lines of its output.
    pub output_tail: String,
    /// Why a canary warned, was skipped or failed (JSON list of strings when stored).
    pub notes: Vec<String>,
}

impl LabResult {
    /// A result; `notes` explain anything but a plain pass.
    pub fn new(
        canary: impl Into<String>,
        status: impl Into<String>,
        duration_ms: u64,
        exit_code: Option<i32>,
        output_tail: impl Into<String>,
        notes: Vec<String>,
    ) -> Self {
        LabResult {
            canary: canary.into(),
            status: status.into(),
            duration_ms,
            exit_code,
            output_tail: output_tail.into(),
            notes,
        }
    }
}

/// A stored lab run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabRun {
    /// Its id.
    pub id: i64,
    /// The component tested.
    pub component: String,
    /// The version tested.
    pub version: String,
    /// `green`, `yellow` or `red`.
    pub verdict: String,
    /// When it started.
    pub started_at: String,
    /// When it finished.
    pub finished_at: String,
    /// The `lab.toml` it ran.
    pub canaries: String,
}

impl LabRun {
    /// A run to store (its `id` is assigned by [`record_lab_run`]).
    pub fn new(
        component: impl Into<String>,
        version: impl Into<String>,
        verdict: impl Into<String>,
        started_at: impl Into<String>,
        finished_at: impl Into<String>,
        canaries: impl Into<String>,
    ) -> Self {
        LabRun {
            id: 0,
            component: component.into(),
            version: version.into(),
            verdict: verdict.into(),
            started_at: started_at.into(),
            finished_at: finished_at.into(),
            canaries: canaries.into(),
        }
    }
}

/// The build row of `component@version`, created if needed.
pub fn build_id(
    conn: &Connection,
    component: &str,
    version: &str,
    now: &str,
) -> Result<i64, Error> {
    conn.execute(
        "INSERT OR IGNORE INTO fleet_builds (component, version, created_at) VALUES (?1, ?2, ?3)",
        params![component, version, now],
    )?;
    Ok(conn.query_row(
        "SELECT id FROM fleet_builds WHERE component = ?1 AND version = ?2",
        params![component, version],
        |r| r.get(0),
    )?)
}

/// Stores a lab run with every canary's result; returns the run's id.
pub fn record_lab_run(
    conn: &Connection,
    run: &LabRun,
    results: &[LabResult],
) -> Result<i64, Error> {
    let build = build_id(conn, &run.component, &run.version, &run.started_at)?;
    conn.execute(
        "INSERT INTO fleet_lab_runs (build_id, verdict, started_at, finished_at, canaries)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            build,
            run.verdict,
            run.started_at,
            run.finished_at,
            run.canaries
        ],
    )?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO fleet_lab_results
         (run_id, canary, status, duration_ms, exit_code, output_tail, notes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for r in results {
        let notes = serde_notes(&r.notes);
        stmt.execute(params![
            id,
            r.canary,
            r.status,
            i64::try_from(r.duration_ms).unwrap_or(i64::MAX),
            r.exit_code,
            r.output_tail,
            notes
        ])?;
    }
    Ok(id)
}

fn serde_notes(notes: &[String]) -> String {
    // A JSON list of strings, written by hand to keep serde out of this crate.
    let quoted: Vec<String> = notes
        .iter()
        .map(|n| {
            let mut s = String::from("\"");
            for c in n.chars() {
                match c {
                    '"' => s.push_str("\\\""),
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
                    c => s.push(c),
                }
            }
            s.push('"');
            s
        })
        .collect();
    format!("[{}]", quoted.join(","))
}

/// The newest lab run of `component@version`, if any.
pub fn latest_lab_run(
    conn: &Connection,
    component: &str,
    version: &str,
) -> Result<Option<LabRun>, Error> {
    Ok(conn
        .query_row(
            "SELECT r.id, b.component, b.version, r.verdict, r.started_at, r.finished_at, r.canaries
             FROM fleet_lab_runs r JOIN fleet_builds b ON b.id = r.build_id
             WHERE b.component = ?1 AND b.version = ?2 ORDER BY r.id DESC LIMIT 1",
            params![component, version],
            |r| {
                Ok(LabRun {
                    id: r.get(0)?,
                    component: r.get(1)?,
                    version: r.get(2)?,
                    verdict: r.get(3)?,
                    started_at: r.get(4)?,
                    finished_at: r.get(5)?,
                    canaries: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// The per-canary results of a lab run, by canary name; notes as their stored JSON text.
pub fn lab_results(conn: &Connection, run_id: i64) -> Result<Vec<(LabResult, String)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT canary, status, duration_ms, exit_code, output_tail, notes
         FROM fleet_lab_results WHERE run_id = ?1 ORDER BY canary",
    )?;
    let rows = stmt.query_map([run_id], |r| {
        let duration: i64 = r.get(2)?;
        Ok((
            LabResult {
                canary: r.get(0)?,
                status: r.get(1)?,
                duration_ms: u64::try_from(duration).unwrap_or_default(),
                exit_code: r.get(3)?,
                output_tail: r.get(4)?,
                notes: Vec::new(),
            },
            r.get::<_, String>(5)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A known-good or quarantined entry, as `known-good list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KnownGood {
    /// The component.
    pub component: String,
    /// The version.
    pub version: String,
    /// `stable` or `beta`; `None` for a quarantined version never promoted.
    pub channel: Option<String>,
    /// Promotion order within the channel (higher is newer); 0 when never promoted.
    pub seq: i64,
    /// When it was promoted.
    pub promoted_at: Option<String>,
    /// Who promoted it.
    pub actor: Option<String>,
    /// The quarantine, when the version is known-bad: (reason, when).
    pub quarantine: Option<(String, String)>,
}

/// Promotes `component@version` to `channel`, as the newest promotion there (promoting it
/// again moves it to the front).
pub fn promote(
    conn: &Connection,
    component: &str,
    channel: &str,
    version: &str,
    actor: &str,
    lab_run_id: Option<i64>,
    now: &str,
) -> Result<(), Error> {
    let seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM fleet_known_good WHERE component = ?1 AND channel = ?2",
        params![component, channel],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO fleet_known_good (component, channel, version, seq, promoted_at, actor, lab_run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (component, channel, version) DO UPDATE SET
           seq = excluded.seq, promoted_at = excluded.promoted_at, actor = excluded.actor,
           lab_run_id = excluded.lab_run_id",
        params![component, channel, version, seq, now, actor, lab_run_id],
    )?;
    Ok(())
}

/// Marks `component@version` known-bad; `false` when it already was (the first reason stays).
pub fn quarantine(
    conn: &Connection,
    component: &str,
    version: &str,
    reason: &str,
    actor: &str,
    now: &str,
) -> Result<bool, Error> {
    Ok(conn.execute(
        "INSERT OR IGNORE INTO fleet_quarantine (component, version, reason, actor, quarantined_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![component, version, reason, actor, now],
    )? == 1)
}

/// The quarantine of `component@version`: (reason, when), if it is known-bad.
pub fn quarantined(
    conn: &Connection,
    component: &str,
    version: &str,
) -> Result<Option<(String, String)>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT reason, quarantined_at FROM fleet_quarantine WHERE component = ?1 AND version = ?2",
        )?
        .query_row(params![component, version], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The known-good versions of `component` on `channel` that are not quarantined, newest
/// promotion first, at most `limit`: the first is current, the second the rollback target.
pub fn channel_versions(
    conn: &Connection,
    component: &str,
    channel: &str,
    limit: usize,
) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT k.version FROM fleet_known_good k
         WHERE k.component = ?1 AND k.channel = ?2
           AND NOT EXISTS (SELECT 1 FROM fleet_quarantine q
                           WHERE q.component = k.component AND q.version = k.version)
         ORDER BY k.seq DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![component, channel, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every known-good and quarantined entry, optionally of one channel (quarantined versions
/// never promoted are listed only without a channel filter, after the promoted ones): by
/// component, channel, newest promotion first.
pub fn known_good(conn: &Connection, channel: Option<&str>) -> Result<Vec<KnownGood>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM (
           SELECT k.component AS component, k.version AS version, k.channel AS channel,
                  k.seq AS seq, k.promoted_at, k.actor, q.reason, q.quarantined_at
           FROM fleet_known_good k
           LEFT JOIN fleet_quarantine q ON q.component = k.component AND q.version = k.version
           WHERE ?1 IS NULL OR k.channel = ?1
           UNION ALL
           SELECT q.component, q.version, NULL, 0, NULL, NULL, q.reason, q.quarantined_at
           FROM fleet_quarantine q
           WHERE ?1 IS NULL AND NOT EXISTS (SELECT 1 FROM fleet_known_good k
                             WHERE k.component = q.component AND k.version = q.version))
         ORDER BY component, channel IS NULL, channel, seq DESC, version",
    )?;
    let rows = stmt.query_map([channel], |r| {
        let reason: Option<String> = r.get(6)?;
        let at: Option<String> = r.get(7)?;
        Ok(KnownGood {
            component: r.get(0)?,
            version: r.get(1)?,
            channel: r.get(2)?,
            seq: r.get(3)?,
            promoted_at: r.get(4)?,
            actor: r.get(5)?,
            quarantine: reason.zip(at),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An organisation's pin on a component.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pin {
    /// The organisation.
    pub org: String,
    /// The component.
    pub component: String,
    /// The pinned version.
    pub version: String,
    /// Why.
    pub reason: String,
    /// When it stops applying (Unix seconds), if ever.
    pub expires_unix: Option<i64>,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: String,
}

impl Pin {
    /// A pin.
    pub fn new(
        org: impl Into<String>,
        component: impl Into<String>,
        version: impl Into<String>,
        reason: impl Into<String>,
        expires_unix: Option<i64>,
        set_by: impl Into<String>,
        set_at: impl Into<String>,
    ) -> Self {
        Pin {
            org: org.into(),
            component: component.into(),
            version: version.into(),
            reason: reason.into(),
            expires_unix,
            set_by: set_by.into(),
            set_at: set_at.into(),
        }
    }
}

fn pin_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pin> {
    Ok(Pin {
        org: r.get(0)?,
        component: r.get(1)?,
        version: r.get(2)?,
        reason: r.get(3)?,
        expires_unix: r.get(4)?,
        set_by: r.get(5)?,
        set_at: r.get(6)?,
    })
}

/// Sets (or replaces) a pin and records it in the pin history.
pub fn set_pin(conn: &Connection, pin: &Pin) -> Result<(), Error> {
    conn.execute(
        "INSERT OR REPLACE INTO fleet_pins
         (org, component, version, reason, expires_unix, set_by, set_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            pin.org,
            pin.component,
            pin.version,
            pin.reason,
            pin.expires_unix,
            pin.set_by,
            pin.set_at
        ],
    )?;
    pin_history(conn, pin, "set", &pin.set_by, &pin.set_at)
}

/// Adds a line to the pin history.
pub fn pin_history(
    conn: &Connection,
    pin: &Pin,
    action: &str,
    actor: &str,
    at: &str,
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO fleet_pin_history
         (org, component, action, version, reason, expires_unix, actor, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            pin.org,
            pin.component,
            action,
            pin.version,
            pin.reason,
            pin.expires_unix,
            actor,
            at
        ],
    )?;
    Ok(())
}

/// Removes a pin (recording who cleared it); the pin that was removed, if there was one.
pub fn clear_pin(
    conn: &Connection,
    org: &str,
    component: &str,
    actor: &str,
    now: &str,
) -> Result<Option<Pin>, Error> {
    let Some(old) = pin(conn, org, component)? else {
        return Ok(None);
    };
    conn.execute(
        "DELETE FROM fleet_pins WHERE org = ?1 AND component = ?2",
        params![org, component],
    )?;
    pin_history(conn, &old, "cleared", actor, now)?;
    Ok(Some(old))
}

/// The pin of `org` on `component`, if any (expired or not).
pub fn pin(conn: &Connection, org: &str, component: &str) -> Result<Option<Pin>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT org, component, version, reason, expires_unix, set_by, set_at
             FROM fleet_pins WHERE org = ?1 AND component = ?2",
        )?
        .query_row(params![org, component], pin_row)
        .optional()?)
}

/// Every pin, optionally of one organisation, by organisation and component.
pub fn pins(conn: &Connection, org: Option<&str>) -> Result<Vec<Pin>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT org, component, version, reason, expires_unix, set_by, set_at
         FROM fleet_pins WHERE ?1 IS NULL OR org = ?1 ORDER BY org, component",
    )?;
    let rows = stmt.query_map([org], pin_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether the expiry of this very pin (same org, component and `set_at`) was recorded.
pub fn expiry_recorded(conn: &Connection, pin: &Pin) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM fleet_pin_history h
              WHERE h.org = ?1 AND h.component = ?2 AND h.action = 'expired'
                AND h.id > (SELECT COALESCE(MAX(id), 0) FROM fleet_pin_history
                            WHERE org = ?1 AND component = ?2 AND action = 'set'))",
        )?
        .query_row(params![pin.org, pin.component], |r| r.get(0))?)
}

/// One webhook delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryAttempt {
    /// The delivery this attempt belongs to (one event to one webhook).
    pub delivery: String,
    /// The event name.
    pub event: String,
    /// The component, when the event has one.
    pub component: Option<String>,
    /// The version, when the event has one.
    pub version: Option<String>,
    /// The webhook URL (without credentials).
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The HTTP status, when one came back.
    pub status: Option<u16>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    /// Whether this attempt delivered the event (2xx).
    pub delivered: bool,
    /// When it was made.
    pub at: String,
    /// How long it took.
    pub duration_ms: u64,
}

impl DeliveryAttempt {
    /// An attempt record.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        delivery: impl Into<String>,
        event: impl Into<String>,
        component: Option<String>,
        version: Option<String>,
        url: impl Into<String>,
        attempt: u32,
        status: Option<u16>,
        error: Option<String>,
        delivered: bool,
        at: impl Into<String>,
        duration_ms: u64,
    ) -> Self {
        DeliveryAttempt {
            delivery: delivery.into(),
            event: event.into(),
            component,
            version,
            url: url.into(),
            attempt,
            status,
            error,
            delivered,
            at: at.into(),
            duration_ms,
        }
    }
}

/// Logs delivery attempts.
pub fn record_deliveries(conn: &Connection, attempts: &[DeliveryAttempt]) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO fleet_deliveries
         (delivery, event, component, version, url, attempt, status, error, delivered, at, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for a in attempts {
        stmt.execute(params![
            a.delivery,
            a.event,
            a.component,
            a.version,
            a.url,
            a.attempt,
            a.status,
            a.error,
            a.delivered,
            a.at,
            i64::try_from(a.duration_ms).unwrap_or(i64::MAX)
        ])?;
    }
    Ok(())
}

/// The newest `limit` delivery attempts, oldest of them first.
pub fn deliveries(conn: &Connection, limit: usize) -> Result<Vec<DeliveryAttempt>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT delivery, event, component, version, url, attempt, status, error, delivered, at,
                duration_ms
         FROM (SELECT * FROM fleet_deliveries ORDER BY id DESC LIMIT ?1) ORDER BY id",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        let duration: i64 = r.get(10)?;
        Ok(DeliveryAttempt {
            delivery: r.get(0)?,
            event: r.get(1)?,
            component: r.get(2)?,
            version: r.get(3)?,
            url: r.get(4)?,
            attempt: r.get(5)?,
            status: r.get(6)?,
            error: r.get(7)?,
            delivered: r.get(8)?,
            at: r.get(9)?,
            duration_ms: u64::try_from(duration).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Queues an audit record (its JSON text) under a unique `id`, in the caller's transaction.
pub fn outbox_put(conn: &Connection, id: &str, record: &str, now: &str) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO fleet_outbox (id, record, created_at) VALUES (?1, ?2, ?3)",
        params![id, record, now],
    )?;
    Ok(())
}

/// Queued audit records, oldest first: (id, JSON text).
pub fn outbox(conn: &Connection) -> Result<Vec<(String, String)>, Error> {
    let mut stmt =
        conn.prepare_cached("SELECT id, record FROM fleet_outbox ORDER BY created_at, rowid")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes a queued record once it is in the audit log.
pub fn outbox_done(conn: &Connection, id: &str) -> Result<(), Error> {
    conn.execute("DELETE FROM fleet_outbox WHERE id = ?1", [id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("state.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn versions_are_recorded_once() {
        let (_d, mut s) = store();
        assert!(add_watch(s.conn(), "npm:x", "npm", "x", "t").expect("add"));
        assert!(!add_watch(s.conn(), "npm:x", "npm", "x", "t").expect("add"));
        let v = |n: &str| SeenVersion::new("npm:x", n, false, None, "u", "t");
        let first = record_versions(s.conn_mut(), &[v("1.0.0"), v("1.1.0")]).expect("rec");
        assert_eq!(first.len(), 2);
        let second = record_versions(s.conn_mut(), &[v("1.1.0"), v("1.2.0")]).expect("rec");
        assert_eq!(second, vec![v("1.2.0")]);
        assert_eq!(versions(s.conn(), "npm:x").expect("list").len(), 3);
    }

    #[test]
    fn channel_order_skips_quarantined_versions() {
        let (_d, s) = store();
        let c = s.conn();
        for v in ["1.0.0", "1.1.0", "1.2.0"] {
            promote(c, "cli", "stable", v, "ana", None, "t").expect("promote");
        }
        assert_eq!(
            channel_versions(c, "cli", "stable", 2).expect("q"),
            ["1.2.0", "1.1.0"]
        );
        quarantine(c, "cli", "1.2.0", "crashes", "ana", "t").expect("q");
        quarantine(c, "cli", "9.9.9", "bad", "ana", "t").expect("q");
        assert_eq!(
            channel_versions(c, "cli", "stable", 2).expect("q"),
            ["1.1.0", "1.0.0"]
        );
        let all = known_good(c, None).expect("list");
        assert_eq!(all.len(), 4);
        assert_eq!(all.iter().filter(|k| k.quarantine.is_some()).count(), 2);
        assert_eq!(known_good(c, Some("stable")).expect("list").len(), 3);
    }

    #[test]
    fn notes_are_a_json_list() {
        assert_eq!(serde_notes(&[]), "[]");
        assert_eq!(
            serde_notes(&["a \"b\"\n".into(), "c".into()]),
            r#"["a \"b\"\n","c"]"#
        );
    }
}
