//! Planning a synthetic DAG of 10,000 packages and 50,000 edges, on divan (issue 9: `plan`,
//! digest included, under 20 ms on both shapes).
//!
//! `cargo bench -p lockstep-cascade` times, for two shapes of graph, "wide" (few, large
//! waves) and "deep" (many small waves):
//! - `graph_new`: `Graph::new`, validation, indexing, cycle check;
//! - `plan`: released set, waves, bumps, pin edits, tags, reasons, upstream lists, digest,
//!   from a root set that releases most of the graph; every plan is kept until the benchmark
//!   ends, so each call writes its plan (about 12 MB) to memory the process has never touched,
//!   page faults included, as the one planning run of a process does; this is the figure held
//!   to the 20 ms target. A plan this large is made on two threads when the machine has two
//!   cores (see the crate documentation); `taskset -c 0 cargo bench -p lockstep-cascade`
//!   gives the one-core figure, as the planner reads the cores it may use;
//! - `plan_warm`: the same call with the plan dropped inside the timed closure (the drop
//!   timed too), so the next call reuses the memory: what a long-running process that plans
//!   again and again pays, reported beside `plan`, not held to the target;
//! - `digest`: `Plan::compute_digest` alone (part of `plan`);
//! - `naive_ordering`, the same-run baseline for the ordering alone: the released set by
//!   rescanning the edge list until nothing changes, then waves by rescanning it once per wave
//!   (its waves are checked equal to the plan's before timing, so both sides do the same
//!   ordering job); its cost grows with the number of waves, the planner's does not;
//!
//! then prints the ratio naive / `plan` per shape, which is what to compare across machines.

use std::cell::RefCell;
use std::sync::LazyLock;

use divan::Bencher;
use lockstep_cascade::{
    Bump, DepKind, Ecosystem, Edge, Graph, Package, PinSpec, Plan, ReleaseDependents, Repo,
    Request, plan,
};
use semver::Version;

#[path = "../../../benches/ratio.rs"]
mod ratio;

use ratio::{Ratio, timed};

const PACKAGES: usize = 10_000;
const EDGES: usize = 50_000;
const PER_REPO: usize = 5;
const ROOTS: usize = 20;

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

/// One shape's inputs, its graph and plan, checked once before anything is timed.
struct Fixture {
    packages: Vec<Package>,
    edges: Vec<Edge>,
    repos: Vec<Repo>,
    graph: Graph,
    request: Request,
    plan: Plan,
    /// The ordering (normal, build) edges by index: (dependent, dependency).
    ordering: Vec<(usize, usize)>,
    roots: Vec<usize>,
}

