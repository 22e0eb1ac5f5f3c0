//! `resolve` for 10,000 organisations × 20 components, from the state database.
//!
//! Builds a store with 20 components (two known-good versions each on stable, one
//! quarantined), 10,000 organisations and a pin for one organisation-component pair in ten
//! (half of them expired), then resolves every pair once: 200,000 calls. Prints the per-call
//! time (mean, p50, p99) and, as the baseline measured in the same run, the time of the
//! cheapest possible database answer: one primary-key lookup of the pin through a cached
//! statement. Run with `cargo bench -p lockstep-fleet --bench resolve`.

use std::time::{Duration, Instant};

use lockstep_fleet::pins::resolve_in;
use lockstep_fleet::spec::Channel;
use lockstep_store::{Store, fleet as db, rusqlite::params};

const ORGS: usize = 10_000;
const COMPONENTS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("state.db"))?;
    let now = 1_800_000_000_i64;
    let built = Instant::now();
    {
        let tx = store.conn_mut().transaction()?;
        for c in 0..COMPONENTS {
            let component = format!("component-{c:02}");
            for v in ["1.0.0", "1.1.0", "1.2.0"] {
                db::promote(
                    &tx,
                    &component,
                    "stable",
                    v,
                    "bench",
                    None,
                    "2026-01-01T00:00:00Z",
                )?;
            }
            db::quarantine(
                &tx,
                &component,
                "1.2.0",
                "bench",
                "bench",
                "2026-01-01T00:00:00Z",
            )?;
        }
        for o in 0..ORGS {
            for c in 0..COMPONENTS {
                if (o * COMPONENTS + c).is_multiple_of(10) {
                    let expires = if o.is_multiple_of(2) {
                        now + 86_400
                    } else {
                        now - 86_400
                    };
                    let pin = db::Pin::new(
                        format!("org-{o:05}"),
                        format!("component-{c:02}"),
                        "1.0.0",
                        "bench",
                        Some(expires),
                        "bench",
                        "2026-01-01T00:00:00Z",
                    );
                    db::set_pin(&tx, &pin)?;
                }
            }
        }
        tx.commit()?;
    }
    println!(
        "store: {ORGS} organisations × {COMPONENTS} components, {} pins, built in {:.1?}",
        ORGS * COMPONENTS / 10,
        built.elapsed()
    );

    let conn = store.conn();
    let pairs: Vec<(String, String)> = (0..ORGS)
        .flat_map(|o| {
            (0..COMPONENTS).map(move |c| (format!("org-{o:05}"), format!("component-{c:02}")))
        })
        .collect();

    // Warm up the statement cache and the page cache.
    for (org, component) in pairs.iter().take(2_000) {
        resolve_in(conn, org, component, Channel::Stable, now)?;
    }

    let mut baseline = Vec::with_capacity(pairs.len());
    for (org, component) in &pairs {
        let t = Instant::now();
        let mut stmt = conn
            .prepare_cached("SELECT version FROM fleet_pins WHERE org = ?1 AND component = ?2")?;
        let _found: Option<String> = stmt.query_row(params![org, component], |r| r.get(0)).ok();
        baseline.push(t.elapsed());
    }

    let mut times = Vec::with_capacity(pairs.len());
    let mut by_pin = 0usize;
    for (org, component) in &pairs {
        let t = Instant::now();
        let r = resolve_in(conn, org, component, Channel::Stable, now)?;
        times.push(t.elapsed());
        if r.why == Some(lockstep_fleet::pins::Why::Pin) {
            by_pin += 1;
        }
        assert!(r.version.is_some());
    }
    assert_eq!(
        by_pin,
        pairs.len() / 20,
        "valid pins win, expired ones do not"
    );

    let (mean, p50, p99) = stats(&mut times);
    let (bmean, bp50, bp99) = stats(&mut baseline);
    println!(
        "resolve:  {} calls, per call mean {mean:.1?}, p50 {p50:.1?}, p99 {p99:.1?}",
        times.len()
    );
    println!("baseline (one primary-key lookup): mean {bmean:.1?}, p50 {bp50:.1?}, p99 {bp99:.1?}");
    println!(
        "ratio resolve / baseline (mean): {:.2}",
        mean.as_secs_f64() / bmean.as_secs_f64()
    );
    println!(
        "target: well under 1 ms per call: {}",
        if p99 < Duration::from_micros(500) {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

fn stats(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    times.sort();
    let total: Duration = times.iter().sum();
    let mean = total / u32::try_from(times.len()).unwrap_or(u32::MAX);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (mean, at(0.5), at(0.99))
}
