//! Reason codes, reasons and verdicts.

use std::fmt;

use serde::Serialize;

/// Why a release is not plainly compatible with a vertical. The codes are a stable contract:
/// tools branch on them and JSON output carries them as snake_case strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The release is below the vertical's `min_core_version` (blocks).
    CoreBelowMin,
    /// The release is above the vertical's `max_core_version` (blocks).
    CoreAboveMax,
    /// The release's contracts major differs from the vertical's `contracts_major` (blocks).
    ContractsMajorMismatch,
    /// A required capability is not offered by the release (blocks).
    CapabilityMissing,
    /// A required capability is offered but deprecated (warning).
    CapabilityDeprecated,
    /// The vertical's channel does not see the release's channel (warning).
    ChannelMismatch,
    /// The release is a pre-release and the vertical follows stable or lts (warning).
    Prerelease,
    /// The vertical's status is not `active` (warning).
    VerticalNotActive,
    /// The release is more minor versions behind the newest of its major than the support
    /// window allows (warning).
    OutsideSupportWindow,
}

impl ReasonCode {
    /// Every code, in the order reasons are reported.
    pub const ALL: [ReasonCode; 9] = [
        ReasonCode::CoreBelowMin,
        ReasonCode::CoreAboveMax,
        ReasonCode::ContractsMajorMismatch,
        ReasonCode::CapabilityMissing,
        ReasonCode::CapabilityDeprecated,
        ReasonCode::ChannelMismatch,
        ReasonCode::Prerelease,
        ReasonCode::VerticalNotActive,
        ReasonCode::OutsideSupportWindow,
    ];

    /// The code as written in JSON (`core_above_max`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonCode::CoreBelowMin => "core_below_min",
            ReasonCode::CoreAboveMax => "core_above_max",
            ReasonCode::ContractsMajorMismatch => "contracts_major_mismatch",
            ReasonCode::CapabilityMissing => "capability_missing",
            ReasonCode::CapabilityDeprecated => "capability_deprecated",
            ReasonCode::ChannelMismatch => "channel_mismatch",
            ReasonCode::Prerelease => "prerelease",
            ReasonCode::VerticalNotActive => "vertical_not_active",
            ReasonCode::OutsideSupportWindow => "outside_support_window",
        }
    }

    /// Whether this reason blocks the upgrade (otherwise it is a warning).
    pub const fn blocks(self) -> bool {
        matches!(
            self,
            ReasonCode::CoreBelowMin
                | ReasonCode::CoreAboveMax
                | ReasonCode::ContractsMajorMismatch
                | ReasonCode::CapabilityMissing
        )
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compact set of reason codes: what the matrix stores per cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ReasonSet(u16);

const BLOCKING: u16 = ReasonCode::CoreBelowMin.bit()
    | ReasonCode::CoreAboveMax.bit()
    | ReasonCode::ContractsMajorMismatch.bit()
    | ReasonCode::CapabilityMissing.bit();

impl ReasonSet {
    /// The empty set.
    pub const EMPTY: ReasonSet = ReasonSet(0);

    /// Adds a code.
    pub fn insert(&mut self, code: ReasonCode) {
        self.0 |= code.bit();
    }

    /// Adds a code when `cond` holds (branch-free in the matrix loop).
    #[inline]
    pub(crate) fn set_if(&mut self, code: ReasonCode, cond: bool) {
        self.0 |= code.bit() * u16::from(cond);
    }

    /// Whether the set holds `code`.
    pub fn contains(self, code: ReasonCode) -> bool {
        self.0 & code.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The status these reasons add up to.
    #[inline]
    pub fn status(self) -> Status {
        if self.0 & BLOCKING != 0 {
            Status::Blocked
        } else if self.0 != 0 {
            Status::CompatibleWithWarnings
        } else {
            Status::Compatible
        }
    }

    /// The codes in reporting order.
    pub fn iter(self) -> impl Iterator<Item = ReasonCode> {
        ReasonCode::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

/// The outcome of holding one release against one vertical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing stands in the way.
    Compatible,
    /// Upgrade possible; the reasons are warnings.
    CompatibleWithWarnings,
    /// At least one reason blocks the upgrade.
    Blocked,
}

impl Status {
    /// The status as written in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Compatible => "compatible",
            Status::CompatibleWithWarnings => "compatible_with_warnings",
            Status::Blocked => "blocked",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason with its human explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// What the user should read.
    pub message: String,
}

/// A verdict: status and every reason that applies, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// The overall status.
    #[serde(rename = "verdict")]
    pub status: Status,
    /// Every reason that applies (empty when compatible).
    pub reasons: Vec<Reason>,
}

impl Verdict {
    /// The set of codes in this verdict.
    pub fn codes(&self) -> ReasonSet {
        let mut set = ReasonSet::EMPTY;
        for r in &self.reasons {
            set.insert(r.code);
        }
        set
    }
}

impl fmt::Display for Verdict {
    /// Human text: the status, then one line per reason marked `blocks` or `warns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        for r in &self.reasons {
            let tag = if r.code.blocks() { "blocks" } else { "warns" };
            write!(f, "\n  - {tag} [{}] {}", r.code, r.message)?;
        }
        Ok(())
    }
}
