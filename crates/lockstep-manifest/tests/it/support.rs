//! Rendering of parse results, shared by the table-driven tests.

use lockstep_manifest::{Invalid, Problem};

/// `ok`, or one line per problem: `line:column field [kind] message`.
pub fn render<T>(result: &Result<T, Invalid>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.problems.iter().map(line).collect::<Vec<_>>().join("\n"),
    }
}

pub fn line(p: &Problem) -> String {
    format!(
        "{}:{} {} [{:?}] {}",
        p.line, p.column, p.field, p.kind, p.message
    )
}

/// A valid manifest, the finance example of the original brief. Line numbers matter: tests
/// name them.
pub const FINANCE: &str = "\
domain_name: finance
domain_version: 2.3.0
status: active
compatibility:
  min_core_version: 1.0.0
  max_core_version: 1.x.x
  contracts_major: 1
  update_channel: stable
  smoke_tests_timeout: 300
  required_capabilities:
    - ledger.v1
    - events.stream
ownership:
  team: payments
  tech_lead: Ada Lovelace
  contact: ada@example.com
";

/// `FINANCE` with one substring replaced; panics if it is not there, so a case cannot silently
/// test the unchanged manifest.
pub fn finance_with(from: &str, to: &str) -> String {
    assert!(
        FINANCE.contains(from),
        "{from:?} is not in the base manifest"
    );
    FINANCE.replacen(from, to, 1)
}
