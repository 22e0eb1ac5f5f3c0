//! Several commands at once under a job limit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::{CommandSpec, Error, RunResult, run};

/// Runs every spec, at most `jobs` at a time (`0` counts as 1), and returns their results in
/// input order, each with its own duration.
///
/// Commands start in input order as slots free up. Each runs exactly as [`run`] would run it,
/// so one command's timeout does not affect another's. Uses plain threads: one worker per slot,
/// plus the two helper threads of each running command.
///
/// An `Err` entry is a runner failure for that command (see [`run`]); the others still run.
pub fn run_all(specs: &[CommandSpec], jobs: usize) -> Vec<Result<RunResult, Error>> {
    let _span = tracing::info_span!("smoke.run_all", commands = specs.len(), jobs).entered();
    let workers = jobs.max(1).min(specs.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<RunResult, Error>>>> =
        Mutex::new(specs.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = specs.get(index) else { break };
                    let result = run(spec);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|slot| {
            // Every index below `specs.len()` is taken by exactly one worker, which fills it
            // before taking another; a worker can only fail to fill it by panicking, and the
            // scope would have re-raised that panic.
            slot.unwrap_or_else(|| unreachable!("every command ran"))
        })
        .collect()
}
