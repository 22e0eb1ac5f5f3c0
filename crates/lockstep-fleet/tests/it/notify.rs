//! Events through `notify.toml` to a real receiver on loopback that checks the signature with
//! its own HMAC; a bad `notify.toml` stops a command before any change.

use std::time::Duration;

use lockstep_fleet::events::{Event, Notifier};
use lockstep_notify::Policy;
use lockstep_testkit::webhook::Receiver;

use crate::TestHome;

fn fast_policy() -> Policy {
    let mut p = Policy::default();
    p.backoff = Duration::from_millis(100);
    p.deadline = Duration::from_secs(5);
    p.attempt_timeout = Duration::from_secs(1);
    p
}

fn notify_toml(t: &TestHome, hooks: &[(&Receiver, &str)]) {
    std::fs::create_dir_all(t.home.dir()).expect("mkdir");
    let mut text = String::new();
    for (r, events) in hooks {
        text.push_str(&format!(
            "[[webhook]]\nurl = \"{}\"\nsecret = \"{}\"\nevents = {events}\n\n",
            r.url(),
            String::from_utf8_lossy(r.secret())
        ));
    }
    std::fs::write(t.home.notify_path(), text).expect("write notify.toml");
}

#[test]
fn events_arrive_signed_with_the_contract_body() {
    let t = TestHome::new();
    let hook = Receiver::start("s3cret");
    let other = Receiver::start("other");
    notify_toml(&t, &[(&hook, "[\"pin_set\"]"), (&other, "[\"promotion\"]")]);
    let notifier = Notifier::load(&t.home)
        .expect("notify.toml")
        .with_policy(fast_policy());
    let mut fleet = t.open();
    let mut pin = lockstep_fleet::pins::PinOptions::new(
        "acme",
        "cli@1.0.0".parse().expect("spec"),
        "SSO bug",
        "ana",
    );
    pin.expires = Some("2030-01-01".into());
    let set = lockstep_fleet::pins::set_pin(&mut fleet, &notifier, &pin).expect("pin set");
    assert_eq!(set.notifications.len(), 1);
    assert!(set.notifications[0].delivered);

    let got = hook.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert!(r.signature_ok, "the receiver's own HMAC agrees");
    assert_eq!(r.header("x-lockstep-event"), Some("pin_set"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let ts: u64 = r
        .header("x-lockstep-timestamp")
        .expect("timestamp")
        .parse()
        .expect("unix seconds");
    let now = lockstep_state::time::unix_seconds(std::time::SystemTime::now()) as u64;
    assert!(now.abs_diff(ts) < 60);
    let body = r.json();
    for key in [
        "event",
        "component",
        "version",
        "status",
        "summary",
        "rollback",
        "text",
    ] {
        assert!(body.get(key).is_some(), "{key} missing from {body}");
    }
    assert_eq!(
        (
            body["event"].as_str(),
            body["component"].as_str(),
            body["version"].as_str()
        ),
        (Some("pin_set"), Some("cli"), Some("1.0.0"))
    );
    assert!(
        body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("SSO bug")
    );
    assert!(
        other.received().is_empty(),
        "a webhook not listing the event gets nothing"
    );
    let log = lockstep_fleet::events::log(&fleet, 10).expect("log");
    assert_eq!(log.len(), 1);
    assert!(log[0].delivered && log[0].status == Some(200));
}

#[test]
fn a_bad_notify_toml_stops_the_command_before_any_change() {
    let t = TestHome::new();
    std::fs::create_dir_all(t.home.dir()).expect("mkdir");
    std::fs::write(
        t.home.notify_path(),
        "[[webhook]]\nurl = \"http://example.com/x\"\nsecret = \"s\"\nevents = [\"promotion\"]\n",
    )
    .expect("write");
    let err = Notifier::load(&t.home).expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("notify.toml:2:7: webhook[1].url: plain http:// is allowed only to localhost"),
        "{msg}"
    );
    assert_eq!(lockstep_state::Classify::kind(&err), "invalid_config");
    let e = Event::new("promotion", "c", "1", "green", "s", "r");
    assert!(e.text.contains("promotion") && e.text.contains("green"));
}
