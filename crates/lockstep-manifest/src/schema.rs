//! JSON Schemas (draft 2020-12) for the formats this crate reads, for editors and other tools.
//!
//! The schemas are built from the same field lists, enumerations and ranges the reader uses, so
//! a field added to the reader appears here too; the copies committed under `docs/schemas/` are
//! regenerated and compared by a test. The reader stays the authority: it also checks what a
//! schema cannot say well (min ≤ max, duplicate release versions, calendar dates), and it
//! accepts a YAML plain number where a string belongs (`domain_version: 2`), which the schema,
//! describing the canonical form, does not.
//!
//! ```
//! let schema = lockstep_manifest::schema::vertical_manifest();
//! assert_eq!(schema["properties"]["compatibility"]["properties"]["smoke_tests_timeout"]["maximum"], 600);
//! ```

use serde_json::{Map, Value, json};

use crate::release::{ARTIFACT, CHANGELOG, INDEX, RELEASE, RELEASE_REQUIRED};
use crate::vertical::{
    COMPAT, COMPAT_REQUIRED, CORE, CORE_MODES, OWNERSHIP, OWNERSHIP_REQUIRED, PIN_FILES, SMOKE,
    STATUSES, TOP, TOP_REQUIRED,
};
use crate::{Channel, DEFAULT_SMOKE_TESTS_TIMEOUT, SMOKE_TESTS_TIMEOUT_RANGE};

pub(crate) const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
pub(crate) const ID_BASE: &str = "https://example.invalid/lockstep/schemas/";

/// SemVer 2.0.0, the regular expression suggested by semver.org (without named groups).
pub const SEMVER_PATTERN: &str = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$";
/// A wildcard bound: `*`, `1.x.x` (or `1.x`, `1.*`), `1.2.x`.
pub const WILDCARD_PATTERN: &str =
    r"^(?:[xX*]|(0|[1-9]\d*)\.[xX*](?:\.[xX*])?|(0|[1-9]\d*)\.(0|[1-9]\d*)\.[xX*])$";

/// The schema of `vertical_manifest.yaml`.
pub fn vertical_manifest() -> Value {
    let mut root = object(
        "a vertical's manifest: who it is, which core versions it works with, who owns it",
        TOP,
        TOP_REQUIRED,
        vertical_field,
    );
    root.insert("$schema".into(), DIALECT.into());
    root.insert(
        "$id".into(),
        format!("{ID_BASE}vertical_manifest.schema.json").into(),
    );
    root.insert("title".into(), "lockstep vertical manifest".into());
    root.insert("$defs".into(), json!({ "version_bound": version_bound() }));
    Value::Object(root)
}

/// The schema of `releases.json`, the release index.
pub fn release_index() -> Value {
    let mut root = object(
        "every published core release",
        INDEX,
        INDEX,
        |name| match name {
            "schema" => json!({ "description": "format version", "const": 1 }),
            "releases" => json!({
                "description": "every published core release; versions are unique (build metadata ignored)",
                "type": "array",
                "items": { "$ref": "#/$defs/release" }
            }),
            _ => undocumented(),
        },
    );
    root.insert("$schema".into(), DIALECT.into());
    root.insert(
        "$id".into(),
        format!("{ID_BASE}releases.schema.json").into(),
    );
    root.insert("title".into(), "lockstep release index".into());
    root.insert("$defs".into(), release_defs());
    Value::Object(root)
}

/// The schema of a single release's `release.json` (one element of the index's `releases`).
pub fn release() -> Value {
    json!({
        "$schema": DIALECT,
        "$id": format!("{ID_BASE}release.schema.json"),
        "title": "lockstep release metadata",
        "$ref": "#/$defs/release",
        "$defs": release_defs(),
    })
}

