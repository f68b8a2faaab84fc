//! The samples as CSV and as an SVG of RSS, p99 latency and throughput over time.

use crate::probe::Sample;
use plotters::prelude::*;
use std::fmt::Write;
use std::path::Path;

pub fn csv(samples: &[Sample], path: &Path) {
    let mut s =
        String::from("t_s,phase,rss_kib,fds,db_conns,requests,rps,p50_ms,p99_ms,errors,backlog\n");
    for x in samples {
        let db = x.db_conns.map(|n| n.to_string()).unwrap_or_default();
        writeln!(
            s,
            "{:.1},{},{},{},{db},{},{:.1},{:.2},{:.2},{},{}",
            x.t,
            x.phase,
            x.rss_kib,
            x.fds,
            x.requests,
            x.rps,
            x.p50_ms,
            x.p99_ms,
            x.errors,
            x.backlog
        )
        .expect("format");
    }
    std::fs::write(path, s).expect("write CSV");
}

/// One panel: a series over minutes, with its y axis from 0 to a little above its maximum.
fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    title: &str,
    unit: &str,
    points: Vec<(f64, f64)>,
    color: RGBColor,
) {
    let x_max = points.iter().map(|p| p.0).fold(0.0, f64::max).max(0.1);
    let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .expect("chart");
    chart
        .configure_mesh()
        .x_desc("minutes")
        .y_desc(unit)
        .draw()
        .expect("mesh");
    chart
        .draw_series(LineSeries::new(points, color.stroke_width(2)))
        .expect("series");
}

pub fn svg(samples: &[Sample], path: &Path, title: &str) {
    let root = SVGBackend::new(path, (900, 860)).into_drawing_area();
    root.fill(&WHITE).expect("background");
    let (head, body) = root.split_vertically(30);
    head.draw_text(title, &("sans-serif", 16).into_text_style(&head), (10, 8))
        .expect("title");
    let panels = body.split_evenly((3, 1));
    let series = |f: &dyn Fn(&Sample) -> f64| -> Vec<(f64, f64)> {
        samples.iter().map(|s| (s.t / 60.0, f(s))).collect()
    };
    panel(
        &panels[0],
        "RSS of ncpeh serve",
        "MiB",
        series(&|s| s.rss_kib as f64 / 1024.0),
        BLUE,
    );
    panel(
        &panels[1],
        "p99 latency per 10 s",
        "ms",
        series(&|s| s.p99_ms),
        RED,
    );
    panel(
        &panels[2],
        "throughput (peak phase first, then the paced soak)",
        "req/s",
        series(&|s| s.rps),
        GREEN,
    );
    root.present().expect("write SVG");
}
