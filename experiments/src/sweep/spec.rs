//! The sweep file and the design it describes: which parameter points, how
//! many replicates, which seeds, and which metrics to keep.
//!
//! Everything a run needs is a pure function of the sweep file and the run's
//! index, so any run can be found again (by a resumed sweep, a shard, or a
//! researcher re-running it with `dibsim run`) without a saved plan.

use std::path::Path;

use anyhow::{bail, Context, Result};
use dibsim_core::rng::derive_seed;
use dibsim_core::Scenario;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use toml::Value;

use crate::loader::{self, Composed};

/// A sweep file as written (see README, "Parameter sweeps").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Scenario file (relative to the sweep file) or bundled name.
    pub base: String,
    #[serde(default)]
    pub design: Design,
    /// Points drawn by `lhs` and `sobol` designs.
    #[serde(default)]
    pub samples: Option<u32>,
    pub replicates: u32,
    #[serde(default = "one")]
    pub seed: u64,
    #[serde(default = "yes")]
    pub common_random_numbers: bool,
    #[serde(default)]
    pub axes: Vec<AxisSpec>,
    /// What nobody controls: sampled by designs "saltelli" and "morris".
    #[serde(default)]
    pub uncertain: Vec<UncertainSpec>,
    /// Designs "saltelli" and "morris": the same design also run on these
    /// scenarios (files relative to the sweep file, or bundled names), so
    /// that `analyze` can attribute each one's difference from `base`.
    #[serde(default)]
    pub variants: Vec<String>,
    /// Design "saltelli": also sample for second-order indices.
    #[serde(default)]
    pub second_order: bool,
    /// Design "morris": grid levels p (even; default 4).
    #[serde(default)]
    pub levels: Option<u32>,
    #[serde(default)]
    pub output: OutputSpec,
}

/// An uncertain input: a field nobody controls (a behaviour weight, demand,
/// an approval spread, a lead time), with the range it may take and why.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UncertainSpec {
    pub path: String,
    #[serde(default)]
    pub distribution: Distribution,
    /// [low, high]: the support (a normal is truncated to it).
    pub bounds: [f64; 2],
    /// Triangular: the most likely value.
    #[serde(default)]
    pub mode: Option<f64>,
    /// Normal: mean and standard deviation before truncation.
    #[serde(default)]
    pub mean: Option<f64>,
    #[serde(default)]
    pub sd: Option<f64>,
    /// Why the range is what it is (kept in the manifest).
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    #[default]
    Uniform,
    Loguniform,
    Triangular,
    Normal,
}

impl UncertainSpec {
    fn check(&self) -> Result<(), String> {
        let [lo, hi] = self.bounds;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(format!(
                "bounds [{lo}, {hi}] must be finite with low < high"
            ));
        }
        if self.reason.trim().is_empty() {
            return Err("`reason` must say why the range is what it is".into());
        }
        match self.distribution {
            Distribution::Loguniform if lo <= 0.0 => {
                return Err(format!(
                    "loguniform needs positive bounds (got [{lo}, {hi}])"
                ))
            }
            Distribution::Triangular => match self.mode {
                Some(m) if (lo..=hi).contains(&m) => {}
                Some(m) => return Err(format!("mode {m} is outside the bounds [{lo}, {hi}]")),
                None => return Err("triangular needs `mode`".into()),
            },
            Distribution::Normal => match (self.mean, self.sd) {
                (Some(_), Some(sd)) if sd > 0.0 => {}
                (Some(_), Some(sd)) => return Err(format!("sd must be positive (got {sd})")),
                _ => return Err("normal needs `mean` and `sd`".into()),
            },
            _ => {}
        }
        let named = |f: Option<f64>, what: &str, ok: bool| -> Result<(), String> {
            if f.is_some() && !ok {
                Err(format!(
                    "`{what}` does not apply to a {:?} distribution",
                    self.distribution
                )
                .to_lowercase())
            } else {
                Ok(())
            }
        };
        named(
            self.mode,
            "mode",
            self.distribution == Distribution::Triangular,
        )?;
        named(self.mean, "mean", self.distribution == Distribution::Normal)?;
        named(self.sd, "sd", self.distribution == Distribution::Normal)?;
        Ok(())
    }

    /// The value at unit coordinate `u` in [0, 1]: the inverse of the
    /// distribution's CDF.
    pub fn value_at(&self, u: f64) -> f64 {
        let [lo, hi] = self.bounds;
        let u = u.clamp(0.0, 1.0);
        match self.distribution {
            Distribution::Uniform => lo + u * (hi - lo),
            Distribution::Loguniform => (lo.ln() + u * (hi.ln() - lo.ln())).exp(),
            Distribution::Triangular => {
                let m = self.mode.unwrap_or(0.5 * (lo + hi));
                let f = (m - lo) / (hi - lo);
                if u < f {
                    lo + (u * (hi - lo) * (m - lo)).sqrt()
                } else {
                    hi - ((1.0 - u) * (hi - lo) * (hi - m)).sqrt()
                }
            }
            Distribution::Normal => {
                let (mu, sd) = (self.mean.unwrap_or(0.5 * (lo + hi)), self.sd.unwrap_or(1.0));
                let (a, b) = (normal_cdf((lo - mu) / sd), normal_cdf((hi - mu) / sd));
                let p = (a + u * (b - a)).clamp(1e-16, 1.0 - 1e-16);
                (mu + sd * normal_quantile(p)).clamp(lo, hi)
            }
        }
    }
}

