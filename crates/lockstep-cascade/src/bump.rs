//! Bumps and conventional commits.

use semver::Version;

pub use lockstep_vocab::Bump;

/// The bump conventional commits call for at `version`, or `None` when no commit is a
/// `feat`, `fix`, `perf` or breaking change. See [`Change::from_commits`] and
/// [`Change::bump_for`].
pub fn bump_from_commits(version: &Version, messages: &[&str]) -> Option<Bump> {
    Change::from_commits(messages).map(|c| c.bump_for(version))
}

/// What a set of changes means for users, independent of the version number. Ordered by
/// size: `Fix < Feature < Breaking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Bug fixes or performance work only (`fix`, `perf`).
    Fix,
    /// New, compatible features (`feat`).
    Feature,
    /// An incompatible change (`type!:` or a `BREAKING CHANGE:` footer).
    Breaking,
}

impl Change {
    /// The largest change among conventional-commit messages, or `None` when none counts.
    ///
    /// A message counts by its first line, `type(scope)!: description` (type compared without
    /// case, scope optional): `feat` is a feature; `fix` and `perf` are fixes; a `!` before the
    /// colon, whatever the type, is breaking, and so is a later line that starts with
    /// `BREAKING CHANGE:` or `BREAKING-CHANGE:` (upper case, as the specification requires).
    /// Other types (`chore`, `docs`, …) and messages that are not conventional count for
    /// nothing.
    pub fn from_commits(messages: &[&str]) -> Option<Change> {
        messages.iter().filter_map(|m| classify(m)).max()
    }

    /// The bump this change calls for at `version`. From 1.0.0: breaking → major, feature →
    /// minor, fix → patch. Below 1.0.0, where Cargo treats the first non-zero component as the
    /// major: breaking → minor, feature and fix → patch.
    pub fn bump_for(self, version: &Version) -> Bump {
        match (version.major, self) {
            (0, Change::Breaking) => Bump::Minor,
            (0, _) | (_, Change::Fix) => Bump::Patch,
            (_, Change::Feature) => Bump::Minor,
            (_, Change::Breaking) => Bump::Major,
        }
    }

    /// `breaking change`, `feat` or `fix`, as the plan's reasons word them.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Change::Breaking => "breaking changes",
            Change::Feature => "feat commits",
            Change::Fix => "fix commits",
        }
    }
}

/// One commit message's change, if it is a conventional commit that counts.
fn classify(message: &str) -> Option<Change> {
    let mut lines = message.lines();
    let header = lines.next()?.trim_start();
    let footer_breaking = lines.any(|l| {
        let l = l.trim_start();
        l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:")
    });
    let (prefix, _) = header.split_once(':')?;
    let (prefix, bang) = match prefix.strip_suffix('!') {
        Some(p) => (p, true),
        None => (prefix, false),
    };
    let kind = match prefix.split_once('(') {
        Some((kind, scope)) if scope.ends_with(')') && !scope[..scope.len() - 1].contains(')') => {
            kind
        }
        Some(_) => return None,
        None => prefix,
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    if bang || footer_breaking {
        return Some(Change::Breaking);
    }
    match kind.to_ascii_lowercase().as_str() {
        "feat" => Some(Change::Feature),
        "fix" | "perf" => Some(Change::Fix),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(message: &str, expected: Option<Change>) {
        assert_eq!(classify(message), expected, "{message:?}");
    }

    #[test]
    fn classifies_conventional_commits() {
        check("feat: add x", Some(Change::Feature));
        check("Feat(api): add x", Some(Change::Feature));
        check("fix: y", Some(Change::Fix));
        check("perf(core): faster", Some(Change::Fix));
        check("refactor!: drop z", Some(Change::Breaking));
        check("feat(api)!: drop z", Some(Change::Breaking));
        check(
            "chore: deps\n\nBREAKING CHANGE: needs rust 1.95",
            Some(Change::Breaking),
        );
        check("fix: a\n\nBREAKING-CHANGE: b", Some(Change::Breaking));
        check("fix: a\n\nbreaking change: b", Some(Change::Fix));
        check("chore: release", None);
        check("docs(readme): typo", None);
        check("Merge branch 'main'", None);
        check("feat add x", None);
        check("feat(api: add x", None);
        check("feat (api): add x", None);
        check("", None);
        check("BREAKING CHANGE: header only", None);
    }

    #[test]
    fn bumps_follow_semver_and_cargo_below_one() {
        let v = |s: &str| Version::parse(s).expect("test versions are valid");
        let table = [
            ("1.2.3", Change::Breaking, Bump::Major),
            ("1.2.3", Change::Feature, Bump::Minor),
            ("1.2.3", Change::Fix, Bump::Patch),
            ("0.4.1", Change::Breaking, Bump::Minor),
            ("0.4.1", Change::Feature, Bump::Patch),
            ("0.4.1", Change::Fix, Bump::Patch),
            ("0.0.3", Change::Breaking, Bump::Minor),
        ];
        for (version, change, bump) in table {
            assert_eq!(change.bump_for(&v(version)), bump, "{version} {change:?}");
        }
        assert_eq!(
            bump_from_commits(&v("1.0.0"), &["fix: a", "feat: b", "chore: c"]),
            Some(Bump::Minor)
        );
        assert_eq!(bump_from_commits(&v("1.0.0"), &["chore: c"]), None);
        assert_eq!(bump_from_commits(&v("1.0.0"), &[]), None);
    }

    #[test]
    fn apply_is_literal_and_finishes_pre_releases() {
        let v = |s: &str| Version::parse(s).expect("test versions are valid");
        let table = [
            ("1.2.3", Bump::Major, "2.0.0"),
            ("1.2.3", Bump::Minor, "1.3.0"),
            ("1.2.3", Bump::Patch, "1.2.4"),
            ("0.3.1", Bump::Major, "1.0.0"),
            ("0.3.1", Bump::Minor, "0.4.0"),
            ("1.2.3+build.5", Bump::Patch, "1.2.4"),
            ("1.0.0-rc.1", Bump::Major, "1.0.0"),
            ("1.0.0-rc.1", Bump::Patch, "1.0.0"),
            ("1.1.0-rc.1", Bump::Minor, "1.1.0"),
            ("1.1.0-rc.1", Bump::Major, "2.0.0"),
            ("1.1.2-rc.1", Bump::Minor, "1.2.0"),
        ];
        for (from, bump, to) in table {
            assert_eq!(bump.apply(&v(from)), Some(v(to)), "{from} + {bump}");
        }
        assert_eq!(Bump::Patch.apply(&Version::new(1, 0, u64::MAX)), None);
    }

    #[test]
    fn names_round_trip() {
        for b in [Bump::Major, Bump::Minor, Bump::Patch] {
            assert_eq!(b.as_str().parse::<Bump>(), Ok(b));
        }
        assert!("huge".parse::<Bump>().is_err());
    }
}
