//! The pre-push hook: the script, and installing it without clobbering a hook that is not ours.

#[allow(unused_imports)]
use super::*;

/// The pre-push hook [`install_hook`] writes: a POSIX `sh` script that reads git's pre-push
/// lines (`<local ref> <local sha> <remote ref> <remote sha>`) and, for every tag being pushed
/// (deletions aside), runs `lockstep tag-check --repo "$(git rev-parse --show-toplevel)" TAG`;
/// any failure refuses the push with tag-check's message. `$LOCKSTEP` overrides the program.
pub fn pre_push_hook_script() -> &'static str {
    r#"#!/bin/sh
# lockstep-hook: pre-push
# Written by `lockstep hooks install`. Refuses to push a tag that is not strict SemVer
# (vX.Y.Z or NAME-vX.Y.Z) or that differs from the version of the package it names at the
# tagged commit. Set LOCKSTEP to the program to run (default: lockstep on PATH); bypass once
# with `git push --no-verify`.
lockstep=${LOCKSTEP:-lockstep}
if ! command -v "$lockstep" >/dev/null 2>&1; then
    echo "pre-push: '$lockstep' not found; install it (cargo install --path xtask) or set LOCKSTEP" >&2
    exit 1
fi
top=$(git rev-parse --show-toplevel) || exit 1
failed=0
while read -r local_ref local_sha remote_ref _remote_sha; do
    case $remote_ref in
        refs/tags/*) ;;
        *) continue ;;
    esac
    case $local_sha in
        *[!0]*) ;;
        *) continue ;; # a tag being deleted
    esac
    tag=${remote_ref#refs/tags/}
    if [ "$local_ref" != "$remote_ref" ]; then
        echo "pre-push: $local_ref pushed as tag $tag; push the tag under its own name so it can be checked" >&2
        failed=1
        continue
    fi
    "$lockstep" tag-check --color never --repo "$top" -- "$tag" || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "pre-push: push refused by lockstep tag-check" >&2
fi
exit "$failed"
"#
}

/// What [`install_hook`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum HookOutcome {
    /// There was no pre-push hook; it was written.
    Created,
    /// Lockstep's hook was there in an older form; it was rewritten.
    Updated,
    /// Lockstep's hook was there as it is; nothing was written.
    Unchanged,
    /// Another hook was there and `force` was given; it was moved to `backup`.
    Replaced {
        /// Where the other hook now is.
        backup: PathBuf,
    },
}

/// The hook [`install_hook`] wrote and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InstalledHook {
    /// The hook file.
    pub path: PathBuf,
    /// What was done.
    #[serde(flatten)]
    pub outcome: HookOutcome,
}

/// Writes [`pre_push_hook_script`] as the pre-push hook of the repository at `repo_dir`
/// (in its hooks directory: `core.hooksPath`, else `.git/hooks`), executable.
///
/// Idempotent: lockstep's own hook (known by [`HOOK_MARKER`]) is left alone when it is
/// current and rewritten when not. Another hook is [`Error::ForeignHook`] unless `force`, which
/// keeps it as `pre-push.pre-lockstep` beside the new one.
pub fn install_hook(repo_dir: &Path, force: bool) -> Result<InstalledHook, Error> {
    use std::os::unix::fs::PermissionsExt;
    let _span = tracing::info_span!("install_hook", repo = %repo_dir.display(), force).entered();
    let dir = lockstep_snapshot::hooks_dir(repo_dir).map_err(|source| Error::Git {
        repo: repo_dir.to_owned(),
        what: "the hooks directory".into(),
        source,
    })?;
    let path = dir.join("pre-push");
    let io = |op: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { op, path, source }
    };
    let script = pre_push_hook_script();
    let outcome = match std::fs::read(&path) {
        Ok(existing) if existing == script.as_bytes() => HookOutcome::Unchanged,
        Ok(existing) if is_ours(&existing) => HookOutcome::Updated,
        Ok(_) => {
            let backup = dir.join("pre-push.pre-lockstep");
            if !force {
                return Err(Error::ForeignHook { path, backup });
            }
            std::fs::rename(&path, &backup).map_err(io("move aside", &path))?;
            HookOutcome::Replaced { backup }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HookOutcome::Created,
        Err(e) => return Err(io("read", &path)(e)),
    };
    if outcome != HookOutcome::Unchanged {
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        crate::fsx::write_atomic(&path, script.as_bytes()).map_err(io("write", &path))?;
    }
    let mut perms = std::fs::metadata(&path)
        .map_err(io("read", &path))?
        .permissions();
    if perms.mode() & 0o111 != 0o111 {
        perms.set_mode(perms.mode() | 0o755);
        std::fs::set_permissions(&path, perms).map_err(io("make executable", &path))?;
    }
    Ok(InstalledHook { path, outcome })
}

/// Whether a hook file is one lockstep wrote.
pub(super) fn is_ours(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .lines()
        .take(3)
        .any(|l| l.trim_end() == HOOK_MARKER)
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}
