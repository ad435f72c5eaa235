//! The subcommands: resolve arguments into scenarios and settings, run the
//! core, write and print results.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use dibsim_core::run::{run_one, Prepared};
use dibsim_core::Scenario;
use dibsim_experiments::calibrate::{self, CalibrateSpec};
use dibsim_experiments::compare::{self, run_compare, CompareSpec};
use dibsim_experiments::output::{self, pct};
use dibsim_experiments::run::{self as single, RunSpec};
use dibsim_experiments::{loader, prepare, sweep as sweeps};
use rayon::prelude::*;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> Result<()> {
    if cli.allow_native_plugins {
        dibsim_experiments::plugins::allow_native(true);
    }
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
                dibsim_report::write(&dir, &page, None)?;
                eprintln!("wrote {}", page.display());
            }
            Ok(())
        }
        Command::Report { dir, out, svg } => {
            let page = out.unwrap_or_else(|| dir.join("report.html"));
            dibsim_report::write(&dir, &page, svg.as_deref())?;
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
        } => calibrate(
            CalibrateSpec {
                scenario,
                replicates,
                seed,
                iterations,
                write,
            },
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
            scale,
            suppliers,
            no_compare,
        } => match scale {
            Some(k) => bench_scale(&scenario, runs, k, suppliers),
            // `--suppliers M` alone is the scenario itself with M times the
            // suppliers, not a flag to ignore.
            None if suppliers != 1 => bench_scale(&scenario, runs, 1, suppliers),
            None => bench(&scenario, runs, &plugins, !no_compare),
        },
        Command::Analyze { dir, metric, out } => analyze(&dir, metric.as_deref(), out),
        Command::Discover {
            dir,
            metric,
            below,
            above,
            delta,
            density,
            out,
        } => discover(&dir, metric, below, above, delta, density, out),
        Command::Synth {
            scenario,
            scale,
            suppliers,
            out,
        } => {
            let s = loader::load(&scenario, &[])?.scenario;
            let w = dibsim_experiments::synth::synth(&s, scale, suppliers)?;
            let text = format!(
                "# A synthetic world: {scenario} x{scale} (allies copied, capacities and domestic demand x{scale}), suppliers x{suppliers}; written by `dibsim synth`.\n{}",
                toml::to_string(&w).context("cannot write the world as TOML")?
            );
            output::write_atomic(&out, text.as_bytes())?;
            println!(
                "wrote {} ({} allies, {} suppliers)",
                out.display(),
                w.allies.len(),
                w.suppliers.len()
            );
            Ok(())
        }
        Command::Plugin { command } => match command {
            crate::cli::PluginCommand::New {
                name,
                dir,
                sdk,
                wasm,
            } => crate::plugin_cmd::new(&name, dir.as_deref(), sdk.as_deref(), wasm),
            crate::cli::PluginCommand::Info { path } => crate::plugin_cmd::info(&path),
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
            format.into(),
            !no_fork,
            quiet,
        ),
        Command::Merge { dirs, out } => {
            sweeps::merge(&dirs, &out)?;
            let mf = sweeps::Manifest::read(&out)?;
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

fn run(
    arg: &str,
    seed: u64,
    months: Option<u32>,
    sets: &[String],
    plugins: &[String],
    out: Option<&Path>,
) -> Result<()> {
    let spec = RunSpec {
        scenario: arg.to_string(),
        seed,
        months,
        sets: sets.to_vec(),
        plugins: plugins.to_vec(),
        ledger: out.is_some(),
    };
    if let Some(dir) = out {
        output::writable_dir(dir)?;
    }
    let done = single::run(&spec)?;
    let windows = done.window_shares();
    let mut header = vec!["exporter".to_string()];
    header.extend(windows.iter().map(|w| format!("{} %", w.0)));
    let rows: Vec<Vec<String>> = done
        .recorder
        .exporters
        .iter()
        .enumerate()
        .map(|(e, name)| {
            let mut r = vec![name.clone()];
            r.extend(windows.iter().map(|(_, s)| pct(s[e])));
            r
        })
        .collect();
    plugins_note(&done.loaded.scenario);
    println!(
        "{} (seed {seed}): share of foreign deliveries by window",
        done.loaded.scenario.name
    );
    print!("{}", output::table(&header, &rows));
    if let Some(dir) = out {
        let files = done.write(dir)?;
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        eprintln!("wrote {}", names.join(" and "));
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
    let spec = CompareSpec {
        scenarios: args.to_vec(),
        replicates,
        seed,
        from: from.unwrap_or(2026),
        to: to.unwrap_or(2035),
        sets: sets.to_vec(),
        plugins: plugins.to_vec(),
        lags: out.is_some(),
    };
    if let Some(dir) = out {
        output::writable_dir(dir)?;
    }
    let done = compare::compare(&spec)?;
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
    let exporters = done.exporters().len();
    let rows: Vec<Vec<String>> = done
        .rows
        .iter()
        .enumerate()
        .filter_map(|(k, r)| {
            let (si, e) = (k / exporters, k % exporters);
            let focal = &done.loaded[si].scenario.focal_exporter;
            (e < 6 || &r.exporter == focal).then(|| {
                vec![
                    if e == 0 {
                        r.scenario.clone()
                    } else {
                        String::new()
                    },
                    r.exporter.clone(),
                    pct(r.share_mean),
                    format!("[{}, {}]", pct(r.share_lo), pct(r.share_hi)),
                    if si == 0 {
                        "-".into()
                    } else {
                        format!("{:+.2}", 100.0 * r.delta_mean)
                    },
                    if si == 0 {
                        String::new()
                    } else {
                        format!("[{:+.2}, {:+.2}]", 100.0 * r.delta_lo, 100.0 * r.delta_hi)
                    },
                ]
            })
        })
        .collect();
    for l in &done.loaded {
        plugins_note(&l.scenario);
    }
    println!(
        "Share of foreign deliveries {}-{}: mean over {replicates} replicates (seed {seed}, common random numbers); baseline {}",
        spec.from, spec.to, done.loaded[0].scenario.name
    );
    print!("{}", output::table(&header, &rows));
    println!("(six largest exporters shown; compare.csv with --out has all)");
    eprintln!(
        "{} scenarios x {replicates} replicates in {:.3} s",
        done.loaded.len(),
        done.elapsed.as_secs_f64()
    );
    if let Some(dir) = out {
        done.write(dir)?;
        eprintln!(
            "wrote compare.csv, lags.csv, attribution.csv, series.csv and manifest.json in {}",
            dir.display()
        );
    }
    Ok(())
}

/// Which plugins a scenario ran with, on stderr beside the timings, so a
/// table made with a plugin is not mistaken for the built-in's.
fn plugins_note(s: &dibsim_core::scenario::Scenario) {
    if s.plugins.is_empty() {
        return;
    }
    let list: Vec<String> = s
        .plugins
        .iter()
        .map(|p| format!("{}={}", p.slots.join("+"), p.path))
        .collect();
    // Not eprintln!: a note nobody can read must not fail a good run.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}: with plugins {}",
        s.name,
        list.join(", ")
    );
}

fn calibrate(spec: CalibrateSpec, check: bool) -> Result<()> {
    let done = calibrate::calibrate(&spec, &mut |it, s, m, fails| {
        eprintln!(
            "iteration {it}: {fails} targets missed; world {:.0} TIV/yr, US {}",
            m.world_per_year,
            pct(m.exporter_share[s.exporter_index(&s.focal_exporter).unwrap_or(0)])
        );
    })?;
    let (s, m) = (&done.scenario, &done.measured);
    let rows: Vec<Vec<String>> = done
        .checks
        .iter()
        .map(|x| {
            vec![
                x.name.clone(),
                x.value.clone(),
                x.target.clone(),
                if x.ok { "ok".into() } else { "MISSED".into() },
            ]
        })
        .collect();
    println!(
        "{}: calibration targets of docs/model.md, {} replicates (seed {})",
        s.name, spec.replicates, spec.seed
    );
    print!(
        "{}",
        output::table(
            &[
                "target".into(),
                "measured".into(),
                "wanted".into(),
                "".into()
            ],
            &rows
        )
    );
    let all_shares: Vec<Vec<String>> = s
        .exporters
        .iter()
        .enumerate()
        .map(|(e, x)| {
            vec![
                x.name.clone(),
                pct(m.exporter_share[e]),
                format!("{:+.1}", 100.0 * m.drift_share[e]),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &[
                "exporter".into(),
                "share 2020-24 %".into(),
                "drift 2030-34 pp".into()
            ],
            &all_shares
        )
    );
    if let Some(p) = &spec.write {
        eprintln!(
            "wrote {}; regenerate the scenario with scenarios/tools/make_baseline.py",
            p.display()
        );
    }
    let missed = done.missed();
    if check && missed > 0 {
        bail!("{missed} calibration targets missed");
    }
    Ok(())
}

/// Median seconds of `runs` runs of `p` (seeds 0..runs), after one to warm up.
fn time_runs(p: &Prepared, runs: u32) -> Result<f64> {
    run_one(p, 0)?;
    let mut times = Vec::with_capacity(runs as usize);
    for r in 0..runs {
        let t0 = Instant::now();
        let rec = run_one(p, r as u64)?;
        times.push(t0.elapsed().as_secs_f64());
        std::hint::black_box(rec);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Allocations per reported month of one run (seed 1), stepping the world.
fn allocations_per_month(p: &Prepared) -> Result<f64> {
    crate::alloc_count::start();
    let mut w = dibsim_core::World::new(std::sync::Arc::clone(&p.cfg), p.behaviours.clone(), 1)?;
    let mut n = 0u64;
    let mut months = 0u64;
    while !w.finished() {
        let reported = w.month() >= 0;
        let before = crate::alloc_count::allocations();
        w.step()?;
        if reported {
            n += crate::alloc_count::allocations() - before;
            months += 1;
        }
    }
    Ok(n as f64 / months.max(1) as f64)
}

fn describe_run(s: &Scenario, median: f64) -> String {
    let months = (s.months + s.warmup_months) as f64;
    let agents = (s.allies.len() + s.suppliers.len()) as f64;
    format!(
        "one {} run ({} warm-up + {} months, {} agents): median {:.3} ms, {:.0} runs/s, {:.2} M agent-months/s",
        s.name,
        s.warmup_months,
        s.months,
        agents,
        median * 1e3,
        1.0 / median,
        agents * months / median / 1e6
    )
}

fn bench(arg: &str, runs: u32, plugins: &[String], with_compare: bool) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if !plugins.is_empty() {
        return bench_plugin(arg, runs, plugins);
    }
    let loaded = loader::load(arg, &[])?;
    let p = prepare(&loaded.scenario)?;
    let s = &loaded.scenario;
    let median = pool(1)?.install(|| time_runs(&p, runs))?;
    println!(
        "{} over {runs} runs on 1 thread; {:.2} allocations per reported month",
        describe_run(s, median),
        allocations_per_month(&p)?
    );
    // The order ledger's cost: the same runs, alternated, keeping it or not.
    let (mut without, mut with) = (Vec::new(), Vec::new());
    pool(1)?.install(|| -> Result<()> {
        for r in 0..runs {
            let t = Instant::now();
            std::hint::black_box(dibsim_core::run::run_one_with(&p, r as u64, false)?);
            without.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            std::hint::black_box(dibsim_core::run::run_one_with(&p, r as u64, true)?);
            with.push(t.elapsed().as_secs_f64());
        }
        Ok(())
    })?;
    without.sort_by(f64::total_cmp);
    with.sort_by(f64::total_cmp);
    let (a, b) = (without[without.len() / 2], with[with.len() / 2]);
    println!(
        "with the order ledger (orders.csv): median {:.3} ms against {:.3} ms without, {:.3}x",
        b * 1e3,
        a * 1e3,
        b / a
    );
    if !with_compare {
        return Ok(());
    }
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
        let pool = pool(threads)?;
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

fn analyze(dir: &Path, metric: Option<&str>, out: Option<std::path::PathBuf>) -> Result<()> {
    use dibsim_experiments::sensitivity;
    let t0 = Instant::now();
    let sensitivity::Analysis { rows, skipped } = sensitivity::analyze(dir, metric)?;
    for why in &skipped {
        eprintln!("skipped {why}");
    }
    let out = out.unwrap_or_else(|| dir.join("sensitivity.csv"));
    output::write_atomic(&out, sensitivity::sensitivity_csv(&rows).as_bytes())?;
    // The ranking: by ST (Sobol) or mu* (Morris), per metric and group.
    let main = |i: &str| i == "ST" || i == "mu_star";
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.metric.clone(), r.group.clone()))
        .collect();
    keys.dedup();
    for (m, g) in keys {
        let mut ranked: Vec<&sensitivity::SensitivityRow> = rows
            .iter()
            .filter(|r| r.metric == m && r.group == g && main(&r.index))
            .collect();
        ranked.sort_by(|a, b| b.value.total_cmp(&a.value));
        let noise = rows
            .iter()
            .find(|r| r.metric == m && r.group == g && r.index == "share_of_mean_variance")
            .map(|r| {
                format!(
                    "; replicate noise: {:.1}% of the variance of the point means",
                    100.0 * r.value
                )
            })
            .unwrap_or_default();
        println!("{m} [{g}]{noise}");
        let table: Vec<Vec<String>> = ranked
            .iter()
            .map(|r| {
                vec![
                    r.parameter.clone(),
                    r.index.clone(),
                    format!("{:.3}", r.value),
                    format!("[{:.3}, {:.3}]", r.lo, r.hi),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(
                &[
                    "parameter".into(),
                    "index".into(),
                    "value".into(),
                    "95% CI".into()
                ],
                &table
            )
        );
    }
    eprintln!(
        "wrote {} ({} rows) in {:.2} s",
        out.display(),
        rows.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn discover(
    dir: &Path,
    metric: String,
    below: Option<f64>,
    above: Option<f64>,
    delta: bool,
    density: f64,
    out: Option<std::path::PathBuf>,
) -> Result<()> {
    use dibsim_experiments::sensitivity::{discover, DiscoverSpec};
    let (below, threshold) = match (below, above) {
        (Some(x), None) => (true, x),
        (None, Some(x)) => (false, x),
        _ => bail!("give one of --below X or --above X"),
    };
    if !(0.0..=1.0).contains(&density) {
        bail!("--density {density}: must be between 0 and 1");
    }
    let d = discover(
        dir,
        &DiscoverSpec {
            metric,
            below,
            threshold,
            delta,
            density,
        },
    )?;
    let out = out.unwrap_or_else(|| dir.to_path_buf());
    d.write(&out)?;
    println!(
        "{} {} {}{}: {} of {} points are cases of interest",
        d.spec.metric,
        if below { "below" } else { "above" },
        threshold,
        if delta {
            " (difference between lever groups)"
        } else {
            ""
        },
        d.cases,
        d.points
    );
    let rows: Vec<Vec<String>> = d
        .result
        .trajectory
        .iter()
        .enumerate()
        .map(|(i, b)| {
            vec![
                format!("{i}{}", if i == d.result.chosen { " *" } else { "" }),
                format!("{:.3}", b.coverage),
                format!("{:.3}", b.density),
                format!("{:.3}", b.mass),
                b.restricted.len().to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &[
                "box".into(),
                "coverage".into(),
                "density".into(),
                "mass".into(),
                "restricted".into()
            ],
            &rows
        )
    );
    let b = d.chosen();
    println!(
        "chosen box {} (pasted): coverage {:.3}, density {:.3}, mass {:.3}",
        d.result.chosen, b.coverage, b.density, b.mass
    );
    for &k in &b.restricted {
        println!(
            "  {} in [{:.4}, {:.4}]",
            d.inputs[k], b.limits[k].0, b.limits[k].1
        );
    }
    eprintln!(
        "wrote discovery.csv and discovery.json in {}",
        out.display()
    );
    Ok(())
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the thread pool")
}

/// Cost per agent-month of a world K times the scenario (M times the
/// suppliers), on 1 and 2 threads.
fn bench_scale(arg: &str, runs: u32, scale: u32, suppliers: u32) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let base = loader::load(arg, &[])?.scenario;
    let w = dibsim_experiments::synth::synth(&base, scale, suppliers)?;
    let p = prepare(&w)?;
    let agent_months =
        ((w.allies.len() + w.suppliers.len()) as u64 * (w.months + w.warmup_months) as u64) as f64;
    // The two thread counts take turns, run by run with the same seed, so
    // a slow spell of a shared machine falls on both; the speed-up is the
    // median of the paired ratios.
    let pools = [pool(1)?, pool(2)?];
    let timed = |k: usize, seed: u64| -> Result<f64> {
        pools[k].install(|| {
            let t0 = Instant::now();
            let rec = run_one(&p, seed)?;
            let took = t0.elapsed().as_secs_f64();
            std::hint::black_box(rec);
            Ok(took)
        })
    };
    timed(0, 0)?;
    timed(1, 0)?;
    let (mut times, mut ratios) = ([Vec::new(), Vec::new()], Vec::new());
    for r in 0..runs as u64 {
        let (one, two) = (timed(0, r)?, timed(1, r)?);
        times[0].push(one);
        times[1].push(two);
        ratios.push(one / two);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (k, v) in times.iter_mut().enumerate() {
        let m = median(v);
        println!(
            "{} on {} thread(s): {:.1} ns per agent-month",
            describe_run(&w, m),
            k + 1,
            m / agent_months * 1e9
        );
    }
    println!(
        "2-thread speed-up {:.2}x (median of {runs} paired runs); {:.2} allocations per reported month",
        median(&mut ratios),
        allocations_per_month(&p)?
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sweep(
    file: &Path,
    out: Option<std::path::PathBuf>,
    resume: bool,
    shard: Option<&str>,
    dry_run: bool,
    format: sweeps::Format,
    fork: bool,
    quiet: bool,
) -> Result<()> {
    use sweeps::{Shard, Sweep};
    let sw = Sweep::load(file)?;
    let shard = shard.map(Shard::parse).transpose()?.unwrap_or(Shard::ALL);
    let (a, b) = shard.range(sw.runs());
    let out = out.unwrap_or_else(|| sw.default_out());
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
    let opts = sweeps::Options {
        out: out.clone(),
        resume,
        shard,
        format,
        fork,
    };
    let mut shown = crate::progress::Shown::new(!quiet);
    let outcome = sweeps::execute(&sw, &opts, &|s: &Scenario| prepare(s), &mut shown)?;
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
    let mf = sweeps::Manifest::read(&out)?;
    println!(
        "wrote {}, points.csv{} in {}",
        mf.runs_file(),
        if mf.timeseries_schema.is_some() {
            format!(", {} and {}", mf.series_file(), mf.orders_file())
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
    use sweeps::{Format, Options, Shard, Sweep};
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
                    };
                    pool.install(|| {
                        sweeps::execute(&sw, &opts, &|s: &Scenario| prepare(s), &mut sweeps::Silent)
                    })?;
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
