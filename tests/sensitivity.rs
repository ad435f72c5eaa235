//! Sensitivity sweeps end to end: designs "saltelli" and "morris" over
//! [[uncertain]] inputs, `dibsim analyze` (sensitivity.csv), `dibsim
//! discover` (PRIM), determinism across threads and reruns, and the report.

mod common;

use std::path::Path;

use common::{ok, read, run};

const SALTELLI: &str = "tests/fixtures/sweeps/saltelli.toml";
const MORRIS: &str = "tests/fixtures/sweeps/morris.toml";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn a_saltelli_sweep_is_laid_out_as_salib_and_analysed_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    ok(&["--threads", "1", "sweep", SALTELLI, "--out", s(&one), "-q"]);
    ok(&["--threads", "2", "sweep", SALTELLI, "--out", s(&two), "-q"]);
    // SALib's layout: 2 lever values x N (D + 2) rows (N = 32, D = 3).
    let points = rows(&one.join("points.csv"));
    assert_eq!(points.len(), 2 * 32 * 5);
    // Within each base sample, row j+1 differs from row 0 (A) in input j
    // only, and the last row (B) in every input.
    let x = |r: &csv::StringRecord| -> Vec<f64> { (2..5).map(|i| r[i].parse().unwrap()).collect() };
    for i in 0..32 {
        let a = x(&points[5 * i]);
        for j in 0..3 {
            let ab = x(&points[5 * i + 1 + j]);
            for k in 0..3 {
                assert_eq!(a[k] == ab[k], k != j, "sample {i} row {j} input {k}");
            }
        }
    }
    ok(&["--threads", "1", "analyze", s(&one)]);
    ok(&["--threads", "2", "analyze", s(&two)]);
    let (a, b) = (
        read(&one.join("sensitivity.csv")),
        read(&two.join("sensitivity.csv")),
    );
    assert!(a == b, "sensitivity.csv differs between 1 and 2 threads");
    ok(&["analyze", s(&one)]);
    assert!(read(&one.join("sensitivity.csv")) == a, "a rerun differs");
    let sens = rows(&one.join("sensitivity.csv"));
    for index in ["S1", "ST", "src", "share_of_run_variance"] {
        assert!(sens.iter().any(|r| &r[3] == index), "no {index} rows");
    }
    // Groups: each lever value, and the difference of the second from the first.
    let groups: std::collections::BTreeSet<&str> = sens.iter().map(|r| r.get(1).unwrap()).collect();
    assert_eq!(groups.len(), 3, "{groups:?}");
    assert!(groups.iter().any(|g| g.contains("minus")));
    // Indices are finite, and ST at least about S1.
    for r in sens.iter().filter(|r| &r[3] == "ST") {
        let st: f64 = r[4].parse().unwrap();
        let s1: f64 = sens
            .iter()
            .find(|q| q[0] == r[0] && q[1] == r[1] && q[2] == r[2] && &q[3] == "S1")
            .map(|q| q[4].parse().unwrap())
            .unwrap();
        assert!(st.is_finite() && s1.is_finite());
        assert!(st >= s1 - 0.1, "{r:?}: ST {st} < S1 {s1}");
    }
    // In this world buyers' weight of time drives the focal share, the
    // competitor's approval time matters less, and cancellations (none are
    // overdue here) not at all: the ranking must say so, intervals apart.
    let st = |param: &str| -> (f64, f64, f64) {
        let r = sens
            .iter()
            .find(|r| &r[3] == "ST" && &r[2] == param && !r[1].contains("minus"))
            .unwrap();
        (
            r[4].parse().unwrap(),
            r[5].parse().unwrap(),
            r[6].parse().unwrap(),
        )
    };
    let (time, beta, cancel) = (
        st("allies.*.beta_time"),
        st("exporters.Beta.approval_mean_months"),
        st("model.cancel_prob"),
    );
    assert!(
        time.1 > beta.2,
        "beta_time {time:?} vs Beta's approvals {beta:?}"
    );
    assert!(beta.1 > 0.0, "Beta's approvals {beta:?}");
    assert!(cancel.0.abs() < 0.01, "cancel_prob {cancel:?}");
    // Discovery on the same folder, and the report of it all.
    // A threshold no point passes says so, with the metric's range.
    let none = run(&["discover", s(&one), "--metric", "share", "--below", "-.5"]);
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(!none.status.success());
    assert!(
        err.contains("below -0.5")
            && err.contains("nothing to discover")
            && err.contains("the metric ranges"),
        "{err}"
    );
    ok(&["discover", s(&one), "--metric", "share", "--below", "0.5"]);
    let j: serde_json::Value = serde_json::from_slice(&read(&one.join("discovery.json"))).unwrap();
    assert!(j["coverage"].as_f64().unwrap() > 0.0);
    assert!(!rows(&one.join("discovery.csv")).is_empty());
    ok(&["report", s(&one)]);
    let html = String::from_utf8(read(&one.join("report.html"))).unwrap();
    for id in ["sensitivity-0", "discovery-prim"] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "no #{id} in the report"
        );
    }
}

