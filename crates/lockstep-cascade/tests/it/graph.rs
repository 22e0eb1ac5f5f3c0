//! Building a graph: what is refused, and cycles named in full.

use lockstep_cascade::{DepKind, Ecosystem, Edge, Error, Graph, Package, PinSpec, Repo};

use crate::support::{G, v};

#[track_caller]
fn check_cycle(g: G, expected: &[&str]) {
    match g.try_graph() {
        Err(Error::Cycle { packages }) => assert_eq!(packages, expected),
        other => panic!("expected a cycle {expected:?}, got {other:?}"),
    }
}

#[test]
fn cycles_name_every_package_in_dependency_order() {
    let abc = G::new()
        .pkg("a", "1.0.0")
        .pkg("b", "1.0.0")
        .pkg("c", "1.0.0");
    check_cycle(abc.clone().dep("a", "a", "^1"), &["a"]);
    check_cycle(
        abc.clone().dep("a", "b", "^1").dep("b", "a", "^1"),
        &["a", "b"],
    );
    // c -> b -> a -> c: reported from the smallest name, each depending on the next.
    check_cycle(
        abc.clone()
            .dep("c", "b", "^1")
            .dep("b", "a", "^1")
            .dep("a", "c", "^1"),
        &["a", "c", "b"],
    );
    // A build edge orders like a normal one.
    check_cycle(
        abc.clone()
            .edge("a", "b", DepKind::Build, "^1")
            .dep("b", "a", "^1"),
        &["a", "b"],
    );
    // Only the cycle, not the path that leads to it.
    check_cycle(
        abc.pkg("d", "1.0.0")
            .dep("a", "b", "^1")
            .dep("b", "c", "^1")
            .dep("c", "d", "^1")
            .dep("d", "b", "^1"),
        &["b", "c", "d"],
    );
}

#[test]
fn cycles_through_dev_edges_are_allowed() {
    let g = G::new()
        .pkg("a", "1.0.0")
        .pkg("b", "1.0.0")
        .dep("b", "a", "^1")
        .dev("a", "b", "^1");
    assert!(g.try_graph().is_ok());
}

#[test]
fn cycle_message() {
    let err = G::new()
        .pkg("a", "1.0.0")
        .pkg("b", "1.0.0")
        .dep("a", "b", "^1")
        .dep("b", "a", "^1")
        .try_graph()
        .unwrap_err();
    insta::assert_snapshot!(err, @"dependency cycle: a -> b -> a");
}

#[track_caller]
fn check_refused(packages: Vec<Package>, edges: Vec<Edge>, repos: Vec<Repo>, expected: &str) {
    let err = Graph::new(packages, edges, repos).unwrap_err();
    assert_eq!(err.to_string(), expected);
}

#[test]
fn refuses_unknown_and_duplicate_names() {
    let pkg = |name: &str, repo: &str| {
        Package::new(name, repo, Ecosystem::Cargo, v("1.0.0"), "Cargo.toml")
    };
    let edge = |a: &str, b: &str| {
        Edge::new(
            a,
            b,
            DepKind::Normal,
            PinSpec::Requirement("1".into()),
            "Cargo.toml",
        )
    };
    let repo = |name: &str| Repo::new(name, "0000");
    check_refused(
        vec![pkg("a", "r1"), pkg("a", "r2")],
        vec![],
        vec![repo("r1"), repo("r2")],
        "package `a` is declared twice (in repositories `r1` and `r2`)",
    );
    check_refused(
        vec![],
        vec![],
        vec![repo("r"), repo("r")],
        "repository `r` is declared twice",
    );
    check_refused(
        vec![pkg("a", "nowhere")],
        vec![],
        vec![repo("r")],
        "package `a` is in repository `nowhere`, which is not declared",
    );
    check_refused(
        vec![pkg("a", "r")],
        vec![edge("a", "ghost")],
        vec![repo("r")],
        "the edge `a` -> `ghost` names `ghost`, which is not a declared package",
    );
    check_refused(
        vec![pkg("a", "r")],
        vec![edge("ghost", "a")],
        vec![repo("r")],
        "the edge `ghost` -> `a` names `ghost`, which is not a declared package",
    );
    check_refused(
        vec![pkg("a", "r").reexporting("ghost")],
        vec![],
        vec![repo("r")],
        "package `a` re-exports `ghost`, which is not a declared package",
    );
}

#[test]
fn lookups_and_tags() {
    let g = G::new()
        .pkg_in("core", "core", Ecosystem::Cargo, "1.0.0")
        .pkg_in("gix-hash", "gitoxide", Ecosystem::Cargo, "0.14.2")
        .pkg_in("gix", "gitoxide", Ecosystem::Cargo, "0.70.0")
        .dep("gix", "gix-hash", "^0.14")
        .dep("gix", "core", "tag:v1.0.0")
        .graph();
    let names: Vec<_> = g.packages().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["core", "gix", "gix-hash"]);
    let deps: Vec<_> = g
        .dependencies("gix")
        .map(|e| e.dependency.as_str())
        .collect();
    assert_eq!(deps, ["core", "gix-hash"]);
    let dependents: Vec<_> = g.dependents("core").map(|e| e.dependent.as_str()).collect();
    assert_eq!(dependents, ["gix"]);
    assert_eq!(g.dependencies("ghost").count(), 0);
    let core = g.package("core").unwrap();
    let hash = g.package("gix-hash").unwrap();
    assert_eq!(g.tag(core, &v("1.1.0")), "v1.1.0");
    assert_eq!(g.tag(hash, &v("0.15.0")), "gix-hash-v0.15.0");
    assert_eq!(g.repo("gitoxide").unwrap().head, "gitoxide-head");
    assert_eq!(g.repos().count(), 2);
}
