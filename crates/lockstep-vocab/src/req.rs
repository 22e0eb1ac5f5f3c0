//! Version requirements as Cargo, npm and PEP 440 write them: does one admit a version, and
//! how is it rewritten for a new one while keeping its style.
//!
//! The rewrite rule: every comparator keeps its operator and is given the new version at the
//! precision it was written with (`^1.2` → `^2.0`, `~1.2.3` → `~2.0.0`, `1.x` → `2.x`);
//! with exact pins, at full precision (`^1.2` → `^1.3.0`). Upper bounds (`<`, `<=`) move only
//! when they exclude the new version: `<` to the next breaking boundary (`<2` → `<3`), `<=`
//! to the new version. `>` becomes `>=`, since `>1.3` would exclude 1.3.0. `!=` and `*`
//! stay. Everything outside the version numbers (spaces, commas, `||`) stays byte for byte.
//! If the result still did not admit the new version, the requirement is replaced by the
//! ecosystem's plain form: `X.Y.Z` (Cargo), `^X.Y.Z` (npm), `>=X.Y.Z` (Python).

use std::ops::Range;

use semver::Version;

use crate::Ecosystem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Caret,
    Tilde,
    /// `=`, npm's bare version: exact at full precision, a prefix match otherwise.
    Exact,
    /// `==` (PEP 440): equal after padding with zeros; a prefix match with a wildcard.
    Equal,
    /// `~=` (PEP 440 compatible release).
    Compatible,
    Greater,
    GreaterEq,
    Less,
    LessEq,
    NotEqual,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    /// Where the operator is written (empty for a bare version).
    op_span: Range<usize>,
    /// The numeric components (0 to 3).
    nums: Nums,
    /// A wildcard component (`x`, `X`, `*`) follows the numbers.
    wild: bool,
    pre: semver::Prerelease,
    /// Where the version is written, including `v`, pre-release and build metadata.
    ver_span: Range<usize>,
    /// The wildcard tail as written (`.x`, `.*`, `*`).
    tail: String,
}

/// A comparator's numeric components, at most three, held in place: a requirement is read
/// for each distinct pin text of a plan, thousands on a large graph, and a list of its own per
/// comparator would be one more allocation to make and free for each.
#[derive(Debug, Clone, Copy, Default)]
struct Nums {
    len: u8,
    n: [u64; 3],
}

impl Nums {
    /// Appends `v`, or `None` when three are held already.
    fn push(&mut self, v: u64) -> Option<()> {
        *self.n.get_mut(usize::from(self.len))? = v;
        self.len += 1;
        Some(())
    }
}

impl std::ops::Deref for Nums {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        &self.n[..usize::from(self.len)]
    }
}

/// A version requirement as its ecosystem writes it: alternatives (`||`) of conjunctions of
/// comparators, with where each was written, so a rewrite changes only the version numbers.
#[derive(Debug, Clone)]
pub struct Requirement {
    text: String,
    ecosystem: Ecosystem,
    /// Every alternative's comparators, one after the other.
    comparators: Vec<Comparator>,
    /// Where each alternative but the last ends in `comparators`: empty (no allocation) for
    /// the usual requirement with no `||`.
    ends: Vec<usize>,
}

/// What becomes of a requirement for a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// It already admits the version and is left alone.
    Admits,
    /// It is rewritten to this.
    To(String),
}

/// A requirement this crate cannot read (a dist-tag such as `latest`, `workspace:*`, a PEP 440
/// epoch or arbitrary equality, more than three numeric components).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a {ecosystem} version requirement lockstep can read")]
pub struct RequirementError {
    /// The requirement as written.
    pub text: String,
    /// The ecosystem it was read as.
    pub ecosystem: Ecosystem,
}

impl PartialEq for Requirement {
    /// Two requirements are equal when they are written the same in the same ecosystem.
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.ecosystem == other.ecosystem
    }
}

impl Eq for Requirement {}

impl Requirement {
    /// Parses `text` as `ecosystem` writes requirements.
    pub fn parse(text: &str, ecosystem: Ecosystem) -> Result<Requirement, RequirementError> {
        Self::parse_opt(text, ecosystem).ok_or_else(|| RequirementError {
            text: text.to_owned(),
            ecosystem,
        })
    }