#[test]
fn a_morris_sweep_gives_elementary_effects() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    ok(&["sweep", MORRIS, "--out", s(&out), "-q"]);
    assert_eq!(rows(&out.join("points.csv")).len(), 12 * 4);
    ok(&["analyze", s(&out), "--metric", "share"]);
    let sens = rows(&out.join("sensitivity.csv"));
    for index in ["mu", "mu_star", "sigma"] {
        assert_eq!(sens.iter().filter(|r| &r[3] == index).count(), 3, "{index}");
    }
    for r in sens.iter().filter(|r| &r[3] == "mu_star") {
        let (mu_star, mu): (f64, f64) = (
            r[4].parse().unwrap(),
            sens.iter()
                .find(|q| q[2] == r[2] && &q[3] == "mu")
                .map(|q| q[4].parse().unwrap())
                .unwrap(),
        );
        assert!(mu_star >= mu.abs() - 1e-12, "{r:?}");
    }
}

/// Without `--metric`, a metric undefined at some design point is left out
/// with a line naming it and the rest analysed; named, it is an error and
/// nothing is written.
#[test]
fn analyze_leaves_out_a_metric_undefined_somewhere_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/morris-undefined.toml",
        "--out",
        s(&out),
        "-q",
    ]);
    let undefined = "realised_wait_months_alpha_2021_2021";
    let done = run(&["analyze", s(&out)]);
    assert!(done.status.success(), "{done:?}");
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains(&format!("skipped metric {undefined}")),
        "{err}"
    );
    let sens = rows(&out.join("sensitivity.csv"));
    let metrics: std::collections::BTreeSet<&str> = sens.iter().map(|r| &r[0]).collect();
    assert!(!metrics.contains(undefined), "{metrics:?}");
    for kept in [
        "realised_wait_months_beta_2021_2021",
        "share_alpha_2021_2021",
        "share_beta_2021_2021",
    ] {
        assert!(metrics.contains(kept), "{kept} missing: {metrics:?}");
    }
    // A metric's intervals do not depend on which others were asked for.
    let alone = dir.path().join("alone.csv");
    ok(&["analyze", s(&out), "--metric", "share", "--out", s(&alone)]);
    let share_rows = |rows: Vec<csv::StringRecord>| -> Vec<csv::StringRecord> {
        rows.into_iter()
            .filter(|r| r[0].starts_with("share_"))
            .collect()
    };
    assert_eq!(share_rows(rows(&alone)), share_rows(sens.clone()));
    let named = dir.path().join("named.csv");
    let refused = run(&[
        "analyze",
        s(&out),
        "--metric",
        "realised_wait_months",
        "--out",
        s(&named),
    ]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains(undefined) && err.contains("point"), "{err}");
    assert!(!named.exists());
}

