//! Delivery: POST with the signature headers, retries with back-off, one deadline for all.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Webhook;
use crate::sign::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use crate::url::{check_url, shown};

/// How hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// How long establishing a connection may take.
    pub connect_timeout: Duration,
    /// How long one attempt may take in total (connect, send, answer).
    pub attempt_timeout: Duration,
    /// The wait before the first retry; doubled before each further one, up to `max_backoff`.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Attempts at most.
    pub max_attempts: u32,
    /// The whole delivery (every attempt and wait) ends by then: no attempt starts, and none
    /// runs, past it.
    pub deadline: Duration,
}

impl Default for Policy {
    /// 10 s per attempt, waits of 1, 2, 4, 8, 8 s, six attempts, 45 s in all: a healthy
    /// receiver has the event at once, one that fails twice has it about 3 s later, and a
    /// receiver that hangs holds the sender at most 45 s.
    fn default() -> Self {
        Policy {
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(10),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            max_attempts: 6,
            deadline: Duration::from_secs(45),
        }
    }
}

/// One attempt's result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    /// When it started (Unix seconds): also the signed timestamp.
    pub at_unix: u64,
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// What went wrong (connection, timeout, a non-2xx status), when it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

impl Attempt {
    /// Whether the receiver took the event (2xx).
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// One event to one webhook: every attempt, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The webhook URL without credentials.
    pub url: String,
    /// The event name.
    pub event: String,
    /// Every attempt made.
    pub attempts: Vec<Attempt>,
}

impl Delivery {
    /// Whether an attempt delivered it.
    pub fn delivered(&self) -> bool {
        self.attempts.last().is_some_and(Attempt::delivered)
    }
}

/// Sends `body` (JSON) as `event` to `hook`, retrying until it is delivered, the attempts run
/// out or the deadline passes. Never fails: the result says what happened.
pub fn deliver(hook: &Webhook, event: &str, body: &[u8], policy: &Policy) -> Delivery {
    let span = tracing::info_span!("webhook", url = %shown(&hook.url), event);
    let _entered = span.enter();
    let mut delivery = Delivery {
        url: shown(&hook.url),
        event: event.to_owned(),
        attempts: Vec::new(),
    };
    let started = Instant::now();
    if let Err(reason) = check_url(&hook.url) {
        delivery.attempts.push(Attempt {
            number: 1,
            at_unix: now_unix(),
            status: None,
            error: Some(reason),
            duration: Duration::ZERO,
        });
        return delivery;
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(policy.connect_timeout))
        .user_agent(format!("lockstep/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut wait = policy.backoff;
    for number in 1..=policy.max_attempts.max(1) {
        let remaining = policy.deadline.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            break;
        }
        let attempt = attempt(
            &agent,
            hook,
            event,
            body,
            number,
            policy.attempt_timeout.min(remaining),
        );
        tracing::debug!(number, status = ?attempt.status, error = ?attempt.error, "attempt");
        let done = attempt.delivered() || attempt.status.is_some_and(is_final);
        delivery.attempts.push(attempt);
        if done || number == policy.max_attempts {
            break;
        }
        if started.elapsed() + wait >= policy.deadline {
            break;
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(policy.max_backoff);
    }
    if !delivery.delivered() {
        tracing::warn!(
            attempts = delivery.attempts.len(),
            "webhook delivery failed"
        );
    }
    delivery
}

/// A status no retry will change: the receiver refuses this request (bad signature, gone).
fn is_final(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404 | 405 | 410 | 413 | 422)
}

fn attempt(
    agent: &ureq::Agent,
    hook: &Webhook,
    event: &str,
    body: &[u8],
    number: u32,
    timeout: Duration,
) -> Attempt {
    let at_unix = now_unix();
    let began = Instant::now();
    let request = agent
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header(EVENT_HEADER, event)
        .header(TIMESTAMP_HEADER, at_unix.to_string())
        .header(SIGNATURE_HEADER, sign(&hook.secret, at_unix, body))
        .config()
        .timeout_global(Some(timeout))
        .proxy(None)
        .build();
    let (status, error) = match request.send(body) {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read (a little of) the answer so the connection ends cleanly.
            let _ = response
                .into_body()
                .with_config()
                .limit(64 * 1024)
                .read_to_vec();
            let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
            (Some(status), error)
        }
        Err(ureq::Error::Timeout(_)) => (
            None,
            Some(format!("no answer within {}s", timeout.as_secs_f64())),
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    Attempt {
        number,
        at_unix,
        status,
        error,
        duration: began.elapsed(),
    }
}

/// Sends `body` as `event` to every webhook that wants it, in parallel; one [`Delivery`] per
/// such webhook, in the order given. Returns when the slowest is done (at most
/// [`Policy::deadline`] plus one connect timeout).
pub fn deliver_all(hooks: &[Webhook], event: &str, body: &[u8], policy: &Policy) -> Vec<Delivery> {
    let wanted: Vec<&Webhook> = hooks.iter().filter(|h| h.wants(event)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = wanted
            .iter()
            .map(|hook| scope.spawn(move || deliver(hook, event, body, policy)))
            .collect();
        handles
            .into_iter()
            .zip(&wanted)
            .map(|(h, hook)| {
                h.join().unwrap_or_else(|_| Delivery {
                    url: shown(&hook.url),
                    event: event.to_owned(),
                    attempts: Vec::new(),
                })
            })
            .collect()
    })
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
