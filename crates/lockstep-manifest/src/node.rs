//! A small located document tree that YAML and JSON both load into, so one typed reader
//! serves both formats and every problem can name a line and a column.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::problem::{Pos, Problem, ProblemKind};

/// A scalar or collection with the position it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub name: String,
    pub pos: Pos,
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML, through serde-saphyr with spans.

/// Size limit for a vertical manifest or any YAML input.
pub(crate) const MAX_YAML_BYTES: usize = 1024 * 1024;

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // A real manifest has a few dozen nodes; generous limits still stop bombs in microseconds.
    budget.max_depth = 32;
    budget.max_nodes = 100_000;
    budget.max_events = 400_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    budget.max_recorded_anchor_events = 20_000;
    budget.max_reader_input_bytes = Some(MAX_YAML_BYTES);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 20_000;
    options.alias_limits.max_alias_expansions_per_anchor = 100;
    options.alias_limits.max_replay_stack_depth = 16;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    options.with_snippet = false;
    options
}

struct YamlNode(Node);

fn loc(l: &serde_saphyr::Location) -> Pos {
    Pos::new(l.line() as usize, l.column() as usize)
}

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<YamlValue>::deserialize(d)?;
        Ok(YamlNode(Node {
            value: spanned.value.0,
            pos: loc(&spanned.referenced),
        }))
    }
}

struct YamlValue(Value);

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor { yaml: true }).map(YamlValue)
    }
}

struct YamlKey(Key);

impl<'de> Deserialize<'de> for YamlKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<YamlValue>::deserialize(d)?;
        let name = match spanned.value.0 {
            Value::Str(s) => s,
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_owned(),
            other => {
                return Err(de::Error::custom(format!(
                    "mapping keys must be plain strings, found {}",
                    other.type_name()
                )));
            }
        };
        Ok(YamlKey(Key {
            name,
            pos: loc(&spanned.referenced),
        }))
    }
}

struct JsonNode(Node);

impl<'de> Deserialize<'de> for JsonNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor { yaml: false }).map(|value| {
            JsonNode(Node {
                value,
                pos: Pos::UNKNOWN,
            })
        })
    }
}

struct TreeVisitor {
    yaml: bool,
}

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        if self.yaml {
            while let Some(YamlNode(n)) = seq.next_element()? {
                items.push(n);
            }
        } else {
            while let Some(JsonNode(n)) = seq.next_element()? {
                items.push(n);
            }
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        if self.yaml {
            while let Some(YamlKey(k)) = map.next_key()? {
                let YamlNode(v) = map.next_value()?;
                entries.push((k, v));
            }
        } else {
            while let Some(name) = map.next_key::<String>()? {
                let JsonNode(v) = map.next_value()?;
                entries.push((
                    Key {
                        name,
                        pos: Pos::UNKNOWN,
                    },
                    v,
                ));
            }
        }
        Ok(Value::Map(entries))
    }
}

/// Parses YAML into a located tree, or returns the one problem that stopped it.
pub(crate) fn parse_yaml(text: &str) -> Result<Node, Problem> {
    if text.len() > MAX_YAML_BYTES {
        return Err(Problem::new(
            Pos::UNKNOWN,
            "",
            ProblemKind::TooLarge,
            format!(
                "file is {} bytes; at most {} bytes (1 MiB) are accepted",
                text.len(),
                MAX_YAML_BYTES
            ),
        ));
    }
    if text.trim().is_empty() {
        return Err(empty());
    }
    match serde_saphyr::from_str_with_options::<YamlNode>(text, yaml_options()) {
        // Only comments: as empty as an empty file.
        Ok(YamlNode(Node {
            value: Value::Null, ..
        })) => Err(empty()),
        Ok(YamlNode(node)) => Ok(node),
        Err(e) => {
            let pos = e.location().map(|l| loc(&l)).unwrap_or(Pos::UNKNOWN);
            let (kind, message) = match classify(&e) {
                Breach::Documents => (
                    ProblemKind::Syntax,
                    "not valid YAML: more than one document; a manifest is a single YAML document"
                        .to_owned(),
                ),
                Breach::Budget(what) => (
                    ProblemKind::TooLarge,
                    format!(
                        "rejected: {what}; a manifest this large or this nested is not accepted"
                    ),
                ),
                Breach::None => (
                    ProblemKind::Syntax,
                    clean_yaml_message(&e.without_snippet().to_string()),
                ),
            };
            Err(Problem::new(pos, "", kind, message))
        }
    }
}

