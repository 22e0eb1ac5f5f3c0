//! The packs workflow's tables: installed packs, every test run, the transactions that changed
//! the installed set, and settings. The schema is in `migrations/0001_packs.sql` and
//! `docs/state-db.md`.
//!
//! Activation is one SQLite transaction ([`Store::commit_pack_transaction`]): the rows of the
//! packs it installs or removes and the `pack_transactions` row that names it commit together,
//! so recovery can ask [`Store::pack_transaction_committed`] whether a crashed transaction
//! reached the database.

use rusqlite::{OptionalExtension, params};

use crate::{Error, Store};

/// An installed pack's row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstalledPack {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line for people.
    pub description: String,
    /// Search words.
    pub keywords: Vec<String>,
    /// Where it came from, as resolved.
    pub source: String,
    /// `pack.yaml` as installed.
    pub manifest: String,
    /// When, RFC 3339 UTC.
    pub installed_at: String,
    /// The command line that installed it.
    pub installed_by: String,
    /// `installed`, `forced` or `untested`.
    pub outcome: String,
    /// The transaction that installed it.
    pub txid: String,
}

impl InstalledPack {
    /// A row to insert.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
        keywords: Vec<String>,
        source: impl Into<String>,
        manifest: impl Into<String>,
        installed_at: impl Into<String>,
        installed_by: impl Into<String>,
        outcome: impl Into<String>,
        txid: impl Into<String>,
    ) -> Self {
        InstalledPack {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            keywords,
            source: source.into(),
            manifest: manifest.into(),
            installed_at: installed_at.into(),
            installed_by: installed_by.into(),
            outcome: outcome.into(),
            txid: txid.into(),
        }
    }
}

/// One stored test run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestRunRow {
    /// The pack.
    pub pack: String,
    /// The version tested.
    pub version: String,
    /// The install or `pack test` it was part of.
    pub txid: String,
    /// When it started, RFC 3339 UTC.
    pub started: String,
    /// How long it ran.
    pub duration_ms: u64,
    /// Tests counted.
    pub total: u64,
    /// Passed.
    pub passed: u64,
    /// Failed (failures and errors).
    pub failed: u64,
    /// Skipped by the tests themselves.
    pub skipped: u64,
    /// `passed`, `partial`, `failed` or `skipped`.
    pub status: String,
    /// Whether the install used `--force`.
    pub forced: bool,
    /// Whether `--skip-tests` skipped it.
    pub skipped_by_user: bool,
    /// The last lines of output.
    pub output_tail: String,
}

const PACK_COLUMNS: &str = "name, version, description, keywords, source, manifest, installed_at, installed_by, outcome, txid";

fn pack_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InstalledPack> {
    let keywords: String = r.get(3)?;
    Ok(InstalledPack {
        name: r.get(0)?,
        version: r.get(1)?,
        description: r.get(2)?,
        keywords: serde_json::from_str(&keywords).unwrap_or_default(),
        source: r.get(4)?,
        manifest: r.get(5)?,
        installed_at: r.get(6)?,
        installed_by: r.get(7)?,
        outcome: r.get(8)?,
        txid: r.get(9)?,
    })
}

