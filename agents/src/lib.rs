//! dibsim-agents: the built-in behaviours, exactly as docs/model.md states them.
//!
//! Each is a plain struct implementing one of the core's behaviour traits, so
//! a plugin replacing it sees exactly the same observations. `builtin` wires
//! the defaults for a scenario: every ally uses [`LogitProcurement`], every
//! owner [`ThresholdInvestment`].

use std::sync::Arc;

use dibsim_core::behaviour::{
    BehaviourFault, Behaviours, Investment, LineView, Procurement, ProcurementBatch, Requirement,
    OUTSIDE,
};
use dibsim_core::Compiled;

/// docs/model.md step 5: random-utility (logit) choice with Gumbel noise built
/// from the uniform draws the core hands in.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogitProcurement;

/// G = -ln(-ln u), a standard Gumbel draw from u ~ U(0, 1).
#[inline]
pub fn gumbel(u: f64) -> f64 {
    -(-u.ln()).ln()
}

/// An upper bound of [`gumbel`]`(u)` without a logarithm: from
/// ln y <= y - 1 and -ln u >= 1 - u, -ln(-ln u) <= u / (1 - u); the gap is
/// at least 0.57 over (0, 1), far above rounding.
#[inline]
fn gumbel_bound(u: f64) -> f64 {
    u / (1.0 - u)
}

/// ln of each line's price index, memoised within one call: the offers of a
/// month's requirements come from the same few lines. Direct-mapped on the
/// line index and checked against the price's bits, so a hit is the same
/// number `ln` gives.
struct LnPrices {
    slots: [(u32, u64, f64); 256],
}

impl LnPrices {
    fn new() -> LnPrices {
        LnPrices {
            slots: [(u32::MAX, 0, 0.0); 256],
        }
    }

    #[inline]
    fn ln(&mut self, line: u32, price: f64) -> f64 {
        let slot = &mut self.slots[line as usize & 255];
        if slot.0 != line || slot.1 != price.to_bits() {
            *slot = (line, price.to_bits(), price.ln());
        }
        slot.2
    }
}

impl Procurement for LogitProcurement {
    fn name(&self) -> &str {
        "builtin-logit"
    }

    /// A requirement's choice reads only its own offers and draws.
    fn per_requirement(&self) -> bool {
        true
    }

    fn choose(
        &self,
        batch: &ProcurementBatch<'_>,
        choices: &mut [i32],
    ) -> Result<(), BehaviourFault> {
        let requirements = batch.requirements;
        debug_assert_eq!(choices.len(), requirements.len());
        if requirements.len() < PARALLEL_REQUIREMENTS || rayon::current_num_threads() < 2 {
            choose_logit(batch, requirements, choices);
            return Ok(());
        }
        // Each requirement's choice depends only on its own offers and
        // draws, so chunks in parallel give the same choices.
        use rayon::prelude::*;
        requirements
            .par_chunks(CHUNK)
            .zip(choices.par_chunks_mut(CHUNK))
            .for_each(|(reqs, out)| choose_logit(batch, reqs, out));
        Ok(())
    }
}

/// Batches of at least this many requirements are chosen in parallel (a
/// world many times the baseline's): the baseline has about 9 a month, its
/// x100 synthetic world about 880. A chunk is some 12 us of work, well
/// above the cost of handing it to another thread.
const PARALLEL_REQUIREMENTS: usize = 256;
const CHUNK: usize = 64;

/// The logit choice for `requirements` (a part of `batch`'s), into `choices`.
fn choose_logit(batch: &ProcurementBatch<'_>, requirements: &[Requirement], choices: &mut [i32]) {
    let mut ln_price = LnPrices::new();
    for (k, r) in requirements.iter().enumerate() {
        let taste = &batch.tastes[r.ally as usize];
        let mut best = OUTSIDE;
        let mut best_u = taste.outside_utility + gumbel(r.outside_draw);
        let offers =
            &batch.offers[r.offer_start as usize..(r.offer_start + r.offer_count) as usize];
        for (j, o) in offers.iter().enumerate() {
            // U = (the systematic part) + G, summed in this order.
            let systematic = taste.beta_quality * o.quality
                - taste.beta_price * ln_price.ln(o.line, o.price_index)
                - taste.beta_time * r.threat * o.wait_months * o.reputation / 12.0
                - taste.beta_uncertainty * o.spread_months / 12.0
                + taste.beta_alignment * o.alignment;
            // An offer that cannot win even with its noise at the bound
            // needs no logarithms: rounding is monotonic, so
            // systematic + G <= systematic + bound <= best_u.
            if systematic + gumbel_bound(o.draw) <= best_u {
                continue;
            }
            let u = systematic + gumbel(o.draw);
            if u > best_u {
                best_u = u;
                best = j as i32;
            }
        }
        choices[k] = best;
    }
}

/// docs/model.md step 10: order a tranche when backlog months exceed the threshold.
#[derive(Debug, Default, Clone, Copy)]
pub struct ThresholdInvestment;

impl Investment for ThresholdInvestment {
    fn name(&self) -> &str {
        "builtin-threshold"
    }

    fn invest(
        &self,
        _month: i32,
        lines: &[LineView],
        tranches: &mut [f64],
    ) -> Result<(), BehaviourFault> {
        for (l, out) in lines.iter().zip(tranches.iter_mut()) {
            *out = threshold_tranche(l);
        }
        Ok(())
    }
}

