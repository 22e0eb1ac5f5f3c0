//! TOML read into the located tree ([`Node`]) the document readers check: toml_edit's parser
//! with spans, byte offsets turned into 1-based lines and character columns.

use std::ops::Range;

use crate::cascade::MAX_CASCADE_BYTES;
use crate::node::{Key, Node, Value};
use crate::problem::{Pos, Problem, ProblemKind};

/// Byte offsets to 1-based lines and (character) columns.
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line.saturating_sub(1)];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        Pos::new(line, column)
    }

    fn span(&self, span: Option<Range<usize>>) -> Pos {
        span.map_or(Pos::UNKNOWN, |s| self.pos(s.start))
    }
}

/// Parses TOML into a located tree, or returns the syntax problem. Date-times become strings
/// (their TOML spelling); TOML has no null.
pub(crate) fn parse_toml(text: &str) -> Result<Node, Problem> {
    if text.len() > MAX_CASCADE_BYTES {
        return Err(Problem::new(
            Pos::UNKNOWN,
            "",
            ProblemKind::TooLarge,
            format!(
                "file is {} bytes; at most {MAX_CASCADE_BYTES} bytes are accepted",
                text.len()
            ),
        ));
    }
    let lines = Lines::new(text);
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let mut message = e.message().trim_end().to_owned();
        let kind = if message.starts_with("duplicate key") {
            // Name the key: toml_edit's span covers it.
            let key = e.span().and_then(|s| text.get(s)).map(str::trim);
            if let Some(key) = key.filter(|k| !k.is_empty() && !message.contains('`')) {
                message = format!("duplicate key `{key}`; each key may appear once in a table");
            }
            ProblemKind::Duplicate
        } else {
            ProblemKind::Syntax
        };
        Problem::new(
            lines.span(e.span()),
            "",
            kind,
            format!("not valid TOML: {message}"),
        )
    })?;
    let mut root = table(&lines, doc.as_table());
    root.pos = Pos::new(1, 1);
    Ok(root)
}

fn table(lines: &Lines<'_>, t: &toml_edit::Table) -> Node {
    let entries = t
        .iter()
        .map(|(name, item)| {
            let key_pos = lines.span(t.key(name).and_then(toml_edit::Key::span));
            (key(name, key_pos), item_node(lines, item, key_pos))
        })
        .collect();
    Node {
        value: Value::Map(entries),
        pos: lines.span(t.span()),
    }
}

fn key(name: &str, pos: Pos) -> Key {
    Key {
        name: name.to_owned(),
        pos,
    }
}

/// `fallback` (the key's position) stands in where toml_edit keeps no span of its own, as for
/// implicit tables made by dotted keys.
fn item_node(lines: &Lines<'_>, item: &toml_edit::Item, fallback: Pos) -> Node {
    let mut node = match item {
        toml_edit::Item::None => Node {
            value: Value::Null,
            pos: Pos::UNKNOWN,
        },
        toml_edit::Item::Value(v) => value_node(lines, v),
        toml_edit::Item::Table(t) => table(lines, t),
        toml_edit::Item::ArrayOfTables(a) => Node {
            value: Value::Seq(a.iter().map(|t| table(lines, t)).collect()),
            pos: lines.span(a.span()),
        },
    };
    if !node.pos.is_known() {
        node.pos = fallback;
    }
    node
}

fn value_node(lines: &Lines<'_>, v: &toml_edit::Value) -> Node {
    use toml_edit::Value as V;
    let value = match v {
        V::String(s) => Value::Str(s.value().clone()),
        V::Integer(i) => Value::Int(i128::from(*i.value())),
        V::Float(f) => Value::Float(*f.value()),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::Str(d.value().to_string()),
        V::Array(a) => Value::Seq(a.iter().map(|v| value_node(lines, v)).collect()),
        V::InlineTable(t) => Value::Map(
            t.iter()
                .map(|(name, v)| {
                    let key_pos = lines.span(t.key(name).and_then(toml_edit::Key::span));
                    let mut node = value_node(lines, v);
                    if !node.pos.is_known() {
                        node.pos = key_pos;
                    }
                    (key(name, key_pos), node)
                })
                .collect(),
        ),
    };
    Node {
        value,
        pos: lines.span(v.span()),
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON Schema.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_character_columns() {
        let lines = Lines::new("ab\nçd = 1\n");
        assert_eq!(lines.pos(0), Pos::new(1, 1));
        assert_eq!(lines.pos(3), Pos::new(2, 1));
        // `ç` is two bytes, one character.
        assert_eq!(lines.pos(5), Pos::new(2, 2));
        assert_eq!(lines.pos(100), Pos::new(3, 1));
    }
}
