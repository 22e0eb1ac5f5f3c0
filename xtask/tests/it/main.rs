//! Integration tests for the lockstep command line and the workspace's structure.

mod cli;
mod layers;
