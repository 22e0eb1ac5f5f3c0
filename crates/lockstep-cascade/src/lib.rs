//! The lockstep release-cascade planner: given packages spread over many repositories and the
//! dependency edges between them, say what to release from a starting set, in which order,
//! at which versions, with which pin edits and tags — and why.
//!
//! Pure: values in, a [`Plan`] out. No files, processes, git, clock or logging (a large plan
//! borrows a second thread, see **Cost** below); the caller
//! (lockstep's engine) discovers packages and edges, passes in each repository's HEAD, and
//! executes the plan. Findings are data: a [`Plan`] carries `notes`; only real violations
//! (unknown names, a dependency cycle) are an [`Error`].
//!
//! The decisions, once:
//!
//! - **Released set**: the start packages, then, in dependency order, every package with a
//!   normal or build edge to a released package whose pin had to change (a git tag or rev
//!   pin, or a requirement that no longer admits the new version); with
//!   [`ReleaseDependents::Always`], every transitive dependent. A dependent that needs nothing
//!   is listed in [`Plan::not_released`] with the reason ("admits core 1.3.0 (^1.2)"), and so
//!   is one further down whose upstreams are none of them released, so that every package
//!   the cascade reaches is decided about once. A
//!   package marked unpublished (Cargo `publish = false`) is released only when it starts the
//!   cascade or another package pins it by git tag or rev; otherwise its step only rewrites
//!   its pins (`release: false`, [`Plan::edited_only`]). Dev edges do not cascade: a test-only
//!   dependent has nothing new to ship (Cargo strips dev-dependencies on publish). The plan
//!   notes each such dependent.
//! - **Waves**: each package sits in the earliest wave after all its in-plan normal and build
//!   upstreams; by name within a wave. Dev edges do not order waves, so a cycle through dev
//!   edges is allowed (as in Cargo) and broken there: a released package's dev pin on a
//!   package of an earlier wave is rewritten, one on the same or a later wave is left alone
//!   and noted. A cycle through normal or build edges is [`Error::Cycle`], naming every
//!   package on it.
//! - **Bumps**: start packages take `--bump`, or the bump their conventional commits call for
//!   ([`bump_from_commits`]: from 1.0.0 breaking → major, feat → minor, fix/perf → patch;
//!   below 1.0.0, where Cargo treats the minor as the major, breaking → minor and feat →
//!   patch). [`Bump::apply`] is literal (`major` on `0.3.1` is `1.0.0`). Every released
//!   dependent gets at least a patch; one that re-exports an upstream whose release is
//!   incompatible (Cargo's rule: the first non-zero component changed) gets a breaking bump
//!   too. Without `--bump`, a dependent's own commits can raise its bump.
//! - **Pins**: a git tag pin becomes the upstream's new tag; a git rev pin becomes the new tag
//!   too (the reason says so); a path pin needs no edit; a version requirement is rewritten
//!   only when it does not admit the new version or exact pins are asked for (otherwise the
//!   reason says "requirement ^1.2 on core already admits 1.3.0"). A rewrite keeps each
//!   operator and the precision it was written with (`^1.2` → `^2.0`, `>=1.2, <2` →
//!   `>=2.1, <3`); exact pins write all three components (`^1.3.0`).
//! - **Tags**: `vX.Y.Z` in a repository holding one package, `NAME-vX.Y.Z` in one holding
//!   several; [`Step::tag_message`] lists the upstream versions the release is built against.
//! - **Digest**: sha256 over a canonical, length-prefixed encoding (LEB128 integers) of
//!   everything in the plan but the digest, the HEAD commit of every repository with a step
//!   included ([`Plan::heads`]): same graph, heads and request, same digest;
//!   [`Plan::compute_digest`] checks a saved plan.
//! - **Output**: [`Plan`] serialises to the `lockstep.cascade-plan/v1` JSON of design.md
//!   ([`Plan::to_json`]) and back; [`Plan::mermaid`] draws it. Tables are the caller's. The
//!   names, files, pins, tags and commands in a plan are [`SharedStr`]s, which clone without
//!   allocating (a string a plan makes, such as a reason, is a `String`).
//! - **Cost**: O(V + E) in the graph and the plan. A plan of 2,048 steps or more, on a machine
//!   with two cores or more, is made on two threads for the length of the call ([`plan`]
//!   waits for both): this one decides and makes the steps, wave by wave, a scoped second
//!   one adds each step's upstream list and encodes and hashes the waves as they come. The
//!   plan and its digest are the same as from one thread. On 10,000 packages and 50,000
//!   edges, `cargo bench -p lockstep-cascade` times it under 20 ms, digest included.
//!
//! # Limitations
//!
//! - Requirements are read in Cargo, npm and PEP 440 syntax as far as versions go: `x.y.z`
//!   with up to three numeric components, wildcards, pre-releases; PEP 440 epochs, local
//!   versions and `.postN`, and npm tags (`latest`, `workspace:*`) are not read: such a pin
//!   is left alone and the plan notes it.
//! - Within one repository, packages may land in different waves; the plan does not merge
//!   them into one release commit, that is the executor's business.
//!
//! ## Examples
//!
//! ```
//! use lockstep_cascade::{plan, Bump, DepKind, Ecosystem, Edge, Graph, Package, PinSpec, Repo, Request};
//! use semver::Version;
//!
//! let v = |s| Version::parse(s).unwrap();
//! let packages = vec![
//!     Package::new("core", "core", Ecosystem::Cargo, v("1.0.0"), "Cargo.toml"),
//!     Package::new("app", "app", Ecosystem::Cargo, v("0.3.0"), "Cargo.toml"),
//!     Package::new("web", "web", Ecosystem::Npm, v("2.1.0"), "package.json"),
//! ];
//! let edges = vec![
//!     Edge::new("app", "core", DepKind::Normal, PinSpec::GitTag("v1.0.0".into()), "Cargo.toml"),
//!     Edge::new("web", "app", DepKind::Normal, PinSpec::Requirement("^0.3.0".into()), "package.json"),
//! ];
//! let repos = ["core", "app", "web"].map(|r| Repo::new(r, format!("{r}-head"))).to_vec();
//! let graph = Graph::new(packages, edges, repos)?;
//!
//! let plan = plan(&graph, &Request::new(["core"]).with_bump(Bump::Minor))?;
//! let waves: Vec<Vec<&str>> = plan.waves.iter()
//!     .map(|w| w.iter().map(|s| s.package.as_str()).collect())
//!     .collect();
//! assert_eq!(waves, [["core"], ["app"]]);
//!
//! let app = plan.step("app").unwrap();
//! assert_eq!((app.to.to_string(), app.tag.as_str()), ("0.3.1".to_owned(), "v0.3.1"));
//! assert_eq!(app.reason, "pins core 1.0.0 → 1.1.0");
//! assert_eq!(app.pin_edits[0].to, "v1.1.0");
//! // `web`'s requirement already admits app 0.3.1: nothing to release there.
//! assert!(plan.step("web").is_none());
//! assert_eq!(plan.not_released[0].reason, "admits app 0.3.1 (^0.3.0)");
//! assert!(plan.to_json().contains(r#""schema": "lockstep.cascade-plan/v1""#));
//! # Ok::<(), lockstep_cascade::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bump;
mod digest;
mod error;
mod graph;
mod index;
mod model;
mod plan;
mod planner;
mod render;
mod text;

pub use bump::{Bump, Change, bump_from_commits};
pub use error::Error;
pub use graph::Graph;
pub use model::{DepKind, Ecosystem, Edge, Package, ParseNameError, PinSpec, Repo};
pub use plan::{
    EditKind, EditedOnly, NotReleased, PLAN_SCHEMA, PinEdit, Plan, ReleaseDependents, Request,
    Step, Upstream, plan,
};
pub use text::SharedStr;

/// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