/// Phi(x), from erfc (W. J. Cody's rational approximations would be exact
/// to the last bit; this one, Numerical Recipes' erfc, is within 1.2e-7,
/// which places a sample, not a result).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - 0.5 * r
    } else {
        0.5 * r
    }
}

/// Phi^-1(p), Acklam's approximation (relative error below 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// What an analysis needs to know of a sweep's design (in the manifest).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct DesignInfo {
    /// "saltelli" or "morris".
    pub kind: String,
    /// Base samples N (saltelli) or trajectories r (morris).
    pub samples: u32,
    pub second_order: bool,
    pub levels: u32,
    /// Design rows per combination of the lever axes.
    pub rows: u64,
    /// Combinations of the lever axes (the design is repeated for each).
    pub groups: u64,
    /// The lever axes (first in each point), then the uncertain inputs.
    pub levers: Vec<String>,
    /// With `variants`: the scenario of each group (the base first).
    #[serde(default)]
    pub group_names: Vec<String>,
    pub uncertain: Vec<UncertainSpec>,
}

fn one() -> u64 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Design {
    /// Every combination of the axes' values.
    #[default]
    Factorial,
    /// The i-th values of every axis together (axes of equal length).
    Zip,
    /// A Latin hypercube of `samples` points over the axes' bounds.
    Lhs,
    /// An Owen-scrambled Sobol sequence of `samples` points over the bounds.
    Sobol,
    /// Saltelli's design for Sobol indices over the `[[uncertain]]` inputs,
    /// laid out as SALib's `sobol.sample` (N = `samples` base samples).
    Saltelli,
    /// Morris trajectories over the `[[uncertain]]` inputs, laid out as
    /// SALib's `morris.sample` (r = `samples` trajectories, `levels` p).
    Morris,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    #[default]
    Linear,
    Log,
}

/// One swept field: explicit `values`, a range `from`/`to`/`count`, or
/// `bounds` for a sampled design.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    pub path: String,
    #[serde(default)]
    pub values: Option<Vec<Value>>,
    #[serde(default)]
    pub from: Option<f64>,
    #[serde(default)]
    pub to: Option<f64>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub bounds: Option<[f64; 2]>,
    #[serde(default)]
    pub scale: Scale,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Metric names (see [`METRICS`]).
    #[serde(default = "default_metrics")]
    pub metrics: Vec<String>,
    /// Exporters the metrics are kept for (default: the focal exporter).
    #[serde(default)]
    pub exporters: Vec<String>,
    /// Calendar-year windows, inclusive (default: 2026-2035).
    #[serde(default = "default_windows")]
    pub windows: Vec<[i32; 2]>,
    /// Also keep every run's monthly series (`timeseries.parquet`) and its
    /// order ledger (`orders.parquet`).
    #[serde(default)]
    pub timeseries: bool,
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            metrics: default_metrics(),
            exporters: Vec::new(),
            windows: default_windows(),
            timeseries: false,
        }
    }
}

fn default_metrics() -> Vec<String> {
    vec!["share".into()]
}
fn default_windows() -> Vec<[i32; 2]> {
    vec![[2026, 2035]]
}

/// The metrics a sweep can keep, per exporter and window, with what they mean.
pub const METRICS: &[(&str, &str)] = &[
    ("share", "share of world foreign deliveries (fraction)"),
    ("deliveries_tiv", "foreign deliveries, TIV per year"),
    ("orders_tiv", "foreign orders placed, TIV per year"),
    ("revenue_musd", "revenue, million USD per year"),
    ("backlog_foreign_tiv", "foreign backlog, TIV, monthly mean"),
    (
        "backlog_domestic_tiv",
        "domestic backlog, TIV, monthly mean",
    ),
    ("capacity_tiv", "capacity, TIV per month, monthly mean"),
    ("utilisation", "production over capacity (fraction)"),
    (
        "quoted_wait_months",
        "quoted delivery time of completed orders, months",
    ),
    (
        "realised_wait_months",
        "realised delivery time of completed orders, months",
    ),
    ("cancellations", "orders cancelled, count"),
    ("denials", "export approvals denied, count"),
    ("reputation", "delivery reputation, monthly mean"),
];

/// A parameter column's type, fixed per axis so every row has the same schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    Int,
    Float,
    Bool,
    Text,
}

/// One kept metric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricColumn {
    pub name: String,
    pub metric: String,
    pub exporter: String,
    pub from: i32,
    pub to: i32,
}

/// A checked sweep: its points, seeds and columns.
#[derive(Debug)]
pub struct Sweep {
    pub file: SweepFile,
    pub label: String,
    pub base: Composed,
    pub axes: Vec<String>,
    pub kinds: Vec<ParamKind>,
    /// `points[p][a]`: value of axis a at point p.
    pub points: Vec<Vec<Value>>,
    pub columns: Vec<MetricColumn>,
    pub base_scenario: Scenario,
    /// Designs "saltelli" and "morris": how the points are laid out.
    pub design: Option<DesignInfo>,
    /// The `variants` scenarios, composed and resolved; point p belongs to
    /// group p / rows, group 0 being the base.
    pub variants: Vec<(Composed, Scenario)>,
}

