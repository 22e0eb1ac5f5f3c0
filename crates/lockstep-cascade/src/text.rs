//! [`SharedStr`]: the plan's strings, shared rather than copied.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable string whose clones share one allocation.
///
/// A plan names the same packages, repositories, files, pins and commands over and over (a
/// package's name is in its step, in every dependent's upstreams and pin edits): the graph
/// holds each such string once, and a plan's steps point at it. It reads like a `&str`
/// (`Deref`, [`SharedStr::as_str`], comparisons with `str`, `&str` and `String`), prints and
/// serialises as the plain string, and turns into a `String` with `String::from` or
/// `to_string`.
///
/// It is one pointer wide (an `Arc<Box<str>>`, not a two-word `Arc<str>`): a step holds seven
/// of them, a pin edit four and an upstream one, so the steps, edits and upstream lists of a
/// plan of 10,000 steps take 1.7 MB less (the strings a plan makes itself, its tags, take two
/// allocations, 0.4 MB more), and fresh memory, page faults included, is a large part of what
/// a plan costs. Reading one costs one more pointer hop.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(Arc<Box<str>>);

impl SharedStr {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0[..]
    }
}

impl Default for SharedStr {
    /// The empty string.
    fn default() -> Self {
        SharedStr::from("")
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0[..]
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0[..]
    }
}

impl AsRef<std::path::Path> for SharedStr {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(self.as_str())
    }
}

impl AsRef<std::ffi::OsStr> for SharedStr {
    fn as_ref(&self) -> &std::ffi::OsStr {
        std::ffi::OsStr::new(self.as_str())
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0[..]
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr(Arc::new(Box::from(s)))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(Arc::new(s.into_boxed_str()))
    }
}

impl From<&String> for SharedStr {
    fn from(s: &String) -> Self {
        SharedStr::from(s.as_str())
    }
}

impl From<Arc<str>> for SharedStr {
    /// The string, copied once into a `SharedStr` (whose clones then share it).
    fn from(s: Arc<str>) -> Self {
        SharedStr::from(&*s)
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> Self {
        String::from(s.as_str())
    }
}

impl From<&SharedStr> for String {
    fn from(s: &SharedStr) -> Self {
        String::from(s.as_str())
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SharedStr::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compares_and_serialises_as_the_string() {
        let s = SharedStr::from("core");
        let t = s.clone();
        assert!(
            std::ptr::eq(s.as_str(), t.as_str()),
            "a clone shares the bytes"
        );
        assert_eq!(s, "core");
        assert_eq!("core", s);
        assert_eq!(s, String::from("core"));
        assert_eq!(s.len(), 4);
        assert_eq!(format!("{s} {s:?}"), "core \"core\"");
        assert_eq!(String::from(s.clone()), "core");
        let (a, b) = (SharedStr::from("a"), SharedStr::from("b"));
        assert!(a < b, "ordered as the strings");
        assert_eq!(SharedStr::default(), "");
        let json = serde_json::to_string(&s).expect("serialises");
        assert_eq!(json, "\"core\"");
        let back: SharedStr = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, s);
        let map: std::collections::BTreeMap<SharedStr, u8> = [(s, 1)].into();
        assert_eq!(map.get("core"), Some(&1));
    }
}
