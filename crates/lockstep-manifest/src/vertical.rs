//! The vertical manifest, `vertical_manifest.yaml`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::node::{Node, parse_yaml};
use crate::problem::{Invalid, ProblemKind};
use crate::reader::Reader;
use crate::version::{Channel, VersionBound};

/// The default smoke-test timeout in seconds.
pub const DEFAULT_SMOKE_TESTS_TIMEOUT: u32 = 180;
/// The accepted range of `smoke_tests_timeout`, inclusive.
pub const SMOKE_TESTS_TIMEOUT_RANGE: (u32, u32) = (60, 600);

/// A vertical's manifest: who it is, which core versions it works with, who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerticalManifest {
    /// The vertical's name (`finance`).
    pub domain_name: String,
    /// The vertical's own version, as written.
    pub domain_version: String,
    /// Lifecycle status.
    pub status: VerticalStatus,
    /// What core versions and features the vertical needs.
    pub compatibility: Compatibility,
    /// Who to call.
    pub ownership: Ownership,
    /// How the vertical holds core, if the manifest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core: Option<CoreSource>,
    /// The smoke-test command, if not the default `smoke_tests/run.sh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoke_tests: Option<SmokeTests>,
}

/// A vertical's lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerticalStatus {
    /// In service.
    Active,
    /// On its way out.
    Deprecated,
    /// Not yet in service.
    Experimental,
}

impl VerticalStatus {
    /// The name as written in the manifest.
    pub const fn as_str(self) -> &'static str {
        match self {
            VerticalStatus::Active => "active",
            VerticalStatus::Deprecated => "deprecated",
            VerticalStatus::Experimental => "experimental",
        }
    }
}

/// The `compatibility` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Compatibility {
    /// Lowest core version the vertical accepts (inclusive).
    pub min_core_version: VersionBound,
    /// Highest core version the vertical accepts (inclusive, or a wildcard prefix).
    pub max_core_version: VersionBound,
    /// The major version of the contracts the vertical was built against.
    pub contracts_major: u64,
    /// The channel the vertical follows.
    pub update_channel: Channel,
    /// Seconds the smoke tests may run, 60 to 600.
    pub smoke_tests_timeout: u32,
    /// Capabilities the vertical needs from core.
    pub required_capabilities: Vec<String>,
}

/// The `ownership` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Ownership {
    /// Owning team.
    pub team: String,
    /// Technical lead.
    pub tech_lead: String,
    /// Contact email.
    pub contact: String,
}

/// The optional `core` section: where the registry is and how the vertical holds core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CoreSource {
    /// How the vertical holds core, if said.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub mode: Option<CoreMode>,
    /// The release registry (a path, an `https://` URL or `github:OWNER/REPO`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

/// How a vertical holds core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum CoreMode {
    /// A dependency pin in a package manifest.
    Pin {
        /// The `Cargo.toml`, `package.json` or `pyproject.toml`, relative to the manifest.
        file: String,
        /// Core's name in that file.
        dependency: String,
    },
    /// The repository is a checkout of core, upgraded by checking out `v<version>`.
    Checkout,
}

/// The optional `smoke_tests` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SmokeTests {
    /// Program (relative to the manifest's directory) and arguments, run without a shell.
    pub command: Vec<String>,
}

pub(crate) const TOP: &[&str] = &[
    "domain_name",
    "domain_version",
    "status",
    "compatibility",
    "ownership",
    "core",
    "smoke_tests",
];
pub(crate) const TOP_REQUIRED: &[&str] = &[
    "domain_name",
    "domain_version",
    "status",
    "compatibility",
    "ownership",
];
pub(crate) const COMPAT: &[&str] = &[
    "min_core_version",
    "max_core_version",
    "contracts_major",
    "update_channel",
    "smoke_tests_timeout",
    "required_capabilities",
];
pub(crate) const COMPAT_REQUIRED: &[&str] =
    &["min_core_version", "max_core_version", "contracts_major"];
