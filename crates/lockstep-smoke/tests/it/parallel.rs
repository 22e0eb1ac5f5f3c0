//! run_all: job limit, input order, per-command durations.

use std::path::Path;
use std::time::Duration;

use lockstep_smoke::{CommandSpec, Outcome, run_all};

use crate::script;

/// Largest number of [start, end) intervals that overlap, from the timestamp files.
fn max_overlap(dir: &Path, count: usize) -> usize {
    let read = |name: String| -> u128 {
        std::fs::read_to_string(dir.join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .trim()
            .parse()
            .expect("nanoseconds")
    };
    let mut events: Vec<(u128, i32)> = (0..count)
        .flat_map(|i| {
            [
                (read(format!("{i}.start")), 1),
                (read(format!("{i}.end")), -1),
            ]
        })
        .collect();
    // Ends before starts at the same instant: touching intervals do not overlap.
    events.sort();
    let (mut running, mut max) = (0i32, 0i32);
    for (_, delta) in events {
        running += delta;
        max = max.max(running);
    }
    max as usize
}

fn timed_specs(dir: &Path, count: usize) -> Vec<CommandSpec> {
    let path = script(
        dir,
        "timed.sh",
        "date +%s%N > \"$1.start\"\nsleep 0.3\ndate +%s%N > \"$1.end\"\necho \"job $1\"",
    );
    (0..count)
        .map(|i| {
            CommandSpec::new(&path)
                .arg(i.to_string())
                .current_dir(dir)
                .timeout(Duration::from_secs(30))
        })
        .collect()
}

#[test]
fn respects_the_job_limit() {
    // (commands, jobs, expected largest overlap)
    for (count, jobs, expected) in [(6, 2, 2), (4, 1, 1), (3, 0, 1), (3, 8, 3)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let results = run_all(&timed_specs(dir.path(), count), jobs);
        assert_eq!(results.len(), count);
        for (i, result) in results.into_iter().enumerate() {
            let result = result.expect("runner");
            assert_eq!(result.outcome, Outcome::Passed, "{}", result.output);
            assert_eq!(result.output.to_text(), format!("job {i}\n"));
            assert!(
                result.duration >= Duration::from_millis(300),
                "{:?}",
                result.duration
            );
        }
        assert_eq!(
            max_overlap(dir.path(), count),
            expected,
            "{count} commands, {jobs} jobs"
        );
    }
}

#[test]
fn results_come_back_in_input_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Later commands finish first; exit codes cycle through pass, fail, error.
    let path = script(
        dir.path(),
        "ordered.sh",
        "sleep \"0.$((5 - $1))\"\necho \"command $1\"\nexit $(($1 % 3))",
    );
    let specs: Vec<CommandSpec> = (0..5)
        .map(|i| CommandSpec::new(&path).arg(i.to_string()))
        .collect();
    let results = run_all(&specs, 5);
    let seen: Vec<(String, Option<i32>)> = results
        .into_iter()
        .map(|r| {
            let r = r.expect("runner");
            (r.output.to_text(), r.exit_code)
        })
        .collect();
    let expected: Vec<(String, Option<i32>)> = (0..5)
        .map(|i| (format!("command {i}\n"), Some(i % 3)))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn no_commands_no_results() {
    assert!(run_all(&[], 4).is_empty());
}
