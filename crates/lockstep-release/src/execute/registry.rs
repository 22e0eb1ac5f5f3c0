//! The registries a cascade publishes to, as the environment and `cascade.toml` configure
//! them, over [`lockstep_registry::visibility`].
//!
//! Base URLs: `LOCKSTEP_CRATES_INDEX`, `LOCKSTEP_PYPI_URL`, `LOCKSTEP_NPM_REGISTRY` win over
//! `[registries]`, which wins over the public registries. Budgets: `LOCKSTEP_WAIT_TIMEOUT_S`
//! wins over `[wait] timeout_s`, which wins over ten minutes per ecosystem.
//! `LOCKSTEP_WAIT_SPACING_S` shortens the pause between the confirming checks (three seconds)
//! for registries without a cache in front, such as a local one.

#[allow(unused_imports)]
use super::*;

use lockstep_manifest::CascadeConfig;
use lockstep_registry::Options;
use lockstep_registry::visibility::{
    Registry, RegistryKind, Seen, WaitPolicy, Waited, wait_until_visible,
};

/// The budget of a wait when nothing configures one.
pub(super) const DEFAULT_WAIT: Duration = Duration::from_secs(600);

/// The cascade's registries, one per ecosystem, with their wait budgets.
pub(super) struct Registries {
    crates: Registry,
    pypi: Registry,
    npm: Registry,
    budgets: [Duration; 3],
    spacing: Option<Duration>,
    opts: Options,
}

impl Registries {
    pub(super) fn from_config(config: &CascadeConfig) -> Self {
        Self::from_lookup(config, |name| std::env::var(name).ok())
    }

    fn from_lookup(config: &CascadeConfig, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base = |env: &str, configured: &Option<String>| set(env).or_else(|| configured.clone());
        let r = &config.registries;
        let crates = base("LOCKSTEP_CRATES_INDEX", &r.crates).map_or_else(
            || Registry::public(RegistryKind::Crates),
            |b| Registry::crates(&b),
        );
        let pypi = base("LOCKSTEP_PYPI_URL", &r.pypi).map_or_else(
            || Registry::public(RegistryKind::PyPI),
            |b| Registry::pypi(&b),
        );
        let npm = base("LOCKSTEP_NPM_REGISTRY", &r.npm).map_or_else(
            || Registry::public(RegistryKind::Npm),
            |b| Registry::npm(&b),
        );
        let everywhere = set("LOCKSTEP_WAIT_TIMEOUT_S").and_then(|v| v.parse::<u64>().ok());
        let budget = |configured: Option<u32>| {
            everywhere
                .or(configured.map(u64::from))
                .map_or(DEFAULT_WAIT, Duration::from_secs)
        };
        let w = &config.wait;
        let spacing = set("LOCKSTEP_WAIT_SPACING_S")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        Registries {
            crates,
            pypi,
            npm,
            budgets: [budget(w.crates), budget(w.pypi), budget(w.npm)],
            spacing,
            opts: Options::default(),
        }
    }

    fn of(&self, eco: Ecosystem) -> (&Registry, Duration) {
        match eco {
            Ecosystem::Cargo => (&self.crates, self.budgets[0]),
            Ecosystem::Python => (&self.pypi, self.budgets[1]),
            Ecosystem::Npm => (&self.npm, self.budgets[2]),
        }
    }

    /// The registry an ecosystem publishes to, for messages: `npm registry https://…`.
    pub(super) fn describe(&self, eco: Ecosystem) -> String {
        self.of(eco).0.to_string()
    }

    /// Asks once whether the registry has the version.
    pub(super) fn is_published(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &semver::Version,
    ) -> Result<bool, String> {
        let (registry, _) = self.of(eco);
        registry
            .has_version(name, &version.to_string(), &self.opts)
            .map_err(|e| format!("cannot ask {registry} whether {name} {version} exists: {e}"))
    }

    /// Waits until the registry shows the version, reporting each poll through `progress`.
    pub(super) fn wait(
        &self,
        eco: Ecosystem,
        name: &str,
        version: &semver::Version,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Waited, String> {
        let (registry, budget) = self.of(eco);
        let mut policy = WaitPolicy::with_budget(budget);
        if let Some(spacing) = self.spacing {
            policy.spacing = spacing;
            policy.first_delay = policy
                .first_delay
                .min(spacing.max(Duration::from_millis(50)));
        }
        wait_until_visible(
            registry,
            name,
            &version.to_string(),
            &self.opts,
            &policy,
            &mut |poll| {
                let seen = match &poll.seen {
                    Seen::Listed => {
                        format!("listed ({} of {})", poll.confirmed, policy.confirmations)
                    }
                    Seen::Missing => "not listed yet".to_owned(),
                    Seen::RateLimited => "rate limited by the registry".to_owned(),
                    Seen::Failed(why) => format!("no answer ({why})"),
                    _ => "unknown".to_owned(),
                };
                let next = poll
                    .next_in
                    .map(|d| format!("; next check in {:.1} s", d.as_secs_f64()))
                    .unwrap_or_default();
                progress(&format!(
                    "poll {} at {:.1} s: {seen}{next}",
                    poll.attempt,
                    poll.elapsed.as_secs_f64()
                ));
            },
        )
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_over_the_config_which_wins_over_the_public_registries() {
        let config = CascadeConfig::parse(
            "[registries]\nnpm = \"http://127.0.0.1:4873\"\npypi = \"http://127.0.0.1:8080\"\n\n[wait]\ntimeout_s = { pypi = 30 }\n\n[[repo]]\nname = \"a\"\npath = \"a\"\n",
        )
        .expect("a valid config");
        let env = |name: &str| match name {
            "LOCKSTEP_PYPI_URL" => Some("http://127.0.0.1:9999".to_owned()),
            _ => None,
        };
        let r = Registries::from_lookup(&config, env);
        assert_eq!(
            r.describe(Ecosystem::Npm),
            "npm registry http://127.0.0.1:4873"
        );
        assert_eq!(r.describe(Ecosystem::Python), "PyPI http://127.0.0.1:9999");
        assert_eq!(
            r.describe(Ecosystem::Cargo),
            "crates index sparse+https://index.crates.io/"
        );
        assert_eq!(r.of(Ecosystem::Python).1, Duration::from_secs(30));
        assert_eq!(r.of(Ecosystem::Npm).1, DEFAULT_WAIT);
        let r = Registries::from_lookup(&config, |n| {
            (n == "LOCKSTEP_WAIT_TIMEOUT_S").then(|| "5".to_owned())
        });
        assert_eq!(r.of(Ecosystem::Python).1, Duration::from_secs(5));
    }
}
