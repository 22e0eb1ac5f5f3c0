//! Reading the inputs (audit logs, the state database) into [`Figures`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lockstep_audit::{AuditLog, Record, action};
use lockstep_state::layout;
use lockstep_state::time::{parse_timestamp, rfc3339_from_unix};

use crate::Error;
use crate::figures::{
    CascadeCounts, Figures, KnownGoodRow, PinRow, RolloutFigure, SCHEMA, StageFigure, VerticalRow,
};
use crate::kpi::{self, LogStats};

/// One vertical to show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerticalInput {
    /// Its manifest (`vertical_manifest.yaml`); the audit log is `.lockstep/audit.jsonl` at
    /// the root of the git work tree holding it.
    pub manifest: PathBuf,
    /// `domain_name`.
    pub name: String,
    /// `update_channel`.
    pub channel: String,
    /// The core version it runs, when the caller knows it better than the audit log.
    pub current: Option<String>,
    /// The newest compatible release above the current version, when the caller checked.
    pub pending_update: Option<String>,
}

impl VerticalInput {
    /// A vertical with a name and channel, nothing else known.
    pub fn new(manifest: impl Into<PathBuf>, name: &str, channel: &str) -> VerticalInput {
        VerticalInput {
            manifest: manifest.into(),
            name: name.to_owned(),
            channel: channel.to_owned(),
            current: None,
            pending_update: None,
        }
    }

    /// The audit log this vertical's upgrades are written to.
    pub fn audit_log(&self) -> PathBuf {
        let dir = self
            .manifest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let root = layout::work_tree_root(dir).unwrap_or_else(|| dir.to_path_buf());
        layout::state_dir(&root).join(layout::AUDIT_FILE)
    }
}

/// What the dashboard is drawn from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inputs {
    /// The verticals.
    pub verticals: Vec<VerticalInput>,
    /// Cascade audit logs (`.lockstep/audit.jsonl` beside a `cascade.toml`).
    pub cascade_logs: Vec<PathBuf>,
    /// The state database, when there is one (rollouts, known-good versions, pins).
    pub store: Option<PathBuf>,
    /// "Now" in Unix seconds (pin expiry, the generation stamp).
    pub now: i64,
}

impl Inputs {
    /// No inputs yet, with "now" at `now`.
    pub fn at(now: std::time::SystemTime) -> Inputs {
        Inputs {
            now: lockstep_state::time::unix_seconds(now),
            ..Inputs::default()
        }
    }
}

/// The audit log of a release cascade: `.lockstep/audit.jsonl` beside its `cascade.toml`
/// (`path` is the file or its directory).
pub fn cascade_log(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    layout::state_dir(dir).join(layout::AUDIT_FILE)
}

fn read_log(path: &Path, problems: &mut Vec<String>) -> Vec<Record> {
    if !path.is_file() {
        return Vec::new();
    }
    match AuditLog::open(path).and_then(|log| log.records()) {
        Ok(records) => records,
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            Vec::new()
        }
    }
}

