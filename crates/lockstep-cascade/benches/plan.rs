//! Planning a synthetic DAG of 10,000 packages and 50,000 edges (issue 4: under 100 ms).
//!
//! `cargo bench -p lockstep-cascade` prints, from one run on one thread:
//! - `Graph::new`: validation, indexing, cycle check;
//! - `plan`: released set, waves, bumps, pin edits, tags, digest, from a root set that
//!   releases most of the graph;
//! - a naive baseline for the ordering alone: the released set by rescanning the edge list
//!   until nothing changes, then waves by rescanning it once per wave (its waves are asserted
//!   equal to the plan's, so both sides do the same ordering job);
//! - the ratio naive / `plan`, which is what to compare across machines;
//!
//! for two shapes of graph: "wide" (few, large waves) and "deep" (many small waves), where
//! the naive way's cost grows with the number of waves and the planner's does not.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lockstep_cascade::{
    Bump, DepKind, Ecosystem, Edge, Graph, Package, PinSpec, Repo, Request, plan,
};
use semver::Version;

const PACKAGES: usize = 10_000;
const EDGES: usize = 50_000;
const PER_REPO: usize = 5;
/// A dependency is chosen among the `window` packages before its dependent: the smaller
/// the window, the deeper the graph (more waves).
const SHAPES: [(&str, usize); 2] = [("wide", 400), ("deep", 25)];
const ROOTS: usize = 20;
const RUNS: usize = 11;

/// splitmix64: a fixed seed gives the same graph on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn name(i: usize) -> String {
    format!("pkg-{i:05}")
}

fn landscape(window: usize) -> (Vec<Package>, Vec<Edge>, Vec<Repo>) {
    let mut rng = Rng(0x0c45_cade_5eed_0001);
    let packages: Vec<Package> = (0..PACKAGES)
        .map(|i| {
            let version = Version::new(
                rng.below(3) as u64,
                rng.below(20) as u64,
                rng.below(10) as u64,
            );
            let eco = [
                Ecosystem::Cargo,
                Ecosystem::Cargo,
                Ecosystem::Npm,
                Ecosystem::Python,
            ][rng.below(4)];
            Package::new(
                name(i),
                format!("repo-{:04}", i / PER_REPO),
                eco,
                version,
                "Cargo.toml",
            )
        })
        .collect();
    let mut edges = Vec::with_capacity(EDGES);
    while edges.len() < EDGES {
        let dependent = 1 + rng.below(PACKAGES - 1);
        let dependency = dependent - 1 - rng.below(dependent.min(window));
        let v = &packages[dependency].version;
        let pin = match rng.below(10) {
            0..=3 => PinSpec::GitTag(format!("v{v}")),
            4..=6 => PinSpec::Requirement(format!("^{}.{}", v.major, v.minor)),
            7 => PinSpec::GitRev("9fceb02d0ae598e95dc970b74767f19372d61af8".into()),
            8 => PinSpec::Path("../dep".into()),
            _ => PinSpec::Requirement(format!(">={v}, <{}", v.major + 1)),
        };
        let kind = match rng.below(20) {
            0..=16 => DepKind::Normal,
            17 => DepKind::Build,
            _ => DepKind::Dev,
        };
        edges.push(Edge::new(
            name(dependent),
            name(dependency),
            kind,
            pin,
            "Cargo.toml",
        ));
    }
    let repos = (0..PACKAGES.div_ceil(PER_REPO))
        .map(|r| {
            Repo::new(format!("repo-{r:04}"), format!("{r:040x}"))
                .with_smoke("./smoke_tests/run.sh")
                .with_lockfile_command("cargo update --workspace")
        })
        .collect();
    (packages, edges, repos)
}

