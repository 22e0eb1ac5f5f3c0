//! `CHANGELOG.md` entries and the history they are written from.

#[allow(unused_imports)]
use super::*;

pub(super) fn today() -> String {
    lockstep_audit::rfc3339(SystemTime::now())
        .chars()
        .take(10)
        .collect()
}

/// The tag of the package's current version, when it exists.
pub(super) fn previous_tag(dir: &Path, step: &Step) -> Option<String> {
    let prefix = step.tag.strip_suffix(&step.to.to_string())?;
    let tag = format!("{prefix}{}", step.from);
    lockstep_snapshot::tag_exists(dir, &tag)
        .ok()
        .filter(|e| *e)
        .map(|_| tag)
}

/// Prepends a Keep a Changelog entry for `step` to `old`.
pub fn changelog_entry(old: &str, step: &Step, commits: &[String], date: &str) -> String {
    let mut added = Vec::new();
    let mut fixed = Vec::new();
    let mut changed = Vec::new();
    for c in commits {
        let (head, text) = c
            .split_once(':')
            .map_or(("", c.as_str()), |(h, t)| (h, t.trim()));
        let kind = head.split(['(', '!']).next().unwrap_or("");
        if head.ends_with('!') || c.contains("BREAKING CHANGE") {
            changed.push(format!("**Breaking:** {text}"));
        } else if kind == "feat" {
            added.push(text.to_owned());
        } else if kind == "fix" || kind == "perf" {
            fixed.push(text.to_owned());
        }
    }
    let mut entry = format!("## [{}] - {date}\n", step.to);
    for (title, items) in [("Changed", &changed), ("Added", &added), ("Fixed", &fixed)] {
        if !items.is_empty() {
            entry.push_str(&format!("\n### {title}\n\n"));
            for i in items {
                entry.push_str(&format!("- {i}\n"));
            }
        }
    }
    let deps: Vec<String> = step
        .pin_edits
        .iter()
        .map(|e| format!("- {}: {} → {}", e.dependency, e.from, e.to))
        .collect();
    if !deps.is_empty() {
        entry.push_str("\n### Dependencies\n\n");
        for d in deps {
            entry.push_str(&d);
            entry.push('\n');
        }
    }
    if added.is_empty() && fixed.is_empty() && changed.is_empty() && step.pin_edits.is_empty() {
        entry.push_str(&format!(
            "\n- Released as part of a cascade ({}).\n",
            step.reason
        ));
    }
    const HEADER: &str = "# Changelog\n\nAll notable changes to this package are documented here. The format follows\n[Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and versions follow SemVer.\n";
    if old.trim().is_empty() {
        return format!("{HEADER}\n{entry}");
    }
    match old.find("\n## ") {
        Some(at) => format!("{}\n{entry}{}", &old[..=at], &old[at + 1..]),
        None => format!("{}\n\n{entry}", old.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> Step {
        let json = r#"{"schema": "lockstep.cascade-plan/v1", "digest": "d", "waves": [[{
            "package": "runtime", "repo": "runtime", "ecosystem": "cargo", "manifest": "Cargo.toml",
            "from": "1.0.0", "to": "1.0.1", "bump": "patch", "reason": "pins manifest 1.0.0 → 1.1.0",
            "pin_edits": [{"file": "Cargo.toml", "dependency": "manifest", "from": "v1.0.0", "to": "v1.1.0", "kind": "tag"}],
            "tag": "v1.0.1", "lockfile_command": null, "smoke": null, "upstreams": []}]]}"#;
        let plan: Plan = serde_json::from_str(json).unwrap();
        plan.waves[0][0].clone()
    }

    #[test]
    fn changelog_entries_follow_keep_a_changelog() {
        let s = step();
        let commits = vec![
            "feat(api): new endpoint".to_owned(),
            "fix: off by one".to_owned(),
            "chore: tidy".to_owned(),
            "feat!: drop v1".to_owned(),
        ];
        let first = changelog_entry("", &s, &commits, "2026-11-22");
        assert!(first.starts_with("# Changelog\n"), "{first}");
        assert!(first.contains("## [1.0.1] - 2026-11-22\n\n### Changed\n\n- **Breaking:** drop v1\n\n### Added\n\n- new endpoint\n\n### Fixed\n\n- off by one\n\n### Dependencies\n\n- manifest: v1.0.0 → v1.1.0\n"), "{first}");
        assert!(!first.contains("tidy"));
        // A second entry goes above the first, below the header.
        let second = changelog_entry(&first, &s, &[], "2026-11-23");
        let new_at = second.find("## [1.0.1] - 2026-11-23").unwrap();
        let old_at = second.find("## [1.0.1] - 2026-11-22").unwrap();
        assert!(
            second.starts_with("# Changelog\n") && new_at < old_at,
            "{second}"
        );
    }
}
