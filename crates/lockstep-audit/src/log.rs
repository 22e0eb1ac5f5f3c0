//! The log file: locking, appending, reading and torn-tail repair.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::record::{GENESIS_PREV, NewRecord, Record, action, hex};
use crate::{Error, VerifyReport};

/// How many times an append starts over (file replaced by a repair in another process,
/// tail torn again) before it gives up with [`Error::Unstable`].
const MAX_ATTEMPTS: u32 = 16;

/// How many bytes of dropped content a `repaired` record quotes.
const PREVIEW_BYTES: usize = 80;

/// An append-only, hash-chained JSONL audit log in one file.
///
/// Cheap to create: it holds only the path. Every operation opens the file; appends take an
/// exclusive lock on it ([`File::lock`]) for the time they read the tail and write, so several
/// threads and processes may append to the same log at once.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

/// What [`AuditLog::repair_torn_tail`] dropped, and the record that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Repair {
    /// Byte offset where the dropped bytes began (the log now ends there, before the new record).
    pub offset: u64,
    /// How many bytes were dropped.
    pub dropped_bytes: u64,
    /// Lower-case hex SHA-256 of the dropped bytes.
    pub dropped_sha256: String,
    /// Why the bytes were taken for a torn write.
    pub reason: TornReason,
    /// The `repaired` record appended in their place.
    pub record: Record,
}

/// Why a log's tail was taken for a write interrupted by a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TornReason {
    /// The file does not end with a newline: the last line was cut short.
    NoNewline,
    /// The last line ends with a newline but is not JSON (zero bytes, garbage).
    Unparsable,
}

impl TornReason {
    /// The stable name written into the `repaired` record (`no_newline`, `unparsable`).
    pub fn as_str(self) -> &'static str {
        match self {
            TornReason::NoNewline => "no_newline",
            TornReason::Unparsable => "unparsable",
        }
    }
}

/// The file, opened and exclusively locked, still the one at the log's path.
struct Locked {
    file: File,
    created: bool,
}

/// What the end of the file holds.
enum Tail {
    /// The file is empty (or missing).
    Empty,
    /// The last line is a record.
    Sound(Record),
    /// The file ends with a torn write.
    Torn(Torn),
}

struct Torn {
    /// Length of the part to keep.
    keep: u64,
    /// Length of the file.
    len: u64,
    reason: TornReason,
    /// The last record kept, if any.
    last: Option<Record>,
}

