//! Planning an upgrade: verdict, changelog, the files it changes, tests, risk, downtime and the digest.

#[allow(unused_imports)]
use super::*;

/// Computes the upgrade plan. Reads the work tree; changes nothing.
pub fn plan(
    vertical: &Vertical,
    current: &Current,
    releases: &[Release],
    request: &Request,
) -> Result<Planned, Error> {
    let manifest = &vertical.manifest;
    let checker = Checker::new(releases, request.policy.clone());
    let target_release = match &request.target {
        Some(v) => {
            releases
                .iter()
                .find(|r| r.version == *v)
                .ok_or_else(|| Error::UnknownTarget {
                    version: v.clone(),
                    registry: request.registry.clone(),
                })?
        }
        None => {
            let report = crate::update::report(
                manifest,
                &current.version,
                None,
                releases,
                request.policy.clone(),
            );
            match report.latest_compatible {
                Some(c) => releases
                    .iter()
                    .find(|r| r.version.to_string() == c.version)
                    .ok_or_else(|| Error::UnknownTarget {
                        version: current.version.clone(),
                        registry: request.registry.clone(),
                    })?,
                None => {
                    return Ok(Planned::UpToDate {
                        pending_recovery: Journal::path(&vertical.state_dir()).exists(),
                        current: current.version.clone(),
                        latest_blocked: report
                            .latest
                            .and_then(|l| Some((Version::parse(&l.version).ok()?, l.reasons))),
                    });
                }
            }
        }
    };
    match target_release.version.cmp_precedence(&current.version) {
        Ordering::Equal => {
            return Ok(Planned::UpToDate {
                current: current.version.clone(),
                latest_blocked: None,
                pending_recovery: Journal::path(&vertical.state_dir()).exists(),
            });
        }
        Ordering::Less => {
            return Err(Error::NotAnUpgrade {
                target: target_release.version.clone(),
                current: current.version.clone(),
            });
        }
        Ordering::Greater => {}
    }
    let verdict = checker.check(target_release, manifest);
    let target = &target_release.version;

    let mut in_range: Vec<&Release> = releases
        .iter()
        .filter(|r| {
            r.version.cmp_precedence(&current.version) == Ordering::Greater
                && r.version.cmp_precedence(target) != Ordering::Greater
        })
        .collect();
    in_range.sort_by(|a, b| a.version.cmp_precedence(&b.version));
    let changelog: Vec<ChangelogEntry> = in_range
        .iter()
        .map(|r| ChangelogEntry {
            version: r.version.to_string(),
            breaking: r.changelog.breaking.clone(),
            features: r.changelog.features.clone(),
            fixes: r.changelog.fixes.clone(),
        })
        .collect();
    let migration: Vec<Migration> = in_range
        .iter()
        .filter(|r| r.migration_notes.is_some() || r.migration_guide_url.is_some())
        .map(|r| Migration {
            version: r.version.to_string(),
            notes: r.migration_notes.clone(),
            guide_url: r.migration_guide_url.clone(),
        })
        .collect();

    let (apply, changes, extra_digest) = plan_apply(vertical, target_release)?;
    let smoke_tests = smoke_plan(vertical, request.smoke_timeout);

    let breaking: usize = changelog.iter().map(|c| c.breaking.len()).sum();
    let mut why = Vec::new();
    if breaking > 0 {
        why.push(format!(
            "{breaking} breaking change(s) between {} and {target}",
            current.version
        ));
    }
    if smoke_tests.is_none() {
        why.push("no smoke tests: a broken upgrade would be committed".to_owned());
    }
    let level = if !why.is_empty() {
        "high"
    } else if verdict.status == Status::CompatibleWithWarnings {
        why.extend(verdict.reasons.iter().map(|r| r.message.clone()));
        "medium"
    } else {
        why.push("compatible, no breaking changes, smoke tests will run".to_owned());
        "low"
    };
    if verdict.status == Status::Blocked {
        why.insert(
            0,
            "the verdict is blocked: `upgrade` will refuse".to_owned(),
        );
    }
    let downtime = estimate_downtime(vertical, &apply, smoke_tests.as_ref());
    let head = lockstep_snapshot::head(&vertical.root)
        .ok()
        .and_then(|h| h.commit)
        .map(|c| c.to_string());
    let pending_recovery = Journal::path(&vertical.state_dir()).exists();

    let mut plan = Plan {
        schema: PLAN_SCHEMA,
        vertical: manifest.domain_name.clone(),
        manifest: vertical.manifest_path.display().to_string(),
        current: current.version.to_string(),
        current_source: current.source.to_string(),
        target: target.to_string(),
        verdict: verdict.status,
        reasons: verdict.reasons,
        changelog,
        migration,
        apply,
        changes,
        smoke_tests,
        risk: Risk { level, why },
        downtime,
        head,
        digest: String::new(),
        pending_recovery: false,
    };
    plan.digest = digest(&plan, vertical, &extra_digest);
    plan.pending_recovery = pending_recovery;
    Ok(Planned::Plan(Box::new(plan)))
}