impl Fixture {
    /// A dependency is chosen among the `window` packages before its dependent: the smaller
    /// the window, the deeper the graph (more waves).
    fn new(window: usize) -> Self {
        let (packages, edges, repos) = landscape(window);
        let graph = Graph::new(packages.clone(), edges.clone(), repos.clone())
            .expect("the synthetic graph is acyclic");
        // Every transitive dependent, as the naive ordering computes.
        let request = Request::new((0..ROOTS).map(name))
            .with_bump(Bump::Minor)
            .with_release_dependents(ReleaseDependents::Always);
        let plan = plan(&graph, &request).expect("plans");
        assert_eq!(plan.compute_digest(), plan.digest);
        let index = |n: &str| -> usize { n[4..].parse().expect("pkg-NNNNN") };
        let ordering: Vec<(usize, usize)> = edges
            .iter()
            .filter(|e| e.kind != DepKind::Dev)
            .map(|e| (index(&e.dependent), index(&e.dependency)))
            .collect();
        let roots: Vec<usize> = (0..ROOTS).collect();
        // Released steps only: a dev dependent whose requirement no longer admits a released
        // version is edited (not released) in a wave of its own choosing.
        let planned: Vec<Vec<usize>> = plan
            .waves
            .iter()
            .map(|w| {
                w.iter()
                    .filter(|s| s.release)
                    .map(|s| index(&s.package))
                    .collect::<Vec<usize>>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(
            naive_waves(&ordering, &roots),
            planned,
            "the naive ordering and the plan must agree"
        );
        Fixture {
            packages,
            edges,
            repos,
            graph,
            request,
            plan,
            ordering,
            roots,
        }
    }

    fn describe(&self, shape: &str) {
        let edits: usize = self.plan.steps().map(|s| s.pin_edits.len()).sum();
        println!(
            "{shape}: {PACKAGES} packages, {EDGES} edges ({} ordering), {} repositories; \
             releases {} packages (and edits {}) in {} waves, {edits} pin edits, {} notes, {:.1} MB as JSON",
            self.ordering.len(),
            self.repos.len(),
            self.plan.steps().filter(|s| s.release).count(),
            self.plan.edited_only.len(),
            self.plan.waves.len(),
            self.plan.notes.len(),
            self.plan.to_json().len() as f64 / 1e6
        );
    }
}

static WIDE: LazyLock<Fixture> = LazyLock::new(|| Fixture::new(400));
static DEEP: LazyLock<Fixture> = LazyLock::new(|| Fixture::new(25));

fn graph_new(bencher: Bencher, f: &Fixture, key: &'static str) {
    bencher
        .with_inputs(|| (f.packages.clone(), f.edges.clone(), f.repos.clone()))
        .bench_local_values(|(p, e, r)| {
            timed(key, || {
                Graph::new(p, e, r).expect("the synthetic graph is acyclic")
            })
        });
}

fn plan_all(bencher: Bencher, f: &Fixture, key: &'static str) {
    // Every plan is kept until the end: a planning run happens once in a process, so the
    // allocator's reuse of an earlier run's memory is no part of it.
    let kept = RefCell::new(Vec::new());
    bencher.bench_local(|| {
        let p = timed(key, || plan(&f.graph, &f.request).expect("plans"));
        kept.borrow_mut().push(p);
    });
}

fn plan_warm(bencher: Bencher, f: &Fixture, key: &'static str) {
    // Made and dropped in the timed call: the allocator hands the next call the same memory.
    bencher.bench_local(|| timed(key, || drop(plan(&f.graph, &f.request).expect("plans"))));
}

fn digest(bencher: Bencher, f: &Fixture, key: &'static str) {
    bencher.bench_local(|| timed(key, || f.plan.compute_digest()));
}

fn naive_ordering(bencher: Bencher, f: &Fixture, key: &'static str) {
    bencher.bench_local(|| timed(key, || naive_waves(&f.ordering, &f.roots)));
}

/// One divan group per shape: `$fixture`'s four benchmarks, keyed `$shape/NAME`.
macro_rules! shape {
    ($module:ident, $fixture:ident) => {
        #[divan::bench_group(sample_size = 1)]
        mod $module {
            use divan::Bencher;

            #[divan::bench(sample_count = 11)]
            fn graph_new(bencher: Bencher) {
                super::graph_new(
                    bencher,
                    &super::$fixture,
                    concat!(stringify!($module), "/graph_new"),
                );
            }

            #[divan::bench(sample_count = 11)]
            fn plan(bencher: Bencher) {
                super::plan_all(
                    bencher,
                    &super::$fixture,
                    concat!(stringify!($module), "/plan"),
                );
            }

            #[divan::bench(sample_count = 11)]
            fn plan_warm(bencher: Bencher) {
                super::plan_warm(
                    bencher,
                    &super::$fixture,
                    concat!(stringify!($module), "/plan_warm"),
                );
            }

            #[divan::bench(sample_count = 11)]
            fn digest(bencher: Bencher) {
                super::digest(
                    bencher,
                    &super::$fixture,
                    concat!(stringify!($module), "/digest"),
                );
            }

            #[divan::bench(sample_count = 5)]
            fn naive_ordering(bencher: Bencher) {
                super::naive_ordering(
                    bencher,
                    &super::$fixture,
                    concat!(stringify!($module), "/naive_ordering"),
                );
            }
        }
    };
}

shape!(wide, WIDE);
shape!(deep, DEEP);

fn main() {
    if cfg!(debug_assertions) && ratio::measuring() {
        eprintln!("warning: built without optimisations; run `cargo bench -p lockstep-cascade`");
    }
    WIDE.describe("wide");
    DEEP.describe("deep");
    ratio::main(&[
        Ratio::new(
            "wide naive_ordering / plan",
            "wide/naive_ordering",
            "wide/plan",
        ),
        Ratio::new(
            "deep naive_ordering / plan",
            "deep/naive_ordering",
            "deep/plan",
        ),
    ]);
    if !ratio::measuring() {
        return;
    }
    for shape in ["wide", "deep"] {
        let key = |what: &str| format!("{shape}/{what}");
        if let (Some(g), Some(p), warm) = (
            ratio::median(&key("graph_new")),
            ratio::median(&key("plan")),
            ratio::median(&key("plan_warm")),
        ) {
            let verdict = if p.as_secs_f64() < 0.020 {
                "ok"
            } else {
                "MISSED"
            };
            println!(
                "  {shape}: plan (digest included) {}, target < 20 ms: {verdict}; Graph::new + plan {}; \
                 plan_warm (dropped in the call) {}",
                ratio::show(p),
                ratio::show(g + p),
                warm.map_or_else(|| "not run".to_owned(), ratio::show)
            );
        }
    }
}