    /// The requirement as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The ecosystem it is written in.
    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// Whether the requirement admits `version` (SemVer precedence; a partial version is a
    /// prefix match as the ecosystem defines it).
    pub fn admits(&self, version: &Version) -> bool {
        self.matches(version)
    }

    /// Keeps the requirement when it admits `new` (and `exact` is off), otherwise rewrites it
    /// for `new` keeping each comparator's operator and written precision (the module's rule).
    /// With `exact`, every version is written at full precision, and a rewrite that changes
    /// nothing is [`Rewrite::Admits`].
    pub fn rewrite(&self, new: &Version, exact: bool) -> Rewrite {
        self.update(new, exact)
    }

    fn parse_opt(text: &str, ecosystem: Ecosystem) -> Option<Requirement> {
        let mut comparators = Vec::with_capacity(2);
        let mut ends = Vec::new();
        if text.contains('|') {
            let mut offset = 0;
            for alt in text.split("||") {
                if offset > 0 {
                    ends.push(comparators.len());
                }
                parse_alternative(alt, offset, ecosystem, &mut comparators)?;
                offset += alt.len() + 2;
            }
        } else {
            parse_alternative(text, 0, ecosystem, &mut comparators)?;
        }
        Some(Requirement {
            text: text.to_owned(),
            ecosystem,
            comparators,
            ends,
        })
    }

    /// Each alternative's comparators.
    fn alternatives(&self) -> impl Iterator<Item = &[Comparator]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        let ends = self
            .ends
            .iter()
            .copied()
            .chain(std::iter::once(self.comparators.len()));
        starts.zip(ends).map(|(a, b)| &self.comparators[a..b])
    }

    fn matches(&self, v: &Version) -> bool {
        self.alternatives()
            .any(|alt| alt.iter().all(|c| c.matches(v, self.ecosystem)))
    }

    /// Keep it when it admits `new` (and `exact` is off), otherwise rewrite it by the module's
    /// rule. With `exact`, a rewrite that changes nothing is reported as [`Rewrite::Admits`].
    fn update(&self, new: &Version, exact: bool) -> Rewrite {
        if !exact && self.matches(new) {
            return Rewrite::Admits;
        }
        let mut splices: Vec<(Range<usize>, String)> = Vec::new();
        for c in &self.comparators {
            let precision = if exact { 3 } else { c.nums.len().max(1) };
            match c.op {
                Op::NotEqual => {}
                _ if c.nums.is_empty() => {} // `*`
                _ if c.wild => {
                    let text = format!("{}{}", write(new, c.nums.len()), c.tail);
                    splices.push((c.ver_span.clone(), text));
                }
                Op::Less | Op::LessEq if c.matches(new, self.ecosystem) => {}
                Op::Less => {
                    let bound = next_breaking(new);
                    let needed = significant(&bound);
                    splices.push((c.ver_span.clone(), write(&bound, c.nums.len().max(needed))));
                }
                Op::Greater => {
                    splices.push((c.op_span.clone(), ">=".to_owned()));
                    splices.push((c.ver_span.clone(), write(new, precision)));
                }
                Op::Compatible => {
                    splices.push((c.ver_span.clone(), write(new, precision.max(2))));
                }
                _ => splices.push((c.ver_span.clone(), write(new, precision))),
            }
        }
        let mut out = String::with_capacity(self.text.len() + 4);
        let mut at: usize = 0;
        splices.sort_by_key(|(r, _)| r.start);
        for (range, text) in splices {
            out.push_str(&self.text[at..range.start]);
            out.push_str(&text);
            at = range.end;
        }
        out.push_str(&self.text[at..]);
        let out = dedup_alternatives(out);
        let admits = Requirement::parse_opt(&out, self.ecosystem).is_some_and(|r| r.matches(new));
        let out = if admits {
            out
        } else {
            match self.ecosystem {
                Ecosystem::Cargo => new.to_string(),
                Ecosystem::Npm => format!("^{new}"),
                Ecosystem::Python => format!(">={new}"),
            }
        };
        if out == self.text {
            Rewrite::Admits
        } else {
            Rewrite::To(out)
        }
    }
}

/// `^1.0 || ^2.0` rewritten for 3.0.0 is `^3.0 || ^3.0`: say it once.
fn dedup_alternatives(text: String) -> String {
    if !text.contains("||") {
        return text;
    }
    let mut seen: Vec<&str> = Vec::new();
    for alt in text.split("||").map(str::trim) {
        if !seen.contains(&alt) {
            seen.push(alt);
        }
    }
    if seen.len() == text.split("||").count() {
        text
    } else {
        seen.join(" || ")
    }
}

