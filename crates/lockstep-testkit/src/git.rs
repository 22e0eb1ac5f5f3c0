//! Real git repositories in temp dirs with pinned author, dates and config.
//!
//! Every fixture is built with the `git` command line, so what a test sees is what a user's
//! repository looks like. The environment of every `git` run is pinned:
//!
//! - `GIT_CONFIG_NOSYSTEM=1` and `GIT_CONFIG_GLOBAL=/dev/null`: no machine or user config leaks in;
//! - author and committer are [`AUTHOR_NAME`] / [`AUTHOR_EMAIL`], also written to the
//!   repository's own config so that libraries reading `user.name` find them;
//! - `GIT_AUTHOR_DATE` and `GIT_COMMITTER_DATE` start at [`EPOCH`] and advance by one minute per
//!   commit or tag, so object ids are the same on every run and tags sort by time;
//! - the default branch is `main`;
//! - `GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE` and friends inherited from a hook are removed.
//!
//! Helpers panic with the command and its stderr when git fails: they are for tests.
//!
//! ```
//! use lockstep_testkit::git::{GitRepo, tree_hash};
//!
//! let repo = GitRepo::new();
//! repo.write("src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
//! let first = repo.commit_all("feat: first");
//! repo.annotated_tag("v1.0.0", "release 1.0.0");
//! assert_eq!(repo.git(&["describe", "--tags"]), "v1.0.0");
//! assert_eq!(repo.head(), first);
//!
//! let before = tree_hash(repo.path());
//! repo.write("src/lib.rs", "changed\n");
//! assert_ne!(tree_hash(repo.path()), before);
//! ```

use std::cell::Cell;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The author and committer name of every fixture commit.
pub const AUTHOR_NAME: &str = "Lockstep Test";
/// The author and committer email of every fixture commit.
pub const AUTHOR_EMAIL: &str = "test@lockstep.invalid";
/// The date of the first fixture commit, in seconds since the Unix epoch (2026-01-01T00:00:00Z).
pub const EPOCH: i64 = 1_767_225_600;

/// Environment variables inherited from a git hook that would redirect git to another repository.
const REDIRECTING_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
];

/// A `git` command run in `dir` with the pinned environment, dated `seconds` after [`EPOCH`].
///
/// Use it for anything the builder does not offer; [`GitRepo::git`] is the short form.
pub fn git_command(dir: &Path, seconds: i64) -> Command {
    let date = format!("{} +0000", EPOCH + seconds);
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    for var in REDIRECTING_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
        .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
        .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
        .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("LC_ALL", "C");
    cmd
}