/// The ordering job done the obvious way, by indices (no string lookups in the loops).
fn naive_waves(edges: &[(usize, usize)], roots: &[usize]) -> Vec<Vec<usize>> {
    let mut released = vec![false; PACKAGES];
    for &r in roots {
        released[r] = true;
    }
    loop {
        let mut changed = false;
        for &(dependent, dependency) in edges {
            if released[dependency] && !released[dependent] {
                released[dependent] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut placed = vec![false; PACKAGES];
    let mut left: usize = released.iter().filter(|&&r| r).count();
    let mut waves = Vec::new();
    while left > 0 {
        let mut blocked = vec![false; PACKAGES];
        for &(dependent, dependency) in edges {
            if released[dependency] && !placed[dependency] {
                blocked[dependent] = true;
            }
        }
        let wave: Vec<usize> = (0..PACKAGES)
            .filter(|&p| released[p] && !placed[p] && !blocked[p])
            .collect();
        for &p in &wave {
            placed[p] = true;
        }
        left -= wave.len();
        waves.push(wave);
    }
    waves
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    if cfg!(debug_assertions) {
        eprintln!("warning: built without optimisations; run `cargo bench -p lockstep-cascade`");
    }
    for (shape, window) in SHAPES {
        run(shape, window);
    }
}

fn run(shape: &str, window: usize) {
    let (packages, edges, repos) = landscape(window);
    let request = Request::new((0..ROOTS).map(name)).with_bump(Bump::Minor);

    // Every result is kept until the end: a planning run happens once in a process, so the
    // allocator's clean-up of earlier runs is no part of it.
    let mut graph_times = Vec::with_capacity(RUNS);
    let mut graphs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (p, e, r) = (packages.clone(), edges.clone(), repos.clone());
        let start = Instant::now();
        let graph = black_box(Graph::new(p, e, r).expect("the synthetic graph is acyclic"));
        graph_times.push(start.elapsed());
        graphs.push(graph);
    }
    let graph = &graphs[0];

    let mut plan_times = Vec::with_capacity(RUNS);
    let mut plans = vec![plan(graph, &request).expect("plans")]; // warm-up
    for _ in 0..RUNS {
        let start = Instant::now();
        let next = black_box(plan(black_box(graph), black_box(&request)).expect("plans"));
        plan_times.push(start.elapsed());
        plans.push(next);
    }
    let result = &plans[0];

    let ordering: Vec<(usize, usize)> = edges
        .iter()
        .filter(|e| e.kind != DepKind::Dev)
        .map(|e| {
            (
                e.dependent[4..].parse().expect("pkg-NNNNN"),
                e.dependency[4..].parse().expect("pkg-NNNNN"),
            )
        })
        .collect();
    let roots: Vec<usize> = (0..ROOTS).collect();
    let mut naive_times = Vec::with_capacity(3);
    let mut naive = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        naive = black_box(naive_waves(black_box(&ordering), &roots));
        naive_times.push(start.elapsed());
    }
    let planned: Vec<Vec<usize>> = result
        .waves
        .iter()
        .map(|w| {
            w.iter()
                .map(|s| s.package[4..].parse().expect("pkg-NNNNN"))
                .collect()
        })
        .collect();
    assert_eq!(naive, planned, "the naive ordering and the plan must agree");

    let start = Instant::now();
    let digest = black_box(result.compute_digest());
    let digest_time = start.elapsed();
    assert_eq!(digest, result.digest);
    let released = result.steps().count();
    let edits: usize = result.steps().map(|s| s.pin_edits.len()).sum();
    let (g, p, n) = (median(graph_times), median(plan_times), median(naive_times));
    println!(
        "{shape}: {PACKAGES} packages, {EDGES} edges ({} ordering), {} repositories",
        ordering.len(),
        repos.len()
    );
    println!(
        "  released {released} packages in {} waves, {edits} pin edits, {} notes",
        result.waves.len(),
        result.notes.len()
    );
    println!("  Graph::new           {:8.2} ms (median of {RUNS})", ms(g));
    println!("  plan                 {:8.2} ms (median of {RUNS})", ms(p));
    println!(
        "    of which digest    {:8.2} ms (the plan is {:.1} MB as JSON)",
        ms(digest_time),
        result.to_json().len() as f64 / 1e6
    );
    println!(
        "  Graph::new + plan    {:8.2} ms   target < 100 ms",
        ms(g + p)
    );
    println!("  naive ordering only  {:8.2} ms (median of 3)", ms(n));
    println!(
        "  ratio naive / plan   {:8.1}x",
        n.as_secs_f64() / p.as_secs_f64()
    );
}
