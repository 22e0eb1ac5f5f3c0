//! Identifiers: git object ids as hex, and snapshot ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A git object id (commit, tree, tag) as lowercase hex.
///
/// This crate's own type, so that no gix type is part of the API.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObjectId(pub(crate) String);

impl ObjectId {
    /// The full hex id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `len` hex digits (all of them when `len` is longer).
    pub fn short(&self, len: usize) -> &str {
        &self.0[..len.min(self.0.len())]
    }

    pub(crate) fn from_gix(id: impl AsRef<gix::oid>) -> Self {
        ObjectId(id.as_ref().to_hex().to_string())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<gix::ObjectId> for ObjectId {
    fn from(id: gix::ObjectId) -> Self {
        ObjectId::from_gix(id)
    }
}

/// The id of a snapshot: one ref name component, such as `pre-upgrade-20260219-183000`.
///
/// Accepted: 1 to 128 ASCII letters, digits, `.`, `_` and `-`, not starting with `.` or `-`,
/// without `..`, not ending in `.` or `.lock`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

impl SnapshotId {
    /// Validates `id` as a snapshot id.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        match invalid_reason(&id) {
            Some(reason) => Err(Error::InvalidId { id, reason }),
            None => Ok(SnapshotId(id)),
        }
    }

    /// `PREFIX-YYYYMMDD-HHMMSS` for `unix_seconds` in UTC; the caller passes the time, so ids are
    /// deterministic in tests.
    ///
    /// ```
    /// use lockstep_snapshot::SnapshotId;
    /// let id = SnapshotId::timestamped("pre-upgrade", 1_771_525_800)?;
    /// assert_eq!(id.as_str(), "pre-upgrade-20260219-183000");
    /// # Ok::<(), lockstep_snapshot::Error>(())
    /// ```
    pub fn timestamped(prefix: &str, unix_seconds: i64) -> Result<Self> {
        let days = unix_seconds.div_euclid(86_400);
        let secs = unix_seconds.rem_euclid(86_400);
        let (year, month, day) = lockstep_state::time::civil_from_days(days);
        Self::new(format!(
            "{prefix}-{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full name of the ref that holds this snapshot.
    pub fn ref_name(&self) -> String {
        format!("{}{}", crate::snapshot::REF_PREFIX, self.0)
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for SnapshotId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for SnapshotId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<SnapshotId> for String {
    fn from(id: SnapshotId) -> Self {
        id.0
    }
}

fn invalid_reason(id: &str) -> Option<&'static str> {
    if id.is_empty() || id.len() > 128 {
        return Some("expected 1 to 128 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Some("expected only ASCII letters, digits, '.', '_' and '-'");
    }
    if id.starts_with(['.', '-']) {
        return Some("must not start with '.' or '-'");
    }
    if id.contains("..") || id.ends_with('.') || id.ends_with(".lock") {
        return Some("must not contain '..' or end in '.' or '.lock'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let check = |secs: i64, expected: &str| {
            assert_eq!(
                SnapshotId::timestamped("pre-upgrade", secs)
                    .expect("valid prefix")
                    .as_str(),
                expected,
                "{secs}"
            );
        };
        check(0, "pre-upgrade-19700101-000000");
        check(1_771_525_800, "pre-upgrade-20260219-183000");
        check(951_782_400, "pre-upgrade-20000229-000000");
        check(1_767_225_599, "pre-upgrade-20251231-235959");
        check(4_102_444_800, "pre-upgrade-21000101-000000");
    }

    #[test]
    fn validation() {
        let check = |id: &str, ok: bool| {
            assert_eq!(SnapshotId::new(id).is_ok(), ok, "{id:?}");
        };
        check("pre-upgrade-20260219-183000", true);
        check("a", true);
        check("v1.2.3_x", true);
        check("", false);
        check(".hidden", false);
        check("-flag", false);
        check("a..b", false);
        check("a/b", false);
        check("a b", false);
        check("x.lock", false);
        check("trailing.", false);
        check("ümlaut", false);
        check(&"a".repeat(128), true);
        check(&"a".repeat(129), false);
    }

    #[test]
    fn invalid_id_error_says_what_is_accepted() {
        let err = SnapshotId::new("a/b").expect_err("slash is rejected");
        assert_eq!(
            err.to_string(),
            r#"invalid snapshot id "a/b": expected only ASCII letters, digits, '.', '_' and '-'"#
        );
    }
}
