//! Crash-safe file writes and content hashes.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one
/// (`lockstep_state::fsx`, so crash-debris sweeps know the temp file), mode 0755 when
/// `executable`, else 0644.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], executable: bool) -> Result<()> {
    let mode = if executable { 0o755 } else { 0o644 };
    lockstep_state::fsx::write_atomic_mode(path, bytes, Some(mode))
        .map_err(|e| Error::io("write", path, e))
}

/// Removes `path` if it exists and fsyncs its directory; returns whether it existed.
pub(crate) fn remove_file_durably(path: &Path) -> Result<bool> {
    lockstep_state::fsx::remove_durable(path).map_err(|e| Error::io("remove", path, e))
}

/// Fsyncs a directory so that renames and removals in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    lockstep_state::fsx::sync_dir(dir).map_err(|e| Error::io("fsync directory", dir, e))
}

/// Whether the file's metadata says it is executable by its owner.
#[cfg(unix)]
pub(crate) fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
pub(crate) fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// The content of a regular file: bytes, sha256 and executable bit.
pub(crate) struct Content {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub executable: bool,
}

/// Reads a file and hashes it; `None` when it does not exist.
pub(crate) fn read_content(path: &Path) -> Result<Option<Content>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io("stat", path, e))?;
    if !meta.is_file() {
        return Err(Error::io(
            "read",
            path,
            std::io::Error::other("not a regular file"),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or_default());
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(Some(Content {
        sha256: sha256_hex(&bytes),
        bytes,
        executable: is_executable(&meta),
    }))
}

/// Lowercase hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/record.json");
        write_atomic(&path, b"one", false).expect("first write");
        write_atomic(&path, b"two", true).expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec!["record.json"]);
        let meta = fs::metadata(&path).expect("stat");
        assert!(is_executable(&meta));
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn missing_file_reads_as_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(
            read_content(&dir.path().join("nope"))
                .expect("no error")
                .is_none()
        );
        assert!(!remove_file_durably(&dir.path().join("nope")).expect("no error"));
    }
}