/// The schemas with the file names they are committed under in `docs/schemas/`.
pub fn all() -> [(&'static str, Value); 3] {
    [
        ("vertical_manifest.schema.json", vertical_manifest()),
        ("releases.schema.json", release_index()),
        ("release.schema.json", release()),
    ]
}

fn vertical_field(name: &str) -> Value {
    match name {
        "domain_name" => text("the vertical's name, such as finance"),
        "domain_version" => text("the vertical's own version, as written"),
        "status" => json!({
            "description": "lifecycle status; anything but active gives a warning",
            "enum": STATUSES.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        }),
        "compatibility" => Value::Object(object(
            "which core versions and features the vertical needs",
            COMPAT,
            COMPAT_REQUIRED,
            compat_field,
        )),
        "ownership" => Value::Object(object(
            "who to call",
            OWNERSHIP,
            OWNERSHIP_REQUIRED,
            |name| match name {
                "team" => text("owning team"),
                "tech_lead" => text("technical lead"),
                "contact" => json!({
                    "description": "contact email",
                    "type": "string",
                    "format": "email",
                    "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                }),
                _ => undocumented(),
            },
        )),
        "core" => {
            let mut core = object(
                "how this vertical holds core",
                CORE,
                &[],
                |name| match name {
                    "mode" => json!({
                        "description": "pin: a dependency pin in `file`; checkout: the repository is a checkout of core",
                        "enum": CORE_MODES,
                    }),
                    "file" => json!({
                        "description": "the package file that pins core, relative to the manifest",
                        "type": "string",
                        "pattern": format!(r"(^|/)({})$", PIN_FILES.join("|").replace('.', r"\.")),
                    }),
                    "dependency" => text("core's package name in `file`"),
                    "registry" => {
                        text("the release registry: a path, an https:// URL or github:OWNER/REPO")
                    }
                    _ => undocumented(),
                },
            );
            core.insert(
                "if".into(),
                json!({ "properties": { "mode": { "const": "pin" } }, "required": ["mode"] }),
            );
            core.insert("then".into(), json!({ "required": ["file", "dependency"] }));
            core.insert(
                "else".into(),
                json!({ "not": { "anyOf": [{ "required": ["file"] }, { "required": ["dependency"] }] } }),
            );
            Value::Object(core)
        }
        "smoke_tests" => Value::Object(object(
            "the smoke-test command, if not smoke_tests/run.sh",
            SMOKE,
            SMOKE,
            |name| match name {
                "command" => json!({
                    "description": "program (relative to the manifest) and arguments, run without a shell; default smoke_tests/run.sh",
                    "oneOf": [
                        { "type": "string", "pattern": r"\S" },
                        { "type": "array", "items": { "type": "string", "pattern": r"\S" }, "minItems": 1 }
                    ]
                }),
                _ => undocumented(),
            },
        )),
        _ => undocumented(),
    }
}

fn compat_field(name: &str) -> Value {
    let (lo, hi) = SMOKE_TESTS_TIMEOUT_RANGE;
    match name {
        "min_core_version" => json!({
            "description": "lowest core version accepted (inclusive)",
            "$ref": "#/$defs/version_bound",
        }),
        "max_core_version" => json!({
            "description": "highest core version accepted (inclusive), or a wildcard prefix such as 1.x.x; not below the minimum",
            "$ref": "#/$defs/version_bound",
        }),
        "contracts_major" => json!({
            "description": "the contracts major version the vertical was built against",
            "type": "integer",
            "minimum": 0,
            "maximum": u32::MAX,
        }),
        "update_channel" => json!({
            "description": "the channel the vertical follows",
            "enum": Channel::CHOICES.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            "default": Channel::Stable.as_str(),
        }),
        "smoke_tests_timeout" => json!({
            "description": "seconds the smoke tests may run",
            "type": "integer",
            "minimum": lo,
            "maximum": hi,
            "default": DEFAULT_SMOKE_TESTS_TIMEOUT,
        }),
        "required_capabilities" => list("capabilities the vertical needs from core"),
        _ => undocumented(),
    }
}

fn release_defs() -> Value {
    json!({
        "release": Value::Object(object("one core release", RELEASE, RELEASE_REQUIRED, release_field)),
        "semver": {
            "type": "string",
            "pattern": SEMVER_PATTERN,
        },
    })
}

fn release_field(name: &str) -> Value {
    match name {
        "version" => json!({ "description": "the core version", "$ref": "#/$defs/semver" }),
        "channel" => json!({
            "description": "the channel the release was published on",
            "enum": Channel::CHOICES.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        }),
        "contracts_version" => json!({
            "description": "the contracts version the release implements",
            "$ref": "#/$defs/semver",
        }),
        "released_at" => json!({
            "description": "publication time, RFC 3339",
            "type": ["string", "null"],
            "format": "date-time",
        }),
        "commit" => json!({
            "description": "the commit released, as hex",
            "type": ["string", "null"],
            "pattern": "^[0-9a-fA-F]{4,64}$",
        }),
        "capabilities" => list("capabilities the release offers"),
        "deprecated_capabilities" => list("capabilities still offered but announced for removal"),
        "changelog" => {
            let mut c = object("what changed", CHANGELOG, &[], |name| match name {
                "breaking" => list("breaking changes"),
                "features" => list("new features"),
                "fixes" => list("fixes"),
                _ => undocumented(),
            });
            c.insert("type".into(), json!(["object", "null"]));
            Value::Object(c)
        }
        "migration_notes" => {
            json!({ "description": "free-text migration notes", "type": ["string", "null"] })
        }
        "migration_guide_url" => json!({
            "description": "where the migration guide lives",
            "type": ["string", "null"],
            "format": "uri",
        }),
        "artifacts" => json!({
            "description": "downloadable files with their checksums",
            "type": "array",
            "items": Value::Object(object("a downloadable file", ARTIFACT, ARTIFACT, |name| match name {
                "name" => text("file name"),
                "url" => json!({ "description": "where to download it", "type": "string", "pattern": r"\S" }),
                "sha256" => json!({
                    "description": "sha256 of the file's bytes, 64 hex digits",
                    "type": "string",
                    "pattern": "^[0-9a-fA-F]{64}$",
                }),
                "size" => json!({ "description": "size in bytes", "type": "integer", "minimum": 0 }),
                _ => undocumented(),
            })),
        }),
        _ => undocumented(),
    }
}

/// A closed object whose properties are exactly `fields`, in the reader's order.
pub(crate) fn object(
    description: &str,
    fields: &[&str],
    required: &[&str],
    field: impl Fn(&str) -> Value,
) -> Map<String, Value> {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|name| ((*name).to_owned(), field(name)))
        .collect();
    let mut map = Map::new();
    map.insert("description".into(), description.into());
    map.insert("type".into(), "object".into());
    map.insert("properties".into(), Value::Object(properties));
    map.insert("required".into(), json!(required));
    map.insert("additionalProperties".into(), false.into());
    map
}

pub(crate) fn version_bound() -> Value {
    json!({
        "description": "a SemVer version (inclusive), or a wildcard that admits every version with that prefix, pre-releases included: 1.x.x, 1.2.x, *",
        "type": "string",
        "anyOf": [
            { "pattern": SEMVER_PATTERN },
            { "pattern": WILDCARD_PATTERN },
        ],
    })
}

/// A non-empty string (the reader refuses blank ones).
pub(crate) fn text(description: &str) -> Value {
    json!({ "description": description, "type": "string", "pattern": r"\S" })
}

/// A list of non-empty strings; `null` reads as an empty list.
pub(crate) fn list(description: &str) -> Value {
    json!({
        "description": description,
        "type": ["array", "null"],
        "items": { "type": "string", "pattern": r"\S" },
    })
}

/// For a field the reader accepts but this module does not describe; a test keeps it unused.
fn undocumented() -> Value {
    json!({ "description": "undocumented" })
}
