//! The request, the planner and the plan it returns.

use std::collections::BTreeMap;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::digest::{Finish, Waves};
use crate::graph::PinKind;
use crate::planner::{Planner, Slot, commit_bump};
use crate::{Bump, Ecosystem, Error, Graph, SharedStr};

/// The schema name of a plan's JSON.
pub const PLAN_SCHEMA: &str = "lockstep.cascade-plan/v1";

/// What to release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The packages the cascade starts from.
    pub start: Vec<String>,
    /// The start packages' bump (`--bump`); when `None`, every planned package's bump is
    /// computed from [`Request::commits`].
    pub bump: Option<Bump>,
    /// Per package, the commit messages since its last tag. Used only when `bump` is `None`:
    /// a start package without a `feat`, `fix`, `perf` or breaking commit is not released (the
    /// plan's notes say so); a dependent takes the larger of its commits' bump and the one the
    /// cascade gives it.
    pub commits: BTreeMap<String, Vec<String>>,
    /// Rewrite version requirements to the new version even when they already admit it
    /// (`--exact-pins`).
    pub exact_pins: bool,
    /// Which dependents are released (`--release-dependents`).
    pub release_dependents: ReleaseDependents,
    /// Per start package, why it starts the cascade when that is not the user naming it
    /// (`released with serde_derive (one version)`); with [`Request::bump`], its step's
    /// reason says so instead of `root` (`released with serde_derive (one version): --bump
    /// minor`).
    pub why_started: BTreeMap<String, String>,
}

/// Which dependents of a released package are released too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReleaseDependents {
    /// Those whose pin had to change (a git tag or rev pin, or a requirement that no longer
    /// admits the new version); one whose requirement admits it is listed as not released.
    #[default]
    Needed,
    /// Every transitive dependent through normal and build edges.
    Always,
}

impl Request {
    /// A request starting from `start`, with neither bump nor commits, and loose pins.
    pub fn new<S: Into<String>>(start: impl IntoIterator<Item = S>) -> Self {
        Request {
            start: start.into_iter().map(Into::into).collect(),
            ..Request::default()
        }
    }

    /// The same request with a given bump for the start packages.
    #[must_use]
    pub fn with_bump(mut self, bump: Bump) -> Self {
        self.bump = Some(bump);
        self
    }

    /// The same request with these commit messages for `package`.
    #[must_use]
    pub fn with_commits<S: Into<String>>(
        mut self,
        package: impl Into<String>,
        messages: impl IntoIterator<Item = S>,
    ) -> Self {
        self.commits
            .entry(package.into())
            .or_default()
            .extend(messages.into_iter().map(Into::into));
        self
    }

    /// The same request with `package` starting the cascade for `why` (it is added to the
    /// start packages when it is not there yet).
    #[must_use]
    pub fn with_start_reason(mut self, package: impl Into<String>, why: impl Into<String>) -> Self {
        let package = package.into();
        if !self.start.contains(&package) {
            self.start.push(package.clone());
        }
        self.why_started.insert(package, why.into());
        self
    }

    /// The same request with this rule for releasing dependents.
    #[must_use]
    pub fn with_release_dependents(mut self, rule: ReleaseDependents) -> Self {
        self.release_dependents = rule;
        self
    }

    /// The same request with exact pins on or off.
    #[must_use]
    pub fn with_exact_pins(mut self, exact: bool) -> Self {
        self.exact_pins = exact;
        self
    }
}

/// What kind of value a pin edit writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EditKind {
    /// A version requirement.
    Requirement,
    /// A git tag (also when the pin was a rev: a rev pin is replaced by the release tag).
    Tag,
}

/// One pin to rewrite in a dependent's manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PinEdit {
    /// The file, relative to the dependent's repository root.
    pub file: SharedStr,
    /// The dependency whose pin changes.
    pub dependency: SharedStr,
    /// The pin as written now (`v1.0.0`, `^1.0`, a commit id).
    pub from: SharedStr,
    /// The pin to write (`v1.1.0`, `^2.0`).
    pub to: SharedStr,
    /// What `to` is.
    pub kind: EditKind,
}

