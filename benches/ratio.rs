//! Same-run ratios for the crates' divan benchmarks (included by each `benches/*.rs` with
//! `#[path]`; not a crate of its own).
//!
//! divan prints each benchmark's fastest, slowest, median and mean, but does not hand its
//! figures back. So each benchmark body runs inside [`timed`], which records the body's
//! time under a key, and [`main`] runs divan and then prints, for each [`Ratio`], the
//! medians of both sides and their ratio. The benchmarks set `sample_size = 1`, so every
//! divan sample is one call and the recorded times are the samples of divan's table (less
//! divan's own few nanoseconds of overhead).
//!
//! `cargo test --benches` runs each benchmark once (divan's test mode): then no ratio is
//! printed. A filter (`cargo bench -p CRATE -- wide`) prints the ratios whose both sides ran.

#![allow(dead_code)] // each benchmark file uses the part it needs

use std::sync::Mutex;
use std::time::{Duration, Instant};

static SAMPLES: Mutex<Vec<(&str, Duration)>> = Mutex::new(Vec::new());

/// Runs `f`, recording its time under `key`.
pub fn timed<T>(key: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    SAMPLES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((key, elapsed));
    out
}

/// The median of the times recorded under `key` (the mean of the middle two when even).
pub fn median(key: &str) -> Option<Duration> {
    let mut times: Vec<Duration> = SAMPLES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|&(_, d)| d)
        .collect();
    if times.is_empty() {
        return None;
    }
    times.sort();
    let mid = times.len() / 2;
    Some(if times.len() % 2 == 1 {
        times[mid]
    } else {
        (times[mid - 1] + times[mid]) / 2
    })
}

/// What a ratio is held to.
#[derive(Clone, Copy)]
pub enum Target {
    /// No target: the ratio is for comparing across machines.
    None,
    /// The ratio must be at most this.
    AtMost(f64),
    /// The ratio must be at least this.
    AtLeast(f64),
}

/// One line of the summary: `num / den`, both medians of keys recorded with [`timed`].
pub struct Ratio {
    /// What is compared, as printed.
    pub what: &'static str,
    /// The numerator's key.
    pub num: &'static str,
    /// The denominator's key.
    pub den: &'static str,
    /// How many units of work one call of each side does (numerator, denominator): the ratio
    /// compares the time per unit. `(1, 1)` when both do the same job.
    pub per: (u64, u64),
    /// The target, if any.
    pub target: Target,
}

impl Ratio {
    /// `num / den` over the same job, without target.
    pub const fn new(what: &'static str, num: &'static str, den: &'static str) -> Self {
        Ratio {
            what,
            num,
            den,
            per: (1, 1),
            target: Target::None,
        }
    }

    /// The same ratio, held to `target`.
    pub const fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// The same ratio, over `num` and `den` units of work per call.
    pub const fn per(mut self, num: u64, den: u64) -> Self {
        self.per = (num, den);
        self
    }
}

/// A duration in the unit that suits it.
pub fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.2} µs", s * 1e6)
    }
}

/// Whether divan measures: `cargo bench` passes `--bench`; without it, or with `--test` or
/// `--list`, divan runs each benchmark once or only lists them.
pub fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list")
}

/// Runs divan, then prints each ratio whose both sides ran.
pub fn main(ratios: &[Ratio]) {
    divan::main();
    if !measuring() {
        return;
    }
    let lines: Vec<String> = ratios.iter().filter_map(line).collect();
    if lines.is_empty() {
        return;
    }
    println!("same-run ratios (medians of the samples above):");
    for l in lines {
        println!("  {l}");
    }
}

fn line(r: &Ratio) -> Option<String> {
    let (num, den) = (median(r.num)?, median(r.den)?);
    let per = |d: Duration, n: u64| d.as_secs_f64() / n as f64;
    let ratio = per(num, r.per.0) / per(den, r.per.1);
    let sides = if r.per == (1, 1) {
        format!("{} / {}", show(num), show(den))
    } else {
        format!(
            "{} for {} / {} for {}",
            show(num),
            r.per.0,
            show(den),
            r.per.1
        )
    };
    let verdict = match r.target {
        Target::None => String::new(),
        Target::AtMost(t) => {
            let ok = if ratio <= t { "ok" } else { "MISSED" };
            format!("  target <= {t}x: {ok}")
        }
        Target::AtLeast(t) => {
            let ok = if ratio >= t { "ok" } else { "MISSED" };
            format!("  target >= {t}x: {ok}")
        }
    };
    Some(format!(
        "ratio: {} = {ratio:.2}x  ({sides}){verdict}",
        r.what
    ))
}
