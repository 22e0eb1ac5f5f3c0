//! The validated graph: packages indexed by name, adjacency both ways, no cycle through
//! normal or build edges.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::index::{FastHasher, NameIndex, push_version, version_len};
use crate::{DepKind, Edge, Error, Package, PinSpec, Repo, SharedStr};

/// Packages, edges and repositories, validated and indexed.
///
/// Packages are kept sorted by name, so every walk over the graph is deterministic.
#[derive(Debug, Clone)]
pub struct Graph {
    pub(crate) packages: Vec<Package>,
    /// Package names to positions in `packages`.
    /// (Names are copied in: a lookup then compares against the table's own key, not the
    /// package's, which sits elsewhere in memory.)
    index: HashMap<String, usize, BuildHasherDefault<FastHasher>>,
    pub(crate) edges: Vec<Edge>,
    /// Every distinct edge file and pin text, once: [`EdgeFacts`] refer to them by position.
    texts: Vec<SharedStr>,
    /// Per package: its name, manifest and repository's strings, shared with the plans.
    pub(crate) shared: Vec<PackageTexts>,
    /// Per repository (in `repos` order): its strings, shared with the plans.
    pub(crate) repo_texts: Vec<RepoTexts>,
    /// Per package: the edges where it is the dependent, ordered by dependency.
    pub(crate) upstream: Adjacency,
    /// Per package: the edges where it is the dependency, ordered by dependent.
    pub(crate) downstream: Adjacency,
    /// Per package: the indices of the packages it re-exports.
    pub(crate) reexports: Vec<Vec<usize>>,
    /// Sorted by name.
    pub(crate) repos: Vec<Repo>,
    /// Repository names to positions in `repos`.
    repo_index: NameIndex,
    /// Per package: its repository's position in `repos`.
    pub(crate) repo_of: Vec<usize>,
    /// Per package: whether its repository holds other packages too (tags carry the name).
    pub(crate) shared_repo: Vec<bool>,
}

