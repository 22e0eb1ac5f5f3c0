//! Chain verification.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::Error;
use crate::record::{Anchor, GENESIS_PREV, Record};

/// The outcome of [`AuditLog::verify`](crate::AuditLog::verify).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// How many records were found sound, in order, before the first problem (all of them
    /// when there is none).
    pub records: u64,
    /// The last sound record's anchor, to keep for a later
    /// [`verify_against`](crate::AuditLog::verify_against).
    pub last: Option<Anchor>,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the whole chain is sound.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// The first bad record of a log: where it is, which record it is, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The line where the problem shows, counted from 1.
    pub line: u64,
    /// The record the problem names, when it can be told (see [`ProblemKind`] for which one).
    pub seq: Option<u64>,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a record. Each variant documents which record [`Problem::seq`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The line is not a record at all (a record cut short in the middle of the file, say).
    /// `seq` is `None`.
    BadLine {
        /// Why it does not parse.
        message: String,
    },
    /// The record's content no longer matches its hash: it was edited. `seq` is the edited
    /// record's, as it now reads.
    Edited {
        /// The hash the line carries.
        stored: String,
        /// The hash of its content.
        computed: String,
    },
    /// Record `seq` is missing: the line holds record `found` instead, and `seq` appears nowhere
    /// later. It was deleted.
    Deleted {
        /// The record found where `seq` should be.
        found: u64,
    },
    /// Record `seq` is out of place: the line holds record `found`, and `seq` appears later,
    /// at line `found_at_line`. The records were reordered.
    Reordered {
        /// The record found where `seq` should be.
        found: u64,
        /// Where record `seq` is.
        found_at_line: u64,
    },
    /// Record `seq` appears a second time (an earlier record was copied).
    Duplicate,
    /// Record `seq` hashes correctly and sits in its place, but its `prev` is not the hash of
    /// the record before: one of the two was rewritten with a recomputed hash.
    ChainBroken {
        /// The previous record's hash.
        expected_prev: String,
        /// The `prev` this record carries.
        found_prev: String,
    },
    /// The last line has no newline: a write was interrupted (or the file was truncated
    /// mid-record). [`AuditLog::repair_torn_tail`](crate::AuditLog::repair_torn_tail) fixes it.
    /// `seq` is `None`.
    TornTail {
        /// Length of the partial line.
        bytes: u64,
    },
    /// The log ends before the anchored record `seq`: records were cut from the end.
    Truncated {
        /// The last record the log still has.
        last_seq: Option<u64>,
    },
    /// The anchored record `seq` is present and the chain up to it is sound, but it is not the
    /// record the anchor was taken from: the log was rewritten from there on.
    AnchorMismatch {
        /// The anchor's hash.
        expected: String,
        /// The record's hash now.
        found: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        let seq = self.seq.map_or_else(|| "?".to_owned(), |s| s.to_string());
        match &self.kind {
            ProblemKind::BadLine { message } => {
                write!(f, "line {line} is not an audit record: {message}")
            }
            ProblemKind::Edited { .. } => write!(
                f,
                "record {seq} (line {line}) was edited: its content does not match its hash"
            ),
            ProblemKind::Deleted { found } => write!(
                f,
                "record {seq} was deleted: line {line} holds record {found}"
            ),
            ProblemKind::Reordered {
                found,
                found_at_line,
            } => write!(
                f,
                "records were reordered: line {line} holds record {found} where record {seq} belongs (found at line {found_at_line})"
            ),
            ProblemKind::Duplicate => {
                write!(f, "record {seq} appears again at line {line}")
            }
            ProblemKind::ChainBroken { .. } => write!(
                f,
                "the chain breaks at record {seq} (line {line}): its prev is not the previous record's hash, so one of the two was rewritten"
            ),
            ProblemKind::TornTail { bytes } => write!(
                f,
                "line {line} is a torn write of {bytes} bytes without a newline"
            ),
            ProblemKind::Truncated { last_seq } => match last_seq {
                Some(last) => write!(
                    f,
                    "the log ends at record {last} but record {seq} existed: records were cut from the end"
                ),
                None => write!(
                    f,
                    "the log is empty but record {seq} existed: records were cut from the end"
                ),
            },
            ProblemKind::AnchorMismatch { .. } => write!(
                f,
                "record {seq} (line {line}) is not the record anchored earlier: the log was rewritten"
            ),
        }
    }
}

