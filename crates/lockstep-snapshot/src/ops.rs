//! The other git operations the upgrade and cascade workflows need: commit, tags, describe,
//! and checking out a tag on the current branch.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use gix::bstr::{BStr, BString, ByteSlice};

use crate::error::{Cause, Error, Result};
use crate::id::ObjectId;
use crate::repo::{ChangeKind, Repo};
use crate::verify::Verification;
use crate::worktree;

/// Who made a commit or tag, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// Name, such as `Lockstep`.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Seconds since the Unix epoch and UTC offset in seconds; `None` means now.
    pub time: Option<(i64, i32)>,
}

impl Identity {
    /// An identity stamped with the current time.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Identity {
            name: name.into(),
            email: email.into(),
            time: None,
        }
    }

    /// The same identity at a fixed time (seconds since the epoch, UTC offset in seconds).
    pub fn at(mut self, unix_seconds: i64, offset_seconds: i32) -> Self {
        self.time = Some((unix_seconds, offset_seconds));
        self
    }

    fn to_signature(&self) -> gix::actor::Signature {
        gix::actor::Signature {
            name: self.name.as_str().into(),
            email: self.email.as_str().into(),
            time: match self.time {
                Some((seconds, offset)) => gix::date::Time::new(seconds, offset),
                None => gix::date::Time::now_local_or_utc(),
            },
        }
    }
}

/// The signature to use: the given identity, or the repository's configured committer.
fn signature(repo: &Repo, identity: Option<&Identity>) -> Result<gix::actor::Signature> {
    if let Some(identity) = identity {
        return Ok(identity.to_signature());
    }
    match repo.repo.committer() {
        Some(Ok(sig)) => sig.to_owned().map_err(repo.git_err("read identity")),
        Some(Err(e)) => Err(repo.git_err("read identity")(e)),
        None => Err(Error::NoIdentity {
            repo: repo.root.clone(),
        }),
    }
}

/// Commits every tracked change (staged or not, like `git commit -a`) plus `paths` (relative to
/// `repo_dir`; new files are added, missing ones removed) on the current branch, with `message`,
/// as `identity` or the configured `user.name`/`user.email`. Updates the index to match.
///
/// Refuses unresolved conflicts ([`Error::Dirty`]) and a commit identical to HEAD
/// ([`Error::NothingToCommit`]). File content is committed as it is on disk: clean filters and
/// end-of-line conversion are not applied.
pub fn commit(
    repo_dir: &Path,
    message: &str,
    paths: &[impl AsRef<Path>],
    identity: Option<&Identity>,
) -> Result<ObjectId> {
    let _span = tracing::info_span!("commit", repo = %repo_dir.display()).entered();
    let repo = Repo::open(repo_dir)?;
    let sig = signature(&repo, identity)?;
    let head_commit = repo
        .repo
        .head()
        .map_err(repo.git_err("read HEAD"))?
        .id()
        .map(|id| id.detach());
    let head_tree = head_commit.map(|c| repo.tree_of(c)).transpose()?;

    let mut index: gix::index::File = (**repo.index()?).clone();
    let scan = repo.scan_worktree(&index, false)?;
    let conflicted: Vec<String> = scan
        .changed
        .iter()
        .filter(|(_, kind)| *kind == ChangeKind::Conflicted)
        .map(|(p, _)| p.to_str_lossy().into_owned())
        .collect();
    if !conflicted.is_empty() {
        return Err(Error::Dirty {
            repo: repo_dir.to_owned(),
            paths: conflicted,
        });
    }

    let mut to_stage: Vec<BString> = Vec::new();
    let mut to_remove: HashSet<BString> = HashSet::new();
    for (path, kind) in scan.changed {
        match kind {
            ChangeKind::Deleted => {
                to_remove.insert(path);
            }
            _ => to_stage.push(path),
        }
    }
    for path in paths {
        let rel = crate::snapshot::relative_path(repo_dir, path.as_ref())?;
        if repo_dir.join(&rel).symlink_metadata().is_ok() {
            to_stage.push(rel.into());
        } else {
            to_remove.insert(rel.into());
        }
    }
    for path in &to_stage {
        stage_file(&repo, &mut index, path.as_bstr())?;
    }
    index.remove_entries(|_, path, _| to_remove.contains(path));
    index.sort_entries();

    let head_index = match head_tree {
        Some(tree) => repo.index_from_tree(tree)?,
        None => gix::index::File::from_state(
            gix::index::State::new(repo.repo.object_hash()),
            repo.repo.index_path(),
        ),
    };
    let differences = crate::repo::index_differences(&index, &head_index);
    if differences.is_empty() {
        return Err(Error::NothingToCommit {
            repo: repo_dir.to_owned(),
        });
    }
    let base_tree = head_tree.unwrap_or_else(|| gix::ObjectId::empty_tree(repo.repo.object_hash()));
    let mut editor = repo
        .repo
        .edit_tree(base_tree)
        .map_err(repo.git_err("write tree"))?;
    for (path, kind) in &differences {
        if *kind == ChangeKind::Deleted {
            editor.remove(path).map_err(repo.git_err("write tree"))?;
            continue;
        }
        let entry = index
            .entry_by_path(path.as_bstr())
            .ok_or_else(|| Error::Git {
                repo: repo_dir.to_owned(),
                op: "write tree",
                source: Cause::msg(format!("{path} is not in the index")),
            })?;
        let kind = entry
            .mode
            .to_tree_entry_mode()
            .map(|mode| mode.kind())
            .ok_or_else(|| Error::Git {
                repo: repo_dir.to_owned(),
                op: "write tree",
                source: Cause::msg(format!("{path} has no tree entry mode")),
            })?;
        editor
            .upsert(path, kind, entry.id)
            .map_err(repo.git_err("write tree"))?;
    }
    let tree = editor.write().map_err(repo.git_err("write tree"))?.detach();

    let mut time = gix::date::parse::TimeBuf::default();
    let sig_ref = sig.to_ref(&mut time);
    let commit = repo
        .repo
        .commit_as(sig_ref, sig_ref, "HEAD", message, tree, head_commit)
        .map_err(repo.git_err("commit"))?
        .detach();

    // The cached tree extension no longer describes the entries.
    index.remove_tree();
    index
        .write(gix::index::write::Options::default())
        .map_err(repo.git_err("write index"))?;
    tracing::info!(%commit, changed = differences.len(), "committed");
    Ok(ObjectId::from_gix(commit))
}

