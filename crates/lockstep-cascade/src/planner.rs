//! The planner's per-package work: a release decision ([`Planner::decide`]) and a step
//! ([`Planner::step`]), with the state one planning run shares between them.
//!
//! Packages, repositories and pins are referred to by position throughout; strings are made
//! only for the plan itself, and the graph's own strings ([`SharedStr`]) are shared into it,
//! not copied.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use semver::Version;

use crate::graph::PinKind;
use crate::index::{FastHasher, push_version};
use crate::plan::{EditKind, PinEdit, Request, Step, Upstream};
use crate::{Bump, Change, DepKind, Ecosystem, Error, Graph, SharedStr};
use lockstep_vocab::{Requirement, Rewrite};

/// A package's bump from its commits, with the reason.
pub(crate) fn commit_bump(graph: &Graph, request: &Request, i: usize) -> Option<(Bump, String)> {
    let p = &graph.packages[i];
    let messages: Vec<&str> = request
        .commits
        .get(&p.name)?
        .iter()
        .map(String::as_str)
        .collect();
    let change = Change::from_commits(&messages)?;
    Some((
        change.bump_for(&p.version),
        format!(
            "{} since {}",
            change.describe(),
            graph.tag_at(i, &p.version)
        ),
    ))
}

/// Cargo's rule: `a` and `b` are incompatible when their first non-zero component differs.
fn breaking(a: &Version, b: &Version) -> bool {
    if a.major != b.major {
        true
    } else if a.major > 0 {
        false
    } else if a.minor != b.minor {
        true
    } else {
        a.minor == 0 && a.patch != b.patch
    }
}

/// One planner's state: the run's inputs, and what it keeps from step to step (read pins,
/// buffers, notes). The packages' [`Slot`]s are passed to each call: the decisions write them,
/// the steps only read them, so two planners can make the steps of two parts of a plan at
/// once.
pub(crate) struct Planner<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) request: &'a Request,
    /// Per package: the start packages' own bump and reason.
    pub(crate) own: &'a [Option<(Bump, String)>],
    /// Notes found while making steps, in step order.
    pub(crate) notes: Vec<String>,
    pub(crate) pins: Pins,
    /// Buffers reused from step to step.
    pub(crate) scratch: Scratch,
    /// The tag of a step that is not released.
    pub(crate) no_tag: SharedStr,
}

/// The planner's state of one package.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slot {
    /// Its wave, once it is a candidate.
    pub(crate) wave: usize,
    /// Its new version and tag, when it is released (written with the decision, before any
    /// step is made).
    pub(crate) new: Option<(Version, SharedStr)>,
}

impl Slot {
    /// Whether the package is released.
    pub(crate) fn released(&self) -> bool {
        self.new.is_some()
    }
}

/// A step's reasons, gathered in three parts, each joined by `; `: its own (root, commits,
/// re-exports), one "pins" per upstream whose pin changes, and the other edges'; and its pin
/// edits before they are sorted and copied out.
#[derive(Default)]
pub(crate) struct Scratch {
    head: String,
    pins: String,
    rest: String,
    edits: Vec<PinEdit>,
}

/// `buf`, with `; ` appended when it already holds a reason.
fn item(buf: &mut String) -> &mut String {
    if !buf.is_empty() {
        buf.push_str("; ");
    }
    buf
}

/// What a requirement pin becomes when its upstream is released.
pub(crate) enum Outcome {
    /// It cannot be read as a requirement of the dependent's ecosystem.
    Unreadable,
    /// It admits the new version: no edit.
    Admits,
    /// It is rewritten to this.
    To(SharedStr),
}

/// Requirement pins, read once per text and ecosystem (many edges pin by the same text,
/// `^1.2`), and their rewrites, made once per text, ecosystem and new version (many
/// dependents pin one upstream the same way; many upstreams move to the same version). Texts
/// are keyed by their position in the graph, never by the string; a new version without
/// pre-release or build (nearly all) by its three numbers, so a lookup neither clones nor
/// hashes a `Version`.
#[derive(Default)]
pub(crate) struct Pins {
    read: HashMap<u64, Option<Requirement>, BuildHasherDefault<FastHasher>>,
    rewrites: HashMap<(u64, [u64; 3]), Option<SharedStr>, BuildHasherDefault<FastHasher>>,
    /// Rewrites to versions with a pre-release or build.
    rewrites_pre: HashMap<(u64, Version), Option<SharedStr>, BuildHasherDefault<FastHasher>>,
}

/// A pin text (by position) and the dependent's ecosystem, as one key.
fn text_key(text: u32, ecosystem: Ecosystem) -> u64 {
    let eco = match ecosystem {
        Ecosystem::Cargo => 0,
        Ecosystem::Npm => 1,
        Ecosystem::Python => 2,
    };
    u64::from(text) << 2 | eco
}

