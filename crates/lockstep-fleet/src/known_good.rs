//! The known-good registry: promote a version the lab passed, quarantine a known-bad one,
//! list both, and name the rollback target of a channel.
//!
//! Per component and channel, promotions are ordered (a re-promotion moves a version to the
//! front). The current version is the newest promotion that is not quarantined; the rollback
//! target is the one before it. Quarantining the current version therefore makes the rollback
//! target current: the last two known-good versions are always the ones to run and to fall
//! back to.

use std::time::SystemTime;

use lockstep_store::fleet as db;
use serde::Serialize;

use crate::Error;
use crate::events::{DeliveryReport, Event, Notifier};
use crate::home::{Fleet, Pending, now_text};
use crate::spec::{Channel, ComponentVersion, check_text};

/// Options of `known-good promote`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PromoteOptions {
    /// What to promote.
    pub target: ComponentVersion,
    /// Where.
    pub channel: Channel,
    /// Who (audit).
    pub actor: String,
    /// The clock.
    pub now: SystemTime,
}

impl PromoteOptions {
    /// Promote `target` to `channel` as `actor`, now.
    pub fn new(target: ComponentVersion, channel: Channel, actor: impl Into<String>) -> Self {
        PromoteOptions {
            target,
            channel,
            actor: actor.into(),
            now: SystemTime::now(),
        }
    }
}

/// What `known-good promote` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Promotion {
    /// The component.
    pub component: String,
    /// The version promoted.
    pub version: String,
    /// The channel.
    pub channel: Channel,
    /// The lab verdict that allowed it.
    pub verdict: String,
    /// The version that was current before.
    pub previous: Option<String>,
    /// The rollback target now.
    pub rollback_target: Option<String>,
    /// Webhook deliveries.
    pub notifications: Vec<DeliveryReport>,
}

/// `known-good promote NAME@VERSION --channel C`: stable needs a green lab result for that
/// version (the newest run counts), beta a green or yellow one; a quarantined version is never
/// promoted. Failpoints: `promote_before_commit`, `promote_after_commit`.
pub fn promote(
    fleet: &mut Fleet,
    notifier: &Notifier,
    opts: &PromoteOptions,
) -> Result<Promotion, Error> {
    check_text("actor", &opts.actor)?;
    let ComponentVersion { component, version } = &opts.target;
    let conn = fleet.store.conn();
    if let Some((reason, _)) = db::quarantined(conn, component, version)? {
        return Err(Error::Quarantined {
            component: component.clone(),
            version: version.clone(),
            reason,
        });
    }
    let run = db::latest_lab_run(conn, component, version)?.ok_or_else(|| Error::NoLabResult {
        component: component.clone(),
        version: version.clone(),
    })?;
    if !opts.channel.admits(&run.verdict) {
        return Err(opts.channel.refusal(component, version, &run.verdict));
    }
    let channel = opts.channel.as_str();
    let previous = db::channel_versions(conn, component, channel, 1)?
        .into_iter()
        .next();
    let now = now_text(opts.now);
    let record = Pending::new(&opts.actor, "fleet_promoted", "promoted")
        .from(previous.as_deref())
        .to(version)
        .detail("component", component.as_str())
        .detail("channel", channel)
        .detail("lab_run", run.id)
        .detail("verdict", run.verdict.as_str());
    fleet.commit("promote", record, |tx| {
        db::promote(
            tx,
            component,
            channel,
            version,
            &opts.actor,
            Some(run.id),
            &now,
        )?;
        Ok(())
    })?;
    let rollback_target = db::channel_versions(fleet.store.conn(), component, channel, 2)?
        .into_iter()
        .nth(1);
    let rollback = match &rollback_target {
        Some(t) => format!(
            "to roll back: lockstep known-good quarantine {component}@{version} --reason TEXT; {channel} then falls back to {t}"
        ),
        None => format!("no earlier known-good version on {channel} to fall back to"),
    };
    let event = Event::new(
        "promotion",
        component,
        version,
        &run.verdict,
        format!(
            "{component} {version} promoted to {channel}{}",
            previous
                .as_ref()
                .map(|p| format!(" (was {p})"))
                .unwrap_or_default()
        ),
        rollback,
    )
    .with("channel", channel)
    .with("previous", previous.clone());
    let notifications = notifier.send(fleet, &event);
    Ok(Promotion {
        component: component.clone(),
        version: version.clone(),
        channel: opts.channel,
        verdict: run.verdict,
        previous,
        rollback_target,
        notifications,
    })
}

/// Options of `known-good quarantine`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QuarantineOptions {
    /// The known-bad version.
    pub target: ComponentVersion,
    /// Why (shown wherever it is listed).
    pub reason: String,
    /// Who (audit).
    pub actor: String,
    /// The clock.
    pub now: SystemTime,
}

impl QuarantineOptions {
    /// Quarantine `target` for `reason` as `actor`, now.
    pub fn new(
        target: ComponentVersion,
        reason: impl Into<String>,
        actor: impl Into<String>,
    ) -> Self {
        QuarantineOptions {
            target,
            reason: reason.into(),
            actor: actor.into(),
            now: SystemTime::now(),
        }
    }
}

/// What `known-good quarantine` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Quarantined {
    /// The component.
    pub component: String,
    /// The version.
    pub version: String,
    /// Why.
    pub reason: String,
    /// Whether it was already quarantined (the first reason stays).
    pub already: bool,
    /// Each channel's current version afterwards.
    pub channels: Vec<ChannelNow>,
    /// Webhook deliveries.
    pub notifications: Vec<DeliveryReport>,
}

