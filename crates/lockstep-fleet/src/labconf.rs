//! `lab.toml`: the canary repositories and how each holds the component.
//!
//! ```toml
//! [[canary]]
//! name = "billing-service"
//! path = "canaries/billing"            # relative to lab.toml
//! test = "cargo test --offline"        # run with sh -c in the copy
//! timeout = 300                        # seconds
//! retries = 1                          # optional: reruns of a failing test (a pass after one is "flaky")
//! core = { mode = "pin", file = "Cargo.toml", dependency = "platform-sdk" }
//!
//! [[canary]]
//! name = "cli-wrapper"
//! path = "canaries/cli"
//! test = "./test.sh"
//! timeout = 120
//! core = { mode = "command", install = "./install.sh" }   # gets LOCKSTEP_TO_VERSION
//! ```
//!
//! `core` has the shape of the vertical manifest's `core` section (`mode: pin` with `file` and
//! `dependency`), plus `mode = "command"` for a canary that installs the version itself.

use std::ops::Range;
use std::path::{Path, PathBuf};

use lockstep_manifest::CoreMode;

use crate::Error;

/// How a canary holds the component.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holding {
    /// A pin in a package manifest, as in the vertical manifest's `core` section.
    Manifest(CoreMode),
    /// A command that installs the version given in `LOCKSTEP_TO_VERSION`.
    Install {
        /// Run with `sh -c` in the copy.
        command: String,
    },
}

/// One canary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Canary {
    /// Its name.
    pub name: String,
    /// The repository (absolute).
    pub path: PathBuf,
    /// The test command, run with `sh -c`.
    pub test: String,
    /// Seconds the tests may take.
    pub timeout: u64,
    /// Reruns of a failing test.
    pub retries: u32,
    /// How it holds the component.
    pub holding: Holding,
}

const CANARY_KEYS: &[&str] = &["name", "path", "test", "timeout", "retries", "core"];

/// Reads and checks `lab.toml` at `path` (canary paths must exist).
pub fn load(path: &Path) -> Result<Vec<Canary>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    parse(&text, path)
}

