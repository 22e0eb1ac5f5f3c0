//! Running the plan wave by wave, the repositories of a wave on threads.

#[allow(unused_imports)]
use super::*;

pub(super) fn run_waves(
    ctx: &Ctx<'_>,
    discovered: &Discovered,
    plan: &Plan,
) -> Result<Report, ExecError> {
    let started = Instant::now();
    let mut runs: BTreeMap<String, RepoRun> = BTreeMap::new();
    let mut failure: Option<Failure> = None;
    'waves: for (w, wave) in groups(plan).into_iter().enumerate() {
        let _span = tracing::info_span!("cascade.wave", wave = w, repos = wave.len()).entered();
        tracing::debug!(repos = ?wave.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), "wave starts");
        let todo: Vec<(String, Vec<&Step>)> = wave
            .into_iter()
            .filter(|(name, _)| ctx.state(name).is_some())
            .collect();
        let queue = Mutex::new(todo.iter().collect::<Vec<_>>());
        let results: Mutex<Vec<(String, RepoResult)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..ctx.options.jobs.min(todo.len()).max(1) {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.pop());
                        let Some((name, steps)) = next else { break };
                        let result = if ctx
                            .state(name)
                            .is_some_and(|s| is_done(s.status, publishes(steps)))
                        {
                            Ok(RepoRun {
                                commit: ctx.state(name).and_then(|s| s.commit),
                                notes: vec!["released before the interruption".to_owned()],
                                ..RepoRun::planned(name, w, steps, "skipped")
                            })
                        } else {
                            release_repo(ctx, discovered, name, w, steps)
                        };
                        if let Ok(mut r) = results.lock() {
                            r.push((name.clone(), result));
                        }
                    }
                });
            }
        });
        let mut results = results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        results.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, result) in results {
            match result {
                Ok(run) => {
                    runs.insert(name, run);
                }
                Err(boxed) => {
                    let (run, f) = *boxed;
                    runs.insert(name, run);
                    if failure.is_none() {
                        failure = Some(f);
                    }
                }
            }
        }
        if failure.is_some() {
            break 'waves;
        }
    }
    let critical = critical_path(plan, &runs);
    let mut report = Report {
        schema: RUN_SCHEMA,
        outcome: Outcome::Released,
        digest: plan.digest.clone(),
        repos: Vec::new(),
        failure: None,
        wall_ms: 0,
        critical_path_ms: critical,
        pushed: Vec::new(),
        published: Vec::new(),
    };
    let stop = failure
        .as_ref()
        .is_some_and(|f| past_point_of_no_return(ctx) || f.step == "wait");
    if let Some(f) = failure.clone().filter(|_| stop) {
        // Something may be published: never taken back. Only the repository that failed
        // half-way is put back, so `--resume` starts it afresh.
        (ctx.progress)(
            &f.repo,
            &format!(
                "{} failed after the point of no return; nothing published is rolled back, the journal is kept",
                f.step
            ),
        );
        let problems = undo_half_done(ctx);
        ctx.record(
            |r| {
                r.detail("digest", plan.digest.clone())
                    .detail("repo", f.repo.clone())
                    .detail("step", f.step)
                    .detail("failure", f.message.clone())
            },
            "cascade_stopped",
            if problems.is_empty() {
                "stopped"
            } else {
                "restore_failed"
            },
        )?;
        if !problems.is_empty() {
            return Err(ExecError::RestoreFailed {
                problems,
                journal: CascadeJournal::path(&ctx.state_dir),
            });
        }
        report.outcome = Outcome::Stopped;
        report.published = stays_published(
            ctx,
            &registry::Registries::from_config(&discovered.config.config),
        );
        report.failure = Some(f);
    } else if let Some(f) = failure {
        (ctx.progress)(
            &f.repo,
            &format!(
                "{} failed; rolling back every repository the cascade touched",
                f.step
            ),
        );
        let problems = roll_back_all(ctx);
        ctx.record(
            |r| {
                r.detail("digest", plan.digest.clone())
                    .detail("repo", f.repo.clone())
                    .detail("step", f.step)
                    .detail("failure", f.message.clone())
            },
            action::CASCADE_ROLLED_BACK,
            if problems.is_empty() {
                "rolled_back"
            } else {
                "restore_failed"
            },
        )?;
        if !problems.is_empty() {
            return Err(ExecError::RestoreFailed {
                problems,
                journal: CascadeJournal::path(&ctx.state_dir),
            });
        }
        CascadeJournal::remove(&ctx.state_dir)?;
        for run in runs.values_mut() {
            if run.status == "released" || run.status == "skipped" {
                run.status = "rolled_back".to_owned();
            }
        }
        report.outcome = Outcome::RolledBack;
        report.failure = Some(f);
    } else {
        failpoint::hit("cascade_before_finish");
        ctx.record(
            |r| r.detail("digest", plan.digest.clone()),
            action::CASCADE_COMMITTED,
            "released",
        )?;
        CascadeJournal::remove(&ctx.state_dir)?;
        if ctx.options.push {
            match push_all(ctx, discovered, plan) {
                Ok(pushed) => report.pushed = pushed,
                Err(f) => {
                    ctx.record(
                        |r| {
                            r.detail("repo", f.repo.clone())
                                .detail("failure", f.message.clone())
                        },
                        "cascade_push_failed",
                        "push_failed",
                    )?;
                    report.outcome = Outcome::PushFailed;
                    report.failure = Some(f);
                }
            }
        }
    }
    let mut ordered: Vec<RepoRun> = runs.into_values().collect();
    ordered.sort_by(|a, b| (a.wave, &a.repo).cmp(&(b.wave, &b.repo)));
    // Repositories that never started.
    if let Ok(j) = ctx.journal.lock() {
        for (name, s) in &j.repos {
            if !ordered.iter().any(|r| &r.repo == name) {
                ordered.push(RepoRun::planned(name, s.wave, &[], "not_started"));
            }
        }
    }
    report.repos = ordered;
    report.wall_ms = ms(started.elapsed());
    Ok(report)
}

/// The longest chain of per-repository times along the plan's upstream edges.
pub(super) fn critical_path(plan: &Plan, runs: &BTreeMap<String, RepoRun>) -> u64 {
    let mut best: BTreeMap<String, u64> = BTreeMap::new();
    let repo_of: BTreeMap<&str, &str> = plan
        .steps()
        .map(|s| (s.package.as_str(), s.repo.as_str()))
        .collect();
    for wave in &plan.waves {
        for step in wave {
            let own = runs.get(step.repo.as_str()).map_or(0, |r| r.ms);
            let before = step
                .upstreams
                .iter()
                .filter_map(|u| repo_of.get(u.package.as_str()))
                .filter(|r| **r != step.repo)
                .filter_map(|r| best.get(*r))
                .max()
                .copied()
                .unwrap_or(0);
            let v = best.entry(step.repo.to_string()).or_insert(0);
            *v = (*v).max(before + own);
        }
    }
    best.values().max().copied().unwrap_or(0)
}
