//! Problems found while reading a document: where, which field, what is wrong, what is accepted.

use std::fmt;

/// A position in a source text. Lines and columns count from 1; `0` means "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
}

impl Pos {
    /// A position that is not known.
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    /// Builds a position.
    pub const fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }

    /// Whether the position is known.
    pub const fn is_known(self) -> bool {
        self.line > 0
    }
}

/// What kind of problem a [`Problem`] is, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The text is not well-formed YAML or JSON.
    Syntax,
    /// The input exceeds a size, nesting or alias budget.
    TooLarge,
    /// A required field is absent.
    Missing,
    /// A field is not part of the format.
    Unknown,
    /// A key appears twice in one mapping.
    Duplicate,
    /// A value has the wrong type (a list where a string belongs, say).
    Type,
    /// A value has the right type but is not acceptable (a bad version, an out-of-range number).
    Value,
}

/// One problem in a document, with where it is and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// Line of the offending value (or key), from 1; `0` when unknown.
    pub line: usize,
    /// Column of the offending value (or key), from 1; `0` when unknown.
    pub column: usize,
    /// Field path such as `compatibility.max_core_version` or `releases[3].version`; empty for
    /// the whole document.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
    /// Category of the problem.
    pub kind: ProblemKind,
}

impl Problem {
    /// Every problem on its own line, located in `file` as editors read it:
    /// `  FILE:LINE:COLUMN: FIELD: MESSAGE` (line and column left out when unknown).
    pub fn located(file: &str, problems: &[Problem]) -> String {
        problems
            .iter()
            .map(|p| {
                let at = if p.line > 0 {
                    format!("{file}:{}:{}", p.line, p.column)
                } else {
                    file.to_owned()
                };
                let field = if p.field.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", p.field)
                };
                format!("  {at}: {field}{}", p.message)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Builds a problem.
    pub fn new(
        pos: Pos,
        field: impl Into<String>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            line: pos.line,
            column: pos.column,
            field: field.into(),
            message: message.into(),
            kind,
        }
    }

    /// The position as a [`Pos`].
    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// A document that could not be accepted, with every problem found (not only the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct Invalid {
    /// What kind of document was being read ("vertical manifest", "release index", …).
    pub document: &'static str,
    /// Every problem, in document order.
    pub problems: Vec<Problem>,
}

impl Invalid {
    pub(crate) fn new(document: &'static str, mut problems: Vec<Problem>) -> Self {
        problems.sort_by(|a, b| {
            let ka = (a.line == 0, a.line, a.column);
            let kb = (b.line == 0, b.line, b.column);
            ka.cmp(&kb)
        });
        Invalid { document, problems }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid {}: {} problem{}",
            self.document,
            n,
            if n == 1 { "" } else { "s" }
        )?;
        if let Some(first) = self.problems.first() {
            write!(f, " (first at {first})")?;
        }
        Ok(())
    }
}
