//! `release-cascade`: glue between the command line and `lockstep_release`.

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use lockstep_release::Plan;
use lockstep_release::{self as cascade, Discovered, execute};

use crate::cli::{CascadeArgs, DemoKind};
use crate::fail::fail;
use crate::out::{BOLD, DIM, Failure, GREEN, Out, RED, Table, YELLOW, paint};

pub fn run(cwd: &Path, mut args: CascadeArgs, out: &Out) -> Result<u8, Failure> {
    let mut demo_note = None;
    // The python demo's registries run until the cascade is over; dropping them stops them.
    let mut registries: Option<cascade::demo_python::LocalRegistries> = None;
    if let Some(kind) = args.demo {
        let dir = match &args.demo_dir {
            Some(d) => cwd.join(d),
            None => {
                let base = std::env::temp_dir();
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis());
                base.join(format!(
                    "lockstep-cascade-demo-{}-{stamp}",
                    std::process::id()
                ))
            }
        };
        let config = match kind {
            DemoKind::Rust => {
                out.eprint(&format!(
                    "{} building demo repositories in {}\n",
                    paint(DIM, "demo:"),
                    dir.display()
                ));
                let config = cascade::demo::build(&dir).map_err(|m| Failure::input("demo", m))?;
                if args.from.is_empty() {
                    args.from = vec!["manifest".to_owned()];
                }
                config
            }
            DemoKind::Python => {
                out.eprint(&format!(
                    "{} starting pypiserver and verdaccio on 127.0.0.1\n",
                    paint(DIM, "demo:"),
                ));
                let search = [cwd.join("target/ci-tools/node_modules/.bin")];
                let servers = cascade::demo_python::LocalRegistries::start(&dir, &search)
                    .map_err(|m| Failure::input("demo_tools", m))?;
                out.eprint(&format!(
                    "{} PyPI at {}, npm registry at {}; building and publishing the 1.0.0 releases in {}\n",
                    paint(DIM, "demo:"),
                    servers.pypi_url(),
                    servers.npm_url(),
                    dir.display()
                ));
                let config = cascade::demo_python::build(&dir, &servers)
                    .map_err(|m| Failure::input("demo", m))?;
                registries = Some(servers);
                if args.from.is_empty() {
                    args.from = vec!["pycore".to_owned(), "jscore".to_owned()];
                }
                if args.bump.is_none() {
                    args.bump = Some(cascade::Bump::Minor);
                }
                config
            }
        };
        args.config = config;
        args.yes = true;
        demo_note = Some(dir);
    }
    let config_path = cwd.join(&args.config);
    let loaded = cascade::load(&config_path).map_err(fail)?;
    let discovered = cascade::discover(&loaded).map_err(fail)?;
    let mut options = execute::Options::default()
        .push(args.push)
        .only(args.only.clone());
    if let Some(j) = args.jobs.or(loaded.config.options.jobs.map(|j| j as usize)) {
        options = options.jobs(j);
    }
    if registries.is_some() {
        // The demo's registries are on loopback: never through a proxy.
        options = options.env("NO_PROXY", "127.0.0.1,localhost".to_owned());
    }
    if let Some(f) = &args.fail_at {
        if discovered.repo(f).is_none() {
            return Err(Failure::input(
                "unknown_repo",
                format!(
                    "--fail-at {f}: no such repository in {}",
                    config_path.display()
                ),
            ));
        }
        options = options.env(cascade::demo::FAIL_AT_ENV, f.clone());
    }

    if args.status {
        return status(&discovered, args.check, out);
    }
    let progress_out = Mutex::new(());
    let show = !out.json;
    let progress = |repo: &str, what: &str| {
        if show {
            let _g = progress_out.lock();
            out.eprint(&format!(
                "  {} {what}\n",
                paint(BOLD, &format!("{repo:>16}"))
            ));
        } else {
            tracing::info!(repo, "{what}");
        }
    };
    if args.resume || args.abort {
        let report = if args.resume {
            execute::resume(&discovered, &options, &progress)
        } else {
            execute::abort(&discovered, &options, &progress)
        }
        .map_err(fail)?;
        return finish(out, &report, None);
    }

    if let Some(j) =
        execute::CascadeJournal::load(&execute::state_dir(&discovered)).map_err(fail)?
    {
        return Err(Failure::input(
            "interrupted_cascade",
            format!(
                "an interrupted cascade (started {}) left {}; run `release-cascade --resume` to continue it or `--abort` to roll it back",
                j.started_at,
                execute::state_dir(&discovered)
                    .join(execute::JOURNAL_FILE)
                    .display()
            ),
        ));
    }
    let request = cascade::PlanOptions::default()
        .from(args.from.clone())
        .bump(args.bump)
        .exact_pins(args.exact_pins)
        .release_dependents(args.release_dependents.map(Into::into));
    let options_given = !args.from.is_empty()
        || args.bump.is_some()
        || args.exact_pins
        || args.release_dependents.is_some();
    let plan = match (&args.plan, &args.only, &args.emit) {
        (Some(file), Some(_), _) => cascade::read_plan(file).map_err(fail)?,
        // Emitting a saved plan emits exactly that plan; options that plan something else
        // are refused rather than silently winning.
        (Some(file), None, Some(_)) => {
            let saved = cascade::read_plan(file).map_err(fail)?;
            if options_given {
                let computed = cascade::plan(&discovered, &request).map_err(fail)?;
                if computed.digest != saved.digest {
                    return Err(Failure::input(
                        "plan_mismatch",
                        format!(
                            "{} holds plan {}, but {} plans {}; drop those options to emit the saved plan, or save a new one with `release-cascade --dry-run --json`",
                            file.display(),
                            &saved.digest[..12.min(saved.digest.len())],
                            given_options(&args),
                            &computed.digest[..12.min(computed.digest.len())]
                        ),
                    ));
                }
            }
            saved
        }
        _ => {
            let plan = cascade::plan(&discovered, &request).map_err(fail)?;
            if let Some(file) = &args.plan {
                let saved = cascade::read_plan(file).map_err(fail)?;
                if saved.digest != plan.digest && saved.heads == plan.heads {
                    return Err(Failure::input(
                        "plan_mismatch",
                        format!(
                            "{} was planned with other options than {} (the repositories have not moved); pass the options it was saved with, or run one repository of it with --only",
                            file.display(),
                            given_options(&args)
                        ),
                    ));
                }
                options = options.expect_digest(Some(saved.digest.clone()));
            }
            plan
        }
    };

    if let Some(kind) = &args.emit {
        let text = emit(kind, &plan, &discovered, &config_path)?;
        out.print(&text);
        return Ok(0);
    }
    if args.dry_run {
        if out.json {
            out.print(&format!("{}\n", plan.to_json()));
        } else if args.mermaid {
            out.print(&plan.mermaid());
        } else {
            out.print(&render_plan(&plan, &discovered));
            if let Err(e) = execute::preflight(&discovered, &plan, &options) {
                out.eprint(&format!(
                    "{} {e}\n",
                    paint(YELLOW, "a real run would refuse:")
                ));
            }
        }
        return Ok(0);
    }
    if plan.is_empty() {
        out.print("nothing to release: no package has a change since its last tag (see --from and --bump)\n");
        for n in &plan.notes {
            out.print(&format!("  - {n}\n"));
        }
        return Ok(0);
    }
    if !out.json {
        out.eprint(&render_plan(&plan, &discovered));
    }
    let question = format!(
        "Release {} package(s) in {} wave(s)?",
        plan.steps().count(),
        plan.waves.len()
    );
    if !crate::out::confirm(&question, args.yes)? {
        out.eprint("not confirmed; nothing was changed\n");
        return Ok(1);
    }
    let started = Instant::now();
    let report = execute::execute(&discovered, &plan, &options, &progress).map_err(fail)?;
    let mut code = finish(out, &report, Some(started))?;
    if let (Some(servers), Some(dir), 0) = (&registries, &demo_note, code) {
        // The end state, checked by the tools themselves while the registries are still up.
        out.eprint(&format!(
            "{} checking every lockfile against {} and {}\n",
            paint(DIM, "demo:"),
            servers.pypi_url(),
            servers.npm_url()
        ));
        let checks = cascade::demo_python::verify(dir).map_err(|m| Failure::input("demo", m))?;
        for c in &checks {
            let mark = if c.passed {
                paint(GREEN, "ok")
            } else {
                paint(RED, "FAILED")
            };
            out.eprint(&format!("  {:>8} {} {mark}\n", c.repo, c.command));
            if !c.passed {
                out.eprint(&format!("{}\n", c.output_tail));
                code = 1;
            }
        }
    }
    drop(registries);
    if let Some(dir) = demo_note
        && !out.json
    {
        out.eprint(&format!(
            "{} the demo repositories are in {} (inspect them with git log / git tag; delete the directory when done)\n",
            paint(DIM, "demo:"),
            dir.display()
        ));
    }
    Ok(code)
}

