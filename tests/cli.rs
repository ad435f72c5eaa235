//! End-to-end tests of the real binary's main jobs: run, compare, calibrate.

mod common;
use common::{ok, read};

#[test]
fn baseline_timeseries_is_identical_for_1_and_2_threads_and_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    // 1 thread, 2 threads, and 2 threads again (a rerun).
    let outs: Vec<_> = ["1", "2", "2"]
        .iter()
        .enumerate()
        .map(|(k, threads)| {
            let out = dir.path().join(k.to_string());
            ok(&[
                "--threads",
                threads,
                "run",
                "--seed",
                "9",
                "--out",
                out.to_str().unwrap(),
            ]);
            out
        })
        .collect();
    let a = read(&outs[0].join("timeseries.csv"));
    assert!(a.len() > 10_000);
    assert_eq!(a, read(&outs[1].join("timeseries.csv")), "1 vs 2 threads");
    assert_eq!(a, read(&outs[2].join("timeseries.csv")), "rerun");
    // A different seed gives a different history.
    let d = dir.path().join("d");
    ok(&["run", "--seed", "10", "--out", d.to_str().unwrap()]);
    assert_ne!(a, read(&d.join("timeseries.csv")));
}

#[test]
fn timeseries_has_the_documented_columns_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    ok(&["run", "--out", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(read(&dir.path().join("timeseries.csv"))).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    for col in [
        "month",
        "year",
        "exporter",
        "orders_tiv",
        "deliveries_tiv",
        "revenue_musd",
        "backlog_domestic_tiv",
        "backlog_foreign_tiv",
        "capacity_tiv",
        "production_tiv",
        "quoted_wait_months",
        "realised_wait_months",
        "cancellations",
        "denials",
        "share_60m",
    ] {
        assert!(header.contains(&col), "missing column {col}");
    }
    // 192 months x 13 exporters + header.
    assert_eq!(text.lines().count(), 192 * 13 + 1);
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&dir.path().join("summary.json"))).unwrap();
    assert_eq!(summary["seed"], 1);
    assert!(summary["parameters"]["exporters"].as_array().unwrap().len() == 13);
    let us = summary["shares"]["2020-2024"]["United States"]
        .as_f64()
        .unwrap();
    assert!(us > 0.3 && us < 0.55, "US share 2020-24 {us}");
}

#[test]
fn compare_writes_intervals_for_every_scenario_and_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&[
        "compare",
        "baseline",
        "faster-approvals",
        "strategy-2026",
        "--replicates",
        "4",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("strategy-2026") && stdout.contains("faster-approvals"),
        "{stdout}"
    );
    let text = String::from_utf8(read(&dir.path().join("compare.csv"))).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "scenario,exporter,share_mean,share_lo,share_hi,delta_mean,delta_lo,delta_hi,replicates"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3 * 13);
    for r in &rows {
        let v: Vec<f64> = r[2..8].iter().map(|x| x.parse().unwrap()).collect();
        assert!(v[1] <= v[0] && v[0] <= v[2], "share interval {r:?}");
        assert!(v[4] <= v[3] && v[3] <= v[5], "delta interval {r:?}");
        assert_eq!(r[8], "4");
        if r[0] == "baseline" {
            assert_eq!(v[3], 0.0);
        }
    }
    let total: f64 = rows
        .iter()
        .filter(|r| r[0] == "baseline")
        .map(|r| r[2].parse::<f64>().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-9);
}

/// docs/model.md s.8: the bundled baseline meets every calibration target over
/// 20 replicates (`calibrate --check` exits non-zero on any miss).
#[test]
fn baseline_meets_the_calibration_targets() {
    let out = ok(&["calibrate", "baseline", "--replicates", "20", "--check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("MISSED"), "{stdout}");
    assert!(
        stdout.contains("world deliveries") && stdout.contains("focal utilisation"),
        "{stdout}"
    );
}
