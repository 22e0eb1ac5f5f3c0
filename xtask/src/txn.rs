//! The transaction commands: plan, upgrade, rollback, recover, history, audit verify, channel.

use std::path::Path;
use std::time::Duration;

use lockstep_upgrade::reexports::Channel;
use lockstep_upgrade::txn::{self, Session};
use lockstep_upgrade::upgrade::{self, Apply, Outcome, Plan, Planned};
use lockstep_upgrade::{channel, workspace};

use crate::cli::env;
use crate::cli::{Target, Where};
use crate::fail::{fail, flow_failure, workspace_failure};
use crate::out::{BOLD, DIM, Failure, GREEN, Out, RED, Table, YELLOW, paint, verdict_style};
use lockstep_upgrade::flow;

fn load(cwd: &Path, manifest: Option<&Path>) -> Result<workspace::Vertical, Failure> {
    workspace::Vertical::load(manifest, cwd).map_err(workspace_failure)
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("lockstep {}", args.join(" "))
}

fn open_session(vertical: &workspace::Vertical, out: &Out) -> Result<Session, Failure> {
    let session = Session::open(vertical, &command_line(), &txn::default_actor()).map_err(fail)?;
    report_recovery(&session, out);
    Ok(session)
}

fn report_recovery(session: &Session, out: &Out) {
    if session.repaired_audit {
        out.eprint(&format!("{} the audit log had a torn last line (a crash mid-write); it was repaired and the repair recorded\n", paint(YELLOW, "note:")));
    }
    if let Some(r) = &session.recovery {
        let what = match r.action {
            "nothing_applied" => "nothing had been applied; the journal was cleared".to_owned(),
            "rolled_back" => format!("restored snapshot {} (verified)", r.snapshot),
            "committed" => "it had committed; the record was completed".to_owned(),
            other => other.replace('_', " "),
        };
        out.eprint(&format!(
            "{} an interrupted {:?} ({} → {}, stopped at `{}`) was recovered: {what}{}\n",
            paint(YELLOW, "recovered:"),
            r.kind,
            r.from.as_deref().unwrap_or("?"),
            r.to.as_deref().unwrap_or("?"),
            r.step.as_str(),
            r.killed_group
                .map(|g| format!("; killed orphaned process group {g}"))
                .unwrap_or_default()
        ));
    }
}

/// The library's target from the command line's.
pub fn flow_target(target: &Target) -> flow::Target {
    flow::Target::new(
        target.manifest.clone(),
        target.registry.clone(),
        env(workspace::REGISTRY_ENV),
        target.current.clone(),
    )
}

fn make_plan(
    inputs: &flow::Inputs,
    target: &Target,
    to: Option<&semver::Version>,
    smoke_timeout: Option<u64>,
) -> Result<Planned, Failure> {
    flow::plan(
        inputs,
        &flow_target(target),
        to,
        smoke_timeout.map(Duration::from_secs),
    )
    .map_err(flow_failure)
}

fn inputs(cwd: &Path, target: &Target) -> Result<flow::Inputs, Failure> {
    flow::inputs(cwd, &flow_target(target)).map_err(flow_failure)
}

