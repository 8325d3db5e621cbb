//! Chart geometry: where each bar, point and tile goes, in SVG user units.
//! The SVG markup itself is in `dashboards/templates/charts.svg.j2`; this
//! module only does the arithmetic, so a chart is data a template draws.

use serde::Serialize;

/// Horizontal bars, one per row, with a label on the left and the value on
/// the right; optional vertical reference line (e.g. the national value).
#[derive(Debug, Clone, Serialize)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub label_width: f64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub reference: Option<Reference>,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub label: String,
    pub y: f64,
    pub width: f64,
    pub value: String,
    pub class: String,
    pub href: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub x: f64,
    pub label: String,
}

/// One row of a bar chart before layout.
pub struct BarInput {
    pub label: String,
    pub value: f64,
    pub shown: String,
    pub class: String,
    pub href: Option<String>,
}

const BAR_HEIGHT: f64 = 18.0;
const BAR_GAP: f64 = 4.0;
const TOP: f64 = 8.0;
const AXIS: f64 = 22.0;
const VALUE_SPACE: f64 = 90.0;

/// Bars scaled to the largest value (or `max`, e.g. 100 for percentages
/// that rarely exceed it), ticks every `step`.
pub fn bars(
    title: &str,
    rows: Vec<BarInput>,
    max: Option<f64>,
    step: f64,
    tick_label: impl Fn(f64) -> String,
    reference: Option<(f64, String)>,
) -> BarChart {
    let width = 720.0;
    let label_width = 260.0;
    let plot = width - label_width - VALUE_SPACE;
    let largest = rows.iter().map(|r| r.value).fold(0.0, f64::max);
    let top = max.unwrap_or(0.0).max(largest).max(reference.as_ref().map_or(0.0, |r| r.0)).max(step);
    // One outlier (a region with a tiny official figure) must not squash
    // every other bar: the axis stops at twice the expected maximum and
    // longer bars are cut there (their value is still written).
    let top = max.map_or(top, |m| top.min(2.0 * m));
    let top = (top / step).ceil() * step;
    let scale = plot / top;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| Bar {
            label: r.label,
            y: TOP + i as f64 * (BAR_HEIGHT + BAR_GAP),
            width: (r.value.max(0.0) * scale).clamp(if r.value > 0.0 { 1.0 } else { 0.0 }, plot),
            value: r.shown,
            class: r.class,
            href: r.href,
        })
        .collect::<Vec<_>>();
    let plot_height = TOP + bars.len() as f64 * (BAR_HEIGHT + BAR_GAP);
    let ticks = (0..=((top / step).round() as usize))
        .map(|k| Tick { at: k as f64 * step * scale, label: tick_label(k as f64 * step) })
        .collect();
    BarChart {
        width,
        height: plot_height + AXIS,
        label_width,
        bars,
        ticks,
        reference: reference.map(|(v, label)| Reference { x: v * scale, label }),
        title: title.to_string(),
    }
}

/// A line over dates: one point per snapshot in the warehouse.
#[derive(Debug, Clone, Serialize)]
pub struct TrendChart {
    pub width: f64,
    pub height: f64,
    pub points: Vec<TrendPoint>,
    /// `x,y x,y …` for the polyline.
    pub line: String,
    pub ticks: Vec<Tick>,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub value: String,
}

/// Points are spaced evenly (snapshots are what there is, not a calendar).
/// The vertical axis starts at 0 so growth is not exaggerated.
pub fn trend(title: &str, points: Vec<(String, f64, String)>, tick_label: impl Fn(f64) -> String) -> TrendChart {
    let (width, height) = (720.0, 220.0);
    let (left, right, top, bottom) = (90.0, 30.0, 16.0, 36.0);
    let plot_h = height - top - bottom;
    let (ymax, ticks) = value_axis(points.iter().map(|p| p.1), top, plot_h, tick_label);
    // Points stay clear of the axis labels on the left and the edge on the right.
    let inset = 40.0;
    let plot_w = width - left - right - 2.0 * inset;
    let n = points.len();
    let points: Vec<TrendPoint> = points
        .into_iter()
        .enumerate()
        .map(|(i, (label, v, value))| TrendPoint {
            x: left + inset + if n > 1 { plot_w * i as f64 / (n - 1) as f64 } else { plot_w / 2.0 },
            y: top + plot_h * (1.0 - v / ymax),
            label,
            value,
        })
        .collect();
    let line = points.iter().map(|p| format!("{:.1},{:.1}", p.x, p.y)).collect::<Vec<_>>().join(" ");
    TrendChart { width, height, points, line, ticks, title: title.to_string() }
}

