//! Calibration: how a scenario meets the targets of docs/model.md (Calibration), and
//! a fixed-point fit of the calibrated parameters.
//!
//! The fit adjusts two kinds of parameters, each toward the target it moves
//! most directly: the quality of each named exporter's lines (its appeal to
//! buyers, hence its share) and one import-budget factor per region (its
//! demand, hence its import share and the world volume). Each iteration runs
//! the replicates and moves every parameter by a damped log-ratio step.

use anyhow::{Context, Result};
use dibsim_core::{Recorder, Scenario};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::compare::run_compare;
use crate::loader;
use crate::output::{self, pct};
use crate::run::prepare;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub window: [i32; 2],
    pub drift_window: [i32; 2],
    pub world_tiv_per_year: f64,
    pub world_tolerance: f64,
    pub exporter_tolerance: f64,
    pub region_tolerance: f64,
    pub focal_ratio: f64,
    pub focal_utilisation: f64,
    pub drift_world_tolerance: f64,
    pub drift_share_tolerance: f64,
    pub checked_exporters: Vec<String>,
    pub exporter_share: BTreeMap<String, f64>,
    pub region_share: BTreeMap<String, f64>,
}

pub fn targets() -> Result<Targets> {
    toml::from_str(include_str!("../../scenarios/targets.toml"))
        .context("bundled scenarios/targets.toml")
}

/// One checked target.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub value: String,
    pub target: String,
    pub ok: bool,
}

/// Measured calibration figures, averaged over replicates.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub exporter_share: Vec<f64>,
    pub region_share: Vec<f64>,
    pub world_per_year: f64,
    pub focal_utilisation: f64,
    pub drift_world: f64,
    pub drift_share: Vec<f64>,
}

pub fn measure(recs: &[Recorder], focal: usize, t: &Targets) -> Measured {
    let r0 = &recs[0];
    let (a, b) = r0.year_range(t.window[0], t.window[1]);
    let (c, d) = r0.year_range(t.drift_window[0], t.drift_window[1]);
    let n = recs.len() as f64;
    let mean_vec = |f: &dyn Fn(&Recorder) -> Vec<f64>| {
        let mut acc: Vec<f64> = Vec::new();
        for r in recs {
            let v = f(r);
            if acc.is_empty() {
                acc = vec![0.0; v.len()];
            }
            for (x, y) in acc.iter_mut().zip(v) {
                *x += y / n;
            }
        }
        acc
    };
    let exporter_share = mean_vec(&|r| r.share(a, b));
    let region_share = mean_vec(&|r| r.region_share(a, b));
    let world = |r: &Recorder, from: usize, to: usize| -> f64 {
        (0..r.exporter_count())
            .map(|e| r.total(from, to, e, |m| m.deliveries_tiv))
            .sum::<f64>()
    };
    let years = ((b - a) as f64 / 12.0).max(1.0 / 12.0);
    let world_per_year = recs.iter().map(|r| world(r, a, b) / years).sum::<f64>() / n;
    let focal_utilisation = recs
        .iter()
        .map(|r| {
            r.total(a, b, focal, |m| m.production_tiv) / r.total(a, b, focal, |m| m.capacity_tiv)
        })
        .sum::<f64>()
        / n;
    let drift_world = if d > c {
        recs.iter()
            .map(|r| world(r, c, d) / world(r, a, b))
            .sum::<f64>()
            / n
            - 1.0
    } else {
        f64::NAN
    };
    let later = mean_vec(&|r| r.share(c, d));
    let drift_share = later
        .iter()
        .zip(&exporter_share)
        .map(|(l, e)| l - e)
        .collect();
    Measured {
        exporter_share,
        region_share,
        world_per_year,
        focal_utilisation,
        drift_world,
        drift_share,
    }
}

