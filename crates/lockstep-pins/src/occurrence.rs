//! What every manifest reader produces, and the edit logic they share.

use crate::splice::{self, Splice};
use crate::toml_text::{Str, TableForm};
use crate::{
    Change, Dependency, Ecosystem, Edit, Error, PinValue, SkipReason, Skipped,
    normalize_python_name, npm, pep508,
};

/// One dependency entry, with what is needed to edit it.
#[derive(Debug, Clone)]
pub(crate) struct Occurrence {
    pub(crate) dep: Dependency,
    pub(crate) editor: Editor,
}

/// How an entry is written, which decides how it can be edited.
#[derive(Debug, Clone)]
pub(crate) enum Editor {
    /// `name = "^1.0"` (Cargo, Poetry).
    VersionString(Str),
    /// `name = { … }`, `[dependencies.name]` or `name.key = …` (Cargo, Poetry, uv sources).
    Table(TableForm),
    /// A PEP 508 string in a TOML array.
    Pep508(pep508::Entry),
    /// A `package.json` specifier.
    Npm(npm::Entry),
}

/// What writing a value into one entry would do.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Apply {
        splices: Vec<Splice>,
        from: Option<PinValue>,
    },
    Skip(SkipReason),
    Conflict {
        accepted: &'static str,
    },
}

impl Editor {
    fn plan(&self, file: Ecosystem, text: &str, new: &PinValue) -> Result<Outcome, Error> {
        Ok(match self {
            Editor::VersionString(s) => match new {
                PinValue::Version(v) if s.value == *v => Outcome::Skip(SkipReason::AlreadySet),
                PinValue::Version(v) => Outcome::Apply {
                    splices: vec![s.replace(text, v)],
                    from: Some(PinValue::Version(s.value.clone())),
                },
                PinValue::Tag(_) | PinValue::Rev(_) => Outcome::Conflict {
                    accepted: "a registry dependency takes a version requirement, not a tag or rev",
                },
            },
            Editor::Table(t) => t.plan(text, new),
            Editor::Pep508(e) => e.plan(file, text, new)?,
            Editor::Npm(e) => e.plan(new)?,
        })
    }
}

/// The entries of one manifest and the sections that were searched.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scan {
    pub(crate) occurrences: Vec<Occurrence>,
    pub(crate) searched: Vec<String>,
}

impl Scan {
    /// Records a section as searched (once, in first-seen order).
    pub(crate) fn searched(&mut self, section: impl Into<String>) {
        let section = section.into();
        if !self.searched.contains(&section) {
            self.searched.push(section);
        }
    }

    /// The entries for package `name` (PEP 503 comparison for Python).
    pub(crate) fn matching(
        self,
        file: Ecosystem,
        name: &str,
    ) -> Result<(Vec<Occurrence>, Vec<String>), Error> {
        let wanted = key_for(file, name);
        let found: Vec<Occurrence> = self
            .occurrences
            .into_iter()
            .filter(|o| key_for(file, &o.dep.name) == wanted)
            .collect();
        if found.is_empty() {
            return Err(Error::DependencyNotFound {
                file,
                name: name.to_owned(),
                searched: self.searched,
            });
        }
        Ok((found, self.searched))
    }
}

fn key_for(file: Ecosystem, name: &str) -> String {
    match file {
        Ecosystem::Python => normalize_python_name(name),
        _ => name.to_owned(),
    }
}

/// Checks what every ecosystem requires of a new value.
fn validate(file: Ecosystem, new: &PinValue) -> Result<(), Error> {
    let value = new.as_str();
    let invalid = |reason| Error::InvalidValue {
        file,
        value: new.clone(),
        reason,
        expected: match new {
            PinValue::Version(_) => "a non-empty version requirement such as `^1.3` or `1.3.0`",
            PinValue::Tag(_) => "a non-empty tag name without spaces, such as `v1.3.0`",
            PinValue::Rev(_) => "a commit id such as `0a1b2c3d`",
        },
    };
    if value.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("it contains a control character"));
    }
    if !matches!(new, PinValue::Version(_)) && value.chars().any(char::is_whitespace) {
        return Err(invalid("a git reference cannot contain whitespace"));
    }
    Ok(())
}

/// Writes `new` into every entry for `name`, all or nothing.
///
/// An entry that cannot take the value is an error and nothing is changed;
/// entries that follow their pin from elsewhere are skipped, with the reason.
pub(crate) fn set_pin(
    file: Ecosystem,
    text: &str,
    scan: Scan,
    name: &str,
    new: &PinValue,
) -> Result<Edit, Error> {
    validate(file, new)?;
    let (found, _) = scan.matching(file, name)?;
    let mut splices = Vec::new();
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    let mut first_skip: Option<(&Occurrence, SkipReason)> = None;
    for occurrence in &found {
        match occurrence.editor.plan(file, text, new)? {
            Outcome::Apply {
                splices: more,
                from,
            } => {
                splices.extend(more);
                changes.push(Change {
                    location: occurrence.dep.location.clone(),
                    name: occurrence.dep.name.clone(),
                    from,
                    to: new.clone(),
                });
            }
            Outcome::Skip(reason) => {
                first_skip.get_or_insert((occurrence, reason));
                skipped.push(Skipped {
                    location: occurrence.dep.location.clone(),
                    reason,
                });
            }
            Outcome::Conflict { accepted } => {
                return Err(incompatible(file, occurrence, new, accepted));
            }
        }
    }
    let already = skipped.iter().any(|s| s.reason == SkipReason::AlreadySet);
    if changes.is_empty()
        && !already
        && let Some((occurrence, reason)) = first_skip
    {
        let accepted = match reason {
            SkipReason::Inherited => "set the pin where the workspace root declares it",
            SkipReason::PathOnly => {
                "a path dependency takes no tag or rev, and a version only when one is written beside the path"
            }
            SkipReason::SourceElsewhere | SkipReason::AlreadySet => {
                "no entry for it holds a git source"
            }
        };
        return Err(incompatible(file, occurrence, new, accepted));
    }
    Ok(Edit {
        text: splice::apply(text, splices),
        changes,
        skipped,
    })
}

fn incompatible(
    file: Ecosystem,
    occurrence: &Occurrence,
    new: &PinValue,
    accepted: &'static str,
) -> Error {
    Error::IncompatiblePin {
        file,
        name: occurrence.dep.name.clone(),
        location: Box::new(occurrence.dep.location.clone()),
        current: occurrence.dep.pin.describe(),
        requested: new.clone(),
        accepted,
    }
}
