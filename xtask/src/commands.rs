//! One function per command: call the engine, render, choose the exit code.

use std::path::{Path, PathBuf};

use lockstep_upgrade::reexports::Policy;
use lockstep_upgrade::reexports::{DocumentKind, Problem, Release, ReleaseIndex, VerticalManifest};
use lockstep_upgrade::{current, flow, gate, registry, update, workspace};
use serde::Serialize;

use crate::cli::{Command, Target, env};
use crate::fail::{fail, flow_failure};
use crate::out::{BOLD, DIM, Failure, GREEN, Out, RED, Table, paint, verdict_style};

pub fn run(command: Command, out: &Out) -> Result<u8, Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::input("io", format!("cannot read the current directory: {e}")))?;
    match command {
        Command::Validate { paths, .. } => validate(&cwd, paths, out),
        Command::Status { target, .. } => status(&cwd, &target, None, false, true, out),
        Command::Update {
            target,
            channel,
            exit_code,
            ..
        } => status(&cwd, &target, channel, exit_code, false, out),
        Command::Gate {
            version,
            verticals,
            registry,
            release,
            report,
            ..
        } => gate_cmd(
            &cwd,
            &version,
            &verticals,
            registry.as_deref(),
            release.as_deref(),
            report.as_deref(),
            out,
        ),
        Command::Plan { target, to, .. } => crate::txn::plan_cmd(&cwd, &target, to.as_ref(), out),
        Command::Upgrade {
            target,
            to,
            yes,
            dry_run,
            plan,
            smoke_timeout,
            grace,
            ..
        } => crate::txn::upgrade_cmd(
            &cwd,
            &target,
            to.as_ref(),
            yes,
            dry_run,
            plan,
            smoke_timeout,
            grace,
            out,
        ),
        Command::Rollback { place, to, yes, .. } => {
            crate::txn::rollback_cmd(&cwd, &place, to.as_deref(), yes, out)
        }
        Command::Recover {
            home: Some(home), ..
        } => crate::pack::recover_home(&cwd.join(home), out),
        Command::Recover { place, .. } => crate::txn::recover_cmd(&cwd, &place, out),
        Command::Pack(a) => a.run(&cwd, out),
        Command::Watch(a) => a.run(&cwd, out),
        Command::Lab(a) => a.run(&cwd, out),
        Command::KnownGood(a) => a.run(&cwd, out),
        Command::Pin(a) => a.run(&cwd, out),
        Command::Resolve(a) => a.run(&cwd, out),
        Command::Notify(a) => a.run(&cwd, out),
        Command::Rollout(a) => a.run(&cwd, out),
        Command::Dashboard(a) => a.run(&cwd, out),
        Command::History { place, limit, .. } => crate::txn::history_cmd(&cwd, &place, limit, out),
        Command::Audit { action } => match action {
            crate::cli::AuditAction::Verify { place, .. } => {
                crate::txn::audit_verify_cmd(&cwd, &place, out)
            }
        },
        Command::ReleaseCascade { args, .. } => crate::cascade::run(&cwd, args, out),
        Command::Channel { channel, place, .. } => {
            crate::txn::channel_cmd(&cwd, &place, channel, out)
        }
        Command::Hooks { action } => match action {
            crate::cli::HooksAction::Install { repo, force, .. } => {
                crate::hooks::install_cmd(&cwd.join(repo), force, out)
            }
        },
        Command::TagCheck {
            tags, repo, all, ..
        } => crate::hooks::tag_check_cmd(&cwd.join(repo), tags, all, out),
    }
}

// ---------------------------------------------------------------------------------------------
// validate

#[derive(Serialize)]
struct ValidateReport {
    schema: &'static str,
    valid: bool,
    files: Vec<ValidatedFile>,
}

#[derive(Serialize)]
struct ValidatedFile {
    path: String,
    kind: &'static str,
    valid: bool,
    problems: Vec<JsonProblem>,
}

#[derive(Serialize)]
struct JsonProblem {
    line: usize,
    column: usize,
    field: String,
    message: String,
}

