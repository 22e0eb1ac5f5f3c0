//! The one integration test binary of lockstep-pins.

// A test that fails should panic at the failing line.
#![allow(clippy::unwrap_used)]

mod cargo;
mod errors;
mod lockfile;
mod npm;
mod package;
mod props;
mod python;

use std::fmt::Write as _;

use lockstep_pins::{Dependency, Edit, Pin};

/// A fixture file from `tests/it/fixtures`.
pub fn fixture(name: &str) -> &'static str {
    match name {
        "Cargo.toml" => include_str!("fixtures/Cargo.toml"),
        "Cargo.workspace.toml" => include_str!("fixtures/Cargo.workspace.toml"),
        "Cargo.member.toml" => include_str!("fixtures/Cargo.member.toml"),
        "package.json" => include_str!("fixtures/package.json"),
        "pyproject.toml" => include_str!("fixtures/pyproject.toml"),
        "pyproject.poetry.toml" => include_str!("fixtures/pyproject.poetry.toml"),
        other => panic!("no fixture {other}"),
    }
}

/// One line per dependency: location, name, kind, target and pin.
pub fn render_deps(deps: &[Dependency]) -> String {
    let mut out = String::new();
    for d in deps {
        let target = d
            .target
            .as_deref()
            .map(|t| format!(" target={t}"))
            .unwrap_or_default();
        let key = if d.key == d.name {
            String::new()
        } else {
            format!(" key={}", d.key)
        };
        writeln!(
            out,
            "{} name={}{key} kind={}{target}\n    {}",
            d.location,
            d.name,
            d.kind,
            render_pin(&d.pin)
        )
        .unwrap();
    }
    out
}

/// A pin as its Debug form.
pub fn render_pin(pin: &Pin) -> String {
    format!("{pin:?}")
}

/// The changes of an edit and a line diff of the file (2 lines of context),
/// after checking that the edit touched nothing but the lines it reports.
pub fn render_edit(before: &str, edit: &Edit) -> String {
    let mut out = String::new();
    for c in &edit.changes {
        let from = c
            .from
            .as_ref()
            .map_or("(none)".to_owned(), ToString::to_string);
        writeln!(
            out,
            "changed {} ({}): {from} -> {}",
            c.location, c.name, c.to
        )
        .unwrap();
    }
    for s in &edit.skipped {
        writeln!(out, "skipped {}: {:?}", s.location, s.reason).unwrap();
    }
    out.push_str("---\n");
    out.push_str(&diff(before, &edit.text, 2));
    out
}

/// A line diff: `-` before, `+` after, ` ` context, `...` between hunks.
pub fn diff(before: &str, after: &str, context: usize) -> String {
    let a: Vec<&str> = before.split_inclusive('\n').collect();
    let b: Vec<&str> = after.split_inclusive('\n').collect();
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(context);
        let hi = (k + context + 1).min(ops.len());
        ops[lo..hi].iter().any(|(op, _)| *op != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped && !out.is_empty() {
                out.push_str("...\n");
            }
            skipped = false;
            write!(out, "{op} {line}").unwrap();
            if !line.ends_with('\n') {
                out.push_str("\n\\ no newline at end of file\n");
            }
        } else {
            skipped = true;
        }
    }
    out
}
