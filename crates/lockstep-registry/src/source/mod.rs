//! The three release sources.

pub(crate) mod file;
pub(crate) mod github;
pub(crate) mod http_index;
