//! [`SharedStr`]: the plan's strings, copied or shared without allocating.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smol_str::SmolStr;

/// An immutable string that clones without allocating: one of up to 23 bytes is held in
/// place, a longer one is shared by reference count.
///
/// A plan names the same packages, repositories, files, pins and commands over and over (a
/// package's name is in its step, in every dependent's upstreams and pin edits). Nearly all
/// of those strings are short (`serde_derive`, `Cargo.toml`, `^1.2`, `gix-hash-v0.15.0`), so
/// a clone is a copy of 24 bytes: no allocation, and no shared counter for two threads to
/// contend for (the planner makes steps on one thread while another hashes them; with every
/// string counted, a third of a step's time went to the counters). It reads like a `&str`
/// (`Deref`, [`SharedStr::as_str`], comparisons with `str`, `&str` and `String`), prints and
/// serialises as the plain string, and turns into a `String` with `String::from` or
/// `to_string`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(SmolStr);

impl SharedStr {
    /// The string.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
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
        self.0.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.0.as_str()
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
        self.0.as_str()
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
        SharedStr(SmolStr::new(s))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(SmolStr::from(s))
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
        assert_eq!(s, t);
        let long = SharedStr::from("crates/gix-hash/Cargo.toml/and/more");
        assert!(
            std::ptr::eq(long.as_str(), long.clone().as_str()),
            "a long string's clone shares its bytes"
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