/// dK = min(max_growth x K, (m / target' - 1) x K) when m > threshold'.
#[inline]
pub fn threshold_tranche(l: &LineView) -> f64 {
    if l.backlog_months > l.threshold_months {
        (l.max_growth * l.capacity)
            .min((l.backlog_months / l.target_months - 1.0) * l.capacity)
            .max(0.0)
    } else {
        0.0
    }
}

/// The built-in behaviours for every agent of `cfg`.
pub fn builtin(cfg: &Compiled) -> Behaviours {
    Behaviours {
        procurement: vec![Arc::new(LogitProcurement)],
        ally_procurement: vec![0; cfg.allies.len()],
        investment: vec![Arc::new(ThresholdInvestment)],
        owner_investment: vec![0; cfg.owners.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(m: f64) -> LineView {
        LineView {
            line: 0,
            owner: 0,
            category: 0,
            tier: 0,
            capacity: 100.0,
            pipeline: 0.0,
            backlog_domestic: 0.0,
            backlog_foreign_approved: 0.0,
            backlog_months: m,
            cash: 0.0,
            credit_limit: 0.0,
            capex_per_unit: 1.0,
            subsidy: 0.0,
            threshold_months: 18.0,
            target_months: 12.0,
            max_growth: 0.25,
            draw: 0.5,
        }
    }

    #[test]
    fn tranche_rule() {
        assert_eq!(threshold_tranche(&view(18.0)), 0.0);
        // m = 20: (20/12 - 1) x 100 = 66.7, capped at 25.
        assert_eq!(threshold_tranche(&view(20.0)), 25.0);
        // Below the cap: m = 19, target' = 18 gives (19/18 - 1) x 100 = 5.6.
        let mut v = view(19.0);
        v.target_months = 18.0;
        assert!((threshold_tranche(&v) - 100.0 / 18.0).abs() < 1e-9);
    }

    /// The shortcut is exact: on random batches (utilities spread so that
    /// many offers lose, and some near-ties), the built-in chooses exactly
    /// what the plain rule (every utility with both logarithms) chooses.
    /// The batch is large enough to be chosen in parallel chunks, which
    /// also choose what one pass over it does.
    #[test]
    fn the_bound_never_changes_a_choice() {
        use dibsim_core::behaviour::{Offer, Taste};
        // A small deterministic generator (no dependency): splitmix64.
        let mut state = 0x1234_5678_9abc_def0_u64;
        let mut unit = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 0.5 / (1u64 << 53) as f64
        };
        let tastes: Vec<Taste> = (0..8)
            .map(|_| Taste {
                beta_quality: 2.0 * unit(),
                beta_price: 2.0 * unit(),
                beta_time: 3.0 * unit(),
                beta_uncertainty: unit(),
                beta_alignment: unit(),
                outside_utility: -4.0 * unit(),
            })
            .collect();
        let (mut requirements, mut offers) = (Vec::new(), Vec::new());
        for k in 0..20_000u32 {
            let n = 1 + (unit() * 12.0) as u32;
            requirements.push(Requirement {
                ally: k % 8,
                category: 0,
                size: 1.0,
                threat: 0.5 + unit(),
                outside_draw: unit(),
                offer_start: offers.len() as u32,
                offer_count: n,
            });
            for j in 0..n {
                offers.push(Offer {
                    line: j,
                    exporter: j,
                    quality: unit(),
                    price_index: 0.5 + unit(),
                    wait_months: 48.0 * unit(),
                    spread_months: 12.0 * unit(),
                    alignment: unit(),
                    reputation: 0.5 + unit(),
                    draw: unit(),
                });
            }
        }
        let batch = ProcurementBatch {
            month: 0,
            tastes: &tastes,
            requirements: &requirements,
            offers: &offers,
        };
        let mut got = vec![0; requirements.len()];
        LogitProcurement.choose(&batch, &mut got).unwrap();
        assert!(requirements.len() >= PARALLEL_REQUIREMENTS);
        let mut one_pass = vec![0; requirements.len()];
        choose_logit(&batch, &requirements, &mut one_pass);
        assert_eq!(got, one_pass);
        let (mut outside, mut skipped) = (0, 0);
        for (k, r) in requirements.iter().enumerate() {
            let t = &tastes[r.ally as usize];
            let mut best = OUTSIDE;
            let mut best_u = t.outside_utility + gumbel(r.outside_draw);
            let os = &offers[r.offer_start as usize..(r.offer_start + r.offer_count) as usize];
            for (j, o) in os.iter().enumerate() {
                let systematic = t.beta_quality * o.quality
                    - t.beta_price * o.price_index.ln()
                    - t.beta_time * r.threat * o.wait_months * o.reputation / 12.0
                    - t.beta_uncertainty * o.spread_months / 12.0
                    + t.beta_alignment * o.alignment;
                if systematic + gumbel_bound(o.draw) <= best_u {
                    skipped += 1;
                }
                let u = systematic + gumbel(o.draw);
                if u > best_u {
                    best_u = u;
                    best = j as i32;
                }
            }
            outside += usize::from(best == OUTSIDE);
            assert_eq!(got[k], best, "requirement {k}");
        }
        // The batch exercises both branches of the shortcut and the outside option.
        assert!(
            skipped > 10_000 && skipped < offers.len(),
            "{skipped} skipped"
        );
        assert!(
            outside > 0 && outside < requirements.len(),
            "{outside} outside"
        );
    }

    #[test]
    fn gumbel_is_monotone_and_centred() {
        assert!(gumbel(0.1) < gumbel(0.9));
        // Median of Gumbel(0,1) is -ln(ln 2).
        assert!((gumbel(0.5) + (2f64.ln()).ln()).abs() < 1e-12);
    }
}
