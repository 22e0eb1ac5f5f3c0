//! The KPIs and the timeline, computed from audit records (pure: no I/O).

use std::collections::{BTreeMap, BTreeSet};

use lockstep_audit::{Record, action};
use lockstep_state::time::civil_from_days;

use crate::collect::record_time;
use crate::figures::{Kpi, Kpis, LastUpgrade, Timeline, TimelinePoint};

/// What one audit log says.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LogStats {
    pub attempted: u64,
    pub committed: u64,
    pub rolled_back: u64,
    pub current: Option<String>,
    pub last_upgrade: Option<LastUpgrade>,
    /// Seconds from `upgrade_started` to `upgrade_committed`, per committed upgrade.
    pub durations: Vec<i64>,
    /// Target versions a compatibility check blocked.
    pub blocked: BTreeSet<String>,
    /// Manual `rollback`s.
    pub incidents: u64,
    /// (time, committed?) of every upgrade that ended.
    pub ends: Vec<(i64, bool)>,
}

impl LogStats {
    pub(crate) fn of(records: &[Record]) -> LogStats {
        let mut s = LogStats::default();
        let mut started: BTreeMap<&str, i64> = BTreeMap::new();
        let mut last_from: Option<&str> = None;
        for r in records {
            let time = record_time(r);
            let last = |outcome: &str| LastUpgrade {
                time: r.time.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
                outcome: outcome.to_owned(),
            };
            match r.action.as_str() {
                action::UPGRADE_STARTED => {
                    s.attempted += 1;
                    if let (Some(snap), Some(t)) = (r.snapshot.as_deref(), time) {
                        started.insert(snap, t);
                    }
                    last_from = r.from.as_deref().or(last_from);
                    s.last_upgrade = Some(last("started"));
                }
                action::UPGRADE_COMMITTED => {
                    s.committed += 1;
                    s.current = r.to.clone().or(s.current.take());
                    if let (Some(snap), Some(t)) = (r.snapshot.as_deref(), time)
                        && let Some(t0) = started.get(snap)
                    {
                        s.durations.push((t - t0).max(0));
                    }
                    if let Some(t) = time {
                        s.ends.push((t, true));
                    }
                    s.last_upgrade = Some(last("committed"));
                }
                action::ROLLED_BACK => {
                    s.rolled_back += 1;
                    if let Some(t) = time {
                        s.ends.push((t, false));
                    }
                    s.last_upgrade = Some(last(&r.outcome));
                }
                action::ROLLBACK => {
                    s.incidents += 1;
                    if r.outcome == "restored" && r.to.is_some() {
                        s.current = r.to.clone();
                    }
                }
                action::CHECK if r.outcome == "blocked" => {
                    if let Some(to) = &r.to {
                        s.blocked.insert(to.clone());
                    }
                    last_from = r.from.as_deref().or(last_from);
                }
                _ => last_from = r.from.as_deref().or(last_from),
            }
        }
        if s.current.is_none() {
            s.current = last_from.map(str::to_owned);
        }
        s
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

pub(crate) fn kpis(logs: &[&LogStats]) -> Kpis {
    let sum = |f: fn(&LogStats) -> u64| logs.iter().map(|s| f(s)).sum::<u64>();
    let attempted = sum(|s| s.attempted);
    let committed = sum(|s| s.committed);
    let rolled_back = sum(|s| s.rolled_back);
    let durations: Vec<i64> = logs
        .iter()
        .flat_map(|s| s.durations.iter().copied())
        .collect();
    let mean = (!durations.is_empty())
        .then(|| durations.iter().sum::<i64>() as f64 / durations.len() as f64);
    let blocked = sum(|s| s.blocked.len() as u64);
    let incidents = sum(|s| s.incidents);
    Kpis {
        attempted,
        committed,
        rolled_back,
        list: vec![
            Kpi {
                key: "successful_upgrades",
                label: "Successful upgrades",
                value: percent(committed, attempted),
                unit: "%",
                definition: "upgrades committed ÷ upgrades attempted (upgrade_committed ÷ upgrade_started records)",
            },
            Kpi {
                key: "rollback_rate",
                label: "Rollback rate",
                value: percent(rolled_back, attempted),
                unit: "%",
                definition: "upgrades rolled back automatically ÷ upgrades attempted (rolled_back ÷ upgrade_started records)",
            },
            Kpi {
                key: "mean_time_to_upgrade",
                label: "Mean time to upgrade",
                value: mean,
                unit: "s",
                definition: "mean time from an upgrade's start to its commit (snapshot, apply, lockfile, smoke tests), over committed upgrades",
            },
            Kpi {
                key: "incompatibilities_caught",
                label: "Incompatibilities caught before deploy",
                value: Some(blocked as f64),
                unit: "count",
                definition: "distinct (vertical, target version) pairs a compatibility check blocked (check records with outcome blocked)",
            },
            Kpi {
                key: "post_upgrade_incidents",
                label: "Post-upgrade incidents",
                value: Some(incidents as f64),
                unit: "count",
                definition: "committed upgrades undone by hand afterwards (rollback records)",
            },
        ],
    }
}

const DAY: i64 = 86_400;

fn date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

pub(crate) fn timeline(logs: &[&LogStats]) -> Timeline {
    let ends: Vec<(i64, bool)> = logs.iter().flat_map(|s| s.ends.iter().copied()).collect();
    let (Some(first), Some(last)) = (
        ends.iter().map(|e| e.0).min(),
        ends.iter().map(|e| e.0).max(),
    ) else {
        return Timeline {
            period: "day",
            points: Vec::new(),
        };
    };
    let weekly = (last - first) / DAY > 92;
    // Weeks start on Monday; 1970-01-01 was a Thursday.
    let period_of = |t: i64| {
        let day = t.div_euclid(DAY);
        if weekly {
            (day + 3).div_euclid(7) * 7 - 3
        } else {
            day
        }
    };
    let step = if weekly { 7 } else { 1 };
    let mut counts: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let (p0, p1) = (period_of(first), period_of(last));
    let mut p = p0;
    while p <= p1 {
        counts.insert(p, (0, 0));
        p += step;
    }
    for (t, committed) in ends {
        let c = counts.entry(period_of(t)).or_default();
        if committed {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    Timeline {
        period: if weekly { "week" } else { "day" },
        points: counts
            .into_iter()
            .map(|(p, (committed, rolled_back))| TimelinePoint {
                start: date(p),
                committed,
                rolled_back,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(ends: &[(i64, bool)]) -> LogStats {
        LogStats {
            ends: ends.to_vec(),
            ..LogStats::default()
        }
    }

    #[test]
    fn days_then_weeks_starting_on_monday() {
        // 2026-11-20 (a Friday) and 2026-11-22.
        let t = 1_795_168_800;
        let s = stats(&[(t, true), (t + 2 * DAY, false)]);
        let tl = timeline(&[&s]);
        assert_eq!(tl.period, "day");
        let days: Vec<_> = tl
            .points
            .iter()
            .map(|p| (p.start.as_str(), p.committed, p.rolled_back))
            .collect();
        assert_eq!(
            days,
            [
                ("2026-11-20", 1, 0),
                ("2026-11-21", 0, 0),
                ("2026-11-22", 0, 1)
            ]
        );

        let s = stats(&[(t, true), (t + 100 * DAY, true)]);
        let tl = timeline(&[&s]);
        assert_eq!(tl.period, "week");
        assert_eq!(tl.points[0].start, "2026-11-16", "the Monday of that week");
        assert_eq!(tl.points.len(), 15);
        assert_eq!(tl.points.iter().map(|p| p.committed).sum::<u64>(), 2);
    }

    #[test]
    fn kpis_without_attempts_have_no_percentages() {
        let k = kpis(&[&LogStats::default()]);
        assert_eq!(k.list[0].value, None);
        assert_eq!(k.list[3].value, Some(0.0));
    }

    #[test]
    fn a_manual_rollback_moves_the_current_version_back() {
        let records: Vec<Record> = [
            r#"{"seq":1,"time":"2026-11-20T10:00:00Z","actor":"a","action":"upgrade_started","from":"1.0.0","to":"1.1.0","snapshot":"s","outcome":"started","details":{},"prev":"0","hash":"0"}"#,
            r#"{"seq":2,"time":"2026-11-20T10:02:00Z","actor":"a","action":"upgrade_committed","from":"1.0.0","to":"1.1.0","snapshot":"s","outcome":"committed","details":{},"prev":"0","hash":"0"}"#,
            r#"{"seq":3,"time":"2026-11-21T10:00:00Z","actor":"a","action":"rollback","from":"1.1.0","to":"1.0.0","snapshot":"s","outcome":"restored","details":{},"prev":"0","hash":"0"}"#,
        ]
        .iter()
        .map(|l| serde_json::from_str(l).expect("a record"))
        .collect();
        let s = LogStats::of(&records);
        assert_eq!((s.attempted, s.committed, s.incidents), (1, 1, 1));
        assert_eq!(s.current.as_deref(), Some("1.0.0"));
        assert_eq!(s.durations, [120]);
        assert_eq!(
            s.last_upgrade.map(|l| l.outcome),
            Some("committed".to_owned())
        );
    }
}
