//! Organisation pins and `resolve`: which version an organisation should run, and why.
//!
//! A valid pin wins; an expired pin is reported (a note starting "expired") and ignored, and
//! its expiry is recorded once (pin history, audit, a `pin_expired` event); otherwise the
//! channel's current known-good version that is not quarantined.

use std::time::SystemTime;

use lockstep_store::fleet as db;
use lockstep_store::rusqlite::Connection;
use serde::Serialize;

use crate::Error;
use crate::events::{DeliveryReport, Event, Notifier};
use crate::home::{Fleet, Pending, now_text};
use crate::spec::{Channel, ComponentVersion, check_name, check_text};

/// A pin as commands show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PinView {
    /// The organisation.
    pub org: String,
    /// The component.
    pub component: String,
    /// The pinned version.
    pub version: String,
    /// Why.
    pub reason: String,
    /// When it stops applying (RFC 3339), if ever.
    pub expires: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: String,
}

impl PinView {
    fn of(pin: db::Pin, now_unix: i64) -> Self {
        PinView {
            expired: pin.expires_unix.is_some_and(|e| e <= now_unix),
            expires: pin
                .expires_unix
                .map(lockstep_state::time::rfc3339_from_unix),
            org: pin.org,
            component: pin.component,
            version: pin.version,
            reason: pin.reason,
            set_by: pin.set_by,
            set_at: pin.set_at,
        }
    }
}

fn unix(now: SystemTime) -> i64 {
    lockstep_state::time::unix_seconds(now)
}

/// Options of `pin set`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PinOptions {
    /// The organisation.
    pub org: String,
    /// The component and version.
    pub target: ComponentVersion,
    /// Why (required).
    pub reason: String,
    /// `YYYY-MM-DD` or RFC 3339; past dates are accepted (the pin is expired at once).
    pub expires: Option<String>,
    /// Who (required).
    pub by: String,
    /// The clock.
    pub now: SystemTime,
}

impl PinOptions {
    /// Pin `org` to `target` for `reason`, set by `by`, now, without expiry.
    pub fn new(
        org: impl Into<String>,
        target: ComponentVersion,
        reason: impl Into<String>,
        by: impl Into<String>,
    ) -> Self {
        PinOptions {
            org: org.into(),
            target,
            reason: reason.into(),
            expires: None,
            by: by.into(),
            now: SystemTime::now(),
        }
    }
}

/// What `pin set` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PinSet {
    /// The pin now.
    pub pin: PinView,
    /// The pin it replaced.
    pub previous: Option<PinView>,
    /// Notes (the pinned version is quarantined, the expiry is past).
    pub notes: Vec<String>,
    /// Webhook deliveries.
    pub notifications: Vec<DeliveryReport>,
}

/// `pin set ORG NAME@VERSION --reason TEXT [--expires DATE] --by ACTOR`. Failpoints:
/// `pin_before_commit`, `pin_after_commit`.
pub fn set_pin(fleet: &mut Fleet, notifier: &Notifier, opts: &PinOptions) -> Result<PinSet, Error> {
    check_name("organisation", &opts.org)?;
    check_text("reason", &opts.reason)?;
    check_text("actor", &opts.by)?;
    let expires_unix = match &opts.expires {
        None => None,
        Some(text) => Some(lockstep_state::time::parse_timestamp(text).ok_or_else(|| {
            Error::invalid(
                "expiry",
                text,
                "a date YYYY-MM-DD or an RFC 3339 time such as 2026-12-31T18:00:00Z",
            )
        })?),
    };
    let now_unix = unix(opts.now);
    let ComponentVersion { component, version } = &opts.target;
    let pin = db::Pin::new(
        &opts.org,
        component,
        version,
        &opts.reason,
        expires_unix,
        &opts.by,
        now_text(opts.now),
    );
    let previous =
        db::pin(fleet.store.conn(), &opts.org, component)?.map(|p| PinView::of(p, now_unix));
    let mut notes = Vec::new();
    if let Some((reason, _)) = db::quarantined(fleet.store.conn(), component, version)? {
        notes.push(format!(
            "{component}@{version} is quarantined ({reason}); the pin still wins"
        ));
    }
    if expires_unix.is_some_and(|e| e <= now_unix) {
        notes.push(
            "expired already: the expiry is in the past, so resolve ignores this pin".to_owned(),
        );
    }
    let mut record = Pending::new(&opts.by, "pin_set", "pinned")
        .from(previous.as_ref().map(|p| p.version.as_str()))
        .to(version)
        .detail("org", opts.org.as_str())
        .detail("component", component.as_str())
        .detail("reason", opts.reason.as_str());
    if let Some(e) = expires_unix {
        record = record.detail("expires", lockstep_state::time::rfc3339_from_unix(e));
    }
    fleet.commit("pin", record, |tx| Ok(db::set_pin(tx, &pin)?))?;
    let view = PinView::of(pin, now_unix);
    let status = db::latest_lab_run(fleet.store.conn(), component, version)?
        .map_or_else(|| "untested".to_owned(), |r| r.verdict);
    let event = Event::new(
        "pin_set",
        component,
        version,
        &status,
        format!(
            "{} pinned to {component} {version}: {}{}",
            opts.org,
            opts.reason,
            view.expires
                .as_ref()
                .map(|e| format!(" (until {e})"))
                .unwrap_or_default()
        ),
        format!("lockstep pin clear {} {component} --by ACTOR", opts.org),
    )
    .with("org", opts.org.as_str())
    .with("reason", opts.reason.as_str())
    .with("expires", view.expires.clone())
    .with("by", opts.by.as_str());
    let mut notifications = notifier.send(fleet, &event);
    notifications.extend(note_expiry(
        fleet,
        notifier,
        &opts.org,
        component,
        Channel::Stable,
        opts.now,
    )?);
    Ok(PinSet {
        pin: view,
        previous,
        notes,
        notifications,
    })
}

