//! Stage evaluation: halt, advance, stay or pause, from a stage's tally.

use serde::Serialize;

use crate::policy::Policy;

/// What a stage has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Reports received.
    pub samples: u64,
    /// Reports with outcome `failure`.
    pub failures: u64,
    /// Successful reports slower than the policy's latency limit (they count as failures).
    pub slow: u64,
}

impl Tally {
    /// Adds one report.
    pub fn record(&mut self, policy: &Policy, success: bool, latency_ms: Option<u64>) {
        self.samples += 1;
        if !success {
            self.failures += 1;
        } else if let (Some(limit), Some(ms)) = (policy.max_latency_ms, latency_ms)
            && ms > limit
        {
            self.slow += 1;
        }
    }

    /// Reports that count against the threshold: failures and slow successes.
    pub fn bad(&self) -> u64 {
        self.failures + self.slow
    }

    /// The observed failure rate (0 with no samples).
    pub fn failure_rate(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.bad() as f64 / self.samples as f64
        }
    }
}

/// A confidence interval for a rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds {
    /// The lower bound.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
}

/// The Wilson score interval for `bad` failures in `n` samples at `z`; `[0, 1]` when `n` is 0.
///
/// Unlike the raw ratio it is honest about small samples: 1 failure in 2 gives a lower bound of
/// about 9 % at z = 1.96, 30 failures in 60 about 38 %.
pub fn wilson(bad: u64, n: u64, z: f64) -> Bounds {
    if n == 0 {
        return Bounds {
            lower: 0.0,
            upper: 1.0,
        };
    }
    let n = n as f64;
    let p = bad.min(n as u64) as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = p + z2 / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Bounds {
        lower: ((centre - margin) / denom).max(0.0),
        upper: ((centre + margin) / denom).min(1.0),
    }
}

/// Why a rollout halted: the numbers, kept with the quarantine and sent in the notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HaltEvidence {
    /// The stage, in percent.
    pub stage_percent: u8,
    /// Reports in the stage.
    pub samples: u64,
    /// Failed reports.
    pub failures: u64,
    /// Slow successful reports.
    pub slow: u64,
    /// The observed failure rate.
    pub failure_rate: f64,
    /// The Wilson lower bound that passed the threshold.
    pub lower_bound: f64,
    /// The threshold.
    pub max_failure_rate: f64,
    /// The z value of the bound.
    pub z: f64,
}

impl HaltEvidence {
    /// One line for people.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} reports failed at {} % ({:.1} %{}); the failure rate is at least {:.1} % ({}), above the {:.1} % limit",
            self.failures + self.slow,
            self.samples,
            self.stage_percent,
            self.failure_rate * 100.0,
            if self.slow > 0 {
                format!(", {} of them too slow", self.slow)
            } else {
                String::new()
            },
            self.lower_bound * 100.0,
            if (self.z - 1.96).abs() < 1e-9 {
                "with 95 % confidence".to_owned()
            } else {
                format!("Wilson lower bound at z = {}", self.z)
            },
            self.max_failure_rate * 100.0,
        )
    }
}

/// What to do with the current stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The failure rate is credibly above the threshold.
    Halt {
        /// The numbers behind it.
        evidence: HaltEvidence,
    },
    /// Enough samples, credibly below the threshold: go to stage `to` (an index).
    Advance {
        /// The next stage's index.
        to: usize,
    },
    /// As `Advance`, on the last stage: the rollout is done.
    Complete,
    /// Not enough evidence either way; the stage keeps running.
    Stay,
    /// Not enough evidence and the stage's deadline has passed: stop and let a person look.
    Pause {
        /// When the deadline passed (Unix seconds).
        deadline: i64,
    },
}

/// Evaluates stage `stage` (an index into [`Policy::stages`]) that started at
/// `stage_started` given its `tally`, at time `now` (Unix seconds).
///
/// 1. Halt when the Wilson lower bound of the failure rate is above `max_failure_rate`, at any
///    sample size: a bad version is stopped as soon as the evidence is credible.
/// 2. Advance (or complete, on the last stage) when `samples >= min_samples` and the upper
///    bound is at or below `max_failure_rate`.
/// 3. Pause when `now` is past `stage_started + stage_deadline_secs`: a stage that never
///    gathers enough evidence is not promoted by the passing of time.
/// 4. Otherwise stay.
pub fn evaluate(
    policy: &Policy,
    stage: usize,
    tally: &Tally,
    stage_started: i64,
    now: i64,
) -> Decision {
    let bounds = wilson(tally.bad(), tally.samples, policy.z);
    if tally.samples > 0 && bounds.lower > policy.max_failure_rate {
        return Decision::Halt {
            evidence: HaltEvidence {
                stage_percent: policy.stages.get(stage).copied().unwrap_or(100),
                samples: tally.samples,
                failures: tally.failures,
                slow: tally.slow,
                failure_rate: tally.failure_rate(),
                lower_bound: bounds.lower,
                max_failure_rate: policy.max_failure_rate,
                z: policy.z,
            },
        };
    }
    if tally.samples >= policy.min_samples && bounds.upper <= policy.max_failure_rate {
        return if policy.is_last(stage) {
            Decision::Complete
        } else {
            Decision::Advance { to: stage + 1 }
        };
    }
    let deadline = stage_started.saturating_add(policy.stage_deadline_secs);
    if now > deadline {
        return Decision::Pause { deadline };
    }
    Decision::Stay
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bad: u64, n: u64, lower: f64, upper: f64) {
        let b = wilson(bad, n, 1.96);
        assert!(
            (b.lower - lower).abs() < 5e-4 && (b.upper - upper).abs() < 5e-4,
            "wilson({bad}, {n}) = {b:?}, expected ({lower}, {upper})"
        );
    }

    #[test]
    fn wilson_matches_published_values() {
        // Values from the closed form, cross-checked with R's prop.test(correct = FALSE).
        check(0, 10, 0.0, 0.2775);
        check(1, 2, 0.0945, 0.9055);
        check(5, 100, 0.0215, 0.1118);
        check(30, 60, 0.3773, 0.6227);
        check(0, 0, 0.0, 1.0);
    }

    #[test]
    fn slow_reports_count_only_with_a_limit() {
        let p = Policy::new(vec![100]).unwrap().max_latency_ms(Some(500));
        let mut t = Tally::default();
        t.record(&p, true, Some(900));
        t.record(&p, true, Some(100));
        t.record(&p, false, None);
        assert_eq!((t.samples, t.failures, t.slow, t.bad()), (3, 1, 1, 2));
        let p = p.max_latency_ms(None);
        let mut t = Tally::default();
        t.record(&p, true, Some(900));
        assert_eq!(t.bad(), 0);
    }
}
