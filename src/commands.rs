//! The subcommands: resolve arguments into scenarios and settings, run the
//! core, write and print results.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use dibsim_core::rng::derive_seed;
use dibsim_core::run::{groups, run_group, run_one, Prepared};
use dibsim_core::stats::Interval;
use dibsim_core::{Compiled, Recorder, Scenario};
use rayon::prelude::*;

use crate::cli::{Cli, Command};
use crate::loader;
use crate::output::{self, pct};

pub fn dispatch(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("cannot start the thread pool")?;
    }
    match cli.command {
        Command::Run {
            scenario,
            seed,
            months,
            sets,
            out,
            plugins,
        } => run(
            scenario.as_deref().unwrap_or("baseline"),
            seed,
            months,
            &sets,
            &plugins,
            out.as_deref(),
        ),
        Command::Compare {
            scenarios,
            replicates,
            seed,
            from,
            to,
            sets,
            out,
            plugins,
            report,
        } => {
            if report && out.is_none() {
                bail!("--report needs --out DIR (the report is written to DIR/report.html)");
            }
            compare(
                &scenarios,
                replicates,
                seed,
                from,
                to,
                &sets,
                &plugins,
                out.as_deref(),
            )?;
            if let (true, Some(dir)) = (report, out) {
                let page = dir.join("report.html");
                crate::report::write(&dir, &page, None)?;
                eprintln!("wrote {}", page.display());
            }
            Ok(())
        }
        Command::Report { dir, out, svg } => {
            let page = out.unwrap_or_else(|| dir.join("report.html"));
            crate::report::write(&dir, &page, svg.as_deref())?;
            println!("wrote {}", page.display());
            Ok(())
        }
        Command::Validate {
            scenario,
            sets,
            print,
        } => validate(&scenario, &sets, print),
        Command::Scenarios => {
            let rows: Vec<Vec<String>> = loader::list()
                .into_iter()
                .map(|(n, d)| vec![n, d])
                .collect();
            print!(
                "{}",
                output::table(&["scenario".into(), "description".into()], &rows)
            );
            Ok(())
        }
        Command::Calibrate {
            scenario,
            replicates,
            seed,
            iterations,
            write,
            check,
        } => crate::calibrate::calibrate(
            &scenario,
            replicates,
            seed,
            iterations,
            write.as_deref(),
            check,
        ),
        Command::Bench {
            sweep: Some(file), ..
        } => bench_sweep(&file),
        Command::Bench {
            scenario,
            runs,
            sweep: None,
            plugins,
        } => bench(&scenario, runs, &plugins),
        Command::Plugin { command } => match command {
            crate::cli::PluginCommand::New { name, dir, sdk } => {
                crate::plugins::new(&name, dir.as_deref(), sdk.as_deref())
            }
            crate::cli::PluginCommand::Info { path } => crate::plugins::info(&path),
        },
        Command::Sweep {
            file,
            out,
            resume,
            shard,
            dry_run,
            format,
            no_fork,
            quiet,
        } => sweep(
            &file,
            out,
            resume,
            shard.as_deref(),
            dry_run,
            format,
            !no_fork,
            quiet,
        ),
        Command::Merge { dirs, out } => {
            crate::sweep::merge(&dirs, &out)?;
            let mf = crate::sweep::Manifest::read(&out)?;
            println!(
                "merged {} folder(s) into {}: {} runs of {} points x {} replicates",
                dirs.len(),
                out.display(),
                mf.runs,
                mf.points,
                mf.replicates
            );
            Ok(())
        }
    }
}

/// A scenario ready to run: compiled, with its behaviours (built-in, and
/// any plugins it names, loaded and checked).
pub fn prepare(s: &Scenario) -> Result<Prepared> {
    let cfg = Arc::new(Compiled::new(s));
    let behaviours = crate::plugins::behaviours(&cfg)?;
    Ok(Prepared { cfg, behaviours })
}

