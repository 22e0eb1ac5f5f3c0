//! Cascade discovery and `--status` on real git repositories built in a temp dir: a Cargo
//! workspace with two members, a single crate pinning it by git tag and rev on `file://` URLs,
//! an npm package and a Python package.

// A test that unwraps fails with the value in the message, which is what a test should do.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lockstep_cascade::{DepKind, Ecosystem, Edge, PinSpec};
use lockstep_release::{self as cascade, Discovered, Error, RepoEdge};
use lockstep_testkit::git::GitRepo;
use tempfile::TempDir;

/// The repositories beside their `cascade.toml`.
struct Fixture {
    root: TempDir,
    core: GitRepo,
    app: GitRepo,
    web: GitRepo,
    py: GitRepo,
}

impl Fixture {
    fn config(&self) -> PathBuf {
        self.root.path().join("cascade.toml")
    }

    fn discover(&self) -> Discovered {
        let loaded = cascade::load(&self.config()).unwrap();
        cascade::discover(&loaded).unwrap()
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }
}

const CONFIG: &str = r#"[[repo]]
name = "core"
path = "repos/core"
smoke = "ci/smoke.sh"

[[repo]]
name = "app"
path = "repos/app"
reexports = ["core-rt"]

[[repo]]
name = "web"
path = "repos/web"

[[repo]]
name = "py"
path = "repos/py"
depends_on = ["web"]
"#;

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let at = |name: &str| GitRepo::init_at(&root.path().join("repos").join(name));

    // A Cargo workspace: two members, one inheriting the workspace version, one pinning the
    // other by path and version (an edge inside one repository, so not a cascade edge).
    let core = at("core");
    core.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/scratch\"]\nresolver = \"2\"\n\n\
         [workspace.package]\nversion = \"1.0.0\"\n\n[workspace.dependencies]\nserde = \"1\"\n",
    )
    .write(
        "crates/core-types/Cargo.toml",
        "[package]\nname = \"core-types\"\nversion.workspace = true\nedition = \"2021\"\n\n\
         [dependencies]\nserde.workspace = true\n",
    )
    .write("crates/core-types/src/lib.rs", "")
    .write(
        "crates/core-rt/Cargo.toml",
        "[package]\nname = \"core-rt\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ncore-types = { path = \"../core-types\", version = \"1.0.0\" }\n",
    )
    .write("crates/core-rt/src/lib.rs", "")
    .write(
        "crates/scratch/Cargo.toml",
        "[package]\nname = \"scratch\"\nversion = \"0.0.1\"\n",
    )
    .write("crates/notes/README.md", "not a crate\n")
    .write("ci/smoke.sh", "#!/bin/sh\n");
    core.commit_all("feat: core 1.0.0");
    core.annotated_tag("core-types-v1.0.0", "core-types 1.0.0");
    core.annotated_tag("core-rt-v1.0.0", "core-rt 1.0.0");
    let core_types_v1 = core.head();
    // 1.1.0 of both; core-types is tagged, core-rt is not yet.
    core.write(
        "Cargo.toml",
        core.read("Cargo.toml")
            .replace("version = \"1.0.0\"", "version = \"1.1.0\""),
    )
    .write(
        "crates/core-rt/Cargo.toml",
        core.read("crates/core-rt/Cargo.toml")
            .replace("version = \"1.0.0\"", "version = \"1.1.0\""),
    );
    core.commit_all("feat: core 1.1.0");
    core.annotated_tag("core-types-v1.1.0", "core-types 1.1.0");
    core.tag("core-types-v1.1"); // not strict SemVer: never a release tag
    core.tag("v9.0.0"); // a bare tag does not name a package in a repository of two

    // A single crate pinning core-rt by git tag and core-types by rev (a dev-dependency).
    let app = at("app");
    app.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"app\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ncore-rt = {{ git = \"{url}\", tag = \"core-rt-v1.0.0\" }}\nanyhow = \"1\"\n\n\
             [dev-dependencies]\ncore-types = {{ git = \"{url}\", rev = \"{core_types_v1}\" }}\n",
            url = core.url()
        ),
    )
    .write("src/lib.rs", "");
    app.commit_all("feat: app");
    app.tag("v0.2.0");
    app.annotated_tag("v0.3.0", "app 0.3.0");

    // npm: a requirement on core-types that admits 1.1.0, and a git tag pin on app.
    let web = at("web");
    web.write(
        "package.json",
        format!(
            "{{\n  \"name\": \"web\",\n  \"version\": \"2.1.0\",\n  \"dependencies\": {{\n    \
             \"core-types\": \"^1.0.0\",\n    \"app\": \"git+{}#v0.3.0\",\n    \"left-pad\": \"^1\"\n  }}\n}}\n",
            app.url()
        ),
    );
    web.commit_all("feat: web");

    // Python: a requirement on core-rt (written core_rt) that excludes 1.1.0.
    let py = at("py");
    py.write(
        "pyproject.toml",
        "[project]\nname = \"py-client\"\nversion = \"2.0\"\ndependencies = [\"core_rt>=1.0,<1.1\", \"requests>=2\"]\n",
    );
    py.commit_all("feat: py");
    py.annotated_tag("v2.0.0", "py-client 2.0.0");

    let f = Fixture {
        root,
        core,
        app,
        web,
        py,
    };
    f.write_config(CONFIG);
    f
}

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).unwrap()
}

