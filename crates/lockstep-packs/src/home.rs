//! The pack home: where installed packs, the state database, the journal, the lock, the audit
//! log and the index configuration live.
//!
//! ```text
//! HOME/
//!   packs/NAME/          installed packs, one directory each
//!   state.db             installed packs, every test run, transactions, settings
//!   packs.toml           indexes = ["path-or-https-url", …]
//!   pack-journal.json    the transaction in flight
//!   audit.jsonl          forced and untested installs, as risk records
//!   lock                 one mutating command at a time
//!   staging/TXID/        packs fetched for a transaction in flight
//!   trash/TXID/          packs moved aside by a transaction in flight
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use lockstep_state::{journal::JournalFile, layout, lock::Lock};
use lockstep_store::Store;

use crate::Error;

/// The variable that names the pack home when `--home` is not given.
pub const HOME_ENV: &str = "LOCKSTEP_HOME";
/// The index configuration file in the home.
pub const CONFIG_FILE: &str = "packs.toml";
pub(crate) const JOURNAL_SCHEMA: &str = "lockstep.pack-journal/v1";
pub(crate) const CORE_SETTING: &str = "core_version";

/// A pack home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// The home at `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Home { dir: dir.into() }
    }

    /// The home a command line means: `explicit` (`--home`, relative to `cwd`), else
    /// `LOCKSTEP_HOME` (given as `env`), else `.lockstep/` at the root of the git work tree
    /// holding `cwd`, else `cwd/.lockstep`.
    ///
    /// ```
    /// use std::path::Path;
    /// use lockstep_packs::Home;
    ///
    /// let cwd = Path::new("/nonexistent/work");
    /// assert_eq!(Home::locate(Some(Path::new("h")), None, cwd).dir(), Path::new("/nonexistent/work/h"));
    /// assert_eq!(Home::locate(None, Some("/srv/h".into()), cwd).dir(), Path::new("/srv/h"));
    /// assert_eq!(Home::locate(None, None, cwd).dir(), Path::new("/nonexistent/work/.lockstep"));
    /// ```
    pub fn locate(explicit: Option<&Path>, env: Option<OsString>, cwd: &Path) -> Self {
        if let Some(dir) = explicit {
            return Home::new(cwd.join(dir));
        }
        if let Some(dir) = env.filter(|d| !d.is_empty()) {
            return Home::new(cwd.join(dir));
        }
        let root = layout::work_tree_root(cwd).unwrap_or_else(|| cwd.to_path_buf());
        Home::new(layout::state_dir(&root))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `HOME/packs`.
    pub fn packs_dir(&self) -> PathBuf {
        self.dir.join(layout::PACKS_DIR)
    }

    /// `HOME/packs/NAME`, where an installed pack lives.
    pub fn pack_dir(&self, name: &str) -> PathBuf {
        self.packs_dir().join(name)
    }

    /// `HOME/state.db`.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(layout::STATE_DB)
    }

    /// `HOME/packs.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    /// `HOME/audit.jsonl`.
    pub fn audit_path(&self) -> PathBuf {
        self.dir.join(layout::AUDIT_FILE)
    }

    /// `HOME/pack-journal.json`.
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(layout::PACK_JOURNAL_FILE)
    }

    /// HTTP settings for indexes and archives from the process environment (proxies,
    /// `GITHUB_TOKEN`), caching index responses in `HOME/cache`.
    pub fn registry_options_from_env(&self) -> lockstep_registry::Options {
        lockstep_registry::Options::from_env().with_cache_dir(self.dir.join("cache"))
    }

    pub(crate) fn journal(&self) -> JournalFile {
        JournalFile::new(self.journal_path(), JOURNAL_SCHEMA)
    }

    pub(crate) fn staging_root(&self) -> PathBuf {
        self.dir.join("staging")
    }

    pub(crate) fn staging_dir(&self, txid: &str) -> PathBuf {
        self.staging_root().join(txid)
    }

    pub(crate) fn trash_root(&self) -> PathBuf {
        self.dir.join("trash")
    }

    pub(crate) fn trash_dir(&self, txid: &str) -> PathBuf {
        self.trash_root().join(txid)
    }

    pub(crate) fn lock(&self, what: &str) -> Result<Lock, Error> {
        Ok(Lock::acquire(&self.dir, what)?)
    }

    pub(crate) fn store(&self) -> Result<Store, Error> {
        Ok(Store::open(&self.db_path())?)
    }

    /// The pack indexes `packs.toml` lists (paths relative to the home), in order; none when
    /// the file is absent.
    pub fn indexes(&self) -> Result<Vec<String>, Error> {
        let path = self.config_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        parse_config(&text).map_err(|message| Error::Config {
            location: path.display().to_string(),
            message,
        })
    }
}

fn parse_config(text: &str) -> Result<Vec<String>, String> {
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            })
            .unwrap_or_default();
        format!("{at}{}", e.message())
    })?;
    let mut out = Vec::new();
    for (key, item) in doc.iter() {
        if key != "indexes" {
            return Err(format!(
                "unknown key `{key}`; accepted: indexes = [\"path-or-https-url\", …]"
            ));
        }
        let Some(array) = item.as_array() else {
            return Err(
                "`indexes` must be a list of strings, such as indexes = [\"packs.json\"]".into(),
            );
        };
        for (i, v) in array.iter().enumerate() {
            match v.as_str() {
                Some(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                _ => {
                    return Err(format!(
                        "indexes[{i}] must be a non-empty string: a path to a packs.json or an https:// URL"
                    ));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_lists_indexes_or_says_what_is_accepted() {
        assert_eq!(
            parse_config("indexes = [\"a/packs.json\", \"https://x/p.json\"]\n").unwrap(),
            ["a/packs.json", "https://x/p.json"]
        );
        assert_eq!(parse_config("").unwrap(), Vec::<String>::new());
        assert!(
            parse_config("index = []")
                .unwrap_err()
                .contains("unknown key `index`")
        );
        assert!(
            parse_config("indexes = [1]")
                .unwrap_err()
                .contains("indexes[0]")
        );
        assert!(
            parse_config("indexes = [")
                .unwrap_err()
                .starts_with("line 1")
        );
    }
}
