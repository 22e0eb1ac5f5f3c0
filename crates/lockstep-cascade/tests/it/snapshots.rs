//! The plan for the original brief's DAG, as JSON and as Mermaid, the way tools and people
//! see it.

use lockstep_cascade::{Bump, Ecosystem, Graph, Plan, Repo, Request};

use crate::support::G;

/// manifest → urn-authority → runtime, ecosystem → documentation, release-healer; Cargo crates
/// pinned by git tag, plus an npm console on runtime and a Python SDK in ecosystem's
/// repository.
fn brief() -> Graph {
    let g = G::new()
        .pkg("manifest", "1.0.0")
        .pkg("urn-authority", "1.0.0")
        .pkg("runtime", "1.0.0")
        .pkg("ecosystem", "0.4.0")
        .pkg("documentation", "1.0.0")
        .pkg("release-healer", "1.0.0")
        .pkg_in("console", "console", Ecosystem::Npm, "2.3.0")
        .pkg_in("ecosystem-py", "ecosystem", Ecosystem::Python, "0.4.0")
        .dep("urn-authority", "manifest", "tag:v1.0.0")
        .dep("runtime", "manifest", "tag:v1.0.0")
        .dep("runtime", "urn-authority", "tag:v1.0.0")
        .dep("ecosystem", "manifest", "tag:v1.0.0")
        .dep("ecosystem", "urn-authority", "rev:5f0c2a9e")
        .dep("documentation", "runtime", "tag:v1.0.0")
        .dep("documentation", "ecosystem", "tag:ecosystem-v0.4.0")
        .dep("release-healer", "runtime", "tag:v1.0.0")
        .dev("release-healer", "documentation", "tag:v1.0.0")
        .dep("console", "runtime", "^1.0.0")
        .dep("ecosystem-py", "ecosystem", "==0.4.0")
        .reexport("runtime", "manifest");
    let repos = g
        .repos()
        .into_iter()
        .map(|r| {
            let name = r.name.clone();
            let r =
                Repo::new(&name, format!("{:0>40}", name.len())).with_smoke("./smoke_tests/run.sh");
            match name.as_str() {
                "console" => r.with_lockfile_command("npm install --package-lock-only"),
                "ecosystem" => r.with_lockfile_command("cargo update --workspace"),
                _ => r.with_lockfile_command("cargo update --workspace"),
            }
        })
        .collect();
    Graph::new(g.packages, g.edges, repos).unwrap()
}

fn brief_plan() -> Plan {
    lockstep_cascade::plan(
        &brief(),
        &crate::support::always(&Request::new(["manifest"]).with_bump(Bump::Major)),
    )
    .unwrap()
}

#[test]
fn brief_plan_json() {
    insta::assert_snapshot!("brief_plan_json", brief_plan().to_json());
}

#[test]
fn brief_plan_mermaid() {
    insta::assert_snapshot!("brief_plan_mermaid", brief_plan().mermaid());
}
