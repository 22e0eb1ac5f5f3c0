//! TOML helpers shared by the Cargo and Python manifests: parsing with
//! spans, strings that keep their quoting, and the table form of a
//! dependency (`{ git = "…", tag = "…" }`) that Cargo, Poetry and uv share.

use std::ops::Range;

use toml_edit::{Document, Item, TableLike, Value};

use crate::occurrence::Outcome;
use crate::splice::{Splice, line_col};
use crate::{Ecosystem, Error, GitRef, Pin, PinValue, SkipReason};

/// Parses TOML keeping byte spans of every key and value.
pub(crate) fn parse(file: Ecosystem, text: &str) -> Result<Document<&str>, Error> {
    Document::parse(text).map_err(|err| {
        let (line, column) = line_col(text, err.span().map_or(0, |s| s.start));
        Error::Syntax {
            file,
            syntax: "TOML",
            line,
            column,
            message: err.message().trim_end().to_owned(),
        }
    })
}

/// The TOML type of an item, for messages.
pub(crate) fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "missing",
        Item::Value(Value::String(_)) => "a string",
        Item::Value(Value::Integer(_)) => "an integer",
        Item::Value(Value::Float(_)) => "a float",
        Item::Value(Value::Boolean(_)) => "a boolean",
        Item::Value(Value::Datetime(_)) => "a datetime",
        Item::Value(Value::Array(_)) => "an array",
        Item::Value(Value::InlineTable(_)) => "an inline table",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

/// A TOML string value with the span of its literal (quotes included).
#[derive(Debug, Clone)]
pub(crate) struct Str {
    pub(crate) value: String,
    pub(crate) span: Range<usize>,
}

impl Str {
    pub(crate) fn from_value(value: &Value) -> Option<Str> {
        match value {
            Value::String(s) => Some(Str {
                value: s.value().clone(),
                span: s.span()?,
            }),
            _ => None,
        }
    }

    /// A splice replacing this literal with `new`, in the same quoting style.
    pub(crate) fn replace(&self, text: &str, new: &str) -> Splice {
        Splice::new(
            self.span.clone(),
            encode_like(&text[self.span.clone()], new),
        )
    }
}

/// Reads a string item, or explains what was expected.
pub(crate) fn string(
    file: Ecosystem,
    path: impl FnOnce() -> String,
    item: &Item,
    expected: &'static str,
) -> Result<Str, Error> {
    item.as_value()
        .and_then(Str::from_value)
        .ok_or_else(|| Error::Shape {
            file,
            path: path(),
            found: type_name(item),
            expected,
        })
}

/// Encodes `value` as a TOML string literal in the style of `original`
/// (`"…"`, `'…'`, `"""…"""` or `'''…'''`), falling back to a basic string
/// when the style cannot hold the value.
pub(crate) fn encode_like(original: &str, value: &str) -> String {
    let has_control = value.chars().any(|c| c.is_control() && c != '\t');
    if original.starts_with("'''") {
        if !has_control && !value.contains("'''") && !value.ends_with('\'') {
            return format!("'''{value}'''");
        }
    } else if original.starts_with('\'') {
        if !has_control && !value.contains('\'') {
            return format!("'{value}'");
        }
    } else if original.starts_with("\"\"\"") {
        return format!("\"\"\"{}\"\"\"", escape_basic(value));
    }
    format!("\"{}\"", escape_basic(value))
}

fn escape_basic(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A key as it would be written in a TOML header: bare when it can be.
pub(crate) fn key_repr(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        encode_like(if key.contains('\'') { "\"" } else { "'" }, key)
    }
}

/// Which key names the git reference of a table-form dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKey {
    Tag,
    Rev,
    Branch,
}

impl RefKey {
    fn as_str(self) -> &'static str {
        match self {
            RefKey::Tag => "tag",
            RefKey::Rev => "rev",
            RefKey::Branch => "branch",
        }
    }
}

