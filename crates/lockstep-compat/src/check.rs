//! Holding releases against manifests: one at a time with explanations, or as a matrix.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use lockstep_manifest::{Channel, Release, VerticalManifest, VerticalStatus};
use semver::Version;

use crate::reason::{Reason, ReasonCode, ReasonSet, Verdict};

/// Rules that are policy rather than fact.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// How many minor versions a release may trail the newest release of its major before it is
    /// `outside_support_window`. Default 2.
    pub support_window: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { support_window: 2 }
    }
}

impl Policy {
    /// A policy with the given support window.
    pub fn with_support_window(support_window: u64) -> Self {
        Policy { support_window }
    }
}

/// Checks releases against manifests, knowing the whole release landscape (which the support
/// window needs: "behind the newest release of its major").
#[derive(Debug, Clone)]
pub struct Checker {
    policy: Policy,
    /// Newest final (non-pre-release) version per major.
    newest: BTreeMap<u64, Version>,
}

impl Checker {
    /// Prepares a checker over every known release.
    pub fn new(releases: &[Release], policy: Policy) -> Self {
        let mut newest: BTreeMap<u64, Version> = BTreeMap::new();
        for r in releases.iter().filter(|r| r.version.pre.is_empty()) {
            let slot = newest
                .entry(r.version.major)
                .or_insert_with(|| r.version.clone());
            if r.version.cmp_precedence(slot) == Ordering::Greater {
                *slot = r.version.clone();
            }
        }
        Checker { policy, newest }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many minor versions `v` trails the newest final release of its major, when it
    /// trails by more than the support window.
    fn window_lag(&self, v: &Version) -> Option<(u64, &Version)> {
        let newest = self.newest.get(&v.major)?;
        let lag = newest.minor.saturating_sub(v.minor);
        (lag > self.policy.support_window).then_some((lag, newest))
    }

    /// The codes that apply, without messages (what the matrix computes).
    pub fn codes(&self, release: &Release, manifest: &VerticalManifest) -> ReasonSet {
        let c = &manifest.compatibility;
        let v = &release.version;
        let mut set = ReasonSet::EMPTY;
        set.set_if(
            ReasonCode::CoreBelowMin,
            !c.min_core_version.admits_from_below(v),
        );
        set.set_if(
            ReasonCode::CoreAboveMax,
            !c.max_core_version.admits_from_above(v),
        );
        set.set_if(
            ReasonCode::ContractsMajorMismatch,
            release
                .contracts_version
                .as_ref()
                .is_some_and(|cv| cv.major != c.contracts_major),
        );
        set.set_if(
            ReasonCode::CapabilityMissing,
            c.required_capabilities
                .iter()
                .any(|cap| !release.capabilities.contains(cap)),
        );
        set.set_if(
            ReasonCode::CapabilityDeprecated,
            c.required_capabilities
                .iter()
                .any(|cap| release.deprecated_capabilities.contains(cap)),
        );
        set.set_if(
            ReasonCode::ChannelMismatch,
            !c.update_channel.sees(release.channel),
        );
        set.set_if(
            ReasonCode::Prerelease,
            !v.pre.is_empty() && matches!(c.update_channel, Channel::Stable | Channel::Lts),
        );
        set.set_if(
            ReasonCode::VerticalNotActive,
            manifest.status != VerticalStatus::Active,
        );
        set.set_if(
            ReasonCode::OutsideSupportWindow,
            self.window_lag(v).is_some(),
        );
        set
    }

    /// The verdict with a message for every reason that applies.
    pub fn check(&self, release: &Release, manifest: &VerticalManifest) -> Verdict {
        let codes = self.codes(release, manifest);
        let c = &manifest.compatibility;
        let v = &release.version;
        let mut reasons = Vec::new();
        let mut push = |code, message: String| reasons.push(Reason { code, message });
        for code in codes.iter() {
            match code {
                ReasonCode::CoreBelowMin => push(
                    code,
                    format!("core {v} is below min_core_version {}", c.min_core_version),
                ),
                ReasonCode::CoreAboveMax => push(
                    code,
                    format!("core {v} is above max_core_version {}", c.max_core_version),
                ),
                ReasonCode::ContractsMajorMismatch => {
                    let cv = release
                        .contracts_version
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string);
                    push(
                        code,
                        format!(
                            "core {v} implements contracts {cv}; the vertical needs contracts major {}",
                            c.contracts_major
                        ),
                    );
                }
                ReasonCode::CapabilityMissing => {
                    for cap in distinct(&c.required_capabilities)
                        .filter(|cap| !release.capabilities.contains(cap))
                    {
                        push(
                            code,
                            format!("required capability `{cap}` is not offered by core {v}"),
                        );
                    }
                }
                ReasonCode::CapabilityDeprecated => {
                    for cap in distinct(&c.required_capabilities)
                        .filter(|cap| release.deprecated_capabilities.contains(cap))
                    {
                        push(
                            code,
                            format!(
                                "required capability `{cap}` is deprecated in core {v} and may be removed in a later release"
                            ),
                        );
                    }
                }
                ReasonCode::ChannelMismatch => push(
                    code,
                    format!(
                        "core {v} is published on {}; the vertical follows {}, which does not see it",
                        release.channel, c.update_channel
                    ),
                ),
                ReasonCode::Prerelease => push(
                    code,
                    format!(
                        "core {v} is a pre-release; the vertical follows {}",
                        c.update_channel
                    ),
                ),
                ReasonCode::VerticalNotActive => push(
                    code,
                    format!(
                        "the vertical's status is {}, not active",
                        manifest.status.as_str()
                    ),
                ),
                ReasonCode::OutsideSupportWindow => {
                    if let Some((lag, newest)) = self.window_lag(v) {
                        let versions = if lag == 1 { "version" } else { "versions" };
                        push(
                            code,
                            format!(
                                "core {v} is {lag} minor {versions} behind {newest}, the newest {}.x release; the support window is {}",
                                v.major, self.policy.support_window
                            ),
                        );
                    }
                }
            }
        }
        Verdict {
            status: codes.status(),
            reasons,
        }
    }
}

