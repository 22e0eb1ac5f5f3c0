//! The fleet home: the state database, the audit log, `notify.toml`, lab copies and caches,
//! and the outbox that keeps the database and the audit log in step across a crash.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use lockstep_audit::{AuditLog, NewRecord};
use lockstep_state::layout;
use lockstep_store::{Store, fleet as db};
use serde::{Deserialize, Serialize};

use crate::Error;

/// `HOME/notify.toml`: the webhooks.
pub const NOTIFY_FILE: &str = "notify.toml";
/// `HOME/lab/`: throwaway canary copies while a lab run is in flight.
pub const LAB_DIR: &str = "lab";

/// Where the fleet keeps its state: `HOME` (`--home`, `LOCKSTEP_HOME`, or `.lockstep/` at the
/// root of the current work tree) and the database (`--store`, `LOCKSTEP_STORE`, or
/// `HOME/state.db`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    dir: PathBuf,
    store: PathBuf,
}

impl Home {
    /// The home at `dir`, with the database at `store` or `dir/state.db`.
    pub fn new(dir: impl Into<PathBuf>, store: Option<PathBuf>) -> Self {
        let dir = dir.into();
        let store = store.unwrap_or_else(|| dir.join(layout::STATE_DB));
        Home { dir, store }
    }

    /// The home a command run in `cwd` uses: `home` if given, else `.lockstep/` at the root of
    /// the git work tree holding `cwd` (`cwd` itself when it is in none).
    pub fn resolve(cwd: &Path, home: Option<PathBuf>, store: Option<PathBuf>) -> Self {
        let dir = match home {
            Some(h) => cwd.join(h),
            None => {
                layout::state_dir(&layout::work_tree_root(cwd).unwrap_or_else(|| cwd.to_path_buf()))
            }
        };
        Home::new(dir, store.map(|s| cwd.join(s)))
    }

    /// The home directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn store_path(&self) -> &Path {
        &self.store
    }

    /// `HOME/audit.jsonl`.
    pub fn audit_path(&self) -> PathBuf {
        self.dir.join(layout::AUDIT_FILE)
    }

    /// `HOME/notify.toml`.
    pub fn notify_path(&self) -> PathBuf {
        self.dir.join(NOTIFY_FILE)
    }

    /// `HOME/lab`.
    pub fn lab_dir(&self) -> PathBuf {
        self.dir.join(LAB_DIR)
    }

    /// `HOME/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.join(layout::CACHE_DIR)
    }
}

/// An open home: the database and the audit log. Opening it appends any audit record a crash
/// left in the outbox.
#[derive(Debug)]
pub struct Fleet {
    pub(crate) home: Home,
    pub(crate) store: Store,
    pub(crate) audit: AuditLog,
}

/// An audit record as it waits in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) outcome: String,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) details: serde_json::Map<String, serde_json::Value>,
}

impl Pending {
    pub(crate) fn new(actor: &str, action: &str, outcome: &str) -> Self {
        Pending {
            actor: actor.to_owned(),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            from: None,
            to: None,
            details: serde_json::Map::new(),
        }
    }

    pub(crate) fn to(mut self, version: &str) -> Self {
        self.to = Some(version.to_owned());
        self
    }

    pub(crate) fn from(mut self, version: Option<&str>) -> Self {
        self.from = version.map(str::to_owned);
        self
    }

    pub(crate) fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// The `details` key that ties an audit record to its outbox entry.
const EVENT_ID: &str = "event_id";

impl Fleet {
    /// Opens (creating) the home's database and audit log, and finishes what a crash left: the
    /// audit records a change committed but did not append yet.
    pub fn open(home: &Home) -> Result<Fleet, Error> {
        std::fs::create_dir_all(home.dir()).map_err(|e| Error::io("create", home.dir(), e))?;
        let store = Store::open(home.store_path())?;
        let audit = AuditLog::open(home.audit_path())?;
        let mut fleet = Fleet {
            home: home.clone(),
            store,
            audit,
        };
        fleet.drain(None)?;
        Ok(fleet)
    }