impl Pins {
    /// Empty, sized for a graph of `packages` packages (about one rewrite each: tables that
    /// grow as they fill copy themselves several times).
    pub(crate) fn for_graph(packages: usize) -> Self {
        Pins {
            read: HashMap::default(),
            rewrites: HashMap::with_capacity_and_hasher(packages, BuildHasherDefault::default()),
            rewrites_pre: HashMap::default(),
        }
    }

    /// The pin at `text`, read as a requirement of `ecosystem`, or `None` when it cannot be.
    fn read(&mut self, graph: &Graph, text: u32, ecosystem: Ecosystem) -> Option<&Requirement> {
        self.read
            .entry(text_key(text, ecosystem))
            .or_insert_with(|| Requirement::parse(graph.text(text), ecosystem).ok())
            .as_ref()
    }

    /// Whether the requirement at `text` admits `to`; `None` when it cannot be read.
    pub(crate) fn admits(
        &mut self,
        graph: &Graph,
        text: u32,
        ecosystem: Ecosystem,
        to: &Version,
    ) -> Option<bool> {
        self.read(graph, text, ecosystem).map(|r| r.admits(to))
    }

    /// What the requirement at `text` becomes when its dependency is released at `to`;
    /// `exact` is the run's `--exact-pins`.
    fn rewrite(
        &mut self,
        graph: &Graph,
        text: u32,
        ecosystem: Ecosystem,
        to: &Version,
        exact: bool,
    ) -> Outcome {
        let key = text_key(text, ecosystem);
        let plain = to.pre.is_empty() && to.build.is_empty();
        let known = if plain {
            self.rewrites.get(&(key, [to.major, to.minor, to.patch]))
        } else {
            self.rewrites_pre.get(&(key, to.clone()))
        };
        if let Some(known) = known {
            return known.clone().map_or(Outcome::Admits, Outcome::To);
        }
        let Some(req) = self.read(graph, text, ecosystem) else {
            return Outcome::Unreadable;
        };
        let new = match req.rewrite(to, exact) {
            Rewrite::Admits => None,
            Rewrite::To(text) => Some(SharedStr::from(text)),
        };
        if plain {
            self.rewrites
                .insert((key, [to.major, to.minor, to.patch]), new.clone());
        } else {
            self.rewrites_pre.insert((key, to.clone()), new.clone());
        }
        new.map_or(Outcome::Admits, Outcome::To)
    }
}

/// `p`'s step's [`Step::upstreams`]: every normal and build dependency, at its new version
/// when it is released in an earlier wave; by name (the graph lists edges by upstream).
pub(crate) fn upstreams(graph: &Graph, slots: &[Slot], p: usize) -> Vec<Upstream> {
    let edges = graph.upstream.of(p);
    let mut list = Vec::with_capacity(edges.iter().filter(|a| a.orders()).count());
    let mut last = None;
    for a in edges.iter().filter(|a| a.orders()) {
        let u = a.other();
        if last == Some(u) {
            continue;
        }
        last = Some(u);
        let up = &graph.shared[u];
        list.push(Upstream {
            package: up.name.clone(),
            version: earlier(slots, u, p).map_or(&up.version, |(v, _)| v).clone(),
        });
    }
    list
}

/// The new version and tag of `u`, if it is released in a wave before `p`'s.
fn earlier(slots: &[Slot], u: usize, p: usize) -> Option<&(Version, SharedStr)> {
    let slot = &slots[u];
    slot.new.as_ref().filter(|_| slot.wave < slots[p].wave)
}

impl<'a> Planner<'a> {
    /// A planner with nothing read and no notes yet.
    pub(crate) fn new(
        graph: &'a Graph,
        request: &'a Request,
        own: &'a [Option<(Bump, String)>],
    ) -> Self {
        Planner {
            graph,
            request,
            own,
            notes: Vec::new(),
            pins: Pins::for_graph(graph.packages.len()),
            scratch: Scratch::default(),
            no_tag: SharedStr::default(),
        }
    }

    /// `p`'s bump: its own (root or commits) and its re-exports'.
    fn bump(&self, slots: &[Slot], p: usize) -> Option<Bump> {
        let graph = self.graph;
        let pkg = &graph.packages[p];
        let mut bump: Option<Bump> = None;
        let raise = |b: Bump, bump: &mut Option<Bump>| *bump = Some(bump.map_or(b, |c| c.max(b)));
        if let Some((b, _)) = &self.own[p] {
            raise(*b, &mut bump);
        } else if self.request.bump.is_none()
            && let Some((b, _)) = commit_bump(graph, self.request, p)
        {
            raise(b, &mut bump);
        }
        for &r in &graph.reexports[p] {
            if let Some((to, _)) = earlier(slots, r, p)
                && breaking(&graph.packages[r].version, to)
            {
                raise(Change::Breaking.bump_for(&pkg.version), &mut bump);
            }
        }
        bump
    }

