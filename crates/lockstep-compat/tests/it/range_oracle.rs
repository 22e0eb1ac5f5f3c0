//! Range membership against a brute-force oracle that shares no code with the engine or
//! `semver`: its own SemVer precedence over structured versions, and the wildcard rules as a
//! user states them.

use std::cmp::Ordering;

use lockstep_compat::{Checker, Policy, ReasonCode};
use lockstep_manifest::Channel;
use proptest::prelude::*;

use crate::support::{release, vertical};

/// A version as generated: numbers, an optional pre-release, optional build metadata.
#[derive(Debug, Clone)]
struct Ver {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Option<&'static str>,
    build: Option<&'static str>,
}

impl Ver {
    fn text(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if let Some(p) = self.pre {
            s.push('-');
            s.push_str(p);
        }
        if let Some(b) = self.build {
            s.push('+');
            s.push_str(b);
        }
        s
    }
}

/// A bound as generated; `spelling` picks among the accepted ways to write a wildcard.
#[derive(Debug, Clone)]
enum Bound {
    Any(u8),
    Major(u64, u8),
    Minor(u64, u64, u8),
    Exact(Ver),
}

impl Bound {
    fn text(&self) -> String {
        match self {
            Bound::Any(s) => ["*", "x", "X"][*s as usize % 3].to_owned(),
            Bound::Major(m, s) => match s % 4 {
                0 => format!("{m}.x.x"),
                1 => format!("{m}.x"),
                2 => format!("{m}.*"),
                _ => format!("{m}.X.X"),
            },
            Bound::Minor(m, n, s) => match s % 2 {
                0 => format!("{m}.{n}.x"),
                _ => format!("{m}.{n}.*"),
            },
            Bound::Exact(v) => v.text(),
        }
    }
}

/// SemVer 2.0.0 §11 precedence, written from the spec: numbers, then "no pre-release" above any
/// pre-release, then identifier by identifier (numeric ones as numbers and below alphanumeric
/// ones, alphanumeric ones in ASCII order, a shorter prefix first). Build metadata is not looked at.
fn precedence(a: &Ver, b: &Ver) -> Ordering {
    let nums = (a.major, a.minor, a.patch).cmp(&(b.major, b.minor, b.patch));
    if nums != Ordering::Equal {
        return nums;
    }
    match (a.pre, b.pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let xs: Vec<&str> = x.split('.').collect();
            let ys: Vec<&str> = y.split('.').collect();
            for (p, q) in xs.iter().zip(&ys) {
                let numeric = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
                let o = match (numeric(p), numeric(q)) {
                    (true, true) => p
                        .parse::<u64>()
                        .unwrap_or(u64::MAX)
                        .cmp(&q.parse::<u64>().unwrap_or(u64::MAX)),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.as_bytes().cmp(q.as_bytes()),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
    }
}

#[expect(
    clippy::double_comparisons,
    reason = "the oracle states the wildcard rule as a user would: a later major, or the same one"
)]
fn oracle_admits_min(bound: &Bound, v: &Ver) -> bool {
    match bound {
        Bound::Any(_) => true,
        Bound::Major(m, _) => v.major > *m || v.major == *m,
        Bound::Minor(m, n, _) => (v.major, v.minor) >= (*m, *n),
        Bound::Exact(b) => precedence(v, b) != Ordering::Less,
    }
}

#[expect(
    clippy::double_comparisons,
    reason = "the oracle states the wildcard rule as a user would: an earlier major, or the same one"
)]
fn oracle_admits_max(bound: &Bound, v: &Ver) -> bool {
    match bound {
        Bound::Any(_) => true,
        Bound::Major(m, _) => v.major < *m || v.major == *m,
        Bound::Minor(m, n, _) => (v.major, v.minor) <= (*m, *n),
        Bound::Exact(b) => precedence(v, b) != Ordering::Greater,
    }
}

const PRE: &[&str] = &[
    "0",
    "1",
    "2",
    "10",
    "alpha",
    "alpha.1",
    "alpha.beta",
    "beta",
    "beta.2",
    "beta.11",
    "rc.1",
    "rc.1.1",
    "x.7.z",
    "0a",
    "A",
];
const BUILD: &[&str] = &["build.5", "sha.0abc", "001", "exp.sha.5114f85"];

