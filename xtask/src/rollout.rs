//! `lockstep rollout …` and `lockstep dashboard`: fleet updates, part 2.
//!
//! Glue only: parse, open the home, call one `lockstep_fleet::rollout` (or
//! `lockstep_dashboard`) function, render.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Args, Subcommand};
use lockstep_fleet::rollout::{self, Report, Selector, Status};
use lockstep_fleet::rollout::{Command as Cmd, Policy};
use lockstep_fleet::spec::{Channel, ComponentVersion};
use lockstep_upgrade::gate::ManifestInput;

use crate::cli::Common;
use crate::cli::env;
use crate::fail::fail;
use crate::fleet::{Place, actor};
use crate::out::{BOLD, Failure, GREEN, Out, RED, YELLOW, paint};

/// `lockstep rollout …`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep rollout start agent-cli@2.0.0 --channel stable --stages 1,10,50,100 \\
      --min-samples 100 --max-failure-rate 0.05 --max-latency-ms 2000
  lockstep rollout assign session-42 --json        # which version this unit runs now
  lockstep rollout report session-42 --outcome failure --latency-ms 950
  lockstep rollout report --batch reports.jsonl    # JSON lines: {\"unit\", \"outcome\", \"latency_ms\"}
  lockstep rollout advance                         # exit 1 when it halts
  lockstep rollout status --json
  lockstep rollout pause | resume | abort
  lockstep rollout emit argo --out rollout.yaml

The unit's bucket is SHA-256(\"lockstep/rollout/v1\\0\" + ROLLOUT_ID + \"\\0\" + UNIT), first 8 bytes
big-endian, modulo 10000; it gets the new version when bucket < stage share in basis points.
advance halts when the Wilson lower bound of the failure rate (z = 1.96) is above
--max-failure-rate (a fraction), advances when at least --min-samples reports put the upper
bound at or below it, pauses past --stage-deadline, and otherwise stays.
With one rollout in the store, no --component is needed.
Exit codes: 0 done (a stage that stays included), 1 halted or refused, 2 bad input.")]
pub struct RolloutArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    place: Place,
    /// The rollout's component, when the store holds several rollouts.
    #[arg(long, value_name = "NAME", global = true)]
    component: Option<String>,
    /// The channel (start: required; other commands: picks among rollouts).
    #[arg(long, value_name = "CHANNEL", global = true)]
    channel: Option<String>,
    /// The rollout's id.
    #[arg(long, value_name = "ID", global = true)]
    id: Option<String>,
    /// Who does it (audit; default $LOCKSTEP_ACTOR, then $USER).
    #[arg(long, value_name = "ACTOR", global = true)]
    by: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Start a staged rollout of a known-good version.
    Start {
        /// NAME@VERSION, known-good on the channel and not quarantined.
        target: String,
        /// Stage shares in whole percent, increasing, ending at 100.
        #[arg(long, default_value = "1,10,50,100", value_name = "LIST")]
        stages: String,
        /// Reports a stage needs before it may advance.
        #[arg(long, default_value_t = Policy::DEFAULT_MIN_SAMPLES, value_name = "N")]
        min_samples: u64,
        /// The failure-rate limit, a fraction (0.05 = 5 %).
        #[arg(long, default_value_t = Policy::DEFAULT_MAX_FAILURE_RATE, value_name = "R")]
        max_failure_rate: f64,
        /// Successful reports slower than this count as failures.
        #[arg(long, value_name = "MS")]
        max_latency_ms: Option<u64>,
        /// Seconds a stage may run without a verdict before the rollout pauses.
        #[arg(long, default_value_t = Policy::DEFAULT_STAGE_DEADLINE_SECS, value_name = "SECS")]
        stage_deadline: i64,
    },
    /// Which version a unit (session, runner, organisation) runs now.
    Assign {
        /// The unit id.
        unit: String,
        /// The unit's organisation, whose pin wins (default: the unit itself).
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// Record a unit's outcome, or a batch of JSON lines.
    Report {
        /// The unit id (not with --batch).
        #[arg(required_unless_present = "batch")]
        unit: Option<String>,
        /// success or failure.
        #[arg(long, value_parser = ["success", "failure"], required_unless_present = "batch")]
        outcome: Option<String>,
        /// Start latency in milliseconds.
        #[arg(long, value_name = "MS")]
        latency_ms: Option<u64>,
        /// The version the unit ran (a report about another version is stored, not counted).
        #[arg(long, value_name = "VERSION")]
        version: Option<String>,
        /// A file of JSON lines {"unit", "outcome", "latency_ms", "version"}; - for stdin.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["unit", "outcome", "latency_ms", "version"])]
        batch: Option<PathBuf>,
    },
    /// Evaluate the current stage: halt, advance, complete, pause or stay.
    Advance,
    /// The rollout's state, stage and tally.
    Status,
    /// Every rollout in the store.
    List,
    /// Stop at the current stage.
    Pause,
    /// Continue a paused rollout (with a fresh stage deadline).
    Resume,
    /// Stop and send every unit to the rollback target.
    Abort,
    /// Write the policy for another engine.
    Emit {
        #[command(subcommand)]
        target: EmitTarget,
    },
}