pub(crate) const OWNERSHIP: &[&str] = &["team", "tech_lead", "contact"];
pub(crate) const OWNERSHIP_REQUIRED: &[&str] = OWNERSHIP;
pub(crate) const CORE: &[&str] = &["mode", "file", "dependency", "registry"];
pub(crate) const SMOKE: &[&str] = &["command"];

pub(crate) const STATUSES: [(&str, VerticalStatus); 3] = [
    ("active", VerticalStatus::Active),
    ("deprecated", VerticalStatus::Deprecated),
    ("experimental", VerticalStatus::Experimental),
];
pub(crate) const CORE_MODES: [&str; 2] = ["pin", "checkout"];
/// The files a `mode: pin` may name (the last path component).
pub(crate) const PIN_FILES: [&str; 3] = ["Cargo.toml", "package.json", "pyproject.toml"];

impl VerticalManifest {
    /// Parses and validates a manifest from YAML text, reporting every problem found.
    ///
    /// ```
    /// let text = "domain_name: finance\ndomain_version: 1.0.0\nstatus: active\n\
    ///     compatibility:\n  min_core_version: 1.0.0\n  max_core_version: 1.x.x\n  contracts_major: 1\n\
    ///     ownership:\n  team: payments\n  tech_lead: Ada\n  contact: ada@example.com\n";
    /// let m = lockstep_manifest::VerticalManifest::parse(text).unwrap();
    /// assert_eq!(m.compatibility.smoke_tests_timeout, 180);
    ///
    /// let err = lockstep_manifest::VerticalManifest::parse("domain_name: x\n").unwrap_err();
    /// assert!(err.problems.iter().any(|p| p.field == "compatibility"));
    /// ```
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let doc = "vertical manifest";
        let root = parse_yaml(text).map_err(|p| Invalid::new(doc, vec![p]))?;
        let mut r = Reader::new();
        let manifest = read_manifest(&mut r, &root);
        match manifest {
            Some(m) if !r.has_problems() => Ok(m),
            _ => Err(Invalid::new(doc, r.finish(None))),
        }
    }

    /// Renders the manifest as YAML that [`VerticalManifest::parse`] reads back to an equal
    /// value. Comments and layout of the original are not kept.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        let q = yaml_quote;
        let _ = writeln!(out, "domain_name: {}", q(&self.domain_name));
        let _ = writeln!(out, "domain_version: {}", q(&self.domain_version));
        let _ = writeln!(out, "status: {}", self.status.as_str());
        let c = &self.compatibility;
        let _ = writeln!(out, "compatibility:");
        let _ = writeln!(
            out,
            "  min_core_version: {}",
            q(&c.min_core_version.to_string())
        );
        let _ = writeln!(
            out,
            "  max_core_version: {}",
            q(&c.max_core_version.to_string())
        );
        let _ = writeln!(out, "  contracts_major: {}", c.contracts_major);
        let _ = writeln!(out, "  update_channel: {}", c.update_channel);
        let _ = writeln!(out, "  smoke_tests_timeout: {}", c.smoke_tests_timeout);
        if !c.required_capabilities.is_empty() {
            let _ = writeln!(out, "  required_capabilities:");
            for cap in &c.required_capabilities {
                let _ = writeln!(out, "    - {}", q(cap));
            }
        }
        let o = &self.ownership;
        let _ = writeln!(out, "ownership:");
        let _ = writeln!(out, "  team: {}", q(&o.team));
        let _ = writeln!(out, "  tech_lead: {}", q(&o.tech_lead));
        let _ = writeln!(out, "  contact: {}", q(&o.contact));
        if let Some(core) = &self.core {
            let _ = writeln!(out, "core:");
            match &core.mode {
                Some(CoreMode::Pin { file, dependency }) => {
                    let _ = writeln!(
                        out,
                        "  mode: pin\n  file: {}\n  dependency: {}",
                        q(file),
                        q(dependency)
                    );
                }
                Some(CoreMode::Checkout) => {
                    let _ = writeln!(out, "  mode: checkout");
                }
                None => {}
            }
            if let Some(reg) = &core.registry {
                let _ = writeln!(out, "  registry: {}", q(reg));
            }
        }
        if let Some(smoke) = &self.smoke_tests {
            let _ = writeln!(out, "smoke_tests:\n  command:");
            for part in &smoke.command {
                let _ = writeln!(out, "    - {}", q(part));
            }
        }
        out
    }
}

