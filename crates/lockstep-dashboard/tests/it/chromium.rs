//! Headless Chromium (Debian's `chromium` package) driven from the command line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `LOCKSTEP_CHROMIUM`, else `/usr/bin/chromium`. The test fails when it is missing: the CI
/// script installs it (`apt-get install -y chromium`).
pub fn binary() -> PathBuf {
    let path = std::env::var_os("LOCKSTEP_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "headless Chromium is needed at {} (apt-get install -y chromium, or set LOCKSTEP_CHROMIUM)",
        path.display()
    );
    path
}

fn base(profile: &Path) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("120").arg(binary()).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The DOM after the page at `file` loaded, and how long Chromium took (start to exit).
pub fn dump_dom(file: &Path) -> (String, Duration) {
    let profile = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let out = base(profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("chromium runs");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap(), took)
}

/// A PNG screenshot of the page at `file`, `width` × `height` pixels.
pub fn screenshot(file: &Path, png: &Path, width: u32, height: u32) {
    let profile = tempfile::tempdir().unwrap();
    let out = base(profile.path())
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}