pub fn checks(s: &Scenario, m: &Measured, t: &Targets) -> Vec<Check> {
    let mut out = Vec::new();
    let idx = |name: &str| s.exporters.iter().position(|e| e.name == name);
    for name in &t.checked_exporters {
        let target = t.exporter_share.get(name).copied().unwrap_or(f64::NAN);
        let v = idx(name).map(|e| m.exporter_share[e]).unwrap_or(f64::NAN);
        out.push(Check {
            name: format!("share 2020-24 {name}"),
            value: pct(v),
            target: format!("{} ± {}", pct(target), pct(t.exporter_tolerance)),
            ok: (v - target).abs() <= t.exporter_tolerance,
        });
    }
    let focal = idx(&s.focal_exporter).unwrap_or(0);
    let mut others: Vec<f64> = m
        .exporter_share
        .iter()
        .enumerate()
        .filter(|(e, _)| *e != focal)
        .map(|(_, v)| *v)
        .collect();
    others.sort_by(|a, b| b.total_cmp(a));
    let second = others.first().copied().unwrap_or(0.0);
    out.push(Check {
        name: "focal share / second largest".into(),
        value: format!("{:.2}", m.exporter_share[focal] / second),
        target: format!(">= {}", t.focal_ratio),
        ok: m.exporter_share[focal] >= t.focal_ratio * second,
    });
    out.push(Check {
        name: "world deliveries, TIV/year".into(),
        value: format!("{:.0}", m.world_per_year),
        target: format!(
            "{:.0} ± {:.0}%",
            t.world_tiv_per_year,
            100.0 * t.world_tolerance
        ),
        ok: (m.world_per_year / t.world_tiv_per_year - 1.0).abs() <= t.world_tolerance,
    });
    let regions = s.regions();
    for (name, &target) in &t.region_share {
        let v = regions
            .iter()
            .position(|r| r == name)
            .map(|k| m.region_share[k])
            .unwrap_or(f64::NAN);
        out.push(Check {
            name: format!("imports 2020-24 {name}"),
            value: pct(v),
            target: format!("{} ± {}", pct(target), pct(t.region_tolerance)),
            ok: (v - target).abs() <= t.region_tolerance,
        });
    }
    out.push(Check {
        name: "focal utilisation 2020-24".into(),
        value: pct(m.focal_utilisation),
        target: format!(">= {}", pct(t.focal_utilisation)),
        ok: m.focal_utilisation >= t.focal_utilisation,
    });
    out.push(Check {
        name: "drift: world 2030-34 vs 2020-24".into(),
        value: format!("{:+.1}%", 100.0 * m.drift_world),
        target: format!("within ±{:.0}%", 100.0 * t.drift_world_tolerance),
        ok: m.drift_world.abs() <= t.drift_world_tolerance,
    });
    for name in &t.checked_exporters {
        let v = idx(name).map(|e| m.drift_share[e]).unwrap_or(f64::NAN);
        out.push(Check {
            name: format!("drift: share {name}"),
            value: format!("{:+.1} pp", 100.0 * v),
            target: format!("within ±{:.0} pp", 100.0 * t.drift_share_tolerance),
            ok: v.abs() <= t.drift_share_tolerance,
        });
    }
    out
}

/// `original` with the values of `fitted` (both TOML), its comments and
/// layout kept: calibration.toml's comments say where each value comes
/// from, and a rewrite from the struct alone dropped them.
pub fn rewrite_keeping_comments(original: &str, fitted: &str) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = original.parse()?;
    let new: toml_edit::DocumentMut = fitted.parse()?;
    fn update(old: &mut toml_edit::Table, new: &toml_edit::Table) {
        for (key, item) in new.iter() {
            match (old.get_mut(key), item) {
                (Some(toml_edit::Item::Table(o)), toml_edit::Item::Table(n)) => update(o, n),
                (Some(toml_edit::Item::Value(o)), toml_edit::Item::Value(n)) => {
                    // The new value, in the old one's place (its spacing and
                    // trailing comment).
                    let decor = o.decor().clone();
                    *o = n.clone();
                    *o.decor_mut() = decor;
                }
                (Some(slot), _) => *slot = item.clone(),
                (None, _) => {
                    old.insert(key, item.clone());
                }
            }
        }
    }
    update(doc.as_table_mut(), new.as_table());
    Ok(doc.to_string())
}

