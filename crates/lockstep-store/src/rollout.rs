//! The rollout workflow's tables: `rollouts` and `rollout_events` (migration 3).
//!
//! Plain rows and queries; the decisions (buckets, stage evaluation, the state machine) live in
//! `lockstep-rollout`, the workflow in `lockstep-fleet`. Every function takes a
//! [`rusqlite::Connection`] so callers can run several in one transaction.

use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// One rollout as stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RolloutRow {
    /// Its id (also hashed into every unit's bucket).
    pub id: String,
    /// The component rolled out.
    pub component: String,
    /// The new version.
    pub version: String,
    /// The channel it is known-good on.
    pub channel: String,
    /// The version everyone else runs, and everyone after a halt.
    pub rollback_version: String,
    /// running | paused | halted | completed | aborted.
    pub state: String,
    /// The current stage's index.
    pub stage: i64,
    /// When the current stage started (Unix seconds).
    pub stage_started: i64,
    /// The policy as JSON.
    pub policy: String,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// When it last changed (Unix seconds).
    pub updated_at: i64,
    /// Why it halted, as JSON.
    pub halt_evidence: Option<String>,
    /// A halt whose quarantine, notification and audit record are not all done yet.
    pub followup_pending: bool,
}

impl RolloutRow {
    /// A new running rollout at its first stage.
    pub fn new(
        id: &str,
        component: &str,
        version: &str,
        channel: &str,
        rollback_version: &str,
        policy: &str,
        now: i64,
    ) -> RolloutRow {
        RolloutRow {
            id: id.to_owned(),
            component: component.to_owned(),
            version: version.to_owned(),
            channel: channel.to_owned(),
            rollback_version: rollback_version.to_owned(),
            state: "running".to_owned(),
            stage: 0,
            stage_started: now,
            policy: policy.to_owned(),
            started_at: now,
            updated_at: now,
            halt_evidence: None,
            followup_pending: false,
        }
    }
}

/// One event as stored.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct EventRow {
    /// Position in the table (ascending with time of insertion).
    pub seq: i64,
    /// The rollout.
    pub rollout_id: String,
    /// When (Unix seconds).
    pub at: i64,
    /// report | started | advanced | paused | resumed | halted | completed | aborted.
    pub kind: String,
    /// The stage index at the time.
    pub stage: i64,
    /// The unit that reported.
    pub unit: Option<String>,
    /// success | failure.
    pub outcome: Option<String>,
    /// The reported start latency.
    pub latency_ms: Option<i64>,
    /// Anything else, as JSON.
    pub detail: Option<String>,
}

impl EventRow {
    /// A lifecycle event (not a report).
    pub fn lifecycle(rollout_id: &str, at: i64, kind: &str, stage: i64) -> EventRow {
        EventRow {
            rollout_id: rollout_id.to_owned(),
            at,
            kind: kind.to_owned(),
            stage,
            ..EventRow::default()
        }
    }

    /// A report.
    pub fn report(
        rollout_id: &str,
        at: i64,
        stage: i64,
        unit: &str,
        success: bool,
        latency_ms: Option<i64>,
    ) -> EventRow {
        EventRow {
            rollout_id: rollout_id.to_owned(),
            at,
            kind: "report".to_owned(),
            stage,
            unit: Some(unit.to_owned()),
            outcome: Some(if success { "success" } else { "failure" }.to_owned()),
            latency_ms,
            ..EventRow::default()
        }
    }

    /// With a JSON detail.
    pub fn with_detail(mut self, detail: String) -> EventRow {
        self.detail = Some(detail);
        self
    }
}

/// A stage's reports, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StageCounts {
    /// The stage index.
    pub stage: i64,
    /// Reports.
    pub samples: u64,
    /// Reports with outcome failure.
    pub failures: u64,
    /// Successful reports slower than the given limit.
    pub slow: u64,
}

const COLUMNS: &str = "id, component, version, channel, rollback_version, state, stage, \
    stage_started, policy, started_at, updated_at, halt_evidence, followup_pending";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RolloutRow> {
    Ok(RolloutRow {
        id: r.get(0)?,
        component: r.get(1)?,
        version: r.get(2)?,
        channel: r.get(3)?,
        rollback_version: r.get(4)?,
        state: r.get(5)?,
        stage: r.get(6)?,
        stage_started: r.get(7)?,
        policy: r.get(8)?,
        started_at: r.get(9)?,
        updated_at: r.get(10)?,
        halt_evidence: r.get(11)?,
        followup_pending: r.get::<_, i64>(12)? != 0,
    })
}

/// Inserts a new rollout. Fails with a constraint error (see [`is_unique_violation`]) when
/// the component already has an active rollout on that channel, or the id exists.
pub fn insert(conn: &Connection, r: &RolloutRow) -> Result<(), Error> {
    conn.execute(
        &format!("INSERT INTO rollouts ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            r.id,
            r.component,
            r.version,
            r.channel,
            r.rollback_version,
            r.state,
            r.stage,
            r.stage_started,
            r.policy,
            r.started_at,
            r.updated_at,
            r.halt_evidence,
            i64::from(r.followup_pending)
        ],
    )?;
    Ok(())
}

