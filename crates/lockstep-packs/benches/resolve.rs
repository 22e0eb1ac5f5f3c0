//! Resolving and searching a large pack index: 10,000 index entries (2,000 packs × 5 versions)
//! carrying 50,000 requirements, as `packs.json` text.
//!
//! Prints, for each measurement, the median of several runs:
//! - parse: `packs.json` text → entries (serde);
//! - resolve: building the problem and `pubgrub` choosing versions for 20 requested packs and
//!   everything they pull in, and the resolver's share of parse + resolve;
//! - search: `search_index` over every entry, against a baseline measured in the same run
//!   (a plain substring scan of the raw JSON text), as a ratio.
//!
//! `cargo bench -p lockstep-packs --bench resolve`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lockstep_packs::index::{self, Index, Needs};
use lockstep_packs::resolve::{Problem, resolve};
use lockstep_packs::search_index;
use lockstep_vocab::{Ecosystem, Requirement};
use semver::Version;

const PACKS: usize = 2_000;
const VERSIONS: u64 = 5;
const REQS_PER_ENTRY: usize = 5;

fn index_text() -> String {
    let mut packs = Vec::new();
    let mut state: u64 = 7;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    for i in 0..PACKS {
        for v in 0..VERSIONS {
            let mut requires = Vec::new();
            if i > 0 {
                let mut seen = Vec::new();
                while seen.len() < REQS_PER_ENTRY {
                    let dep = next(i);
                    if !seen.contains(&dep) {
                        seen.push(dep);
                    }
                    if seen.len() == i {
                        break;
                    }
                }
                for dep in seen {
                    // Mostly ^1 (any 1.x), some narrower, so the resolver backtracks at times.
                    let req = if next(10) == 0 { ">=1.2, <1.4" } else { "^1" };
                    requires.push(serde_json::json!({"name": format!("p{dep}"), "version": req}));
                }
            }
            let flavour = ["postgres", "kafka", "s3", "redis"][i % 4];
            let keyword = ["db", "queue", "storage", "cache"][i % 4];
            packs.push(serde_json::json!({
                "name": format!("p{i}"),
                "version": format!("1.{v}.0"),
                "description": format!("pack number {i}, {flavour} flavour"),
                "keywords": ["bench", keyword],
                "source": format!("/srv/packs/p{i}-1.{v}.0"),
                "sha256": "",
                "requires": requires,
                "core": {"min_core_version": "1.0.0", "max_core_version": "1.x.x"},
            }));
        }
    }
    serde_json::json!({"schema": 1, "packs": packs}).to_string()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() {
    let text = index_text();
    let reqs: usize = text.matches("\"version\":\"^1\"").count()
        + text.matches("\"version\":\">=1.2, <1.4\"").count();
    println!(
        "index: {} bytes, {} entries, {reqs} requirements",
        text.len(),
        PACKS as u64 * VERSIONS
    );

    let mut parse_t = Vec::new();
    let mut resolve_t = Vec::new();
    let mut chosen = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let entries = index::parse(&text, "bench", None).expect("the index parses");
        parse_t.push(t.elapsed());

        let t = Instant::now();
        let mut problem = Problem {
            core: Some(Version::new(1, 4, 0)),
            ..Problem::default()
        };
        let mut needs_of: BTreeMap<(String, Version), Needs> = BTreeMap::new();
        for e in &entries {
            problem
                .candidates
                .entry(e.name.clone())
                .or_default()
                .push(e.version.clone());
            needs_of.insert(
                (e.name.clone(), e.version.clone()),
                e.needs.clone().expect("the bench index gives needs"),
            );
        }
        for i in (PACKS - 20)..PACKS {
            problem.requested.push((
                format!("p{i}"),
                Requirement::parse("*", Ecosystem::Cargo).expect("* parses"),
            ));
        }
        let solution = resolve(&problem, &mut |name, version| {
            Ok(needs_of[&(name.to_owned(), version.clone())].clone())
        })
        .expect("the bench index resolves");
        resolve_t.push(t.elapsed());
        chosen = solution.len();
    }
    let (p, r) = (median(parse_t), median(resolve_t));
    println!("parse:   {p:>10.2?}");
    println!(
        "resolve: {r:>10.2?}  ({chosen} packs chosen; resolver share of parse + resolve: {:.0}%)",
        100.0 * r.as_secs_f64() / (p + r).as_secs_f64()
    );

    let index = Index::from_entries(index::parse(&text, "bench", None).expect("the index parses"));
    let mut search_t = Vec::new();
    let mut base_t = Vec::new();
    let mut hits = 0;
    for _ in 0..20 {
        let t = Instant::now();
        hits = search_index(&index, "Kafka", Some(&Version::new(1, 4, 0)), |_| None).len();
        search_t.push(t.elapsed());
        let t = Instant::now();
        let raw = text.to_lowercase().matches("kafka").count();
        base_t.push(t.elapsed());
        assert!(raw >= hits);
    }
    let (s, b) = (median(search_t), median(base_t));
    println!(
        "search:  {s:>10.2?}  ({hits} hits; baseline raw-text scan {b:.2?}, ratio {:.1}x)",
        s.as_secs_f64() / b.as_secs_f64()
    );
}