#[test]
fn discovers_packages_from_each_repositorys_manifests() {
    let f = fixture();
    let d = f.discover();
    let packages: Vec<_> = d
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.repo.as_str(),
                p.ecosystem,
                p.version.to_string(),
                p.manifest.as_str(),
                p.reexports.clone(),
            )
        })
        .collect();
    assert_eq!(
        packages,
        [
            (
                "app",
                "app",
                Ecosystem::Cargo,
                "0.3.0".into(),
                "Cargo.toml",
                vec!["core-rt".to_owned()]
            ),
            (
                "core-rt",
                "core",
                Ecosystem::Cargo,
                "1.1.0".into(),
                "crates/core-rt/Cargo.toml",
                vec![]
            ),
            (
                "core-types",
                "core",
                Ecosystem::Cargo,
                "1.1.0".into(),
                "crates/core-types/Cargo.toml",
                vec![]
            ),
            (
                "py-client",
                "py",
                Ecosystem::Python,
                "2.0.0".into(),
                "pyproject.toml",
                vec![]
            ),
            (
                "web",
                "web",
                Ecosystem::Npm,
                "2.1.0".into(),
                "package.json",
                vec![]
            ),
        ]
    );

    let repos: Vec<_> = d
        .repos
        .iter()
        .map(|r| {
            (
                r.entry.name.as_str(),
                r.packages.clone(),
                r.head.clone(),
                r.branch.clone(),
            )
        })
        .collect();
    let main = Some("main".to_owned());
    assert_eq!(
        repos,
        [
            (
                "core",
                vec!["core-rt".to_owned(), "core-types".to_owned()],
                f.core.head(),
                main.clone()
            ),
            ("app", vec!["app".to_owned()], f.app.head(), main.clone()),
            ("web", vec!["web".to_owned()], f.web.head(), main.clone()),
            ("py", vec!["py-client".to_owned()], f.py.head(), main),
        ]
    );
    assert_eq!(
        d.repo("core").unwrap().dir,
        f.root.path().join("repos/core")
    );
    assert!(d.notes.is_empty(), "{:?}", d.notes);
}

