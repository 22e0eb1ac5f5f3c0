//! Whether a version requirement, as Cargo, npm or PEP 440 writes it, admits a version: enough
//! to tell a lagging pin, by translating each comparator into a SemVer one.

use lockstep_cascade::Ecosystem;
use semver::{Version, VersionReq};

/// Whether `requirement` admits `version`; `None` when it cannot be read (npm dist-tags,
/// PEP 440 epochs and local versions, …). An empty requirement admits everything.
pub(crate) fn admits(ecosystem: Ecosystem, requirement: &str, version: &Version) -> Option<bool> {
    let text = requirement.trim();
    if text.is_empty() || text == "*" {
        return Some(true);
    }
    match ecosystem {
        Ecosystem::Cargo => VersionReq::parse(text).ok().map(|r| r.matches(version)),
        Ecosystem::Npm => {
            let mut any = false;
            for alt in text.split("||") {
                any |= npm_alternative(alt.trim(), version)?;
            }
            Some(any)
        }
        Ecosystem::Python => {
            let mut all = true;
            for clause in text.split(',') {
                all &= python_clause(clause.trim(), version)?;
            }
            Some(all)
        }
    }
}

/// One npm alternative: comparators separated by spaces, or a hyphen range `A - B`.
fn npm_alternative(alt: &str, version: &Version) -> Option<bool> {
    if alt.is_empty() || alt == "*" || alt.eq_ignore_ascii_case("x") {
        return Some(true);
    }
    let words: Vec<&str> = alt.split_whitespace().collect();
    let comparators: Vec<String> = if let [lo, "-", hi] = words.as_slice() {
        vec![format!(">={}", strip_v(lo)), format!("<={}", strip_v(hi))]
    } else {
        let mut out = Vec::new();
        let mut pending_op = String::new();
        for w in words {
            // `>= 1.2` is written with a space at times.
            if w.chars().all(|c| matches!(c, '<' | '>' | '=' | '^' | '~')) {
                pending_op = w.to_owned();
                continue;
            }
            let word = format!("{pending_op}{w}");
            pending_op.clear();
            let split = word
                .find(|c: char| !matches!(c, '<' | '>' | '=' | '^' | '~'))
                .unwrap_or(word.len());
            let (op, ver) = word.split_at(split);
            let ver = strip_v(ver);
            // A bare npm version is exact (a prefix match when partial), which semver writes `=`.
            let op = if op.is_empty() { "=" } else { op };
            out.push(format!("{op}{ver}"));
        }
        out
    };
    let req = VersionReq::parse(&comparators.join(", ")).ok()?;
    // npm and the semver crate agree on pre-releases: admitted only when a comparator names
    // the same MAJOR.MINOR.PATCH with a pre-release.
    Some(req.matches(version))
}

fn strip_v(s: &str) -> &str {
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

/// One PEP 440 clause: `>=1.2`, `<2`, `==1.2.*`, `~=1.2`, `!=1.3.0`, `===1.2.0`.
fn python_clause(clause: &str, version: &Version) -> Option<bool> {
    let split = clause
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!' | '~'))
        .unwrap_or(clause.len());
    let (op, ver) = clause.split_at(split);
    let ver = ver.trim();
    let (nums, wild) = match ver.strip_suffix(".*") {
        Some(prefix) => (numbers(prefix)?, true),
        None => (numbers(ver)?, false),
    };
    let full = |n: &[u64]| {
        Version::new(
            n.first().copied().unwrap_or(0),
            n.get(1).copied().unwrap_or(0),
            n.get(2).copied().unwrap_or(0),
        )
    };
    let release = Version::new(version.major, version.minor, version.patch);
    let prefix_eq = |n: &[u64]| {
        let own = [version.major, version.minor, version.patch];
        n.iter().zip(own).all(|(a, b)| *a == b)
    };
    Some(match (op, wild) {
        ("==", true) => prefix_eq(&nums),
        ("!=", true) => !prefix_eq(&nums),
        ("==" | "===", false) => release == full(&nums) && version.pre.is_empty(),
        ("!=", false) => release != full(&nums),
        (">=", false) => release >= full(&nums),
        (">", false) => release > full(&nums),
        ("<=", false) => release <= full(&nums),
        ("<", false) => release < full(&nums),
        ("~=", false) if nums.len() >= 2 => {
            release >= full(&nums) && prefix_eq(&nums[..nums.len() - 1])
        }
        _ => return None,
    })
}

/// `1.2.3` as numbers (1 to 3 of them).
fn numbers(s: &str) -> Option<Vec<u64>> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    parts.iter().map(|p| p.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(ecosystem: Ecosystem, req: &str, version: &str, expected: Option<bool>) {
        let v = Version::parse(version).expect("test version");
        assert_eq!(
            admits(ecosystem, req, &v),
            expected,
            "{ecosystem} {req:?} {version}"
        );
    }

    #[test]
    fn cargo_requirements() {
        use Ecosystem::Cargo;
        check(Cargo, "1.2", "1.9.0", Some(true));
        check(Cargo, "^1.2", "2.0.0", Some(false));
        check(Cargo, "=1.2.3", "1.2.4", Some(false));
        check(Cargo, ">=1.2, <2", "1.5.0", Some(true));
        check(Cargo, "0.3", "0.4.0", Some(false));
        check(Cargo, "", "9.0.0", Some(true));
        check(Cargo, "not a req", "1.0.0", None);
    }

    #[test]
    fn npm_requirements() {
        use Ecosystem::Npm;
        check(Npm, "^1.2.0", "1.3.0", Some(true));
        check(Npm, "^1.2.0", "2.0.0", Some(false));
        check(Npm, "1.2.3", "1.2.4", Some(false));
        check(Npm, "1.2", "1.2.9", Some(true));
        check(Npm, "1.x", "1.9.0", Some(true));
        check(Npm, "~1.2.0", "1.3.0", Some(false));
        check(Npm, ">= 1.0.0 < 2", "1.5.0", Some(true));
        check(Npm, "1.0.0 - 1.4.0", "1.5.0", Some(false));
        check(Npm, "^1.0.0 || ^2.0.0", "2.1.0", Some(true));
        check(Npm, "latest", "1.0.0", None);
    }

    #[test]
    fn python_requirements() {
        use Ecosystem::Python;
        check(Python, ">=1.2,<2", "1.5.0", Some(true));
        check(Python, ">=1.2, <2", "2.0.0", Some(false));
        check(Python, "~=1.2", "1.9.0", Some(true));
        check(Python, "~=1.2", "2.0.0", Some(false));
        check(Python, "~=1.2.3", "1.3.0", Some(false));
        check(Python, "==1.2.*", "1.2.7", Some(true));
        check(Python, "==1.2", "1.2.0", Some(true));
        check(Python, "!=1.3.0", "1.3.0", Some(false));
        check(Python, ">=1!2.0", "1.0.0", None);
    }
}
