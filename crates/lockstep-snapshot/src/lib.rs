//! Snapshot and verified restore of a git work tree plus named files; the only lockstep crate
//! that touches git.
//!
//! A snapshot is a ref, `refs/lockstep/snapshots/<id>`, at HEAD, plus a record (JSON) and copies
//! of named files git does not hold (an ignored lockfile, say) in a store directory. A restore
//! puts the branch, the index, the tracked files and the copied files back, then checks all of
//! them and returns a typed [`Verification`] that lists every difference it found.
//!
//! It does:
//! - [`snapshot`]: refuse a work tree with tracked changes (listing them), report untracked
//!   files, record HEAD, branch and tree, copy named files with their sha256, create the ref;
//! - [`restore`] and [`verify`]: move the branch back (HEAD stays attached), reset index and
//!   tracked files, writing only files that differ, restore copied files, verify;
//! - [`list`], [`read`], [`delete`], [`prune`] (keep the newest [`DEFAULT_KEEP`]);
//! - the git operations the upgrade and cascade workflows need: [`status`], [`is_clean`],
//!   [`head`], [`commit`], [`create_tag`], [`delete_tag`], [`list_tags`], [`list_tag_names`], [`tag_exists`],
//!   [`resolve_tag`], [`describe`], [`checkout_tag`], [`log_since`] (the commits since a tag),
//!   [`read_file_at`] and [`CommitTree`] (files as a commit holds them), [`hooks_dir`],
//!   and [`ensure_excluded`] to keep `.lockstep/` out of git.
//!
//! It deliberately does not: fetch, push or talk to remotes; merge or rebase; spawn `git` (all
//! of it is [gix](https://docs.rs/gix)); restore untracked files (they are reported, and a
//! restore leaves them alone); take any lock (the engine serialises mutating commands).
//!
//! Every file this crate writes itself (records, copies, restored copies, `info/exclude`) goes
//! temp file → fsync → rename → fsync of the directory. Refs and the index are written the way
//! git writes them (lock file, rename), without fsync.
//!
//! # Limitations
//!
//! - Submodules are not snapshotted: a gitlink is compared by commit id, and a restore does not
//!   touch the submodule's own work tree.
//! - [`commit`] stores file bytes as they are on disk: clean filters and end-of-line conversion
//!   are not applied. Checkout (restore) does apply smudge filters and conversion.
//! - Verification of tracked files is stat-based, as `git status` is: a file whose size and
//!   times match the index is taken as unchanged; files the restore wrote, and racily clean
//!   ones, are compared by content.
//! - [`describe`] abbreviates to 7 hex digits, where git may use more to stay unique.
//! - SHA-1 repositories only.
//!
//! ## Examples
//!
//! ```
//! use lockstep_snapshot::{restore, snapshot, SnapshotId};
//! use lockstep_testkit::git::GitRepo;
//!
//! let repo = GitRepo::new();
//! repo.write("src/lib.rs", "pub fn v() -> u32 { 1 }\n").ignore("Cargo.lock");
//! repo.commit_all("feat: v1");
//! repo.write("Cargo.lock", "# lock v1\n");
//! let store = repo.path().join(".lockstep/snapshots");
//! lockstep_snapshot::ensure_excluded(repo.path(), ".lockstep/")?;
//!
//! let id = SnapshotId::timestamped("pre-upgrade", 1_771_525_800)?;
//! let taken = snapshot(repo.path(), &id, &["Cargo.lock"], &store)?;
//! assert_eq!(taken.branch.as_deref(), Some("main"));
//!
//! // An upgrade that goes wrong: a source change, a commit on top, a new lockfile.
//! repo.write("src/lib.rs", "pub fn v() -> u32 { 2 }\n");
//! repo.commit_all("feat: v2");
//! repo.write("Cargo.lock", "# lock v2\n");
//!
//! let verification = restore(repo.path(), &id, &store)?;
//! assert!(verification.is_verified(), "{:?}", verification.mismatches);
//! assert_eq!(repo.read("src/lib.rs"), "pub fn v() -> u32 { 1 }\n");
//! assert_eq!(repo.read("Cargo.lock"), "# lock v1\n");
//! assert_eq!(repo.current_branch().as_deref(), Some("main"));
//! assert_eq!(repo.status_porcelain(), "");
//! # Ok::<(), lockstep_snapshot::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod fetch;
mod fsx;
mod id;
mod log;
mod ops;
mod remote;
mod repo;
mod show;
mod snapshot;
mod verify;
mod worktree;

pub use error::{Cause, Error, ErrorKind, Result};
pub use fetch::clone_at;
pub use id::{ObjectId, SnapshotId};
pub use log::{CommitInfo, log_since, log_since_touching};
pub use ops::{
    Describe, Identity, Tag, checkout_tag, commit, create_tag, delete_tag, describe,
    list_tag_names, list_tags, resolve_tag, tag_exists,
};
pub use remote::{
    PushFailure, clear_ref_lock, commit_as_configured, create_tag_as_configured, fallback_identity,
    push,
};
pub use repo::{
    ChangeArea, ChangeKind, Head, Status, TrackedChange, ensure_excluded, head, is_clean, status,
};
pub use show::{CommitTree, hooks_dir, read_file_at};
pub use snapshot::verify;
pub use snapshot::{
    CopiedFile, DEFAULT_KEEP, FileDigest, RECORD_FORMAT, REF_PREFIX, Snapshot, delete, list, prune,
    read, restore, snapshot,
};
pub use verify::{Mismatch, Verification};