/// Which slice of a sweep's runs this process owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn parse(text: &str) -> Result<Shard> {
        let Some((i, n)) = text.split_once('/') else {
            bail!("--shard {text}: expected I/N, e.g. 0/4");
        };
        let (Ok(index), Ok(count)) = (i.trim().parse::<u64>(), n.trim().parse::<u64>()) else {
            bail!("--shard {text}: I and N must be whole numbers");
        };
        if count == 0 {
            bail!("--shard {text}: N must be at least 1");
        }
        if index >= count {
            bail!(
                "--shard {text}: I must be below N (shards are numbered 0 to {})",
                count - 1
            );
        }
        Ok(Shard { index, count })
    }

    /// The run indices of this shard: a contiguous, deterministic slice.
    pub fn range(self, runs: u64) -> (u64, u64) {
        let cut = |i: u64| ((i as u128 * runs as u128) / self.count as u128) as u64;
        (cut(self.index), cut(self.index + 1))
    }
}

impl Sweep {
    /// Reads and checks a sweep file: every axis path exists, every value
    /// and bound is usable, every metric, exporter and window is known.
    pub fn load(path: &Path) -> Result<Sweep> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read sweep file {label}"))?;
        let file: SweepFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{label}: {}", e.to_string().trim_end()))?;
        let base_arg = {
            let beside = path.parent().unwrap_or(Path::new(".")).join(&file.base);
            if beside.is_file() {
                beside.display().to_string()
            } else {
                file.base.clone()
            }
        };
        let base = loader::compose_file(&base_arg).with_context(|| format!("{label}: base"))?;
        let base_scenario = base
            .with(&[])
            .map_err(|e| anyhow::anyhow!("{label}: base: {e}"))?;
        let mut variants = Vec::new();
        for v in &file.variants {
            let beside = path.parent().unwrap_or(Path::new(".")).join(v);
            let arg = if beside.is_file() {
                beside.display().to_string()
            } else {
                v.clone()
            };
            let c = loader::compose_file(&arg).with_context(|| format!("{label}: variant {v}"))?;
            let s = c
                .with(&[])
                .map_err(|e| anyhow::anyhow!("{label}: variant {v}: {e}"))?;
            variants.push((c, s));
        }
        let mut sweep = Sweep::check(file, label, base, base_scenario, variants)?;
        sweep.finish_variants()?;
        Ok(sweep)
    }

    /// With variants, the points of group g > 0 run on variant g - 1: a
    /// leading `scenario` column names each point's scenario.
    fn finish_variants(&mut self) -> Result<()> {
        if self.variants.is_empty() {
            return Ok(());
        }
        let err = |m: String| anyhow::anyhow!("{}: {m}", self.label);
        let Some(design) = &mut self.design else {
            return Err(err(
                "`variants` applies only to designs \"saltelli\" and \"morris\"".into(),
            ));
        };
        if !design.levers.is_empty() {
            return Err(err(
                "`variants` and lever [[axes]] cannot be combined; give one or the other".into(),
            ));
        }
        let rows = self.points.len();
        let mut names = vec![self.base_scenario.name.clone()];
        names.extend(self.variants.iter().map(|v| v.1.name.clone()));
        let mut points = Vec::with_capacity(rows * names.len());
        for n in &names {
            for p in &self.points {
                let mut q = vec![Value::String(n.clone())];
                q.extend(p.iter().cloned());
                points.push(q);
            }
        }
        self.points = points;
        self.axes.insert(0, SCENARIO_AXIS.to_string());
        self.kinds.insert(0, ParamKind::Text);
        design.groups = names.len() as u64;
        design.rows = rows as u64;
        design.levers = vec![SCENARIO_AXIS.to_string()];
        design.group_names = names;
        Ok(())
    }

    /// The group (0: the base, g: variant g - 1) of point `p`.
    fn group_of(&self, p: usize) -> usize {
        match &self.design {
            Some(d) if !self.variants.is_empty() => p / d.rows.max(1) as usize,
            _ => 0,
        }
    }

    fn check(
        file: SweepFile,
        label: String,
        base: Composed,
        base_scenario: Scenario,
        variants: Vec<(Composed, Scenario)>,
    ) -> Result<Sweep> {
        let err = |msg: String| anyhow::anyhow!("{label}: {msg}");
        if file.replicates == 0 {
            return Err(err("`replicates` must be at least 1".into()));
        }
        let sampled = matches!(file.design, Design::Lhs | Design::Sobol);
        let screening = matches!(file.design, Design::Saltelli | Design::Morris);
        if !screening && !file.uncertain.is_empty() {
            return Err(err(
                "[[uncertain]] inputs are sampled by design \"saltelli\" or \"morris\"; for \"lhs\" or \"sobol\" give them as [[axes]] with `bounds`".into(),
            ));
        }
        if file.design != Design::Saltelli && file.second_order {
            return Err(err(
                "`second_order` applies only to design \"saltelli\"".into()
            ));
        }
        if file.design != Design::Morris && file.levels.is_some() {
            return Err(err("`levels` applies only to design \"morris\"".into()));
        }
        // The base's windows first, so that a window wrong for every point
        // is not reported against the first axis.
        let windows = &file.output.windows;
        windows_fit(windows, &base_scenario, "the base scenario's").map_err(err)?;
        for (c, v) in &variants {
            windows_fit(windows, v, &format!("{}'s", c.label))
                .map_err(|m| err(format!("variant {}: {m}", c.label)))?;
        }
        // Axes on the calendar, with the values each takes: every
        // combination must report every window, or its columns are zeros.
        let mut calendar_axes: Vec<(String, Vec<Value>)> = Vec::new();
        let mut axes = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut values_per_axis: Vec<Vec<Value>> = Vec::new();
        for a in &file.axes {
            let name = &a.path;
            if !seen.insert(name.clone()) {
                return Err(err(format!("axis `{name}` is listed twice")));
            }
            axes.push(name.clone());
            let vals = axis_values(a, sampled).map_err(|m| err(format!("axis `{name}`: {m}")))?;
            // The path must name a real field: apply each value (or both
            // bounds) to the base alone and validate.
            let probes: Vec<Value> = match (&vals, a.bounds) {
                (Some(v), _) => v.clone(),
                (None, Some([lo, hi])) => vec![Value::Float(lo), Value::Float(hi)],
                (None, None) => Vec::new(),
            };
            for v in &probes {
                base.with(&[(name.clone(), v.clone())])
                    .map_err(|e| err(format!("axis `{name}` = {v}: {e}")))?;
            }
            if name == "start_year" || name == "months" {
                calendar_axes.push((name.clone(), probes.clone()));
            }
            if let Some(bad) = vals
                .iter()
                .flatten()
                .find(|v| v.as_str().is_some_and(|t| t.contains(['\n', '\r'])))
            {
                return Err(err(format!(
                    "axis `{name}`: the value {bad} holds a line break, which a row of runs.csv cannot"
                )));
            }
            values_per_axis.push(vals.unwrap_or_default());
        }
        calendar_fits(
            windows,
            &calendar_axes,
            std::iter::once(&base_scenario).chain(variants.iter().map(|(_, v)| v)),
        )
        .map_err(err)?;
        let combinations = values_per_axis
            .iter()
            .map(|v| v.len().max(1) as u128)
            .product::<u128>();
        if matches!(
            file.design,
            Design::Factorial | Design::Saltelli | Design::Morris
        ) {
            check_points(combinations, "the combinations of the axes' values").map_err(err)?;
        }
        let points = match file.design {
            Design::Factorial => factorial(&values_per_axis),
            Design::Zip => {
                let n = values_per_axis.first().map_or(1, Vec::len);
                if let Some((a, v)) = axes
                    .iter()
                    .zip(&values_per_axis)
                    .find(|(_, v)| v.len() != n)
                {
                    return Err(err(format!(
                        "design \"zip\" needs axes of equal length: `{}` has {n} values, `{a}` has {}",
                        axes[0],
                        v.len()
                    )));
                }
                (0..n)
                    .map(|i| values_per_axis.iter().map(|v| v[i].clone()).collect())
                    .collect()
            }
            Design::Saltelli | Design::Morris => {
                let levers = factorial(&values_per_axis);
                let rows = screening_rows(&file, &base, &mut seen).map_err(err)?;
                check_points(
                    levers.len() as u128 * rows.len() as u128,
                    "the design's rows times the lever combinations",
                )
                .map_err(err)?;
                let mut points = Vec::with_capacity(levers.len() * rows.len());
                for lever in &levers {
                    for row in &rows {
                        let mut p = lever.clone();
                        p.extend(row.iter().map(|&x| Value::Float(x)));
                        points.push(p);
                    }
                }
                axes.extend(file.uncertain.iter().map(|u| u.path.clone()));
                points
            }
            Design::Lhs | Design::Sobol => {
                let Some(n) = file.samples.filter(|&n| n > 0) else {
                    return Err(err(format!(
                        "design \"{}\" needs `samples`, the number of points (at least 1)",
                        if file.design == Design::Lhs {
                            "lhs"
                        } else {
                            "sobol"
                        }
                    )));
                };
                if file.axes.is_empty() {
                    return Err(err(
                        "a sampled design needs at least one axis with `bounds`".into(),
                    ));
                }
                if file.design == Design::Sobol {
                    // sobol_burley's limits.
                    if n > 1 << 16 {
                        return Err(err(format!(
                            "design \"sobol\" draws at most 65536 samples (got {n}); use \"lhs\" for more"
                        )));
                    }
                    if file.axes.len() >= sobol_burley::NUM_DIMENSIONS as usize {
                        return Err(err(format!(
                            "design \"sobol\" takes at most {} axes",
                            sobol_burley::NUM_DIMENSIONS - 1
                        )));
                    }
                }
                check_points(n as u128, "`samples`").map_err(err)?;
                sample(&file, n as usize)
            }
        };
        if !sampled && !screening && file.samples.is_some() {
            return Err(err(
                "`samples` applies only to designs \"lhs\", \"sobol\", \"saltelli\" and \"morris\""
                    .into(),
            ));
        }
        let design = screening.then(|| {
            let groups = values_per_axis
                .iter()
                .map(|v| v.len().max(1) as u64)
                .product::<u64>();
            DesignInfo {
                kind: if file.design == Design::Saltelli {
                    "saltelli"
                } else {
                    "morris"
                }
                .into(),
                samples: file.samples.unwrap_or(0),
                second_order: file.second_order,
                levels: file.levels.unwrap_or(4),
                rows: points.len() as u64 / groups.max(1),
                groups,
                levers: file.axes.iter().map(|a| a.path.clone()).collect(),
                group_names: Vec::new(),
                uncertain: file.uncertain.clone(),
            }
        });
        let kinds = (0..axes.len())
            .map(|a| kind_of(points.iter().map(|p| &p[a])))
            .collect();
        let columns = metric_columns(&file.output, &base_scenario).map_err(err)?;
        Ok(Sweep {
            file,
            label,
            base,
            axes,
            kinds,
            points,
            columns,
            base_scenario,
            design,
            variants,
        })
    }

    pub fn replicates(&self) -> u64 {
        self.file.replicates as u64
    }

    pub fn runs(&self) -> u64 {
        self.points.len() as u64 * self.replicates()
    }

    /// Run index -> (point, replicate). Runs are point-major, so a point's
    /// replicates are adjacent in the output.
    pub fn locate(&self, run: u64) -> (usize, u32) {
        let r = self.replicates();
        ((run / r) as usize, (run % r) as u32)
    }

    /// Where output goes when no folder is given: `sweep-NAME` (the
    /// sweep's `name`, else its base scenario's), in the current folder.
    pub fn default_out(&self) -> std::path::PathBuf {
        let name = self
            .file
            .name
            .clone()
            .unwrap_or_else(|| self.base_scenario.name.clone());
        format!("sweep-{}", slug(&name)).into()
    }

    pub fn run_index(&self, point: usize, replicate: u32) -> u64 {
        point as u64 * self.replicates() + replicate as u64
    }

    pub fn seed(&self, point: usize, replicate: u32) -> u64 {
        if self.file.common_random_numbers {
            derive_seed(self.file.seed, &[replicate as u64])
        } else {
            derive_seed(self.file.seed, &[point as u64, replicate as u64])
        }
    }

    /// The overrides that make point `p`.
    pub fn sets(&self, p: usize) -> Vec<(String, Value)> {
        // The `scenario` column of a sweep with variants is no field.
        let skip = usize::from(!self.variants.is_empty());
        self.axes
            .iter()
            .cloned()
            .zip(self.points[p].iter().cloned())
            .skip(skip)
            .collect()
    }

    pub fn scenario(&self, p: usize) -> Result<Scenario, dibsim_core::ScenarioError> {
        match self.group_of(p) {
            0 => self.base.with_fast(&self.base_scenario, &self.sets(p)),
            g => {
                let (c, s) = &self.variants[g - 1];
                c.with_fast(s, &self.sets(p))
            }
        }
    }

    /// The command that re-runs one run of this sweep alone.
    pub fn rerun_command(&self, point: usize, replicate: u32) -> String {
        let base = match self.group_of(point) {
            0 => &self.base.label,
            g => &self.variants[g - 1].0.label,
        };
        let mut cmd = format!(
            "dibsim run {} --seed {}",
            shell_word(base),
            self.seed(point, replicate)
        );
        for (path, v) in self.sets(point) {
            cmd.push_str(&format!(" --set {}", shell_word(&format!("{path}={v}"))));
        }
        cmd
    }

    /// A fingerprint of everything that decides the runs' results, so a
    /// resumed or merged sweep can refuse output from a different one.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::json!({
            "file": self.file,
            "base": self.base_scenario,
            "variants": self.variants.iter().map(|v| &v.1).collect::<Vec<_>>(),
            // The plugin binaries' hashes: a sweep resumed or merged with a
            // rebuilt plugin is another sweep.
            "plugins": crate::plugins::provenance(&self.base_scenario)
                .unwrap_or_default()
                .iter()
                .map(|p| p.sha256.clone())
                .collect::<Vec<_>>(),
            "version": env!("CARGO_PKG_VERSION"),
        })
        .to_string();
        // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn axis_values(a: &AxisSpec, sampled: bool) -> Result<Option<Vec<Value>>, String> {
    let forms = [
        a.values.is_some(),
        a.from.is_some() || a.to.is_some() || a.count.is_some(),
        a.bounds.is_some(),
    ];
    if forms.iter().filter(|x| **x).count() != 1 {
        return Err(
            "give exactly one of `values`, a range (`from`, `to`, `count`) or `bounds`".into(),
        );
    }
    if sampled {
        let Some([lo, hi]) = a.bounds else {
            return Err(
                "a sampled design (lhs, sobol) needs `bounds = [min, max]` on every axis".into(),
            );
        };
        if !(lo.is_finite() && hi.is_finite()) {
            return Err("bounds must be finite numbers".into());
        }
        if lo >= hi {
            return Err(format!(
                "bounds [{lo}, {hi}] are reversed or empty: the first must be below the second"
            ));
        }
        if a.scale == Scale::Log && lo <= 0.0 {
            return Err(format!(
                "a log scale needs positive bounds, got [{lo}, {hi}]"
            ));
        }
        return Ok(None);
    }
    if a.bounds.is_some() {
        return Err(
            "`bounds` applies only to designs \"lhs\" and \"sobol\"; give `values` or a range"
                .into(),
        );
    }
    if let Some(v) = &a.values {
        if v.is_empty() {
            return Err("`values` is empty".into());
        }
        return Ok(Some(v.clone()));
    }
    let (Some(from), Some(to), Some(count)) = (a.from, a.to, a.count) else {
        return Err("a range needs all of `from`, `to` and `count`".into());
    };
    if count == 0 {
        return Err("`count` must be at least 1".into());
    }
    if count as u64 > MAX_POINTS {
        return Err(format!(
            "`count` = {count} is over the limit of {MAX_POINTS} design points (the point list is held in memory; replicates are not)"
        ));
    }
    if !(from.is_finite() && to.is_finite()) {
        return Err("`from` and `to` must be finite numbers".into());
    }
    if from > to {
        return Err(format!(
            "range from {from} to {to} is reversed: `from` must not exceed `to`"
        ));
    }
    if count == 1 && from != to {
        return Err("a range of `count = 1` needs `from` equal to `to`".into());
    }
    if a.scale == Scale::Log && from <= 0.0 {
        return Err(format!(
            "a log range needs positive ends, got {from} to {to}"
        ));
    }
    let n = count as usize;
    let values = (0..n)
        .map(|i| {
            let f = if n == 1 {
                0.0
            } else {
                i as f64 / (n - 1) as f64
            };
            let x = match a.scale {
                Scale::Linear => from + f * (to - from),
                Scale::Log => (from.ln() + f * (to.ln() - from.ln())).exp(),
            };
            // Ends exactly as written, whatever the rounding in between.
            let x = if i == 0 {
                from
            } else if i + 1 == n {
                to
            } else {
                x
            };
            Value::Float(x)
        })
        .collect();
    Ok(Some(values))
}

