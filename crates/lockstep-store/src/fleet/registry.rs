//! The known-good registry: promotions and quarantines.

use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

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
