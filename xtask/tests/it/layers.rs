//! The layer rule of design.md, read from `cargo metadata`: a crate depends only on crates in
//! lower layers; adapters (L2) never depend on each other; the testkit is a dev-dependency only.

use std::collections::BTreeMap;
use std::process::Command;

fn layer(name: &str) -> Option<u8> {
    Some(match name {
        "lockstep-manifest" | "lockstep-vocab" => 0,
        // lockstep-state is the one L1 crate that touches files (crash-safe writes, the lock,
        // journal files): it sits below the adapters so they all share one writer.
        "lockstep-compat" | "lockstep-cascade" | "lockstep-pins" | "lockstep-rollout"
        | "lockstep-state" => 1,
        "lockstep-registry" | "lockstep-snapshot" | "lockstep-smoke" | "lockstep-audit"
        | "lockstep-store" | "lockstep-notify" => 2,
        "lockstep-upgrade" | "lockstep-release" | "lockstep-packs" | "lockstep-fleet"
        | "lockstep-dashboard" => 3,
        "xtask" => 4,
        _ => return None,
    })
}

#[test]
fn crates_depend_only_on_lower_layers() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let mut violations = Vec::new();
    let mut seen = BTreeMap::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap();
        seen.insert(name.to_owned(), ());
        let own = layer(name);
        if name != "lockstep-testkit" && own.is_none() {
            violations.push(format!("{name} is not in design.md's layer table"));
            continue;
        }
        for dep in pkg["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let is_dev = dep["kind"].as_str() == Some("dev");
            if dep_name == "lockstep-testkit" {
                if !is_dev && name != "lockstep-testkit" {
                    violations.push(format!(
                        "{name} depends on lockstep-testkit outside [dev-dependencies]"
                    ));
                }
                continue;
            }
            let (Some(own), Some(theirs)) = (own, layer(dep_name)) else {
                continue;
            };
            // The manifest formats are written in the shared vocabulary (one L0 edge).
            let vocabulary = name == "lockstep-manifest" && dep_name == "lockstep-vocab";
            // The command line is glue over the workflow crates: it names lower types only
            // through their re-exports.
            let glue = name == "xtask" && !is_dev && theirs != 3;
            if (theirs >= own && !vocabulary) || glue {
                violations.push(format!("{name} (L{own}) depends on {dep_name} (L{theirs})"));
            }
        }
    }
    assert!(
        seen.contains_key("lockstep-manifest") && seen.contains_key("xtask"),
        "metadata lists the workspace"
    );
    assert!(
        violations.is_empty(),
        "layer rule broken:\n{}",
        violations.join("\n")
    );
}
