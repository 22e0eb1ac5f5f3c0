//! Choosing one version of every pack an install needs, with the `pubgrub` resolver.
//!
//! The problem: the requested packs (each with a requirement), every installed pack that is
//! not requested (held at its installed version), and the installed core (one version, when
//! known). Each candidate version brings its `requires` and its core range. The answer is the
//! newest versions that satisfy everything, or pubgrub's explanation of why none do.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use lockstep_manifest::{PackCore, VersionBound};
use lockstep_vocab::Requirement;
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, PackageResolutionStatistics,
    PubGrubError, Ranges, Reporter,
};
use semver::Version;

use crate::Error;
use crate::index::Needs;

/// A resolver package: the request itself, core, or a pack.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Pkg {
    Request,
    /// The installed packs that stay as they are.
    Installed,
    Core,
    Pack(String),
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Request => f.write_str("the request"),
            Pkg::Installed => f.write_str("the installed packs"),
            Pkg::Core => f.write_str("core"),
            Pkg::Pack(n) => f.write_str(n),
        }
    }
}

type Set = Ranges<Version>;
type NeedsFn<'n> = dyn FnMut(&str, &Version) -> Result<Needs, Error> + 'n;

/// What to resolve.
#[derive(Debug, Default)]
pub struct Problem {
    /// The packs asked for, with the versions that will do.
    pub requested: Vec<(String, Requirement)>,
    /// Installed packs not asked for: they stay at these versions.
    pub held: BTreeMap<String, Version>,
    /// Every candidate version per pack (any order).
    pub candidates: BTreeMap<String, Vec<Version>>,
    /// The installed core, when known.
    pub core: Option<Version>,
}

/// Resolves `problem`; `needs(name, version)` says what a candidate needs (it may fetch the
/// pack to find out; each candidate is asked at most once).
pub fn resolve(
    problem: &Problem,
    needs: &mut dyn FnMut(&str, &Version) -> Result<Needs, Error>,
) -> Result<BTreeMap<String, Version>, Error> {
    let mut candidates: HashMap<String, Vec<Version>> = HashMap::new();
    for (name, versions) in &problem.candidates {
        let mut v = versions.clone();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        candidates.insert(name.clone(), v);
    }
    let provider = Provider {
        problem,
        candidates,
        needs: RefCell::new(needs),
    };
    match pubgrub::resolve(&provider, Pkg::Request, Version::new(0, 0, 0)) {
        Ok(solution) => Ok(solution
            .into_iter()
            .filter_map(|(p, v)| match p {
                Pkg::Pack(name) => Some((name, v)),
                _ => None,
            })
            .collect()),
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            // The two pseudo-packages have no real version: say what they are instead.
            let explanation = DefaultStringReporter::report(&tree)
                .replace(
                    "the request depends on the installed packs 0.0.0",
                    "the request keeps the installed packs",
                )
                .replace(
                    "the installed packs 0.0.0 depends on",
                    "the installed packs depend on",
                )
                .replace("the installed packs 0.0.0", "the installed packs")
                .replace("the request 0.0.0", "the request");
            Err(Error::Conflict { explanation })
        }
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. }) => Err(source),
        Err(PubGrubError::ErrorChoosingVersion { source, .. }) => Err(source),
        Err(PubGrubError::ErrorInShouldCancel(source)) => Err(source),
    }
}

struct Provider<'a, 'n> {
    problem: &'a Problem,
    /// Newest first.
    candidates: HashMap<String, Vec<Version>>,
    needs: RefCell<&'n mut NeedsFn<'n>>,
}

impl Provider<'_, '_> {
    fn versions(&self, pkg: &Pkg) -> &[Version] {
        match pkg {
            Pkg::Pack(n) => self.candidates.get(n).map_or(&[], Vec::as_slice),
            _ => &[],
        }
    }

    /// The candidate versions of `name` a requirement admits, as ranges: exact with respect to
    /// the candidates, which are all the resolver can choose from.
    fn requirement_set(&self, name: &str, req: &Requirement) -> Set {
        let Some(versions) = self.candidates.get(name) else {
            return Set::full();
        };
        let mut set = Set::empty();
        for v in versions {
            if req.admits(v) {
                set = set.union(&Set::singleton(v.clone()));
            }
        }
        set
    }
}

/// The core range as a version set (the manifest's wildcard rules).
fn core_set(core: &PackCore) -> Set {
    let low = match core.min_core_version.as_ref().and_then(VersionBound::floor) {
        Some(floor) => Set::higher_than(floor),
        None => Set::full(),
    };
    let high = match &core.max_core_version {
        Some(VersionBound::Exact(v)) => Set::lower_than(v.clone()),
        Some(b) => match b.ceiling_exclusive() {
            Some(c) => Set::strictly_lower_than(c),
            None => Set::full(),
        },
        None => Set::full(),
    };
    low.intersection(&high)
}

