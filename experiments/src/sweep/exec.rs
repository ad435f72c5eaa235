//! Running a sweep: jobs on the thread pool, results to the journal in run
//! order, resume, and the finished files.
//!
//! Runs are numbered point-major (`run = point * replicates + replicate`)
//! and executed in chunks of adjacent points. A job is one replicate of one
//! chunk: with common random numbers its points share a seed, so those that
//! differ only in `policy` simulate their history up to the policy start
//! once and fork from it. A chunk's rows are written, sorted by run, once
//! all its jobs are done; the journal on disk is therefore always a
//! contiguous prefix of this shard's runs, and memory holds at most a few
//! chunks whatever the sweep's size.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use dibsim_core::metrics::METRICS as SERIES;
use dibsim_core::run::{groups, run_group_with, run_one_with, Prepared, RunOutput};
use dibsim_core::{Recorder, RunError};
use rayon::iter::{ParallelBridge, ParallelIterator};
use serde::{Deserialize, Serialize};

use super::spec::{MetricColumn, ParamKind, Shard, Sweep};
use super::store::{self, Cell, ColType, Column, Journal, Schema, Sink};
use crate::output::{order_rows, write_atomic, ORDER_COLUMNS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// What a sweep's output folder says about itself: enough to resume it,
/// merge it with its sibling shards, and re-run any of its runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub dibsim_version: String,
    /// The model version of `docs/model.md`.
    #[serde(default)]
    pub model_version: String,
    pub name: String,
    pub sweep_file: String,
    pub base: String,
    pub fingerprint: String,
    pub axes: Vec<Axis>,
    pub metrics: Vec<MetricColumn>,
    pub points: u64,
    pub replicates: u64,
    pub runs: u64,
    pub seed: u64,
    pub common_random_numbers: bool,
    pub shard: Shard,
    /// This folder's runs: [start, end).
    pub range: [u64; 2],
    pub format: Format,
    pub runs_schema: Schema,
    /// Designs "saltelli" and "morris": the layout `dibsim analyze` reads.
    #[serde(default)]
    pub design: Option<super::spec::DesignInfo>,
    /// Path, name, version and SHA-256 of the base scenario's plugins.
    #[serde(default)]
    pub plugins: Vec<crate::plugins::Provenance>,
    pub timeseries_schema: Option<Schema>,
    /// With `timeseries`: every run's order ledger (`orders.parquet`).
    #[serde(default)]
    pub orders_schema: Option<Schema>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Axis {
    pub path: String,
    pub kind: ParamKind,
}

pub const MANIFEST: &str = "manifest.json";
pub const RUNS_JOURNAL: &str = "runs.partial.csv";
pub const SERIES_JOURNAL: &str = "timeseries.partial.csv";
pub const ORDERS_JOURNAL: &str = "orders.partial.csv";

/// What a sweep keeps of each run besides its row of `runs`, when its file
/// asks for time series: the monthly series and the order ledger, each in
/// long format under the run's key columns (`run, point, replicate`). Both
/// take the same path: a journal beside the runs journal, finished by
/// [`finalize`] into `timeseries.*` and `orders.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Orders,
    Series,
}

impl Detail {
    /// In the order the writer appends a chunk's rows, each journal on disk
    /// before the next, and all before the runs journal records the chunk.
    pub const ALL: [Detail; 2] = [Detail::Orders, Detail::Series];

    /// The finished file's name without its extension.
    pub fn stem(self) -> &'static str {
        match self {
            Detail::Orders => "orders",
            Detail::Series => "timeseries",
        }
    }

    pub fn journal(self) -> &'static str {
        match self {
            Detail::Orders => ORDERS_JOURNAL,
            Detail::Series => SERIES_JOURNAL,
        }
    }
}

impl Manifest {
    pub fn runs_file(&self) -> String {
        format!("runs.{}", self.format.ext())
    }
    pub fn series_file(&self) -> String {
        self.detail_file(Detail::Series)
    }
    pub fn orders_file(&self) -> String {
        self.detail_file(Detail::Orders)
    }
    pub fn detail_file(&self, d: Detail) -> String {
        format!("{}.{}", d.stem(), self.format.ext())
    }
    /// Why `dir`, the folder of this manifest, is not a finished sweep, if
    /// it is not. [`finalize`] writes the runs file, points.csv and the
    /// per-run tables, and only then removes the runs journal (the other
    /// journals after it: one left behind is a cleanup cut short).
    pub fn unfinished(&self, dir: &Path) -> Option<String> {
        let mut expected = vec![self.runs_file(), "points.csv".to_string()];
        expected.extend(
            Detail::ALL
                .into_iter()
                .filter(|&d| self.detail_schema(d).is_some())
                .map(|d| self.detail_file(d)),
        );
        if let Some(f) = expected.iter().find(|f| !dir.join(f).is_file()) {
            return Some(format!("no {f}"));
        }
        dir.join(RUNS_JOURNAL)
            .exists()
            .then(|| format!("{RUNS_JOURNAL} is still there"))
    }

    /// The columns of a detail this sweep keeps (`None`: not kept).
    pub fn detail_schema(&self, d: Detail) -> Option<&Schema> {
        match d {
            Detail::Orders => self.orders_schema.as_ref(),
            Detail::Series => self.timeseries_schema.as_ref(),
        }
    }
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{} is not a sweep output folder (no {MANIFEST})",
                dir.display()
            )
        })?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a dibsim sweep manifest", path.display()))
    }
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_atomic(
            &dir.join(MANIFEST),
            serde_json::to_string_pretty(self)?.as_bytes(),
        )
    }
}

pub fn runs_schema(sweep: &Sweep) -> Schema {
    let col = |name: &str, ty| Column {
        name: name.to_string(),
        ty,
    };
    let mut s = vec![
        col("run", ColType::U64),
        col("point", ColType::U32),
        col("replicate", ColType::U32),
        col("seed", ColType::U64),
        col("status", ColType::Text),
        col("error", ColType::Text),
    ];
    for (path, kind) in sweep.axes.iter().zip(&sweep.kinds) {
        s.push(col(
            path,
            match kind {
                ParamKind::Int => ColType::I64,
                ParamKind::Float => ColType::F64,
                ParamKind::Bool => ColType::Bool,
                ParamKind::Text => ColType::Text,
            },
        ));
    }
    s.extend(sweep.columns.iter().map(|c| col(&c.name, ColType::F64)));
    s
}

