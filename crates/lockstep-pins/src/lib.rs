//! Format-preserving edits of dependency pins and package versions in Cargo.toml, package.json and pyproject.toml

#![forbid(unsafe_code)]
#![deny(missing_docs)]
