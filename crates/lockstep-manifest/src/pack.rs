//! The pack manifest, `pack.yaml`: an add-on pack's name, version, what it needs from core and
//! from other packs, how its tests run, and its hooks.

use lockstep_vocab::{Ecosystem, Requirement};
use serde::{Serialize, Serializer};
use serde_json::{Value as Json, json};

use crate::node::{Node, Seg, Value, parse_yaml};
use crate::problem::{Invalid, ProblemKind};
use crate::reader::Reader;
use crate::schema::{self, object, text};
use crate::version::VersionBound;

/// The file a pack's manifest lives in, at the pack's root.
pub const PACK_FILE_NAME: &str = "pack.yaml";
/// The name the pack manifest's JSON Schema is committed under in `docs/schemas/`.
pub const PACK_SCHEMA_FILE_NAME: &str = "pack.schema.json";
/// The test timeout in seconds when `tests.timeout` is not given.
pub const DEFAULT_PACK_TEST_TIMEOUT: u32 = 300;
/// The accepted range of `tests.timeout` in seconds, inclusive.
pub const PACK_TEST_TIMEOUT_RANGE: (u32, u32) = (1, 86_400);
/// The longest pack name accepted.
pub const MAX_PACK_NAME: usize = 64;

/// An add-on pack's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackManifest {
    /// Lowercase letters, digits and `-`, starting with a letter (`postgres-connector`).
    pub name: String,
    /// The pack's own version.
    pub version: semver::Version,
    /// One line for people.
    pub description: String,
    /// Words `search` matches besides the name and description.
    pub keywords: Vec<String>,
    /// Which core versions the pack works with; every bound optional.
    pub core: PackCore,
    /// Other packs this one needs.
    pub requires: Vec<PackRequirement>,
    /// How the pack's tests run.
    pub tests: PackTests,
    /// Commands run around installation and removal.
    pub hooks: PackHooks,
}

/// The optional `core` section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct PackCore {
    /// Lowest core version accepted (inclusive), with the manifest's wildcard rules.
    pub min_core_version: Option<VersionBound>,
    /// Highest core version accepted (inclusive, or a wildcard prefix such as `1.x.x`).
    pub max_core_version: Option<VersionBound>,
    /// The contracts major version the pack was built against.
    pub contracts_major: Option<u64>,
}

impl PackCore {
    /// Whether core `version` is inside the range (an absent bound admits everything).
    pub fn admits(&self, version: &semver::Version) -> bool {
        self.min_core_version
            .as_ref()
            .is_none_or(|b| b.admits_from_below(version))
            && self
                .max_core_version
                .as_ref()
                .is_none_or(|b| b.admits_from_above(version))
    }

    /// The range for people: `>= 1.0.0, <= 1.x.x`, or `any` when unbounded.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(min) = &self.min_core_version {
            parts.push(format!(">= {min}"));
        }
        if let Some(max) = &self.max_core_version {
            parts.push(format!("<= {max}"));
        }
        if parts.is_empty() {
            "any".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// One entry of `requires`: another pack and the versions of it that will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackRequirement {
    /// The other pack's name.
    pub name: String,
    /// A Cargo-style version requirement (`^1.2`, `>=1.0, <2`, `1.*`); `*` when not given.
    #[serde(serialize_with = "requirement_text")]
    pub version: Requirement,
}

fn requirement_text<S: Serializer>(req: &Requirement, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(req.as_str())
}

/// The `tests` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackTests {
    /// Program (relative to the pack's root) and arguments, run without a shell.
    pub command: Vec<String>,
    /// Seconds the tests may run.
    pub timeout: u32,
    /// A JUnit XML file the command writes, relative to the pack's root; its counts decide.
    pub report: Option<String>,
}

/// The optional `hooks` section; each hook is a program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct PackHooks {
    /// Run in the installed pack's directory once it is in place.
    pub post_install: Option<Vec<String>>,
    /// Run before the pack is removed; a failure refuses the removal.
    pub pre_remove: Option<Vec<String>>,
}

