//! `pyproject.toml`: PEP 621 `[project]`, PEP 735 `[dependency-groups]`,
//! `[build-system]`, Poetry's `[tool.poetry]` and uv's `[tool.uv.sources]`.

use toml_edit::{Item, TableLike, Value};

use crate::occurrence::{Editor, Occurrence, Scan};
use crate::toml_text::{self, Str, TableForm, key_repr, type_name};
use crate::{DepKind, Dependency, Ecosystem, Error, Location, OwnVersion, Package, Pin, pep508};

const FILE: Ecosystem = Ecosystem::Python;

pub(crate) fn scan(text: &str) -> Result<Scan, Error> {
    let doc = toml_text::parse(FILE, text)?;
    let root = doc.as_table();
    let mut scan = Scan::default();
    let project = root
        .get("project")
        .map(|p| table_like(p, "[project]"))
        .transpose()?;

    scan.searched("[project].dependencies");
    if let Some(item) = project.and_then(|p| p.get("dependencies")) {
        pep508_array(
            &mut scan,
            item,
            "[project]",
            "dependencies",
            DepKind::Normal,
        )?;
    }
    scan.searched("[project.optional-dependencies]");
    if let Some(item) = project.and_then(|p| p.get("optional-dependencies")) {
        let table = table_like(item, "[project.optional-dependencies]")?;
        for (extra, item) in table.iter() {
            pep508_array(
                &mut scan,
                item,
                "[project.optional-dependencies]",
                &key_repr(extra),
                DepKind::Normal,
            )?;
        }
    }
    if let Some(item) = root.get("dependency-groups") {
        scan.searched("[dependency-groups]");
        let table = table_like(item, "[dependency-groups]")?;
        for (group, item) in table.iter() {
            pep508_array(
                &mut scan,
                item,
                "[dependency-groups]",
                &key_repr(group),
                DepKind::Dev,
            )?;
        }
    }
    if let Some(item) = root.get("build-system").and_then(|b| b.get("requires")) {
        scan.searched("[build-system].requires");
        pep508_array(
            &mut scan,
            item,
            "[build-system]",
            "requires",
            DepKind::Build,
        )?;
    }

    let tool = root.get("tool");
    if let Some(poetry) = tool.and_then(|t| t.get("poetry")) {
        let poetry = table_like(poetry, "[tool.poetry]")?;
        for (key, kind) in [
            ("dependencies", DepKind::Normal),
            ("dev-dependencies", DepKind::Dev),
        ] {
            let header = format!("[tool.poetry.{key}]");
            scan.searched(header.clone());
            if let Some(item) = poetry.get(key) {
                table_entries(&mut scan, table_like(item, &header)?, &header, kind)?;
            }
        }
        if let Some(groups) = poetry.get("group") {
            for (group, item) in table_like(groups, "[tool.poetry.group]")?.iter() {
                let header = format!("[tool.poetry.group.{}.dependencies]", key_repr(group));
                scan.searched(header.clone());
                if let Some(deps) = item.get("dependencies") {
                    let kind = if group == "main" {
                        DepKind::Normal
                    } else {
                        DepKind::Dev
                    };
                    table_entries(&mut scan, table_like(deps, &header)?, &header, kind)?;
                }
            }
        }
    }
    if let Some(sources) = tool
        .and_then(|t| t.get("uv"))
        .and_then(|u| u.get("sources"))
    {
        let header = "[tool.uv.sources]";
        scan.searched(header);
        table_entries(
            &mut scan,
            table_like(sources, header)?,
            header,
            DepKind::Normal,
        )?;
    }
    Ok(scan)
}

fn table_like<'a>(item: &'a Item, path: &str) -> Result<&'a dyn TableLike, Error> {
    item.as_table_like().ok_or_else(|| Error::Shape {
        file: FILE,
        path: path.to_owned(),
        found: type_name(item),
        expected: "a table",
    })
}

/// An array of PEP 508 strings; PEP 735 `{ include-group = "…" }` tables are skipped.
fn pep508_array(
    scan: &mut Scan,
    item: &Item,
    table: &str,
    key: &str,
    kind: DepKind,
) -> Result<(), Error> {
    let array = item.as_array().ok_or_else(|| Error::Shape {
        file: FILE,
        path: format!("{table}.{key}"),
        found: type_name(item),
        expected: "an array of PEP 508 requirement strings",
    })?;
    for (i, value) in array.iter().enumerate() {
        let location = Location::new(table, format!("{key}[{i}]"));
        if matches!(value, Value::InlineTable(_)) && kind == DepKind::Dev {
            continue;
        }
        let entry = Str::from_value(value).and_then(pep508::Entry::new).ok_or_else(|| Error::Shape {
            file: FILE,
            path: location.to_string(),
            found: if matches!(value, Value::String(_)) {
                "a string that is not a PEP 508 requirement"
            } else {
                type_name(&Item::Value(value.clone()))
            },
            expected: "a PEP 508 requirement such as `requests>=2.8` or `core @ git+https://host/core@v1.0`",
        })?;
        scan.occurrences.push(Occurrence {
            dep: Dependency {
                name: entry.name().to_owned(),
                key: entry.name().to_owned(),
                kind,
                target: None,
                location,
                pin: entry.pin(),
            },
            editor: Editor::Pep508(entry),
        });
    }
    Ok(())
}

