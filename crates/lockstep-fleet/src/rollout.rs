//! Staged rollouts: a known-good version goes to 1 %, 10 %, 50 %, 100 % of units while their
//! reports are watched; credible bad evidence halts it, quarantines the version and sends
//! everyone back to the previous known-good version.
//!
//! The decisions are `lockstep-rollout`'s pure functions (buckets, [`assign`], stage
//! evaluation with Wilson bounds, the state machine); this module stores rollouts and their
//! events in the state database (`lockstep-store`'s `rollouts` and `rollout_events`), takes the
//! known-good registry, pins and quarantine from this crate, writes every transition to the
//! fleet's audit log and sends `rollout_halted`.
//!
//! Crash safety: every transition is one SQLite transaction with its audit record (the
//! fleet's outbox). A halt commits the new state, the halt event *and the quarantine* together,
//! with `followup_pending` set; the notification is sent after the commit and the flag cleared.
//! A crash in between (failpoint `rollout_advance_after_commit`) leaves a halted, quarantined
//! rollout whose notification the next rollout command sends.

use std::time::SystemTime;

use lockstep_rollout::{self as pure, Decision, Policy, Tally, View};
use lockstep_store::rollout::{self as rdb, EventRow, RolloutRow};
use lockstep_store::{fleet as db, rusqlite::Connection};
use serde::Serialize;

use crate::Error;
use crate::events::{DeliveryReport, Event, Notifier};
use crate::home::{Fleet, Pending};
use crate::spec::{Channel, ComponentVersion, check_name, check_text};

/// The failpoints of `rollout advance`, in the order they are reached.
pub const FAILPOINTS: &[&str] = &[
    "rollout_advance_before_commit",
    "rollout_advance_after_commit",
];

fn unix(now: SystemTime) -> i64 {
    lockstep_state::time::unix_seconds(now)
}

/// Which rollout a command means. With one rollout in the store, nothing needs to be given;
/// otherwise the component (and, when it rolls out on both channels, the channel) or the id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selector {
    /// The rollout's id.
    pub id: Option<String>,
    /// The component.
    pub component: Option<String>,
    /// The channel.
    pub channel: Option<Channel>,
}

impl Selector {
    /// A selector naming a component (and maybe a channel).
    pub fn component(component: Option<String>, channel: Option<Channel>) -> Selector {
        Selector {
            id: None,
            component,
            channel,
        }
    }
}

/// `rollout status --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Status {
    /// `lockstep.rollout-status/v1`.
    pub schema: &'static str,
    /// The rollout's id.
    pub id: String,
    /// The component.
    pub component: String,
    /// The version rolled out.
    pub version: String,
    /// The channel.
    pub channel: String,
    /// running, paused, halted, completed or aborted.
    pub state: String,
    /// The current stage in percent.
    pub stage_percent: u8,
    /// The current stage in basis points.
    pub stage_bp: u16,
    /// Every stage in percent.
    pub stages: Vec<u8>,
    /// Reports in the current stage.
    pub samples: u64,
    /// Reports that count as failures in the current stage (failed, or slower than the limit).
    pub failures: u64,
    /// Of `failures`, those that succeeded too slowly.
    pub slow: u64,
    /// failures ÷ samples (0 without samples).
    pub failure_rate: f64,
    /// The Wilson interval of the failure rate.
    pub bounds: pure::Bounds,
    /// The version units outside the stage (and everyone after a halt) run.
    pub rollback: String,
    /// The policy.
    pub policy: Policy,
    /// Why it halted.
    pub halt_evidence: Option<serde_json::Value>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When the current stage started (RFC 3339).
    pub stage_started_at: String,
}

struct Loaded {
    row: RolloutRow,
    machine: pure::Rollout,
}

fn load(conn: &Connection, row: RolloutRow) -> Result<Loaded, Error> {
    let policy: Policy = serde_json::from_str(&row.policy).map_err(|e| Error::Nothing {
        what: format!("rollout {}: the stored policy is unreadable: {e}", row.id),
    })?;
    let state = pure::State::parse(&row.state).ok_or_else(|| Error::Nothing {
        what: format!("rollout {}: unknown state {}", row.id, row.state),
    })?;
    let counts = rdb::stage_counts(conn, &row.id, policy.max_latency_ms)?;
    let c = counts
        .iter()
        .find(|c| c.stage == row.stage)
        .copied()
        .unwrap_or_default();
    let tally = Tally {
        samples: c.samples,
        failures: c.failures,
        slow: c.slow,
    };
    let stage = usize::try_from(row.stage).unwrap_or(0);
    let machine = pure::Rollout::from_parts(policy, state, stage, row.stage_started, tally);
    Ok(Loaded { row, machine })
}