pub(crate) const TOP: &[&str] = &[
    "name",
    "version",
    "description",
    "keywords",
    "core",
    "requires",
    "tests",
    "hooks",
];
pub(crate) const TOP_REQUIRED: &[&str] = &["name", "version", "description", "tests"];
pub(crate) const CORE: &[&str] = &["min_core_version", "max_core_version", "contracts_major"];
pub(crate) const REQUIRE: &[&str] = &["name", "version"];
pub(crate) const TESTS: &[&str] = &["command", "timeout", "report"];
pub(crate) const HOOKS: &[&str] = &["post_install", "pre_remove"];

const NAME_RULE: &str = "lowercase letters, digits and '-', starting with a letter, at most 64 characters, such as postgres-connector";

/// Whether `name` is a valid pack name.
pub fn is_pack_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_PACK_NAME
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

impl PackManifest {
    /// Parses and validates `pack.yaml` text, reporting every problem found.
    ///
    /// ```
    /// use lockstep_manifest::PackManifest;
    ///
    /// let text = "name: pg\nversion: 1.2.0\ndescription: Postgres connector\n\
    ///     requires:\n  - name: base\n    version: ^1.0\ntests:\n  command: ./test.sh\n";
    /// let pack = PackManifest::parse(text).unwrap();
    /// assert_eq!(pack.requires[0].name, "base");
    /// assert_eq!(pack.tests.timeout, 300);
    ///
    /// let err = PackManifest::parse(&text.replace("pg", "PG")).unwrap_err();
    /// assert_eq!((err.problems[0].line, err.problems[0].field.as_str()), (1, "name"));
    /// ```
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let doc = "pack manifest";
        let root = parse_yaml(text).map_err(|p| Invalid::new(doc, vec![p]))?;
        let mut r = Reader::new();
        let pack = read_pack(&mut r, &root);
        match pack {
            Some(p) if !r.has_problems() => Ok(p),
            _ => Err(Invalid::new(doc, r.finish(None))),
        }
    }

    /// The JSON Schema (draft 2020-12) of `pack.yaml`, committed as
    /// `docs/schemas/`[`PACK_SCHEMA_FILE_NAME`].
    pub fn schema() -> Json {
        pack_schema()
    }
}

fn read_pack(r: &mut Reader, root: &Node) -> Option<PackManifest> {
    let f = r.fields(root, TOP)?;
    let name = r
        .required(&f, "name", "the pack's name")
        .and_then(|n| r.key("name", |r| pack_name(r, n)));
    let version = r
        .required(&f, "version", "the pack's SemVer version")
        .and_then(|n| r.key("version", |r| r.semver(n, "the pack's version")));
    let description = r
        .required(&f, "description", "one line saying what the pack does")
        .and_then(|n| r.key("description", |r| r.string(n, "a description")));
    let keywords = r.key("keywords", |r| r.string_list(f.get("keywords"), "keywords"));
    let core = match f.get("core") {
        None => Some(PackCore::default()),
        Some(n) if n.value == Value::Null => Some(PackCore::default()),
        Some(n) => r.key("core", |r| read_core(r, n)),
    };
    let requires = match f.get("requires") {
        None => Some(Vec::new()),
        Some(n) => r.key("requires", |r| read_requires(r, n)),
    };
    let tests = r
        .required(&f, "tests", "a mapping with command, timeout and report")
        .and_then(|n| r.key("tests", |r| read_tests(r, n)));
    let hooks = match f.get("hooks") {
        None => Some(PackHooks::default()),
        Some(n) => r.key("hooks", |r| read_hooks(r, n)),
    };
    Some(PackManifest {
        name: name?,
        version: version?,
        description: description?,
        keywords,
        core: core?,
        requires: requires?,
        tests: tests?,
        hooks: hooks?,
    })
}

