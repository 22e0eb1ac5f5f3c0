//! Invariants on random DAGs, checked against brute-force oracles.

use std::collections::{BTreeMap, BTreeSet};

use lockstep_cascade::{
    Bump, DepKind, Ecosystem, Edge, Error, Graph, Package, PinSpec, Plan, Repo, Request, plan,
};
use proptest::prelude::*;

/// A random DAG: package `i` may depend on packages `j < i` only; names are a shuffled
/// numbering so that name order and dependency order differ; some packages share a
/// repository.
#[derive(Debug, Clone)]
struct Dag {
    packages: Vec<Package>,
    edges: Vec<Edge>,
    repos: Vec<Repo>,
    start: Vec<String>,
    bump: Bump,
}

fn kind(k: u8) -> DepKind {
    match k % 6 {
        0 => DepKind::Dev,
        1 => DepKind::Build,
        _ => DepKind::Normal,
    }
}

fn pin(p: u8, dependency_version: &semver::Version) -> PinSpec {
    match p % 5 {
        0 => PinSpec::GitTag(format!("v{dependency_version}")),
        1 => PinSpec::GitRev("0123abcd".into()),
        2 => PinSpec::Path("../x".into()),
        3 => PinSpec::Requirement(format!("^{dependency_version}")),
        _ => PinSpec::Requirement(format!("={dependency_version}")),
    }
}

fn dag(max: usize) -> impl Strategy<Value = Dag> {
    (1..=max)
        .prop_flat_map(|n| {
            let names = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            let edges = proptest::collection::vec((0..n, 0..n, any::<u8>(), any::<u8>()), 0..n * 2);
            let versions = proptest::collection::vec((0u64..3, 0u64..5, 0u64..5), n);
            let repos = proptest::collection::vec(0..n, n);
            let start = proptest::collection::btree_set(0..n, 1..=n.min(3));
            let bump = prop_oneof![Just(Bump::Major), Just(Bump::Minor), Just(Bump::Patch)];
            (names, edges, versions, repos, start, bump)
        })
        .prop_map(|(names, raw_edges, versions, repos, start, bump)| {
            let name = |i: usize| format!("p{:02}", names[i]);
            let packages: Vec<Package> = (0..names.len())
                .map(|i| {
                    let (a, b, c) = versions[i];
                    Package::new(
                        name(i),
                        format!("r{}", repos[i]),
                        Ecosystem::Cargo,
                        semver::Version::new(a, b, c),
                        "Cargo.toml",
                    )
                })
                .collect();
            let edges = raw_edges
                .into_iter()
                .filter(|(a, b, _, _)| a != b)
                .map(|(a, b, k, p)| {
                    let (dependent, dependency) = if a > b { (a, b) } else { (b, a) };
                    Edge::new(
                        name(dependent),
                        name(dependency),
                        kind(k),
                        pin(p, &packages[dependency].version),
                        "Cargo.toml",
                    )
                })
                .collect();
            let mut repo_names: Vec<String> = packages.iter().map(|p| p.repo.clone()).collect();
            repo_names.sort();
            repo_names.dedup();
            let repos = repo_names
                .into_iter()
                .map(|r| Repo::new(&r, format!("{r}-head")))
                .collect();
            Dag {
                packages,
                edges,
                repos,
                start: start.into_iter().map(name).collect(),
                bump,
            }
        })
}

impl Dag {
    fn graph(&self) -> Graph {
        Graph::new(
            self.packages.clone(),
            self.edges.clone(),
            self.repos.clone(),
        )
        .unwrap()
    }
    fn request(&self) -> Request {
        Request::new(self.start.clone()).with_bump(self.bump)
    }
    fn plan(&self) -> Plan {
        plan(&self.graph(), &crate::support::always(&self.request())).unwrap()
    }
    /// (dependent, dependency) pairs of normal and build edges.
    fn ordering(&self) -> Vec<(&str, &str)> {
        self.edges
            .iter()
            .filter(|e| e.kind != DepKind::Dev)
            .map(|e| (e.dependent.as_str(), e.dependency.as_str()))
            .collect()
    }
}

