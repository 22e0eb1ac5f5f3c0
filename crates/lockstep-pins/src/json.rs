//! A small JSON scanner that keeps byte spans, so `package.json` can be
//! edited in place: serde_json validates and decodes, this finds where
//! things are.

use std::ops::Range;

/// A JSON value with its span in the text.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Object {
        members: Vec<Member>,
    },
    String {
        value: String,
        span: Range<usize>,
    },
    Other {
        kind: &'static str,
        array: Vec<Node>,
    },
}

/// One `"key": value` of an object.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) key: String,
    pub(crate) value: Node,
}

/// The kind of a `true` literal (a boolean, as messages say).
const TRUE: &str = "a boolean (true)";

impl Node {
    /// Whether this is the literal `true`.
    pub(crate) fn is_true(&self) -> bool {
        matches!(self, Node::Other { kind, .. } if *kind == TRUE)
    }

    /// The last member named `key` (JSON.parse keeps the last duplicate).
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object { members } => members
                .iter()
                .rev()
                .find(|m| m.key == key)
                .map(|m| &m.value),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Object { .. } => "an object",
            Node::String { .. } => "a string",
            Node::Other { kind, .. } => kind,
        }
    }
}

/// Scans text that serde_json has already accepted. `None` only if the two
/// disagree, which the caller reports as a syntax error.
pub(crate) fn scan(text: &str) -> Option<Node> {
    let mut scanner = Scanner { text, pos: 0 };
    let node = scanner.value()?;
    scanner.ws();
    (scanner.pos == text.len()).then_some(node)
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    fn value(&mut self) -> Option<Node> {
        self.ws();
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                let (value, span) = self.string()?;
                Some(Node::String { value, span })
            }
            b't' | b'f' | b'n' => {
                let rest = &self.text[self.pos..];
                let (word, kind) = [
                    // Both "a boolean" in messages; told apart by [`Node::is_true`].
                    ("true", TRUE),
                    ("false", "a boolean"),
                    ("null", "null"),
                ]
                .into_iter()
                .find(|(w, _)| rest.starts_with(w))?;
                self.pos += word.len();
                Some(Node::Other {
                    kind,
                    array: Vec::new(),
                })
            }
            _ => {
                let rest = &self.text.as_bytes()[self.pos..];
                let len = rest
                    .iter()
                    .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .count();
                (len > 0).then(|| {
                    self.pos += len;
                    Node::Other {
                        kind: "a number",
                        array: Vec::new(),
                    }
                })
            }
        }
    }

    fn string(&mut self) -> Option<(String, Range<usize>)> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        let span = start..self.pos;
        let value = serde_json::from_str::<String>(self.text.get(span.clone())?).ok()?;
        Some((value, span))
    }

    fn object(&mut self) -> Option<Node> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(Node::Object { members });
        }
        loop {
            self.ws();
            if self.peek()? != b'"' {
                return None;
            }
            let (key, _) = self.string()?;
            self.eat(b':')?;
            let value = self.value()?;
            members.push(Member { key, value });
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(Node::Object { members });
            }
        }
    }

    fn array(&mut self) -> Option<Node> {
        self.pos += 1;
        let mut array = Vec::new();
        if self.eat(b']').is_some() {
            return Some(Node::Other {
                kind: "an array",
                array,
            });
        }
        loop {
            array.push(self.value()?);
            if self.eat(b',').is_none() {
                self.eat(b']')?;
                return Some(Node::Other {
                    kind: "an array",
                    array,
                });
            }
        }
    }
}

/// A JSON string literal for `value`.
pub(crate) fn encode(value: &str) -> String {
    // Serialising a string cannot fail; fall back to a plain quote just in case.
    serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_spans_of_nested_strings() {
        let text =
            r#" { "a": [1, -2.5e3, true, null, {"x": "y"}], "deps": { "k\"ey": "v\u00e9" } } "#;
        let node = scan(text).expect("valid JSON");
        let Some(Node::Object { members }) = node.get("deps") else {
            panic!("deps should be an object");
        };
        assert_eq!(members[0].key, "k\"ey");
        let Node::String { value, span } = &members[0].value else {
            panic!("value should be a string");
        };
        assert_eq!(value, "vé");
        assert_eq!(&text[span.clone()], r#""v\u00e9""#);
    }

    #[test]
    fn last_duplicate_wins() {
        let node = scan(r#"{"v": "1", "v": "2"}"#).expect("valid JSON");
        assert!(matches!(node.get("v"), Some(Node::String { value, .. }) if value == "2"));
    }
}
