//! The built-in ally procurement (random-utility logit choice, docs/model.md
//! step 5) as a plugin. Runs with it are bit-identical to runs with the
//! built-in: same arithmetic, in the same order, on the same host draws.
//! It is the template to start from when changing how allies choose.

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

impl Procure for Logit {
    fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault> {
        for (k, r) in call.requirements.iter().enumerate() {
            let taste = &call.tastes[r.ally as usize];
            let mut best = OUTSIDE;
            let mut best_u = taste.outside_utility + gumbel(r.outside_draw);
            for (j, o) in call.offers_of(r).iter().enumerate() {
                let u = taste.beta_quality * o.quality
                    - taste.beta_price * o.price_index.ln()
                    - taste.beta_time * r.threat * o.wait_months * o.reputation / 12.0
                    - taste.beta_uncertainty * o.spread_months / 12.0
                    + taste.beta_alignment * o.alignment
                    + gumbel(o.draw);
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
