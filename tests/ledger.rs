//! The order ledger (`orders.csv`) and what `compare --out` derives from it
//! and from the delivery accounts (`lags.csv`, `attribution.csv`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

fn rows(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    (header, r.records().map(|x| x.unwrap()).collect())
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn month(r: &csv::StringRecord, i: usize) -> Option<i64> {
    (!r[i].is_empty()).then(|| r[i].parse().unwrap())
}

#[test]
fn the_ledger_conserves_deliveries_and_orders_its_months() {
    for scenario in ["baseline", "strategy-2026"] {
        let dir = tempfile::tempdir().unwrap();
        common::ok(&[
            "run",
            scenario,
            "--seed",
            "4",
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        let (h, orders) = rows(&dir.path().join("orders.csv"));
        assert_eq!(h, dibsim_experiments::output::ORDER_COLUMNS);
        assert!(
            orders.len() > 1000,
            "{scenario}: only {} orders",
            orders.len()
        );
        // Per exporter, what the ledger delivered is what the series says.
        let (th, series) = rows(&dir.path().join("timeseries.csv"));
        let mut want: BTreeMap<String, f64> = BTreeMap::new();
        for r in &series {
            *want.entry(r[col(&th, "exporter")].to_string()).or_default() +=
                r[col(&th, "deliveries_tiv")].parse::<f64>().unwrap();
        }
        let mut got: BTreeMap<String, f64> = BTreeMap::new();
        for r in &orders {
            *got.entry(r[col(&h, "exporter")].to_string()).or_default() +=
                r[col(&h, "delivered_tiv")].parse::<f64>().unwrap();
        }
        for (e, w) in &want {
            let g = got.get(e).copied().unwrap_or(0.0);
            assert!(
                (g - w).abs() <= 1e-9 * w.max(1.0),
                "{scenario} {e}: ledger {g} series {w}"
            );
        }
        // Every order's months in order, and outcomes that fit them.
        let (p, d, en, f, l) = (
            col(&h, "placed_month"),
            col(&h, "decision_month"),
            col(&h, "entry_month"),
            col(&h, "first_delivery_month"),
            col(&h, "last_delivery_month"),
        );
        let mut seen = BTreeMap::new();
        for r in &orders {
            let chain: Vec<i64> = [
                Some(r[p].parse().unwrap()),
                month(r, d),
                month(r, en),
                month(r, f),
                month(r, l),
            ]
            .into_iter()
            .flatten()
            .collect();
            assert!(
                chain.windows(2).all(|w| w[0] <= w[1]),
                "months out of order: {r:?}"
            );
            let outcome = &r[col(&h, "outcome")];
            *seen.entry(outcome.to_string()).or_insert(0) += 1;
            match outcome {
                "open" => assert!(month(r, d).is_none(), "{r:?}"),
                "denied" => assert!(month(r, d).is_some() && month(r, en).is_none(), "{r:?}"),
                "cancelled" => assert!(month(r, f).is_none(), "{r:?}"),
                "approved" => assert!(month(r, d).is_some(), "{r:?}"),
                other => panic!("outcome {other}"),
            }
            if let Some(last) = month(r, l) {
                let realised: f64 = r[col(&h, "realised_wait_months")].parse().unwrap();
                assert_eq!(realised, (last - r[p].parse::<i64>().unwrap()) as f64);
            }
        }
        for o in ["approved", "cancelled", "open"] {
            assert!(
                seen.get(o).copied().unwrap_or(0) > 0,
                "{scenario}: no {o} order: {seen:?}"
            );
        }
    }
}

#[test]
fn compare_attributes_the_share_change_and_reports_lags() {
    let dir = tempfile::tempdir().unwrap();
    common::ok(&[
        "compare",
        "baseline",
        "strategy-2026",
        "--replicates",
        "4",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let (ch, cmp) = rows(&dir.path().join("compare.csv"));
    let delta = cmp
        .iter()
        .find(|r| &r[0] == "strategy-2026" && &r[1] == "United States")
        .map(|r| r[col(&ch, "delta_mean")].parse::<f64>().unwrap())
        .unwrap();
    let (h, att) = rows(&dir.path().join("attribution.csv"));
    let share = |r: &csv::StringRecord| r[col(&h, "delta_share_pp")].parse::<f64>().unwrap();
    let all: f64 = att.iter().filter(|r| &r[2] == "all").map(share).sum();
    assert!(
        (all - 100.0 * delta).abs() < 1e-9,
        "all {all} vs compare {}",
        100.0 * delta
    );
    for dim in ["region", "category"] {
        let parts: f64 = att.iter().filter(|r| &r[2] == dim).map(share).sum();
        assert!(
            (parts - all).abs() < 1e-9,
            "{dim} parts {parts} vs all {all}"
        );
    }
    assert!(all > 0.0, "strategy-2026 should raise the US share");
    let (lh, lags) = rows(&dir.path().join("lags.csv"));
    let us = lags
        .iter()
        .find(|r| &r[0] == "baseline" && &r[1] == "United States")
        .unwrap();
    let first: f64 = us[col(&lh, "to_first_delivery_months")].parse().unwrap();
    let last: f64 = us[col(&lh, "to_last_delivery_months")].parse().unwrap();
    assert!(
        first > 0.0 && last > first,
        "US lags first {first} last {last}"
    );
}
