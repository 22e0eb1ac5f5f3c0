//! Names to positions without copying the names, and versions written without `fmt`.
//!
//! The graph holds 10,000s of packages and edges named by strings; validating the edges means
//! a lookup per end. [`NameIndex`] is an open-addressing table of positions into the caller's
//! own list (it stores no key), hashed with a multiply-rotate hash: far cheaper than SipHash
//! on short names, and the inputs are the caller's own manifests, not an adversary's.

use semver::Version;

/// No entry.
const EMPTY: u32 = u32::MAX;

/// Positions `0..n` of a list, found by the name at each position.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    slots: Vec<u32>,
    /// `64 - log2(slots.len())`: the hash's top bits pick the slot.
    shift: u32,
}

impl NameIndex {
    /// Indexes positions `0..n` by `name(i)`; a name already indexed keeps its first
    /// position. Returns the index and the first position whose name repeats an earlier one.
    pub(crate) fn build<'a>(n: usize, name: impl Fn(usize) -> &'a str) -> (Self, Option<usize>) {
        let size = (n.max(4) * 2).next_power_of_two();
        let mut index = NameIndex {
            slots: vec![EMPTY; size],
            shift: 64 - size.trailing_zeros(),
        };
        let mut repeat = None;
        for i in 0..n {
            let key = name(i);
            let mut slot = index.home(key);
            loop {
                match index.slots[slot] {
                    EMPTY => {
                        // n < 2^32: a graph of 4 billion packages does not fit in memory.
                        index.slots[slot] = i as u32;
                        break;
                    }
                    j if name(j as usize) == key => {
                        repeat = repeat.or(Some(i));
                        break;
                    }
                    _ => slot = (slot + 1) & (index.slots.len() - 1),
                }
            }
        }
        (index, repeat)
    }

    /// The position whose name is `key`.
    pub(crate) fn get<'a>(&self, key: &str, name: impl Fn(usize) -> &'a str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut slot = self.home(key);
        loop {
            match self.slots[slot] {
                EMPTY => return None,
                j if name(j as usize) == key => return Some(j as usize),
                _ => slot = (slot + 1) & (self.slots.len() - 1),
            }
        }
    }

    fn home(&self, key: &str) -> usize {
        (hash(key.as_bytes()) >> self.shift) as usize
    }
}

/// A multiply-rotate hash over 8-byte words, finished with a multiply so that the top bits
/// (the ones [`NameIndex`] uses) depend on every input bit.
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(w);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    (h ^ (h >> 29)).wrapping_mul(K)
}

/// A [`std::hash::Hasher`] on the same hash, for small maps keyed by names.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = (self.0.rotate_left(26) ^ hash(bytes)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Appends `n` in decimal. Version components are mostly below 100: those take one or two
/// pushes.
fn push_u64(out: &mut String, n: u64) {
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
    } else if n < 100 {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    } else {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = n;
        while rest > 0 {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        for &d in &digits[at..] {
            out.push(char::from(d));
        }
    }
}

/// The number of decimal digits of `n`.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Appends `v` exactly as its `Display` writes it (`1.2.3-rc.1+build.5`).
pub(crate) fn push_version(out: &mut String, v: &Version) {
    push_u64(out, v.major);
    out.push('.');
    push_u64(out, v.minor);
    out.push('.');
    push_u64(out, v.patch);
    if !v.pre.is_empty() {
        out.push('-');
        out.push_str(v.pre.as_str());
    }
    if !v.build.is_empty() {
        out.push('+');
        out.push_str(v.build.as_str());
    }
}

/// The length [`push_version`] writes.
pub(crate) fn version_len(v: &Version) -> usize {
    let pre = if v.pre.is_empty() { 0 } else { 1 + v.pre.len() };
    let build = if v.build.is_empty() {
        0
    } else {
        1 + v.build.len()
    };
    digits(v.major) + digits(v.minor) + digits(v.patch) + 2 + pre + build
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_name_and_no_other() {
        let names: Vec<String> = (0..1000).map(|i| format!("pkg-{i:05}")).collect();
        let (index, repeat) = NameIndex::build(names.len(), |i| &names[i]);
        assert_eq!(repeat, None);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n, |j| &names[j]), Some(i));
        }
        assert_eq!(index.get("pkg-01000", |j| &names[j]), None);
        assert_eq!(index.get("", |j| &names[j]), None);
        let empty = NameIndex::default();
        assert_eq!(empty.get("x", |j| &names[j]), None);
    }

    #[test]
    fn reports_the_first_repeat() {
        let names = ["a", "b", "c", "b", "a"];
        let (index, repeat) = NameIndex::build(names.len(), |i| names[i]);
        assert_eq!(repeat, Some(3));
        assert_eq!(index.get("b", |i| names[i]), Some(1));
        assert_eq!(index.get("a", |i| names[i]), Some(0));
    }

    #[test]
    fn versions_are_written_as_display_writes_them() {
        for text in [
            "0.0.0",
            "1.2.3",
            "18446744073709551615.10.99",
            "1.0.0-rc.1",
            "1.0.0+build.5",
            "2.3.4-alpha.1+sha.9f",
        ] {
            let v = Version::parse(text).expect("a valid version");
            let mut out = String::new();
            push_version(&mut out, &v);
            assert_eq!(out, v.to_string());
            assert_eq!(out.len(), version_len(&v));
        }
    }
}
