//! `hooks install` and `tag-check`: render what `lockstep_release::tagcheck` says.

use std::path::{Path, PathBuf};

use lockstep_release::tagcheck::{self, HookOutcome, TagCheck};
use lockstep_upgrade::workspace::work_tree_root;
use serde::Serialize;

use crate::out::{BOLD, Failure, GREEN, Out, RED, paint};

/// The work tree holding `dir` (`dir` itself when none is found, so the error names it).
fn repo_root(dir: &Path) -> PathBuf {
    // Components drop the `.` of `--repo .` joined to the current directory.
    let dir: PathBuf = dir.components().collect();
    work_tree_root(&dir).unwrap_or(dir)
}

/// Exit 2 with the error and its causes: `…: cannot read tag v9.9.9: tag v9.9.9 not found in …`.
fn failure(err: &tagcheck::Error) -> Failure {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    Failure::input(err.kind(), message)
}

#[derive(Serialize)]
struct HooksJson<'a> {
    schema: &'static str,
    #[serde(flatten)]
    hook: &'a tagcheck::InstalledHook,
}

pub fn install_cmd(dir: &Path, force: bool, out: &Out) -> Result<u8, Failure> {
    let root = repo_root(dir);
    let installed = tagcheck::install_hook(&root, force).map_err(|e| failure(&e))?;
    if out.json {
        out.print_json(&HooksJson {
            schema: "lockstep.hooks-install/v1",
            hook: &installed,
        });
        return Ok(0);
    }
    let path = paint(BOLD, &installed.path.display().to_string());
    let text = match &installed.outcome {
        HookOutcome::Created => format!("installed the pre-push hook at {path}"),
        HookOutcome::Updated => format!("updated the pre-push hook at {path}"),
        HookOutcome::Unchanged => format!("the pre-push hook at {path} is already installed"),
        HookOutcome::Replaced { backup } => format!(
            "installed the pre-push hook at {path}; the previous hook is kept as {}",
            backup.display()
        ),
        _ => format!("pre-push hook at {path}"),
    };
    out.print(&format!("{} {text}\n", paint(GREEN, "✓")));
    Ok(0)
}

#[derive(Serialize)]
struct TagCheckJson<'a> {
    schema: &'static str,
    ok: bool,
    tags: &'a [TagCheck],
}

pub fn tag_check_cmd(dir: &Path, tags: Vec<String>, all: bool, out: &Out) -> Result<u8, Failure> {
    let root = repo_root(dir);
    let tags = if tags.is_empty() {
        tagcheck::tags(&root, !all).map_err(|e| failure(&e))?
    } else {
        tags
    };
    let mut checks = Vec::with_capacity(tags.len());
    for tag in &tags {
        checks.push(tagcheck::check_tag(&root, tag).map_err(|e| failure(&e))?);
    }
    let ok = checks.iter().all(|c| c.ok);
    if out.json {
        out.print_json(&TagCheckJson {
            schema: tagcheck::SCHEMA,
            ok,
            tags: &checks,
        });
    } else if checks.is_empty() {
        out.eprint(if all {
            "no tags in the repository; nothing to check\n"
        } else {
            "no tag points at HEAD; nothing to check (name tags, or pass --all)\n"
        });
    } else {
        let mut text = String::new();
        for c in &checks {
            let mark = if c.ok {
                paint(GREEN, "✓")
            } else {
                paint(RED, "✗")
            };
            text.push_str(&format!("{mark} {}\n", c.summary()));
        }
        out.print(&text);
    }
    Ok(if ok { 0 } else { 1 })
}
