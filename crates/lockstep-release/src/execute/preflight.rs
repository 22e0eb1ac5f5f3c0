//! Checks before any change: clean trees, branches, tag collisions, lockfile tools.

#[allow(unused_imports)]
use super::*;

/// Checks, across every repository with a step, that nothing stands in the way: clean trees,
/// the configured branches, no tag collisions, lockfile tools present.
pub fn preflight(
    discovered: &Discovered,
    plan: &Plan,
    options: &Options,
) -> Result<Vec<String>, ExecError> {
    if let Some(expected) = &options.expected_digest
        && !plan.digest.starts_with(expected.as_str())
    {
        return Err(ExecError::Drift {
            expected: expected.clone(),
            actual: plan.digest.clone(),
        });
    }
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    // One repository of a saved plan (`--only`): every in-plan upstream it builds against must
    // be released already, or the jobs ran out of wave order.
    if let Some(only) = &options.only {
        for step in plan.steps().filter(|s| &s.repo == only) {
            for u in &step.upstreams {
                let Some(up) = plan
                    .step(&u.package)
                    .filter(|up| up.release && up.repo != *only)
                else {
                    continue;
                };
                let Some(up_repo) = discovered.repo(&up.repo) else {
                    continue;
                };
                if !lockstep_snapshot::tag_exists(&up_repo.dir, &up.tag).unwrap_or(false) {
                    problems.push(format!(
                        "{only}: its upstream {} {} is not released yet (no tag {} in {}); release {} first, as the plan's waves order",
                        up.package, up.to, up.tag, up.repo, up.repo
                    ));
                }
            }
        }
    }
    for (repo_name, steps) in groups(plan).into_iter().flatten() {
        if options.only.as_ref().is_some_and(|o| *o != repo_name) {
            continue;
        }
        let Some(repo) = discovered.repo(&repo_name) else {
            problems.push(format!(
                "{repo_name}: not in {}",
                discovered.config.path.display()
            ));
            continue;
        };
        match lockstep_snapshot::status(&repo.dir) {
            Ok(s) if s.is_clean() => {}
            Ok(s) => problems.push(format!(
                "{repo_name}: uncommitted changes to {}",
                s.dirty_paths().join(", ")
            )),
            Err(e) => problems.push(format!("{repo_name}: {e}")),
        }
        if let Some(want) = &repo.entry.branch
            && repo.branch.as_deref() != Some(want.as_str())
        {
            problems.push(format!(
                "{repo_name}: on branch {}, cascade.toml says {want}",
                repo.branch.as_deref().unwrap_or("(detached)")
            ));
        }
        for step in &steps {
            if step.release && !step.tag.ends_with(&step.to.to_string()) {
                problems.push(format!(
                    "{repo_name}: tag {} does not end in the package version {}",
                    step.tag, step.to
                ));
            }
            let tag = if step.release {
                Some(step.tag.as_str())
            } else {
                None
            };
            match tag
                .map(|t| lockstep_snapshot::tag_exists(&repo.dir, t))
                .unwrap_or(Ok(false))
            {
                Ok(true) => {
                    problems.push(format!("{repo_name}: tag {} already exists", step.tag));
                }
                Ok(_) => {}
                Err(e) => problems.push(format!("{repo_name}: {e}")),
            }
            let lockfile = lockfile_for(&repo.dir, &step.manifest, step.ecosystem);
            if let Some((_, file, tool)) = lockfile
                && !fsx::on_path(tool)
            {
                problems.push(format!(
                    "{repo_name}: {file} is committed but `{tool}` is not installed to regenerate it"
                ));
            }
            if lockfile.is_none() {
                let tools: &[&str] = match step.ecosystem {
                    Ecosystem::Cargo => &["cargo"],
                    Ecosystem::Npm => &["npm"],
                    _ => &["uv", "poetry"],
                };
                let installed: Vec<&str> =
                    tools.iter().copied().filter(|t| fsx::on_path(t)).collect();
                notes.push(format!(
                    "{repo_name}: {} has no committed lockfile, so only its manifest is updated ({})",
                    step.package,
                    if installed.is_empty() {
                        format!("{} not installed here", tools.join("/"))
                    } else {
                        format!("{} is installed", installed.join("/"))
                    }
                ));
            }
        }
    }
    // A version a registry already has cannot be released again.
    let registries = super::registry::Registries::from_config(&discovered.config.config);
    for step in plan.steps().filter(|s| s.publish) {
        if options.only.as_ref().is_some_and(|o| *o != step.repo) {
            continue;
        }
        let registry = registries.describe(step.ecosystem);
        match registries.is_published(step.ecosystem, &step.package, &step.to) {
            Ok(false) => {}
            Ok(true) => problems.push(format!(
                "{}: {} {} is already published on {registry}; a published version cannot be released again: release a higher version (--bump) or leave {} out of --from",
                step.repo, step.package, step.to, step.package
            )),
            Err(e) => problems.push(format!(
                "{}: cannot ask {registry} whether {} {} is published: {e}",
                step.repo, step.package, step.to
            )),
        }
    }
    if problems.is_empty() {
        Ok(notes)
    } else {
        Err(ExecError::Preflight(problems.join("\n  ")))
    }
}