fn run(
    arg: &str,
    seed: u64,
    months: Option<u32>,
    sets: &[String],
    plugins: &[String],
    out: Option<&Path>,
) -> Result<()> {
    let mut sets = sets.to_vec();
    if let Some(m) = months {
        sets.push(format!("months={m}"));
    }
    let loaded = loader::load_with(arg, &sets, plugins)?;
    let p = prepare(&loaded.scenario)?;
    let rec =
        run_one(&p, seed).with_context(|| format!("run of {} with seed {seed}", loaded.label))?;
    let windows = output::five_year_windows(&rec);
    let mut header = vec!["exporter".to_string()];
    header.extend(windows.iter().map(|w| format!("{} %", w.0)));
    let shares: Vec<Vec<f64>> = windows.iter().map(|w| rec.share_years(w.1, w.2)).collect();
    let rows: Vec<Vec<String>> = rec
        .exporters
        .iter()
        .enumerate()
        .map(|(e, name)| {
            let mut r = vec![name.clone()];
            r.extend(shares.iter().map(|s| pct(s[e])));
            r
        })
        .collect();
    println!(
        "{} (seed {seed}): share of foreign deliveries by window",
        loaded.scenario.name
    );
    print!("{}", output::table(&header, &rows));
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        output::write_atomic(
            &dir.join("timeseries.csv"),
            output::timeseries_csv(&rec).as_bytes(),
        )?;
        let mut share_map = serde_json::Map::new();
        for (w, s) in windows.iter().zip(&shares) {
            let m: serde_json::Map<String, serde_json::Value> = rec
                .exporters
                .iter()
                .cloned()
                .zip(s.iter().map(|x| serde_json::json!(x)))
                .collect();
            share_map.insert(w.0.clone(), serde_json::Value::Object(m));
        }
        let summary = serde_json::json!({
            "dibsim_version": env!("CARGO_PKG_VERSION"),
            "scenario": loaded.scenario.name,
            "source": loaded.label,
            "seed": seed,
            "sets": sets,
            "shares": share_map,
            "parameters": loaded.scenario,
        });
        output::write_atomic(
            &dir.join("summary.json"),
            serde_json::to_string_pretty(&summary)?.as_bytes(),
        )?;
        eprintln!(
            "wrote {} and {}",
            dir.join("timeseries.csv").display(),
            dir.join("summary.json").display()
        );
    }
    Ok(())
}

fn validate(arg: &str, sets: &[String], print: bool) -> Result<()> {
    let loaded = loader::load(arg, sets)?;
    if print {
        println!("{}", serde_json::to_string_pretty(&loaded.scenario)?);
    } else {
        let s = &loaded.scenario;
        println!(
            "{}: ok ({} categories, {} exporters, {} suppliers, {} allies, {} months after a {}-month warm-up)",
            loaded.label,
            s.categories.len(),
            s.exporters.len(),
            s.suppliers.len(),
            s.allies.len(),
            s.months,
            s.warmup_months
        );
    }
    Ok(())
}

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