/// Every combination, the last axis varying fastest.
fn factorial(axes: &[Vec<Value>]) -> Vec<Vec<Value>> {
    let mut points: Vec<Vec<Value>> = vec![Vec::new()];
    for vals in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                vals.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    points
}

/// The leading column of a sweep with `variants`: each point's scenario.
pub const SCENARIO_AXIS: &str = "scenario";

/// The design rows over the uncertain inputs (values, not unit coordinates),
/// after checking each input (its range, a real field at both bounds).
fn screening_rows(
    file: &SweepFile,
    base: &Composed,
    seen: &mut std::collections::BTreeSet<String>,
) -> Result<Vec<Vec<f64>>, String> {
    let d = file.uncertain.len();
    if d == 0 {
        return Err(format!(
            "design \"{}\" needs at least one [[uncertain]] input",
            if file.design == Design::Saltelli {
                "saltelli"
            } else {
                "morris"
            }
        ));
    }
    for u in &file.uncertain {
        if !seen.insert(u.path.clone()) {
            return Err(format!(
                "`{}` is listed twice (as an axis or uncertain input)",
                u.path
            ));
        }
        u.check()
            .map_err(|m| format!("uncertain `{}`: {m}", u.path))?;
        for v in u.bounds {
            base.with(&[(u.path.clone(), Value::Float(v))])
                .map_err(|e| format!("uncertain `{}` = {v}: {e}", u.path))?;
        }
    }
    let Some(n) = file.samples.filter(|&n| n > 0) else {
        return Err(match file.design {
            Design::Saltelli => {
                "design \"saltelli\" needs `samples`, the number N of base samples".into()
            }
            _ => "design \"morris\" needs `samples`, the number r of trajectories".into(),
        });
    };
    let unit = match file.design {
        Design::Saltelli => {
            if n > 1 << 16 {
                return Err(format!(
                    "design \"saltelli\" draws at most 65536 base samples (got {n})"
                ));
            }
            if 2 * d >= sobol_burley::NUM_DIMENSIONS as usize {
                return Err(format!(
                    "design \"saltelli\" takes at most {} uncertain inputs",
                    (sobol_burley::NUM_DIMENSIONS as usize - 1) / 2
                ));
            }
            let per_sample = if file.second_order { 2 * d + 2 } else { d + 2 };
            check_points(
                n as u128 * per_sample as u128,
                "`samples` base samples of (2 x inputs + 2) rows (inputs + 2 without second order)",
            )?;
            let scramble = derive_seed(file.seed, &[0x0053_414c]) as u32;
            crate::analysis::sobol::saltelli_unit(n as usize, d, file.second_order, &|i, k| {
                sobol_burley::sample(i as u32, k as u32, scramble) as f64
            })
        }
        _ => {
            check_points(
                n as u128 * (d as u128 + 1),
                "`samples` trajectories of (inputs + 1) rows",
            )?;
            let p = file.levels.unwrap_or(4);
            if p < 2 || p.checked_rem(2) != Some(0) {
                return Err(format!("`levels` must be even and at least 2 (got {p})"));
            }
            crate::analysis::morris::morris_unit(
                n as usize,
                d,
                p as usize,
                derive_seed(file.seed, &[0x004d_4f52]),
            )
        }
    };
    Ok(unit
        .into_iter()
        .map(|row| {
            row.iter()
                .zip(&file.uncertain)
                .map(|(&x, u)| u.value_at(x))
                .collect()
        })
        .collect())
}

