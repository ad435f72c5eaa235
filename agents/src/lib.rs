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

/// Bounds of [`gumbel`] without a logarithm: G at the edges of
/// [`GUMBEL_BINS`] equal bins of (0, 1). G increases, so a draw in bin k,
/// k / N <= u < (k + 1) / N, has G(k / N) <= G(u) <= G((k + 1) / N); the
/// edges are exact binary fractions (N is a power of two). Each bound is
/// within 0.011 of G for u from 0.1 to 0.9 (0.03 from 0.01 to 0.96), tight
/// enough that most offers are seen to lose without their two logarithms.
struct GumbelBounds {
    /// Per bin, (below, above); the extra last entry, (-inf, inf), is for
    /// a draw outside (0, 1) (NaN included), which is always computed.
    bins: [(f64, f64); GUMBEL_BINS + 1],
}

const GUMBEL_BINS: usize = 1024;

/// Taken off each lower bound and added to each upper one: more than the
/// few ulps by which `gumbel` as computed (two rounded logarithms) could
/// fail to increase within a bin, or a draw a half-ulp of 1 + u below an
/// edge be put in the bin above it (G' <= N there, so under 1e-13), and far
/// below any gap between utilities that matters.
const GUMBEL_SLACK: f64 = 1e-9;

impl GumbelBounds {
    fn new() -> GumbelBounds {
        let edge = |k: usize| gumbel(k as f64 / GUMBEL_BINS as f64);
        let mut bins = [(f64::NEG_INFINITY, f64::INFINITY); GUMBEL_BINS + 1];
        for (k, b) in bins.iter_mut().enumerate().take(GUMBEL_BINS) {
            *b = (edge(k) - GUMBEL_SLACK, edge(k + 1) + GUMBEL_SLACK);
        }
        // G(0) = -inf and G(1) = +inf: nothing is below the first bin's
        // draws, and a draw in the last bin is always computed.
        bins[0].0 = f64::NEG_INFINITY;
        bins[GUMBEL_BINS - 1].1 = f64::INFINITY;
        GumbelBounds { bins }
    }

    /// The bin of u: the top fraction bits of 1 + u, which for u in (0, 1)
    /// is u rounded to a multiple of 2^-52 (no float-to-integer conversion
    /// and its range checks). A u that rounds up to 1 makes 1 + u = 2, and
    /// goes with anything outside (0, 1) to the unbounded entry.
    #[inline]
    fn bin(u: f64) -> usize {
        let one_plus = 1.0 + u;
        if u > 0.0 && one_plus < 2.0 {
            ((one_plus.to_bits() >> (52 - GUMBEL_BINS.trailing_zeros())) as usize)
                & (GUMBEL_BINS - 1)
        } else {
            GUMBEL_BINS
        }
    }

    /// At most [`gumbel`]`(u)` for a draw in bin `k`.
    #[inline]
    fn below(&self, k: usize) -> f64 {
        self.bins[k].0
    }

    /// At least [`gumbel`]`(u)` for a draw in bin `k`.
    #[inline]
    fn above(&self, k: usize) -> f64 {
        self.bins[k].1
    }
}

static GUMBEL_BOUNDS: std::sync::LazyLock<GumbelBounds> =
    std::sync::LazyLock::new(GumbelBounds::new);

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

/// What [`choose_logit`] keeps between calls on a thread: the price
/// logarithms (a hit is the number `ln` gives, so keeping them changes
/// nothing) and the systematic utilities of one requirement's offers.
struct Scratch {
    ln_price: LnPrices,
    /// Per offer: its systematic utility and the bin of its draw.
    systematic: Vec<(f64, usize)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        ln_price: LnPrices::new(),
        systematic: Vec::with_capacity(64),
    });
}

