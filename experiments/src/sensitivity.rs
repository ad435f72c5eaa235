//! `dibsim analyze` and `dibsim discover`: which uncertain inputs drive a
//! result, and in which part of the input space an outcome holds, computed
//! on a finished sweep folder (its `points.csv`: each point's mean over
//! replicates) with the estimators of [`crate::analysis`].
//!
//! Indices are computed on the replicate mean of each design point, so
//! replicate noise enters them only as the variance of those means; the
//! share of variance that is noise is reported beside them, so that a user
//! sees when noise swamps a parameter. A design repeated for several
//! combinations of lever axes is analysed per combination ("group"), and,
//! pairing the same design rows, for the difference of each group from the
//! first (for example a policy scenario against the status quo).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use dibsim_core::rng::derive_seed;

use crate::analysis::{self, Interval95};
use crate::output::{csv_field, num};
use crate::sweep::spec::DesignInfo;
use crate::sweep::Manifest;

/// Bootstrap resamples for every interval.
pub const RESAMPLES: usize = 1000;

/// One number of `sensitivity.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityRow {
    pub metric: String,
    /// The lever combination, or "B - A" for a paired difference.
    pub group: String,
    pub parameter: String,
    pub index: String,
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

/// What `analyze` found: the indices, and why any metric was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub rows: Vec<SensitivityRow>,
    /// One sentence per metric that was not analysed (only when no metric
    /// was named: a named metric that cannot be analysed is an error).
    pub skipped: Vec<String>,
}

/// A finished sweep folder's design and per-point means.
pub struct Points {
    pub manifest: Manifest,
    pub design: Option<DesignInfo>,
    /// Axis values by point (in manifest axis order), numeric axes only.
    pub x: Vec<Vec<f64>>,
    /// Metric column -> (mean, sd, ok runs) per point.
    pub metrics: BTreeMap<String, Vec<(f64, f64, f64)>>,
}