fn ver() -> impl Strategy<Value = Ver> {
    (
        0u64..4,
        0u64..4,
        0u64..3,
        prop::option::weighted(0.4, prop::sample::select(PRE)),
        prop::option::weighted(0.2, prop::sample::select(BUILD)),
    )
        .prop_map(|(major, minor, patch, pre, build)| Ver {
            major,
            minor,
            patch,
            pre,
            build,
        })
}

fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        1 => any::<u8>().prop_map(Bound::Any),
        3 => (0u64..4, any::<u8>()).prop_map(|(m, s)| Bound::Major(m, s)),
        3 => (0u64..4, 0u64..4, any::<u8>()).prop_map(|(m, n, s)| Bound::Minor(m, n, s)),
        5 => ver().prop_map(Bound::Exact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// `core_below_min` fires exactly when the oracle says the version is below the minimum,
    /// and `core_above_max` exactly when it is above the maximum.
    #[test]
    fn range_membership_agrees_with_oracle(v in ver(), b in bound()) {
        let r = release(&v.text()).on(Channel::Canary).contracts(None).build();
        let checker = Checker::new(std::slice::from_ref(&r), Policy::default());
        // The other end is `*`, so the manifest is valid whatever the bound.
        let as_min = vertical(&b.text(), "*").channel("canary").build();
        let as_max = vertical("*", &b.text()).channel("canary").build();

        let below = checker.codes(&r, &as_min);
        prop_assert_eq!(below.contains(ReasonCode::CoreBelowMin), !oracle_admits_min(&b, &v),
            "{} as min against {}", b.text(), v.text());
        prop_assert!(!below.contains(ReasonCode::CoreAboveMax));
        let above = checker.codes(&r, &as_max);
        prop_assert_eq!(above.contains(ReasonCode::CoreAboveMax), !oracle_admits_max(&b, &v),
            "{} as max against {}", b.text(), v.text());
        prop_assert!(!above.contains(ReasonCode::CoreBelowMin));
        // nothing else may fire in this setting
        prop_assert!(below.iter().chain(above.iter())
            .all(|c| matches!(c, ReasonCode::CoreBelowMin | ReasonCode::CoreAboveMax)));
    }

    /// Both bounds at once, when the manifest parser accepts them (min at or below max).
    #[test]
    fn both_bounds_agree_with_oracle(v in ver(), lo in bound(), hi in bound()) {
        let Some(m) = vertical(&lo.text(), &hi.text()).channel("canary").try_build() else {
            return Ok(());
        };
        let r = release(&v.text()).on(Channel::Canary).build();
        let codes = Checker::new(std::slice::from_ref(&r), Policy::default()).codes(&r, &m);
        prop_assert_eq!(codes.contains(ReasonCode::CoreBelowMin), !oracle_admits_min(&lo, &v));
        prop_assert_eq!(codes.contains(ReasonCode::CoreAboveMax), !oracle_admits_max(&hi, &v));
    }

    /// The oracle's precedence is a faithful SemVer precedence (checked against `semver` here
    /// only, so a disagreement points at the oracle, not at the engine).
    #[test]
    fn oracle_precedence_is_semver(a in ver(), b in ver()) {
        let (pa, pb) = (crate::support::parse_version(&a.text()), crate::support::parse_version(&b.text()));
        prop_assert_eq!(precedence(&a, &b), pa.cmp_precedence(&pb));
    }
}

/// The oracle itself, on the cases design.md spells out.
#[test]
fn oracle_sanity() {
    let v = |major, minor, pre| Ver {
        major,
        minor,
        patch: 0,
        pre,
        build: None,
    };
    let one = Bound::Major(1, 0);
    assert!(oracle_admits_max(&one, &v(1, 5, Some("beta.1"))));
    assert!(!oracle_admits_max(&one, &v(2, 0, Some("beta.1"))));
    assert!(oracle_admits_min(&one, &v(1, 0, Some("0"))));
    assert_eq!(
        precedence(&v(1, 0, Some("beta.2")), &v(1, 0, Some("beta.11"))),
        Ordering::Less
    );
    assert_eq!(
        precedence(&v(1, 0, Some("rc.1")), &v(1, 0, None)),
        Ordering::Less
    );
}