fn validate(cwd: &Path, paths: Vec<PathBuf>, out: &Out) -> Result<u8, Failure> {
    let paths = if paths.is_empty() {
        vec![
            workspace::find_manifest(cwd)
                .map_err(|e| Failure::input("manifest_not_found", e.to_string()))?,
        ]
    } else {
        paths
    };
    let mut files = Vec::new();
    for given in paths {
        let path = resolve_dir(&given);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::input("io", format!("cannot read {}: {e}", path.display())))?;
        let (kind, result) = match lockstep_upgrade::reexports::detect_kind(&text) {
            DocumentKind::ReleaseIndex => ("release_index", ReleaseIndex::parse(&text).map(drop)),
            DocumentKind::Release => ("release", Release::parse_json(&text).map(drop)),
            DocumentKind::VerticalManifest => (
                "vertical_manifest",
                VerticalManifest::parse(&text).map(drop),
            ),
            DocumentKind::CascadeConfig => (
                "cascade_config",
                lockstep_upgrade::reexports::CascadeConfig::parse(&text).map(drop),
            ),
            _ => {
                return Err(Failure::input(
                    "unsupported_document",
                    format!(
                        "{}: not a document lockstep knows; expected a vertical manifest (YAML), a release index or release (JSON), or a cascade config (TOML with [[repo]])",
                        path.display()
                    ),
                ));
            }
        };
        let problems = result.err().map(|e| e.problems).unwrap_or_default();
        files.push((path, kind, problems));
    }
    let valid = files.iter().all(|(_, _, p)| p.is_empty());
    if out.json {
        out.print_json(&ValidateReport {
            schema: "lockstep.validate/v1",
            valid,
            files: files
                .iter()
                .map(|(path, kind, problems)| ValidatedFile {
                    path: path.display().to_string(),
                    kind,
                    valid: problems.is_empty(),
                    problems: problems
                        .iter()
                        .map(|p| JsonProblem {
                            line: p.line,
                            column: p.column,
                            field: p.field.clone(),
                            message: p.message.clone(),
                        })
                        .collect(),
                })
                .collect(),
        });
    } else {
        let mut text = String::new();
        for (path, kind, problems) in &files {
            let kind = kind.replace('_', " ");
            if problems.is_empty() {
                text.push_str(&format!(
                    "{} {}  {}\n",
                    paint(GREEN, "valid  "),
                    path.display(),
                    paint(DIM, &format!("({kind})"))
                ));
            } else {
                let n = problems.len();
                text.push_str(&format!(
                    "{} {}  {}\n{}\n",
                    paint(RED, "invalid"),
                    path.display(),
                    paint(
                        DIM,
                        &format!("({kind}, {n} problem{})", if n == 1 { "" } else { "s" })
                    ),
                    Problem::located(&path.display().to_string(), problems)
                ));
            }
        }
        let bad = files.iter().filter(|(_, _, p)| !p.is_empty()).count();
        if bad == 0 {
            text.push_str(&format!(
                "{} file{} valid\n",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ));
        } else {
            text.push_str(&format!(
                "{bad} of {} file{} invalid\n",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ));
        }
        out.print(&text);
    }
    Ok(if valid { 0 } else { 1 })
}

/// A directory stands for the manifest or index inside it.
fn resolve_dir(p: &Path) -> PathBuf {
    if p.is_dir() {
        for name in [workspace::MANIFEST_FILE, "releases.json", "cascade.toml"] {
            if p.join(name).is_file() {
                return p.join(name);
            }
        }
    }
    p.to_path_buf()
}

// ---------------------------------------------------------------------------------------------
// status / update

#[derive(Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    report: &'a update::UpdateReport,
    vertical: &'a str,
    manifest: String,
    current_source: &'a current::CurrentSource,
    registry: &'a str,
}

fn status(
    cwd: &Path,
    target: &Target,
    channel: Option<lockstep_upgrade::reexports::Channel>,
    exit_code: bool,
    is_status: bool,
    out: &Out,
) -> Result<u8, Failure> {
    let target = crate::txn::flow_target(target);
    let inputs = flow::inputs(cwd, &target).map_err(flow_failure)?;
    let (current, report) = flow::status(&inputs, &target, channel).map_err(flow_failure)?;
    let (vertical, spec) = (&inputs.vertical, &inputs.spec);

    if out.json {
        out.print_json(&StatusJson {
            report: &report,
            vertical: &vertical.manifest.domain_name,
            manifest: vertical.manifest_path.display().to_string(),
            current_source: &current.source,
            registry: spec,
        });
    } else {
        let mut text = String::new();
        let m = &vertical.manifest;
        let line = |k: &str, v: String| format!("  {} {v}\n", paint(BOLD, &format!("{k:<18}")));
        text.push_str(&line(
            "vertical",
            format!(
                "{} {}",
                m.domain_name,
                paint(DIM, &format!("({})", vertical.manifest_path.display()))
            ),
        ));
        text.push_str(&line(
            "current",
            format!(
                "{} {}",
                current.version,
                paint(DIM, &format!("(from {})", current.source))
            ),
        ));
        text.push_str(&line("channel", report.channel.to_string()));
        text.push_str(&line(
            "accepts",
            format!(
                "{} ..= {}, contracts major {}",
                m.compatibility.min_core_version,
                m.compatibility.max_core_version,
                m.compatibility.contracts_major
            ),
        ));
        text.push_str(&line("registry", spec.clone()));
        let show = |c: &Option<update::Candidate>| match c {
            None => paint(DIM, "none"),
            Some(c) => format!(
                "{} {}",
                c.version,
                paint(verdict_style(c.verdict.as_str()), c.verdict.as_str())
            ),
        };
        text.push_str(&line("latest", show(&report.latest)));
        text.push_str(&line("latest compatible", show(&report.latest_compatible)));
        if !is_status && !report.available.is_empty() {
            text.push('\n');
            let mut table = Table::new(&["VERSION", "CHANNEL", "VERDICT", "REASONS"]);
            for c in &report.available {
                table.row(vec![
                    c.version.clone(),
                    c.channel.to_string(),
                    paint(verdict_style(c.verdict.as_str()), c.verdict.as_str()),
                    reasons_cell(
                        c.reasons
                            .iter()
                            .map(|r| (r.code.as_str(), r.message.as_str())),
                    ),
                ]);
            }
            text.push_str(&table.render());
        } else if let Some(latest) = &report.latest {
            for r in &latest.reasons {
                text.push_str(&format!(
                    "    {} {}\n",
                    paint(
                        verdict_style(if r.code.blocks() {
                            "blocked"
                        } else {
                            "compatible_with_warnings"
                        }),
                        r.code.as_str()
                    ),
                    r.message
                ));
            }
        }
        text.push('\n');
        text.push_str(&match (&report.latest, &report.latest_compatible) {
            (None, _) => format!(
                "{} core {} is the newest release the {} channel sees\n",
                paint(GREEN, "up to date:"),
                current.version,
                report.channel
            ),
            (Some(_), Some(c)) => format!(
                "{} core {} can be upgraded to {}\n",
                paint(GREEN, "update available:"),
                current.version,
                c.version
            ),
            (Some(l), None) => format!(
                "{} newer releases exist (up to {}) but every one is blocked for this vertical\n",
                paint(RED, "blocked:"),
                l.version
            ),
        });
        out.print(&text);
    }
    Ok(if exit_code && report.update_available() {
        100
    } else {
        0
    })
}