pub(super) fn digest(plan: &Plan, vertical: &Vertical, extra: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"lockstep.plan/v1\0");
    // `downtime` comes from the audit history, which every run extends: leave it out.
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("downtime");
        obj.remove("digest");
        obj.remove("pending_recovery");
    }
    h.update(value.to_string().as_bytes());
    h.update(b"\0");
    h.update(std::fs::read(&vertical.manifest_path).unwrap_or_default());
    h.update(b"\0");
    h.update(extra);
    lockstep_state::hex::encode(&h.finalize())
}

pub(super) fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

pub(super) fn plan_apply(
    vertical: &Vertical,
    release: &Release,
) -> Result<(Apply, Vec<FileChange>, Vec<u8>), Error> {
    let target = &release.version;
    let mode = vertical
        .manifest
        .core
        .as_ref()
        .and_then(|c| c.mode.clone())
        .ok_or_else(|| Error::NoCoreMode {
            manifest: vertical.manifest_path.clone(),
        })?;
    match mode {
        CoreMode::Checkout => {
            let tag = format!("v{target}");
            if !lockstep_snapshot::tag_exists(&vertical.root, &tag)
                .map_err(crate::txn::Error::from)?
            {
                return Err(Error::MissingTag {
                    root: vertical.root.clone(),
                    tag,
                });
            }
            let changes = vec![FileChange {
                path: ".".to_owned(),
                change: format!(
                    "the work tree is checked out at tag {tag} (the branch moves to it)"
                ),
            }];
            Ok((Apply::Checkout { tag }, changes, Vec::new()))
        }
        CoreMode::Pin { file, dependency } => {
            let path = vertical.dir.join(&file);
            let perr = |message: String| Error::Pin {
                file: path.clone(),
                message,
            };
            let text =
                std::fs::read_to_string(&path).map_err(|e| perr(format!("cannot read it: {e}")))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let eco = Ecosystem::from_file_name(name).ok_or_else(|| {
                perr("core.file must name a Cargo.toml, package.json or pyproject.toml".to_owned())
            })?;
            let deps =
                lockstep_pins::pins(eco, &text, &dependency).map_err(|e| perr(e.to_string()))?;
            let first = deps
                .first()
                .ok_or_else(|| perr(format!("no dependency named `{dependency}`; core.dependency must name core as written there")))?;
            let new = new_pin(&first.pin, target, release, eco).map_err(perr)?;
            let pin_from = first.pin.describe();
            let (pin_to, changed) = match &new {
                Some(value) => {
                    let edit = lockstep_pins::set_pin(eco, &text, &dependency, value)
                        .map_err(|e| perr(e.to_string()))?;
                    (value.as_str().to_owned(), edit.text != text)
                }
                None => (pin_from.clone(), false),
            };
            let tool = LockTool::for_manifest(eco, &text).map_err(|e| perr(e.to_string()))?;
            let pin_value = new
                .clone()
                .unwrap_or_else(|| PinValue::Version(target.to_string()));

            let cmd = tool.after_pin_change(&dependency, &pin_value, Some(&target.to_string()));
            let pkg_dir = path.parent().unwrap_or(&vertical.dir).to_path_buf();
            let lockfile = find_lockfile(&pkg_dir, &vertical.root, tool.lockfile_name());
            let lock_dir = lockfile.parent().unwrap_or(&pkg_dir).to_path_buf();
            let mut changes = Vec::new();
            if changed {
                changes.push(FileChange {
                    path: rel(&vertical.root, &path),
                    change: format!("`{dependency}`: {pin_from} → {pin_to}"),
                });
            }
            changes.push(FileChange {
                path: rel(&vertical.root, &lockfile),
                change: format!("`{dependency}` resolved to {target} by `{cmd}`"),
            });
            let mut extra = text.into_bytes();
            extra.extend(std::fs::read(&lockfile).unwrap_or_default());
            let mut command = vec![cmd.program.to_owned()];
            command.extend(cmd.args.iter().cloned());
            Ok((
                Apply::Pin {
                    file: rel(&vertical.root, &path),
                    dependency,
                    pin_from,
                    pin_to: if changed {
                        pin_to
                    } else {
                        "(unchanged)".to_owned()
                    },
                    new_pin: new.filter(|_| changed),
                    lockfile: rel(&vertical.root, &lockfile),
                    lockfile_command: command,
                    lockfile_dir: rel(&vertical.root, &lock_dir),
                },
                changes,
                extra,
            ))
        }
    }
}

