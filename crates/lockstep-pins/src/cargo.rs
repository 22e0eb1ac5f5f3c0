//! `Cargo.toml`: dependency tables, the package's version and the workspace.

use toml_edit::{Item, Table, TableLike, Value};

use crate::occurrence::{Editor, Occurrence, Scan};
use crate::toml_text::{self, Str, TableForm, key_repr, type_name};
use crate::{DepKind, Dependency, Ecosystem, Error, Location, OwnVersion, Package, Pin, Workspace};

const FILE: Ecosystem = Ecosystem::Cargo;

/// The per-package dependency tables, in the order they are searched.
/// The underscore spellings are Cargo's deprecated aliases.
const SECTIONS: [(&str, DepKind); 5] = [
    ("dependencies", DepKind::Normal),
    ("dev-dependencies", DepKind::Dev),
    ("dev_dependencies", DepKind::Dev),
    ("build-dependencies", DepKind::Build),
    ("build_dependencies", DepKind::Build),
];

pub(crate) fn scan(text: &str) -> Result<Scan, Error> {
    let doc = toml_text::parse(FILE, text)?;
    let root = doc.as_table();
    let mut scan = Scan::default();
    scan_sections(&mut scan, root, "", None)?;
    scan.searched("[workspace.dependencies]");
    if let Some(deps) = root.get("workspace").and_then(|w| w.get("dependencies")) {
        let header = "[workspace.dependencies]".to_owned();
        let table = table_like(deps, &header)?;
        scan_table(&mut scan, table, &header, DepKind::Workspace, None)?;
    }
    if let Some(targets) = root.get("target") {
        let targets = table_like(targets, "[target]")?;
        for (cfg, item) in targets.iter() {
            let prefix = format!("target.{}.", key_repr(cfg));
            let table = table_like(item, &format!("[target.{}]", key_repr(cfg)))?;
            scan_sections(&mut scan, table, &prefix, Some(cfg))?;
        }
    }
    Ok(scan)
}

fn scan_sections(
    scan: &mut Scan,
    parent: &dyn TableLike,
    prefix: &str,
    target: Option<&str>,
) -> Result<(), Error> {
    for (name, kind) in SECTIONS {
        let header = format!("[{prefix}{name}]");
        let item = parent.get(name);
        if item.is_some() || !name.contains('_') {
            scan.searched(header.clone());
        }
        if let Some(item) = item {
            let table = table_like(item, &header)?;
            scan_table(scan, table, &header, kind, target)?;
        }
    }
    Ok(())
}

fn table_like<'a>(item: &'a Item, path: &str) -> Result<&'a dyn TableLike, Error> {
    item.as_table_like().ok_or_else(|| Error::Shape {
        file: FILE,
        path: path.to_owned(),
        found: type_name(item),
        expected: "a table",
    })
}

fn scan_table(
    scan: &mut Scan,
    table: &dyn TableLike,
    header: &str,
    kind: DepKind,
    target: Option<&str>,
) -> Result<(), Error> {
    for (key, item) in table.iter() {
        let location = Location::new(header, key_repr(key));
        let (name, pin, editor) = match item {
            Item::Value(Value::String(_)) => {
                let s = toml_text::string(FILE, || location.to_string(), item, "a string")?;
                (
                    key.to_owned(),
                    Pin::Version(s.value.clone()),
                    Editor::VersionString(s),
                )
            }
            _ => {
                let Some(t) = item.as_table_like() else {
                    return Err(Error::Shape {
                        file: FILE,
                        path: location.to_string(),
                        found: type_name(item),
                        expected: "a version requirement string or a table such as `{ version = \"1\" }`",
                    });
                };
                let inline = matches!(item, Item::Value(Value::InlineTable(_)));
                let form = TableForm::read(FILE, &location.to_string(), t, inline)?;
                let name = form.package.clone().unwrap_or_else(|| key.to_owned());
                (name, form.pin(), Editor::Table(form))
            }
        };
        scan.occurrences.push(Occurrence {
            dep: Dependency {
                name,
                key: key.to_owned(),
                kind,
                target: target.map(str::to_owned),
                location,
                pin,
            },
            editor,
        });
    }
    Ok(())
}