#[test]
fn edges_cross_repositories_whatever_the_pin_kind() {
    let f = fixture();
    let d = f.discover();
    let core_types_v1 = f.core.rev_parse("core-types-v1.0.0^{commit}");
    assert_eq!(
        d.edges,
        [
            Edge::new(
                "app",
                "core-rt",
                DepKind::Normal,
                PinSpec::GitTag("core-rt-v1.0.0".into()),
                "Cargo.toml"
            ),
            Edge::new(
                "app",
                "core-types",
                DepKind::Dev,
                PinSpec::GitRev(core_types_v1),
                "Cargo.toml"
            ),
            // Inside one repository too: core-rt needs its sibling core-types.
            Edge::new(
                "core-rt",
                "core-types",
                DepKind::Normal,
                PinSpec::Requirement("1.1.0".into()),
                "crates/core-rt/Cargo.toml"
            ),
            Edge::new(
                "py-client",
                "core-rt",
                DepKind::Normal,
                PinSpec::Requirement(">=1.0,<1.1".into()),
                "pyproject.toml"
            ),
            Edge::new(
                "web",
                "app",
                DepKind::Normal,
                PinSpec::GitTag("v0.3.0".into()),
                "package.json"
            ),
            Edge::new(
                "web",
                "core-types",
                DepKind::Normal,
                PinSpec::Requirement("^1.0.0".into()),
                "package.json"
            ),
        ]
    );
    let explicit: Vec<_> = d
        .explicit
        .iter()
        .map(|e: &RepoEdge| (e.dependent.as_str(), e.dependency.as_str()))
        .collect();
    assert_eq!(explicit, [("py", "web")]);
}

#[test]
fn the_planner_graph_includes_explicit_edges_and_repository_facts() {
    let f = fixture();
    let d = f.discover();
    let graph = d.graph().unwrap();
    let explicit: Vec<_> = graph
        .dependencies("py-client")
        .map(|e| (e.dependency.as_str(), e.pin.clone(), e.file.as_str()))
        .collect();
    assert_eq!(
        explicit,
        [
            (
                "core-rt",
                PinSpec::Requirement(">=1.0,<1.1".into()),
                "pyproject.toml"
            ),
            ("web", PinSpec::Path("../web".into()), "../../cascade.toml"),
        ]
    );
    let core = graph.repo("core").unwrap();
    assert_eq!(core.head, f.core.head());
    assert_eq!(core.smoke.as_deref(), Some("ci/smoke.sh"));
    assert_eq!(core.lockfile_command, None, "no Cargo.lock committed");
    assert_eq!(
        graph.tag(graph.package("core-rt").unwrap(), &v("1.2.0")),
        "core-rt-v1.2.0"
    );
    assert_eq!(
        graph.tag(graph.package("app").unwrap(), &v("0.4.0")),
        "v0.4.0"
    );

    // A plan from the root releases every transitive dependent, upstream first.
    let plan = lockstep_cascade::plan(
        &graph,
        &lockstep_cascade::Request::new(["core-rt"]).with_bump(lockstep_cascade::Bump::Minor),
    )
    .unwrap();
    let waves: Vec<Vec<&str>> = plan
        .waves
        .iter()
        .map(|w| w.iter().map(|s| s.package.as_str()).collect())
        .collect();
    // py-client waits for web through its explicit `depends_on`.
    assert_eq!(waves, [["core-rt"], ["app"], ["web"], ["py-client"]]);
}

#[test]
fn a_lockfile_at_the_root_gives_the_repository_its_command() {
    let f = fixture();
    f.app.write("Cargo.lock", "version = 4\n");
    f.app.commit_all("chore: lockfile");
    let d = f.discover();
    assert_eq!(
        d.repo("app").unwrap().lockfile_command.as_deref(),
        Some("cargo update --workspace")
    );
}

