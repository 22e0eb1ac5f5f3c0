//! Invariants over generated input: no parser panics; valid documents round-trip.

use lockstep_manifest::{Artifact, Channel, Release, ReleaseIndex, VersionBound, VerticalManifest};
use proptest::prelude::*;
use semver::Version;

use crate::support::FINANCE;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = VerticalManifest::parse(&text);
        let _ = ReleaseIndex::parse(&text);
        let _ = Release::parse_json(&text);
        let _ = text.parse::<VersionBound>();
    }

    #[test]
    fn arbitrary_yaml_like_text_never_panics(text in "[a-z_:{}\\[\\]&*!|>'\"#@,. \n\t0-9-]{0,300}") {
        let _ = VerticalManifest::parse(&text);
    }

    #[test]
    fn mutated_manifests_never_panic(at in 0..FINANCE.len(), junk in "\\PC{0,8}") {
        let mut text = FINANCE.to_owned();
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.insert_str(at, &junk);
        if let Err(e) = VerticalManifest::parse(&text) {
            prop_assert!(!e.problems.is_empty());
            for p in &e.problems {
                prop_assert!(p.line <= text.lines().count() + 1, "{p}");
            }
        }
    }

    #[test]
    fn arbitrary_json_like_text_never_panics(text in "[\\[\\]{}\":,0-9a-z. \n\\\\-]{0,300}") {
        let _ = ReleaseIndex::parse(&text);
        let _ = Release::parse_json(&text);
    }

    #[test]
    fn manifests_round_trip(m in manifest()) {
        let yaml = m.to_yaml();
        let back = VerticalManifest::parse(&yaml);
        prop_assert_eq!(back.as_ref().ok(), Some(&m), "{}\n{:?}", yaml, back.as_ref().err());
    }

    #[test]
    fn release_indexes_round_trip(index in release_index()) {
        let json = index.to_json();
        let back = ReleaseIndex::parse(&json);
        prop_assert_eq!(back.as_ref().ok(), Some(&index), "{}\n{:?}", json, back.as_ref().err());
    }
}

/// Text a field may hold: anything with a non-blank character, odd characters included.
fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}[a-zA-Z0-9]\\PC{0,12}"
}

fn version() -> impl Strategy<Value = Version> {
    (
        0u64..5,
        0u64..20,
        0u64..5,
        proptest::option::of("(alpha|beta|rc)\\.[1-9]"),
        proptest::option::of("build\\.[0-9]{1,3}"),
    )
        .prop_map(|(a, b, c, pre, build)| {
            let mut s = format!("{a}.{b}.{c}");
            if let Some(p) = pre {
                s.push('-');
                s.push_str(&p);
            }
            if let Some(b) = build {
                s.push('+');
                s.push_str(&b);
            }
            Version::parse(&s).expect("generated versions are SemVer")
        })
}

fn bound() -> impl Strategy<Value = VersionBound> {
    prop_oneof![
        version().prop_map(VersionBound::Exact),
        (0u64..5).prop_map(|m| VersionBound::Wildcard {
            major: Some(m),
            minor: None
        }),
        (0u64..5, 0u64..20).prop_map(|(m, n)| VersionBound::Wildcard {
            major: Some(m),
            minor: Some(n)
        }),
        Just(VersionBound::Wildcard {
            major: None,
            minor: None
        }),
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    proptest::sample::select(Channel::ALL.to_vec())
}

/// A valid manifest, built by editing the finance example's text so the generator uses the
/// public API only.
fn manifest() -> impl Strategy<Value = VerticalManifest> {
    (
        (text(), text(), proptest::sample::select(vec!["active", "deprecated", "experimental"])),
        (bound(), bound(), 0u64..=u64::from(u32::MAX), channel(), 60u32..=600),
        proptest::collection::vec(text(), 0..5),
        (text(), text(), "[a-z0-9._+-]{1,10}@[a-z0-9-]{1,10}\\.[a-z]{2,6}"),
    )
        .prop_filter_map("min must not be above max", |((name, version, status), (min, max, major, channel, timeout), caps, (team, lead, contact))| {
            if min.floor().is_some_and(|floor| !max.admits_from_above(&floor)) {
                return None;
            }
            let q = |s: &str| serde_json::to_string(s).unwrap();
            let caps: String = caps.iter().map(|c| format!("    - {}\n", q(c))).collect();
            let text = format!(
                "domain_name: {}\ndomain_version: {}\nstatus: {status}\ncompatibility:\n  min_core_version: \"{min}\"\n  max_core_version: \"{max}\"\n  contracts_major: {major}\n  update_channel: {channel}\n  smoke_tests_timeout: {timeout}\n  required_capabilities:\n{caps}ownership:\n  team: {}\n  tech_lead: {}\n  contact: {}\n",
                q(&name), q(&version), q(&team), q(&lead), q(&contact),
            );
            // JSON escapes are YAML escapes, but YAML folds some characters JSON leaves raw;
            // such inputs are not what this property is about.
            VerticalManifest::parse(&text).ok()
        })
}

fn release() -> impl Strategy<Value = Release> {
    (
        version(),
        channel(),
        proptest::collection::vec(text(), 0..4),
        proptest::collection::vec(text(), 0..2),
        proptest::option::of(text()),
        proptest::collection::vec((text(), "[0-9a-f]{64}", any::<u64>()), 0..2),
        proptest::option::of("20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?(Z|[+-]0[0-9]:[0-5][0-9])"),
        proptest::option::of("[0-9a-f]{40}"),
    )
        .prop_map(|(v, ch, caps, dep, notes, artifacts, at, commit)| {
            let mut r = Release::new(v, ch);
            r.contracts_version = Some(Version::new(1, 0, 0));
            r.capabilities = caps;
            r.deprecated_capabilities = dep;
            r.migration_notes = notes;
            r.released_at = at;
            r.commit = commit;
            r.artifacts = artifacts
                .into_iter()
                .map(|(name, sha, size)| Artifact::new(name, "https://example.com/a".into(), sha, size))
                .collect();
            r
        })
}

fn release_index() -> impl Strategy<Value = ReleaseIndex> {
    proptest::collection::vec(release(), 0..12).prop_map(|mut releases| {
        // Versions are unique by precedence in a valid index.
        releases.sort_by(|a, b| a.version.cmp_precedence(&b.version));
        releases.dedup_by(|a, b| a.version.cmp_precedence(&b.version).is_eq());
        ReleaseIndex::new(releases)
    })
}
