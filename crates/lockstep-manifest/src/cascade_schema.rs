//! The JSON Schema of `cascade.toml`, generated from the same field lists the reader accepts.

use serde_json::{Value as Json, json};

use crate::cascade::{
    CASCADE_SCHEMA_FILE_NAME, MAX_JOBS, MAX_WAIT_S, OPTIONS, REGISTRIES, REPO, REPO_REQUIRED, TOP,
    WAIT,
};

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
const ID_BASE: &str = "https://example.invalid/lockstep/schemas/";

pub(crate) fn schema() -> Json {
    let names = |description: &str, item: &str| {
        json!({
            "description": description,
            "type": "array",
            "items": { "type": "string", "pattern": r"\S", "description": item },
            "uniqueItems": true,
        })
    };
    let repo = closed(
        "one repository taking part in the cascade",
        REPO,
        REPO_REQUIRED,
        |name| match name {
            "name" => text_schema("the repository's name, unique in the config"),
            "path" => json!({
                "description": "the repository's directory, relative to cascade.toml",
                "type": "string",
                "pattern": r"^(?![a-zA-Z][a-zA-Z0-9+.-]*://)\S",
            }),
            "url" => json!({
                "description": "a clone URL: scheme://host/path or user@host:path",
                "type": "string",
                "pattern": r"^(?:[a-zA-Z0-9+.-]+://\S+|[^\s/@:]+@[^\s/:]+:\S+)$",
            }),
            "smoke" => text_schema("the smoke-test command, relative to the repository's root"),
            "branch" => text_schema("the branch a release must be made from"),
            "depends_on" => names(
                "repositories this one depends on beyond what its manifests say",
                "the name of another [[repo]]",
            ),
            "reexports" => names(
                "packages of other repositories whose major version this repository's packages follow",
                "a package name",
            ),
            "remote" => text_schema("the remote that --push pushes to"),
            "tag" => json!({
                "description": "the release tag format: {version} once, at most one of {name} and {unscoped} (an npm name without its scope), once (without either, one shared tag for the repository); detected from existing tags when absent",
                "type": "string",
                "pattern": r"\{version\}",
            }),
            "publish" => text_schema(
                "how a release is published: a command run in the repository after tagging, or \"ci\" when the tag push triggers CI",
            ),
            "install" => text_schema("the command an emitted CI job runs to install lockstep"),
            "release_unpublished" => json!({
                "description": "release this repository's publish = false packages like any other",
                "type": "boolean",
                "default": false,
            }),
            _ => json!({ "description": "undocumented" }),
        },
    );
    let mut repo = repo;
    repo.insert(
        "oneOf".into(),
        json!([{ "required": ["path"] }, { "required": ["url"] }]),
    );
    let options = closed(
        "settings for the whole cascade",
        OPTIONS,
        &[],
        |name| match name {
            "jobs" => json!({
                "description": "how many repositories of one wave run at once; default the number of CPUs",
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_JOBS,
            }),
            "exact_pins" => json!({
                "description": "rewrite a version requirement even when it already admits the new version",
                "type": "boolean",
                "default": false,
            }),
            _ => json!({ "description": "undocumented" }),
        },
    );
    let registries = closed(
        "base URLs of the registries releases are published to; LOCKSTEP_CRATES_INDEX, LOCKSTEP_PYPI_URL and LOCKSTEP_NPM_REGISTRY win",
        REGISTRIES,
        &[],
        |name| match name {
            "crates" => json!({
                "description": "the crates sparse index, sparse+URL",
                "type": "string",
                "pattern": r"^sparse\+https?://\S+$",
            }),
            "pypi" => json!({
                "description": "the PyPI base URL, serving /simple/NAME/",
                "type": "string",
                "pattern": r"^https?://\S+$",
            }),
            "npm" => json!({
                "description": "the npm registry URL",
                "type": "string",
                "pattern": r"^https?://\S+$",
            }),
            _ => json!({ "description": "undocumented" }),
        },
    );
    let seconds = json!({ "type": "integer", "minimum": 1, "maximum": MAX_WAIT_S });
    let budgets = closed("seconds per ecosystem", REGISTRIES, &[], |_| {
        seconds.clone()
    });
    let wait = closed(
        "how long a cascade waits for a registry to show a published version before it stops (resumable); LOCKSTEP_WAIT_TIMEOUT_S wins",
        WAIT,
        &[],
        |_| json!({ "oneOf": [seconds.clone(), Json::Object(budgets.clone())] }),
    );
    let mut root = closed(
        "the repositories of a release cascade",
        TOP,
        &["repo"],
        |name| match name {
            "cascade" => Json::Object(options.clone()),
            "release_dependents" => json!({
                "description": "which dependents of a released package are released: those whose pin had to change (needed), or every transitive dependent (always)",
                "type": "string",
                "enum": ["needed", "always"],
                "default": "needed",
            }),
            "registries" => Json::Object(registries.clone()),
            "wait" => Json::Object(wait.clone()),
            "repo" => json!({
                "description": "one [[repo]] table per repository",
                "type": "array",
                "minItems": 1,
                "items": Json::Object(repo.clone()),
            }),
            _ => json!({ "description": "undocumented" }),
        },
    );
    root.insert("$schema".into(), DIALECT.into());
    root.insert(
        "$id".into(),
        format!("{ID_BASE}{CASCADE_SCHEMA_FILE_NAME}").into(),
    );
    root.insert("title".into(), "lockstep cascade config".into());
    Json::Object(root)
}

fn closed(
    description: &str,
    fields: &[&str],
    required: &[&str],
    field: impl Fn(&str) -> Json,
) -> serde_json::Map<String, Json> {
    let properties: serde_json::Map<String, Json> = fields
        .iter()
        .map(|name| ((*name).to_owned(), field(name)))
        .collect();
    let mut map = serde_json::Map::new();
    map.insert("description".into(), description.into());
    map.insert("type".into(), "object".into());
    map.insert("properties".into(), Json::Object(properties));
    map.insert("required".into(), json!(required));
    map.insert("additionalProperties".into(), false.into());
    map
}

fn text_schema(description: &str) -> Json {
    json!({ "description": description, "type": "string", "pattern": r"\S" })
}
