//! When each reason code fires, one table per rule of design.md ("Details that tests rely on").

use lockstep_compat::ReasonCode::{self, *};
use lockstep_compat::{Checker, Policy, Status};
use lockstep_manifest::Channel;

use crate::support::{check, release, vertical};

/// Range cases: a vertical on canary (so `prerelease` and `channel_mismatch` stay quiet) with
/// the given bounds, and a final-or-not release; only the range codes can fire.
#[test]
fn range_bounds() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &[ReasonCode])] = &[
        // exact bounds are inclusive, by SemVer precedence
        ("1.2.0", "1.4.0", "1.1.9", &[CoreBelowMin]),
        ("1.2.0", "1.4.0", "1.2.0", &[]),
        ("1.2.0", "1.4.0", "1.4.0", &[]),
        ("1.2.0", "1.4.0", "1.4.1", &[CoreAboveMax]),
        ("1.2.0", "1.4.0", "0.99.99", &[CoreBelowMin]),
        ("1.2.0", "1.4.0", "10.0.0", &[CoreAboveMax]),
        // a pre-release precedes its final version
        ("1.2.0", "1.4.0", "1.2.0-rc.1", &[CoreBelowMin]),
        ("1.2.0", "1.4.0", "1.4.0-rc.1", &[]),
        ("1.2.0", "1.4.0", "1.4.1-alpha", &[CoreAboveMax]),
        // pre-release bounds: numeric identifiers compare as numbers
        ("1.0.0-beta.2", "2.0.0-beta.2", "1.0.0-beta.10", &[]),
        ("1.0.0-beta.2", "2.0.0-beta.2", "1.0.0-beta.1", &[CoreBelowMin]),
        ("1.0.0-beta.2", "2.0.0-beta.2", "1.0.0-alpha.9", &[CoreBelowMin]),
        ("1.0.0-beta.2", "2.0.0-beta.2", "2.0.0-beta.2", &[]),
        ("1.0.0-beta.2", "2.0.0-beta.2", "2.0.0-beta.10", &[CoreAboveMax]),
        ("1.0.0-beta.2", "2.0.0-beta.2", "2.0.0-rc.1", &[CoreAboveMax]),
        ("1.0.0-beta.2", "2.0.0-beta.2", "2.0.0", &[CoreAboveMax]),
        // build metadata is ignored, on the version and on the bounds
        ("1.2.0", "1.4.0", "1.4.0+build.7", &[]),
        ("1.2.0", "1.4.0", "1.2.0+sha.0abc", &[]),
        ("1.2.0+build.9", "1.4.0+build.1", "1.2.0+build.1", &[]),
        ("1.2.0+build.9", "1.4.0+build.1", "1.4.0+build.9", &[]),
        ("1.2.0+build.9", "1.4.0+build.1", "1.4.1+build.1", &[CoreAboveMax]),
        // major wildcard: every 1.*.*, pre-releases included; nothing of 2.0.0
        ("1.x.x", "1.x.x", "0.99.99", &[CoreBelowMin]),
        ("1.x.x", "1.x.x", "1.0.0-0", &[]),
        ("1.x.x", "1.x.x", "1.0.0-alpha.1", &[]),
        ("1.x.x", "1.x.x", "1.5.0-beta.1", &[]),
        ("1.x.x", "1.x.x", "1.99.99", &[]),
        ("1.x.x", "1.x.x", "1.99.99+build", &[]),
        ("1.x.x", "1.x.x", "2.0.0-0", &[CoreAboveMax]),
        ("1.x.x", "1.x.x", "2.0.0-beta.1", &[CoreAboveMax]),
        ("1.x.x", "1.x.x", "2.0.0", &[CoreAboveMax]),
        // short spellings mean the same
        ("1.x", "1.*", "1.7.3", &[]),
        ("1.x", "1.*", "2.0.0-beta.1", &[CoreAboveMax]),
        ("1.x", "1.*", "0.9.0", &[CoreBelowMin]),
        // minor wildcard
        ("1.2.x", "1.4.x", "1.1.99", &[CoreBelowMin]),
        ("1.2.x", "1.4.x", "1.2.0-alpha", &[]),
        ("1.2.x", "1.4.x", "1.4.99", &[]),
        ("1.2.x", "1.4.x", "1.4.99-rc.1", &[]),
        ("1.2.x", "1.4.x", "1.5.0-alpha", &[CoreAboveMax]),
        ("1.2.x", "1.4.x", "2.0.0", &[CoreAboveMax]),
        // a wildcard min with an exact max, and the other way round
        ("1.x.x", "1.4.0", "1.0.0-rc.1", &[]),
        ("1.x.x", "1.4.0", "1.4.0-rc.1", &[]),
        ("1.x.x", "1.4.0", "1.4.1", &[CoreAboveMax]),
        ("1.2.0", "2.x.x", "2.9.0-beta.1", &[]),
        ("1.2.0", "2.x.x", "1.2.0-beta.1", &[CoreBelowMin]),
        // `*` admits everything at either end
        ("*", "*", "0.0.0-0", &[]),
        ("*", "*", "0.0.0", &[]),
        ("*", "*", "999.999.999", &[]),
        ("*", "1.x.x", "0.0.1-alpha", &[]),
        ("*", "1.x.x", "2.0.0", &[CoreAboveMax]),
        ("1.2.x", "*", "1.1.0", &[CoreBelowMin]),
        ("1.2.x", "*", "7.0.0-rc.1", &[]),
    ];
    for &(min, max, version, expected) in cases {
        let m = vertical(min, max).channel("canary").build();
        let r = release(version).on(Channel::Canary).build();
        check(&[], Policy::default(), &r, &m, expected);
    }
}

