//! Releasing one repository: pins, versions, lockfile, smoke test, changelog, commit, tags.

#[allow(unused_imports)]
use super::*;

pub(super) struct Work<'a> {
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) name: &'a str,
    pub(super) dir: PathBuf,
    pub(super) run: RepoRun,
}

impl Work<'_> {
    pub(super) fn timed<T>(
        &mut self,
        step: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let t = Instant::now();
        let span = tracing::debug_span!("cascade.step", repo = self.name, step);
        let _entered = span.enter();
        (self.ctx.progress)(self.name, step);
        let r = f(self);
        let took = ms(t.elapsed());
        match &r {
            Ok(_) => tracing::debug!(ms = took, "step done"),
            Err(failure) => tracing::debug!(ms = took, message = %failure.message, "step failed"),
        }
        self.run.steps.push(StepTime { step, ms: took });
        r
    }

    pub(super) fn fail(&self, step: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            repo: self.name.to_owned(),
            step,
            message: message.into(),
            output_tail: String::new(),
        }
    }

    pub(super) fn run_command(
        &self,
        step: &'static str,
        spec: CommandSpec,
        shown: &str,
    ) -> Result<(), Failure> {
        let mut spec = spec
            .timeout(COMMAND_TIMEOUT)
            .env("LOCKSTEP_CASCADE_REPO", self.name);
        for (k, v) in &self.ctx.options.env {
            spec = spec.env(k, v);
        }
        let name = self.name.to_owned();
        let result = lockstep_smoke::run_recorded(&spec, |pgid| {
            let _ = self
                .ctx
                .update(&name, |s| s.pgid = pgid.map(|g| g.as_raw()));
            if pgid.is_some() && step == "smoke" {
                failpoint::hit("cascade_during_smoke");
            }
            if pgid.is_some() && step == "publish" {
                failpoint::hit("cascade_during_publish");
            }
        })
        .map_err(|e| self.fail(step, format!("cannot run `{shown}`: {e}")))?;
        if result.outcome.is_passed() {
            Ok(())
        } else {
            Err(Failure {
                repo: self.name.to_owned(),
                step,
                message: format!("`{shown}` {}", result.outcome),
                output_tail: result.output.tail_text(15),
            })
        }
    }
}

pub(super) fn release_repo(
    ctx: &Ctx<'_>,
    discovered: &Discovered,
    name: &str,
    wave: usize,
    steps: &[&Step],
) -> RepoResult {
    let started = Instant::now();
    let _span =
        tracing::info_span!("cascade.repo", repo = name, wave, packages = steps.len()).entered();
    let dir = discovered
        .repo(name)
        .map(|r| r.dir.clone())
        .unwrap_or_default();
    let mut work = Work {
        ctx,
        name,
        dir,
        run: RepoRun::planned(name, wave, steps, "failed"),
    };
    let result = release_steps(&mut work, discovered, steps);
    work.run.ms = ms(started.elapsed());
    match result {
        Ok(()) => {
            work.run.status = "released".to_owned();
            let _ = ctx.record(
                |r| {
                    r.detail("repo", name.to_owned())
                        .detail("commit", work.run.commit.clone().unwrap_or_default())
                        .detail(
                            "tags",
                            steps
                                .iter()
                                .filter(|s| s.release)
                                .map(|s| s.tag.to_string())
                                .collect::<Vec<_>>(),
                        )
                },
                "cascade_repo_released",
                "released",
            );
            Ok(work.run)
        }
        Err(f) => {
            let _ = ctx.record(
                |r| {
                    r.detail("repo", name.to_owned())
                        .detail("step", f.step)
                        .detail("failure", f.message.clone())
                },
                "cascade_repo_failed",
                "failed",
            );
            Err(Box::new((work.run, f)))
        }
    }
}

pub(super) fn state_err<'n>(
    step: &'static str,
    name: &'n str,
) -> impl FnOnce(ExecError) -> Failure + 'n {
    move |e| Failure {
        repo: name.to_owned(),
        step,
        message: e.to_string(),
        output_tail: String::new(),
    }
}

