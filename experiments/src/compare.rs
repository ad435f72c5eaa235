//! `compare`: scenarios x replicates with common random numbers, the first
//! scenario the baseline; shares over a calendar window with 95% intervals,
//! and differences from the baseline with paired intervals.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use dibsim_core::ledger::weighted_median;
use dibsim_core::rng::derive_seed;
use dibsim_core::run::{groups, run_group_with, Prepared, RunOutput};
use dibsim_core::stats::Interval;
use dibsim_core::{OrderRecord, Recorder};
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
    Ok(run_compare_with(prepared, replicates, seed, false)?
        .into_iter()
        .map(|v| v.into_iter().map(|o| o.recorder).collect())
        .collect())
}

/// As [`run_compare`], keeping each run's order ledger if `ledger`.
pub fn run_compare_with(
    prepared: &[Prepared],
    replicates: u32,
    seed: u64,
    ledger: bool,
) -> Result<Vec<Vec<RunOutput>>> {
    let groups = groups(prepared);
    let jobs: Vec<(usize, u32)> = (0..groups.len())
        .flat_map(|g| (0..replicates).map(move |r| (g, r)))
        .collect();
    let results: Vec<Vec<(usize, RunOutput)>> = jobs
        .par_iter()
        .map(|&(g, r)| -> Result<Vec<(usize, RunOutput)>> {
            let members: Vec<&Prepared> = groups[g].iter().map(|&i| &prepared[i]).collect();
            let run_seed = derive_seed(seed, &[r as u64]);
            let outs = run_group_with(&members, run_seed, ledger);
            groups[g]
                .iter()
                .zip(outs)
                .map(|(&i, o)| {
                    o.map(|out| (i, out)).with_context(|| {
                        format!(
                            "scenario {} replicate {r} (seed {run_seed})",
                            prepared[i].cfg.scenario.name
                        )
                    })
                })
                .collect()
        })
        .collect::<Result<_>>()?;
    let mut per: Vec<Vec<Option<RunOutput>>> = (0..prepared.len())
        .map(|_| (0..replicates).map(|_| None).collect())
        .collect();
    for ((_, r), outs) in jobs.iter().zip(results) {
        for (i, out) in outs {
            per[i][*r as usize] = Some(out);
        }
    }
    Ok(per
        .into_iter()
        .map(|v| v.into_iter().flatten().collect())
        .collect())
}

/// One run's lags: per exporter, the size-weighted median months from
/// placement to the first and to the last delivery, over the orders placed
/// in the window that got there before the run ended (NaN when none did).
#[derive(Debug, Clone)]
pub struct Lags {
    pub to_first: Vec<f64>,
    pub to_last: Vec<f64>,
}

impl Lags {
    pub fn of(cfg: &dibsim_core::Compiled, orders: &[OrderRecord], from: usize, to: usize) -> Lags {
        let n = cfg.exporters.len();
        let mut first: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
        let mut last: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
        for o in orders {
            if o.placed < from as i32 || o.placed >= to as i32 {
                continue;
            }
            let e = cfg.lines[o.line as usize].exporter;
            if let Some(f) = o.first_delivery {
                first[e].push(((f - o.placed) as f64, o.size));
            }
            if let Some(l) = o.last_delivery {
                last[e].push(((l - o.placed) as f64, o.size));
            }
        }
        Lags {
            to_first: first.iter_mut().map(|v| weighted_median(v)).collect(),
            to_last: last.iter_mut().map(|v| weighted_median(v)).collect(),
        }
    }
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
    /// Keep each run's order ledger for `lags.csv` (costs a little).
    pub lags: bool,
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
            lags: false,
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
    /// Lags by scenario, then replicate (from each run's order ledger; empty
    /// unless `spec.lags`).
    pub lags: Vec<Vec<Lags>>,
    pub elapsed: Duration,
}

