//! An ally that, under high threat, weighs delivery time far more than the
//! built-in logit does: the time weight is multiplied by `weight` when the
//! ally's threat exceeds `threat_above` (params, JSON):
//!
//! ```toml
//! [[plugins]]
//! path = "target/release/libfastest_delivery.so"
//! slots = ["procurement"]
//! agents = { region = "Europe" }
//! params = { weight = 4.0, threat_above = 1.2 }
//! ```
//!
//! Everything else is the built-in choice, on the host's draws.

use dibsim_plugin_sdk::{export_plugin, Fault, Plugin, Procure, ProcurementCall, OUTSIDE};

#[derive(Clone, Copy)]
pub struct FastestDelivery {
    weight: f64,
    threat_above: f64,
}

impl Plugin for FastestDelivery {
    fn create(params: &str) -> Result<Self, String> {
        let v: serde_json::Value =
            serde_json::from_str(params).map_err(|e| format!("params are not JSON: {e}"))?;
        let num = |key: &str, default: f64| -> Result<f64, String> {
            match v.get(key) {
                None => Ok(default),
                Some(x) => x
                    .as_f64()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| format!("`{key}` must be a non-negative number, got {x}")),
            }
        };
        if let Some(obj) = v.as_object() {
            if let Some(k) = obj.keys().find(|k| *k != "weight" && *k != "threat_above") {
                return Err(format!(
                    "unknown parameter `{k}` (known: weight, threat_above)"
                ));
            }
        }
        Ok(FastestDelivery {
            weight: num("weight", 4.0)?,
            threat_above: num("threat_above", 1.0)?,
        })
    }
}

fn gumbel(u: f64) -> f64 {
    -(-u.ln()).ln()
}

impl Procure for FastestDelivery {
    fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault> {
        for (k, r) in call.requirements.iter().enumerate() {
            let taste = &call.tastes[r.ally as usize];
            let urgency = if r.threat > self.threat_above {
                self.weight
            } else {
                1.0
            };
            let mut best = OUTSIDE;
            let mut best_u = taste.outside_utility + gumbel(r.outside_draw);
            for (j, o) in call.offers_of(r).iter().enumerate() {
                let u = taste.beta_quality * o.quality
                    - taste.beta_price * o.price_index.ln()
                    - urgency * taste.beta_time * r.threat * o.wait_months * o.reputation / 12.0
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

export_plugin!(FastestDelivery, procurement);