#[test]
fn contracts_major() {
    #[rustfmt::skip]
    let cases: &[(u64, Option<&str>, &[ReasonCode])] = &[
        (1, Some("1.0.0"), &[]),
        (1, Some("1.9.3"), &[]),
        (1, Some("2.0.0"), &[ContractsMajorMismatch]),
        (1, Some("0.9.0"), &[ContractsMajorMismatch]),
        (2, Some("1.9.0"), &[ContractsMajorMismatch]),
        (0, Some("0.3.0"), &[]),
        (1, Some("2.0.0-rc.1"), &[ContractsMajorMismatch]),
        // a release that does not say its contracts version is not judged on contracts
        (1, None, &[]),
        (7, None, &[]),
    ];
    for &(major, contracts, expected) in cases {
        let m = vertical("1.0.0", "*").contracts(major).build();
        let r = release("1.5.0").contracts(contracts).build();
        check(&[], Policy::default(), &r, &m, expected);
    }
}

#[test]
fn capabilities() {
    /// required, offered, deprecated, expected
    type Case = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        &'static [ReasonCode],
    );
    #[rustfmt::skip]
    let cases: &[Case] = &[
        (&[], &[], &[], &[]),
        (&[], &["ledger.v1"], &["ledger.v1"], &[]),
        (&["ledger.v1"], &["ledger.v1", "audit.v2"], &[], &[]),
        (&["ledger.v1"], &[], &[], &[CapabilityMissing]),
        (&["ledger.v1"], &["ledger.v2"], &[], &[CapabilityMissing]),
        (&["ledger.v1", "audit.v2"], &["ledger.v1"], &[], &[CapabilityMissing]),
        (&["ledger.v1", "audit.v2"], &["ledger.v1", "audit.v2"], &[], &[]),
        // names are exact: no prefix or case folding
        (&["ledger"], &["ledger.v1"], &[], &[CapabilityMissing]),
        (&["Ledger.v1"], &["ledger.v1"], &[], &[CapabilityMissing]),
        // offered but deprecated: a warning
        (&["ledger.v1"], &["ledger.v1"], &["ledger.v1"], &[CapabilityDeprecated]),
        (&["ledger.v1", "audit.v2"], &["ledger.v1", "audit.v2"], &["audit.v2"], &[CapabilityDeprecated]),
        // a deprecation of something not required is not the vertical's concern
        (&["ledger.v1"], &["ledger.v1", "audit.v2"], &["audit.v2"], &[]),
        // one required capability missing, another deprecated: both reported
        (&["ledger.v1", "audit.v2"], &["audit.v2"], &["audit.v2"], &[CapabilityMissing, CapabilityDeprecated]),
        // listed only as deprecated (not in `capabilities`): each rule applies as written
        (&["ledger.v1"], &[], &["ledger.v1"], &[CapabilityMissing, CapabilityDeprecated]),
    ];
    for &(required, offered, deprecated, expected) in cases {
        let m = vertical("1.0.0", "*").requires(required).build();
        let r = release("1.5.0")
            .caps(offered)
            .deprecated(deprecated)
            .build();
        check(&[], Policy::default(), &r, &m, expected);
    }
}

#[test]
fn one_reason_per_capability_in_messages() {
    let m = vertical("1.0.0", "*")
        .requires(&["ledger.v1", "audit.v2", "fx.v1"])
        .build();
    let r = release("1.5.0")
        .caps(&["fx.v1"])
        .deprecated(&["fx.v1"])
        .build();
    let verdict = Checker::new(std::slice::from_ref(&r), Policy::default()).check(&r, &m);
    let got: Vec<_> = verdict
        .reasons
        .iter()
        .map(|r| (r.code, r.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                CapabilityMissing,
                "required capability `ledger.v1` is not offered by core 1.5.0"
            ),
            (
                CapabilityMissing,
                "required capability `audit.v2` is not offered by core 1.5.0"
            ),
            (
                CapabilityDeprecated,
                "required capability `fx.v1` is deprecated in core 1.5.0 and may be removed in a later release"
            ),
        ]
    );
}