/// Parses `lab.toml` text; `path` names the file in errors and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Canary>, Error> {
    let base = path.parent().unwrap_or(Path::new("."));
    let err = |span: Option<Range<usize>>, field: String, message: String| {
        let offset = span.map_or(0, |s| s.start);
        let before = text.get(..offset).unwrap_or(text);
        Error::Config {
            path: path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            field,
            message,
        }
    };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        err(
            e.span(),
            String::new(),
            format!("not valid TOML: {}", e.message().trim_end()),
        )
    })?;
    let root = doc.as_table();
    for (key, _) in root.iter() {
        if key != "canary" {
            return Err(err(
                root.key(key).and_then(|k| k.span()),
                key.to_owned(),
                "unknown key; lab.toml holds [[canary]] tables".into(),
            ));
        }
    }
    let Some(tables) = root.get("canary").and_then(|c| c.as_array_of_tables()) else {
        return Err(err(
            None,
            "canary".into(),
            "no [[canary]] tables; each needs name, path, test, timeout and core".into(),
        ));
    };
    let mut canaries: Vec<Canary> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let field = |k: &str| format!("canary[{}].{k}", i + 1);
        for (k, _) in t.iter() {
            if !CANARY_KEYS.contains(&k) {
                return Err(err(
                    t.key(k).and_then(|x| x.span()),
                    field(k),
                    format!("unknown key; expected {}", CANARY_KEYS.join(", ")),
                ));
            }
        }
        let string = |k: &str, what: &str| -> Result<(String, Option<Range<usize>>), Error> {
            let item = t
                .get(k)
                .ok_or_else(|| err(t.span(), field(k), format!("missing; {what}")))?;
            match item.as_str() {
                Some(s) if !s.trim().is_empty() => Ok((s.to_owned(), item.span())),
                _ => Err(err(
                    item.span(),
                    field(k),
                    format!("expected {what} (a non-empty string)"),
                )),
            }
        };
        let integer = |k: &str,
                       default: Option<i64>,
                       range: Range<i64>,
                       what: &str|
         -> Result<i64, Error> {
            match t.get(k) {
                None => default.ok_or_else(|| err(t.span(), field(k), format!("missing; {what}"))),
                Some(item) => item
                    .as_integer()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        err(
                            item.span(),
                            field(k),
                            format!("expected {what}, {} to {}", range.start, range.end - 1),
                        )
                    }),
            }
        };
        let (name, name_span) = string("name", "the canary's name")?;
        if canaries.iter().any(|c| c.name == name) {
            return Err(err(
                name_span,
                field("name"),
                format!("duplicate canary name `{name}`; names must be unique"),
            ));
        }
        let (rel, path_span) = string(
            "path",
            "the canary repository's directory, relative to lab.toml",
        )?;
        let dir = base.join(&rel);
        if !dir.is_dir() {
            return Err(err(
                path_span,
                field("path"),
                format!("{} is not a directory", dir.display()),
            ));
        }
        let (test, _) = string("test", "the test command")?;
        let timeout = integer("timeout", None, 1..86_401, "the test timeout in seconds")?;
        let retries = integer(
            "retries",
            Some(0),
            0..6,
            "the number of reruns of a failing test",
        )?;
        let core = t.get("core");
        let Some(core_table) = core.and_then(|c| c.as_table_like()) else {
            return Err(err(core.and_then(|c| c.span()).or(t.span()), field("core"), "expected a table: {mode = \"pin\", file, dependency} or {mode = \"command\", install}".into()));
        };
        let core_str = |k: &str| {
            core_table
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let holding = match core_str("mode").as_deref() {
            Some("pin") => {
                let file = core_str("file").ok_or_else(|| err(core.and_then(|c| c.span()), field("core.file"), "missing; the Cargo.toml, package.json or pyproject.toml that pins the component".into()))?;
                let dependency = core_str("dependency").ok_or_else(|| {
                    err(
                        core.and_then(|c| c.span()),
                        field("core.dependency"),
                        "missing; the component's name in that file".into(),
                    )
                })?;
                let file_name = file.rsplit('/').next().unwrap_or(&file);
                if lockstep_pins::Ecosystem::from_file_name(file_name).is_none() {
                    return Err(err(
                        core.and_then(|c| c.span()),
                        field("core.file"),
                        format!(
                            "\"{file}\" is not a supported package file; expected a path ending in Cargo.toml, package.json or pyproject.toml"
                        ),
                    ));
                }
                if !dir.join(&file).is_file() {
                    return Err(err(
                        core.and_then(|c| c.span()),
                        field("core.file"),
                        format!("{} does not exist", dir.join(&file).display()),
                    ));
                }
                Holding::Manifest(CoreMode::Pin { file, dependency })
            }
            Some("command") => Holding::Install {
                command: core_str("install").ok_or_else(|| {
                    err(
                        core.and_then(|c| c.span()),
                        field("core.install"),
                        "missing; the command that installs $LOCKSTEP_TO_VERSION".into(),
                    )
                })?,
            },
            other => {
                return Err(err(
                    core.and_then(|c| c.span()),
                    field("core.mode"),
                    format!(
                        "{}; expected \"pin\" (with file and dependency) or \"command\" (with install)",
                        other.map_or("missing".to_owned(), |m| format!("unknown mode \"{m}\""))
                    ),
                ));
            }
        };
        canaries.push(Canary {
            name,
            path: dir,
            test,
            timeout: u64::try_from(timeout).unwrap_or(1),
            retries: u32::try_from(retries).unwrap_or(0),
            holding,
        });
    }
    Ok(canaries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<usize, &str>) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("a")).expect("mkdir");
        std::fs::write(dir.path().join("a/Cargo.toml"), "[package]\nname = \"a\"\n")
            .expect("write");
        let got = parse(text, &dir.path().join("lab.toml"));
        match (got, expected) {
            (Ok(c), Ok(n)) => assert_eq!(c.len(), n),
            (Err(e), Err(msg)) => {
                let shown = e
                    .to_string()
                    .replace(&dir.path().display().to_string(), "TMP");
                let shown = shown
                    .split_once("lab.toml:")
                    .map_or(shown.as_str(), |(_, r)| r);
                assert_eq!(shown, msg, "{text}");
            }
            (got, _) => panic!("{text}: {got:?}"),
        }
    }

    const GOOD: &str = "[[canary]]\nname = \"a\"\npath = \"a\"\ntest = \"true\"\ntimeout = 60\ncore = { mode = \"pin\", file = \"Cargo.toml\", dependency = \"x\" }\n";

    #[test]
    fn lab_files_parse_or_say_where_and_what() {
        check(GOOD, Ok(1));
        check(
            &GOOD.replace(
                "mode = \"pin\", file = \"Cargo.toml\", dependency = \"x\"",
                "mode = \"command\", install = \"./i.sh\"",
            ),
            Ok(1),
        );
        check(
            &GOOD.replace("timeout = 60", "timeout = 0"),
            Err("5:11: canary[1].timeout: expected the test timeout in seconds, 1 to 86400"),
        );
        check(
            &GOOD.replace("path = \"a\"", "path = \"b\""),
            Err("3:8: canary[1].path: TMP/b is not a directory"),
        );
        check(
            &GOOD.replace("\"pin\"", "\"checkout\""),
            Err(
                "6:8: canary[1].core.mode: unknown mode \"checkout\"; expected \"pin\" (with file and dependency) or \"command\" (with install)",
            ),
        );
        check(
            &format!("{GOOD}{GOOD}"),
            Err("8:8: canary[2].name: duplicate canary name `a`; names must be unique"),
        );
        check(
            "[canary]\n",
            Err("1:1: canary: no [[canary]] tables; each needs name, path, test, timeout and core"),
        );
    }
}
