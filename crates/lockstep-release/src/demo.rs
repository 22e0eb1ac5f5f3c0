//! The release-cascade demo: real git repositories shaped like the brief's DAG, built into a
//! directory by a script shipped inside this crate (so an installed `lockstep` has it too).
//!
//! `manifest` ← `urn-authority` ← `runtime`, `ecosystem` ← `documentation`, and
//! `release-healer` ← `runtime`: Cargo crates pinning each other by git tag on `file://` URLs,
//! with committed `Cargo.lock` files; plus `console` (`package.json`, pins `runtime`) and
//! `sdk-python` (`pyproject.toml`, pins `manifest`). The root carries one `feat:` commit since
//! its `v1.0.0` tag: the change the demo releases.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lockstep_smoke::CommandSpec;

/// The builder script.
pub const SCRIPT: &str = include_str!("demo.sh");

/// The environment variable whose value names the repository whose smoke test fails on
/// purpose (`--fail-at`).
pub const FAIL_AT_ENV: &str = "LOCKSTEP_DEMO_FAIL_AT";

/// Builds the demo into `dir` (created if missing) and returns the path of its `cascade.toml`.
/// Needs `git`, `bash` and `cargo` on PATH; works offline.
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let script = dir.join(".demo.sh");
    std::fs::write(&script, SCRIPT)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let spec = CommandSpec::new("bash")
        .arg(&script)
        .arg(dir)
        .current_dir(dir)
        .timeout(Duration::from_secs(300));
    let result =
        lockstep_smoke::run(&spec).map_err(|e| format!("cannot run the demo builder: {e}"))?;
    let _ = std::fs::remove_file(&script);
    if !result.outcome.is_passed() {
        return Err(format!(
            "the demo builder {} (it needs git, bash and cargo):\n{}",
            result.outcome,
            result.output.tail_text(20)
        ));
    }
    Ok(dir.join("cascade.toml"))
}