/// A YAML double-quoted scalar: printable characters as they are, everything else escaped, so
/// the text reads back to the same string (YAML would fold a raw U+2028 or NEL, for one).
fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..
                if !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                out.push(c)
            }
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

fn read_manifest(r: &mut Reader, root: &Node) -> Option<VerticalManifest> {
    let f = r.fields(root, TOP)?;
    let domain_name = r
        .required(&f, "domain_name", "the vertical's name")
        .and_then(|n| r.key("domain_name", |r| r.string(n, "a name")));
    let domain_version = r
        .required(&f, "domain_version", "the vertical's own version")
        .and_then(|n| r.key("domain_version", |r| r.string(n, "a version such as 1.0.0")));
    let status = r
        .required(&f, "status", "active, deprecated or experimental")
        .and_then(|n| r.key("status", |r| r.choice(n, &STATUSES)));
    let compatibility = r
        .required(
            &f,
            "compatibility",
            "a mapping with min_core_version, max_core_version, contracts_major",
        )
        .and_then(|n| r.key("compatibility", |r| read_compat(r, n)));
    let ownership = r
        .required(&f, "ownership", "a mapping with team, tech_lead, contact")
        .and_then(|n| r.key("ownership", |r| read_ownership(r, n)));
    // Optional sections: `Some(None)` is absent, `None` is present but wrong. The `?` comes
    // last so a bad `core` does not hide problems in `smoke_tests`.
    let core = f
        .get("core")
        .map_or(Some(None), |n| r.key("core", |r| read_core(r, n)).map(Some));
    let smoke_tests = f.get("smoke_tests").map_or(Some(None), |n| {
        r.key("smoke_tests", |r| read_smoke(r, n)).map(Some)
    });
    Some(VerticalManifest {
        domain_name: domain_name?,
        domain_version: domain_version?,
        status: status?,
        compatibility: compatibility?,
        ownership: ownership?,
        core: core?,
        smoke_tests: smoke_tests?,
    })
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

fn read_compat(r: &mut Reader, n: &Node) -> Option<Compatibility> {
    let f = r.fields(n, COMPAT)?;
    let min = r
        .required(&f, "min_core_version", "a SemVer version or wildcard")
        .and_then(|n| r.key("min_core_version", |r| bound(r, n)));
    let max_node = r.required(
        &f,
        "max_core_version",
        "a SemVer version or wildcard such as 1.x.x",
    );
    let max = max_node.and_then(|n| r.key("max_core_version", |r| bound(r, n)));
    // min <= max: the lowest version min admits must be admitted by max.
    if let (Some(min), Some(max), Some(max_node)) = (&min, &max, max_node)
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
    let contracts_major = r
        .required(
            &f,
            "contracts_major",
            "the contracts major version, a whole number",
        )
        .and_then(|n| {
            r.key("contracts_major", |r| {
                r.integer(n, "a whole number", 0, i128::from(u32::MAX))
            })
        })
        .map(|i| i as u64);
    let update_channel = match f.get("update_channel") {
        None => Some(Channel::Stable),
        Some(n) => r.key("update_channel", |r| r.choice(n, &Channel::CHOICES)),
    };
    let (lo, hi) = SMOKE_TESTS_TIMEOUT_RANGE;
    let smoke_tests_timeout = match f.get("smoke_tests_timeout") {
        None => Some(DEFAULT_SMOKE_TESTS_TIMEOUT),
        Some(n) => r
            .key("smoke_tests_timeout", |r| {
                r.integer(n, "seconds", lo.into(), hi.into())
            })
            .map(|i| i as u32),
    };
    let required_capabilities = r.key("required_capabilities", |r| {
        r.string_list(f.get("required_capabilities"), "capability names")
    });
    Some(Compatibility {
        min_core_version: min?,
        max_core_version: max?,
        contracts_major: contracts_major?,
        update_channel: update_channel?,
        smoke_tests_timeout: smoke_tests_timeout?,
        required_capabilities,
    })
}

fn read_ownership(r: &mut Reader, n: &Node) -> Option<Ownership> {
    let f = r.fields(n, OWNERSHIP)?;
    let team = r
        .required(&f, "team", "the owning team")
        .and_then(|n| r.key("team", |r| r.string(n, "a team name")));
    let tech_lead = r
        .required(&f, "tech_lead", "the technical lead")
        .and_then(|n| r.key("tech_lead", |r| r.string(n, "a name")));
    let contact = r.required(&f, "contact", "an email address").and_then(|n| {
        r.key("contact", |r| {
            let s = r.string(n, "an email address")?;
            if is_email(&s) {
                Some(s)
            } else {
                r.report(
                    n.pos,
                    ProblemKind::Value,
                    format!("\"{s}\" is not an email address; expected name@domain, such as team@example.com"),
                );
                None
            }
        })
    });
    Some(Ownership {
        team: team?,
        tech_lead: tech_lead?,
        contact: contact?,
    })
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
        })
}