    /// The home.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The database (for queries the workflow does not wrap, such as the rollout workflow's).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database, mutably (transactions).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Runs `change` in an immediate transaction together with queuing `record` for the audit
    /// log; after the commit the record is appended. `failpoint` names the steps for crash
    /// tests: `{failpoint}_before_commit` and `{failpoint}_after_commit`.
    pub(crate) fn commit<T>(
        &mut self,
        failpoint: &str,
        record: Pending,
        change: impl FnOnce(&lockstep_store::rusqlite::Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let id = event_id();
        let record = record.detail(EVENT_ID, id.clone());
        let text = serde_json::to_string(&record).map_err(|e| Error::Nothing {
            what: format!("cannot encode an audit record: {e}"),
        })?;
        let now = lockstep_state::time::rfc3339(SystemTime::now());
        let tx = self
            .store
            .conn_mut()
            .transaction_with_behavior(lockstep_store::rusqlite::TransactionBehavior::Immediate)
            .map_err(lockstep_store::Error::from)?;
        let value = change(&tx)?;
        db::outbox_put(&tx, &id, &text, &now)?;
        lockstep_state::failpoint::hit(&format!("{failpoint}_before_commit"));
        tx.commit().map_err(lockstep_store::Error::from)?;
        lockstep_state::failpoint::hit(&format!("{failpoint}_after_commit"));
        self.drain(Some(&id))?;
        Ok(value)
    }

    /// Appends queued audit records: only `only` (the caller's own, just committed), or every
    /// queued one (at open, after a crash). Runs under the database's write lock, so two
    /// processes never append the same record; at open, a record already in the log (the crash
    /// came between the append and the removal from the outbox) is not appended again.
    fn drain(&mut self, only: Option<&str>) -> Result<usize, Error> {
        if only.is_none() && db::outbox(self.store.conn())?.is_empty() {
            // The common case at open: nothing pending, no write lock taken.
            return Ok(0);
        }
        let tx = self
            .store
            .conn_mut()
            .transaction_with_behavior(lockstep_store::rusqlite::TransactionBehavior::Immediate)
            .map_err(lockstep_store::Error::from)?;
        let queued: Vec<(String, String)> = db::outbox(&tx)?
            .into_iter()
            .filter(|(id, _)| only.is_none_or(|o| o == id))
            .collect();
        if queued.is_empty() {
            return Ok(0);
        }
        // The caller's own record cannot be in the log yet: whoever appends a record removes it
        // from the outbox in the same locked transaction.
        let logged: Vec<String> = if only.is_none() {
            self.audit
                .records()?
                .into_iter()
                .filter_map(|r| {
                    r.details
                        .get(EVENT_ID)
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                })
                .collect()
        } else {
            Vec::new()
        };
        for (id, text) in &queued {
            if !logged.contains(id) {
                let pending: Pending = serde_json::from_str(text).map_err(|e| Error::Nothing {
                    what: format!("a queued audit record is unreadable: {e}"),
                })?;
                let mut record = NewRecord::new(pending.actor, pending.action, pending.outcome);
                if let Some(f) = pending.from {
                    record = record.from_version(f);
                }
                if let Some(t) = pending.to {
                    record = record.to_version(t);
                }
                for (k, v) in pending.details {
                    record = record.detail(k, v);
                }
                self.audit.append(record)?;
            }
            db::outbox_done(&tx, id)?;
        }
        tx.commit().map_err(lockstep_store::Error::from)?;
        Ok(queued.len())
    }
}

/// A unique id for an event: time, process and a counter.
pub(crate) fn event_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:x}-{:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The current time as RFC 3339.
pub(crate) fn now_text(now: SystemTime) -> String {
    lockstep_state::time::rfc3339(now)
}
