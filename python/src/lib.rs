//! The native half of the `dibsim` Python package: thin wrappers over the
//! same engines the CLI calls (`dibsim_experiments`), so that a run from
//! Python is bit-identical to `dibsim run` with the same seed and overrides.
//!
//! Tables cross into Python through the Arrow C stream interface (an object
//! with `__arrow_c_stream__`, which polars and pyarrow import without a
//! copy); the engine runs with the interpreter's lock released, on rayon
//! threads; errors become the package's exception classes, named by the
//! phase that failed (loading a scenario, loading a plugin, running).

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchIterator};
use arrow_schema::{DataType, Field, Schema};
use dibsim_core::metrics::METRICS;
use dibsim_core::run::{run_one_with, Prepared};
use dibsim_core::{Recorder, Scenario};
use dibsim_experiments::compare::{self as comparison, CompareSpec};
use dibsim_experiments::run::{self as single, RunSpec};
use dibsim_experiments::{classify, loader, prepare, sweep, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

create_exception!(
    _native,
    DibsimError,
    PyException,
    "Any error dibsim reports."
);
create_exception!(
    _native,
    ScenarioError,
    DibsimError,
    "A scenario file, `extends` chain or `set` override is wrong; the message names the file and field."
);
create_exception!(
    _native,
    PluginError,
    DibsimError,
    "A plugin would not load, refused its params, or failed during a run (a panic included)."
);
create_exception!(
    _native,
    SweepError,
    DibsimError,
    "A sweep file, its journal or its output folder is wrong."
);

/// The message the CLI prints, on one line: the error and its causes.
fn message(err: &anyhow::Error) -> String {
    err.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": caused by: ")
}

/// The exception for `err`, by its typed root cause, else by the phase.
fn to_py(err: anyhow::Error, phase: ErrorKind) -> PyErr {
    let text = message(&err);
    match classify(&err).unwrap_or(phase) {
        ErrorKind::Scenario => ScenarioError::new_err(text),
        ErrorKind::Plugin => PluginError::new_err(text),
        ErrorKind::Sweep => SweepError::new_err(text),
        ErrorKind::Other => DibsimError::new_err(text),
    }
}

/// One rayon pool per thread count, built on first use.
fn pool(threads: Option<usize>) -> PyResult<Option<Arc<rayon::ThreadPool>>> {
    let Some(n) = threads else {
        return Ok(None);
    };
    if n == 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "threads must be at least 1",
        ));
    }
    static POOLS: OnceLock<Mutex<BTreeMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(&n) {
        return Ok(Some(Arc::clone(p)));
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| DibsimError::new_err(format!("cannot start {n} threads: {e}")))?;
    let p = Arc::new(p);
    pools.insert(n, Arc::clone(&p));
    Ok(Some(p))
}

/// Runs `f` on `pool` (or the global pool).
fn on_pool<T: Send>(pool: &Option<Arc<rayon::ThreadPool>>, f: impl FnOnce() -> T + Send) -> T {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// A table for Python: one record batch, handed over once through the
/// Arrow C stream interface.
#[pyclass(module = "dibsim._native")]
struct ArrowTable {
    batch: Mutex<Option<RecordBatch>>,
    rows: usize,
}

const STREAM: &CStr = c"arrow_array_stream";

#[pymethods]
impl ArrowTable {
    /// The Arrow PyCapsule interface: the table as a stream of one batch.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // the table has one schema; consumers cast
        let batch = self
            .batch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| DibsimError::new_err("this table was already imported"))?;
        let schema = batch.schema();
        let reader = RecordBatchIterator::new(vec![Ok(batch)], schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    fn __len__(&self) -> usize {
        self.rows
    }
}

fn table(columns: Vec<(&str, DataType, ArrayRef)>) -> PyResult<ArrowTable> {
    let rows = columns.first().map(|c| c.2.len()).unwrap_or(0);
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, t, _)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|c| c.2).collect())
        .map_err(|e| DibsimError::new_err(format!("cannot build a table: {e}")))?;
    Ok(ArrowTable {
        batch: Mutex::new(Some(batch)),
        rows,
    })
}