impl Points {
    pub fn read(dir: &Path) -> Result<Points> {
        let manifest = Manifest::read(dir)?;
        if manifest.range != [0, manifest.runs] {
            bail!(
                "{} holds shard {}/{} only: merge the shards first (`dibsim merge`)",
                dir.display(),
                manifest.shard.index,
                manifest.shard.count
            );
        }
        let path = dir.join("points.csv");
        if !path.is_file() {
            bail!(
                "{} has no points.csv: the sweep is not finished (run it again with --resume)",
                dir.display()
            );
        }
        let mut rdr = csv::Reader::from_path(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let header: Vec<String> = rdr.headers()?.iter().map(str::to_string).collect();
        let at = |name: &str| -> Result<usize> {
            header
                .iter()
                .position(|h| h == name)
                .with_context(|| format!("{} has no column `{name}`", path.display()))
        };
        let axis_cols: Vec<usize> = manifest
            .axes
            .iter()
            .map(|a| at(&a.path))
            .collect::<Result<_>>()?;
        let (runs_col, failed_col) = (at("runs")?, at("failed")?);
        let metric_cols: Vec<(String, usize, usize)> = manifest
            .metrics
            .iter()
            .map(|m| {
                Ok((
                    m.name.clone(),
                    at(&format!("{}_mean", m.name))?,
                    at(&format!("{}_sd", m.name))?,
                ))
            })
            .collect::<Result<_>>()?;
        let mut x = Vec::new();
        let mut metrics: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
        let parse = |r: &csv::StringRecord, i: usize| -> f64 {
            match &r[i] {
                "true" => 1.0,
                "false" => 0.0,
                t => t.parse().unwrap_or(f64::NAN),
            }
        };
        for (k, r) in rdr.records().enumerate() {
            let r = r.with_context(|| format!("{} is damaged at row {}", path.display(), k + 1))?;
            x.push(axis_cols.iter().map(|&i| parse(&r, i)).collect());
            let ok = parse(&r, runs_col) - parse(&r, failed_col);
            for (name, m, s) in &metric_cols {
                metrics
                    .entry(name.clone())
                    .or_default()
                    .push((parse(&r, *m), parse(&r, *s), ok));
            }
        }
        if x.len() as u64 != manifest.points {
            bail!(
                "{} has {} points but the manifest says {}",
                path.display(),
                x.len(),
                manifest.points
            );
        }
        let design = manifest.design.clone();
        Ok(Points {
            manifest,
            design,
            x,
            metrics,
        })
    }

    /// The metric columns `wanted` names (a column name, or a metric name
    /// such as `share` for all its columns); all when `None`.
    pub fn select(&self, wanted: Option<&str>) -> Result<Vec<String>> {
        let all: Vec<String> = self.metrics.keys().cloned().collect();
        let Some(w) = wanted else {
            return Ok(all);
        };
        let hit: Vec<String> = self
            .manifest
            .metrics
            .iter()
            .filter(|m| m.name == w || m.metric == w)
            .map(|m| m.name.clone())
            .collect();
        if hit.is_empty() {
            bail!(
                "--metric {w}: the sweep kept no such metric (kept: {})",
                all.join(", ")
            );
        }
        Ok(hit)
    }
}

fn group_label(design: &DesignInfo, g: usize, x: &[f64]) -> String {
    if let Some(name) = design.group_names.get(g) {
        return name.clone();
    }
    if design.levers.is_empty() {
        return "all".into();
    }
    design
        .levers
        .iter()
        .zip(x)
        .map(|(l, v)| format!("{l}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn push(
    out: &mut Vec<SensitivityRow>,
    metric: &str,
    group: &str,
    parameter: &str,
    index: &str,
    i: Interval95,
) {
    out.push(SensitivityRow {
        metric: metric.into(),
        group: group.into(),
        parameter: parameter.into(),
        index: index.into(),
        value: i.value,
        lo: i.lo,
        hi: i.hi,
    });
}

fn point(v: f64) -> Interval95 {
    Interval95 {
        value: v,
        lo: f64::NAN,
        hi: f64::NAN,
    }
}

/// One analysed output: its label, the value per design row, and per row
/// (replicate sd, ok runs) for the noise share (empty for a difference).
type Series = (String, Vec<f64>, Vec<(f64, f64)>);

/// Every index of every selected metric (see the module doc).
pub fn analyze(dir: &Path, metric: Option<&str>) -> Result<Analysis> {
    let pts = Points::read(dir)?;
    let Some(design) = pts.design.clone() else {
        bail!(
            "{} is not a sensitivity sweep: `dibsim analyze` needs design \"saltelli\" or \"morris\" with [[uncertain]] inputs",
            dir.display()
        );
    };
    let names: Vec<String> = design.uncertain.iter().map(|u| u.path.clone()).collect();
    let (d, rows, groups) = (names.len(), design.rows as usize, design.groups as usize);
    let nl = design.levers.len();
    let unit = if design.kind == "morris" {
        Some(crate::analysis::morris::morris_unit(
            design.samples as usize,
            d,
            design.levels as usize,
            derive_seed(pts.manifest.seed, &[0x004d_4f52]),
        ))
    } else {
        None
    };
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let selected = pts.select(metric)?;
    for m in &selected {
        let cells = &pts.metrics[m];
        let bad: Vec<usize> = (0..cells.len())
            .filter(|&p| !cells[p].0.is_finite())
            .collect();
        if !bad.is_empty() {
            let why = format!(
                "metric {m}: {} design point(s) have no value (every replicate failed, or the metric is undefined there), e.g. point {}: an analysis needs every point",
                bad.len(),
                bad[0]
            );
            // A metric the user named must be analysable; of "every metric",
            // the analysable ones are analysed and the others reported.
            if metric.is_some() {
                bail!(why);
            }
            skipped.push(why);
            continue;
        }
        let mut series: Vec<Series> = Vec::new();
        for g in 0..groups {
            let span = g * rows..(g + 1) * rows;
            let y: Vec<f64> = cells[span.clone()].iter().map(|c| c.0).collect();
            let noise: Vec<(f64, f64)> = cells[span.clone()].iter().map(|c| (c.1, c.2)).collect();
            series.push((group_label(&design, g, &pts.x[g * rows][..nl]), y, noise));
        }
        // Each group's paired difference from the first.
        let deltas: Vec<Series> = series
            .iter()
            .skip(1)
            .map(|(lg, yg, _)| {
                let (l0, y0, _) = &series[0];
                let dy = yg.iter().zip(y0).map(|(a, b)| a - b).collect();
                (format!("{lg} minus {l0}"), dy, Vec::new())
            })
            .collect();
        series.extend(deltas);
        for (gi, (label, y, noise)) in series.iter().enumerate() {
            // Keyed by the metric's name, not its place among those asked
            // for: `--metric X` and a run over every metric give X the same
            // intervals.
            let seed = derive_seed(pts.manifest.seed, &[0x5345_4e53, name_key(m), gi as u64]);
            let x: Vec<Vec<f64>> = (0..rows)
                .map(|k| pts.x[(gi % groups.max(1)) * rows + k][nl..].to_vec())
                .collect();
            if design.kind == "saltelli" {
                let s = analysis::sobol::sobol(y, d, design.second_order, RESAMPLES, seed)
                    .with_context(|| format!("metric {m}, {label}"))?;
                for (j, n) in names.iter().enumerate() {
                    push(&mut out, m, label, n, "S1", s.s1[j]);
                    push(&mut out, m, label, n, "ST", s.st[j]);
                }
                if let Some(s2) = &s.s2 {
                    for j in 0..d {
                        for k in j + 1..d {
                            push(
                                &mut out,
                                m,
                                label,
                                &format!("{} x {}", names[j], names[k]),
                                "S2",
                                s2[j][k],
                            );
                        }
                    }
                }
            } else if let Some(unit) = &unit {
                let mo =
                    analysis::morris::morris(unit, y, d, design.levels as usize, RESAMPLES, seed)
                        .with_context(|| format!("metric {m}, {label}"))?;
                for (j, n) in names.iter().enumerate() {
                    push(&mut out, m, label, n, "mu", mo.mu[j]);
                    push(&mut out, m, label, n, "mu_star", mo.mu_star[j]);
                    push(&mut out, m, label, n, "sigma", point(mo.sigma[j]));
                }
            }
            match analysis::regression::src(&x, y) {
                Ok(src) => {
                    for (j, n) in names.iter().enumerate() {
                        push(&mut out, m, label, n, "src", point(src.beta[j]));
                    }
                    push(&mut out, m, label, "(linear model)", "r2", point(src.r2));
                }
                Err(e) => push(
                    &mut out,
                    m,
                    label,
                    &format!("(no linear model: {e})"),
                    "r2",
                    point(f64::NAN),
                ),
            }
            if !noise.is_empty() {
                let mean = y.iter().sum::<f64>() / y.len() as f64;
                let var_means =
                    y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (y.len().max(2) - 1) as f64;
                let within: Vec<(f64, f64)> = noise
                    .iter()
                    .filter(|(sd, n)| sd.is_finite() && *n >= 2.0)
                    .copied()
                    .collect();
                if !within.is_empty() {
                    let s2 =
                        within.iter().map(|(sd, _)| sd * sd).sum::<f64>() / within.len() as f64;
                    let s2_means =
                        within.iter().map(|(sd, n)| sd * sd / n).sum::<f64>() / within.len() as f64;
                    push(
                        &mut out,
                        m,
                        label,
                        "(replicate noise)",
                        "share_of_run_variance",
                        point(s2 / (s2 + var_means).max(1e-300)),
                    );
                    push(
                        &mut out,
                        m,
                        label,
                        "(replicate noise)",
                        "share_of_mean_variance",
                        point(s2_means / var_means.max(1e-300)),
                    );
                }
            }
        }
    }
    if out.is_empty() {
        bail!(
            "no metric of {} can be analysed: {}",
            dir.display(),
            skipped.join("; ")
        );
    }
    Ok(Analysis { rows: out, skipped })
}

/// A stable 64-bit key of a name (FNV-1a), for seeding.
fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `sensitivity.csv`.
pub fn sensitivity_csv(rows: &[SensitivityRow]) -> String {
    let mut s = String::from("metric,group,parameter,index,value,lo,hi\n");
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            csv_field(&r.metric),
            csv_field(&r.group),
            csv_field(&r.parameter),
            r.index,
            num(r.value),
            num(r.lo),
            num(r.hi)
        ));
    }
    s
}

