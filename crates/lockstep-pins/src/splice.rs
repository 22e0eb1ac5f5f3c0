//! Byte-range replacements: the only way this crate changes text.
//!
//! Every edit is expressed as a set of splices over the original text, so
//! everything outside the replaced ranges is preserved byte for byte.

use std::ops::Range;

/// Replace `range` of the original text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Splice {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
}

impl Splice {
    pub(crate) fn new(range: Range<usize>, text: impl Into<String>) -> Self {
        Splice {
            range,
            text: text.into(),
        }
    }

    pub(crate) fn insert(at: usize, text: impl Into<String>) -> Self {
        Splice::new(at..at, text)
    }
}

/// Applies splices that do not overlap (they come from distinct entries or
/// distinct parts of one entry). Splices are applied in position order.
pub(crate) fn apply(original: &str, mut splices: Vec<Splice>) -> String {
    splices.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out = String::with_capacity(original.len() + 64);
    let mut pos = 0;
    for splice in splices {
        // Overlap cannot happen by construction; skip rather than corrupt if it ever did.
        if splice.range.start < pos {
            continue;
        }
        out.push_str(&original[pos..splice.range.start]);
        out.push_str(&splice.text);
        pos = splice.range.end;
    }
    out.push_str(&original[pos..]);
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_keeps_the_rest() {
        let text = "a = \"1\"\nb = \"2\"\n";
        let out = apply(
            text,
            vec![
                Splice::new(12..15, "\"3\""),
                Splice::new(4..7, "'x'"),
                Splice::insert(16, "c = 4\n"),
            ],
        );
        assert_eq!(out, "a = 'x'\nb = \"3\"\nc = 4\n");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé\nx", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé\nx", 8), (3, 1));
        assert_eq!(line_col("ab\ncdé\nx", 7), (2, 4));
    }
}
