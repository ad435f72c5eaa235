//! End-to-end tests of `dibsim sweep` and `dibsim merge` on the real binary:
//! determinism across thread counts, resume after SIGKILL, shards and merge,
//! re-running one run alone, and refusals of bad sweep files.

mod common;
use common::{ok, read, run, text};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SMALL: &str = "tests/fixtures/sweeps/small.toml";
/// A small sweep that keeps every run's series and orders.
const SERIES: &str = "tests/fixtures/sweeps/series.toml";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of a fixture sweep file with `replicates` changed.
fn with_replicates_of(fixture: &str, dir: &Path, reps: u32) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture);
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/levers/base.toml");
    let t = std::fs::read_to_string(&src)
        .unwrap()
        .replace("replicates = 3", &format!("replicates = {reps}"))
        .replace("../levers/base.toml", base.to_str().unwrap());
    let p = dir.join(format!("copy-{reps}.toml"));
    std::fs::write(&p, t).unwrap();
    p
}

/// A folder as a killed sweep of the finished folder `full` leaves it:
/// the manifest, and the runs file's header and first `runs` rows as the
/// runs journal (`torn`: and half of the next row, as if killed mid-write).
fn killed_copy(full: &Path, cut: &Path, runs: usize, torn: bool) {
    std::fs::create_dir(cut).unwrap();
    std::fs::copy(full.join("manifest.json"), cut.join("manifest.json")).unwrap();
    let all = text(&full.join("runs.csv"));
    let lines: Vec<&str> = all.lines().collect();
    let mut journal: String = lines[..=runs].iter().map(|l| format!("{l}\n")).collect();
    if torn {
        journal.push_str(&lines[runs + 1][..lines[runs + 1].len() / 2]);
    }
    std::fs::write(cut.join("runs.partial.csv"), journal).unwrap();
}

#[test]
fn one_and_two_threads_give_identical_rows() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "parquet"] {
        let a = dir.path().join(format!("a-{format}"));
        let b = dir.path().join(format!("b-{format}"));
        ok(&[
            "--threads",
            "1",
            "sweep",
            SMALL,
            "--out",
            s(&a),
            "--format",
            format,
            "-q",
        ]);
        ok(&[
            "--threads",
            "2",
            "sweep",
            SMALL,
            "--out",
            s(&b),
            "--format",
            format,
            "-q",
        ]);
        let runs = format!("runs.{format}");
        assert!(
            read(&a.join(&runs)) == read(&b.join(&runs)),
            "{runs} differs"
        );
        assert_eq!(read(&a.join("points.csv")), read(&b.join("points.csv")));
        // With time series: each run's series and orders too.
        let (c, d) = (
            dir.path().join(format!("c-{format}")),
            dir.path().join(format!("d-{format}")),
        );
        for (threads, out) in [("1", &c), ("2", &d)] {
            ok(&[
                "--threads",
                threads,
                "sweep",
                SERIES,
                "--out",
                s(out),
                "--format",
                format,
                "-q",
            ]);
        }
        for stem in ["runs", "timeseries", "orders"] {
            let f = format!("{stem}.{format}");
            assert!(read(&c.join(&f)) == read(&d.join(&f)), "{f} differs");
        }
    }
    // Every ok run of the series sweep has its orders, in run order.
    let orders = text(&dir.path().join("c-csv/orders.csv"));
    let mut runs: Vec<u64> = orders
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        runs.windows(2).all(|w| w[0] <= w[1]),
        "orders out of run order"
    );
    runs.dedup();
    assert_eq!(runs, (0..24).collect::<Vec<u64>>());
    // 8 points x 3 replicates, one row each, sorted by run, all ok.
    let csv = text(&dir.path().join("a-csv/runs.csv"));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 24);
    for (i, r) in rows.iter().enumerate() {
        assert!(r.starts_with(&format!("{i},{},{},", i / 3, i % 3)), "{r}");
        assert!(r.contains(",ok,"), "{r}");
    }
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with(
        "run,point,replicate,seed,status,error,policy.approval_time_factor,exporters.Beta.approval_mean_months,policy.export_reserve,share_alpha_2026_2030,"
    ));
    // Common random numbers: replicate r has one seed at every point.
    let seeds: Vec<Vec<&str>> = rows.iter().map(|r| r.split(',').collect()).collect();
    for r in &seeds {
        assert_eq!(r[3], seeds[r[2].parse::<usize>().unwrap()][3]);
    }
    // The parameter does its work: a faster approval raises Alpha's share.
    let points = text(&dir.path().join("a-csv/points.csv"));
    let share = |p: usize| -> f64 {
        points
            .lines()
            .nth(p + 1)
            .unwrap()
            .split(',')
            .nth(6)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(share(4) > share(0), "{} vs {}", share(4), share(0));
}