/// A capability listed twice in the manifest is one reason, not two.
#[test]
fn duplicate_requirement_is_one_reason() {
    let m = vertical("1.0.0", "*")
        .requires(&["ledger.v1", "fx.v1", "ledger.v1", "fx.v1"])
        .build();
    let r = release("1.5.0")
        .caps(&["fx.v1"])
        .deprecated(&["fx.v1"])
        .build();
    let verdict = Checker::new(std::slice::from_ref(&r), Policy::default()).check(&r, &m);
    let codes: Vec<_> = verdict.reasons.iter().map(|r| r.code).collect();
    assert_eq!(codes, [CapabilityMissing, CapabilityDeprecated]);
}

/// Channels nest: canary ⊃ beta ⊃ stable ⊃ lts, and lts sees only lts.
#[test]
fn channels() {
    use Channel::*;
    #[rustfmt::skip]
    let sees: &[(&str, &[Channel])] = &[
        ("canary", &[Canary, Beta, Stable, Lts]),
        ("beta", &[Beta, Stable, Lts]),
        ("stable", &[Stable, Lts]),
        ("lts", &[Lts]),
    ];
    for &(vertical_channel, seen) in sees {
        for published in Channel::ALL {
            let expected: &[ReasonCode] = if seen.contains(&published) {
                &[]
            } else {
                &[ChannelMismatch]
            };
            let m = vertical("1.0.0", "*").channel(vertical_channel).build();
            let r = release("1.5.0").on(published).build();
            check(&[], Policy::default(), &r, &m, expected);
        }
    }
}

/// `prerelease` fires for a pre-release version on a stable or lts vertical, whatever channel the
/// release was published on; build metadata alone is not a pre-release.
#[test]
fn prereleases() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[ReasonCode])] = &[
        ("stable", "1.5.0-beta.1", &[Prerelease]),
        ("lts", "1.5.0-rc.1", &[Prerelease]),
        ("beta", "1.5.0-beta.1", &[]),
        ("canary", "1.5.0-alpha.3", &[]),
        ("stable", "1.5.0", &[]),
        ("lts", "1.5.0", &[]),
        ("stable", "1.5.0+build.7", &[]),
        ("lts", "1.5.0-0+build.7", &[Prerelease]),
    ];
    for &(vertical_channel, version, expected) in cases {
        let m = vertical("1.0.0", "*").channel(vertical_channel).build();
        let r = release(version).on(Channel::Lts).build();
        check(&[], Policy::default(), &r, &m, expected);
    }
    // on its own channel, a beta pre-release is seen by beta and warned about on stable
    let r = release("1.5.0-beta.1").on(Channel::Beta).build();
    let m = vertical("1.0.0", "*").channel("stable").build();
    check(
        &[],
        Policy::default(),
        &r,
        &m,
        &[ChannelMismatch, Prerelease],
    );
}

#[test]
fn vertical_status() {
    let cases: &[(&str, &[ReasonCode])] = &[
        ("active", &[]),
        ("deprecated", &[VerticalNotActive]),
        ("experimental", &[VerticalNotActive]),
    ];
    for &(status, expected) in cases {
        let m = vertical("1.0.0", "*").status(status).build();
        check(
            &[],
            Policy::default(),
            &release("1.5.0").build(),
            &m,
            expected,
        );
    }
}

/// More than N minors behind the newest final release of the same major.
#[test]
fn support_window() {
    let landscape: Vec<_> = [
        "0.9.0",
        "1.0.0",
        "1.1.0",
        "1.2.0",
        "1.3.0",
        "1.4.0",
        "1.5.0",
        "1.9.0-beta.1",
        "2.0.0",
        "2.1.0",
        "3.0.0-rc.1",
    ]
    .iter()
    .map(|v| release(v).build())
    .collect();
    #[rustfmt::skip]
    let cases: &[(u64, &str, &[ReasonCode])] = &[
        // default N = 2; the newest final 1.x is 1.5.0 (1.9.0-beta.1 does not count)
        (2, "1.5.0", &[]),
        (2, "1.4.0", &[]),
        (2, "1.3.0", &[]),
        (2, "1.3.9", &[]),
        (2, "1.2.0", &[OutsideSupportWindow]),
        (2, "1.2.9", &[OutsideSupportWindow]),
        (2, "1.0.0", &[OutsideSupportWindow]),
        (2, "1.1.0-rc.1", &[OutsideSupportWindow]),
        (2, "1.8.0-beta.1", &[]),
        // each major has its own window
        (2, "2.0.0", &[]),
        (2, "0.9.0", &[]),
        // a major with only pre-releases has no newest final release yet
        (2, "3.0.0-rc.1", &[]),
        // a custom N
        (0, "1.5.0", &[]),
        (0, "1.5.3", &[]),
        (0, "1.4.0", &[OutsideSupportWindow]),
        (1, "1.4.0", &[]),
        (1, "1.3.0", &[OutsideSupportWindow]),
        (5, "1.0.0", &[]),
        (4, "1.0.0", &[OutsideSupportWindow]),
        (0, "2.0.0", &[OutsideSupportWindow]),
    ];
    for &(n, version, expected) in cases {
        let m = vertical("*", "*").channel("canary").build();
        let r = release(version).build();
        let policy = if n == 2 {
            Policy::default()
        } else {
            Policy::with_support_window(n)
        };
        check(&landscape, policy, &r, &m, expected);
    }
    assert_eq!(Policy::default(), Policy::with_support_window(2));
    assert_eq!(Policy::default().support_window, 2);
}

