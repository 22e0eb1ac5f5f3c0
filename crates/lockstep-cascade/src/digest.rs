//! The plan's digest: sha256 over a canonical binary encoding of everything in the plan but
//! the digest itself.
//!
//! Every unsigned integer (a length, a count, a version component) is written in LEB128:
//! seven bits a byte, least significant first, the high bit set on every byte but the last
//! (so a length below 128 is one byte). Every string is written as its length and its bytes,
//! every list as its length and its items, every option as a 0 or 1 byte and the value, every
//! version as its major, minor and patch then its pre-release and build strings; fields in
//! declaration order, the schema name first, the notes and heads last. The encoding is
//! unambiguous, so two plans that differ anywhere have different inputs, and compact (every
//! byte is hashed: most lengths take one byte, not eight). A test in `tests/it` changes every
//! value of a plan's JSON in turn and checks the digest changes, so a field added to a step
//! and forgotten here fails it; another writes the encoding out in full, hashes it at once,
//! and checks the planner's streamed digest against it on random plans.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::plan::PLAN_SCHEMA;
use crate::{PinEdit, SharedStr, Step, Upstream};

/// The encoder: bytes gather in a buffer that is hashed in large blocks (many small
/// `update` calls cost more than the hashing itself).
///
/// [`digest`] encodes a finished plan; the planner encodes each step as soon as it is made,
/// while its strings are still in cache, through the same methods: [`Canon::begin`], then per
/// wave [`Canon::wave`] and its [`Canon::step`]s, then [`Canon::end`].
pub(crate) struct Canon {
    hasher: Sha256,
    buf: Vec<u8>,
}

const BLOCK: usize = 1 << 16;

impl Canon {
    pub(crate) fn new() -> Self {
        Canon {
            hasher: Sha256::new(),
            buf: Vec::with_capacity(BLOCK + 1024),
        }
    }

    /// Appends to the buffer; [`Canon::flush`] hashes it once it is a block.
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Hashes the buffer once it holds a block. Called between items (a step, a note), so
    /// the per-field appends check nothing; a large step only makes the buffer longer.
    #[inline]
    fn flush(&mut self) {
        if self.buf.len() >= BLOCK {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
    }

    /// The plan's start: its schema and number of waves.
    pub(crate) fn begin(&mut self, waves: usize) {
        self.str(PLAN_SCHEMA);
        self.len(waves);
    }

    /// A wave's start: its number of steps.
    pub(crate) fn wave(&mut self, steps: usize) {
        self.len(steps);
        self.flush();
    }

    /// The plan's end: its notes and heads; the digest, lower-case hex.
    pub(crate) fn end(
        mut self,
        notes: &[String],
        heads: &BTreeMap<SharedStr, SharedStr>,
    ) -> String {
        self.len(notes.len());
        for n in notes {
            self.str(n);
            self.flush();
        }
        self.len(heads.len());
        for (repo, head) in heads {
            self.str(repo);
            self.str(head);
            self.flush();
        }
        self.hasher.update(&self.buf);
        let hash = self.hasher.finalize();
        let mut hex = String::with_capacity(64);
        for &b in hash.iter() {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        hex
    }

    /// `n` in LEB128.
    #[inline]
    fn u64(&mut self, n: u64) {
        if n < 0x80 {
            self.buf.push(n as u8);
            return;
        }
        let mut rest = n;
        while rest >= 0x80 {
            self.buf.push((rest as u8) | 0x80);
            rest >>= 7;
        }
        self.buf.push(rest as u8);
    }

    #[inline]
    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    #[inline]
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes(s.as_bytes());
    }

    fn opt(&mut self, s: Option<&str>) {
        match s {
            None => self.bytes(&[0]),
            Some(s) => {
                self.bytes(&[1]);
                self.str(s);
            }
        }
    }

    fn version(&mut self, v: &semver::Version) {
        self.u64(v.major);
        self.u64(v.minor);
        self.u64(v.patch);
        if v.pre.is_empty() && v.build.is_empty() {
            // Two empty strings: two zero lengths.
            self.bytes(&[0, 0]);
        } else {
            self.str(v.pre.as_str());
            self.str(v.build.as_str());
        }
    }

    fn edit(&mut self, e: &PinEdit) {
        let PinEdit {
            file,
            dependency,
            from,
            to,
            kind,
        } = e;
        self.str(file);
        self.str(dependency);
        self.str(from);
        self.str(to);
        self.str(match kind {
            crate::EditKind::Requirement => "requirement",
            crate::EditKind::Tag => "tag",
        });
    }

    pub(crate) fn step(&mut self, s: &Step) {
        // Destructured so that a new field does not compile until it is hashed.
        let Step {
            package,
            repo,
            ecosystem,
            manifest,
            from,
            to,
            bump,
            reason,
            pin_edits,
            tag,
            lockfile_command,
            smoke,
            upstreams,
            release,
            why_not_released,
            tag_versioned,
            publish,
            publish_command,
        } = s;
        self.str(package);
        self.str(repo);
        self.str(ecosystem.as_str());
        self.str(manifest);
        self.version(from);
        self.version(to);
        self.str(bump.as_str());
        self.str(reason);
        self.len(pin_edits.len());
        for e in pin_edits {
            self.edit(e);
        }
        self.str(tag);
        self.opt(lockfile_command.as_deref());
        self.opt(smoke.as_deref());
        self.len(upstreams.len());
        for Upstream { package, version } in upstreams {
            self.str(package);
            self.version(version);
        }
        // Hashed only when not released, so released steps keep the digests they always had.
        if !release {
            self.str("edited-only");
            self.opt(why_not_released.as_deref());
        }
        if *tag_versioned {
            self.str("tag-versioned");
        }
        // Hashed only when set, so plans that publish nothing keep their digests.
        if *publish || publish_command.is_some() {
            self.str(if *publish { "publish" } else { "no-publish" });
            self.opt(publish_command.as_deref());
        }
        self.flush();
    }
}

/// The digest of a plan's content, lower-case hex.
pub(crate) fn digest(
    waves: &[Vec<Step>],
    notes: &[String],
    heads: &BTreeMap<SharedStr, SharedStr>,
) -> String {
    let mut c = Canon::new();
    c.begin(waves.len());
    for wave in waves {
        c.wave(wave.len());
        for s in wave {
            c.step(s);
        }
    }
    c.end(notes, heads)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_leb128() {
        for (n, bytes) in [
            (0u64, &[0x00][..]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (16_384, &[0x80, 0x80, 0x01]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut c = Canon::new();
            c.u64(n);
            assert_eq!(c.buf, bytes, "{n}");
        }
        let mut c = Canon::new();
        c.str("ab");
        c.opt(None);
        c.opt(Some(""));
        assert_eq!(c.buf, [2, b'a', b'b', 0, 1, 0]);
    }
}
