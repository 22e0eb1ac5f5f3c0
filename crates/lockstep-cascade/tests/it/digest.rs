//! The digest the planner streams while it plans equals the definition written out in full:
//! the whole canonical encoding built first, then hashed at once.

use lockstep_cascade::{
    Bump, DepKind, Ecosystem, Edge, EditKind, Graph, PLAN_SCHEMA, Package, PinSpec, Plan,
    ReleaseDependents, Repo, Request, plan,
};
use proptest::prelude::*;
use semver::Version;
use sha2::{Digest, Sha256};

/// The encoding of `src/digest.rs`, from its documentation: every unsigned integer in LEB128
/// (seven bits a byte, least significant first, the high bit on every byte but the last),
/// every string as its length and its bytes, every list as its length and its items, every
/// option as a 0 or 1 byte and the value, every version as major, minor and patch then its
/// pre-release and build strings; fields in declaration order, then, for a step that is not
/// released, `edited-only` and why, and for a tag-versioned one `tag-versioned`; the schema
/// first, notes and heads last.
fn documented_digest(plan: &Plan) -> String {
    fn leb128(out: &mut Vec<u8>, n: u64) {
        let mut rest = n;
        loop {
            let low = (rest & 0x7f) as u8;
            rest >>= 7;
            if rest == 0 {
                out.push(low);
                return;
            }
            out.push(low | 0x80);
        }
    }
    fn len(out: &mut Vec<u8>, n: usize) {
        leb128(out, n as u64);
    }
    fn str(out: &mut Vec<u8>, s: &str) {
        len(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }
    fn opt(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                str(out, s);
            }
        }
    }
    fn version(out: &mut Vec<u8>, v: &Version) {
        for n in [v.major, v.minor, v.patch] {
            leb128(out, n);
        }
        str(out, v.pre.as_str());
        str(out, v.build.as_str());
    }

    let mut out = Vec::new();
    str(&mut out, PLAN_SCHEMA);
    len(&mut out, plan.waves.len());
    for wave in &plan.waves {
        len(&mut out, wave.len());
        for s in wave {
            str(&mut out, &s.package);
            str(&mut out, &s.repo);
            str(&mut out, s.ecosystem.as_str());
            str(&mut out, &s.manifest);
            version(&mut out, &s.from);
            version(&mut out, &s.to);
            str(&mut out, s.bump.as_str());
            str(&mut out, &s.reason);
            len(&mut out, s.pin_edits.len());
            for e in &s.pin_edits {
                str(&mut out, &e.file);
                str(&mut out, &e.dependency);
                str(&mut out, &e.from);
                str(&mut out, &e.to);
                str(
                    &mut out,
                    match e.kind {
                        EditKind::Requirement => "requirement",
                        EditKind::Tag => "tag",
                        other => panic!("an edit kind the digest does not know: {other:?}"),
                    },
                );
            }
            str(&mut out, &s.tag);
            opt(&mut out, s.lockfile_command.as_deref());
            opt(&mut out, s.smoke.as_deref());
            len(&mut out, s.upstreams.len());
            for u in &s.upstreams {
                str(&mut out, &u.package);
                version(&mut out, &u.version);
            }
            // A step that is only edited says so; a released one adds nothing.
            if !s.release {
                str(&mut out, "edited-only");
                opt(&mut out, s.why_not_released.as_deref());
            }
            // A package versioned by its tag only says so.
            if s.tag_versioned {
                str(&mut out, "tag-versioned");
            }
        }
    }
    len(&mut out, plan.notes.len());
    for n in &plan.notes {
        str(&mut out, n);
    }
    len(&mut out, plan.heads.len());
    for (repo, head) in &plan.heads {
        str(&mut out, repo);
        str(&mut out, head);
    }
    Sha256::digest(&out)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random landscape: `n` packages, each depending on up to `fan` earlier ones with every
