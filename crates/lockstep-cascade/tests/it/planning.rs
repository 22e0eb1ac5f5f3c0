//! Planning rules, case by case: each case is a graph, a request and the plan written
//! compactly (one line per step, `--` between waves, then the notes).

use lockstep_cascade::{Bump, DepKind, Ecosystem, Error, Plan, Request, plan};

use crate::support::{G, always, waves};

fn compact(plan: &Plan) -> String {
    let mut lines = Vec::new();
    for (i, wave) in plan.waves.iter().enumerate() {
        if i > 0 {
            lines.push("--".to_owned());
        }
        for s in wave {
            let mut line = format!(
                "{} {} -> {} {} [{}] {}",
                s.package, s.from, s.to, s.bump, s.tag, s.reason
            );
            for e in &s.pin_edits {
                line.push_str(&format!(
                    " | {}: {} {} -> {}",
                    e.file, e.dependency, e.from, e.to
                ));
            }
            lines.push(line);
        }
    }
    for n in &plan.notes {
        lines.push(format!("note: {n}"));
    }
    lines.join("\n")
}

#[track_caller]
fn check(g: &G, request: Request, expected: &str) {
    let got = compact(&g.plan(&request));
    let expected: Vec<&str> = expected.trim().lines().map(str::trim).collect();
    assert_eq!(got, expected.join("\n"), "\n--- got ---\n{got}\n");
}

fn chain() -> G {
    G::new()
        .pkg("core", "1.2.0")
        .pkg("mid", "0.4.1")
        .pkg("app", "2.0.0")
        .dep("mid", "core", "tag:v1.2.0")
        .dep("app", "mid", "tag:v0.4.1")
}

#[test]
fn a_chain_releases_in_order_with_tag_pins() {
    check(
        &chain(),
        Request::new(["core"]).with_bump(Bump::Minor),
        "
        core 1.2.0 -> 1.3.0 minor [v1.3.0] root: --bump minor
        --
        mid 0.4.1 -> 0.4.2 patch [v0.4.2] pins core 1.2.0 → 1.3.0 | mid/Cargo.toml: core v1.2.0 -> v1.3.0
        --
        app 2.0.0 -> 2.0.1 patch [v2.0.1] pins mid 0.4.1 → 0.4.2 | app/Cargo.toml: mid v0.4.1 -> v0.4.2
        ",
    );
    // Starting in the middle releases only what depends on it.
    check(
        &chain(),
        Request::new(["mid"]).with_bump(Bump::Major),
        "
        mid 0.4.1 -> 1.0.0 major [v1.0.0] root: --bump major
        --
        app 2.0.0 -> 2.0.1 patch [v2.0.1] pins mid 0.4.1 → 1.0.0 | app/Cargo.toml: mid v0.4.1 -> v1.0.0
        ",
    );
}

#[test]
fn waves_are_earliest_and_sorted_by_name() {
    // The brief's DAG: documentation waits for both runtime and ecosystem.
    let g = G::new()
        .pkg("manifest", "1.0.0")
        .pkg("urn-authority", "1.0.0")
        .pkg("runtime", "1.0.0")
        .pkg("ecosystem", "1.0.0")
        .pkg("documentation", "1.0.0")
        .pkg("release-healer", "1.0.0")
        .pkg("unrelated", "1.0.0")
        .dep("urn-authority", "manifest", "^1")
        .dep("runtime", "manifest", "^1")
        .dep("runtime", "urn-authority", "^1")
        .dep("ecosystem", "manifest", "^1")
        .dep("ecosystem", "urn-authority", "^1")
        .dep("documentation", "runtime", "^1")
        .dep("documentation", "ecosystem", "^1")
        .dep("release-healer", "runtime", "^1")
        .dep("unrelated", "release-healer", "path:../rh")
        .dep("release-healer", "unrelated", "^1")
        .try_graph();
    assert!(matches!(g, Err(Error::Cycle { .. })));

    let g = G::new()
        .pkg("manifest", "1.0.0")
        .pkg("urn-authority", "1.0.0")
        .pkg("runtime", "1.0.0")
        .pkg("ecosystem", "1.0.0")
        .pkg("documentation", "1.0.0")
        .pkg("release-healer", "1.0.0")
        .pkg("unrelated", "1.0.0")
        .dep("urn-authority", "manifest", "^1")
        .dep("runtime", "manifest", "^1")
        .dep("runtime", "urn-authority", "^1")
        .dep("ecosystem", "manifest", "^1")
        .dep("ecosystem", "urn-authority", "^1")
        .dep("documentation", "runtime", "^1")
        .dep("documentation", "ecosystem", "^1")
        .dep("release-healer", "runtime", "^1")
        .dep("unrelated", "manifest", "path:../manifest");
    let plan = g.plan(&Request::new(["manifest"]).with_bump(Bump::Patch));
    assert_eq!(
        waves(&plan),
        [
            vec!["manifest"],
            vec!["unrelated", "urn-authority"],
            vec!["ecosystem", "runtime"],
            vec!["documentation", "release-healer"],
        ]
    );
    // Two start packages, one downstream of the other: one step each, bumps merged.
    let plan = g.plan(&Request::new(["runtime", "manifest", "runtime"]).with_bump(Bump::Minor));
    assert_eq!(plan.wave_of("runtime"), Some(2));
    assert_eq!(plan.step("runtime").unwrap().bump, Bump::Minor);
    assert_eq!(plan.steps().count(), 7);
}

