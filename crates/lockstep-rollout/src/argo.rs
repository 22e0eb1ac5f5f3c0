//! The same policy for fleets on Kubernetes: an Argo Rollouts `Rollout` and `AnalysisTemplate`.
//!
//! Each stage becomes three canary steps: `setWeight` to the stage's percentage, a `pause`
//! for one measurement window, and an `analysis` step running the template. The template
//! judges the window the way [`evaluate`](crate::evaluate()) does, in PromQL:
//!
//! - `failure-rate-lower-bound`: the Wilson lower bound of the failure rate; above the
//!   threshold the measurement fails and Argo aborts the rollout (our halt).
//! - `failure-rate-upper-bound`: the Wilson upper bound; at or below the threshold it
//!   succeeds, otherwise it is inconclusive and Argo pauses the rollout (our stay, then pause).
//! - `samples`: at least the minimum number of session starts, otherwise inconclusive.
//!
//! The queries read two counters a fleet exports per component and version,
//! `lockstep_session_starts_total` and `lockstep_session_failures_total`, and, with a latency
//! limit, the histogram `lockstep_session_start_seconds` (starts above the limit count as
//! failures, as they do here). The text is YAML written directly, strings quoted as JSON
//! (which YAML accepts), so the output needs no YAML library.

use std::fmt::Write;

use crate::policy::Policy;

/// Names and places the Kubernetes side needs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The component (also the metrics' `component` label).
    pub component: String,
    /// The version rolled out (the template's `version` argument).
    pub version: String,
    /// The Deployment the `Rollout` takes its pod template from (`workloadRef`).
    pub workload: String,
    /// The Prometheus server the template queries.
    pub prometheus: String,
    /// The measurement window, an Argo duration such as `10m`.
    pub window: String,
}

impl Options {
    /// Options with the workload named after the component, Prometheus at
    /// `http://prometheus.monitoring:9090` and a ten-minute window.
    pub fn new(component: &str, version: &str) -> Options {
        Options {
            component: component.to_owned(),
            version: version.to_owned(),
            workload: k8s_name(component),
            prometheus: "http://prometheus.monitoring:9090".to_owned(),
            window: "10m".to_owned(),
        }
    }
}

/// The two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifests {
    /// The `Rollout` (argoproj.io/v1alpha1).
    pub rollout: String,
    /// The `AnalysisTemplate` (argoproj.io/v1alpha1).
    pub analysis_template: String,
}

impl Manifests {
    /// Both documents as one YAML stream, the template first (it must exist before the
    /// rollout refers to it).
    pub fn to_yaml(&self) -> String {
        format!("{}---\n{}", self.analysis_template, self.rollout)
    }
}

/// A Kubernetes object name (RFC 1123 label) from a component name: lower case, every other
/// character a dash, at most 63 characters, never empty.
pub fn k8s_name(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut name = mapped.trim_matches('-').to_owned();
    name.truncate(63);
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        "component".to_owned()
    } else {
        name
    }
}

fn q(text: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::Value::from(text).to_string()
}

fn num(x: f64) -> String {
    // Shortest text that reads back as the same number.
    format!("{x}")
}

/// The analysis template's name for these options.
pub fn template_name(options: &Options) -> String {
    let mut name = k8s_name(&options.component);
    name.truncate(63 - "-lockstep".len());
    format!("{}-lockstep", name.trim_end_matches('-'))
}

/// Emits the `Rollout` and `AnalysisTemplate` for `policy`.
pub fn emit(policy: &Policy, options: &Options) -> Manifests {
    let name = k8s_name(&options.component);
    let template = template_name(options);
    let mut rollout = String::new();
    let _ = write!(
        rollout,
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: {}\n  labels:\n    app.kubernetes.io/managed-by: lockstep\n  annotations:\n    lockstep.dev/component: {}\n    lockstep.dev/version: {}\nspec:\n  workloadRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {}\n  strategy:\n    canary:\n      steps:\n",
        q(&name),
        q(&options.component),
        q(&options.version),
        q(&options.workload),
    );
    for &stage in &policy.stages {
        let _ = write!(
            rollout,
            "      - setWeight: {stage}\n      - pause:\n          duration: {}\n      - analysis:\n          templates:\n            - templateName: {}\n          args:\n            - name: version\n              value: {}\n",
            q(&options.window),
            q(&template),
            q(&options.version),
        );
    }

    let (n, f) = counts(policy, options);
    let z = num(policy.z);
    let z2 = num(policy.z * policy.z);
    let p = format!("({f} / {n})");
    let centre = format!("({p} + {z2} / (2 * {n}))");
    let margin = format!("{z} * sqrt({p} * (1 - {p}) / {n} + {z2} / (4 * {n} * {n}))");
    let denom = format!("(1 + {z2} / {n})");
    let lower = format!("({centre} - {margin}) / {denom}");
    let upper = format!("({centre} + {margin}) / {denom}");
    let rate = num(policy.max_failure_rate);
    let mut at = String::new();
    let _ = write!(
        at,
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: {}\n  labels:\n    app.kubernetes.io/managed-by: lockstep\nspec:\n  args:\n    - name: version\n  metrics:\n",
        q(&template)
    );
    let metrics = [
        (
            "failure-rate-lower-bound",
            lower,
            Some(format!("result[0] <= {rate}")),
            Some(format!("result[0] > {rate}")),
        ),
        (
            "failure-rate-upper-bound",
            upper,
            Some(format!("result[0] <= {rate}")),
            None,
        ),
        (
            "samples",
            n.clone(),
            Some(format!("result[0] >= {}", policy.min_samples)),
            None,
        ),
    ];
    for (metric, query, success, failure) in metrics {
        let _ = writeln!(
            at,
            "    - name: {metric}\n      count: 1\n      failureLimit: 0"
        );
        if let Some(s) = success {
            let _ = writeln!(at, "      successCondition: {}", q(&s));
        }
        if let Some(f) = failure {
            let _ = writeln!(at, "      failureCondition: {}", q(&f));
        }
        let _ = write!(
            at,
            "      provider:\n        prometheus:\n          address: {}\n          query: {}\n",
            q(&options.prometheus),
            q(&query)
        );
    }
    Manifests {
        rollout,
        analysis_template: at,
    }
}

/// PromQL for the window's starts and bad starts.
fn counts(policy: &Policy, options: &Options) -> (String, String) {
    let labels = format!(
        "component={},version=\"{{{{args.version}}}}\"",
        q(&options.component)
    );
    let w = &options.window;
    let n = format!("sum(increase(lockstep_session_starts_total{{{labels}}}[{w}]))");
    let failed = format!("sum(increase(lockstep_session_failures_total{{{labels}}}[{w}]))");
    let f = match policy.max_latency_ms {
        None => failed,
        Some(ms) => {
            let le = num(ms as f64 / 1000.0);
            let fast = format!(
                "sum(increase(lockstep_session_start_seconds_bucket{{{labels},le=\"{le}\"}}[{w}]))"
            );
            format!("({failed} + ({n} - {fast}))")
        }
    };
    (n, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_rfc1123_labels() {
        assert_eq!(k8s_name("@Scope/My_CLI"), "scope-my-cli");
        assert_eq!(k8s_name("///"), "component");
        assert_eq!(k8s_name(&"a".repeat(80)).len(), 63);
    }
}
