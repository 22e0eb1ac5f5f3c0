//! The page as Chromium shows it, checked against the fixture's hand-counted figures.

use crate::{chromium, fixture};

/// The text of the element with `class="CLASS …"` inside the `<tr data-vertical="NAME">` row.
fn cell(dom: &str, vertical: &str, class: &str) -> String {
    let start = dom
        .find(&format!(r#"<tr data-vertical="{vertical}">"#))
        .unwrap_or_else(|| panic!("no row for {vertical}"));
    let row = &dom[start..start + dom[start..].find("</tr>").unwrap()];
    text_of(row, &format!(r#"class="{class}"#))
}

/// The text content of the first element whose start tag contains `marker`.
fn text_of(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not found"));
    let open_end = at + html[at..].find('>').unwrap() + 1;
    let close = open_end + html[open_end..].find("</").unwrap();
    html[open_end..close]
        .replace("&amp;", "&")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
}

fn kpi(dom: &str, key: &str) -> (String, String) {
    let at = dom
        .find(&format!(r#"data-kpi="{key}""#))
        .unwrap_or_else(|| panic!("no KPI {key}"));
    let tag = &dom[at..at + dom[at..].find('>').unwrap()];
    let value = tag
        .split(r#"data-value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    (value, text_of(&dom[at..], r#"class="kpi-value""#))
}

#[test]
fn the_page_in_chromium_shows_the_fixture_figures() {
    let fleet = fixture::build();
    let figures = lockstep_dashboard::collect(&fleet.inputs).unwrap();
    let out = tempfile::tempdir().unwrap();
    lockstep_dashboard::render(&figures)
        .write(out.path())
        .unwrap();
    let index = out.path().join("index.html");

    // Nothing on the page points outside the site directory.
    let html = std::fs::read_to_string(&index).unwrap();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            assert!(
                !target.contains("://") && !target.starts_with("//"),
                "external reference {target}"
            );
            assert!(
                out.path().join(target).is_file(),
                "{target} is not in the site"
            );
        }
    }

    let (dom, _) = chromium::dump_dom(&index);
    assert_eq!(text_of(&dom, r#"id="vertical-count""#), "3");
    assert_eq!(text_of(&dom, r#"id="count-attempted""#), "3");
    assert_eq!(text_of(&dom, r#"id="count-committed""#), "2");
    assert_eq!(text_of(&dom, r#"id="count-rolled-back""#), "1");

    let (v, shown) = kpi(&dom, "successful_upgrades");
    assert!(
        (v.parse::<f64>().unwrap() - 200.0 / 3.0).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(shown, "66.7 %");
    let (v, shown) = kpi(&dom, "rollback_rate");
    assert!(
        (v.parse::<f64>().unwrap() - 100.0 / 3.0).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(shown, "33.3 %");
    assert_eq!(
        kpi(&dom, "mean_time_to_upgrade"),
        ("90".into(), "90 s".into())
    );
    assert_eq!(kpi(&dom, "incompatibilities_caught").1, "1");
    assert_eq!(kpi(&dom, "post_upgrade_incidents").1, "1");
    assert!(
        dom.contains("upgrades committed ÷ upgrades attempted"),
        "definitions are shown"
    );

    // One row per vertical.
    assert_eq!(dom.matches("<tr data-vertical=").count(), 3);
    assert_eq!(cell(&dom, "finance", "channel"), "stable");
    assert_eq!(cell(&dom, "finance", "current"), "1.1.0");
    assert_eq!(
        cell(&dom, "finance", "last-outcome"),
        "1.1.0 → 1.2.0: rolled_back"
    );
    assert_eq!(cell(&dom, "finance", "pending"), "1.3.0");
    assert_eq!(cell(&dom, "finance", "num attempted"), "2");
    assert_eq!(cell(&dom, "health", "channel"), "beta");
    assert_eq!(
        cell(&dom, "health", "current"),
        "1.0.0",
        "the manual rollback counts"
    );
    assert_eq!(
        cell(&dom, "health", "last-outcome"),
        "1.0.0 → 1.1.0: committed"
    );
    assert_eq!(cell(&dom, "retail", "current"), "—");
    assert_eq!(cell(&dom, "retail", "last-outcome"), "—");

    assert_eq!(text_of(&dom, r#"id="cascades-started""#), "1");
    assert_eq!(text_of(&dom, r#"id="cascades-committed""#), "1");

    // The timeline: two days, one commit on day 0, one commit and one rollback on day 1.
    assert!(
        dom.contains("<title>2026-11-20: 1 committed</title>"),
        "day 0 bar"
    );
    assert!(
        dom.contains("<title>2026-11-21: 1 committed</title>"),
        "day 1 bar"
    );
    assert!(
        dom.contains("<title>2026-11-21: 1 rolled back</title>"),
        "day 1 rollback"
    );

    // The rollout: halted at 10 % with 12 of 40 failed.
    let at = dom.find(r#"data-rollout="agent-cli@2.0.0#1""#).unwrap();
    let article = &dom[at..at + dom[at..].find("</article>").unwrap()];
    assert!(
        article.contains(r#"class="state state-halted">halted<"#),
        "{article}"
    );
    assert!(article.contains("at 10 %"), "{article}");
    assert!(
        article.contains("10 %: 12 of 40 failed (30.0 %)"),
        "{article}"
    );
    assert!(
        article.contains("1 %: 0 of 120 failed (0.0 %)"),
        "{article}"
    );
    assert!(
        article.contains(r#"class="stage bad""#),
        "the halted stage is marked"
    );

    // Known-good, quarantined and pins.
    let kg = &dom[dom.find(r#"id="known-good""#).unwrap()..dom.find(r#"id="pins""#).unwrap()];
    assert!(
        kg.contains(r#"<tr class="quarantined"><td>agent-cli</td><td>stable</td><td>2.0.0</td>"#),
        "{kg}"
    );
    assert!(kg.contains("rollout halted at 10 %"));
    assert!(
        kg.contains(r#"<tr class="known_good"><td>agent-cli</td><td>stable</td><td>1.9.0</td>"#),
        "{kg}"
    );
    let pins = &dom[dom.find(r#"id="pins""#).unwrap()..];
    assert!(pins.contains(r#"<tr class="active"><td>acme</td><td>agent-cli</td><td>1.8.0</td><td class="reason">change freeze</td><td>2026-12-20T10:00:00Z</td>"#), "{pins}");
    assert!(
        pins.contains(r#"<tr class="expired"><td>globex</td>"#),
        "{pins}"
    );
    assert!(pins.contains("(expired)"));

    let png = out.path().join("dashboard.png");
    chromium::screenshot(&index, &png, 1280, 1600);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(chromium::png_size(&bytes), (1280, 1600));
    assert!(
        bytes.len() > 20_000,
        "a drawn page, not a blank one: {} bytes",
        bytes.len()
    );
    if let Some(dest) = std::env::var_os("LOCKSTEP_DASHBOARD_SCREENSHOT") {
        std::fs::copy(&png, dest).unwrap();
    }
}
