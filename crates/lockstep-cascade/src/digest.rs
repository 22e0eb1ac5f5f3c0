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
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};
use std::thread::{Scope, ScopedJoinHandle};

use sha2::{Digest, Sha256};

use crate::plan::{ByWave, PLAN_SCHEMA};
use crate::planner::{Slot, upstreams};
use crate::{Graph, PinEdit, SharedStr, Step, Upstream};

/// The encoder: bytes gather in a buffer that is hashed in large blocks (many small
/// `update` calls cost more than the hashing itself).
///
/// [`digest`] encodes a finished plan; the planner encodes each wave as soon as it is made
/// ([`Waves`]), through the same methods: [`Canon::begin`], [`Canon::wave_steps`] per wave,
/// then [`Canon::end`].
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

    /// A wave: its number of steps, then each step.
    pub(crate) fn wave_steps(&mut self, steps: &[Step]) {
        self.len(steps.len());
        self.flush();
        for s in steps {
            self.step(s);
        }
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

/// A plan with at least this many steps is finished and hashed on a thread of its own, beside
/// the planner, when the machine has a core to spare: below it, starting the thread costs
/// more than it takes off the planner.
const THREAD_FROM_STEPS: usize = 2048;

/// Steps handed to the hashing thread at once, at a wave's end (one hand-over per wave would
/// wake the thread thousands of times on a deep plan).
const BATCH_STEPS: usize = 512;

/// Whether this process may run two threads at once (asked once: the answer can mean
/// reading cgroup files).
fn spare_core() -> bool {
    static SPARE: OnceLock<bool> = OnceLock::new();
    *SPARE.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// What finishing a wave's steps reads: the graph, every decision, and which package each
/// step of each wave is.
#[derive(Clone, Copy)]
pub(crate) struct Finish<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) slots: &'a [Slot],
    pub(crate) by_wave: &'a ByWave,
}

impl Finish<'_> {
    /// Wave `w`'s steps finished (their [`Step::upstreams`]) and encoded.
    fn wave(&self, canon: &mut Canon, w: usize, steps: &mut [Step]) {
        for (s, &p) in steps.iter_mut().zip(self.by_wave.wave(w)) {
            s.upstreams = upstreams(self.graph, self.slots, p);
        }
        canon.wave_steps(steps);
    }
}

/// Where the planner's waves go, in order, once their steps are made: a step's upstream list
/// is added and the wave encoded, at once, or, for a large plan with a core to spare, on a
/// thread of its own while the planner makes the next waves (those lists, the encoding and
/// the hashing are about a third of a large plan's cost, and the lists' memory is touched
/// there). The digest is the same either way: the same bytes are hashed in the same order.
pub(crate) enum Waves<'scope> {
    /// Finished on the planner's thread.
    Here {
        finish: Finish<'scope>,
        canon: Canon,
        waves: Vec<Vec<Step>>,
    },
    /// Finished on a thread of its own, which hands the waves back at the end.
    Thread {
        to: Sender<Vec<Vec<Step>>>,
        batch: Vec<Vec<Step>>,
        batch_steps: usize,
        worker: ScopedJoinHandle<'scope, (Canon, Vec<Vec<Step>>)>,
    },
}

impl<'scope> Waves<'scope> {
    /// For a plan of `finish.by_wave`'s waves, with the encoder begun; the thread, if any, is
    /// started in `scope`.
    pub(crate) fn new<'env>(scope: &'scope Scope<'scope, 'env>, finish: Finish<'scope>) -> Self {
        let count = finish.by_wave.len();
        let start = move || {
            let mut canon = Canon::new();
            canon.begin(count);
            (canon, Vec::with_capacity(count))
        };
        let steps = finish.by_wave.packages().len();
        if steps < THREAD_FROM_STEPS || !spare_core() {
            let (canon, waves) = start();
            return Waves::Here {
                finish,
                canon,
                waves,
            };
        }
        let (to, from) = channel::<Vec<Vec<Step>>>();
        let spawned = std::thread::Builder::new()
            .name("lockstep-plan-digest".into())
            .spawn_scoped(scope, move || {
                let (mut canon, mut waves): (Canon, Vec<Vec<Step>>) = start();
                for batch in from {
                    for mut wave in batch {
                        finish.wave(&mut canon, waves.len(), &mut wave);
                        waves.push(wave);
                    }
                }
                (canon, waves)
            });
        match spawned {
            Ok(worker) => Waves::Thread {
                to,
                batch: Vec::new(),
                batch_steps: 0,
                worker,
            },
            // No thread to be had (a process at its limit): finished here.
            Err(_) => {
                let (canon, waves) = start();
                Waves::Here {
                    finish,
                    canon,
                    waves,
                }
            }
        }
    }

    /// The next wave's steps, made.
    pub(crate) fn push(&mut self, mut wave: Vec<Step>) {
        match self {
            Waves::Here {
                finish,
                canon,
                waves,
            } => {
                finish.wave(canon, waves.len(), &mut wave);
                waves.push(wave);
            }
            Waves::Thread {
                to,
                batch,
                batch_steps,
                ..
            } => {
                *batch_steps += wave.len();
                batch.push(wave);
                if *batch_steps >= BATCH_STEPS {
                    *batch_steps = 0;
                    // The worker stops only when this side hangs up, or by panicking, which
                    // `finish` passes on.
                    let _ = to.send(std::mem::take(batch));
                }
            }
        }
    }

    /// Every wave, and the encoder that has encoded them all (for [`Canon::end`]).
    pub(crate) fn finish(self) -> (Canon, Vec<Vec<Step>>) {
        match self {
            Waves::Here { canon, waves, .. } => (canon, waves),
            Waves::Thread {
                to, batch, worker, ..
            } => {
                if !batch.is_empty() {
                    let _ = to.send(batch);
                }
                drop(to);
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
        }
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
        c.wave_steps(wave);
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