#[test]
fn status_compares_tags_with_versions_and_finds_lagging_pins() {
    let f = fixture();
    let d = f.discover();
    let report = cascade::status(&d).unwrap();
    let packages: Vec<_> = report
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.latest_tag.as_deref(),
                p.tag_matches,
            )
        })
        .collect();
    assert_eq!(
        packages,
        [
            ("app", "0.3.0", Some("v0.3.0"), true),
            ("core-rt", "1.1.0", Some("core-rt-v1.0.0"), false),
            ("core-types", "1.1.0", Some("core-types-v1.1.0"), true),
            ("py-client", "2.0.0", Some("v2.0.0"), true),
            ("web", "2.1.0", None, false),
        ]
    );
    let lagging: Vec<_> = report
        .lagging_pins
        .iter()
        .map(|l| {
            (
                l.package.as_str(),
                l.dependency.as_str(),
                l.pinned.as_str(),
                l.current.as_str(),
                l.pin_kind,
            )
        })
        .collect();
    let rev = f.core.rev_parse("core-types-v1.0.0^{commit}");
    assert_eq!(
        lagging,
        [
            ("app", "core-rt", "core-rt-v1.0.0", "1.1.0", "git_tag"),
            ("app", "core-types", rev.as_str(), "1.1.0", "git_rev"),
            ("py-client", "core-rt", ">=1.0,<1.1", "1.1.0", "requirement"),
        ]
    );
    assert!(!report.is_consistent());

    let json = report.to_json();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[SHA]");
    settings.bind(|| insta::assert_snapshot!(json));
}

#[test]
fn status_is_consistent_once_tags_and_pins_catch_up() {
    let f = fixture();
    f.core.annotated_tag("core-rt-v1.1.0", "core-rt 1.1.0");
    let rev = f.core.rev_parse("core-types-v1.1.0^{commit}");
    let url = f.core.url();
    f.app.write(
        "Cargo.toml",
        f.app
            .read("Cargo.toml")
            .replace("core-rt-v1.0.0", "core-rt-v1.1.0")
            .replace(&f.core.rev_parse("core-types-v1.0.0^{commit}"), &rev),
    );
    assert!(f.app.read("Cargo.toml").contains(&url));
    f.app.commit_all("chore: pins");
    f.py.write(
        "pyproject.toml",
        f.py.read("pyproject.toml").replace("<1.1", "<2"),
    );
    f.py.commit_all("chore: pins");
    f.web.annotated_tag("v2.1.0", "web 2.1.0");

    let report = cascade::status(&f.discover()).unwrap();
    assert_eq!(report.lagging_pins, []);
    assert!(report.packages.iter().all(|p| p.tag_matches), "{report:?}");
    assert!(report.is_consistent());
}

#[test]
fn load_errors_name_the_file() {
    let f = fixture();
    let missing = f.root.path().join("nope.toml");
    let err = cascade::load(&missing).unwrap_err();
    assert!(
        matches!(err, Error::ReadConfig { ref path, .. } if *path == missing),
        "{err:?}"
    );
    assert_eq!(err.kind(), "io");

    f.write_config(&CONFIG.replace("name = \"web\"", "name = \"app\""));
    let err = cascade::load(&f.config()).unwrap_err();
    let Error::InvalidConfig { path, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, &f.config());
    assert_eq!(source.problems[0].field, "repo[2].name");
    assert!(
        err.to_string()
            .starts_with(&f.config().display().to_string()),
        "{err}"
    );
}

/// Discovery with `cascade.toml` replaced by `config`: the error's kind and message.
fn discovery_error(f: &Fixture, config: &str) -> (String, &'static str) {
    f.write_config(config);
    let loaded = cascade::load(&f.config()).unwrap();
    let err = cascade::discover(&loaded).unwrap_err();
    let root = f.root.path().display().to_string();
    (err.to_string().replace(&root, "ROOT"), err.kind())
}