/// Poetry dependency tables and uv sources: `name = "^1.0"`, `name = { … }`,
/// or an array of tables for several constraints. Poetry's `python` entry is
/// the interpreter requirement, not a package, and is skipped.
fn table_entries(
    scan: &mut Scan,
    table: &dyn TableLike,
    header: &str,
    kind: DepKind,
) -> Result<(), Error> {
    for (key, item) in table.iter() {
        if key == "python" && header.starts_with("[tool.poetry") {
            continue;
        }
        let entry = key_repr(key);
        match item {
            Item::Value(Value::Array(array)) => {
                for (i, value) in array.iter().enumerate() {
                    let location = Location::new(header, format!("{entry}[{i}]"));
                    push_entry(scan, key, &Item::Value(value.clone()), location, kind)?;
                }
            }
            Item::ArrayOfTables(array) => {
                for (i, t) in array.iter().enumerate() {
                    let location = Location::new(header, format!("{entry}[{i}]"));
                    let form = TableForm::read(FILE, &location.to_string(), t, false)?;
                    push(scan, key, location, kind, form.pin(), Editor::Table(form));
                }
            }
            _ => push_entry(scan, key, item, Location::new(header, entry), kind)?,
        }
    }
    Ok(())
}

fn push_entry(
    scan: &mut Scan,
    key: &str,
    item: &Item,
    location: Location,
    kind: DepKind,
) -> Result<(), Error> {
    if let Some(s) = item.as_value().and_then(Str::from_value) {
        let pin = Pin::Version(s.value.clone());
        push(scan, key, location, kind, pin, Editor::VersionString(s));
        return Ok(());
    }
    let Some(t) = item.as_table_like() else {
        return Err(Error::Shape {
            file: FILE,
            path: location.to_string(),
            found: type_name(item),
            expected: "a version string such as \"^1.2\" or a table such as `{ git = \"…\", tag = \"v1.0\" }`",
        });
    };
    let inline = matches!(item, Item::Value(Value::InlineTable(_)));
    let form = TableForm::read(FILE, &location.to_string(), t, inline)?;
    push(scan, key, location, kind, form.pin(), Editor::Table(form));
    Ok(())
}

fn push(scan: &mut Scan, key: &str, location: Location, kind: DepKind, pin: Pin, editor: Editor) {
    scan.occurrences.push(Occurrence {
        dep: Dependency {
            name: key.to_owned(),
            key: key.to_owned(),
            kind,
            target: None,
            location,
            pin,
        },
        editor,
    });
}

/// Where this file writes the package's version.
pub(crate) enum VersionSite {
    Here(Location, Str),
    Dynamic,
    Missing(Vec<String>),
}

struct Identity {
    name: Option<String>,
    site: VersionSite,
}

fn identity(text: &str) -> Result<Identity, Error> {
    let doc = toml_text::parse(FILE, text)?;
    let root = doc.as_table();
    let project = root
        .get("project")
        .map(|p| table_like(p, "[project]"))
        .transpose()?;
    let poetry = root
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .map(|p| table_like(p, "[tool.poetry]"))
        .transpose()?;
    let string_at =
        |table: Option<&dyn TableLike>, header: &str, key: &str| -> Result<Option<Str>, Error> {
            table
                .and_then(|t| t.get(key))
                .map(|item| toml_text::string(FILE, || format!("{header}.{key}"), item, "a string"))
                .transpose()
        };
    let name = match string_at(project, "[project]", "name")? {
        Some(s) => Some(s.value),
        None => string_at(poetry, "[tool.poetry]", "name")?.map(|s| s.value),
    };
    let dynamic = project
        .and_then(|p| p.get("dynamic"))
        .and_then(Item::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("version")));
    // poetry-dynamic-versioning replaces `[tool.poetry] version` (a placeholder) with the
    // version of the latest tag when it builds: the version lives in the tags.
    let tag_plugin = root
        .get("tool")
        .and_then(|t| t.get("poetry-dynamic-versioning"))
        .and_then(|t| t.get("enable"))
        .and_then(Item::as_bool)
        == Some(true);
    let site = if tag_plugin {
        VersionSite::Dynamic
    } else if let Some(s) = string_at(project, "[project]", "version")? {
        VersionSite::Here(Location::new("[project]", "version"), s)
    } else if let Some(s) = string_at(poetry, "[tool.poetry]", "version")? {
        // Poetry 2 reads `[tool.poetry] version` when `[project]` marks it dynamic.
        VersionSite::Here(Location::new("[tool.poetry]", "version"), s)
    } else if dynamic {
        VersionSite::Dynamic
    } else {
        VersionSite::Missing(vec![
            "[project].version".into(),
            "[tool.poetry].version".into(),
        ])
    };
    Ok(Identity { name, site })
}

pub(crate) fn package(text: &str) -> Result<Package, Error> {
    let Identity { name, site } = identity(text)?;
    let version = match site {
        VersionSite::Here(location, s) => Some(OwnVersion::Declared {
            version: s.value,
            location,
        }),
        VersionSite::Dynamic => Some(OwnVersion::Dynamic),
        VersionSite::Missing(_) => None,
    };
    Ok(Package {
        name,
        version,
        workspace: None,
        publish: true,
    })
}

pub(crate) fn version_site(text: &str) -> Result<VersionSite, Error> {
    identity(text).map(|i| i.site)
}

/// Whether the project is managed by Poetry rather than uv: `[tool.uv]`
/// means uv; otherwise a `[tool.poetry]` table or a Poetry build backend
/// means Poetry; anything else is taken to be uv.
pub(crate) fn uses_poetry(text: &str) -> Result<bool, Error> {
    let doc = toml_text::parse(FILE, text)?;
    let root = doc.as_table();
    let tool = root.get("tool");
    if tool.and_then(|t| t.get("uv")).is_some() {
        return Ok(false);
    }
    let backend = root
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(Item::as_str)
        .unwrap_or("");
    Ok(tool.and_then(|t| t.get("poetry")).is_some() || backend.starts_with("poetry"))
}