/// Sampled points on [0,1)^d, mapped onto each axis's bounds.
fn sample(file: &SweepFile, n: usize) -> Vec<Vec<Value>> {
    let d = file.axes.len();
    let unit: Vec<Vec<f64>> = match file.design {
        Design::Lhs => {
            // One stratum per point on every axis, strata paired at random.
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(file.seed, &[0x004c_4853]));
            let mut cols: Vec<Vec<f64>> = Vec::with_capacity(d);
            for _ in 0..d {
                let mut strata: Vec<usize> = (0..n).collect();
                strata.shuffle(&mut rng);
                cols.push(
                    strata
                        .iter()
                        .map(|&s| (s as f64 + rng.gen::<f64>()) / n as f64)
                        .collect(),
                );
            }
            (0..n)
                .map(|i| cols.iter().map(|c| c[i]).collect())
                .collect()
        }
        _ => {
            let scramble = derive_seed(file.seed, &[0x0050_4249]) as u32;
            (0..n)
                .map(|i| {
                    (0..d)
                        .map(|k| sobol_burley::sample(i as u32, k as u32, scramble) as f64)
                        .collect()
                })
                .collect()
        }
    };
    unit.into_iter()
        .map(|u| {
            file.axes
                .iter()
                .zip(u)
                .map(|(a, f)| {
                    let [lo, hi] = a.bounds.unwrap_or([0.0, 1.0]);
                    Value::Float(match a.scale {
                        Scale::Linear => lo + f * (hi - lo),
                        Scale::Log => (lo.ln() + f * (hi.ln() - lo.ln())).exp(),
                    })
                })
                .collect()
        })
        .collect()
}