#[allow(clippy::too_many_arguments)]
fn compare(
    args: &[String],
    replicates: u32,
    seed: u64,
    from: Option<i32>,
    to: Option<i32>,
    sets: &[String],
    plugins: &[String],
    out: Option<&Path>,
) -> Result<()> {
    if replicates < 2 {
        bail!("--replicates must be at least 2 for confidence intervals (got {replicates})");
    }
    let names: Vec<String> = if args.is_empty() {
        loader::BUNDLED.iter().map(|(n, _)| n.to_string()).collect()
    } else {
        args.to_vec()
    };
    let loaded = names
        .iter()
        .map(|n| loader::load_with(n, sets, plugins))
        .collect::<Result<Vec<_>>>()?;
    let from = from.unwrap_or(2026);
    let to = to.unwrap_or(2035);
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
    let prepared: Vec<Prepared> = loaded
        .iter()
        .map(|l| prepare(&l.scenario))
        .collect::<Result<_>>()?;
    let started = Instant::now();
    let recs = run_compare(&prepared, replicates, seed)?;
    let elapsed = started.elapsed();
    let rec0 = &recs[0][0];
    let (a, b) = rec0.year_range(from, to);
    let shares: Vec<Vec<Vec<f64>>> = recs
        .iter()
        .map(|rs| rs.iter().map(|r| r.share(a, b)).collect())
        .collect();
    let exporters = rec0.exporters.clone();
    let header: Vec<String> = [
        "scenario",
        "exporter",
        "share %",
        "95% CI",
        "vs baseline (pp)",
        "95% CI",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    let mut csv = String::from(
        "scenario,exporter,share_mean,share_lo,share_hi,delta_mean,delta_lo,delta_hi,replicates\n",
    );
    for (si, l) in loaded.iter().enumerate() {
        for (e, ex) in exporters.iter().enumerate() {
            let xs: Vec<f64> = shares[si].iter().map(|s| s[e]).collect();
            let base: Vec<f64> = shares[0].iter().map(|s| s[e]).collect();
            let diff: Vec<f64> = xs.iter().zip(&base).map(|(x, b)| x - b).collect();
            let i = Interval::of(&xs);
            let d = Interval::of(&diff);
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                output::csv_field(&l.scenario.name),
                output::csv_field(ex),
                output::num(i.mean),
                output::num(i.lo),
                output::num(i.hi),
                output::num(d.mean),
                output::num(d.lo),
                output::num(d.hi),
                replicates
            ));
            let show = e < 6 || ex == &l.scenario.focal_exporter;
            if show {
                rows.push(vec![
                    if e == 0 {
                        l.scenario.name.clone()
                    } else {
                        String::new()
                    },
                    ex.clone(),
                    pct(i.mean),
                    format!("[{}, {}]", pct(i.lo), pct(i.hi)),
                    if si == 0 {
                        "-".into()
                    } else {
                        format!("{:+.2}", 100.0 * d.mean)
                    },
                    if si == 0 {
                        String::new()
                    } else {
                        format!("[{:+.2}, {:+.2}]", 100.0 * d.lo, 100.0 * d.hi)
                    },
                ]);
            }
        }
    }
    println!(
        "Share of foreign deliveries {from}-{to}: mean over {replicates} replicates (seed {seed}, common random numbers); baseline {}",
        loaded[0].scenario.name
    );
    print!("{}", output::table(&header, &rows));
    println!("(six largest exporters shown; compare.csv with --out has all)");
    eprintln!(
        "{} scenarios x {replicates} replicates in {:.3} s",
        loaded.len(),
        elapsed.as_secs_f64()
    );
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        output::write_atomic(&dir.join("compare.csv"), csv.as_bytes())?;
        let names: Vec<String> = loaded.iter().map(|l| l.scenario.name.clone()).collect();
        let focal = loaded[0].scenario.focal_exporter.clone();
        output::write_atomic(
            &dir.join("series.csv"),
            crate::report::data::series_csv(&names, &recs, &focal).as_bytes(),
        )?;
        let manifest = crate::report::data::CompareManifest {
            kind: "compare".into(),
            dibsim_version: env!("CARGO_PKG_VERSION").into(),
            baseline: loaded[0].scenario.name.clone(),
            focal_exporter: focal,
            replicates,
            seed,
            run_seeds: (0..replicates)
                .map(|r| derive_seed(seed, &[r as u64]))
                .collect(),
            window: [from, to],
            sets: sets.to_vec(),
            plugins: plugins.to_vec(),
            start_year: loaded[0].scenario.start_year,
            scenarios: loaded
                .iter()
                .map(|l| crate::report::data::ScenarioNote {
                    name: l.scenario.name.clone(),
                    source: l.label.clone(),
                    description: l.scenario.description.clone(),
                    differs: crate::report::data::differences(&loaded[0].scenario, &l.scenario),
                })
                .collect(),
        };
        // Written last: its presence says the folder is complete.
        crate::report::data::write_manifest(dir, &manifest)?;
        eprintln!(
            "wrote compare.csv, series.csv and manifest.json in {}",
            dir.display()
        );
    }
    Ok(())
}