/// Hashes the work tree file at `path` into the object database and points its index entry
/// (added if missing) at it, with a fresh stat.
fn stage_file(repo: &Repo, index: &mut gix::index::File, path: &BStr) -> Result<()> {
    use gix::index::entry::{Flags, Mode, Stat};
    let full = repo.worktree_path(path)?;
    let meta = gix::index::fs::Metadata::from_path_no_follow(&full)
        .map_err(|e| Error::io("stat", &full, e))?;
    let std_meta = std::fs::symlink_metadata(&full).map_err(|e| Error::io("stat", &full, e))?;
    let (bytes, mode) = if std_meta.file_type().is_symlink() {
        let target = std::fs::read_link(&full).map_err(|e| Error::io("read link", &full, e))?;
        let target = gix::path::into_bstr(target.as_path())
            .map_err(repo.git_err("read link"))?
            .into_owned();
        (target.into(), Mode::SYMLINK)
    } else if std_meta.is_file() {
        let bytes = std::fs::read(&full).map_err(|e| Error::io("read", &full, e))?;
        let mode = if crate::fsx::is_executable(&std_meta) {
            Mode::FILE_EXECUTABLE
        } else {
            Mode::FILE
        };
        (bytes, mode)
    } else {
        return Err(Error::InvalidPath {
            repo: repo.root.clone(),
            path: full,
        });
    };
    let id = repo
        .repo
        .write_blob(&bytes)
        .map_err(repo.git_err("write blob"))?
        .detach();
    let stat = Stat::from_fs(&meta).unwrap_or_default();
    match index.entry_mut_by_path_and_stage(path, gix::index::entry::Stage::Unconflicted) {
        Some(entry) => {
            entry.id = id;
            entry.mode = mode;
            entry.stat = stat;
            entry.flags.remove(Flags::INTENT_TO_ADD);
        }
        None => index.dangerously_push_entry(stat, id, Flags::empty(), mode, path),
    }
    Ok(())
}

/// A tag and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tag {
    /// The name without `refs/tags/`.
    pub name: String,
    /// The commit the tag resolves to.
    pub commit: ObjectId,
    /// Whether it is an annotated tag (a tag object) rather than a lightweight one.
    pub annotated: bool,
    /// The annotated tag's message.
    pub message: Option<String>,
}

