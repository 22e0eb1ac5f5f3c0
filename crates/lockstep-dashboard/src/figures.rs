//! The figures the page shows and `dashboard --json` prints: one serialisable value.

use serde::Serialize;

/// The JSON schema tag of [`Figures`].
pub const SCHEMA: &str = "lockstep.dashboard/v1";

/// Everything on the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Figures {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// When the figures were collected (RFC 3339).
    pub generated_at: String,
    /// The headline numbers with their definitions.
    pub kpis: Kpis,
    /// One row per vertical, by name then manifest path.
    pub verticals: Vec<VerticalRow>,
    /// Upgrades committed and rolled back per period, oldest first.
    pub timeline: Timeline,
    /// Release cascades from the cascade audit logs.
    pub cascades: CascadeCounts,
    /// Staged rollouts from the state database, oldest first.
    pub rollouts: Vec<RolloutFigure>,
    /// Known-good and quarantined versions per component and channel.
    pub known_good: Vec<KnownGoodRow>,
    /// Organisation pins.
    pub pins: Vec<PinRow>,
    /// Inputs that could not be read (the page shows them; the rest is still drawn).
    pub problems: Vec<String>,
}

/// A KPI's value and how it is computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Kpi {
    /// A stable key (`successful_upgrades`, …).
    pub key: &'static str,
    /// The label on the page.
    pub label: &'static str,
    /// The value; `None` when there is nothing to compute it from.
    pub value: Option<f64>,
    /// The unit: `%`, `s` or `count`.
    pub unit: &'static str,
    /// How it is computed, in words.
    pub definition: &'static str,
}

/// The headline numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Kpis {
    /// Upgrade transactions started (`upgrade_started` records).
    pub attempted: u64,
    /// Upgrades committed (`upgrade_committed`).
    pub committed: u64,
    /// Upgrades rolled back automatically (`rolled_back`).
    pub rolled_back: u64,
    /// The KPIs, in page order.
    pub list: Vec<Kpi>,
}

/// One vertical's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VerticalRow {
    /// `domain_name` from the manifest.
    pub name: String,
    /// The manifest's path.
    pub manifest: String,
    /// `update_channel`.
    pub channel: String,
    /// The core version it runs: the caller's value, else the target of its last committed
    /// upgrade, else the `from` of its last record.
    pub current: Option<String>,
    /// The last upgrade attempt's outcome.
    pub last_upgrade: Option<LastUpgrade>,
    /// The newest compatible release above `current`, when the caller knows it.
    pub pending_update: Option<String>,
    /// Upgrades attempted.
    pub attempted: u64,
    /// Upgrades committed.
    pub committed: u64,
    /// Upgrades rolled back.
    pub rolled_back: u64,
}

/// A vertical's last upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LastUpgrade {
    /// When it ended (or started, if it never ended).
    pub time: String,
    /// From which version.
    pub from: Option<String>,
    /// To which version.
    pub to: Option<String>,
    /// `committed`, `rolled_back`, `restore_failed` or `started` (no end recorded).
    pub outcome: String,
}

/// Upgrades over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Timeline {
    /// `day` or `week` (weeks when the records span more than 92 days).
    pub period: &'static str,
    /// One entry per period from the first record to the last, empty periods included.
    pub points: Vec<TimelinePoint>,
}

/// One period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TimelinePoint {
    /// The period's first day (`YYYY-MM-DD`).
    pub start: String,
    /// Upgrades committed in it.
    pub committed: u64,
    /// Upgrades rolled back in it.
    pub rolled_back: u64,
}

/// Release cascades.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CascadeCounts {
    /// `cascade_started` records.
    pub started: u64,
    /// `cascade_committed`.
    pub committed: u64,
    /// `cascade_rolled_back`.
    pub rolled_back: u64,
}

/// One staged rollout.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RolloutFigure {
    /// Its id.
    pub id: String,
    /// The component.
    pub component: String,
    /// The version rolled out.
    pub version: String,
    /// The channel.
    pub channel: String,
    /// Its state.
    pub state: String,
    /// The current stage in percent.
    pub stage_percent: u8,
    /// The failure-rate threshold (a fraction).
    pub max_failure_rate: f64,
    /// Every stage of the policy, reached or not.
    pub stages: Vec<StageFigure>,
}

/// One stage of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StageFigure {
    /// The stage in percent.
    pub percent: u8,
    /// Reports in it.
    pub samples: u64,
    /// Reports that count as failures (failed or too slow).
    pub failures: u64,
    /// failures ÷ samples (0 without samples).
    pub failure_rate: f64,
    /// The Wilson interval's lower bound.
    pub lower_bound: f64,
    /// The Wilson interval's upper bound.
    pub upper_bound: f64,
    /// Whether the rollout got to this stage.
    pub reached: bool,
}

/// A known-good or quarantined version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KnownGoodRow {
    /// The component.
    pub component: String,
    /// The channel (`None` for a version quarantined without ever being promoted).
    pub channel: Option<String>,
    /// The version.
    pub version: String,
    /// `known_good` or `quarantined`.
    pub state: &'static str,
    /// The quarantine's reason.
    pub reason: Option<String>,
    /// When it was promoted.
    pub promoted_at: Option<String>,
}

/// An organisation's pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PinRow {
    /// The organisation.
    pub org: String,
    /// The component.
    pub component: String,
    /// The pinned version.
    pub version: String,
    /// Why.
    pub reason: String,
    /// When it expires (RFC 3339), if it does.
    pub expires: Option<String>,
    /// Whether it has expired (and is ignored).
    pub expired: bool,
    /// Who set it.
    pub set_by: String,
}
