//! PRIM scenario discovery: a box in input space where an outcome holds.
//!
//! Sensitivity indices say which inputs matter; policy questions are more
//! often "under which conditions does the export share collapse?". PRIM
//! (Friedman and Fisher 1999, as used for scenario discovery by Bryant and
//! Lempert 2010) answers with a box, a range per input, that holds many of
//! the cases of interest (coverage) and few others (density), restricting
//! as few inputs as it can so the answer reads as a sentence.
//!
//! The algorithm follows the EMA Workbench's `prim.Prim` with its defaults,
//! so that a box found here and one found in Python agree:
//!
//! * **Peeling.** From the box around all the data, each step considers, for
//!   every input, cutting the points below its [`PEEL_ALPHA`] quantile
//!   within the box, or above its `1 - PEEL_ALPHA` quantile, the quantile
//!   becoming the new limit. The candidate with the best "lenient1"
//!   objective wins: `(mean(y_new) - mean(y_old)) / (n_old - n_new)`, the
//!   gain in density per point removed. Ties go to the peel that removes
//!   fewer points, then to the one that leaves fewer inputs restricted, then
//!   to the first input, upper limit before lower (EMA's order). Peeling
//!   stops when the best peel would not raise the density, would remove
//!   nothing, or would leave less than [`MASS_MIN`] of all points in the
//!   box (as in EMA, the best peel is checked; a worse one is not tried).
//! * **Choosing.** The chosen box is the last box on the peeling trajectory
//!   whose density reaches the threshold (EMA's `find_box` likewise returns
//!   the last box), or the densest box when none does.
//! * **Pasting.** The chosen box is then pasted: for each restricted input
//!   and each side, the candidate moves that limit outward just far enough
//!   to take in the [`PASTE_ALPHA`] share of the box's points that lie
//!   nearest beyond it (within the other limits); the best candidate by the
//!   same objective is kept if it does not lower the density, and pasting
//!   repeats until no candidate qualifies.
//!
//! Where this departs from EMA (document these next to any comparison):
//!
//! * quantiles are numpy's default linear interpolation (`np.percentile`);
//!   EMA uses sdtoolkit's `get_quantile`, the midpoint between the two
//!   distinct data values around the quantile. On continuous inputs the
//!   limits differ by a fraction of the gap between neighbouring points; on
//!   inputs with many tied values (a grid), a linear quantile that lands on
//!   a tie removes nothing from that side, where EMA's moves past the tie;
//! * EMA pastes the last peeled box and appends the pasted boxes to the
//!   trajectory; here the chosen box is pasted and the result is returned
//!   on its own ([`PrimResult::pasted`]) so that the trajectory stays the
//!   peeling trajectory, with coverage and mass non-increasing;
//! * a paste is taken in by the box's mass (`PASTE_ALPHA` times the points
//!   in the box, at least one), where EMA takes the `PASTE_ALPHA` quantile
//!   of the points beyond the limit; and a paste that keeps the density
//!   equal is kept, where EMA requires it to rise;
//! * inputs are numeric only (EMA also peels categorical inputs).

use serde::{Deserialize, Serialize};

use super::{check_matrix, AnalysisError};

/// The share of the box's points removed by one peel (EMA's default).
pub const PEEL_ALPHA: f64 = 0.05;
/// The share of the box's points one paste may take in (EMA's default).
pub const PASTE_ALPHA: f64 = 0.05;
/// Peeling stops before the box holds less than this share of all points
/// (EMA's default).
pub const MASS_MIN: f64 = 0.05;

/// One box: a closed range per input, and how well it captures the cases of
/// interest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimBox {
    /// `(lower, upper)` per input; a point is in the box when
    /// `lower <= x <= upper` on every input.
    pub limits: Vec<(f64, f64)>,
    /// Share of all cases of interest that are in the box.
    pub coverage: f64,
    /// Share of the points in the box that are cases of interest.
    pub density: f64,
    /// Share of all points that are in the box.
    pub mass: f64,
    /// Inputs whose limits are tighter than the data's range, ascending.
    pub restricted: Vec<usize>,
}

