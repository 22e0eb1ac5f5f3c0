//! The webhook delivery log and the audit outbox.

use rusqlite::{Connection, params};

use crate::Error;

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
