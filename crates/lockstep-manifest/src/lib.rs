//! The lockstep vocabulary: vertical manifests, release indexes and release metadata, parsed from text and validated with precise locations

#![forbid(unsafe_code)]
#![deny(missing_docs)]
