//! The second demo, `release-cascade --demo python`: a Python/npm shop releasing through real
//! registries on loopback.
//!
//! `pycore` ← `pyapp` (Python, hatch-vcs: the version comes from the tag; `uv.lock`) and
//! `jscore` ← `jsapp` (npm, `"version": "0.0.0-dev"` in git, the tag's version injected at
//! publish time; `package-lock.json`), pinning each other by registry requirement, every
//! `v1.0.0` already published; and `pyworker`, a Poetry application (`poetry.lock`) resolving
//! `pycore` from the local index only. [`LocalRegistries::start`] runs a PyPI server (`pypiserver`)
//! and an npm registry (`verdaccio` 6.8) on free ports of 127.0.0.1, each in a process group
//! of its own that is stopped when the value is dropped; [`build`] makes the repositories
//! (the script [`SCRIPT`], shipped in the binary); [`verify`] checks the end state with the
//! tools themselves (`uv lock --check`, `npm ci`).
//!
//! Needs `git`, `bash`, `uv`, `node`/`npm`, `pypi-server` and `verdaccio` on PATH (verdaccio
//! may also be under `target/ci-tools/node_modules/.bin`, where `.ci/run` installs it), and
//! PyPI for the Python build backends (`hatchling`, `hatch-vcs`). A missing tool is an error
//! that says how to install it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lockstep_smoke::CommandSpec;

/// The builder script.
pub const SCRIPT: &str = include_str!("demo_python.sh");

/// The repositories, upstream first, with their ecosystems' lock check.
pub const REPOS: [(&str, &str); 5] = [
    ("pycore", "uv lock --check"),
    ("jscore", "npm ci --ignore-scripts --no-audit --no-fund"),
    ("pyapp", "uv lock --check"),
    ("pyworker", "poetry check --lock"),
    ("jsapp", "npm ci --ignore-scripts --no-audit --no-fund"),
];

/// How long a server may take to answer its readiness URL.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// The two registries, running; dropping the value stops both process groups.
#[derive(Debug)]
pub struct LocalRegistries {
    pypi: Server,
    npm: Server,
}

#[derive(Debug)]
struct Server {
    child: Child,
    url: String,
}

impl LocalRegistries {
    /// Writes the servers' configuration under `dir/registry` and starts both, each on a free
    /// port of 127.0.0.1, returning once each answers its readiness URL. `search` lists
    /// directories looked in for `verdaccio` after PATH.
    pub fn start(dir: &Path, search: &[PathBuf]) -> Result<Self, String> {
        let pypi_server = find("pypi-server", &[]).ok_or_else(|| {
            "pypi-server is not on PATH: install it with `pip install pypiserver==2.4.2`".to_owned()
        })?;
        let verdaccio = find("verdaccio", search).ok_or_else(|| {
            "verdaccio is not on PATH: install it with `npm install --prefix target/ci-tools verdaccio@6.8` (or `npm install -g verdaccio@6.8`)".to_owned()
        })?;
        for (tool, how) in [
            ("uv", "pip install uv"),
            ("poetry", "pip install poetry"),
            ("npm", "install Node.js 20 with npm"),
        ] {
            if find(tool, &[]).is_none() {
                return Err(format!("{tool} is not on PATH: {how}"));
            }
        }
        run_script(dir, &["--registry-config".as_ref(), dir.as_os_str()])?;
        let registry = dir.join("registry");
        let (p1, p2) = free_ports()?;
        let log = |name: &str| {
            std::fs::File::create(registry.join(name))
                .map_err(|e| format!("cannot create {}: {e}", registry.join(name).display()))
        };
        let mut command = Command::new(&pypi_server);
        command
            .args(["run", "--host", "127.0.0.1", "--port", &p1.to_string()])
            .args(["-a", ".", "-P", ".", "--disable-fallback"])
            .args(["--health-endpoint", "/health"])
            .arg(registry.join("pypi"));
        let pypi = spawn(command, log("pypi.log")?, format!("http://127.0.0.1:{p1}"))?;
        let mut command = Command::new(&verdaccio);
        command
            .arg("--config")
            .arg(registry.join("verdaccio.yaml"))
            .args(["--listen", &format!("127.0.0.1:{p2}")])
            .current_dir(&registry);
        // On an early return, dropping `pypi` stops it.
        let npm = spawn(
            command,
            log("verdaccio.log")?,
            format!("http://127.0.0.1:{p2}"),
        )?;
        let mut both = LocalRegistries { pypi, npm };
        let pypi_ready = format!("{}/health", both.pypi.url);
        let npm_ready = format!("{}/-/ping", both.npm.url);
        ready(&mut both.pypi, &pypi_ready, &registry.join("pypi.log"))?;
        ready(&mut both.npm, &npm_ready, &registry.join("verdaccio.log"))?;
        Ok(both)
    }

