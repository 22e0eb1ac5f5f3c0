//! Counts from a JUnit XML report: every `<testcase>`, failed when it holds `<failure>` or
//! `<error>`, skipped when it holds `<skipped>`, passed otherwise. A report without test cases
//! is read from its `<testsuite>` attributes (`tests`, `failures`, `errors`, `skipped`).

use quick_xml::events::{BytesStart, Event};

/// The largest report read.
pub const MAX_REPORT_BYTES: u64 = 16 * 1024 * 1024;

/// Test counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Test cases.
    pub total: u64,
    /// Passed.
    pub passed: u64,
    /// Failed or errored.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

/// Reads the counts from report text; `Err` says why the text is not a JUnit report.
pub fn parse(xml: &str) -> Result<Counts, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut counts = Counts::default();
    let mut suites = Counts::default();
    let mut in_case: Option<Case> = None;
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match event {
            Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                saw_root = true;
                Case::Passed.tally(&mut counts);
            }
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                saw_root = true;
                if let Some(case) = in_case.replace(Case::Passed) {
                    case.tally(&mut counts);
                }
            }
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                match name.as_ref() {
                    b"failure" | b"error" => {
                        if let Some(case) = in_case.as_mut() {
                            *case = Case::Failed;
                        }
                    }
                    b"skipped" => {
                        if let Some(case) = in_case.as_mut()
                            && *case != Case::Failed
                        {
                            *case = Case::Skipped;
                        }
                    }
                    b"testsuite" => {
                        saw_root = true;
                        let n = |key: &[u8]| attr(&e, key).unwrap_or(0);
                        let failed = n(b"failures") + n(b"errors");
                        let skipped = n(b"skipped").max(n(b"disabled"));
                        suites.total += n(b"tests");
                        suites.failed += failed;
                        suites.skipped += skipped;
                    }
                    b"testsuites" => saw_root = true,
                    _ => {}
                }
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => {
                if let Some(case) = in_case.take() {
                    case.tally(&mut counts);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err("no <testsuites>, <testsuite> or <testcase> element".into());
    }
    if counts.total == 0 && suites.total > 0 {
        suites.passed = suites
            .total
            .saturating_sub(suites.failed)
            .saturating_sub(suites.skipped);
        return Ok(suites);
    }
    Ok(counts)
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<u64> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| std::str::from_utf8(&a.value).ok()?.trim().parse().ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Passed,
    Failed,
    Skipped,
}

impl Case {
    fn tally(self, c: &mut Counts) {
        c.total += 1;
        match self {
            Case::Passed => c.passed += 1,
            Case::Failed => c.failed += 1,
            Case::Skipped => c.skipped += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(xml: &str, expected: Result<(u64, u64, u64, u64), &str>) {
        let got = parse(xml).map(|c| (c.total, c.passed, c.failed, c.skipped));
        match expected {
            Ok(e) => assert_eq!(got, Ok(e), "{xml}"),
            Err(msg) => assert!(got.as_ref().is_err_and(|g| g.contains(msg)), "{got:?}"),
        }
    }

    #[test]
    fn counts_cases_by_what_they_hold() {
        check(
            r#"<?xml version="1.0"?>
<testsuites>
  <testsuite name="a" tests="4">
    <testcase name="ok"/>
    <testcase name="ok2"></testcase>
    <testcase name="bad"><failure message="x">trace</failure></testcase>
    <testcase name="later"><skipped/></testcase>
  </testsuite>
  <testsuite name="b">
    <testcase name="err"><error/><system-out>x</system-out></testcase>
    <testcase name="fine"><system-out>&lt;skipped/&gt;</system-out></testcase>
  </testsuite>
</testsuites>"#,
            Ok((6, 3, 2, 1)),
        );
        check(
            r#"<testsuite tests="10" failures="1" errors="1" skipped="3"/>"#,
            Ok((10, 5, 2, 3)),
        );
        check("<testsuite/>", Ok((0, 0, 0, 0)));
        check("<html/>", Err("no <testsuites>"));
        check("<testsuite><testcase></testsuite>", Err("not well-formed"));
    }
}
