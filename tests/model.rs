//! Model-level tests through the library the binary uses: conservation,
//! determinism, forks, levers and the strategy effect.

mod common;

use std::sync::Arc;

use dibsim_core::run::{run_group, run_one, Prepared};
use dibsim_core::stats::Interval;
use dibsim_core::World;
use dibsim_experiments::compare::run_compare;
use dibsim_experiments::loader;
use dibsim_experiments::output::timeseries_csv;
use dibsim_experiments::prepare;

fn load(arg: &str, sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let l = loader::load(arg, &sets).unwrap_or_else(|e| panic!("{arg}: {e:#}"));
    prepare(&l.scenario).unwrap()
}

/// For every line at every month of every bundled scenario: TIV ordered =
/// produced + open + cancelled + denied; no negative capacity or backlog;
/// shares sum to 1.
#[test]
fn conservation_in_every_bundled_scenario() {
    for (name, _) in loader::BUNDLED {
        let p = load(name, &[]);
        let mut w = World::new(Arc::clone(&p.cfg), p.behaviours.clone(), 7).unwrap();
        while !w.finished() {
            w.step().unwrap();
            for (li, gap) in w.conservation_gaps().into_iter().enumerate() {
                let line = &w.lines()[li];
                let scale = line.ordered.max(1.0);
                assert!(
                    gap.abs() <= 1e-6 * scale,
                    "{name} month {} line {li}: gap {gap}",
                    w.month()
                );
                assert!(line.capacity >= 0.0, "{name}: negative capacity");
                assert!(
                    line.backlog_domestic >= -1e-9,
                    "{name}: negative domestic backlog"
                );
                assert!(
                    line.backlog_foreign >= -1e-6 * scale,
                    "{name}: negative foreign backlog {}",
                    line.backlog_foreign
                );
            }
        }
        let rec = w.recorder();
        for t in 0..rec.months() {
            let total: f64 = (0..rec.exporter_count())
                .map(|e| rec.get(t, e).share_60m)
                .sum();
            assert!(
                (total - 1.0).abs() < 1e-9,
                "{name} month {t}: shares sum to {total}"
            );
            for e in 0..rec.exporter_count() {
                let m = rec.get(t, e);
                assert!(m.backlog_foreign_tiv >= 0.0 && m.capacity_tiv >= 0.0);
                assert!(m.realised_wait_months.is_nan() || m.realised_wait_months >= 0.0);
                assert!(m.quoted_wait_months.is_nan() || m.quoted_wait_months >= 0.0);
            }
        }
        let share = rec.share(0, rec.months());
        assert!((share.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}

/// Forked runs (shared history simulated once) equal runs from scratch.
#[test]
fn forks_equal_runs_from_scratch() {
    let prepared: Vec<Prepared> = loader::BUNDLED.iter().map(|(n, _)| load(n, &[])).collect();
    let group: Vec<&Prepared> = prepared.iter().collect();
    assert!(group
        .iter()
        .all(|p| dibsim_core::run::forkable(&prepared[0].cfg, &p.cfg)));
    let forked = run_group(&group, 42);
    for (p, f) in prepared.iter().zip(forked) {
        let scratch = run_one(p, 42).unwrap();
        assert_eq!(
            timeseries_csv(&f.unwrap()),
            timeseries_csv(&scratch),
            "{} forked differs from scratch",
            p.cfg.scenario.name
        );
    }
}

/// A world large enough to decide in parallel within a month gives the same
/// bytes on 1 and 2 threads.
#[test]
fn parallel_decide_is_thread_count_independent() {
    let s = common::world_with_many_allies();
    let p = prepare(&s).unwrap();
    let run_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| timeseries_csv(&run_one(&p, 3).unwrap()))
    };
    assert_eq!(run_on(1), run_on(2));
}

/// US share of 2026-2035 deliveries, baseline vs lever, with common seeds:
/// the interval of the paired difference must lie above zero.
fn lever_raises_focal_share(base: &str, base_sets: &[&str], lever_sets: &[&str]) -> Interval {
    let b = load(base, base_sets);
    let mut all: Vec<&str> = base_sets.to_vec();
    all.extend_from_slice(lever_sets);
    let l = load(base, &all);
    let recs = run_compare(&[b, l], 20, 11).unwrap();
    let (from, to) = recs[0][0].year_range(2026, 2035);
    let focal = 0;
    let diffs: Vec<f64> = recs[0]
        .iter()
        .zip(&recs[1])
        .map(|(rb, rl)| rl.share(from, to)[focal] - rb.share(from, to)[focal])
        .collect();
    Interval::of(&diffs)
}

const LEVERS: &str = "tests/fixtures/levers/base.toml";
/// US lines with spare capacity: approval time is the wait.
const SPARE: &[&str] = &[];
/// Domestic orders fill the focal line.
const DOMESTIC_FULL: &[&str] = &[
    "suppliers.AlphaWorks.lines.0.capacity=100.0",
    "exporters.Alpha.domestic_demand={kit=100.0}",
];
/// The focal line is saturated by foreign demand.
const SATURATED: &[&str] = &[
    "suppliers.AlphaWorks.lines.0.capacity=10.0",
    "suppliers.AlphaWorks.lines.0.quality=1.0",
    "exporters.Alpha.approval_mean_months=1.0",
    "exporters.Alpha.export_variant_delay_months=0.0",
    "suppliers.BetaWorks.lines.0.quality=0.4",
];

fn assert_up(name: &str, i: Interval) {
    assert!(
        i.lo > 0.0,
        "{name}: focal share change {:+.4} [{:+.4}, {:+.4}] does not exclude zero",
        i.mean,
        i.lo,
        i.hi
    );
}

#[test]
fn faster_approvals_raise_share_where_approval_is_the_wait() {
    assert_up(
        "faster approvals",
        lever_raises_focal_share(LEVERS, SPARE, &["policy.approval_time_factor=0.25"]),
    );
}

#[test]
fn export_by_design_raises_share_where_approval_is_the_wait() {
    assert_up(
        "export by design",
        lever_raises_focal_share(LEVERS, SPARE, &["policy.export_by_design=true"]),
    );
}

#[test]
fn priority_partners_raise_share_where_approval_is_the_wait() {
    assert_up(
        "priority partners",
        lever_raises_focal_share(
            LEVERS,
            SPARE,
            &[
                "policy.priority_partners=[\"A1\",\"A2\",\"A3\"]",
                "policy.priority_approval_factor=0.25",
            ],
        ),
    );
}

#[test]
fn export_reserve_raises_share_where_domestic_orders_fill_lines() {
    assert_up(
        "export reserve",
        lever_raises_focal_share(LEVERS, DOMESTIC_FULL, &["policy.export_reserve=0.3"]),
    );
}

#[test]
fn new_factories_raise_share_on_saturated_lines() {
    assert_up(
        "new factories",
        lever_raises_focal_share(
            LEVERS,
            SATURATED,
            &["policy.new_factories=[{owner=\"AlphaWorks\",category=\"kit\",tier=\"high\",capacity=10.0,online_month=80}]"],
        ),
    );
}

#[test]
fn low_tier_raises_share_on_saturated_lines() {
    assert_up(
        "low tier",
        lever_raises_focal_share(
            LEVERS,
            SATURATED,
            &["policy.low_tier=[{owner=\"AlphaWorks\",category=\"kit\",quality=0.6,price_index=0.5,build_months=3,capacity=10.0}]"],
        ),
    );
}

/// A new factory on a low-tier line that is not built yet brings the line
/// online in the factory's month with the factory's capacity; the line's own
/// capacity still arrives in its own month (docs/model.md §9, "Levers").
#[test]
fn a_factory_on_an_unbuilt_low_tier_line_adds_to_it_and_does_not_replace_it() {
    let factory = "policy.new_factories=[{owner=\"Anduril\",category=\"missiles\",tier=\"low\",capacity=5.0,online_month=75}]";
    let p = load("low-tier", &[factory]);
    let cfg = &p.cfg;
    let li = (0..cfg.lines.len())
        .find(|&i| {
            let l = &cfg.lines[i];
            l.tier == dibsim_core::scenario::Tier::Low
                && cfg.scenario.categories[l.category].name == "missiles"
                && cfg.scenario.suppliers[l.owner].name == "Anduril"
        })
        .expect("the low-tier missile line");
    let own = cfg.lines[li].capacity;
    let built = cfg.lines[li].online_month;
    assert!(built > 76, "the line is built after the factory: {built}");
    let mut w = World::new(Arc::clone(&p.cfg), p.behaviours.clone(), 1).unwrap();
    let mut seen = Vec::new();
    while !w.finished() {
        w.step().unwrap();
        let m = w.month();
        if m == 74 || m == 76 || m == built + 1 {
            let l = &w.lines()[li];
            seen.push((m, l.online, l.capacity));
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(!seen[0].1, "offline before the factory: {seen:?}");
    assert!(
        seen[1].1 && seen[1].2 > 0.0 && seen[1].2 <= 5.0 + 1e-9,
        "{seen:?}"
    );
    // Its own capacity arrived on top of the factory's (decline may have
    // taken a little since).
    assert!(seen[2].2 > own, "{own} + factory, got {seen:?}");
}

#[test]
fn strategy_2026_raises_us_share_in_the_baseline() {
    let b = load("baseline", &[]);
    let s = load("strategy-2026", &[]);
    let recs = run_compare(&[b, s], 20, 1).unwrap();
    let (from, to) = recs[0][0].year_range(2026, 2035);
    let diffs: Vec<f64> = recs[0]
        .iter()
        .zip(&recs[1])
        .map(|(a, b)| b.share(from, to)[0] - a.share(from, to)[0])
        .collect();
    assert_up("strategy-2026", Interval::of(&diffs));
}
