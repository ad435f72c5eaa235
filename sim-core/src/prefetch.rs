//! A cache hint for the few random accesses of a month.
//!
//! In a large world the order table does not fit in cache, and the
//! sequential phases (placement, booking, cancellation) each touch a few
//! orders a requirement at random slots: one miss to memory each, taken in
//! turn. Asking for the slots a few orders ahead lets those misses overlap.
//! A hint changes no value; where it is not available it is nothing.

/// Asks for the cache line holding `x`.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    safe_arch::prefetch_t0(x);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = x;
}

/// How many orders ahead a phase asks for: enough to cover a miss to
/// memory (about 200 ns on the 2-core machine of the README's figures) at
/// some tens of nanoseconds an order.
pub(crate) const AHEAD: usize = 8;