/// `pin clear ORG NAME --by ACTOR`: the pin removed; refused when there was none.
pub fn clear_pin(
    fleet: &mut Fleet,
    org: &str,
    component: &str,
    by: &str,
    now: SystemTime,
) -> Result<PinView, Error> {
    check_text("actor", by)?;
    let Some(old) = db::pin(fleet.store.conn(), org, component)? else {
        return Err(Error::Nothing {
            what: format!("{org} has no pin on {component}"),
        });
    };
    let record = Pending::new(by, "pin_cleared", "cleared")
        .from(Some(&old.version))
        .detail("org", org)
        .detail("component", component);
    let at = now_text(now);
    fleet.commit("pin_clear", record, |tx| {
        Ok(db::clear_pin(tx, org, component, by, &at)?)
    })?;
    Ok(PinView::of(old, unix(now)))
}

/// `pin list [--org ORG]`; records (once) and announces the expiry of pins found expired.
pub fn list_pins(
    fleet: &mut Fleet,
    notifier: &Notifier,
    org: Option<&str>,
    now: SystemTime,
) -> Result<Vec<PinView>, Error> {
    let now_unix = unix(now);
    let pins = db::pins(fleet.store.conn(), org)?;
    for p in pins
        .iter()
        .filter(|p| p.expires_unix.is_some_and(|e| e <= now_unix))
    {
        note_expiry(fleet, notifier, &p.org, &p.component, Channel::Stable, now)?;
    }
    Ok(pins.into_iter().map(|p| PinView::of(p, now_unix)).collect())
}

/// Why `resolve` chose a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Why {
    /// The organisation's valid pin.
    Pin,
    /// The channel's current known-good version.
    KnownGood,
    /// A staged rollout assigned it (the rollout workflow).
    Rollout,
    /// Outside a rollout's current stage: the channel's rollback target (the rollout workflow).
    RollbackTarget,
}

/// Which version an organisation should run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Resolution {
    /// The organisation.
    pub org: String,
    /// The component.
    pub component: String,
    /// The channel consulted when no pin applies.
    pub channel: Channel,
    /// The version to run; `None` when there is nothing to run.
    pub version: Option<String>,
    /// Why; `None` with `version`.
    pub why: Option<Why>,
    /// The organisation's pin on the component, valid or expired.
    pub pin: Option<PinView>,
    /// Explanations (an expired pin, a quarantined pin).
    pub notes: Vec<String>,
}