#[test]
fn forked_and_unforked_sweeps_agree() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("fork");
    let b = dir.path().join("nofork");
    ok(&["sweep", SMALL, "--out", s(&a), "--format", "csv", "-q"]);
    ok(&[
        "sweep",
        SMALL,
        "--out",
        s(&b),
        "--format",
        "csv",
        "-q",
        "--no-fork",
    ]);
    assert_eq!(read(&a.join("runs.csv")), read(&b.join("runs.csv")));
    // A fork's ledger carries the orders of the shared history.
    let (c, d) = (dir.path().join("fork-s"), dir.path().join("nofork-s"));
    ok(&["sweep", SERIES, "--out", s(&c), "--format", "csv", "-q"]);
    ok(&[
        "sweep",
        SERIES,
        "--out",
        s(&d),
        "--format",
        "csv",
        "-q",
        "--no-fork",
    ]);
    for f in ["runs.csv", "timeseries.csv", "orders.csv"] {
        assert!(read(&c.join(f)) == read(&d.join(f)), "{f} differs");
    }
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_to_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    // Enough runs that the kill lands mid-sweep; time series kept too.
    let file = with_replicates_of("tests/fixtures/sweeps/series.toml", dir.path(), 150);
    let full = dir.path().join("full");
    ok(&["sweep", s(&file), "--out", s(&full), "-q"]);
    let killed = dir.path().join("killed");
    let journal = killed.join("runs.partial.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args(["sweep", s(&file), "--out", s(&killed), "-q"])
        .spawn()
        .unwrap();
    // Kill once some rows, but not all, are on disk.
    let t0 = Instant::now();
    loop {
        let rows = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if rows > 100 || t0.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = text(&journal).lines().count() - 1;
    assert!(kept > 0 && kept < 1200, "killed after {kept} of 1200 runs");
    assert!(!killed.join("runs.parquet").exists());
    assert!(killed.join("timeseries.partial.csv").exists());
    assert!(killed.join("orders.partial.csv").exists());
    // Without --resume the folder is refused, not overwritten.
    let refused = run(&["sweep", s(&file), "--out", s(&killed), "-q"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    let out = ok(&["sweep", s(&file), "--out", s(&killed), "--resume", "-q"]);
    let said = String::from_utf8_lossy(&out.stdout);
    // The missing runs, and perhaps the last kept one again: an orders
    // journal cannot tell whether its last run's rows are all there.
    assert!(
        said.contains(&format!("ran {} run(s)", 1200 - kept))
            || said.contains(&format!("ran {} run(s)", 1201 - kept)),
        "only the missing runs are run: {said}"
    );
    for f in [
        "runs.parquet",
        "points.csv",
        "timeseries.parquet",
        "orders.parquet",
    ] {
        assert!(read(&full.join(f)) == read(&killed.join(f)), "{f} differs");
    }
    assert!(!journal.exists());
    assert!(!killed.join("orders.partial.csv").exists());
    // Resuming a finished sweep runs nothing.
    let again = ok(&["sweep", s(&file), "--out", s(&killed), "--resume", "-q"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already complete"));
}

#[test]
fn detail_journals_left_behind_the_runs_are_caught_up_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/series.toml",
        "--out",
        s(&full),
        "--format",
        "csv",
        "-q",
    ]);
    // As if a power cut kept the runs journal whole but lost the tails of
    // the others: 20 runs recorded, the series and the orders of only some
    // of them (each cut at its own run, the orders mid-line).
    let cut = dir.path().join("cut");
    killed_copy(&full, &cut, 20, false);
    let series = text(&full.join("timeseries.csv"));
    let part: String = series
        .lines()
        .take(1000)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(cut.join("timeseries.partial.csv"), part).unwrap();
    let orders = text(&full.join("orders.csv"));
    let lines: Vec<&str> = orders.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.starts_with("12,"))
        .expect("orders of run 12");
    let mut part: String = lines[..end].iter().map(|l| format!("{l}\n")).collect();
    part.push_str(&lines[end][..lines[end].len() / 2]);
    std::fs::write(cut.join("orders.partial.csv"), part).unwrap();
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/series.toml",
        "--out",
        s(&cut),
        "--format",
        "csv",
        "--resume",
        "-q",
    ]);
    for f in ["runs.csv", "points.csv", "timeseries.csv", "orders.csv"] {
        assert!(read(&full.join(f)) == read(&cut.join(f)), "{f} differs");
    }
}

