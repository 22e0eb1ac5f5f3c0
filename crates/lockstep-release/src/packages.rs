//! What discovery and the tag check both need to read a package: clean paths, versions read
//! as SemVer the same way, and package names compared as each ecosystem compares them.

use lockstep_pins::Ecosystem;
use semver::Version;

/// A path as `a/b`, without `./` and trailing separators.
pub(crate) fn clean(path: &str) -> String {
    path.replace('\\', "/")
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A package's own version as SemVer. Python versions with fewer than three components are
/// padded (`1.2` is 1.2.0); other PEP 440 forms (`1.2rc1`, `1.2.post1`) are refused.
pub(crate) fn parse_version(eco: Ecosystem, written: &str) -> Result<Version, String> {
    let text = written.trim();
    if let Ok(v) = Version::parse(text) {
        return Ok(v);
    }
    if eco == Ecosystem::Python {
        let parts: Vec<&str> = text.split('.').collect();
        if (1..3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let mut padded = parts.join(".");
            for _ in parts.len()..3 {
                padded.push_str(".0");
            }
            if let Ok(v) = Version::parse(&padded) {
                return Ok(v);
            }
        }
    }
    Err(format!(
        "version `{written}` is not SemVer; expected MAJOR.MINOR.PATCH such as 1.4.0"
    ))
}

/// Whether a package called `declared` is the one a tag calls `wanted`.
pub(crate) fn same_name(ecosystem: Ecosystem, declared: Option<&str>, wanted: &str) -> bool {
    match declared {
        Some(d) if ecosystem == Ecosystem::Python => {
            lockstep_pins::normalize_python_name(d) == lockstep_pins::normalize_python_name(wanted)
        }
        Some(d) => d == wanted,
        None => false,
    }
}