#[derive(Debug, Subcommand)]
enum EmitTarget {
    /// An Argo Rollouts Rollout and AnalysisTemplate (YAML).
    Argo {
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The Prometheus server the AnalysisTemplate queries.
        #[arg(long, value_name = "URL")]
        prometheus: Option<String>,
        /// The Deployment the Rollout takes its pods from (default: the component's name).
        #[arg(long, value_name = "NAME")]
        workload: Option<String>,
        /// The measurement window, such as 10m.
        #[arg(long, value_name = "DURATION")]
        window: Option<String>,
    },
}

fn channel(text: &str) -> Result<Channel, Failure> {
    text.parse().map_err(fail)
}

fn policy_failure(e: impl std::fmt::Display) -> Failure {
    Failure::input("invalid_policy", e.to_string())
}

fn render_status(out: &Out, s: &Status) {
    let state = match s.state.as_str() {
        "completed" => paint(GREEN, &s.state),
        "halted" | "aborted" => paint(RED, &s.state),
        "paused" => paint(YELLOW, &s.state),
        _ => paint(BOLD, &s.state),
    };
    out.print(&format!(
        "{} {} on {}: {state} at {} % (stages {})\n  stage tally: {} reports, {} failed ({:.1} %, 95 % interval {:.1}–{:.1} %); limit {:.1} %, at least {} reports\n  rollback target: {}  (id {})\n",
        s.component,
        s.version,
        s.channel,
        s.stage_percent,
        s.stages.iter().map(u8::to_string).collect::<Vec<_>>().join(","),
        s.samples,
        s.failures,
        s.failure_rate * 100.0,
        s.bounds.lower * 100.0,
        s.bounds.upper * 100.0,
        s.policy.max_failure_rate * 100.0,
        s.policy.min_samples,
        s.rollback,
        s.id,
    ));
}

fn read_batch(path: &Path, cwd: &Path) -> Result<Vec<Report>, Failure> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let full = cwd.join(path);
        let file = std::fs::File::open(&full)
            .map_err(|e| Failure::input("io", format!("cannot read {}: {e}", full.display())))?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut reports = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Failure::input("io", format!("cannot read the batch: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Report = serde_json::from_str(&line).map_err(|e| {
            Failure::input(
                "invalid_report",
                format!(
                    "{}:{}:{}: {e}; expected {{\"unit\": \"…\", \"outcome\": \"success\"|\"failure\", \"latency_ms\": N}}",
                    path.display(),
                    n + 1,
                    e.column()
                ),
            )
        })?;
        reports.push(r);
    }
    Ok(reports)
}