/// Whether `e` is a UNIQUE constraint failure (an active rollout already holds the slot).
pub fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Sql(rusqlite::Error::SqliteFailure(f, _))
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// Writes back the mutable fields: state, stage, stage start, update time, halt evidence and
/// the follow-up flag.
pub fn update(conn: &Connection, r: &RolloutRow) -> Result<(), Error> {
    conn.execute(
        "UPDATE rollouts SET state = ?2, stage = ?3, stage_started = ?4, updated_at = ?5, \
         halt_evidence = ?6, followup_pending = ?7 WHERE id = ?1",
        params![
            r.id,
            r.state,
            r.stage,
            r.stage_started,
            r.updated_at,
            r.halt_evidence,
            i64::from(r.followup_pending)
        ],
    )?;
    Ok(())
}

/// One rollout by id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<RolloutRow>, Error> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM rollouts WHERE id = ?1"),
            [id],
            row,
        )
        .optional()?)
}

/// Every rollout, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<RolloutRow>, Error> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM rollouts ORDER BY started_at, id"
    ))?;
    let rows = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The newest rollout of `component` on `channel`, if any (an indexed lookup).
pub fn latest_for(
    conn: &Connection,
    component: &str,
    channel: &str,
) -> Result<Option<RolloutRow>, Error> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM rollouts WHERE component = ?1 AND channel = ?2 \
             ORDER BY started_at DESC, rowid DESC LIMIT 1"
        ))?
        .query_row(params![component, channel], row)
        .optional()?)
}

/// Appends one event; returns its `seq`.
pub fn add_event(conn: &Connection, e: &EventRow) -> Result<i64, Error> {
    conn.execute(
        "INSERT INTO rollout_events (rollout_id, at, kind, stage, unit, outcome, latency_ms, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.rollout_id,
            e.at,
            e.kind,
            e.stage,
            e.unit,
            e.outcome,
            e.latency_ms,
            e.detail
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A rollout's events other than reports, in order.
pub fn lifecycle_events(conn: &Connection, rollout_id: &str) -> Result<Vec<EventRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT seq, rollout_id, at, kind, stage, unit, outcome, latency_ms, detail \
         FROM rollout_events WHERE rollout_id = ?1 AND kind <> 'report' ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([rollout_id], |r| {
            Ok(EventRow {
                seq: r.get(0)?,
                rollout_id: r.get(1)?,
                at: r.get(2)?,
                kind: r.get(3)?,
                stage: r.get(4)?,
                unit: r.get(5)?,
                outcome: r.get(6)?,
                latency_ms: r.get(7)?,
                detail: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The reports of every stage of a rollout, counted; `slow_over_ms` counts successful reports
/// slower than it (none when `None`).
pub fn stage_counts(
    conn: &Connection,
    rollout_id: &str,
    slow_over_ms: Option<u64>,
) -> Result<Vec<StageCounts>, Error> {
    let limit = slow_over_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare(
        "SELECT stage, COUNT(*), \
                COALESCE(SUM(outcome = 'failure'), 0), \
                COALESCE(SUM(outcome = 'success' AND ?2 IS NOT NULL AND latency_ms > ?2), 0) \
         FROM rollout_events WHERE rollout_id = ?1 AND kind = 'report' \
         GROUP BY stage ORDER BY stage",
    )?;
    let rows = stmt
        .query_map(params![rollout_id, limit], |r| {
            Ok(StageCounts {
                stage: r.get(0)?,
                samples: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                failures: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                slow: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn one_active_rollout_per_component_and_channel() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("state.db")).unwrap();
        let conn = store.conn_mut();
        let mut a = RolloutRow::new("a", "cli", "2.0.0", "stable", "1.9.0", "{}", 10);
        insert(conn, &a).unwrap();
        let b = RolloutRow::new("b", "cli", "2.0.1", "stable", "1.9.0", "{}", 11);
        let e = insert(conn, &b).unwrap_err();
        assert!(is_unique_violation(&e), "{e}");
        insert(
            conn,
            &RolloutRow::new("c", "cli", "2.0.1", "beta", "1.9.0", "{}", 11),
        )
        .unwrap();
        a.state = "halted".into();
        a.followup_pending = true;
        update(conn, &a).unwrap();
        insert(conn, &b).unwrap();
        assert_eq!(get(conn, "a").unwrap().unwrap(), a);
        assert_eq!(latest_for(conn, "cli", "stable").unwrap().unwrap().id, "b");
        assert!(latest_for(conn, "cli", "lts").unwrap().is_none());
        assert_eq!(
            list(conn)
                .unwrap()
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn stage_counts_split_failures_and_slow_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        let conn = store.conn();
        insert(
            conn,
            &RolloutRow::new("r", "cli", "2", "stable", "1", "{}", 0),
        )
        .unwrap();
        for (stage, ok, ms) in [(0, true, 10), (0, false, 10), (0, true, 900), (1, true, 5)] {
            add_event(conn, &EventRow::report("r", 1, stage, "u", ok, Some(ms))).unwrap();
        }
        add_event(conn, &EventRow::lifecycle("r", 2, "advanced", 1)).unwrap();
        let c = stage_counts(conn, "r", Some(500)).unwrap();
        assert_eq!(
            c.iter()
                .map(|s| (s.stage, s.samples, s.failures, s.slow))
                .collect::<Vec<_>>(),
            [(0, 3, 1, 1), (1, 1, 0, 0)]
        );
        assert_eq!(stage_counts(conn, "r", None).unwrap()[0].slow, 0);
        assert_eq!(lifecycle_events(conn, "r").unwrap().len(), 1);
    }
}
