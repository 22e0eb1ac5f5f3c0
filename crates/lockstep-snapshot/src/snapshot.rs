//! Snapshots: take, restore, verify, list, read, delete, prune.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Cause, Error, Result};
use crate::fsx;
use crate::id::{ObjectId, SnapshotId};
use crate::repo::Repo;
use crate::verify::{Mismatch, Verification};
use crate::worktree;

/// Where snapshot refs live: `refs/lockstep/snapshots/<id>`.
pub const REF_PREFIX: &str = "refs/lockstep/snapshots/";

/// How many snapshots [`prune`] keeps unless told otherwise.
pub const DEFAULT_KEEP: usize = 5;

/// The version of the snapshot record format this crate writes and reads.
pub const RECORD_FORMAT: u32 = 1;

const RECORD_FILE: &str = "snapshot.json";
const FILES_DIR: &str = "files";

/// A snapshot record, as written to `<store>/<id>/snapshot.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The record format, [`RECORD_FORMAT`].
    pub format: u32,
    /// The snapshot's id.
    pub id: SnapshotId,
    /// Order of creation within the store: 1 for the first snapshot, then one more each time.
    pub seq: u64,
    /// The commit HEAD was at.
    pub commit: ObjectId,
    /// That commit's tree.
    pub tree: ObjectId,
    /// The branch HEAD was on, `None` when detached.
    pub branch: Option<String>,
    /// Untracked paths at the time (reported, not restored).
    pub untracked: Vec<String>,
    /// The named files copied besides git, in the order given.
    pub files: Vec<CopiedFile>,
}

/// A named file that the snapshot copied (or recorded as absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CopiedFile {
    /// Path relative to the work tree's root, with `/` separators.
    pub path: String,
    /// What the file held; `None` when it did not exist, so a restore deletes it.
    pub content: Option<FileDigest>,
}

/// The recorded content of a copied file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileDigest {
    /// Lowercase hex sha256 of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether the owner could execute it.
    pub executable: bool,
}

/// Takes snapshot `id` of the work tree at `repo_dir`.
///
/// Refuses a work tree with tracked changes ([`Error::Dirty`] lists the paths); untracked files
/// are recorded in the result. Records HEAD's commit, tree and branch, copies each of `files`
/// (relative to `repo_dir`; typically ignored lockfiles) into `store_dir/<id>/files/` with its
/// sha256 (a file that does not exist is recorded as absent, so a restore deletes it), writes
/// the record crash-safely, and last creates the ref `refs/lockstep/snapshots/<id>` at HEAD.
///
/// `store_dir` belongs to this one repository (`.lockstep/snapshots` in it, say).
pub fn snapshot(
    repo_dir: &Path,
    id: &SnapshotId,
    files: &[impl AsRef<Path>],
    store_dir: &Path,
) -> Result<Snapshot> {
    let _span = tracing::info_span!("snapshot", repo = %repo_dir.display(), %id).entered();
    let repo = Repo::open(repo_dir)?;
    let rel_paths = files
        .iter()
        .map(|f| relative_path(repo_dir, f.as_ref()))
        .collect::<Result<Vec<_>>>()?;

    let status = repo.status()?;
    if !status.is_clean() {
        return Err(Error::Dirty {
            repo: repo_dir.to_owned(),
            paths: status.dirty_paths(),
        });
    }
    let head = repo.head()?;
    let commit = repo.head_commit()?;
    let tree = repo.tree_of(commit)?;

    let dir = store_dir.join(id.as_str());
    let exists = repo
        .repo
        .try_find_reference(id.ref_name().as_str())
        .map_err(repo.git_err("read ref"))?
        .is_some();
    if exists || dir.exists() {
        return Err(Error::SnapshotExists {
            repo: repo_dir.to_owned(),
            id: id.to_string(),
        });
    }
    let seq = list_records(store_dir)?
        .iter()
        .map(|s| s.seq)
        .max()
        .unwrap_or(0)
        + 1;

    let mut copied = Vec::with_capacity(rel_paths.len());
    for rel in rel_paths {
        let content = match fsx::read_content(&repo_dir.join(&rel))? {
            Some(content) => {
                fsx::write_atomic(
                    &dir.join(FILES_DIR).join(&rel),
                    &content.bytes,
                    content.executable,
                )?;
                Some(FileDigest {
                    sha256: content.sha256,
                    size: content.bytes.len() as u64,
                    executable: content.executable,
                })
            }
            None => None,
        };
        copied.push(CopiedFile { path: rel, content });
    }

    let record = Snapshot {
        format: RECORD_FORMAT,
        id: id.clone(),
        seq,
        commit: ObjectId::from_gix(commit),
        tree: ObjectId::from_gix(tree),
        branch: head.branch,
        untracked: status.untracked,
        files: copied,
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| Error::InvalidRecord {
        path: dir.join(RECORD_FILE),
        source: Cause::new(e),
    })?;
    fsx::write_atomic(&dir.join(RECORD_FILE), &json, false)?;
    fsx::sync_dir(store_dir)?;

    create_ref(&repo, id, commit)?;
    tracing::info!(commit = %record.commit, files = record.files.len(), "snapshot taken");
    Ok(record)
}