fn pack_name(r: &mut Reader, n: &Node) -> Option<String> {
    let s = r.string(n, "a pack name")?;
    if is_pack_name(&s) {
        Some(s)
    } else {
        r.report(
            n.pos,
            ProblemKind::Value,
            format!("\"{s}\" is not a pack name; expected {NAME_RULE}"),
        );
        None
    }
}

fn bound(r: &mut Reader, n: &Node) -> Option<VersionBound> {
    let s = r.string(n, "a SemVer version or wildcard")?;
    match s.parse::<VersionBound>() {
        Ok(b) => Some(b),
        Err(e) => {
            r.report(n.pos, ProblemKind::Value, e.to_string());
            None
        }
    }
}

fn read_core(r: &mut Reader, n: &Node) -> Option<PackCore> {
    let f = r.fields(n, CORE)?;
    let opt_bound = |r: &mut Reader, key: &'static str| match f.get(key) {
        None => Some(None),
        Some(n) => r.key(key, |r| bound(r, n)).map(Some),
    };
    let min = opt_bound(r, "min_core_version");
    let max = opt_bound(r, "max_core_version");
    if let (Some(Some(min)), Some(Some(max)), Some(max_node)) =
        (&min, &max, f.get("max_core_version"))
        && let Some(floor) = min.floor()
        && !max.admits_from_above(&floor)
    {
        r.key("max_core_version", |r| {
            r.report(
                max_node.pos,
                ProblemKind::Value,
                format!(
                    "max_core_version {max} is below min_core_version {min}; \
                     expected a maximum at or above the minimum"
                ),
            );
        });
    }
    let contracts_major = match f.get("contracts_major") {
        None => Some(None),
        Some(n) => r
            .key("contracts_major", |r| {
                r.integer(n, "a whole number", 0, i128::from(u32::MAX))
            })
            .map(|i| Some(i as u64)),
    };
    Some(PackCore {
        min_core_version: min?,
        max_core_version: max?,
        contracts_major: contracts_major?,
    })
}

