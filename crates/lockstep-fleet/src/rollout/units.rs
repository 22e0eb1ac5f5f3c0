//! Units: which version a unit runs (`assign`, and `resolve`'s rollout answer) and what units
//! report.

use std::time::SystemTime;

use lockstep_rollout::{self as pure, Policy, View};
use lockstep_store::rollout::{self as rdb, EventRow};
use lockstep_store::{fleet as db, rusqlite::Connection};
use serde::Serialize;

use super::{Selector, finish_pending, load, select, unix};
use crate::Error;
use crate::events::Notifier;
use crate::home::Fleet;
use crate::spec::{Channel, check_name};

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
    /// The version the unit ran, when the reporter knows it: a report about another version
    /// than the rollout's is stored but does not count.
    #[serde(default)]
    pub version: Option<String>,
}

impl Report {
    /// A report.
    pub fn new(unit: &str, success: bool, latency_ms: Option<u64>) -> Report {
        Report {
            unit: unit.to_owned(),
            outcome: if success { "success" } else { "failure" }.to_owned(),
            latency_ms,
            version: None,
        }
    }

    /// The same report, about `version`.
    pub fn about(mut self, version: Option<String>) -> Report {
        self.version = version;
        self
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
    /// Reports about another version than the rollout's (stored, never counted).
    pub other_version: usize,
    /// The rollout's state.
    pub state: String,
    /// The current stage in percent.
    pub stage_percent: u8,
    /// Reports in the current stage, these included.
    pub samples: u64,
    /// Failures in the current stage.
    pub failures: u64,
}

/// `rollout report UNIT --outcome success|failure [--latency-ms N] [--version V]`, or a batch:
/// stored as rollout events of the current stage, in one transaction. A report is taken to be
/// about the rollout's version unless it names another one (then it is stored as
/// `report_other_version` and never counts); reports after the rollout ended are stored but do
/// not count.
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
    let mut other_version = 0;
    for r in reports {
        let latency = r.latency_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
        let mut event = EventRow::report(
            &current.id,
            at,
            current.stage,
            &r.unit,
            r.outcome == "success",
            latency,
        );
        if let Some(v) = r.version.as_deref().filter(|v| *v != current.version) {
            other_version += 1;
            event.kind = "report_other_version".to_owned();
            event = event.with_detail(serde_json::json!({ "version": v }).to_string());
        }
        rdb::add_event(&tx, &event)?;
    }
    tx.commit().map_err(lockstep_store::Error::from)?;
    let l = load(fleet.store.conn(), current)?;
    Ok(ReportOutcome {
        schema: "lockstep.rollout-report/v1",
        rollout: l.row.id.clone(),
        recorded: reports.len(),
        counted: l.machine.state.is_active(),
        other_version,
        state: l.machine.state.as_str().to_owned(),
        stage_percent: l.machine.stage_percent(),
        samples: l.machine.tally.samples,
        failures: l.machine.tally.bad(),
    })
}