/// The pin value that makes `old` select `target`; `None` when `old` already admits it.
pub(super) fn new_pin(
    old: &Pin,
    target: &Version,
    release: &Release,
    eco: Ecosystem,
) -> Result<Option<PinValue>, String> {
    match old {
        Pin::Git { reference: GitRef::Tag(tag), .. } => {
            let prefix = if tag.starts_with('v') { "v" } else { "" };
            Ok(Some(PinValue::Tag(format!("{prefix}{target}"))))
        }
        Pin::Git { reference: GitRef::Rev(_), .. } => release
            .commit
            .clone()
            .map(|c| Some(PinValue::Rev(c)))
            .ok_or_else(|| format!("core is pinned by git rev, and release {target} does not name its commit in the registry")),
        Pin::Version(req) | Pin::Path { version: Some(req), .. } => Ok(rewrite_requirement(req, target, eco).map(PinValue::Version)),
        other => Err(format!(
            "core is pinned as {}; lockstep rewrites a version requirement or a git tag or rev",
            other.describe()
        )),
    }
}

/// The pin an upgrade writes for a version requirement: the target at full precision, keeping
/// the operator (the vocabulary's rewrite with `exact`), so the manifest says which core the
/// vertical was upgraded to. On Cargo, a requirement that already admits the target is left
/// alone (`None`): the lockfile update selects the target precisely. A requirement lockstep
/// cannot read is replaced by the ecosystem's exact form of the target.
pub fn rewrite_requirement(req: &str, target: &Version, eco: Ecosystem) -> Option<String> {
    let Ok(parsed) = Requirement::parse(req.trim(), eco) else {
        return Some(match eco {
            Ecosystem::Python => format!("=={target}"),
            _ => target.to_string(),
        });
    };
    if eco == Ecosystem::Cargo && parsed.admits(target) {
        return None;
    }
    match parsed.rewrite(target, true) {
        Rewrite::Admits => None,
        Rewrite::To(text) => Some(text),
    }
}

pub(super) fn find_lockfile(start: &Path, root: &Path, name: &str) -> PathBuf {
    let mut d = Some(start);
    while let Some(cur) = d {
        if cur.join(name).exists() {
            return cur.join(name);
        }
        if cur == root {
            break;
        }
        d = cur.parent();
    }
    start.join(name)
}

/// The smoke command: the manifest's `smoke_tests.command`, else `smoke_tests/run.sh` beside
/// the manifest when it exists.
pub fn smoke_command(vertical: &Vertical) -> Option<Vec<String>> {
    if let Some(st) = &vertical.manifest.smoke_tests {
        return Some(st.command.clone());
    }
    let script = vertical.dir.join("smoke_tests").join("run.sh");
    script
        .is_file()
        .then(|| vec!["smoke_tests/run.sh".to_owned()])
}

pub(super) fn smoke_plan(vertical: &Vertical, timeout: Option<Duration>) -> Option<SmokePlan> {
    smoke_command(vertical).map(|command| SmokePlan {
        command,
        dir: vertical.dir.display().to_string(),
        timeout_seconds: timeout.map_or(
            u64::from(vertical.manifest.compatibility.smoke_tests_timeout),
            |t| t.as_secs(),
        ),
    })
}

pub(super) fn estimate_downtime(
    vertical: &Vertical,
    apply: &Apply,
    smoke: Option<&SmokePlan>,
) -> Downtime {
    let last = crate::txn::audit_log(&vertical.root)
        .ok()
        .and_then(|log| log.records().ok())
        .and_then(|records| {
            records.into_iter().rev().find_map(|r| {
                let smoke = r.details.get("smoke_ms")?.as_u64()?;
                let lock = r
                    .details
                    .get("lockfile_ms")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                Some(smoke + lock)
            })
        });
    match (last, smoke) {
        (Some(ms), _) => Downtime {
            seconds: ms.div_ceil(1000) + 1,
            basis: format!(
                "the last upgrade's lockfile update and smoke tests took {:.1} s",
                ms as f64 / 1000.0
            ),
        },
        (None, Some(s)) => Downtime {
            seconds: s.timeout_seconds,
            basis: format!(
                "at most the smoke test timeout ({} s){}; no earlier run to measure",
                s.timeout_seconds,
                if matches!(apply, Apply::Pin { .. }) {
                    " plus the lockfile update"
                } else {
                    ""
                }
            ),
        },
        (None, None) => Downtime {
            seconds: 1,
            basis: "no smoke tests run; the change itself takes about a second".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_keep_their_operator() {
        let v = Version::new(1, 3, 0);
        let check = |req: &str, eco: Ecosystem, want: Option<&str>| {
            assert_eq!(
                rewrite_requirement(req, &v, eco).as_deref(),
                want,
                "{req} ({eco:?})"
            );
        };
        check("=1.2.0", Ecosystem::Cargo, Some("=1.3.0"));
        check("^1.2", Ecosystem::Cargo, None); // already admits 1.3.0
        check("~1.2", Ecosystem::Cargo, Some("~1.3.0"));
        check("1.2", Ecosystem::Cargo, None);
        check("0.9", Ecosystem::Cargo, Some("1.3.0"));
        check("==1.2.0", Ecosystem::Python, Some("==1.3.0"));
        check("~=1.2", Ecosystem::Python, Some("~=1.3.0"));
        check("1.2.0", Ecosystem::Npm, Some("1.3.0"));
        check("^1.2.0", Ecosystem::Npm, Some("^1.3.0"));
    }
}