    /// What [`Planner::step`] decides, without the step: the new version, and (when `pins`
    /// asks) whether a normal or build pin on a released upstream must change. No strings.
    pub(crate) fn decide(
        &mut self,
        slots: &[Slot],
        p: usize,
        pins: bool,
    ) -> Result<(Version, bool), Error> {
        let graph = self.graph;
        let pkg = &graph.packages[p];
        let bump = self.bump(slots, p);
        let mut edited = false;
        // Only normal and build edges count for the decision (as in `step`).
        let edges = if pins { graph.upstream.of(p) } else { &[] };
        for a in edges.iter().filter(|a| a.orders()) {
            let Some((to, _)) = earlier(slots, a.other(), p) else {
                continue;
            };
            edited = match a.facts.pin {
                PinKind::GitTag | PinKind::GitRev => true,
                PinKind::Path => false,
                // The step asks again: the answer is kept.
                PinKind::Requirement => matches!(
                    self.pins.rewrite(
                        graph,
                        a.facts.text,
                        pkg.ecosystem,
                        to,
                        self.request.exact_pins
                    ),
                    Outcome::To(_)
                ),
            };
            if edited {
                break;
            }
        }
        let to = bump
            .unwrap_or(Bump::Patch)
            .apply(&pkg.version)
            .ok_or_else(|| Error::VersionOverflow {
                package: pkg.name.clone(),
                version: pkg.version.clone(),
            })?;
        Ok((to, edited))
    }

    /// Why a candidate that [`Planner::decide`] found needs nothing is not released: for each
    /// released upstream whose pin needs nothing, `admits manifest 1.1.0 (^1.0)` or
    /// `path ../core on core needs no edit`, joined by `; `.
    pub(crate) fn needs_nothing(&mut self, slots: &[Slot], p: usize) -> String {
        let graph = self.graph;
        let pkg = &graph.packages[p];
        let mut out = String::new();
        for a in graph.upstream.of(p).iter().filter(|a| a.orders()) {
            let u = a.other();
            let Some((to, _)) = earlier(slots, u, p) else {
                continue;
            };
            let pin = graph.text(a.facts.text).as_str();
            let up = graph.packages[u].name.as_str();
            match a.facts.pin {
                PinKind::GitTag | PinKind::GitRev => {}
                PinKind::Path => {
                    let out = item(&mut out);
                    for part in ["path ", pin, " on ", up, " needs no edit"] {
                        out.push_str(part);
                    }
                }
                PinKind::Requirement => {
                    let exact = self.request.exact_pins;
                    if let Outcome::Admits =
                        self.pins
                            .rewrite(graph, a.facts.text, pkg.ecosystem, to, exact)
                    {
                        let out = item(&mut out);
                        for part in ["admits ", up, " "] {
                            out.push_str(part);
                        }
                        push_version(out, to);
                        for part in [" (", pin, ")"] {
                            out.push_str(part);
                        }
                    }
                }
            }
        }
        out
    }

