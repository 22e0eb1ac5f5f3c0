//! The steps of one transaction in flight (apply, smoke, commit, roll back), each journaled first.

#[allow(unused_imports)]
use super::*;

pub(super) struct Tx<'a> {
    pub(super) session: &'a Session,
    pub(super) vertical: &'a Vertical,
    pub(super) plan: &'a Plan,
    pub(super) options: &'a RunOptions,
    pub(super) id: &'a SnapshotId,
}

impl Tx<'_> {
    pub(super) fn run_tracked(
        &self,
        journal: &mut Journal,
        spec: &CommandSpec,
        failpoint_name: &str,
    ) -> Result<RunResult, Failure> {
        let state = self.session.state_dir();
        let result = lockstep_smoke::run_recorded(spec, |pgid| {
            journal.pgid = pgid.map(|g| g.as_raw());
            if let Err(e) = journal.save(state) {
                tracing::warn!(error = %e, "could not record the process group in the journal");
            }
            if pgid.is_some() {
                failpoint::hit(failpoint_name);
            }
        });
        result.map_err(|e| Failure {
            step: "run",
            message: format!("cannot run {}: {e}", spec.get_program().display()),
        })
    }

    pub(super) fn apply(
        &self,
        journal: &mut Journal,
        report: &mut UpgradeReport,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Failure> {
        let root = self.session.root();
        match &self.plan.apply {
            Apply::Checkout { tag } => {
                progress(&format!("check out {tag}"));
                let v = lockstep_snapshot::checkout_tag(root, tag).map_err(|e| Failure {
                    step: "apply",
                    message: format!("cannot check out {tag}: {e}"),
                })?;
                if !v.is_verified() {
                    return Err(Failure {
                        step: "apply",
                        message: format!(
                            "checkout of {tag} did not verify: {}",
                            v.mismatches
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    });
                }
                report.commit = lockstep_snapshot::head(root)
                    .ok()
                    .and_then(|h| h.commit)
                    .map(|c| c.to_string());
            }
            Apply::Pin {
                file,
                dependency,
                new_pin,
                lockfile_command,
                lockfile_dir,
                ..
            } => {
                if let Some(value) = new_pin {
                    let path = root.join(file);
                    progress(&format!("pin {dependency} = {} in {file}", value.as_str()));
                    let text = std::fs::read_to_string(&path).map_err(|e| Failure {
                        step: "apply",
                        message: format!("cannot read {}: {e}", path.display()),
                    })?;
                    let eco = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(Ecosystem::from_file_name)
                        .ok_or_else(|| Failure {
                            step: "apply",
                            message: format!("{file} is not a known package manifest"),
                        })?;
                    let edit =
                        lockstep_pins::set_pin(eco, &text, dependency, value).map_err(|e| {
                            Failure {
                                step: "apply",
                                message: format!("cannot rewrite the pin in {file}: {e}"),
                            }
                        })?;
                    fsx::write_atomic(&path, edit.text.as_bytes()).map_err(|e| Failure {
                        step: "apply",
                        message: format!("cannot write {}: {e}", path.display()),
                    })?;
                }
                failpoint::hit("after_pin");
                progress(&format!(
                    "regenerate lockfile: {}",
                    lockfile_command.join(" ")
                ));
                let (program, args) = lockfile_command.split_first().ok_or_else(|| Failure {
                    step: "lockfile",
                    message: "no lockfile command".to_owned(),
                })?;
                let spec = CommandSpec::new(program)
                    .args(args)
                    .current_dir(root.join(lockfile_dir))
                    .versions(&self.plan.current, &self.plan.target)
                    .timeout(LOCKFILE_TIMEOUT)
                    .grace(self.options.grace);
                let result = self.run_tracked(journal, &spec, "during_lockfile")?;
                let run = CommandRun::from_result(lockfile_command.clone(), &result);
                let passed = result.outcome.is_passed();
                report.lockfile = Some(run.clone());
                if !passed {
                    return Err(Failure {
                        step: "lockfile",
                        message: format!(
                            "`{}` {}:\n{}",
                            lockfile_command.join(" "),
                            result.outcome,
                            run.output_tail
                        ),
                    });
                }
            }
        }
        journal
            .advance(self.session.state_dir(), Step::Applied)
            .map_err(|e| Failure {
                step: "apply",
                message: e.to_string(),
            })?;
        Ok(())
    }

    pub(super) fn smoke(
        &self,
        journal: &mut Journal,
        report: &mut UpgradeReport,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Failure> {
        let Some(smoke) = &self.plan.smoke_tests else {
            progress("no smoke tests to run");
            return Ok(());
        };
        // The command is re-read from the manifest: in checkout mode the new version's own
        // smoke tests run.
        let vertical = crate::workspace::Vertical::load(
            Some(&self.vertical.manifest_path),
            &self.vertical.dir,
        )
        .unwrap_or_else(|_| self.vertical.clone());
        let command = smoke_command(&vertical).unwrap_or_else(|| smoke.command.clone());
        let (program, args) = command.split_first().ok_or_else(|| Failure {
            step: "smoke_tests",
            message: "the smoke test command is empty".to_owned(),
        })?;
        let program_path = if program.contains('/') {
            vertical.dir.join(program)
        } else {
            PathBuf::from(program)
        };
        progress(&format!(
            "smoke tests: {} (timeout {} s)",
            command.join(" "),
            smoke.timeout_seconds
        ));
        journal
            .advance(self.session.state_dir(), Step::Testing)
            .map_err(|e| Failure {
                step: "smoke_tests",
                message: e.to_string(),
            })?;
        let spec = CommandSpec::new(program_path)
            .args(args)
            .current_dir(&vertical.dir)
            .versions(&self.plan.current, &self.plan.target)
            .timeout(Duration::from_secs(smoke.timeout_seconds))
            .grace(self.options.grace);
        let result = self.run_tracked(journal, &spec, "during_smoke")?;
        let run = CommandRun::from_result(command.clone(), &result);
        report.smoke = Some(run.clone());
        match result.outcome {
            RunOutcome::Passed => {
                progress(&format!(
                    "smoke tests passed in {:.1} s",
                    result.duration.as_secs_f64()
                ));
                Ok(())
            }
            RunOutcome::TimedOut => Err(Failure {
                step: "smoke_tests",
                message: format!(
                    "smoke tests timed out after {} s and were killed (SIGTERM, then SIGKILL after {} s):\n{}",
                    smoke.timeout_seconds,
                    self.options.grace.as_secs(),
                    run.output_tail
                ),
            }),
            other => Err(Failure {
                step: "smoke_tests",
                message: format!(
                    "smoke tests {other}{}:\n{}",
                    result
                        .exit_code
                        .map(|c| format!(" (exit {c})"))
                        .unwrap_or_default(),
                    run.output_tail
                ),
            }),
        }
    }

    pub(super) fn commit(&self, progress: &mut dyn FnMut(&str)) -> Result<Option<String>, Failure> {
        let root = self.session.root();
        let Apply::Pin {
            file, dependency, ..
        } = &self.plan.apply
        else {
            // Checkout mode: the branch already points at the release.
            return Ok(lockstep_snapshot::head(root)
                .ok()
                .and_then(|h| h.commit)
                .map(|c| c.to_string()));
        };
        let message = format!(
            "chore(deps): upgrade {dependency} from {} to {}\n\nApplied by lockstep (snapshot {}, plan {}).\n",
            self.plan.current,
            self.plan.target,
            self.id,
            &self.plan.digest[..12.min(self.plan.digest.len())]
        );
        progress("commit");
        let paths = [PathBuf::from(file)];
        let result = lockstep_snapshot::commit_as_configured(root, &message, &paths);
        match result {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.kind() == lockstep_snapshot::ErrorKind::NothingToCommit => Ok(None),
            Err(e) => Err(Failure {
                step: "commit",
                message: e.to_string(),
            }),
        }
    }

    pub(super) fn roll_back(
        &self,
        journal: &mut Journal,
        mut report: UpgradeReport,
        failure: Failure,
        progress: &mut dyn FnMut(&str),
    ) -> Result<UpgradeReport, Error> {
        let state = self.session.state_dir();
        progress(&format!(
            "{} failed; rolling back to {}",
            failure.step, self.id
        ));
        journal.pgid = None;
        journal
            .advance(state, Step::RollingBack)
            .map_err(crate::txn::Error::from)?;
        failpoint::hit("during_rollback");
        let restored = self.session.restore_verified(self.id.as_str());
        let (outcome, restore) = match &restored {
            Ok(_) => (
                Outcome::RolledBack,
                RestoreSummary {
                    verified: true,
                    problems: None,
                },
            ),
            Err(p) => (
                Outcome::RestoreFailed,
                RestoreSummary {
                    verified: false,
                    problems: Some(p.clone()),
                },
            ),
        };
        if outcome == Outcome::RestoreFailed {
            journal
                .advance(state, Step::RestoreFailed)
                .map_err(crate::txn::Error::from)?;
        }
        self.session.record(
            |r| {
                let r = r
                    .from_version(&self.plan.current)
                    .to_version(&self.plan.target)
                    .snapshot(self.id.as_str())
                    .detail("failed_step", failure.step)
                    .detail("failure", failure.message.clone());
                match &restore.problems {
                    Some(p) => r.detail("restore_problems", p.clone()),
                    None => r,
                }
            },
            action::ROLLED_BACK,
            if outcome == Outcome::RolledBack {
                "rolled_back"
            } else {
                "restore_failed"
            },
        )?;
        if outcome == Outcome::RolledBack {
            Journal::remove(state).map_err(crate::txn::Error::from)?;
            progress("rolled back; the work tree equals the snapshot");
        }
        report.outcome = outcome;
        report.failure = Some(failure);
        report.restore = Some(restore);
        Ok(report)
    }
}