/// The smallest version that is incompatible with `v` by Cargo's rule.
fn next_breaking(v: &Version) -> Version {
    if v.major > 0 {
        Version::new(v.major.saturating_add(1), 0, 0)
    } else if v.minor > 0 {
        Version::new(0, v.minor.saturating_add(1), 0)
    } else {
        Version::new(0, 0, v.patch.saturating_add(1))
    }
}

/// How many components it takes to write `v` without losing a non-zero one.
fn significant(v: &Version) -> usize {
    if v.patch > 0 {
        3
    } else if v.minor > 0 {
        2
    } else {
        1
    }
}

fn write(v: &Version, precision: usize) -> String {
    match precision {
        0 | 1 => v.major.to_string(),
        2 => format!("{}.{}", v.major, v.minor),
        _ => format!("{}.{}.{}", v.major, v.minor, v.patch),
    }
}

/// Reads one alternative (no `||`) into `out`, after what it holds.
fn parse_alternative(
    alt: &str,
    offset: usize,
    eco: Ecosystem,
    out: &mut Vec<Comparator>,
) -> Option<()> {
    let bytes = alt.as_bytes();
    let start = out.len();
    let mut i = 0;
    let skip = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i].is_ascii_whitespace() || bytes[*i] == b',') {
            *i += 1;
        }
    };
    loop {
        skip(&mut i);
        if i == bytes.len() {
            break;
        }
        let op_start = i;
        while i < bytes.len() && b"^~=<>!".contains(&bytes[i]) {
            i += 1;
        }
        let op_text = &alt[op_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let ver_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b',' {
            i += 1;
        }
        let op = match op_text {
            "" => match eco {
                Ecosystem::Cargo => Op::Caret,
                Ecosystem::Npm => Op::Exact,
                Ecosystem::Python => Op::Equal,
            },
            "^" => Op::Caret,
            "~" => Op::Tilde,
            "=" => Op::Exact,
            "==" => Op::Equal,
            "~=" => Op::Compatible,
            ">" => Op::Greater,
            ">=" => Op::GreaterEq,
            "<" => Op::Less,
            "<=" => Op::LessEq,
            "!=" => Op::NotEqual,
            _ => return None,
        };
        let mut c = parse_version(&alt[ver_start..i], op)?;
        c.op_span = offset + op_start..offset + op_start + op_text.len();
        c.ver_span = offset + ver_start..offset + i;
        if c.op == Op::Compatible && (c.nums.len() < 2 || c.wild) {
            return None;
        }
        // npm hyphen range: `A - B` is `>=A <=B`.
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if eco == Ecosystem::Npm && op_text.is_empty() && bytes.get(j) == Some(&b'-') {
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            let hi_start = j;
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut hi = parse_version(&alt[hi_start..j], Op::LessEq)?;
            hi.op_span = offset + hi_start..offset + hi_start;
            hi.ver_span = offset + hi_start..offset + j;
            c.op = Op::GreaterEq;
            out.push(c);
            out.push(hi);
            i = j;
            continue;
        }
        out.push(c);
    }
    if out.len() == start {
        // An empty requirement (or `""` in package.json) admits everything, like `*`.
        out.push(Comparator {
            op: Op::GreaterEq,
            op_span: offset..offset,
            nums: Nums::default(),
            wild: true,
            pre: semver::Prerelease::EMPTY,
            ver_span: offset..offset,
            tail: String::new(),
        });
    }
    Some(())
}

fn parse_version(text: &str, op: Op) -> Option<Comparator> {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let text = text.split_once('+').map_or(text, |(v, _)| v);
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, semver::Prerelease::new(pre).ok()?),
        None => (text, semver::Prerelease::EMPTY),
    };
    let mut nums = Nums::default();
    let mut wild = false;
    let mut tail_start = core.len();
    let mut at: usize = 0;
    for part in core.split('.') {
        if matches!(part, "x" | "X" | "*") {
            if !wild {
                tail_start = at.saturating_sub(1);
            }
            wild = true;
        } else if wild || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        } else {
            // A fourth number is refused.
            nums.push(part.parse().ok()?)?;
        }
        at += part.len() + 1;
    }
    if (nums.is_empty() && !wild) || (wild && !pre.is_empty()) {
        return None;
    }
    Some(Comparator {
        op,
        op_span: 0..0,
        nums,
        wild,
        pre,
        ver_span: 0..0,
        tail: core[tail_start..].to_owned(),
    })
}