#[test]
fn analyze_refuses_what_it_cannot_analyse() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/small.toml",
        "--out",
        s(&plain),
        "-q",
    ]);
    let out = run(&["analyze", s(&plain)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a sensitivity sweep"), "{err}");
    let out = run(&["analyze", s(&dir.path().join("nowhere"))]);
    assert!(!out.status.success());
    let out = run(&["discover", s(&plain), "--metric", "no_such", "--below", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no_such"), "{err}");
}

/// `analyze` and `discover` are functions of the finished sweep folder: on
/// one folder of each design, 1 thread, 2 threads and a rerun write the same
/// bytes (sensitivity.csv, discovery.csv, discovery.json), and the bootstrap
/// follows the sweep's seed (another seed in the manifest moves the
/// intervals, not the estimates).
#[test]
fn analyze_and_discover_write_the_same_bytes_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    // Thresholds near the lower quartile of the share.
    let cases: [(&str, &[&str]); 3] = [
        (SALTELLI, &["--metric", "share", "--below", "0.05"]),
        (
            SALTELLI,
            &["--metric", "share", "--delta", "--below", "0.02"],
        ),
        (MORRIS, &["--metric", "share", "--below", "0.02"]),
    ];
    let mut swept = std::collections::BTreeMap::new();
    for (i, (fixture, discover)) in cases.iter().enumerate() {
        let out = swept
            .entry(*fixture)
            .or_insert_with(|| {
                let out = dir.path().join(format!("sweep-{i}"));
                ok(&["sweep", fixture, "--out", s(&out), "-q"]);
                out
            })
            .clone();
        let files = ["sensitivity.csv", "discovery.csv", "discovery.json"];
        let mut first: Option<Vec<Vec<u8>>> = None;
        for threads in ["1", "2", "1"] {
            ok(&["--threads", threads, "analyze", s(&out)]);
            let mut args = vec!["--threads", threads, "discover", s(&out)];
            args.extend_from_slice(discover);
            ok(&args);
            let bytes: Vec<Vec<u8>> = files.iter().map(|f| read(&out.join(f))).collect();
            // Nothing left over to compare against by accident.
            for f in files {
                std::fs::remove_file(out.join(f)).unwrap();
            }
            match &first {
                None => first = Some(bytes),
                Some(a) => {
                    for (f, (x, y)) in files.iter().zip(a.iter().zip(&bytes)) {
                        assert!(
                            x == y,
                            "{fixture} {discover:?}: {f} differs on {threads} thread(s)"
                        );
                    }
                }
            }
        }
        let first = first.unwrap();
        // Not a trivial box: PRIM peeled (on the Saltelli design; on the
        // Morris grid a linear quantile lands on a tie and removes nothing,
        // a departure from EMA that prim.rs documents), and the bootstrap
        // gave intervals.
        let trajectory = csv::Reader::from_reader(&first[1][..]).records().count();
        if *fixture == SALTELLI {
            assert!(trajectory > 2, "{fixture} {discover:?}: {trajectory} boxes");
        }
        let sens: Vec<csv::StringRecord> = csv::Reader::from_reader(&first[0][..])
            .records()
            .map(|r| r.unwrap())
            .collect();
        assert!(
            sens.iter().any(|r| r[5] != r[6] && !r[5].is_empty()),
            "{fixture}: no interval in sensitivity.csv"
        );
    }
    // A delta threshold no design row passes names the difference, not the
    // metric (a user read the metric's range as the delta's).
    let out = &swept[SALTELLI];
    let none = run(&[
        "discover",
        s(out),
        "--metric",
        "share",
        "--delta",
        "--below",
        "-1e1",
    ]);
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(
        !none.status.success()
            && err.contains("the difference in")
            && err.contains("the difference ranges"),
        "{err}"
    );
    // The bootstrap's seed is the sweep's: the same folder with another
    // seed in its manifest has the same estimates and other intervals.
    ok(&["analyze", s(out)]);
    let a = rows(&out.join("sensitivity.csv"));
    let mf = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&mf).unwrap();
    json["seed"] = serde_json::json!(json["seed"].as_u64().unwrap() + 1);
    std::fs::write(out.join("manifest.json"), json.to_string()).unwrap();
    ok(&["analyze", s(out)]);
    let b = rows(&out.join("sensitivity.csv"));
    assert_eq!(a.len(), b.len());
    let key = |r: &csv::StringRecord| (0..5).map(|i| r[i].to_string()).collect::<Vec<_>>();
    assert!(a.iter().zip(&b).all(|(x, y)| key(x) == key(y)));
    assert!(
        a.iter().zip(&b).any(|(x, y)| x[5] != y[5] || x[6] != y[6]),
        "the intervals do not depend on the sweep's seed"
    );
}
