//! A cache hint for a month's random accesses to the order table.
//!
//! In a large world the order table does not fit in cache, and placement
//! writes each new order into a free slot at random: one miss to memory an
//! order, taken in turn. Asking for the slots a few orders ahead lets those
//! misses overlap (booking and cancellation were tried too and gained
//! nothing measurable, so they do not ask). A hint changes no value; where
//! it is not available it is nothing.

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