/// The key columns of a run's detail rows.
const DETAIL_KEYS: [(&str, ColType); 3] = [
    ("run", ColType::U64),
    ("point", ColType::U32),
    ("replicate", ColType::U32),
];

fn columns(named: &[(&str, ColType)]) -> Schema {
    named
        .iter()
        .map(|&(name, ty)| Column {
            name: name.to_string(),
            ty,
        })
        .collect()
}

fn series_schema() -> Schema {
    let mut s = columns(&DETAIL_KEYS);
    s.extend(columns(&[
        ("month", ColType::I64),
        ("year", ColType::I64),
        ("exporter", ColType::Text),
    ]));
    s.extend(SERIES.iter().map(|m| Column {
        name: m.to_string(),
        ty: ColType::F64,
    }));
    s
}

/// The key columns, then those of `dibsim run --out`'s `orders.csv`
/// ([`ORDER_COLUMNS`]), typed.
fn orders_schema() -> Schema {
    let mut s = columns(&DETAIL_KEYS);
    s.extend(ORDER_COLUMNS.iter().map(|&name| Column {
        name: name.to_string(),
        ty: match name {
            "order_id" => ColType::U64,
            "placed_month" => ColType::I64,
            // Months that may not have happened (yet).
            "decision_month" | "entry_month" | "first_delivery_month" | "last_delivery_month" => {
                ColType::OptI64
            }
            "size_tiv"
            | "price_musd"
            | "quoted_wait_months"
            | "realised_wait_months"
            | "delivered_tiv" => ColType::F64,
            _ => ColType::Text,
        },
    }));
    s
}

pub fn manifest(sweep: &Sweep, shard: Shard, format: Format) -> Manifest {
    let range = shard.range(sweep.runs());
    Manifest {
        dibsim_version: env!("CARGO_PKG_VERSION").to_string(),
        model_version: dibsim_core::MODEL_VERSION.to_string(),
        name: sweep
            .file
            .name
            .clone()
            .unwrap_or_else(|| sweep.base_scenario.name.clone()),
        sweep_file: sweep.label.clone(),
        base: sweep.base.label.clone(),
        fingerprint: sweep.fingerprint(),
        axes: sweep
            .axes
            .iter()
            .zip(&sweep.kinds)
            .map(|(p, k)| Axis {
                path: p.clone(),
                kind: *k,
            })
            .collect(),
        metrics: sweep.columns.clone(),
        points: sweep.points.len() as u64,
        replicates: sweep.replicates(),
        runs: sweep.runs(),
        seed: sweep.file.seed,
        common_random_numbers: sweep.file.common_random_numbers,
        shard,
        range: [range.0, range.1],
        format,
        runs_schema: runs_schema(sweep),
        design: sweep.design.clone(),
        plugins: crate::plugins::provenance(&sweep.base_scenario).unwrap_or_default(),
        timeseries_schema: sweep.file.output.timeseries.then(series_schema),
        orders_schema: sweep.file.output.timeseries.then(orders_schema),
    }
}

/// A kept metric of one run, for one exporter over one window.
pub fn metric_value(rec: &Recorder, col: &MetricColumn) -> f64 {
    let Some(e) = rec.exporters.iter().position(|x| x == &col.exporter) else {
        return f64::NAN;
    };
    let (a, b) = rec.year_range(col.from, col.to);
    let years = (b - a) as f64 / 12.0;
    let sum = |f: fn(&dibsim_core::metrics::ExporterMonth) -> f64| rec.total(a, b, e, f);
    let months = (b - a) as f64;
    let ratio = |x: f64, y: f64| if y > 0.0 { x / y } else { f64::NAN };
    match col.metric.as_str() {
        "share" => rec.share(a, b)[e],
        "deliveries_tiv" => sum(|m| m.deliveries_tiv) / years,
        "orders_tiv" => sum(|m| m.orders_tiv) / years,
        "revenue_musd" => sum(|m| m.revenue_musd) / years,
        "backlog_foreign_tiv" => sum(|m| m.backlog_foreign_tiv) / months,
        "backlog_domestic_tiv" => sum(|m| m.backlog_domestic_tiv) / months,
        "capacity_tiv" => sum(|m| m.capacity_tiv) / months,
        "utilisation" => ratio(sum(|m| m.production_tiv), sum(|m| m.capacity_tiv)),
        "quoted_wait_months" | "realised_wait_months" => {
            rec.mean_wait(a, b, e, col.metric.starts_with('q'))
        }
        "cancellations" => sum(|m| m.cancellations as f64),
        "denials" => sum(|m| m.denials as f64),
        "reputation" => sum(|m| m.reputation) / months,
        _ => f64::NAN,
    }
}

fn param_cell(v: &toml::Value, kind: ParamKind) -> Cell {
    match (kind, v) {
        (ParamKind::Int, toml::Value::Integer(i)) => Cell::I(*i),
        (ParamKind::Float, toml::Value::Integer(i)) => Cell::F(*i as f64),
        (ParamKind::Float, toml::Value::Float(x)) => Cell::F(*x),
        (ParamKind::Bool, toml::Value::Boolean(b)) => Cell::B(*b),
        (_, toml::Value::String(s)) => Cell::T(s.clone()),
        (_, other) => Cell::T(other.to_string()),
    }
}

/// Journal rows must be single lines.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run_row(
    sweep: &Sweep,
    point: usize,
    replicate: u32,
    out: Result<&Recorder, &String>,
) -> Vec<Cell> {
    let mut row = vec![
        Cell::U(sweep.run_index(point, replicate)),
        Cell::U(point as u64),
        Cell::U(replicate as u64),
        Cell::U(sweep.seed(point, replicate)),
        Cell::T(if out.is_ok() { "ok" } else { "failed" }.into()),
        Cell::T(out.err().map(|e| one_line(e)).unwrap_or_default()),
    ];
    row.extend(
        sweep.points[point]
            .iter()
            .zip(&sweep.kinds)
            .map(|(v, k)| param_cell(v, *k)),
    );
    match out {
        Ok(rec) => row.extend(sweep.columns.iter().map(|c| Cell::F(metric_value(rec, c)))),
        Err(_) => row.extend(sweep.columns.iter().map(|_| Cell::F(f64::NAN))),
    }
    row
}

