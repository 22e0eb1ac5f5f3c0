//! Undoing what the cascade did: restoring snapshots, deleting tags, sweeping crash debris.

#[allow(unused_imports)]
use super::*;

pub(super) fn undo_repo(ctx: &Ctx<'_>, name: &str, state: &RepoState) -> Result<(), String> {
    let _span = tracing::info_span!("cascade.undo", repo = name, status = ?state.status).entered();
    if let Some(raw) = state.pgid.and_then(lockstep_smoke::Pgid::new) {
        let _ = lockstep_smoke::kill_group(raw, Duration::from_secs(10));
    }
    remove_crash_debris(ctx, name, state);
    for tag in state.tags.iter().rev() {
        match lockstep_snapshot::tag_exists(&state.dir, tag) {
            Ok(true) => lockstep_snapshot::delete_tag(&state.dir, tag)
                .map_err(|e| format!("{name}: cannot delete tag {tag}: {e}"))?,
            Ok(false) => {}
            Err(e) => return Err(format!("{name}: {e}")),
        }
    }
    let Some(snapshot) = &state.snapshot else {
        return Ok(());
    };
    let id = SnapshotId::new(snapshot).map_err(|e| e.to_string())?;
    let store = ctx.state_dir.join("snapshots").join(name);
    // A crash before the snapshot existed changed nothing.
    if lockstep_snapshot::read(&store, &id).is_err() && state.status == RepoStatus::Snapshotting {
        return Ok(());
    }
    match lockstep_snapshot::restore(&state.dir, &id, &store) {
        Ok(v) if v.is_verified() => {
            let _ = lockstep_snapshot::delete(&state.dir, &id, &store);
            Ok(())
        }
        Ok(v) => Err(format!(
            "{name}: restore of {snapshot} did not verify: {}",
            v.mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Err(e) => Err(format!("{name}: cannot restore {snapshot}: {e}")),
    }
}

/// A crash can leave the temp file of an atomic write beside a file the cascade rewrites, and
/// git's lock beside a snapshot ref being written; neither is tracked, so a restore keeps them.
pub(super) fn remove_crash_debris(ctx: &Ctx<'_>, name: &str, state: &RepoState) {
    let files: Vec<String> = ctx
        .journal
        .lock()
        .map(|j| {
            j.plan
                .steps()
                .filter(|s| s.repo == name)
                .flat_map(|s| {
                    let changelog = Path::new(&s.manifest)
                        .parent()
                        .map_or_else(|| PathBuf::from("CHANGELOG.md"), |p| p.join("CHANGELOG.md"));
                    s.pin_edits
                        .iter()
                        .map(|e| e.file.to_string())
                        .chain([s.manifest.to_string(), changelog.display().to_string()])
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    for file in files {
        if let Err(e) = fsx::sweep_debris(&state.dir.join(&file)) {
            tracing::warn!(repo = name, file, error = %e, "cannot sweep temp files");
        }
    }
    if let Some(id) = state
        .snapshot
        .as_deref()
        .and_then(|s| SnapshotId::new(s).ok())
        && let Err(e) = lockstep_snapshot::clear_ref_lock(&state.dir, &id)
    {
        tracing::warn!(repo = name, error = %e, "cannot remove a stale snapshot ref lock");
    }
}

/// Restores every repository the cascade touched, in reverse wave order; returns the problems.
pub(super) fn roll_back_all(ctx: &Ctx<'_>) -> Vec<String> {
    let mut touched: Vec<(String, RepoState)> = ctx
        .journal
        .lock()
        .map(|j| {
            j.repos
                .iter()
                .filter(|(_, s)| !matches!(s.status, RepoStatus::Pending | RepoStatus::RolledBack))
                // What may be published is never taken back.
                .filter(|(_, s)| !may_be_published(s.status))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        })
        .unwrap_or_default();
    touched.sort_by(|a, b| (b.1.wave, &b.0).cmp(&(a.1.wave, &a.0)));
    let mut problems = Vec::new();
    for (name, state) in touched {
        (ctx.progress)(&name, "rolling back");
        match undo_repo(ctx, &name, &state) {
            Ok(()) => {
                let _ = ctx.update(&name, |s| s.status = RepoStatus::RolledBack);
                let _ = ctx.record(
                    |r| {
                        r.detail("repo", name.clone())
                            .detail("snapshot", state.snapshot.clone().unwrap_or_default())
                            .detail("tags_deleted", state.tags.clone())
                    },
                    action::ROLLBACK,
                    "restored",
                );
            }
            Err(p) => problems.push(p),
        }
    }
    problems
}

/// Puts back the repositories a failure left half-way (`Snapshotting`, `Working`) and marks
/// them pending, so a later `--resume` releases them afresh; returns the problems.
pub(super) fn undo_half_done(ctx: &Ctx<'_>) -> Vec<String> {
    let half: Vec<(String, RepoState)> = ctx
        .journal
        .lock()
        .map(|j| {
            j.repos
                .iter()
                .filter(|(_, s)| matches!(s.status, RepoStatus::Snapshotting | RepoStatus::Working))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (name, state) in half {
        (ctx.progress)(&name, "undoing the interrupted step");
        match undo_repo(ctx, &name, &state) {
            Ok(()) => {
                if let Err(e) = ctx.update(&name, |s| {
                    s.status = RepoStatus::Pending;
                    s.snapshot = None;
                    s.tags.clear();
                    s.commit = None;
                    s.pgid = None;
                }) {
                    problems.push(format!("{name}: {e}"));
                }
            }
            Err(p) => problems.push(p),
        }
    }
    problems
}
