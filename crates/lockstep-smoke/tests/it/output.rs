//! Output capture: one interleaved stream, capped to head and tail.

use lockstep_smoke::{CommandSpec, Outcome, run};

use crate::script;

#[test]
fn stdout_and_stderr_interleave_in_write_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(
        dir.path(),
        "mixed.sh",
        "echo out1\necho err1 >&2\necho out2\necho err2 >&2\nexit 1",
    );
    let result = run(&CommandSpec::new(&path)).expect("runner");
    assert_eq!(result.outcome, Outcome::Failed);
    assert_eq!(result.output.to_text(), "out1\nerr1\nout2\nerr2\n");
    assert!(!result.output.is_truncated());
}

#[test]
fn a_long_output_keeps_head_and_tail() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(
        dir.path(),
        "long.sh",
        "seq 1 20000\necho 'FAILED: the last words' >&2\nexit 1",
    );
    let expected: String = (1..=20000)
        .map(|i| format!("{i}\n"))
        .chain(std::iter::once("FAILED: the last words\n".to_owned()))
        .collect();
    // (head, tail)
    for (head, tail) in [(100, 100), (0, 64), (64, 0), (1 << 20, 1 << 20)] {
        let spec = CommandSpec::new(&path).output_limit(head, tail);
        let result = run(&spec).expect("runner");
        let out = &result.output;
        assert_eq!(out.total_bytes(), expected.len() as u64, "{head}/{tail}");
        assert_eq!(
            out.head,
            expected.as_bytes()[..head.min(expected.len())],
            "{head}/{tail}"
        );
        let tail_start = expected
            .len()
            .saturating_sub(tail)
            .max(head.min(expected.len()));
        assert_eq!(out.tail, expected.as_bytes()[tail_start..], "{head}/{tail}");
        assert_eq!(
            out.dropped,
            (expected.len() - out.head.len() - out.tail.len()) as u64,
            "{head}/{tail}"
        );
        if out.is_truncated() {
            let marker = format!("[... {} bytes dropped ...]\n", out.dropped);
            assert!(out.to_text().contains(&marker), "{head}/{tail}");
        } else {
            assert_eq!(out.to_text(), expected);
        }
        if tail >= 23 {
            assert_eq!(out.tail_text(1), "FAILED: the last words", "{head}/{tail}");
        }
    }
}

#[test]
fn tail_text_gives_the_last_lines_for_an_error_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(
        dir.path(),
        "lines.sh",
        "i=1; while [ $i -le 50 ]; do echo \"line $i\"; i=$((i+1)); done; exit 1",
    );
    let result = run(&CommandSpec::new(&path).output_limit(64, 64)).expect("runner");
    assert!(result.output.is_truncated());
    assert_eq!(result.output.tail_text(3), "line 48\nline 49\nline 50");
}

#[test]
fn bytes_are_kept_as_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = script(dir.path(), "binary.sh", r"printf '\377\376ok\000end'");
    let result = run(&CommandSpec::new(&path)).expect("runner");
    assert_eq!(result.output.head, b"\xff\xfeok\x00end");
    assert_eq!(result.output.to_text(), "\u{fffd}\u{fffd}ok\u{0}end");
}