fn series_text(sweep: &Sweep, point: usize, replicate: u32, rec: &Recorder, out: &mut String) {
    let run = sweep.run_index(point, replicate);
    let exporters: Vec<String> = rec
        .exporters
        .iter()
        .map(|e| crate::output::csv_field(e))
        .collect();
    for t in 0..rec.months() {
        for (e, name) in exporters.iter().enumerate() {
            use std::fmt::Write;
            let _ = write!(
                out,
                "{run},{point},{replicate},{t},{},{name}",
                rec.year_of(t)
            );
            for v in rec.get(t, e).values() {
                out.push(',');
                out.push_str(&crate::output::num(v));
            }
            out.push('\n');
        }
    }
}

pub struct Options {
    pub out: PathBuf,
    pub resume: bool,
    pub shard: Shard,
    pub format: Format,
    /// Fork policy-only points from a shared prefix (off only to measure it).
    pub fork: bool,
}

/// Points compiled once per chunk, by the jobs that need them: each job
/// claims unbuilt points until none are left, so the replicates of a chunk
/// that start together share the building instead of waiting on one thread.
struct Chunk {
    points: Range<usize>,
    next: AtomicUsize,
    prepared: Vec<OnceLock<Result<Prepared, String>>>,
    /// Forkable groups, as indices into `prepared`.
    groups: OnceLock<Vec<Vec<usize>>>,
}

impl Chunk {
    fn new(points: Range<usize>) -> Chunk {
        Chunk {
            prepared: points.clone().map(|_| OnceLock::new()).collect(),
            points,
            next: AtomicUsize::new(0),
            groups: OnceLock::new(),
        }
    }

    fn build(
        &self,
        sweep: &Sweep,
        prepare: &PrepareFn,
    ) -> (Vec<&Result<Prepared, String>>, &[Vec<usize>]) {
        let one = |i: usize| {
            let p = self.points.start + i;
            sweep
                .scenario(p)
                .map_err(|e| format!("point {p}: {e}"))
                .and_then(|s| prepare(&s).map_err(|e| format!("point {p}: {e:#}")))
        };
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.prepared.len() {
                break;
            }
            self.prepared[i].get_or_init(|| one(i));
        }
        // Points another job claimed: wait for them (or build them).
        let prepared: Vec<&Result<Prepared, String>> = (0..self.prepared.len())
            .map(|i| self.prepared[i].get_or_init(|| one(i)))
            .collect();
        let groups = self.groups.get_or_init(|| {
            let ok: Vec<usize> = (0..prepared.len())
                .filter(|&i| prepared[i].is_ok())
                .collect();
            let ok_prepared: Vec<Prepared> = ok
                .iter()
                .filter_map(|&i| prepared[i].as_ref().ok().cloned())
                .collect();
            groups(&ok_prepared)
                .into_iter()
                .map(|g| g.into_iter().map(|k| ok[k]).collect())
                .collect()
        });
        (prepared, groups)
    }
}

struct Job {
    index: usize,
    chunk: Arc<Chunk>,
    replicate: u32,
    points: Vec<usize>,
    last_of_chunk: bool,
}

struct Done {
    index: usize,
    last_of_chunk: bool,
    rows: Vec<(u64, String)>,
    /// Journal text per run, by `Detail as usize`.
    details: [Vec<(u64, String)>; 2],
    failed: usize,
}

pub type PrepareFn = dyn Fn(&dibsim_core::Scenario) -> Result<Prepared> + Sync;

/// Runs a job. With `details` (a sweep keeping time series) each run keeps
/// its order ledger too, and the job returns both details' journal text.
fn work(sweep: &Sweep, job: &Job, fork: bool, details: bool, prepare: &PrepareFn) -> Done {
    let (prepared, groups) = job.chunk.build(sweep, prepare);
    let first = job.chunk.points.start;
    let r = job.replicate;
    let mut outs: BTreeMap<usize, Result<RunOutput, String>> = BTreeMap::new();
    let describe = |p: usize, e: RunError| {
        format!("{e} (point {p}, replicate {r}, seed {})", sweep.seed(p, r))
    };
    let wanted = |p: &usize| job.points.binary_search(p).is_ok();
    if fork && sweep.file.common_random_numbers {
        let seed = sweep.seed(first, r);
        for g in groups {
            let members: Vec<usize> = g.iter().map(|&k| first + k).filter(wanted).collect();
            let preps: Vec<&Prepared> = members
                .iter()
                .filter_map(|&p| prepared[p - first].as_ref().ok())
                .collect();
            for (p, o) in members.iter().zip(run_group_with(&preps, seed, details)) {
                outs.insert(*p, o.map_err(|e| describe(*p, e)));
            }
        }
    } else {
        for &p in &job.points {
            if let Ok(prep) = &prepared[p - first] {
                outs.insert(
                    p,
                    run_one_with(prep, sweep.seed(p, r), details).map_err(|e| describe(p, e)),
                );
            }
        }
    }
    let mut rows = Vec::with_capacity(job.points.len());
    let mut kept: [Vec<(u64, String)>; 2] = Default::default();
    let mut failed = 0;
    for &p in &job.points {
        let out = match outs.remove(&p) {
            Some(o) => o,
            None => Err(match &prepared[p - first] {
                Err(e) => e.clone(),
                Ok(_) => "not run".to_string(),
            }),
        };
        failed += out.is_err() as usize;
        let run = sweep.run_index(p, r);
        let mut text = String::new();
        store::encode(
            &run_row(sweep, p, r, out.as_ref().map(|o| &o.recorder)),
            &mut text,
        );
        rows.push((run, text));
        if let (true, Ok(o)) = (details, &out) {
            let mut text = String::new();
            series_text(sweep, p, r, &o.recorder, &mut text);
            kept[Detail::Series as usize].push((run, text));
            if let (Some(ledger), Ok(prep)) = (&o.ledger, &prepared[p - first]) {
                let mut text = String::new();
                order_rows(&prep.cfg, ledger, &format!("{run},{p},{r},"), &mut text);
                kept[Detail::Orders as usize].push((run, text));
            }
        }
    }
    Done {
        index: job.index,
        last_of_chunk: job.last_of_chunk,
        rows,
        details: kept,
        failed,
    }
}