/// Brute force: grow the start set until no ordering edge leads out of it.
fn released_oracle(dag: &Dag) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = dag.start.iter().cloned().collect();
    loop {
        let before = set.len();
        for (dependent, dependency) in dag.ordering() {
            if set.contains(dependency) {
                set.insert(dependent.to_owned());
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn waves_are_topological_and_earliest(dag in dag(14)) {
        let plan = dag.plan();
        let wave: BTreeMap<&str, usize> = plan
            .waves
            .iter()
            .enumerate()
            .flat_map(|(w, steps)| {
                // Edited-only steps (a dev pin that no longer admits) follow dev edges too.
                steps.iter().filter(|s| s.release).map(move |s| (s.package.as_str(), w))
            })
            .collect();
        for (name, &w) in &wave {
            let ups: Vec<usize> = dag
                .ordering()
                .into_iter()
                .filter(|(dependent, _)| dependent == name)
                .filter_map(|(_, dependency)| wave.get(dependency).copied())
                .collect();
            for &u in &ups {
                prop_assert!(u < w, "{name} in wave {w} has an upstream in wave {u}");
            }
            let earliest = ups.iter().map(|u| u + 1).max().unwrap_or(0);
            prop_assert_eq!(w, earliest, "{} is not in its earliest wave", name);
        }
        for steps in &plan.waves {
            prop_assert!(!steps.is_empty());
            prop_assert!(steps.windows(2).all(|p| p[0].package < p[1].package), "a wave is sorted by name");
        }
    }

    #[test]
    fn released_set_is_the_transitive_dependents(dag in dag(14)) {
        let plan = dag.plan();
        let released: BTreeSet<String> =
            plan.steps().filter(|s| s.release).map(|s| s.package.to_string()).collect();
        let all: BTreeSet<String> = plan.steps().map(|s| s.package.to_string()).collect();
        prop_assert_eq!(all.len(), plan.steps().count(), "one step per package");
        prop_assert_eq!(released, released_oracle(&dag));
        for s in plan.steps().filter(|s| s.release) {
            prop_assert!(s.to > s.from);
            if dag.start.iter().any(|x| *x == s.package) {
                prop_assert!(s.bump >= dag.bump);
            }
            for e in &s.pin_edits {
                let up = plan.step(&e.dependency).expect("edits only name released upstreams");
                if e.from.starts_with('v') || e.from == "0123abcd" {
                    prop_assert_eq!(&e.to, &up.tag);
                }
            }
        }
    }

    #[test]
    fn same_input_same_plan_whatever_the_order(dag in dag(14), seed in any::<u64>()) {
        let plan = dag.plan();
        prop_assert_eq!(&plan, &dag.plan());
        prop_assert_eq!(plan.compute_digest(), plan.digest.clone());
        // The caller's order of packages, edges and repositories does not matter.
        let mut shuffled = dag.clone();
        let rot = |len: usize| if len == 0 { 0 } else { (seed as usize) % len };
        let (p, e, r) = (rot(shuffled.packages.len()), rot(shuffled.edges.len()), rot(shuffled.repos.len()));
        shuffled.packages.rotate_left(p);
        shuffled.packages.reverse();
        shuffled.edges.rotate_left(e);
        shuffled.edges.reverse();
        shuffled.repos.rotate_left(r);
        prop_assert_eq!(&plan, &shuffled.plan());
        // The JSON carries everything.
        let back: Plan = serde_json::from_str(&plan.to_json()).unwrap();
        prop_assert_eq!(&back, &plan);
        // Another HEAD in a released repository changes the digest, and nothing else.
        if let Some(step) = plan.steps().next() {
            let mut moved = dag.clone();
            for repo in &mut moved.repos {
                if repo.name == step.repo {
                    repo.head = "moved".into();
                }
            }
            let other = moved.plan();
            prop_assert_ne!(&other.digest, &plan.digest);
            prop_assert_eq!(&other.waves, &plan.waves);
        }
    }

    #[test]
    fn an_injected_cycle_is_always_reported(dag in dag(12), picks in proptest::collection::btree_set(0usize..12, 1..5), kind_pick in any::<u8>()) {
        // Chain some packages (in index order, so the chain goes along the DAG) and close it.
        let chain: Vec<usize> = picks.into_iter().filter(|&i| i < dag.packages.len()).collect();
        prop_assume!(!chain.is_empty());
        let mut edges = dag.edges.clone();
        let name = |i: usize| dag.packages[i].name.clone();
        let closing = if kind_pick % 2 == 0 { DepKind::Normal } else { DepKind::Build };
        for w in chain.windows(2) {
            edges.push(Edge::new(name(w[1]), name(w[0]), DepKind::Normal, PinSpec::Path(".".into()), "Cargo.toml"));
        }
        edges.push(Edge::new(name(chain[0]), name(chain[chain.len() - 1]), closing, PinSpec::Path(".".into()), "Cargo.toml"));
        match Graph::new(dag.packages.clone(), edges.clone(), dag.repos.clone()) {
            Err(Error::Cycle { packages }) => {
                prop_assert!(!packages.is_empty());
                let distinct: BTreeSet<&String> = packages.iter().collect();
                prop_assert_eq!(distinct.len(), packages.len(), "no package twice");
                prop_assert_eq!(Some(&packages[0]), packages.iter().min(), "smallest name first");
                for (i, a) in packages.iter().enumerate() {
                    let b = &packages[(i + 1) % packages.len()];
                    prop_assert!(
                        edges.iter().any(|e| e.kind != DepKind::Dev && &e.dependent == a && &e.dependency == b),
                        "{a} does not depend on {b}"
                    );
                }
            }
            other => prop_assert!(false, "expected a cycle, got {other:?}"),
        }
    }
}