fn status_of(l: &Loaded) -> Status {
    let m = &l.machine;
    let t = m.tally;
    Status {
        schema: "lockstep.rollout-status/v1",
        id: l.row.id.clone(),
        component: l.row.component.clone(),
        version: l.row.version.clone(),
        channel: l.row.channel.clone(),
        state: m.state.as_str().to_owned(),
        stage_percent: m.stage_percent(),
        stage_bp: m.stage_bp(),
        stages: m.policy.stages.clone(),
        samples: t.samples,
        failures: t.bad(),
        slow: t.slow,
        failure_rate: t.failure_rate(),
        bounds: pure::wilson(t.bad(), t.samples, m.policy.z),
        rollback: l.row.rollback_version.clone(),
        policy: m.policy.clone(),
        halt_evidence: l
            .row
            .halt_evidence
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok()),
        started_at: lockstep_state::time::rfc3339_from_unix(l.row.started_at),
        stage_started_at: lockstep_state::time::rfc3339_from_unix(l.row.stage_started),
    }
}

fn select(conn: &Connection, sel: &Selector) -> Result<RolloutRow, Error> {
    let all = rdb::list(conn)?;
    if let Some(id) = &sel.id {
        return all.into_iter().find(|r| &r.id == id).ok_or_else(|| {
            Error::invalid(
                "rollout id",
                id,
                "the id of a rollout in the store (lockstep rollout list)",
            )
        });
    }
    let matching: Vec<RolloutRow> = all
        .into_iter()
        .filter(|r| sel.component.as_ref().is_none_or(|c| &r.component == c))
        .filter(|r| sel.channel.is_none_or(|c| r.channel == c.as_str()))
        .collect();
    let describe = || match (&sel.component, sel.channel) {
        (Some(c), Some(ch)) => format!("{c} on {ch}"),
        (Some(c), None) => c.clone(),
        (None, Some(ch)) => format!("channel {ch}"),
        (None, None) => "the store".to_owned(),
    };
    if matching.is_empty() {
        return Err(Error::invalid(
            "rollout",
            &describe(),
            "a component with a rollout; start one with `lockstep rollout start NAME@VERSION --channel C`",
        ));
    }
    if matching.len() == 1 {
        return Ok(matching.into_iter().next().expect("one element"));
    }
    // Several: the active ones win; among the rest, the newest.
    let active: Vec<&RolloutRow> = matching
        .iter()
        .filter(|r| pure::State::parse(&r.state).is_some_and(pure::State::is_active))
        .collect();
    let distinct = |rows: &[&RolloutRow]| {
        rows.iter()
            .map(|r| (&r.component, &r.channel))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let all: Vec<&RolloutRow> = matching.iter().collect();
    let pick = if active.len() == 1 {
        active[0]
    } else if active.is_empty() && distinct(&all) == 1 {
        all.iter()
            .max_by_key(|r| (r.started_at, r.id.as_str()))
            .copied()
            .expect("not empty")
    } else {
        return Err(Error::invalid(
            "rollout",
            &describe(),
            "one rollout: name it with --component (and --channel) or --id",
        ));
    };
    Ok(pick.clone())
}

/// Sends the `rollout_halted` notifications a crash left unsent (halts committed with
/// `followup_pending`), and clears the flag.
pub fn finish_pending(
    fleet: &mut Fleet,
    notifier: &Notifier,
) -> Result<Vec<DeliveryReport>, Error> {
    let pending: Vec<RolloutRow> = rdb::list(fleet.store.conn())?
        .into_iter()
        .filter(|r| r.followup_pending)
        .collect();
    let mut reports = Vec::new();
    for mut row in pending {
        reports.extend(notifier.send(fleet, &halt_event(&row)));
        row.followup_pending = false;
        rdb::update(fleet.store.conn(), &row)?;
    }
    Ok(reports)
}

fn halt_event(row: &RolloutRow) -> Event {
    let detail: serde_json::Value = row
        .halt_evidence
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or(serde_json::Value::Null);
    let summary = detail
        .get("summary")
        .and_then(|s| s.as_str())
        .unwrap_or("the failure rate is credibly above the limit")
        .to_owned();
    Event::new(
        "rollout_halted",
        &row.component,
        &row.version,
        "red",
        format!("rollout {} halted: {summary}", row.id),
        format!(
            "every unit now runs {}; {} {} is quarantined",
            row.rollback_version, row.component, row.version
        ),
    )
    .with("rollout", row.id.as_str())
    .with("channel", row.channel.as_str())
    .with("rollback_version", row.rollback_version.as_str())
    .with("evidence", detail)
}

/// Options of `rollout start`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StartOptions {
    /// What to roll out.
    pub target: ComponentVersion,
    /// The channel it is known-good on.
    pub channel: Channel,
    /// The policy (stages, thresholds).
    pub policy: Policy,
    /// Who (audit).
    pub actor: String,
    /// The clock.
    pub now: SystemTime,
}

