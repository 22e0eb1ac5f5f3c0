//! Integration tests for lockstep-manifest: one binary, one module per area.

// A test that unwraps fails with the value in the message, which is what a test should do.
#![allow(clippy::unwrap_used)]

mod bounded;
mod cascade;
mod fixtures;
mod pack;
mod props;
mod release;
mod schema;
mod support;
mod vertical;