fn render_plan(plan: &Plan) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "{} {}: core {} → {}  {}\n",
        paint(BOLD, "Upgrade plan for"),
        paint(BOLD, &plan.vertical),
        plan.current,
        paint(BOLD, &plan.target),
        paint(verdict_style(plan.verdict.as_str()), plan.verdict.as_str())
    ));
    t.push_str(&format!(
        "  {}\n",
        paint(
            DIM,
            &format!("current version from {}", plan.current_source)
        )
    ));
    for r in &plan.reasons {
        t.push_str(&format!(
            "  - {} {}\n",
            paint(DIM, &r.code.to_string()),
            r.message
        ));
    }
    let risk_style = match plan.risk.level {
        "high" => RED,
        "medium" => YELLOW,
        _ => GREEN,
    };
    t.push_str(&format!(
        "\n{} {}\n",
        paint(BOLD, "Risk:"),
        paint(risk_style, &plan.risk.level.to_uppercase())
    ));
    for w in &plan.risk.why {
        t.push_str(&format!("  - {w}\n"));
    }
    t.push_str(&format!(
        "{} about {} s ({})\n",
        paint(BOLD, "Estimated downtime:"),
        plan.downtime.seconds,
        plan.downtime.basis
    ));
    t.push_str(&format!("\n{}\n", paint(BOLD, "Changes")));
    let mut table = Table::new(&["file", "change"]);
    for c in &plan.changes {
        table.row(vec![c.path.clone(), c.change.clone()]);
    }
    t.push_str(&table.render());
    t.push_str(&format!("\n{} ", paint(BOLD, "Smoke tests:")));
    match &plan.smoke_tests {
        Some(s) => t.push_str(&format!(
            "{} in {} (timeout {} s)\n",
            s.command.join(" "),
            s.dir,
            s.timeout_seconds
        )),
        None => t.push_str(&format!("{}\n", paint(RED, "none"))),
    }
    if !plan.changelog.is_empty() {
        t.push_str(&format!("\n{}\n", paint(BOLD, "Changelog")));
        for c in &plan.changelog {
            t.push_str(&format!("  {}\n", paint(BOLD, &c.version)));
            for b in &c.breaking {
                t.push_str(&format!("    {} {b}\n", paint(RED, "breaking:")));
            }
            for f in &c.features {
                t.push_str(&format!("    feature: {f}\n"));
            }
            for f in &c.fixes {
                t.push_str(&format!("    fix: {f}\n"));
            }
        }
    }
    if !plan.migration.is_empty() {
        t.push_str(&format!("\n{}\n", paint(BOLD, "Migration")));
        for m in &plan.migration {
            if let Some(n) = &m.notes {
                t.push_str(&format!("  {}: {n}\n", m.version));
            }
            if let Some(u) = &m.guide_url {
                t.push_str(&format!("  {}: guide {u}\n", m.version));
            }
        }
    }
    if plan.pending_recovery {
        t.push_str(&format!(
            "\n{} an interrupted transaction's journal is waiting: the next mutating command (or `lockstep recover`) restores it first\n",
            paint(YELLOW, "note:")
        ));
    }
    let short = &plan.digest[..12.min(plan.digest.len())];
    t.push_str(&format!(
        "\n{} {}\n  apply exactly this plan: lockstep upgrade --plan {short} --yes\n",
        paint(BOLD, "Digest:"),
        plan.digest
    ));
    t
}

#[derive(serde::Serialize)]
struct UpToDateJson<'a> {
    schema: &'static str,
    up_to_date: bool,
    current: String,
    latest_blocked: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a str>,
    pending_recovery: bool,
}

fn up_to_date(
    out: &Out,
    schema: &'static str,
    current: &semver::Version,
    latest_blocked: Option<&(semver::Version, Vec<lockstep_upgrade::reexports::Reason>)>,
    outcome: Option<&str>,
    pending_recovery: bool,
) {
    if out.json {
        out.print_json(&UpToDateJson {
            schema,
            up_to_date: true,
            current: current.to_string(),
            latest_blocked: latest_blocked.map(|(v, r)| serde_json::json!({"version": v.to_string(), "verdict": "blocked", "reasons": r})),
            outcome,
            pending_recovery,
        });
    } else {
        let mut t = format!(
            "core {current} is the latest compatible release on this channel; nothing to upgrade\n"
        );
        if pending_recovery {
            t.push_str(&format!(
                "{} an interrupted transaction's journal is waiting: the version above may be mid-upgrade; the next mutating command (or `lockstep recover`) restores it first\n",
                paint(YELLOW, "note:")
            ));
        }
        if let Some((v, reasons)) = latest_blocked {
            t.push_str(&format!(
                "  {} is newer but {}:\n",
                v,
                paint(RED, "blocked")
            ));
            for r in reasons {
                t.push_str(&format!(
                    "  - {} {}\n",
                    paint(DIM, &r.code.to_string()),
                    r.message
                ));
            }
        }
        out.print(&t);
    }
}