impl StartOptions {
    /// Roll `target` out on `channel` with `policy`, as `actor`, now.
    pub fn new(target: ComponentVersion, channel: Channel, policy: Policy, actor: &str) -> Self {
        StartOptions {
            target,
            channel,
            policy,
            actor: actor.to_owned(),
            now: SystemTime::now(),
        }
    }
}

/// `rollout start NAME@VERSION --channel C`: refused unless the version is known-good on the
/// channel, not quarantined, and has a known-good version before it to fall back to; one
/// active rollout per component and channel.
pub fn start(fleet: &mut Fleet, notifier: &Notifier, opts: &StartOptions) -> Result<Status, Error> {
    check_text("actor", &opts.actor)?;
    finish_pending(fleet, notifier)?;
    let ComponentVersion { component, version } = &opts.target;
    let channel = opts.channel.as_str();
    let conn = fleet.store.conn();
    if let Some((reason, _)) = db::quarantined(conn, component, version)? {
        return Err(Error::Quarantined {
            component: component.clone(),
            version: version.clone(),
            reason,
        });
    }
    let known = db::channel_versions(conn, component, channel, usize::MAX)?;
    let Some(at) = known.iter().position(|v| v == version) else {
        return Err(Error::Nothing {
            what: format!(
                "{component}@{version} is not known-good on {channel}; promote it first (lockstep known-good promote {component}@{version} --channel {channel})"
            ),
        });
    };
    let Some(rollback) = known.get(at + 1).cloned() else {
        return Err(Error::Nothing {
            what: format!(
                "{component}@{version} has no earlier known-good version on {channel} to fall back to; a staged rollout needs one"
            ),
        });
    };
    let now = unix(opts.now);
    let n = rdb::list(conn)?
        .iter()
        .filter(|r| &r.component == component && r.channel == channel)
        .count();
    let id = format!("{component}@{version}-{channel}-{}", n + 1);
    let policy = serde_json::to_string(&opts.policy).map_err(|e| Error::Nothing {
        what: format!("cannot encode the policy: {e}"),
    })?;
    let row = RolloutRow::new(&id, component, version, channel, &rollback, &policy, now);
    let record = Pending::new(&opts.actor, "rollout_started", "running")
        .from(Some(&rollback))
        .to(version)
        .detail("component", component.as_str())
        .detail("channel", channel)
        .detail("rollout", id.as_str())
        .detail("stages", opts.policy.stages.clone());
    fleet
        .commit("rollout_start", record, |tx| {
            rdb::insert(tx, &row).map_err(|e| {
                if rdb::is_unique_violation(&e) {
                    Error::Nothing {
                        what: format!(
                            "{component} already has an active rollout on {channel}; finish, halt or abort it first"
                        ),
                    }
                } else {
                    e.into()
                }
            })?;
            rdb::add_event(tx, &EventRow::lifecycle(&id, now, "started", 0))?;
            Ok(())
        })?;
    Ok(status_of(&load(fleet.store.conn(), row)?))
}

/// `rollout status`.
pub fn status(fleet: &mut Fleet, notifier: &Notifier, sel: &Selector) -> Result<Status, Error> {
    finish_pending(fleet, notifier)?;
    let row = select(fleet.store.conn(), sel)?;
    Ok(status_of(&load(fleet.store.conn(), row)?))
}

/// Every rollout, oldest first.
pub fn list(fleet: &Fleet) -> Result<Vec<Status>, Error> {
    let conn = fleet.store.conn();
    rdb::list(conn)?
        .into_iter()
        .map(|r| load(conn, r).map(|l| status_of(&l)))
        .collect()
}