/// The calibrated parameters, as stored in scenarios/tools/calibration.toml.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub outside_utility: f64,
    pub focal_export_capacity_factor: f64,
    pub quality: BTreeMap<String, f64>,
    pub budget_factor: BTreeMap<String, f64>,
}

fn evaluate(
    s: &Scenario,
    replicates: u32,
    seed: u64,
    t: &Targets,
) -> Result<(Measured, Vec<Check>)> {
    let p = prepare(s)?;
    let recs = run_compare(std::slice::from_ref(&p), replicates, seed)?;
    let focal = s.exporter_index(&s.focal_exporter).unwrap_or(0);
    let m = measure(&recs[0], focal, t);
    let c = checks(s, &m, t);
    Ok((m, c))
}

/// What a calibration is asked for: `iterations` fixed-point steps (0 to
/// only check), each measured over `replicates` seeds; with `write`, the
/// calibration file the steps update.
#[derive(Debug, Clone)]
pub struct CalibrateSpec {
    pub scenario: String,
    pub replicates: u32,
    pub seed: u64,
    pub iterations: u32,
    pub write: Option<std::path::PathBuf>,
}

/// The state after the last step, measured, and each target's check.
pub struct CalibrateOutcome {
    pub scenario: Scenario,
    pub measured: Measured,
    pub checks: Vec<Check>,
}

impl CalibrateOutcome {
    pub fn missed(&self) -> usize {
        self.checks.iter().filter(|x| !x.ok).count()
    }
}

/// Runs `spec.iterations` damped steps towards the targets, calling
/// `on_iteration(i, scenario, measured, missed)` after measuring each, then
/// measures the result (and writes the calibration file when asked).
pub fn calibrate(
    spec: &CalibrateSpec,
    on_iteration: &mut dyn FnMut(u32, &Scenario, &Measured, usize),
) -> Result<CalibrateOutcome> {
    let t = targets()?;
    let mut s = loader::load(&spec.scenario, &[])?.scenario;
    let mut original = String::new();
    let mut cal = match &spec.write {
        Some(p) => {
            original = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Some(
                toml::from_str::<Calibration>(&original)
                    .with_context(|| format!("{}", p.display()))?,
            )
        }
        None => None,
    };
    for it in 0..spec.iterations {
        let (m, c) = evaluate(&s, spec.replicates, spec.seed, &t)?;
        let fails = c.iter().filter(|x| !x.ok).count();
        on_iteration(it, &s, &m, fails);
        step(&mut s, &m, &t, cal.as_mut());
    }
    let (measured, checks) = evaluate(&s, spec.replicates, spec.seed, &t)?;
    if let (Some(p), Some(cal)) = (&spec.write, cal) {
        let text = rewrite_keeping_comments(&original, &toml::to_string(&cal)?)
            .with_context(|| format!("cannot update {}", p.display()))?;
        output::write_atomic(p, text.as_bytes())?;
    }
    Ok(CalibrateOutcome {
        scenario: s,
        measured,
        checks,
    })
}

