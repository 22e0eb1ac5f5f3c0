//! Pushing the released branches and tags to their remotes.

#[allow(unused_imports)]
use super::*;

/// Pushes each repository's branch and tags, in plan order; on a failure, deletes the tags
/// already pushed and reports.
pub(super) fn push_all(
    ctx: &Ctx<'_>,
    discovered: &Discovered,
    plan: &Plan,
) -> Result<Vec<String>, Failure> {
    let mut pushed: Vec<(PathBuf, String, String)> = Vec::new();
    let mut done = Vec::new();
    for wave in groups(plan) {
        for (name, steps) in wave {
            let Some(repo) = discovered.repo(&name) else {
                continue;
            };
            let remote = repo
                .entry
                .remote
                .clone()
                .unwrap_or_else(|| "origin".to_owned());
            let branch = repo.branch.clone().unwrap_or_else(|| "HEAD".to_owned());
            let mut args = vec!["push".to_owned(), remote.clone(), branch];
            // `git push REMOTE BRANCH TAG…`, as the progress line shows it.
            args.extend(
                steps
                    .iter()
                    .filter(|s| s.release)
                    .map(|s| format!("refs/tags/{}", s.tag)),
            );
            (ctx.progress)(&name, &format!("git {}", args.join(" ")));
            let result =
                match lockstep_snapshot::push(&repo.dir, &remote, &args[2..], COMMAND_TIMEOUT) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(failure)) => Err(failure.output_tail),
                    Err(e) => Err(e.to_string()),
                };
            match result {
                Ok(()) => {
                    for s in steps.iter().filter(|s| s.release) {
                        pushed.push((repo.dir.clone(), remote.clone(), s.tag.to_string()));
                    }
                    done.push(name.clone());
                }
                Err(tail) => {
                    for (dir, remote, tag) in pushed.iter().rev() {
                        let _ = lockstep_snapshot::push(
                            dir,
                            remote,
                            &[format!(":refs/tags/{tag}")],
                            COMMAND_TIMEOUT,
                        );
                    }
                    return Err(Failure {
                        repo: name.clone(),
                        step: "push",
                        message: "push failed; the tags already pushed were deleted from their remotes, and the local releases stand (push again when the remote is fixed)".to_owned(),
                        output_tail: tail,
                    });
                }
            }
        }
    }
    Ok(done)
}