/// Runs per chunk at most: few enough that a chunk's rows (and details),
/// held back for ordering, stay small whatever the sweep's size.
fn chunk_runs(sweep: &Sweep) -> u64 {
    if sweep.file.output.timeseries {
        64
    } else {
        1024
    }
}

/// How runs are cut into chunks: `points` adjacent points with all their
/// replicates (up to 16 points, to share prefixes), or, where one point has
/// more replicates than a chunk holds, one point and `replicates` of them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Chunking {
    points: u64,
    replicates: u64,
    /// Chunks per group of `points` points (1 unless replicates are split).
    blocks: u64,
}

impl Chunking {
    fn of(sweep: &Sweep) -> Chunking {
        let budget = chunk_runs(sweep);
        let reps = sweep.replicates().max(1);
        if reps <= budget {
            Chunking {
                points: (budget / reps).clamp(1, 16),
                replicates: reps,
                blocks: 1,
            }
        } else {
            Chunking {
                points: 1,
                replicates: budget,
                blocks: reps.div_ceil(budget),
            }
        }
    }

    /// The chunk holding run `run`.
    fn chunk_of(&self, sweep: &Sweep, run: u64) -> u64 {
        let reps = sweep.replicates().max(1);
        let (p, r) = (run / reps, run % reps);
        (p / self.points) * self.blocks + r / self.replicates
    }

    /// Chunk `c`'s points and replicates.
    fn parts(&self, sweep: &Sweep, c: u64) -> (Range<usize>, Range<u64>) {
        let reps = sweep.replicates();
        let npoints = sweep.points.len() as u64;
        let (g, b) = (c / self.blocks, c % self.blocks);
        let p0 = g * self.points;
        let p1 = ((g + 1) * self.points).min(npoints);
        let r0 = b * self.replicates;
        let r1 = ((b + 1) * self.replicates).min(reps);
        (p0 as usize..p1 as usize, r0..r1)
    }

    fn count(&self, sweep: &Sweep) -> u64 {
        (sweep.points.len() as u64).div_ceil(self.points) * self.blocks
    }
}

/// The jobs for runs [lo, hi), in run order, computed as they are taken:
/// memory does not depend on the number of runs. Where no prefix can be
/// shared (`split`), every run is its own job, for the finest load balance.
fn jobs(sweep: &Sweep, lo: u64, hi: u64, split: bool) -> impl Iterator<Item = Job> + Send + '_ {
    let cut = Chunking::of(sweep);
    let reps = sweep.replicates();
    let first = if lo < hi { cut.chunk_of(sweep, lo) } else { 0 };
    let mut index = 0;
    (first..cut.count(sweep))
        .map(move |c| (c, cut.parts(sweep, c)))
        .take_while(move |(_, (points, reps_range))| {
            (points.start as u64) * reps + reps_range.start < hi
        })
        .flat_map(move |(_, (points, reps_range))| {
            let chunk = Arc::new(Chunk::new(points.clone()));
            // At most one chunk's runs: bounded by `chunk_runs`.
            let per_rep: Vec<(u32, Vec<usize>)> = reps_range
                .map(|r| {
                    let pts: Vec<usize> = points
                        .clone()
                        .filter(|&p| {
                            let run = p as u64 * reps + r;
                            run >= lo && run < hi
                        })
                        .collect();
                    (r as u32, pts)
                })
                .filter(|(_, pts)| !pts.is_empty())
                .flat_map(|(r, pts)| {
                    if split {
                        pts.into_iter().map(|p| (r, vec![p])).collect()
                    } else {
                        vec![(r, pts)]
                    }
                })
                .collect();
            let n = per_rep.len();
            per_rep
                .into_iter()
                .enumerate()
                .map(move |(i, (replicate, points))| (chunk.clone(), replicate, points, i + 1 == n))
        })
        .map(move |(chunk, replicate, points, last_of_chunk)| {
            index += 1;
            Job {
                index: index - 1,
                chunk,
                replicate,
                points,
                last_of_chunk,
            }
        })
}

/// Where a sweep reports its progress, from the thread that writes the
/// journal, once per finished chunk. The CLI draws a bar or log lines, the
/// Python package calls back into the interpreter.
pub trait Progress: Send {
    /// Before the first run: `done` of `total` runs were in the journal already.
    fn start(&mut self, _done: u64, _total: u64) {}
    /// `done` of `total` runs of this shard are in the journal, `ran` of them
    /// in this call, `failed` of those failed. Returning false stops the
    /// sweep after this chunk: the journal keeps every finished run and
    /// `--resume` goes on from there.
    fn advance(&mut self, done: u64, total: u64, ran: u64, failed: u64) -> bool;
    /// The sweep's runs are over (the finished files are written next).
    fn finish(&mut self) {}
}

/// No display.
pub struct Silent;

impl Progress for Silent {
    fn advance(&mut self, _: u64, _: u64, _: u64, _: u64) -> bool {
        true
    }
}

/// Why a sweep stopped before its last run, by the caller's choice.
#[derive(Debug, thiserror::Error)]
#[error("the sweep was interrupted after {done} of {total} runs; every finished run is kept, and --resume runs the rest")]
pub struct Interrupted {
    pub done: u64,
    pub total: u64,
}

/// A sweep asked to start in a folder that already holds one, without
/// resume. Typed so that each front end can name its own way to resume.
#[derive(Debug, thiserror::Error)]
#[error("{} already holds sweep output; add --resume to continue it, or choose another --out", dir.display())]
pub struct AlreadyHolds {
    pub dir: PathBuf,
}

pub struct Outcome {
    pub ran: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub already_complete: bool,
}

