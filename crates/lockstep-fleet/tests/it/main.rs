//! Integration tests of the fleet workflow, against real loopback servers, real canary
//! repositories built by `fixtures/fleet/build.sh`, and a real SQLite database.

mod known_good;
mod lab;
mod notify;
mod watch;

use std::path::{Path, PathBuf};
use std::process::Command;

use lockstep_fleet::{Fleet, Home};

/// A fresh home in a temp dir.
pub struct TestHome {
    /// Holds the home and any fixture.
    pub tmp: tempfile::TempDir,
    /// The home, `tmp/home`.
    pub home: Home,
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    /// A new, empty home.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = Home::new(tmp.path().join("home"), None);
        TestHome { tmp, home }
    }

    /// Opens the home.
    pub fn open(&self) -> Fleet {
        Fleet::open(&self.home).expect("the home opens")
    }
}

/// The fleet fixture built by its script into `dir`.
pub fn build_fixture(dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fleet/build.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "build.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.to_path_buf()
}