impl RolloutArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        let chan = self.channel.as_deref().map(channel).transpose()?;
        let mut sel = Selector::component(self.component.clone(), chan);
        sel.id = self.id.clone();
        let by = actor(self.by.clone());
        let (mut fleet, notifier) = self.place.open(cwd)?;
        let now = SystemTime::now();
        match self.action {
            Action::Start {
                target,
                stages,
                min_samples,
                max_failure_rate,
                max_latency_ms,
                stage_deadline,
            } => {
                let target: ComponentVersion = target.parse().map_err(fail)?;
                let chan = chan.ok_or_else(|| {
                    Failure::input(
                        "missing_channel",
                        "rollout start needs --channel stable|beta",
                    )
                })?;
                let stages = Policy::parse_stages(&stages).map_err(policy_failure)?;
                let policy = Policy::new(stages)
                    .and_then(|p| p.min_samples(min_samples))
                    .and_then(|p| p.max_failure_rate(max_failure_rate))
                    .and_then(|p| p.stage_deadline_secs(stage_deadline))
                    .map_err(policy_failure)?
                    .max_latency_ms(max_latency_ms);
                let opts = rollout::StartOptions::new(target, chan, policy, &by);
                let s = rollout::start(&mut fleet, &notifier, &opts).map_err(fail)?;
                if out.json {
                    out.print_json(&s);
                } else {
                    render_status(out, &s);
                }
                Ok(0)
            }
            Action::Assign { unit, org } => {
                let a = rollout::assign(&mut fleet, &notifier, &sel, &unit, org.as_deref(), now)
                    .map_err(fail)?;
                if out.json {
                    out.print_json(&a);
                } else {
                    out.print(&format!(
                        "{} runs {} {} ({}; bucket {} of 10000, stage {} bp)\n",
                        a.unit, a.component, a.version, a.why, a.bucket, a.stage_bp
                    ));
                }
                Ok(0)
            }
            Action::Report {
                unit,
                outcome,
                latency_ms,
                version,
                batch,
            } => {
                let reports = match (batch, unit, outcome) {
                    (Some(path), _, _) => read_batch(&path, cwd)?,
                    (None, Some(unit), Some(outcome)) => {
                        vec![Report::new(&unit, outcome == "success", latency_ms).about(version)]
                    }
                    _ => {
                        return Err(Failure::input(
                            "missing_report",
                            "give UNIT --outcome success|failure, or --batch FILE",
                        ));
                    }
                };
                let r =
                    rollout::report(&mut fleet, &notifier, &sel, &reports, now).map_err(fail)?;
                if out.json {
                    out.print_json(&r);
                } else {
                    out.print(&format!(
                        "recorded {} report(s){}{}; stage {} %: {} reports, {} failed\n",
                        r.recorded,
                        if r.counted {
                            ""
                        } else {
                            " (not counted: the rollout has ended)"
                        },
                        if r.other_version > 0 {
                            format!(" ({} about another version, not counted)", r.other_version)
                        } else {
                            String::new()
                        },
                        r.stage_percent,
                        r.samples,
                        r.failures
                    ));
                }
                Ok(0)
            }
            Action::Advance => {
                let a = rollout::advance(&mut fleet, &notifier, &sel, &by, now).map_err(fail)?;
                crate::fleet::print_deliveries(out, &a.notifications);
                if out.json {
                    out.print_json(&a);
                } else {
                    let word = match a.decision {
                        "halt" => paint(RED, "halted"),
                        "complete" => paint(GREEN, "completed"),
                        "advance" => paint(GREEN, "advanced"),
                        "pause" => paint(YELLOW, "paused (stage deadline passed)"),
                        _ => "stays".to_owned(),
                    };
                    out.print(&format!(
                        "{word} at {} % ({} reports, {} failed)\n",
                        a.evaluated_percent, a.samples, a.failures
                    ));
                    if let Some(e) = &a.evidence {
                        out.print(&format!("  {}\n", e.summary()));
                    }
                    render_status(out, &a.status);
                }
                Ok(u8::from(a.decision == "halt"))
            }
            Action::Status => {
                let s = rollout::status(&mut fleet, &notifier, &sel).map_err(fail)?;
                if out.json {
                    out.print_json(&s);
                } else {
                    render_status(out, &s);
                }
                Ok(0)
            }
            Action::List => {
                let all = rollout::list(&fleet).map_err(fail)?;
                if out.json {
                    out.print_json(&serde_json::json!({
                        "schema": "lockstep.rollout-list/v1",
                        "rollouts": all,
                    }));
                } else if all.is_empty() {
                    out.print("no rollouts\n");
                } else {
                    for s in &all {
                        render_status(out, s);
                    }
                }
                Ok(0)
            }
            Action::Pause | Action::Resume | Action::Abort => {
                let cmd = match self.action {
                    Action::Pause => Cmd::Pause,
                    Action::Resume => Cmd::Resume,
                    _ => Cmd::Abort,
                };
                let s =
                    rollout::command(&mut fleet, &notifier, &sel, cmd, &by, now).map_err(fail)?;
                if out.json {
                    out.print_json(&s);
                } else {
                    render_status(out, &s);
                }
                Ok(0)
            }
            Action::Emit {
                target:
                    EmitTarget::Argo {
                        out: file,
                        prometheus,
                        workload,
                        window,
                    },
            } => {
                let yaml = rollout::emit_argo(&fleet, &sel, |mut o| {
                    if let Some(p) = prometheus {
                        o.prometheus = p;
                    }
                    if let Some(w) = workload {
                        o.workload = w;
                    }
                    if let Some(w) = window {
                        o.window = w;
                    }
                    o
                })
                .map_err(fail)?;
                match file {
                    Some(path) => {
                        let full = cwd.join(&path);
                        std::fs::write(&full, yaml.as_bytes()).map_err(|e| {
                            Failure::input("io", format!("cannot write {}: {e}", full.display()))
                        })?;
                        if out.json {
                            out.print_json(&serde_json::json!({
                                "schema": "lockstep.rollout-emit/v1",
                                "format": "argo",
                                "path": full,
                            }));
                        } else {
                            out.eprint(&format!("wrote {}\n", full.display()));
                        }
                    }
                    None if out.json => out.print_json(&serde_json::json!({
                        "schema": "lockstep.rollout-emit/v1",
                        "format": "argo",
                        "yaml": yaml,
                    })),
                    None => out.print(&yaml),
                }
                Ok(0)
            }
        }
    }
}