impl CompareSpec {
    /// Loads and checks the scenarios: same exporters and start year, the
    /// window inside every scenario's reported years.
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
        // In parallel: each scenario parses the 160 KB baseline it extends
        // (6% of a one-thread default compare's samples). The first failure
        // in the order given is the one reported.
        let loaded: Vec<Result<Loaded>> = names
            .par_iter()
            .map(|n| loader::load_with(n, &self.sets, &self.plugins))
            .collect();
        let loaded = loaded.into_iter().collect::<Result<Vec<_>>>()?;
        let (from, to) = (self.from, self.to);
        if to < from {
            bail!("--to {to} is before --from {from}");
        }
        for l in &loaded {
            let s = &l.scenario;
            let start = loaded[0].scenario.start_year;
            if s.start_year != start {
                // Replicates are paired, and windows cut, by month index
                // from the start: two calendars would compare different
                // years under one label.
                bail!(
                    "{} starts in {} and the baseline {} in {start} (`start_year`): a compare pairs scenarios month by month on one calendar; give them the same start_year, or run them apart",
                    l.label,
                    s.start_year,
                    loaded[0].label
                );
            }
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
        check_memory(&loaded, self.replicates)?;
        Ok(loaded)
    }
}

/// Bytes one run's recorder keeps: per reported month, every exporter's
/// metrics and its deliveries by region and by category, and the regions'.
pub fn recorder_bytes(s: &dibsim_core::Scenario) -> u64 {
    let regions = s.regions().len() as u64;
    let (e, c) = (s.exporters.len() as u64, s.categories.len() as u64);
    s.months as u64 * 8 * (e * (16 + regions + c) + regions)
}

/// A compare keeps every run's recorder until it summarises them: refuse,
/// before running, one that would not fit in the memory the machine has.
fn check_memory(loaded: &[Loaded], replicates: u32) -> Result<()> {
    let need: u64 = loaded
        .iter()
        .map(|l| recorder_bytes(&l.scenario) * replicates as u64)
        .sum();
    if let Some(avail) = available_memory() {
        if need > avail / 10 * 8 {
            bail!(
                "{} scenario(s) x {replicates} replicates keep about {:.1} GB of monthly results in memory, more than the {:.1} GB this machine has available: use fewer replicates, or a sweep (`dibsim sweep`, which streams its results to disk)",
                loaded.len(),
                need as f64 / 1e9,
                avail as f64 / 1e9
            );
        }
    }
    Ok(())
}

