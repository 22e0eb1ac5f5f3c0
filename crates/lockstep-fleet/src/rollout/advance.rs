//! `rollout advance`: evaluate the current stage and apply the decision, crash-safely.

use std::time::SystemTime;

use lockstep_rollout::{self as pure, Decision};
use lockstep_store::fleet as db;
use lockstep_store::rollout::{self as rdb, EventRow};
use serde::Serialize;

use super::{Selector, Status, finish_pending, load, select, status_of, unix};
use crate::Error;
use crate::events::{DeliveryReport, Notifier};
use crate::home::{Fleet, Pending};
use crate::spec::check_text;

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
