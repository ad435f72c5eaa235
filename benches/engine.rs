//! Criterion benches of the engine's three costs: one baseline run, a fork
//! of a world at the policy start (what compare and sweeps pay per policy
//! variant), and one settled month of synthetic worlds K times the baseline
//! (K = 1, 10, 100: the cost per agent-month must stay flat).
//!
//! `cargo bench --bench engine`; `dibsim bench` gives the same figures as
//! runs/s and agent-months/s, and `scripts/callgrind-bench.sh` as
//! instruction counts that do not depend on a noisy machine.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dibsim_core::world::World;
use dibsim_experiments::{loader, prepare, synth};

fn prepared(name: &str) -> dibsim_core::run::Prepared {
    prepare(
        &loader::load(name, &[])
            .expect("a bundled scenario")
            .scenario,
    )
    .expect("prepared")
}

fn one_run(c: &mut Criterion) {
    let p = prepared("baseline");
    let mut seed = 0;
    c.bench_function("run/baseline", |b| {
        b.iter(|| {
            seed += 1;
            dibsim_core::run::run_one(&p, seed).expect("a run")
        })
    });
}

fn fork(c: &mut Criterion) {
    let base = prepared("baseline");
    let strategy = prepared("strategy-2026");
    let mut w = World::new(Arc::clone(&base.cfg), base.behaviours.clone(), 1).expect("a world");
    w.run_until(strategy.cfg.scenario.policy.start_month)
        .expect("the shared prefix");
    c.bench_function("fork/baseline-to-strategy-2026", |b| {
        b.iter(|| w.fork(Arc::clone(&strategy.cfg)).expect("a fork"))
    });
}

fn month(c: &mut Criterion) {
    let base = loader::load("baseline", &[]).expect("baseline").scenario;
    let mut group = c.benchmark_group("month");
    group.sample_size(20);
    for k in [1u32, 10, 100] {
        let s = synth::synth(&base, k, 1).expect("a synthetic world");
        let agents = (s.allies.len() + s.suppliers.len()) as u64;
        let p = prepare(&s).expect("prepared");
        let mut w = World::new(Arc::clone(&p.cfg), p.behaviours.clone(), 1).expect("a world");
        // Settled: past the warm-up, with full queues.
        w.run_until(0).expect("the warm-up");
        group.throughput(Throughput::Elements(agents));
        group.bench_function(format!("K={k}"), |b| {
            b.iter_batched(
                || w.clone(),
                |mut m| {
                    m.step().expect("a month");
                    m
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, one_run, fork, month);
criterion_main!(benches);
