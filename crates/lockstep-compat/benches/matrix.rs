//! The compatibility matrix at scale: 1,000 releases × 1,000 verticals = 1,000,000 checks,
//! on divan.
//!
//! `cargo bench -p lockstep-compat` times, from one run on one thread:
//! - `prepared`: `Matrix::new` over the whole landscape, preparation (ranks, capability
//!   bitsets) included;
//! - `checker_codes`: 1,000,000 `Checker::codes` calls on pre-parsed values, for reference;
//! - `naive`, the same-run baseline: parse the version, bound and contracts strings inside
//!   every check, then apply the same rules, over a 100 × 1,000 slice (its results are checked
//!   equal to the matrix cells before timing, so both sides do the same job);
//!
//! then prints the ratio naive / prepared per check, which is what to compare across machines.
//!
//! Targets (issue 2): under 50 ms in total and under 50 ns a check, in release mode.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::str::FromStr;
use std::sync::LazyLock;

use divan::Bencher;

use lockstep_compat::{Checker, Matrix, Policy, ReasonCode, ReasonSet, Status};
use lockstep_manifest::{Channel, Release, VersionBound, VerticalManifest, VerticalStatus};
use semver::Version;

#[path = "../../../benches/ratio.rs"]
mod ratio;

use ratio::{Ratio, timed};

const RELEASES: usize = 1_000;
const VERTICALS: usize = 1_000;
const NAIVE_RELEASES: usize = 100;
const CHECKS: usize = RELEASES * VERTICALS;
const NAIVE_CHECKS: usize = NAIVE_RELEASES * VERTICALS;

/// splitmix64: a fixed seed gives the same landscape on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What the naive check starts from: the strings as they stand in the files.
struct RawRelease {
    version: String,
    contracts: Option<String>,
    channel: Channel,
    capabilities: Vec<String>,
    deprecated: Vec<String>,
}

struct RawVertical {
    min: String,
    max: String,
    contracts_major: u64,
    channel: Channel,
    active: bool,
    required: Vec<String>,
}

const AREAS: &[&str] = &[
    "ledger", "audit", "fx", "auth", "billing", "search", "events", "storage", "reports", "notify",
    "tenancy", "export",
];

/// 48 capabilities (12 areas × v1..v4); each lives from its introduction to its removal and is
/// deprecated for a while before that. Time is `major * 20 + minor`.
struct Capability {
    name: String,
    intro: u64,
    deprecated: u64,
    removed: u64,
}

fn capabilities(rng: &mut Rng) -> Vec<Capability> {
    let mut caps = Vec::new();
    for area in AREAS {
        let mut t = rng.below(20);
        for n in 1..=4 {
            let life = 15 + rng.below(40);
            let deprecated = t + life;
            caps.push(Capability {
                name: format!("{area}.v{n}"),
                intro: t,
                deprecated,
                removed: deprecated + 2 + rng.below(10),
            });
            t += 10 + rng.below(25);
        }
    }
    caps
}

fn releases(rng: &mut Rng, caps: &[Capability]) -> Vec<RawRelease> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(RELEASES);
    while out.len() < RELEASES {
        let (major, minor, patch) = (rng.below(6), rng.below(20), rng.below(10));
        let pre = rng.chance(15).then(|| {
            let kind = ["alpha", "beta", "rc"][rng.below(3) as usize];
            format!("{kind}.{}", 1 + rng.below(5))
        });
        let version = match &pre {
            Some(p) => format!("{major}.{minor}.{patch}-{p}"),
            None => format!("{major}.{minor}.{patch}"),
        };
        if !seen.insert(version.clone()) {
            continue;
        }
        let channel = match (&pre, rng.below(100)) {
            (Some(_), x) if x < 70 => Channel::Beta,
            (Some(_), _) => Channel::Canary,
            (None, x) if x < 10 => Channel::Lts,
            (None, x) if x < 90 => Channel::Stable,
            (None, x) if x < 95 => Channel::Beta,
            (None, _) => Channel::Canary,
        };
        let t = major * 20 + minor;
        let live = |c: &&Capability| c.intro <= t && t < c.removed;
        out.push(RawRelease {
            version,
            // A few releases (GitHub tags without release.json) do not say.
            contracts: (!rng.chance(3)).then(|| format!("{major}.{}.0", minor / 2)),
            channel,
            capabilities: caps.iter().filter(live).map(|c| c.name.clone()).collect(),
            deprecated: caps
                .iter()
                .filter(live)
                .filter(|c| c.deprecated <= t)
                .map(|c| c.name.clone())
                .collect(),
        });
    }
    out
}

