//! A small builder for graphs, so each test states only what it is about.

use lockstep_cascade::{
    DepKind, Ecosystem, Edge, Error, Graph, Package, PinSpec, Plan, Repo, Request, plan,
};
use semver::Version;

pub fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// `tag:v1.0.0`, `rev:abc123`, `path:../core`, anything else a requirement.
pub fn pin(text: &str) -> PinSpec {
    if let Some(t) = text.strip_prefix("tag:") {
        PinSpec::GitTag(t.into())
    } else if let Some(r) = text.strip_prefix("rev:") {
        PinSpec::GitRev(r.into())
    } else if let Some(p) = text.strip_prefix("path:") {
        PinSpec::Path(p.into())
    } else {
        PinSpec::Requirement(text.into())
    }
}

#[derive(Default, Clone)]
pub struct G {
    pub packages: Vec<Package>,
    pub edges: Vec<Edge>,
}

impl G {
    pub fn new() -> Self {
        G::default()
    }

    /// A Cargo package alone in a repository of the same name.
    pub fn pkg(self, name: &str, version: &str) -> Self {
        self.pkg_in(name, name, Ecosystem::Cargo, version)
    }

    pub fn pkg_in(mut self, name: &str, repo: &str, eco: Ecosystem, version: &str) -> Self {
        let manifest = match eco {
            Ecosystem::Cargo => format!("{name}/Cargo.toml"),
            Ecosystem::Npm => "package.json".to_owned(),
            Ecosystem::Python => "pyproject.toml".to_owned(),
        };
        self.packages
            .push(Package::new(name, repo, eco, v(version), manifest));
        self
    }

    pub fn edge(mut self, dependent: &str, dependency: &str, kind: DepKind, p: &str) -> Self {
        let file = self
            .packages
            .iter()
            .find(|x| x.name == dependent)
            .map_or_else(|| "Cargo.toml".to_owned(), |x| x.manifest.clone());
        self.edges
            .push(Edge::new(dependent, dependency, kind, pin(p), file));
        self
    }

    pub fn dep(self, dependent: &str, dependency: &str, p: &str) -> Self {
        self.edge(dependent, dependency, DepKind::Normal, p)
    }

    pub fn dev(self, dependent: &str, dependency: &str, p: &str) -> Self {
        self.edge(dependent, dependency, DepKind::Dev, p)
    }

    /// Marks `name` as never published (Cargo `publish = false`).
    pub fn unpublished(mut self, name: &str) -> Self {
        let p = self.packages.iter_mut().find(|p| p.name == name).unwrap();
        *p = p.clone().unpublished();
        self
    }

    pub fn reexport(mut self, name: &str, upstream: &str) -> Self {
        let p = self.packages.iter_mut().find(|p| p.name == name).unwrap();
        *p = p.clone().reexporting(upstream);
        self
    }

    pub fn repos(&self) -> Vec<Repo> {
        let mut names: Vec<&str> = self.packages.iter().map(|p| p.repo.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|r| Repo::new(r, format!("{r}-head")))
            .collect()
    }

    pub fn try_graph(&self) -> Result<Graph, Error> {
        Graph::new(self.packages.clone(), self.edges.clone(), self.repos())
    }

    pub fn graph(&self) -> Graph {
        self.try_graph().unwrap()
    }

    /// Plans with every transitive dependent released (`--release-dependents always`), the
    /// rule these tests were written for; `plan_needed` plans with the default rule.
    pub fn plan(&self, request: &Request) -> Plan {
        plan(&self.graph(), &always(request)).unwrap()
    }

    pub fn plan_needed(&self, request: &Request) -> Plan {
        plan(&self.graph(), request).unwrap()
    }
}

/// `request` with every transitive dependent released.
pub fn always(request: &Request) -> Request {
    request
        .clone()
        .with_release_dependents(lockstep_cascade::ReleaseDependents::Always)
}

/// The plan's waves as package names.
pub fn waves(plan: &Plan) -> Vec<Vec<String>> {
    plan.waves
        .iter()
        .map(|w| w.iter().map(|s| s.package.to_string()).collect())
        .collect()
}