    /// The PyPI server's root (`/simple/NAME/` below it).
    pub fn pypi_url(&self) -> &str {
        &self.pypi.url
    }

    /// The npm registry's root.
    pub fn npm_url(&self) -> &str {
        &self.npm.url
    }
}

impl Drop for Server {
    /// Stops the server's whole process group (SIGTERM, then SIGKILL after 5 s).
    fn drop(&mut self) {
        if let Some(pgid) = lockstep_smoke::Pgid::new(self.child.id()) {
            let _ = lockstep_smoke::kill_group(pgid, Duration::from_secs(5));
        }
        let _ = self.child.wait();
    }
}

fn spawn(mut command: Command, log: std::fs::File, url: String) -> Result<Server, String> {
    use std::os::unix::process::CommandExt;
    let err = log
        .try_clone()
        .map_err(|e| format!("cannot open a server log: {e}"))?;
    let shown = format!("{command:?}");
    let child = command
        .process_group(0)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    Ok(Server { child, url })
}

/// Polls `url` until it answers, giving up when the server exits or after [`READY_WITHIN`].
fn ready(server: &mut Server, url: &str, log: &Path) -> Result<(), String> {
    let mut opts = lockstep_registry::Options::default();
    opts.timeout = Duration::from_secs(5);
    opts.connect_timeout = Duration::from_secs(2);
    let start = Instant::now();
    loop {
        if lockstep_registry::fetch_document(url, &opts).is_ok() {
            return Ok(());
        }
        let tail = || {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(10)..].join("\n")
        };
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "the server behind {url} exited ({status}) before it was ready; its log ({}):\n{}",
                log.display(),
                tail()
            ));
        }
        if start.elapsed() > READY_WITHIN {
            return Err(format!(
                "{url} did not answer within {} s; the server's log ({}):\n{}",
                READY_WITHIN.as_secs(),
                log.display(),
                tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Two distinct free ports on 127.0.0.1 (both sockets open at once).
fn free_ports() -> Result<(u16, u16), String> {
    let bind = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))
    };
    let (a, b) = (bind()?, bind()?);
    let port = |l: &std::net::TcpListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("cannot read a port: {e}"))
    };
    Ok((port(&a)?, port(&b)?))
}

/// `program` on PATH, else in one of `extra`.
fn find(program: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().cloned())
        .map(|d| d.join(program))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn run_script(dir: &Path, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let script = dir.join(".demo-python.sh");
    std::fs::write(&script, SCRIPT)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let mut spec = CommandSpec::new("bash")
        .arg(&script)
        .current_dir(dir)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .timeout(Duration::from_secs(600));
    for a in args {
        spec = spec.arg(a);
    }
    let result =
        lockstep_smoke::run(&spec).map_err(|e| format!("cannot run the python demo builder: {e}"));
    let _ = std::fs::remove_file(&script);
    let result = result?;
    if !result.outcome.is_passed() {
        return Err(format!(
            "the python demo builder {} (it needs git, bash, uv, npm and PyPI for hatchling):\n{}",
            result.outcome,
            result.output.tail_text(30)
        ));
    }
    Ok(())
}

/// Builds the repositories under `dir` against the running registries, publishing every
/// `v1.0.0`, and returns the path of the demo's `cascade.toml`.
pub fn build(dir: &Path, registries: &LocalRegistries) -> Result<PathBuf, String> {
    run_script(
        dir,
        &[
            dir.as_os_str(),
            registries.pypi_url().as_ref(),
            registries.npm_url().as_ref(),
        ],
    )?;
    Ok(dir.join("cascade.toml"))
}

/// One end-state check of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Check {
    /// The repository.
    pub repo: String,
    /// The command run in it.
    pub command: String,
    /// Whether it passed.
    pub passed: bool,
    /// The end of its output when it failed.
    pub output_tail: String,
}

/// Runs each repository's lockfile check (`uv lock --check`, `npm ci`) with the registries
/// still up: every lockfile must resolve from them as committed.
pub fn verify(dir: &Path) -> Result<Vec<Check>, String> {
    let mut out = Vec::new();
    for (repo, command) in REPOS {
        let spec = CommandSpec::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .current_dir(dir.join(repo))
            .env("NO_PROXY", "127.0.0.1,localhost")
            .timeout(Duration::from_secs(300));
        let result =
            lockstep_smoke::run(&spec).map_err(|e| format!("cannot run `{command}`: {e}"))?;
        let passed = result.outcome.is_passed();
        out.push(Check {
            repo: repo.to_owned(),
            command: command.to_owned(),
            passed,
            output_tail: if passed {
                String::new()
            } else {
                result.output.tail_text(20)
            },
        });
    }
    Ok(out)
}