impl AuditLog {
    /// A log at `path`, creating its parent directory if it is missing.
    ///
    /// The file itself is created by the first append; reading a log that does not exist
    /// yet gives no records.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|source| Error::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        Ok(Self { path })
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record and returns it as written, after it is on disk (fsynced).
    ///
    /// Under the lock, the tail is read to find the previous record; a torn tail left by a
    /// crash is repaired first (see [`AuditLog::repair_torn_tail`]), with `new.actor` as the
    /// repair record's actor.
    ///
    /// # Errors
    ///
    /// I/O failures, and [`Error::CorruptTail`] when the last line is JSON but not a record.
    pub fn append(&self, new: NewRecord) -> Result<Record, Error> {
        let _span = tracing::debug_span!(
            "audit.append",
            path = %self.path.display(),
            action = %new.action
        )
        .entered();
        for _ in 0..MAX_ATTEMPTS {
            let locked = self.lock()?;
            match self.inspect_tail(&locked.file)? {
                Tail::Torn(torn) => {
                    self.replace_torn(&locked, torn, &new.actor)?;
                    // The file was replaced: lock the new one and start over.
                }
                Tail::Empty => return self.write_locked(&locked, 1, GENESIS_PREV, new),
                Tail::Sound(last) => {
                    return self.write_locked(&locked, last.seq.saturating_add(1), &last.hash, new);
                }
            }
        }
        Err(Error::Unstable {
            path: self.path.clone(),
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Every record, in file order, parsed but not verified (see [`AuditLog::verify`]).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] names the first line that is not a record, a torn tail included.
    pub fn records(&self) -> Result<Vec<Record>, Error> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(self.read_error(source)),
        };
        // Appends hold the exclusive lock while they write: a shared lock never sees half a line.
        file.lock_shared().map_err(|source| Error::Lock {
            path: self.path.clone(),
            source,
        })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| self.read_error(e))?;
        let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        if body.is_empty() {
            return Ok(Vec::new());
        }
        body.split(|b| *b == b'\n')
            .zip(1u64..)
            .map(|(line, number)| {
                serde_json::from_slice(line).map_err(|source| Error::Parse {
                    path: self.path.clone(),
                    line: number,
                    source,
                })
            })
            .collect()
    }

    /// Checks the whole chain and names the first bad record, if any.
    ///
    /// Reads the file under a shared lock, so an append in progress is either seen whole or not
    /// at all. A missing file verifies as an empty log.
    ///
    /// # Errors
    ///
    /// Only I/O failures; a damaged log is an `Ok` report with a [`Problem`](crate::Problem).
    pub fn verify(&self) -> Result<VerifyReport, Error> {
        let _span = tracing::debug_span!("audit.verify", path = %self.path.display()).entered();
        crate::verify::verify_file(&self.path, None)
    }

    /// Like [`AuditLog::verify`], and also checks that the log still holds the record an
    /// `anchor` was taken from, which detects whole records cut from the end.
    ///
    /// # Errors
    ///
    /// As for [`AuditLog::verify`].
    pub fn verify_against(&self, anchor: &crate::Anchor) -> Result<VerifyReport, Error> {
        let _span = tracing::debug_span!(
            "audit.verify",
            path = %self.path.display(),
            anchor = anchor.seq
        )
        .entered();
        crate::verify::verify_file(&self.path, Some(anchor))
    }

    /// Drops a torn tail left by a crash mid-write and appends a `repaired` record saying what
    /// was dropped; `Ok(None)` when the tail is sound.
    ///
    /// A torn tail is a last line without a newline, or a last line that is not JSON at all.
    /// The repair is atomic: the kept lines and the new record are written to a temporary file
    /// beside the log, fsynced, and renamed over it (then the directory is fsynced), so a crash
    /// leaves either the torn log or the repaired one, never a log without its repair record.
    /// Appenders waiting on the old file's lock notice the replacement and start over.
    ///
    /// # Errors
    ///
    /// I/O failures, and [`Error::CorruptTail`] when the last line is JSON but not a record.
    pub fn repair_torn_tail(&self, actor: &str) -> Result<Option<Repair>, Error> {
        let _span =
            tracing::debug_span!("audit.repair_torn_tail", path = %self.path.display()).entered();
        if !self.path.exists() {
            return Ok(None);
        }
        let locked = self.lock()?;
        match self.inspect_tail(&locked.file)? {
            Tail::Torn(torn) => self.replace_torn(&locked, torn, actor).map(Some),
            Tail::Empty | Tail::Sound(_) => Ok(None),
        }
    }

    /// Opens (creating if needed) and exclusively locks the file at `self.path`, making sure
    /// the locked file is still the one at the path (a repair may have replaced it meanwhile).
    fn lock(&self) -> Result<Locked, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let (file, created) = match OpenOptions::new()
                .read(true)
                .append(true)
                .create_new(true)
                .open(&self.path)
            {
                Ok(file) => (file, true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    match OpenOptions::new().read(true).append(true).open(&self.path) {
                        Ok(file) => (file, false),
                        // Replaced between the two opens: try again.
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(source) => return Err(self.open_error(source)),
                    }
                }
                Err(source) => return Err(self.open_error(source)),
            };
            file.lock().map_err(|source| Error::Lock {
                path: self.path.clone(),
                source,
            })?;
            if self.still_current(&file)? {
                return Ok(Locked { file, created });
            }
            tracing::debug!("audit log was replaced while waiting for its lock; reopening");
        }
        Err(Error::Unstable {
            path: self.path.clone(),
            attempts: MAX_ATTEMPTS,
        })
    }

    fn open_error(&self, source: io::Error) -> Error {
        Error::Open {
            path: self.path.clone(),
            source,
        }
    }

    fn read_error(&self, source: io::Error) -> Error {
        Error::Read {
            path: self.path.clone(),
            source,
        }
    }

    fn write_error(&self, source: io::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            source,
        }
    }

    #[cfg(unix)]
    fn still_current(&self, file: &File) -> Result<bool, Error> {
        use std::os::unix::fs::MetadataExt;
        let held = file.metadata().map_err(|e| self.read_error(e))?;
        match fs::metadata(&self.path) {
            Ok(now) => Ok(now.ino() == held.ino() && now.dev() == held.dev()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(self.read_error(source)),
        }
    }

    /// Without inode numbers, assume the file was not replaced; a repair racing an append
    /// in another process is then not detected (see the crate's limitations).
    #[cfg(not(unix))]
    fn still_current(&self, _file: &File) -> Result<bool, Error> {
        Ok(true)
    }

    fn write_locked(
        &self,
        locked: &Locked,
        seq: u64,
        prev: &str,
        new: NewRecord,
    ) -> Result<Record, Error> {
        let (record, line) = new.seal(seq, prev);
        (&locked.file)
            .write_all(&line)
            .map_err(|e| self.write_error(e))?;
        locked.file.sync_data().map_err(|e| self.write_error(e))?;
        if locked.created {
            self.sync_parent()?;
        }
        tracing::debug!(seq = record.seq, "audit record appended");
        Ok(record)
    }

    fn sync_parent(&self) -> Result<(), Error> {
        let parent = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        sync_dir(parent).map_err(|source| Error::Write {
            path: parent.to_owned(),
            source,
        })
    }

    /// Reads the end of the file to find the last record and any torn write after it.
    fn inspect_tail(&self, file: &File) -> Result<Tail, Error> {
        let len = file.metadata().map_err(|e| self.read_error(e))?.len();
        if len == 0 {
            return Ok(Tail::Empty);
        }
        let end = last_lines(file, len).map_err(|e| self.read_error(e))?;
        let mut torn = (end.good_end < len).then_some((end.good_end, TornReason::NoNewline));
        let Some((start, line)) = end.last_line else {
            // Not a single complete line: everything is torn.
            return Ok(Tail::Torn(Torn {
                keep: 0,
                len,
                reason: TornReason::NoNewline,
                last: None,
            }));
        };
        let last = match parse_tail_line(&line) {
            Ok(record) => Some(record),
            Err(TailLine::NotJson) => {
                // The last complete line is garbage too (a crash can leave zeros behind).
                torn = Some((start, TornReason::Unparsable));
                if start == 0 {
                    None
                } else {
                    let before = last_lines(file, start).map_err(|e| self.read_error(e))?;
                    match before.last_line {
                        None => None,
                        Some((prev_start, prev_line)) => match parse_tail_line(&prev_line) {
                            Ok(record) => Some(record),
                            Err(TailLine::NotJson) => {
                                // Two garbage lines: that is not one interrupted write.
                                return Err(self.corrupt_tail(prev_start, &prev_line));
                            }
                            Err(TailLine::NotRecord(source)) => {
                                return Err(Error::CorruptTail {
                                    path: self.path.clone(),
                                    offset: prev_start,
                                    source,
                                });
                            }
                        },
                    }
                }
            }
            Err(TailLine::NotRecord(source)) => {
                return Err(Error::CorruptTail {
                    path: self.path.clone(),
                    offset: start,
                    source,
                });
            }
        };
        Ok(match (torn, last) {
            (Some((keep, reason)), last) => Tail::Torn(Torn {
                keep,
                len,
                reason,
                last,
            }),
            (None, Some(record)) => Tail::Sound(record),
            // A complete last line that parsed always yields a record.
            (None, None) => Tail::Empty,
        })
    }

    fn corrupt_tail(&self, offset: u64, line: &[u8]) -> Error {
        let source = match serde_json::from_slice::<Value>(line) {
            Err(e) => e,
            Ok(_) => serde_json::Error::io(io::Error::other("not an audit record")),
        };
        Error::CorruptTail {
            path: self.path.clone(),
            offset,
            source,
        }
    }

    /// Writes the kept lines plus a `repaired` record to a temporary file and renames it over
    /// the log.
    fn replace_torn(&self, locked: &Locked, torn: Torn, actor: &str) -> Result<Repair, Error> {
        let mut file = &locked.file;
        let dropped_len = torn.len - torn.keep;
        file.seek(SeekFrom::Start(torn.keep))
            .map_err(|e| self.read_error(e))?;
        let mut hasher = Sha256::new();
        let mut preview = Vec::with_capacity(PREVIEW_BYTES);
        let mut buf = vec![0u8; 64 * 1024];
        let mut remaining = dropped_len;
        while remaining > 0 {
            let want = usize::try_from(remaining.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = file
                .read(&mut buf[..want])
                .map_err(|e| self.read_error(e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            let room = PREVIEW_BYTES - preview.len();
            preview.extend_from_slice(&buf[..n.min(room)]);
            remaining -= n as u64;
        }
        let dropped_sha256 = hex(&hasher.finalize());

        let (seq, prev) = match &torn.last {
            Some(last) => (last.seq.saturating_add(1), last.hash.as_str()),
            None => (1, GENESIS_PREV),
        };
        let new = NewRecord::new(actor, action::REPAIRED, "dropped_torn_tail")
            .detail("reason", torn.reason.as_str())
            .detail("offset", torn.keep)
            .detail("dropped_bytes", dropped_len)
            .detail("dropped_sha256", dropped_sha256.clone())
            .detail("preview", String::from_utf8_lossy(&preview).into_owned());
        let (record, line) = new.seal(seq, prev);

        let tmp = self.temp_path();
        let result = self.write_replacement(locked, &tmp, torn.keep, &line);
        if result.is_err() {
            // Best effort: the log itself is untouched until the rename.
            let _ = fs::remove_file(&tmp);
        }
        result?;
        tracing::warn!(
            offset = torn.keep,
            dropped_bytes = dropped_len,
            reason = torn.reason.as_str(),
            "repaired the torn tail of the audit log"
        );
        Ok(Repair {
            offset: torn.keep,
            dropped_bytes: dropped_len,
            dropped_sha256,
            reason: torn.reason,
            record,
        })
    }

    fn write_replacement(
        &self,
        locked: &Locked,
        tmp: &Path,
        keep: u64,
        line: &[u8],
    ) -> Result<(), Error> {
        let tmp_error = |source| Error::Write {
            path: tmp.to_owned(),
            source,
        };
        let mut out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp)
            .map_err(tmp_error)?;
        let permissions = locked
            .file
            .metadata()
            .map_err(|e| self.read_error(e))?
            .permissions();
        out.set_permissions(permissions).map_err(tmp_error)?;
        let mut file = &locked.file;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| self.read_error(e))?;
        let copied = io::copy(&mut file.take(keep), &mut out).map_err(tmp_error)?;
        if copied != keep {
            return Err(self.read_error(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the audit log shrank during repair",
            )));
        }
        out.write_all(line).map_err(tmp_error)?;
        out.sync_all().map_err(tmp_error)?;
        fs::rename(tmp, &self.path).map_err(|e| self.write_error(e))?;
        self.sync_parent()
    }

    fn temp_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audit.jsonl".to_owned());
        self.path
            .with_file_name(format!(".{name}.repair-{}", std::process::id()))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    lockstep_state::fsx::sync_dir(dir)
}