    /// `p`'s step, added to `steps`.
    pub(crate) fn step(
        &mut self,
        slots: &[Slot],
        p: usize,
        steps: &mut Vec<Step>,
    ) -> Result<(), Error> {
        let Planner {
            graph,
            request,
            own,
            notes,
            pins: requirements,
            scratch,
            no_tag,
        } = self;
        let graph: &Graph = graph;
        // The tag, written with the decision: the step and every dependent's pin edit share it.
        let tag = match &slots[p].new {
            Some((_, tag)) => tag.clone(),
            None => no_tag.clone(),
        };
        // The new version and tag of `u`, if it is released in a wave before `p`'s.
        let earlier = |u: usize| earlier(slots, u, p);
        let pkg = &graph.packages[p];
        let texts = &graph.shared;
        let mut bump: Option<Bump> = None;
        let raise = |b: Bump, bump: &mut Option<Bump>| *bump = Some(bump.map_or(b, |c| c.max(b)));
        let Scratch {
            head,
            pins,
            rest,
            edits,
            ..
        } = scratch;
        head.clear();
        pins.clear();
        rest.clear();
        edits.clear();

        // Own reasons: the root's bump or the package's commits, and re-exports.
        if let Some((b, why)) = &own[p] {
            raise(*b, &mut bump);
            head.push_str(why);
        } else if request.bump.is_none()
            && let Some((b, why)) = commit_bump(graph, request, p)
        {
            raise(b, &mut bump);
            head.push_str(&why);
        }
        for &r in &graph.reexports[p] {
            let up = &graph.packages[r];
            if let Some((to, _)) = earlier(r)
                && breaking(&up.version, to)
            {
                raise(Change::Breaking.bump_for(&pkg.version), &mut bump);
                let out = item(head);
                out.push_str("re-exports ");
                out.push_str(&up.name);
                out.push_str(", which breaks compatibility ");
                push_version(out, &up.version);
                out.push_str(" → ");
                push_version(out, to);
            }
        }

        // Edges: pin edits, and the reasons of edges that need none.
        let edges = graph.upstream.of(p);
        let mut last_pinned = None;
        for a in edges {
            let facts = a.facts;
            let pin = graph.text(facts.text).as_str();
            let u = a.other();
            let up = &texts[u];
            let up_name = up.name.as_str();
            let earlier = earlier(u);
            if !slots[u].released() {
                continue;
            }
            // Only a dev edge can reach an in-plan upstream that is not in an earlier wave.
            let Some((to, new_tag)) = earlier else {
                notes.push(format!(
                    "{}'s dev-dependency pin `{}` on {} stays: {} is released in the same or a later wave",
                    pkg.name, pin, up_name, up_name
                ));
                continue;
            };
            let what = if facts.kind == DepKind::Dev {
                "dev-dependency "
            } else {
                ""
            };
            let new_edit = match facts.pin {
                PinKind::GitTag => Some((new_tag.clone(), EditKind::Tag)),
                PinKind::GitRev => {
                    let out = item(rest);
                    for part in [
                        what,
                        "rev ",
                        pin,
                        " on ",
                        up_name,
                        " becomes tag ",
                        new_tag.as_str(),
                    ] {
                        out.push_str(part);
                    }
                    Some((new_tag.clone(), EditKind::Tag))
                }
                PinKind::Path => {
                    let out = item(rest);
                    for part in [what, "path ", pin, " on ", up_name, " needs no edit"] {
                        out.push_str(part);
                    }
                    None
                }
                PinKind::Requirement => match requirements.rewrite(
                    graph,
                    facts.text,
                    pkg.ecosystem,
                    to,
                    request.exact_pins,
                ) {
                    Outcome::Unreadable => {
                        notes.push(format!(
                            "{}'s requirement `{pin}` on {} cannot be read as a {} requirement: left as is",
                            pkg.name, up_name, pkg.ecosystem
                        ));
                        None
                    }
                    Outcome::Admits => {
                        let out = item(rest);
                        for part in [what, "requirement ", pin, " on ", up_name] {
                            out.push_str(part);
                        }
                        out.push_str(" already admits ");
                        push_version(out, to);
                        None
                    }
                    Outcome::To(new) => Some((new, EditKind::Requirement)),
                },
            };
            if let Some((to_text, kind)) = new_edit {
                if last_pinned != Some(u) {
                    last_pinned = Some(u);
                    let out = item(pins);
                    out.push_str("pins ");
                    out.push_str(up_name);
                    out.push(' ');
                    push_version(out, &up.version);
                    out.push_str(" → ");
                    push_version(out, to);
                }
                edits.push(PinEdit {
                    file: graph.text(facts.file).clone(),
                    dependency: up.name.clone(),
                    from: graph.text(facts.text).clone(),
                    to: to_text,
                    kind,
                });
            }
        }
        // Mostly in order already (edges are sorted by upstream); sorted by every field.
        edits.sort_unstable();
        edits.dedup();
        // Copied out to a list of the exact size.
        let mut pin_edits: Vec<PinEdit> = Vec::with_capacity(edits.len());
        pin_edits.append(edits);

        // Own reasons, then one "pins" reason per upstream whose pin changes, then the rest.
        let parts = [&*head, &*pins, &*rest];
        let mut reason = String::with_capacity(parts.iter().map(|r| r.len() + 2).sum());
        for part in parts.into_iter().filter(|r| !r.is_empty()) {
            item(&mut reason).push_str(part);
        }
        if reason.is_empty() {
            reason.push_str("built against new upstream versions");
        }

        let bump = bump.unwrap_or(Bump::Patch);
        let to = bump
            .apply(&pkg.version)
            .ok_or_else(|| Error::VersionOverflow {
                package: pkg.name.clone(),
                version: pkg.version.clone(),
            })?;
        let repo = &graph.repo_texts[graph.repo_of[p]];
        steps.push(Step {
            package: texts[p].name.clone(),
            repo: repo.name.clone(),
            ecosystem: pkg.ecosystem,
            manifest: texts[p].manifest.clone(),
            from: pkg.version.clone(),
            tag,
            to,
            bump,
            reason,
            pin_edits,
            lockfile_command: repo.lockfile_command.clone(),
            smoke: repo.smoke.clone(),
            // Filled by `upstreams`, on the digest's thread when there is one.
            upstreams: Vec::new(),
            release: true,
            why_not_released: None,
            tag_versioned: pkg.tag_versioned,
            publish: pkg.publish && repo.publish.is_some(),
            publish_command: repo.publish.clone(),
        });
        Ok(())
    }
}