/// `MemAvailable` of /proc/meminfo, where there is one.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
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
    let outputs = run_compare_with(&prepared, spec.replicates, spec.seed, spec.lags)?;
    let elapsed = started.elapsed();
    let (a, b) = outputs[0][0].recorder.year_range(spec.from, spec.to);
    let mut recorders = Vec::with_capacity(outputs.len());
    let mut lags = Vec::with_capacity(outputs.len());
    for (p, runs) in prepared.iter().zip(outputs) {
        let mut recs = Vec::with_capacity(runs.len());
        let mut ls = Vec::with_capacity(runs.len());
        for out in runs {
            if let Some(orders) = &out.ledger {
                ls.push(Lags::of(&p.cfg, orders, a, b));
            }
            recs.push(out.recorder);
        }
        recorders.push(recs);
        lags.push(ls);
    }
    let rec0 = &recorders[0][0];
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
        lags,
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

    fn window(&self) -> (usize, usize) {
        self.recorders[0][0].year_range(self.spec.from, self.spec.to)
    }

    /// `lags.csv`: per scenario and exporter, the TIV-weighted median months
    /// from order to first and to last delivery (orders placed in the
    /// window and delivered by the end of the run), mean over replicates
    /// with its 95% interval, and how many replicates had such orders.
    pub fn lags_csv(&self) -> String {
        let mut csv = String::from(
            "scenario,exporter,to_first_delivery_months,to_first_lo,to_first_hi,to_last_delivery_months,to_last_lo,to_last_hi,replicates\n",
        );
        for (l, runs) in self.loaded.iter().zip(&self.lags) {
            for (e, ex) in self.exporters().iter().enumerate() {
                let first: Vec<f64> = runs.iter().map(|r| r.to_first[e]).collect();
                let last: Vec<f64> = runs.iter().map(|r| r.to_last[e]).collect();
                let (f, z) = (Interval::of(&first), Interval::of(&last));
                csv.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{}\n",
                    output::csv_field(&l.scenario.name),
                    output::csv_field(ex),
                    output::num(f.mean),
                    output::num(f.lo),
                    output::num(f.hi),
                    output::num(z.mean),
                    output::num(z.lo),
                    output::num(z.hi),
                    f.n.max(z.n)
                ));
            }
        }
        csv
    }

    /// `attribution.csv`: each policy scenario's change from the baseline in
    /// the focal exporter's foreign deliveries over the window, split by
    /// importing region and by category (`part = all` is the whole), in TIV
    /// and in points of world share; mean of the paired differences over
    /// replicates with its 95% interval. The share parts add up to the
    /// change in the focal share of `compare.csv`.
    pub fn attribution_csv(&self) -> String {
        let (a, b) = self.window();
        let base = &self.loaded[0].scenario;
        let focal = base.exporter_index(&base.focal_exporter).unwrap_or(0);
        let rec0 = &self.recorders[0][0];
        let mut csv = String::from(
            "scenario,exporter,dimension,part,delta_tiv,delta_tiv_lo,delta_tiv_hi,delta_share_pp,delta_share_pp_lo,delta_share_pp_hi,replicates\n",
        );
        // (dimension, part names, the focal deliveries by part of one run)
        type Split = fn(&Recorder, usize, usize, usize) -> Vec<f64>;
        let all: Split = |r, e, a, b| vec![r.exporter_by_region(e, a, b).iter().sum()];
        let dims: [(&str, Vec<String>, Split); 3] = [
            ("all", vec!["all".to_string()], all),
            ("region", rec0.regions.clone(), |r, e, a, b| {
                r.exporter_by_region(e, a, b)
            }),
            ("category", rec0.categories.clone(), |r, e, a, b| {
                r.exporter_by_category(e, a, b)
            }),
        ];
        for (si, l) in self.loaded.iter().enumerate().skip(1) {
            for (dim, parts, split) in &dims {
                let per_run: Vec<(Vec<f64>, Vec<f64>, f64, f64)> = self.recorders[si]
                    .iter()
                    .zip(&self.recorders[0])
                    .map(|(s, b0)| {
                        (
                            split(s, focal, a, b),
                            split(b0, focal, a, b),
                            s.world_deliveries(a, b),
                            b0.world_deliveries(a, b),
                        )
                    })
                    .collect();
                for (k, part) in parts.iter().enumerate() {
                    let tiv: Vec<f64> = per_run.iter().map(|r| r.0[k] - r.1[k]).collect();
                    let share: Vec<f64> = per_run
                        .iter()
                        .map(|r| 100.0 * (r.0[k] / r.2 - r.1[k] / r.3))
                        .collect();
                    let (t, sh) = (Interval::of(&tiv), Interval::of(&share));
                    csv.push_str(&format!(
                        "{},{},{dim},{},{},{},{},{},{},{},{}\n",
                        output::csv_field(&l.scenario.name),
                        output::csv_field(&base.focal_exporter),
                        output::csv_field(part),
                        output::num(t.mean),
                        output::num(t.lo),
                        output::num(t.hi),
                        output::num(sh.mean),
                        output::num(sh.lo),
                        output::num(sh.hi),
                        t.n
                    ));
                }
            }
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
            plugin_provenance: {
                let mut all: Vec<crate::plugins::Provenance> = Vec::new();
                for l in &self.loaded {
                    for p in crate::plugins::provenance(&l.scenario).unwrap_or_default() {
                        if !all.contains(&p) {
                            all.push(p);
                        }
                    }
                }
                all
            },
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
        if self.spec.lags {
            output::write_atomic(&dir.join("lags.csv"), self.lags_csv().as_bytes())?;
        }
        output::write_atomic(
            &dir.join("attribution.csv"),
            self.attribution_csv().as_bytes(),
        )?;
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
