//! Reading files as they are in a commit, not in the work tree: what `git show REV:PATH` and
//! `git ls-tree REV DIR` print. The tag check reads a package's version at a tagged commit.

use std::path::{Component, Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::error::{Cause, Error, Result};
use crate::id::ObjectId;
use crate::repo::Repo;

/// The tree of one commit, opened once to read many files from it.
///
/// ```
/// use lockstep_snapshot::CommitTree;
/// use lockstep_testkit::git::GitRepo;
///
/// let repo = GitRepo::new();
/// repo.write("crates/a/Cargo.toml", "[package]\nname = \"a\"\n");
/// repo.commit_all("feat: a");
/// repo.annotated_tag("v0.1.0", "release");
/// repo.write("crates/a/Cargo.toml", "changed\n");
/// repo.commit_all("feat: change");
///
/// let tree = CommitTree::open(repo.path(), "v0.1.0")?;
/// assert_eq!(tree.read("crates/a/Cargo.toml")?.as_deref(), Some(&b"[package]\nname = \"a\"\n"[..]));
/// assert_eq!(tree.list("crates")?, Some(vec!["a".to_owned()]));
/// assert_eq!(tree.read("missing.toml")?, None);
/// # Ok::<(), lockstep_snapshot::Error>(())
/// ```
pub struct CommitTree {
    repo: Repo,
    commit: gix::ObjectId,
    tree: gix::ObjectId,
}

impl std::fmt::Debug for CommitTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitTree")
            .field("repo", &self.repo.root)
            .field("commit", &self.commit)
            .finish()
    }
}

impl CommitTree {
    /// Opens the tree of the commit `rev` names in the work tree at `repo_dir`.
    ///
    /// `rev` is a tag name first (`v1.2.0` means `refs/tags/v1.2.0`, annotated tags peeled to
    /// their commit), else any revision git understands (a full or abbreviated commit id,
    /// `HEAD`, a branch). A revision that names nothing is [`Error::TagNotFound`] with `rev` as
    /// its name; one that names no commit (a tag of a blob, say) is [`Error::Git`].
    pub fn open(repo_dir: &Path, rev: &str) -> Result<Self> {
        let _span =
            tracing::debug_span!("open_commit_tree", repo = %repo_dir.display(), rev).entered();
        let repo = Repo::open(repo_dir)?;
        let commit = resolve(&repo, rev)?;
        let tree = repo.tree_of(commit)?;
        Ok(CommitTree { repo, commit, tree })
    }

    /// The commit whose tree this is.
    pub fn commit(&self) -> ObjectId {
        ObjectId::from_gix(self.commit)
    }

    /// The bytes of the file at `path` (relative, `/`-separated) in this commit; `None` when
    /// there is no such file (nothing at that path, or a directory). A symbolic link gives
    /// its target, as git stores it. A path that is absolute or leaves the tree (`..`) is
    /// [`Error::InvalidPath`].
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(entry) = self.entry(path)? else {
            return Ok(None);
        };
        if !entry.mode().is_blob_or_symlink() {
            return Ok(None);
        }
        let blob = entry
            .object()
            .map_err(self.repo.git_err("read blob"))?
            .try_into_blob()
            .map_err(self.repo.git_err("read blob"))?;
        Ok(Some(blob.data.clone()))
    }

    /// The names of the entries (files and directories) of directory `dir` in this commit,
    /// sorted; `""` or `"."` is the root. `None` when `dir` is not a directory there.
    pub fn list(&self, dir: &str) -> Result<Option<Vec<String>>> {
        let tree_id = if clean(dir).is_empty() {
            self.tree
        } else {
            match self.entry(dir)? {
                Some(entry) if entry.mode().is_tree() => entry.object_id(),
                _ => return Ok(None),
            }
        };
        let tree = self
            .repo
            .repo
            .find_tree(tree_id)
            .map_err(self.repo.git_err("read tree"))?;
        let decoded = tree.decode().map_err(self.repo.git_err("read tree"))?;
        let mut names: Vec<String> = decoded
            .entries
            .iter()
            .map(|e| e.filename.to_str_lossy().into_owned())
            .collect();
        names.sort();
        Ok(Some(names))
    }

    fn entry(&self, path: &str) -> Result<Option<gix::object::tree::Entry<'_>>> {
        let rel = checked(&self.repo.root, path)?;
        let tree = self
            .repo
            .repo
            .find_tree(self.tree)
            .map_err(self.repo.git_err("read tree"))?;
        tree.lookup_entry_by_path(&rel)
            .map_err(self.repo.git_err("read tree"))
    }
}

