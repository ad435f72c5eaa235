//! The charts, drawn with plotters' SVG backend into strings. Colours are
//! the Okabe-Ito palette (distinct for colour-blind readers); every series
//! also has its own dash pattern and marker, so charts read in greyscale.

use anyhow::{anyhow, Result};
use plotters::prelude::*;

pub const WIDTH: u32 = 820;
pub const HEIGHT: u32 = 400;

const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One series over time: mean and, optionally, its 95% band.
pub struct Line {
    pub label: String,
    pub x: Vec<f64>,
    pub mean: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub style: usize,
    /// Drawn thin and dashed (the baseline beside a scenario).
    pub reference: bool,
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// Every chart's frame: a caption and room for the axis labels (`y_area`
/// pixels for the y labels).
fn frame<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_area: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(y_area);
    b
}

fn range(values: impl Iterator<Item = f64>, zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if zero {
        lo = lo.min(0.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - if zero && lo == 0.0 { 0.0 } else { pad }, hi + pad)
}

fn marker<DB: DrawingBackend>(
    area: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    style: usize,
    pts: Vec<(f64, f64)>,
    c: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    match style % 4 {
        0 => area.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))?,
        1 => area.draw_series(
            pts.into_iter()
                .map(|p| TriangleMarker::new(p, 4, c.filled())),
        )?,
        2 => area.draw_series(
            pts.into_iter()
                .map(|p| Rectangle::new([p, p], c.stroke_width(5))),
        )?,
        _ => area.draw_series(pts.into_iter().map(|p| Cross::new(p, 4, c.stroke_width(2))))?,
    };
    Ok(())
}