impl DependencyProvider for Provider<'_, '_> {
    type P = Pkg;
    type V = Version;
    type VS = Set;
    type M = String;
    type Err = Error;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Set,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let choices = match package {
            Pkg::Pack(_) => self
                .versions(package)
                .iter()
                .filter(|v| range.contains(*v))
                .count(),
            _ => 1,
        };
        (stats.conflict_count(), Reverse(choices))
    }

    fn choose_version(&self, package: &Pkg, range: &Set) -> Result<Option<Version>, Error> {
        Ok(match package {
            Pkg::Request | Pkg::Installed => {
                Some(Version::new(0, 0, 0)).filter(|v| range.contains(v))
            }
            Pkg::Core => self.problem.core.clone().filter(|v| range.contains(v)),
            Pkg::Pack(_) => self
                .versions(package)
                .iter()
                .find(|v| range.contains(*v))
                .cloned(),
        })
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Set, String>, Error> {
        let mut deps: Vec<(Pkg, Set)> = Vec::new();
        match package {
            Pkg::Request => {
                for (name, req) in &self.problem.requested {
                    deps.push((Pkg::Pack(name.clone()), self.requirement_set(name, req)));
                }
                if !self.problem.held.is_empty() {
                    deps.push((Pkg::Installed, Set::singleton(Version::new(0, 0, 0))));
                }
                if let Some(core) = &self.problem.core {
                    deps.push((Pkg::Core, Set::singleton(core.clone())));
                }
            }
            Pkg::Installed => {
                for (name, v) in &self.problem.held {
                    if !self.problem.requested.iter().any(|(n, _)| n == name) {
                        deps.push((Pkg::Pack(name.clone()), Set::singleton(v.clone())));
                    }
                }
            }
            Pkg::Core => {}
            Pkg::Pack(name) => {
                let needs = (self.needs.borrow_mut())(name, version)?;
                for (dep, req) in &needs.requires {
                    let set = self.requirement_set(dep, req);
                    if set.is_empty() {
                        // Say which requirement and what is offered, not an empty set.
                        let offered: Vec<String> = self
                            .versions(&Pkg::Pack(dep.clone()))
                            .iter()
                            .map(ToString::to_string)
                            .collect();
                        return Ok(Dependencies::Unavailable(format!(
                            "(it requires {dep} {}, which no offered version matches; offered: {})",
                            req.as_str(),
                            offered.join(", ")
                        )));
                    }
                    deps.push((Pkg::Pack(dep.clone()), set));
                }
                if self.problem.core.is_some() {
                    deps.push((Pkg::Core, core_set(&needs.core)));
                }
            }
        }
        Ok(Dependencies::Available(deps.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_vocab::Ecosystem;

    /// (name, version, requires, max core)
    type Entry<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], Option<&'a str>);

    fn req(s: &str) -> Requirement {
        Requirement::parse(s, Ecosystem::Cargo).unwrap()
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    /// name → [(version, requires, max core)]
    fn check(
        catalogue: &[Entry],
        requested: &[(&str, &str)],
        held: &[(&str, &str)],
        core: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let mut problem = Problem {
            requested: requested
                .iter()
                .map(|(n, r)| (n.to_string(), req(r)))
                .collect(),
            held: held.iter().map(|(n, x)| (n.to_string(), v(x))).collect(),
            core: core.map(v),
            ..Problem::default()
        };
        for (name, version, _, _) in catalogue {
            problem
                .candidates
                .entry(name.to_string())
                .or_default()
                .push(v(version));
        }
        let mut asked = Vec::new();
        let mut needs = |name: &str, version: &Version| {
            asked.push(format!("{name}@{version}"));
            let (_, _, requires, max) = catalogue
                .iter()
                .find(|(n, x, _, _)| *n == name && v(x) == *version)
                .expect("a candidate");
            let mut core = PackCore::default();
            core.max_core_version = max.map(|m| m.parse().unwrap());
            Ok(Needs {
                requires: requires
                    .iter()
                    .map(|(n, r)| (n.to_string(), req(r)))
                    .collect(),
                core,
            })
        };
        let out = resolve(&problem, &mut needs).map_err(|e| e.to_string())?;
        let mut sorted = asked.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            asked.len(),
            "each candidate asked once: {asked:?}"
        );
        Ok(out.into_iter().map(|(n, v)| format!("{n}@{v}")).collect())
    }

    #[test]
    fn newest_versions_that_fit_everything() {
        let cat: &[Entry] = &[
            ("app", "1.0.0", &[("base", "^1.1")], None),
            ("app", "2.0.0", &[("base", "^2")], Some("1.x.x")),
            ("base", "1.0.0", &[], None),
            ("base", "1.2.0", &[], None),
            ("base", "2.0.0", &[], Some("1.4.0")),
        ];
        assert_eq!(
            check(cat, &[("app", "*")], &[], Some("1.4.0")).unwrap(),
            ["app@2.0.0", "base@2.0.0"]
        );
        // core 1.5.0 rules out base 2.0.0, so app 2 cannot be had: app 1 with base 1.2.
        assert_eq!(
            check(cat, &[("app", "*")], &[], Some("1.5.0")).unwrap(),
            ["app@1.0.0", "base@1.2.0"]
        );
        // An installed base 1.0.0 is held: app 1 needs ^1.1, app 2 needs ^2.
        let err = check(cat, &[("app", "*")], &[("base", "1.0.0")], None).unwrap_err();
        assert!(
            err.contains("the installed packs depend on base 1.0.0"),
            "{err}"
        );
        // Unknown core: core ranges are not checked.
        assert_eq!(
            check(cat, &[("app", "^2")], &[], None).unwrap(),
            ["app@2.0.0", "base@2.0.0"]
        );
    }

    #[test]
    fn conflicts_are_explained() {
        let cat: &[Entry] = &[
            ("a", "1.0.0", &[("c", "^1")], None),
            ("b", "1.0.0", &[("c", "^2")], None),
            ("c", "1.0.0", &[], None),
            ("c", "2.0.0", &[], None),
        ];
        let err = check(cat, &[("a", "*"), ("b", "*")], &[], None).unwrap_err();
        assert!(
            err.contains("a") && err.contains("b") && err.contains("c"),
            "{err}"
        );
        assert!(err.contains("the request"), "{err}");
        let err = check(cat, &[("zz", "*")], &[], None).unwrap_err();
        assert!(err.contains("zz"), "{err}");
    }
}