fn kind_of<'a>(mut vals: impl Iterator<Item = &'a Value> + Clone) -> ParamKind {
    if vals.clone().all(|v| matches!(v, Value::Integer(_))) {
        ParamKind::Int
    } else if vals
        .clone()
        .all(|v| matches!(v, Value::Integer(_) | Value::Float(_)))
    {
        ParamKind::Float
    } else if vals.all(|v| matches!(v, Value::Boolean(_))) {
        ParamKind::Bool
    } else {
        ParamKind::Text
    }
}

/// Column-name form of an exporter: `United States` -> `united_states`.
/// The most design points a sweep may have: its point list (parameters per
/// point) is held in memory, while its runs (points x replicates) are
/// computed from their index and may be as many as wanted.
pub const MAX_POINTS: u64 = 1_000_000;

fn check_points(n: u128, what: &str) -> Result<(), String> {
    if n > MAX_POINTS as u128 {
        return Err(format!(
            "{what} make {n} design points, over the limit of {MAX_POINTS} (the point list is held in memory; replicates are not, so raise `replicates` instead, or split the sweep)"
        ));
    }
    Ok(())
}

pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Whether every `[output]` window lies within the reported years of `s`
/// (`whose` names it in the message).
fn windows_fit(windows: &[[i32; 2]], s: &Scenario, whose: &str) -> Result<(), String> {
    years_fit(windows, s.start_year, s.months, whose)
}