/// One damped fixed-point step on qualities and regional budget factors.
fn step(s: &mut Scenario, m: &Measured, t: &Targets, cal: Option<&mut Calibration>) {
    // Exporters: move quality by ln(target/measured) / beta_quality, damped.
    let beta_q = s
        .allies
        .first()
        .map(|a| a.beta_quality)
        .unwrap_or(1.0)
        .max(1e-6);
    let mut quality_shift: BTreeMap<String, f64> = BTreeMap::new();
    for (e, ex) in s.exporters.iter().enumerate() {
        let target = match t.exporter_share.get(&ex.name) {
            Some(v) => *v,
            None => continue,
        };
        let got = m.exporter_share[e].max(1e-4);
        quality_shift.insert(ex.name.clone(), 0.5 * (target / got).ln() / beta_q);
    }
    for o in &mut s.suppliers {
        if let Some(dq) = quality_shift.get(&o.exporter) {
            for l in &mut o.lines {
                l.quality = (l.quality + dq).clamp(0.0, 1.0);
            }
        }
    }
    // The focal exporter's lines are saturated: its share is bounded by the
    // capacity left after domestic orders, so fit that capacity too.
    let focal = s.exporter_index(&s.focal_exporter).unwrap_or(0);
    let focal_target = t
        .exporter_share
        .get(&s.focal_exporter)
        .copied()
        .unwrap_or(m.exporter_share[focal]);
    let capacity_step = if m.focal_utilisation > 0.95 || m.exporter_share[focal] > focal_target {
        (focal_target / m.exporter_share[focal].max(1e-4)).powf(0.7)
    } else {
        1.0
    };
    scale_focal_exports(s, capacity_step);
    // Regions: budget factor by the import-share ratio times the world ratio.
    let world_ratio = t.world_tiv_per_year / m.world_per_year.max(1.0);
    let regions = s.regions();
    let mut factor: BTreeMap<String, f64> = BTreeMap::new();
    for (k, r) in regions.iter().enumerate() {
        let target = t.region_share.get(r).copied().unwrap_or(m.region_share[k]);
        let f = ((target / m.region_share[k].max(1e-4)) * world_ratio).powf(0.5);
        factor.insert(r.clone(), f);
    }
    for a in &mut s.allies {
        a.import_budget *= factor[&a.region];
    }
    if let Some(cal) = cal {
        cal.focal_export_capacity_factor *= capacity_step;
        for (name, dq) in &quality_shift {
            if let Some(q) = cal.quality.get_mut(name) {
                *q = (*q + dq).clamp(0.0, 1.0);
            }
        }
        for (r, f) in &factor {
            if let Some(b) = cal.budget_factor.get_mut(r) {
                *b *= f;
            }
        }
    }
}

/// Scales the export part of each focal line's capacity (capacity beyond its
/// pro-rata share of domestic demand) by `f`.
fn scale_focal_exports(s: &mut Scenario, f: f64) {
    let Some(e) = s.exporter_index(&s.focal_exporter) else {
        return;
    };
    let demand = s.exporters[e].domestic_demand.clone();
    let mut total: BTreeMap<String, f64> = BTreeMap::new();
    for o in s
        .suppliers
        .iter()
        .filter(|o| o.exporter == s.focal_exporter)
    {
        for l in o
            .lines
            .iter()
            .filter(|l| l.tier == dibsim_core::scenario::Tier::High)
        {
            *total.entry(l.category.clone()).or_default() += l.capacity;
        }
    }
    let focal = s.focal_exporter.clone();
    for o in s.suppliers.iter_mut().filter(|o| o.exporter == focal) {
        for l in o
            .lines
            .iter_mut()
            .filter(|l| l.tier == dibsim_core::scenario::Tier::High)
        {
            let sum = total.get(&l.category).copied().unwrap_or(0.0);
            let dom = if sum > 0.0 {
                demand.get(&l.category).copied().unwrap_or(0.0) * l.capacity / sum
            } else {
                0.0
            };
            l.capacity = dom + f * (l.capacity - dom).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rewrite_keeps_the_comments_and_changes_the_values() {
        let original = "# Where these come from.\n\n# u0: the outside option.\noutside_utility = -4.0  # fitted\n\n# Qualities.\n[quality]\nFrance = 0.8\n\"United States\" = 0.99\n";
        let fitted = "outside_utility = -3.5\n\n[quality]\nFrance = 0.75\n\"United States\" = 0.99\nSpain = 0.6\n";
        let out = super::rewrite_keeping_comments(original, fitted).unwrap();
        for kept in [
            "# Where these come from.",
            "# u0: the outside option.",
            "# fitted",
            "# Qualities.",
        ] {
            assert!(out.contains(kept), "lost {kept:?}:\n{out}");
        }
        let back: toml::Table = toml::from_str(&out).unwrap();
        let want: toml::Table = toml::from_str(fitted).unwrap();
        assert_eq!(back, want, "{out}");
    }
}
