//! The page: `index.html` and its stylesheet, from [`Figures`] (pure: no I/O).

use std::fmt::Write;

use crate::figures::{Figures, Kpi, VerticalRow};
use crate::svg;

/// The stylesheet, written as `assets/dashboard.css`.
pub const CSS: &str = include_str!("dashboard.css");

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn opt(v: Option<&str>) -> String {
    v.map_or_else(|| "—".to_owned(), esc)
}

fn kpi_text(k: &Kpi) -> String {
    match (k.value, k.unit) {
        (None, _) => "—".to_owned(),
        (Some(v), "%") => format!("{v:.1} %"),
        (Some(v), "s") => duration(v),
        (Some(v), _) => format!("{v:.0}"),
    }
}

fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7_200.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3_600.0)
    }
}

fn vertical_row(out: &mut String, v: &VerticalRow) {
    let (outcome, when, class) = match &v.last_upgrade {
        Some(l) => (
            format!(
                "{} → {}: {}",
                opt(l.from.as_deref()),
                opt(l.to.as_deref()),
                esc(&l.outcome)
            ),
            esc(&l.time),
            esc(&l.outcome.replace('_', "-")),
        ),
        None => ("—".to_owned(), "—".to_owned(), "none".to_owned()),
    };
    let _ = write!(
        out,
        r#"<tr data-vertical="{name}"><td class="name" title="{manifest}">{name}</td><td class="channel">{channel}</td><td class="current">{current}</td><td class="last-time">{when}</td><td class="last-outcome outcome-{class}">{outcome}</td><td class="pending">{pending}</td><td class="num attempted">{a}</td><td class="num committed">{c}</td><td class="num rolled-back">{r}</td></tr>"#,
        name = esc(&v.name),
        manifest = esc(&v.manifest),
        channel = esc(&v.channel),
        current = opt(v.current.as_deref()),
        pending = opt(v.pending_update.as_deref()),
        a = v.attempted,
        c = v.committed,
        r = v.rolled_back,
    );
}

/// The whole page.
pub fn page(f: &Figures) -> String {
    let mut out = String::with_capacity(4096 + f.verticals.len() * 400);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>lockstep fleet dashboard</title><link rel="stylesheet" href="assets/dashboard.css"></head><body><header><h1>lockstep fleet dashboard</h1><p class="meta">Generated <time id="generated-at">{}</time> · <span id="vertical-count">{}</span> verticals · <span id="count-attempted">{}</span> upgrades attempted, <span id="count-committed">{}</span> committed, <span id="count-rolled-back">{}</span> rolled back</p></header><main>"#,
        esc(&f.generated_at),
        f.verticals.len(),
        f.kpis.attempted,
        f.kpis.committed,
        f.kpis.rolled_back
    );
    if !f.problems.is_empty() {
        out.push_str(
            r#"<section class="problems" id="problems"><h2>Inputs that could not be read</h2><ul>"#,
        );
        for p in &f.problems {
            let _ = write!(out, "<li>{}</li>", esc(p));
        }
        out.push_str("</ul></section>");
    }

    out.push_str(r#"<section id="kpis"><h2>Key figures</h2><div class="kpis">"#);
    for k in &f.kpis.list {
        let value = k.value.map_or_else(String::new, |v| format!("{v}"));
        let _ = write!(
            out,
            r#"<div class="kpi" data-kpi="{key}" data-value="{value}"><div class="kpi-label">{label}</div><div class="kpi-value">{text}</div><div class="kpi-def">{def}</div></div>"#,
            key = k.key,
            label = esc(k.label),
            text = esc(&kpi_text(k)),
            def = esc(k.definition),
        );
    }
    let _ = write!(
        out,
        r#"</div><p class="meta">Release cascades: <span id="cascades-started">{}</span> started, <span id="cascades-committed">{}</span> committed, <span id="cascades-rolled-back">{}</span> rolled back.</p></section>"#,
        f.cascades.started, f.cascades.committed, f.cascades.rolled_back
    );

    let _ = write!(
        out,
        r#"<section id="timeline"><h2>Upgrades over time <small>(per {})</small></h2><p class="legend"><span class="swatch committed"></span> committed <span class="swatch rolled-back"></span> rolled back</p>{}</section>"#,
        f.timeline.period,
        svg::timeline(&f.timeline)
    );

    out.push_str(r#"<section id="rollouts"><h2>Staged rollouts</h2>"#);
    if f.rollouts.is_empty() {
        out.push_str(r#"<p class="empty">No rollouts in the state database.</p>"#);
    }
    for r in &f.rollouts {
        let _ = write!(
            out,
            r#"<article class="rollout" data-rollout="{id}"><h3>{component} {version} <small>on {channel}</small> <span class="state state-{state}">{state}</span> <small>at {stage} %</small></h3>{chart}</article>"#,
            id = esc(&r.id),
            component = esc(&r.component),
            version = esc(&r.version),
            channel = esc(&r.channel),
            state = esc(&r.state),
            stage = r.stage_percent,
            chart = svg::rollout(r),
        );
    }
    out.push_str("</section>");

    out.push_str(r#"<section id="verticals"><h2>Verticals</h2><table><thead><tr><th>Vertical</th><th>Channel</th><th>Core version</th><th>Last upgrade</th><th>Outcome</th><th>Pending compatible update</th><th>Attempted</th><th>Committed</th><th>Rolled back</th></tr></thead><tbody>"#);
    for v in &f.verticals {
        vertical_row(&mut out, v);
    }
    out.push_str("</tbody></table></section>");

    out.push_str(r#"<section id="known-good"><h2>Known-good and quarantined versions</h2><table><thead><tr><th>Component</th><th>Channel</th><th>Version</th><th>State</th><th>Promoted</th><th>Reason</th></tr></thead><tbody>"#);
    for k in &f.known_good {
        let _ = write!(
            out,
            r#"<tr class="{state}"><td>{}</td><td>{}</td><td>{}</td><td class="state">{state}</td><td>{}</td><td class="reason">{}</td></tr>"#,
            esc(&k.component),
            opt(k.channel.as_deref()),
            esc(&k.version),
            opt(k.promoted_at.as_deref()),
            opt(k.reason.as_deref()),
            state = k.state,
        );
    }
    out.push_str("</tbody></table></section>");

    out.push_str(r#"<section id="pins"><h2>Organisation pins</h2><table><thead><tr><th>Organisation</th><th>Component</th><th>Version</th><th>Reason</th><th>Expires</th><th>Set by</th></tr></thead><tbody>"#);
    for p in &f.pins {
        let _ = write!(
            out,
            r#"<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td class="reason">{}</td><td>{}{}</td><td>{}</td></tr>"#,
            if p.expired { "expired" } else { "active" },
            esc(&p.org),
            esc(&p.component),
            esc(&p.version),
            esc(&p.reason),
            opt(p.expires.as_deref()),
            if p.expired { " (expired)" } else { "" },
            esc(&p.set_by),
        );
    }
    out.push_str("</tbody></table></section></main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42.0), "42 s");
        assert_eq!(duration(600.0), "10.0 min");
        assert_eq!(duration(10_800.0), "3.0 h");
    }
}