/// `timeseries.csv` as a table: the same columns; NaN (an empty CSV cell) is null.
fn timeseries_table(rec: &Recorder) -> PyResult<ArrowTable> {
    let n = rec.months() * rec.exporter_count();
    let mut month = Int64Builder::with_capacity(n);
    let mut year = Int64Builder::with_capacity(n);
    let mut exporter = StringBuilder::with_capacity(n, n * 12);
    let mut metrics: Vec<Float64Builder> = METRICS
        .iter()
        .map(|_| Float64Builder::with_capacity(n))
        .collect();
    for t in 0..rec.months() {
        for (e, name) in rec.exporters.iter().enumerate() {
            month.append_value(t as i64);
            year.append_value(rec.year_of(t) as i64);
            exporter.append_value(name);
            for (b, v) in metrics.iter_mut().zip(rec.get(t, e).values()) {
                if v.is_nan() {
                    b.append_null();
                } else {
                    b.append_value(v);
                }
            }
        }
    }
    let mut cols: Vec<(&str, DataType, ArrayRef)> = vec![
        ("month", DataType::Int64, Arc::new(month.finish())),
        ("year", DataType::Int64, Arc::new(year.finish())),
        ("exporter", DataType::Utf8, Arc::new(exporter.finish())),
    ];
    for (name, mut b) in METRICS.iter().zip(metrics) {
        cols.push((name, DataType::Float64, Arc::new(b.finish())));
    }
    table(cols)
}

/// The ledger as a table with the columns of `orders.csv`.
fn orders_table(
    cfg: &dibsim_core::Compiled,
    orders: &[dibsim_core::OrderRecord],
) -> PyResult<ArrowTable> {
    let s = &cfg.scenario;
    let n = orders.len();
    let text = || StringBuilder::with_capacity(n, n * 16);
    let (mut ally, mut region, mut exporter, mut owner, mut line, mut category, mut tier) =
        (text(), text(), text(), text(), text(), text(), text());
    let (mut outcome, mut class) = (text(), text());
    let int = || Int64Builder::with_capacity(n);
    let (mut id, mut placed, mut decided, mut entered, mut first, mut last) =
        (int(), int(), int(), int(), int(), int());
    let float = || Float64Builder::with_capacity(n);
    let (mut size, mut price, mut quoted, mut realised, mut delivered) =
        (float(), float(), float(), float(), float());
    for o in orders {
        let lp = &cfg.lines[o.line as usize];
        let a = &s.allies[o.ally as usize];
        let own = &s.suppliers[lp.owner].name;
        let cat = &s.categories[lp.category].name;
        let t = lp.tier.as_str();
        id.append_value(o.seq as i64);
        ally.append_value(&a.name);
        region.append_value(&a.region);
        exporter.append_value(&s.exporters[lp.exporter].name);
        owner.append_value(own);
        line.append_value(format!("{own}/{cat}/{t}"));
        category.append_value(cat);
        tier.append_value(t);
        size.append_value(o.size);
        price.append_value(o.size * o.price_index);
        placed.append_value(o.placed as i64);
        decided.append_option(o.decided.map(i64::from));
        outcome.append_value(o.outcome.as_str());
        entered.append_option(o.entered.map(i64::from));
        first.append_option(o.first_delivery.map(i64::from));
        last.append_option(o.last_delivery.map(i64::from));
        quoted.append_value(o.quoted_wait);
        realised.append_option(o.realised_wait());
        class.append_value(if o.priority { "priority" } else { "ordinary" });
        delivered.append_value(o.delivered_reported);
    }
    let (u, i, f) = (DataType::Utf8, DataType::Int64, DataType::Float64);
    table(vec![
        ("order_id", i.clone(), Arc::new(id.finish())),
        ("ally", u.clone(), Arc::new(ally.finish())),
        ("region", u.clone(), Arc::new(region.finish())),
        ("exporter", u.clone(), Arc::new(exporter.finish())),
        ("owner", u.clone(), Arc::new(owner.finish())),
        ("line", u.clone(), Arc::new(line.finish())),
        ("category", u.clone(), Arc::new(category.finish())),
        ("tier", u.clone(), Arc::new(tier.finish())),
        ("size_tiv", f.clone(), Arc::new(size.finish())),
        ("price_musd", f.clone(), Arc::new(price.finish())),
        ("placed_month", i.clone(), Arc::new(placed.finish())),
        ("decision_month", i.clone(), Arc::new(decided.finish())),
        ("outcome", u.clone(), Arc::new(outcome.finish())),
        ("entry_month", i.clone(), Arc::new(entered.finish())),
        ("first_delivery_month", i.clone(), Arc::new(first.finish())),
        ("last_delivery_month", i, Arc::new(last.finish())),
        ("quoted_wait_months", f.clone(), Arc::new(quoted.finish())),
        (
            "realised_wait_months",
            f.clone(),
            Arc::new(realised.finish()),
        ),
        ("priority_class", u, Arc::new(class.finish())),
        ("delivered_tiv", f, Arc::new(delivered.finish())),
    ])
}

