//! The bundled fixtures (used by the README's gate command and the CLI tests) stay valid, or
//! stay invalid in the ways they claim.

use lockstep_manifest::{Channel, ReleaseIndex, VerticalManifest, VerticalStatus};

use crate::support::render;

const REGISTRY: &str = include_str!("../../../../fixtures/registry/releases.json");
const FINANCE: &str = include_str!("../../../../fixtures/verticals/finance/vertical_manifest.yaml");
const LOGISTICS: &str =
    include_str!("../../../../fixtures/verticals/logistics/vertical_manifest.yaml");
const ANALYTICS: &str =
    include_str!("../../../../fixtures/verticals/analytics/vertical_manifest.yaml");
const LEGACY_BILLING: &str =
    include_str!("../../../../fixtures/verticals/legacy-billing/vertical_manifest.yaml");
const ARTIFACT: &[u8] = include_bytes!("../../../../fixtures/registry/artifacts/core-2.0.0.tar.gz");

#[test]
fn the_registry_parses_and_covers_every_channel() {
    let index =
        ReleaseIndex::parse(REGISTRY).unwrap_or_else(|e| panic!("{}", render(&Err::<(), _>(e))));
    for channel in Channel::ALL {
        assert!(
            index.releases.iter().any(|r| r.channel == channel),
            "no {channel} release"
        );
    }
    let find = |v: &str| {
        index
            .releases
            .iter()
            .find(|r| r.version.to_string() == v)
            .unwrap_or_else(|| panic!("no {v}"))
    };
    let (v14, v2) = (find("1.4.0"), find("2.0.0"));
    assert!(
        v14.deprecated_capabilities
            .contains(&"reports.pdf".to_owned())
    );
    assert!(!v2.capabilities.contains(&"reports.pdf".to_owned()));
    assert_eq!(v2.contracts_version.as_ref().unwrap().major, 2);
    assert_eq!(find("1.5.0").contracts_version.as_ref().unwrap().major, 1);
    assert!(v2.migration_guide_url.is_some() && v2.migration_notes.is_some());
    assert!(!v2.changelog.breaking.is_empty());
    find("2.1.0-beta.1");
}

#[test]
fn the_artifact_checksum_is_real() {
    use sha2::{Digest, Sha256};
    let index = ReleaseIndex::parse(REGISTRY).unwrap();
    let artifact = index
        .releases
        .iter()
        .flat_map(|r| &r.artifacts)
        .find(|a| a.name == "core-2.0.0.tar.gz")
        .expect("the 2.0.0 artifact");
    assert_eq!(artifact.size, ARTIFACT.len() as u64);
    let digest: String = Sha256::digest(ARTIFACT)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(artifact.sha256, digest);
}

#[test]
fn the_valid_verticals_parse() {
    let finance =
        VerticalManifest::parse(FINANCE).unwrap_or_else(|e| panic!("{}", render(&Err::<(), _>(e))));
    assert_eq!(
        (
            finance.domain_name.as_str(),
            finance.compatibility.max_core_version.to_string().as_str()
        ),
        ("finance", "1.x.x")
    );
    let logistics = VerticalManifest::parse(LOGISTICS)
        .unwrap_or_else(|e| panic!("{}", render(&Err::<(), _>(e))));
    assert_eq!(logistics.compatibility.contracts_major, 2);
    let analytics = VerticalManifest::parse(ANALYTICS)
        .unwrap_or_else(|e| panic!("{}", render(&Err::<(), _>(e))));
    assert_eq!(analytics.status, VerticalStatus::Experimental);
}

#[test]
fn legacy_billing_is_invalid_in_several_ways() {
    insta::assert_snapshot!(render(&VerticalManifest::parse(LEGACY_BILLING)));
}