impl Graph {
    /// Validate and index. Fails on a duplicate package or repository, an edge, re-export or
    /// package naming something undeclared, or a cycle through normal or build edges (dev
    /// edges may form cycles: they neither order waves nor cascade).
    pub fn new(packages: Vec<Package>, edges: Vec<Edge>, repos: Vec<Repo>) -> Result<Graph, Error> {
        let mut repos = repos;
        if let (_, Some(i)) = NameIndex::build(repos.len(), |i| &repos[i].name) {
            return Err(Error::DuplicateRepo {
                name: std::mem::take(&mut repos[i].name),
            });
        }
        repos.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let (repo_index, _) = NameIndex::build(repos.len(), |i| &repos[i].name);

        let mut packages = packages;
        // Stable: of two packages with one name, the first given is reported first.
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        let mut repo_of = Vec::with_capacity(packages.len());
        let mut repo_sizes = vec![0usize; repos.len()];
        for (i, p) in packages.iter().enumerate() {
            if i > 0 && packages[i - 1].name == p.name {
                return Err(Error::DuplicatePackage {
                    name: p.name.clone(),
                    first_repo: packages[i - 1].repo.clone(),
                    second_repo: p.repo.clone(),
                });
            }
            let Some(r) = repo_index.get(&p.repo, |r| &repos[r].name) else {
                return Err(Error::UnknownRepo {
                    package: p.name.clone(),
                    repo: p.repo.clone(),
                });
            };
            repo_sizes[r] += 1;
            repo_of.push(r);
        }
        // Names are unique: checked above.
        let mut index =
            HashMap::with_capacity_and_hasher(packages.len(), BuildHasherDefault::default());
        for (i, p) in packages.iter().enumerate() {
            index.insert(p.name.clone(), i);
        }
        let find = |name: &str| index.get(name).copied();

        let mut interner = Interner::default();
        let mut ends = Vec::with_capacity(edges.len());
        let mut facts = Vec::with_capacity(edges.len());
        // Most edges of a graph name the same file as the one before: that is not looked up.
        let mut last_file: Option<(&str, u32)> = None;
        for e in &edges {
            let file = match last_file {
                Some((text, id)) if text == e.file => id,
                _ => {
                    let id = interner.id(&e.file);
                    last_file = Some((&e.file, id));
                    id
                }
            };
            facts.push(EdgeFacts {
                kind: e.kind,
                pin: match e.pin {
                    PinSpec::Requirement(_) => PinKind::Requirement,
                    PinSpec::GitTag(_) => PinKind::GitTag,
                    PinSpec::GitRev(_) => PinKind::GitRev,
                    PinSpec::Path(_) => PinKind::Path,
                },
                orders: e.kind.orders(),
                file,
                text: interner.id(e.pin.as_str()),
            });
            let missing = |name: &str| Error::UnknownEdgePackage {
                dependent: e.dependent.clone(),
                dependency: e.dependency.clone(),
                missing: name.to_owned(),
            };
            let dependent = find(&e.dependent).ok_or_else(|| missing(&e.dependent))?;
            let dependency = find(&e.dependency).ok_or_else(|| missing(&e.dependency))?;
            ends.push((dependent, dependency));
        }
        let shared = packages
            .iter()
            .map(|p| PackageTexts {
                name: SharedStr::from(p.name.as_str()),
                manifest: interner.shared(&p.manifest),
                version: p.version.clone(),
            })
            .collect();
        let repo_texts = repos
            .iter()
            .map(|r| RepoTexts {
                name: SharedStr::from(r.name.as_str()),
                head: SharedStr::from(r.head.as_str()),
                smoke: r.smoke.as_deref().map(|c| interner.shared(c)),
                lockfile_command: r.lockfile_command.as_deref().map(|c| interner.shared(c)),
                publish: r.publish.as_deref().map(|c| interner.shared(c)),
            })
            .collect();
        let texts = interner.texts;
        let upstream = Adjacency::new(
            packages.len(),
            &edges,
            &facts,
            &ends,
            |(dependent, dependency)| (dependent, dependency),
        );
        let downstream = Adjacency::new(
            packages.len(),
            &edges,
            &facts,
            &ends,
            |(dependent, dependency)| (dependency, dependent),
        );

        let mut reexports = Vec::with_capacity(packages.len());
        for p in &packages {
            let mut list = Vec::with_capacity(p.reexports.len());
            for r in &p.reexports {
                let i = find(r).ok_or_else(|| Error::UnknownReexport {
                    package: p.name.clone(),
                    reexport: r.clone(),
                })?;
                list.push(i);
            }
            list.sort_unstable();
            list.dedup();
            reexports.push(list);
        }

        let shared_repo = repo_of.iter().map(|&r| repo_sizes[r] > 1).collect();
        let graph = Graph {
            packages,
            index,
            edges,
            texts,
            shared,
            repo_texts,
            upstream,
            downstream,
            reexports,
            repos,
            repo_index,
            repo_of,
            shared_repo,
        };
        if let Some(cycle) = graph.find_cycle() {
            return Err(Error::Cycle {
                packages: cycle
                    .into_iter()
                    .map(|i| graph.packages[i].name.clone())
                    .collect(),
            });
        }
        Ok(graph)
    }

    /// The text at `id` (an [`EdgeFacts`] file or pin).
    pub(crate) fn text(&self, id: u32) -> &SharedStr {
        &self.texts[id as usize]
    }