fn empty() -> Problem {
    Problem::new(
        Pos::new(1, 1),
        "",
        ProblemKind::Syntax,
        "the file is empty; expected a YAML mapping",
    )
}

/// What stopped the YAML reader.
enum Breach {
    /// An ordinary syntax error.
    None,
    /// A second `---` document.
    Documents,
    /// A size, nesting or alias budget, described.
    Budget(&'static str),
}

fn classify(e: &serde_saphyr::Error) -> Breach {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let mut e = e;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = e {
        e = error;
    }
    match e {
        E::MultipleDocuments { .. }
        | E::Budget {
            breach: B::Documents { .. },
            ..
        } => Breach::Documents,
        E::Budget { breach, .. } => Breach::Budget(match breach {
            B::Depth { .. } => "nesting deeper than the budget allows",
            B::Aliases { .. }
            | B::Anchors { .. }
            | B::AliasAnchorRatio { .. }
            | B::RecordedAnchorEvents { .. } => "too many aliases (alias bomb protection)",
            B::InputBytes { .. } | B::ScalarBytes { .. } => "more text than the budget allows",
            _ => "more nodes than the budget allows",
        }),
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => {
            Breach::Budget("too many alias expansions (alias bomb protection)")
        }
        // The scanner's own nesting guard (flow collections such as `[[[[`).
        other if other.to_string().contains("recursion limit exceeded") => {
            Breach::Budget("nesting deeper than the budget allows")
        }
        _ => Breach::None,
    }
}

/// serde-saphyr appends its own location; we carry ours in fields.
fn clean_yaml_message(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw).trim();
    let trimmed = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let mut s = trimmed.trim_end_matches('.').to_owned();
    if let Some(c) = s.get(..1) {
        let lower = c.to_lowercase();
        s.replace_range(..1, &lower);
    }
    if s.contains("anchor or alias") {
        // `max_core_version: *` is the likeliest way to get here.
        s.push_str("; a bare `*` starts an alias in YAML, quote it: \"*\"");
    }
    format!("not valid YAML: {s}")
}

// ---------------------------------------------------------------------------------------------
// JSON, through serde_json; positions are found afterwards, only for the paths with problems.

