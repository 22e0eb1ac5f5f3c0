//! Running the transaction: preflight, journal, snapshot, apply, smoke tests, commit or rollback.

#[allow(unused_imports)]
use super::*;

/// The preflight checks that need no lock: a tool that is missing, too little disk, drift.
pub(super) fn preflight(session: &Session, plan: &Plan, options: &RunOptions) -> Result<(), Error> {
    if let Some(expected) = &options.expected_digest
        && !plan.digest.starts_with(expected.as_str())
    {
        return Err(Error::Drift {
            expected: expected.clone(),
            actual: plan.digest.clone(),
        });
    }
    session.require_clean()?;
    let needed = std::env::var("LOCKSTEP_MIN_FREE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MIN_FREE_BYTES);
    if let Ok(available) = fsx::free_bytes(session.root())
        && available < needed
    {
        {
            return Err(Error::DiskSpace {
                root: session.root().to_path_buf(),
                available,
                needed,
            });
        }
    }
    if let Apply::Pin {
        lockfile_command,
        lockfile,
        ..
    } = &plan.apply
        && let Some(program) = lockfile_command.first()
        && !fsx::on_path(program)
    {
        return Err(Error::ToolMissing {
            program: program.clone(),
            lockfile: session.root().join(lockfile),
            command: lockfile_command.join(" "),
        });
    }
    Ok(())
}

/// Runs the upgrade transaction in `session` (which holds the lock and has recovered any
/// interrupted transaction). `progress` receives one line per step.
pub fn execute(
    session: &Session,
    vertical: &Vertical,
    plan: &Plan,
    options: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<UpgradeReport, Error> {
    let mut report = UpgradeReport {
        schema: UPGRADE_SCHEMA,
        outcome: Outcome::DryRun,
        from: plan.current.clone(),
        to: plan.target.clone(),
        snapshot: None,
        commit: None,
        plan_digest: plan.digest.clone(),
        lockfile: None,
        smoke: None,
        failure: None,
        restore: None,
        reasons: Vec::new(),
    };
    if plan.verdict == Status::Blocked {
        report.outcome = Outcome::Blocked;
        report.reasons = plan.reasons.clone();
        session.record(
            |r| {
                r.from_version(&plan.current)
                    .to_version(&plan.target)
                    .detail(
                        "reasons",
                        plan.reasons
                            .iter()
                            .map(|r| r.code.to_string())
                            .collect::<Vec<_>>(),
                    )
            },
            action::CHECK,
            "blocked",
        )?;
        return Ok(report);
    }
    preflight(session, plan, options)?;
    if options.dry_run {
        return Ok(report);
    }

    let root = session.root();
    let state = session.state_dir();
    let id = session.new_snapshot_id("pre-upgrade")?;
    let mut journal = Journal::new(
        Kind::Upgrade,
        id.as_str(),
        lockstep_audit::rfc3339(SystemTime::now()),
    );
    journal.from = Some(plan.current.clone());
    journal.to = Some(plan.target.clone());
    if let Apply::Pin { file, .. } = &plan.apply {
        journal.writes.push(file.clone());
    }
    journal.save(state).map_err(crate::txn::Error::from)?;
    failpoint::hit("after_journal");

    progress(&format!("snapshot {id}"));
    let copies: Vec<PathBuf> = match &plan.apply {
        Apply::Pin { file, lockfile, .. } => vec![PathBuf::from(file), PathBuf::from(lockfile)],
        Apply::Checkout { .. } => Vec::new(),
    };
    if let Err(e) = lockstep_snapshot::snapshot(root, &id, &copies, &session.snapshot_store()) {
        // Nothing was changed: the transaction ends here.
        let _ = Journal::remove(state);
        return Err(crate::txn::Error::from(e).into());
    }
    failpoint::hit("after_snapshot");
    journal
        .advance(state, Step::Snapshotted)
        .map_err(crate::txn::Error::from)?;
    report.snapshot = Some(id.to_string());
    session.record(
        |r| {
            r.from_version(&plan.current)
                .to_version(&plan.target)
                .snapshot(id.as_str())
                .detail("plan_digest", plan.digest.clone())
        },
        action::UPGRADE_STARTED,
        "started",
    )?;
    failpoint::hit("before_apply");

    let tx = Tx {
        session,
        vertical,
        plan,
        options,
        id: &id,
    };
    match tx.apply(&mut journal, &mut report, progress) {
        Ok(()) => {}
        Err(failure) => return tx.roll_back(&mut journal, report, failure, progress),
    }
    failpoint::hit("after_apply");
    if let Err(failure) = tx.smoke(&mut journal, &mut report, progress) {
        return tx.roll_back(&mut journal, report, failure, progress);
    }
    journal.pgid = None;
    journal
        .advance(state, Step::Passed)
        .map_err(crate::txn::Error::from)?;
    failpoint::hit("before_commit");
    match tx.commit(progress) {
        Ok(commit) => report.commit = commit,
        Err(failure) => return tx.roll_back(&mut journal, report, failure, progress),
    }
    journal.commit = report.commit.clone();
    journal
        .advance(state, Step::Committed)
        .map_err(crate::txn::Error::from)?;
    failpoint::hit("after_commit");
    session.record(
        |r| {
            let r = r
                .from_version(&plan.current)
                .to_version(&plan.target)
                .snapshot(id.as_str())
                .detail("commit", report.commit.clone().unwrap_or_default());
            let r = match &report.smoke {
                Some(s) => r.detail("smoke_ms", s.duration_ms),
                None => r.detail("smoke_tests", "none"),
            };
            match &report.lockfile {
                Some(l) => r.detail("lockfile_ms", l.duration_ms),
                None => r,
            }
        },
        action::UPGRADE_COMMITTED,
        "committed",
    )?;
    failpoint::hit("after_audit");
    Journal::remove(state).map_err(crate::txn::Error::from)?;
    if let Err(e) = lockstep_snapshot::prune(root, &session.snapshot_store(), 5) {
        tracing::warn!(error = %e, "could not prune old snapshots");
    }
    report.outcome = Outcome::Committed;
    progress(&format!(
        "committed: core {} → {}",
        plan.current, plan.target
    ));
    Ok(report)
}