/// `rollout assign UNIT --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AssignOutcome {
    /// `lockstep.rollout-assign/v1`.
    pub schema: &'static str,
    /// The unit.
    pub unit: String,
    /// The component.
    pub component: String,
    /// The version the unit runs.
    pub version: String,
    /// The unit's bucket in 0..10000.
    pub bucket: u16,
    /// The stage's share in basis points.
    pub stage_bp: u16,
    /// `pin`, `rollout` or `rollback_target`.
    pub why: &'static str,
    /// The rollout.
    pub rollout: String,
    /// The rollout's state.
    pub state: String,
}

/// `rollout assign UNIT [--org ORG]`: the version `unit` runs now. A valid pin of `org` (or,
/// without `org`, of an organisation named like the unit) wins; expired pins are ignored.
pub fn assign(
    fleet: &mut Fleet,
    notifier: &Notifier,
    sel: &Selector,
    unit: &str,
    org: Option<&str>,
    now: SystemTime,
) -> Result<AssignOutcome, Error> {
    check_name("unit", unit)?;
    finish_pending(fleet, notifier)?;
    let conn = fleet.store.conn();
    let l = load(conn, select(conn, sel)?)?;
    let pin = db::pin(conn, org.unwrap_or(unit), &l.row.component)?
        .filter(|p| p.expires_unix.is_none_or(|e| e > unix(now)));
    let view = View {
        id: &l.row.id,
        version: &l.row.version,
        rollback: &l.row.rollback_version,
        state: l.machine.state,
        stage_bp: l.machine.stage_bp(),
    };
    let a = pure::assign(&view, unit, pin.as_ref().map(|p| p.version.as_str()));
    Ok(AssignOutcome {
        schema: "lockstep.rollout-assign/v1",
        unit: unit.to_owned(),
        component: l.row.component.clone(),
        version: a.version.to_owned(),
        bucket: a.bucket,
        stage_bp: a.stage_bp,
        why: a.why.as_str(),
        rollout: l.row.id.clone(),
        state: l.machine.state.as_str().to_owned(),
    })
}

/// What a rollout says `unit` runs, for `resolve`: `None` unless the newest rollout of
/// `component` on `channel` is of the channel's current known-good version and has not
/// completed (a completed rollout, or a halted one whose version was quarantined, leaves the
/// answer to the known-good registry). Pins are the caller's to apply first.
pub fn resolve_in(
    conn: &Connection,
    unit: &str,
    component: &str,
    channel: Channel,
) -> Result<Option<(String, pure::Why)>, Error> {
    let Some(row) = rdb::latest_for(conn, component, channel.as_str())? else {
        return Ok(None);
    };
    let Some(state) = pure::State::parse(&row.state) else {
        return Ok(None);
    };
    let current = db::channel_versions(conn, component, channel.as_str(), 1)?;
    if state == pure::State::Completed || current.first() != Some(&row.version) {
        return Ok(None);
    }
    let policy: Policy = serde_json::from_str(&row.policy).map_err(|e| Error::Nothing {
        what: format!("rollout {}: the stored policy is unreadable: {e}", row.id),
    })?;
    let view = View {
        id: &row.id,
        version: &row.version,
        rollback: &row.rollback_version,
        state,
        stage_bp: policy.stage_bp(usize::try_from(row.stage).unwrap_or(0)),
    };
    let a = pure::assign(&view, unit, None);
    Ok(Some((a.version.to_owned(), a.why)))
}

/// One report of a unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The unit.
    pub unit: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The start latency.
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

impl Report {
    /// A report.
    pub fn new(unit: &str, success: bool, latency_ms: Option<u64>) -> Report {
        Report {
            unit: unit.to_owned(),
            outcome: if success { "success" } else { "failure" }.to_owned(),
            latency_ms,
        }
    }
}

/// `rollout report --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ReportOutcome {
    /// `lockstep.rollout-report/v1`.
    pub schema: &'static str,
    /// The rollout.
    pub rollout: String,
    /// Reports stored.
    pub recorded: usize,
    /// Whether they count towards the stage (false once the rollout ended).
    pub counted: bool,
    /// The rollout's state.
    pub state: String,
    /// The current stage in percent.
    pub stage_percent: u8,
    /// Reports in the current stage, these included.
    pub samples: u64,
    /// Failures in the current stage.
    pub failures: u64,
}

