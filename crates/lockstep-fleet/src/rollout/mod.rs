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
//! A crash in between (failpoint `rollout_advance_after_commit`, one of [`crate::FAILPOINTS`])
//! leaves a halted, quarantined rollout whose notification the next rollout command sends.

mod advance;
mod units;

pub use advance::{AdvanceOutcome, advance};
pub use lockstep_rollout::{Command, Policy, argo};
pub use units::{AssignOutcome, Report, ReportOutcome, assign, report, resolve_in};

use std::time::SystemTime;

use lockstep_rollout::{self as pure, Tally};
use lockstep_store::rollout::{self as rdb, EventRow, RolloutRow};
use lockstep_store::{fleet as db, rusqlite::Connection};
use serde::Serialize;

use crate::Error;
use crate::events::{DeliveryReport, Event, Notifier};
use crate::home::{Fleet, Pending};
use crate::spec::{Channel, ComponentVersion, check_text};

pub(crate) fn unix(now: SystemTime) -> i64 {
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

pub(crate) struct Loaded {
    row: RolloutRow,
    machine: pure::Rollout,
}

pub(crate) fn load(conn: &Connection, row: RolloutRow) -> Result<Loaded, Error> {
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

pub(crate) fn status_of(l: &Loaded) -> Status {
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

pub(crate) fn select(conn: &Connection, sel: &Selector) -> Result<RolloutRow, Error> {
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
    if let [only] = matching.as_slice() {
        return Ok(only.clone());
    }
    // Several: the one active rollout wins; with none active, the newest of one component
    // and channel.
    let active: Vec<&RolloutRow> = matching
        .iter()
        .filter(|r| pure::State::parse(&r.state).is_some_and(pure::State::is_active))
        .collect();
    let places = matching
        .iter()
        .map(|r| (&r.component, &r.channel))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let newest = matching
        .iter()
        .max_by_key(|r| (r.started_at, r.id.len(), r.id.as_str()));
    let pick = match (active.as_slice(), newest) {
        ([one], _) => *one,
        ([], Some(newest)) if places == 1 => newest,
        _ => {
            let ids: Vec<&str> = matching.iter().map(|r| r.id.as_str()).collect();
            return Err(Error::invalid(
                "rollout selection",
                &describe(),
                format!(
                    "one rollout; it matches {}: name one with --component (and --channel) or --id",
                    ids.join(", ")
                ),
            ));
        }
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

pub(crate) fn halt_event(row: &RolloutRow) -> Event {
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
