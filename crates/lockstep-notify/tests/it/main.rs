//! Delivery against real webhook receivers on loopback (`lockstep_testkit::webhook`), which
//! check the signature with their own HMAC: retries after 500s, a refusal that is not retried,
//! a receiver that hangs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use lockstep_notify::{Policy, Webhook, deliver, deliver_all};
use lockstep_testkit::webhook::Receiver;

fn fast_policy() -> Policy {
    let mut p = Policy::default();
    p.backoff = Duration::from_millis(100);
    p.deadline = Duration::from_secs(5);
    p.attempt_timeout = Duration::from_secs(1);
    p
}

#[test]
fn a_receiver_failing_twice_gets_the_third_attempt() {
    let hook = Receiver::start("k").fail_first(2, 500);
    let started = Instant::now();
    let d = deliver(
        &Webhook::new(hook.url(), "k", vec!["*".into()]),
        "promotion",
        b"{\"a\":1}",
        &fast_policy(),
    );
    assert!(d.delivered());
    let statuses: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(hook.received().iter().all(|r| r.signature_ok));
    // The default policy lands the third attempt well within 90 s: waits of 1 s and 2 s.
    let p = Policy::default();
    assert!(p.backoff * 3 < Duration::from_secs(90) && p.max_attempts >= 3);
}

#[test]
fn a_wrong_secret_is_refused_and_not_retried() {
    let hook = Receiver::start("right");
    let d = deliver(
        &Webhook::new(hook.url(), "wrong", vec!["*".into()]),
        "quarantine",
        b"{}",
        &fast_policy(),
    );
    assert!(!d.delivered());
    assert_eq!(d.attempts.len(), 1);
    assert_eq!(d.attempts[0].status, Some(401));
    assert!(!hook.received()[0].signature_ok);
}

#[test]
fn a_hanging_receiver_holds_the_sender_only_until_the_deadline() {
    let hook = Receiver::start("k").hang();
    let mut policy = fast_policy();
    policy.deadline = Duration::from_secs(3);
    let started = Instant::now();
    let d = deliver(
        &Webhook::new(hook.url(), "k", vec!["*".into()]),
        "promotion",
        b"{}",
        &policy,
    );
    let took = started.elapsed();
    assert!(!d.delivered());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(d.attempts.iter().all(|a| a.error.is_some()));
    // By default a hanging receiver never keeps a command past 60 s.
    let p = Policy::default();
    assert!(p.deadline + p.connect_timeout < Duration::from_secs(60));
}

#[test]
fn only_the_webhooks_listing_an_event_get_it_all_at_once() {
    let a = Receiver::start("a");
    let b = Receiver::start("b");
    let hooks = [
        Webhook::new(a.url(), "a", vec!["promotion".into()]),
        Webhook::new(b.url(), "b", vec!["quarantine".into()]),
    ];
    let sent = deliver_all(
        &hooks,
        "promotion",
        br#"{"event":"promotion"}"#,
        &fast_policy(),
    );
    assert_eq!(sent.len(), 1);
    assert!(sent[0].delivered());
    assert_eq!(a.received().len(), 1);
    assert!(a.received()[0].signature_ok);
    assert!(b.received().is_empty());
}
