//! Integration tests for lockstep-cascade: one binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod digest;
mod graph;
mod planning;
mod props;
mod release_closure;
mod release_rules;
mod snapshots;
mod support;