/// Resolves from the database alone, without side effects: the fast path (a pin lookup and,
/// without a valid pin, one indexed query for the channel's current version).
pub fn resolve_in(
    conn: &Connection,
    org: &str,
    component: &str,
    channel: Channel,
    now_unix: i64,
) -> Result<Resolution, Error> {
    let pin = db::pin(conn, org, component)?.map(|p| PinView::of(p, now_unix));
    let mut notes = Vec::new();
    let mut resolution = Resolution {
        org: org.to_owned(),
        component: component.to_owned(),
        channel,
        version: None,
        why: None,
        pin: None,
        notes: Vec::new(),
    };
    if let Some(p) = &pin {
        if p.expired {
            notes.push(format!(
                "expired pin ignored: {org} was pinned to {} until {} ({})",
                p.version,
                p.expires.as_deref().unwrap_or("?"),
                p.reason
            ));
        } else {
            if let Some((reason, _)) = db::quarantined(conn, component, &p.version)? {
                notes.push(format!(
                    "the pinned version {} is quarantined ({reason})",
                    p.version
                ));
            }
            resolution.version = Some(p.version.clone());
            resolution.why = Some(Why::Pin);
        }
    }
    if resolution.version.is_none()
        && let Some((v, why)) = crate::rollout::resolve_in(conn, org, component, channel)?
    {
        resolution.version = Some(v);
        resolution.why = Some(match why {
            lockstep_rollout::Why::Pin => Why::Pin,
            lockstep_rollout::Why::Rollout => Why::Rollout,
            _ => Why::RollbackTarget,
        });
    }
    if resolution.version.is_none() {
        if let Some(v) = db::channel_versions(conn, component, channel.as_str(), 1)?
            .into_iter()
            .next()
        {
            resolution.version = Some(v);
            resolution.why = Some(Why::KnownGood);
        } else {
            notes.push(format!(
                "{component} has no known-good version on {channel}"
            ));
        }
    }
    resolution.pin = pin;
    resolution.notes = notes;
    Ok(resolution)
}

/// Options of `resolve`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResolveOptions {
    /// The organisation.
    pub org: String,
    /// The component.
    pub component: String,
    /// The channel (default stable).
    pub channel: Channel,
    /// The clock.
    pub now: SystemTime,
}

impl ResolveOptions {
    /// Resolve `component` for `org` on the stable channel, now.
    pub fn new(org: impl Into<String>, component: impl Into<String>) -> Self {
        ResolveOptions {
            org: org.into(),
            component: component.into(),
            channel: Channel::Stable,
            now: SystemTime::now(),
        }
    }
}

/// `resolve ORG NAME [--channel C]`: [`resolve_in`], and when it finds an expired pin whose
/// expiry was not recorded yet, records it (pin history, audit `pin_expired`) and sends
/// `pin_expired`.
pub fn resolve(
    fleet: &mut Fleet,
    notifier: &Notifier,
    opts: &ResolveOptions,
) -> Result<Resolution, Error> {
    let now_unix = unix(opts.now);
    let resolution = resolve_in(
        fleet.store.conn(),
        &opts.org,
        &opts.component,
        opts.channel,
        now_unix,
    )?;
    if resolution.pin.as_ref().is_some_and(|p| p.expired) {
        note_expiry(
            fleet,
            notifier,
            &opts.org,
            &opts.component,
            opts.channel,
            opts.now,
        )?;
    }
    Ok(resolution)
}

/// Records the expiry of `org`'s pin on `component` once (pin history, audit `pin_expired`)
/// and sends `pin_expired`; nothing when the pin is valid, absent, or its expiry was recorded.
fn note_expiry(
    fleet: &mut Fleet,
    notifier: &Notifier,
    org: &str,
    component: &str,
    channel: Channel,
    now: SystemTime,
) -> Result<Vec<DeliveryReport>, Error> {
    let now_unix = unix(now);
    let Some(pin) = db::pin(fleet.store.conn(), org, component)? else {
        return Ok(Vec::new());
    };
    if pin.expires_unix.is_none_or(|e| e > now_unix)
        || db::expiry_recorded(fleet.store.conn(), &pin)?
    {
        return Ok(Vec::new());
    }
    let view = PinView::of(pin.clone(), now_unix);
    let record = Pending::new("lockstep", "pin_expired", "expired")
        .from(Some(&pin.version))
        .detail("org", org)
        .detail("component", component)
        .detail("expires", view.expires.clone());
    let at = now_text(now);
    fleet.commit("pin_expire", record, |tx| {
        Ok(db::pin_history(tx, &pin, "expired", "lockstep", &at)?)
    })?;
    let after = resolve_in(fleet.store.conn(), org, component, channel, now_unix)?;
    let event = Event::new(
        "pin_expired",
        component,
        &pin.version,
        "untested",
        format!(
            "{org}'s pin to {component} {} expired ({}); it now runs {}",
            pin.version,
            view.expires.as_deref().unwrap_or("?"),
            after.version.as_deref().unwrap_or("nothing")
        ),
        format!(
            "lockstep pin set {org} {component}@{} --reason TEXT --by ACTOR",
            pin.version
        ),
    )
    .with("org", org)
    .with("reason", pin.reason.as_str());
    Ok(notifier.send(fleet, &event))
}
