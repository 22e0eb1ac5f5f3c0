//! `channel`: show the vertical's update channel, or switch it by rewriting `update_channel`
//! in the manifest, keeping every other byte (comments, order, quoting style) as it was.

use std::path::PathBuf;

use lockstep_manifest::{Channel, VerticalManifest};

use crate::workspace::Vertical;

/// Errors of `channel`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest could not be rewritten.
    #[error("cannot rewrite {path}: {message}")]
    Rewrite {
        /// The manifest.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The lock or audit log.
    #[error(transparent)]
    Txn(#[from] crate::txn::Error),
}

impl Error {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Rewrite { .. } => "io",
            Error::Txn(e) => e.kind(),
        }
    }
}

/// Rewrites `update_channel` in a manifest's text to `channel`, or inserts it under
/// `compatibility:` when absent. Everything else is kept byte for byte. The result is
/// re-parsed, so a manifest lockstep cannot rewrite safely is an error, not damage.
pub fn rewrite(text: &str, channel: Channel) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len() + 32);
    let mut in_compat = false;
    let mut compat_indent: Option<usize> = None;
    let mut done = false;
    let mut insert_at: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            if indent == 0 {
                in_compat = trimmed.starts_with("compatibility:");
                if in_compat {
                    if trimmed["compatibility:".len()..]
                        .trim_start()
                        .starts_with('{')
                    {
                        return Err("`compatibility` is written as a flow mapping ({…}); write it as a block mapping to switch channels with lockstep, or edit update_channel by hand".to_owned());
                    }
                    insert_at = Some((i + 1, String::new()));
                }
            } else if in_compat {
                compat_indent.get_or_insert(indent);
                if let Some(rest) = trimmed.strip_prefix("update_channel:")
                    && Some(indent) == compat_indent
                {
                    let value_start = line.len() - rest.len();
                    let rest_trim = rest.trim_start();
                    let lead = rest.len() - rest_trim.len();
                    let (quote, body) = match rest_trim.chars().next() {
                        Some(q @ ('"' | '\'')) => (Some(q), &rest_trim[1..]),
                        _ => (None, rest_trim),
                    };
                    let end = match quote {
                        Some(q) => body.find(q).map(|e| e + 2),
                        None => Some(
                            body.find(|c: char| c.is_whitespace() || c == '#')
                                .unwrap_or(body.len()),
                        ),
                    }
                    .ok_or_else(|| "update_channel has an unterminated quote".to_owned())?;
                    let start = value_start + lead;
                    let value = match quote {
                        Some(q) => format!("{q}{channel}{q}"),
                        None => channel.to_string(),
                    };
                    out.push_str(&line[..start]);
                    out.push_str(&value);
                    out.push_str(&line[start + end..]);
                    done = true;
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    if !done {
        let (at, _) =
            insert_at.ok_or_else(|| "the manifest has no `compatibility` mapping".to_owned())?;
        let indent = " ".repeat(compat_indent.unwrap_or(2));
        let mut rebuilt = String::with_capacity(out.len() + 32);
        for (i, line) in lines.iter().enumerate() {
            if i == at {
                rebuilt.push_str(&format!("{indent}update_channel: {channel}\n"));
            }
            rebuilt.push_str(line);
        }
        if at >= lines.len() {
            if !rebuilt.ends_with('\n') {
                rebuilt.push('\n');
            }
            rebuilt.push_str(&format!("{indent}update_channel: {channel}\n"));
        }
        out = rebuilt;
    }
    let parsed = VerticalManifest::parse(&out)
        .map_err(|e| format!("the rewritten manifest does not validate: {e}"))?;
    if parsed.compatibility.update_channel != channel {
        return Err("the rewrite did not take effect; edit update_channel by hand".to_owned());
    }
    Ok(out)
}

/// What `channel` reports.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct ChannelReport {
    /// `lockstep.channel/v1`.
    pub schema: &'static str,
    /// The channel before.
    pub previous: Channel,
    /// The channel now.
    pub channel: Channel,
    /// Whether the manifest was rewritten.
    pub changed: bool,
    /// The manifest.
    pub manifest: String,
}

/// Shows the channel (`to` is `None`) or switches it, under `session`'s lock, audited.
pub fn switch(
    session: &crate::txn::Session,
    vertical: &Vertical,
    to: Channel,
) -> Result<ChannelReport, Error> {
    let previous = vertical.manifest.compatibility.update_channel;
    let report = ChannelReport {
        schema: "lockstep.channel/v1",
        previous,
        channel: to,
        changed: previous != to,
        manifest: vertical.manifest_path.display().to_string(),
    };
    if previous == to {
        return Ok(report);
    }
    let path = &vertical.manifest_path;
    let err = |message: String| Error::Rewrite {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let new = rewrite(&text, to).map_err(err)?;
    crate::fsx::write_atomic(path, new.as_bytes()).map_err(|e| err(e.to_string()))?;
    session.record(
        |r| {
            r.detail("channel_from", previous.to_string())
                .detail("channel_to", to.to_string())
        },
        "channel",
        "switched",
    )?;
    Ok(report)
}

/// A channel as report for `channel` without an argument.
pub fn show(vertical: &Vertical) -> ChannelReport {
    let c = vertical.manifest.compatibility.update_channel;
    ChannelReport {
        schema: "lockstep.channel/v1",
        previous: c,
        channel: c,
        changed: false,
        manifest: vertical.manifest_path.display().to_string(),
    }
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "\
domain_name: finance # the team's vertical
domain_version: 1.0.0
status: active
compatibility:
  min_core_version: 1.0.0
  max_core_version: 1.x.x
  contracts_major: 1
  update_channel: stable   # change with `lockstep channel`
  smoke_tests_timeout: 120
ownership: {team: payments, tech_lead: Ada, contact: ada@example.com}
";

    #[test]
    fn rewrites_only_the_value() {
        let out = rewrite(BASE, Channel::Beta).unwrap();
        assert_eq!(
            out,
            BASE.replace("update_channel: stable ", "update_channel: beta ")
        );
        let quoted = BASE.replace("update_channel: stable", "update_channel: \"stable\"");
        let out = rewrite(&quoted, Channel::Lts).unwrap();
        assert!(out.contains("update_channel: \"lts\"   # change"), "{out}");
    }

    #[test]
    fn inserts_when_absent() {
        let without = BASE.replace(
            "  update_channel: stable   # change with `lockstep channel`\n",
            "",
        );
        let out = rewrite(&without, Channel::Canary).unwrap();
        assert!(
            out.contains("compatibility:\n  update_channel: canary\n  min_core_version"),
            "{out}"
        );
    }

    #[test]
    fn refuses_flow_mapping() {
        let flow = "domain_name: a\ndomain_version: 1.0.0\nstatus: active\ncompatibility: {min_core_version: 1.0.0, max_core_version: 1.x.x, contracts_major: 1}\nownership: {team: t, tech_lead: l, contact: a@b.c}\n";
        assert!(
            rewrite(flow, Channel::Beta)
                .unwrap_err()
                .contains("flow mapping")
        );
    }
}