/// A small line of one indicator over the quarters, drawn beside its
/// figures (which the table cells carry: the line adds no number of its own).
#[derive(Debug, Clone, Serialize)]
pub struct Sparkline {
    pub width: f64,
    pub height: f64,
    /// `x,y x,y …`, one polyline per run of quarters with a value: a quarter
    /// without one breaks the line rather than bridging it.
    pub lines: Vec<String>,
    /// The last quarter's point, marked.
    pub last: Option<(f64, f64)>,
}

/// Scaled between the series' own lowest and highest values (a sparkline
/// shows the shape; the flat line of an unchanged series sits in the middle).
/// Nothing to draw without two values.
pub fn sparkline(values: &[Option<f64>]) -> Option<Sparkline> {
    let (width, height, pad) = (96.0, 24.0, 3.0);
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    if known.len() < 2 {
        return None;
    }
    let (lo, hi) = known.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let n = values.len();
    let x = |i: usize| pad + (width - 2.0 * pad) * i as f64 / (n - 1).max(1) as f64;
    let y = |v: f64| if hi > lo { pad + (height - 2.0 * pad) * (1.0 - (v - lo) / (hi - lo)) } else { height / 2.0 };
    let mut lines = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push(format!("{:.1},{:.1}", x(i), y(*v))),
            None if !run.is_empty() => lines.push(std::mem::take(&mut run).join(" ")),
            None => {}
        }
    }
    if !run.is_empty() {
        lines.push(run.join(" "));
    }
    let last = values.iter().enumerate().rev().find_map(|(i, v)| v.map(|v| (x(i), y(v))));
    Some(Sparkline { width, height, lines, last })
}

/// Vertical bars over months (PROFCARDS purchases).
#[derive(Debug, Clone, Serialize)]
pub struct ColumnChart {
    pub width: f64,
    pub height: f64,
    pub columns: Vec<Column>,
    pub ticks: Vec<Tick>,
    pub base: f64,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Shown under the column (only where it fits: every `label_every`-th).
    pub label: Option<String>,
    pub title: String,
}

