//! What a release was built against, as observed after the lockfile was regenerated: each
//! upstream's version as the lockfile resolved it, or, without a lockfile, the pin as written.

#[allow(unused_imports)]
use super::*;

/// The annotated tag's message: `NAME VERSION`, then one upstream per line, `NAME VERSION` as
/// the lockfile resolved it, or `NAME REQUIREMENT (requirement, no lockfile)`, `NAME VERSION
/// (git tag TAG, no lockfile)`, `NAME VERSION (path)`.
pub(super) fn tag_message(repo_dir: &Path, step: &Step) -> String {
    let mut text = format!("{} {}\n", step.package, step.to);
    if step.upstreams.is_empty() {
        return text;
    }
    let lock = lockfile_for(repo_dir, &step.manifest, step.ecosystem).and_then(|(d, name, _)| {
        std::fs::read_to_string(d.join(name))
            .ok()
            .map(|text| (name, text))
    });
    let manifest = std::fs::read_to_string(repo_dir.join(&step.manifest)).unwrap_or_default();
    text.push_str("\nBuilt against:\n");
    for u in &step.upstreams {
        let locked = lock
            .as_ref()
            .and_then(|(name, text)| lockstep_pins::locked_version(name, text, &u.package));
        let line = match locked {
            Some(v) => format!("{} {v}", u.package),
            None => written(&manifest, step.ecosystem, &u.package, &u.version),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// An upstream without a lockfile entry, described by its pin as written.
fn written(manifest: &str, eco: Ecosystem, name: &str, planned: &semver::Version) -> String {
    let pin = lockstep_pins::pins(eco, manifest, name)
        .ok()
        .and_then(|d| d.into_iter().next())
        .map(|d| d.pin);
    match pin {
        Some(lockstep_pins::Pin::Version(req))
        | Some(lockstep_pins::Pin::Path {
            version: Some(req), ..
        }) => format!("{name} {req} (requirement, no lockfile)"),
        Some(lockstep_pins::Pin::Git {
            reference: lockstep_pins::GitRef::Tag(tag),
            ..
        }) => {
            let version = tag_version(&tag).unwrap_or_else(|| planned.clone());
            format!("{name} {version} (git tag {tag}, no lockfile)")
        }
        Some(lockstep_pins::Pin::Path { .. }) => format!("{name} {planned} (path)"),
        _ => format!("{name} {planned} (planned; no lockfile entry)"),
    }
}

/// The version at the end of a tag (`v1.2.0`, `core-v1.2.0`, `core@1.2.0`, `1.2.0`).
fn tag_version(tag: &str) -> Option<semver::Version> {
    tag.char_indices()
        .filter(|(i, _)| *i == 0 || matches!(tag.as_bytes()[i - 1], b'v' | b'-' | b'@' | b'/'))
        .find_map(|(i, _)| semver::Version::parse(&tag[i..]).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_versions_are_read_from_the_end() {
        for (tag, v) in [
            ("v1.2.0", "1.2.0"),
            ("core-v1.2.0-rc.1", "1.2.0-rc.1"),
            ("@a/b@2.0.0", "2.0.0"),
            ("1.0.0", "1.0.0"),
        ] {
            assert_eq!(tag_version(tag), semver::Version::parse(v).ok(), "{tag}");
        }
        assert_eq!(tag_version("nightly"), None);
    }
}
