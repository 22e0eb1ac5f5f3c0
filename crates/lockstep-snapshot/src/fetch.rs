//! Fetching a repository at a ref into a fresh directory, for sources that are git URLs (a pack
//! given as `URL@REF`).
//!
//! Like pushing, this runs the `git` program: a clone needs the user's transport configuration
//! (SSH keys, credential helpers, `insteadOf` rewrites), which only git itself knows. `file://`
//! URLs and local paths work offline.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Cause, Error, Result};

/// Clones `url` into `dest` (which must not exist yet) and checks out `reference` (a branch, a
/// tag or a commit; the remote's default branch when `None`) as a detached HEAD. Returns the
/// commit checked out, as hex.
///
/// On failure `dest` may hold a partial clone; the caller removes it.
pub fn clone_at(url: &str, reference: Option<&str>, dest: &Path) -> Result<String> {
    let _span = tracing::info_span!("clone", url, reference, dest = %dest.display()).entered();
    git(
        dest,
        "clone",
        Command::new("git")
            .args(["clone", "--quiet", "--no-checkout", "--", url])
            .arg(dest),
    )?;
    let target = match reference {
        None => "HEAD".to_owned(),
        Some(r) => {
            // A branch exists only as origin/NAME after a clone; tags and commits as written.
            let remote = format!("refs/remotes/origin/{r}");
            let exists = |name: &str| {
                Command::new("git")
                    .args(["rev-parse", "--verify", "--quiet"])
                    .arg(format!("{name}^{{commit}}"))
                    .current_dir(dest)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if exists(&remote) {
                remote
            } else if exists(r) {
                r.to_owned()
            } else {
                return Err(Error::Git {
                    repo: dest.to_path_buf(),
                    op: "checkout",
                    source: Cause::msg(format!("`{r}` is not a branch, tag or commit of {url}")),
                });
            }
        }
    };
    git(
        dest,
        "checkout",
        Command::new("git")
            .args(["checkout", "--quiet", "--detach"])
            .arg(&target)
            .current_dir(dest),
    )?;
    let out = git(
        dest,
        "rev-parse",
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(dest),
    )?;
    Ok(out.trim().to_owned())
}

fn git(dest: &Path, op: &'static str, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|_| Error::Git {
            repo: dest.to_path_buf(),
            op,
            source: Cause::msg("cannot run the git program; is git installed and on PATH?"),
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    Err(Error::Git {
        repo: dest.to_path_buf(),
        op,
        source: Cause::msg(tail.into_iter().rev().collect::<Vec<_>>().join("\n")),
    })
}
