//! Runs smoke tests and other commands with timeouts, whole-process-group kills and capped output

#![forbid(unsafe_code)]
#![deny(missing_docs)]
