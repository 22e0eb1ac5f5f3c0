//! Organisation pins and their history.

use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

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