/// Lines over time (x in years), with bands, a legend and axis labels.
pub fn time_chart(title: &str, y_label: &str, lines: &[Line], percent: bool) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (x0, x1) = range(lines.iter().flat_map(|l| l.x.iter().copied()), false);
        let (y0, y1) = range(
            lines
                .iter()
                .flat_map(|l| l.mean.iter().chain(&l.lo).chain(&l.hi).copied()),
            true,
        );
        let scale = if percent { 100.0 } else { 1.0 };
        let mut chart = frame(&root, title, 64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("year")
            .y_desc(y_label)
            .x_label_formatter(&|x| format!("{:.0}", x.floor()))
            .y_label_formatter(&|y| {
                if percent {
                    format!("{:.0}%", y * scale)
                } else {
                    format!("{y:.0}")
                }
            })
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        for l in lines {
            let c = colour(l.style);
            let band: Vec<(f64, f64)> =
                l.x.iter()
                    .zip(&l.hi)
                    .filter(|(_, y)| y.is_finite())
                    .map(|(x, y)| (*x, *y))
                    .chain(
                        l.x.iter()
                            .zip(&l.lo)
                            .filter(|(_, y)| y.is_finite())
                            .map(|(x, y)| (*x, *y))
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev(),
                    )
                    .collect();
            if !l.reference && band.len() > 2 {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))
                    .map_err(err)?;
            }
            let pts: Vec<(f64, f64)> =
                l.x.iter()
                    .zip(&l.mean)
                    .filter(|(_, y)| y.is_finite())
                    .map(|(x, y)| (*x, *y))
                    .collect();
            let drawn = if l.reference {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 6, 4, c.stroke_width(1)))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                    .map_err(err)?
            };
            let style = l.style;
            // The baseline's dashed lines share their exporter's colour and
            // are explained in the caption, not the legend.
            if !l.reference {
                drawn.label(l.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour(style).stroke_width(2))
                });
            }
            if !l.reference {
                // A marker a year, so lines differ in greyscale too.
                let every: Vec<(f64, f64)> = pts.iter().step_by(12).copied().collect();
                marker(&mut chart, l.style, every, c).map_err(err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One row of a dot-and-whisker chart.
pub struct Whisker {
    pub label: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// What a dot-and-whisker chart's values are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Differences: a zero line, and rows whose interval excludes zero
    /// drawn filled in colour.
    Differences,
    /// Levels (percentages): no zero line, every row alike.
    Levels,
}

/// Horizontal dots with 95% whiskers, one row per label.
pub fn dot_whisker(title: &str, x_label: &str, rows: &[Whisker], values: Values) -> Result<String> {
    let differences = values == Values::Differences;
    let mut svg = String::new();
    let height = (80 + 26 * rows.len() as u32).max(160);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (mut x0, mut x1) = range(rows.iter().flat_map(|r| [r.lo, r.hi, r.mean]), differences);
        if differences {
            x1 = x1.max(0.0) + 1e-9;
            x0 = x0.min(0.0);
        }
        let n = rows.len() as f64;
        let mut chart = frame(&root, title, 150)
            .build_cartesian_2d(x0..x1, -0.5..(n - 0.5))
            .map_err(err)?;
        let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[labels.len() - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| {
                if differences {
                    format!("{x:+.1}")
                } else {
                    format!("{x:.1}")
                }
            })
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        if differences {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, -0.5), (0.0, n - 0.5)],
                    BLACK.stroke_width(1),
                )))
                .map_err(err)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            let significant = !differences || r.lo > 0.0 || r.hi < 0.0;
            let c = if significant {
                colour(0)
            } else {
                RGBColor(120, 120, 120)
            };
            if r.lo.is_finite() && r.hi.is_finite() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(r.lo, y), (r.hi, y)],
                        c.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            if r.mean.is_finite() {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (r.mean, y),
                        5,
                        if significant {
                            c.filled()
                        } else {
                            c.stroke_width(2)
                        },
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One series of a parameter chart: the points at one value of the other
/// (non-numeric) swept parameters, as (x, mean, lo, hi).
pub struct ParamSeries {
    /// Empty when the chart has one series (no legend then).
    pub label: String,
    pub pts: Vec<(f64, f64, f64, f64)>,
}

/// A swept parameter against a metric: mean with 95% whiskers and a line,
/// one line per series (its own colour and marker, in the legend).
pub fn param_line(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[ParamSeries],
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let all = || series.iter().flat_map(|s| s.pts.iter());
        let (x0, x1) = range(all().map(|p| p.0), false);
        let (y0, y1) = range(all().flat_map(|p| [p.1, p.2, p.3]), false);
        let mut chart = frame(&root, title, 64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .y_label_formatter(&|y| format!("{:.1}%", y * 100.0))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        for (k, s) in series.iter().enumerate() {
            let c = colour(k);
            let drawn = chart
                .draw_series(LineSeries::new(
                    s.pts.iter().map(|p| (p.0, p.1)),
                    c.stroke_width(2),
                ))
                .map_err(err)?;
            if !s.label.is_empty() {
                drawn.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour(k).stroke_width(2))
                });
            }
            for p in &s.pts {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.0, p.2), (p.0, p.3)],
                        c.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            marker(&mut chart, k, s.pts.iter().map(|p| (p.0, p.1)).collect(), c).map_err(err)?;
        }
        if series.iter().any(|s| !s.label.is_empty()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A heat map of a metric over two swept parameters (cells at the grid's
/// values), with each cell's value written in it.
pub fn heat_map(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[f64],
    ys: &[f64],
    cell: &dyn Fn(usize, usize) -> f64,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT + 60)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let nx = xs.len().max(1) as f64;
        let ny = ys.len().max(1) as f64;
        let values: Vec<f64> = (0..xs.len())
            .flat_map(|i| (0..ys.len()).map(move |j| (i, j)))
            .map(|(i, j)| cell(i, j))
            .filter(|v| v.is_finite())
            .collect();
        let (lo, hi) = range(values.iter().copied(), false);
        let mut chart = frame(&root, title, 70)
            .build_cartesian_2d(0.0..nx, 0.0..ny)
            .map_err(err)?;
        let (xl, yl) = (xs.to_vec(), ys.to_vec());
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(xs.len() * 2 + 1)
            .y_labels(ys.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let i = (x - 0.5).round();
                if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < xl.len() {
                    format!("{}", xl[i as usize])
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| {
                let j = (y - 0.5).round();
                if (y - 0.5 - j).abs() < 1e-6 && j >= 0.0 && (j as usize) < yl.len() {
                    format!("{}", yl[j as usize])
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(err)?;
        for i in 0..xs.len() {
            for j in 0..ys.len() {
                let v = cell(i, j);
                // A light-to-dark blue ramp: its order survives greyscale.
                let f = if v.is_finite() {
                    ((v - lo) / (hi - lo).max(1e-12)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let shade = |a: f64, b: f64| (a + (b - a) * f) as u8;
                let c = RGBColor(shade(240.0, 8.0), shade(244.0, 48.0), shade(250.0, 107.0));
                let (x, y) = (i as f64, j as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        c.filled(),
                    )))
                    .map_err(err)?;
                let text = if v.is_finite() {
                    format!("{:.1}%", v * 100.0)
                } else {
                    "n/a".into()
                };
                let ink = if f > 0.55 { WHITE } else { BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x + 0.35, y + 0.55),
                        ("sans-serif", 13).into_font().color(&ink),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}
