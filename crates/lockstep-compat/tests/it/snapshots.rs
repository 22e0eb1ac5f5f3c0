//! The human-readable verdict text and its JSON, as users and tools see them.

use lockstep_compat::{Checker, Policy, Verdict};
use lockstep_manifest::{Channel, Release, VerticalManifest};

use crate::support::{release, vertical};

fn verdict(landscape: &[Release], r: &Release, m: &VerticalManifest) -> Verdict {
    Checker::new(landscape, Policy::default()).check(r, m)
}

/// 2.0.0 against a 1.x vertical: above max, contracts major, a missing capability.
fn blocked() -> Verdict {
    let m = vertical("1.0.0", "1.x.x")
        .requires(&["ledger.v1", "audit.v2"])
        .build();
    let r = release("2.0.0")
        .contracts(Some("2.0.0"))
        .caps(&["ledger.v1", "ledger.v2"])
        .build();
    verdict(std::slice::from_ref(&r), &r, &m)
}

/// A beta pre-release, seen from stable by a deprecated vertical that needs a deprecated
/// capability, far behind its major: warnings only.
fn warnings() -> Verdict {
    let m = vertical("1.0.0", "1.x.x")
        .status("deprecated")
        .requires(&["ledger.v1"])
        .build();
    let r = release("1.2.0-beta.1")
        .on(Channel::Beta)
        .caps(&["ledger.v1"])
        .deprecated(&["ledger.v1"])
        .build();
    verdict(&[release("1.6.0").build()], &r, &m)
}

fn compatible() -> Verdict {
    let m = vertical("1.0.0", "1.x.x").requires(&["ledger.v1"]).build();
    let r = release("1.4.2").caps(&["ledger.v1"]).build();
    verdict(std::slice::from_ref(&r), &r, &m)
}

fn json(v: &Verdict) -> String {
    serde_json::to_string_pretty(v).expect("a verdict serialises")
}

#[test]
fn blocked_text() {
    insta::assert_snapshot!(blocked().to_string());
}

#[test]
fn blocked_json() {
    insta::assert_snapshot!(json(&blocked()));
}

#[test]
fn warnings_text() {
    insta::assert_snapshot!(warnings().to_string());
}

#[test]
fn warnings_json() {
    insta::assert_snapshot!(json(&warnings()));
}

#[test]
fn compatible_text() {
    insta::assert_snapshot!(compatible().to_string(), @"compatible");
}

#[test]
fn compatible_json() {
    insta::assert_snapshot!(json(&compatible()), @r#"
    {
      "verdict": "compatible",
      "reasons": []
    }
    "#);
}

/// The support-window message counts minors in plain English.
#[test]
fn support_window_message() {
    let m = vertical("*", "*").channel("canary").build();
    let landscape = [release("1.4.0").build(), release("1.5.0").build()];
    let checker = Checker::new(&landscape, Policy::with_support_window(0));
    let text = |v: &str| checker.check(&release(v).build(), &m).to_string();
    insta::assert_snapshot!(text("1.4.0"), @r"
    compatible_with_warnings
      - warns [outside_support_window] core 1.4.0 is 1 minor version behind 1.5.0, the newest 1.x release; the support window is 0
    ");
    insta::assert_snapshot!(text("1.2.0"), @r"
    compatible_with_warnings
      - warns [outside_support_window] core 1.2.0 is 3 minor versions behind 1.5.0, the newest 1.x release; the support window is 0
    ");
}