fn compare_table(rows: &[dibsim_experiments::compare_files::CompareRow]) -> PyResult<ArrowTable> {
    let mut scenario = StringBuilder::new();
    let mut exporter = StringBuilder::new();
    let mut f: Vec<Float64Builder> = (0..6).map(|_| Float64Builder::new()).collect();
    let mut replicates = Int64Builder::new();
    for r in rows {
        scenario.append_value(&r.scenario);
        exporter.append_value(&r.exporter);
        let vals = [
            r.share_mean,
            r.share_lo,
            r.share_hi,
            r.delta_mean,
            r.delta_lo,
            r.delta_hi,
        ];
        for (b, v) in f.iter_mut().zip(vals) {
            if v.is_nan() {
                b.append_null();
            } else {
                b.append_value(v);
            }
        }
        replicates.append_value(r.replicates as i64);
    }
    let names = [
        "share_mean",
        "share_lo",
        "share_hi",
        "delta_mean",
        "delta_lo",
        "delta_hi",
    ];
    let mut cols: Vec<(&str, DataType, ArrayRef)> = vec![
        ("scenario", DataType::Utf8, Arc::new(scenario.finish())),
        ("exporter", DataType::Utf8, Arc::new(exporter.finish())),
    ];
    for (n, mut b) in names.iter().zip(f) {
        cols.push((n, DataType::Float64, Arc::new(b.finish())));
    }
    cols.push(("replicates", DataType::Int64, Arc::new(replicates.finish())));
    table(cols)
}

/// A finished run, kept on the Rust side: its summary is built only when
/// Python asks for it (it holds the whole resolved scenario).
#[pyclass(module = "dibsim._native")]
struct NativeRun {
    outcome: single::RunOutcome,
}

#[pymethods]
impl NativeRun {
    /// `timeseries.csv` as an Arrow table.
    fn timeseries(&self) -> PyResult<ArrowTable> {
        timeseries_table(&self.outcome.recorder)
    }

    /// `orders.csv` (the order ledger) as an Arrow table, when kept.
    fn orders(&self) -> PyResult<Option<ArrowTable>> {
        self.outcome
            .orders
            .as_ref()
            .map(|o| orders_table(&self.outcome.cfg, o))
            .transpose()
    }

    /// `summary.json` as JSON text.
    fn summary_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.outcome.summary())
            .map_err(|e| DibsimError::new_err(e.to_string()))
    }
}

/// One run; with `out`, also the CLI's files.
#[pyfunction]
#[pyo3(signature = (scenario, seed, sets, months, plugins, threads, out))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    scenario: String,
    seed: u64,
    sets: Vec<String>,
    months: Option<u32>,
    plugins: Vec<String>,
    threads: Option<usize>,
    out: Option<PathBuf>,
) -> PyResult<NativeRun> {
    let pool = pool(threads)?;
    let spec = RunSpec {
        scenario,
        seed,
        months,
        sets,
        plugins,
        ledger: true,
    };
    let done = py.detach(|| {
        let ready = prepared(&spec)?;
        let (loaded, p) = &*ready;
        let out_run = on_pool(&pool, || run_one_with(p, spec.seed, spec.ledger)).map_err(|e| {
            let e = anyhow::Error::new(e)
                .context(format!("run of {} with seed {}", loaded.label, spec.seed));
            (e, ErrorKind::Plugin)
        })?;
        let done = single::RunOutcome {
            loaded: loaded.clone(),
            spec: spec.clone(),
            recorder: out_run.recorder,
            orders: out_run.ledger,
            cfg: Arc::clone(&p.cfg),
        };
        if let Some(dir) = &out {
            done.write(dir).map_err(|e| (e, ErrorKind::Other))?;
        }
        Ok(done)
    });
    let outcome = done.map_err(|(e, phase)| to_py(e, phase))?;
    Ok(NativeRun { outcome })
}

