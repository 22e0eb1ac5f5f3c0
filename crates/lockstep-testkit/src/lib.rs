//! Test fixtures for lockstep: real git repositories in temp dirs, a loopback HTTP server, insta filters and proptest strategies

#![forbid(unsafe_code)]
#![deny(missing_docs)]