/// The peeling trajectory and the box PRIM settles on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimResult {
    /// The boxes peeling went through; `trajectory[0]` is the box around all
    /// the data. Coverage and mass never increase along it.
    pub trajectory: Vec<PrimBox>,
    /// Index into `trajectory` of the chosen box: the last one whose density
    /// reaches the threshold, or the densest one when none does.
    pub chosen: usize,
    /// `trajectory[chosen]` after the final pasting pass (equal to it when
    /// no paste was kept). This is the box to report.
    pub pasted: PrimBox,
}

/// The data and its totals.
struct Data<'a> {
    x: &'a [Vec<f64>],
    y: &'a [bool],
    d: usize,
    total_coi: usize,
    /// The data's range per input.
    init: Vec<(f64, f64)>,
}

impl Data<'_> {
    fn is_restricted(&self, k: usize, lim: (f64, f64)) -> bool {
        lim.0 > self.init[k].0 || lim.1 < self.init[k].1
    }

    fn restricted(&self, limits: &[(f64, f64)]) -> Vec<usize> {
        (0..self.d)
            .filter(|&k| self.is_restricted(k, limits[k]))
            .collect()
    }

    fn make_box(&self, limits: &[(f64, f64)], inside: &[usize]) -> PrimBox {
        let coi = inside.iter().filter(|&&i| self.y[i]).count();
        PrimBox {
            limits: limits.to_vec(),
            coverage: coi as f64 / self.total_coi as f64,
            density: if inside.is_empty() {
                0.0
            } else {
                coi as f64 / inside.len() as f64
            },
            mass: inside.len() as f64 / self.x.len() as f64,
            restricted: self.restricted(limits),
        }
    }
}

/// numpy's default (`method="linear"`) percentile of ascending `sorted`,
/// `p` in [0, 1], with numpy's lerp (exact at both ends).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// EMA's "lenient1" objective for going from `(coi_old, n_old)` to
/// `(coi_new, n_new)` points: gain in mean per point removed or added.
fn lenient1(coi_old: usize, n_old: usize, coi_new: usize, n_new: usize) -> f64 {
    let mean_old = coi_old as f64 / n_old as f64;
    let mean_new = if n_new == 0 {
        0.0
    } else {
        coi_new as f64 / n_new as f64
    };
    if mean_new == mean_old || n_new == n_old {
        return 0.0;
    }
    (mean_new - mean_old) / n_old.abs_diff(n_new) as f64
}

/// A candidate peel or paste: which limit moves where, and the box it makes.
#[derive(Debug, Clone, Copy)]
struct Move {
    dim: usize,
    upper: bool,
    bound: f64,
    n_new: usize,
    coi_new: usize,
    obj: f64,
    /// Points removed (peel) or added (paste).
    change: usize,
    /// Restricted inputs of the resulting box.
    restricted: usize,
}

/// The best peel of the box `limits` holding the points `inside`.
fn best_peel(data: &Data, limits: &[(f64, f64)], inside: &[usize]) -> Option<Move> {
    let n_old = inside.len();
    let coi_old = inside.iter().filter(|&&i| data.y[i]).count();
    let restricted_now = data.restricted(limits).len();
    let mut best: Option<Move> = None;
    let mut pts: Vec<(f64, bool)> = Vec::with_capacity(n_old);
    for (k, &lim_k) in limits.iter().enumerate() {
        pts.clear();
        pts.extend(inside.iter().map(|&i| (data.x[i][k], data.y[i])));
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let values: Vec<f64> = pts.iter().map(|p| p.0).collect();
        // coi_before[m]: cases of interest among the m smallest values.
        let mut coi_before = Vec::with_capacity(n_old + 1);
        coi_before.push(0usize);
        for p in &pts {
            coi_before.push(coi_before.last().copied().unwrap_or(0) + usize::from(p.1));
        }
        for upper in [true, false] {
            let (bound, n_new, coi_new) = if upper {
                let q = percentile(&values, 1.0 - PEEL_ALPHA);
                let keep = values.partition_point(|&v| v <= q);
                (q, keep, coi_before[keep])
            } else {
                let q = percentile(&values, PEEL_ALPHA);
                let cut = values.partition_point(|&v| v < q);
                (q, n_old - cut, coi_old - coi_before[cut])
            };
            let mut lim = lim_k;
            if upper {
                lim.1 = bound;
            } else {
                lim.0 = bound;
            }
            let restricted = restricted_now
                + usize::from(data.is_restricted(k, lim) && !data.is_restricted(k, lim_k));
            let cand = Move {
                dim: k,
                upper,
                bound,
                n_new,
                coi_new,
                obj: lenient1(coi_old, n_old, coi_new, n_new),
                change: n_old - n_new,
                restricted,
            };
            let better = match &best {
                None => true,
                Some(b) => {
                    cand.obj > b.obj
                        || (cand.obj == b.obj
                            && (cand.change < b.change
                                || (cand.change == b.change && cand.restricted < b.restricted)))
                }
            };
            if better {
                best = Some(cand);
            }
        }
    }
    best
}