fn tag_ref_name(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::InvalidTagName {
            name: name.to_owned(),
            source: Cause::msg("a tag name cannot be empty"),
        });
    }
    let full = format!("refs/tags/{name}");
    gix::refs::FullName::try_from(full.as_str()).map_err(|e| Error::InvalidTagName {
        name: name.to_owned(),
        source: Cause::new(e),
    })?;
    Ok(full)
}

/// Creates annotated tag `name` at HEAD with `message`, tagged by `identity` or the configured
/// committer. Refuses an existing tag ([`Error::TagExists`]).
pub fn create_tag(
    repo_dir: &Path,
    name: &str,
    message: &str,
    identity: Option<&Identity>,
) -> Result<Tag> {
    let _span = tracing::info_span!("create_tag", repo = %repo_dir.display(), tag = name).entered();
    let repo = Repo::open(repo_dir)?;
    let full = tag_ref_name(name)?;
    if repo
        .repo
        .try_find_reference(full.as_str())
        .map_err(repo.git_err("read ref"))?
        .is_some()
    {
        return Err(Error::TagExists {
            repo: repo_dir.to_owned(),
            name: name.to_owned(),
        });
    }
    let commit = repo.head_commit()?;
    let sig = signature(&repo, identity)?;
    let mut time = gix::date::parse::TimeBuf::default();
    repo.repo
        .tag(
            name,
            commit,
            gix::object::Kind::Commit,
            Some(sig.to_ref(&mut time)),
            message,
            gix::refs::transaction::PreviousValue::MustNotExist,
        )
        .map_err(repo.git_err("create tag"))?;
    Ok(Tag {
        name: name.to_owned(),
        commit: ObjectId::from_gix(commit),
        annotated: true,
        message: Some(message.to_owned()),
    })
}

