//! Walks a located tree into typed values, collecting every problem on the way.

use std::borrow::Cow;

use crate::node::{Key, Node, Seg, Value, locate_json, render_path};
use crate::problem::{Pos, Problem, ProblemKind};

/// A problem whose position may still need to be found (JSON positions are found lazily).
struct Pending {
    path: Vec<Seg>,
    at_key: bool,
    /// Which occurrence of the last key is meant (1 for the second of a duplicate pair).
    occurrence: usize,
    pos: Pos,
    kind: ProblemKind,
    message: String,
}

/// At most this many problems are reported per document; the rest are counted. A broken
/// 10,000-release index would otherwise cost a scan of the text per problem.
pub(crate) const MAX_PROBLEMS: usize = 100;

pub(crate) struct Reader {
    path: Vec<Seg>,
    pending: Vec<Pending>,
    /// Problems found beyond [`MAX_PROBLEMS`].
    dropped: usize,
}

impl Reader {
    pub fn new() -> Self {
        Reader {
            path: Vec::new(),
            pending: Vec::new(),
            dropped: 0,
        }
    }

    pub fn has_problems(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Counts a problem that will not be reported, when the cap is reached. Callers check this
    /// before building a message, so a document with 50,000 bad keys costs no formatting.
    fn full(&mut self) -> bool {
        let full = self.pending.len() >= MAX_PROBLEMS;
        if full {
            self.dropped += 1;
        }
        full
    }

    /// Runs `f` with `seg` pushed on the path.
    pub fn at<T>(&mut self, seg: Seg, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(seg);
        let out = f(self);
        self.path.pop();
        out
    }

    pub fn key<T>(&mut self, name: &'static str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.at(Seg::Key(Cow::Borrowed(name)), f)
    }

    /// Reports a problem at the current path, at `pos` (the value's position).
    pub fn report(&mut self, pos: Pos, kind: ProblemKind, message: impl Into<String>) {
        if self.full() {
            return;
        }
        self.pending.push(Pending {
            path: self.path.clone(),
            at_key: false,
            occurrence: 0,
            pos,
            kind,
            message: message.into(),
        });
    }

    fn report_key(
        &mut self,
        name: &str,
        occurrence: usize,
        pos: Pos,
        kind: ProblemKind,
        message: impl Into<String>,
    ) {
        if self.full() {
            return;
        }
        let mut path = self.path.clone();
        path.push(Seg::Key(Cow::Owned(name.to_owned())));
        self.pending.push(Pending {
            path,
            at_key: true,
            occurrence,
            pos,
            kind,
            message: message.into(),
        });
    }

    /// Turns pending problems into located ones. `json` is the source text when positions were
    /// not recorded while parsing.
    pub fn finish(self, json: Option<&str>) -> Vec<Problem> {
        let mut out: Vec<Problem> = self
            .pending
            .into_iter()
            .map(|p| {
                let pos = match (p.pos.is_known(), json) {
                    (false, Some(text)) => locate_json(text, &p.path, p.at_key, p.occurrence),
                    _ => p.pos,
                };
                Problem::new(pos, render_path(&p.path), p.kind, p.message)
            })
            .collect();
        if self.dropped > 0 {
            out.push(Problem::new(
                Pos::UNKNOWN,
                "",
                ProblemKind::TooLarge,
                format!(
                    "{} more problems not shown; at most {MAX_PROBLEMS} are reported",
                    self.dropped
                ),
            ));
        }
        out
    }

    /// Opens a mapping, reporting duplicate keys (at their second occurrence) and keys that are
    /// not in `accepted`.
    pub fn fields<'n>(&mut self, node: &'n Node, accepted: &[&str]) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.report(
                node.pos,
                ProblemKind::Type,
                format!("expected a mapping, found {}", node.value.type_name()),
            );
            return None;
        };
        // Small mappings (every real one) are checked by a scan; large ones through a map, so a
        // mapping with 50,000 keys is not 10^9 comparisons.
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, (key, _)) in entries.iter().enumerate() {
            let earlier = if entries.len() <= 32 {
                entries[..i]
                    .iter()
                    .filter(|(k, _)| k.name == key.name)
                    .count()
            } else {
                let n = seen.entry(key.name.as_str()).or_insert(0);
                *n += 1;
                *n - 1
            };
            if earlier > 0 {
                self.report_key(
                    &key.name,
                    earlier,
                    key.pos,
                    ProblemKind::Duplicate,
                    format!("duplicate key `{}`; each key may appear once", key.name),
                );
            } else if !accepted.contains(&key.name.as_str()) && !self.full() {
                let hint = suggest(&key.name, accepted)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                self.report_key(
                    &key.name,
                    0,
                    key.pos,
                    ProblemKind::Unknown,
                    format!(
                        "unknown field `{}`; {hint}accepted fields: {}",
                        key.name,
                        accepted.join(", ")
                    ),
                );
            }
        }
        Some(Fields {
            entries,
            pos: node.pos,
        })
    }

    /// A required field: reports it missing at the mapping's position.
    pub fn required<'n>(
        &mut self,
        fields: &Fields<'n>,
        name: &str,
        what: &str,
    ) -> Option<&'n Node> {
        let found = fields.get(name);
        if found.is_none() {
            self.report_key(
                name,
                0,
                fields.pos,
                ProblemKind::Missing,
                format!("missing required field `{name}` ({what})"),
            );
        }
        found
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Str(_) => {
                self.report(
                    node.pos,
                    ProblemKind::Value,
                    format!("is empty; expected {what}"),
                );
                None
            }
            // A YAML plain scalar such as `12` arrives as a number: its spelling is exact.
            Value::Int(i) => Some(i.to_string()),
            // `1.10` arrives as 1.1: the spelling is lost, so ask for quotes.
            Value::Float(f) => {
                self.report(
                    node.pos,
                    ProblemKind::Type,
                    format!(
                        "expected {what}, found the number {f}; write it in quotes if it is text"
                    ),
                );
                None
            }
            other => {
                self.report(
                    node.pos,
                    ProblemKind::Type,
                    format!("expected {what}, found {}", other.type_name()),
                );
                None
            }
        }
    }

    pub fn optional_string(&mut self, node: Option<&Node>, what: &str) -> Option<String> {
        match node {
            None => None,
            Some(n) if n.value == Value::Null => None,
            Some(n) => self.string(n, what),
        }
    }

    pub fn integer(&mut self, node: &Node, what: &str, min: i128, max: i128) -> Option<i128> {
        match &node.value {
            Value::Int(i) if (min..=max).contains(i) => Some(*i),
            Value::Int(i) => {
                self.report(
                    node.pos,
                    ProblemKind::Value,
                    format!("{i} is out of range; expected {what} from {min} to {max}"),
                );
                None
            }
            Value::Str(s) if s.trim().parse::<i128>().is_ok() => {
                self.report(
                    node.pos,
                    ProblemKind::Type,
                    format!("expected {what}, found the string \"{s}\"; remove the quotes"),
                );
                None
            }
            Value::Float(f) => {
                self.report(
                    node.pos,
                    ProblemKind::Type,
                    format!("expected {what}, found the fraction {f}"),
                );
                None
            }
            other => {
                self.report(
                    node.pos,
                    ProblemKind::Type,
                    format!("expected {what}, found {}", other.type_name()),
                );
                None
            }
        }
    }

    /// A list of non-empty strings; `null` or absence is an empty list.
    pub fn string_list(&mut self, node: Option<&Node>, what: &str) -> Vec<String> {
        let Some(node) = node else { return Vec::new() };
        match &node.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.at(Seg::Index(i), |r| r.string(item, what)) {
                        out.push(s);
                    }
                }
                out
            }
            other => {
                self.report(
                    node.pos,
                    ProblemKind::Type,
                    format!("expected a list of {what}, found {}", other.type_name()),
                );
                Vec::new()
            }
        }
    }

    /// One of a fixed set of lowercase words.
    pub fn choice<T: Copy>(&mut self, node: &Node, choices: &[(&str, T)]) -> Option<T> {
        if let Value::Str(s) = &node.value
            && let Some((_, v)) = choices.iter().find(|(n, _)| n == s)
        {
            return Some(*v);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let s = self.string(node, &format!("one of {}", names.join(", ")))?;
        let hint = suggest(&s, &names)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        self.report(
            node.pos,
            ProblemKind::Value,
            format!(
                "\"{s}\" is not accepted; {hint}expected one of {}",
                names.join(", ")
            ),
        );
        None
    }

    pub fn semver(&mut self, node: &Node, what: &str) -> Option<semver::Version> {
        if let Value::Str(s) = &node.value
            && let Ok(v) = semver::Version::parse(s)
        {
            return Some(v);
        }
        let s = self.string(node, what)?;
        match semver::Version::parse(s.trim()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(
                    node.pos,
                    ProblemKind::Value,
                    format!("\"{s}\" is not a SemVer version ({e}); expected {what} such as 1.4.0"),
                );
                None
            }
        }
    }
}

/// The entries of one mapping.
pub(crate) struct Fields<'n> {
    entries: &'n [(Key, Node)],
    pub pos: Pos,
}

impl<'n> Fields<'n> {
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }
}

/// The accepted name closest to a misspelt one, if any is close.
fn suggest<'a>(name: &str, accepted: &[&'a str]) -> Option<&'a str> {
    if name.len() > 64 {
        return None;
    }
    accepted
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