fn read_requires(r: &mut Reader, n: &Node) -> Option<Vec<PackRequirement>> {
    let items = match &n.value {
        Value::Null => return Some(Vec::new()),
        Value::Seq(items) => items,
        other => {
            r.report(
                n.pos,
                ProblemKind::Type,
                format!(
                    "expected a list of {{name, version}} mappings, found {}",
                    other.type_name()
                ),
            );
            return None;
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match r.at(Seg::Index(i), |r| read_requirement(r, item)) {
            Some(req) if out.iter().any(|o: &PackRequirement| o.name == req.name) => {
                r.at(Seg::Index(i), |r| {
                    r.report(
                        item.pos,
                        ProblemKind::Duplicate,
                        format!("`{}` is required twice; write one entry per pack", req.name),
                    )
                });
                ok = false;
            }
            Some(req) => out.push(req),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_requirement(r: &mut Reader, n: &Node) -> Option<PackRequirement> {
    let f = r.fields(n, REQUIRE)?;
    let name = r
        .required(&f, "name", "the required pack's name")
        .and_then(|n| r.key("name", |r| pack_name(r, n)));
    let version = match f.get("version") {
        None => Requirement::parse("*", Ecosystem::Cargo).ok(),
        Some(n) => r.key("version", |r| {
            let s = r.string(n, "a version requirement")?;
            match Requirement::parse(s.trim(), Ecosystem::Cargo) {
                Ok(req) => Some(req),
                Err(_) => {
                    r.report(
                        n.pos,
                        ProblemKind::Value,
                        format!(
                            "\"{s}\" is not a version requirement; expected Cargo syntax such as ^1.2, ~1.4.0, >=1.0, <2 or 1.*"
                        ),
                    );
                    None
                }
            }
        }),
    };
    Some(PackRequirement {
        name: name?,
        version: version?,
    })
}

/// A command: a string split on whitespace, or a list of program and arguments.
fn command(r: &mut Reader, n: &Node, example: &str) -> Option<Vec<String>> {
    let command: Vec<String> = match &n.value {
        Value::Str(_) => r
            .string(n, "a program path")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        _ => r.string_list(Some(n), "program and arguments"),
    };
    if command.is_empty() {
        r.report(
            n.pos,
            ProblemKind::Value,
            format!("is empty; expected a program and its arguments such as {example}"),
        );
        return None;
    }
    Some(command)
}

/// A path inside the pack: relative, without `..`.
fn inner_path(r: &mut Reader, n: &Node, what: &str) -> Option<String> {
    let s = r.string(n, what)?;
    let escapes = s.starts_with('/') || s.split(['/', '\\']).any(|c| c == "..");
    if escapes {
        r.report(
            n.pos,
            ProblemKind::Value,
            format!(
                "\"{s}\" leaves the pack; expected {what} relative to the pack's root, without '..'"
            ),
        );
        return None;
    }
    Some(s)
}

fn read_tests(r: &mut Reader, n: &Node) -> Option<PackTests> {
    let f = r.fields(n, TESTS)?;
    let cmd = r
        .required(
            &f,
            "command",
            "the program that runs the tests, with its arguments",
        )
        .and_then(|n| r.key("command", |r| command(r, n, "./run-tests.sh")));
    let (lo, hi) = PACK_TEST_TIMEOUT_RANGE;
    let timeout = match f.get("timeout") {
        None => Some(DEFAULT_PACK_TEST_TIMEOUT),
        Some(n) => r
            .key("timeout", |r| r.integer(n, "seconds", lo.into(), hi.into()))
            .map(|i| i as u32),
    };
    let report = match f.get("report") {
        None => Some(None),
        Some(n) if n.value == Value::Null => Some(None),
        Some(n) => r
            .key("report", |r| inner_path(r, n, "a JUnit XML file path"))
            .map(Some),
    };
    Some(PackTests {
        command: cmd?,
        timeout: timeout?,
        report: report?,
    })
}

fn read_hooks(r: &mut Reader, n: &Node) -> Option<PackHooks> {
    if n.value == Value::Null {
        return Some(PackHooks::default());
    }
    let f = r.fields(n, HOOKS)?;
    let hook = |r: &mut Reader, key: &'static str| match f.get(key) {
        None => Some(None),
        Some(n) => r.key(key, |r| command(r, n, "./hooks/setup.sh")).map(Some),
    };
    let post_install = hook(r, "post_install");
    let pre_remove = hook(r, "pre_remove");
    Some(PackHooks {
        post_install: post_install?,
        pre_remove: pre_remove?,
    })
}

fn pack_schema() -> Json {
    let (lo, hi) = PACK_TEST_TIMEOUT_RANGE;
    let command = |description: &str| {
        json!({
            "description": description,
            "oneOf": [
                { "type": "string", "pattern": r"\S" },
                { "type": "array", "items": { "type": "string", "pattern": r"\S" }, "minItems": 1 }
            ]
        })
    };
    let name_schema = |description: &str| {
        json!({
            "description": description,
            "type": "string",
            "pattern": "^[a-z](?:[a-z0-9-]{0,62}[a-z0-9])?$",
        })
    };
    let mut root = object(
        "an add-on pack's manifest (pack.yaml at the pack's root)",
        TOP,
        TOP_REQUIRED,
        |field| match field {
            "name" => name_schema(NAME_RULE),
            "version" => json!({
                "description": "the pack's version",
                "type": "string",
                "pattern": schema::SEMVER_PATTERN,
            }),
            "description" => text("one line saying what the pack does"),
            "keywords" => schema::list("words `pack search` matches"),
            "core" => {
                let mut core = object(
                    "which core versions the pack works with; every field optional",
                    CORE,
                    &[],
                    |f| match f {
                        "min_core_version" => json!({
                            "description": "lowest core version accepted (inclusive)",
                            "$ref": "#/$defs/version_bound",
                        }),
                        "max_core_version" => json!({
                            "description": "highest core version accepted (inclusive), or a wildcard prefix such as 1.x.x",
                            "$ref": "#/$defs/version_bound",
                        }),
                        "contracts_major" => json!({
                            "description": "the contracts major version the pack was built against",
                            "type": "integer",
                            "minimum": 0,
                            "maximum": u32::MAX,
                        }),
                        _ => json!({ "description": "undocumented" }),
                    },
                );
                core.insert("type".into(), json!(["object", "null"]));
                Json::Object(core)
            }
            "requires" => json!({
                "description": "other packs this one needs, one entry per pack",
                "type": ["array", "null"],
                "items": Json::Object(object("a required pack", REQUIRE, &["name"], |f| match f {
                    "name" => name_schema("the required pack's name"),
                    "version" => text("a Cargo-style version requirement such as ^1.2 or >=1.0, <2; default *"),
                    _ => json!({ "description": "undocumented" }),
                })),
            }),
            "tests" => Json::Object(object(
                "how the pack's tests run",
                TESTS,
                &["command"],
                |f| match f {
                    "command" => command(
                        "program (relative to the pack's root) and arguments, run without a shell",
                    ),
                    "timeout" => json!({
                        "description": "seconds the tests may run",
                        "type": "integer",
                        "minimum": lo,
                        "maximum": hi,
                        "default": DEFAULT_PACK_TEST_TIMEOUT,
                    }),
                    "report" => json!({
                        "description": "a JUnit XML file the command writes, relative to the pack's root; its counts decide",
                        "type": ["string", "null"],
                        "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$))\S",
                    }),
                    _ => json!({ "description": "undocumented" }),
                },
            )),
            "hooks" => {
                let mut hooks = object(
                    "commands run around installation and removal",
                    HOOKS,
                    &[],
                    |f| match f {
                        "post_install" => {
                            command("run in the installed pack's directory once it is in place")
                        }
                        "pre_remove" => {
                            command("run before the pack is removed; a failure refuses the removal")
                        }
                        _ => json!({ "description": "undocumented" }),
                    },
                );
                hooks.insert("type".into(), json!(["object", "null"]));
                Json::Object(hooks)
            }
            _ => json!({ "description": "undocumented" }),
        },
    );
    root.insert("$schema".into(), schema::DIALECT.into());
    root.insert(
        "$id".into(),
        format!("{}{PACK_SCHEMA_FILE_NAME}", schema::ID_BASE).into(),
    );
    root.insert("title".into(), "lockstep pack manifest".into());
    root.insert(
        "$defs".into(),
        json!({ "version_bound": schema::version_bound() }),
    );
    Json::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        for (name, ok) in [
            ("pg", true),
            ("postgres-connector2", true),
            ("a", true),
            ("Pg", false),
            ("2pg", false),
            ("pg-", false),
            ("pg_x", false),
            ("", false),
            (&"a".repeat(65), false),
        ] {
            assert_eq!(is_pack_name(name), ok, "{name}");
        }
    }

    #[test]
    fn core_ranges_use_the_wildcard_rules() {
        let p = PackManifest::parse(
            "name: x\nversion: 1.0.0\ndescription: d\ncore:\n  min_core_version: 1.2.0\n  max_core_version: 1.x.x\ntests:\n  command: t\n",
        )
        .unwrap();
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(!p.core.admits(&v("1.1.9")));
        assert!(p.core.admits(&v("1.2.0")));
        assert!(p.core.admits(&v("1.99.0")));
        assert!(!p.core.admits(&v("2.0.0")));
        assert_eq!(p.core.describe(), ">= 1.2.0, <= 1.x.x");
        assert!(PackCore::default().admits(&v("9.9.9")));
    }
}
