//! Integration tests for the lockstep command line and the workspace's structure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cascade;
mod cli;
mod fleet;
mod hooks;
mod layers;
mod monorepo;
mod pack;
mod python_demo;
mod rollout;
mod upgrade;
