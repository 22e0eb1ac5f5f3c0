//! The multi-repository release cascade: discovery of packages and edges from a
//! `cascade.toml`, the global status view, and (later) the executor.
