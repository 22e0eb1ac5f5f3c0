//! lockstep's shared vocabulary: the few words every other crate speaks.
//!
//! - [`Ecosystem`]: Cargo, npm or Python, with each one's manifest file name.
//! - [`DepKind`]: how a dependent needs its dependency (normal, build, dev, or a Cargo
//!   `[workspace.dependencies]` entry members inherit).
//! - [`Bump`]: a SemVer bump, ordered `Patch < Minor < Major` so the larger of two is `max`.
//! - [`Requirement`]: a version requirement parsed *as its ecosystem writes it* (Cargo's bare
//!   `1.2` is `^1.2`, npm's is `1.2.x`, PEP 440's `~=1.2`), which says whether it admits a
//!   version and rewrites itself for a new one keeping the user's operator and precision.
//! - [`TagFormat`]: a release tag template such as `{name}-v{version}`, formatted and parsed
//!   by the same code.
//!
//! Everything here is pure: no files, processes, clock or logging.
//!
//! # Limitations
//!
//! - Requirements cover the SemVer-shaped subset of PEP 440: epochs, post- and dev-releases
//!   and `===` are not read (`parse` says so by returning an error).
//!
//! ## Examples
//!
//! ```
//! use lockstep_vocab::{Ecosystem, Requirement, Rewrite, TagFormat};
//! use semver::Version;
//!
//! let req = Requirement::parse("^1.2", Ecosystem::Cargo)?;
//! assert!(req.admits(&Version::new(1, 9, 0)));
//! assert_eq!(req.rewrite(&Version::new(1, 9, 0), false), Rewrite::Admits);
//! assert_eq!(req.rewrite(&Version::new(2, 1, 0), false), Rewrite::To("^2.1".into()));
//!
//! let tags = TagFormat::parse_template("{name}-v{version}")?;
//! assert_eq!(tags.format("gix-hash", &Version::new(0, 15, 0)), "gix-hash-v0.15.0");
//! assert_eq!(tags.parse("gix-hash-v0.15.0"), Some((Some("gix-hash".into()), Version::new(0, 15, 0))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bump;
mod kinds;
mod req;
mod tag;

pub use bump::Bump;
pub use kinds::{DepKind, Ecosystem, ParseNameError};
pub use req::{Requirement, RequirementError, Rewrite};
pub use tag::{TagFormat, TagFormatError, unscoped};
