//! Integration tests of lockstep-dashboard: the page in a real headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod chromium;
mod fixture;
