//! Small inline SVG charts of the last hour (one point per minute), drawn on the server: the
//! page needs no script and loads nothing.

use crate::metrics::timeline::MinuteStats;
use std::fmt::Write;

const W: f64 = 240.0;
const H: f64 = 40.0;

/// Requests per minute as bars, errors in their own colour on top of them.
pub fn requests(minutes: &[MinuteStats]) -> String {
    let max = minutes.iter().map(|m| m.requests).max().unwrap_or(0).max(1) as f64;
    let step = W / minutes.len().max(1) as f64;
    let mut svg = open("requests", "requests per minute, last 60 minutes");
    for (i, m) in minutes.iter().enumerate() {
        if m.requests == 0 {
            continue;
        }
        let x = i as f64 * step;
        let h = (m.requests as f64 / max * (H - 2.0)).max(1.0);
        let eh = (m.errors as f64 / max * (H - 2.0)).min(h);
        let _ = write!(
            svg,
            r#"<rect class="ok" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"><title>{} requests, {} errors</title></rect>"#,
            H - h,
            (step - 1.0).max(1.0),
            m.requests,
            m.errors
        );
        if eh > 0.0 {
            let _ = write!(
                svg,
                r#"<rect class="err" x="{x:.1}" y="{:.1}" width="{:.1}" height="{eh:.1}"/>"#,
                H - h,
                (step - 1.0).max(1.0)
            );
        }
    }
    let _ = write!(svg, r#"<text x="1" y="9">max {max} / min</text></svg>"#);
    svg
}

/// p50 and p99 latency per minute as two lines on one scale.
pub fn latency(minutes: &[MinuteStats]) -> String {
    let max = minutes
        .iter()
        .filter_map(|m| m.p99)
        .fold(0.001_f64, f64::max);
    let step = W / minutes.len().max(1) as f64;
    let mut svg = open("latency", "p50 and p99 latency per minute, last 60 minutes");
    for (class, pick) in [
        (
            "p99",
            (|m: &MinuteStats| m.p99) as fn(&MinuteStats) -> Option<f64>,
        ),
        ("p50", |m: &MinuteStats| m.p50),
    ] {
        let points: Vec<String> = minutes
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let v = pick(m)?;
                let x = i as f64 * step + step / 2.0;
                Some(format!("{x:.1},{:.1}", H - v / max * (H - 10.0) - 1.0))
            })
            .collect();
        match points.len() {
            0 => {}
            // One minute alone is a dot, not a line.
            1 => {
                let (x, y) = points[0].split_once(',').unwrap_or(("0", "0"));
                let _ = write!(svg, r#"<circle class="{class}" cx="{x}" cy="{y}" r="2"/>"#);
            }
            _ => {
                let _ = write!(
                    svg,
                    r#"<polyline class="{class}" points="{}"/>"#,
                    points.join(" ")
                );
            }
        }
    }
    let _ = write!(
        svg,
        r#"<text x="1" y="9">max {}</text></svg>"#,
        duration(max)
    );
    svg
}

/// Seconds as the console shows a latency.
pub fn duration(secs: f64) -> String {
    if secs < 0.01 {
        format!("{:.1} ms", secs * 1000.0)
    } else if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else {
        format!("{secs:.1} s")
    }
}

fn open(kind: &str, title: &str) -> String {
    format!(
        r#"<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img"><title>{title}</title><line class="axis" x1="0" y1="{H}" x2="{W}" y2="{H}"/>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(requests: u64, errors: u64, p50: f64, p99: f64) -> MinuteStats {
        MinuteStats {
            requests,
            errors,
            p50: Some(p50),
            p99: Some(p99),
        }
    }

    #[test]
    fn bars_and_lines_follow_the_minutes() {
        let mut m = vec![MinuteStats::default(); 60];
        m[10] = minute(10, 2, 0.004, 0.02);
        m[59] = minute(5, 0, 0.003, 0.01);
        let r = requests(&m);
        assert_eq!(r.matches("<rect class=\"ok\"").count(), 2);
        assert_eq!(r.matches("<rect class=\"err\"").count(), 1);
        assert!(r.contains("10 / min"));
        let l = latency(&m);
        assert_eq!(l.matches("<polyline").count(), 2);
        assert!(l.contains("20 ms"), "{l}");
        let mut one = vec![MinuteStats::default(); 60];
        one[3] = minute(1, 0, 0.1, 0.2);
        assert_eq!(latency(&one).matches("<circle").count(), 2);
        let empty = latency(&vec![MinuteStats::default(); 60]);
        assert!(!empty.contains("<polyline") && !empty.contains("<circle"));
    }
}