/// `lockstep dashboard`
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lockstep dashboard --out site --verticals 'fixtures/verticals/*/vertical_manifest.yaml'
  lockstep dashboard --out site --verticals 'verticals/*' --registry reg/ --cascade cascade.toml
  lockstep dashboard --out site --json               # the same figures as JSON on stdout

Writes DIR/index.html and DIR/assets/ (no network requests; open it from file://). Each
vertical's history is .lockstep/audit.jsonl at the root of the git work tree holding its
manifest; rollouts, known-good versions and pins come from the state database (--store,
$LOCKSTEP_STORE, or HOME/state.db). With a registry, the table shows each vertical's newest
compatible update. KPIs: successful = committed ÷ attempted, rollback rate = rolled back ÷
attempted (attempted = upgrade_started records).")]
pub struct DashboardArgs {
    /// The directory to write the site to.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Globs of vertical manifests (or directories holding one); repeatable.
    #[arg(long, num_args = 1.., value_name = "GLOB", default_value = "**/vertical_manifest.yaml")]
    verticals: Vec<String>,
    /// Cascade configs (cascade.toml, or their directories) whose audit logs to include.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    cascade: Vec<PathBuf>,
    /// Release registry, for each vertical's pending compatible update (default: $LOCKSTEP_REGISTRY).
    #[arg(long, value_name = "SPEC")]
    registry: Option<String>,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    pub common: Common,
}

impl DashboardArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, cwd: &Path, out: &Out) -> Result<u8, Failure> {
        use lockstep_dashboard::{Inputs, VerticalInput};
        let paths = lockstep_upgrade::gate::expand(&self.verticals, cwd)
            .map_err(|e| Failure::input(e.kind(), e.to_string()))?;
        let manifests = lockstep_upgrade::gate::read_manifests(&paths);
        let mut inputs = Inputs::at(SystemTime::now());
        for m in &manifests {
            let channel = match &m.parsed {
                Ok(v) => v.compatibility.update_channel.as_str(),
                Err(_) => "invalid",
            };
            let mut v = VerticalInput::new(&m.path, &name_of(m), channel);
            // What the work tree says (lockfile, pin or tag) wins over the audit log's guess.
            v.current = lockstep_upgrade::workspace::Vertical::load(Some(&m.path), cwd)
                .ok()
                .and_then(|w| lockstep_upgrade::current::detect(&w, None).ok())
                .map(|c| c.version.to_string());
            inputs.verticals.push(v);
        }
        for c in &self.cascade {
            inputs
                .cascade_logs
                .push(lockstep_dashboard::cascade_log(&cwd.join(c)));
        }
        let store = self.place.home(cwd).store_path().to_path_buf();
        inputs.store = store.is_file().then_some(store);
        let mut figures = lockstep_dashboard::collect(&inputs).map_err(crate::fail::fail)?;

        let spec = self.registry.clone().or_else(|| env("LOCKSTEP_REGISTRY"));
        if let Some(spec) = spec {
            let spec = lockstep_upgrade::workspace::resolve_spec(cwd, &spec);
            let releases = lockstep_upgrade::registry::load(&spec, None).map_err(|e| {
                Failure::input("registry", format!("cannot load the registry {spec}: {e}"))
            })?;
            for row in &mut figures.verticals {
                let m = manifests
                    .iter()
                    .find(|m| m.path.display().to_string() == row.manifest);
                let (Some(Ok(manifest)), Some(current)) = (
                    m.map(|m| &m.parsed),
                    row.current
                        .as_deref()
                        .and_then(|c| semver::Version::parse(c).ok()),
                ) else {
                    continue;
                };
                let report = lockstep_upgrade::update::report(
                    manifest,
                    &current,
                    None,
                    &releases,
                    lockstep_upgrade::reexports::Policy::default(),
                );
                row.pending_update = report.latest_compatible.map(|c| c.version);
            }
        }

        let dir = cwd.join(&self.out);
        lockstep_dashboard::render(&figures)
            .write(&dir)
            .map_err(crate::fail::fail)?;
        if out.json {
            out.print_json(&figures);
        } else {
            out.print(&format!(
                "wrote {} ({} verticals, {} upgrades attempted, {} rollouts)\n",
                dir.join("index.html").display(),
                figures.verticals.len(),
                figures.kpis.attempted,
                figures.rollouts.len()
            ));
        }
        Ok(0)
    }
}

/// A vertical's name: `domain_name`, or its directory's name when the manifest is invalid.
fn name_of(m: &ManifestInput) -> String {
    match &m.parsed {
        Ok(v) => v.domain_name.clone(),
        Err(_) => m.path.parent().and_then(Path::file_name).map_or_else(
            || m.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
    }
}
