//! Integration tests for lockstep-compat: one binary, one module per area.

mod matrix;
mod range_oracle;
mod reasons;
mod snapshots;
mod support;
