//! Notifications: the events the fleet workflow sends, their JSON body, and sending them to
//! the webhooks of `HOME/notify.toml` (delivery attempts are logged in the database).

use std::path::Path;
use std::time::SystemTime;

use lockstep_notify::{Config, Delivery, Policy, Webhook, deliver_all};
use lockstep_store::fleet as db;
use serde::Serialize;

use crate::Error;
use crate::home::{Fleet, Home, event_id, now_text};

/// Every event name, as `notify.toml` lists them.
pub const EVENTS: &[&str] = &[
    "new_version",
    "lab_verdict",
    "promotion",
    "quarantine",
    "pin_set",
    "pin_expired",
    "rollout_halted",
];

/// A notification: the webhook body. `status` is the compatibility status (`green`, `yellow`,
/// `red`, or `untested`), `summary` what changed, `rollback` how to undo it, `text` one line a
/// chat webhook can show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// One of [`EVENTS`].
    pub event: String,
    /// The component (for `new_version`, the watched source).
    pub component: String,
    /// The version concerned.
    pub version: String,
    /// `green`, `yellow`, `red` or `untested`.
    pub status: String,
    /// What changed.
    pub summary: String,
    /// How to undo it or fall back.
    pub rollback: String,
    /// A one-line message for chat.
    pub text: String,
    /// Event-specific fields (`channel`, `org`, `reason`, `url`, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// An event; `text` is composed from the others.
    pub fn new(
        event: &str,
        component: &str,
        version: &str,
        status: &str,
        summary: impl Into<String>,
        rollback: impl Into<String>,
    ) -> Self {
        let summary = summary.into();
        let text = format!("[lockstep] {event}: {component} {version} ({status}) — {summary}");
        Event {
            event: event.to_owned(),
            component: component.to_owned(),
            version: version.to_owned(),
            status: status.to_owned(),
            summary,
            rollback: rollback.into(),
            text,
            extra: serde_json::Map::new(),
        }
    }

    /// Adds an event-specific field.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }
}

/// What happened to one event at one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// The event name.
    pub event: String,
    /// The webhook URL.
    pub url: String,
    /// Whether it was delivered.
    pub delivered: bool,
    /// Attempts made.
    pub attempts: usize,
    /// The last attempt's error, when it was not delivered.
    pub error: Option<String>,
}

/// The webhooks of a home, loaded before a command changes anything (so a bad `notify.toml`
/// stops the command with nothing changed).
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    webhooks: Vec<Webhook>,
    policy: Policy,
}

impl Notifier {
    /// Reads `HOME/notify.toml` (no file: no webhooks); `secret_env` is read from the process
    /// environment.
    pub fn load(home: &Home) -> Result<Notifier, Error> {
        Self::load_from(&home.notify_path(), |v| std::env::var(v).ok())
    }

    /// Reads a `notify.toml` at `path`, looking `secret_env` variables up with `env`.
    pub fn load_from(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Notifier, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Notifier::default()),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let config = Config::parse(&text, EVENTS, env).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            field: e.field,
            message: e.message,
        })?;
        Ok(Notifier {
            webhooks: config.webhooks,
            policy: Policy::default(),
        })
    }

    /// The same notifier with another delivery policy.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sends `event` to every webhook that wants it and logs each attempt in the database.
    /// Never fails the caller's change: a delivery failure is in the report and the log.
    pub fn send(&self, fleet: &Fleet, event: &Event) -> Vec<DeliveryReport> {
        if !self.webhooks.iter().any(|w| w.wants(&event.event)) {
            return Vec::new();
        }
        let body = match serde_json::to_vec(event) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode the event");
                return Vec::new();
            }
        };
        let deliveries = deliver_all(&self.webhooks, &event.event, &body, &self.policy);
        let attempts: Vec<db::DeliveryAttempt> = deliveries
            .iter()
            .flat_map(|d| attempts_of(d, event))
            .collect();
        if let Err(e) = db::record_deliveries(fleet.store.conn(), &attempts) {
            tracing::warn!(error = %e, "cannot log the delivery attempts");
        }
        deliveries
            .iter()
            .map(|d| DeliveryReport {
                event: d.event.clone(),
                url: d.url.clone(),
                delivered: d.delivered(),
                attempts: d.attempts.len(),
                error: d
                    .attempts
                    .last()
                    .filter(|_| !d.delivered())
                    .and_then(|a| a.error.clone()),
            })
            .collect()
    }
}

fn attempts_of(d: &Delivery, event: &Event) -> Vec<db::DeliveryAttempt> {
    let id = event_id();
    d.attempts
        .iter()
        .map(|a| {
            db::DeliveryAttempt::new(
                id.clone(),
                event.event.clone(),
                Some(event.component.clone()),
                Some(event.version.clone()),
                d.url.clone(),
                a.number,
                a.status,
                a.error.clone(),
                a.delivered(),
                lockstep_state::time::rfc3339_from_unix(
                    i64::try_from(a.at_unix).unwrap_or_default(),
                ),
                u64::try_from(a.duration.as_millis()).unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// One logged delivery attempt, as `notify log` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LoggedAttempt {
    /// Groups the attempts of one event to one webhook.
    pub delivery: String,
    /// The event.
    pub event: String,
    /// The component.
    pub component: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// The webhook URL.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The HTTP status, when one came back.
    pub status: Option<u16>,
    /// Whether this attempt delivered it.
    pub delivered: bool,
    /// What went wrong.
    pub error: Option<String>,
    /// When.
    pub at: String,
    /// How long it took.
    pub duration_ms: u64,
}

/// `notify log`: the newest `limit` attempts, oldest first.
pub fn log(fleet: &Fleet, limit: usize) -> Result<Vec<LoggedAttempt>, Error> {
    Ok(db::deliveries(fleet.store.conn(), limit)?
        .into_iter()
        .map(|a| LoggedAttempt {
            delivery: a.delivery,
            event: a.event,
            component: a.component,
            version: a.version,
            url: a.url,
            attempt: a.attempt,
            status: a.status,
            delivered: a.delivered,
            error: a.error,
            at: a.at,
            duration_ms: a.duration_ms,
        })
        .collect())
}

/// `notify test`: sends a `lab_verdict`-shaped test event to every webhook listing `event`.
pub fn send_test(
    fleet: &Fleet,
    notifier: &Notifier,
    event: &str,
) -> Result<Vec<DeliveryReport>, Error> {
    if !EVENTS.contains(&event) {
        return Err(Error::invalid("event", event, EVENTS.join(", ")));
    }
    let e = Event::new(
        event,
        "lockstep",
        "0.0.0",
        "untested",
        "a test notification",
        "nothing to roll back",
    )
    .with("test", true)
    .with("sent_at", now_text(SystemTime::now()));
    Ok(notifier.send(fleet, &e))
}
