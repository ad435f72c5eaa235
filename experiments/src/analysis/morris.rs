//! Morris elementary effects: a cheap screening of which inputs matter.
//!
//! With dozens of uncertain inputs, a Sobol design is too expensive to start
//! with. Morris's method moves one input at a time along `r` random
//! trajectories (r*(D+1) runs) and measures each move's effect on the
//! output: `mu_star` (mean absolute effect) ranks the inputs, and `sigma`
//! (spread of the effects) flags the ones that act non-linearly or through
//! interactions. Inputs with small `mu_star` can be fixed before a Sobol
//! sweep.
//!
//! The design and the statistics are SALib 1.x's (`SALib.sample.morris`
//! without groups or optimal trajectories, `SALib.analyze.morris`): a
//! `p`-level grid in unit coordinates, step `delta = p / (2 (p-1))`, the
//! Morris (1991) B* construction for each trajectory, effects divided by the
//! unit-coordinate delta, and a bootstrap half-width for `mu_star`.
//! Differences from SALib:
//!
//! * draws come from `ChaCha8Rng::seed_from_u64(seed)`, not numpy;
//! * the bootstrap resamples whole trajectories, one set of resamples shared
//!   by all factors (SALib draws a fresh set per factor), and also gives an
//!   interval for `mu` (SALib reports one for `mu_star` only);
//! * the analysis checks the design instead of trusting it: each step must
//!   change exactly one factor by +/-delta and each factor must change once
//!   per trajectory, and it needs at least 2 trajectories (SALib returns NaN
//!   `sigma` for one);
//! * odd `levels` are refused (SALib warns and goes on with steps off the
//!   grid).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{check_finite, check_matrix, mean, std_ddof1, AnalysisError, Interval95};

/// A factor counts as changed between two rows when it moves by more than
/// this (unit coordinates); exact copies of a value are always equal.
const CHANGE_TOL: f64 = 1e-9;

/// How far a step may be from `delta` (unit coordinates), to allow for
/// designs written to text with a few decimals and read back. Deltas of
/// different level counts differ by far more (2/3, 3/5, 4/7, ...).
const STEP_TOL: f64 = 1e-4;

/// Morris statistics, one entry per input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MorrisIndices {
    /// Mean elementary effect (signed: effects of opposite signs cancel).
    pub mu: Vec<Interval95>,
    /// Mean absolute elementary effect: the ranking measure.
    pub mu_star: Vec<Interval95>,
    /// Standard deviation (ddof = 1) of the elementary effects:
    /// non-linearity and interactions.
    pub sigma: Vec<f64>,
}

/// The grid step SALib uses, in unit coordinates.
fn delta(levels: usize) -> f64 {
    levels as f64 / (2.0 * (levels as f64 - 1.0))
}

fn check_levels(levels: usize) -> Result<(), AnalysisError> {
    if levels < 2 || levels % 2 == 1 {
        return Err(AnalysisError::InvalidArgument(format!(
            "Morris needs an even number of levels >= 2 (so that each step of p/(2(p-1)) \
             stays on the grid), got {levels}"
        )));
    }
    Ok(())
}

/// [`try_morris_unit`], for settings known to be valid.
///
/// # Panics
///
/// If `levels` is odd or below 2, or `d == 0`; use [`try_morris_unit`] when
/// those come from the user.
pub fn morris_unit(r: usize, d: usize, levels: usize, seed: u64) -> Vec<Vec<f64>> {
    match try_morris_unit(r, d, levels, seed) {
        Ok(rows) => rows,
        Err(e) => panic!("morris_unit: {e}"),
    }
}

