//! Who is released: dependents whose pin had to change, unpublished packages only when a git
//! pin needs them, everyone else listed with the reason (the default `needed` rule).

use std::collections::{BTreeMap, BTreeSet};

use lockstep_cascade::{Bump, Request};
use proptest::prelude::*;

use crate::support::G;

fn released(plan: &lockstep_cascade::Plan) -> BTreeSet<String> {
    plan.steps()
        .filter(|s| s.release)
        .map(|s| s.package.to_string())
        .collect()
}

#[test]
fn a_requirement_that_admits_the_new_version_is_not_a_release() {
    let g = G::new()
        .pkg("core", "1.2.0")
        .pkg("loose", "0.1.0")
        .pkg("tight", "0.1.0")
        .pkg("app", "3.0.0")
        .dep("loose", "core", "^1.2")
        .dep("tight", "core", "~1.2")
        .dep("app", "loose", "tag:v0.1.0");
    let plan = g.plan_needed(&Request::new(["core"]).with_bump(Bump::Minor));
    assert_eq!(
        released(&plan),
        ["core", "tight"].map(String::from).into_iter().collect()
    );
    assert_eq!(plan.not_released.len(), 2, "{:?}", plan.not_released);
    assert_eq!(plan.not_released[0].package, "loose");
    assert_eq!(plan.not_released[0].reason, "admits core 1.3.0 (^1.2)");
    let tight = plan.step("tight").unwrap();
    assert_eq!(tight.pin_edits[0].to, "~1.3");
    // `app` pins `loose` by tag, but `loose` is not released: nothing moves, and the plan
    // says so (every transitive dependent is decided about).
    assert!(plan.step("app").is_none());
    assert_eq!(plan.not_released[1].package, "app");
    assert_eq!(
        plan.not_released[1].reason,
        "none of its upstreams in the cascade is released (loose)"
    );
    // With `always`, every transitive dependent is released, as before.
    let all = g.plan(&Request::new(["core"]).with_bump(Bump::Minor));
    assert_eq!(released(&all).len(), 4);
    assert!(all.not_released.is_empty());
}