pub fn plan_cmd(
    cwd: &Path,
    target: &Target,
    to: Option<&semver::Version>,
    out: &Out,
) -> Result<u8, Failure> {
    let inputs = inputs(cwd, target)?;
    match make_plan(&inputs, target, to, None)? {
        Planned::UpToDate {
            current,
            latest_blocked,
            pending_recovery,
            ..
        } => {
            up_to_date(
                out,
                upgrade::PLAN_SCHEMA,
                &current,
                latest_blocked.as_ref(),
                None,
                pending_recovery,
            );
            Ok(0)
        }
        Planned::Plan(plan) => {
            if out.json {
                out.print_json(&plan);
            } else {
                out.print(&render_plan(&plan));
            }
            Ok(
                if plan.verdict == lockstep_upgrade::reexports::Status::Blocked {
                    1
                } else {
                    0
                },
            )
        }
        _ => Ok(2),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn upgrade_cmd(
    cwd: &Path,
    target: &Target,
    to: Option<&semver::Version>,
    yes: bool,
    dry_run: bool,
    digest: Option<String>,
    smoke_timeout: Option<u64>,
    grace: u64,
    out: &Out,
) -> Result<u8, Failure> {
    let inputs = inputs(cwd, target)?;
    let session = open_session(&inputs.vertical, out)?;
    // Recovery may have moved the tree: read the vertical again.
    let inputs = flow::inputs(cwd, &flow_target(target)).map_err(flow_failure)?;
    let plan = match make_plan(&inputs, target, to, smoke_timeout)? {
        Planned::UpToDate {
            current,
            latest_blocked,
            ..
        } => {
            up_to_date(
                out,
                upgrade::UPGRADE_SCHEMA,
                &current,
                latest_blocked.as_ref(),
                Some("up_to_date"),
                false,
            );
            return Ok(0);
        }
        Planned::Plan(plan) => plan,
        _ => return Ok(2),
    };
    if !out.json {
        out.eprint(&render_plan(&plan));
    }
    let options = upgrade::RunOptions::default()
        .dry_run(true)
        .grace(Duration::from_secs(grace))
        .expect_digest(digest);
    // Preflight first (a dry run), so the user is never asked about an upgrade that would be refused.
    let mut quiet = |_: &str| {};
    let pre =
        upgrade::execute(&session, &inputs.vertical, &plan, &options, &mut quiet).map_err(fail)?;
    if pre.outcome == Outcome::Blocked || dry_run {
        return finish(out, &pre);
    }
    let what = match &plan.apply {
        Apply::Pin { file, .. } => format!("rewrite the pin in {file}, regenerate the lockfile"),
        Apply::Checkout { tag } => format!("check out {tag}"),
        _ => "apply".to_owned(),
    };
    if !crate::out::confirm(
        &format!(
            "Upgrade core {} → {} ({what}, then smoke tests)?",
            plan.current, plan.target
        ),
        yes,
    )? {
        out.eprint("not confirmed; nothing was changed\n");
        return Ok(1);
    }
    let options = options.dry_run(false);
    let show = !out.json;
    let mut progress = |line: &str| {
        if show {
            out.eprint(&format!("{} {line}\n", paint(DIM, "→")));
        } else {
            tracing::info!("{line}");
        }
    };
    let report = upgrade::execute(&session, &inputs.vertical, &plan, &options, &mut progress)
        .map_err(fail)?;
    finish(out, &report)
}

fn finish(out: &Out, report: &upgrade::UpgradeReport) -> Result<u8, Failure> {
    let code = u8::try_from(report.outcome.exit_code()).unwrap_or(2);
    if out.json {
        out.print_json(report);
        return Ok(code);
    }
    let mut t = String::new();
    match report.outcome {
        Outcome::Committed => t.push_str(&format!(
            "{} core {} → {}{}\n  snapshot {} (undo with `lockstep rollback`)\n",
            paint(GREEN, "upgraded:"),
            report.from,
            report.to,
            report
                .commit
                .as_deref()
                .map(|c| format!(", commit {}", &c[..12.min(c.len())]))
                .unwrap_or_default(),
            report.snapshot.as_deref().unwrap_or("-")
        )),
        Outcome::DryRun => t.push_str(&format!(
            "{} every preflight check passed for {} → {}; nothing was changed\n",
            paint(GREEN, "dry run:"),
            report.from,
            report.to
        )),
        Outcome::Blocked => {
            t.push_str(&format!(
                "{} core {} is blocked for this vertical; nothing was changed\n",
                paint(RED, "refused:"),
                report.to
            ));
            for r in &report.reasons {
                t.push_str(&format!(
                    "  - {} {}\n",
                    paint(DIM, &r.code.to_string()),
                    r.message
                ));
            }
        }
        Outcome::RolledBack | Outcome::RestoreFailed => {
            if let Some(f) = &report.failure {
                t.push_str(&format!(
                    "{} {}\n",
                    paint(RED, "failed:"),
                    f.message.trim_end().replace('\n', "\n  | ")
                ));
            }
            if report.outcome == Outcome::RolledBack {
                t.push_str(&format!(
                    "{} restored snapshot {} (verified: tree, lockfile and manifest as before); core stays at {}\n",
                    paint(YELLOW, "rolled back:"),
                    report.snapshot.as_deref().unwrap_or("-"),
                    report.from
                ));
            } else {
                t.push_str(&format!(
                    "{} the restore of {} could not be verified: {}\n  the journal is kept in .lockstep/journal.json; fix the cause, then run `lockstep recover`\n",
                    paint(RED, "NOT RESTORED:"),
                    report.snapshot.as_deref().unwrap_or("-"),
                    report.restore.as_ref().and_then(|r| r.problems.as_deref()).unwrap_or("unknown")
                ));
            }
        }
        _ => {}
    }
    out.print(&t);
    Ok(code)
}

pub fn rollback_cmd(
    cwd: &Path,
    place: &Where,
    to: Option<&str>,
    yes: bool,
    out: &Out,
) -> Result<u8, Failure> {
    let vertical = load(cwd, place.manifest.as_deref())?;
    let session = open_session(&vertical, out)?;
    let target = match to {
        Some(id) => id.to_owned(),
        None => session
            .default_rollback_target()
            .map_err(fail)?
            .snapshot
            .unwrap_or_default(),
    };
    if !crate::out::confirm(
        &format!("Restore snapshot {target} (HEAD, tracked files and lockfiles)?"),
        yes,
    )? {
        out.eprint("not confirmed; nothing was changed\n");
        return Ok(1);
    }
    let report = session.rollback(to).map_err(fail)?;
    if out.json {
        out.print_json(&report);
    } else {
        out.print(&format!(
            "{} snapshot {}{} (verified; {} file(s) written, {} removed)\n",
            paint(GREEN, "restored:"),
            report.snapshot,
            match (&report.from, &report.to) {
                (Some(f), Some(t)) => format!(": core {f} → {t}"),
                _ => String::new(),
            },
            report.files_written,
            report.files_removed
        ));
    }
    Ok(0)
}

pub fn recover_cmd(cwd: &Path, place: &Where, out: &Out) -> Result<u8, Failure> {
    let vertical = load(cwd, place.manifest.as_deref())?;
    let session = Session::open(&vertical, &command_line(), &txn::default_actor()).map_err(fail)?;
    if out.json {
        out.print_json(&serde_json::json!({
            "schema": "lockstep.recover/v1",
            "recovered": session.recovery,
            "audit_repaired": session.repaired_audit,
        }));
    } else if session.recovery.is_none() && !session.repaired_audit {
        out.print("nothing to recover: no interrupted transaction\n");
    } else {
        report_recovery(&session, out);
        out.print("recovered\n");
    }
    Ok(0)
}

pub fn history_cmd(
    cwd: &Path,
    place: &Where,
    limit: Option<usize>,
    out: &Out,
) -> Result<u8, Failure> {
    let vertical = load(cwd, place.manifest.as_deref())?;
    let log_path = vertical.state_dir().join(txn::AUDIT_FILE);
    let records = if log_path.exists() {
        txn::audit_log(&vertical.root)
            .and_then(|l| l.records().map_err(Into::into))
            .map_err(fail)?
    } else {
        Vec::new()
    };
    let skip = limit.map_or(0, |n| records.len().saturating_sub(n));
    let records = &records[skip..];
    if out.json {
        out.print_json(&serde_json::json!({"schema": "lockstep.history/v1", "records": records}));
        return Ok(0);
    }
    if records.is_empty() {
        out.print(&format!("no audit records yet in {}\n", log_path.display()));
        return Ok(0);
    }
    let mut table = Table::new(&[
        "seq", "time", "action", "from", "to", "outcome", "snapshot", "actor",
    ]);
    for r in records {
        let style = match r.outcome.as_str() {
            "committed" | "restored" | "rolled_back" => GREEN,
            "restore_failed" | "blocked" => RED,
            _ => BOLD,
        };
        table.row(vec![
            r.seq.to_string(),
            r.time.clone(),
            r.action.clone(),
            r.from.clone().unwrap_or_else(|| "-".into()),
            r.to.clone().unwrap_or_else(|| "-".into()),
            paint(style, &r.outcome),
            r.snapshot.clone().unwrap_or_else(|| "-".into()),
            r.actor.clone(),
        ]);
    }
    out.print(&table.render());
    Ok(0)
}

pub fn audit_verify_cmd(cwd: &Path, place: &Where, out: &Out) -> Result<u8, Failure> {
    let vertical = load(cwd, place.manifest.as_deref())?;
    let log = txn::audit_log(&vertical.root).map_err(fail)?;
    let report = log.verify().map_err(|e| {
        Failure::input(
            "audit",
            format!("cannot read {}: {e}", log.path().display()),
        )
    })?;
    let ok = report.is_ok();
    if out.json {
        out.print_json(&serde_json::json!({
            "schema": "lockstep.audit-verify/v1",
            "path": log.path().display().to_string(),
            "ok": ok,
            "records": report.records,
            "problem": report.problem.as_ref().map(|p| serde_json::json!({"seq": p.seq, "line": p.line, "message": p.to_string()})),
        }));
    } else if ok {
        out.print(&format!(
            "{} {} ({} records, hash chain intact)\n",
            paint(GREEN, "verified:"),
            log.path().display(),
            report.records
        ));
    } else {
        let mut t = format!("{} {}\n", paint(RED, "tampered:"), log.path().display());
        if let Some(p) = &report.problem {
            t.push_str(&format!(
                "  - {p}\n  {} record(s) before it verify\n",
                report.records
            ));
        }
        out.print(&t);
    }
    Ok(if ok { 0 } else { 1 })
}

pub fn channel_cmd(
    cwd: &Path,
    place: &Where,
    to: Option<Channel>,
    out: &Out,
) -> Result<u8, Failure> {
    let vertical = load(cwd, place.manifest.as_deref())?;
    let report = match to {
        None => channel::show(&vertical),
        Some(c) => {
            let session = open_session(&vertical, out)?;
            channel::switch(&session, &vertical, c)
                .map_err(|e| Failure::input(e.kind(), e.to_string()))?
        }
    };
    if out.json {
        out.print_json(&report);
    } else if report.changed {
        out.print(&format!(
            "channel: {} → {} (rewrote update_channel in {}; commit it)\n",
            report.previous,
            paint(BOLD, &report.channel.to_string()),
            report.manifest
        ));
    } else {
        out.print(&format!(
            "channel: {}\n",
            paint(BOLD, &report.channel.to_string())
        ));
    }
    Ok(0)
}
