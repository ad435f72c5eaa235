//! `compare`: scenarios x replicates with common random numbers, the first
//! scenario the baseline; shares over a calendar window with 95% intervals,
//! and differences from the baseline with paired intervals.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use dibsim_core::rng::derive_seed;
use dibsim_core::run::{groups, run_group, Prepared};
use dibsim_core::stats::Interval;
use dibsim_core::Recorder;
use rayon::prelude::*;

use crate::compare_files::{self, CompareManifest, CompareRow, ScenarioNote};
use crate::loader::{self, Loaded};
use crate::output;
use crate::run::prepare;

/// Runs every scenario for `replicates` seeds derived from `seed` (the same
/// seeds for every scenario: common random numbers), forking shared history.
pub fn run_compare(
    prepared: &[Prepared],
    replicates: u32,
    seed: u64,
) -> Result<Vec<Vec<Recorder>>> {
    let groups = groups(prepared);
    let jobs: Vec<(usize, u32)> = (0..groups.len())
        .flat_map(|g| (0..replicates).map(move |r| (g, r)))
        .collect();
    let results: Vec<Vec<(usize, Recorder)>> = jobs
        .par_iter()
        .map(|&(g, r)| -> Result<Vec<(usize, Recorder)>> {
            let members: Vec<&Prepared> = groups[g].iter().map(|&i| &prepared[i]).collect();
            let run_seed = derive_seed(seed, &[r as u64]);
            let outs = run_group(&members, run_seed);
            groups[g]
                .iter()
                .zip(outs)
                .map(|(&i, o)| {
                    o.map(|rec| (i, rec)).with_context(|| {
                        format!(
                            "scenario {} replicate {r} (seed {run_seed})",
                            prepared[i].cfg.scenario.name
                        )
                    })
                })
                .collect()
        })
        .collect::<Result<_>>()?;
    let mut per: Vec<Vec<Option<Recorder>>> = (0..prepared.len())
        .map(|_| (0..replicates).map(|_| None).collect())
        .collect();
    for ((_, r), outs) in jobs.iter().zip(results) {
        for (i, rec) in outs {
            per[i][*r as usize] = Some(rec);
        }
    }
    Ok(per
        .into_iter()
        .map(|v| v.into_iter().flatten().collect())
        .collect())
}

/// What a compare is asked for. An empty `scenarios` means every bundled one.
#[derive(Debug, Clone)]
pub struct CompareSpec {
    pub scenarios: Vec<String>,
    pub replicates: u32,
    pub seed: u64,
    pub from: i32,
    pub to: i32,
    pub sets: Vec<String>,
    pub plugins: Vec<String>,
}

impl Default for CompareSpec {
    fn default() -> Self {
        CompareSpec {
            scenarios: Vec::new(),
            replicates: 20,
            seed: 1,
            from: 2026,
            to: 2035,
            sets: Vec::new(),
            plugins: Vec::new(),
        }
    }
}

/// A finished compare.
pub struct CompareOutcome {
    pub spec: CompareSpec,
    pub loaded: Vec<Loaded>,
    /// Recorders by scenario, then replicate.
    pub recorders: Vec<Vec<Recorder>>,
    /// One row per scenario and exporter, in that order: `compare.csv`.
    pub rows: Vec<CompareRow>,
    pub elapsed: Duration,
}

impl CompareSpec {
    /// Loads and checks the scenarios: same exporters, the window inside
    /// every scenario's reported years.
    pub fn load(&self) -> Result<Vec<Loaded>> {
        if self.replicates < 2 {
            bail!(
                "--replicates must be at least 2 for confidence intervals (got {})",
                self.replicates
            );
        }
        let names: Vec<String> = if self.scenarios.is_empty() {
            loader::BUNDLED.iter().map(|(n, _)| n.to_string()).collect()
        } else {
            self.scenarios.clone()
        };
        let loaded = names
            .iter()
            .map(|n| loader::load_with(n, &self.sets, &self.plugins))
            .collect::<Result<Vec<_>>>()?;
        let (from, to) = (self.from, self.to);
        if to < from {
            bail!("--to {to} is before --from {from}");
        }
        for l in &loaded {
            let s = &l.scenario;
            let last = s.start_year + (s.months as i32 - 1) / 12;
            if from < s.start_year || to > last {
                bail!(
                    "window {from}-{to} is outside {}'s reported years {}-{last}",
                    l.label,
                    s.start_year
                );
            }
            if s.exporters.iter().map(|e| &e.name).ne(loaded[0]
                .scenario
                .exporters
                .iter()
                .map(|e| &e.name))
            {
                bail!(
                    "{} has different exporters from the baseline {}; shares cannot be compared",
                    l.label,
                    loaded[0].label
                );
            }
        }
        Ok(loaded)
    }
}

