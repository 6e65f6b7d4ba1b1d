//! A build's timeline as an SVG Gantt chart: one row per host slot, one bar per attempt
//! (blue: compiled, red: a compile error, orange: a hedged duplicate, grey: cancelled,
//! black: failed, purple: compiled on the master).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::status::Span;

const ROW: u64 = 18;
const LABEL: u64 = 190;
const WIDTH: u64 = 1000;

/// The attempts of the last build in `spans`: the last run of spans with no idle gap
/// longer than `gap_ms` between them.
pub fn last_build(spans: &[Span], gap_ms: u64) -> Vec<Span> {
    let mut sorted: Vec<Span> = spans.to_vec();
    sorted.sort_by_key(|s| s.start_ms);
    let mut start = 0;
    let mut reach = 0u64;
    for (i, s) in sorted.iter().enumerate() {
        if i > 0 && s.start_ms > reach.saturating_add(gap_ms) {
            start = i;
        }
        reach = reach.max(s.end_ms);
    }
    sorted.split_off(start)
}

fn colour(s: &Span) -> &'static str {
    match s.outcome.as_str() {
        "ok" if s.duplicate => "#f28e2b",
        "ok" => "#4e79a7",
        "error" => "#e15759",
        "cancelled" => "#bab0ac",
        "local" => "#b07aa1",
        _ => "#333333",
    }
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draw `spans` (times relative to the first start).
pub fn render(spans: &[Span], title: &str) -> String {
    let t0 = spans.iter().map(|s| s.start_ms).min().unwrap_or(0);
    let t1 = spans
        .iter()
        .map(|s| s.end_ms)
        .max()
        .unwrap_or(t0)
        .max(t0 + 1);
    let total = t1 - t0;
    let rows: BTreeMap<(String, usize), ()> = spans
        .iter()
        .map(|s| ((s.host.clone(), s.slot), ()))
        .collect();
    let index: BTreeMap<(String, usize), u64> = rows
        .keys()
        .enumerate()
        .map(|(i, k)| (k.clone(), i as u64))
        .collect();
    let height = 50 + ROW * index.len() as u64 + 30;
    let x = |ms: u64| LABEL + (ms.saturating_sub(t0)) * (WIDTH - LABEL - 10) / total;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r#"<text x="10" y="18" font-size="14">{} — {} attempts, {:.1} s</text>"#,
        escape(title),
        spans.len(),
        total as f64 / 1000.0
    );
    for ((host, slot), row) in &index {
        let y = 30 + row * ROW;
        let _ = writeln!(
            out,
            r#"<text x="10" y="{}">{} #{}</text>"#,
            y + 12,
            escape(host),
            slot
        );
    }
    for s in spans {
        let Some(row) = index.get(&(s.host.clone(), s.slot)) else {
            continue;
        };
        let (x0, x1) = (x(s.start_ms), x(s.end_ms));
        let _ = writeln!(
            out,
            r#"<rect x="{x0}" y="{}" width="{}" height="{}" fill="{}"><title>{} on {} ({}, {:.2} s)</title></rect>"#,
            31 + row * ROW,
            (x1 - x0).max(1),
            ROW - 3,
            colour(s),
            escape(&s.source),
            escape(&s.host),
            escape(&s.outcome),
            (s.end_ms - s.start_ms) as f64 / 1000.0
        );
    }
    let axis_y = 35 + ROW * index.len() as u64;
    let step = nice_step(total);
    let mut t = 0;
    while t <= total {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{} s</text>"#,
            x(t0 + t),
            axis_y + 12,
            t / 1000
        );
        t += step;
    }
    out.push_str("</svg>\n");
    out
}

/// A tick every 1, 2, 5, 10... seconds: about ten ticks.
fn nice_step(total_ms: u64) -> u64 {
    let mut step = 1000;
    for m in [1, 2, 5].iter().cycle().take(30).scan(1u64, |scale, &m| {
        let v = m * *scale;
        if m == 5 {
            *scale *= 10;
        }
        Some(v * 1000)
    }) {
        step = m;
        if total_ms / m <= 10 {
            break;
        }
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(host: &str, slot: usize, start: u64, end: u64, outcome: &str) -> Span {
        Span {
            job: 1,
            source: "a.c".into(),
            host: host.into(),
            slot,
            start_ms: start,
            end_ms: end,
            outcome: outcome.into(),
            duplicate: false,
            predicted_ms: 0,
            queued_ms: 0,
        }
    }

    #[test]
    fn the_last_build_starts_after_the_last_idle_gap() {
        let spans = vec![
            span("a", 0, 0, 100, "ok"),
            span("a", 0, 50_000, 51_000, "ok"),
            span("b", 0, 50_500, 52_000, "ok"),
        ];
        let last = last_build(&spans, 5_000);
        assert_eq!(last.len(), 2);
        assert_eq!(last[0].start_ms, 50_000);
    }

    #[test]
    fn one_row_per_host_slot_and_one_bar_per_attempt() {
        let spans = vec![
            span("a:1", 0, 0, 1000, "ok"),
            span("a:1", 1, 0, 2000, "cancelled"),
            span("b<2", 0, 500, 1500, "error"),
        ];
        let svg = render(&spans, "t");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("a:1 #1"));
        assert!(svg.contains("b&lt;2 #0"));
        assert!(svg.contains("#bab0ac"));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(5_000), 1000);
        assert_eq!(nice_step(60_000), 10_000);
        assert_eq!(nice_step(15_000), 2000);
    }
}
