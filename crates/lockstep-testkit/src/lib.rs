//! Test fixtures for lockstep: real git repositories built in temp dirs, a loopback HTTP
//! server shaped like the registries lockstep reads, and helpers for insta and proptest.
//!
//! Never published; only `[dev-dependencies]` use it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod git;
pub mod http;
pub mod webhook;