/// The best paste of the box `limits`, whose membership is `in_box`.
fn best_paste(data: &Data, limits: &[(f64, f64)], in_box: &[bool]) -> Option<Move> {
    let n_old = in_box.iter().filter(|&&b| b).count();
    let coi_old = (0..data.x.len())
        .filter(|&i| in_box[i] && data.y[i])
        .count();
    let take = ((PASTE_ALPHA * n_old as f64).ceil() as usize).max(1);
    let mut best: Option<Move> = None;
    for k in data.restricted(limits) {
        for upper in [false, true] {
            let (lo, hi) = limits[k];
            // The points beyond this limit and within all the others.
            let mut slab: Vec<(f64, bool)> = data
                .x
                .iter()
                .zip(data.y)
                .filter(|(row, _)| {
                    let beyond = if upper { row[k] > hi } else { row[k] < lo };
                    beyond
                        && (0..data.d)
                            .all(|o| o == k || (limits[o].0 <= row[o] && row[o] <= limits[o].1))
                })
                .map(|(row, &c)| (row[k], c))
                .collect();
            if slab.is_empty() {
                continue;
            }
            if upper {
                slab.sort_by(|a, b| a.0.total_cmp(&b.0));
            } else {
                slab.sort_by(|a, b| b.0.total_cmp(&a.0));
            }
            let bound = slab[take.min(slab.len()) - 1].0;
            let added: Vec<&(f64, bool)> = slab
                .iter()
                .filter(|p| if upper { p.0 <= bound } else { p.0 >= bound })
                .collect();
            let n_new = n_old + added.len();
            let coi_new = coi_old + added.iter().filter(|p| p.1).count();
            // Keep only pastes that do not lower the density (exact, in
            // integers): coi_new / n_new >= coi_old / n_old.
            if (coi_new as u128) * (n_old as u128) < (coi_old as u128) * (n_new as u128) {
                continue;
            }
            let cand = Move {
                dim: k,
                upper,
                bound,
                n_new,
                coi_new,
                obj: lenient1(coi_old, n_old, coi_new, n_new),
                change: added.len(),
                restricted: 0,
            };
            let better = match &best {
                None => true,
                Some(b) => cand.obj > b.obj || (cand.obj == b.obj && cand.change > b.change),
            };
            if better {
                best = Some(cand);
            }
        }
    }
    best
}

/// Pastes the box `limits` until no paste qualifies; returns the pasted
/// limits and the points inside them.
fn paste(data: &Data, limits: &[(f64, f64)]) -> (Vec<(f64, f64)>, Vec<usize>) {
    let inside_limits = |limits: &[(f64, f64)], row: &[f64]| {
        limits
            .iter()
            .zip(row)
            .all(|(&(lo, hi), &v)| lo <= v && v <= hi)
    };
    let mut limits = limits.to_vec();
    let mut in_box: Vec<bool> = data.x.iter().map(|r| inside_limits(&limits, r)).collect();
    while let Some(paste) = best_paste(data, &limits, &in_box) {
        let k = paste.dim;
        if paste.upper {
            limits[k].1 = paste.bound;
        } else {
            limits[k].0 = paste.bound;
        }
        in_box = data.x.iter().map(|r| inside_limits(&limits, r)).collect();
        debug_assert_eq!(in_box.iter().filter(|&&b| b).count(), paste.n_new);
        debug_assert_eq!(
            (0..data.x.len())
                .filter(|&i| in_box[i] && data.y[i])
                .count(),
            paste.coi_new
        );
    }
    let members = (0..data.x.len()).filter(|&i| in_box[i]).collect();
    (limits, members)
}

