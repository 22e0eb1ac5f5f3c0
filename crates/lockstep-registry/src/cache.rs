//! The conditional-request cache: one file per URL under the cache directory, named by the
//! sha256 of the URL, holding the `ETag`, the `Link` header and the body.
//!
//! A file is a short text header and then the body verbatim:
//!
//! ```text
//! lockstep-cache 1
//! key: https://api.github.com/repos/o/r/releases?per_page=100
//! etag: W/"abc"
//! link: <https://…&page=2>; rel="next"
//! sha256: 0123…
//!
//! [body bytes]
//! ```
//!
//! Files are written atomically (temp file, fsync, rename, fsync of the directory). A file that
//! does not parse, belongs to another key or whose body does not hash as recorded is a miss.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;

const MAGIC: &str = "lockstep-cache 1";

/// A cached response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The validator to send as `If-None-Match`.
    pub(crate) etag: String,
    /// The response's `Link` header (GitHub pagination), which a 304 may not repeat.
    pub(crate) link: Option<String>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

/// A cache directory; created on first write.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Cache { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(hex(&Sha256::digest(key.as_bytes())))
    }

    /// The entry for `key`, or `None` when there is none or it is unusable.
    pub(crate) fn get(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read cache entry; fetching afresh");
                return None;
            }
        };
        let entry = parse(&bytes, key);
        if entry.is_none() {
            tracing::warn!(path = %path.display(), "ignoring a damaged cache entry");
        }
        entry
    }

    /// Stores `entry` for `key`, atomically.
    pub(crate) fn put(&self, key: &str, entry: &Entry) -> Result<(), Error> {
        let mut bytes = format!("{MAGIC}\nkey: {key}\netag: {}\n", entry.etag);
        if let Some(link) = &entry.link {
            bytes.push_str(&format!("link: {link}\n"));
        }
        bytes.push_str(&format!(
            "sha256: {}\n\n",
            hex(&Sha256::digest(&entry.body))
        ));
        let mut bytes = bytes.into_bytes();
        bytes.extend_from_slice(&entry.body);
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create", &self.dir, e))?;
        write_atomically(&self.path(key), &bytes)
    }
}

fn parse(bytes: &[u8], key: &str) -> Option<Entry> {
    let split = bytes.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let body = bytes[split + 2..].to_vec();
    let mut lines = head.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let (mut stored_key, mut etag, mut link, mut sha) = (None, None, None, None);
    for line in lines {
        let (name, value) = line.split_once(": ")?;
        match name {
            "key" => stored_key = Some(value),
            "etag" => etag = Some(value.to_owned()),
            "link" => link = Some(value.to_owned()),
            "sha256" => sha = Some(value),
            _ => {}
        }
    }
    (stored_key? == key && sha? == hex(&Sha256::digest(&body))).then_some(Entry {
        etag: etag?,
        link,
        body,
    })
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one
/// (`lockstep_state::fsx`, whose temp files every crash-debris sweep knows).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    lockstep_state::fsx::write_atomic(path, bytes).map_err(|e| Error::io("write", path, e))
}

/// Makes a rename in `dir` durable; best effort (not every platform can open a directory).
pub(crate) fn sync_dir(dir: &Path) {
    let _ = lockstep_state::fsx::sync_dir(dir);
}

pub(crate) use lockstep_state::hex::encode as hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path().join("cache"));
        let key = "https://example.com/releases.json";
        assert_eq!(cache.get(key), None);
        let entry = Entry {
            etag: "W/\"1\"".into(),
            link: Some("<https://example.com/?page=2>; rel=\"next\"".into()),
            body: b"{\"schema\": 1,\n\n\"releases\": []}".to_vec(),
        };
        cache.put(key, &entry).expect("written");
        assert_eq!(cache.get(key), Some(entry.clone()));
        assert_eq!(cache.get("https://example.com/other"), None);

        let path = cache.path(key);
        let mut bytes = fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] = b'x';
        fs::write(&path, bytes).expect("write");
        assert_eq!(
            cache.get(key),
            None,
            "a body that does not hash as recorded"
        );

        fs::write(&path, "garbage").expect("write");
        assert_eq!(cache.get(key), None);
        let leftovers = fs::read_dir(dir.path().join("cache")).expect("dir").count();
        assert_eq!(leftovers, 1, "no temp files left behind");
    }
}