fn create_ref(repo: &Repo, id: &SnapshotId, commit: gix::ObjectId) -> Result<()> {
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
    let name: gix::refs::FullName = id
        .ref_name()
        .try_into()
        .map_err(repo.git_err("create ref"))?;
    repo.repo
        .edit_reference(RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: format!("lockstep: snapshot {id}").into(),
                },
                expected: PreviousValue::MustNotExist,
                new: gix::refs::Target::Object(commit),
            },
            name,
            deref: false,
        })
        .map_err(repo.git_err("create ref"))?;
    Ok(())
}

/// Restores snapshot `id`: moves the snapshot's branch back to its commit (HEAD attached to that
/// branch, never detached, unless the snapshot itself was taken detached), resets index and
/// tracked files (only files that differ are written; tracked files the snapshot lacks are
/// removed; untracked files are left alone), restores copied files and deletes those that did
/// not exist. Then verifies all of it and returns the [`Verification`].
///
/// `Err` means the restore could not run to the end; `Ok` with mismatches means it ran but the
/// result is not the snapshot. Running it again is safe.
pub fn restore(repo_dir: &Path, id: &SnapshotId, store_dir: &Path) -> Result<Verification> {
    let _span = tracing::info_span!("restore", repo = %repo_dir.display(), %id).entered();
    let repo = Repo::open(repo_dir)?;
    let (record, commit, tree) = load(&repo, id, store_dir)?;
    let reset = worktree::reset_to_tree(&repo, tree)?;
    worktree::move_head(
        &repo,
        commit,
        record.branch.as_deref(),
        &format!("lockstep: restore {id}"),
    )?;

    let mut mismatches = Vec::new();
    let mut copies_restored = 0;
    let dir = store_dir.join(id.as_str());
    for file in &record.files {
        let target = repo_dir.join(&file.path);
        match &file.content {
            Some(digest) => {
                let stored = dir.join(FILES_DIR).join(&file.path);
                match fsx::read_content(&stored)? {
                    Some(copy) if copy.sha256 == digest.sha256 => {
                        fsx::write_atomic(&target, &copy.bytes, digest.executable)?;
                        copies_restored += 1;
                    }
                    other => mismatches.push(Mismatch::StoredCopy {
                        path: file.path.clone(),
                        expected: digest.sha256.clone(),
                        actual: other.map(|c| c.sha256),
                    }),
                }
            }
            None => {
                if fsx::remove_file_durably(&target)? {
                    copies_restored += 1;
                }
            }
        }
    }

    mismatches.extend(worktree::verify_tree(
        &repo,
        commit,
        record.branch.as_deref(),
        &reset.index,
    )?);
    mismatches.extend(verify_copies(repo_dir, &record)?);
    let verification = Verification {
        commit: record.commit.clone(),
        branch: record.branch.clone(),
        files_written: reset.written,
        files_removed: reset.removed,
        copies_restored,
        mismatches,
    };
    if verification.is_verified() {
        tracing::info!(
            written = reset.written,
            removed = reset.removed,
            copies_restored,
            "restore verified"
        );
    } else {
        tracing::warn!(
            mismatches = verification.mismatches.len(),
            "restore not verified"
        );
    }
    Ok(verification)
}

/// Checks, without changing anything, whether the repository at `repo_dir` equals snapshot
/// `id`: HEAD and branch, index, every tracked file, and the copied files' hashes.
pub fn verify(repo_dir: &Path, id: &SnapshotId, store_dir: &Path) -> Result<Verification> {
    let _span = tracing::info_span!("verify_snapshot", repo = %repo_dir.display(), %id).entered();
    let repo = Repo::open(repo_dir)?;
    let (record, commit, tree) = load(&repo, id, store_dir)?;
    let expected = repo.index_from_tree(tree)?;
    let mut mismatches = worktree::verify_tree(&repo, commit, record.branch.as_deref(), &expected)?;
    mismatches.extend(verify_copies(repo_dir, &record)?);
    Ok(Verification {
        commit: record.commit,
        branch: record.branch,
        files_written: 0,
        files_removed: 0,
        copies_restored: 0,
        mismatches,
    })
}