impl Comparator {
    fn lower(&self) -> Version {
        let n = |i: usize| self.nums.get(i).copied().unwrap_or(0);
        let mut v = Version::new(n(0), n(1), n(2));
        v.pre = self.pre.clone();
        v
    }

    /// `v`'s first `len` components equal ours.
    fn prefix(&self, v: &Version, len: usize) -> bool {
        let parts = [v.major, v.minor, v.patch];
        parts[..len] == self.nums[..len]
    }

    fn matches(&self, v: &Version, eco: Ecosystem) -> bool {
        let given = self.nums.len();
        if given == 0 {
            return self.op != Op::NotEqual;
        }
        let parts = [v.major, v.minor, v.patch];
        let head = &parts[..given];
        let lower = self.lower();
        // Cargo and npm read a partial version as the range of versions it prefixes.
        let partial = given < 3 && eco != Ecosystem::Python;
        match self.op {
            _ if self.wild && self.op != Op::NotEqual => self.prefix(v, given),
            Op::NotEqual if self.wild => !self.prefix(v, given),
            Op::Caret => {
                let first_nonzero = self.nums.iter().position(|&n| n != 0);
                let len = first_nonzero.map_or(given, |p| p + 1);
                self.prefix(v, len) && *v >= lower
            }
            Op::Tilde => self.prefix(v, if given >= 2 { 2 } else { 1 }) && *v >= lower,
            Op::Compatible => self.prefix(v, given - 1) && *v >= lower,
            Op::Exact if given < 3 => self.prefix(v, given),
            Op::Exact | Op::Equal => *v == lower,
            Op::NotEqual => *v != lower,
            Op::GreaterEq => *v >= lower,
            Op::Greater if partial => head > &self.nums[..],
            Op::Greater => *v > lower,
            Op::Less => *v < lower,
            Op::LessEq if partial => head <= &self.nums[..],
            Op::LessEq => *v <= lower,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test versions are valid")
    }

    #[track_caller]
    fn admits(eco: Ecosystem, req: &str, version: &str, expected: bool) {
        let r = Requirement::parse(req, eco).expect("test requirements parse");
        assert_eq!(
            r.matches(&v(version)),
            expected,
            "{eco} `{req}` admits {version}"
        );
    }

    #[test]
    fn cargo_requirements_agree_with_the_semver_crate() {
        let reqs = [
            "^1.2.3",
            "^1.2",
            "^1",
            "^0.2.3",
            "^0.2",
            "^0.0.3",
            "^0.0",
            "^0",
            "1.2.3",
            "1.2",
            "~1.2.3",
            "~1.2",
            "~1",
            "=1.2.3",
            "=1.2",
            ">1.2",
            ">1.2.3",
            ">=1.2",
            "<1.2",
            "<=1.2",
            "<=1.2.3",
            ">=1.2, <2",
            ">= 1.2.3, < 1.5",
            "*",
            "1.*",
            "1.2.*",
            "0.*",
        ];
        let versions = [
            "0.0.0", "0.0.3", "0.0.4", "0.1.0", "0.2.0", "0.2.3", "0.2.9", "0.3.0", "1.0.0",
            "1.2.0", "1.2.2", "1.2.3", "1.2.9", "1.3.0", "1.4.9", "1.5.0", "1.9.9", "2.0.0",
            "2.1.0", "3.0.0",
        ];
        for req in reqs {
            let oracle = semver::VersionReq::parse(req).expect("oracle parses");
            let ours = Requirement::parse(req, Ecosystem::Cargo).expect("we parse");
            for version in versions {
                assert_eq!(
                    ours.matches(&v(version)),
                    oracle.matches(&v(version)),
                    "`{req}` vs {version}"
                );
            }
        }
    }

    #[test]
    fn npm_and_python_requirements() {
        use Ecosystem::{Npm, Python};
        admits(Npm, "1.2", "1.2.7", true);
        admits(Npm, "1.2.3", "1.2.4", false);
        admits(Npm, "^1.2.0 || ^2.0.0", "2.3.0", true);
        admits(Npm, "1.2.3 - 2.3", "2.3.9", true);
        admits(Npm, "1.2.3 - 2.3", "2.4.0", false);
        admits(Npm, ">=1.2.0 <2.0.0", "1.9.0", true);
        admits(Npm, "v1.2.x", "1.2.5", true);
        admits(Npm, "", "7.0.0", true);
        admits(Python, "==1.2", "1.2.0", true);
        admits(Python, "==1.2", "1.2.1", false);
        admits(Python, "==1.2.*", "1.2.1", true);
        admits(Python, "~=1.2", "1.9.0", true);
        admits(Python, "~=1.2", "2.0.0", false);
        admits(Python, "~=1.2.3", "1.3.0", false);
        admits(Python, ">=1.2,<2", "1.5.0", true);
        admits(Python, ">1.2", "1.2.1", true);
        admits(Python, "!=1.3.0,>=1", "1.3.0", false);
    }

    #[test]
    fn unreadable_requirements() {
        for (eco, req) in [
            (Ecosystem::Npm, "latest"),
            (Ecosystem::Npm, "workspace:*"),
            (Ecosystem::Python, "~=1"),
            (Ecosystem::Python, "===1.0"),
            (Ecosystem::Cargo, "1.2.3.4"),
            (Ecosystem::Cargo, "1.x.3"),
        ] {
            assert!(Requirement::parse(req, eco).is_err(), "{eco} `{req}`");
        }
    }

    #[track_caller]
    fn rewrite(eco: Ecosystem, req: &str, new: &str, exact: bool, expected: Option<&str>) {
        let r = Requirement::parse(req, eco).expect("test requirements parse");
        let got = match r.update(&v(new), exact) {
            Rewrite::Admits => None,
            Rewrite::To(s) => Some(s),
        };
        assert_eq!(
            got.as_deref(),
            expected,
            "{eco} `{req}` for {new} (exact: {exact})"
        );
    }

    #[test]
    fn rewrites_keep_operator_and_precision() {
        use Ecosystem::{Cargo, Npm, Python};
        let table = [
            (Cargo, "^1.2", "1.3.0", false, None),
            (Cargo, "^1.2", "1.3.0", true, Some("^1.3.0")),
            (Cargo, "^1.2", "2.0.0", false, Some("^2.0")),
            (Cargo, "1.2.3", "2.0.0", false, Some("2.0.0")),
            (Cargo, "1", "2.1.0", false, Some("2")),
            (Cargo, "~1.2.3", "1.3.0", false, Some("~1.3.0")),
            (Cargo, "=1.2.3", "1.2.4", false, Some("=1.2.4")),
            (Cargo, "^0.2", "0.3.0", false, Some("^0.3")),
            (Cargo, ">=1.2, <2", "2.1.0", false, Some(">=2.1, <3")),
            (Cargo, ">=0.2, <0.3", "0.3.0", false, Some(">=0.3, <0.4")),
            (Cargo, "1.*", "2.0.0", false, Some("2.*")),
            (Cargo, "1.2.*", "1.3.0", false, Some("1.3.*")),
            (Cargo, "*", "9.0.0", true, None),
            (Cargo, "^1.3.0", "1.3.0", true, None),
            (Npm, "^1.2.0", "2.0.0", false, Some("^2.0.0")),
            (Npm, "~1.2", "1.3.0", false, Some("~1.3")),
            (Npm, "1.2.x", "1.3.0", false, Some("1.3.x")),
            (Npm, "^1.0.0 || ^2.0.0", "3.0.0", false, Some("^3.0.0")),
            (Npm, ">1.2.0", "1.2.1", true, Some(">=1.2.1")),
            (Npm, "1.2.3 - 1.4", "1.5.0", false, Some("1.5.0 - 1.5")),
            (Python, ">=1.2,<2", "2.0.0", false, Some(">=2.0,<3")),
            (Python, "~=1.2", "2.0.0", false, Some("~=2.0")),
            (Python, "==1.2.0", "1.2.1", false, Some("==1.2.1")),
            (Python, "==1.2.*", "1.3.0", false, Some("==1.3.*")),
            (
                Python,
                ">= 1.2 , != 1.5.0 , < 2",
                "2.0.0",
                false,
                Some(">= 2.0 , != 1.5.0 , < 3"),
            ),
            (Python, "<=1.4", "1.5.0", false, Some("<=1.5")),
        ];
        for (eco, req, new, exact, expected) in table {
            rewrite(eco, req, new, exact, expected);
        }
    }
}