type Ready = Arc<(dibsim_experiments::loader::Loaded, Prepared)>;

/// The loaded and prepared scenario of `spec`. A bundled scenario without
/// plugins cannot change while the process lives, so the last few are kept:
/// a notebook running many seeds of one scenario resolves and compiles it
/// once (a run from Python then costs what the engine's own bench does).
fn prepared(spec: &RunSpec) -> Result<Ready, (anyhow::Error, ErrorKind)> {
    type Key = (String, Vec<String>, Option<u32>);
    static CACHE: OnceLock<Mutex<Vec<(Key, Ready)>>> = OnceLock::new();
    let cacheable = spec.plugins.is_empty() && loader::is_bundled(&spec.scenario);
    let key: Key = (spec.scenario.clone(), spec.sets.clone(), spec.months);
    let cache = CACHE.get_or_init(Default::default);
    if cacheable {
        let hit = cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| Arc::clone(r));
        if let Some(r) = hit {
            return Ok(r);
        }
    }
    let loaded = spec.load().map_err(|e| (e, ErrorKind::Scenario))?;
    let p = prepare(&loaded.scenario).map_err(|e| (e, ErrorKind::Plugin))?;
    let ready: Ready = Arc::new((loaded, p));
    if cacheable {
        let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
        if c.len() >= 8 {
            c.remove(0);
        }
        c.push((key, Arc::clone(&ready)));
    }
    Ok(ready)
}

/// The compare table; with `out`, also `compare.csv`, `series.csv` and `manifest.json`.
#[pyfunction]
#[pyo3(signature = (scenarios, replicates, seed, window, sets, plugins, threads, out))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    scenarios: Vec<String>,
    replicates: u32,
    seed: u64,
    window: (i32, i32),
    sets: Vec<String>,
    plugins: Vec<String>,
    threads: Option<usize>,
    out: Option<PathBuf>,
) -> PyResult<ArrowTable> {
    let pool = pool(threads)?;
    let spec = CompareSpec {
        scenarios,
        replicates,
        seed,
        from: window.0,
        to: window.1,
        sets,
        plugins,
        lags: out.is_some(),
    };
    let done = py.detach(|| {
        let loaded = spec.load().map_err(|e| (e, ErrorKind::Scenario))?;
        let done = on_pool(&pool, || comparison::compare_loaded(&spec, loaded))
            .map_err(|e| (e, ErrorKind::Plugin))?;
        if let Some(dir) = &out {
            done.write(dir).map_err(|e| (e, ErrorKind::Other))?;
        }
        Ok(done)
    });
    let done = done.map_err(|(e, phase)| to_py(e, phase))?;
    compare_table(&done.rows)
}

/// The resolved scenario as JSON text.
#[pyfunction]
#[pyo3(signature = (scenario, sets, plugins))]
fn validate(scenario: String, sets: Vec<String>, plugins: Vec<String>) -> PyResult<String> {
    let loaded =
        loader::load_with(&scenario, &sets, &plugins).map_err(|e| to_py(e, ErrorKind::Scenario))?;
    serde_json::to_string(&loaded.scenario).map_err(|e| DibsimError::new_err(e.to_string()))
}

/// The bundled scenarios: (name, description).
#[pyfunction]
fn scenarios() -> Vec<(String, String)> {
    loader::list()
}

/// The sweep's progress, reported to a Python callable and checked for a
/// stop request (Ctrl-C seen by the main thread, or the callable raising).
struct Callback {
    callable: Option<Py<PyAny>>,
    stop: Arc<AtomicBool>,
    raised: Arc<Mutex<Option<PyErr>>>,
}

impl sweep::Progress for Callback {
    fn start(&mut self, done: u64, total: u64) {
        self.advance(done, total, 0, 0);
    }

    fn advance(&mut self, done: u64, total: u64, _ran: u64, failed: u64) -> bool {
        if let Some(cb) = &self.callable {
            let result = Python::attach(|py| cb.call1(py, (done, total, failed)).map(|_| ()));
            if let Err(e) = result {
                *self.raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                self.stop.store(true, Ordering::SeqCst);
            }
        }
        !self.stop.load(Ordering::SeqCst)
    }
}