pub(super) fn release_steps(
    work: &mut Work<'_>,
    discovered: &Discovered,
    steps: &[&Step],
) -> Result<(), Failure> {
    let ctx = work.ctx;
    let name = work.name;
    let dir = work.dir.clone();
    // Steps that are not released only have their pins rewritten: no version, changelog or tag.
    let released: Vec<&Step> = steps.iter().copied().filter(|s| s.release).collect();
    let store = ctx.state_dir.join("snapshots").join(name);
    // Released before an interruption, its publication not finished: carry on from there.
    if ctx.state(name).is_some_and(|s| {
        matches!(
            s.status,
            RepoStatus::Released | RepoStatus::Publishing | RepoStatus::Published
        )
    }) {
        work.run.commit = ctx.state(name).and_then(|s| s.commit);
        return publish_and_wait(work, discovered, steps);
    }

    // Snapshot.
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut id = SnapshotId::timestamped("pre-cascade", i64::try_from(secs).unwrap_or(0))
        .map_err(|e| work.fail("snapshot", e.to_string()))?;
    let mut n = 2;
    while store.join(id.as_str()).exists() {
        id = SnapshotId::new(format!("pre-cascade-{secs}-{n}"))
            .map_err(|e| work.fail("snapshot", e.to_string()))?;
        n += 1;
    }
    ctx.update(name, |s| {
        s.status = RepoStatus::Snapshotting;
        s.snapshot = Some(id.to_string());
    })
    .map_err(state_err("snapshot", name))?;
    work.timed("snapshot", |w| {
        lockstep_snapshot::snapshot(&dir, &id, &[] as &[&Path], &store)
            .map(drop)
            .map_err(|e| w.fail("snapshot", e.to_string()))
    })?;
    ctx.update(name, |s| s.status = RepoStatus::Working)
        .map_err(state_err("snapshot", name))?;
    failpoint::hit("cascade_after_snapshot");

    // Pins.
    work.timed("pins", |w| {
        for step in steps {
            for edit in &step.pin_edits {
                let path = dir.join(&edit.file);
                let eco = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(Ecosystem::from_file_name)
                    .ok_or_else(|| {
                        w.fail("pins", format!("{} is not a package manifest", edit.file))
                    })?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| w.fail("pins", format!("cannot read {}: {e}", edit.file)))?;
                let value = match edit.kind {
                    EditKind::Tag => PinValue::Tag(edit.to.to_string()),
                    _ => PinValue::Version(edit.to.to_string()),
                };
                let out = lockstep_pins::set_pin(eco, &text, &edit.dependency, &value)
                    .map_err(|e| w.fail("pins", format!("{}: {e}", edit.file)))?;
                fsx::write_atomic(&path, out.text.as_bytes())
                    .map_err(|e| w.fail("pins", format!("cannot write {}: {e}", edit.file)))?;
            }
        }
        Ok(())
    })?;

    // Versions.
    work.timed("version", |w| {
        // Members that inherit `[workspace.package] version` are bumped at the root, once.
        let mut root_version: Option<&semver::Version> = None;
        // A tag-versioned package's version is its tag: no field to edit.
        for step in released.iter().filter(|s| !s.tag_versioned) {
            let eco = step.ecosystem;
            let mut file = step.manifest.to_string();
            let mut text = std::fs::read_to_string(dir.join(&file))
                .map_err(|e| w.fail("version", format!("cannot read {file}: {e}")))?;
            let mut out = lockstep_pins::set_version(eco, &text, &step.to.to_string());
            if let Err(lockstep_pins::Error::VersionNotHere { .. }) = &out
                && eco == Ecosystem::Cargo
            {
                if let Some(v) = root_version.filter(|v| **v != step.to) {
                    return Err(w.fail(
                        "version",
                        format!(
                            "{} inherits the workspace version, which this release already sets to {v}, not {}; give the members their own versions or release them together",
                            step.package, step.to
                        ),
                    ));
                }
                root_version = Some(&step.to);
                file = "Cargo.toml".to_owned();
                text = std::fs::read_to_string(dir.join(&file))
                    .map_err(|e| w.fail("version", format!("cannot read {file}: {e}")))?;
                out = lockstep_pins::set_version(eco, &text, &step.to.to_string());
            }
            let out = out.map_err(|e| w.fail("version", format!("{file}: {e}")))?;
            fsx::write_atomic(&dir.join(&file), out.text.as_bytes())
                .map_err(|e| w.fail("version", format!("cannot write {file}: {e}")))?;
        }
        Ok(())
    })?;

    // Lockfiles.
    work.timed("lockfile", |w| {
        let mut seen: Vec<PathBuf> = Vec::new();
        for step in steps {
            // Nothing in the manifest changed (a tag-versioned release with no pin to move):
            // the lockfile stays as committed. Regenerating it anyway rewrites it with this
            // machine's tool version, which can drop or reorder entries for no reason.
            if step.pin_edits.is_empty() && (step.tag_versioned || !step.release) {
                continue;
            }
            let found = lockfile_for(&dir, &step.manifest, step.ecosystem);
            let Some((lock_dir, file, tool)) = found else {
                continue;
            };
            if seen.contains(&lock_dir) {
                continue;
            }
            seen.push(lock_dir.clone());
            // The plan's command, so a dry run and a real run agree; computed only for a
            // lockfile discovery did not know about.
            let planned: Option<Vec<String>> = step
                .lockfile_command
                .as_deref()
                .map(|c| c.split_whitespace().map(str::to_owned).collect())
                .filter(|v: &Vec<String>| v.len() > 1 && v[0] == tool);
            let args: Vec<String> = match (planned, tool) {
                (Some(v), _) => v[1..].to_vec(),
                (None, "cargo") => vec!["update".into(), "--workspace".into()],
                (None, "npm") => vec![
                    "install".into(),
                    "--package-lock-only".into(),
                    "--ignore-scripts".into(),
                ],
                (None, _) => vec!["lock".into()],
            };
            let shown = format!("{tool} {}", args.join(" "));
            w.run.notes.push(format!("{file}: {shown}"));
            w.run_command(
                "lockfile",
                CommandSpec::new(tool).args(&args).current_dir(&lock_dir),
                &shown,
            )?;
        }
        lockfiles_moved(w, &dir, steps)
    })?;

    // Smoke tests.
    let smoke = discovered.repo(name).and_then(|r| r.entry.smoke.clone());
    if let Some(cmd) = smoke {
        work.timed("smoke", |w| {
            let first = released.first().or(steps.first());
            let spec = CommandSpec::new("/bin/sh")
                .arg("-c")
                .arg(&cmd)
                .current_dir(&dir)
                .versions(
                    first.map(|s| s.from.to_string()).unwrap_or_default(),
                    first.map(|s| s.to.to_string()).unwrap_or_default(),
                );
            w.run_command("smoke", spec, &cmd)
        })?;
    }

    // Changelog.
    let mut paths: Vec<PathBuf> = Vec::new();
    work.timed("changelog", |w| {
        for step in &released {
            let rel = Path::new(&step.manifest)
                .parent()
                .map(|p| p.join("CHANGELOG.md"))
                .unwrap_or_else(|| PathBuf::from("CHANGELOG.md"));
            let path = dir.join(&rel);
            // The package's own history since its previous release; none without a tag to
            // count from (the whole history is not this release's).
            let package_dir = Path::new(&step.manifest)
                .parent()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let commits = match previous_tag(&dir, step) {
                Some(since) => {
                    lockstep_snapshot::log_since_touching(&dir, Some(&since), &package_dir)
                        .map(|c| c.into_iter().map(|c| c.summary).collect::<Vec<_>>())
                        .unwrap_or_default()
                }
                None => Vec::new(),
            };
            let old = std::fs::read_to_string(&path).unwrap_or_default();
            let text = changelog_entry(&old, step, &commits, &today());
            fsx::write_atomic(&path, text.as_bytes())
                .map_err(|e| w.fail("changelog", format!("cannot write {}: {e}", rel.display())))?;
            paths.push(rel);
        }
        Ok(())
    })?;

    // Commit.
    work.timed("commit", |w| {
        let message = match released.as_slice() {
            [one] => one.commit_message(),
            [] => format!(
                "chore(deps): update pins of {}",
                steps
                    .iter()
                    .map(|s| s.package.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            many => format!(
                "chore(release): {}",
                many.iter()
                    .map(|s| format!("{} v{}", s.package, s.to))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let result = lockstep_snapshot::commit_as_configured(&dir, &message, &paths);
        let id = result.map_err(|e| w.fail("commit", e.to_string()))?;
        w.run.commit = Some(id.to_string());
        Ok(())
    })?;
    let commit = work.run.commit.clone();
    ctx.update(name, |s| s.commit = commit)
        .map_err(state_err("commit", name))?;
    failpoint::hit("cascade_after_commit");

    // Tags.
    work.timed("tag", |w| {
        // A repository tagging one shared version (`v1.0.228`) gets that tag once.
        let mut made = std::collections::BTreeSet::new();
        for step in &released {
            if !made.insert(step.tag.clone()) {
                continue;
            }
            ctx.update(name, |s| s.tags.push(step.tag.to_string()))
                .map_err(state_err("tag", name))?;
            let message = provenance::tag_message(&dir, step);
            let result = lockstep_snapshot::create_tag_as_configured(&dir, &step.tag, &message);
            result.map_err(|e| w.fail("tag", e.to_string()))?;
        }
        Ok(())
    })?;
    ctx.update(name, |s| s.status = RepoStatus::Released)
        .map_err(state_err("tag", name))?;
    failpoint::hit("cascade_after_repo");
    if publishes(steps) {
        publish_and_wait(work, discovered, steps)?;
    }
    Ok(())
}

/// Reads each regenerated lockfile back: every dependency whose pin this release rewrote must
/// now resolve to the version the plan builds against. A lockfile that did not move (a stale
/// index, a cached registry answer, a requirement the tool satisfied otherwise) fails here,
/// naming the pin, instead of being committed.
fn lockfiles_moved(work: &mut Work<'_>, dir: &Path, steps: &[&Step]) -> Result<(), Failure> {
    let plan = work.ctx.plan().map_err(state_err("lockfile", work.name))?;
    let tag_versioned: std::collections::BTreeSet<&str> = plan
        .steps()
        .filter(|u| u.tag_versioned)
        .map(|u| u.package.as_str())
        .collect();
    for step in steps {
        let Some((lock_dir, file, _)) = lockfile_for(dir, &step.manifest, step.ecosystem) else {
            continue;
        };
        let path = lock_dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            work.fail(
                "lockfile",
                format!("cannot read {} back: {e}", path.display()),
            )
        })?;
        let tag_versioned = |package: &str| tag_versioned.contains(package);
        if let Some(stale) = stale_pin(file, &text, step, tag_versioned) {
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            return Err(work.fail("lockfile", format!("{rel} {stale}")));
        }
    }
    Ok(())
}

/// The first pin of `step` that `lockfile` (its file name and text) does not resolve to the
/// version the plan builds against, as the rest of a sentence naming the lockfile; `None` when
/// every rewritten pin moved. `tag_versioned` says whether an upstream's version lives in its
/// tags only: a git pin on one locks the placeholder its tagged manifest holds (`0.0.0-dev`),
/// so the tag in the pin is the check there.
fn stale_pin(
    lockfile: &str,
    text: &str,
    step: &Step,
    tag_versioned: impl Fn(&str) -> bool,
) -> Option<String> {
    for edit in &step.pin_edits {
        let Some(wanted) = step.upstreams.iter().find(|u| u.package == edit.dependency) else {
            continue;
        };
        if edit.kind == EditKind::Tag && tag_versioned(&edit.dependency) {
            continue;
        }
        let locked = lockstep_pins::locked_version(lockfile, text, &edit.dependency);
        if locked.as_ref() == Some(&wanted.version) {
            continue;
        }
        let found = locked.map_or_else(
            || "does not name it".to_owned(),
            |v| format!("still resolves {v}"),
        );
        return Some(format!(
            "{found} for {dep} after regeneration, but {file} now pins it at {to} (expected {want}); check that the registry serves {dep} {want} to this tool (its cache, its index URL), then run the cascade again",
            dep = edit.dependency,
            file = edit.file,
            to = edit.to,
            want = wanted.version,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> Step {
        serde_json::from_value(serde_json::json!({
            "package": "pyapp", "repo": "pyapp", "ecosystem": "python",
            "manifest": "pyproject.toml", "from": "1.0.0", "to": "1.0.1", "bump": "patch",
            "reason": "pins pycore 1.1.0", "tag": "v1.0.1",
            "pin_edits": [{"file": "pyproject.toml", "dependency": "pycore",
                           "from": ">=1.0,<2", "to": ">=1.1.0,<2", "kind": "requirement"}],
            "tag_versioned": true, "lockfile_command": null, "smoke": null,
            "upstreams": [{"package": "pycore", "version": "1.1.0"}]
        }))
        .expect("a step as plans serialise it")
    }

    fn uv_lock(pycore: &str) -> String {
        format!(
            "version = 1\n\n[[package]]\nname = \"pyapp\"\nsource = {{ editable = \".\" }}\n\n[[package]]\nname = \"pycore\"\nversion = \"{pycore}\"\nsource = {{ registry = \"http://127.0.0.1:1/simple/\" }}\n"
        )
    }

    #[test]
    fn a_lockfile_that_did_not_move_names_the_pin() {
        let step = step();
        assert_eq!(
            stale_pin("uv.lock", &uv_lock("1.1.0"), &step, |_| false),
            None
        );
        let stale =
            stale_pin("uv.lock", &uv_lock("1.0.0"), &step, |_| false).expect("1.0.0 is stale");
        assert!(
            stale.starts_with("still resolves 1.0.0 for pycore after regeneration, but pyproject.toml now pins it at >=1.1.0,<2 (expected 1.1.0)"),
            "{stale}"
        );
        let missing = stale_pin("uv.lock", "version = 1\n", &step, |_| false).expect("absent");
        assert!(
            missing.starts_with("does not name it for pycore"),
            "{missing}"
        );
    }

    #[test]
    fn a_git_pin_on_a_tag_versioned_package_is_checked_by_its_tag() {
        let mut step = step();
        step.pin_edits[0].kind = EditKind::Tag;
        let lock = uv_lock("0.0.0");
        assert_eq!(stale_pin("uv.lock", &lock, &step, |p| p == "pycore"), None);
        assert!(stale_pin("uv.lock", &lock, &step, |_| false).is_some());
    }
}
