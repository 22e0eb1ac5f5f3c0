//! Lockfile knowledge as data: which file each ecosystem locks into, which
//! tool regenerates it and with which arguments. This crate runs nothing.

use semver::Version;
use std::fmt;

use crate::{Ecosystem, Error, PinValue, python};

/// The tool that owns a manifest's lockfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockTool {
    /// `cargo`, writing `Cargo.lock` (at the workspace root for a member).
    Cargo,
    /// `npm`, writing `package-lock.json`.
    Npm,
    /// `uv`, writing `uv.lock`.
    Uv,
    /// `poetry` (2.x), writing `poetry.lock`.
    Poetry,
}

impl LockTool {
    /// The tool for a manifest. For `pyproject.toml`, a `[tool.uv]` table
    /// means uv; otherwise a `[tool.poetry]` table or a Poetry build backend
    /// means Poetry; anything else is taken to be uv.
    pub fn for_manifest(ecosystem: Ecosystem, text: &str) -> Result<LockTool, Error> {
        Ok(match ecosystem {
            Ecosystem::Cargo => LockTool::Cargo,
            Ecosystem::Npm => LockTool::Npm,
            Ecosystem::Python if python::uses_poetry(text)? => LockTool::Poetry,
            Ecosystem::Python => LockTool::Uv,
        })
    }

    /// The binary that must be on `PATH` to regenerate the lockfile.
    pub fn program(self) -> &'static str {
        match self {
            LockTool::Cargo => "cargo",
            LockTool::Npm => "npm",
            LockTool::Uv => "uv",
            LockTool::Poetry => "poetry",
        }
    }

    /// The lockfile's name.
    pub fn lockfile_name(self) -> &'static str {
        match self {
            LockTool::Cargo => "Cargo.lock",
            LockTool::Npm => "package-lock.json",
            LockTool::Uv => "uv.lock",
            LockTool::Poetry => "poetry.lock",
        }
    }

    /// The command that brings the lockfile in line after `dependency`'s pin
    /// was changed to `new`, run in the manifest's directory.
    ///
    /// `resolved` is the exact version the lockfile should hold, when the
    /// caller knows it (the upstream's new release).
    ///
    /// - Cargo, version requirement: `cargo update -p NAME --precise VERSION`
    ///   when `resolved` is given, so the lockfile holds exactly the released
    ///   version; `cargo update -p NAME` otherwise.
    /// - Cargo, git tag or rev: `cargo update -p NAME`. Cargo's `--precise`
    ///   means a commit for git sources, which the manifest's new tag or rev
    ///   already names, so it is not passed.
    /// - npm: `npm install --package-lock-only` (updates the lock without
    ///   touching `node_modules` or running scripts).
    /// - uv: `uv lock`; Poetry: `poetry lock` (Poetry 2 keeps other locked
    ///   versions; Poetry 1 needs `--no-update` and is not supported).
    pub fn after_pin_change(
        self,
        dependency: &str,
        new: &PinValue,
        resolved: Option<&str>,
    ) -> Command {
        match (self, new, resolved) {
            (LockTool::Cargo, PinValue::Version(_), Some(version)) => {
                Command::new(self, ["update", "-p", dependency, "--precise", version])
            }
            (LockTool::Cargo, _, _) => Command::new(self, ["update", "-p", dependency]),
            _ => self.regenerate(),
        }
    }

    /// The command that records a changed package version in the lockfile,
    /// or `None` when the lockfile does not hold it (`poetry.lock`).
    /// Cargo: `cargo update --workspace`, which touches only workspace members.
    pub fn after_version_change(self) -> Option<Command> {
        match self {
            LockTool::Cargo => Some(Command::new(self, ["update", "--workspace"])),
            LockTool::Poetry => None,
            _ => Some(self.regenerate()),
        }
    }

    fn regenerate(self) -> Command {
        match self {
            LockTool::Npm => Command::new(self, ["install", "--package-lock-only"]),
            LockTool::Poetry | LockTool::Uv => Command::new(self, ["lock"]),
            LockTool::Cargo => Command::new(self, ["update", "--workspace"]),
        }
    }
}