/// What `dibsim discover` is asked: the cases of interest are the points
/// whose metric is below (or above) `threshold`; with `delta`, the metric is
/// each design row's difference between a lever group and the first.
#[derive(Debug, Clone)]
pub struct DiscoverSpec {
    pub metric: String,
    pub below: bool,
    pub threshold: f64,
    pub delta: bool,
    /// The density a chosen box must reach (EMA Workbench's default 0.8).
    pub density: f64,
}

/// A PRIM run: the inputs, the cases, the trajectory and the chosen box.
pub struct Discovery {
    pub spec: DiscoverSpec,
    pub inputs: Vec<String>,
    pub cases: usize,
    pub points: usize,
    pub result: analysis::prim::PrimResult,
}

pub fn discover(dir: &Path, spec: &DiscoverSpec) -> Result<Discovery> {
    let pts = Points::read(dir)?;
    let cols = pts.select(Some(&spec.metric))?;
    if cols.len() != 1 {
        bail!(
            "--metric {}: names {} columns ({}); name one",
            spec.metric,
            cols.len(),
            cols.join(", ")
        );
    }
    let cells = &pts.metrics[&cols[0]];
    let axes: Vec<String> = pts.manifest.axes.iter().map(|a| a.path.clone()).collect();
    let (inputs, x, y): (Vec<String>, Vec<Vec<f64>>, Vec<f64>) = if spec.delta {
        let Some(design) = &pts.design else {
            bail!("--delta needs a sweep with design \"saltelli\" or \"morris\" and lever axes");
        };
        if design.groups < 2 {
            bail!(
                "--delta needs at least two combinations of lever axes (this sweep has {})",
                design.groups
            );
        }
        let (rows, nl) = (design.rows as usize, design.levers.len());
        let x: Vec<Vec<f64>> = (0..rows).map(|k| pts.x[k][nl..].to_vec()).collect();
        let y: Vec<f64> = (0..rows).map(|k| cells[rows + k].0 - cells[k].0).collect();
        (axes[nl..].to_vec(), x, y)
    } else {
        // Numeric inputs only (a text axis, such as a variant's name, is not a dimension).
        let numeric: Vec<usize> = (0..axes.len())
            .filter(|&k| pts.x.iter().all(|r| r[k].is_finite()))
            .collect();
        (
            numeric.iter().map(|&k| axes[k].clone()).collect(),
            pts.x
                .iter()
                .map(|r| numeric.iter().map(|&k| r[k]).collect())
                .collect(),
            cells.iter().map(|c| c.0).collect(),
        )
    };
    let keep: Vec<usize> = (0..y.len())
        .filter(|&i| y[i].is_finite() && x[i].iter().all(|v| v.is_finite()))
        .collect();
    if keep.is_empty() {
        bail!("metric {}: no point has a value", cols[0]);
    }
    let xs: Vec<Vec<f64>> = keep.iter().map(|&i| x[i].clone()).collect();
    let cases: Vec<bool> = keep
        .iter()
        .map(|&i| {
            if spec.below {
                y[i] < spec.threshold
            } else {
                y[i] > spec.threshold
            }
        })
        .collect();
    let n_cases = cases.iter().filter(|&&c| c).count();
    if n_cases == 0 {
        let what = if spec.delta {
            format!(
                "the difference in {} (second lever group or variant minus the first)",
                cols[0]
            )
        } else {
            cols[0].clone()
        };
        bail!(
            "no point has {what} {} {}: nothing to discover ({} ranges from {} to {})",
            if spec.below { "below" } else { "above" },
            spec.threshold,
            if spec.delta {
                "the difference"
            } else {
                "the metric"
            },
            y.iter().cloned().fold(f64::INFINITY, f64::min),
            y.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        );
    }
    let result = analysis::prim::prim(&xs, &cases, spec.density)
        .with_context(|| format!("PRIM on {}", cols[0]))?;
    Ok(Discovery {
        spec: DiscoverSpec {
            metric: cols[0].clone(),
            ..spec.clone()
        },
        inputs,
        cases: n_cases,
        points: keep.len(),
        result,
    })
}