/// Runs `git args` in `dir` with the pinned environment and returns its trimmed stdout.
///
/// # Panics
///
/// When git cannot be started or exits unsuccessfully; the message holds the arguments and stderr.
pub fn run_git<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> String {
    let out = try_git(dir, args);
    assert!(
        out.status.success(),
        "git {:?} failed in {}: {}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

/// Runs `git args` in `dir` with the pinned environment and returns the raw output, whatever
/// the exit status (for tests that expect git to fail).
///
/// # Panics
///
/// When git cannot be started.
pub fn try_git<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Output {
    git_command(dir, 0)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git in {}: {e}", dir.display()))
}

/// A real git repository (work tree, or bare) in a temp dir that is removed on drop.
///
/// Methods take `&self` and return what a test wants to assert on, so fixtures read as a script.
#[derive(Debug)]
pub struct GitRepo {
    _dir: Option<TempDir>,
    path: PathBuf,
    clock: Cell<i64>,
}

impl GitRepo {
    /// Creates an empty repository on branch `main` in a new temp dir.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir can be created for a fixture");
        let path = dir.path().join("repo");
        let repo = Self::init_at(&path);
        Self {
            _dir: Some(dir),
            ..repo
        }
    }

    /// Creates an empty repository on branch `main` at `path` (created if missing, kept on drop).
    pub fn init_at(path: &Path) -> Self {
        fs::create_dir_all(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        let repo = Self {
            _dir: None,
            path: path.to_owned(),
            clock: Cell::new(0),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.configure_identity();
        repo
    }

    /// Creates an empty bare repository (for a remote) in a new temp dir.
    pub fn bare() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir can be created for a fixture");
        let path = dir.path().join("remote.git");
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        let repo = Self {
            _dir: Some(dir),
            path,
            clock: Cell::new(0),
        };
        repo.git(&["init", "--quiet", "--bare", "--initial-branch=main"]);
        repo
    }

    /// Adds a new bare repository as remote `name` of this one and returns it.
    pub fn add_bare_remote(&self, name: &str) -> GitRepo {
        let remote = Self::bare();
        let url = remote.path.to_string_lossy().into_owned();
        self.git(&["remote", "add", name, &url]);
        remote
    }

    /// Clones `url` (a path or `file://` URL) into a new temp dir.
    pub fn clone_from(url: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir can be created for a fixture");
        let path = dir.path().join("clone");
        run_git(dir.path(), &["clone", "--quiet", url, "clone"]);
        let repo = Self {
            _dir: Some(dir),
            path,
            clock: Cell::new(0),
        };
        repo.configure_identity();
        repo
    }

    fn configure_identity(&self) {
        self.git(&["config", "user.name", AUTHOR_NAME]);
        self.git(&["config", "user.email", AUTHOR_EMAIL]);
    }

    /// The repository's root (the work tree, or the git dir of a bare repository).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `file://` URL of this repository, for remotes and Cargo git dependencies.
    pub fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// Runs `git args` here with the pinned environment, dated at the current fixture clock,
    /// and returns trimmed stdout.
    ///
    /// # Panics
    ///
    /// When git fails; the message holds the arguments and stderr.
    pub fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = self.try_git(args);
        assert!(
            out.status.success(),
            "git {:?} failed in {}: {}",
            args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
            self.path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Runs `git args` here and returns the raw output, whatever the exit status.
    pub fn try_git<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        git_command(&self.path, self.clock.get())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run git in {}: {e}", self.path.display()))
    }

    /// Advances the fixture clock by a minute: the next commit or tag gets a later date.
    fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }

    /// Writes `contents` to `rel` (parent directories created), replacing what was there.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Writes an executable file (mode 0755) at `rel`.
    pub fn write_executable(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        use std::os::unix::fs::PermissionsExt;
        self.write(rel, contents);
        let path = self.path.join(rel);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        self
    }

    /// Reads the file at `rel`.
    pub fn read(&self, rel: &str) -> String {
        let path = self.path.join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Removes the file at `rel` from the work tree (not from the index).
    pub fn remove(&self, rel: &str) -> &Self {
        let path = self.path.join(rel);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
        self
    }

    /// Appends `rel` to `.gitignore` and leaves it uncommitted.
    pub fn ignore(&self, pattern: &str) -> &Self {
        let path = self.path.join(".gitignore");
        let mut text = fs::read_to_string(&path).unwrap_or_default();
        text.push_str(pattern);
        text.push('\n');
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Stages the given paths (`git add`).
    pub fn add(&self, paths: &[&str]) -> &Self {
        let mut args = vec!["add", "--"];
        args.extend_from_slice(paths);
        self.git(&args);
        self
    }

    /// Stages everything (`git add -A`) and commits it; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(message)
    }

    /// Commits what is staged (empty commits allowed); returns the new commit id.
    pub fn commit_staged(&self, message: &str) -> String {
        self.tick();
        self.git(&[
            "commit",
            "--quiet",
            "--allow-empty",
            "--no-verify",
            "-m",
            message,
        ]);
        self.head()
    }

    /// Creates a lightweight tag at HEAD.
    pub fn tag(&self, name: &str) -> &Self {
        self.git(&["tag", name]);
        self
    }

    /// Creates an annotated tag at HEAD with `message`.
    pub fn annotated_tag(&self, name: &str, message: &str) -> &Self {
        self.tick();
        self.git(&["tag", "--annotate", "-m", message, name]);
        self
    }

    /// Creates branch `name` at HEAD without switching to it.
    pub fn branch(&self, name: &str) -> &Self {
        self.git(&["branch", name]);
        self
    }

    /// Switches to branch, tag or commit `rev` (`git checkout --quiet rev`).
    pub fn checkout(&self, rev: &str) -> &Self {
        self.git(&["checkout", "--quiet", rev]);
        self
    }

    /// The commit id HEAD points at.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// The current branch name, or `None` when HEAD is detached.
    pub fn current_branch(&self) -> Option<String> {
        let out = self.try_git(&["symbolic-ref", "--quiet", "--short", "HEAD"]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    /// `git rev-parse rev`: the object id `rev` names.
    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// `git status --porcelain` (untracked files included); empty when the tree is clean.
    pub fn status_porcelain(&self) -> String {
        self.git(&["status", "--porcelain"])
    }

    /// A digest of this repository's work tree; see [`tree_hash`].
    pub fn tree_hash(&self) -> String {
        tree_hash(&self.path)
    }
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// A sha256 over every file, symlink and directory under `root` except `.git`, in sorted path
/// order: relative path, kind, executable bit and bytes (or link target).
///
/// Two trees hash the same exactly when they are byte-identical as a user would see them, which
/// makes "restored to the same state" a one-line assertion. Empty directories count.
///
/// # Panics
///
/// When a directory or file cannot be read.
pub fn tree_hash(root: &Path) -> String {
    let mut hasher = Sha256::new();
    hash_dir(root, Path::new(""), &mut hasher);
    hex(&hasher.finalize())
}

fn hash_dir(root: &Path, rel: &Path, hasher: &mut Sha256) {
    use std::os::unix::fs::PermissionsExt;
    let dir = root.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read dir {}: {e}", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("read dir {}: {e}", dir.display())))
        .filter(|entry| !(rel.as_os_str().is_empty() && entry.file_name() == ".git"))
        .collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let rel = rel.join(entry.file_name());
        let path = root.join(&rel);
        let meta =
            fs::symlink_metadata(&path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update([0]);
        if meta.file_type().is_symlink() {
            let target =
                fs::read_link(&path).unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()));
            hasher.update(b"link\0");
            hasher.update(target.to_string_lossy().as_bytes());
        } else if meta.is_dir() {
            hasher.update(b"dir\0");
            hash_dir(root, &rel, hasher);
        } else {
            let executable = meta.permissions().mode() & 0o111 != 0;
            hasher.update(if executable { b"exec\0" } else { b"file\0" });
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        hasher.update([0]);
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_reproducible() {
        let build = || {
            let repo = GitRepo::new();
            repo.write("a.txt", "a\n");
            repo.commit_all("first");
            repo.write("b.txt", "b\n");
            repo.commit_all("second")
        };
        assert_eq!(build(), build());
    }

    #[test]
    fn pinned_identity_and_branch() {
        let repo = GitRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("first");
        assert_eq!(repo.current_branch().as_deref(), Some("main"));
        assert_eq!(
            repo.git(&["log", "-1", "--format=%an <%ae> %at"]),
            format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}> {}", EPOCH + 60)
        );
    }

    #[test]
    fn tree_hash_sees_content_mode_and_paths_but_not_git() {
        let repo = GitRepo::new();
        repo.write("a.txt", "a\n");
        let base = repo.tree_hash();
        repo.commit_all("first");
        assert_eq!(repo.tree_hash(), base, ".git is excluded");

        repo.write("a.txt", "b\n");
        let changed = repo.tree_hash();
        assert_ne!(changed, base);
        repo.write("a.txt", "a\n");
        assert_eq!(repo.tree_hash(), base);

        repo.write_executable("a.txt", "a\n");
        assert_ne!(repo.tree_hash(), base, "executable bit counts");
        repo.write("a.txt", "a\n");
        std::fs::set_permissions(
            repo.path().join("a.txt"),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .expect("chmod");
        assert_eq!(repo.tree_hash(), base);

        std::fs::create_dir(repo.path().join("empty")).expect("mkdir");
        assert_ne!(repo.tree_hash(), base, "empty directories count");
    }

    #[test]
    fn tags_branches_and_remotes() {
        let repo = GitRepo::new();
        repo.write("a.txt", "a\n");
        let first = repo.commit_all("first");
        repo.annotated_tag("v1.0.0", "one")
            .tag("light")
            .branch("feature");
        repo.write("a.txt", "b\n");
        repo.commit_all("second");
        assert_eq!(
            repo.git(&["describe", "--tags"]),
            format!("v1.0.0-1-g{}", &repo.head()[..7])
        );
        assert_eq!(repo.rev_parse("v1.0.0^{commit}"), first);
        assert_eq!(repo.rev_parse("feature"), first);
        assert_eq!(repo.git(&["cat-file", "-t", "v1.0.0"]), "tag");
        assert_eq!(repo.git(&["cat-file", "-t", "light"]), "commit");

        let remote = repo.add_bare_remote("origin");
        repo.git(&["push", "--quiet", "origin", "main", "--tags"]);
        assert_eq!(run_git(remote.path(), &["rev-parse", "main"]), repo.head());
        let clone = GitRepo::clone_from(&remote.url());
        assert_eq!(clone.read("a.txt"), "b\n");
        assert_eq!(clone.status_porcelain(), "");
    }
}