fn bench(arg: &str, runs: u32, plugins: &[String]) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if !plugins.is_empty() {
        return bench_plugin(arg, runs, plugins);
    }
    let loaded = loader::load(arg, &[])?;
    let p = prepare(&loaded.scenario)?;
    let s = &loaded.scenario;
    let months = (s.months + s.warmup_months) as f64;
    let agents = (s.allies.len() + s.suppliers.len()) as f64;
    // Warm up caches and the allocator.
    run_one(&p, 0)?;
    let mut times = Vec::with_capacity(runs as usize);
    for r in 0..runs {
        let t0 = Instant::now();
        let rec = run_one(&p, r as u64)?;
        times.push(t0.elapsed().as_secs_f64());
        std::hint::black_box(rec);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "one {} run ({} warm-up + {} months, {} agents): median {:.3} ms over {runs} runs, {:.2} M agent-months/s single-threaded",
        s.name,
        s.warmup_months,
        s.months,
        agents,
        median * 1e3,
        agents * months / median / 1e6
    );
    let all: Vec<String> = loader::BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
    let loaded_all = all
        .iter()
        .map(|n| loader::load(n, &[]))
        .collect::<Result<Vec<_>>>()?;
    let prepared: Vec<Prepared> = loaded_all
        .iter()
        .map(|l| prepare(&l.scenario))
        .collect::<Result<_>>()?;
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let mut ts = Vec::new();
        for _ in 0..5 {
            let t0 = Instant::now();
            pool.install(|| run_compare(&prepared, 20, 1))?;
            ts.push(t0.elapsed().as_secs_f64());
        }
        ts.sort_by(f64::total_cmp);
        println!(
            "default compare ({} scenarios x 20 replicates, forked at the policy start) on {threads} thread(s): median {:.3} s",
            prepared.len(),
            ts[2]
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sweep(
    file: &Path,
    out: Option<std::path::PathBuf>,
    resume: bool,
    shard: Option<&str>,
    dry_run: bool,
    format: crate::sweep::Format,
    fork: bool,
    quiet: bool,
) -> Result<()> {
    use crate::sweep::{Shard, Sweep};
    let sw = Sweep::load(file)?;
    let shard = shard.map(Shard::parse).transpose()?.unwrap_or(Shard::ALL);
    let (a, b) = shard.range(sw.runs());
    let name = sw
        .file
        .name
        .clone()
        .unwrap_or_else(|| sw.base_scenario.name.clone());
    let out = out.unwrap_or_else(|| format!("sweep-{}", crate::sweep::spec::slug(&name)).into());
    let threads = rayon::current_num_threads();
    if dry_run {
        println!(
            "{}: {} point(s) x {} replicate(s) = {} runs; this shard ({}/{}) runs {} ({}..{})",
            sw.label,
            sw.points.len(),
            sw.replicates(),
            sw.runs(),
            shard.index,
            shard.count,
            b - a,
            a,
            b
        );
        println!(
            "axes: {}",
            if sw.axes.is_empty() {
                "(none)".into()
            } else {
                sw.axes.join(", ")
            }
        );
        println!(
            "metrics: {}",
            sw.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let p = prepare(
            &sw.scenario(0)
                .with_context(|| format!("{}: point 0", sw.label))?,
        )?;
        let t0 = Instant::now();
        let timed = 3;
        for r in 0..timed {
            run_one(&p, sw.seed(0, r)).with_context(|| format!("{}: timing run", sw.label))?;
        }
        let per_run = t0.elapsed().as_secs_f64() / timed as f64;
        println!(
            "estimated time: {:.1} s on {threads} thread(s) ({:.2} ms per run from {timed} timed runs, before any saving from shared prefixes)",
            per_run * (b - a) as f64 / threads as f64,
            per_run * 1e3
        );
        println!(
            "any run re-runs alone; run {} (point 0, replicate 0): {}",
            sw.run_index(0, 0),
            sw.rerun_command(0, 0)
        );
        println!("output would go to {}", out.display());
        return Ok(());
    }
    // Load the base scenario's plugins here, on the main thread, before any
    // worker runs plugin code (and refuse a bad one before the sweep starts).
    prepare(&sw.base_scenario).with_context(|| format!("{}: base scenario", sw.label))?;
    let opts = crate::sweep::Options {
        out: out.clone(),
        resume,
        shard,
        format,
        fork,
        progress: !quiet,
    };
    let outcome = crate::sweep::execute(&sw, &opts, &|s: &Scenario| prepare(s))?;
    if outcome.already_complete {
        println!("{} is already complete: nothing to run", out.display());
        return Ok(());
    }
    let rate = outcome.ran as f64 / outcome.elapsed.as_secs_f64().max(1e-9);
    println!(
        "{}: ran {} run(s) in {:.2} s ({rate:.0} runs/s on {threads} thread(s)); {} of this shard's {} runs were already done",
        sw.label,
        outcome.ran,
        outcome.elapsed.as_secs_f64(),
        (b - a) - outcome.ran,
        b - a
    );
    let mf = crate::sweep::Manifest::read(&out)?;
    println!(
        "wrote {}, points.csv{} in {}",
        mf.runs_file(),
        if mf.timeseries_schema.is_some() {
            format!(" and {}", mf.series_file())
        } else {
            String::new()
        },
        out.display()
    );
    if outcome.failed > 0 {
        eprintln!(
            "warning: {} run(s) failed; their rows have status `failed` and the reason in `error`",
            outcome.failed
        );
    }
    Ok(())
}

/// Sweep throughput: the machinery (journal, ordering, output files) against
/// the same runs done bare, and the saving from forking shared prefixes.
fn bench_sweep(file: &Path) -> Result<()> {
    use crate::sweep::{Format, Options, Shard, Sweep};
    let sw = Sweep::load(file)?;
    let runs = sw.runs();
    println!(
        "{}: {} points x {} replicates = {runs} runs",
        sw.label,
        sw.points.len(),
        sw.replicates()
    );
    let t0 = Instant::now();
    let scenarios: Vec<Scenario> = (0..sw.points.len())
        .map(|p| sw.scenario(p))
        .collect::<Result<_, _>>()?;
    let t1 = Instant::now();
    let prepared: Vec<Prepared> = scenarios.iter().map(prepare).collect::<Result<_>>()?;
    println!(
        "building a point: {:.3} ms to compose and validate its scenario, {:.3} ms to compile it",
        (t1 - t0).as_secs_f64() * 1e3 / scenarios.len() as f64,
        t1.elapsed().as_secs_f64() * 1e3 / scenarios.len() as f64
    );
    drop(scenarios);
    let tmp = std::env::temp_dir().join(format!("dibsim-bench-{}", std::process::id()));
    // Three rounds, each timing every variant once, so that drift in the
    // machine's speed hits all of them alike; medians are reported.
    let mut times = vec![Vec::new(); 6];
    // Each round times every variant once, in an order that rotates from
    // round to round, so that drift in the machine's speed does not favour
    // whichever variant runs first; medians are reported.
    for round in 0..3 {
        for (t, threads) in [1usize, 2].into_iter().enumerate() {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()?;
            for k in (0..3).map(|i| (i + round) % 3) {
                let t0 = Instant::now();
                if k == 0 {
                    // Bare: every run from scratch on points built
                    // beforehand, results dropped.
                    pool.install(|| -> Result<()> {
                        (0..runs).into_par_iter().try_for_each(|run| -> Result<()> {
                            let (p, r) = sw.locate(run);
                            std::hint::black_box(run_one(&prepared[p], sw.seed(p, r))?);
                            Ok(())
                        })
                    })?;
                } else {
                    let fork = k == 2;
                    let out = tmp.join(format!("{threads}-{fork}"));
                    let opts = Options {
                        out: out.clone(),
                        resume: false,
                        shard: Shard::ALL,
                        format: Format::Parquet,
                        fork,
                        progress: false,
                    };
                    pool.install(|| crate::sweep::execute(&sw, &opts, &|s: &Scenario| prepare(s)))?;
                    std::fs::remove_dir_all(&out).ok();
                }
                times[t * 3 + k].push(t0.elapsed().as_secs_f64());
            }
        }
    }
    let med = |v: &Vec<f64>| {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let m: Vec<f64> = times.iter().map(med).collect();
    for (t, threads) in [1usize, 2].into_iter().enumerate() {
        let (bare, plain, fork) = (m[t * 3], m[t * 3 + 1], m[t * 3 + 2]);
        println!(
            "{threads} thread(s), median of 3: bare runs {bare:.2} s ({:.0} runs/s); sweep without forking {plain:.2} s ({:.0} runs/s, overhead {:+.1}%); sweep with forking {fork:.2} s ({:.0} runs/s, {:.2}x the bare runs)",
            runs as f64 / bare,
            runs as f64 / plain,
            100.0 * (plain / bare - 1.0),
            runs as f64 / fork,
            bare / fork
        );
    }
    println!(
        "2-thread speed-up: bare runs {:.2}x, sweep without forking {:.2}x, sweep with forking {:.2}x",
        m[0] / m[3],
        m[1] / m[4],
        m[2] / m[5]
    );
    std::fs::remove_dir_all(&tmp).ok();
    Ok(())
}

/// A plugin against the built-in: the same runs (same seeds) alternated, so
/// that drift in the machine's speed hits both alike.
fn bench_plugin(arg: &str, runs: u32, plugins: &[String]) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let t0 = Instant::now();
    let with = loader::load_with(arg, &[], plugins)?;
    let p_plugin = prepare(&with.scenario)?;
    let load_time = t0.elapsed();
    let t1 = Instant::now();
    let again = prepare(&with.scenario)?;
    let reload_time = t1.elapsed();
    drop(again);
    let p_builtin = prepare(&loader::load(arg, &[])?.scenario)?;
    // Warm up both.
    run_one(&p_builtin, 0)?;
    run_one(&p_plugin, 0)?;
    let (mut tb, mut tp) = (Vec::new(), Vec::new());
    for r in 0..runs {
        let t = Instant::now();
        std::hint::black_box(run_one(&p_builtin, r as u64)?);
        tb.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(run_one(&p_plugin, r as u64)?);
        tp.push(t.elapsed().as_secs_f64());
    }
    tb.sort_by(f64::total_cmp);
    tp.sort_by(f64::total_cmp);
    let (b, p) = (tb[tb.len() / 2], tp[tp.len() / 2]);
    println!(
        "{} over {runs} runs: built-in median {:.3} ms, with {} median {:.3} ms: {:.3}x",
        with.scenario.name,
        b * 1e3,
        plugins.join(", "),
        p * 1e3,
        p / b
    );
    println!(
        "preparing the scenario with the plugin: {:.2} ms the first time (loading the library), {:.3} ms again (loaded once per process)",
        load_time.as_secs_f64() * 1e3,
        reload_time.as_secs_f64() * 1e3
    );
    Ok(())
}
