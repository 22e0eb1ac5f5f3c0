//! lockstep's state database: one SQLite file (`HOME/state.db`) with versioned migrations.
//!
//! The packs workflow stores every test run here; the fleet workflow stores the versions it
//! has seen, lab results, known-good and quarantined versions, organisation pins and rollout
//! events. Each workflow's tables and queries live in a module of their own ([`packs`],
//! [`fleet`], [`rollout`]); this file only opens the database and migrates it.
//!
//! [`Store::open`] creates the file if needed, turns on WAL journaling (readers never block
//! the writer, a crash never leaves a torn page), a busy timeout (concurrent commands wait for
//! each other instead of failing) and foreign keys, then applies every migration not applied
//! yet, each in its own transaction, recording it in `schema_migrations`. A database written
//! by a newer lockstep (a migration this build does not know) is refused, not guessed at.
//!
//! The schema is documented in `docs/state-db.md`.
//!
//! # Limitations
//!
//! - One file, one machine: SQLite's locking assumes a local file system, not NFS.
//! - Migrations only go forward.
//!
//! ## Examples
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let store = lockstep_store::Store::open(&dir.path().join("state.db"))?;
//! assert_eq!(store.schema_version()?, lockstep_store::MIGRATIONS.len() as i64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod fleet;
pub mod packs;
pub mod rollout;

pub use rusqlite;

/// A migration: a version (its position, from 1), a name and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Applied in ascending order; recorded in `schema_migrations`.
    pub version: i64,
    /// What it adds, for people.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration this build knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "packs",
        sql: include_str!("../migrations/0001_packs.sql"),
    },
    Migration {
        version: 2,
        name: "fleet",
        sql: include_str!("../migrations/0002_fleet.sql"),
    },
    Migration {
        version: 3,
        name: "rollout",
        sql: include_str!("../migrations/0003_rollout.sql"),
    },
];

/// Errors opening or using the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be opened or created.
    #[error("cannot open the state database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// A migration failed; the database stays at the version before it.
    #[error("cannot migrate the state database {path} to version {version} ({name}): {source}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: &'static str,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The database was written by a newer lockstep.
    #[error(
        "the state database {path} is at schema version {found}, newer than this lockstep knows ({known}); upgrade lockstep"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Open { .. } => "store_open",
            Error::Migrate { .. } => "store_migrate",
            Error::TooNew { .. } => "store_too_new",
            Error::Sql(_) => "store",
        }
    }
}

/// The open state database.
#[derive(Debug)]
pub struct Store {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, Error> {
        let open = |source| Error::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                open(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot create {}: {e}", dir.display())),
                ))
            })?;
        }
        let conn = rusqlite::Connection::open(path).map_err(open)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(open)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for the workflow modules' queries.
    pub fn conn(&self) -> &rusqlite::Connection {
        &self.conn
    }

    /// The connection, mutably (transactions).
    pub fn conn_mut(&mut self) -> &mut rusqlite::Connection {
        &mut self.conn
    }

    /// The highest migration applied.
    pub fn schema_version(&self) -> Result<i64, Error> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    fn migrate(&mut self) -> Result<(), Error> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TEXT NOT NULL
            );",
        )?;
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        let found = self.schema_version()?;
        if found > known {
            return Err(Error::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > found) {
            let fail = |source| Error::Migrate {
                path: self.path.clone(),
                version: m.version,
                name: m.name,
                source,
            };
            // IMMEDIATE: two processes opening a fresh database do not both migrate it.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(fail)?;
            let already: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                    [m.version],
                    |r| r.get(0),
                )
                .map_err(fail)?;
            if !already {
                tx.execute_batch(m.sql).map_err(fail)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                    rusqlite::params![
                        m.version,
                        m.name,
                        lockstep_state::time::rfc3339(std::time::SystemTime::now())
                    ],
                )
                .map_err(fail)?;
            }
            tx.commit().map_err(fail)?;
            tracing::debug!(
                version = m.version,
                name = m.name,
                "state database migrated"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(&path).unwrap();
        let applied: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(applied, MIGRATIONS.len() as i64);
        s.conn()
            .execute(
                "INSERT INTO schema_migrations VALUES (999, 'future', 'now')",
                [],
            )
            .unwrap();
        drop(s);
        assert!(matches!(
            Store::open(&path),
            Err(Error::TooNew { found: 999, .. })
        ));
    }
}