#[test]
fn requirements_are_edited_only_when_needed() {
    let g = G::new()
        .pkg("core", "1.2.0")
        .pkg("loose", "1.0.0")
        .pkg("tight", "1.0.0")
        .pkg_in("web", "web", Ecosystem::Npm, "3.0.0")
        .pkg_in("py", "py", Ecosystem::Python, "0.1.0")
        .dep("loose", "core", "^1.2")
        .dep("tight", "core", "=1.2.0")
        .dep("web", "core", "~1.2.0")
        .dep("py", "core", ">=1.2,<2");
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Minor),
        "
        core 1.2.0 -> 1.3.0 minor [v1.3.0] root: --bump minor
        --
        loose 1.0.0 -> 1.0.1 patch [v1.0.1] requirement ^1.2 on core already admits 1.3.0
        py 0.1.0 -> 0.1.1 patch [v0.1.1] requirement >=1.2,<2 on core already admits 1.3.0
        tight 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.2.0 → 1.3.0 | tight/Cargo.toml: core =1.2.0 -> =1.3.0
        web 3.0.0 -> 3.0.1 patch [v3.0.1] pins core 1.2.0 → 1.3.0 | package.json: core ~1.2.0 -> ~1.3.0
        ",
    );
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Minor).with_exact_pins(true),
        "
        core 1.2.0 -> 1.3.0 minor [v1.3.0] root: --bump minor
        --
        loose 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.2.0 → 1.3.0 | loose/Cargo.toml: core ^1.2 -> ^1.3.0
        py 0.1.0 -> 0.1.1 patch [v0.1.1] pins core 1.2.0 → 1.3.0 | pyproject.toml: core >=1.2,<2 -> >=1.3.0,<2
        tight 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.2.0 → 1.3.0 | tight/Cargo.toml: core =1.2.0 -> =1.3.0
        web 3.0.0 -> 3.0.1 patch [v3.0.1] pins core 1.2.0 → 1.3.0 | package.json: core ~1.2.0 -> ~1.3.0
        ",
    );
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Major),
        "
        core 1.2.0 -> 2.0.0 major [v2.0.0] root: --bump major
        --
        loose 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.2.0 → 2.0.0 | loose/Cargo.toml: core ^1.2 -> ^2.0
        py 0.1.0 -> 0.1.1 patch [v0.1.1] pins core 1.2.0 → 2.0.0 | pyproject.toml: core >=1.2,<2 -> >=2.0,<3
        tight 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.2.0 → 2.0.0 | tight/Cargo.toml: core =1.2.0 -> =2.0.0
        web 3.0.0 -> 3.0.1 patch [v3.0.1] pins core 1.2.0 → 2.0.0 | package.json: core ~1.2.0 -> ~2.0.0
        ",
    );
}

#[test]
fn rev_and_path_pins() {
    let g = G::new()
        .pkg("core", "1.0.0")
        .pkg("by-rev", "1.0.0")
        .pkg("by-path", "1.0.0")
        .dep("by-rev", "core", "rev:0a1b2c3d")
        .dep("by-path", "core", "path:../core");
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Patch),
        "
        core 1.0.0 -> 1.0.1 patch [v1.0.1] root: --bump patch
        --
        by-path 1.0.0 -> 1.0.1 patch [v1.0.1] path ../core on core needs no edit
        by-rev 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.0.0 → 1.0.1; rev 0a1b2c3d on core becomes tag v1.0.1 | by-rev/Cargo.toml: core 0a1b2c3d -> v1.0.1
        ",
    );
}