/// The table form of a dependency, with the spans needed to edit it.
#[derive(Debug, Clone)]
pub(crate) struct TableForm {
    pub(crate) inline: bool,
    pub(crate) package: Option<String>,
    pub(crate) version: Option<Str>,
    pub(crate) git: Option<Str>,
    /// Span of the `git` key, used to place a new `tag`/`rev` line.
    pub(crate) git_key: Option<Range<usize>>,
    pub(crate) reference: Option<(RefKey, Range<usize>, Str)>,
    pub(crate) path: Option<Str>,
    pub(crate) url: Option<Str>,
    pub(crate) workspace: bool,
}

impl TableForm {
    /// Reads the keys this crate understands; other keys (`features`,
    /// `optional`, `extras`, `python`, `markers`, …) are ignored.
    pub(crate) fn read(
        file: Ecosystem,
        at: &str,
        table: &dyn TableLike,
        inline: bool,
    ) -> Result<TableForm, Error> {
        let string_key = |key: &str| -> Result<Option<(Range<usize>, Str)>, Error> {
            let Some((k, item)) = table.get_key_value(key) else {
                return Ok(None);
            };
            let s = string(file, || format!("{at}.{key}"), item, "a string")?;
            Ok(Some((k.span().unwrap_or(0..0), s)))
        };
        let mut reference = None;
        for key in [RefKey::Tag, RefKey::Rev, RefKey::Branch] {
            if let Some((span, s)) = string_key(key.as_str())? {
                if reference.is_some() {
                    return Err(Error::Shape {
                        file,
                        path: at.to_owned(),
                        found: "a git dependency with more than one of tag, rev and branch",
                        expected: "at most one of `tag`, `rev` or `branch`",
                    });
                }
                reference = Some((key, span, s));
            }
        }
        let workspace = match table.get("workspace") {
            None => false,
            Some(item) => item.as_bool().ok_or_else(|| Error::Shape {
                file,
                path: format!("{at}.workspace"),
                found: type_name(item),
                expected: "`true`",
            })?,
        };
        let git = string_key("git")?;
        Ok(TableForm {
            inline,
            package: string_key("package")?.map(|(_, s)| s.value),
            version: string_key("version")?.map(|(_, s)| s),
            git_key: git.as_ref().map(|(k, _)| k.clone()),
            git: git.map(|(_, s)| s),
            reference,
            path: string_key("path")?.map(|(_, s)| s),
            url: string_key("url")?.map(|(_, s)| s),
            workspace,
        })
    }

    pub(crate) fn pin(&self) -> Pin {
        let version = self.version.as_ref().map(|v| v.value.clone());
        if self.workspace {
            Pin::Inherited
        } else if let Some(git) = &self.git {
            let reference = match &self.reference {
                None => GitRef::DefaultBranch,
                Some((RefKey::Tag, _, s)) => GitRef::Tag(s.value.clone()),
                Some((RefKey::Rev, _, s)) => GitRef::Rev(s.value.clone()),
                Some((RefKey::Branch, _, s)) => GitRef::Branch(s.value.clone()),
            };
            Pin::Git {
                url: git.value.clone(),
                reference,
                version,
            }
        } else if let Some(path) = &self.path {
            Pin::Path {
                path: path.value.clone(),
                version,
            }
        } else if let Some(url) = &self.url {
            Pin::Url(url.value.clone())
        } else if let Some(v) = version {
            Pin::Version(v)
        } else {
            Pin::Any
        }
    }