/// The planning options on the command line, as typed.
fn given_options(args: &CascadeArgs) -> String {
    let mut parts = Vec::new();
    if !args.from.is_empty() {
        parts.push(format!("--from {}", args.from.join(" ")));
    }
    if let Some(b) = args.bump {
        parts.push(format!("--bump {b}"));
    }
    if args.exact_pins {
        parts.push("--exact-pins".to_owned());
    }
    if let Some(r) = args.release_dependents {
        parts.push(format!(
            "--release-dependents {}",
            match r {
                crate::cli::ReleaseDependentsArg::Needed => "needed",
                crate::cli::ReleaseDependentsArg::Always => "always",
            }
        ));
    }
    if parts.is_empty() {
        "the command line".to_owned()
    } else {
        parts.join(" ")
    }
}

fn render_plan(plan: &Plan, discovered: &Discovered) -> String {
    let mut t = format!(
        "{} {} package(s) in {} wave(s), digest {}\n",
        paint(BOLD, "Cascade plan:"),
        plan.steps().filter(|s| s.release).count(),
        plan.waves.len(),
        &plan.digest[..12.min(plan.digest.len())]
    );
    let mut table = Table::new(&[
        "wave",
        "package",
        "repo",
        "version",
        "bump",
        "pin edits",
        "tag",
        "why",
    ]);
    for (w, wave) in plan.waves.iter().enumerate() {
        for s in wave {
            let edits = if s.pin_edits.is_empty() {
                "-".to_owned()
            } else {
                s.pin_edits
                    .iter()
                    .map(|e| format!("{} {} → {}", e.dependency, e.from, e.to))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let (version, bump, tag) = if s.release {
                (
                    format!("{} → {}", s.from, s.to),
                    s.bump.as_str().to_owned(),
                    if s.publish {
                        format!("{}\n+ publish", s.tag)
                    } else {
                        s.tag.to_string()
                    },
                )
            } else {
                (
                    format!("{} (edited only)", s.from),
                    "-".to_owned(),
                    "-".to_owned(),
                )
            };
            table.row(vec![
                (w + 1).to_string(),
                paint(BOLD, &s.package),
                s.repo.to_string(),
                version,
                bump,
                edits,
                tag,
                s.reason.clone(),
            ]);
        }
    }
    t.push_str(&table.render());
    for e in &plan.edited_only {
        t.push_str(&format!(
            "  {} {} ({}): {}\n",
            paint(DIM, "edited, not released:"),
            e.package,
            e.repo,
            e.reason
        ));
    }
    for x in &plan.not_released {
        t.push_str(&format!(
            "  {} {}: {}\n",
            paint(DIM, "not released:"),
            x.package,
            x.reason
        ));
    }
    if let Some(w) = plan.point_of_no_return() {
        t.push_str(&format!(
            "  {} wave {}: its first publish cannot be undone; a failure before it rolls every repository back, a failure from it on stops the cascade for `--resume` (`--abort` then undoes only what is unpublished)\n",
            paint(YELLOW, "point of no return:"),
            w + 1
        ));
    }
    if let Some(repo) = execute::repository_cycle(plan) {
        t.push_str(&format!(
            "  {} {repo} sits on a cycle through another repository: it is released one commit per wave\n",
            paint(DIM, "note:")
        ));
    }
    for n in plan
        .notes
        .iter()
        .map(String::as_str)
        .chain(discovered.notes.iter().map(|n| n.message.as_str()))
    {
        t.push_str(&format!("  {} {n}\n", paint(DIM, "note:")));
    }
    t
}

/// One line per package that stays published: name, version, registry, how to withdraw it.
fn published_lines(report: &execute::Report) -> String {
    report
        .published
        .iter()
        .map(|p| {
            format!(
                "  {} {} stays published on {} (repository {}); to withdraw it: {}\n",
                p.package, p.version, p.registry, p.repo, p.withdraw
            )
        })
        .collect()
}

fn finish(out: &Out, report: &execute::Report, started: Option<Instant>) -> Result<u8, Failure> {
    let code = u8::try_from(report.exit_code()).unwrap_or(2);
    if out.json {
        out.print_json(report);
        return Ok(code);
    }
    let mut t = String::new();
    match report.outcome {
        execute::Outcome::NothingToDo => {
            out.print("nothing to do: no interrupted cascade\n");
            return Ok(0);
        }
        execute::Outcome::Aborted if report.published.is_empty() => {
            out.print(&format!(
                "{} the interrupted cascade was rolled back; every repository is as before it\n",
                paint(YELLOW, "aborted:")
            ));
            return Ok(0);
        }
        execute::Outcome::Aborted => {
            let mut t = format!(
                "{} what was not published is rolled back; these stay published (never deleted by lockstep):\n",
                paint(YELLOW, "aborted:")
            );
            t.push_str(&published_lines(report));
            out.print(&t);
            return Ok(0);
        }
        _ => {}
    }
    let mut table = Table::new(&["wave", "repo", "packages", "status", "time", "commit"]);
    for r in &report.repos {
        let style = match r.status.as_str() {
            "released" | "skipped" => GREEN,
            "failed" => RED,
            _ => YELLOW,
        };
        table.row(vec![
            (r.wave + 1).to_string(),
            r.repo.clone(),
            r.packages
                .iter()
                .map(|(n, f, to, _)| format!("{n} {f} → {to}"))
                .collect::<Vec<_>>()
                .join("\n"),
            paint(style, &r.status),
            format!("{:.1} s", r.ms as f64 / 1000.0),
            r.commit
                .as_deref()
                .filter(|_| r.status != "rolled_back")
                .map(|c| c[..12.min(c.len())].to_owned())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    t.push_str(&table.render());
    match &report.failure {
        Some(f) => {
            t.push_str(&format!(
                "\n{} {} failed at {}: {}\n",
                paint(RED, "failed:"),
                f.repo,
                f.step,
                f.message
            ));
            if !f.output_tail.is_empty() {
                for line in f.output_tail.lines() {
                    t.push_str(&format!("  | {line}\n"));
                }
            }
            if report.outcome == execute::Outcome::Stopped {
                t.push_str(&format!(
                    "{} nothing was rolled back (the cascade is past its point of no return, or waits for a registry); the journal is kept: fix the cause and run `release-cascade --resume`, or `--abort` to undo what is not published\n",
                    paint(YELLOW, "stopped:")
                ));
                if !report.published.is_empty() {
                    t.push_str("published so far:\n");
                    t.push_str(&published_lines(report));
                }
            } else if report.outcome == execute::Outcome::PushFailed {
                t.push_str(&format!(
                    "{} every repository is released locally; nothing was rolled back\n",
                    paint(YELLOW, "note:")
                ));
            } else {
                t.push_str(&format!(
                    "{} every repository the cascade touched was restored and its new tags deleted\n",
                    paint(YELLOW, "rolled back:")
                ));
            }
        }
        None => {
            let wall = started.map_or(report.wall_ms, |s| {
                u64::try_from(s.elapsed().as_millis()).unwrap_or(0)
            });
            t.push_str(&format!(
                "\n{} {} repositories in {:.1} s (critical path {:.1} s, {:.2}×)\n",
                paint(GREEN, "released:"),
                report.repos.len(),
                wall as f64 / 1000.0,
                report.critical_path_ms as f64 / 1000.0,
                if report.critical_path_ms > 0 {
                    report.wall_ms as f64 / report.critical_path_ms as f64
                } else {
                    1.0
                }
            ));
            if !report.pushed.is_empty() {
                t.push_str(&format!("  pushed: {}\n", report.pushed.join(", ")));
            }
        }
    }
    out.print(&t);
    Ok(code)
}

fn status(discovered: &Discovered, check: bool, out: &Out) -> Result<u8, Failure> {
    let report = cascade::status(discovered).map_err(fail)?;
    let consistent = report.is_consistent();
    if out.json {
        out.print(&format!("{}\n", report.to_json()));
    } else {
        let mut table = Table::new(&["package", "repo", "version", "latest tag", "tag matches"]);
        for p in &report.packages {
            table.row(vec![
                paint(BOLD, &p.name),
                p.repo.clone(),
                p.version.clone(),
                p.latest_tag.clone().unwrap_or_else(|| "-".into()),
                match (p.tag_matches, &p.latest_tag) {
                    (true, _) => paint(GREEN, "yes"),
                    // Never released: nothing to match yet (`--check` passes it).
                    (false, None) => "- (never tagged)".to_owned(),
                    (false, Some(_)) => paint(RED, "no"),
                },
            ]);
        }
        let mut t = table.render();
        if report.lagging_pins.is_empty() {
            t.push_str(&format!(
                "\n{} no downstream pin lags its upstream\n",
                paint(GREEN, "pins:")
            ));
        } else {
            t.push_str(&format!("\n{}\n", paint(YELLOW, "Lagging pins")));
            let mut lag = Table::new(&["package", "depends on", "pinned", "current", "file"]);
            for l in &report.lagging_pins {
                lag.row(vec![
                    l.package.clone(),
                    l.dependency.clone(),
                    l.pinned.clone(),
                    l.current.clone(),
                    l.file.clone(),
                ]);
            }
            t.push_str(&lag.render());
        }
        out.print(&t);
    }
    Ok(if check && !consistent { 1 } else { 0 })
}

fn emit(
    kind: &str,
    plan: &Plan,
    discovered: &Discovered,
    config: &Path,
) -> Result<String, Failure> {
    match kind {
        "github-actions" => {
            let name = config
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "cascade.toml".to_owned());
            Ok(cascade::emit::github_actions(plan, discovered, &name))
        }
        other => Err(Failure::input(
            "emit",
            format!("--emit {other}: only github-actions is supported"),
        )),
    }
}