#[test]
fn reexports_follow_breaking_releases() {
    let g = G::new()
        .pkg("core", "1.4.0")
        .pkg("facade", "2.1.0")
        .pkg("young", "0.3.2")
        .pkg("user", "5.0.0")
        .dep("facade", "core", "^1.4")
        .dep("young", "core", "^1.4")
        .dep("user", "facade", "^2")
        .reexport("facade", "core")
        .reexport("young", "core");
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Major),
        "
        core 1.4.0 -> 2.0.0 major [v2.0.0] root: --bump major
        --
        facade 2.1.0 -> 3.0.0 major [v3.0.0] re-exports core, which breaks compatibility 1.4.0 → 2.0.0; pins core 1.4.0 → 2.0.0 | facade/Cargo.toml: core ^1.4 -> ^2.0
        young 0.3.2 -> 0.4.0 minor [v0.4.0] re-exports core, which breaks compatibility 1.4.0 → 2.0.0; pins core 1.4.0 → 2.0.0 | young/Cargo.toml: core ^1.4 -> ^2.0
        --
        user 5.0.0 -> 5.0.1 patch [v5.0.1] pins facade 2.1.0 → 3.0.0 | user/Cargo.toml: facade ^2 -> ^3
        ",
    );
    // A compatible release of a re-exported upstream is a plain patch.
    let plan = g.plan(&Request::new(["core"]).with_bump(Bump::Minor));
    assert_eq!(plan.step("facade").unwrap().bump, Bump::Patch);
}

#[test]
fn bumps_from_conventional_commits() {
    let g = chain();
    check(
        &g,
        Request::new(["core"])
            .with_commits("core", ["fix: a", "feat(api): b", "docs: c"])
            .with_commits("app", ["feat!: new cli"]),
        "
        core 1.2.0 -> 1.3.0 minor [v1.3.0] feat commits since v1.2.0
        --
        mid 0.4.1 -> 0.4.2 patch [v0.4.2] pins core 1.2.0 → 1.3.0 | mid/Cargo.toml: core v1.2.0 -> v1.3.0
        --
        app 2.0.0 -> 3.0.0 major [v3.0.0] breaking changes since v2.0.0; pins mid 0.4.1 → 0.4.2 | app/Cargo.toml: mid v0.4.1 -> v0.4.2
        ",
    );
    // Below 1.0.0 a breaking change is a minor.
    check(
        &g,
        Request::new(["mid"]).with_commits("mid", ["refactor: x\n\nBREAKING CHANGE: y"]),
        "
        mid 0.4.1 -> 0.5.0 minor [v0.5.0] breaking changes since v0.4.1
        --
        app 2.0.0 -> 2.0.1 patch [v2.0.1] pins mid 0.4.1 → 0.5.0 | app/Cargo.toml: mid v0.4.1 -> v0.5.0
        ",
    );
    // Nothing to release: the plan is empty and says why.
    check(
        &g,
        Request::new(["core"]).with_commits("core", ["chore: tidy"]),
        "note: core is not released: no feat, fix, perf or breaking commits since v1.2.0",
    );
    assert!(g.plan(&Request::new(["core"])).is_empty());
}

