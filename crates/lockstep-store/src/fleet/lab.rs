//! Builds, lab runs and their per-canary results.

use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// One canary's result in a lab run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabResult {
    /// The canary's name in `lab.toml`.
    pub canary: String,
    /// `passed`, `failed`, `warning` or `skipped`.
    pub status: String,
    /// How long applying and testing took.
    pub duration_ms: u64,
    /// The test command's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The last lines of its output.
    pub output_tail: String,
    /// Why a canary warned, was skipped or failed (JSON list of strings when stored).
    pub notes: Vec<String>,
}

impl LabResult {
    /// A result; `notes` explain anything but a plain pass.
    pub fn new(
        canary: impl Into<String>,
        status: impl Into<String>,
        duration_ms: u64,
        exit_code: Option<i32>,
        output_tail: impl Into<String>,
        notes: Vec<String>,
    ) -> Self {
        LabResult {
            canary: canary.into(),
            status: status.into(),
            duration_ms,
            exit_code,
            output_tail: output_tail.into(),
            notes,
        }
    }
}

/// A stored lab run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabRun {
    /// Its id.
    pub id: i64,
    /// The component tested.
    pub component: String,
    /// The version tested.
    pub version: String,
    /// `green`, `yellow` or `red`.
    pub verdict: String,
    /// When it started.
    pub started_at: String,
    /// When it finished.
    pub finished_at: String,
    /// The `lab.toml` it ran.
    pub canaries: String,
}

impl LabRun {
    /// A run to store (its `id` is assigned by [`record_lab_run`]).
    pub fn new(
        component: impl Into<String>,
        version: impl Into<String>,
        verdict: impl Into<String>,
        started_at: impl Into<String>,
        finished_at: impl Into<String>,
        canaries: impl Into<String>,
    ) -> Self {
        LabRun {
            id: 0,
            component: component.into(),
            version: version.into(),
            verdict: verdict.into(),
            started_at: started_at.into(),
            finished_at: finished_at.into(),
            canaries: canaries.into(),
        }
    }
}

/// The build row of `component@version`, created if needed.
pub fn build_id(
    conn: &Connection,
    component: &str,
    version: &str,
    now: &str,
) -> Result<i64, Error> {
    conn.execute(
        "INSERT OR IGNORE INTO fleet_builds (component, version, created_at) VALUES (?1, ?2, ?3)",
        params![component, version, now],
    )?;
    Ok(conn.query_row(
        "SELECT id FROM fleet_builds WHERE component = ?1 AND version = ?2",
        params![component, version],
        |r| r.get(0),
    )?)
}

/// Stores a lab run with every canary's result; returns the run's id.
pub fn record_lab_run(
    conn: &Connection,
    run: &LabRun,
    results: &[LabResult],
) -> Result<i64, Error> {
    let build = build_id(conn, &run.component, &run.version, &run.started_at)?;
    conn.execute(
        "INSERT INTO fleet_lab_runs (build_id, verdict, started_at, finished_at, canaries)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            build,
            run.verdict,
            run.started_at,
            run.finished_at,
            run.canaries
        ],
    )?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO fleet_lab_results
         (run_id, canary, status, duration_ms, exit_code, output_tail, notes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for r in results {
        let notes = serde_notes(&r.notes);
        stmt.execute(params![
            id,
            r.canary,
            r.status,
            i64::try_from(r.duration_ms).unwrap_or(i64::MAX),
            r.exit_code,
            r.output_tail,
            notes
        ])?;
    }
    Ok(id)
}

fn serde_notes(notes: &[String]) -> String {
    // A JSON list of strings, written by hand to keep serde out of this crate.
    let quoted: Vec<String> = notes
        .iter()
        .map(|n| {
            let mut s = String::from("\"");
            for c in n.chars() {
                match c {
                    '"' => s.push_str("\\\""),
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
                    c => s.push(c),
                }
            }
            s.push('"');
            s
        })
        .collect();
    format!("[{}]", quoted.join(","))
}

/// The newest lab run of `component@version`, if any.
pub fn latest_lab_run(
    conn: &Connection,
    component: &str,
    version: &str,
) -> Result<Option<LabRun>, Error> {
    Ok(conn
        .query_row(
            "SELECT r.id, b.component, b.version, r.verdict, r.started_at, r.finished_at, r.canaries
             FROM fleet_lab_runs r JOIN fleet_builds b ON b.id = r.build_id
             WHERE b.component = ?1 AND b.version = ?2 ORDER BY r.id DESC LIMIT 1",
            params![component, version],
            |r| {
                Ok(LabRun {
                    id: r.get(0)?,
                    component: r.get(1)?,
                    version: r.get(2)?,
                    verdict: r.get(3)?,
                    started_at: r.get(4)?,
                    finished_at: r.get(5)?,
                    canaries: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// The per-canary results of a lab run, by canary name; notes as their stored JSON text.
pub fn lab_results(conn: &Connection, run_id: i64) -> Result<Vec<(LabResult, String)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT canary, status, duration_ms, exit_code, output_tail, notes
         FROM fleet_lab_results WHERE run_id = ?1 ORDER BY canary",
    )?;
    let rows = stmt.query_map([run_id], |r| {
        let duration: i64 = r.get(2)?;
        Ok((
            LabResult {
                canary: r.get(0)?,
                status: r.get(1)?,
                duration_ms: u64::try_from(duration).unwrap_or_default(),
                exit_code: r.get(3)?,
                output_tail: r.get(4)?,
                notes: Vec::new(),
            },
            r.get::<_, String>(5)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_a_json_list() {
        assert_eq!(serde_notes(&[]), "[]");
        assert_eq!(
            serde_notes(&["a \"b\"\n".into(), "c".into()]),
            r#"["a \"b\"\n","c"]"#
        );
    }
}
