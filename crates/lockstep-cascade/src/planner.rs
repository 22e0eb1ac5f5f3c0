//! The planner's per-package work: a release decision ([`Planner::decide`]) and a step
//! ([`Planner::step`]), with the state one planning run shares between them.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use semver::Version;

use crate::graph::PinKind;
use crate::index::{FastHasher, push_version};
use crate::plan::{EditKind, PinEdit, Request, Step, Upstream};
use crate::{Bump, Change, DepKind, Ecosystem, Error, Graph};
use lockstep_vocab::{Requirement, Rewrite};

/// What a step's edges need, for the release decision.
#[derive(Debug, Default)]
pub(crate) struct Need {
    /// A normal or build pin on a released upstream must change.
    pub(crate) edited: bool,
    /// For each released upstream whose pin needs nothing: why (`admits manifest 1.1.0`).
    pub(crate) admits: Vec<String>,
}

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

/// The state of one planning run, shared by its steps.
pub(crate) struct Planner<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) request: &'a Request,
    /// Per package: the start packages' own bump and reason.
    pub(crate) own: Vec<Option<(Bump, String)>>,
    pub(crate) in_plan: Vec<bool>,
    pub(crate) wave: Vec<usize>,
    /// Per package: its new version and tag, once its wave is planned.
    pub(crate) settled: Vec<Option<(Version, String)>>,
    pub(crate) notes: Vec<String>,
    pub(crate) requirements: Requirements<'a>,
    /// Buffers reused from step to step.
    pub(crate) scratch: Scratch,
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

/// Requirements read once per text and ecosystem: many edges pin by the same text (`^1.2`).
#[derive(Default)]
pub(crate) struct Requirements<'a> {
    read: HashMap<(&'a str, Ecosystem), Option<Requirement>, BuildHasherDefault<FastHasher>>,
}

impl<'a> Requirements<'a> {
    /// `text` read as an `ecosystem` requirement, or `None` when it cannot be read.
    fn get(&mut self, text: &'a str, ecosystem: Ecosystem) -> Option<&Requirement> {
        self.read
            .entry((text, ecosystem))
            .or_insert_with(|| Requirement::parse(text, ecosystem).ok())
            .as_ref()
    }
}