pub fn columns(title: &str, values: Vec<(String, f64, String)>, tick_label: impl Fn(f64) -> String) -> ColumnChart {
    let (width, height) = (720.0, 220.0);
    let (left, right, top, bottom) = (90.0, 10.0, 12.0, 36.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let (ymax, ticks) = value_axis(values.iter().map(|v| v.1), top, plot_h, tick_label);
    let n = values.len().max(1);
    let slot = plot_w / n as f64;
    let label_every = (n as f64 / 8.0).ceil().max(1.0) as usize;
    let columns = values
        .into_iter()
        .enumerate()
        .map(|(i, (label, v, shown))| {
            let h = plot_h * v / ymax;
            Column {
                x: left + slot * i as f64 + slot * 0.1,
                y: top + plot_h - h,
                w: slot * 0.8,
                h,
                title: format!("{label}: {shown}"),
                label: (i % label_every == 0).then_some(label),
            }
        })
        .collect();
    ColumnChart { width, height, columns, ticks, base: top + plot_h, title: title.to_string() }
}

/// The tile-grid map: one square per regional organization at its
/// reference position.
#[derive(Debug, Clone, Serialize)]
pub struct TileMap {
    pub width: f64,
    pub height: f64,
    pub size: f64,
    pub tiles: Vec<Tile>,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tile {
    pub x: f64,
    pub y: f64,
    pub code: String,
    pub value: String,
    pub class: String,
    pub title: String,
    pub href: String,
}

pub struct TileInput {
    pub row: u16,
    pub col: u16,
    pub code: String,
    pub value: String,
    pub class: String,
    pub title: String,
    pub href: String,
}

pub fn tile_map(title: &str, tiles: Vec<TileInput>) -> TileMap {
    let size = 44.0;
    let gap = 3.0;
    let rows = tiles.iter().map(|t| t.row).max().unwrap_or(0) as f64 + 1.0;
    let cols = tiles.iter().map(|t| t.col).max().unwrap_or(0) as f64 + 1.0;
    let tiles = tiles
        .into_iter()
        .map(|t| Tile {
            x: f64::from(t.col) * (size + gap),
            y: f64::from(t.row) * (size + gap),
            code: t.code,
            value: t.value,
            class: t.class,
            title: t.title,
            href: t.href,
        })
        .collect();
    TileMap { width: cols * (size + gap), height: rows * (size + gap), size, tiles, title: title.to_string() }
}

/// A vertical axis from 0 to a round value above the largest of `values`,
/// about four ticks, for a plot `plot_h` high starting at `top`: the axis's
/// top value and its ticks.
fn value_axis(
    values: impl Iterator<Item = f64>,
    top: f64,
    plot_h: f64,
    tick_label: impl Fn(f64) -> String,
) -> (f64, Vec<Tick>) {
    let largest = values.fold(0.0, f64::max).max(1.0);
    let step = nice_step(largest / 4.0);
    let ymax = (largest / step).ceil() * step;
    let ticks = (0..=((ymax / step).round() as usize))
        .map(|k| Tick { at: top + plot_h * (1.0 - k as f64 * step / ymax), label: tick_label(k as f64 * step) })
        .collect();
    (ymax, ticks)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_spans_its_values_and_breaks_at_a_gap() {
        let s = sparkline(&[Some(10.0), Some(20.0), None, Some(15.0)]).unwrap();
        // Lowest at the bottom (24 − 3), highest at the top (3), the gap splits the line.
        assert_eq!(s.lines, ["3.0,21.0 33.0,3.0", "93.0,12.0"]);
        assert_eq!(s.last, Some((93.0, 12.0)));
        assert!(sparkline(&[Some(1.0), None]).is_none());
        let flat = sparkline(&[Some(5.0), Some(5.0)]).unwrap();
        assert_eq!(flat.lines, ["3.0,12.0 93.0,12.0"]);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(774_000.0), 1_000_000.0);
        assert_eq!(nice_step(260_000.0), 500_000.0);
        assert_eq!(nice_step(12.0), 20.0);
    }

    #[test]
    fn bars_scale_to_the_axis() {
        let rows = vec![
            BarInput { label: "a".into(), value: 50.0, shown: "50".into(), class: "x".into(), href: None },
            BarInput { label: "b".into(), value: 100.0, shown: "100".into(), class: "x".into(), href: None },
        ];
        let chart = bars("t", rows, Some(100.0), 25.0, |v| v.to_string(), None);
        let plot = chart.width - chart.label_width - VALUE_SPACE;
        assert!((chart.bars[1].width - plot).abs() < 1e-9);
        assert!((chart.bars[0].width - plot / 2.0).abs() < 1e-9);
        assert_eq!(chart.ticks.len(), 5);
        assert!(chart.bars[1].y > chart.bars[0].y);
    }

    #[test]
    fn trend_starts_at_zero() {
        let chart =
            trend("t", vec![("a".into(), 50.0, "50".into()), ("b".into(), 100.0, "100".into())], |v| v.to_string());
        // 100 is the top tick, 50 half-way down the plot.
        assert!(chart.points[1].y < chart.points[0].y);
        let bottom = chart.ticks[0].at;
        let top = chart.ticks.last().unwrap().at;
        assert!((chart.points[0].y - (bottom + top) / 2.0).abs() < 1e-6);
    }
}
