//! Placeholder, replaced by the restore benchmark.
fn main() {}
