//! Integration tests for the release workflow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod discovery;