/// `,"prev":"` + 64 hex + `","hash":"` + 64 hex + `"}`: the fixed tail of every canonical line.
const PREV_KEY: &[u8] = b",\"prev\":\"";
const HASH_KEY: &[u8] = b"\",\"hash\":\"";
const SUFFIX_LEN: usize = PREV_KEY.len() + 64 + HASH_KEY.len() + 64 + 2;
/// `,"hash":"` + 64 hex + `"}`: what to cut from a line to get the hashed body (minus its `}`).
const HASH_MEMBER_LEN: usize = b",\"hash\":\"".len() + 64 + 2;

/// A line's identity: seq, prev and hash (borrowed from the line on the fast path), and the
/// hash its content has.
struct Checked<'a> {
    seq: u64,
    prev: Cow<'a, [u8]>,
    hash: Cow<'a, [u8]>,
    computed: [u8; 64],
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn verify_file(path: &Path, anchor: Option<&Anchor>) -> Result<VerifyReport, Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(finish(0, Vec::new(), None, anchor));
        }
        Err(source) => return Err(read_error(source)),
    };
    // Appends hold the exclusive lock while they write: a shared lock never sees half a line.
    file.lock_shared().map_err(|source| Error::Lock {
        path: path.to_owned(),
        source,
    })?;
    let mut lines = Lines::new(file);
    let mut expected_seq: u64 = 1;
    // The previous record's hash (empty before the first record is read).
    let mut expected_prev: Vec<u8> = GENESIS_PREV.as_bytes().to_vec();
    let mut number: u64 = 0;
    let sound = |expected_seq: u64| expected_seq - 1;
    while let Some(terminated) = lines.next_line().map_err(read_error)? {
        number += 1;
        let at = |seq: Option<u64>, kind: ProblemKind| Problem {
            line: number,
            seq,
            kind,
        };
        if !terminated {
            let problem = at(
                None,
                ProblemKind::TornTail {
                    bytes: lines.buf.len() as u64,
                },
            );
            return Ok(finish(
                sound(expected_seq),
                expected_prev,
                Some(problem),
                anchor,
            ));
        }
        let checked = match check_line(&lines.buf) {
            Ok(checked) => checked,
            Err(message) => {
                let problem = at(None, ProblemKind::BadLine { message });
                return Ok(finish(
                    sound(expected_seq),
                    expected_prev,
                    Some(problem),
                    anchor,
                ));
            }
        };
        if *checked.hash != checked.computed {
            let problem = at(
                Some(checked.seq),
                ProblemKind::Edited {
                    stored: text(&checked.hash),
                    computed: text(&checked.computed),
                },
            );
            return Ok(finish(
                sound(expected_seq),
                expected_prev,
                Some(problem),
                anchor,
            ));
        }
        if checked.seq != expected_seq {
            let found = checked.seq;
            let problem = if found < expected_seq {
                at(Some(found), ProblemKind::Duplicate)
            } else {
                let kind = match find_later(&mut lines, number, expected_seq).map_err(read_error)? {
                    Some(found_at_line) => ProblemKind::Reordered {
                        found,
                        found_at_line,
                    },
                    None => ProblemKind::Deleted { found },
                };
                at(Some(expected_seq), kind)
            };
            return Ok(finish(
                sound(expected_seq),
                expected_prev,
                Some(problem),
                anchor,
            ));
        }
        if *checked.prev != *expected_prev {
            let problem = at(
                Some(checked.seq),
                ProblemKind::ChainBroken {
                    expected_prev: text(&expected_prev),
                    found_prev: text(&checked.prev),
                },
            );
            return Ok(finish(
                sound(expected_seq),
                expected_prev,
                Some(problem),
                anchor,
            ));
        }
        if let Some(anchor) =
            anchor.filter(|a| a.seq == checked.seq && a.hash.as_bytes() != &*checked.hash)
        {
            let problem = at(
                Some(checked.seq),
                ProblemKind::AnchorMismatch {
                    expected: anchor.hash.clone(),
                    found: text(&checked.hash),
                },
            );
            return Ok(finish(
                sound(expected_seq),
                expected_prev,
                Some(problem),
                None,
            ));
        }
        expected_prev.clear();
        expected_prev.extend_from_slice(&checked.hash);
        expected_seq += 1;
    }
    Ok(finish(sound(expected_seq), expected_prev, None, anchor))
}

/// Builds the report; with an anchor and no earlier problem, checks the log reached it.
///
/// `records` is the number of sound records and `last_hash` the last one's hash.
fn finish(
    records: u64,
    last_hash: Vec<u8>,
    problem: Option<Problem>,
    anchor: Option<&Anchor>,
) -> VerifyReport {
    let last = (records > 0).then(|| Anchor::new(records, text(&last_hash)));
    let problem = problem.or_else(|| {
        let anchor = anchor?;
        let last_seq = last.as_ref().map(|a| a.seq);
        (last_seq.unwrap_or(0) < anchor.seq).then(|| Problem {
            line: records + 1,
            seq: Some(anchor.seq),
            kind: ProblemKind::Truncated { last_seq },
        })
    });
    VerifyReport {
        records,
        last,
        problem,
    }
}

