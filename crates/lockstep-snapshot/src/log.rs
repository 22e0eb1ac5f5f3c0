//! Reading history: the commits since a tag, for bumps from conventional commits and for
//! changelogs.

use std::path::Path;

use gix::bstr::ByteSlice;

use crate::error::{Error, Result};
use crate::id::ObjectId;
use crate::repo::Repo;

/// One commit of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitInfo {
    /// The commit's id.
    pub id: ObjectId,
    /// The first line of the message (`feat(api)!: drop v1`), without its line ending.
    pub summary: String,
    /// The whole message, as written (trailing newline included when there is one).
    pub message: String,
}

/// The commits reachable from HEAD and not from tag `since` (every commit reachable from HEAD
/// when `since` is `None`), following first parents only, newest first: what `git log
/// --first-parent TAG..HEAD` lists.
///
/// A merge is listed as one commit (its own message), not the commits it merged. A tag that
/// does not exist is [`Error::TagNotFound`]; HEAD without a commit is [`Error::UnbornHead`].
/// When the tag is at HEAD, or ahead of it, the list is empty.
pub fn log_since(repo_dir: &Path, since: Option<&str>) -> Result<Vec<CommitInfo>> {
    log_since_touching(repo_dir, since, "")
}

/// [`log_since`], keeping only the commits that change something under `dir` (a directory
/// relative to the work tree's root, `/`-separated; empty for the whole repository) compared
/// with their first parent: the history of one package of a monorepo.
pub fn log_since_touching(
    repo_dir: &Path,
    since: Option<&str>,
    dir: &str,
) -> Result<Vec<CommitInfo>> {
    let _span =
        tracing::debug_span!("log_since", repo = %repo_dir.display(), since = since).entered();
    let hidden = match since {
        Some(tag) => {
            let id = crate::ops::resolve_tag(repo_dir, tag)?;
            Some(
                gix::ObjectId::from_hex(id.as_str().as_bytes()).map_err(|e| Error::Git {
                    repo: repo_dir.to_owned(),
                    op: "resolve tag",
                    source: crate::error::Cause::new(e),
                })?,
            )
        }
        None => None,
    };
    let repo = Repo::open(repo_dir)?;
    let head = repo.head_commit()?;
    let walk = repo
        .repo
        .rev_walk([head])
        .first_parent_only()
        .with_hidden(hidden)
        .all()
        .map_err(repo.git_err("walk history"))?;
    let mut out = Vec::new();
    for info in walk {
        let info = info.map_err(repo.git_err("walk history"))?;
        let commit = info.object().map_err(repo.git_err("read commit"))?;
        if !dir.is_empty() {
            let at = |id: gix::ObjectId| -> Result<Option<gix::ObjectId>> {
                let tree = repo
                    .repo
                    .find_commit(id)
                    .map_err(repo.git_err("read commit"))?
                    .tree()
                    .map_err(repo.git_err("read tree"))?;
                Ok(tree
                    .lookup_entry_by_path(dir)
                    .map_err(repo.git_err("read tree"))?
                    .map(|e| e.object_id()))
            };
            let here = at(info.id)?;
            let parent = match info.parent_ids.first() {
                Some(p) => at(*p)?,
                None => None,
            };
            if here == parent {
                continue;
            }
        }
        let message = commit
            .message_raw()
            .map_err(repo.git_err("read commit"))?
            .to_str_lossy()
            .into_owned();
        let summary = message
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_owned();
        out.push(CommitInfo {
            id: ObjectId::from_gix(info.id),
            summary,
            message,
        });
    }
    Ok(out)
}
