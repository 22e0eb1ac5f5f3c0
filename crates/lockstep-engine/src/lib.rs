//! The lockstep workflows other tools embed: the release gate, update checks, and (later) the upgrade transaction and cascade executor

#![forbid(unsafe_code)]
#![deny(missing_docs)]
