//! One run of one scenario: prepare it, run it, and write what `dibsim run
//! --out` keeps (`timeseries.csv`, `summary.json`).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use dibsim_core::run::{run_one_with, Prepared};
use dibsim_core::{Compiled, OrderRecord, Recorder, Scenario};

use crate::loader::{self, Loaded};
use crate::output;

/// A scenario ready to run: compiled, with its behaviours (built-in, and
/// any plugins it names, loaded and checked).
pub fn prepare(s: &Scenario) -> Result<Prepared> {
    let cfg = Arc::new(Compiled::new(s));
    let behaviours = crate::plugins::behaviours(&cfg)?;
    Ok(Prepared { cfg, behaviours })
}

/// What a run is asked for: a scenario (a path or a bundled name), a seed,
/// `path=value` overrides and `SLOT=PATH` plugins.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    pub scenario: String,
    pub seed: u64,
    pub months: Option<u32>,
    pub sets: Vec<String>,
    pub plugins: Vec<String>,
    /// Keep the order ledger (`orders.csv`).
    pub ledger: bool,
}

impl RunSpec {
    /// The overrides, with `months` as the last one.
    pub fn all_sets(&self) -> Vec<String> {
        let mut sets = self.sets.clone();
        if let Some(m) = self.months {
            sets.push(format!("months={m}"));
        }
        sets
    }

    /// Loads and validates the scenario.
    pub fn load(&self) -> Result<Loaded> {
        loader::load_with(&self.scenario, &self.all_sets(), &self.plugins)
    }
}

/// A finished run.
pub struct RunOutcome {
    pub loaded: Loaded,
    pub spec: RunSpec,
    pub recorder: Recorder,
    /// The order ledger, when `spec.ledger`.
    pub orders: Option<Vec<OrderRecord>>,
    pub cfg: Arc<Compiled>,
}

/// Loads, prepares and runs `spec`.
pub fn run(spec: &RunSpec) -> Result<RunOutcome> {
    let loaded = spec.load()?;
    run_loaded(spec, loaded)
}

/// Runs an already loaded scenario (the front end may have loaded it to
/// name a failure by its phase).
pub fn run_loaded(spec: &RunSpec, loaded: Loaded) -> Result<RunOutcome> {
    let p = prepare(&loaded.scenario)?;
    let out = run_one_with(&p, spec.seed, spec.ledger)
        .with_context(|| format!("run of {} with seed {}", loaded.label, spec.seed))?;
    Ok(RunOutcome {
        loaded,
        spec: spec.clone(),
        recorder: out.recorder,
        orders: out.ledger,
        cfg: p.cfg,
    })
}

impl RunOutcome {
    /// Shares of foreign deliveries per five-year window: (label, shares by exporter).
    pub fn window_shares(&self) -> Vec<(String, Vec<f64>)> {
        output::five_year_windows(&self.recorder)
            .into_iter()
            .map(|(label, a, b)| {
                let s = self.recorder.share_years(a, b);
                (label, s)
            })
            .collect()
    }

    pub fn timeseries_csv(&self) -> String {
        output::timeseries_csv(&self.recorder)
    }

    /// `summary.json`: versions, settings, window shares and the resolved scenario.
    pub fn summary(&self) -> serde_json::Value {
        let mut share_map = serde_json::Map::new();
        for (w, s) in self.window_shares() {
            let m: serde_json::Map<String, serde_json::Value> = self
                .recorder
                .exporters
                .iter()
                .cloned()
                .zip(s.iter().map(|x| serde_json::json!(x)))
                .collect();
            share_map.insert(w, serde_json::Value::Object(m));
        }
        serde_json::json!({
            "dibsim_version": crate::VERSION,
            "model_version": dibsim_core::MODEL_VERSION,
            "scenario": self.loaded.scenario.name,
            "source": self.loaded.label,
            "seed": self.spec.seed,
            "sets": self.spec.all_sets(),
            "plugins": crate::plugins::provenance(&self.loaded.scenario).unwrap_or_default(),
            "shares": share_map,
            "parameters": self.loaded.scenario,
        })
    }

    /// `orders.csv`, when the run kept its ledger.
    pub fn orders_csv(&self) -> Option<String> {
        self.orders
            .as_ref()
            .map(|o| output::orders_csv(&self.cfg, o))
    }

    /// Writes `timeseries.csv`, `orders.csv` (with a ledger) and
    /// `summary.json` into `dir`; returns their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let ts = dir.join("timeseries.csv");
        output::write_atomic(&ts, self.timeseries_csv().as_bytes())?;
        let mut files = vec![ts];
        if let Some(text) = self.orders_csv() {
            let p = dir.join("orders.csv");
            output::write_atomic(&p, text.as_bytes())?;
            files.push(p);
        }
        let sum = dir.join("summary.json");
        output::write_atomic(
            &sum,
            serde_json::to_string_pretty(&self.summary())?.as_bytes(),
        )?;
        files.push(sum);
        Ok(files)
    }
}