/// A Morris design in unit coordinates: `r` trajectories of `d + 1` rows
/// each (`r*(d+1)` rows of width `d`), drawn from
/// `ChaCha8Rng::seed_from_u64(seed)`.
///
/// Values lie on the grid `{0, 1/(p-1), ..., 1}` with `p = levels`. Each
/// trajectory is SALib's B*: a base point `x*` with every coordinate drawn
/// from the lower half of the grid (`0..p/2` over `p-1`, so `x* + delta`
/// stays in `[0, 1]`), a random direction per factor (the trajectory starts
/// at `x*` and moves up by `delta`, or starts at `x* + delta` and moves
/// down), and a random order in which the factors move, one per row, each
/// exactly once.
///
/// Errors: odd `levels` or below 2, `d == 0`.
pub fn try_morris_unit(
    r: usize,
    d: usize,
    levels: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>, AnalysisError> {
    check_levels(levels)?;
    if d == 0 {
        return Err(AnalysisError::InvalidArgument(
            "a Morris design needs at least one factor (d = 0)".into(),
        ));
    }
    let half = levels / 2;
    let top = (levels - 1) as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(r * (d + 1));
    for _ in 0..r {
        let base: Vec<usize> = (0..d).map(|_| rng.gen_range(0..half)).collect();
        let up: Vec<bool> = (0..d).map(|_| rng.gen_bool(0.5)).collect();
        let mut order: Vec<usize> = (0..d).collect();
        order.shuffle(&mut rng);
        // Levels as integers, so that every value is exactly a grid point.
        let mut level: Vec<usize> = base
            .iter()
            .zip(&up)
            .map(|(&b, &u)| if u { b } else { b + half })
            .collect();
        let to_row = |level: &[usize]| level.iter().map(|&l| l as f64 / top).collect::<Vec<f64>>();
        rows.push(to_row(&level));
        for &j in &order {
            if up[j] {
                level[j] += half;
            } else {
                level[j] -= half;
            }
            rows.push(to_row(&level));
        }
    }
    Ok(rows)
}

/// Morris statistics from a design `x_unit` (unit coordinates, `r*(d+1)`
/// rows of width `d`, as [`morris_unit`] makes it) and its outputs `y`, one
/// per row in row order.
///
/// For each step of each trajectory the one factor `j` that changed gets the
/// elementary effect `(y_next - y_prev) / delta` if it went up and
/// `(y_prev - y_next) / delta` if it went down, `delta = p/(2(p-1))` with
/// `p = levels`. `mu`, `mu_star` and `sigma` (ddof = 1) summarise each
/// factor's `r` effects; the intervals of `mu` and `mu_star` are bootstrap
/// half-widths over `resamples` resamples of the trajectories drawn from
/// `ChaCha8Rng::seed_from_u64(seed)`.
///
/// Errors: invalid `levels`, fewer than 2 resamples or 2 trajectories, a row
/// count that is not a multiple of `d + 1`, rows of the wrong width,
/// non-finite values, a step that changes other than one factor or by other
/// than delta, a trajectory that moves a factor twice.
pub fn morris(
    x_unit: &[Vec<f64>],
    y: &[f64],
    d: usize,
    levels: usize,
    resamples: usize,
    seed: u64,
) -> Result<MorrisIndices, AnalysisError> {
    check_levels(levels)?;
    if d == 0 {
        return Err(AnalysisError::InvalidArgument(
            "Morris analysis needs at least one factor (d = 0)".into(),
        ));
    }
    if resamples < 2 {
        return Err(AnalysisError::InvalidArgument(format!(
            "Morris intervals need at least 2 bootstrap resamples, got {resamples}"
        )));
    }
    if y.is_empty() {
        return Err(AnalysisError::EmptyData(
            "no outputs for the Morris analysis".into(),
        ));
    }
    let width = check_matrix(x_unit, y.len())?;
    if width != d {
        return Err(AnalysisError::LengthMismatch {
            what: "width of the Morris design rows".into(),
            got: width,
            expected: d,
        });
    }
    check_finite(y, "output")?;
    let step_rows = d + 1;
    let rows = x_unit.len();
    if rows.checked_rem(step_rows) != Some(0) || rows / step_rows < 2 {
        return Err(AnalysisError::WrongRowCount {
            design: "Morris",
            rows,
            expected: format!(
                "r*(D+1) = r*{step_rows} for D = {d}, with at least r = 2 trajectories"
            ),
        });
    }
    let r = rows / step_rows;
    let delta = delta(levels);

    // effects[t][j]: the effect of factor j in trajectory t.
    let mut effects = Vec::with_capacity(r);
    for (t, (xs, ys)) in x_unit
        .chunks(step_rows)
        .zip(y.chunks(step_rows))
        .enumerate()
    {
        let mut e = vec![0.0; d];
        let mut moved = vec![false; d];
        for m in 0..d {
            let row = t * step_rows + m;
            let (prev, next) = (&xs[m], &xs[m + 1]);
            let changed: Vec<usize> = (0..d)
                .filter(|&k| (next[k] - prev[k]).abs() > CHANGE_TOL)
                .collect();
            let &[j] = changed.as_slice() else {
                return Err(AnalysisError::NotOneFactorChanged {
                    trajectory: t,
                    row,
                    changed: changed.len(),
                });
            };
            let step = next[j] - prev[j];
            if (step.abs() - delta).abs() > STEP_TOL {
                return Err(AnalysisError::WrongStep {
                    row,
                    factor: j,
                    step,
                    levels,
                    delta,
                });
            }
            if moved[j] {
                return Err(AnalysisError::FactorChangedTwice {
                    trajectory: t,
                    factor: j,
                    row: row + 1,
                });
            }
            moved[j] = true;
            e[j] = if step > 0.0 {
                (ys[m + 1] - ys[m]) / delta
            } else {
                (ys[m] - ys[m + 1]) / delta
            };
        }
        effects.push(e);
    }
    // ee[j][t], as SALib holds them: one row of r effects per factor.
    let ee: Vec<Vec<f64>> = (0..d)
        .map(|j| effects.iter().map(|e| e[j]).collect())
        .collect();

    let abs_ee: Vec<Vec<f64>> = ee
        .iter()
        .map(|e| e.iter().map(|v| v.abs()).collect())
        .collect();
    let mu_point: Vec<f64> = ee.iter().map(|e| mean(e)).collect();
    let mu_star_point: Vec<f64> = abs_ee.iter().map(|e| mean(e)).collect();
    let sigma: Vec<f64> = ee.iter().map(|e| std_ddof1(e)).collect();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot_mu = vec![Vec::with_capacity(resamples); d];
    let mut boot_mu_star = vec![Vec::with_capacity(resamples); d];
    let mut idx = vec![0usize; r];
    for _ in 0..resamples {
        for slot in idx.iter_mut() {
            *slot = rng.gen_range(0..r);
        }
        for j in 0..d {
            let (mut s, mut sa) = (0.0, 0.0);
            for &t in &idx {
                s += ee[j][t];
                sa += abs_ee[j][t];
            }
            boot_mu[j].push(s / r as f64);
            boot_mu_star[j].push(sa / r as f64);
        }
    }

    Ok(MorrisIndices {
        mu: (0..d)
            .map(|j| Interval95::from_bootstrap(mu_point[j], &boot_mu[j]))
            .collect(),
        mu_star: (0..d)
            .map(|j| Interval95::from_bootstrap(mu_star_point[j], &boot_mu_star[j]))
            .collect(),
        sigma,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(x: &[Vec<f64>], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        x.iter().map(|r| f(r)).collect()
    }

    #[test]
    fn every_trajectory_moves_each_factor_once_by_delta_on_the_grid() {
        for &(levels, d) in &[(4usize, 3usize), (6, 5), (2, 4), (8, 1)] {
            let r = 50;
            let x = morris_unit(r, d, levels, 17);
            assert_eq!(x.len(), r * (d + 1));
            let top = (levels - 1) as f64;
            let delta = delta(levels);
            for row in &x {
                assert_eq!(row.len(), d);
                for &v in row {
                    assert!((0.0..=1.0).contains(&v), "{v} outside [0, 1]");
                    let l = v * top;
                    assert!(
                        (l - l.round()).abs() < 1e-12,
                        "{v} is not on the {levels}-level grid"
                    );
                }
            }
            for t in 0..r {
                let mut times = vec![0; d];
                for m in 0..d {
                    let (a, b) = (&x[t * (d + 1) + m], &x[t * (d + 1) + m + 1]);
                    let changed: Vec<usize> = (0..d).filter(|&k| a[k] != b[k]).collect();
                    assert_eq!(changed.len(), 1, "trajectory {t}, step {m}");
                    let j = changed[0];
                    assert!(((b[j] - a[j]).abs() - delta).abs() < 1e-12);
                    times[j] += 1;
                }
                assert!(times.iter().all(|&c| c == 1), "trajectory {t}: {times:?}");
            }
        }
    }

    #[test]
    fn design_uses_both_directions_and_random_orders() {
        let x = morris_unit(200, 3, 4, 1);
        let (mut ups, mut downs) = (0, 0);
        let mut first_moved = [0usize; 3];
        for t in 0..200 {
            for m in 0..3 {
                let (a, b) = (&x[t * 4 + m], &x[t * 4 + m + 1]);
                for k in 0..3 {
                    if b[k] > a[k] {
                        ups += 1;
                    } else if b[k] < a[k] {
                        downs += 1;
                    }
                    if m == 0 && b[k] != a[k] {
                        first_moved[k] += 1;
                    }
                }
            }
        }
        assert!(ups > 200 && downs > 200, "ups {ups}, downs {downs}");
        assert!(first_moved.iter().all(|&c| c > 30), "{first_moved:?}");
    }

    #[test]
    fn design_is_deterministic_in_the_seed() {
        assert_eq!(morris_unit(10, 4, 4, 3), morris_unit(10, 4, 4, 3));
        assert_ne!(morris_unit(10, 4, 4, 3), morris_unit(10, 4, 4, 4));
    }

    #[test]
    fn linear_model_has_exact_effects() {
        let x = morris_unit(40, 3, 4, 5);
        let y = outputs(&x, |r| 10.0 * r[0] + 1.0 * r[1] + 0.0 * r[2]);
        let m = morris(&x, &y, 3, 4, 100, 9).unwrap();
        for (j, want) in [10.0, 1.0, 0.0].into_iter().enumerate() {
            assert!(
                (m.mu_star[j].value - want).abs() < 1e-9,
                "{:?}",
                m.mu_star[j]
            );
            assert!((m.mu[j].value - want).abs() < 1e-9, "{:?}", m.mu[j]);
            assert!(m.sigma[j].abs() < 1e-9, "sigma[{j}] = {}", m.sigma[j]);
            assert!(m.mu_star[j].hi - m.mu_star[j].lo < 1e-9);
        }
    }

    #[test]
    fn interaction_shows_in_sigma() {
        let x = morris_unit(60, 3, 4, 8);
        let y = outputs(&x, |r| r[0] * r[1]);
        let m = morris(&x, &y, 3, 4, 100, 2).unwrap();
        assert!(m.sigma[0] > 0.1, "sigma_0 = {}", m.sigma[0]);
        assert!(m.sigma[1] > 0.1, "sigma_1 = {}", m.sigma[1]);
        assert!(m.sigma[2].abs() < 1e-12 && m.mu_star[2].value.abs() < 1e-12);
        // The interval is a proper one around the estimate.
        assert!(m.mu_star[0].lo < m.mu_star[0].value && m.mu_star[0].value < m.mu_star[0].hi);
    }

    #[test]
    fn signed_effects_cancel_in_mu_not_mu_star() {
        // y = (x0 - 0.5)^2 on 4 levels: the steps 0 -> 2/3 and 1/3 -> 1 have
        // effects -1/3 and +1/3.
        let x = morris_unit(400, 2, 4, 12);
        let y = outputs(&x, |r| (r[0] - 0.5).powi(2));
        let m = morris(&x, &y, 2, 4, 100, 0).unwrap();
        assert!(m.mu[0].value.abs() < 0.05, "mu = {:?}", m.mu[0]);
        assert!(
            (m.mu_star[0].value - 1.0 / 3.0).abs() < 1e-9,
            "mu* = {:?}",
            m.mu_star[0]
        );
    }

    #[test]
    fn rejects_designs_it_cannot_read() {
        let x = morris_unit(3, 2, 4, 0);
        let y = outputs(&x, |r| r[0]);
        // Wrong number of rows.
        let err = morris(&x[..8], &y[..8], 2, 4, 10, 0).unwrap_err();
        assert!(
            matches!(err, AnalysisError::WrongRowCount { rows: 8, .. }),
            "{err}"
        );
        // Outputs and rows disagree.
        assert!(matches!(
            morris(&x, &y[..6], 2, 4, 10, 0),
            Err(AnalysisError::LengthMismatch { .. })
        ));
        // A step that changes both factors.
        let mut bad = x.clone();
        bad[1] = vec![1.0 - bad[0][0], 1.0 - bad[0][1]];
        let err = morris(&bad, &y, 2, 4, 10, 0).unwrap_err();
        assert!(
            matches!(
                err,
                AnalysisError::NotOneFactorChanged {
                    trajectory: 0,
                    row: 0,
                    changed: 2
                }
            ),
            "{err}"
        );
        // A step that changes nothing.
        let mut bad = x.clone();
        bad[1] = bad[0].clone();
        let err = morris(&bad, &y, 2, 4, 10, 0).unwrap_err();
        assert!(
            matches!(err, AnalysisError::NotOneFactorChanged { changed: 0, .. }),
            "{err}"
        );
        // Analysed with other levels than sampled: the step is not delta.
        let err = morris(&x, &y, 2, 6, 10, 0).unwrap_err();
        assert!(
            matches!(err, AnalysisError::WrongStep { levels: 6, .. }),
            "{err}"
        );
        // The same factor moved twice in a trajectory.
        let f = (0..2).find(|&k| x[1][k] != x[0][k]).unwrap();
        let mut bad = x.clone();
        bad[2] = bad[0].clone();
        let err = morris(&bad, &y, 2, 4, 10, 0).unwrap_err();
        assert!(
            matches!(err, AnalysisError::FactorChangedTwice { trajectory: 0, factor, row: 2 } if factor == f),
            "{err}"
        );
        // Odd levels, one trajectory, too few resamples, non-finite outputs.
        assert!(matches!(
            try_morris_unit(3, 2, 5, 0),
            Err(AnalysisError::InvalidArgument(_))
        ));
        assert!(matches!(
            morris(&x, &y, 2, 5, 10, 0),
            Err(AnalysisError::InvalidArgument(_))
        ));
        assert!(matches!(
            morris(&x[..3], &y[..3], 2, 4, 10, 0),
            Err(AnalysisError::WrongRowCount { .. })
        ));
        assert!(matches!(
            morris(&x, &y, 2, 4, 1, 0),
            Err(AnalysisError::InvalidArgument(_))
        ));
        let mut ynan = y.clone();
        ynan[4] = f64::NAN;
        assert!(matches!(
            morris(&x, &ynan, 2, 4, 10, 0),
            Err(AnalysisError::NonFinite { row: 4, .. })
        ));
    }
}
