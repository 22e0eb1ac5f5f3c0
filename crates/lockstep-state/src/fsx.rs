//! Crash-safe file writes: temp file → fsync → rename → fsync of the directory.
//!
//! Every crate that must leave a file whole writes it through here, so the temp files a crash
//! can leave behind all follow one rule ([`temp_name`]) and one sweep ([`sweep_debris`]) finds
//! them, whoever wrote them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The suffix of every temp file lockstep writes.
pub const TEMP_SUFFIX: &str = ".tmp";

/// Replaces `path` with `bytes` so that a crash leaves either the old content or the new one.
/// The file keeps the mode of the one it replaces (an executable script stays executable).
/// Missing parent directories are created.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, bytes, None)
}

/// [`write_atomic`] with an explicit Unix mode (`Some(0o755)`), instead of keeping the old one.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = parent(path);
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(temp_name(&name, std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        match mode {
            Some(mode) => f.set_permissions(fs::Permissions::from_mode(mode))?,
            None => {
                if let Ok(meta) = fs::metadata(path) {
                    f.set_permissions(meta.permissions())?;
                }
            }
        }
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The temp file name [`write_atomic`] uses for `name` in process `pid`:
/// `.NAME.PID.tmp`.
pub fn temp_name(name: &str, pid: u32) -> String {
    format!(".{name}.{pid}{TEMP_SUFFIX}")
}

/// Whether `file_name` is a temp file [`write_atomic`] left for `name` (any process).
pub fn is_temp_of(file_name: &str, name: &str) -> bool {
    file_name
        .strip_prefix('.')
        .and_then(|r| r.strip_prefix(name))
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes the temp files a crash left beside `path` (written for it by any process), and
/// returns them. A missing directory is nothing to sweep.
pub fn sweep_debris(path: &Path) -> io::Result<Vec<PathBuf>> {
    let dir = parent(path);
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(Vec::new());
    };
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        if is_temp_of(&entry.file_name().to_string_lossy(), &name) {
            fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Removes `path` (absent is fine) and makes the removal durable; returns whether it existed.
pub fn remove_durable(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(parent(path)).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// fsyncs a directory so that renames and removals in it survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether `program` can be run: a path that names a file, or a name found in a `PATH` directory.
pub fn on_path(program: &str) -> bool {
    find_program(program).is_some()
}

/// Where `program` is: itself when it names a file, else the first `PATH` directory holding it.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Bytes available to an unprivileged user on the file system holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(path).map_err(io::Error::from)?;
    Ok(stat.blocks_available().saturating_mul(stat.fragment_size()))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.sh");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        assert!(remove_durable(&p).unwrap());
        assert!(!remove_durable(&p).unwrap());
    }

    #[test]
    fn explicit_mode_and_new_directories() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/x");
        write_atomic_mode(&p, b"x", Some(0o600)).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn debris_of_any_process_is_swept_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Cargo.toml");
        fs::write(&p, "keep").unwrap();
        for other in [
            temp_name("Cargo.toml", 1),
            temp_name("Cargo.toml", 4242),
            temp_name("Cargo.lock", 7),
            ".Cargo.toml.x.tmp".to_owned(),
        ] {
            fs::write(dir.path().join(other), "").unwrap();
        }
        let removed = sweep_debris(&p).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".Cargo.lock.7.tmp", ".Cargo.toml.x.tmp", "Cargo.toml"]
        );
    }
}
