//! Publication: a repository's `publish` command (or, with `publish = "ci"`, the push of its
//! release tags that makes CI publish), then waiting until the registry shows each version
//! that a dependent of another repository resolves from it.
//!
//! The first publish is the cascade's point of no return: from then on nothing is rolled
//! back. A failure stops the cascade with its journal; `--resume` continues (a repository
//! whose publish command was interrupted is asked of its registry first, so a version is
//! published once), and `--abort` undoes only what is unpublished.

#[allow(unused_imports)]
use super::*;

use super::registry::Registries;
use lockstep_registry::visibility::Waited;

/// Whether any of the repository's released packages is published to a registry.
pub(super) fn publishes(steps: &[&Step]) -> bool {
    steps.iter().any(|s| s.publish)
}

/// Whether a repository's part of the cascade is complete: released, and, when it publishes,
/// visible where its dependents resolve from.
pub(super) fn is_done(status: RepoStatus, publishes: bool) -> bool {
    match status {
        RepoStatus::Visible => true,
        RepoStatus::Released => !publishes,
        _ => false,
    }
}

/// Whether a repository may have published something: from then on it is never rolled back.
pub(super) fn may_be_published(status: RepoStatus) -> bool {
    matches!(
        status,
        RepoStatus::Publishing | RepoStatus::Published | RepoStatus::Visible
    )
}

/// Whether the cascade passed its point of no return.
pub(super) fn past_point_of_no_return(ctx: &Ctx<'_>) -> bool {
    ctx.journal
        .lock()
        .map(|j| j.repos.values().any(|s| may_be_published(s.status)))
        .unwrap_or(true)
}

/// Publishes a released repository and waits for its registry; picks up where an interrupted
/// run stopped (publishing, or waiting).
pub(super) fn publish_and_wait(
    work: &mut Work<'_>,
    discovered: &Discovered,
    steps: &[&Step],
) -> Result<(), Failure> {
    let ctx = work.ctx;
    let name = work.name;
    let registries = Registries::from_config(&discovered.config.config);
    let status = ctx.state(name).map_or(RepoStatus::Released, |s| s.status);
    let published: Vec<&Step> = steps.iter().copied().filter(|s| s.publish).collect();
    if matches!(status, RepoStatus::Released | RepoStatus::Publishing) {
        let already = if status == RepoStatus::Publishing {
            // Interrupted while publishing: whatever the command left running goes, then the
            // registry says whether it got that far.
            if let Some(raw) = ctx
                .state(name)
                .and_then(|s| s.pgid)
                .and_then(lockstep_smoke::Pgid::new)
            {
                let _ = lockstep_smoke::kill_group(raw, Duration::from_secs(10));
            }
            let mut all = true;
            for s in &published {
                match registries.is_published(s.ecosystem, &s.package, &s.to) {
                    Ok(true) => {}
                    Ok(false) => all = false,
                    Err(e) => return Err(work.fail("publish", e)),
                }
            }
            all
        } else {
            false
        };
        if already {
            work.run
                .notes
                .push("published before the interruption (the registry has it)".to_owned());
        } else {
            ctx.update(name, |s| s.status = RepoStatus::Publishing)
                .map_err(state_err("publish", name))?;
            failpoint::hit("cascade_before_publish");
            work.timed("publish", |w| run_publish(w, discovered, steps))?;
        }
        ctx.update(name, |s| {
            s.status = RepoStatus::Published;
            s.pgid = None;
        })
        .map_err(state_err("publish", name))?;
        failpoint::hit("cascade_after_publish");
    }
    // Wait for what a dependent in another repository resolves from the registry.
    let plan = ctx.plan().map_err(state_err("wait", name))?;
    let awaited: Vec<&Step> = published
        .iter()
        .copied()
        .filter(|s| {
            plan.steps()
                .any(|d| d.repo != s.repo && d.upstreams.iter().any(|u| u.package == s.package))
        })
        .collect();
    if !awaited.is_empty() {
        work.timed("wait", |w| {
            for s in &awaited {
                let shown = format!(
                    "{} {} on {}",
                    s.package,
                    s.to,
                    registries.describe(s.ecosystem)
                );
                let mut report = |line: &str| (ctx.progress)(name, &format!("waiting for {shown}: {line}"));
                failpoint::hit("cascade_while_waiting");
                match registries.wait(s.ecosystem, &s.package, &s.to, &mut report) {
                    Ok(Waited::Visible { polls, elapsed }) => {
                        let seconds = elapsed.as_secs_f64();
                        w.run.notes.push(format!(
                            "{shown}: visible after {polls} poll(s), {seconds:.1} s"
                        ));
                    }
                    Ok(Waited::NotYet { polls, elapsed }) => {
                        let seconds = elapsed.as_secs_f64();
                        return Err(w.fail(
                            "wait",
                            format!(
                                "{shown} is not visible yet after {polls} poll(s) in {seconds:.0} s; it is published, so nothing is rolled back: run `release-cascade --resume` to wait again (raise [wait] timeout_s or LOCKSTEP_WAIT_TIMEOUT_S for a slow registry)"
                            ),
                        ));
                    }
                    Err(e) => {
                        return Err(w.fail(
                            "wait",
                            format!("{shown}: {e}; run `release-cascade --resume` to wait again"),
                        ));
                    }
                }
            }
            Ok(())
        })?;
    }
    ctx.update(name, |s| s.status = RepoStatus::Visible)
        .map_err(state_err("wait", name))?;
    Ok(())
}

