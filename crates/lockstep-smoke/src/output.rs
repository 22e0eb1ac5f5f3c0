//! Capped capture of a command's output: the first bytes, the last bytes, and a count of what
//! was dropped between them.

use std::collections::VecDeque;
use std::fmt;

/// A command's combined stdout and stderr, capped.
///
/// Both streams go to one pipe, so they are interleaved exactly as the command wrote them (as a
/// terminal would show them). When the output is longer than the cap, `head` holds the first
/// bytes, `tail` the last, and `dropped` counts the bytes in between that were not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapturedOutput {
    /// The first bytes.
    pub head: Vec<u8>,
    /// The last bytes (what followed `head` directly when nothing was dropped).
    pub tail: Vec<u8>,
    /// Bytes between `head` and `tail` that were not kept.
    pub dropped: u64,
}

impl CapturedOutput {
    /// Whether some output was dropped.
    pub fn is_truncated(&self) -> bool {
        self.dropped > 0
    }

    /// How many bytes the command wrote in all.
    pub fn total_bytes(&self) -> u64 {
        self.head.len() as u64 + self.dropped + self.tail.len() as u64
    }

    /// The output as text (lossy UTF-8), with a marker such as
    /// `[... 1234 bytes dropped ...]` on a line of its own where bytes were dropped.
    pub fn to_text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if self.is_truncated() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[... {} bytes dropped ...]\n", self.dropped));
        }
        text.push_str(&String::from_utf8_lossy(&self.tail));
        text
    }

    /// The last `max_lines` lines (lossy UTF-8, a trailing newline not counted), for an error
    /// message. When output was dropped, only lines from `tail` are given, the first possibly
    /// partial.
    pub fn tail_text(&self, max_lines: usize) -> String {
        let contiguous: Vec<u8>;
        let bytes: &[u8] = if self.is_truncated() || self.head.is_empty() {
            &self.tail
        } else {
            contiguous = [self.head.as_slice(), self.tail.as_slice()].concat();
            &contiguous
        };
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        if max_lines == 0 || body.is_empty() {
            return String::new();
        }
        let start = body
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, b)| **b == b'\n')
            .nth(max_lines - 1)
            .map_or(0, |(i, _)| i + 1);
        String::from_utf8_lossy(&body[start..]).into_owned()
    }
}

impl fmt::Display for CapturedOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// The capture buffer filled by the reader thread.
#[derive(Debug)]
pub(crate) struct Capture {
    head: Vec<u8>,
    head_cap: usize,
    tail: VecDeque<u8>,
    tail_cap: usize,
    dropped: u64,
}

impl Capture {
    pub(crate) fn new(head_cap: usize, tail_cap: usize) -> Self {
        Self {
            head: Vec::with_capacity(head_cap.min(64 * 1024)),
            head_cap,
            tail: VecDeque::new(),
            tail_cap,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        let to_head = (self.head_cap - self.head.len()).min(data.len());
        self.head.extend_from_slice(&data[..to_head]);
        let rest = &data[to_head..];
        if rest.len() >= self.tail_cap {
            self.dropped += (self.tail.len() + rest.len() - self.tail_cap) as u64;
            self.tail.clear();
            self.tail.extend(&rest[rest.len() - self.tail_cap..]);
            return;
        }
        self.tail.extend(rest);
        let excess = self.tail.len().saturating_sub(self.tail_cap);
        if excess > 0 {
            self.tail.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    pub(crate) fn snapshot(&self) -> CapturedOutput {
        CapturedOutput {
            head: self.head.clone(),
            tail: self.tail.iter().copied().collect(),
            dropped: self.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(head: usize, tail: usize, writes: &[&[u8]]) -> CapturedOutput {
        let mut c = Capture::new(head, tail);
        for w in writes {
            c.push(w);
        }
        c.snapshot()
    }

    #[test]
    fn keeps_head_and_tail_and_counts_the_rest() {
        // (head cap, tail cap, writes, head, tail, dropped)
        type Case<'a> = (usize, usize, &'a [&'a [u8]], &'a [u8], &'a [u8], u64);
        let cases: &[Case] = &[
            (4, 4, &[b"ab"], b"ab", b"", 0),
            (4, 4, &[b"abcdef"], b"abcd", b"ef", 0),
            (4, 4, &[b"abcdefgh"], b"abcd", b"efgh", 0),
            (4, 4, &[b"abcdefghij"], b"abcd", b"ghij", 2),
            (4, 4, &[b"abc", b"def", b"ghi", b"jkl"], b"abcd", b"ijkl", 4),
            (4, 4, &[b"abcd", b"0123456789"], b"abcd", b"6789", 6),
            (0, 3, &[b"hello", b" world"], b"", b"rld", 8),
            (3, 0, &[b"hello"], b"hel", b"", 2),
            (2, 2, &[b"a", b"b", b"c", b"d", b"e"], b"ab", b"de", 1),
        ];
        for (head_cap, tail_cap, writes, head, tail, dropped) in cases {
            let out = capture(*head_cap, *tail_cap, writes);
            assert_eq!(
                (out.head.as_slice(), out.tail.as_slice(), out.dropped),
                (*head, *tail, *dropped),
                "{writes:?}"
            );
            let total: usize = writes.iter().map(|w| w.len()).sum();
            assert_eq!(out.total_bytes(), total as u64);
        }
    }

    #[test]
    fn text_marks_what_was_dropped() {
        let out = capture(6, 6, &[b"first\nmiddle\nlast!\n"]);
        assert_eq!(out.to_text(), "first\n[... 7 bytes dropped ...]\nlast!\n");
        let whole = capture(64, 64, &[b"one\ntwo\n"]);
        assert_eq!(whole.to_text(), "one\ntwo\n");
    }

    #[test]
    fn tail_text_gives_the_last_lines() {
        let whole = capture(4, 64, &[b"one\ntwo\nthree\nfour\n"]);
        for (lines, expected) in [
            (0, ""),
            (1, "four"),
            (2, "three\nfour"),
            (4, "one\ntwo\nthree\nfour"),
            (9, "one\ntwo\nthree\nfour"),
        ] {
            assert_eq!(whole.tail_text(lines), expected, "{lines} lines");
        }
        let cut = capture(2, 8, &[b"aaaa\nbbbb\ncc\ndd"]);
        assert!(cut.is_truncated());
        assert_eq!(cut.tail_text(10), "bb\ncc\ndd");
        assert_eq!(cut.tail_text(1), "dd");
    }
}
