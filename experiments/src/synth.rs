//! Synthetic worlds for scale: the same market K times over, or with M
//! times the suppliers, to measure how cost grows with the world.
//!
//! The generator's invariants (tests check them):
//! - `scale = K`: every ally appears K times (the copies named `NAME #k`,
//!   each with its own random streams, which follow from its index), and
//!   every line's capacity, every exporter's domestic demand, every owner's
//!   cash and credit limit, and the policy's new factories and low-tier
//!   lines are multiplied by K. Demand and capacity grow together, so
//!   utilisation stays as in the original, and each requirement's choice set
//!   (the lines of its category) is the same size.
//! - `suppliers = M`: every supplier appears M times (`NAME #m`), each copy
//!   with 1/M of the capacity, cash and credit: the world's capacity is
//!   unchanged and each requirement has M times the choices.
//! - Priority partners are copied with their allies; regions and exporters
//!   are unchanged, so shares and region totals compare with the original's.

use anyhow::{bail, Result};
use dibsim_core::Scenario;

/// The largest K and M: 100x the bundled baseline is about 6,500 allies.
pub const MAX_SCALE: u32 = 1000;

pub fn synth(s: &Scenario, scale: u32, suppliers: u32) -> Result<Scenario> {
    if scale == 0 || scale > MAX_SCALE {
        bail!("--scale {scale}: must be from 1 to {MAX_SCALE}");
    }
    if suppliers == 0 || suppliers > MAX_SCALE {
        bail!("--suppliers {suppliers}: must be from 1 to {MAX_SCALE}");
    }
    let mut w = s.clone();
    let k = scale as f64;
    if scale > 1 {
        w.allies = (0..scale)
            .flat_map(|c| {
                s.allies.iter().map(move |a| {
                    let mut b = a.clone();
                    if c > 0 {
                        b.name = format!("{} #{c}", a.name);
                    }
                    b
                })
            })
            .collect();
        w.policy.priority_partners = (0..scale)
            .flat_map(|c| {
                s.policy.priority_partners.iter().map(move |p| {
                    if c == 0 {
                        p.clone()
                    } else {
                        format!("{p} #{c}")
                    }
                })
            })
            .collect();
        for sup in &mut w.suppliers {
            sup.cash *= k;
            sup.credit_limit *= k;
            for l in &mut sup.lines {
                l.capacity *= k;
            }
        }
        for e in &mut w.exporters {
            for d in e.domestic_demand.values_mut() {
                *d *= k;
            }
        }
        for f in &mut w.policy.new_factories {
            f.capacity *= k;
        }
        for l in &mut w.policy.low_tier {
            l.capacity *= k;
        }
    }
    if suppliers > 1 {
        let m = suppliers as f64;
        let mut copies = Vec::with_capacity(w.suppliers.len() * suppliers as usize);
        for sup in &w.suppliers {
            for c in 0..suppliers {
                let mut x = sup.clone();
                if c > 0 {
                    x.name = format!("{} #{c}", sup.name);
                }
                x.cash /= m;
                x.credit_limit /= m;
                for l in &mut x.lines {
                    l.capacity /= m;
                }
                copies.push(x);
            }
        }
        w.suppliers = copies;
    }
    w.name = match (scale, suppliers) {
        (1, 1) => s.name.clone(),
        (k, 1) => format!("{}-x{k}", s.name),
        (1, m) => format!("{}-suppliers{m}", s.name),
        (k, m) => format!("{}-x{k}-suppliers{m}", s.name),
    };
    w.validate()
        .map_err(|e| anyhow::anyhow!("the synthetic world is invalid: {e}"))?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_keeps_the_structure() {
        let s = crate::loader::load("strategy-2026", &[]).unwrap().scenario;
        let w = synth(&s, 3, 1).unwrap();
        assert_eq!(w.allies.len(), 3 * s.allies.len());
        assert_eq!(w.suppliers.len(), s.suppliers.len());
        assert_eq!(
            w.policy.priority_partners.len(),
            3 * s.policy.priority_partners.len()
        );
        let cap = |s: &Scenario| -> f64 {
            s.suppliers
                .iter()
                .flat_map(|x| &x.lines)
                .map(|l| l.capacity)
                .sum()
        };
        assert!((cap(&w) - 3.0 * cap(&s)).abs() < 1e-9 * cap(&s));
        let m = synth(&s, 1, 4).unwrap();
        assert_eq!(m.suppliers.len(), 4 * s.suppliers.len());
        assert!((cap(&m) - cap(&s)).abs() < 1e-9 * cap(&s));
        assert!(synth(&s, 0, 1).is_err());
    }
}