/// The names in first-seen order, each once: a manifest that lists a capability twice gets one
/// reason for it, not two.
fn distinct(names: &[String]) -> impl Iterator<Item = &String> {
    names
        .iter()
        .enumerate()
        .filter(move |&(i, n)| !names[..i].contains(n))
        .map(|(_, n)| n)
}

/// Every release held against every vertical, computed in one pass over prepared data.
///
/// Cells are stored release-major in input order: `cell(r, v)` for release index `r` and
/// vertical index `v`. Call [`Matrix::verdict`] for the explanation of one cell.
#[derive(Debug, Clone)]
pub struct Matrix {
    checker: Checker,
    releases: usize,
    verticals: usize,
    cells: Vec<ReasonSet>,
}

/// A release reduced to what the matrix compares.
struct PreparedRelease {
    rank: u32,
    contracts_major: Option<u64>,
    channel: Channel,
    prerelease: bool,
    outside_window: bool,
    caps: Vec<u64>,
    deprecated: Vec<u64>,
}

/// A vertical reduced to what the matrix compares.
struct PreparedVertical {
    /// Lowest admitted rank (inclusive).
    lo: u32,
    /// Highest admitted rank + 1 (exclusive).
    hi: u32,
    contracts_major: u64,
    channel: Channel,
    stable_like: bool,
    not_active: bool,
    required: Vec<u64>,
    /// Some required capability is not known to any release.
    requires_unknown: bool,
}