    /// Plans writing `new` into this entry.
    pub(crate) fn plan(&self, text: &str, new: &PinValue) -> Outcome {
        if self.workspace {
            return Outcome::Skip(SkipReason::Inherited);
        }
        match new {
            PinValue::Version(v) => match &self.version {
                Some(old) if old.value == *v => Outcome::Skip(SkipReason::AlreadySet),
                Some(old) => Outcome::Apply {
                    splices: vec![old.replace(text, v)],
                    from: Some(PinValue::Version(old.value.clone())),
                },
                None if self.path.is_some() && self.git.is_none() => {
                    Outcome::Skip(SkipReason::PathOnly)
                }
                None if self.git.is_some() => Outcome::Conflict {
                    accepted: "it has no `version` key to change; pin it by tag or rev instead",
                },
                None => Outcome::Conflict {
                    accepted: "it has no `version` key to change",
                },
            },
            PinValue::Tag(value) | PinValue::Rev(value) => {
                let key = if matches!(new, PinValue::Tag(_)) {
                    RefKey::Tag
                } else {
                    RefKey::Rev
                };
                let Some(git) = &self.git else {
                    if self.path.is_some() {
                        return Outcome::Skip(SkipReason::PathOnly);
                    }
                    return Outcome::Conflict {
                        accepted: "only a git dependency takes a tag or rev; pin it by version instead",
                    };
                };
                match &self.reference {
                    Some((RefKey::Branch, _, _)) => Outcome::Conflict {
                        accepted: "a branch pin is left for a person to change; replace `branch` with a `tag` or `rev` first",
                    },
                    Some((old_key, key_span, old)) => {
                        let from = Some(if *old_key == RefKey::Tag {
                            PinValue::Tag(old.value.clone())
                        } else {
                            PinValue::Rev(old.value.clone())
                        });
                        if *old_key == key && old.value == *value {
                            return Outcome::Skip(SkipReason::AlreadySet);
                        }
                        let mut splices = vec![old.replace(text, value)];
                        if *old_key != key {
                            splices.push(Splice::new(key_span.clone(), key.as_str()));
                        }
                        Outcome::Apply { splices, from }
                    }
                    None => Outcome::Apply {
                        splices: vec![self.insert_reference(text, git, key, value)],
                        from: None,
                    },
                }
            }
        }
    }

    /// Adds `tag = "…"` / `rev = "…"` right after the `git` entry.
    fn insert_reference(&self, text: &str, git: &Str, key: RefKey, value: &str) -> Splice {
        let literal = encode_like(&text[git.span.clone()], value);
        if self.inline {
            return Splice::insert(git.span.end, format!(", {} = {literal}", key.as_str()));
        }
        // A line of its own, with the same prefix as the `git` line: its
        // indentation, and for dotted keys (`core.git = …`) the dotted path.
        let key_start = self.git_key.as_ref().map_or(git.span.start, |k| k.start);
        let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &text[line_start..key_start];
        let entry = format!("{prefix}{} = {literal}", key.as_str());
        match text[git.span.end..].find('\n') {
            Some(i) => {
                let newline_at = git.span.end + i;
                let eol = if text[..newline_at].ends_with('\r') {
                    "\r\n"
                } else {
                    "\n"
                };
                Splice::insert(newline_at + 1, format!("{entry}{eol}"))
            }
            None => Splice::insert(text.len(), format!("\n{entry}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_keeps_the_quoting_style() {
        let cases = [
            ("\"1.0\"", "2.0", "\"2.0\""),
            ("'1.0'", "2.0", "'2.0'"),
            ("'1.0'", "it's", "\"it's\""),
            ("\"\"\"1.0\"\"\"", "2.0", "\"\"\"2.0\"\"\""),
            ("'''1.0'''", "2.0", "'''2.0'''"),
            ("\"x\"", "a\"b\\c\n", "\"a\\\"b\\\\c\\n\""),
        ];
        for (original, value, expected) in cases {
            assert_eq!(
                encode_like(original, value),
                expected,
                "{original} <- {value}"
            );
        }
    }

    #[test]
    fn key_repr_quotes_only_when_needed() {
        assert_eq!(key_repr("dev-dependencies"), "dev-dependencies");
        assert_eq!(key_repr("cfg(unix)"), "'cfg(unix)'");
        assert_eq!(key_repr("it's"), "\"it's\"");
    }
}