/// The logit choice for `requirements` (a part of `batch`'s), into `choices`.
///
/// Exactly the plain rule (every option's U = systematic + G(draw), the
/// first greatest wins, the outside option first), with the logarithms
/// only where they can matter. A first pass over the offers takes the best
/// utility some option surely reaches, `floor`, from the lower ends of the
/// Gumbel bounds; an option whose upper end is below it cannot be the
/// first greatest, and its G is never computed. Rounding is monotonic, so
/// systematic + (a bound) bounds systematic + G as computed.
fn choose_logit(batch: &ProcurementBatch<'_>, requirements: &[Requirement], choices: &mut [i32]) {
    let bounds = &*GUMBEL_BOUNDS;
    SCRATCH.with(|scratch| {
        let Scratch {
            ln_price,
            systematic,
        } = &mut *scratch.borrow_mut();
        for (k, r) in requirements.iter().enumerate() {
            let taste = &batch.tastes[r.ally as usize];
            let offers =
                &batch.offers[r.offer_start as usize..(r.offer_start + r.offer_count) as usize];
            let outside_bin = GumbelBounds::bin(r.outside_draw);
            let mut floor = taste.outside_utility + bounds.below(outside_bin);
            systematic.clear();
            for o in offers {
                // U = (the systematic part) + G, summed in this order.
                let v = taste.beta_quality * o.quality
                    - taste.beta_price * ln_price.ln(o.line, o.price_index)
                    - taste.beta_time * r.threat * o.wait_months * o.reputation / 12.0
                    - taste.beta_uncertainty * o.spread_months / 12.0
                    + taste.beta_alignment * o.alignment;
                let bin = GumbelBounds::bin(o.draw);
                systematic.push((v, bin));
                let sure = v + bounds.below(bin);
                if sure > floor {
                    floor = sure;
                }
            }
            let mut best = OUTSIDE;
            let mut best_u = if taste.outside_utility + bounds.above(outside_bin) < floor {
                // Below an offer: any offer that beats the rest beats it.
                f64::NEG_INFINITY
            } else {
                taste.outside_utility + gumbel(r.outside_draw)
            };
            for (j, (o, &(v, bin))) in offers.iter().zip(systematic.iter()).enumerate() {
                let most = v + bounds.above(bin);
                if most < floor || most <= best_u {
                    continue;
                }
                let u = v + gumbel(o.draw);
                if u > best_u {
                    best_u = u;
                    best = j as i32;
                }
            }
            choices[k] = best;
        }
    });
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
                if systematic + GUMBEL_BOUNDS.above(GumbelBounds::bin(o.draw)) <= best_u {
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

    /// Every draw's Gumbel value lies between its bounds: at and around
    /// every bin edge (a few ulps either side), at the ends of (0, 1), and
    /// at a million draws between; outside (0, 1) there are none; and
    /// both are tight in the middle.
    #[test]
    fn the_gumbel_bound_is_above_every_draw() {
        let b = &*GUMBEL_BOUNDS;
        let check = |u: f64| {
            let (g, k) = (gumbel(u), GumbelBounds::bin(u));
            assert!(b.below(k) <= g && g <= b.above(k), "u = {u:e}");
        };
        for k in 0..=GUMBEL_BINS {
            let edge = k as f64 / GUMBEL_BINS as f64;
            let mut up = edge;
            let mut down = edge;
            for _ in 0..4 {
                up = f64::from_bits(up.to_bits() + 1);
                down = f64::from_bits(down.to_bits().saturating_sub(1));
                for u in [up, down] {
                    if u > 0.0 && u < 1.0 {
                        check(u);
                    }
                }
            }
        }
        for u in [
            f64::MIN_POSITIVE,
            1e-300,
            0.5 / (1u64 << 53) as f64,
            1.0 - f64::EPSILON / 2.0,
            1.0 - f64::EPSILON,
        ] {
            check(u);
        }
        // Outside (0, 1), and NaN: no bounds, so always computed.
        for u in [0.0, -0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            let k = GumbelBounds::bin(u);
            assert_eq!((b.below(k), b.above(k)), (f64::NEG_INFINITY, f64::INFINITY));
        }
        let n = 1_000_000;
        for i in 0..n {
            check((i as f64 + 0.5) / n as f64);
        }
        for i in 0..=100 {
            let u = 0.01 + 0.95 * i as f64 / 100.0;
            let most = if (0.1..=0.9).contains(&u) {
                0.011
            } else {
                0.03
            };
            let k = GumbelBounds::bin(u);
            for gap in [b.above(k) - gumbel(u), gumbel(u) - b.below(k)] {
                assert!(gap < most, "u = {u}: a bound {gap} away");
            }
        }
    }

    /// Exact ties go as in the plain rule: to the outside option, else to
    /// the first of the tied offers, including where the bounds put the
    /// tied offers at the floor and where a tie sits behind a better offer.
    #[test]
    fn ties_go_to_the_outside_option_then_to_the_first_offer() {
        use dibsim_core::behaviour::{Offer, Taste};
        let offer = |quality: f64, draw: f64| Offer {
            line: 0,
            exporter: 0,
            quality,
            price_index: 1.0,
            wait_months: 0.0,
            spread_months: 0.0,
            alignment: 0.0,
            reputation: 1.0,
            draw,
        };
        let taste = |outside_utility: f64| Taste {
            beta_quality: 1.0,
            beta_price: 0.0,
            beta_time: 0.0,
            beta_uncertainty: 0.0,
            beta_alignment: 0.0,
            outside_utility,
        };
        /// Outside utility, outside draw, offers as (quality, draw), choice.
        type Case = (f64, f64, &'static [(f64, f64)], i32);
        let cases: &[Case] = &[
            (0.0, 0.3, &[(0.0, 0.3), (0.0, 0.3)], OUTSIDE),
            (-1.0, 0.3, &[(0.0, 0.3), (0.0, 0.3), (0.0, 0.3)], 0),
            (-1.0, 0.3, &[(-0.5, 0.3), (0.0, 0.7), (0.0, 0.7)], 1),
            (
                -9.0,
                0.5,
                &[(0.0, 0.5), (2.0, 0.5), (0.0, 0.5), (2.0, 0.5)],
                1,
            ),
            (5.0, 0.999, &[(0.0, 0.2), (0.0, 0.9)], OUTSIDE),
        ];
        let tastes: Vec<Taste> = cases.iter().map(|c| taste(c.0)).collect();
        let (mut requirements, mut offers) = (Vec::new(), Vec::new());
        for (k, c) in cases.iter().enumerate() {
            requirements.push(Requirement {
                ally: k as u32,
                category: 0,
                size: 1.0,
                threat: 1.0,
                outside_draw: c.1,
                offer_start: offers.len() as u32,
                offer_count: c.2.len() as u32,
            });
            offers.extend(c.2.iter().map(|&(q, d)| offer(q, d)));
        }
        let batch = ProcurementBatch {
            month: 0,
            tastes: &tastes,
            requirements: &requirements,
            offers: &offers,
        };
        let mut got = vec![7; cases.len()];
        LogitProcurement.choose(&batch, &mut got).unwrap();
        let want: Vec<i32> = cases.iter().map(|c| c.3).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn gumbel_is_monotone_and_centred() {
        assert!(gumbel(0.1) < gumbel(0.9));
        // Median of Gumbel(0,1) is -ln(ln 2).
        assert!((gumbel(0.5) + (2f64.ln()).ln()).abs() < 1e-12);
    }
}