/// PRIM on the points `x` (rows x inputs) with the cases of interest `y`,
/// with EMA's defaults ([`PEEL_ALPHA`], [`PASTE_ALPHA`], [`MASS_MIN`],
/// lenient1) and `threshold` the density a box must reach to be chosen
/// (EMA's default is 0.8). See the module documentation for the steps.
///
/// Errors: no rows or columns, ragged rows, `y` not matching the rows,
/// non-finite inputs, a threshold outside [0, 1], and no case of interest
/// at all (coverage would be undefined).
pub fn prim(x: &[Vec<f64>], y: &[bool], threshold: f64) -> Result<PrimResult, AnalysisError> {
    let d = check_matrix(x, y.len())?;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(AnalysisError::InvalidArgument(format!(
            "the PRIM density threshold must be in [0, 1], got {threshold}"
        )));
    }
    let total_coi = y.iter().filter(|&&c| c).count();
    if total_coi == 0 {
        return Err(AnalysisError::EmptyData(format!(
            "none of the {} points is a case of interest, so there is nothing for PRIM to find",
            y.len()
        )));
    }
    let init: Vec<(f64, f64)> = (0..d)
        .map(|k| {
            x.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                    (lo.min(r[k]), hi.max(r[k]))
                })
        })
        .collect();
    let data = Data {
        x,
        y,
        d,
        total_coi,
        init: init.clone(),
    };
    let n = x.len();

    // Peeling.
    let mut limits = init;
    let mut inside: Vec<usize> = (0..n).collect();
    let mut trajectory = vec![data.make_box(&limits, &inside)];
    while let Some(peel) = best_peel(&data, &limits, &inside) {
        let mass_new = peel.n_new as f64 / n as f64;
        if !(mass_new >= MASS_MIN && peel.n_new < inside.len() && peel.obj > 0.0) {
            break;
        }
        let k = peel.dim;
        if peel.upper {
            limits[k].1 = peel.bound;
            inside.retain(|&i| x[i][k] <= peel.bound);
        } else {
            limits[k].0 = peel.bound;
            inside.retain(|&i| x[i][k] >= peel.bound);
        }
        debug_assert_eq!(inside.len(), peel.n_new);
        debug_assert_eq!(inside.iter().filter(|&&i| y[i]).count(), peel.coi_new);
        trajectory.push(data.make_box(&limits, &inside));
    }

    // Choosing.
    let chosen = match trajectory.iter().rposition(|b| b.density >= threshold) {
        Some(i) => i,
        None => {
            let mut best = 0;
            for (i, b) in trajectory.iter().enumerate() {
                if b.density > trajectory[best].density {
                    best = i;
                }
            }
            best
        }
    };

    // Final pasting pass on the chosen box.
    let (limits, members) = paste(&data, &trajectory[chosen].limits);
    let pasted = data.make_box(&limits, &members);

    Ok(PrimResult {
        trajectory,
        chosen,
        pasted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn uniform(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| (0..d).map(|_| rng.gen::<f64>()).collect())
            .collect()
    }

    fn corner_case() -> (Vec<Vec<f64>>, Vec<bool>) {
        let x = uniform(2000, 3, 21);
        let y = x.iter().map(|r| r[0] < 0.3 && r[1] > 0.6).collect();
        (x, y)
    }

    #[test]
    fn percentile_is_numpys_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // np.percentile([1, 2, 3, 4], [5, 95, 50, 0, 100]) = [1.15, 3.85, 2.5, 1, 4]
        assert!((percentile(&v, 0.05) - 1.15).abs() < 1e-12);
        assert!((percentile(&v, 0.95) - 3.85).abs() < 1e-12);
        assert_eq!(percentile(&v, 0.5), 2.5);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 4.0);
        assert_eq!(percentile(&[7.0], 0.05), 7.0);
    }

    #[test]
    fn lenient1_is_gain_per_point() {
        // 10 points, 5 of interest -> 8 points, 5 of interest.
        assert!((lenient1(5, 10, 5, 8) - (5.0 / 8.0 - 0.5) / 2.0).abs() < 1e-15);
        assert_eq!(lenient1(5, 10, 4, 8), 0.0);
        assert!(lenient1(5, 10, 3, 8) < 0.0);
        assert!(lenient1(5, 10, 6, 11) > 0.0);
    }

    #[test]
    fn finds_the_corner_box() {
        let (x, y) = corner_case();
        let r = prim(&x, &y, 0.8).unwrap();
        for (name, b) in [("chosen", &r.trajectory[r.chosen]), ("pasted", &r.pasted)] {
            let l = &b.limits;
            assert!(
                l[0].0 < 0.05 && (l[0].1 - 0.3).abs() < 0.05,
                "{name} x0 {:?}",
                l[0]
            );
            assert!(
                (l[1].0 - 0.6).abs() < 0.05 && l[1].1 > 0.95,
                "{name} x1 {:?}",
                l[1]
            );
            assert!(l[2].0 < 0.05 && l[2].1 > 0.95, "{name} x2 {:?}", l[2]);
            assert!(b.density >= 0.8, "{name} density {}", b.density);
            assert!(b.coverage > 0.8, "{name} coverage {}", b.coverage);
            assert!(
                b.restricted.contains(&0) && b.restricted.contains(&1),
                "{name} {:?}",
                b.restricted
            );
        }
        // Pasting never lowers the density nor loses coverage.
        let c = &r.trajectory[r.chosen];
        assert!(r.pasted.density >= c.density && r.pasted.coverage >= c.coverage);
    }

    #[test]
    fn trajectory_starts_with_all_data_and_shrinks() {
        let (x, y) = corner_case();
        let r = prim(&x, &y, 0.8).unwrap();
        let first = &r.trajectory[0];
        assert_eq!((first.coverage, first.mass), (1.0, 1.0));
        assert!(first.restricted.is_empty());
        assert!((first.density - y.iter().filter(|&&c| c).count() as f64 / 2000.0).abs() < 1e-15);
        assert!(r.trajectory.len() > 5);
        for w in r.trajectory.windows(2) {
            assert!(w[1].coverage <= w[0].coverage, "{:?} -> {:?}", w[0], w[1]);
            assert!(w[1].mass < w[0].mass, "{:?} -> {:?}", w[0], w[1]);
            assert!(w[1].density > w[0].density, "a peel must raise the density");
        }
        assert!(r.trajectory.iter().all(|b| b.mass >= MASS_MIN));
        // The chosen box is the last that reaches the threshold.
        assert!(r.trajectory[r.chosen].density >= 0.8);
        assert!(r.trajectory[r.chosen + 1..].iter().all(|b| b.density < 0.8));
    }

    #[test]
    fn box_statistics_match_a_recount_from_the_limits() {
        let (x, y) = corner_case();
        let r = prim(&x, &y, 0.8).unwrap();
        let total = y.iter().filter(|&&c| c).count() as f64;
        for b in r.trajectory.iter().chain([&r.pasted]) {
            let inside: Vec<usize> = (0..x.len())
                .filter(|&i| {
                    b.limits
                        .iter()
                        .zip(&x[i])
                        .all(|(&(lo, hi), &v)| lo <= v && v <= hi)
                })
                .collect();
            let coi = inside.iter().filter(|&&i| y[i]).count() as f64;
            assert_eq!(b.mass, inside.len() as f64 / x.len() as f64);
            assert_eq!(b.coverage, coi / total);
            assert_eq!(b.density, coi / inside.len() as f64);
        }
    }

    #[test]
    fn is_deterministic() {
        let (x, y) = corner_case();
        assert_eq!(prim(&x, &y, 0.8).unwrap(), prim(&x, &y, 0.8).unwrap());
    }

    #[test]
    fn unreachable_threshold_picks_the_densest_box() {
        // Outcome independent of the inputs: no box gets near density 0.99.
        let x = uniform(1000, 2, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let y: Vec<bool> = (0..1000).map(|_| rng.gen_bool(0.3)).collect();
        let r = prim(&x, &y, 0.99).unwrap();
        let max = r.trajectory.iter().map(|b| b.density).fold(0.0, f64::max);
        assert!(max < 0.99);
        assert_eq!(r.trajectory[r.chosen].density, max);
    }

    #[test]
    fn everything_of_interest_needs_no_box() {
        let x = uniform(100, 2, 5);
        let r = prim(&x, &[true; 100], 0.8).unwrap();
        assert_eq!(r.trajectory.len(), 1);
        assert_eq!(r.chosen, 0);
        assert_eq!(r.pasted, r.trajectory[0]);
        assert_eq!(r.pasted.density, 1.0);
    }

    #[test]
    fn pasting_takes_back_what_a_peel_overshot() {
        // x = 0.00, 0.01, ..., 0.99; of interest below 0.5. Start from a box
        // cut at 0.30: each paste takes ceil(5% of the box) more points
        // (2, 2, 2, 2, 2, 3, 3, 3 of them), reaching 0.49; the next would take
        // 0.50 and lower the density, so pasting stops there.
        let x: Vec<Vec<f64>> = (0..100).map(|i| vec![i as f64 / 100.0, 0.5]).collect();
        let y: Vec<bool> = x.iter().map(|r| r[0] < 0.5).collect();
        let data = Data {
            x: &x,
            y: &y,
            d: 2,
            total_coi: 50,
            init: vec![(0.0, 0.99), (0.5, 0.5)],
        };
        let (limits, members) = paste(&data, &[(0.0, 0.30), (0.5, 0.5)]);
        assert_eq!(limits, vec![(0.0, 0.49), (0.5, 0.5)]);
        assert_eq!(members, (0..50).collect::<Vec<usize>>());
        let b = data.make_box(&limits, &members);
        assert_eq!((b.density, b.coverage, b.mass), (1.0, 1.0, 0.5));
        assert_eq!(b.restricted, vec![0]);

        // A box that already holds every case of interest gains nothing.
        let (limits, _) = paste(&data, &[(0.0, 0.49), (0.5, 0.5)]);
        assert_eq!(limits[0], (0.0, 0.49));
    }

    #[test]
    fn pasting_keeps_only_pastes_that_hold_the_density() {
        // Of interest: x0 < 0.5, plus scattered points above. From [0, 0.3]
        // with density 1, any paste past 0.5 lowers the density.
        let x: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64 / 200.0]).collect();
        let y: Vec<bool> = (0..200).map(|i| i < 100 || i % 10 == 0).collect();
        let data = Data {
            x: &x,
            y: &y,
            d: 1,
            total_coi: y.iter().filter(|&&c| c).count(),
            init: vec![(0.0, 0.995)],
        };
        let (limits, members) = paste(&data, &[(0.0, 0.3)]);
        assert!(limits[0].1 <= 0.5 && limits[0].1 >= 0.45, "{limits:?}");
        assert!(members.iter().all(|&i| y[i]));
    }

    #[test]
    fn rejects_data_it_cannot_use() {
        let x = uniform(10, 2, 1);
        let y = vec![true; 10];
        assert!(matches!(
            prim(&x, &[false; 10], 0.8),
            Err(AnalysisError::EmptyData(_))
        ));
        assert!(matches!(
            prim(&x, &y[..9], 0.8),
            Err(AnalysisError::LengthMismatch { .. })
        ));
        assert!(matches!(
            prim(&x, &y, 1.5),
            Err(AnalysisError::InvalidArgument(_))
        ));
        assert!(matches!(
            prim(&x, &y, f64::NAN),
            Err(AnalysisError::InvalidArgument(_))
        ));
        let mut xn = x.clone();
        xn[2][1] = f64::NAN;
        assert!(matches!(
            prim(&xn, &y, 0.8),
            Err(AnalysisError::NonFinite { row: 2, .. })
        ));
        assert!(matches!(
            prim(&[], &[], 0.8),
            Err(AnalysisError::EmptyData(_))
        ));
    }
}
