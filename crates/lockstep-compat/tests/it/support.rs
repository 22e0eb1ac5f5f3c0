//! Builders for releases and manifests, and the table-driven `check` helper.

use lockstep_compat::{Checker, Matrix, Policy, ReasonCode, Status};
use lockstep_manifest::{Channel, Release, VerticalManifest};
use semver::Version;

/// A vertical manifest under construction; [`Vertical::build`] renders YAML and parses it, so
/// every manifest a test uses went through the real parser and validator.
#[derive(Debug, Clone)]
pub struct Vertical {
    min: String,
    max: String,
    contracts: u64,
    channel: &'static str,
    status: &'static str,
    requires: Vec<String>,
}

/// An active vertical on stable with contracts major 1 and no required capabilities.
pub fn vertical(min: &str, max: &str) -> Vertical {
    Vertical {
        min: min.to_owned(),
        max: max.to_owned(),
        contracts: 1,
        channel: "stable",
        status: "active",
        requires: Vec::new(),
    }
}

impl Vertical {
    pub fn channel(mut self, channel: &'static str) -> Self {
        self.channel = channel;
        self
    }

    pub fn status(mut self, status: &'static str) -> Self {
        self.status = status;
        self
    }

    pub fn contracts(mut self, major: u64) -> Self {
        self.contracts = major;
        self
    }

    pub fn requires(mut self, caps: &[&str]) -> Self {
        self.requires = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    pub fn yaml(&self) -> String {
        let mut y = format!(
            "domain_name: finance\n\
             domain_version: 2.3.0\n\
             status: {}\n\
             compatibility:\n  \
               min_core_version: \"{}\"\n  \
               max_core_version: \"{}\"\n  \
               contracts_major: {}\n  \
               update_channel: {}\n",
            self.status, self.min, self.max, self.contracts, self.channel
        );
        if !self.requires.is_empty() {
            y.push_str("  required_capabilities:\n");
            for c in &self.requires {
                y.push_str(&format!("    - \"{c}\"\n"));
            }
        }
        y.push_str(
            "ownership:\n  team: payments\n  tech_lead: Ada Lovelace\n  contact: ada@example.com\n",
        );
        y
    }

    /// The parsed manifest, or `None` when the parser refuses it (min above max).
    pub fn try_build(&self) -> Option<VerticalManifest> {
        VerticalManifest::parse(&self.yaml()).ok()
    }

    #[track_caller]
    pub fn build(&self) -> VerticalManifest {
        match VerticalManifest::parse(&self.yaml()) {
            Ok(m) => m,
            Err(e) => panic!("test manifest must parse: {e:?}\n{}", self.yaml()),
        }
    }
}

/// A release under construction.
#[derive(Debug, Clone)]
pub struct Rel(Release);

/// A stable release implementing contracts 1.0.0 with no capabilities.
#[track_caller]
pub fn release(version: &str) -> Rel {
    let mut r = Release::new(parse_version(version), Channel::Stable);
    r.contracts_version = Some(parse_version("1.0.0"));
    Rel(r)
}

impl Rel {
    pub fn on(mut self, channel: Channel) -> Self {
        self.0.channel = channel;
        self
    }

    #[track_caller]
    pub fn contracts(mut self, version: Option<&str>) -> Self {
        self.0.contracts_version = version.map(parse_version);
        self
    }

    pub fn caps(mut self, caps: &[&str]) -> Self {
        self.0.capabilities = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    pub fn deprecated(mut self, caps: &[&str]) -> Self {
        self.0.deprecated_capabilities = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    pub fn build(self) -> Release {
        self.0
    }
}

#[track_caller]
pub fn parse_version(s: &str) -> Version {
    match Version::parse(s) {
        Ok(v) => v,
        Err(e) => panic!("test version {s:?} must parse: {e}"),
    }
}

/// The status a list of codes adds up to, by the rule of design.md (independent of
/// `ReasonSet::status`).
pub fn expected_status(codes: &[ReasonCode]) -> Status {
    use ReasonCode::*;
    if codes.iter().any(|c| {
        matches!(
            c,
            CoreBelowMin | CoreAboveMax | ContractsMajorMismatch | CapabilityMissing
        )
    }) {
        Status::Blocked
    } else if codes.is_empty() {
        Status::Compatible
    } else {
        Status::CompatibleWithWarnings
    }
}

/// Holds `release` against `manifest` with `others` as the rest of the release landscape (the
/// support window looks at it) and asserts that exactly `expected` fires, in that order, through
/// every entry point: `Checker::codes`, `Checker::check` and a one-column `Matrix`.
#[track_caller]
pub fn check(
    others: &[Release],
    policy: Policy,
    release: &Release,
    manifest: &VerticalManifest,
    expected: &[ReasonCode],
) {
    let mut landscape = others.to_vec();
    landscape.push(release.clone());
    let checker = Checker::new(&landscape, policy.clone());
    let what = format!(
        "core {} ({}) against min {} max {} on {} ({})",
        release.version,
        release.channel,
        manifest.compatibility.min_core_version,
        manifest.compatibility.max_core_version,
        manifest.compatibility.update_channel,
        manifest.status.as_str(),
    );

    let codes = checker.codes(release, manifest);
    assert_eq!(codes.iter().collect::<Vec<_>>(), expected, "codes: {what}");

    let verdict = checker.check(release, manifest);
    assert_eq!(verdict.codes(), codes, "check() vs codes(): {what}");
    assert!(
        verdict.reasons.windows(2).all(|w| w[0].code <= w[1].code),
        "reasons out of order: {what}: {verdict:?}"
    );
    assert!(
        verdict.reasons.iter().all(|r| !r.message.is_empty()),
        "empty message: {what}"
    );
    assert_eq!(verdict.status, expected_status(expected), "status: {what}");
    assert_eq!(codes.status(), verdict.status, "ReasonSet::status: {what}");

    let matrix = Matrix::new(&landscape, std::slice::from_ref(manifest), policy);
    assert_eq!(
        matrix.cell(landscape.len() - 1, 0),
        codes,
        "matrix vs checker: {what}"
    );
}