/// Loads, runs and summarises `spec`.
pub fn compare(spec: &CompareSpec) -> Result<CompareOutcome> {
    let loaded = spec.load()?;
    compare_loaded(spec, loaded)
}

/// Runs already loaded scenarios (see [`CompareSpec::load`]).
pub fn compare_loaded(spec: &CompareSpec, loaded: Vec<Loaded>) -> Result<CompareOutcome> {
    let prepared: Vec<Prepared> = loaded
        .iter()
        .map(|l| prepare(&l.scenario))
        .collect::<Result<_>>()?;
    let started = Instant::now();
    let recorders = run_compare(&prepared, spec.replicates, spec.seed)?;
    let elapsed = started.elapsed();
    let rec0 = &recorders[0][0];
    let (a, b) = rec0.year_range(spec.from, spec.to);
    let shares: Vec<Vec<Vec<f64>>> = recorders
        .iter()
        .map(|rs| rs.iter().map(|r| r.share(a, b)).collect())
        .collect();
    let mut rows = Vec::new();
    for (si, l) in loaded.iter().enumerate() {
        for (e, ex) in rec0.exporters.iter().enumerate() {
            let xs: Vec<f64> = shares[si].iter().map(|s| s[e]).collect();
            let diff: Vec<f64> = xs.iter().zip(&shares[0]).map(|(x, b)| x - b[e]).collect();
            let i = Interval::of(&xs);
            let d = Interval::of(&diff);
            rows.push(CompareRow {
                scenario: l.scenario.name.clone(),
                exporter: ex.clone(),
                share_mean: i.mean,
                share_lo: i.lo,
                share_hi: i.hi,
                delta_mean: d.mean,
                delta_lo: d.lo,
                delta_hi: d.hi,
                replicates: spec.replicates,
            });
        }
    }
    Ok(CompareOutcome {
        spec: spec.clone(),
        loaded,
        recorders,
        rows,
        elapsed,
    })
}

impl CompareOutcome {
    pub fn exporters(&self) -> &[String] {
        &self.recorders[0][0].exporters
    }

    /// `compare.csv`.
    pub fn compare_csv(&self) -> String {
        let mut csv = String::from(
            "scenario,exporter,share_mean,share_lo,share_hi,delta_mean,delta_lo,delta_hi,replicates\n",
        );
        for r in &self.rows {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                output::csv_field(&r.scenario),
                output::csv_field(&r.exporter),
                output::num(r.share_mean),
                output::num(r.share_lo),
                output::num(r.share_hi),
                output::num(r.delta_mean),
                output::num(r.delta_lo),
                output::num(r.delta_hi),
                r.replicates
            ));
        }
        csv
    }

    pub fn manifest(&self) -> CompareManifest {
        let spec = &self.spec;
        let base = &self.loaded[0].scenario;
        CompareManifest {
            kind: "compare".into(),
            dibsim_version: crate::VERSION.into(),
            model_version: dibsim_core::MODEL_VERSION.into(),
            baseline: base.name.clone(),
            focal_exporter: base.focal_exporter.clone(),
            replicates: spec.replicates,
            seed: spec.seed,
            run_seeds: (0..spec.replicates)
                .map(|r| derive_seed(spec.seed, &[r as u64]))
                .collect(),
            window: [spec.from, spec.to],
            sets: spec.sets.clone(),
            plugins: spec.plugins.clone(),
            start_year: base.start_year,
            scenarios: self
                .loaded
                .iter()
                .map(|l| ScenarioNote {
                    name: l.scenario.name.clone(),
                    source: l.label.clone(),
                    description: l.scenario.description.clone(),
                    differs: compare_files::differences(base, &l.scenario),
                })
                .collect(),
        }
    }

    /// Writes `compare.csv`, `series.csv` and, last (its presence says the
    /// folder is complete), `manifest.json`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        output::write_atomic(&dir.join("compare.csv"), self.compare_csv().as_bytes())?;
        let names: Vec<String> = self
            .loaded
            .iter()
            .map(|l| l.scenario.name.clone())
            .collect();
        let focal = &self.loaded[0].scenario.focal_exporter;
        output::write_atomic(
            &dir.join("series.csv"),
            compare_files::series_csv(&names, &self.recorders, focal).as_bytes(),
        )?;
        compare_files::write_manifest(dir, &self.manifest())
    }
}