/// Runs (or resumes) this shard of `sweep` into `opts.out`.
pub fn execute(
    sweep: &Sweep,
    opts: &Options,
    prepare: &PrepareFn,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let dir = &opts.out;
    let mf = manifest(sweep, opts.shard, opts.format);
    let runs_journal = dir.join(RUNS_JOURNAL);
    let has_manifest = dir.join(MANIFEST).is_file();
    if has_manifest && !opts.resume {
        return Err(AlreadyHolds { dir: dir.clone() }.into());
    }
    if dir.exists() && !dir.is_dir() {
        bail!("--out {} is a file, not a folder", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut done_rows = 0;
    let resuming = has_manifest;
    if resuming {
        let old = Manifest::read(dir)?;
        if old.fingerprint != mf.fingerprint
            || old.shard != mf.shard
            || old.format != mf.format
            || old.timeseries_schema.is_some() != mf.timeseries_schema.is_some()
            || old.orders_schema.is_some() != mf.orders_schema.is_some()
        {
            bail!(
                "{} holds another sweep (or another shard or format of it): {}. A resume only continues the same sweep: put back what changed, or use another --out",
                dir.display(),
                differences(&old, &mf, true).join("; ")
            );
        }
        if !runs_journal.exists() {
            if dir.join(mf.runs_file()).is_file() && dir.join("points.csv").is_file() {
                // Finished: finalize removes the runs journal after writing
                // every file, then the others; a kill in between leaves
                // them to clear here.
                for f in [SERIES_JOURNAL, ORDERS_JOURNAL] {
                    let p = dir.join(f);
                    if p.exists() {
                        std::fs::remove_file(&p)
                            .with_context(|| format!("cannot remove {}", p.display()))?;
                    }
                }
                return Ok(Outcome {
                    ran: 0,
                    failed: 0,
                    elapsed: Duration::ZERO,
                    already_complete: true,
                });
            }
        } else {
            let st = store::scan_journal(&runs_journal, &mf.runs_schema, None)?;
            // Every kept row must be its run's, checked before any run
            // starts (finalize checks again, for merges).
            if st.rows > 0 {
                store::read_journal(&runs_journal, &mf.runs_schema, &mut |row: Vec<Cell>| {
                    check_identity(
                        &runs_journal,
                        &mf,
                        row[0].as_u64(),
                        row[1].as_u64(),
                        row[2].as_u64(),
                        row[3].as_u64(),
                    )
                })?;
            }
            if let Some(last) = st.last_run {
                if last + 1 != mf.range[0] + st.rows {
                    bail!(
                        "{} is not a contiguous record of this shard's runs (ends at run {last} after {} rows from run {}); it cannot be resumed",
                        runs_journal.display(),
                        st.rows,
                        mf.range[0]
                    );
                }
            }
            done_rows = st.rows;
            // A detail journal cannot vouch for its last run's rows (a cut
            // at a row boundary looks whole), so that run is always run
            // again; a journal that a power cut left behind the runs journal
            // (despite the write order) goes back to its own last run. An ok
            // run without orders (possible in a tiny world) looks the same
            // to the orders journal: runs are repeated, which costs time and
            // changes no byte.
            let lo = mf.range[0] + done_rows;
            let mut back = lo;
            for d in Detail::ALL {
                let Some(schema) = mf.detail_schema(d) else {
                    continue;
                };
                let path = dir.join(d.journal());
                let last = if path.exists() {
                    store::scan_journal(&path, schema, Some(lo))?.last_run
                } else {
                    None
                };
                let from = match last {
                    Some(run) => run.max(mf.range[0]),
                    // No rows: nothing is missing unless some run was ok.
                    None if last_ok_run(&runs_journal, lo)?.is_none() => lo,
                    None => mf.range[0],
                };
                if from + 1 < lo {
                    eprintln!(
                        "resume: continuing from run {from}: {} has rows up to run {last:?}, the runs journal to run {}",
                        path.display(),
                        lo - 1
                    );
                }
                back = back.min(from);
            }
            done_rows = back - mf.range[0];
        }
    }
    mf.write(dir)?;
    let keep = |path: &Path, schema: &Schema, stop: Option<u64>| -> Result<Option<u64>> {
        if resuming && path.exists() {
            Ok(Some(store::scan_journal(path, schema, stop)?.bytes).filter(|&b| b > 0))
        } else {
            Ok(None)
        }
    };
    let (lo, hi) = (mf.range[0] + done_rows, mf.range[1]);
    let mut journal = Journal::open(
        &runs_journal,
        &mf.runs_schema,
        keep(&runs_journal, &mf.runs_schema, Some(lo))?,
    )?;
    let mut details: [Option<Journal>; 2] = [None, None];
    for d in Detail::ALL {
        if let Some(s) = mf.detail_schema(d) {
            let path = dir.join(d.journal());
            details[d as usize] = Some(Journal::open(&path, s, keep(&path, s, Some(lo))?)?);
        }
    }
    let started = Instant::now();
    let total = mf.range[1] - mf.range[0];
    let mut done = done_rows;
    progress.start(done, total);
    let shown = &mut *progress;
    let keep_details = mf.timeseries_schema.is_some();
    let fork = opts.fork;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Done>(64);
    // The writer runs on its own thread; the jobs run on the caller's rayon
    // pool (the global one, or one a benchmark installed).
    type Written = (Journal, [Option<Journal>; 2], u64, u64);
    let result: Result<Written> = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<Written> {
            let mut failed_total = 0u64;
            let mut ran = 0u64;
            let mut pending: BTreeMap<usize, Done> = BTreeMap::new();
            let mut next = 0usize;
            let mut chunk_rows: Vec<(u64, String)> = Vec::new();
            let mut chunk_details: [Vec<(u64, String)>; 2] = Default::default();
            let mut chunk_failed = 0usize;
            let mut last_sync = Instant::now();
            for d in rx {
                pending.insert(d.index, d);
                while let Some(d) = pending.remove(&next) {
                    next += 1;
                    chunk_rows.extend(d.rows);
                    for (c, rows) in chunk_details.iter_mut().zip(d.details) {
                        c.extend(rows);
                    }
                    chunk_failed += d.failed;
                    if !d.last_of_chunk {
                        continue;
                    }
                    chunk_rows.sort_unstable_by_key(|(run, _)| *run);
                    // Details first: the runs journal decides what is done.
                    for k in Detail::ALL {
                        let rows = &mut chunk_details[k as usize];
                        rows.sort_unstable_by_key(|(run, _)| *run);
                        if let Some(j) = &mut details[k as usize] {
                            let text: String = rows.iter().map(|(_, t)| t.as_str()).collect();
                            j.append(&text)?;
                            // On disk before the next detail and the runs
                            // that need it are recorded: not even a power
                            // cut leaves it behind the runs journal.
                            j.sync()?;
                        }
                    }
                    let text: String = chunk_rows.iter().map(|(_, t)| t.as_str()).collect();
                    journal.append(&text)?;
                    journal.flush()?;
                    if last_sync.elapsed() > Duration::from_secs(2) {
                        journal.sync()?;
                        last_sync = Instant::now();
                    }
                    let n = chunk_rows.len() as u64;
                    ran += n;
                    failed_total += chunk_failed as u64;
                    done += n;
                    if !shown.advance(done, total, ran, failed_total) {
                        journal.sync()?;
                        return Err(Interrupted { done, total }.into());
                    }
                    chunk_rows.clear();
                    chunk_details.iter_mut().for_each(Vec::clear);
                    chunk_failed = 0;
                }
            }
            Ok((journal, details, ran, failed_total))
        });
        // A closed channel means the writer stopped on an error (its
        // error is returned below): stop taking jobs.
        let _ = jobs(sweep, lo, hi, !(fork && sweep.file.common_random_numbers))
            .par_bridge()
            .try_for_each_with(tx, |tx, job| {
                tx.send(work(sweep, &job, fork, keep_details, prepare))
            });
        writer
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the sweep's writer thread panicked")))
    });
    let (mut journal, mut details, ran, failed_total) = result?;
    progress.finish();
    for j in details.iter_mut().flatten() {
        j.sync()?;
    }
    journal.sync()?;
    drop(journal);
    drop(details);
    let st = store::scan_journal(&runs_journal, &mf.runs_schema, None)?;
    if st.rows != mf.range[1] - mf.range[0] {
        bail!(
            "internal error: {} holds {} of this shard's {} runs after the sweep",
            runs_journal.display(),
            st.rows,
            mf.range[1] - mf.range[0]
        );
    }
    finalize(dir, &mf, &[dir.to_path_buf()])?;
    Ok(Outcome {
        ran,
        failed: failed_total,
        elapsed: started.elapsed(),
        already_complete: false,
    })
}

