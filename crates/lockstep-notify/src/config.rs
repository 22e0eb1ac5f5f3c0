//! `notify.toml`: the webhooks and the events each one wants.
//!
//! ```toml
//! [[webhook]]
//! url = "https://chat.example.com/hooks/platform"
//! secret_env = "PLATFORM_HOOK_SECRET"   # or: secret = "…"
//! events = ["promotion", "quarantine"]   # or ["*"] for every event
//! ```

use std::fmt;

use crate::url::check_url;

/// A string value and where it is.
type Located = (String, Option<std::ops::Range<usize>>);

/// A webhook: where to POST, the signing secret, the events it wants.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Webhook {
    /// `https://…`, or `http://` to a loopback address.
    pub url: String,
    /// The HMAC key.
    pub secret: Vec<u8>,
    /// Event names; `*` means every event.
    pub events: Vec<String>,
}

impl Webhook {
    /// A webhook; the URL is checked when delivering.
    pub fn new(url: impl Into<String>, secret: impl Into<Vec<u8>>, events: Vec<String>) -> Self {
        Webhook {
            url: url.into(),
            secret: secret.into(),
            events,
        }
    }

    /// Whether this webhook wants `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event || e == "*")
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("events", &self.events)
            .finish()
    }
}

/// The parsed `notify.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Config {
    /// The webhooks, in file order.
    pub webhooks: Vec<Webhook>,
}

/// A problem in `notify.toml`, with where it is and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {field}{}{message}", if field.is_empty() { "" } else { ": " })]
#[non_exhaustive]
pub struct ConfigError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field path, such as `webhook[1].events`.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl Config {
    /// Parses `notify.toml`. `known_events` are the event names accepted in `events` (besides
    /// `*`); `env` looks up `secret_env` variables.
    pub fn parse(
        text: &str,
        known_events: &[&str],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let at = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
            let offset = span.map_or(0, |s| s.start);
            let before = text.get(..offset).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            ConfigError {
                line,
                column,
                field,
                message,
            }
        };
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            at(
                e.span(),
                String::new(),
                format!("not valid TOML: {}", e.message().trim_end()),
            )
        })?;
        let mut config = Config::default();
        for (key, item) in doc.as_table().iter() {
            if key != "webhook" {
                return Err(at(
                    doc.as_table().key(key).and_then(|k| k.span()),
                    key.to_owned(),
                    "unknown key; notify.toml holds [[webhook]] tables".to_owned(),
                ));
            }
            let Some(tables) = item.as_array_of_tables() else {
                return Err(at(
                    item.span(),
                    "webhook".into(),
                    "expected [[webhook]] tables".into(),
                ));
            };
            for (i, table) in tables.iter().enumerate() {
                let path = |k: &str| format!("webhook[{}].{k}", i + 1);
                for (k, _) in table.iter() {
                    if !matches!(k, "url" | "secret" | "secret_env" | "events") {
                        return Err(at(
                            table.key(k).and_then(|x| x.span()),
                            path(k),
                            "unknown key; expected url, secret or secret_env, events".into(),
                        ));
                    }
                }
                let string = |k: &str| -> Result<Option<Located>, ConfigError> {
                    match table.get(k) {
                        None => Ok(None),
                        Some(v) => v
                            .as_str()
                            .map(|s| Some((s.to_owned(), v.span())))
                            .ok_or_else(|| at(v.span(), path(k), "expected a string".into())),
                    }
                };
                let Some((url, url_span)) = string("url")? else {
                    return Err(at(
                        table.span(),
                        path("url"),
                        "missing; the URL to POST events to".into(),
                    ));
                };
                check_url(&url).map_err(|reason| at(url_span, path("url"), reason))?;
                let secret = match (string("secret")?, string("secret_env")?) {
                    (Some((s, _)), None) if !s.is_empty() => s,
                    (None, Some((var, span))) => {
                        env(&var).filter(|v| !v.is_empty()).ok_or_else(|| {
                            at(
                                span,
                                path("secret_env"),
                                format!("the environment variable {var} is not set"),
                            )
                        })?
                    }
                    (Some(_), Some((_, span))) => {
                        return Err(at(
                            span,
                            path("secret_env"),
                            "give secret or secret_env, not both".into(),
                        ));
                    }
                    _ => {
                        return Err(at(
                            table.span(),
                            path("secret"),
                            "missing; give a non-empty secret or secret_env".into(),
                        ));
                    }
                };
                let events_item = table.get("events");
                let Some(array) = events_item.and_then(|v| v.as_array()) else {
                    return Err(at(
                        events_item.and_then(|v| v.span()).or(table.span()),
                        path("events"),
                        format!(
                            "expected a list of event names: {} (or \"*\")",
                            known_events.join(", ")
                        ),
                    ));
                };
                let mut events = Vec::new();
                for value in array.iter() {
                    match value.as_str() {
                        Some(e) if e == "*" || known_events.contains(&e) => {
                            events.push(e.to_owned())
                        }
                        _ => {
                            return Err(at(
                                value.span(),
                                path("events"),
                                format!(
                                    "unknown event {}; expected one of {} (or \"*\")",
                                    value.to_string().trim(),
                                    known_events.join(", ")
                                ),
                            ));
                        }
                    }
                }
                config
                    .webhooks
                    .push(Webhook::new(url, secret.into_bytes(), events));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<usize, &str>) {
        let got = Config::parse(text, &["promotion", "quarantine"], |v| {
            (v == "SET").then(|| "from-env".to_owned())
        });
        match (got, expected) {
            (Ok(c), Ok(n)) => assert_eq!(c.webhooks.len(), n, "{text}"),
            (Err(e), Err(msg)) => assert_eq!(e.to_string(), msg, "{text}"),
            (got, _) => panic!("{text}: {got:?}"),
        }
    }

    #[test]
    fn webhooks_parse_or_say_where_and_what() {
        check("", Ok(0));
        check(
            "[[webhook]]\nurl = \"http://127.0.0.1:1/h\"\nsecret = \"s\"\nevents = [\"*\"]\n",
            Ok(1),
        );
        check(
            "[[webhook]]\nurl = \"https://x.example/h\"\nsecret_env = \"SET\"\nevents = [\"promotion\"]\n",
            Ok(1),
        );
        check(
            "[[webhook]]\nurl = \"http://example.com/h\"\nsecret = \"s\"\nevents = []\n",
            Err(
                "line 2, column 7: webhook[1].url: plain http:// is allowed only to localhost, 127.0.0.0/8 and ::1; use https://",
            ),
        );
        check(
            "[[webhook]]\nurl = \"https://x/h\"\nsecret = \"s\"\nevents = [\"promoted\"]\n",
            Err(
                "line 4, column 11: webhook[1].events: unknown event \"promoted\"; expected one of promotion, quarantine (or \"*\")",
            ),
        );
        check(
            "[[webhook]]\nurl = \"https://x/h\"\nsecret_env = \"UNSET\"\nevents = []\n",
            Err(
                "line 3, column 14: webhook[1].secret_env: the environment variable UNSET is not set",
            ),
        );
        check(
            "[[webhook]]\nurl = \"https://x/h\"\nsecret = \"s\"\nevents = []\ncolour = 1\n",
            Err(
                "line 5, column 1: webhook[1].colour: unknown key; expected url, secret or secret_env, events",
            ),
        );
        check(
            "[[webhook]\n",
            Err("line 1, column 11: not valid TOML: unclosed array table, expected `]`"),
        );
    }
}