/// An upstream package and the version a release is built against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Upstream {
    /// The upstream package.
    pub package: SharedStr,
    /// Its version after the cascade (its new version when it is released too).
    pub version: Version,
}

/// One package's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Step {
    /// The package.
    pub package: SharedStr,
    /// Its repository.
    pub repo: SharedStr,
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its manifest, relative to the repository root: where the version is bumped.
    pub manifest: SharedStr,
    /// The current version.
    pub from: Version,
    /// The version to release.
    pub to: Version,
    /// The component bumped.
    pub bump: Bump,
    /// Why, for people: `root: --bump minor`, `feat commits since v1.0.0`,
    /// `pins manifest 1.0.0 → 1.1.0`, …, joined by `; `.
    pub reason: String,
    /// The pins to rewrite before releasing, sorted.
    pub pin_edits: Vec<PinEdit>,
    /// The annotated tag to create (empty when the step is not released).
    pub tag: SharedStr,
    /// The repository's lockfile command.
    pub lockfile_command: Option<SharedStr>,
    /// The repository's smoke command.
    pub smoke: Option<SharedStr>,
    /// Every normal and build dependency in the graph, at the version this release is built
    /// against, sorted by name.
    pub upstreams: Vec<Upstream>,
    /// Whether the package is released (version bump, tag); `false` for a package that only
    /// gets its pins rewritten in its repository's release commit.
    #[serde(default = "yes")]
    pub release: bool,
    /// Why a step that is not released is in the plan at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not_released: Option<String>,
    /// The version lives in the release tag only: no version field is edited.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tag_versioned: bool,
    /// The release is published to a registry (its repository has `publish`, the package is
    /// publishable): once that happens it cannot be rolled back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish: bool,
    /// The repository's `publish` setting: a command run after tagging, or `ci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_command: Option<SharedStr>,
}

fn yes() -> bool {
    true
}

/// A package edited in its repository's release commit but not released itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EditedOnly {
    /// The package.
    pub package: SharedStr,
    /// Its repository.
    pub repo: SharedStr,
    /// Why it is not released.
    pub reason: String,
}

/// A transitive dependent of the start packages that is not released: it needs nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotReleased {
    /// The package.
    pub package: SharedStr,
    /// Why it needs nothing (`admits manifest 1.1.0 (^1.0)`).
    pub reason: String,
}

impl Step {
    /// The annotated tag's message: the release and the upstream versions it was built
    /// against.
    pub fn tag_message(&self) -> String {
        let mut text = format!("{} {}\n", self.package, self.to);
        if !self.upstreams.is_empty() {
            text.push_str("\nBuilt against:\n");
            for u in &self.upstreams {
                text.push_str(&format!("- {} {}\n", u.package, u.version));
            }
        }
        text
    }

    /// The release commit's message: `chore(release): NAME vX.Y.Z`.
    pub fn commit_message(&self) -> String {
        format!("chore(release): {} v{}", self.package, self.to)
    }
}

/// The cascade: waves of steps, a digest, and notes.
///
/// Serialises (serde) to the `lockstep.cascade-plan/v1` JSON shape, `schema` field included;
/// deserialising checks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// Steps by wave: every upstream (normal or build) of a step that is in the plan sits in
    /// an earlier wave, and each step sits in the earliest wave that allows; by name within
    /// a wave.
    pub waves: Vec<Vec<Step>>,
    /// sha256 (lower-case hex) over the plan's content and [`Plan::heads`].
    pub digest: String,
    /// Findings that are not steps: start packages with nothing to release, dev-dependency
    /// pins left alone, requirements that could not be read.
    pub notes: Vec<String>,
    /// The HEAD commit of every repository with a step, by repository name.
    pub heads: BTreeMap<SharedStr, SharedStr>,
    /// Packages edited (pins rewritten) but not released, with the reason.
    pub edited_only: Vec<EditedOnly>,
    /// Transitive dependents of the start packages that are not released, with the reason:
    /// their pins admit the new versions, or none of their upstreams is released.
    pub not_released: Vec<NotReleased>,
}

