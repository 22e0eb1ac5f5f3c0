//! Hostile input is refused quickly, with the kind the parser reports; nothing hangs or panics.

use std::time::{Duration, Instant};

use lockstep_manifest::{Invalid, ProblemKind, Release, ReleaseIndex, VerticalManifest};

use crate::support::FINANCE;

/// Runs `parse`, asserts it fails within a second (debug build) with one problem of `kind`, and
/// returns that problem's message.
#[track_caller]
fn refused<T: std::fmt::Debug>(
    kind: ProblemKind,
    parse: impl FnOnce() -> Result<T, Invalid>,
) -> String {
    let start = Instant::now();
    let result = parse();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    let err = result.expect_err("hostile input was accepted");
    assert_eq!(err.problems.len(), 1, "{:?}", err.problems);
    assert_eq!(err.problems[0].kind, kind, "{}", err.problems[0]);
    err.problems[0].message.clone()
}

#[test]
fn files_over_one_mib() {
    let big = format!("{FINANCE}# {}\n", "x".repeat(1024 * 1024));
    insta::assert_snapshot!(refused(ProblemKind::TooLarge, || VerticalManifest::parse(&big)), @"file is 1048919 bytes; at most 1048576 bytes (1 MiB) are accepted");
    let big = format!(
        "{{\"version\": \"1.0.0\", \"pad\": \"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    refused(ProblemKind::TooLarge, || Release::parse_json(&big));
    let big = " ".repeat(lockstep_manifest::MAX_INDEX_BYTES + 1);
    refused(ProblemKind::TooLarge, || ReleaseIndex::parse(&big));
}

#[test]
fn billion_laughs() {
    let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let message = refused(ProblemKind::TooLarge, || VerticalManifest::parse(&text));
    assert!(message.contains("alias"), "{message}");
    // The same bomb hidden inside an otherwise valid manifest.
    let hidden = format!("{FINANCE}{}", text.replace("a: &a", "x_a: &a"));
    refused(ProblemKind::TooLarge, || VerticalManifest::parse(&hidden));
}

#[test]
fn nesting_bombs() {
    let deep = 100_000;
    let yaml_flow = "[".repeat(deep);
    let message = refused(ProblemKind::TooLarge, || {
        VerticalManifest::parse(&yaml_flow)
    });
    assert!(message.contains("nesting"), "{message}");
    let yaml_closed = format!("{}1{}", "[".repeat(deep), "]".repeat(deep));
    refused(ProblemKind::TooLarge, || {
        VerticalManifest::parse(&yaml_closed)
    });
    let yaml_map = "a: {".repeat(deep / 4);
    refused(ProblemKind::TooLarge, || VerticalManifest::parse(&yaml_map));
    let yaml_block: String = (0..200).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    let message = refused(ProblemKind::TooLarge, || {
        VerticalManifest::parse(&yaml_block)
    });
    assert!(message.contains("nesting"), "{message}");

    let json_seq = format!("{}1{}", "[".repeat(deep), "]".repeat(deep));
    insta::assert_snapshot!(refused(ProblemKind::TooLarge, || ReleaseIndex::parse(&json_seq)), @"not valid JSON: recursion limit exceeded");
    let json_map = "{\"a\":".repeat(deep);
    refused(ProblemKind::TooLarge, || Release::parse_json(&json_map));
    // Unclosed but shallow JSON is a syntax error, not a size one.
    refused(ProblemKind::Syntax, || ReleaseIndex::parse("[[[["));
}

#[test]
fn a_mapping_with_many_keys_is_not_quadratic() {
    let text: String = (0..40_000).map(|i| format!("k{i}: {i}\n")).collect();
    let start = Instant::now();
    let err = VerticalManifest::parse(&text).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
    // Capped: the first hundred problems and a count of the rest.
    assert_eq!(err.problems.len(), 101);
}

#[test]
fn a_large_real_manifest_still_passes() {
    let caps: String = (0..5000)
        .map(|i| format!("    - capability.number{i}.v1\n"))
        .collect();
    let text = FINANCE.replacen("    - ledger.v1\n", &caps, 1);
    assert!(text.len() > 100_000);
    let start = Instant::now();
    let m = VerticalManifest::parse(&text).expect("a long but honest manifest");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(m.compatibility.required_capabilities.len(), 5001);
    // Anchors and aliases used as people use them are fine.
    let text = format!("{FINANCE}core: &core\n  mode: checkout\n");
    VerticalManifest::parse(&text).expect("one anchor");
}