#[test]
fn discovery_errors_name_the_repository_and_what_to_do() {
    let f = fixture();
    let cases: &[(&str, &str, &str)] = &[
        (
            "path = \"repos/web\"",
            "path = \"repos/webb\"",
            "repo_missing: repository web: ROOT/repos/webb is not a directory; `path` is relative to cascade.toml",
        ),
        (
            "path = \"repos/web\"",
            "url = \"https://example.com/web.git\"",
            "not_cloned: repository web: https://example.com/web.git is not checked out; clone it to ROOT/.lockstep/checkouts/web or give its `path` instead",
        ),
        (
            "path = \"repos/web\"",
            "path = \"repos/core/ci\"",
            "no_manifest: repository web: no Cargo.toml, package.json or pyproject.toml at ROOT/repos/core/ci; a cascade needs packages",
        ),
        (
            "path = \"repos/web\"",
            "path = \"repos/app\"",
            "duplicate_package: package app is declared twice: in app:Cargo.toml and in web:Cargo.toml; package names must be unique across the cascade",
        ),
        (
            "reexports = [\"core-rt\"]",
            "reexports = [\"core-rtt\"]",
            "unknown_package: repository app: reexports names core-rtt, which no repository of the cascade declares",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(CONFIG.contains(from));
        let (message, kind) = discovery_error(&f, &CONFIG.replacen(from, to, 1));
        assert_eq!(format!("{kind}: {message}"), *expected);
    }
}

#[test]
fn manifests_that_cannot_be_released_are_errors() {
    let f = fixture();
    f.py.write(
        "pyproject.toml",
        "[project]\nname = \"py-client\"\ndynamic = [\"version\"]\n",
    );
    let (message, kind) = discovery_error(&f, CONFIG);
    assert_eq!(kind, "invalid_manifest");
    assert_eq!(
        message,
        "repository py: package py-client in ROOT/repos/py/pyproject.toml: its version is computed by the build backend (dynamic); write it in [project] version"
    );

    f.py.write(
        "pyproject.toml",
        "[project]\nname = \"py-client\"\nversion = \"2.0rc1\"\n",
    );
    let (message, _) = discovery_error(&f, CONFIG);
    assert!(
        message
            .ends_with("version `2.0rc1` is not SemVer; expected MAJOR.MINOR.PATCH such as 1.4.0"),
        "{message}"
    );

    f.core
        .write("Cargo.toml", "[workspace]\nmembers = [\"crates/[\"]\n");
    let (message, kind) = discovery_error(&f, CONFIG);
    assert_eq!(kind, "invalid_manifest");
    assert!(
        message.starts_with(
            "repository core: workspace member pattern \"crates/[\" is not a valid glob"
        ),
        "{message}"
    );
}

#[test]
fn an_unborn_repository_is_refused() {
    let f = fixture();
    GitRepo::init_at(&f.root.path().join("repos/fresh")).write(
        "package.json",
        "{\"name\": \"fresh\", \"version\": \"0.1.0\"}",
    );
    let config = format!("{CONFIG}\n[[repo]]\nname = \"fresh\"\npath = \"repos/fresh\"\n");
    let (message, kind) = discovery_error(&f, &config);
    assert_eq!(
        (kind, message.as_str()),
        (
            "git",
            "repository fresh has no commit yet; commit before releasing"
        )
    );
}

#[test]
fn a_cycle_through_repositories_is_named_by_the_graph() {
    let f = fixture();
    // core-types now depends on app, which depends on core-rt and core-types: a cycle
    // through normal edges (app → core-rt is normal).
    f.core.write(
        "crates/core-rt/Cargo.toml",
        format!(
            "{}app = {{ git = \"{}\", tag = \"v0.3.0\" }}\n",
            f.core.read("crates/core-rt/Cargo.toml"),
            f.app.url()
        ),
    );
    f.core.commit_all("feat: a cycle");
    let d = f.discover();
    let err = d.graph().unwrap_err();
    assert_eq!(err.kind(), "graph");
    let message = err.to_string();
    assert!(
        message.contains("app") && message.contains("core-rt"),
        "{message}"
    );
}

#[test]
fn branch_pins_are_noted_not_edges() {
    let f = fixture();
    f.web.write(
        "package.json",
        f.web.read("package.json").replace("#v0.3.0", ""),
    );
    f.web.commit_all("chore: follow app's default branch");
    let d = f.discover();
    assert!(
        !d.edges
            .iter()
            .any(|e| e.dependent == "web" && e.dependency == "app")
    );
    let notes: Vec<_> = d
        .notes
        .iter()
        .map(|n| (n.repo.as_str(), n.file.as_str(), n.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        [(
            "web",
            "package.json",
            "web on app at dependencies.app is not an edge: it follows the default branch, which lockstep does not pin"
        )]
    );
    let _: &Path = f.root.path();
}