impl Discovery {
    /// `discovery.csv`: the peeling trajectory, one box a row.
    pub fn trajectory_csv(&self) -> String {
        let mut s = String::from("box,coverage,density,mass,restricted,chosen\n");
        for (i, b) in self.result.trajectory.iter().enumerate() {
            s.push_str(&format!(
                "{i},{},{},{},{},{}\n",
                num(b.coverage),
                num(b.density),
                num(b.mass),
                csv_field(
                    &b.restricted
                        .iter()
                        .map(|&k| self.inputs[k].as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                i == self.result.chosen
            ));
        }
        s
    }

    /// Writes `discovery.csv` and `discovery.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        crate::output::write_atomic(&dir.join("discovery.csv"), self.trajectory_csv().as_bytes())?;
        crate::output::write_atomic(
            &dir.join("discovery.json"),
            serde_json::to_string_pretty(&self.json())?.as_bytes(),
        )
    }

    /// `discovery.json`: the question, the chosen box and its limits.
    /// The box to report: the chosen box of the trajectory, pasted.
    pub fn chosen(&self) -> &analysis::prim::PrimBox {
        &self.result.pasted
    }

    pub fn json(&self) -> serde_json::Value {
        let b = self.chosen();
        let limits: serde_json::Map<String, serde_json::Value> = b
            .restricted
            .iter()
            .map(|&k| {
                (
                    self.inputs[k].clone(),
                    serde_json::json!([b.limits[k].0, b.limits[k].1]),
                )
            })
            .collect();
        serde_json::json!({
            "metric": self.spec.metric,
            "cases": if self.spec.below { "below" } else { "above" },
            "threshold": self.spec.threshold,
            "delta": self.spec.delta,
            "points": self.points,
            "cases_of_interest": self.cases,
            "density_threshold": self.spec.density,
            "chosen_box": self.result.chosen,
            "coverage": b.coverage,
            "density": b.density,
            "mass": b.mass,
            "restricted": b.restricted.iter().map(|&k| self.inputs[k].clone()).collect::<Vec<_>>(),
            "limits": limits,
            "inputs": self.inputs,
        })
    }
}
