//! The order ledger: one record per order, like the rows of SIPRI's trade
//! register, so that the orders behind a share can be checked against real
//! ones (who ordered what from whom, when it was decided, when it came).
//!
//! Recording is off unless a run asks for it ([`crate::World::keep_ledger`]):
//! a record is written when an order ends (its last delivery, its denial,
//! its cancellation) and, at the end of the run, for every order still open.
//! Orders that ended before month 0 (in the warm-up) are not kept.

/// How an order stands at the end of the run (or when it ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Approved; delivered in full when `last_delivery` is set.
    Approved,
    Denied,
    Cancelled,
    /// Still awaiting its approval decision at the end of the run.
    Open,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Denied => "denied",
            Outcome::Cancelled => "cancelled",
            Outcome::Open => "open",
        }
    }
}

/// One order. Months are model months (0 = January of `start_year`).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    /// Placement order over the whole run, warm-up included.
    pub seq: u64,
    pub ally: u32,
    pub line: u32,
    pub category: u16,
    /// Served in the priority-partner class.
    pub priority: bool,
    pub size: f64,
    pub price_index: f64,
    pub placed: i32,
    pub decided: Option<i32>,
    pub outcome: Outcome,
    /// Joined its line's foreign queue.
    pub entered: Option<i32>,
    pub first_delivery: Option<i32>,
    /// Its last TIV delivered: the order is complete.
    pub last_delivery: Option<i32>,
    pub quoted_wait: f64,
    /// TIV delivered in reported months (month >= 0): the ledger's part of
    /// `deliveries_tiv`.
    pub delivered_reported: f64,
}

impl OrderRecord {
    /// Months from placement to the last delivery, for a complete order.
    pub fn realised_wait(&self) -> Option<f64> {
        self.last_delivery.map(|l| (l - self.placed) as f64)
    }
}

/// The size-weighted median of `(value, weight)` pairs: the smallest value
/// whose cumulative weight reaches half the total. NaN when empty.
pub fn weighted_median(pairs: &mut [(f64, f64)]) -> f64 {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    if pairs.is_empty() || total <= 0.0 {
        return f64::NAN;
    }
    let mut cum = 0.0;
    for &(v, w) in pairs.iter() {
        cum += w;
        if cum >= 0.5 * total {
            return v;
        }
    }
    pairs[pairs.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_median_weighs_by_size() {
        assert_eq!(
            weighted_median(&mut [(1.0, 1.0), (5.0, 1.0), (9.0, 10.0)]),
            9.0
        );
        assert_eq!(
            weighted_median(&mut [(3.0, 1.0), (1.0, 1.0), (2.0, 1.0)]),
            2.0
        );
        assert!(weighted_median(&mut []).is_nan());
    }
}
