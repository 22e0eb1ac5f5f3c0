//! Failpoints for crash tests: when `LOCKSTEP_FAILPOINT` names a step, the process kills itself
//! with SIGKILL as it reaches that step, exactly as `kill -9` from outside would.
//!
//! Each workflow lists its failpoint names in a `FAILPOINTS` constant. Nothing happens when the
//! variable is unset.

/// The environment variable that names the failpoint.
pub const ENV: &str = "LOCKSTEP_FAILPOINT";

/// Dies with SIGKILL if `LOCKSTEP_FAILPOINT` equals `name`.
pub fn hit(name: &str) {
    if std::env::var_os(ENV).is_some_and(|v| v == name) {
        tracing::warn!(failpoint = name, "failpoint reached: SIGKILL");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        // SIGKILL cannot be caught; if raising failed, abort is the next best crash.
        std::process::abort();
    }
}