#[test]
fn a_series_journal_cut_inside_the_last_recorded_run_is_caught_up_on_resume() {
    // Found by experiments/tests/properties.rs: the runs journal records
    // runs 0-19 and the series journal ends at a row boundary inside run
    // 19's rows. Run 19 was taken for whole (it is the last run of both),
    // so its missing months were never written; resume now always runs a
    // detail journal's last run again.
    let dir = tempfile::tempdir().unwrap();
    let fixture = "tests/fixtures/sweeps/series.toml";
    let full = dir.path().join("full");
    ok(&["sweep", fixture, "--out", s(&full), "--format", "csv", "-q"]);
    let cut = dir.path().join("cut");
    killed_copy(&full, &cut, 20, false);
    // The orders journal whole: resume cuts it back to the runs journal.
    std::fs::copy(full.join("orders.csv"), cut.join("orders.partial.csv")).unwrap();
    let series = text(&full.join("timeseries.csv"));
    let mut lines = series.lines();
    let mut part = format!("{}\n", lines.next().unwrap());
    let mut of_19 = 0;
    for l in lines {
        let run: u32 = l.split(',').next().unwrap().parse().unwrap();
        if run == 19 {
            of_19 += 1;
            if of_19 > 100 {
                break;
            }
        }
        part.push_str(l);
        part.push('\n');
    }
    assert!(of_19 > 100, "run 19 has more than 100 series rows");
    std::fs::write(cut.join("timeseries.partial.csv"), part).unwrap();
    let out = ok(&[
        "sweep",
        fixture,
        "--out",
        s(&cut),
        "--format",
        "csv",
        "--resume",
        "-q",
    ]);
    // Run 19 again, and the 4 runs after it.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ran 5 run(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for f in ["runs.csv", "points.csv", "timeseries.csv"] {
        assert!(read(&full.join(f)) == read(&cut.join(f)), "{f} differs");
    }
}

#[test]
fn a_torn_journal_line_is_dropped_and_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    ok(&["sweep", SMALL, "--out", s(&full), "--format", "csv", "-q"]);
    // Fake a kill mid-write: the journal holds 10 rows and half of the 11th.
    let torn = dir.path().join("torn");
    killed_copy(&full, &torn, 10, true);
    ok(&[
        "sweep",
        SMALL,
        "--out",
        s(&torn),
        "--format",
        "csv",
        "--resume",
        "-q",
    ]);
    assert_eq!(text(&full.join("runs.csv")), text(&torn.join("runs.csv")));
}

/// A journal row that is not its run's (here: run 3's seed edited, as a
/// corrupted or hand-edited file would have it) is refused, before any run
/// starts, with the run and the file named, and no finished file is written.
#[test]
fn a_journal_row_that_is_not_its_runs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    ok(&["sweep", SMALL, "--out", s(&full), "--format", "csv", "-q"]);
    let cut = dir.path().join("cut");
    killed_copy(&full, &cut, 10, false);
    let journal = cut.join("runs.partial.csv");
    let edited: String = text(&journal)
        .lines()
        .map(|l| {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            if cells[0] == "3" {
                cells[3] = "12345".into();
            }
            format!("{}\n", cells.join(","))
        })
        .collect();
    std::fs::write(&journal, edited).unwrap();
    let out = run(&[
        "sweep",
        SMALL,
        "--out",
        s(&cut),
        "--format",
        "csv",
        "--resume",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("runs.partial.csv: the row of run 3 says point 1, replicate 0, seed 12345"),
        "{err}"
    );
    assert!(!cut.join("runs.csv").exists());
}

