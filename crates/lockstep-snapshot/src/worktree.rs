//! The hard reset of index and work tree to a tree, touching only what differs, and the check
//! that HEAD, index and work tree equal what they should.
//!
//! gix has no `reset --hard`. This one: unpacks the target tree into a new index, compares the
//! current index and work tree with it (one threaded stat pass, as `git status` does), deletes
//! files the target lacks, checks out only the entries that differ (with overwrite), carries the
//! stat of every untouched entry over into the new index and writes it.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix::bstr::{BStr, ByteSlice};

use crate::error::{Error, Result};
use crate::id::ObjectId;
use crate::repo::Repo;
use crate::verify::Mismatch;

/// What a reset did.
pub(crate) struct Reset {
    /// The index now on disk, equal to the target tree.
    pub index: gix::index::File,
    /// Files written.
    pub written: usize,
    /// Files removed.
    pub removed: usize,
}

/// Makes the index and tracked files of `repo` equal `tree`. Untracked files are left alone,
/// except where a file of `tree` must take their place. HEAD is not touched.
pub(crate) fn reset_to_tree(repo: &Repo, tree: gix::ObjectId) -> Result<Reset> {
    let _span = tracing::info_span!("reset_worktree", repo = %repo.root.display(), %tree).entered();
    let current = repo.index()?;
    let (target, scan) = std::thread::scope(|scope| {
        // Unpack the target tree on a second thread while this one checks the work tree.
        let sync_repo = repo.repo.clone().into_sync();
        let target = scope.spawn(move || sync_repo.to_thread_local().index_from_tree(&tree));
        let scan = repo.scan_worktree(&current, false);
        let target = target
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (target, scan)
    });
    let mut target = target.map_err(repo.git_err("read tree"))?;
    let scan = scan?;

    let changed: HashSet<&BStr> = scan.changed.iter().map(|(p, _)| p.as_bstr()).collect();
    let refreshed: HashMap<usize, gix::index::entry::Stat> =
        scan.refreshed.iter().copied().collect();

    // Entries that are already right on disk keep their (refreshed) stat; the rest are written.
    let mut to_write = Vec::new();
    let mut stats = Vec::with_capacity(target.entries().len());
    for (t_idx, entry) in target.entries().iter().enumerate() {
        let path = entry.path(&target);
        let unchanged = current
            .entry_index_by_path_and_stage(path, gix::index::entry::Stage::Unconflicted)
            .map(|c_idx| (c_idx, &current.entries()[c_idx]))
            .filter(|(_, c)| {
                c.id == entry.id
                    && c.mode == entry.mode
                    && !c.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD)
                    && !changed.contains(path)
            });
        match unchanged {
            Some((c_idx, c)) => {
                stats.push((t_idx, refreshed.get(&c_idx).copied().unwrap_or(c.stat)))
            }
            None => to_write.push(t_idx),
        }
    }
    for (t_idx, stat) in stats {
        target.entries_mut()[t_idx].stat = stat;
    }

    let removed = remove_missing(repo, &current, &target)?;
    let written = if to_write.is_empty() {
        0
    } else {
        checkout_entries(repo, &mut target, &to_write)?
    };

    {
        let _span = tracing::debug_span!("write_index", entries = target.entries().len()).entered();
        target
            .write(gix::index::write::Options::default())
            .map_err(repo.git_err("write index"))?;
    }
    tracing::debug!(written, removed, "work tree reset");
    Ok(Reset {
        index: target,
        written,
        removed,
    })
}

