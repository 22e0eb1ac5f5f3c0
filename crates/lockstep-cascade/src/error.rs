//! The one error type: real violations only. Findings go into the [`Plan`](crate::Plan).

/// Why a graph could not be built or a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two packages share a name.
    #[error(
        "package `{name}` is declared twice (in repositories `{first_repo}` and `{second_repo}`)"
    )]
    DuplicatePackage {
        /// The name.
        name: String,
        /// The repository of the first declaration.
        first_repo: String,
        /// The repository of the second declaration.
        second_repo: String,
    },
    /// Two repositories share a name.
    #[error("repository `{name}` is declared twice")]
    DuplicateRepo {
        /// The name.
        name: String,
    },
    /// A package names a repository that was not given.
    #[error("package `{package}` is in repository `{repo}`, which is not declared")]
    UnknownRepo {
        /// The package.
        package: String,
        /// The repository it names.
        repo: String,
    },
    /// An edge names a package that was not given.
    #[error(
        "the edge `{dependent}` -> `{dependency}` names `{missing}`, which is not a declared package"
    )]
    UnknownEdgePackage {
        /// The edge's dependent.
        dependent: String,
        /// The edge's dependency.
        dependency: String,
        /// The end that is not declared.
        missing: String,
    },
    /// A package re-exports a package that was not given.
    #[error("package `{package}` re-exports `{reexport}`, which is not a declared package")]
    UnknownReexport {
        /// The package.
        package: String,
        /// The re-exported name.
        reexport: String,
    },
    /// The request starts from a package that was not given.
    #[error("cannot release `{name}`: no such package")]
    UnknownStart {
        /// The name requested.
        name: String,
    },
    /// Normal or build dependencies form a cycle. Each package depends on the next one, and
    /// the last on the first; the smallest name comes first.
    #[error("dependency cycle: {}", cycle_text(.packages))]
    Cycle {
        /// Every package on the cycle, in dependency order.
        packages: Vec<String>,
    },
    /// A version cannot be bumped any further.
    #[error("cannot bump `{package}` {version}: a component would overflow")]
    VersionOverflow {
        /// The package.
        package: String,
        /// Its version.
        version: semver::Version,
    },
}

fn cycle_text(packages: &[String]) -> String {
    let mut text = packages.join(" -> ");
    if let Some(first) = packages.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}