impl Planner<'_> {
    /// The new version and tag of `u`, if it is released in a wave before `p`'s.
    fn earlier(&self, u: usize, p: usize) -> Option<&(Version, String)> {
        self.settled[u]
            .as_ref()
            .filter(|_| self.wave[u] < self.wave[p])
    }

    /// What [`Planner::step`] decides, without the step: the new version and tag, and what
    /// the ordering edges need. Same rules, no strings but the tag and the admits reasons.
    pub(crate) fn decide(&mut self, p: usize) -> Result<(Version, String, Need), Error> {
        let mut need = Need::default();
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
            if let Some((to, _)) = self.earlier(r, p)
                && breaking(&graph.packages[r].version, to)
            {
                raise(Change::Breaking.bump_for(&pkg.version), &mut bump);
            }
        }
        // Only normal and build edges count for the decision (as in `step`).
        for a in graph.upstream.of(p).iter().filter(|a| a.orders) {
            let u = a.other;
            if !self.in_plan[u] {
                continue;
            }
            let Some((to, _)) = self.settled[u]
                .as_ref()
                .filter(|_| self.wave[u] < self.wave[p])
            else {
                continue;
            };
            let pin = graph.edge_pin(a.edge);
            let up = &graph.packages[u].name;
            match graph.facts[a.edge].pin {
                PinKind::GitTag | PinKind::GitRev => need.edited = true,
                PinKind::Path => need
                    .admits
                    .push(format!("path {pin} on {up} needs no edit")),
                PinKind::Requirement => {
                    if let Some(req) = self.requirements.get(pin, pkg.ecosystem) {
                        match req.rewrite(to, self.request.exact_pins) {
                            Rewrite::Admits => {
                                need.admits.push(format!("admits {up} {to} ({pin})"));
                            }
                            Rewrite::To(_) => need.edited = true,
                        }
                    }
                }
            }
        }
        let to = bump
            .unwrap_or(Bump::Patch)
            .apply(&pkg.version)
            .ok_or_else(|| Error::VersionOverflow {
                package: pkg.name.clone(),
                version: pkg.version.clone(),
            })?;
        let tag = graph.tag_at(p, &to);
        Ok((to, tag, need))
    }

    pub(crate) fn step(&mut self, p: usize) -> Result<Step, Error> {
        let Planner {
            graph,
            request,
            own,
            in_plan,
            wave,
            settled,
            notes,
            requirements,
            scratch,
        } = self;
        let graph: &Graph = graph;
        // The new version and tag of `u`, if it is released in a wave before `p`'s.
        let earlier = |u: usize| settled[u].as_ref().filter(|_| wave[u] < wave[p]);
        let pkg = &graph.packages[p];
        let mut bump: Option<Bump> = None;
        let raise = |b: Bump, bump: &mut Option<Bump>| *bump = Some(bump.map_or(b, |c| c.max(b)));
        let Scratch {
            head,
            pins,
            rest,
            edits,
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
        let mut upstreams: Vec<Upstream> =
            Vec::with_capacity(edges.iter().filter(|a| a.orders).count());
        let mut last_upstream = None;
        let mut last_pinned = None;
        for a in edges {
            let facts = graph.facts[a.edge];
            let pin = graph.edge_pin(a.edge);
            let u = a.other;
            let up = &graph.packages[u];
            let earlier = earlier(u);
            if a.orders && last_upstream != Some(u) {
                last_upstream = Some(u);
                upstreams.push(Upstream {
                    package: up.name.clone(),
                    version: earlier.map_or(&up.version, |(v, _)| v).clone(),
                });
            }
            if !in_plan[u] {
                continue;
            }
            // Only a dev edge can reach an in-plan upstream that is not in an earlier wave.
            let Some((to, new_tag)) = earlier else {
                notes.push(format!(
                    "{}'s dev-dependency pin `{}` on {} stays: {} is released in the same or a later wave",
                    pkg.name,
                    pin,
                    up.name,
                    up.name
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
                        &up.name,
                        " becomes tag ",
                        new_tag,
                    ] {
                        out.push_str(part);
                    }
                    Some((new_tag.clone(), EditKind::Tag))
                }
                PinKind::Path => {
                    let out = item(rest);
                    for part in [what, "path ", pin, " on ", &up.name, " needs no edit"] {
                        out.push_str(part);
                    }
                    None
                }
                PinKind::Requirement => match requirements.get(pin, pkg.ecosystem) {
                    None => {
                        notes.push(format!(
                            "{}'s requirement `{pin}` on {} cannot be read as a {} requirement: left as is",
                            pkg.name, up.name, pkg.ecosystem
                        ));
                        None
                    }
                    Some(req) => match req.rewrite(to, request.exact_pins) {
                        Rewrite::Admits => {
                            let out = item(rest);
                            for part in [what, "requirement ", pin, " on ", &up.name] {
                                out.push_str(part);
                            }
                            out.push_str(" already admits ");
                            push_version(out, to);
                            None
                        }
                        Rewrite::To(new) => Some((new, EditKind::Requirement)),
                    },
                },
            };
            if let Some((to_text, kind)) = new_edit {
                if last_pinned != Some(u) {
                    last_pinned = Some(u);
                    let out = item(pins);
                    out.push_str("pins ");
                    out.push_str(&up.name);
                    out.push(' ');
                    push_version(out, &up.version);
                    out.push_str(" → ");
                    push_version(out, to);
                }
                edits.push(PinEdit {
                    file: graph.edge_file(a.edge).to_owned(),
                    dependency: up.name.clone(),
                    from: pin.to_owned(),
                    to: to_text,
                    kind,
                });
            }
        }
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
        let repo = &graph.repos[graph.repo_of[p]];
        Ok(Step {
            package: pkg.name.clone(),
            repo: pkg.repo.clone(),
            ecosystem: pkg.ecosystem,
            manifest: pkg.manifest.clone(),
            from: pkg.version.clone(),
            tag: graph.tag_at(p, &to),
            to,
            bump,
            reason,
            pin_edits,
            lockfile_command: repo.lockfile_command.clone(),
            smoke: repo.smoke.clone(),
            upstreams,
            release: true,
            why_not_released: None,
            tag_versioned: pkg.tag_versioned,
            publish: pkg.publish && repo.publish.is_some(),
            publish_command: repo.publish.clone(),
        })
    }
}
