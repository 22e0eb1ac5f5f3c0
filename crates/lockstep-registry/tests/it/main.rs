//! Integration tests: every source against real files and a real HTTP server on 127.0.0.1.

mod artifact;
mod file;
mod github;
mod http_index;
mod security;
mod visibility;

use std::time::Duration;

use lockstep_registry::{Options, Release};
use serde_json::{Value, json};

/// Options for tests: no environment, no cache, short timeouts.
fn opts() -> Options {
    let mut opts = Options::default();
    opts.connect_timeout = Duration::from_secs(2);
    opts.timeout = Duration::from_secs(10);
    opts
}

/// A release object of the index format.
fn release(version: &str, channel: &str) -> Value {
    json!({"version": version, "channel": channel, "contracts_version": "1.0.0"})
}

/// A release index holding `releases`.
fn index(releases: &[Value]) -> Value {
    json!({"schema": 1, "releases": releases})
}

/// The versions of `releases`, in order.
fn versions(releases: &[Release]) -> Vec<String> {
    releases.iter().map(|r| r.version.to_string()).collect()
}