impl fmt::Display for LockTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())
    }
}

/// A command to run, as data: a program and its arguments, no shell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Command {
    /// The binary, looked up on `PATH` (see [`LockTool::program`]).
    pub program: &'static str,
    /// Its arguments, one per element.
    pub args: Vec<String>,
}

impl Command {
    fn new<const N: usize>(tool: LockTool, args: [&str; N]) -> Command {
        Command {
            program: tool.program(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

impl fmt::Display for Command {
    /// The command as a user would type it in a POSIX shell, quoting
    /// arguments that need it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program)?;
        for arg in &self.args {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.,/:@=+^~".contains(c));
            if plain {
                write!(f, " {arg}")?;
            } else {
                write!(f, " '{}'", arg.replace('\'', r"'\''"))?;
            }
        }
        Ok(())
    }
}

/// The version `lockfile` (by its file name: `Cargo.lock`, `uv.lock`, `poetry.lock` or
/// `package-lock.json`) resolved for `dependency`; `None` when it names none.
///
/// ```
/// let lock = "version = 4\n\n[[package]]\nname = \"core\"\nversion = \"1.1.0\"\n";
/// assert_eq!(lockstep_pins::locked_version("Cargo.lock", lock, "core"), Some(semver::Version::new(1, 1, 0)));
/// ```
pub fn locked_version(lockfile: &str, text: &str, dependency: &str) -> Option<Version> {
    match lockfile {
        "package-lock.json" => npm_lock_version(text, dependency),
        _ => toml_lock_version(text, dependency),
    }
}

/// `[[package]] name = … version = …` (Cargo.lock, uv.lock, poetry.lock). With several
/// versions of one name, the highest wins.
pub fn toml_lock_version(text: &str, dependency: &str) -> Option<Version> {
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    let packages = doc.get("package")?.as_array_of_tables()?;
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    packages
        .iter()
        .filter(|t| {
            t.get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| norm(n) == norm(dependency))
        })
        .filter_map(|t| Version::parse(t.get("version")?.as_str()?).ok())
        .max_by(|a, b| a.cmp_precedence(b))
}

/// `packages["node_modules/NAME"].version` (lockfileVersion 2 and 3; for a workspace link, the
/// version of the member it resolves to) or
/// `dependencies[NAME].version` (version 1).
pub fn npm_lock_version(text: &str, dependency: &str) -> Option<Version> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    // A workspace member is a link (`{"resolved": "workspaces/a", "link": true}`); its
    // version is on the entry it links to.
    let packages = json.get("packages");
    let entry = packages.and_then(|p| p.get(format!("node_modules/{dependency}")));
    if let Some(target) = entry
        .filter(|e| e.get("link").and_then(serde_json::Value::as_bool) == Some(true))
        .and_then(|e| e.get("resolved")?.as_str())
    {
        let v = packages?.get(target)?.get("version")?.as_str()?;
        return Version::parse(v).ok();
    }
    let v = json
        .get("packages")
        .and_then(|p| p.get(format!("node_modules/{dependency}")))
        .or_else(|| json.get("dependencies").and_then(|d| d.get(dependency)))?
        .get("version")?
        .as_str()?;
    Version::parse(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_link_reads_the_member_version() {
        let lock = r#"{"lockfileVersion": 3, "packages": {
            "node_modules/@npmcli/arborist": {"resolved": "workspaces/arborist", "link": true},
            "workspaces/arborist": {"name": "@npmcli/arborist", "version": "9.0.0"},
            "node_modules/semver": {"version": "7.6.0"}}}"#;
        assert_eq!(
            npm_lock_version(lock, "@npmcli/arborist"),
            Some(Version::new(9, 0, 0))
        );
        assert_eq!(
            npm_lock_version(lock, "semver"),
            Some(Version::new(7, 6, 0))
        );
    }
}
