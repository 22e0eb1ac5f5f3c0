//! The rollout policy: stages, sample minimum, thresholds, deadline.

use serde::{Deserialize, Serialize};

/// A rollout's policy, fixed when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Policy {
    /// The stages as whole percentages, strictly increasing, the last one 100.
    pub stages: Vec<u8>,
    /// Reports a stage needs before it may advance.
    pub min_samples: u64,
    /// The failure rate (a fraction, 0.05 = 5 %) the rollout must stay credibly below.
    pub max_failure_rate: f64,
    /// A report slower than this (milliseconds) counts as a failure.
    pub max_latency_ms: Option<u64>,
    /// The z value of both confidence bounds (1.96 ≈ 95 %).
    pub z: f64,
    /// Seconds a stage may run without a verdict before the rollout pauses.
    pub stage_deadline_secs: i64,
}

/// A policy that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// No stages were given.
    #[error("a rollout needs at least one stage")]
    NoStages,
    /// A stage outside 1..=100.
    #[error("stage {stage} is not a whole percentage from 1 to 100")]
    StageOutOfRange {
        /// The stage as given.
        stage: u8,
    },
    /// Stages must grow.
    #[error("stages must increase: {stage} follows {previous}")]
    NotIncreasing {
        /// The earlier stage.
        previous: u8,
        /// The stage that does not exceed it.
        stage: u8,
    },
    /// The last stage must reach every unit.
    #[error("the last stage is {last} %, it must be 100 %")]
    LastNotFull {
        /// The last stage.
        last: u8,
    },
    /// The failure-rate threshold is not a fraction in (0, 1).
    #[error("max failure rate {rate} is not a fraction between 0 and 1 (0.05 means 5 %)")]
    Rate {
        /// The rate as given.
        rate: f64,
    },
    /// `z` must be positive.
    #[error("confidence z {z} must be a positive number")]
    Z {
        /// The value as given.
        z: f64,
    },
    /// The minimum sample count must be at least 1.
    #[error("the minimum sample count must be at least 1")]
    MinSamples,
    /// The stage deadline must be positive.
    #[error("the stage deadline must be a positive number of seconds, not {secs}")]
    Deadline {
        /// The value as given.
        secs: i64,
    },
}

impl Policy {
    /// Default sample minimum per stage.
    pub const DEFAULT_MIN_SAMPLES: u64 = 100;
    /// Default failure-rate threshold (5 %).
    pub const DEFAULT_MAX_FAILURE_RATE: f64 = 0.05;
    /// Default z (two-sided 95 %).
    pub const DEFAULT_Z: f64 = 1.96;
    /// Default stage deadline (one day).
    pub const DEFAULT_STAGE_DEADLINE_SECS: i64 = 86_400;

    /// A policy with these stages and the defaults for everything else.
    pub fn new(stages: Vec<u8>) -> Result<Policy, PolicyError> {
        Policy {
            stages,
            min_samples: Self::DEFAULT_MIN_SAMPLES,
            max_failure_rate: Self::DEFAULT_MAX_FAILURE_RATE,
            max_latency_ms: None,
            z: Self::DEFAULT_Z,
            stage_deadline_secs: Self::DEFAULT_STAGE_DEADLINE_SECS,
        }
        .validated()
    }

    /// Sets the sample minimum.
    pub fn min_samples(mut self, n: u64) -> Result<Policy, PolicyError> {
        self.min_samples = n;
        self.validated()
    }

    /// Sets the failure-rate threshold (a fraction).
    pub fn max_failure_rate(mut self, rate: f64) -> Result<Policy, PolicyError> {
        self.max_failure_rate = rate;
        self.validated()
    }

    /// Sets the latency limit.
    pub fn max_latency_ms(mut self, ms: Option<u64>) -> Policy {
        self.max_latency_ms = ms;
        self
    }

    /// Sets the stage deadline.
    pub fn stage_deadline_secs(mut self, secs: i64) -> Result<Policy, PolicyError> {
        self.stage_deadline_secs = secs;
        self.validated()
    }

    /// Sets the confidence bounds' z.
    pub fn z(mut self, z: f64) -> Result<Policy, PolicyError> {
        self.z = z;
        self.validated()
    }

    /// Checks every rule; returns the policy unchanged when it holds.
    pub fn validated(self) -> Result<Policy, PolicyError> {
        let Some(&last) = self.stages.last() else {
            return Err(PolicyError::NoStages);
        };
        let mut previous = 0u8;
        for &stage in &self.stages {
            if !(1..=100).contains(&stage) {
                return Err(PolicyError::StageOutOfRange { stage });
            }
            if stage <= previous {
                return Err(PolicyError::NotIncreasing { previous, stage });
            }
            previous = stage;
        }
        if last != 100 {
            return Err(PolicyError::LastNotFull { last });
        }
        let rate = self.max_failure_rate;
        if !(rate > 0.0 && rate < 1.0) {
            return Err(PolicyError::Rate { rate });
        }
        if !(self.z.is_finite() && self.z > 0.0) {
            return Err(PolicyError::Z { z: self.z });
        }
        if self.min_samples == 0 {
            return Err(PolicyError::MinSamples);
        }
        if self.stage_deadline_secs <= 0 {
            return Err(PolicyError::Deadline {
                secs: self.stage_deadline_secs,
            });
        }
        Ok(self)
    }

    /// Stage `index`'s share in basis points (0 past the end).
    pub fn stage_bp(&self, index: usize) -> u16 {
        self.stages.get(index).map_or(0, |&p| u16::from(p) * 100)
    }

    /// Whether `index` is the last stage.
    pub fn is_last(&self, index: usize) -> bool {
        index + 1 >= self.stages.len()
    }

    /// Parses `1,10,50,100`.
    pub fn parse_stages(text: &str) -> Result<Vec<u8>, String> {
        text.split(',')
            .map(|s| {
                let s = s.trim().trim_end_matches('%');
                s.parse::<u8>()
                    .map_err(|_| format!("stage {s:?} is not a whole percentage from 1 to 100"))
            })
            .collect()
    }
}