/// A channel's current version.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ChannelNow {
    /// The channel.
    pub channel: Channel,
    /// Its current known-good version.
    pub current: Option<String>,
}

/// `known-good quarantine NAME@VERSION --reason TEXT`: marks the version known-bad; it needs
/// no promotion. Failpoints: `quarantine_before_commit`, `quarantine_after_commit`.
pub fn quarantine(
    fleet: &mut Fleet,
    notifier: &Notifier,
    opts: &QuarantineOptions,
) -> Result<Quarantined, Error> {
    check_text("reason", &opts.reason)?;
    check_text("actor", &opts.actor)?;
    let ComponentVersion { component, version } = &opts.target;
    let now = now_text(opts.now);
    let existing = db::quarantined(fleet.store.conn(), component, version)?;
    let newly = existing.is_none();
    let status = db::latest_lab_run(fleet.store.conn(), component, version)?
        .map_or_else(|| "untested".to_owned(), |r| r.verdict);
    if existing.is_none() {
        let record = Pending::new(&opts.actor, "fleet_quarantined", "quarantined")
            .to(version)
            .detail("component", component.as_str())
            .detail("reason", opts.reason.as_str());
        fleet.commit("quarantine", record, |tx| {
            db::quarantine(tx, component, version, &opts.reason, &opts.actor, &now)?;
            Ok(())
        })?;
    }
    let mut channels = Vec::new();
    for channel in [Channel::Stable, Channel::Beta] {
        let current = db::channel_versions(fleet.store.conn(), component, channel.as_str(), 1)?
            .into_iter()
            .next();
        channels.push(ChannelNow { channel, current });
    }
    let fallback: Vec<String> = channels
        .iter()
        .filter_map(|c| {
            c.current
                .as_ref()
                .map(|v| format!("{} runs {v}", c.channel))
        })
        .collect();
    let reason = existing.map_or(opts.reason.clone(), |(r, _)| r);
    let notifications = if newly {
        let event = Event::new(
            "quarantine",
            component,
            version,
            &status,
            format!("{component} {version} quarantined: {reason}"),
            if fallback.is_empty() {
                "no known-good version to fall back to".to_owned()
            } else {
                format!("fall back: {}", fallback.join(", "))
            },
        )
        .with("reason", reason.as_str());
        notifier.send(fleet, &event)
    } else {
        Vec::new()
    };
    Ok(Quarantined {
        component: component.clone(),
        version: version.clone(),
        already: !newly,
        reason,
        channels,
        notifications,
    })
}

/// One line of `known-good list`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// The component.
    pub component: String,
    /// The version.
    pub version: String,
    /// The channel (`null` for a quarantined version never promoted).
    pub channel: Option<String>,
    /// `known_good` or `quarantined`.
    pub state: &'static str,
    /// The quarantine reason.
    pub reason: Option<String>,
    /// When it was promoted.
    pub promoted_at: Option<String>,
    /// Whether it is its channel's current version.
    pub current: bool,
    /// Whether it is its channel's rollback target.
    pub rollback_target: bool,
}

/// `known-good list [--channel C]`: every promotion and quarantine, by component and channel,
/// newest promotion first.
pub fn list(fleet: &Fleet, channel: Option<Channel>) -> Result<Vec<Entry>, Error> {
    let rows = db::known_good(fleet.store.conn(), channel.map(Channel::as_str))?;
    let mut rank = std::collections::HashMap::<(String, Option<String>), usize>::new();
    Ok(rows
        .into_iter()
        .map(|k| {
            let quarantined = k.quarantine.is_some();
            let n = if quarantined {
                usize::MAX
            } else {
                let r = rank
                    .entry((k.component.clone(), k.channel.clone()))
                    .or_default();
                *r += 1;
                *r
            };
            Entry {
                component: k.component,
                version: k.version,
                state: if quarantined {
                    "quarantined"
                } else {
                    "known_good"
                },
                reason: k.quarantine.map(|(r, _)| r),
                promoted_at: k.promoted_at,
                current: k.channel.is_some() && n == 1,
                rollback_target: k.channel.is_some() && n == 2,
                channel: k.channel,
            }
        })
        .collect())
}

/// `known-good rollback-target NAME --channel C`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RollbackTarget {
    /// The component.
    pub component: String,
    /// The channel.
    pub channel: Channel,
    /// The version to fall back to.
    pub version: String,
    /// The current version.
    pub current: String,
}

/// The version to fall back to on `channel`: the known-good version promoted before the
/// current one (quarantined versions skipped). Refused when there is none.
pub fn rollback_target(
    fleet: &Fleet,
    component: &str,
    channel: Channel,
) -> Result<RollbackTarget, Error> {
    let two = db::channel_versions(fleet.store.conn(), component, channel.as_str(), 2)?;
    match two.as_slice() {
        [current, target] => Ok(RollbackTarget {
            component: component.to_owned(),
            channel,
            version: target.clone(),
            current: current.clone(),
        }),
        [current] => Err(Error::Nothing {
            what: format!(
                "{component} has one known-good version on {channel} ({current}); there is nothing to roll back to"
            ),
        }),
        _ => Err(Error::Nothing {
            what: format!("{component} has no known-good version on {channel}"),
        }),
    }
}