/// Deletes the files of tracked entries that `target` lacks, and directories left empty.
fn remove_missing(
    repo: &Repo,
    current: &gix::index::State,
    target: &gix::index::State,
) -> Result<usize> {
    let workdir = repo.workdir();
    let mut removed = 0;
    let mut last: Option<&BStr> = None;
    for entry in current.entries() {
        let path = entry.path(current);
        if last == Some(path) || target.entry_index_by_path(path).is_ok() {
            continue;
        }
        last = Some(path);
        if entry.mode.is_submodule() {
            continue;
        }
        let full = repo.worktree_path(path)?;
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if !meta.is_dir() => {
                std::fs::remove_file(&full).map_err(|e| Error::io("remove", &full, e))?;
                removed += 1;
                remove_empty_parents(workdir, &full);
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("stat", &full, e)),
        }
    }
    Ok(removed)
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Checks out the entries of `target` at positions `to_write` (sorted), overwriting what is
/// there, and stores their new stat in `target`.
fn checkout_entries(
    repo: &Repo,
    target: &mut gix::index::File,
    to_write: &[usize],
) -> Result<usize> {
    let _span = tracing::debug_span!("checkout", entries = to_write.len()).entered();
    // The checkout reads `.gitattributes` from the index it is given, so those always go along.
    let mut positions: Vec<usize> = to_write.to_vec();
    positions.extend(
        target
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.path(target).rsplit_str("/").next() == Some(b".gitattributes".as_slice())
            })
            .map(|(i, _)| i),
    );
    positions.sort_unstable();
    positions.dedup();

    let mut partial = gix::index::State::new(repo.repo.object_hash());
    for &i in &positions {
        let e = &target.entries()[i];
        partial.dangerously_push_entry(e.stat, e.id, e.flags, e.mode, e.path(target));
    }
    let mut options = repo
        .repo
        .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
        .map_err(repo.git_err("checkout"))?;
    options.overwrite_existing = true;
    options.destination_is_initially_empty = false;
    options.keep_going = true;
    let objects = repo
        .repo
        .objects
        .clone()
        .into_arc()
        .map_err(repo.git_err("checkout"))?;
    let outcome = gix::worktree::state::checkout(
        &mut partial,
        repo.workdir().to_owned(),
        objects,
        &gix::progress::Discard,
        &gix::progress::Discard,
        &AtomicBool::new(false),
        options,
    )
    .map_err(repo.git_err("checkout"))?;

    let mut failed: Vec<String> = outcome
        .errors
        .iter()
        .map(|e| e.path.to_str_lossy().into_owned())
        .chain(
            outcome
                .collisions
                .iter()
                .map(|c| c.path.to_str_lossy().into_owned()),
        )
        .collect();
    if !failed.is_empty() {
        failed.sort();
        failed.dedup();
        return Err(Error::Checkout {
            repo: repo.root.clone(),
            paths: failed,
        });
    }
    for (p_idx, &t_idx) in positions.iter().enumerate() {
        target.entries_mut()[t_idx].stat = partial.entries()[p_idx].stat;
    }
    Ok(outcome.files_updated)
}

/// Points HEAD at `commit`: on `branch` (moved there, and HEAD attached to it) or detached.
pub(crate) fn move_head(
    repo: &Repo,
    commit: gix::ObjectId,
    branch: Option<&str>,
    message: &str,
) -> Result<()> {
    use gix::refs::Target;
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
    let _span =
        tracing::info_span!("move_head", repo = %repo.root.display(), %commit, branch = branch.unwrap_or("(detached)"))
            .entered();
    let log = LogChange {
        mode: RefLog::AndReference,
        force_create_reflog: false,
        message: message.into(),
    };
    let mut edits = Vec::new();
    match branch {
        Some(branch) => {
            let name: gix::refs::FullName = format!("refs/heads/{branch}")
                .try_into()
                .map_err(repo.git_err("update ref"))?;
            edits.push(RefEdit {
                change: Change::Update {
                    log: log.clone(),
                    expected: PreviousValue::Any,
                    new: Target::Object(commit),
                },
                name: name.clone(),
                deref: false,
            });
            let head = repo.head()?;
            if head.branch.as_deref() != Some(branch) {
                edits.push(RefEdit {
                    change: Change::Update {
                        log,
                        expected: PreviousValue::Any,
                        new: Target::Symbolic(name),
                    },
                    name: "HEAD".try_into().map_err(repo.git_err("update ref"))?,
                    deref: false,
                });
            }
        }
        None => edits.push(RefEdit {
            change: Change::Update {
                log,
                expected: PreviousValue::Any,
                new: Target::Object(commit),
            },
            name: "HEAD".try_into().map_err(repo.git_err("update ref"))?,
            deref: false,
        }),
    }
    repo.repo
        .edit_references(edits)
        .map_err(repo.git_err("update ref"))?;
    Ok(())
}

/// Compares HEAD, the index on disk and the work tree with `commit`, `branch` and `expected`
/// (the index of `commit`'s tree), and lists every difference.
pub(crate) fn verify_tree(
    repo: &Repo,
    commit: gix::ObjectId,
    branch: Option<&str>,
    expected: &gix::index::State,
) -> Result<Vec<Mismatch>> {
    let _span = tracing::info_span!("verify", repo = %repo.root.display(), %commit).entered();
    let mut mismatches = Vec::new();
    let head = repo.head()?;
    let expected_commit = ObjectId::from_gix(commit);
    if head.commit.as_ref() != Some(&expected_commit) {
        mismatches.push(Mismatch::Head {
            expected: expected_commit,
            actual: head.commit,
        });
    }
    if head.branch.as_deref() != branch {
        mismatches.push(Mismatch::Branch {
            expected: branch.map(str::to_owned),
            actual: head.branch,
        });
    }
    // Read the index from disk, not from gix's cache: this checks what was written.
    let index = gix::index::File::at(
        repo.repo.index_path(),
        repo.repo.object_hash(),
        false,
        Default::default(),
    )
    .map_err(repo.git_err("read index"))?;
    for (path, _) in crate::repo::index_differences(&index, expected) {
        mismatches.push(Mismatch::Index {
            path: path.to_str_lossy().into_owned(),
        });
    }
    for (path, _) in repo.scan_worktree(&index, false)?.changed {
        mismatches.push(Mismatch::WorkTree {
            path: path.to_str_lossy().into_owned(),
        });
    }
    Ok(mismatches)
}
