//! Integration tests of lockstep-rollout: buckets, assignment, the halting rule, Argo output.

#![allow(clippy::unwrap_used)]

mod argo;
mod bucket;
mod halting;