/// The bytes of the file at `path` in the commit `rev` names (a tag, annotated ones peeled,
/// or a commit): `git show REV:PATH`. `None` when the commit has no file there. See
/// [`CommitTree::open`] for how `rev` is resolved and [`CommitTree::read`] for `path`; open a
/// [`CommitTree`] to read several files of one commit.
///
/// ```
/// use lockstep_snapshot::read_file_at;
/// use lockstep_testkit::git::GitRepo;
///
/// let repo = GitRepo::new();
/// repo.write("Cargo.toml", "version = \"1.0.0\"\n");
/// let first = repo.commit_all("feat: one");
/// repo.write("Cargo.toml", "version = \"2.0.0\"\n");
/// repo.commit_all("feat: two");
/// let old = read_file_at(repo.path(), &first, "Cargo.toml")?;
/// assert_eq!(old.as_deref(), Some(&b"version = \"1.0.0\"\n"[..]));
/// # Ok::<(), lockstep_snapshot::Error>(())
/// ```
pub fn read_file_at(repo_dir: &Path, rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
    CommitTree::open(repo_dir, rev)?.read(path)
}

/// The directory git runs this repository's hooks from: `core.hooksPath` when it is set
/// (relative to the work tree's root, as git reads it), else `hooks` in the common git
/// directory (shared by linked work trees). The directory may not exist yet.
pub fn hooks_dir(repo_dir: &Path) -> Result<PathBuf> {
    let repo = Repo::open(repo_dir)?;
    let configured = repo
        .repo
        .config_snapshot()
        .trusted_path("core.hooksPath")
        .map_err(repo.git_err("read core.hooksPath"))?;
    Ok(match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repo.workdir().join(path),
        None => repo.repo.common_dir().join("hooks"),
    })
}

/// The commit `rev` names: a tag first, then any revision.
fn resolve(repo: &Repo, rev: &str) -> Result<gix::ObjectId> {
    let not_found = || Error::TagNotFound {
        repo: repo.root.clone(),
        name: rev.to_owned(),
    };
    // A name git would not accept as a tag (`HEAD~1`) is looked up as a revision only.
    let from_tag = match gix::refs::FullName::try_from(format!("refs/tags/{rev}")) {
        Ok(name) => repo
            .repo
            .try_find_reference(name.as_ref())
            .map_err(repo.git_err("read ref"))?,
        Err(_) => None,
    };
    let object = match from_tag {
        Some(mut reference) => reference
            .peel_to_id()
            .map_err(repo.git_err("resolve tag"))?
            .object()
            .map_err(repo.git_err("resolve tag"))?,
        None => repo
            .repo
            .rev_parse_single(rev.as_bytes().as_bstr())
            .map_err(|_| not_found())?
            .object()
            .map_err(repo.git_err("resolve revision"))?,
    };
    let commit = object.peel_to_commit().map_err(|e| Error::Git {
        repo: repo.root.clone(),
        op: "resolve revision",
        source: Cause::msg(format!("{rev} does not name a commit: {e}")),
    })?;
    Ok(commit.id)
}

/// `path` as a relative path inside the tree, or [`Error::InvalidPath`].
fn checked(root: &Path, path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => {
                return Err(Error::InvalidPath {
                    repo: root.to_owned(),
                    path: p.to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// `dir` without `.` components and separators at either end.
fn clean(dir: &str) -> String {
    dir.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}
