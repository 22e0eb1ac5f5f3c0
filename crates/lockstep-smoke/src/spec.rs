//! What to run and under which limits.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The variable that carries the version before an upgrade into a smoke test.
pub const FROM_VERSION_VAR: &str = "LOCKSTEP_FROM_VERSION";
/// The variable that carries the version after an upgrade into a smoke test.
pub const TO_VERSION_VAR: &str = "LOCKSTEP_TO_VERSION";

/// A command to run: program, arguments, working directory, extra environment, limits.
///
/// The program is executed directly (a script through its own shebang), never through a shell.
/// A bare name such as `cargo` is looked up in `PATH`; a relative path with a `/` such as
/// `smoke_tests/run.sh` is taken relative to the working directory when one is set.
/// The environment is the runner's own plus the variables added here.
///
/// ```
/// use std::time::Duration;
/// use lockstep_smoke::CommandSpec;
///
/// let spec = CommandSpec::new("smoke_tests/run.sh")
///     .current_dir("/srv/verticals/finance")
///     .versions("1.1.0", "1.2.0")
///     .timeout(Duration::from_secs(180));
/// assert_eq!(spec.get_timeout(), Duration::from_secs(180));
/// assert_eq!(spec.get_grace(), CommandSpec::DEFAULT_GRACE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    program: PathBuf,
    args: Vec<OsString>,
    current_dir: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    grace: Duration,
    head_bytes: usize,
    tail_bytes: usize,
}

impl CommandSpec {
    /// The timeout when none is set: the manifest's default `smoke_tests_timeout`.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);
    /// Time between SIGTERM and SIGKILL when none is set.
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
    /// Bytes of output kept from the start when no limit is set.
    pub const DEFAULT_HEAD_BYTES: usize = 32 * 1024;
    /// Bytes of output kept from the end when no limit is set.
    pub const DEFAULT_TAIL_BYTES: usize = 32 * 1024;

    /// A command running `program` with no arguments and the default limits.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            current_dir: None,
            env: Vec::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            grace: Self::DEFAULT_GRACE,
            head_bytes: Self::DEFAULT_HEAD_BYTES,
            tail_bytes: Self::DEFAULT_TAIL_BYTES,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the working directory (default: the runner's).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Adds (or overrides) one environment variable on top of the inherited environment.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets [`FROM_VERSION_VAR`] and [`TO_VERSION_VAR`].
    pub fn versions(self, from: impl Into<OsString>, to: impl Into<OsString>) -> Self {
        self.env(FROM_VERSION_VAR, from).env(TO_VERSION_VAR, to)
    }

    /// Sets how long the command may run before its process group gets SIGTERM.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long after SIGTERM the process group gets SIGKILL.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets how many bytes of output are kept from the start and from the end.
    pub fn output_limit(mut self, head_bytes: usize, tail_bytes: usize) -> Self {
        self.head_bytes = head_bytes;
        self.tail_bytes = tail_bytes;
        self
    }

    /// The program as given.
    pub fn get_program(&self) -> &Path {
        &self.program
    }

    /// The arguments.
    pub fn get_args(&self) -> impl ExactSizeIterator<Item = &OsStr> {
        self.args.iter().map(OsString::as_os_str)
    }

    /// The working directory, if set.
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.current_dir.as_deref()
    }

    /// The variables added to the inherited environment, in the order they were set.
    pub fn get_envs(&self) -> impl ExactSizeIterator<Item = (&OsStr, &OsStr)> {
        self.env.iter().map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The timeout.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The grace period between SIGTERM and SIGKILL.
    pub fn get_grace(&self) -> Duration {
        self.grace
    }

    /// Bytes of output kept from the start and from the end.
    pub fn get_output_limit(&self) -> (usize, usize) {
        (self.head_bytes, self.tail_bytes)
    }

    /// The path that is executed: a relative path with more than one component is joined to
    /// the working directory, so it does not depend on the runner's own.
    pub(crate) fn resolved_program(&self) -> PathBuf {
        let has_dir = self.program.components().count() > 1
            || matches!(
                self.program.components().next(),
                Some(Component::CurDir | Component::ParentDir)
            );
        match &self.current_dir {
            Some(dir) if self.program.is_relative() && has_dir => dir.join(&self.program),
            _ => self.program.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        for (program, dir, expected) in [
            (
                "smoke_tests/run.sh",
                Some("/srv/v"),
                "/srv/v/smoke_tests/run.sh",
            ),
            ("./run.sh", Some("/srv/v"), "/srv/v/./run.sh"),
            ("../x/run.sh", Some("/srv/v"), "/srv/v/../x/run.sh"),
            ("cargo", Some("/srv/v"), "cargo"),
            ("/bin/true", Some("/srv/v"), "/bin/true"),
            ("smoke_tests/run.sh", None, "smoke_tests/run.sh"),
        ] {
            let mut spec = CommandSpec::new(program);
            if let Some(dir) = dir {
                spec = spec.current_dir(dir);
            }
            assert_eq!(
                spec.resolved_program(),
                PathBuf::from(expected),
                "{program}"
            );
        }
    }

    #[test]
    fn versions_set_both_variables() {
        let spec = CommandSpec::new("x").versions("1.0.0", "2.0.0");
        let envs: Vec<_> = spec.get_envs().collect();
        assert_eq!(
            envs,
            [
                (OsStr::new(FROM_VERSION_VAR), OsStr::new("1.0.0")),
                (OsStr::new(TO_VERSION_VAR), OsStr::new("2.0.0")),
            ]
        );
    }
}
