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

/// The ledger delivers what the series does, for every exporter in every
/// month, and each order's deliveries fall in its own delivery months.
///
/// Per-month deliveries are not columns of the ledger: an order delivers
/// over many months, and `orders.csv` keeps (as SIPRI's register does) its
/// total `delivered_tiv` and its first and last delivery months. Rather
/// than add a per-shipment file that only this check would read, the test
/// steps the same run month by month through the library and takes the
/// ledger (`World::ledger`, open orders included) after every month: the
/// change of an order's `delivered_tiv` over month t is exactly the TIV the
/// ledger attributes to month t. That walk is tied to the binary's output
/// byte for byte (its final ledger is `orders.csv`, its recorder
/// `timeseries.csv`), so the months checked are those of the files a user
/// reads; the sums per exporter and month must then equal
/// `timeseries.csv`'s `deliveries_tiv` to 1e-9 relative (1e-9 TIV when the
/// month delivered nothing). The order of every order's months, and the
/// outcomes, are checked on `orders.csv` itself.
#[test]
fn the_ledger_conserves_deliveries_and_orders_its_months() {
    use dibsim_experiments::output::{orders_csv, timeseries_csv};
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
        // Per exporter and month, what the series says was delivered.
        let (th, series) = rows(&dir.path().join("timeseries.csv"));
        let mut want: BTreeMap<(String, i64), f64> = BTreeMap::new();
        for r in &series {
            let key = (
                r[col(&th, "exporter")].to_string(),
                r[col(&th, "month")].parse().unwrap(),
            );
            let old = want.insert(key, r[col(&th, "deliveries_tiv")].parse().unwrap());
            assert!(old.is_none(), "{scenario}: two series rows for {r:?}");
        }
        // The same run, a month at a time: what each order delivered in
        // each month, by differencing the ledger.
        let l = dibsim_experiments::loader::load(scenario, &[]).unwrap();
        let p = dibsim_experiments::prepare(&l.scenario).unwrap();
        let cfg = std::sync::Arc::clone(&p.cfg);
        let mut w = dibsim_core::World::new(std::sync::Arc::clone(&cfg), p.behaviours, 4).unwrap();
        w.keep_ledger();
        let exporter_of = |line: u32| {
            cfg.scenario.exporters[cfg.lines[line as usize].exporter]
                .name
                .clone()
        };
        let mut delivered: BTreeMap<u64, f64> = BTreeMap::new();
        let mut got: BTreeMap<(String, i64), f64> = BTreeMap::new();
        // Per order: the months in which it delivered.
        let mut months_of: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
        while !w.finished() {
            let t = w.month() as i64;
            w.step().unwrap();
            for o in w.ledger().unwrap() {
                let before = delivered.insert(o.seq, o.delivered_reported).unwrap_or(0.0);
                let d = o.delivered_reported - before;
                assert!(
                    d >= 0.0,
                    "{scenario}: order {} delivered {d} in month {t}",
                    o.seq
                );
                if d > 0.0 {
                    assert!(
                        t >= 0,
                        "{scenario}: order {} counted warm-up month {t}",
                        o.seq
                    );
                    *got.entry((exporter_of(o.line), t)).or_default() += d;
                    months_of.entry(o.seq).or_default().push(t);
                }
            }
        }
        let last = w.ledger().unwrap();
        assert!(
            orders_csv(&cfg, &last).as_bytes() == common::read(&dir.path().join("orders.csv")),
            "{scenario}: the stepped run's ledger is not the binary's orders.csv"
        );
        assert!(
            timeseries_csv(w.recorder()).as_bytes()
                == common::read(&dir.path().join("timeseries.csv")),
            "{scenario}: the stepped run is not the binary's run"
        );
        let mut checked = 0;
        for ((e, t), w) in &want {
            let g = got.remove(&(e.clone(), *t)).unwrap_or(0.0);
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{scenario} {e} month {t}: ledger {g} series {w}"
            );
            checked += (*w > 0.0) as usize;
        }
        assert!(
            got.is_empty(),
            "{scenario}: deliveries outside the series: {got:?}"
        );
        assert!(
            checked > 500,
            "{scenario}: only {checked} exporter-months delivered"
        );
        // Each order delivered within its delivery months: first in its
        // first delivery month (when reported), last in its last.
        for o in &last {
            let Some(ms) = months_of.get(&o.seq) else {
                assert!(
                    o.delivered_reported == 0.0 && !matches!(o.last_delivery, Some(l) if l >= 0),
                    "{scenario}: {o:?} delivered in no month"
                );
                continue;
            };
            let first = o
                .first_delivery
                .expect("a delivering order has a first delivery");
            assert!(
                first as i64 <= ms[0],
                "{scenario}: {o:?} delivered in {ms:?}"
            );
            if first >= 0 {
                assert_eq!(ms[0], first as i64, "{scenario}: {o:?}");
            }
            match o.last_delivery {
                Some(l) => assert_eq!(*ms.last().unwrap(), l as i64, "{scenario}: {o:?}"),
                None => assert!(o.outcome == dibsim_core::Outcome::Approved, "{o:?}"),
            }
        }
        // Per exporter, orders.csv's totals are the series' too.
        let mut total: BTreeMap<String, f64> = BTreeMap::new();
        for ((e, _), w) in &want {
            *total.entry(e.clone()).or_default() += w;
        }
        let mut listed: BTreeMap<String, f64> = BTreeMap::new();
        for r in &orders {
            *listed
                .entry(r[col(&h, "exporter")].to_string())
                .or_default() += r[col(&h, "delivered_tiv")].parse::<f64>().unwrap();
        }
        for (e, w) in &total {
            let g = listed.get(e).copied().unwrap_or(0.0);
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
