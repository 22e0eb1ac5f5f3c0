//! Rendering: colour that respects NO_COLOR and pipes, aligned tables, JSON, errors.

use std::io::{BufRead, IsTerminal, Write};

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};

use crate::cli::ColorWhen;

/// A failure the command line reports: exit code, machine kind, human message.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub kind: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, kind: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            kind,
            message: message.into(),
        }
    }

    /// Exit 2: bad input, I/O, network — nothing was changed.
    pub fn input(kind: &'static str, message: impl Into<String>) -> Self {
        Failure::new(2, kind, message)
    }
}

pub struct Out {
    pub json: bool,
    choice: ColorChoice,
}

pub const GREEN: Style = AnsiColor::Green.on_default();
pub const YELLOW: Style = AnsiColor::Yellow.on_default();
pub const RED: Style = AnsiColor::Red.on_default();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

impl Out {
    pub fn new(json: bool, color: ColorWhen) -> Self {
        let choice = match color {
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
            ColorWhen::Auto => ColorChoice::Auto,
        };
        Out { json, choice }
    }

    /// Writes human text to stdout, stripping styles when colour is off.
    pub fn print(&self, text: &str) {
        let mut s = AutoStream::new(std::io::stdout(), self.choice).lock();
        let _ = s.write_all(text.as_bytes());
        let _ = s.flush();
    }

    /// Writes human text to stderr.
    pub fn eprint(&self, text: &str) {
        let mut s = AutoStream::new(std::io::stderr(), self.choice).lock();
        let _ = s.write_all(text.as_bytes());
        let _ = s.flush();
    }

    /// Writes one JSON object to stdout.
    pub fn print_json(&self, value: &impl serde::Serialize) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| {
            format!("{{\"schema\":\"lockstep.error/v1\",\"error\":\"cannot serialise output: {e}\",\"kind\":\"internal\"}}")
        });
        let mut s = std::io::stdout().lock();
        let _ = writeln!(s, "{text}");
    }

    /// Reports a failure: human message on stderr; with `--json` also the error object on
    /// stdout.
    pub fn fail(&self, f: &Failure) {
        if self.json {
            self.print_json(&serde_json::json!({
                "schema": "lockstep.error/v1",
                "error": f.message,
                "kind": f.kind,
            }));
        }
        self.eprint(&format!(
            "{}error:{} {}\n",
            RED.bold().render(),
            RED.bold().render_reset(),
            f.message
        ));
    }
}

/// Wraps `text` in `style` (stripped later when colour is off).
pub fn paint(style: Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}

/// The style for a verdict word.
pub fn verdict_style(verdict: &str) -> Style {
    match verdict {
        "compatible" => GREEN,
        "compatible_with_warnings" => YELLOW,
        _ => RED,
    }
}

/// An aligned table. Cells may hold styles; widths count visible characters only.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| visible_len(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                for line in cell.lines() {
                    widths[i] = widths[i].max(visible_len(line));
                }
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.header.iter().map(|h| paint(BOLD, h)).collect();
        push_row(&mut out, &header, &widths);
        for row in &self.rows {
            push_row(&mut out, row, &widths);
        }
        out
    }
}

fn push_row(out: &mut String, cells: &[String], widths: &[usize]) {
    // A cell with several lines continues on the following lines in its own column.
    let lines: Vec<Vec<&str>> = cells.iter().map(|c| c.lines().collect()).collect();
    let height = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
    for l in 0..height {
        let mut line = String::from("  ");
        for (i, col) in lines.iter().enumerate() {
            let text = col.get(l).copied().unwrap_or("");
            line.push_str(text);
            if i + 1 < lines.len() {
                let pad = widths[i].saturating_sub(visible_len(text)) + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// Length in characters, skipping ANSI escape sequences.
fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// Asks on the terminal; without one, refuses (the caller must pass --yes).
pub fn confirm(question: &str, yes: bool) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(
            "confirmation_required",
            "no terminal to confirm on; pass --yes to proceed without asking",
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::input("io", format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