/// Parses JSON into a tree (positions unknown), or returns the syntax problem.
pub(crate) fn parse_json(text: &str, max_bytes: usize) -> Result<Node, Problem> {
    if text.len() > max_bytes {
        return Err(Problem::new(
            Pos::UNKNOWN,
            "",
            ProblemKind::TooLarge,
            format!(
                "file is {} bytes; at most {} bytes are accepted",
                text.len(),
                max_bytes
            ),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = JsonNode::deserialize(&mut de).and_then(|n| de.end().map(|()| n));
    match parsed {
        Ok(JsonNode(mut node)) => {
            node.pos = Pos::new(1, 1);
            Ok(node)
        }
        Err(e) => {
            let kind = if e.to_string().contains("recursion limit") {
                ProblemKind::TooLarge
            } else {
                ProblemKind::Syntax
            };
            let msg = e.to_string();
            let msg = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_owned(),
                None => msg,
            };
            Err(Problem::new(
                Pos::new(e.line(), e.column()),
                "",
                kind,
                format!("not valid JSON: {msg}"),
            ))
        }
    }
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A field; names from the format are borrowed, names from the document owned.
    Key(Cow<'static, str>),
    Index(usize),
}

/// Renders a path as `a.b[3].c`.
pub(crate) fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Finds where the value at `path` starts in a JSON text (or, with `at_key`, where its key
/// starts). `occurrence` picks among repeated keys in the last mapping (0 = the first), so a
/// duplicate is found at its second occurrence. A key that is absent is placed at the `{` of
/// the mapping that lacks it. Only called for the few paths that have problems, so a plain scan
/// is fine.
pub(crate) fn locate_json(text: &str, path: &[Seg], at_key: bool, occurrence: usize) -> Pos {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut key_start = None;
    let last = path.len().saturating_sub(1);
    for (depth, seg) in path.iter().enumerate() {
        s.ws();
        match (seg, s.peek()) {
            (Seg::Key(want), Some(b'{')) => {
                let open = s.i;
                s.i += 1;
                let mut skip = if at_key && depth == last {
                    occurrence
                } else {
                    0
                };
                let mut found = false;
                loop {
                    s.ws();
                    if s.peek() != Some(b'"') {
                        break;
                    }
                    let kstart = s.i;
                    let Some(k) = s.string() else { break };
                    s.ws();
                    if s.peek() != Some(b':') {
                        break;
                    }
                    s.i += 1;
                    s.ws();
                    if k == &**want {
                        if skip == 0 {
                            key_start = Some(kstart);
                            found = true;
                            break;
                        }
                        skip -= 1;
                    }
                    if !s.skip_value() {
                        break;
                    }
                    s.ws();
                    if s.peek() == Some(b',') {
                        s.i += 1;
                    } else {
                        break;
                    }
                }
                if !found {
                    return s.pos_of(open);
                }
            }
            (Seg::Index(n), Some(b'[')) => {
                s.i += 1;
                for _ in 0..*n {
                    s.ws();
                    if !s.skip_value() {
                        return s.pos_of(s.i);
                    }
                    s.ws();
                    if s.peek() == Some(b',') {
                        s.i += 1;
                    } else {
                        return s.pos_of(s.i);
                    }
                }
                s.ws();
                key_start = None;
            }
            _ => return s.pos_of(s.i),
        }
    }
    s.ws();
    match (at_key, key_start) {
        (true, Some(k)) => s.pos_of(k),
        _ => s.pos_of(s.i),
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    /// Reads a string literal, returning its decoded-enough content (escapes kept simple: keys
    /// in our formats are plain ASCII).
    fn string(&mut self) -> Option<&'a str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let start = self.i;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.i += 2,
                b'"' => {
                    let raw = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    self.i += 1;
                    return Some(raw);
                }
                _ => self.i += 1,
            }
        }
        None
    }
    fn skip_value(&mut self) -> bool {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string().is_some(),
            Some(open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    match c {
                        b'"' => {
                            if self.string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return c == close;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                false
            }
            Some(_) => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                true
            }
            None => false,
        }
    }
    fn pos_of(&self, offset: usize) -> Pos {
        let offset = offset.min(self.b.len());
        let before = &self.b[..offset];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Pos::new(line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_json_paths() {
        let text = "{\n  \"a\": 1,\n  \"list\": [\n    {\"x\": 1},\n    {\"y\": \"v\"}\n  ]\n}";
        let p = |path: &[Seg], key| locate_json(text, path, key, 0);
        assert_eq!(p(&[Seg::Key(Cow::Borrowed("a"))], false), Pos::new(2, 8));
        assert_eq!(p(&[Seg::Key(Cow::Borrowed("a"))], true), Pos::new(2, 3));
        let y = [
            Seg::Key(Cow::Borrowed("list")),
            Seg::Index(1),
            Seg::Key(Cow::Borrowed("y")),
        ];
        assert_eq!(p(&y, false), Pos::new(5, 11));
        assert_eq!(
            p(&[Seg::Key(Cow::Borrowed("list")), Seg::Index(1)], false),
            Pos::new(5, 5)
        );
    }

    #[test]
    fn yaml_positions_are_one_based() {
        let n = parse_yaml("a: 1\nb:\n  c: x\n").unwrap();
        let Value::Map(entries) = n.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.pos, Pos::new(1, 1));
        assert_eq!(entries[0].1.pos, Pos::new(1, 4));
        let Value::Map(inner) = &entries[1].1.value else {
            panic!("not a map")
        };
        assert_eq!(inner[0].0.pos, Pos::new(3, 3));
        assert_eq!(inner[0].1.pos, Pos::new(3, 6));
    }

    #[test]
    fn yaml_duplicates_reach_the_reader() {
        let n = parse_yaml("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = n.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].0.pos, Pos::new(2, 1));
    }
}