enum TailLine {
    NotJson,
    NotRecord(serde_json::Error),
}

fn parse_tail_line(line: &[u8]) -> Result<Record, TailLine> {
    if line.contains(&0) {
        return Err(TailLine::NotJson);
    }
    serde_json::from_slice::<Record>(line).map_err(|e| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err() {
            TailLine::NotJson
        } else {
            TailLine::NotRecord(e)
        }
    })
}

/// The end of `file[..len]`.
struct End {
    /// Offset just past the last newline (0 when there is none).
    good_end: u64,
    /// The last complete line (without its newline) and its start offset.
    last_line: Option<(u64, Vec<u8>)>,
}

/// Reads `file[..len]` backwards until it has seen the last complete line.
fn last_lines(file: &File, len: u64) -> io::Result<End> {
    let mut file = file;
    let mut pos = len;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk: u64 = 8 * 1024;
    loop {
        // Enough once two newlines are in view (the end of the last complete line and the one
        // before it), or the start of the file is.
        let newlines = buf.iter().filter(|b| **b == b'\n').take(2).count();
        if newlines == 2 || pos == 0 {
            break;
        }
        let start = pos.saturating_sub(chunk);
        let size = usize::try_from(pos - start)
            .map_err(|_| io::Error::other("audit log chunk larger than memory"))?;
        let mut piece = vec![0u8; size];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut piece)?;
        piece.extend_from_slice(&buf);
        buf = piece;
        pos = start;
        chunk = chunk.saturating_mul(2);
    }
    // `buf` holds file[pos..len].
    let Some(last_nl) = buf.iter().rposition(|b| *b == b'\n') else {
        return Ok(End {
            good_end: 0,
            last_line: None,
        });
    };
    let line_start = buf[..last_nl]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    Ok(End {
        good_end: pos + last_nl as u64 + 1,
        last_line: Some((pos + line_start as u64, buf[line_start..last_nl].to_vec())),
    })
}
