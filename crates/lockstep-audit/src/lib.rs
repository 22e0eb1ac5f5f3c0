//! Append-only, hash-chained JSONL audit log with verification and torn-tail repair

#![forbid(unsafe_code)]
#![deny(missing_docs)]