#[test]
fn unpublished_packages_are_edited_unless_a_git_pin_needs_a_release() {
    let g = G::new()
        .pkg("core", "1.2.0")
        .pkg("tool", "0.1.0")
        .pkg("pinned", "0.3.0")
        .pkg("app", "1.0.0")
        .dep("tool", "core", "=1.2.0")
        .dep("pinned", "core", "=1.2.0")
        .dep("app", "pinned", "tag:v0.3.0")
        .unpublished("tool")
        .unpublished("pinned");
    let plan = g.plan_needed(&Request::new(["core"]).with_bump(Bump::Patch));
    assert_eq!(
        released(&plan),
        ["app", "core", "pinned"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let tool = plan.step("tool").expect("edited steps stay in the waves");
    assert!(!tool.release);
    assert_eq!(tool.to, tool.from);
    assert_eq!(tool.tag, "");
    assert_eq!(tool.pin_edits[0].to, "=1.2.1");
    assert!(
        tool.why_not_released
            .as_deref()
            .unwrap()
            .contains("publish = false")
    );
    assert_eq!(plan.edited_only.len(), 1);
    assert_eq!(plan.edited_only[0].package, "tool");
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(json["edited_only"][0]["repo"], "tool");
    let tool_json = json["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w.as_array().unwrap())
        .find(|s| s["package"] == "tool")
        .unwrap();
    assert_eq!(tool_json["release"], false);
    let back: lockstep_cascade::Plan = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(back, plan);
}

/// Pins whose need for an edit does not depend on the version: a git tag always moves, a
/// path never does, `*` admits everything, `=CURRENT` admits nothing newer.
const PINS: [&str; 4] = ["tag:v{v}", "path:../x", "*", "={v}"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn released_set_is_the_closure_under_the_rules(
        n in 2usize..14,
        raw_edges in proptest::collection::vec((0usize..14, 0usize..14, 0usize..4), 0..30),
        unpublished in proptest::collection::vec(any::<bool>(), 14),
        start in 0usize..14,
    ) {
        let name = |i: usize| format!("p{i:02}");
        let mut g = G::new();
        for i in 0..n {
            g = g.pkg(&name(i), "1.0.0");
        }
        // Edges only from higher to lower indices: acyclic by construction.
        let mut edges: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (a, b, k) in raw_edges {
            let (a, b) = (a % n, b % n);
            if a > b {
                edges.entry((a, b)).or_insert(k);
            }
        }
        for (&(a, b), &k) in &edges {
            g = g.dep(&name(a), &name(b), &PINS[k].replace("{v}", "1.0.0"));
        }
        for (i, _) in unpublished.iter().enumerate().take(n).filter(|(_, u)| **u) {
            g = g.unpublished(&name(i));
        }
        let start = start % n;
        let plan = g.plan_needed(&Request::new([name(start)]).with_bump(Bump::Minor));

        // Brute force, in index order (a topological order here).
        let git_pinned: BTreeSet<usize> = edges.iter().filter(|e| *e.1 == 0).map(|e| e.0.1).collect();
        let mut rel = vec![false; n];
        let mut edited = vec![false; n];
        for p in 0..n {
            let need = edges.iter().any(|(&(a, b), &k)| a == p && rel[b] && (k == 0 || k == 3));
            if p == start {
                rel[p] = true;
            } else if need {
                if unpublished[p] && !git_pinned.contains(&p) {
                    edited[p] = true;
                } else {
                    rel[p] = true;
                }
            }
        }
        let want: BTreeSet<String> = (0..n).filter(|&p| rel[p]).map(name).collect();
        prop_assert_eq!(released(&plan), want);
        let want_edited: BTreeSet<String> = (0..n).filter(|&p| edited[p]).map(name).collect();
        let got_edited: BTreeSet<String> = plan.edited_only.iter().map(|e| e.package.to_string()).collect();
        prop_assert_eq!(got_edited, want_edited);
        // Every dependent of a released package that needs nothing is listed with a reason.
        for p in 0..n {
            let touched = edges.keys().any(|&(a, b)| a == p && rel[b]);
            if touched && !rel[p] && !edited[p] {
                prop_assert!(plan.not_released.iter().any(|x| x.package == name(p) && !x.reason.is_empty()));
            }
        }
        // Every package the cascade reaches (the start and its transitive dependents) is
        // decided about exactly once: a step, or a `not_released` entry.
        let mut reach = vec![false; n];
        reach[start] = true;
        for p in 0..n {
            if edges.keys().any(|&(a, b)| a == p && reach[b]) {
                reach[p] = true;
            }
        }
        let mut decided: Vec<String> = plan.steps().map(|s| s.package.to_string())
            .chain(plan.not_released.iter().map(|x| x.package.to_string()))
            .collect();
        decided.sort();
        let want_decided: Vec<String> = (0..n).filter(|&p| reach[p]).map(name).collect();
        prop_assert_eq!(decided, want_decided);
        // The waves hold exactly the released and edited packages.
        let in_waves: BTreeSet<String> = plan.steps().map(|s| s.package.to_string()).collect();
        let want_waves: BTreeSet<String> = (0..n).filter(|&p| rel[p] || edited[p]).map(name).collect();
        prop_assert_eq!(in_waves, want_waves);
    }
}

#[test]
fn a_dependent_admitting_one_upstream_but_not_a_dev_pin_is_edited_once() {
    // `fut` needs `lib` (admits the patch) and dev-depends on `core` (does not admit the minor).
    let g = G::new()
        .pkg("core", "0.1.0")
        .pkg("lib", "0.1.0")
        .pkg("fut", "0.2.0")
        .dep("lib", "core", "0.1.0")
        .dep("fut", "lib", "0.1")
        .dev("fut", "core", "0.1.0");
    let plan = g.plan_needed(&Request::new(["core"]).with_bump(Bump::Minor));
    let fut: Vec<_> = plan.steps().filter(|s| s.package == "fut").collect();
    assert_eq!(fut.len(), 1, "{plan:?}");
    assert!(!fut[0].release);
    assert_eq!(fut[0].pin_edits.len(), 1);
    assert_eq!(fut[0].pin_edits[0].to, "0.2.0");
    assert!(plan.not_released.iter().all(|x| x.package != "fut"));
    assert_eq!(plan.edited_only.len(), 1);
}
