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

/// A waterfall: a total, the steps that changed it, the total they came
/// to; one horizontal bar each, a step's bar running from where the one
/// before ended. The words of each bar are the template's (by `key`).
#[derive(Debug, Clone, Serialize)]
pub struct Waterfall {
    pub width: f64,
    pub height: f64,
    pub label_width: f64,
    pub bars: Vec<WaterfallBar>,
    pub ticks: Vec<WaterfallTick>,
    /// The value where the axis starts: 0, or above it when the steps are
    /// small beside the totals (whose bars are then drawn cut).
    pub axis_from: i64,
    pub cut: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaterfallBar {
    pub key: &'static str,
    pub class: &'static str,
    pub total: bool,
    /// A total, or a step's change (negative for an outflow).
    pub value: i64,
    pub y: f64,
    pub x: f64,
    pub width: f64,
    /// Where the running total stands after this bar, for the connector to
    /// the next one; none after the last.
    pub next_x: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaterfallTick {
    pub at: f64,
    pub value: i64,
}

/// A step of a waterfall before layout.
pub struct WaterfallStep {
    pub key: &'static str,
    pub class: &'static str,
    pub change: i64,
}

/// The steps from `start` (its key and total) to `end` (the total the data
/// give, which the steps reach when the data are consistent). The axis
/// spans the running totals; it starts at 0 unless the steps would take
/// under a quarter of the width, when it starts a little below the lowest
/// running total, so that a change of a few hundred in fifty thousand
/// still shows.
pub fn waterfall(start: (&'static str, i64), steps: Vec<WaterfallStep>, end: (&'static str, i64)) -> Waterfall {
    let (width, label_width) = (720.0, 260.0);
    let plot = width - label_width - VALUE_SPACE;
    let mut running = vec![start.1];
    for s in &steps {
        running.push(running.last().copied().unwrap_or(0) + s.change);
    }
    running.push(end.1);
    let lo = running.iter().copied().min().unwrap_or(0);
    let hi = running.iter().copied().max().unwrap_or(0).max(1);
    let span = (hi - lo) as f64;
    // Whole numbers of members: a step of at least 1.
    let step = nice_step(span.max(1.0) / 4.0).max(1.0);
    let truncate = lo > 0 && lo as f64 > 3.0 * span;
    let from = if truncate { ((lo as f64 / step).floor() - 1.0) * step } else { 0.0 };
    // About four ticks over what the axis spans, on round values.
    let tick = nice_step((hi as f64 - from) / 4.0).max(1.0);
    let axis_from = ((from / tick).floor() * tick).max(0.0);
    let axis_to = ((hi as f64 / tick).ceil() * tick).max(axis_from + tick);
    let scale = plot / (axis_to - axis_from);
    let x = |v: i64| ((v as f64 - axis_from) * scale).clamp(0.0, plot);
    let row_y = |i: usize| TOP + i as f64 * (BAR_HEIGHT + BAR_GAP);
    let n = steps.len() + 2;
    let mut bars = Vec::with_capacity(n);
    bars.push(WaterfallBar {
        key: start.0,
        class: "wf-total",
        total: true,
        value: start.1,
        y: row_y(0),
        x: 0.0,
        width: x(start.1),
        next_x: Some(x(start.1)),
    });
    for (i, s) in steps.iter().enumerate() {
        let (from, to) = (running[i], running[i + 1]);
        let width = (x(from) - x(to)).abs();
        bars.push(WaterfallBar {
            key: s.key,
            class: s.class,
            total: false,
            value: s.change,
            y: row_y(i + 1),
            x: x(from.min(to)),
            // A change of one member is still a mark.
            width: if s.change != 0 { width.max(1.0) } else { 0.0 },
            next_x: Some(x(to)),
        });
    }
    bars.push(WaterfallBar {
        key: end.0,
        class: "wf-total",
        total: true,
        value: end.1,
        y: row_y(n - 1),
        x: 0.0,
        width: x(end.1),
        next_x: None,
    });
    let ticks = (0..=(((axis_to - axis_from) / tick).round() as usize))
        .map(|k| WaterfallTick { at: k as f64 * tick * scale, value: (axis_from + k as f64 * tick) as i64 })
        .collect();
    Waterfall {
        width,
        height: row_y(n) + AXIS,
        label_width,
        bars,
        ticks,
        axis_from: axis_from as i64,
        cut: axis_from > 0.0,
    }
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

    fn steps(changes: &[i64]) -> Vec<WaterfallStep> {
        changes.iter().map(|&change| WaterfallStep { key: "s", class: "x", change }).collect()
    }

    #[test]
    fn a_waterfall_runs_from_total_to_total() {
        // 6 → +1 → +1 → −2 → −1 → +0 → −1 → 4: from 0 to 8 (the span 4 is half of it, no cut).
        let w = waterfall(("start", 6), steps(&[1, 1, -2, -1, 0, -1]), ("end", 4));
        let plot = w.width - w.label_width - VALUE_SPACE;
        assert_eq!(w.bars.len(), 8, "one bar per step and the two totals");
        assert!(!w.cut && w.axis_from == 0);
        let unit = plot / 8.0;
        let xs: Vec<(f64, f64)> = w.bars.iter().map(|b| (b.x / unit, b.width / unit)).collect();
        let expected = [(0.0, 6.0), (6.0, 1.0), (7.0, 1.0), (6.0, 2.0), (5.0, 1.0), (5.0, 0.0), (4.0, 1.0), (0.0, 4.0)];
        for (got, want) in xs.iter().zip(expected) {
            assert!((got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9, "{xs:?}");
        }
        assert!(w.bars.windows(2).all(|p| p[1].y > p[0].y));
        assert_eq!(w.bars[3].value, -2);
        assert_eq!(w.ticks.iter().map(|t| t.value).collect::<Vec<_>>(), [0, 2, 4, 6, 8]);
        // A region of 190 000 growing by 50 000: five round ticks, not eleven.
        let w = waterfall(("start", 141_533), steps(&[49_832, -18_652]), ("end", 172_713));
        assert!(!w.cut);
        assert_eq!(w.ticks.iter().map(|t| t.value).collect::<Vec<_>>(), [0, 50_000, 100_000, 150_000, 200_000]);
    }

    #[test]
    fn small_steps_beside_large_totals_cut_the_axis() {
        // 50 000 → +1 200 → −900 → 50 300: the span 1 200 is small beside 50 000.
        let w = waterfall(("start", 50_000), steps(&[1_200, -900]), ("end", 50_300));
        assert!(w.cut);
        // The axis from a step (1 200 / 4 → 500) below 50 000, ticks every 500.
        assert_eq!((w.axis_from, w.ticks[1].value - w.ticks[0].value), (49_500, 500));
        assert_eq!(w.ticks.last().unwrap().value, 51_500);
        let plot = w.width - w.label_width - VALUE_SPACE;
        assert!((w.bars[1].width - plot * 1_200.0 / 2_000.0).abs() < 1e-9, "steps keep their scale");
        assert!((w.bars[0].width - plot * 500.0 / 2_000.0).abs() < 1e-9);
        // Nothing to show: the totals still draw.
        let flat = waterfall(("start", 0), steps(&[0, 0]), ("end", 0));
        assert!(!flat.cut && flat.bars.iter().all(|b| b.width == 0.0));
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