    /// The position of the package called `name`.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Every package, sorted by name.
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    /// The package called `name`.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.position(name).map(|i| &self.packages[i])
    }

    /// Every edge, in the order given.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// The repository called `name`.
    pub fn repo(&self, name: &str) -> Option<&Repo> {
        self.repo_index
            .get(name, |r| &self.repos[r].name)
            .map(|r| &self.repos[r])
    }

    /// Every repository, sorted by name.
    pub fn repos(&self) -> impl Iterator<Item = &Repo> {
        self.repos.iter()
    }

    /// The edges on which `name` depends (all kinds), ordered by dependency name.
    pub fn dependencies(&self, name: &str) -> impl Iterator<Item = &Edge> {
        self.adjacent(name, &self.upstream)
    }

    /// The edges that depend on `name` (all kinds), ordered by dependent name.
    pub fn dependents(&self, name: &str) -> impl Iterator<Item = &Edge> {
        self.adjacent(name, &self.downstream)
    }

    fn adjacent<'a>(&'a self, name: &str, lists: &'a Adjacency) -> impl Iterator<Item = &'a Edge> {
        let list: &[Adj] = match self.position(name) {
            Some(i) => lists.of(i),
            None => &[],
        };
        list.iter().map(|a| &self.edges[a.edge()])
    }

    /// The release tag of `package` at `version`: in its own format when it has one, else
    /// `vX.Y.Z` when its repository holds one package, `NAME-vX.Y.Z` when it holds several.
    /// A package that is not in the graph counts as one more package in its repository.
    pub fn tag(&self, package: &Package, version: &semver::Version) -> String {
        if let Some(format) = &package.tag {
            return format.format(&package.name, version);
        }
        let shared = match self.position(&package.name) {
            Some(i) => self.shared_repo[i],
            None => self.packages.iter().any(|p| p.repo == package.repo),
        };
        tag(&package.name, shared, version)
    }

    /// [`Graph::tag`] by index.
    pub(crate) fn tag_at(&self, i: usize, version: &semver::Version) -> String {
        if let Some(format) = &self.packages[i].tag {
            return format.format(&self.packages[i].name, version);
        }
        tag(&self.packages[i].name, self.shared_repo[i], version)
    }

    /// [`Graph::tag_at`], written into `out`.
    pub(crate) fn write_tag(&self, i: usize, version: &semver::Version, out: &mut String) {
        let p = &self.packages[i];
        if let Some(format) = &p.tag {
            out.push_str(&format.format(&p.name, version));
            return;
        }
        if self.shared_repo[i] {
            // The shared copy of the name: the plan's step reads it too.
            out.push_str(&self.shared[i].name);
            out.push('-');
        }
        out.push('v');
        push_version(out, version);
    }

    /// One cycle through ordering (normal, build) edges, smallest index first, or `None`.
    /// Iterative depth-first search, so deep graphs do not overflow the stack.
    fn find_cycle(&self) -> Option<Vec<usize>> {
        const WHITE: u8 = 0;
        const GREY: u8 = 1;
        const BLACK: u8 = 2;
        let mut colour = vec![WHITE; self.packages.len()];
        // (node, next position in its upstream list)
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..self.packages.len() {
            if colour[root] != WHITE {
                continue;
            }
            colour[root] = GREY;
            stack.push((root, 0));
            while let Some(top) = stack.last_mut() {
                let (node, pos) = *top;
                let list = self.upstream.of(node);
                if pos == list.len() {
                    colour[node] = BLACK;
                    stack.pop();
                    continue;
                }
                top.1 += 1;
                if !list[pos].orders() {
                    continue;
                }
                let next = list[pos].other();
                match colour[next] {
                    WHITE => {
                        colour[next] = GREY;
                        stack.push((next, 0));
                    }
                    GREY => {
                        let start = stack.iter().position(|&(n, _)| n == next)?;
                        let mut cycle: Vec<usize> =
                            stack[start..].iter().map(|&(n, _)| n).collect();
                        let smallest = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|&(_, &n)| n)
                            .map_or(0, |(i, _)| i);
                        cycle.rotate_left(smallest);
                        return Some(cycle);
                    }
                    _ => {}
                }
            }
        }
        None
    }
}

fn tag(name: &str, shared: bool, version: &semver::Version) -> String {
    let mut text = String::with_capacity(version_len(version));
    push_version(&mut text, version);
    tag_text(name, shared, &text)
}

/// `vVERSION`, or `NAME-vVERSION` when the repository holds several packages.
fn tag_text(name: &str, shared: bool, version: &str) -> String {
    let prefix = if shared { name.len() + 2 } else { 1 };
    let mut out = String::with_capacity(prefix + version.len());
    if shared {
        out.push_str(name);
        out.push('-');
    }
    out.push('v');
    out.push_str(version);
    out
}

/// What the planner reads of an edge, in one compact list beside the caller's edges (whose
/// strings sit wherever they were allocated): reading these keeps the planner in cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeFacts {
    pub(crate) kind: DepKind,
    pub(crate) pin: PinKind,
    /// Whether the edge orders waves (normal, build).
    pub(crate) orders: bool,
    /// The file's position in [`Graph::texts`].
    pub(crate) file: u32,
    /// The pin's position in [`Graph::texts`]: equal pins, equal positions.
    pub(crate) text: u32,
}

/// A package's strings, as the plan's steps share them.
#[derive(Debug, Clone)]
pub(crate) struct PackageTexts {
    pub(crate) name: SharedStr,
    pub(crate) manifest: SharedStr,
    /// [`Package::version`], beside the name: a step reads both of every upstream.
    pub(crate) version: semver::Version,
}