#[test]
fn dev_edges_neither_cascade_nor_order() {
    // `tests` dev-depends on core: not released. `core` dev-depends on `helper`, which
    // depends on core: the cycle is broken at the dev edge, whose pin stays.
    let g = G::new()
        .pkg("core", "1.0.0")
        .pkg("helper", "1.0.0")
        .pkg("tests", "1.0.0")
        .pkg("lib", "1.0.0")
        .dep("helper", "core", "tag:v1.0.0")
        .dev("core", "helper", "tag:v1.0.0")
        .dev("tests", "core", "^1.0")
        .dep("lib", "core", "tag:v1.0.0")
        .dev("lib", "helper", "tag:v1.0.0")
        .edge("lib", "core", DepKind::Dev, "tag:v1.0.0");
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Minor),
        "
        core 1.0.0 -> 1.1.0 minor [v1.1.0] root: --bump minor
        --
        helper 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.0.0 → 1.1.0 | helper/Cargo.toml: core v1.0.0 -> v1.1.0
        lib 1.0.0 -> 1.0.1 patch [v1.0.1] pins core 1.0.0 → 1.1.0 | lib/Cargo.toml: core v1.0.0 -> v1.1.0
        note: core's dev-dependency pin `v1.0.0` on helper stays: helper is released in the same or a later wave
        note: lib's dev-dependency pin `v1.0.0` on helper stays: helper is released in the same or a later wave
        note: tests is not released: it only dev-depends on core (pin `^1.0` stays)
        ",
    );
    // A dev pin on an earlier wave is rewritten.
    let g = g
        .pkg("top", "1.0.0")
        .dep("top", "helper", "tag:v1.0.0")
        .dev("top", "core", "tag:v1.0.0");
    let plan = g.plan(&Request::new(["core"]).with_bump(Bump::Minor));
    let edits: Vec<_> = plan
        .step("top")
        .unwrap()
        .pin_edits
        .iter()
        .map(|e| (e.dependency.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(edits, [("core", "v1.1.0"), ("helper", "v1.0.1")]);
}

#[test]
fn multi_package_repositories_tag_by_name() {
    let g = G::new()
        .pkg_in("gix-hash", "gitoxide", Ecosystem::Cargo, "0.14.2")
        .pkg_in("gix", "gitoxide", Ecosystem::Cargo, "0.70.0")
        .pkg("tool", "1.0.0")
        .dep("gix", "gix-hash", "^0.14.2")
        .dep("tool", "gix", "^0.70");
    check(
        &g,
        Request::new(["gix-hash"]).with_bump(Bump::Minor),
        "
        gix-hash 0.14.2 -> 0.15.0 minor [gix-hash-v0.15.0] root: --bump minor
        --
        gix 0.70.0 -> 0.70.1 patch [gix-v0.70.1] pins gix-hash 0.14.2 → 0.15.0 | gix/Cargo.toml: gix-hash ^0.14.2 -> ^0.15.0
        --
        tool 1.0.0 -> 1.0.1 patch [v1.0.1] requirement ^0.70 on gix already admits 0.70.1
        ",
    );
}

#[test]
fn unreadable_requirements_are_noted_and_left() {
    let g = G::new()
        .pkg("core", "1.0.0")
        .pkg_in("web", "web", Ecosystem::Npm, "1.0.0")
        .dep("web", "core", "latest");
    check(
        &g,
        Request::new(["core"]).with_bump(Bump::Patch),
        "
        core 1.0.0 -> 1.0.1 patch [v1.0.1] root: --bump patch
        --
        web 1.0.0 -> 1.0.1 patch [v1.0.1] built against new upstream versions
        note: web's requirement `latest` on core cannot be read as a npm requirement: left as is
        ",
    );
}

#[test]
fn unknown_start_and_overflow() {
    let g = chain().graph();
    let err = plan(&g, &Request::new(["ghost"])).unwrap_err();
    insta::assert_snapshot!(err, @"cannot release `ghost`: no such package");
    let g = G::new().pkg("big", &format!("1.{}.0", u64::MAX)).graph();
    let err = plan(&g, &Request::new(["big"]).with_bump(Bump::Minor)).unwrap_err();
    assert!(matches!(err, Error::VersionOverflow { .. }), "{err}");
}

#[test]
fn tag_and_commit_messages_name_upstream_versions() {
    let g = chain().pkg("extra", "3.1.4").dep("mid", "extra", "^3");
    let plan = g.plan(&Request::new(["core"]).with_bump(Bump::Minor));
    let mid = plan.step("mid").unwrap();
    assert_eq!(
        mid.tag_message(),
        "mid 0.4.2\n\nBuilt against:\n- core 1.3.0\n- extra 3.1.4\n"
    );
    assert_eq!(mid.commit_message(), "chore(release): mid v0.4.2");
    assert_eq!(plan.step("core").unwrap().tag_message(), "core 1.3.0\n");
}

#[test]
fn digest_covers_content_and_heads() {
    let g = chain();
    let request = Request::new(["core"]).with_bump(Bump::Minor);
    let a = g.plan(&request);
    assert_eq!(a.digest.len(), 64);
    assert_eq!(a, g.plan(&request));
    assert_eq!(a.compute_digest(), a.digest);
    // Another HEAD in an involved repository.
    let mut repos = g.repos();
    repos[0].head = "moved".into();
    let moved = plan(
        &lockstep_cascade::Graph::new(g.packages.clone(), g.edges.clone(), repos).unwrap(),
        &request,
    )
    .unwrap();
    assert_ne!(moved.digest, a.digest);
    assert_eq!(moved.waves, a.waves);
    // Other options, other digest.
    assert_ne!(
        g.plan(&Request::new(["core"]).with_bump(Bump::Major))
            .digest,
        a.digest
    );
    // An edited plan no longer matches its digest.
    let mut edited = a.clone();
    edited.waves[1][0].to = crate::support::v("9.9.9");
    assert_ne!(edited.compute_digest(), edited.digest);
}

#[test]
fn json_round_trips_and_checks_the_schema() {
    let plan = chain().plan(&Request::new(["core"]).with_bump(Bump::Minor));
    let json = plan.to_json();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
    let wrong = json.replace("lockstep.cascade-plan/v1", "lockstep.cascade-plan/v9");
    let err = serde_json::from_str::<Plan>(&wrong).unwrap_err();
    assert!(
        err.to_string()
            .contains("schema `lockstep.cascade-plan/v9` is not `lockstep.cascade-plan/v1`"),
        "{err}"
    );
}

/// Every value in the plan is covered by the digest: change any one and it no longer matches.
#[test]
fn digest_covers_every_value() {
    fn leaves(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map {
                    path.push(k.clone());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            serde_json::Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    path.push(i.to_string());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let g = chain()
        .pkg_in("web", "web", Ecosystem::Npm, "1.0.0")
        .dep("web", "app", "^1.0")
        .dev("core", "app", "tag:v2.0.0")
        .dev("web", "core", "^1.0")
        .pkg("tests", "0.1.0")
        .dev("tests", "core", "^1");
    let mut repos = g.repos();
    for r in &mut repos {
        *r = r
            .clone()
            .with_smoke("./smoke.sh")
            .with_lockfile_command("cargo update");
    }
    let graph = lockstep_cascade::Graph::new(g.packages.clone(), g.edges.clone(), repos).unwrap();
    let plan = plan(
        &graph,
        &always(&Request::new(["core"]).with_bump(Bump::Minor)),
    )
    .unwrap();
    assert!(!plan.notes.is_empty() && plan.steps().all(|s| s.smoke.is_some()));
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    let mut paths = Vec::new();
    leaves(&json, &mut Vec::new(), &mut paths);
    let mut checked = 0;
    for path in paths {
        // `point_of_no_return` is derived from the steps, which the digest covers.
        if path == ["schema"] || path == ["digest"] || path == ["point_of_no_return"] {
            continue;
        }
        let pointer = format!("/{}", path.join("/"));
        let old = json.pointer(&pointer).unwrap().clone();
        let candidates = [
            serde_json::Value::String(format!("{}x", old.as_str().unwrap_or_default())),
            "9.9.9".into(),
            "npm".into(),
            "cargo".into(),
            "major".into(),
            "requirement".into(),
            "tag".into(),
            serde_json::Value::Null,
            serde_json::Value::Bool(!old.as_bool().unwrap_or(true)),
        ];
        let changed = candidates.into_iter().filter(|c| *c != old).find_map(|c| {
            let mut edited = json.clone();
            *edited.pointer_mut(&pointer).unwrap() = c;
            serde_json::from_value::<Plan>(edited).ok()
        });
        let changed = changed.unwrap_or_else(|| panic!("no valid change for {pointer}"));
        assert_ne!(
            changed.compute_digest(),
            plan.digest,
            "{pointer} is not covered by the digest"
        );
        checked += 1;
    }
    assert!(checked > 50, "only {checked} values checked");
}

#[test]
fn a_quiet_start_package_downstream_of_another_is_released() {
    check(
        &chain(),
        Request::new(["core", "mid"])
            .with_commits("core", ["fix: a"])
            .with_commits("mid", ["docs: b"]),
        "
        core 1.2.0 -> 1.2.1 patch [v1.2.1] fix commits since v1.2.0
        --
        mid 0.4.1 -> 0.4.2 patch [v0.4.2] pins core 1.2.0 → 1.2.1 | mid/Cargo.toml: core v1.2.0 -> v1.2.1
        --
        app 2.0.0 -> 2.0.1 patch [v2.0.1] pins mid 0.4.1 → 0.4.2 | app/Cargo.toml: mid v0.4.1 -> v0.4.2
        ",
    );
}