/// The last run of a runs journal whose status is `ok` (complete lines only).
fn last_ok_run(path: &Path, below: u64) -> Result<Option<u64>> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut last = None;
    for line in std::io::BufReader::new(f).split(b'\n').skip(1) {
        let line = line?;
        // run, point, replicate, seed, status: numbers, then a bare word.
        let mut fields = line.split(|&b| b == b',');
        let run = fields
            .next()
            .and_then(|r| std::str::from_utf8(r).ok()?.parse::<u64>().ok());
        if let (Some(run), Some(b"ok")) = (run, fields.nth(3)) {
            if run < below {
                last = Some(run);
            }
        }
    }
    Ok(last)
}

/// Per point: counts and running moments of each metric over its ok runs.
struct PointStats {
    params: Vec<Cell>,
    ok: u64,
    failed: u64,
    moments: Vec<dibsim_core::stats::Moments>,
}

/// Writes the finished files of `mf` into `dir` from the journals (or
/// finished files) of `sources`, whose runs must together be exactly
/// `mf.range`, each once. Reports what is missing or duplicated otherwise.
pub fn finalize(dir: &Path, mf: &Manifest, sources: &[PathBuf]) -> Result<()> {
    let n_axes = mf.axes.len();
    let n_metrics = mf.metrics.len();
    let mut stats: BTreeMap<u64, PointStats> = BTreeMap::new();
    let mut coverage = Coverage::new(mf.range[0], mf.range[1]);
    let mut sink = Sink::create_summary(&dir.join(mf.runs_file()), &mf.runs_schema)?;
    let mut last: Option<u64> = None;
    for src in sources {
        let mut push = |row: Vec<Cell>| -> Result<()> {
            let run = row[0].as_u64();
            if !coverage.insert(run) {
                return Ok(());
            }
            if last.is_some_and(|l| run < l) {
                bail!(
                    "{}: run {run} is out of order (the shards overlap)",
                    src.display()
                );
            }
            last = Some(run);
            let point = row[1].as_u64();
            check_identity(src, mf, run, point, row[2].as_u64(), row[3].as_u64())?;
            let st = stats.entry(point).or_insert_with(|| PointStats {
                params: row[6..6 + n_axes].to_vec(),
                ok: 0,
                failed: 0,
                moments: vec![Default::default(); n_metrics],
            });
            if matches!(&row[4], Cell::T(s) if s == "ok") {
                st.ok += 1;
                for (m, c) in st.moments.iter_mut().zip(&row[6 + n_axes..]) {
                    m.add(c.as_f64());
                }
            } else {
                st.failed += 1;
            }
            sink.push(row)
        };
        read_source(src, mf, None, &mut push)?;
    }
    coverage.check(mf)?;
    sink.finish()?;
    // points.csv
    let mut text = String::from("point");
    for a in &mf.axes {
        text.push(',');
        text.push_str(&crate::output::csv_field(&a.path));
    }
    text.push_str(",runs,failed");
    for m in &mf.metrics {
        for s in ["mean", "sd", "lo", "hi"] {
            text.push_str(&format!(",{}_{s}", m.name));
        }
    }
    text.push('\n');
    for (p, st) in &stats {
        let mut row = vec![Cell::U(*p)];
        row.extend(st.params.iter().cloned());
        row.push(Cell::U(st.ok));
        row.push(Cell::U(st.failed));
        for m in &st.moments {
            let i = m.interval();
            row.extend([i.mean, i.sd, i.lo, i.hi].map(Cell::F));
        }
        store::encode_summary(&row, &mut text);
    }
    write_atomic(&dir.join("points.csv"), text.as_bytes())?;
    for d in Detail::ALL {
        let Some(schema) = mf.detail_schema(d) else {
            continue;
        };
        let mut sink = Sink::create(&dir.join(mf.detail_file(d)), schema)?;
        for src in sources {
            let mut range = mf.range;
            if let Ok(m) = Manifest::read(src) {
                range = m.range;
            }
            read_source(src, mf, Some(d), &mut |row: Vec<Cell>| {
                let run = row[0].as_u64();
                if run >= range[0] && run < range[1] {
                    sink.push(row)?;
                }
                Ok(())
            })?;
        }
        sink.finish()?;
    }
    for f in [RUNS_JOURNAL, SERIES_JOURNAL, ORDERS_JOURNAL] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    Ok(())
}