impl Matrix {
    /// Computes the matrix. `releases` need not be sorted; the support window is judged against
    /// these releases.
    pub fn new(releases: &[Release], manifests: &[VerticalManifest], policy: Policy) -> Self {
        let checker = Checker::new(releases, policy);

        // Rank every release version by precedence, equal versions sharing a rank.
        let mut order: Vec<usize> = (0..releases.len()).collect();
        order.sort_by(|&a, &b| releases[a].version.cmp_precedence(&releases[b].version));
        let mut ranks = vec![0u32; releases.len()];
        let mut sorted: Vec<&Version> = Vec::with_capacity(releases.len());
        for &i in &order {
            let v = &releases[i].version;
            if sorted
                .last()
                .is_none_or(|last| last.cmp_precedence(v) != Ordering::Equal)
            {
                sorted.push(v);
            }
            ranks[i] = (sorted.len() - 1) as u32;
        }

        // Intern capability names into bit positions.
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for r in releases {
            for cap in r.capabilities.iter().chain(&r.deprecated_capabilities) {
                let next = ids.len();
                ids.entry(cap.as_str()).or_insert(next);
            }
        }
        let words = ids.len().div_ceil(64).max(1);
        let bits = |names: &[String]| {
            let mut set = vec![0u64; words];
            for n in names {
                if let Some(&id) = ids.get(n.as_str()) {
                    set[id / 64] |= 1 << (id % 64);
                }
            }
            set
        };

        let prepared_releases: Vec<PreparedRelease> = releases
            .iter()
            .zip(&ranks)
            .map(|(r, &rank)| PreparedRelease {
                rank,
                contracts_major: r.contracts_version.as_ref().map(|c| c.major),
                channel: r.channel,
                prerelease: !r.version.pre.is_empty(),
                outside_window: checker.window_lag(&r.version).is_some(),
                caps: bits(&r.capabilities),
                deprecated: bits(&r.deprecated_capabilities),
            })
            .collect();

        let prepared_verticals: Vec<PreparedVertical> = manifests
            .iter()
            .map(|m| {
                let c = &m.compatibility;
                // Both bounds are monotone over the sorted versions: binary search them.
                let lo = sorted.partition_point(|v| !c.min_core_version.admits_from_below(v));
                let hi = sorted.partition_point(|v| c.max_core_version.admits_from_above(v));
                PreparedVertical {
                    lo: lo as u32,
                    hi: hi as u32,
                    contracts_major: c.contracts_major,
                    channel: c.update_channel,
                    stable_like: matches!(c.update_channel, Channel::Stable | Channel::Lts),
                    not_active: m.status != VerticalStatus::Active,
                    required: bits(&c.required_capabilities),
                    requires_unknown: c
                        .required_capabilities
                        .iter()
                        .any(|cap| !ids.contains_key(cap.as_str())),
                }
            })
            .collect();

        let mut cells = Vec::with_capacity(releases.len() * manifests.len());
        for r in &prepared_releases {
            for v in &prepared_verticals {
                cells.push(cell(r, v));
            }
        }
        Matrix {
            checker,
            releases: releases.len(),
            verticals: manifests.len(),
            cells,
        }
    }

    /// Number of releases (rows).
    pub fn releases(&self) -> usize {
        self.releases
    }

    /// Number of verticals (columns).
    pub fn verticals(&self) -> usize {
        self.verticals
    }

    /// The codes for release `r` against vertical `v` (indexes into the inputs).
    pub fn cell(&self, r: usize, v: usize) -> ReasonSet {
        self.cells[r * self.verticals + v]
    }

    /// Every cell, release-major, in input order.
    pub fn cells(&self) -> &[ReasonSet] {
        &self.cells
    }

    /// The explained verdict for one cell; `releases` and `manifests` must be the inputs the
    /// matrix was built from.
    pub fn verdict(
        &self,
        releases: &[Release],
        manifests: &[VerticalManifest],
        r: usize,
        v: usize,
    ) -> Verdict {
        self.checker.check(&releases[r], &manifests[v])
    }

    /// The checker the matrix was built with.
    pub fn checker(&self) -> &Checker {
        &self.checker
    }
}

#[inline]
fn cell(r: &PreparedRelease, v: &PreparedVertical) -> ReasonSet {
    let mut set = ReasonSet::EMPTY;
    set.set_if(ReasonCode::CoreBelowMin, r.rank < v.lo);
    set.set_if(ReasonCode::CoreAboveMax, r.rank >= v.hi);
    set.set_if(
        ReasonCode::ContractsMajorMismatch,
        r.contracts_major.is_some_and(|m| m != v.contracts_major),
    );
    let mut missing = v.requires_unknown;
    let mut deprecated = false;
    for ((need, have), dep) in v.required.iter().zip(&r.caps).zip(&r.deprecated) {
        missing |= need & !have != 0;
        deprecated |= need & dep != 0;
    }
    set.set_if(ReasonCode::CapabilityMissing, missing);
    set.set_if(ReasonCode::CapabilityDeprecated, deprecated);
    set.set_if(ReasonCode::ChannelMismatch, !v.channel.sees(r.channel));
    set.set_if(ReasonCode::Prerelease, r.prerelease && v.stable_like);
    set.set_if(ReasonCode::VerticalNotActive, v.not_active);
    set.set_if(ReasonCode::OutsideSupportWindow, r.outside_window);
    set
}
