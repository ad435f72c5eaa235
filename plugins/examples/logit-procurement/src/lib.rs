//! The built-in ally procurement (random-utility logit choice, docs/model.md
//! step 5) as a plugin. Runs with it are bit-identical to runs with the
//! built-in: same arithmetic, in the same order, on the same host draws,
//! and the same exact shortcuts (an offer that cannot win even with its
//! noise at an upper bound needs no logarithms; ln of a line's price is
//! computed once per call). It is the template to
//! start from when changing how allies choose; it builds as a native
//! library or, for a wasm32 target, as a WebAssembly plugin.

use dibsim_plugin_sdk::{export_plugin, Fault, Plugin, Procure, ProcurementCall, OUTSIDE};

#[derive(Clone, Copy)]
pub struct Logit;

impl Plugin for Logit {
    fn create(_params: &str) -> Result<Self, String> {
        Ok(Logit)
    }
}

/// A standard Gumbel draw from u ~ U(0, 1).
#[inline]
fn gumbel(u: f64) -> f64 {
    -(-u.ln()).ln()
}

/// An upper bound of `gumbel(u)` with no logarithm: -ln(-ln u) <= u/(1-u)
/// (from ln y <= y - 1 and -ln u >= 1 - u), by at least 0.57.
#[inline]
fn gumbel_bound(u: f64) -> f64 {
    u / (1.0 - u)
}

/// ln of each line's price index within one call, direct-mapped on the
/// line and checked against the price's bits (a hit is the number `ln`
/// gives).
struct LnPrices([(u32, u64, f64); 256]);

impl LnPrices {
    #[inline]
    fn ln(&mut self, line: u32, price: f64) -> f64 {
        let slot = &mut self.0[line as usize & 255];
        if slot.0 != line || slot.1 != price.to_bits() {
            *slot = (line, price.to_bits(), price.ln());
        }
        slot.2
    }
}

impl Procure for Logit {
    fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault> {
        let mut ln_price = LnPrices([(u32::MAX, 0, 0.0); 256]);
        for (k, r) in call.requirements.iter().enumerate() {
            let taste = &call.tastes[r.ally as usize];
            let mut best = OUTSIDE;
            let mut best_u = taste.outside_utility + gumbel(r.outside_draw);
            for (j, o) in call.offers_of(r).iter().enumerate() {
                let systematic = taste.beta_quality * o.quality
                    - taste.beta_price * ln_price.ln(o.line, o.price_index)
                    - taste.beta_time * r.threat * o.wait_months * o.reputation / 12.0
                    - taste.beta_uncertainty * o.spread_months / 12.0
                    + taste.beta_alignment * o.alignment;
                // Rounding is monotonic: systematic + G <= systematic +
                // bound <= best_u, so this offer cannot win.
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
        Ok(())
    }
}

export_plugin!(Logit, procurement);