/// kind of pin, some re-exports and unpublished packages (edited-only steps), repositories of
/// one to three packages, some with smoke and lockfile commands, a few pre-release and build
/// versions.
fn landscape(n: usize, fan: usize, seed: u64) -> (Graph, Vec<String>) {
    let mut state = seed;
    let mut next = move |below: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % below.max(1)
    };
    let name = |i: usize| format!("p{i:05}");
    let mut packages = Vec::with_capacity(n);
    let mut edges = Vec::new();
    for i in 0..n {
        let mut version = Version::new(next(3) as u64, next(12) as u64, next(9) as u64);
        match next(10) {
            0 => version.pre = semver::Prerelease::new("rc.1").unwrap(),
            1 => version.build = semver::BuildMetadata::new("build.7").unwrap(),
            _ => {}
        }
        let eco = [Ecosystem::Cargo, Ecosystem::Npm, Ecosystem::Python][next(3)];
        let mut p = Package::new(
            name(i),
            format!("r{}", i / (1 + i % 3)),
            eco,
            version,
            "Cargo.toml",
        );
        if i > 0 && next(8) == 0 {
            p = p.reexporting(name(next(i)));
        }
        if next(6) == 0 {
            p = p.unpublished();
        }
        if next(7) == 0 {
            p = p.tag_versioned();
        }
        packages.push(p);
        for _ in 0..if i == 0 { 0 } else { next(fan + 1) } {
            let d = i - 1 - next(i.min(30));
            let v = packages[d].version.clone();
            let pin = match next(6) {
                0 => PinSpec::GitTag(format!("v{v}")),
                1 => PinSpec::GitRev("0123abcd".into()),
                2 => PinSpec::Path("../dep".into()),
                3 => PinSpec::Requirement(format!("^{}.{}", v.major, v.minor)),
                4 => PinSpec::Requirement(format!("={v}")),
                _ => PinSpec::Requirement("latest".into()),
            };
            let kind = [
                DepKind::Normal,
                DepKind::Normal,
                DepKind::Build,
                DepKind::Dev,
            ][next(4)];
            edges.push(Edge::new(name(i), name(d), kind, pin, "Cargo.toml"));
        }
    }
    let mut repos: Vec<String> = packages.iter().map(|p| p.repo.clone()).collect();
    repos.sort();
    repos.dedup();
    let repos = repos
        .into_iter()
        .enumerate()
        .map(|(k, r)| {
            let repo = Repo::new(&r, format!("{k:040x}"));
            match k % 3 {
                0 => repo,
                1 => repo.with_smoke("./smoke.sh"),
                _ => repo
                    .with_smoke("make smoke")
                    .with_lockfile_command("cargo update --workspace"),
            }
        })
        .collect();
    let start = (0..n.min(3)).map(|_| name(next(n))).collect();
    (Graph::new(packages, edges, repos).unwrap(), start)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn streamed_digest_is_the_documented_one(
        n in 1usize..40,
        fan in 0usize..5,
        seed in any::<u64>(),
        bump in prop_oneof![Just(None), Just(Some(Bump::Minor)), Just(Some(Bump::Major))],
        exact in any::<bool>(),
        always in any::<bool>(),
    ) {
        let (graph, start) = landscape(n, fan, seed);
        let mut request = Request::new(start.clone()).with_exact_pins(exact);
        if always {
            request = request.with_release_dependents(ReleaseDependents::Always);
        }
        match bump {
            Some(b) => request = request.with_bump(b),
            None => {
                for (k, s) in start.iter().enumerate() {
                    request = request.with_commits(s, [["feat: x", "fix: y", "docs: z"][k % 3]]);
                }
            }
        }
        let plan = plan(&graph, &request).unwrap();
        prop_assert_eq!(&plan.digest, &documented_digest(&plan));
        prop_assert_eq!(plan.compute_digest(), plan.digest);
    }
}

/// A plan far larger than the encoder's 64 KiB buffer.
#[test]
fn streamed_digest_is_the_documented_one_on_a_large_plan() {
    let (graph, _) = landscape(3_000, 4, 7);
    let request = Request::new(["p00000", "p00001", "p00002"])
        .with_bump(Bump::Minor)
        .with_release_dependents(ReleaseDependents::Always);
    let plan = plan(&graph, &request).unwrap();
    let released = plan.steps().count();
    assert!(
        released > 200,
        "a large part of the graph is released: {released}"
    );
    assert_eq!(plan.digest, documented_digest(&plan));
    assert_eq!(plan.compute_digest(), plan.digest);
}

/// A plan large enough to be finished on a second thread (from 2,048 steps, on a machine with
/// two cores): every step's upstream list, which that thread adds, is checked against the
/// graph's edges read here, and the digest against the documented encoding.
#[test]
fn a_plan_finished_on_a_second_thread_lists_every_upstream() {
    let (graph, _) = landscape(6_000, 8, 11);
    let request = Request::new((0..20).map(|i| format!("p{i:05}")))
        .with_bump(Bump::Minor)
        .with_release_dependents(ReleaseDependents::Always);
    let plan = plan(&graph, &request).unwrap();
    let steps = plan.steps().count();
    assert!(
        steps >= 2_048,
        "large enough for the second thread: {steps} steps"
    );
    let released: std::collections::HashMap<&str, (usize, &semver::Version)> = plan
        .waves
        .iter()
        .enumerate()
        .flat_map(|(w, wave)| wave.iter().map(move |s| (s, w)))
        .filter(|(s, _)| s.release)
        .map(|(s, w)| (s.package.as_str(), (w, &s.to)))
        .collect();
    for (w, wave) in plan.waves.iter().enumerate() {
        for s in wave {
            let mut expected: Vec<(String, semver::Version)> = graph
                .dependencies(&s.package)
                .filter(|e| e.kind != DepKind::Dev)
                .map(|e| {
                    let current = &graph.package(&e.dependency).unwrap().version;
                    let version = match released.get(e.dependency.as_str()) {
                        Some(&(uw, to)) if uw < w => to.clone(),
                        _ => current.clone(),
                    };
                    (e.dependency.clone(), version)
                })
                .collect();
            expected.sort();
            expected.dedup();
            let listed: Vec<(String, semver::Version)> = s
                .upstreams
                .iter()
                .map(|u| (u.package.to_string(), u.version.clone()))
                .collect();
            assert_eq!(listed, expected, "upstreams of {}", s.package);
        }
    }
    assert_eq!(plan.digest, documented_digest(&plan));
    assert_eq!(plan.compute_digest(), plan.digest);
}