/// `rollout report UNIT --outcome success|failure [--latency-ms N]`, or a batch: stored as
/// rollout events of the current stage, in one transaction. Reports after the rollout ended
/// are stored but do not count.
pub fn report(
    fleet: &mut Fleet,
    notifier: &Notifier,
    sel: &Selector,
    reports: &[Report],
    now: SystemTime,
) -> Result<ReportOutcome, Error> {
    for r in reports {
        check_name("unit", &r.unit)?;
        if r.outcome != "success" && r.outcome != "failure" {
            return Err(Error::invalid("outcome", &r.outcome, "success or failure"));
        }
    }
    finish_pending(fleet, notifier)?;
    let row = select(fleet.store.conn(), sel)?;
    let at = unix(now);
    let tx = fleet
        .store
        .conn_mut()
        .transaction_with_behavior(lockstep_store::rusqlite::TransactionBehavior::Immediate)
        .map_err(lockstep_store::Error::from)?;
    // Read the stage inside the transaction: a concurrent advance cannot slip in between.
    let current = rdb::get(&tx, &row.id)?.unwrap_or(row);
    for r in reports {
        let latency = r.latency_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
        rdb::add_event(
            &tx,
            &EventRow::report(
                &current.id,
                at,
                current.stage,
                &r.unit,
                r.outcome == "success",
                latency,
            ),
        )?;
    }
    tx.commit().map_err(lockstep_store::Error::from)?;
    let l = load(fleet.store.conn(), current)?;
    Ok(ReportOutcome {
        schema: "lockstep.rollout-report/v1",
        rollout: l.row.id.clone(),
        recorded: reports.len(),
        counted: l.machine.state.is_active(),
        state: l.machine.state.as_str().to_owned(),
        stage_percent: l.machine.stage_percent(),
        samples: l.machine.tally.samples,
        failures: l.machine.tally.bad(),
    })
}

/// `rollout advance --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AdvanceOutcome {
    /// `lockstep.rollout-advance/v1`.
    pub schema: &'static str,
    /// `halt`, `advance`, `complete`, `stay` or `pause`.
    pub decision: &'static str,
    /// The stage evaluated, in percent.
    pub evaluated_percent: u8,
    /// The tally it was judged on.
    pub samples: u64,
    /// Failures in it.
    pub failures: u64,
    /// The Wilson interval.
    pub bounds: pure::Bounds,
    /// Why it halted.
    pub evidence: Option<pure::HaltEvidence>,
    /// The rollout afterwards.
    pub status: Status,
    /// Webhook deliveries (a halt's `rollout_halted`).
    pub notifications: Vec<DeliveryReport>,
}