/// Deletes tag `name` ([`Error::TagNotFound`] when there is none).
pub fn delete_tag(repo_dir: &Path, name: &str) -> Result<()> {
    let _span = tracing::info_span!("delete_tag", repo = %repo_dir.display(), tag = name).entered();
    let repo = Repo::open(repo_dir)?;
    let full = tag_ref_name(name)?;
    if crate::snapshot::delete_ref(&repo, &full)? {
        Ok(())
    } else {
        Err(Error::TagNotFound {
            repo: repo_dir.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// Whether tag `name` exists.
pub fn tag_exists(repo_dir: &Path, name: &str) -> Result<bool> {
    let repo = Repo::open(repo_dir)?;
    let full = tag_ref_name(name)?;
    Ok(repo
        .repo
        .try_find_reference(full.as_str())
        .map_err(repo.git_err("read ref"))?
        .is_some())
}

/// The commit tag `name` resolves to ([`Error::TagNotFound`] when there is none).
pub fn resolve_tag(repo_dir: &Path, name: &str) -> Result<ObjectId> {
    let repo = Repo::open(repo_dir)?;
    resolve_tag_in(&repo, name).map(ObjectId::from_gix)
}

fn resolve_tag_in(repo: &Repo, name: &str) -> Result<gix::ObjectId> {
    let full = tag_ref_name(name)?;
    let mut reference = repo
        .repo
        .try_find_reference(full.as_str())
        .map_err(repo.git_err("read ref"))?
        .ok_or_else(|| Error::TagNotFound {
            repo: repo.root.clone(),
            name: name.to_owned(),
        })?;
    let commit = reference
        .peel_to_commit()
        .map_err(repo.git_err("resolve tag"))?;
    Ok(commit.id)
}

/// Every tag's name, sorted: the references only, no object is read, so it stays cheap in a
/// repository with thousands of annotated tags (see [`list_tags`] for targets and messages).
pub fn list_tag_names(repo_dir: &Path) -> Result<Vec<String>> {
    let _span = tracing::debug_span!("list_tag_names", repo = %repo_dir.display()).entered();
    let repo = Repo::open(repo_dir)?;
    let platform = repo.repo.references().map_err(repo.git_err("list tags"))?;
    let mut names = Vec::new();
    for reference in platform.tags().map_err(repo.git_err("list tags"))? {
        let reference = reference.map_err(|e| Error::Git {
            repo: repo.root.clone(),
            op: "list tags",
            source: Cause::msg(e.to_string()),
        })?;
        names.push(reference.name().shorten().to_str_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Every tag, sorted by name.
pub fn list_tags(repo_dir: &Path) -> Result<Vec<Tag>> {
    let _span = tracing::debug_span!("list_tags", repo = %repo_dir.display()).entered();
    let repo = Repo::open(repo_dir)?;
    let platform = repo.repo.references().map_err(repo.git_err("list tags"))?;
    let mut tags = Vec::new();
    for reference in platform.tags().map_err(repo.git_err("list tags"))? {
        let mut reference = reference.map_err(|e| Error::Git {
            repo: repo.root.clone(),
            op: "list tags",
            source: Cause::msg(e.to_string()),
        })?;
        let name = reference.name().shorten().to_str_lossy().into_owned();
        let target = reference.id();
        let message = match target
            .object()
            .map_err(repo.git_err("list tags"))?
            .try_into_tag()
        {
            Ok(tag) => Some(
                tag.decode()
                    .map_err(repo.git_err("list tags"))?
                    .message
                    .to_str_lossy()
                    .into_owned(),
            ),
            Err(_) => None,
        };
        // A tag of something other than a commit (a tree, a blob) has no commit to name.
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        tags.push(Tag {
            name,
            commit: ObjectId::from_gix(commit.id),
            annotated: message.is_some(),
            message,
        });
    }
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tags)
}

/// The latest tag reachable from HEAD, like `git describe --tags`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Describe {
    /// The tag's name.
    pub tag: String,
    /// How many commits HEAD is past the tag (0 when HEAD is tagged).
    pub distance: u32,
    /// HEAD's commit.
    pub commit: ObjectId,
}

impl fmt::Display for Describe {
    /// `v1.2.0` when HEAD is tagged, else `v1.2.0-3-gabcdef1` (7 hex digits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.distance == 0 {
            f.write_str(&self.tag)
        } else {
            write!(
                f,
                "{}-{}-g{}",
                self.tag,
                self.distance,
                self.commit.short(7)
            )
        }
    }
}

/// The latest tag (annotated or lightweight) reachable from HEAD, like `git describe --tags`;
/// `None` when no tag is reachable.
pub fn describe(repo_dir: &Path) -> Result<Option<Describe>> {
    let _span = tracing::debug_span!("describe", repo = %repo_dir.display()).entered();
    let repo = Repo::open(repo_dir)?;
    let commit = repo.head_commit()?;
    let resolution = repo
        .repo
        .find_commit(commit)
        .map_err(repo.git_err("describe"))?
        .describe()
        .names(gix::commit::describe::SelectRef::AllTags)
        .id_as_fallback(false)
        .try_resolve()
        .map_err(repo.git_err("describe"))?;
    Ok(resolution.and_then(|r| {
        r.outcome.name.map(|name| Describe {
            tag: name.to_str_lossy().into_owned(),
            distance: r.outcome.depth,
            commit: ObjectId::from_gix(commit),
        })
    }))
}

/// "Checkout mode": moves the current branch to the commit of tag `name` with a hard reset of
/// index and tracked files (only files that differ are written), and verifies the result.
/// HEAD stays on its branch (or detached, if it was). Refuses a work tree with tracked changes.
pub fn checkout_tag(repo_dir: &Path, name: &str) -> Result<Verification> {
    let _span =
        tracing::info_span!("checkout_tag", repo = %repo_dir.display(), tag = name).entered();
    let repo = Repo::open(repo_dir)?;
    let status = repo.status()?;
    if !status.is_clean() {
        return Err(Error::Dirty {
            repo: repo_dir.to_owned(),
            paths: status.dirty_paths(),
        });
    }
    let commit = resolve_tag_in(&repo, name)?;
    let tree = repo.tree_of(commit)?;
    let branch = repo.head()?.branch;
    let reset = worktree::reset_to_tree(&repo, tree)?;
    worktree::move_head(
        &repo,
        commit,
        branch.as_deref(),
        &format!("lockstep: checkout {name}"),
    )?;
    let mismatches = worktree::verify_tree(&repo, commit, branch.as_deref(), &reset.index)?;
    Ok(Verification {
        commit: ObjectId::from_gix(commit),
        branch,
        files_written: reset.written,
        files_removed: reset.removed,
        copies_restored: 0,
        mismatches,
    })
}
