//! Watched sources and the upstream versions seen.

use rusqlite::{Connection, params};

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
