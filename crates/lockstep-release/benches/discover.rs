//! Planning a cascade from real repositories on disk, on divan (issue 4: faster than
//! `cargo metadata --no-deps --offline` on the same workspace, measured in the same run).
//!
//! `cargo bench -p lockstep-release` generates, in a temp dir, two git repositories and a
//! `cascade.toml`:
//! - `platform`: a Cargo workspace of 300 member crates (`members = ["crates/*"]`, half of
//!   them inheriting `version.workspace = true`), each depending on up to three earlier
//!   members by path, and every tenth one on `upstream-core` by git tag (some through
//!   `[workspace.dependencies]`);
//! - `upstream`: one crate, `upstream-core`, tagged `v0.3.0`.
//!
//! It then times, after one warm-up run of each, the whole planning path
//! `cascade::load` → `cascade::discover` → `graph()` → `lockstep_cascade::plan` (a minor
//! release of `upstream-core` through every member that pins it), against
//! `cargo metadata --no-deps --offline --format-version 1` in `platform`, and prints the ratio
//! of the medians cargo metadata / lockstep (above 1 means lockstep is faster). The cargo side
//! is a process spawn; lockstep's is in-process: that is the comparison a user sees.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use divan::Bencher;
use lockstep_cascade::{Bump, Request};
use lockstep_release as cascade;

#[path = "../../../benches/ratio.rs"]
mod ratio;

use ratio::{Ratio, Target, timed};

const MEMBERS: usize = 300;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("GIT_AUTHOR_DATE", "1771525800 +0000")
        .env("GIT_COMMITTER_DATE", "1771525800 +0000")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn commit_repo(dir: &Path) {
    git(dir, &["init", "-q", "--initial-branch=main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "feat: initial"]);
}

fn member(i: usize) -> String {
    format!("m{i:03}")
}

/// Builds the two repositories and `cascade.toml` under `root`; returns the config's path.
fn generate(root: &Path) -> std::path::PathBuf {
    let upstream = root.join("upstream");
    write(
        &upstream.join("Cargo.toml"),
        "[package]\nname = \"upstream-core\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
    );
    write(&upstream.join("src/lib.rs"), "");
    commit_repo(&upstream);
    git(
        &upstream,
        &["tag", "-a", "v0.3.0", "-m", "upstream-core 0.3.0"],
    );
    let url = format!("file://{}", upstream.display());

    let platform = root.join("platform");
    write(
        &platform.join("Cargo.toml"),
        &format!(
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n\
             [workspace.package]\nversion = \"1.4.0\"\nedition = \"2021\"\n\n\
             [workspace.dependencies]\nupstream-core = {{ git = \"{url}\", tag = \"v0.3.0\" }}\n"
        ),
    );
    for i in 0..MEMBERS {
        let name = member(i);
        let version = if i % 2 == 0 {
            "version.workspace = true".to_owned()
        } else {
            format!("version = \"0.{}.{}\"", i % 7, i % 5)
        };
        let mut text = format!(
            "[package]\nname = \"{name}\"\n{version}\nedition.workspace = true\n\n[dependencies]\n"
        );
        // Up to three earlier members, by path.
        for d in [i / 2, i / 3, i.saturating_sub(7)] {
            if d < i && !text.contains(&format!("\n{} ", member(d))) {
                text.push_str(&format!(
                    "{} = {{ path = \"../{}\" }}\n",
                    member(d),
                    member(d)
                ));
            }
        }
        if i % 10 == 0 {
            if i % 20 == 0 {
                text.push_str("upstream-core.workspace = true\n");
            } else {
                text.push_str(&format!(
                    "upstream-core = {{ git = \"{url}\", tag = \"v0.3.0\" }}\n"
                ));
            }
        }
        text.push_str("\n[dev-dependencies]\nserde = \"1\"\n");
        write(&platform.join(format!("crates/{name}/Cargo.toml")), &text);
        write(
            &platform.join(format!("crates/{name}/src/lib.rs")),
            "//! generated\n",
        );
    }
    commit_repo(&platform);

    let config = root.join("cascade.toml");
    write(
        &config,
        "[[repo]]\nname = \"upstream\"\npath = \"upstream\"\n\n\
         [[repo]]\nname = \"platform\"\npath = \"platform\"\n",
    );
    config
}

fn lockstep_plan(config: &Path) -> usize {
    let loaded = cascade::load(config).expect("config loads");
    let discovered = cascade::discover(&loaded).expect("discovers");
    let graph = discovered.graph().expect("a valid graph");
    let request = Request::new(["upstream-core"]).with_bump(Bump::Minor);
    let plan = lockstep_cascade::plan(&graph, &request).expect("plans");
    plan.waves.iter().map(Vec::len).sum()
}

fn cargo_metadata(cargo: &str, dir: &Path) -> usize {
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.len()
}

/// The generated repositories, checked and warmed up once.
struct Fixture {
    _dir: tempfile::TempDir,
    config: PathBuf,
    platform: PathBuf,
    cargo: String,
    released: usize,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = generate(dir.path());
    let platform = dir.path().join("platform");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let released = lockstep_plan(&config);
    assert!(
        released > MEMBERS / 10,
        "upstream-core and the members that pin it are released: {released}"
    );
    // Warm-up: page cache, first-run costs.
    cargo_metadata(&cargo, &platform);
    Fixture {
        _dir: dir,
        config,
        platform,
        cargo,
        released,
    }
});

#[divan::bench_group(sample_count = 11, sample_size = 1)]
mod discover {
    use super::*;

    /// lockstep: load + discover + graph + plan, in-process.
    #[divan::bench]
    fn lockstep(bencher: Bencher) {
        bencher.bench_local(|| timed("lockstep", || lockstep_plan(&FIXTURE.config)));
    }

    /// The baseline: `cargo metadata --no-deps --offline`, a process.
    #[divan::bench]
    fn cargo_metadata(bencher: Bencher) {
        bencher.bench_local(|| {
            timed("cargo", || {
                super::cargo_metadata(&FIXTURE.cargo, &FIXTURE.platform)
            })
        });
    }
}

fn main() {
    println!(
        "cascade discover: {MEMBERS}-member Cargo workspace + 1 upstream repository; {} packages released",
        FIXTURE.released
    );
    ratio::main(&[Ratio::new(
        "cargo metadata --no-deps --offline / lockstep load + discover + graph + plan",
        "cargo",
        "lockstep",
    )
    .target(Target::AtLeast(1.0))]);
}
