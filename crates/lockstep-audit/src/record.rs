//! Records, their canonical form and their hash.

use std::time::SystemTime;

pub(crate) use lockstep_state::hex::encode as hex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `prev` of the first record (`seq` 1): sixty-four zeros, the same length as a hash.
///
/// A fixed value rather than `""` keeps every line's tail the same shape, which lets
/// [`AuditLog::verify`](crate::AuditLog::verify) check a line without parsing all of it.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Well-known values of [`Record::action`].
///
/// Any string is accepted; these are the ones lockstep itself writes.
pub mod action {
    /// A compatibility check (`update`, `status`, `gate`).
    pub const CHECK: &str = "check";
    /// An upgrade plan was shown.
    pub const PLAN: &str = "plan";
    /// An upgrade transaction began (after its snapshot).
    pub const UPGRADE_STARTED: &str = "upgrade_started";
    /// An upgrade transaction committed.
    pub const UPGRADE_COMMITTED: &str = "upgrade_committed";
    /// A failed upgrade was rolled back automatically.
    pub const ROLLED_BACK: &str = "rolled_back";
    /// An interrupted transaction was recovered from its journal.
    pub const RECOVERED: &str = "recovered";
    /// A snapshot was restored by hand (`rollback`).
    pub const ROLLBACK: &str = "rollback";
    /// A refusal was overridden (`--force`).
    pub const FORCED: &str = "forced";
    /// Smoke tests were skipped on request (`--skip-tests`).
    pub const TESTS_SKIPPED: &str = "tests_skipped";
    /// A release cascade began.
    pub const CASCADE_STARTED: &str = "cascade_started";
    /// A release cascade committed.
    pub const CASCADE_COMMITTED: &str = "cascade_committed";
    /// A release cascade was rolled back.
    pub const CASCADE_ROLLED_BACK: &str = "cascade_rolled_back";
    /// A torn tail of the log itself was dropped (written by this crate).
    pub const REPAIRED: &str = "repaired";
}

/// One line of the audit log.
///
/// Serialises with these key names, which are stable. The hash covers every field but `hash`,
/// in the canonical form described on [`Record::canonical_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When it happened, RFC 3339 in UTC (`2026-11-22T10:00:00Z`).
    pub time: String,
    /// Who did it, such as `user@host`.
    pub actor: String,
    /// What happened; see [`action`] for the well-known values.
    pub action: String,
    /// The version before, if any.
    pub from: Option<String>,
    /// The version after (or the target), if any.
    pub to: Option<String>,
    /// The snapshot id involved, if any.
    pub snapshot: Option<String>,
    /// How it ended (free text, such as `ok`, `failed`, `blocked`).
    pub outcome: String,
    /// Anything else, as a JSON object.
    #[serde(default)]
    pub details: Map<String, Value>,
    /// The previous record's `hash`, or [`GENESIS_PREV`] for `seq` 1.
    pub prev: String,
    /// Lower-case hex SHA-256 of [`Record::canonical_bytes`].
    pub hash: String,
}

impl Record {
    /// The bytes the hash is computed over: the record without `hash`, as compact JSON.
    ///
    /// The canonical form is one JSON object with the keys in this order:
    /// `seq`, `time`, `actor`, `action`, `from`, `to`, `snapshot`, `outcome`, `details`, `prev`;
    /// absent optional values are `null`; no whitespace; object keys inside `details`
    /// sorted by their UTF-8 bytes at every depth; strings and numbers as `serde_json` prints them.
    /// A line of the log is exactly this object with `,"hash":"…"` inserted before the closing brace.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        Fields::of(self).write_body(&mut out);
        out.push(b'}');
        out
    }

    /// Recomputes the hash from the other fields (what `hash` should be).
    pub fn compute_hash(&self) -> String {
        hex(&Sha256::digest(self.canonical_bytes()))
    }

    /// This record's position and hash, to check later that the log still holds it.
    pub fn anchor(&self) -> Anchor {
        Anchor {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

/// A record's `seq` and `hash`, kept elsewhere to detect that the log was cut short.
///
/// A hash chain alone cannot tell a log whose last records were removed from a shorter log;
/// [`AuditLog::verify_against`](crate::AuditLog::verify_against) can, given an anchor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Anchor {
    /// The record's sequence number.
    pub seq: u64,
    /// The record's hash.
    pub hash: String,
}

impl Anchor {
    /// An anchor from a stored sequence number and hash.
    pub fn new(seq: u64, hash: impl Into<String>) -> Self {
        Self {
            seq,
            hash: hash.into(),
        }
    }
}

/// What a caller supplies for a new record; the log fills in `seq`, `prev`, `hash`
/// and, unless given, `time`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewRecord {
    /// When it happened; `None` means now.
    pub time: Option<SystemTime>,
    /// Who did it.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// The version before.
    pub from: Option<String>,
    /// The version after.
    pub to: Option<String>,
    /// The snapshot id.
    pub snapshot: Option<String>,
    /// How it ended.
    pub outcome: String,
    /// Anything else.
    pub details: Map<String, Value>,
}