/// Where this file writes the package's version, and what it is.
pub(crate) enum VersionSite {
    Here(Location, Str),
    Inherited,
    Missing(Vec<String>),
}

pub(crate) fn package(text: &str) -> Result<Package, Error> {
    let doc = toml_text::parse(FILE, text)?;
    let root = doc.as_table();
    let mut package = Package {
        publish: true,
        ..Package::default()
    };
    if let Some(item) = root.get("package") {
        let table = table_like(item, "[package]")?;
        package.publish = match table.get("publish") {
            Some(item) if item.as_bool() == Some(false) => false,
            Some(item) => item.as_array().is_none_or(|a| !a.is_empty()),
            None => true,
        };
        if let Some(name) = table.get("name") {
            let name = toml_text::string(FILE, || "[package].name".into(), name, "a string")?;
            package.name = Some(name.value);
        }
        package.version = match package_version(table)? {
            None => None,
            Some(PackageVersion::Written(s)) => Some(OwnVersion::Declared {
                version: s.value,
                location: Location::new("[package]", "version"),
            }),
            Some(PackageVersion::Inherited) => Some(OwnVersion::Inherited),
        };
    }
    if let Some(item) = root.get("workspace") {
        let table = table_like(item, "[workspace]")?;
        package.workspace = Some(Workspace {
            members: string_array(table, "members")?,
            exclude: string_array(table, "exclude")?,
            version: workspace_version(table)?.map(|s| s.value),
        });
    }
    Ok(package)
}

/// `[package] version`: written here, or `version.workspace = true`.
enum PackageVersion {
    Written(Str),
    Inherited,
}

fn package_version(table: &dyn TableLike) -> Result<Option<PackageVersion>, Error> {
    let Some(item) = table.get("version") else {
        return Ok(None);
    };
    if let Some(s) = item.as_value().and_then(Str::from_value) {
        return Ok(Some(PackageVersion::Written(s)));
    }
    let inherited = item
        .as_table_like()
        .and_then(|t| t.get("workspace"))
        .and_then(Item::as_bool)
        == Some(true);
    if inherited {
        Ok(Some(PackageVersion::Inherited))
    } else {
        Err(Error::Shape {
            file: FILE,
            path: "[package].version".into(),
            found: type_name(item),
            expected: "a version string or `{ workspace = true }`",
        })
    }
}

fn workspace_version(workspace: &dyn TableLike) -> Result<Option<Str>, Error> {
    let Some(item) = workspace.get("package").and_then(|p| p.get("version")) else {
        return Ok(None);
    };
    toml_text::string(
        FILE,
        || "[workspace.package].version".into(),
        item,
        "a version string",
    )
    .map(Some)
}

fn string_array(table: &dyn TableLike, key: &str) -> Result<Vec<String>, Error> {
    let Some(item) = table.get(key) else {
        return Ok(Vec::new());
    };
    let shape = || Error::Shape {
        file: FILE,
        path: format!("[workspace].{key}"),
        found: type_name(item),
        expected: "an array of path or glob strings",
    };
    let array = item.as_array().ok_or_else(shape)?;
    array
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(shape))
        .collect()
}

/// The version `set_version` edits: `[package].version` when written there,
/// otherwise `[workspace.package].version` of this file (a virtual manifest,
/// or a root package inheriting from its own workspace).
pub(crate) fn version_site(text: &str) -> Result<VersionSite, Error> {
    let doc = toml_text::parse(FILE, text)?;
    let root: &Table = doc.as_table();
    let mut inherited = false;
    if let Some(item) = root.get("package") {
        match package_version(table_like(item, "[package]")?)? {
            Some(PackageVersion::Written(s)) => {
                return Ok(VersionSite::Here(Location::new("[package]", "version"), s));
            }
            Some(PackageVersion::Inherited) => inherited = true,
            None => {}
        }
    }
    if let Some(item) = root.get("workspace")
        && let Some(s) = workspace_version(table_like(item, "[workspace]")?)?
    {
        return Ok(VersionSite::Here(
            Location::new("[workspace.package]", "version"),
            s,
        ));
    }
    if inherited {
        return Ok(VersionSite::Inherited);
    }
    Ok(VersionSite::Missing(vec![
        "[package].version".into(),
        "[workspace.package].version".into(),
    ]))
}