/// A row's point, replicate and seed must be its run's: a journal edited,
/// corrupted or copied from another sweep is refused rather than carried
/// into the finished files.
fn check_identity(
    src: &Path,
    mf: &Manifest,
    run: u64,
    point: u64,
    replicate: u64,
    seed: u64,
) -> Result<()> {
    let reps = mf.replicates.max(1);
    let (p, r) = (run / reps, run % reps);
    let s = if mf.common_random_numbers {
        dibsim_core::rng::derive_seed(mf.seed, &[r])
    } else {
        dibsim_core::rng::derive_seed(mf.seed, &[p, r])
    };
    if (point, replicate, seed) != (p, r, s) {
        bail!(
            "{}: the row of run {run} says point {point}, replicate {replicate}, seed {seed}, but this sweep's run {run} is point {p}, replicate {r}, seed {s}: the file is corrupt or from another sweep (remove it to run those runs again; in a merge, run that shard again)",
            src.display()
        );
    }
    Ok(())
}

/// Streams a folder's rows of its runs (`detail` None) or of a detail: its
/// finished file if it has one, else its journal.
fn read_source(
    dir: &Path,
    mf: &Manifest,
    detail: Option<Detail>,
    f: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    let (journal, finished, schema, stem) = match detail {
        Some(d) => (
            d.journal(),
            mf.detail_file(d),
            mf.detail_schema(d).cloned().unwrap_or_default(),
            d.stem(),
        ),
        None => (RUNS_JOURNAL, mf.runs_file(), mf.runs_schema.clone(), "runs"),
    };
    let j = dir.join(journal);
    if j.is_file() {
        return store::read_journal(&j, &schema, f);
    }
    let done = dir.join(&finished);
    if done.is_file() {
        return store::read_file(&done, &schema, f);
    }
    // Another format's finished file.
    for ext in ["parquet", "csv"] {
        let p = dir.join(format!("{stem}.{ext}"));
        if p.is_file() {
            return store::read_file(&p, &schema, f);
        }
    }
    if detail.is_some() {
        return Ok(());
    }
    bail!(
        "{} holds no runs (no {journal} or {finished})",
        dir.display()
    )
}

/// Which runs of a range have been seen, and which twice.
struct Coverage {
    start: u64,
    seen: Vec<u64>,
    len: u64,
    duplicates: Vec<u64>,
    outside: Vec<u64>,
}

impl Coverage {
    fn new(start: u64, end: u64) -> Coverage {
        Coverage {
            start,
            seen: vec![0; (end - start).div_ceil(64) as usize],
            len: end - start,
            duplicates: Vec::new(),
            outside: Vec::new(),
        }
    }

    /// False for a run already seen or outside the range (not to be written).
    fn insert(&mut self, run: u64) -> bool {
        if run < self.start || run - self.start >= self.len {
            self.outside.push(run);
            return false;
        }
        let i = run - self.start;
        let (w, b) = ((i / 64) as usize, i % 64);
        if self.seen[w] >> b & 1 == 1 {
            self.duplicates.push(run);
            return false;
        }
        self.seen[w] |= 1 << b;
        true
    }

    fn missing(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for i in 0..self.len {
            if self.seen[(i / 64) as usize] >> (i % 64) & 1 == 0 {
                let run = self.start + i;
                match out.last_mut() {
                    Some((_, e)) if *e + 1 == run => *e = run,
                    _ => out.push((run, run)),
                }
            }
        }
        out
    }

    fn check(&self, mf: &Manifest) -> Result<()> {
        let missing = self.missing();
        if missing.is_empty() && self.duplicates.is_empty() && self.outside.is_empty() {
            return Ok(());
        }
        let mut msg = String::new();
        if !missing.is_empty() {
            let count: u64 = missing.iter().map(|(a, b)| b - a + 1).sum();
            msg.push_str(&format!("missing {count} run(s):"));
            for (a, b) in missing.iter().take(20) {
                let shards = shards_of(mf, *a, *b);
                if a == b {
                    msg.push_str(&format!(" {a}"));
                } else {
                    msg.push_str(&format!(" {a}-{b}"));
                }
                msg.push_str(&format!(" ({shards})"));
                msg.push(';');
            }
            if missing.len() > 20 {
                msg.push_str(&format!(" and {} more ranges;", missing.len() - 20));
            }
        }
        if !self.duplicates.is_empty() {
            let mut d = self.duplicates.clone();
            d.sort_unstable();
            d.dedup();
            let shown: Vec<String> = d.iter().take(20).map(u64::to_string).collect();
            msg.push_str(&format!(
                " {} duplicate run(s): {}{};",
                self.duplicates.len(),
                shown.join(", "),
                if d.len() > 20 { ", ..." } else { "" }
            ));
        }
        if !self.outside.is_empty() {
            msg.push_str(&format!(
                " {} run(s) outside this sweep's range;",
                self.outside.len()
            ));
        }
        bail!("{}", msg.trim_end_matches(';').trim())
    }
}

/// "shard 2/4" (or several) for runs [a, b] of a sharded sweep.
fn shards_of(mf: &Manifest, a: u64, b: u64) -> String {
    let n = mf.shard.count.max(1);
    let names: Vec<String> = (0..n)
        .filter(|&i| {
            let (s, e) = Shard { index: i, count: n }.range(mf.runs);
            s <= b && a < e
        })
        .map(|i| format!("shard {i}/{n}"))
        .collect();
    names.join(", ")
}