#[test]
fn shards_merge_into_the_unsharded_sweep_and_gaps_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/series.toml",
        "--out",
        s(&full),
        "-q",
    ]);
    let shard = |i: usize| dir.path().join(format!("shard-{i}"));
    for i in 0..3 {
        let spec = format!("{i}/3");
        ok(&[
            "sweep",
            "tests/fixtures/sweeps/series.toml",
            "--out",
            s(&shard(i)),
            "--shard",
            &spec,
            "-q",
        ]);
    }
    // Incomplete: shard 1 is missing. Runs 8-15 of 24 were its slice.
    let partial = dir.path().join("partial");
    let out = run(&["merge", s(&shard(2)), s(&shard(0)), "--out", s(&partial)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing 8 run(s): 8-15 (shard 1/3)"), "{err}");
    assert!(!partial.join("runs.parquet").exists() && !partial.join("points.csv").exists());
    // Duplicates are named too.
    let dup = dir.path().join("dup");
    let out = run(&[
        "merge",
        s(&shard(0)),
        s(&shard(0)),
        s(&shard(1)),
        s(&shard(2)),
        "--out",
        s(&dup),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("8 duplicate run(s): 0, 1, 2"));
    // Complete, in any order: identical to the unsharded sweep.
    let merged = dir.path().join("merged");
    ok(&[
        "merge",
        s(&shard(2)),
        s(&shard(0)),
        s(&shard(1)),
        "--out",
        s(&merged),
    ]);
    for f in [
        "runs.parquet",
        "points.csv",
        "timeseries.parquet",
        "orders.parquet",
    ] {
        assert!(read(&full.join(f)) == read(&merged.join(f)), "{f} differs");
    }
    // A shard of another sweep is refused.
    let other = dir.path().join("other");
    ok(&["sweep", SMALL, "--out", s(&other), "--shard", "1/3", "-q"]);
    let out = run(&[
        "merge",
        s(&shard(0)),
        s(&other),
        "--out",
        s(&dir.path().join("mixed")),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another sweep"));
}

#[test]
fn one_run_of_a_sweep_is_reproduced_by_dibsim_run_with_its_seed_and_sets() {
    let dir = tempfile::tempdir().unwrap();
    let sw = dir.path().join("sw");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/series.toml",
        "--out",
        s(&sw),
        "--format",
        "csv",
        "-q",
    ]);
    let runs = text(&sw.join("runs.csv"));
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    // Run 17: point 5, replicate 2.
    let row: Vec<&str> = runs.lines().nth(18).unwrap().split(',').collect();
    assert_eq!((row[0], row[1], row[2]), ("17", "5", "2"));
    let seed = row[3];
    let mut args = vec![
        "run".to_string(),
        "tests/fixtures/levers/base.toml".into(),
        "--seed".into(),
        seed.into(),
    ];
    for (name, value) in header.iter().zip(&row).skip(6).take(3) {
        args.push("--set".into());
        args.push(format!("{name}={value}"));
    }
    let one = dir.path().join("one");
    args.extend(["--out".into(), s(&one).into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&args);
    // Its monthly series equals the sweep's rows of run 17, field for field.
    let series = text(&sw.join("timeseries.csv"));
    let from_sweep: Vec<String> = series
        .lines()
        .filter(|l| l.starts_with("17,5,2,"))
        .map(|l| l.splitn(4, ',').nth(3).unwrap().to_string())
        .collect();
    let alone: Vec<String> = text(&one.join("timeseries.csv"))
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert!(!alone.is_empty());
    assert_eq!(from_sweep, alone);
    // And the kept share metric equals the share `run` reports for 2025-2029.
    let summary: serde_json::Value =
        serde_json::from_str(&text(&one.join("summary.json"))).unwrap();
    let share = summary["shares"]["2025-2029"]["Alpha"].as_f64().unwrap();
    let col = header
        .iter()
        .position(|h| *h == "share_alpha_2025_2029")
        .unwrap();
    assert_eq!(row[col].parse::<f64>().unwrap(), share);
    // Its orders are the sweep's orders of run 17, line for line.
    let alone_orders = text(&one.join("orders.csv"));
    let alone_orders: Vec<&str> = alone_orders.lines().skip(1).collect();
    assert!(alone_orders.len() > 10, "{} orders", alone_orders.len());
    let swept = text(&sw.join("orders.csv"));
    let from_sweep: Vec<&str> = swept
        .lines()
        .filter_map(|l| l.strip_prefix("17,5,2,"))
        .collect();
    assert_eq!(from_sweep, alone_orders);
    // And so are its rows of orders.parquet, value for value.
    let swp = dir.path().join("swp");
    ok(&["sweep", SERIES, "--out", s(&swp), "-q"]);
    let mf = dibsim_experiments::sweep::Manifest::read(&swp).unwrap();
    let schema = mf.orders_schema.clone().expect("orders are kept");
    let mut parquet = Vec::new();
    dibsim_experiments::sweep::store::read_file(&swp.join("orders.parquet"), &schema, &mut |r| {
        if r[0].as_u64() == 17 {
            parquet.push(r);
        }
        Ok(())
    })
    .unwrap();
    let mut csv = csv::Reader::from_path(one.join("orders.csv")).unwrap();
    let names: Vec<String> = csv.headers().unwrap().iter().map(str::to_string).collect();
    assert!(names.iter().eq(schema.iter().skip(3).map(|c| &c.name)));
    let records: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(parquet.len(), records.len());
    use dibsim_experiments::sweep::store::Cell;
    for (p, c) in parquet.iter().zip(&records) {
        assert_eq!((p[1].as_u64(), p[2].as_u64()), (5, 2));
        for ((cell, field), name) in p[3..].iter().zip(c.iter()).zip(&names) {
            let same = match cell {
                Cell::U(x) => field.parse::<u64>().ok() == Some(*x),
                Cell::I(x) => field.parse::<i64>().ok() == Some(*x),
                Cell::F(x) if x.is_nan() => field.is_empty(),
                Cell::F(x) => field.parse::<f64>().ok() == Some(*x),
                Cell::B(x) => field.parse::<bool>().ok() == Some(*x),
                Cell::T(x) => x == field,
                Cell::Null => field.is_empty(),
            };
            assert!(same, "{name}: parquet {cell:?}, orders.csv `{field}`");
        }
    }
}

#[test]
fn sampled_designs_cover_their_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lhs");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/lhs.toml",
        "--out",
        s(&out),
        "--format",
        "csv",
        "-q",
    ]);
    let points = text(&out.join("points.csv"));
    let xs: Vec<f64> = points
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(xs.len(), 6);
    // One point in each sixth of [0.25, 1].
    let mut strata: Vec<usize> = xs.iter().map(|x| ((x - 0.25) / 0.125) as usize).collect();
    strata.sort();
    assert_eq!(strata, (0..6).collect::<Vec<_>>());
    // Without common random numbers every run has its own seed.
    let runs = text(&out.join("runs.csv"));
    let mut seeds: Vec<&str> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 12);
}