fn verticals(rng: &mut Rng, caps: &[Capability]) -> Vec<RawVertical> {
    let mut out = Vec::with_capacity(VERTICALS);
    while out.len() < VERTICALS {
        let a = rng.below(6);
        let m = rng.below(20);
        let min = match rng.below(10) {
            0..=3 => format!("{a}.{m}.0"),
            4..=6 => format!("{a}.x.x"),
            7..=8 => format!("{a}.{m}.x"),
            _ => "*".to_owned(),
        };
        let b = (a + rng.below(2)).min(5);
        let max = match rng.below(10) {
            0..=4 => format!("{b}.x.x"),
            5..=7 => format!("{b}.{}.{}", m + rng.below(20 - m), rng.below(10)),
            8 => format!("{b}.{}.x", m + rng.below(20 - m)),
            _ => "*".to_owned(),
        };
        // A vertical needs capabilities that were live when it was written (at its minimum),
        // and now and then one that its range never offered.
        let t = a * 20 + m;
        let live: Vec<&Capability> = caps
            .iter()
            .filter(|c| c.intro <= t && t < c.removed)
            .collect();
        let required = (0..rng.below(6))
            .map(|_| {
                if live.is_empty() || rng.chance(5) {
                    caps[rng.below(caps.len() as u64) as usize].name.clone()
                } else {
                    live[rng.below(live.len() as u64) as usize].name.clone()
                }
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        out.push(RawVertical {
            min,
            max,
            contracts_major: if rng.chance(85) { a } else { rng.below(6) },
            channel: match rng.below(10) {
                0..=5 => Channel::Stable,
                6 => Channel::Lts,
                7..=8 => Channel::Beta,
                _ => Channel::Canary,
            },
            active: rng.chance(85),
            required,
        });
    }
    out
}

fn to_release(r: &RawRelease) -> Release {
    let mut rel = Release::new(
        Version::parse(&r.version).expect("generated versions are SemVer"),
        r.channel,
    );
    rel.contracts_version = r
        .contracts
        .as_deref()
        .map(|c| Version::parse(c).expect("generated contracts versions are SemVer"));
    rel.capabilities = r.capabilities.clone();
    rel.deprecated_capabilities = r.deprecated.clone();
    rel
}

fn to_manifest(v: &RawVertical, i: usize, rng: &mut Rng) -> VerticalManifest {
    let status = if v.active {
        "active"
    } else if rng.chance(60) {
        "deprecated"
    } else {
        "experimental"
    };
    let mut y = format!(
        "domain_name: vertical-{i}\ndomain_version: 1.0.0\nstatus: {status}\ncompatibility:\n  \
         min_core_version: \"{}\"\n  max_core_version: \"{}\"\n  contracts_major: {}\n  \
         update_channel: {}\n",
        v.min, v.max, v.contracts_major, v.channel
    );
    if !v.required.is_empty() {
        y.push_str("  required_capabilities:\n");
        for c in &v.required {
            y.push_str(&format!("    - {c}\n"));
        }
    }
    y.push_str("ownership:\n  team: t\n  tech_lead: l\n  contact: l@example.com\n");
    VerticalManifest::parse(&y)
        .unwrap_or_else(|e| panic!("generated manifest is valid: {e:?}\n{y}"))
}

/// The naive check: every string parsed inside every check, then the same rules.
/// `newest_minor` is the newest final minor per major (the landscape, computed once).
fn naive(
    r: &RawRelease,
    v: &RawVertical,
    newest_minor: &BTreeMap<u64, u64>,
    window: u64,
) -> ReasonSet {
    let version = Version::parse(&r.version).expect("valid");
    let min = VersionBound::from_str(&v.min).expect("valid");
    let max = VersionBound::from_str(&v.max).expect("valid");
    let contracts = r
        .contracts
        .as_deref()
        .map(|c| Version::parse(c).expect("valid"));
    let mut set = ReasonSet::EMPTY;
    let mut add = |code, cond: bool| {
        if cond {
            set.insert(code);
        }
    };
    add(ReasonCode::CoreBelowMin, !min.admits_from_below(&version));
    add(ReasonCode::CoreAboveMax, !max.admits_from_above(&version));
    add(
        ReasonCode::ContractsMajorMismatch,
        contracts.is_some_and(|c| c.major != v.contracts_major),
    );
    add(
        ReasonCode::CapabilityMissing,
        v.required.iter().any(|c| !r.capabilities.contains(c)),
    );
    add(
        ReasonCode::CapabilityDeprecated,
        v.required.iter().any(|c| r.deprecated.contains(c)),
    );
    add(ReasonCode::ChannelMismatch, !v.channel.sees(r.channel));
    add(
        ReasonCode::Prerelease,
        !version.pre.is_empty() && matches!(v.channel, Channel::Stable | Channel::Lts),
    );
    add(ReasonCode::VerticalNotActive, !v.active);
    add(
        ReasonCode::OutsideSupportWindow,
        newest_minor
            .get(&version.major)
            .is_some_and(|&n| n.saturating_sub(version.minor) > window),
    );
    set
}

/// The landscape, raw and parsed, checked once before anything is timed.
struct Fixture {
    caps: usize,
    raw_releases: Vec<RawRelease>,
    raw_verticals: Vec<RawVertical>,
    releases: Vec<Release>,
    manifests: Vec<VerticalManifest>,
    policy: Policy,
    newest_minor: BTreeMap<u64, u64>,
    matrix: Matrix,
}

impl Fixture {
    fn new() -> Self {
        let mut rng = Rng(0x5eed_1ead_5eed_1ead);
        let caps = capabilities(&mut rng);
        let raw_releases = releases(&mut rng, &caps);
        let raw_verticals = verticals(&mut rng, &caps);
        let releases: Vec<Release> = raw_releases.iter().map(to_release).collect();
        let manifests: Vec<VerticalManifest> = raw_verticals
            .iter()
            .enumerate()
            .map(|(i, v)| to_manifest(v, i, &mut rng))
            .collect();
        let policy = Policy::default();
        let matrix = Matrix::new(&releases, &manifests, policy.clone());

        let checker = Checker::new(&releases, policy.clone());
        for (ri, r) in releases.iter().enumerate() {
            for (vi, m) in manifests.iter().enumerate() {
                assert_eq!(
                    checker.codes(r, m),
                    matrix.cell(ri, vi),
                    "Checker::codes and Matrix disagree"
                );
            }
        }

        let mut newest: BTreeMap<u64, Version> = BTreeMap::new();
        for r in releases.iter().filter(|r| r.version.pre.is_empty()) {
            let slot = newest.entry(r.version.major).or_insert(r.version.clone());
            if r.version > *slot {
                *slot = r.version.clone();
            }
        }
        let newest_minor: BTreeMap<u64, u64> = newest.iter().map(|(&k, v)| (k, v.minor)).collect();
        let fixture = Fixture {
            caps: caps.len(),
            raw_releases,
            raw_verticals,
            releases,
            manifests,
            policy,
            newest_minor,
            matrix,
        };
        assert_eq!(
            fixture.naive_cells(),
            fixture.matrix.cells()[..NAIVE_CHECKS],
            "the naive check and the matrix must compute the same thing"
        );
        fixture
    }

    /// The naive check over the first `NAIVE_RELEASES` rows.
    fn naive_cells(&self) -> Vec<ReasonSet> {
        let mut cells = Vec::with_capacity(NAIVE_CHECKS);
        for r in &self.raw_releases[..NAIVE_RELEASES] {
            for v in &self.raw_verticals {
                cells.push(naive(
                    black_box(r),
                    black_box(v),
                    &self.newest_minor,
                    self.policy.support_window,
                ));
            }
        }
        cells
    }

    fn describe(&self) {
        let mut tally = [0usize; 3];
        let mut by_code = [0usize; ReasonCode::ALL.len()];
        for c in self.matrix.cells() {
            tally[match c.status() {
                Status::Compatible => 0,
                Status::CompatibleWithWarnings => 1,
                Status::Blocked => 2,
            }] += 1;
            for code in c.iter() {
                by_code[code as usize] += 1;
            }
        }
        println!(
            "compat matrix: {RELEASES} releases x {VERTICALS} verticals = {CHECKS} checks, one thread; naive over {NAIVE_RELEASES} x {VERTICALS}"
        );
        println!(
            "  landscape: {} capabilities, {} pre-releases, {} inactive verticals; cells: {} compatible, {} with warnings, {} blocked",
            self.caps,
            self.releases
                .iter()
                .filter(|r| !r.version.pre.is_empty())
                .count(),
            self.manifests
                .iter()
                .filter(|m| m.status != VerticalStatus::Active)
                .count(),
            tally[0],
            tally[1],
            tally[2]
        );
        let codes_line: Vec<String> = ReasonCode::ALL
            .iter()
            .zip(by_code)
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        println!("  codes: {}", codes_line.join(", "));
    }
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(Fixture::new);

#[divan::bench_group(sample_size = 1)]
mod matrix {
    use super::*;

    /// `Matrix::new` over the whole landscape, preparation included.
    #[divan::bench(sample_count = 9)]
    fn prepared(bencher: Bencher) {
        let f = &*FIXTURE;
        bencher.bench_local(|| {
            timed("prepared", || {
                Matrix::new(
                    black_box(&f.releases),
                    black_box(&f.manifests),
                    f.policy.clone(),
                )
            })
        });
    }

    /// `Checker::codes` on every pair, pre-parsed values.
    #[divan::bench(sample_count = 5)]
    fn checker_codes(bencher: Bencher) {
        let f = &*FIXTURE;
        let checker = Checker::new(&f.releases, f.policy.clone());
        bencher.bench_local(|| {
            timed("checker_codes", || {
                let mut blocked = 0usize;
                for r in &f.releases {
                    for m in &f.manifests {
                        let codes = checker.codes(black_box(r), black_box(m));
                        blocked += usize::from(codes.status() == Status::Blocked);
                    }
                }
                blocked
            })
        });
    }

    /// The baseline: strings parsed inside every check, over `NAIVE_RELEASES` rows.
    #[divan::bench(sample_count = 5)]
    fn naive(bencher: Bencher) {
        let f = &*FIXTURE;
        bencher.bench_local(|| timed("naive", || f.naive_cells()));
    }
}

fn main() {
    if cfg!(debug_assertions) && ratio::measuring() {
        eprintln!("warning: built without optimisations; run `cargo bench -p lockstep-compat`");
    }
    FIXTURE.describe();
    let checks = CHECKS as u64;
    ratio::main(&[
        Ratio::new("naive / prepared, per check", "naive", "prepared")
            .per(NAIVE_CHECKS as u64, checks),
        Ratio::new("Checker::codes / prepared", "checker_codes", "prepared"),
    ]);
    if let Some(prepared) = ratio::median("prepared").filter(|_| ratio::measuring()) {
        let per_check = prepared.as_secs_f64() * 1e9 / CHECKS as f64;
        let ok = |pass: bool| if pass { "ok" } else { "MISSED" };
        println!(
            "  prepared: {} for {CHECKS} checks = {per_check:.2} ns/check   [< 50 ms: {}, < 50 ns/check: {}]",
            ratio::show(prepared),
            ok(prepared.as_secs_f64() < 0.050),
            ok(per_check < 50.0)
        );
    }
}
