//! `lockstep`: the command line (run from a checkout as `cargo xtask`).
//!
//! Glue only: argument parsing, rendering, exit codes. The workflows live in
//! the workflow crates (`lockstep-upgrade`, `lockstep-release`, …) and the crates beneath them.

mod cascade;
mod cli;
mod commands;
mod fail;
mod fleet;
mod hooks;
mod out;
mod pack;
mod rollout;
mod txn;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing();
    let common = cli.command.common().clone();
    let out = out::Out::new(common.json, common.color);
    match commands::run(cli.command, &out) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            out.fail(&failure);
            ExitCode::from(failure.code)
        }
    }
}

/// Logs go to stderr, filtered by RUST_LOG (default: warnings), ANSI only on a terminal.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}