#[derive(Serialize, Deserialize)]
struct PlanJson {
    schema: String,
    digest: String,
    waves: Vec<Vec<Step>>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    heads: BTreeMap<SharedStr, SharedStr>,
    #[serde(default)]
    edited_only: Vec<EditedOnly>,
    #[serde(default)]
    not_released: Vec<NotReleased>,
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            schema: &'static str,
            digest: &'a str,
            waves: &'a [Vec<Step>],
            notes: &'a [String],
            heads: &'a BTreeMap<SharedStr, SharedStr>,
            edited_only: &'a [EditedOnly],
            not_released: &'a [NotReleased],
            point_of_no_return: Option<usize>,
        }
        Out {
            schema: PLAN_SCHEMA,
            digest: &self.digest,
            waves: &self.waves,
            notes: &self.notes,
            heads: &self.heads,
            edited_only: &self.edited_only,
            not_released: &self.not_released,
            point_of_no_return: self.point_of_no_return(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = PlanJson::deserialize(deserializer)?;
        if json.schema != PLAN_SCHEMA {
            return Err(serde::de::Error::custom(format_args!(
                "schema `{}` is not `{PLAN_SCHEMA}`",
                json.schema
            )));
        }
        Ok(Plan {
            waves: json.waves,
            digest: json.digest,
            notes: json.notes,
            heads: json.heads,
            edited_only: json.edited_only,
            not_released: json.not_released,
        })
    }
}

impl Plan {
    /// Every step, wave by wave.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.waves.iter().flatten()
    }

    /// The point of no return: the first wave that publishes to a registry, `None` when
    /// nothing is published. Before it a failure rolls every repository back; from it on, a
    /// published version is never taken back.
    pub fn point_of_no_return(&self) -> Option<usize> {
        self.waves
            .iter()
            .position(|wave| wave.iter().any(|s| s.publish))
    }

    /// The step releasing `package`.
    pub fn step(&self, package: &str) -> Option<&Step> {
        self.steps().find(|s| s.package == package)
    }

    /// The wave (from 0) that releases `package`.
    pub fn wave_of(&self, package: &str) -> Option<usize> {
        self.waves
            .iter()
            .position(|w| w.iter().any(|s| s.package == package))
    }

    /// Whether nothing is to be released.
    pub fn is_empty(&self) -> bool {
        self.waves.is_empty()
    }

    /// The plan as pretty JSON (`lockstep.cascade-plan/v1`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a plan is strings, numbers and lists: it always serialises")
    }

    /// The digest recomputed from the content and heads: equal to [`Plan::digest`] unless the
    /// plan was edited after it was made.
    pub fn compute_digest(&self) -> String {
        crate::digest::digest(&self.waves, &self.notes, &self.heads)
    }
}

