//! Snapshot and verified restore of a git work tree plus named files; the only lockstep crate that touches git

#![forbid(unsafe_code)]
#![deny(missing_docs)]