/// Runs (or resumes) a sweep file into `out`; returns (runs, failed, already
/// complete, runs file name).
#[pyfunction]
#[pyo3(signature = (path, out, resume, shard, format, threads, progress))]
#[allow(clippy::too_many_arguments)]
fn run_sweep(
    py: Python<'_>,
    path: PathBuf,
    out: PathBuf,
    resume: bool,
    shard: Option<String>,
    format: &str,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(u64, u64, bool, String)> {
    let pool = pool(threads)?;
    let format = match format {
        "parquet" => sweep::Format::Parquet,
        "csv" => sweep::Format::Csv,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "format must be \"parquet\" or \"csv\", not {other:?}"
            )))
        }
    };
    let loaded = py.detach(|| -> anyhow::Result<_> {
        let sw = sweep::Sweep::load(&path)?;
        let shard = shard
            .as_deref()
            .map(sweep::Shard::parse)
            .transpose()?
            .unwrap_or(sweep::Shard::ALL);
        Ok((sw, shard))
    });
    let (sw, shard) = loaded.map_err(|e| to_py(e, ErrorKind::Sweep))?;
    // The base scenario's plugins load here, before any worker runs them.
    prepare(&sw.base_scenario).map_err(|e| to_py(e, ErrorKind::Plugin))?;
    let stop = Arc::new(AtomicBool::new(false));
    let raised = Arc::new(Mutex::new(None));
    let mut shown = Callback {
        callable: progress,
        stop: Arc::clone(&stop),
        raised: Arc::clone(&raised),
    };
    let opts = sweep::Options {
        out: out.clone(),
        resume,
        shard,
        format,
        fork: true,
    };
    // The sweep runs on its own thread so that this (main) thread can look
    // for Ctrl-C between waits: Python runs signal handlers only here.
    let worker = std::thread::spawn(move || {
        on_pool(&pool, || {
            sweep::execute(&sw, &opts, &|s: &Scenario| prepare(s), &mut shown)
        })
    });
    while !worker.is_finished() {
        py.detach(|| std::thread::sleep(Duration::from_millis(50)));
        if let Err(e) = py.check_signals() {
            *raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            stop.store(true, Ordering::SeqCst);
        }
    }
    let result = py
        .detach(|| worker.join())
        .map_err(|_| DibsimError::new_err("the sweep thread panicked"))?;
    if let Some(e) = raised.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let outcome = result.map_err(|e| match e.downcast_ref::<sweep::AlreadyHolds>() {
        // The library's refusal names the CLI's flag; here it is an argument.
        Some(held) => SweepError::new_err(format!(
            "{} already holds sweep output; pass resume=True to continue it, or choose another out",
            held.dir.display()
        )),
        None => to_py(e, ErrorKind::Sweep),
    })?;
    let mf = sweep::Manifest::read(&out).map_err(|e| to_py(e, ErrorKind::Sweep))?;
    Ok((
        outcome.ran,
        outcome.failed,
        outcome.already_complete,
        mf.runs_file(),
    ))
}

/// The folder a sweep file's output goes to when none is given (as the CLI).
#[pyfunction]
fn sweep_default_out(path: PathBuf) -> PyResult<String> {
    let sw = sweep::Sweep::load(&path).map_err(|e| to_py(e, ErrorKind::Sweep))?;
    Ok(sw.default_out().display().to_string())
}

/// A sweep given as a table (a Python dict, as JSON text), written as TOML.
#[pyfunction]
fn sweep_toml(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| SweepError::new_err(format!("the sweep is not a table: {e}")))?;
    toml::to_string(&value).map_err(|e| {
        SweepError::new_err(format!(
            "the sweep cannot be written as TOML ({e}); None values are not allowed"
        ))
    })
}