/// [`windows_fit`] for a run that starts in `start_year` and reports
/// `months` months.
fn years_fit(
    windows: &[[i32; 2]],
    start_year: i32,
    months: u32,
    whose: &str,
) -> Result<(), String> {
    let last = start_year + (months as i32 - 1) / 12;
    for [a, b] in windows {
        if a > b {
            return Err(format!("[output] window [{a}, {b}] is reversed"));
        }
        if *a < start_year || *b > last {
            return Err(format!(
                "[output] window [{a}, {b}] is outside {whose} reported years {start_year}-{last}"
            ));
        }
    }
    Ok(())
}

/// [`years_fit`] for every combination of the calendar axes' values
/// (`start_year` and `months`) on each scenario a point may run on.
fn calendar_fits<'a>(
    windows: &[[i32; 2]],
    calendar_axes: &[(String, Vec<Value>)],
    scenarios: impl Iterator<Item = &'a Scenario>,
) -> Result<(), String> {
    if calendar_axes.is_empty() {
        return Ok(());
    }
    let values: Vec<Vec<Value>> = calendar_axes.iter().map(|(_, v)| v.clone()).collect();
    let combos = factorial(&values);
    // The values were validated as these fields (probes above).
    let number = |v: &Value| {
        v.as_integer()
            .or(v.as_float().map(|f| f as i64))
            .unwrap_or(0)
    };
    for base in scenarios {
        for combo in &combos {
            let (mut start_year, mut months) = (base.start_year, base.months);
            for ((name, _), v) in calendar_axes.iter().zip(combo) {
                match name.as_str() {
                    "start_year" => start_year = number(v) as i32,
                    _ => months = number(v) as u32,
                }
            }
            let at: Vec<String> = calendar_axes
                .iter()
                .zip(combo)
                .map(|((name, _), v)| format!("`{name}` = {}", number(v)))
                .collect();
            years_fit(windows, start_year, months, &format!("{}'s", base.name))
                .map_err(|m| format!("axis {}: {m}", at.join(" with ")))?;
        }
    }
    Ok(())
}

