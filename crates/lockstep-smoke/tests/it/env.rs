//! Environment, working directory, program resolution, no shell.

use lockstep_smoke::{CommandSpec, FROM_VERSION_VAR, Outcome, TO_VERSION_VAR, run};

use crate::script;

#[test]
fn sees_versions_extra_vars_and_the_inherited_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(
        dir.path(),
        "env.sh",
        r#"echo "from=$LOCKSTEP_FROM_VERSION"
echo "to=$LOCKSTEP_TO_VERSION"
echo "extra=$SMOKE_EXTRA"
echo "path=$PATH""#,
    );
    let spec = CommandSpec::new(&path)
        .versions("1.1.0", "1.2.0")
        .env("SMOKE_EXTRA", "with spaces & $dollar");
    let result = run(&spec).expect("runner");
    assert_eq!(result.outcome, Outcome::Passed);
    let expected = format!(
        "from=1.1.0\nto=1.2.0\nextra=with spaces & $dollar\npath={}\n",
        std::env::var("PATH").unwrap_or_default()
    );
    assert_eq!(result.output.to_text(), expected);
    assert_eq!(FROM_VERSION_VAR, "LOCKSTEP_FROM_VERSION");
    assert_eq!(TO_VERSION_VAR, "LOCKSTEP_TO_VERSION");
}

#[test]
fn runs_in_the_working_directory_with_a_relative_program() {
    let vertical = tempfile::tempdir().expect("temp dir");
    script(vertical.path(), "smoke_tests/run.sh", "pwd; ls");
    std::fs::write(vertical.path().join("vertical_manifest.yaml"), "").expect("write");
    let spec = CommandSpec::new("smoke_tests/run.sh").current_dir(vertical.path());
    let result = run(&spec).expect("runner");
    assert_eq!(result.outcome, Outcome::Passed, "{}", result.output);
    let canonical = vertical.path().canonicalize().expect("canonical");
    assert_eq!(
        result.output.to_text(),
        format!(
            "{}\nsmoke_tests\nvertical_manifest.yaml\n",
            canonical.display()
        )
    );
}

#[test]
fn arguments_reach_the_program_verbatim() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(
        dir.path(),
        "args.sh",
        r#"for a in "$@"; do echo "[$a]"; done"#,
    );
    let spec = CommandSpec::new(&path).args(["plain", "two words", "$HOME", "*", "; exit 3"]);
    let result = run(&spec).expect("runner");
    assert_eq!(result.outcome, Outcome::Passed);
    assert_eq!(
        result.output.to_text(),
        "[plain]\n[two words]\n[$HOME]\n[*]\n[; exit 3]\n"
    );
}

#[test]
fn stdin_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(dir.path(), "stdin.sh", "cat; echo end");
    let result = run(&CommandSpec::new(&path)).expect("runner");
    assert_eq!(result.output.to_text(), "end\n");
}
