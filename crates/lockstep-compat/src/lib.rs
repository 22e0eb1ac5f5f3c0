//! Compatibility engine: release x manifest -> verdict with reasons, and the matrix of many releases x many verticals

#![forbid(unsafe_code)]
#![deny(missing_docs)]