/// What differs between the manifest a folder holds (`old`) and another
/// (`new`), field by field, for an error to name; `shard` whether the shard
/// counts (a resume, not a merge). The fingerprint covers the whole sweep
/// file and scenarios, so when no listed field differs, it says that.
fn differences(old: &Manifest, new: &Manifest, shard: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what} {a} there, {b} here"));
        }
    };
    field("name", format!("`{}`", old.name), format!("`{}`", new.name));
    field(
        "dibsim",
        old.dibsim_version.clone(),
        new.dibsim_version.clone(),
    );
    field("base scenario", old.base.clone(), new.base.clone());
    let paths = |m: &Manifest| {
        let p: Vec<&str> = m.axes.iter().map(|a| a.path.as_str()).collect();
        format!("[{}]", p.join(", "))
    };
    field("axes", paths(old), paths(new));
    field("points", old.points.to_string(), new.points.to_string());
    field(
        "replicates",
        old.replicates.to_string(),
        new.replicates.to_string(),
    );
    field("seed", old.seed.to_string(), new.seed.to_string());
    field(
        "common_random_numbers",
        old.common_random_numbers.to_string(),
        new.common_random_numbers.to_string(),
    );
    let metrics = |m: &Manifest| match m.metrics.len() {
        1 => "1 metric column".to_string(),
        n => format!("{n} metric columns"),
    };
    field("output", metrics(old), metrics(new));
    let hashes = |m: &Manifest| {
        let h: Vec<&str> = m.plugins.iter().map(|p| p.sha256.as_str()).collect();
        format!("[{}]", h.join(", "))
    };
    field("plugin hashes", hashes(old), hashes(new));
    if shard {
        let sh = |m: &Manifest| format!("{}/{}", m.shard.index, m.shard.count);
        field("shard", sh(old), sh(new));
    }
    field("format", old.format.ext().into(), new.format.ext().into());
    let kept = |s: bool| if s { "kept" } else { "not kept" }.to_string();
    field(
        "time series",
        kept(old.timeseries_schema.is_some()),
        kept(new.timeseries_schema.is_some()),
    );
    field(
        "order ledger",
        kept(old.orders_schema.is_some()),
        kept(new.orders_schema.is_some()),
    );
    if out.is_empty() {
        out.push(format!(
            "the sweep file or a scenario it reads changed in a field not listed here (a description, a parameter, a path; fingerprint {} there, {} here)",
            old.fingerprint, new.fingerprint
        ));
    }
    out
}

/// Combines shard folders into one, identical to the unsharded sweep.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<()> {
    if dirs.is_empty() {
        bail!("merge needs at least one shard folder");
    }
    let mut manifests: Vec<(PathBuf, Manifest)> = dirs
        .iter()
        .map(|d| Manifest::read(d).map(|m| (d.clone(), m)))
        .collect::<Result<_>>()?;
    let (first_dir, first) = manifests[0].clone();
    for (d, m) in &manifests[1..] {
        if m.fingerprint != first.fingerprint || m.format != first.format {
            bail!(
                "{} is from another sweep than {}: {}; merge only shards of one sweep",
                d.display(),
                first_dir.display(),
                differences(&first, m, false).join("; ")
            );
        }
    }
    manifests.sort_by_key(|(_, m)| m.range[0]);
    let mut mf = first.clone();
    mf.shard = Shard::ALL;
    mf.range = [0, first.runs];
    let mut missing_view = mf.clone();
    // Name missing runs by the shards they were meant for.
    missing_view.shard = first.shard;
    if out.join(MANIFEST).exists() {
        bail!(
            "{} already holds sweep output; choose another --out",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let sources: Vec<PathBuf> = manifests.iter().map(|(d, _)| d.clone()).collect();
    let result = finalize(out, &missing_view, &sources);
    if let Err(e) = result {
        for f in [
            mf.runs_file(),
            mf.series_file(),
            mf.orders_file(),
            "points.csv".into(),
        ] {
            let p = out.join(&f);
            std::fs::remove_file(store::tmp_path(&p)).ok();
            std::fs::remove_file(&p).ok();
        }
        return Err(e.context(format!(
            "cannot merge {} folder(s) into {}",
            dirs.len(),
            out.display()
        )));
    }
    mf.write(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep_with(points: usize, replicates: u64) -> Sweep {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<String> = (0..points).map(|i| format!("{}", 1.0 + i as f64)).collect();
        let text = format!(
            "base = \"baseline\"\nreplicates = {replicates}\n[[axes]]\npath = \"policy.approval_time_factor\"\nvalues = [{}]\n",
            values.join(", ")
        );
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        Sweep::load(&path).unwrap()
    }

    /// Every run of [lo, hi) once, in run order; no chunk over its budget.
    fn check(sweep: &Sweep, lo: u64, hi: u64) {
        for split in [false, true] {
            let mut runs = Vec::new();
            let mut in_chunk = 0u64;
            for job in jobs(sweep, lo, hi, split) {
                for &p in &job.points {
                    runs.push(sweep.run_index(p, job.replicate));
                }
                in_chunk += job.points.len() as u64;
                if job.last_of_chunk {
                    assert!(
                        in_chunk <= chunk_runs(sweep).max(16),
                        "{in_chunk} runs in a chunk"
                    );
                    in_chunk = 0;
                }
            }
            assert_eq!(in_chunk, 0, "the last chunk was not closed");
            runs.sort_unstable();
            assert_eq!(runs, (lo..hi).collect::<Vec<_>>(), "lo {lo} hi {hi}");
        }
    }

    #[test]
    fn orders_are_typed_column_by_column() {
        let s = orders_schema();
        let names: Vec<&str> = s.iter().skip(3).map(|c| c.name.as_str()).collect();
        assert_eq!(names, ORDER_COLUMNS);
        // A column added to orders.csv must be given its type here.
        let text: Vec<&str> = s
            .iter()
            .filter(|c| c.ty == ColType::Text)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            text,
            [
                "ally",
                "region",
                "exporter",
                "owner",
                "line",
                "category",
                "tier",
                "outcome",
                "priority_class"
            ]
        );
    }

    #[test]
    fn jobs_tile_any_slice_of_the_runs() {
        let few = sweep_with(40, 3);
        check(&few, 0, few.runs());
        check(&few, 7, 100);
        let many = sweep_with(2, 2500);
        check(&many, 0, many.runs());
        check(&many, 1000, 4321);
        check(&many, 2499, 2501);
    }

    #[test]
    fn a_huge_sweep_yields_its_first_job_at_once() {
        // 2 points x 10^9 replicates: nothing proportional to the runs is built.
        let huge = sweep_with(2, 1_000_000_000);
        let mut it = jobs(&huge, 0, huge.runs(), false);
        let first = it.next().unwrap();
        assert_eq!((first.replicate, first.points.clone()), (0, vec![0]));
        let late = jobs(&huge, 1_999_999_990, huge.runs(), false).count();
        assert_eq!(late, 10);
    }
}
