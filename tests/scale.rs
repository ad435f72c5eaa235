//! Synthetic worlds (`dibsim synth`, `bench --scale`): a world ten times the
//! baseline runs deterministically on 1 and 2 threads, keeps its books, and
//! has the baseline's market structure.

use std::sync::Arc;

use dibsim_core::behaviour::{BehaviourFault, Procurement, ProcurementBatch};
use dibsim_core::run::run_one;
use dibsim_core::World;
use dibsim_experiments::output::timeseries_csv;
use dibsim_experiments::{loader, prepare, synth::synth};

fn world(scale: u32, months: u32) -> dibsim_core::Scenario {
    let s = loader::load("strategy-2026", &[format!("months={months}")])
        .unwrap()
        .scenario;
    synth(&s, scale, 1).unwrap()
}

/// The x10 world of the issue, and an x25 one: large enough that the
/// month's per-ally and per-line phases go to rayon on 2 threads.
#[test]
fn ten_times_the_world_is_the_same_on_1_and_2_threads() {
    for scale in [10, 25] {
        let p = prepare(&world(scale, 24)).unwrap();
        if scale == 25 {
            assert!(p.cfg.scenario.allies.len() >= dibsim_core::world::PARALLEL_ALLIES);
        }
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| timeseries_csv(&run_one(&p, 5).unwrap()))
        };
        let one = on(1);
        assert!(one == on(2), "x{scale}: 1 and 2 threads differ");
    }
}

#[test]
fn ten_times_the_world_keeps_its_books() {
    let p = prepare(&world(10, 36)).unwrap();
    let mut w = World::new(Arc::clone(&p.cfg), p.behaviours.clone(), 3).unwrap();
    while !w.finished() {
        w.step().unwrap();
        for (li, gap) in w.conservation_gaps().into_iter().enumerate() {
            let scale = w.lines()[li].ordered.max(1.0);
            assert!(
                gap.abs() <= 1e-6 * scale,
                "line {li} month {}: gap {gap}",
                w.month()
            );
        }
    }
}

#[test]
fn ten_times_the_world_has_the_baseline_structure() {
    // The US share of 2020-22 deliveries: the x10 world against the mean of
    // ten baseline replicates (each ally copy draws its own streams, so the
    // x10 world is like ten replicates pooled).
    let share = |rec: &dibsim_core::Recorder| rec.share(0, 36)[0];
    let base = prepare(&world(1, 36)).unwrap();
    let singles: Vec<f64> = (0..10)
        .map(|r| share(&run_one(&base, r).unwrap()))
        .collect();
    let mean = singles.iter().sum::<f64>() / 10.0;
    let sd = (singles.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    let big = share(&run_one(&prepare(&world(10, 36)).unwrap(), 0).unwrap());
    assert!(
        (big - mean).abs() <= 3.0 * sd.max(0.005),
        "x10 US share {big:.4} against the baseline's {mean:.4} (sd {sd:.4})"
    );
}

/// The month's per-ally and per-line phases (threat and offers, production,
/// cancellation checks) give the same series and the same order ledger run
/// on rayon or in one pass, for a large world and for the baseline.
#[test]
fn parallel_phases_change_nothing() {
    for (scenario, seed) in [(world(10, 60), 7), (world(1, 60), 2)] {
        let p = prepare(&scenario).unwrap();
        let run = |parallel: bool| {
            let mut w = World::new(Arc::clone(&p.cfg), p.behaviours.clone(), seed).unwrap();
            w.set_parallel(parallel);
            w.keep_ledger();
            w.run().unwrap();
            let (recorder, ledger) = w.into_parts();
            (timeseries_csv(&recorder), format!("{:?}", ledger.unwrap()))
        };
        let (one_pass, parallel) = (run(false), run(true));
        let name = &p.cfg.scenario.name;
        assert!(one_pass.0 == parallel.0, "{name}: the series differ");
        assert!(one_pass.1 == parallel.1, "{name}: the ledgers differ");
        assert!(
            one_pass.1.contains("Cancelled"),
            "{name}: nothing cancelled"
        );
        assert!(one_pass.0 == timeseries_csv(&run_one(&p, seed).unwrap()));
    }
}

/// The built-in choice behind a behaviour that does not say it chooses
/// requirement by requirement, as a plugin does not: it gets whole batches,
/// chosen after the parallel pass, not in it.
struct WholeBatches(Arc<dyn Procurement>);

impl Procurement for WholeBatches {
    fn name(&self) -> &str {
        "whole-batches"
    }
    fn choose(
        &self,
        batch: &ProcurementBatch<'_>,
        choices: &mut [i32],
    ) -> Result<(), BehaviourFault> {
        self.0.choose(batch, choices)
    }
}

/// Allies in runs of different behaviour slots (two copies of the built-in
/// choice, in runs of 50 and of 256 allies against the parallel decide's chunks of 128):
/// the batches split where the slot changes, and the parallel and one-pass
/// paths still give the same bytes, the same as with one slot. With the
/// second slot taking whole batches, the parallel pass chooses some chunks
/// itself and leaves the others' to batches, and the orders still come in
/// ally order.
#[test]
fn batches_of_mixed_behaviours_are_the_same_in_parallel() {
    let p = prepare(&world(10, 36)).unwrap();
    let run = |behaviours: &dibsim_core::Behaviours, parallel: bool| {
        let mut w = World::new(Arc::clone(&p.cfg), behaviours.clone(), 4).unwrap();
        w.set_parallel(parallel);
        w.run().unwrap();
        timeseries_csv(&w.into_recorder())
    };
    let reference = run(&p.behaviours, false);
    // Runs of 50 change slot inside chunks (the per-ally path); runs of 256
    // start a new batch at a chunk's first ally (the bulk path).
    for run_len in [50, 256] {
        let mut mixed = p.behaviours.clone();
        mixed.procurement.push(Arc::clone(&mixed.procurement[0]));
        for (i, slot) in mixed.ally_procurement.iter_mut().enumerate() {
            *slot = ((i / run_len) % 2) as u16;
        }
        assert!(
            reference == run(&mixed, false),
            "one pass, runs of {run_len}: differ"
        );
        assert!(
            reference == run(&mixed, true),
            "parallel, runs of {run_len}: differ"
        );
        mixed.procurement[1] = Arc::new(WholeBatches(Arc::clone(&mixed.procurement[0])));
        assert!(
            reference == run(&mixed, true),
            "parallel, runs of {run_len} with whole batches: differ"
        );
    }
}
