//! Release sources for lockstep: a local index file, a static HTTP index and the GitHub Releases API, with caching, pagination, rate limits and checksums

#![forbid(unsafe_code)]
#![deny(missing_docs)]
