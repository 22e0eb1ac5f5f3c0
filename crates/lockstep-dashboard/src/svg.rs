//! SVG charts, written as text (no script, no external resource).

use std::fmt::Write;

use crate::figures::{RolloutFigure, Timeline};
use crate::html::esc;

const W: f64 = 760.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;

/// A "nice" axis maximum at or above `x` (1, 2, 5 × 10ⁿ).
fn nice(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|v| *v >= x)
        .unwrap_or(10.0 * mag)
}

fn y_axis(out: &mut String, max: f64, label: impl Fn(f64) -> String) {
    let plot_h = H - TOP - BOTTOM;
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{tx}" y="{ty:.1}" class="tick" text-anchor="end">{}</text>"##,
            esc(&label(v)),
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
        );
    }
}

/// Committed and rolled-back upgrades per period, as paired bars.
pub(crate) fn timeline(t: &Timeline) -> String {
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" class="chart" role="img" aria-labelledby="timeline-title"><title id="timeline-title">Upgrades committed and rolled back per {}</title>"##,
        t.period
    );
    if t.points.is_empty() {
        out.push_str(r##"<text x="380" y="110" text-anchor="middle" class="empty">no upgrades recorded</text></svg>"##);
        return out;
    }
    let max = t
        .points
        .iter()
        .map(|p| p.committed.max(p.rolled_back))
        .max()
        .unwrap_or(0) as f64;
    // At least 4, so the five ticks are whole numbers.
    let max = nice(max).max(4.0);
    y_axis(&mut out, max, |v| format!("{v:.0}"));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / t.points.len() as f64;
    let bar = (slot * 0.4).max(0.5);
    for (i, p) in t.points.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.1;
        for (j, (count, class)) in [(p.committed, "committed"), (p.rolled_back, "rolled-back")]
            .into_iter()
            .enumerate()
        {
            if count == 0 {
                continue;
            }
            let h = plot_h * count as f64 / max;
            let _ = write!(
                out,
                r##"<rect x="{:.2}" y="{:.2}" width="{bar:.2}" height="{h:.2}" class="{class}"><title>{}: {count} {}</title></rect>"##,
                x + bar * j as f64,
                TOP + plot_h - h,
                esc(&p.start),
                class.replace('-', " "),
            );
        }
    }
    let n = t.points.len();
    let mut labels = vec![0, n / 2, n - 1];
    labels.dedup();
    for i in labels {
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"##,
            H - 12.0,
            esc(&t.points[i].start)
        );
    }
    out.push_str("</svg>");
    out
}

/// One rollout: each stage's failure rate with its Wilson interval, against the threshold.
pub(crate) fn rollout(r: &RolloutFigure) -> String {
    let highest = r
        .stages
        .iter()
        .map(|s| s.upper_bound.min(1.0).max(s.failure_rate))
        .fold(r.max_failure_rate * 2.0, f64::max);
    let max = nice(highest * 100.0).min(100.0) / 100.0;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" class="chart" role="img"><title>{} {}: failure rate per stage</title>"##,
        esc(&r.component),
        esc(&r.version)
    );
    y_axis(&mut out, max, |v| {
        let pct = v * 100.0;
        if (pct - pct.round()).abs() < 1e-9 {
            format!("{pct:.0} %")
        } else {
            format!("{pct:.1} %")
        }
    });
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let y_of = |v: f64| TOP + plot_h - plot_h * (v.min(max) / max);
    let slot = plot_w / r.stages.len().max(1) as f64;
    for (i, s) in r.stages.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.3;
        let w = slot * 0.4;
        let class = if !s.reached {
            "stage unreached"
        } else if s.lower_bound > r.max_failure_rate {
            "stage bad"
        } else {
            "stage"
        };
        let y = y_of(s.failure_rate);
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}" class="{class}"><title>{} %: {} of {} failed ({:.1} %), 95 % interval {:.1}–{:.1} %</title></rect>"##,
            (TOP + plot_h - y).max(0.0),
            s.percent,
            s.failures,
            s.samples,
            s.failure_rate * 100.0,
            s.lower_bound * 100.0,
            s.upper_bound * 100.0,
        );
        if s.samples > 0 {
            let cx = x + w / 2.0;
            let _ = write!(
                out,
                r##"<line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" class="whisker"/>"##,
                y_of(s.lower_bound),
                y_of(s.upper_bound)
            );
        }
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" class="tick" text-anchor="middle">{} % · n={}</text>"##,
            x + w / 2.0,
            H - 12.0,
            s.percent,
            s.samples
        );
    }
    let ty = y_of(r.max_failure_rate);
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" x2="{:.1}" y1="{ty:.1}" y2="{ty:.1}" class="threshold"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">limit {:.1} %</text></svg>"##,
        W - RIGHT,
        W - RIGHT,
        ty - 4.0,
        r.max_failure_rate * 100.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::nice;

    #[test]
    fn nice_axis_maxima() {
        for (x, n) in [
            (0.0, 1.0),
            (3.0, 5.0),
            (7.0, 10.0),
            (10.0, 10.0),
            (11.0, 20.0),
            (0.12, 0.2),
        ] {
            assert!((nice(x) - n).abs() < 1e-9, "nice({x}) = {}", nice(x));
        }
    }
}
