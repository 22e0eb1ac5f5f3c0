//! The released set with the default rule (`--release-dependents needed`), on random graphs
//! of several packages per repository, against a brute force written from the rules alone:
//!
//! - every start package is released (`--bump` is given);
//! - a package is released when one of its normal or build pins on a released package must
//!   change: a git tag or rev pin always, a requirement when it does not admit the new
//!   version (paths never, dev edges never);
//! - but a package marked `publish = false` is only edited, not released, unless it starts
//!   the cascade or something pins it by git tag or rev (an edited package releases nothing
//!   downstream).
//!
//! The brute force grows the released set until nothing changes, and reads requirements with
//! the `semver` crate (Cargo's own semantics), not with the planner's reader.

use std::collections::BTreeSet;

use lockstep_cascade::{
    Bump, DepKind, Ecosystem, Edge, Graph, Package, PinSpec, Repo, Request, plan,
};
use proptest::prelude::*;
use semver::{Version, VersionReq};

/// Cases per property: few by default, `LOCKSTEP_PROPTEST_CASES` for more.
fn cases() -> u32 {
    std::env::var("LOCKSTEP_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

/// One random landscape: packages (by position; a dependent comes after its dependencies),
/// their repositories, which ones are unpublished, and the edges.
#[derive(Debug, Clone)]
struct Landscape {
    names: Vec<String>,
    versions: Vec<Version>,
    repos: Vec<usize>,
    unpublished: Vec<bool>,
    /// (dependent, dependency, kind, pin)
    edges: Vec<(usize, usize, DepKind, PinSpec)>,
    start: BTreeSet<usize>,
    bump: Bump,
}

/// A pin on a dependency at `current`: every kind, requirements of several operators, on the
/// current version or one nearby, plus requirements that admit anything or cannot be read.
fn pin(choice: u8, near: (u64, u64, u64), current: &Version) -> PinSpec {
    let near = Version::new(near.0, near.1, near.2);
    let v = if choice & 0x80 == 0 { current } else { &near };
    match choice % 10 {
        0 => PinSpec::GitTag(format!("v{v}")),
        1 => PinSpec::GitRev("5f0c2a9e".into()),
        2 => PinSpec::Path("../dep".into()),
        3 => PinSpec::Requirement(format!("^{v}")),
        4 => PinSpec::Requirement(format!("={v}")),
        5 => PinSpec::Requirement(format!(">={v}")),
        6 => PinSpec::Requirement(format!("~{v}")),
        7 => PinSpec::Requirement(format!("{}.{}", v.major, v.minor)),
        8 => PinSpec::Requirement("*".into()),
        _ => PinSpec::Requirement("latest".into()),
    }
}

fn landscape() -> impl Strategy<Value = Landscape> {
    (1usize..=12)
        .prop_flat_map(|n| {
            (
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                proptest::collection::vec((0u64..3, 0u64..4, 0u64..4), n),
                proptest::collection::vec(0..n.div_ceil(2), n),
                proptest::collection::vec(proptest::bool::weighted(0.3), n),
                proptest::collection::vec(
                    (0..n, 0..n, 0u8..6, any::<u8>(), (0u64..3, 0u64..4, 0u64..4)),
                    0..n * 3,
                ),
                proptest::collection::btree_set(0..n, 1..=n.min(3)),
                prop_oneof![Just(Bump::Major), Just(Bump::Minor), Just(Bump::Patch)],
            )
        })
        .prop_map(|(order, versions, repos, unpublished, raw, start, bump)| {
            let versions: Vec<Version> = versions
                .into_iter()
                .map(|(a, b, c)| Version::new(a, b, c))
                .collect();
            let edges = raw
                .into_iter()
                .filter(|(a, b, ..)| a != b)
                .map(|(a, b, kind, choice, near)| {
                    let (dependent, dependency) = (a.max(b), a.min(b));
                    let kind = match kind {
                        0 => DepKind::Dev,
                        1 => DepKind::Build,
                        _ => DepKind::Normal,
                    };
                    (
                        dependent,
                        dependency,
                        kind,
                        pin(choice, near, &versions[dependency]),
                    )
                })
                .collect();
            Landscape {
                names: order.iter().map(|i| format!("p{i:02}")).collect(),
                versions,
                repos,
                unpublished,
                edges,
                start,
                bump,
            }
        })
}

impl Landscape {
    fn graph(&self) -> Graph {
        let packages = (0..self.names.len())
            .map(|i| {
                let p = Package::new(
                    &self.names[i],
                    format!("r{}", self.repos[i]),
                    Ecosystem::Cargo,
                    self.versions[i].clone(),
                    "Cargo.toml",
                );
                if self.unpublished[i] {
                    p.unpublished()
                } else {
                    p
                }
            })
            .collect();
        let edges = self
            .edges
            .iter()
            .map(|(d, u, kind, pin)| {
                Edge::new(
                    &self.names[*d],
                    &self.names[*u],
                    *kind,
                    pin.clone(),
                    "Cargo.toml",
                )
            })
            .collect();
        let repos: BTreeSet<usize> = self.repos.iter().copied().collect();
        let repos = repos
            .into_iter()
            .map(|r| Repo::new(format!("r{r}"), format!("head-{r}")))
            .collect();
        Graph::new(packages, edges, repos).expect("a DAG of declared packages")
    }

    /// The brute force: the released packages' names.
    fn released(&self) -> BTreeSet<String> {
        let n = self.names.len();
        let git = |pin: &PinSpec| matches!(pin, PinSpec::GitTag(_) | PinSpec::GitRev(_));
        // Released only if publishable, started, or pinned by git from anywhere.
        let may_release: Vec<bool> = (0..n)
            .map(|i| {
                !self.unpublished[i]
                    || self.start.contains(&i)
                    || self.edges.iter().any(|(_, u, _, pin)| *u == i && git(pin))
            })
            .collect();
        // Without re-exports, a start package takes `--bump`, any other one a patch.
        let new_version = |i: usize| {
            let bump = if self.start.contains(&i) {
                self.bump
            } else {
                Bump::Patch
            };
            bump.apply(&self.versions[i]).expect("small versions")
        };
        let must_change = |pin: &PinSpec, new: &Version| match pin {
            PinSpec::GitTag(_) | PinSpec::GitRev(_) => true,
            PinSpec::Path(_) => false,
            // A requirement Cargo cannot read is left alone.
            PinSpec::Requirement(text) => {
                VersionReq::parse(text).is_ok_and(|req| !req.matches(new))
            }
        };
        let mut released: Vec<bool> = (0..n).map(|i| self.start.contains(&i)).collect();
        loop {
            let mut changed = false;
            for &(d, u, kind, ref pin) in &self.edges {
                if kind != DepKind::Dev
                    && released[u]
                    && !released[d]
                    && may_release[d]
                    && must_change(pin, &new_version(u))
                {
                    released[d] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        (0..n)
            .filter(|&i| released[i])
            .map(|i| self.names[i].clone())
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn released_set_is_the_brute_force_closure(land in landscape()) {
        let graph = land.graph();
        let start: Vec<&String> = land.start.iter().map(|&i| &land.names[i]).collect();
        let plan = plan(&graph, &Request::new(start).with_bump(land.bump)).unwrap();
        let released: BTreeSet<String> =
            plan.steps().filter(|s| s.release).map(|s| s.package.to_string()).collect();
        prop_assert_eq!(released, land.released());
        // Every step's new version is the one the brute force assumes.
        for s in plan.steps().filter(|s| s.release) {
            let i = land.names.iter().position(|n| *n == s.package).unwrap();
            let bump = if land.start.contains(&i) { land.bump } else { Bump::Patch };
            prop_assert_eq!(&s.to, &bump.apply(&land.versions[i]).unwrap());
        }
    }
}