#[test]
fn dry_run_counts_runs_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dry");
    let o = ok(&[
        "sweep",
        SMALL,
        "--dry-run",
        "--shard",
        "1/4",
        "--out",
        s(&out),
    ]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("8 point(s) x 3 replicate(s) = 24 runs"),
        "{said}"
    );
    assert!(said.contains("runs 6 (6..12)"), "{said}");
    assert!(said.contains("estimated time"), "{said}");
    assert!(
        said.contains("dibsim run ")
            && said.contains(" --seed ")
            && said.contains("--set policy.approval_time_factor=1.0"),
        "{said}"
    );
    assert!(!out.exists());
}

#[test]
fn bad_sweep_files_are_refused_with_the_problem_named() {
    let cases: &[(&str, &[&str])] = &[
        (
            "bad_unknown_path",
            &["policy.approval_speed", "unknown field"],
        ),
        (
            "bad_unknown_element",
            &["exporters.Gamma", "no element named `Gamma`"],
        ),
        (
            "bad_empty_axis",
            &["policy.approval_time_factor", "`values` is empty"],
        ),
        ("bad_reversed_bounds", &["bounds [1, 0.25] are reversed"]),
        ("bad_reversed_range", &["range from 1 to 0.5 is reversed"]),
        ("bad_zero_replicates", &["`replicates` must be at least 1"]),
        ("bad_unknown_key", &["unknown field `replicate`"]),
        ("bad_unknown_metric", &["unknown metric `market_share`"]),
        (
            "bad_bad_value",
            &["policy.approval_time_factor", "-2", "must be > 0"],
        ),
        ("bad_zip_lengths", &["equal length"]),
        ("bad_missing_base", &["nowhere.toml", "no such file"]),
        ("bad_window", &["window [2030, 2050] is outside"]),
        (
            "bad_axis_window",
            &["axis `months` = 6", "window [2020, 2021] is outside"],
        ),
        (
            "bad_calendar_combo",
            &[
                "axis `start_year` = 2015 with `months` = 121",
                "window [2026, 2030] is outside",
            ],
        ),
        (
            "bad_variant_window",
            &["variant", "short.toml", "window [2026, 2030] is outside"],
        ),
        ("bad_sobol_samples", &["at most 65536 samples"]),
        ("bad_linebreak", &["`description`", "line break"]),
        (
            "bad_uncertain_reason",
            &["model.cancel_prob", "`reason` must say why"],
        ),
        (
            "bad_uncertain_design",
            &["[[uncertain]]", "\"saltelli\" or \"morris\""],
        ),
        (
            "bad_loguniform",
            &["model.cancel_prob", "loguniform needs positive bounds"],
        ),
        ("bad_variants_axes", &["`variants`", "cannot be combined"]),
        ("bad_saltelli_samples", &["needs `samples`"]),
        (
            "bad_too_many_points",
            &["`samples` make 400000000 design points", "limit of 1000000"],
        ),
        (
            "bad_too_many_combinations",
            &["1002001 design points", "limit of 1000000"],
        ),
        (
            "bad_morris_trajectories",
            &["trajectories", "1600000 design points"],
        ),
    ];
    for (name, needles) in cases {
        let file = format!("tests/fixtures/sweeps/{name}.toml");
        let out = run(&["sweep", &file, "--dry-run"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(err.contains(&file), "{name}: file not named: {err}");
        for n in *needles {
            assert!(err.contains(n), "{name}: `{n}` not in: {err}");
        }
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    for (shard, needle) in [
        ("3/2", "I must be below N"),
        ("1", "expected I/N"),
        ("0/0", "N must be at least 1"),
    ] {
        let out = run(&["sweep", SMALL, "--shard", shard, "--dry-run"]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{shard}"
        );
    }
    let out = run(&["sweep", "tests/fixtures/sweeps/nowhere.toml"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read sweep file"));
}

#[test]
fn resume_refuses_a_folder_of_another_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    ok(&["sweep", SMALL, "--out", s(&out), "-q"]);
    let o = run(&[
        "sweep",
        "tests/fixtures/sweeps/lhs.toml",
        "--out",
        s(&out),
        "--resume",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("holds another sweep"), "{err}");
    // It says what differs (a user saw "it was `x` ...; this is `x` ...").
    assert!(
        err.contains("name `small` there") && err.contains("axes [policy.approval_time_factor"),
        "{err}"
    );
    // A change no listed field shows (here, the description) still says
    // where to look.
    let fresh = dir.path().join("fresh");
    ok(&["sweep", SMALL, "--out", s(&fresh), "-q"]);
    let o = run(&[
        "sweep",
        "tests/fixtures/sweeps/small_described.toml",
        "--out",
        s(&fresh),
        "--resume",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    // Only that: no listed field differs.
    assert!(
        err.contains(
            "of it): the sweep file or a scenario it reads changed in a field not listed here"
        ),
        "{err}"
    );
    let o = run(&[
        "merge",
        s(&dir.path().join("nothing")),
        "--out",
        s(&dir.path().join("m")),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a sweep output folder"));
}

/// Found by a user: an axis of 1.0 and 0.5 was written "1", and polars,
/// which infers a column's type from its first hundred values, read the
/// column as integers and failed at "0.5". Float columns of runs.csv and
/// points.csv keep their ".0"; the per-month table stays as `dibsim run`
/// writes it.
#[test]
fn whole_floats_in_runs_and_points_keep_their_point() {
    let dir = tempfile::tempdir().unwrap();
    let sw = dir.path().join("sw");
    ok(&["sweep", SMALL, "--out", s(&sw), "--format", "csv", "-q"]);
    for file in ["runs.csv", "points.csv"] {
        let body = text(&sw.join(file));
        let mut lines = body.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = header
            .iter()
            .position(|h| *h == "policy.approval_time_factor")
            .unwrap();
        let values: std::collections::BTreeSet<String> = lines
            .map(|l| l.split(',').nth(col).unwrap().to_string())
            .collect();
        assert_eq!(
            values.into_iter().collect::<Vec<_>>(),
            ["0.5", "1.0"],
            "{file}"
        );
        // The counts stay integers.
        let runs = header
            .iter()
            .position(|h| *h == "runs" || *h == "replicate");
        if let Some(i) = runs {
            let row = body.lines().nth(1).unwrap();
            assert!(
                !row.split(',').nth(i).unwrap().contains('.'),
                "{file}: {row}"
            );
        }
    }
}