fn reasons_cell<'a>(reasons: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let lines: Vec<String> = reasons
        .map(|(code, msg)| format!("{code}: {msg}"))
        .collect();
    if lines.is_empty() {
        paint(DIM, "-")
    } else {
        lines.join("\n")
    }
}

// ---------------------------------------------------------------------------------------------
// gate

fn gate_cmd(
    cwd: &Path,
    version: &semver::Version,
    patterns: &[String],
    registry_flag: Option<&str>,
    release_file: Option<&Path>,
    report_file: Option<&Path>,
    out: &Out,
) -> Result<u8, Failure> {
    let spec = registry_flag
        .map(str::to_owned)
        .or_else(|| env(workspace::REGISTRY_ENV));
    let releases = match &spec {
        Some(spec) => {
            let state = lockstep_upgrade::reexports::layout::state_dir(cwd);
            registry::load(spec, Some(&state)).map_err(|source| {
                flow_failure(flow::Error::Registry {
                    spec: spec.clone(),
                    source: Box::new(source),
                })
            })?
        }
        None => Vec::new(),
    };
    let candidate =
        gate::candidate(version, release_file, &releases, spec.as_deref()).map_err(fail)?;
    let paths = gate::expand(patterns, cwd).map_err(fail)?;
    let manifests = gate::read_manifests(&paths);
    let report = gate::gate(&candidate, &releases, &manifests, Policy::default(), cwd);

    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Failure::input("internal", e.to_string()))?;
    if let Some(file) = report_file {
        std::fs::write(file, format!("{json}\n")).map_err(|e| {
            Failure::input("io", format!("cannot write report {}: {e}", file.display()))
        })?;
    }
    if let Some(summary) = env("GITHUB_STEP_SUMMARY") {
        use std::io::Write;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(gate::markdown(&report).as_bytes()));
        if let Err(e) = appended {
            tracing::warn!(path = %summary, error = %e, "cannot append to GITHUB_STEP_SUMMARY");
        }
    }

    if out.json {
        out.print_json(&report);
    } else {
        let mut text = format!(
            "{} core {} against {} vertical{}\n\n",
            paint(BOLD, "lockstep gate:"),
            report.version,
            report.verticals.len(),
            if report.verticals.len() == 1 { "" } else { "s" }
        );
        if report.verticals.is_empty() {
            text.push_str(&format!("  no manifest matched {}\n\n", patterns.join(" ")));
        } else {
            let mut table = Table::new(&["VERTICAL", "VERDICT", "REASONS"]);
            for v in &report.verticals {
                table.row(vec![
                    v.name.clone(),
                    paint(verdict_style(&v.verdict), &v.verdict),
                    reasons_cell(
                        v.reasons
                            .iter()
                            .map(|r| (r.code.as_str(), r.message.as_str())),
                    ),
                ]);
            }
            text.push_str(&table.render());
            text.push('\n');
        }
        let blockers: Vec<&str> = report
            .verticals
            .iter()
            .filter(|v| v.verdict == "blocked" || v.verdict == "invalid")
            .map(|v| v.name.as_str())
            .collect();
        text.push_str(&if report.reason == Some("no_verticals") {
            format!("{} no vertical was checked; a gate that checks nothing does not pass (check --verticals)\n", paint(RED, "BLOCKED:"))
        } else if report.blocked {
            format!(
                "{} core {} would break {} of {} vertical{}: {}\n",
                paint(RED, "BLOCKED:"),
                report.version,
                blockers.len(),
                report.verticals.len(),
                if report.verticals.len() == 1 { "" } else { "s" },
                blockers.join(", ")
            )
        } else {
            format!("{} core {} is safe for every vertical\n", paint(GREEN, "PASSED:"), report.version)
        });
        out.print(&text);
    }
    Ok(if report.blocked { 1 } else { 0 })
}