/// Reads the record and checks it against the ref; returns the record, commit and tree.
fn load(
    repo: &Repo,
    id: &SnapshotId,
    store_dir: &Path,
) -> Result<(Snapshot, gix::ObjectId, gix::ObjectId)> {
    let record = read(store_dir, id).map_err(|e| match e {
        Error::SnapshotNotFound { id, .. } => Error::SnapshotNotFound {
            repo: repo.root.clone(),
            id,
        },
        other => other,
    })?;
    let ref_commit = repo
        .repo
        .try_find_reference(id.ref_name().as_str())
        .map_err(repo.git_err("read ref"))?
        .ok_or_else(|| Error::SnapshotNotFound {
            repo: repo.root.clone(),
            id: id.to_string(),
        })?
        .peel_to_id()
        .map_err(repo.git_err("read ref"))?
        .detach();
    let record_path = store_dir.join(id.as_str()).join(RECORD_FILE);
    if ObjectId::from_gix(ref_commit) != record.commit {
        return Err(Error::InvalidRecord {
            path: record_path,
            source: Cause::msg(format!(
                "the record names commit {} but {} points at {}",
                record.commit,
                id.ref_name(),
                ref_commit
            )),
        });
    }
    let tree = repo.tree_of(ref_commit)?;
    if ObjectId::from_gix(tree) != record.tree {
        return Err(Error::InvalidRecord {
            path: record_path,
            source: Cause::msg(format!(
                "the record names tree {} but the commit has {tree}",
                record.tree
            )),
        });
    }
    Ok((record, ref_commit, tree))
}

fn verify_copies(repo_dir: &Path, record: &Snapshot) -> Result<Vec<Mismatch>> {
    let mut mismatches = Vec::new();
    for file in &record.files {
        let actual = fsx::read_content(&repo_dir.join(&file.path))?.map(|c| c.sha256);
        let expected = file.content.as_ref().map(|d| d.sha256.clone());
        if actual != expected {
            mismatches.push(Mismatch::CopiedFile {
                path: file.path.clone(),
                expected,
                actual,
            });
        }
    }
    Ok(mismatches)
}

/// Reads the record of snapshot `id` from `store_dir`.
pub fn read(store_dir: &Path, id: &SnapshotId) -> Result<Snapshot> {
    let path = store_dir.join(id.as_str()).join(RECORD_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::SnapshotNotFound {
                repo: store_dir.to_owned(),
                id: id.to_string(),
            });
        }
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let record: Snapshot = serde_json::from_slice(&bytes).map_err(|e| Error::InvalidRecord {
        path: path.clone(),
        source: Cause::new(e),
    })?;
    if record.format != RECORD_FORMAT {
        return Err(Error::InvalidRecord {
            path,
            source: Cause::msg(format!(
                "record format {} is not supported (expected {RECORD_FORMAT})",
                record.format
            )),
        });
    }
    if &record.id != id {
        return Err(Error::InvalidRecord {
            path,
            source: Cause::msg(format!("the record is for snapshot {}", record.id)),
        });
    }
    Ok(record)
}

/// Every readable record in `store_dir`, in no particular order.
fn list_records(store_dir: &Path) -> Result<Vec<Snapshot>> {
    let entries = match std::fs::read_dir(store_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", store_dir, e)),
    };
    let mut records = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", store_dir, e))?;
        let Some(id) = entry
            .file_name()
            .to_str()
            .and_then(|name| SnapshotId::new(name).ok())
        else {
            continue;
        };
        match read(store_dir, &id) {
            Ok(record) => records.push(record),
            Err(e) if e.kind() == crate::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(records)
}

/// The ids of every `refs/lockstep/snapshots/*` ref.
fn snapshot_refs(repo: &Repo) -> Result<Vec<SnapshotId>> {
    let platform = repo.repo.references().map_err(repo.git_err("list refs"))?;
    let mut ids = Vec::new();
    for reference in platform
        .prefixed(REF_PREFIX)
        .map_err(repo.git_err("list refs"))?
    {
        let reference = reference.map_err(|e| Error::Git {
            repo: repo.root.clone(),
            op: "list refs",
            source: Cause::msg(e.to_string()),
        })?;
        let name = reference.name().as_bstr().to_string();
        if let Some(id) = name
            .strip_prefix(REF_PREFIX)
            .and_then(|s| SnapshotId::new(s).ok())
        {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The complete snapshots of `repo_dir` (a ref and a record in `store_dir`), oldest first.
pub fn list(repo_dir: &Path, store_dir: &Path) -> Result<Vec<Snapshot>> {
    let _span = tracing::debug_span!("list_snapshots", repo = %repo_dir.display()).entered();
    let repo = Repo::open(repo_dir)?;
    let refs = snapshot_refs(&repo)?;
    let mut records: Vec<Snapshot> = list_records(store_dir)?
        .into_iter()
        .filter(|r| refs.contains(&r.id))
        .collect();
    records.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.id.cmp(&b.id)));
    Ok(records)
}

/// Deletes snapshot `id`: its ref and its stored copies.
pub fn delete(repo_dir: &Path, id: &SnapshotId, store_dir: &Path) -> Result<()> {
    let _span = tracing::info_span!("delete_snapshot", repo = %repo_dir.display(), %id).entered();
    let repo = Repo::open(repo_dir)?;
    let had_ref = delete_ref(&repo, &id.ref_name())?;
    let had_dir = remove_store_dir(store_dir, id)?;
    if !had_ref && !had_dir {
        return Err(Error::SnapshotNotFound {
            repo: repo_dir.to_owned(),
            id: id.to_string(),
        });
    }
    Ok(())
}

/// Keeps the newest `keep` snapshots and deletes the rest (refs and stored copies), along with
/// leftovers of interrupted snapshots (a ref without a record, or a record without a ref).
/// Returns the ids deleted, oldest first.
pub fn prune(repo_dir: &Path, store_dir: &Path, keep: usize) -> Result<Vec<SnapshotId>> {
    let _span = tracing::info_span!("prune_snapshots", repo = %repo_dir.display(), keep).entered();
    let repo = Repo::open(repo_dir)?;
    let refs = snapshot_refs(&repo)?;
    let mut records = list_records(store_dir)?;
    records.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.id.cmp(&b.id)));

    let (complete, orphan_records): (Vec<_>, Vec<_>) =
        records.into_iter().partition(|r| refs.contains(&r.id));
    let mut doomed: Vec<SnapshotId> = refs
        .iter()
        .filter(|id| !complete.iter().any(|r| &r.id == *id))
        .cloned()
        .collect();
    doomed.extend(orphan_records.into_iter().map(|r| r.id));
    let excess = complete.len().saturating_sub(keep);
    doomed.extend(complete.into_iter().take(excess).map(|r| r.id));

    for id in &doomed {
        delete_ref(&repo, &id.ref_name())?;
        remove_store_dir(store_dir, id)?;
    }
    tracing::info!(pruned = doomed.len(), "snapshots pruned");
    Ok(doomed)
}