fn read_core(r: &mut Reader, n: &Node) -> Option<CoreSource> {
    let f = r.fields(n, CORE)?;
    let registry = r.key("registry", |r| {
        r.optional_string(
            f.get("registry"),
            "a registry: a path, an https:// URL or github:OWNER/REPO",
        )
    });
    #[derive(Clone, Copy)]
    enum M {
        Pin,
        Checkout,
    }
    let mode = match f.get("mode") {
        None => None,
        Some(n) => Some(r.key("mode", |r| {
            r.choice(n, &[(CORE_MODES[0], M::Pin), (CORE_MODES[1], M::Checkout)])
        })?),
    };
    let mode = match mode {
        Some(M::Pin) => {
            let file = r
                .required(&f, "file", "the Cargo.toml, package.json or pyproject.toml that pins core")
                .and_then(|n| {
                    r.key("file", |r| {
                        let s = r.string(n, "a path relative to the manifest")?;
                        let name = s.rsplit('/').next().unwrap_or(&s);
                        if PIN_FILES.contains(&name) {
                            Some(s)
                        } else {
                            r.report(
                                n.pos,
                                ProblemKind::Value,
                                format!("\"{s}\" is not a supported package file; expected a path ending in Cargo.toml, package.json or pyproject.toml"),
                            );
                            None
                        }
                    })
                });
            let dependency = r
                .required(&f, "dependency", "core's package name in that file")
                .and_then(|n| r.key("dependency", |r| r.string(n, "a package name")));
            Some(CoreMode::Pin {
                file: file?,
                dependency: dependency?,
            })
        }
        Some(M::Checkout) => {
            for extra in ["file", "dependency"] {
                if let Some(n) = f.get(extra) {
                    r.key(extra, |r| {
                        r.report(n.pos, ProblemKind::Value, format!("`{extra}` only applies to `mode: pin`; remove it for `mode: checkout`"))
                    });
                }
            }
            Some(CoreMode::Checkout)
        }
        None => {
            if f.get("file").is_some() || f.get("dependency").is_some() {
                r.report(
                    f.pos,
                    ProblemKind::Missing,
                    "`file` and `dependency` need `mode: pin`",
                );
                return None;
            }
            None
        }
    };
    Some(CoreSource { mode, registry })
}

fn read_smoke(r: &mut Reader, n: &Node) -> Option<SmokeTests> {
    let f = r.fields(n, SMOKE)?;
    let cmd = r.required(&f, "command", "the program to run, with its arguments")?;
    r.key("command", |r| {
        let command = match &cmd.value {
            crate::node::Value::Str(_) => {
                let s = r.string(cmd, "a program path")?;
                s.split_whitespace().map(str::to_owned).collect()
            }
            _ => r.string_list(Some(cmd), "program and arguments"),
        };
        if command.is_empty() {
            r.report(
                cmd.pos,
                ProblemKind::Value,
                "is empty; expected a program path such as smoke_tests/run.sh",
            );
            return None;
        }
        Some(SmokeTests { command })
    })
}