impl NewRecord {
    /// A record with the three fields every record has.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        outcome: impl Into<String>,
    ) -> Self {
        Self {
            time: None,
            actor: actor.into(),
            action: action.into(),
            from: None,
            to: None,
            snapshot: None,
            outcome: outcome.into(),
            details: Map::new(),
        }
    }

    /// Sets the time instead of taking the clock's at append.
    pub fn at(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Sets the version before.
    pub fn from_version(mut self, version: impl Into<String>) -> Self {
        self.from = Some(version.into());
        self
    }

    /// Sets the version after.
    pub fn to_version(mut self, version: impl Into<String>) -> Self {
        self.to = Some(version.into());
        self
    }

    /// Sets the snapshot id.
    pub fn snapshot(mut self, id: impl Into<String>) -> Self {
        self.snapshot = Some(id.into());
        self
    }

    /// Adds one entry to `details`, replacing an earlier one with the same key.
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    /// Seals the record: fills in `seq`, `prev`, `time` and `hash`, and returns it with its line
    /// (newline included).
    pub(crate) fn seal(self, seq: u64, prev: &str) -> (Record, Vec<u8>) {
        let time = lockstep_state::time::rfc3339(self.time.unwrap_or_else(SystemTime::now));
        let mut record = Record {
            seq,
            time,
            actor: self.actor,
            action: self.action,
            from: self.from,
            to: self.to,
            snapshot: self.snapshot,
            outcome: self.outcome,
            details: self.details,
            prev: prev.to_owned(),
            hash: String::new(),
        };
        let mut line = Vec::with_capacity(320);
        Fields::of(&record).write_body(&mut line);
        line.push(b'}');
        let hash = hex(&Sha256::digest(&line));
        line.pop();
        line.extend_from_slice(b",\"hash\":\"");
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"\"}\n");
        record.hash = hash;
        (record, line)
    }
}

/// Borrowed view of the hashed fields, shared by sealing and recomputing.
struct Fields<'a> {
    record: &'a Record,
}

impl<'a> Fields<'a> {
    fn of(record: &'a Record) -> Self {
        Self { record }
    }

    /// Writes the canonical object without its closing brace.
    fn write_body(&self, out: &mut Vec<u8>) {
        let r = self.record;
        out.extend_from_slice(b"{\"seq\":");
        out.extend_from_slice(r.seq.to_string().as_bytes());
        out.extend_from_slice(b",\"time\":");
        write_str(out, &r.time);
        out.extend_from_slice(b",\"actor\":");
        write_str(out, &r.actor);
        out.extend_from_slice(b",\"action\":");
        write_str(out, &r.action);
        out.extend_from_slice(b",\"from\":");
        write_opt(out, r.from.as_deref());
        out.extend_from_slice(b",\"to\":");
        write_opt(out, r.to.as_deref());
        out.extend_from_slice(b",\"snapshot\":");
        write_opt(out, r.snapshot.as_deref());
        out.extend_from_slice(b",\"outcome\":");
        write_str(out, &r.outcome);
        out.extend_from_slice(b",\"details\":");
        write_object(out, &r.details);
        out.extend_from_slice(b",\"prev\":");
        write_str(out, &r.prev);
    }
}

fn write_opt(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Serialising a `str` into a `Vec` cannot fail: no I/O, and a `str` is always valid.
    if serde_json::to_writer(&mut *out, s).is_err() {
        unreachable!("serialising a str into a Vec<u8> is infallible");
    }
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    // `serde_json::Map` may or may not keep insertion order (its `preserve_order` feature is
    // workspace-wide), so sort explicitly.
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn sample() -> NewRecord {
        NewRecord::new("ana@build-1", action::UPGRADE_COMMITTED, "ok")
            .at(UNIX_EPOCH + Duration::from_secs(1_795_341_600))
            .from_version("1.1.0")
            .to_version("1.2.0")
            .snapshot("pre-upgrade-20261122-100000")
            .detail("zeta", 1)
            .detail(
                "alpha",
                serde_json::json!({"b": [1, "two", null], "a": true}),
            )
    }

    #[test]
    fn sealed_line_is_the_canonical_body_plus_hash() {
        let (record, line) = sample().seal(7, GENESIS_PREV);
        let text = std::str::from_utf8(&line).expect("the line is UTF-8 JSON");
        let expected_body = format!(
            concat!(
                r#"{{"seq":7,"time":"2026-11-22T10:00:00Z","actor":"ana@build-1","action":"upgrade_committed","#,
                r#""from":"1.1.0","to":"1.2.0","snapshot":"pre-upgrade-20261122-100000","outcome":"ok","#,
                r#""details":{{"alpha":{{"a":true,"b":[1,"two",null]}},"zeta":1}},"prev":"{}""#
            ),
            GENESIS_PREV
        );
        assert_eq!(
            text,
            format!("{expected_body},\"hash\":\"{}\"}}\n", record.hash)
        );
        assert_eq!(
            record.canonical_bytes(),
            format!("{expected_body}}}").into_bytes()
        );
        assert_eq!(record.compute_hash(), record.hash);
        assert_eq!(record.hash.len(), 64);
    }

    #[test]
    fn a_parsed_line_rehashes_to_its_hash() {
        let (record, line) = sample().seal(3, &"ab".repeat(32));
        let parsed: Record = serde_json::from_slice(&line).expect("a sealed line parses");
        assert_eq!(parsed, record);
        assert_eq!(parsed.compute_hash(), record.hash);
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let (record, _) = sample().seal(1, GENESIS_PREV);
        type Edit = fn(&mut Record);
        let edits: Vec<(&str, Edit)> = vec![
            ("seq", |r| r.seq += 1),
            ("time", |r| r.time.push('x')),
            ("actor", |r| r.actor.push('x')),
            ("action", |r| r.action.push('x')),
            ("from", |r| r.from = None),
            ("to", |r| r.to = Some("9.9.9".into())),
            ("snapshot", |r| r.snapshot = None),
            ("outcome", |r| r.outcome.push('x')),
            ("details", |r| {
                r.details.insert("new".into(), Value::Null);
            }),
            ("prev", |r| r.prev = "1".repeat(64)),
        ];
        for (field, edit) in edits {
            let mut edited = record.clone();
            edit(&mut edited);
            assert_ne!(edited.compute_hash(), record.hash, "{field} is not hashed");
        }
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }
}