/// Reads every input and computes the figures.
///
/// An audit log that cannot be read becomes a line in [`Figures::problems`]; a state database
/// that cannot be opened or queried is an error. Verticals that share a work tree share its
/// audit log: their rows show the same history, and the KPIs count that log once.
pub fn collect(inputs: &Inputs) -> Result<Figures, Error> {
    let _span =
        tracing::debug_span!("dashboard.collect", verticals = inputs.verticals.len()).entered();
    let mut problems = Vec::new();
    let mut logs: BTreeMap<PathBuf, LogStats> = BTreeMap::new();
    let mut rows = Vec::with_capacity(inputs.verticals.len());
    for v in &inputs.verticals {
        let path = v.audit_log();
        if !logs.contains_key(&path) {
            let records = read_log(&path, &mut problems);
            logs.insert(path.clone(), LogStats::of(&records));
        }
        let stats = &logs[&path];
        rows.push(VerticalRow {
            name: v.name.clone(),
            manifest: v.manifest.display().to_string(),
            channel: v.channel.clone(),
            current: v.current.clone().or_else(|| stats.current.clone()),
            last_upgrade: stats.last_upgrade.clone(),
            pending_update: v.pending_update.clone(),
            attempted: stats.attempted,
            committed: stats.committed,
            rolled_back: stats.rolled_back,
        });
    }
    rows.sort_by(|a, b| (&a.name, &a.manifest).cmp(&(&b.name, &b.manifest)));

    let mut cascades = CascadeCounts::default();
    let unique: BTreeSet<&PathBuf> = inputs.cascade_logs.iter().collect();
    for path in unique {
        for r in read_log(path, &mut problems) {
            match r.action.as_str() {
                action::CASCADE_STARTED => cascades.started += 1,
                action::CASCADE_COMMITTED => cascades.committed += 1,
                action::CASCADE_ROLLED_BACK => cascades.rolled_back += 1,
                _ => {}
            }
        }
    }

    let all: Vec<&LogStats> = logs.values().collect();
    let (rollouts, known_good, pins) = match &inputs.store {
        Some(path) if path.is_file() => read_store(path, inputs.now)?,
        _ => Default::default(),
    };
    Ok(Figures {
        schema: SCHEMA,
        generated_at: rfc3339_from_unix(inputs.now),
        kpis: kpi::kpis(&all),
        verticals: rows,
        timeline: kpi::timeline(&all),
        cascades,
        rollouts,
        known_good,
        pins,
        problems,
    })
}

type StoreFigures = (Vec<RolloutFigure>, Vec<KnownGoodRow>, Vec<PinRow>);

fn read_store(path: &Path, now: i64) -> Result<StoreFigures, Error> {
    let store = lockstep_store::Store::open(path)?;
    let conn = store.conn();
    let mut rollouts = Vec::new();
    for r in lockstep_store::rollout::list(conn)? {
        let policy: lockstep_rollout::Policy =
            serde_json::from_str(&r.policy).map_err(|source| Error::Policy {
                rollout: r.id.clone(),
                source,
            })?;
        let counts = lockstep_store::rollout::stage_counts(conn, &r.id, policy.max_latency_ms)?;
        let stage = usize::try_from(r.stage).unwrap_or(0);
        let stages = policy
            .stages
            .iter()
            .enumerate()
            .map(|(i, &percent)| {
                let c = counts
                    .iter()
                    .find(|c| usize::try_from(c.stage).ok() == Some(i))
                    .copied()
                    .unwrap_or_default();
                let bad = c.failures + c.slow;
                let b = lockstep_rollout::wilson(bad, c.samples, policy.z);
                StageFigure {
                    percent,
                    samples: c.samples,
                    failures: bad,
                    failure_rate: if c.samples == 0 {
                        0.0
                    } else {
                        bad as f64 / c.samples as f64
                    },
                    lower_bound: b.lower,
                    upper_bound: b.upper,
                    reached: i <= stage || r.state == "completed",
                }
            })
            .collect();
        rollouts.push(RolloutFigure {
            stage_percent: policy.stages.get(stage).copied().unwrap_or(100),
            max_failure_rate: policy.max_failure_rate,
            id: r.id,
            component: r.component,
            version: r.version,
            channel: r.channel,
            state: r.state,
            stages,
        });
    }
    let known_good = lockstep_store::fleet::known_good(conn, None)?
        .into_iter()
        .map(|k| KnownGoodRow {
            state: if k.quarantine.is_some() {
                "quarantined"
            } else {
                "known_good"
            },
            reason: k.quarantine.map(|(reason, _)| reason),
            component: k.component,
            channel: k.channel,
            version: k.version,
            promoted_at: k.promoted_at,
        })
        .collect();
    let pins = lockstep_store::fleet::pins(conn, None)?
        .into_iter()
        .map(|p| PinRow {
            expired: p.expires_unix.is_some_and(|e| e <= now),
            expires: p.expires_unix.map(rfc3339_from_unix),
            org: p.org,
            component: p.component,
            version: p.version,
            reason: p.reason,
            set_by: p.set_by,
        })
        .collect();
    Ok((rollouts, known_good, pins))
}

/// Seconds since the epoch of an audit record's time (records lockstep wrote always parse).
pub(crate) fn record_time(r: &Record) -> Option<i64> {
    parse_timestamp(&r.time)
}