/// Every reason that applies is reported, in the fixed order of `ReasonCode::ALL`.
#[test]
fn every_reason_in_fixed_order() {
    let landscape = [release("2.5.0").build(), release("1.9.0").build()];
    // Above max: eight of the nine codes at once (below and above cannot both hold).
    let m = vertical("1.0.0", "1.x.x")
        .status("deprecated")
        .requires(&["ledger.v1", "audit.v2"])
        .build();
    let r = release("2.1.0-beta.1")
        .on(Channel::Canary)
        .contracts(Some("2.0.0"))
        .caps(&["ledger.v1"])
        .deprecated(&["ledger.v1"])
        .build();
    check(
        &landscape,
        Policy::default(),
        &r,
        &m,
        &[
            CoreAboveMax,
            ContractsMajorMismatch,
            CapabilityMissing,
            CapabilityDeprecated,
            ChannelMismatch,
            Prerelease,
            VerticalNotActive,
            OutsideSupportWindow,
        ],
    );
    // Below min, on lts.
    let m = vertical("2.x.x", "*")
        .channel("lts")
        .status("experimental")
        .contracts(2)
        .requires(&["audit.v2"])
        .build();
    let r = release("1.2.0-rc.1")
        .on(Channel::Stable)
        .deprecated(&["audit.v2"])
        .build();
    check(
        &landscape,
        Policy::default(),
        &r,
        &m,
        &[
            CoreBelowMin,
            ContractsMajorMismatch,
            CapabilityMissing,
            CapabilityDeprecated,
            ChannelMismatch,
            Prerelease,
            VerticalNotActive,
            OutsideSupportWindow,
        ],
    );
}

#[test]
fn statuses() {
    let m = vertical("1.0.0", "1.x.x").requires(&["ledger.v1"]).build();
    let landscape = [release("1.5.0").build()];
    let cases: &[(&str, &[&str], &[&str], Status)] = &[
        ("1.5.0", &["ledger.v1"], &[], Status::Compatible),
        (
            "1.5.0",
            &["ledger.v1"],
            &["ledger.v1"],
            Status::CompatibleWithWarnings,
        ),
        ("1.1.0", &["ledger.v1"], &[], Status::CompatibleWithWarnings),
        ("1.5.0", &[], &[], Status::Blocked),
        ("2.0.0", &["ledger.v1"], &[], Status::Blocked),
        // one blocking reason outweighs any number of warnings
        ("2.0.0", &["ledger.v1"], &["ledger.v1"], Status::Blocked),
    ];
    for &(version, caps, deprecated, status) in cases {
        let r = release(version).caps(caps).deprecated(deprecated).build();
        let checker = Checker::new(&landscape, Policy::default());
        assert_eq!(checker.check(&r, &m).status, status, "{version}");
        assert_eq!(checker.codes(&r, &m).status(), status, "{version}");
    }
    assert_eq!(Status::Compatible.as_str(), "compatible");
    assert_eq!(
        Status::CompatibleWithWarnings.to_string(),
        "compatible_with_warnings"
    );
    assert_eq!(Status::Blocked.to_string(), "blocked");
}

#[test]
fn code_names_and_severity() {
    let table: Vec<_> = ReasonCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.blocks()))
        .collect();
    assert_eq!(
        table,
        [
            ("core_below_min", true),
            ("core_above_max", true),
            ("contracts_major_mismatch", true),
            ("capability_missing", true),
            ("capability_deprecated", false),
            ("channel_mismatch", false),
            ("prerelease", false),
            ("vertical_not_active", false),
            ("outside_support_window", false),
        ]
    );
    for c in ReasonCode::ALL {
        assert_eq!(c.to_string(), c.as_str());
    }
}
