//! `update` and `status`: which newer core releases a vertical's channel sees, and what the
//! compatibility engine says of each.

use std::cmp::Ordering;

use lockstep_compat::{Checker, Policy, Reason, Status};
use lockstep_manifest::{Channel, Release, VerticalManifest};
use semver::Version;
use serde::Serialize;

/// The JSON schema name of an update report.
pub const SCHEMA: &str = "lockstep.update/v1";

/// One release above the current version that the channel sees.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Candidate {
    /// Its version.
    pub version: String,
    /// Its channel.
    pub channel: Channel,
    /// The verdict.
    pub verdict: Status,
    /// Every reason.
    pub reasons: Vec<Reason>,
}

/// What `update` and `status` report.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct UpdateReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The current core version.
    pub current: String,
    /// The channel the releases were filtered by.
    pub channel: Channel,
    /// The highest release above current that the channel sees.
    pub latest: Option<Candidate>,
    /// The highest of those that is not blocked.
    pub latest_compatible: Option<Candidate>,
    /// All of them, lowest first (SemVer precedence).
    pub available: Vec<Candidate>,
}

impl UpdateReport {
    /// Whether an upgrade is available (what `update --exit-code` turns into 100).
    pub fn update_available(&self) -> bool {
        self.latest_compatible.is_some()
    }
}

/// Computes the report. `channel` overrides the manifest's `update_channel`; the verdicts then
/// judge releases as a vertical on that channel would.
pub fn report(
    manifest: &VerticalManifest,
    current: &Version,
    channel: Option<Channel>,
    releases: &[Release],
    policy: Policy,
) -> UpdateReport {
    let mut manifest = manifest.clone();
    if let Some(c) = channel {
        manifest.compatibility.update_channel = c;
    }
    let channel = manifest.compatibility.update_channel;
    let checker = Checker::new(releases, policy);
    let mut seen: Vec<&Release> = releases
        .iter()
        .filter(|r| {
            r.version.cmp_precedence(current) == Ordering::Greater && channel.sees(r.channel)
        })
        .collect();
    seen.sort_by(|a, b| a.version.cmp_precedence(&b.version));
    let available: Vec<Candidate> = seen
        .iter()
        .map(|r| {
            let v = checker.check(r, &manifest);
            Candidate {
                version: r.version.to_string(),
                channel: r.channel,
                verdict: v.status,
                reasons: v.reasons,
            }
        })
        .collect();
    let latest = available.last().cloned();
    let latest_compatible = available
        .iter()
        .rev()
        .find(|c| c.verdict != Status::Blocked)
        .cloned();
    UpdateReport {
        schema: SCHEMA,
        current: current.to_string(),
        channel,
        latest,
        latest_compatible,
        available,
    }
}