fn metric_columns(o: &OutputSpec, s: &Scenario) -> Result<Vec<MetricColumn>, String> {
    if o.metrics.is_empty() {
        return Err("[output] `metrics` is empty".into());
    }
    if o.windows.is_empty() {
        return Err("[output] `windows` is empty".into());
    }
    for m in &o.metrics {
        if !METRICS.iter().any(|(k, _)| k == m) {
            let known: Vec<&str> = METRICS.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "[output] unknown metric `{m}` (known: {})",
                known.join(", ")
            ));
        }
    }
    let exporters = if o.exporters.is_empty() {
        vec![s.focal_exporter.clone()]
    } else {
        o.exporters.clone()
    };
    for e in &exporters {
        if !s.exporters.iter().any(|x| &x.name == e) {
            return Err(format!("[output] unknown exporter `{e}`"));
        }
    }
    windows_fit(&o.windows, s, "the base scenario's")?;
    let mut cols = Vec::new();
    for [a, b] in &o.windows {
        for e in &exporters {
            for m in &o.metrics {
                cols.push(MetricColumn {
                    name: format!("{m}_{}_{a}_{b}", slug(e)),
                    metric: m.clone(),
                    exporter: e.clone(),
                    from: *a,
                    to: *b,
                });
            }
        }
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(values: Option<Vec<Value>>, range: Option<(f64, f64, u32)>, scale: Scale) -> AxisSpec {
        AxisSpec {
            path: "x".into(),
            values,
            from: range.map(|r| r.0),
            to: range.map(|r| r.1),
            count: range.map(|r| r.2),
            bounds: None,
            scale,
        }
    }

    #[test]
    fn ranges_hit_their_ends() {
        let v = axis_values(&axis(None, Some((0.1, 10.0, 3)), Scale::Log), false)
            .unwrap()
            .unwrap();
        assert_eq!(v[0].as_float(), Some(0.1));
        assert!((v[1].as_float().unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(v[2].as_float(), Some(10.0));
        assert!(axis_values(&axis(None, Some((1.0, 0.5, 3)), Scale::Linear), false).is_err());
        assert!(axis_values(&axis(Some(vec![]), None, Scale::Linear), false).is_err());
    }

    #[test]
    fn factorial_varies_last_axis_fastest() {
        let p = factorial(&[
            vec![Value::Integer(1), Value::Integer(2)],
            vec![Value::Boolean(false), Value::Boolean(true)],
        ]);
        assert_eq!(p.len(), 4);
        assert_eq!(p[1], vec![Value::Integer(1), Value::Boolean(true)]);
        assert_eq!(p[2], vec![Value::Integer(2), Value::Boolean(false)]);
    }

    #[test]
    fn lhs_puts_one_point_in_each_stratum() {
        let mut f: SweepFile = toml::from_str(
            "base = \"b\"\nreplicates = 1\ndesign = \"lhs\"\nsamples = 8\n[[axes]]\npath = \"a\"\nbounds = [0.0, 8.0]\n[[axes]]\npath = \"b\"\nbounds = [0.0, 1.0]",
        )
        .unwrap();
        let pts = sample(&f, 8);
        let mut strata: Vec<usize> = pts
            .iter()
            .map(|p| p[0].as_float().unwrap() as usize)
            .collect();
        strata.sort();
        assert_eq!(strata, (0..8).collect::<Vec<_>>());
        f.design = Design::Sobol;
        let s = sample(&f, 8);
        assert!(s
            .iter()
            .all(|p| (0.0..8.0).contains(&p[0].as_float().unwrap())));
    }

    #[test]
    fn shards_tile_the_runs() {
        let mut next = 0;
        for i in 0..7 {
            let (a, b) = Shard { index: i, count: 7 }.range(100);
            assert_eq!(a, next);
            next = b;
        }
        assert_eq!(next, 100);
        assert!(Shard::parse("3/2").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
    }

    #[test]
    fn fast_point_building_equals_the_full_resolve() {
        let base = crate::loader::compose_file("baseline").unwrap();
        let scenario = base.with(&[]).unwrap();
        let sets = [
            ("policy.approval_time_factor".to_string(), Value::Float(0.5)),
            (
                "exporters.France.approval_mean_months".to_string(),
                Value::Float(3.0),
            ),
            ("model.margin".to_string(), Value::Float(0.2)),
        ];
        for n in 0..=sets.len() {
            let s = &sets[..n];
            assert_eq!(base.with_fast(&scenario, s).unwrap(), base.with(s).unwrap());
        }
        let bad = [(
            "policy.approval_time_factor".to_string(),
            Value::Float(-1.0),
        )];
        assert_eq!(
            base.with_fast(&scenario, &bad).unwrap_err().to_string(),
            base.with(&bad).unwrap_err().to_string()
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("United States"), "united_states");
        assert_eq!(slug("Korea, South"), "korea_south");
    }
}