fn remove_store_dir(store_dir: &Path, id: &SnapshotId) -> Result<bool> {
    let dir = store_dir.join(id.as_str());
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {
            fsx::sync_dir(store_dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", &dir, e)),
    }
}

/// Deletes the ref `name` if it exists; returns whether it did.
pub(crate) fn delete_ref(repo: &Repo, name: &str) -> Result<bool> {
    match repo
        .repo
        .try_find_reference(name)
        .map_err(repo.git_err("read ref"))?
    {
        Some(reference) => {
            reference.delete().map_err(repo.git_err("delete ref"))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// `path` relative to the work tree's root with `/` separators; rejects paths that leave it.
pub(crate) fn relative_path(repo_dir: &Path, path: &Path) -> Result<String> {
    let invalid = || Error::InvalidPath {
        repo: repo_dir.to_owned(),
        path: path.to_owned(),
    };
    let rel: PathBuf = if path.is_absolute() {
        path.strip_prefix(repo_dir)
            .map_err(|_| invalid())?
            .to_owned()
    } else {
        path.to_owned()
    };
    let mut parts = Vec::new();
    for component in rel.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(invalid)?),
            Component::CurDir => {}
            _ => return Err(invalid()),
        }
    }
    if parts.is_empty() || parts[0] == ".git" {
        return Err(invalid());
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let root = Path::new("/r");
        let check = |input: &str, expected: Option<&str>| {
            assert_eq!(
                relative_path(root, Path::new(input)).ok().as_deref(),
                expected,
                "{input}"
            );
        };
        check("Cargo.lock", Some("Cargo.lock"));
        check("./a/b.lock", Some("a/b.lock"));
        check("/r/a/b", Some("a/b"));
        check("/elsewhere/a", None);
        check("../a", None);
        check("a/../../b", None);
        check(".git/config", None);
        check("", None);
        check(".", None);
    }

    #[test]
    fn record_round_trips_through_json() {
        let record = Snapshot {
            format: RECORD_FORMAT,
            id: SnapshotId::new("pre-upgrade-20260219-183000").expect("valid id"),
            seq: 3,
            commit: ObjectId("a".repeat(40)),
            tree: ObjectId("b".repeat(40)),
            branch: Some("main".into()),
            untracked: vec!["notes.txt".into()],
            files: vec![
                CopiedFile {
                    path: "Cargo.lock".into(),
                    content: Some(FileDigest {
                        sha256: "c".repeat(64),
                        size: 10,
                        executable: false,
                    }),
                },
                CopiedFile {
                    path: "package-lock.json".into(),
                    content: None,
                },
            ],
        };
        let json = serde_json::to_string(&record).expect("serialize");
        assert_eq!(
            serde_json::from_str::<Snapshot>(&json).expect("parse"),
            record
        );
        assert!(
            json.contains(r#""id":"pre-upgrade-20260219-183000""#),
            "{json}"
        );
    }
}