/// A repository's strings, as the plan's steps share them.
#[derive(Debug, Clone)]
pub(crate) struct RepoTexts {
    pub(crate) name: SharedStr,
    pub(crate) head: SharedStr,
    pub(crate) smoke: Option<SharedStr>,
    pub(crate) lockfile_command: Option<SharedStr>,
    pub(crate) publish: Option<SharedStr>,
}

/// Each distinct string once, by position: the graph's files, pins and commands repeat a
/// handful of texts (`Cargo.toml`, `^1.2`) thousands of times.
#[derive(Default)]
struct Interner {
    ids: HashMap<SharedStr, u32, BuildHasherDefault<FastHasher>>,
    texts: Vec<SharedStr>,
}

impl Interner {
    /// The position of `text`, added if new.
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        // Fewer than 2^32 distinct texts: each takes a distinct edge or package.
        let id = self.texts.len() as u32;
        let shared = SharedStr::from(text);
        self.texts.push(shared.clone());
        self.ids.insert(shared, id);
        id
    }

    /// `text`, shared.
    fn shared(&mut self, text: &str) -> SharedStr {
        let id = self.id(text);
        self.texts[id as usize].clone()
    }
}

/// Which [`PinSpec`] an edge has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PinKind {
    Requirement,
    GitTag,
    GitRev,
    Path,
}

/// One end's view of an edge, kept small and contiguous: the planner's loops touch only this
/// (the edge's facts are copied in, so walking a package's edges reads one array). Positions
/// are `u32` (4 billion edges of 100 bytes and more do not fit in memory), so an
/// entry is 20 bytes, not 32: the planner walks these lists seven times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adj {
    /// Index into [`Graph::edges`].
    edge: u32,
    /// The package at the other end.
    other: u32,
    /// What the planner reads of the edge.
    pub(crate) facts: EdgeFacts,
}

impl Adj {
    /// Index into [`Graph::edges`].
    #[inline]
    pub(crate) fn edge(&self) -> usize {
        self.edge as usize
    }

    /// The package at the other end.
    #[inline]
    pub(crate) fn other(&self) -> usize {
        self.other as usize
    }

    /// Whether the edge orders waves (normal, build).
    #[inline]
    pub(crate) fn orders(&self) -> bool {
        self.facts.orders
    }
}

/// Per package, its edges on one side, in one flat array (compressed sparse rows).
#[derive(Debug, Clone)]
pub(crate) struct Adjacency {
    offsets: Vec<usize>,
    items: Vec<Adj>,
}

impl Adjacency {
    /// `pick` turns (dependent, dependency) into (this end, other end). Within a package the
    /// edges are ordered by the other end, then kind, file and pin, so the plan does not
    /// depend on the order the caller listed edges in.
    fn new(
        n: usize,
        edges: &[Edge],
        facts: &[EdgeFacts],
        ends: &[(usize, usize)],
        pick: impl Fn((usize, usize)) -> (usize, usize),
    ) -> Self {
        let mut offsets = vec![0usize; n + 1];
        for &e in ends {
            offsets[pick(e).0 + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut items = Vec::with_capacity(ends.len());
        items.resize(
            ends.len(),
            Adj {
                edge: 0,
                other: 0,
                facts: EdgeFacts {
                    kind: DepKind::Normal,
                    pin: PinKind::Path,
                    orders: false,
                    file: 0,
                    text: 0,
                },
            },
        );
        for (e, &pair) in ends.iter().enumerate() {
            let (this, other) = pick(pair);
            let position = |i: usize| u32::try_from(i).expect("fewer than 2^32 edges and packages");
            items[fill[this]] = Adj {
                edge: position(e),
                other: position(other),
                facts: facts[e],
            };
            fill[this] += 1;
        }
        // The other end decides almost every comparison: the edge itself (elsewhere in
        // memory) is read only on a tie.
        let rest = |a: &Adj| {
            let e = &edges[a.edge()];
            (e.kind, e.file.as_str(), e.pin.as_str())
        };
        for i in 0..n {
            items[offsets[i]..offsets[i + 1]].sort_by(|a, b| {
                a.other()
                    .cmp(&b.other())
                    .then_with(|| rest(a).cmp(&rest(b)))
            });
        }
        Adjacency { offsets, items }
    }

    pub(crate) fn of(&self, i: usize) -> &[Adj] {
        &self.items[self.offsets[i]..self.offsets[i + 1]]
    }
}
