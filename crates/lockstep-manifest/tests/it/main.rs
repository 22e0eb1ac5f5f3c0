//! Integration tests for lockstep-manifest: one binary, one module per area.

mod bounded;
mod fixtures;
mod props;
mod release;
mod schema;
mod support;
mod vertical;