/// Why `p`, a transitive dependent of the start packages, needs nothing although no upstream
/// of it is released: `none of its upstreams in the cascade is released (a, b)`.
fn no_upstream_released(graph: &Graph, in_plan: &[bool], p: usize) -> String {
    let mut names: Vec<&str> = graph
        .upstream
        .of(p)
        .iter()
        .filter(|a| a.orders() && in_plan[a.other()])
        .map(|a| graph.packages[a.other()].name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    format!(
        "none of its upstreams in the cascade is released ({})",
        names.join(", ")
    )
}

/// Plan a cascade: the start packages and every package that depends on them through normal
/// or build edges, transitively, grouped in waves, each with its bump, pin edits and tag.
///
/// Decisions (see the crate documentation for the whole list):
/// - dev edges neither cascade nor order waves; a released package's dev pin on a package
///   released in an *earlier* wave is rewritten, one on a later or same wave is left alone
///   and noted (that is where a dev cycle is broken);
/// - a released dependent gets at least a patch; one that re-exports an upstream with a
///   breaking release gets a breaking bump itself;
/// - git tag and rev pins are rewritten to the upstream's new tag; path pins need no edit;
///   requirements only when they do not admit the new version, or with exact pins.
///
/// A plan of 2,048 steps or more is made on two threads when the machine has a second core
/// (see the crate documentation's **Cost**); the call returns when both are done.
pub fn plan(graph: &Graph, request: &Request) -> Result<Plan, Error> {
    let n = graph.packages.len();
    let mut notes = Vec::new();

    // Start packages and their own bumps.
    let mut own: Vec<Option<(Bump, String)>> = vec![None; n];
    let mut seeds = Vec::new();
    let mut seen = vec![false; n];
    // Start packages whose commits call for no release.
    let mut quiet = Vec::new();
    for name in &request.start {
        let i = graph
            .position(name)
            .ok_or_else(|| Error::UnknownStart { name: name.clone() })?;
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        match request.bump {
            Some(b) => {
                let why = match request.why_started.get(name) {
                    Some(why) => format!("{why}: --bump {b}"),
                    None => format!("root: --bump {b}"),
                };
                own[i] = Some((b, why));
            }
            None => match commit_bump(graph, request, i) {
                Some(found) => own[i] = Some(found),
                None => {
                    quiet.push(i);
                    continue;
                }
            },
        }
        seeds.push(i);
    }

    // The released set: seeds and their transitive dependents through ordering edges.
    let mut in_plan = vec![false; n];
    let mut released = Vec::with_capacity(n);
    for &s in &seeds {
        in_plan[s] = true;
        released.push(s);
    }
    let mut head = 0;
    while head < released.len() {
        let u = released[head];
        head += 1;
        for a in graph.downstream.of(u) {
            let d = a.other();
            if a.orders() && !in_plan[d] {
                in_plan[d] = true;
                released.push(d);
            }
        }
    }

    // A quiet start package may still be released as a dependent of another.
    for &i in quiet.iter().filter(|&&i| !in_plan[i]) {
        let p = &graph.packages[i];
        notes.push(format!(
            "{} is not released: no feat, fix, perf or breaking commits since {}",
            p.name,
            graph.tag_at(i, &p.version)
        ));
    }

    // Topological order of the candidates (Kahn's algorithm): every ordering upstream of a
    // candidate that is itself a candidate comes first.
    let mut pending = vec![0usize; n];
    for &p in &released {
        pending[p] = graph
            .upstream
            .of(p)
            .iter()
            .filter(|a| a.orders() && in_plan[a.other()])
            .count();
    }
    let mut order: Vec<usize> = released
        .iter()
        .copied()
        .filter(|&p| pending[p] == 0)
        .collect();
    let mut head = 0;
    while head < order.len() {
        let u = order[head];
        head += 1;
        for a in graph.downstream.of(u) {
            let d = a.other();
            if a.orders() && in_plan[d] {
                pending[d] -= 1;
                if pending[d] == 0 {
                    order.push(d);
                }
            }
        }
    }
    debug_assert_eq!(
        order.len(),
        released.len(),
        "the graph is acyclic by construction"
    );

    // Whether something pins `u` by git tag or revision: releasing it is the only way to move
    // those pins, whatever its `publish` says.
    let git_pinned = |u: usize| {
        graph
            .downstream
            .of(u)
            .iter()
            .any(|a| matches!(a.facts.pin, PinKind::GitTag | PinKind::GitRev))
    };

    // Decisions, in topological order: who is released, who is only edited, who needs
    // nothing. A decision depends only on upstreams, which are decided first.
    let mut planner = Planner::new(graph, request, &own);
    let mut slots = vec![Slot::default(); n];
    // Where each tag is written before it is shared.
    let mut tag = String::new();
    let mut decision = vec![Decision::Out; n];
    let mut not_released = Vec::new();
    for &p in &order {
        let seed = planner.own[p].is_some();
        let mut upstream_released = false;
        let mut w = 0;
        for a in graph.upstream.of(p).iter().filter(|a| a.orders()) {
            match decision[a.other()] {
                Decision::Released => {
                    upstream_released = true;
                    w = w.max(slots[a.other()].wave + 1);
                }
                Decision::Edited => w = w.max(slots[a.other()].wave + 1),
                Decision::Out => {}
            }
        }
        if !seed && !upstream_released {
            // In the cascade's reach, but only through packages that are not released: it is
            // decided about all the same (a platform engineer checking the plan against
            // `cargo metadata` finds every dependent listed, with the reason).
            let mut reason = no_upstream_released(graph, &in_plan, p);
            if quiet.contains(&p) {
                let pkg = &graph.packages[p];
                reason = format!(
                    "no feat, fix, perf or breaking commits since {}, and {reason}",
                    graph.tag_at(p, &pkg.version)
                );
            }
            not_released.push(NotReleased {
                package: graph.shared[p].name.clone(),
                reason,
            });
            continue;
        }
        slots[p].wave = w;
        // A start package, or any candidate with `--release-dependents always`, is released
        // whatever its pins need: then they are not looked at here.
        let regardless = seed || request.release_dependents == ReleaseDependents::Always;
        let (to, edited) = planner.decide(&slots, p, !regardless)?;
        let pkg = &graph.packages[p];
        decision[p] = if regardless || edited {
            if pkg.publish || seed || git_pinned(p) {
                Decision::Released
            } else {
                Decision::Edited
            }
        } else {
            not_released.push(NotReleased {
                package: graph.shared[p].name.clone(),
                reason: planner.needs_nothing(&slots, p),
            });
            Decision::Out
        };
        if decision[p] == Decision::Released {
            // Written once: the step and every dependent's pin edit share it.
            tag.clear();
            graph.write_tag(p, &to, &mut tag);
            slots[p].new = Some((to, SharedStr::from(tag.as_str())));
        }
    }

    // A dev-dependency requirement that no longer admits a released version must still be
    // rewritten (Cargo resolves a workspace's dev path dependencies too): such a dependent is
    // edited, not released, in a wave after its released upstreams.
    let mut dev_edited: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for &u in &order {
        let Some((to, _)) = &slots[u].new else {
            continue;
        };
        for a in graph.downstream.of(u) {
            let d = a.other();
            if a.orders() || decision[d] != Decision::Out {
                continue;
            }
            if a.facts.pin != PinKind::Requirement {
                continue;
            }
            let dependent = &graph.packages[d];
            if planner
                .pins
                .admits(graph, a.facts.text, dependent.ecosystem, to)
                == Some(false)
            {
                dev_edited.entry(d).or_default().push(format!(
                    "dev-dependency requirement {} on {} does not admit {to}",
                    graph.text(a.facts.text),
                    graph.packages[u].name
                ));
            }
        }
    }
    let mut edited_reason: BTreeMap<usize, String> = BTreeMap::new();
    let mut in_order = vec![false; n];
    for &p in &order {
        in_order[p] = true;
    }
    for (d, reasons) in dev_edited {
        let w = graph
            .upstream
            .of(d)
            .iter()
            .filter(|a| decision[a.other()] == Decision::Released)
            .map(|a| slots[a.other()].wave + 1)
            .max()
            .unwrap_or(0);
        slots[d].wave = w;
        decision[d] = Decision::Edited;
        not_released.retain(|x| x.package != graph.packages[d].name);
        edited_reason.insert(
            d,
            format!(
                "{}: rewritten so the workspace still resolves; not released",
                reasons.join("; ")
            ),
        );
        if !std::mem::replace(&mut in_order[d], true) {
            order.push(d);
        }
    }

    // The steps, wave by wave. Every decision is known (so dev pins on later waves are noted
    // as before), and every released package's version and tag are settled: a step reads
    // those of its upstreams in earlier waves.
    let wave_count = order
        .iter()
        .filter(|&&p| decision[p] != Decision::Out)
        .map(|&p| slots[p].wave + 1)
        .max()
        .unwrap_or(0);
    let by_wave = ByWave::new(
        wave_count,
        (0..n)
            .filter(|&p| decision[p] != Decision::Out)
            .map(|p| (p, slots[p].wave)),
    );
    // Repositories with a step, by position (sorted by name).
    let mut involved = vec![false; graph.repos.len()];
    for &p in by_wave.packages() {
        involved[graph.repo_of[p]] = true;
    }
    planner.notes = notes;
    // Each wave is finished and goes into the digest as soon as its steps are made.
    let finish = Finish {
        graph,
        slots: &slots,
        by_wave: &by_wave,
    };
    let (edited_only, canon, waves) = std::thread::scope(|scope| {
        let mut waves = Waves::new(scope, finish);
        let mut edited_only = Vec::new();
        for members in by_wave.iter() {
            let mut steps = Vec::with_capacity(members.len());
            for &p in members {
                // Made in place in the wave's list: a step is 300 bytes, not worth moving.
                planner.step(&slots, p, &mut steps)?;
                if decision[p] == Decision::Edited {
                    let step = steps.last_mut().expect("a step was just added");
                    let why = edited_reason.get(&p).cloned().unwrap_or_else(|| "publish = false and nothing pins it by git tag or revision: its pins are rewritten in the release commit, its version stays".to_owned());
                    edited_only.push(EditedOnly {
                        package: step.package.clone(),
                        repo: step.repo.clone(),
                        reason: why.clone(),
                    });
                    step.release = false;
                    step.publish = false;
                    step.why_not_released = Some(why);
                    step.to = step.from.clone();
                }
            }
            waves.push(steps);
        }
        let (canon, waves) = waves.finish();
        Ok::<_, Error>((edited_only, canon, waves))
    })?;
    let mut notes = planner.notes;

    // Dev dependents that are not released keep their pins: say so.
    for &u in order.iter().filter(|&&u| decision[u] == Decision::Released) {
        for a in graph.downstream.of(u) {
            if !a.orders() && decision[a.other()] == Decision::Out {
                let edge = &graph.edges[a.edge()];
                notes.push(format!(
                    "{} is not released: it only dev-depends on {} (pin `{}` stays)",
                    edge.dependent,
                    edge.dependency,
                    edge.pin.as_str()
                ));
            }
        }
    }

    let heads: BTreeMap<SharedStr, SharedStr> = graph
        .repo_texts
        .iter()
        .zip(&involved)
        .filter(|&(_, &inv)| inv)
        .map(|(r, _)| (r.name.clone(), r.head.clone()))
        .collect();
    let digest = canon.end(&notes, &heads);
    Ok(Plan {
        waves,
        digest,
        notes,
        heads,
        edited_only,
        not_released,
    })
}

/// The packages with a step, wave by wave, each wave in name order: one list, and where each
/// wave starts in it (a list per wave would be thousands of small allocations on a deep
/// plan).
pub(crate) struct ByWave {
    packages: Vec<usize>,
    /// Where wave `w` starts, and (at `w + 1`) ends.
    starts: Vec<usize>,
}

impl ByWave {
    /// From `(package, wave)` pairs in name order (packages are indexed in name order), each
    /// wave below `waves`: a counting sort, which keeps that order within each wave.
    fn new(waves: usize, members: impl Iterator<Item = (usize, usize)> + Clone) -> Self {
        let mut starts = vec![0; waves + 1];
        for (_, w) in members.clone() {
            starts[w + 1] += 1;
        }
        for w in 0..waves {
            starts[w + 1] += starts[w];
        }
        let mut next = starts.clone();
        let mut packages = vec![0; starts[waves]];
        for (p, w) in members {
            packages[next[w]] = p;
            next[w] += 1;
        }
        ByWave { packages, starts }
    }

    /// The number of waves.
    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Every package with a step, wave by wave.
    pub(crate) fn packages(&self) -> &[usize] {
        &self.packages
    }

    /// Wave `w`'s packages.
    pub(crate) fn wave(&self, w: usize) -> &[usize] {
        &self.packages[self.starts[w]..self.starts[w + 1]]
    }

    /// Each wave's packages, in wave order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[usize]> {
        (0..self.len()).map(|w| self.wave(w))
    }
}

/// What the planner decided for a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Not in the plan (needs nothing, or nothing it depends on is released).
    Out,
    /// Released: version bump, tag.
    Released,
    /// Pins rewritten in its repository's commit; not released.
    Edited,
}
