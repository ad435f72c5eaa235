//! The month's hot path allocates (almost) nothing once a run has settled:
//! every buffer is reused, order slots are recycled, and the month buckets
//! are a ring. The binary's counting global allocator checks it.

use std::sync::Arc;

/// The binary's own counting allocator (`dibsim bench` reports from it),
/// installed as this test binary's global allocator too.
#[path = "../src/alloc_count.rs"]
mod alloc_count;

/// The allocator's count is the process's: tests that read it run one at
/// a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn allocations_per_month(scenario: &str) -> Vec<(i32, u64)> {
    alloc_count::start();
    let s = dibsim_experiments::loader::load(scenario, &[])
        .unwrap()
        .scenario;
    let p = dibsim_experiments::prepare(&s).unwrap();
    let mut w = dibsim_core::World::new(Arc::clone(&p.cfg), p.behaviours.clone(), 1).unwrap();
    let mut out = Vec::new();
    while !w.finished() {
        let t = w.month();
        let before = alloc_count::allocations();
        w.step().unwrap();
        out.push((t, alloc_count::allocations() - before));
    }
    out
}

/// Once the warm-up has run, the month's buffers only grow when a month
/// needs more room than any before it (a new high-water mark): in the
/// reported months, at most one allocation per eight months, and none in
/// more than nine months of ten. (It was 7.5 allocations in every month
/// before the order slots, month buckets and line queues were reused.)
#[test]
fn a_settled_run_allocates_almost_never() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    for scenario in ["baseline", "strategy-2026"] {
        let per_month = allocations_per_month(scenario);
        let reported: Vec<u64> = per_month
            .iter()
            .filter(|(t, _)| *t >= 0)
            .map(|(_, n)| *n)
            .collect();
        let total: u64 = reported.iter().sum();
        let busy = reported.iter().filter(|&&n| n > 0).count();
        assert!(
            total * 8 <= reported.len() as u64,
            "{scenario}: {total} allocations in {} reported months",
            reported.len()
        );
        assert!(
            busy * 10 <= reported.len(),
            "{scenario}: {busy} of {} reported months allocate",
            reported.len()
        );
    }
}

/// A fork (what `compare` and a sweep run for every scenario after the
/// first) keeps the capacity of the run it comes from: its queues,
/// shipments and recorder do not grow again, copying every entry, in its
/// first months.
#[test]
fn a_forked_run_does_not_grow_its_buffers_again() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let load = |name: &str| {
        let s = dibsim_experiments::loader::load(name, &[])
            .unwrap()
            .scenario;
        dibsim_experiments::prepare(&s).unwrap()
    };
    let base = load("baseline");
    let lever = load("faster-approvals");
    let start = lever.cfg.scenario.policy.start_month;
    let mut w = dibsim_core::World::new(Arc::clone(&base.cfg), base.behaviours.clone(), 1).unwrap();
    while w.month() < start {
        w.step().unwrap();
    }
    let mut f = w.fork(Arc::clone(&lever.cfg)).unwrap();
    alloc_count::start();
    // The fork's first year, month by month.
    let before = alloc_count::allocations();
    for _ in 0..12 {
        f.step().unwrap();
    }
    let n = alloc_count::allocations() - before;
    assert!(n <= 2, "{n} allocations in the fork's first 12 months");
}
