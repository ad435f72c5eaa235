//! What `compare --out` writes beside `compare.csv` so that a report can be
//! drawn later from the folder alone: `series.csv` (monthly means and 95%
//! bands over replicates) and `manifest.json` (settings, seeds, version).

use std::path::Path;

use anyhow::{bail, Context, Result};
use dibsim_core::stats::Interval;
use dibsim_core::{Recorder, Scenario};
use serde::{Deserialize, Serialize};

use crate::output::{csv_field, num, write_atomic};

/// The focal exporter's monthly metrics kept for the report.
pub const FOCAL_SERIES: &[&str] = &[
    "backlog_foreign_tiv",
    "capacity_tiv",
    "production_tiv",
    "utilisation",
    "quoted_wait_months_12m",
    "realised_wait_months_12m",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompareManifest {
    pub kind: String,
    pub dibsim_version: String,
    /// The model version of `docs/model.md` (absent in folders written before v1 was named).
    #[serde(default)]
    pub model_version: String,
    pub baseline: String,
    pub focal_exporter: String,
    pub replicates: u32,
    pub seed: u64,
    /// Seed of replicate r, the same in every scenario.
    pub run_seeds: Vec<u64>,
    pub window: [i32; 2],
    pub sets: Vec<String>,
    pub plugins: Vec<String>,
    /// Path, name, version and SHA-256 of every plugin the scenarios ran.
    #[serde(default)]
    pub plugin_provenance: Vec<crate::plugins::Provenance>,
    pub start_year: i32,
    pub scenarios: Vec<ScenarioNote>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioNote {
    pub name: String,
    pub source: String,
    pub description: String,
    /// Resolved fields that differ from the baseline: (path, value here, baseline's).
    pub differs: Vec<(String, String, String)>,
}

/// Flattens a scenario to `path -> value` (arrays of named tables by name).
fn flatten(v: &serde_json::Value, path: String, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(x, p, out);
            }
        }
        serde_json::Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|x| x.get("name").and_then(|n| n.as_str()).is_some()) =>
        {
            for x in items {
                let name = x["name"].as_str().unwrap_or_default();
                flatten(x, format!("{path}.{name}"), out);
            }
        }
        other => out.push((path, other.to_string())),
    }
}

pub fn differences(base: &Scenario, s: &Scenario) -> Vec<(String, String, String)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten(
        &serde_json::to_value(base).unwrap_or_default(),
        String::new(),
        &mut a,
    );
    flatten(
        &serde_json::to_value(s).unwrap_or_default(),
        String::new(),
        &mut b,
    );
    let a: std::collections::BTreeMap<_, _> = a.into_iter().collect();
    let b: std::collections::BTreeMap<_, _> = b.into_iter().collect();
    let mut out = Vec::new();
    for (k, v) in &b {
        if k == "name" || k == "description" || k.ends_with(".name") {
            continue;
        }
        match a.get(k) {
            Some(w) if w == v => {}
            Some(w) => out.push((k.clone(), v.clone(), w.clone())),
            None => out.push((k.clone(), v.clone(), "(absent)".into())),
        }
    }
    for (k, w) in &a {
        if !b.contains_key(k) && !k.ends_with(".name") {
            out.push((k.clone(), "(absent)".into(), w.clone()));
        }
    }
    out
}

/// One replicate's value of a series at month t.
fn value(rec: &Recorder, metric: &str, e: usize, t: usize) -> f64 {
    let m = rec.get(t, e);
    match metric {
        "share_60m" => m.share_60m,
        "backlog_foreign_tiv" => m.backlog_foreign_tiv,
        "capacity_tiv" => m.capacity_tiv,
        "production_tiv" => m.production_tiv,
        "utilisation" => {
            if m.capacity_tiv > 0.0 {
                m.production_tiv / m.capacity_tiv
            } else {
                f64::NAN
            }
        }
        // Completion-weighted over the trailing 12 months: monthly means of
        // a few completions are too noisy to read.
        "quoted_wait_months_12m" | "realised_wait_months_12m" => {
            rec.mean_wait(t.saturating_sub(11), t + 1, e, metric.starts_with('q'))
        }
        _ => f64::NAN,
    }
}

/// `series.csv`: scenario, exporter, metric, month, year, mean, lo, hi, n.
pub fn series_csv(names: &[String], recs: &[Vec<Recorder>], focal: &str) -> String {
    let mut out = String::from("scenario,exporter,metric,month,year,mean,lo,hi,n\n");
    let rec0 = &recs[0][0];
    let months = rec0.months();
    let focal_e = rec0.exporters.iter().position(|x| x == focal);
    let mut xs = Vec::with_capacity(recs[0].len());
    for (name, rs) in names.iter().zip(recs) {
        let mut emit = |exporter: usize, metric: &str| {
            for t in 0..months {
                xs.clear();
                xs.extend(rs.iter().map(|r| value(r, metric, exporter, t)));
                let i = Interval::of(&xs);
                out.push_str(&format!(
                    "{},{},{metric},{t},{},{},{},{},{}\n",
                    csv_field(name),
                    csv_field(&rec0.exporters[exporter]),
                    rec0.year_of(t),
                    num(i.mean),
                    num(i.lo),
                    num(i.hi),
                    i.n
                ));
            }
        };
        for e in 0..rec0.exporters.len() {
            emit(e, "share_60m");
        }
        if let Some(e) = focal_e {
            for m in FOCAL_SERIES {
                emit(e, m);
            }
        }
    }
    out
}

pub fn write_manifest(dir: &Path, m: &CompareManifest) -> Result<()> {
    write_atomic(
        &dir.join("manifest.json"),
        serde_json::to_string_pretty(m)?.as_bytes(),
    )
}

/// A row of `compare.csv`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CompareRow {
    pub scenario: String,
    pub exporter: String,
    pub share_mean: f64,
    pub share_lo: f64,
    pub share_hi: f64,
    pub delta_mean: f64,
    pub delta_lo: f64,
    pub delta_hi: f64,
    pub replicates: u32,
}

/// A row of `series.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct SeriesRow {
    pub scenario: String,
    pub exporter: String,
    pub metric: String,
    pub month: usize,
    pub year: i32,
    #[serde(deserialize_with = "nan_if_empty")]
    pub mean: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub lo: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    pub hi: f64,
    pub n: usize,
}

fn nan_if_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        Ok(f64::NAN)
    } else {
        s.parse().map_err(serde::de::Error::custom)
    }
}

pub fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = rdr
        .deserialize()
        .enumerate()
        .map(|(i, r)| {
            r.with_context(|| {
                format!(
                    "{} is partial or damaged at row {} (re-run the compare)",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect::<Result<Vec<T>>>()?;
    if rows.is_empty() {
        bail!(
            "{} has no rows (a partial or interrupted output?)",
            path.display()
        );
    }
    Ok(rows)
}