/// `rollout advance`: evaluates the current stage and applies the decision (see
/// [`lockstep_rollout::evaluate`]). A halt quarantines the version with the evidence (in the
/// same transaction), records the event and sends `rollout_halted`.
pub fn advance(
    fleet: &mut Fleet,
    notifier: &Notifier,
    sel: &Selector,
    actor: &str,
    now: SystemTime,
) -> Result<AdvanceOutcome, Error> {
    check_text("actor", actor)?;
    finish_pending(fleet, notifier)?;
    let conn = fleet.store.conn();
    let before = load(conn, select(conn, sel)?)?;
    let mut machine = before.machine.clone();
    let at = unix(now);
    let tally = machine.tally;
    let evaluated_percent = machine.stage_percent();
    let decision = machine.advance(at).map_err(|e| Error::Nothing {
        what: format!("rollout {}: {e}", before.row.id),
    })?;
    let (word, event_kind, outcome) = match &decision {
        Decision::Halt { .. } => ("halt", "halted", "halted"),
        Decision::Advance { .. } => ("advance", "advanced", "running"),
        Decision::Complete => ("complete", "completed", "completed"),
        Decision::Pause { .. } => ("pause", "paused", "paused"),
        Decision::Stay => ("stay", "", ""),
    };
    let evidence = match &decision {
        Decision::Halt { evidence } => Some(evidence.clone()),
        _ => None,
    };
    let mut row = before.row.clone();
    if !event_kind.is_empty() {
        row.state = machine.state.as_str().to_owned();
        row.stage = i64::try_from(machine.stage).unwrap_or(row.stage);
        row.stage_started = machine.stage_started;
        row.updated_at = at;
        let detail = serde_json::json!({
            "decision": word,
            "from_percent": evaluated_percent,
            "to_percent": machine.stage_percent(),
            "samples": tally.samples,
            "failures": tally.bad(),
            "evidence": evidence,
            "summary": evidence.as_ref().map(pure::HaltEvidence::summary),
        });
        if evidence.is_some() {
            row.halt_evidence = Some(detail.to_string());
            row.followup_pending = true;
        }
        let reason = evidence
            .as_ref()
            .map(|e| format!("rollout {} halted: {}", row.id, e.summary()));
        let record = Pending::new(actor, &format!("rollout_{event_kind}"), outcome)
            .from(Some(&row.rollback_version))
            .to(&row.version)
            .detail("component", row.component.as_str())
            .detail("channel", row.channel.as_str())
            .detail("rollout", row.id.as_str())
            .detail("evaluation", detail.clone());
        let expected = (before.row.state.clone(), before.row.stage);
        let event = EventRow::lifecycle(&row.id, at, event_kind, before.row.stage)
            .with_detail(detail.to_string());
        fleet.commit("rollout_advance", record, |tx| {
            let current = rdb::get(tx, &row.id)?;
            if current.map(|c| (c.state, c.stage)) != Some(expected.clone()) {
                return Err(Error::Nothing {
                    what: format!(
                        "rollout {} changed while it was being evaluated; run advance again",
                        row.id
                    ),
                });
            }
            rdb::update(tx, &row)?;
            rdb::add_event(tx, &event)?;
            if let Some(reason) = &reason {
                let now_text = lockstep_state::time::rfc3339_from_unix(at);
                db::quarantine(tx, &row.component, &row.version, reason, actor, &now_text)?;
            }
            Ok(())
        })?;
    }
    let notifications = if evidence.is_some() {
        finish_pending(fleet, notifier)?
    } else {
        Vec::new()
    };
    let after = load(fleet.store.conn(), row)?;
    Ok(AdvanceOutcome {
        schema: "lockstep.rollout-advance/v1",
        decision: word,
        evaluated_percent,
        samples: tally.samples,
        failures: tally.bad(),
        bounds: pure::wilson(tally.bad(), tally.samples, before.machine.policy.z),
        evidence,
        status: status_of(&after),
        notifications,
    })
}

/// `rollout pause|resume|abort`.
pub fn command(
    fleet: &mut Fleet,
    notifier: &Notifier,
    sel: &Selector,
    command: pure::Command,
    actor: &str,
    now: SystemTime,
) -> Result<Status, Error> {
    check_text("actor", actor)?;
    finish_pending(fleet, notifier)?;
    let conn = fleet.store.conn();
    let before = load(conn, select(conn, sel)?)?;
    let mut machine = before.machine.clone();
    let at = unix(now);
    machine.command(command, at).map_err(|e| Error::Nothing {
        what: format!("rollout {}: {e}", before.row.id),
    })?;
    let mut row = before.row.clone();
    row.state = machine.state.as_str().to_owned();
    row.stage_started = machine.stage_started;
    row.updated_at = at;
    let kind = match command {
        pure::Command::Pause => "paused",
        pure::Command::Resume => "resumed",
        pure::Command::Abort => "aborted",
    };
    let record = Pending::new(actor, &format!("rollout_{kind}"), row.state.as_str())
        .from(Some(&row.rollback_version))
        .to(&row.version)
        .detail("component", row.component.as_str())
        .detail("channel", row.channel.as_str())
        .detail("rollout", row.id.as_str());
    let expected = before.row.state.clone();
    fleet.commit(&format!("rollout_{}", command.as_str()), record, |tx| {
        if rdb::get(tx, &row.id)?.map(|c| c.state) != Some(expected.clone()) {
            return Err(Error::Nothing {
                what: format!(
                    "rollout {} changed meanwhile; run the command again",
                    row.id
                ),
            });
        }
        rdb::update(tx, &row)?;
        rdb::add_event(tx, &EventRow::lifecycle(&row.id, at, kind, row.stage))?;
        Ok(())
    })?;
    Ok(status_of(&load(fleet.store.conn(), row)?))
}

/// `rollout emit argo`: the selected rollout's policy as an Argo Rollouts `Rollout` and
/// `AnalysisTemplate` (YAML).
pub fn emit_argo(
    fleet: &Fleet,
    sel: &Selector,
    options: impl FnOnce(pure::argo::Options) -> pure::argo::Options,
) -> Result<String, Error> {
    let conn = fleet.store.conn();
    let l = load(conn, select(conn, sel)?)?;
    let opts = options(pure::argo::Options::new(&l.row.component, &l.row.version));
    Ok(pure::argo::emit(&l.machine.policy, &opts).to_yaml())
}