impl Store {
    /// Every installed pack, by name.
    pub fn installed_packs(&self) -> Result<Vec<InstalledPack>, Error> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {PACK_COLUMNS} FROM packs ORDER BY name"))?;
        let rows = stmt.query_map([], pack_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One installed pack.
    pub fn installed_pack(&self, name: &str) -> Result<Option<InstalledPack>, Error> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {PACK_COLUMNS} FROM packs WHERE name = ?1"),
                [name],
                pack_row,
            )
            .optional()?)
    }

    /// Stores a test run; returns its id.
    pub fn insert_test_run(&self, run: &TestRunRow) -> Result<i64, Error> {
        self.conn.execute(
            "INSERT INTO pack_test_runs (pack, version, txid, started, duration_ms, total, passed, failed, skipped, status, forced, skipped_by_user, output_tail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run.pack,
                run.version,
                run.txid,
                run.started,
                run.duration_ms as i64,
                run.total as i64,
                run.passed as i64,
                run.failed as i64,
                run.skipped as i64,
                run.status,
                run.forced,
                run.skipped_by_user,
                run.output_tail,
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A pack's test runs, newest first.
    pub fn test_runs(&self, pack: &str) -> Result<Vec<TestRunRow>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT pack, version, txid, started, duration_ms, total, passed, failed, skipped, status, forced, skipped_by_user, output_tail
             FROM pack_test_runs WHERE pack = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([pack], |r| {
            Ok(TestRunRow {
                pack: r.get(0)?,
                version: r.get(1)?,
                txid: r.get(2)?,
                started: r.get(3)?,
                duration_ms: r.get::<_, i64>(4)?.max(0) as u64,
                total: r.get::<_, i64>(5)?.max(0) as u64,
                passed: r.get::<_, i64>(6)?.max(0) as u64,
                failed: r.get::<_, i64>(7)?.max(0) as u64,
                skipped: r.get::<_, i64>(8)?.max(0) as u64,
                status: r.get(9)?,
                forced: r.get(10)?,
                skipped_by_user: r.get(11)?,
                output_tail: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Installs `install` (replacing rows of the same name), deletes `remove`, and records
    /// transaction `txid`, all in one SQLite transaction.
    pub fn commit_pack_transaction(
        &mut self,
        txid: &str,
        kind: &str,
        command: &str,
        finished_at: &str,
        install: &[InstalledPack],
        remove: &[String],
    ) -> Result<(), Error> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut names = Vec::new();
        for name in remove {
            tx.execute("DELETE FROM packs WHERE name = ?1", [name])?;
            names.push(name.clone());
        }
        for p in install {
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO packs ({PACK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ),
                params![
                    p.name,
                    p.version,
                    p.description,
                    serde_json::to_string(&p.keywords).unwrap_or_else(|_| "[]".into()),
                    p.source,
                    p.manifest,
                    p.installed_at,
                    p.installed_by,
                    p.outcome,
                    p.txid,
                ],
            )?;
            names.push(format!("{}@{}", p.name, p.version));
        }
        tx.execute(
            "INSERT INTO pack_transactions (txid, kind, command, finished_at, packs) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                txid,
                kind,
                command,
                finished_at,
                serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Whether pack transaction `txid` committed.
    pub fn pack_transaction_committed(&self, txid: &str) -> Result<bool, Error> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM pack_transactions WHERE txid = ?1)",
            [txid],
            |r| r.get(0),
        )?)
    }

    /// A setting of the pack home (`core_version`).
    pub fn pack_setting(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM pack_settings WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets a setting of the pack home.
    pub fn set_pack_setting(&self, key: &str, value: &str) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO pack_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_commits_rows_and_its_marker_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("state.db")).unwrap();
        let p = InstalledPack::new(
            "pg",
            "1.0.0",
            "d",
            vec!["db".into()],
            "/src",
            "name: pg",
            "t",
            "cmd",
            "installed",
            "tx1",
        );
        assert!(!s.pack_transaction_committed("tx1").unwrap());
        s.commit_pack_transaction("tx1", "install", "cmd", "t", std::slice::from_ref(&p), &[])
            .unwrap();
        assert!(s.pack_transaction_committed("tx1").unwrap());
        assert_eq!(s.installed_packs().unwrap(), vec![p]);
        // A second transaction with the same id fails whole: nothing of it is applied.
        let err = s.commit_pack_transaction("tx1", "remove", "cmd", "t", &[], &["pg".into()]);
        assert!(err.is_err());
        assert!(s.installed_pack("pg").unwrap().is_some());
        s.commit_pack_transaction("tx2", "remove", "cmd", "t", &[], &["pg".into()])
            .unwrap();
        assert!(s.installed_pack("pg").unwrap().is_none());
    }

    #[test]
    fn test_runs_come_back_newest_first_and_settings_update() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("state.db")).unwrap();
        for status in ["failed", "passed"] {
            s.insert_test_run(&TestRunRow {
                pack: "pg".into(),
                status: status.into(),
                ..TestRunRow::default()
            })
            .unwrap();
        }
        let runs: Vec<_> = s
            .test_runs("pg")
            .unwrap()
            .into_iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(runs, ["passed", "failed"]);
        assert!(
            s.insert_test_run(&TestRunRow {
                status: "odd".into(),
                ..TestRunRow::default()
            })
            .is_err()
        );
        s.set_pack_setting("core_version", "1.0.0").unwrap();
        s.set_pack_setting("core_version", "1.1.0").unwrap();
        assert_eq!(
            s.pack_setting("core_version").unwrap().as_deref(),
            Some("1.1.0")
        );
    }
}
