//! The dashboard at fleet scale: 1,000 verticals and 100,000 audit records.
//!
//! `cargo bench -p lockstep-dashboard` builds the fleet in a temp dir (each vertical its own
//! work tree with a 100-record audit log spread over a year, written directly as JSON lines:
//! the dashboard parses records but does not verify the chain), then prints:
//! - `collect` (read and parse every log, compute the figures), `render` and `write` times;
//! - the page's size;
//! - the page's load time in headless Chromium (`--dump-dom`, process start to exit), next to
//!   the same for a one-line page in the same run, and the difference: what the page itself
//!   costs. Skipped when Chromium is not at `LOCKSTEP_CHROMIUM` or `/usr/bin/chromium`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lockstep_dashboard::{Inputs, VerticalInput, collect, render};

const VERTICALS: usize = 1_000;
const RECORDS_PER_VERTICAL: usize = 100;
const T0: i64 = 1_764_000_000;

fn write_log(root: &Path, i: usize) -> PathBuf {
    let dir = root.join(format!("v{i:04}"));
    std::fs::create_dir_all(dir.join(".git")).expect("temp dir is writable");
    std::fs::create_dir_all(dir.join(".lockstep")).expect("temp dir is writable");
    let manifest = dir.join("vertical_manifest.yaml");
    std::fs::write(&manifest, format!("domain_name: v{i:04}\n")).expect("writable");
    let mut text = String::new();
    let zeros = "0".repeat(64);
    let mut seq = 0;
    for k in 0..RECORDS_PER_VERTICAL / 2 {
        let t = T0 + ((i * 7_919 + k * 631_000) % (365 * 86_400)) as i64;
        let (from, to) = (format!("1.{k}.0"), format!("1.{}.0", k + 1));
        let snap = format!("pre-upgrade-{i}-{k}");
        let end = if (i + k).is_multiple_of(10) {
            ("rolled_back", "rolled_back")
        } else {
            ("upgrade_committed", "committed")
        };
        for (action, outcome, dt) in [("upgrade_started", "started", 0), (end.0, end.1, 95)] {
            seq += 1;
            let time = lockstep_state::time::rfc3339_from_unix(t + dt);
            let _ = writeln!(
                text,
                r#"{{"seq":{seq},"time":"{time}","actor":"ci","action":"{action}","from":"{from}","to":"{to}","snapshot":"{snap}","outcome":"{outcome}","details":{{}},"prev":"{zeros}","hash":"{zeros}"}}"#
            );
        }
    }
    std::fs::write(dir.join(".lockstep/audit.jsonl"), text).expect("writable");
    manifest
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("LOCKSTEP_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    path.is_file().then_some(path)
}

fn load(chromium: &Path, page: &Path) -> Duration {
    let profile = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed");
    start.elapsed()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut inputs = Inputs::default();
    for i in 0..VERTICALS {
        let manifest = write_log(dir.path(), i);
        inputs
            .verticals
            .push(VerticalInput::new(manifest, &format!("v{i:04}"), "stable"));
    }
    inputs.now = T0 + 366 * 86_400;

    let mut collects = Vec::new();
    let mut renders = Vec::new();
    let mut writes = Vec::new();
    let out = dir.path().join("site");
    let mut figures = None;
    for _ in 0..5 {
        let t = Instant::now();
        let f = collect(&inputs).expect("collects");
        collects.push(t.elapsed());
        let t = Instant::now();
        let site = render(&f);
        renders.push(t.elapsed());
        let t = Instant::now();
        site.write(&out).expect("writes");
        writes.push(t.elapsed());
        figures = Some(f);
    }
    let f = figures.expect("ran");
    assert_eq!(f.verticals.len(), VERTICALS);
    assert_eq!(
        f.kpis.attempted as usize,
        VERTICALS * RECORDS_PER_VERTICAL / 2
    );
    let page = out.join("index.html");
    let size = std::fs::metadata(&page).expect("written").len();
    println!(
        "{VERTICALS} verticals, {} audit records (median of 5)",
        VERTICALS * RECORDS_PER_VERTICAL
    );
    println!("collect: {:?}", median(collects));
    println!("render:  {:?}", median(renders));
    println!("write:   {:?}", median(writes));
    println!("page: {:.0} KiB", size as f64 / 1024.0);

    let Some(chromium) = chromium() else {
        println!("page load: skipped (no chromium)");
        return;
    };
    let tiny = dir.path().join("tiny.html");
    std::fs::write(&tiny, "<!doctype html><title>t</title><p>t</p>").expect("writable");
    let mut big = Vec::new();
    let mut small = Vec::new();
    for _ in 0..3 {
        small.push(load(&chromium, &tiny));
        big.push(load(&chromium, &page));
    }
    let (big, small) = (median(big), median(small));
    println!("chromium --dump-dom, dashboard: {big:?}; one-line page: {small:?}");
    println!(
        "page load beyond an empty page: {:?}",
        big.saturating_sub(small)
    );
}