/// Runs the repository's `publish` command at its release tag, or pushes its tags for CI.
fn run_publish(
    work: &mut Work<'_>,
    discovered: &Discovered,
    steps: &[&Step],
) -> Result<(), Failure> {
    let Some(command) = steps.iter().find_map(|s| s.publish_command.clone()) else {
        return Ok(());
    };
    let tags: Vec<String> = steps
        .iter()
        .filter(|s| s.release)
        .map(|s| s.tag.to_string())
        .collect();
    if command.trim() == "ci" {
        let repo = discovered
            .repo(work.name)
            .ok_or_else(|| work.fail("publish", "not in cascade.toml"))?;
        let remote = repo
            .entry
            .remote
            .clone()
            .unwrap_or_else(|| "origin".to_owned());
        let mut refs = vec![repo.branch.clone().unwrap_or_else(|| "HEAD".to_owned())];
        refs.extend(tags.iter().map(|t| format!("refs/tags/{t}")));
        (work.ctx.progress)(
            work.name,
            &format!(
                "git push {remote} {} (CI publishes from the tag)",
                refs.join(" ")
            ),
        );
        return match lockstep_snapshot::push(&work.dir, &remote, &refs, COMMAND_TIMEOUT) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(Failure {
                repo: work.name.to_owned(),
                step: "publish",
                message: format!("git push {remote} failed, so CI cannot publish"),
                output_tail: failure.output_tail,
            }),
            Err(e) => Err(work.fail("publish", format!("git push {remote}: {e}"))),
        };
    }
    let first = steps.iter().find(|s| s.release);
    let spec = CommandSpec::new("/bin/sh")
        .arg("-c")
        .arg(&command)
        .current_dir(&work.dir)
        .env("LOCKSTEP_RELEASE_TAGS", tags.join(" "))
        .versions(
            first.map(|s| s.from.to_string()).unwrap_or_default(),
            first.map(|s| s.to.to_string()).unwrap_or_default(),
        );
    work.run_command("publish", spec, &command)
}

/// A published package that `--abort` leaves in place, and how its owner may withdraw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StaysPublished {
    /// The package.
    pub package: String,
    /// The version published.
    pub version: String,
    /// Its repository.
    pub repo: String,
    /// The registry.
    pub registry: String,
    /// A command (or the place) that withdraws it, for the user to decide on.
    pub withdraw: String,
}

/// The packages of repositories that may have published, for `--abort`'s report.
pub(super) fn stays_published(ctx: &Ctx<'_>, registries: &Registries) -> Vec<StaysPublished> {
    let Ok(j) = ctx.journal.lock() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for step in j.plan.steps().filter(|s| s.publish) {
        let Some(state) = j.repos.get(step.repo.as_str()) else {
            continue;
        };
        if !may_be_published(state.status) {
            continue;
        }
        let version = step.to.to_string();
        let withdraw = match step.ecosystem {
            Ecosystem::Cargo => format!("cargo yank --version {version} {}", step.package),
            Ecosystem::Npm => format!(
                "npm deprecate {}@{version} \"withdrawn: the release cascade was aborted\"",
                step.package
            ),
            _ => format!(
                "yank {} {version} in the index's web interface (PyPI: Manage project → Releases → Options → Yank)",
                step.package
            ),
        };
        out.push(StaysPublished {
            package: step.package.to_string(),
            version,
            repo: step.repo.to_string(),
            registry: registries.describe(step.ecosystem),
            withdraw,
        });
    }
    out
}