/// Looks for record `seq` after line `from`; returns its line.
fn find_later(lines: &mut Lines, from: u64, seq: u64) -> io::Result<Option<u64>> {
    let mut number = from;
    while let Some(_terminated) = lines.next_line()? {
        number += 1;
        let found = fast_seq(&lines.buf).or_else(|| {
            serde_json::from_slice::<Record>(&lines.buf)
                .ok()
                .map(|r| r.seq)
        });
        if found == Some(seq) {
            return Ok(Some(number));
        }
    }
    Ok(None)
}

/// Checks one line (without its newline).
///
/// The fast path relies on the canonical layout (see [`Record::canonical_bytes`]): the seq
/// opens the line, prev and hash close it, and the hash covers the line minus its hash member.
/// A line not in that layout is parsed and hashed from its fields instead, so a reformatted but
/// otherwise intact record still verifies.
fn check_line(line: &[u8]) -> Result<Checked<'_>, String> {
    if let Some(checked) = fast_check(line).filter(|c| *c.hash == c.computed) {
        return Ok(checked);
    }
    let record: Record = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let mut computed = [0u8; 64];
    computed.copy_from_slice(record.compute_hash().as_bytes());
    Ok(Checked {
        seq: record.seq,
        prev: Cow::Owned(record.prev.into_bytes()),
        hash: Cow::Owned(record.hash.into_bytes()),
        computed,
    })
}

fn fast_check(line: &[u8]) -> Option<Checked<'_>> {
    let seq = fast_seq(line)?;
    let suffix = line.get(line.len().checked_sub(SUFFIX_LEN)?..)?;
    let (prev_key, rest) = suffix.split_at(PREV_KEY.len());
    let (prev, rest) = rest.split_at(64);
    let (hash_key, rest) = rest.split_at(HASH_KEY.len());
    let (hash, close) = rest.split_at(64);
    if prev_key != PREV_KEY || hash_key != HASH_KEY || close != b"\"}" {
        return None;
    }
    if !is_lower_hex(prev) || !is_lower_hex(hash) {
        return None;
    }
    let body = &line[..line.len() - HASH_MEMBER_LEN];
    let mut hasher = Sha256::new();
    hasher.update(body);
    hasher.update(b"}");
    let digest = hasher.finalize();
    Some(Checked {
        seq,
        prev: Cow::Borrowed(prev),
        hash: Cow::Borrowed(hash),
        computed: hex_array(&digest),
    })
}

/// The seq of a canonical line: `{"seq":` followed by digits and a comma.
fn fast_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits) != Some(&b',') || (digits > 1 && rest[0] == b'0') {
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Lower-case hex of a SHA-256 digest, without allocating.
fn hex_array(digest: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    out
}

fn is_lower_hex(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Buffered line reader that reuses one buffer and reports whether a line had its newline.
struct Lines {
    reader: BufReader<File>,
    buf: Vec<u8>,
}

impl Lines {
    fn new(file: File) -> Self {
        Self {
            reader: BufReader::with_capacity(256 * 1024, file),
            buf: Vec::with_capacity(512),
        }
    }

    /// The next line into `self.buf` (newline stripped); `Some(false)` for a last line without
    /// a newline, `None` at the end.
    fn next_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            Ok(Some(true))
        } else {
            Ok(Some(false))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_constants_match_the_layout() {
        let hash_member = format!(",\"hash\":\"{}\"}}", "a".repeat(64));
        assert_eq!(HASH_MEMBER_LEN, hash_member.len());
        let suffix = format!(",\"prev\":\"{}\"{hash_member}", "b".repeat(64));
        assert_eq!(SUFFIX_LEN, suffix.len());
    }

    #[test]
    fn fast_seq_reads_canonical_prefixes_only() {
        for (line, expected) in [
            (&b"{\"seq\":1,\"time\""[..], Some(1)),
            (b"{\"seq\":123456,", Some(123_456)),
            (b"{\"seq\":01,", None),
            (b"{\"seq\":,", None),
            (b"{\"seq\":12", None),
            (b"{ \"seq\":1,", None),
            (b"{\"seq\":99999999999999999999999,", None),
        ] {
            assert_eq!(
                fast_seq(line),
                expected,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
