//! The prepared matrix agrees with the one-at-a-time checker on every cell, and is
//! deterministic.

use lockstep_compat::{Checker, Matrix, Policy, ReasonCode, ReasonSet};
use lockstep_manifest::{Channel, Release, VerticalManifest};
use proptest::prelude::*;

use crate::support::{check, parse_version, release, vertical};

const PRE: &[&str] = &["alpha.1", "beta.2", "rc.1", "0"];
const BOUNDS: &[&str] = &["*", "0.x.x", "1.x.x", "2.x.x", "1.1.x", "1.2.x", "2.0.x"];
const CHANNELS: &[&str] = &["lts", "stable", "beta", "canary"];
const STATUSES: &[&str] = &["active", "active", "deprecated", "experimental"];

fn cap(i: usize, pool: usize) -> String {
    // Names past the pool are offered by no release at all.
    if i < pool {
        format!("cap.{i}")
    } else {
        format!("ghost.{i}")
    }
}

fn version() -> impl Strategy<Value = String> {
    (
        0u64..3,
        0u64..5,
        0u64..2,
        prop::option::weighted(0.3, prop::sample::select(PRE)),
    )
        .prop_map(|(a, b, c, pre)| match pre {
            Some(p) => format!("{a}.{b}.{c}-{p}"),
            None => format!("{a}.{b}.{c}"),
        })
}

fn a_release(pool: usize) -> impl Strategy<Value = Release> {
    let caps = prop::collection::btree_set(0..pool, 0..=pool.min(6));
    (
        version(),
        prop::sample::select(Channel::ALL.to_vec()),
        prop::option::weighted(0.9, 0u64..3),
        caps.clone(),
        caps,
    )
        .prop_map(move |(v, channel, contracts, offered, deprecated)| {
            let mut r = release(&v).on(channel).build();
            r.contracts_version = contracts.map(|m| parse_version(&format!("{m}.1.0")));
            r.capabilities = offered.iter().map(|&i| cap(i, pool)).collect();
            r.deprecated_capabilities = deprecated.iter().map(|&i| cap(i, pool)).collect();
            r
        })
}

fn a_vertical(pool: usize) -> impl Strategy<Value = VerticalManifest> {
    (
        prop_oneof![
            prop::sample::select(BOUNDS).prop_map(str::to_owned),
            version()
        ],
        prop_oneof![
            prop::sample::select(BOUNDS).prop_map(str::to_owned),
            version()
        ],
        0u64..3,
        prop::sample::select(CHANNELS),
        prop::sample::select(STATUSES),
        prop::collection::vec(0..pool + 2, 0..=5),
    )
        .prop_filter_map(
            "min above max",
            move |(min, max, contracts, channel, status, required)| {
                let names: Vec<String> = required.iter().map(|&i| cap(i, pool)).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                vertical(&min, &max)
                    .contracts(contracts)
                    .channel(channel)
                    .status(status)
                    .requires(&names)
                    .try_build()
            },
        )
}

/// A small landscape: up to 12 releases and 8 verticals over a capability pool of 1 to 130
/// names (so bitsets of one, two and three words occur).
fn landscape() -> impl Strategy<Value = (Vec<Release>, Vec<VerticalManifest>, u64)> {
    prop_oneof![1usize..=8, 60usize..=130].prop_flat_map(|pool| {
        (
            prop::collection::vec(a_release(pool), 0..12),
            prop::collection::vec(a_vertical(pool), 0..8),
            0u64..4,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matrix_cells_equal_checker_codes((releases, verticals, window) in landscape()) {
        let policy = Policy::with_support_window(window);
        let matrix = Matrix::new(&releases, &verticals, policy.clone());
        let checker = Checker::new(&releases, policy);
        prop_assert_eq!(matrix.releases(), releases.len());
        prop_assert_eq!(matrix.verticals(), verticals.len());
        prop_assert_eq!(matrix.cells().len(), releases.len() * verticals.len());
        for (r, rel) in releases.iter().enumerate() {
            for (v, man) in verticals.iter().enumerate() {
                let want = checker.codes(rel, man);
                prop_assert_eq!(matrix.cell(r, v), want,
                    "release {} ({}) against vertical {}:\n{}", rel.version, rel.channel, v,
                    man.to_yaml());
                prop_assert_eq!(matrix.cells()[r * verticals.len() + v], want);
                let verdict = matrix.verdict(&releases, &verticals, r, v);
                prop_assert_eq!(verdict.codes(), want);
                prop_assert_eq!(verdict.status, want.status());
            }
        }
    }

    #[test]
    fn matrix_is_deterministic((releases, verticals, window) in landscape()) {
        let policy = Policy::with_support_window(window);
        let a = Matrix::new(&releases, &verticals, policy.clone());
        let b = Matrix::new(&releases, &verticals, policy.clone());
        prop_assert_eq!(a.cells(), b.cells());

        // Reversing the inputs reverses rows and columns, nothing else.
        let rev_r: Vec<_> = releases.iter().rev().cloned().collect();
        let rev_v: Vec<_> = verticals.iter().rev().cloned().collect();
        let c = Matrix::new(&rev_r, &rev_v, policy);
        let (nr, nv) = (releases.len(), verticals.len());
        for r in 0..nr {
            for v in 0..nv {
                prop_assert_eq!(a.cell(r, v), c.cell(nr - 1 - r, nv - 1 - v));
            }
        }
    }
}

#[test]
fn empty_inputs() {
    let m = vertical("1.0.0", "*").build();
    let none = Matrix::new(&[], std::slice::from_ref(&m), Policy::default());
    assert_eq!((none.releases(), none.verticals()), (0, 1));
    assert!(none.cells().is_empty());
    let r = [release("1.0.0").build()];
    let none = Matrix::new(&r, &[], Policy::default());
    assert_eq!((none.releases(), none.verticals()), (1, 0));
    assert!(none.cells().is_empty());
}

/// Equal versions (build metadata differs) share a rank and get equal range codes.
#[test]
fn equal_precedence_versions() {
    let releases = [
        release("1.4.0+build.1").build(),
        release("1.4.0").build(),
        release("1.4.0+build.2").build(),
        release("1.5.0").build(),
    ];
    let verticals = [
        vertical("1.4.0", "1.4.0").build(),
        vertical("1.4.0+zzz", "1.4.0+aaa").build(),
    ];
    let matrix = Matrix::new(&releases, &verticals, Policy::default());
    for v in 0..2 {
        for r in 0..3 {
            assert_eq!(matrix.cell(r, v), ReasonSet::EMPTY, "r{r} v{v}");
        }
        assert!(matrix.cell(3, v).contains(ReasonCode::CoreAboveMax));
    }
}

/// A requirement that no release knows is missing everywhere, also when other names fill
/// several bitset words.
#[test]
fn unknown_capability_is_missing() {
    let names: Vec<String> = (0..150).map(|i| format!("cap.{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let r = release("1.0.0").caps(&names).build();
    for required in [
        &["nobody.offers.this"][..],
        &["cap.149", "nobody"],
        &["cap.0"],
    ] {
        let m = vertical("*", "*").requires(required).build();
        let expected: &[ReasonCode] = if required == ["cap.0"] {
            &[]
        } else {
            &[ReasonCode::CapabilityMissing]
        };
        check(&[], Policy::default(), &r, &m, expected);
    }
}
