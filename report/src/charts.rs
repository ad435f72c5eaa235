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
    // A flat range (one point, equal means) still needs distinct ticks: pad
    // by a share of the value itself.
    let pad = if hi - lo > 1e-12 * hi.abs().max(lo.abs()).max(1.0) {
        (hi - lo) * 0.05
    } else {
        (0.05 * hi.abs().max(lo.abs())).max(0.05)
    };
    (lo - if zero && lo == 0.0 { 0.0 } else { pad }, hi + pad)
}

/// The marker of series `k`: with eight colours and four markers, the
/// (colour, marker) pair stays distinct for 32 series.
fn marker_style(k: usize) -> usize {
    (k + k / PALETTE.len()) % 4
}

/// A legend entry as one polyline: the series' line with its marker's
/// outline in the middle, so the legend reads in greyscale too.
fn legend_glyph(style: usize, x: i32, y: i32) -> Vec<(i32, i32)> {
    let c = x + 9;
    let shape: Vec<(i32, i32)> = match style % 4 {
        0 => vec![
            (c - 4, y),
            (c - 3, y - 3),
            (c, y - 4),
            (c + 3, y - 3),
            (c + 4, y),
            (c + 3, y + 3),
            (c, y + 4),
            (c - 3, y + 3),
            (c - 4, y),
        ],
        1 => vec![
            (c - 4, y),
            (c - 4, y + 3),
            (c, y - 4),
            (c + 4, y + 3),
            (c - 4, y + 3),
            (c - 4, y),
        ],
        2 => vec![
            (c - 4, y),
            (c - 4, y - 4),
            (c + 4, y - 4),
            (c + 4, y + 4),
            (c - 4, y + 4),
            (c - 4, y),
        ],
        _ => vec![
            (c - 4, y - 4),
            (c + 4, y + 4),
            (c, y),
            (c + 4, y - 4),
            (c - 4, y + 4),
            (c, y),
        ],
    };
    let mut path = vec![(x, y)];
    path.extend(shape);
    path.push((x + 18, y));
    path
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
        } else if rows.iter().all(|r| r.mean.is_nan() || r.mean >= 0.0) {
            // Levels (a share, a wait) are not negative, whatever a t
            // interval's lower end says.
            x0 = x0.max(0.0);
        }
        let n = rows.len() as f64;
        // Room for the longest label (about 7 px a character at this size).
        let longest = rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0);
        let label_area = (longest as u32 * 7 + 16).clamp(150, WIDTH / 2);
        let mut chart = frame(&root, title, label_area)
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
                        vec![(r.lo.max(x0), y), (r.hi, y)],
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
        let (mut y0, y1) = range(all().flat_map(|p| [p.1, p.2, p.3]), false);
        // A share is not negative, whatever a t interval's lower end says.
        if all().all(|p| p.1.is_nan() || p.1 >= 0.0) {
            y0 = y0.max(0.0);
        }
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
            let style = marker_style(k);
            // A point whose runs all failed has no mean: the line breaks
            // there rather than dropping to the axis. The first piece (empty
            // if every point failed) carries the legend entry.
            let mut segments: Vec<&[(f64, f64, f64, f64)]> = s
                .pts
                .split(|p| !p.1.is_finite())
                .filter(|seg| !seg.is_empty())
                .collect();
            if segments.is_empty() {
                segments.push(&[]);
            }
            for (i, seg) in segments.into_iter().enumerate() {
                let drawn = chart
                    .draw_series(LineSeries::new(
                        seg.iter().map(|p| (p.0, p.1)),
                        c.stroke_width(2),
                    ))
                    .map_err(err)?;
                if i == 0 && !s.label.is_empty() {
                    drawn.label(s.label.clone()).legend(move |(x, y)| {
                        PathElement::new(legend_glyph(style, x, y), colour(k).stroke_width(2))
                    });
                }
            }
            for p in s.pts.iter().filter(|p| p.2.is_finite() && p.3.is_finite()) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.0, p.2.max(y0)), (p.0, p.3)],
                        c.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            let finite = s.pts.iter().filter(|p| p.1.is_finite());
            marker(&mut chart, style, finite.map(|p| (p.0, p.1)).collect(), c).map_err(err)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The points of every polyline in the colour of series `k`.
    fn polylines(svg: &str, k: usize) -> Vec<Vec<(i32, i32)>> {
        let c = colour(k);
        let stroke = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        svg.split("<polyline")
            .skip(1)
            .filter(|p| p.split("/>").next().is_some_and(|p| p.contains(&stroke)))
            .map(|p| {
                let points = p.split("points=\"").nth(1).unwrap_or("");
                let points = points.split('"').next().unwrap_or("");
                points
                    .split_whitespace()
                    .filter_map(|xy| xy.split_once(','))
                    .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_point_without_a_mean_breaks_the_line_instead_of_dropping_to_the_axis() {
        let pts = vec![
            (0.0, 0.1, 0.05, 0.15),
            (1.0, 0.2, 0.15, 0.25),
            (2.0, f64::NAN, f64::NAN, f64::NAN),
            (3.0, 0.3, 0.25, 0.35),
            (4.0, 0.4, 0.35, 0.45),
        ];
        let whole = param_line(
            "t",
            "x",
            "y",
            &[ParamSeries {
                label: String::new(),
                pts: pts.clone(),
            }],
        )
        .unwrap();
        assert!(!whole.contains("NaN"));
        // The lines (not the vertical whiskers): two of two points each,
        // none through the missing point.
        let lines: Vec<usize> = polylines(&whole, 0)
            .into_iter()
            .filter(|l| l.iter().any(|p| p.0 != l[0].0))
            .map(|l| l.len())
            .collect();
        assert_eq!(lines, vec![2, 2]);
        // The four whiskers of the points that have them.
        let whiskers = polylines(&whole, 0)
            .into_iter()
            .filter(|l| l.len() == 2 && l[0].0 == l[1].0)
            .count();
        assert_eq!(whiskers, 4);
    }

    #[test]
    fn a_flat_range_has_room_on_both_sides() {
        let (lo, hi) = range([0.5].into_iter(), false);
        assert!(lo < 0.5 && hi > 0.5 && hi - lo > 0.01, "{lo} {hi}");
        let (lo, hi) = range([0.0, 0.0].into_iter(), false);
        assert!(lo < 0.0 && hi > 0.0, "{lo} {hi}");
    }

    #[test]
    fn series_keep_distinct_colour_and_marker_pairs_past_the_palette() {
        let pairs: std::collections::HashSet<(usize, usize)> = (0..32)
            .map(|k| (k % PALETTE.len(), marker_style(k)))
            .collect();
        assert_eq!(pairs.len(), 32);
    }
}