/// `dibsim analyze`: every index of a finished sensitivity sweep, as
/// (metric, group, parameter, index, value, lo, hi) rows, and one sentence
/// per metric left out; with `write`, also DIR/sensitivity.csv.
#[pyfunction]
#[pyo3(signature = (dir, metric, write))]
#[allow(clippy::type_complexity)]
fn analyze(
    py: Python<'_>,
    dir: PathBuf,
    metric: Option<String>,
    write: bool,
) -> PyResult<(
    Vec<(String, String, String, String, f64, f64, f64)>,
    Vec<String>,
)> {
    use dibsim_experiments::sensitivity;
    let found = py
        .detach(|| -> anyhow::Result<_> {
            let found = sensitivity::analyze(&dir, metric.as_deref())?;
            if write {
                dibsim_experiments::output::write_atomic(
                    &dir.join("sensitivity.csv"),
                    sensitivity::sensitivity_csv(&found.rows).as_bytes(),
                )?;
            }
            Ok(found)
        })
        .map_err(|e| to_py(e, ErrorKind::Sweep))?;
    let rows = found
        .rows
        .into_iter()
        .map(|r| (r.metric, r.group, r.parameter, r.index, r.value, r.lo, r.hi))
        .collect();
    Ok((rows, found.skipped))
}

/// `dibsim discover`: PRIM on a finished sweep; discovery.json's content as
/// JSON text (and, with `write`, discovery.csv and discovery.json in DIR).
#[pyfunction]
#[pyo3(signature = (dir, metric, below, threshold, delta, density, write))]
#[allow(clippy::too_many_arguments)]
fn discover(
    py: Python<'_>,
    dir: PathBuf,
    metric: String,
    below: bool,
    threshold: f64,
    delta: bool,
    density: f64,
    write: bool,
) -> PyResult<String> {
    use dibsim_experiments::sensitivity::{self, DiscoverSpec};
    py.detach(|| -> anyhow::Result<String> {
        let d = sensitivity::discover(
            &dir,
            &DiscoverSpec {
                metric,
                below,
                threshold,
                delta,
                density,
            },
        )?;
        let mut j = d.json();
        j["trajectory"] = serde_json::json!(d
            .result
            .trajectory
            .iter()
            .map(|b| serde_json::json!({"coverage": b.coverage, "density": b.density, "mass": b.mass}))
            .collect::<Vec<_>>());
        if write {
            d.write(&dir)?;
        }
        Ok(j.to_string())
    })
    .map_err(|e| to_py(e, ErrorKind::Sweep))
}

/// PRIM on any data: rows of inputs and the cases of interest. The
/// trajectory (coverage, density, mass, limits, restricted) and the chosen
/// box, as JSON text.
#[pyfunction]
#[pyo3(signature = (x, y, threshold))]
fn prim(x: Vec<Vec<f64>>, y: Vec<bool>, threshold: f64) -> PyResult<String> {
    let r = dibsim_experiments::analysis::prim::prim(&x, &y, threshold)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let boxes: Vec<serde_json::Value> = r
        .trajectory
        .iter()
        .map(|b| {
            serde_json::json!({
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "limits": b.limits.iter().map(|l| [l.0, l.1]).collect::<Vec<_>>(),
                "restricted": b.restricted,
            })
        })
        .collect();
    let p = &r.pasted;
    let pasted = serde_json::json!({
        "coverage": p.coverage,
        "density": p.density,
        "mass": p.mass,
        "limits": p.limits.iter().map(|l| [l.0, l.1]).collect::<Vec<_>>(),
        "restricted": p.restricted,
    });
    Ok(serde_json::json!({"trajectory": boxes, "chosen": r.chosen, "pasted": pasted}).to_string())
}

/// Allow (or not) the native plugin libraries that scenario files name, for
/// this process (as `--allow-native-plugins`).
#[pyfunction]
fn allow_native_plugins(yes: bool) {
    dibsim_experiments::plugins::allow_native(yes);
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", dibsim_experiments::VERSION)?;
    m.add("MODEL_VERSION", dibsim_core::MODEL_VERSION)?;
    // The exceptions live in `dibsim` for Python (and pickle: a process
    // pool sends them back by that name).
    for (name, ty) in [
        ("DibsimError", py.get_type::<DibsimError>()),
        ("ScenarioError", py.get_type::<ScenarioError>()),
        ("PluginError", py.get_type::<PluginError>()),
        ("SweepError", py.get_type::<SweepError>()),
    ] {
        ty.setattr("__module__", "dibsim")?;
        m.add(name, ty)?;
    }
    m.add_class::<ArrowTable>()?;
    m.add_class::<NativeRun>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(run_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_toml, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_default_out, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(discover, m)?)?;
    m.add_function(wrap_pyfunction!(prim, m)?)?;
    m.add_function(wrap_pyfunction!(allow_native_plugins, m)?)?;
    Ok(())
}
