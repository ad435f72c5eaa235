//! The month's hot path allocates (almost) nothing once a run has settled:
//! every buffer is reused, order slots are recycled, and the month buckets
//! are a ring. A counting global allocator (this test binary's own) checks it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_per_month(scenario: &str) -> Vec<(i32, u64)> {
    let s = dibsim_experiments::loader::load(scenario, &[])
        .unwrap()
        .scenario;
    let p = dibsim_experiments::prepare(&s).unwrap();
    let mut w = dibsim_core::World::new(Arc::clone(&p.cfg), p.behaviours.clone(), 1).unwrap();
    let mut out = Vec::new();
    while !w.finished() {
        let t = w.month();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        w.step().unwrap();
        out.push((t, ALLOCATIONS.load(Ordering::Relaxed) - before));
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
