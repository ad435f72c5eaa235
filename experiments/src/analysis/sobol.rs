//! Variance-based (Sobol) sensitivity indices from a Saltelli design.
//!
//! Sobol indices answer "how much of the output's variance is due to this
//! input, alone (S1), with everything it interacts with (ST), or in a pair
//! (S2)?" without assuming the model is linear or monotone, which the
//! simulator is not. They cost N*(D+2) runs (N*(2D+2) with pairs), so they
//! are the thorough follow-up to a Morris screening.
//!
//! The design layout and the estimators are SALib 1.x's
//! (`SALib.sample.sobol.sample`, `SALib.analyze.sobol.analyze`) so that a
//! sweep analysed here and one analysed in Python with SALib agree: the
//! output is standardized first, S1 and ST are the Saltelli et al. (2010)
//! estimators, S2 is Saltelli (2002), all normalised by the variance of the
//! A and B rows, and the intervals are bootstrap half-widths over the N base
//! samples. Differences from SALib, all in corner cases:
//!
//! * the bootstrap draws come from `ChaCha8Rng::seed_from_u64(seed)`, not
//!   numpy, so the intervals are SALib's in distribution, not bit for bit;
//! * an output that is constant over all rows is an error
//!   ([`AnalysisError::ConstantOutput`]) rather than NaN indices;
//! * a bootstrap resample whose A and B rows happen to be all equal counts
//!   as index 0 (as SALib up to 1.4.5 did), rather than a division by zero.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{check_finite, mean, var_ddof0, AnalysisError, Interval95};

/// Sobol indices with bootstrap 95% intervals, one entry per input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SobolIndices {
    /// First-order indices: the share of variance due to each input alone.
    pub s1: Vec<Interval95>,
    /// Total-order indices: the share due to each input including all its
    /// interactions.
    pub st: Vec<Interval95>,
    /// Second-order indices `s2[j][k]` for `j < k` (the upper triangle of a
    /// D x D matrix; the other cells are NaN), when the design has the BA
    /// rows.
    pub s2: Option<Vec<Vec<Interval95>>>,
}

/// Rows per base sample: A, D x AB, (D x BA,) B.
fn rows_per_sample(d: usize, second_order: bool) -> usize {
    if second_order {
        2 * d + 2
    } else {
        d + 2
    }
}

/// The Saltelli design in unit coordinates, laid out as SALib 1.x's
/// `SALib.sample.sobol.sample` lays it out.
///
/// For each base sample `i` in `0..n` the rows are `A_i`, then `AB_i^(j)`
/// for `j` in `0..d` (`A_i` with column `j` taken from `B_i`), then, only if
/// `second_order`, `BA_i^(j)` for `j` in `0..d` (`B_i` with column `j` from
/// `A_i`), then `B_i`: `n*(d+2)` rows, or `n*(2d+2)` with second order.
///
/// `base(i, k)` is coordinate `k` in `0..2d` of base sample `i`: `A` uses
/// `k` in `0..d` and `B` uses `k` in `d..2d`. The caller chooses the base
/// sequence (an Owen-scrambled Sobol sequence is SALib's choice); it should
/// return values in `[0, 1)`, which are copied into the rows unchanged, and
/// it is called exactly once per (sample, coordinate).
pub fn saltelli_unit(
    n: usize,
    d: usize,
    second_order: bool,
    base: &dyn Fn(usize, usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut rows = Vec::with_capacity(n * rows_per_sample(d, second_order));
    for i in 0..n {
        let a: Vec<f64> = (0..d).map(|k| base(i, k)).collect();
        let b: Vec<f64> = (0..d).map(|k| base(i, d + k)).collect();
        rows.push(a.clone());
        for j in 0..d {
            let mut ab = a.clone();
            ab[j] = b[j];
            rows.push(ab);
        }
        if second_order {
            for j in 0..d {
                let mut ba = b.clone();
                ba[j] = a[j];
                rows.push(ba);
            }
        }
        rows.push(b);
    }
    rows
}

/// The standardized outputs split by role, as SALib's
/// `separate_output_values`.
struct Parts {
    a: Vec<f64>,
    b: Vec<f64>,
    /// `ab[j][i]`: base sample `i` with column `j` from B.
    ab: Vec<Vec<f64>>,
    /// `ba[j][i]`: base sample `i` with column `j` from A.
    ba: Option<Vec<Vec<f64>>>,
}

impl Parts {
    fn split(y: &[f64], n: usize, d: usize, second_order: bool) -> Parts {
        let step = rows_per_sample(d, second_order);
        let column = |offset: usize| (0..n).map(|i| y[i * step + offset]).collect::<Vec<f64>>();
        Parts {
            a: column(0),
            b: column(step - 1),
            ab: (0..d).map(|j| column(1 + j)).collect(),
            ba: second_order.then(|| (0..d).map(|j| column(1 + d + j)).collect()),
        }
    }
}

/// One set of point estimates.
struct Estimates {
    s1: Vec<f64>,
    st: Vec<f64>,
    /// Row-major D x D, upper triangle only meaningful.
    s2: Option<Vec<f64>>,
}

/// SALib's estimators on the base samples `idx` (all of them, in order, for
/// the point estimate; a resample with replacement for the bootstrap).
fn estimate(p: &Parts, idx: &[usize]) -> Estimates {
    let d = p.ab.len();
    let m = idx.len() as f64;
    let a: Vec<f64> = idx.iter().map(|&i| p.a[i]).collect();
    let b: Vec<f64> = idx.iter().map(|&i| p.b[i]).collect();
    let mut ab_all = a.clone();
    ab_all.extend_from_slice(&b);
    let var = var_ddof0(&ab_all);
    // SALib <= 1.4.5: a resample with no spread gives index 0.
    let zero = var.is_nan() || var <= 0.0;

    let mut s1 = vec![0.0; d];
    let mut st = vec![0.0; d];
    for j in 0..d {
        if zero {
            continue;
        }
        let abj = &p.ab[j];
        let (mut first, mut total) = (0.0, 0.0);
        for (t, &i) in idx.iter().enumerate() {
            let diff = abj[i] - a[t];
            first += b[t] * diff;
            total += diff * diff;
        }
        s1[j] = first / m / var;
        st[j] = 0.5 * (total / m) / var;
    }

    let s2 = p.ba.as_ref().map(|ba| {
        let mut s2 = vec![f64::NAN; d * d];
        for j in 0..d {
            for k in (j + 1)..d {
                if zero {
                    s2[j * d + k] = 0.0;
                    continue;
                }
                let (baj, abk) = (&ba[j], &p.ab[k]);
                let sum: f64 = idx
                    .iter()
                    .enumerate()
                    .map(|(t, &i)| baj[i] * abk[i] - a[t] * b[t])
                    .sum();
                s2[j * d + k] = sum / m / var - s1[j] - s1[k];
            }
        }
        s2
    });
    Estimates { s1, st, s2 }
}

/// Sobol indices of the outputs `y` of a Saltelli design (see
/// [`saltelli_unit`] for the row layout) over `d` inputs, with bootstrap
/// 95% intervals from `resamples` resamples of the base samples drawn from
/// `ChaCha8Rng::seed_from_u64(seed)`.
///
/// `y` holds one output per design row, in design row order.
/// `second_order` must match the design: it says whether the BA rows are
/// there. Errors: `d == 0`, fewer than 2 resamples, no rows, a row count that
/// is not a multiple of `d+2` (`2d+2` with second order), a non-finite
/// output, or an output that does not vary.
pub fn sobol(
    y: &[f64],
    d: usize,
    second_order: bool,
    resamples: usize,
    seed: u64,
) -> Result<SobolIndices, AnalysisError> {
    if d == 0 {
        return Err(AnalysisError::InvalidArgument(
            "Sobol analysis needs at least one input (d = 0)".into(),
        ));
    }
    if resamples < 2 {
        return Err(AnalysisError::InvalidArgument(format!(
            "Sobol intervals need at least 2 bootstrap resamples, got {resamples}"
        )));
    }
    if y.is_empty() {
        return Err(AnalysisError::EmptyData(
            "no outputs for the Sobol analysis".into(),
        ));
    }
    let step = rows_per_sample(d, second_order);
    if y.len().checked_rem(step) != Some(0) {
        let form = if second_order { "N*(2D+2)" } else { "N*(D+2)" };
        let hint = if !second_order && y.len().checked_rem(rows_per_sample(d, true)) == Some(0) {
            " (the row count fits a design with second order: was it sampled with second_order = true?)"
        } else if second_order && y.len().checked_rem(rows_per_sample(d, false)) == Some(0) {
            " (the row count fits a design without second order: was it sampled with second_order = false?)"
        } else {
            ""
        };
        return Err(AnalysisError::WrongRowCount {
            design: "Saltelli",
            rows: y.len(),
            expected: format!("a multiple of {step} ({form} with D = {d}){hint}"),
        });
    }
    check_finite(y, "output")?;
    let n = y.len() / step;

    // SALib: Y = (Y - Y.mean()) / Y.std()
    let mu = mean(y);
    let sd = var_ddof0(y).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return Err(AnalysisError::ConstantOutput {
            value: y[0],
            rows: y.len(),
        });
    }
    let z: Vec<f64> = y.iter().map(|v| (v - mu) / sd).collect();
    let parts = Parts::split(&z, n, d, second_order);

    let all: Vec<usize> = (0..n).collect();
    let point = estimate(&parts, &all);

    // Bootstrap over base samples; one set of resamples for every index, as
    // SALib draws one matrix `r` for all of them.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot_s1 = vec![Vec::with_capacity(resamples); d];
    let mut boot_st = vec![Vec::with_capacity(resamples); d];
    let mut boot_s2 = vec![Vec::with_capacity(resamples); d * d];
    let mut idx = vec![0usize; n];
    for _ in 0..resamples {
        for slot in idx.iter_mut() {
            *slot = rng.gen_range(0..n);
        }
        let e = estimate(&parts, &idx);
        for j in 0..d {
            boot_s1[j].push(e.s1[j]);
            boot_st[j].push(e.st[j]);
        }
        if let Some(s2) = &e.s2 {
            for (cell, v) in s2.iter().enumerate() {
                boot_s2[cell].push(*v);
            }
        }
    }

    let s1 = (0..d)
        .map(|j| Interval95::from_bootstrap(point.s1[j], &boot_s1[j]))
        .collect();
    let st = (0..d)
        .map(|j| Interval95::from_bootstrap(point.st[j], &boot_st[j]))
        .collect();
    let s2 = point.s2.as_ref().map(|s2| {
        (0..d)
            .map(|j| {
                (0..d)
                    .map(|k| {
                        if j < k {
                            Interval95::from_bootstrap(s2[j * d + k], &boot_s2[j * d + k])
                        } else {
                            Interval95::nan()
                        }
                    })
                    .collect()
            })
            .collect()
    });
    Ok(SobolIndices { s1, st, s2 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// A Saltelli design on an Owen-scrambled Sobol base sequence (what the
    /// sweeps use, and SALib's default), coordinates 0..2d of sample i.
    fn design(n: usize, d: usize, second_order: bool, seed: u32) -> Vec<Vec<f64>> {
        saltelli_unit(n, d, second_order, &|i, k| {
            sobol_burley::sample(i as u32, k as u32, seed) as f64
        })
    }

    /// The same on a ChaCha uniform base (plain Monte Carlo).
    fn mc_design(n: usize, d: usize, second_order: bool, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let base: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..2 * d).map(|_| rng.gen::<f64>()).collect())
            .collect();
        saltelli_unit(n, d, second_order, &|i, k| base[i][k])
    }

    fn ishigami(u: &[f64]) -> f64 {
        let (a, b) = (7.0, 0.1);
        let x: Vec<f64> = u.iter().map(|v| -PI + 2.0 * PI * v).collect();
        x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
    }

    /// Analytic Ishigami indices: (S1, ST, S13).
    fn ishigami_truth() -> ([f64; 3], [f64; 3], f64) {
        let (a, b) = (7.0f64, 0.1f64);
        let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
        let v = v1 + v2 + v13;
        (
            [v1 / v, v2 / v, 0.0],
            [(v1 + v13) / v, v2 / v, v13 / v],
            v13 / v,
        )
    }

    #[test]
    fn saltelli_layout_is_salibs() {
        // base(i, k) = 10*i + k makes every cell traceable.
        let base = |i: usize, k: usize| (10 * i + k) as f64;
        let rows = saltelli_unit(2, 2, true, &base);
        assert_eq!(rows.len(), 2 * (2 * 2 + 2));
        let expect_first = [
            vec![0.0, 1.0], // A
            vec![2.0, 1.0], // AB^(0)
            vec![0.0, 3.0], // AB^(1)
            vec![0.0, 3.0], // BA^(0): B with column 0 from A
            vec![2.0, 1.0], // BA^(1)
            vec![2.0, 3.0], // B
        ];
        assert_eq!(&rows[..6], &expect_first[..]);
        assert_eq!(rows[6], vec![10.0, 11.0]);
        assert_eq!(rows[11], vec![12.0, 13.0]);

        let rows = saltelli_unit(3, 4, false, &|i, k| (10 * i + k) as f64 / 100.0);
        assert_eq!(rows.len(), 3 * (4 + 2));
        assert!(rows.iter().all(|r| r.len() == 4));
        assert_eq!(rows[6 + 2], vec![0.10, 0.15, 0.12, 0.13]); // AB_1^(1)
    }

    #[test]
    fn ishigami_indices_match_the_analytic_values() {
        let n = 8192;
        let x = design(n, 3, true, 11);
        let y: Vec<f64> = x.iter().map(|r| ishigami(r)).collect();
        let s = sobol(&y, 3, true, 200, 7).unwrap();
        let (s1, st, s13) = ishigami_truth();
        for j in 0..3 {
            assert!(
                (s.s1[j].value - s1[j]).abs() < 0.03,
                "S1[{j}] = {:?}, expected {}",
                s.s1[j],
                s1[j]
            );
            assert!(
                (s.st[j].value - st[j]).abs() < 0.03,
                "ST[{j}] = {:?}, expected {}",
                s.st[j],
                st[j]
            );
            // The intervals are proper and not absurdly wide.
            assert!(s.s1[j].lo < s.s1[j].value && s.s1[j].value < s.s1[j].hi);
            assert!(
                s.st[j].hi - s.st[j].lo < 0.1,
                "ST[{j}] interval {:?}",
                s.st[j]
            );
        }
        let s2 = s.s2.as_ref().unwrap();
        assert!((s2[0][2].value - s13).abs() < 0.05, "S13 = {:?}", s2[0][2]);
        assert!(s2[0][1].value.abs() < 0.05, "S12 = {:?}", s2[0][1]);
        assert!(s2[1][2].value.abs() < 0.05, "S23 = {:?}", s2[1][2]);
        for (j, row) in s2.iter().enumerate() {
            for cell in &row[..=j] {
                assert!(cell.value.is_nan() && cell.lo.is_nan() && cell.hi.is_nan());
            }
        }
    }

    #[test]
    fn ishigami_first_and_total_order_without_pairs() {
        // Plain Monte Carlo needs more samples for the same accuracy.
        let n = 65_536;
        let x = mc_design(n, 3, false, 5);
        assert_eq!(x.len(), n * 5);
        let y: Vec<f64> = x.iter().map(|r| ishigami(r)).collect();
        let s = sobol(&y, 3, false, 100, 1).unwrap();
        let (s1, st, _) = ishigami_truth();
        assert!(s.s2.is_none());
        for j in 0..3 {
            assert!(
                (s.s1[j].value - s1[j]).abs() < 0.03,
                "S1[{j}] = {:?}",
                s.s1[j]
            );
            assert!(
                (s.st[j].value - st[j]).abs() < 0.03,
                "ST[{j}] = {:?}",
                s.st[j]
            );
        }
    }

    #[test]
    fn linear_model_splits_variance_by_coefficients() {
        // y = 2 x0 + x1 on uniform inputs: V = (4 + 1) / 12, S = [0.8, 0.2, 0].
        let n = 8192;
        let x = design(n, 3, true, 3);
        let y: Vec<f64> = x.iter().map(|r| 2.0 * r[0] + r[1]).collect();
        let s = sobol(&y, 3, true, 100, 2).unwrap();
        for (j, want) in [0.8, 0.2, 0.0].into_iter().enumerate() {
            assert!(
                (s.s1[j].value - want).abs() < 0.03,
                "S1[{j}] = {:?}",
                s.s1[j]
            );
            assert!(
                (s.st[j].value - want).abs() < 0.03,
                "ST[{j}] = {:?}",
                s.st[j]
            );
        }
        // x2 is unused: AB^(2) equals A row for row, so ST_2 and S1_2 are 0.
        assert!(s.st[2].value.abs() < 1e-12 && s.s1[2].value.abs() < 1e-12);
        assert!(s.st[2].hi - s.st[2].lo < 1e-12);
        // No interactions in an additive model.
        let s2 = s.s2.unwrap();
        assert!(s2[0][1].value.abs() < 0.05, "S01 = {:?}", s2[0][1]);
    }

    #[test]
    fn same_seed_same_intervals_other_seed_other_intervals() {
        let x = design(512, 3, false, 9);
        let y: Vec<f64> = x.iter().map(|r| ishigami(r)).collect();
        let a = sobol(&y, 3, false, 50, 42).unwrap();
        let b = sobol(&y, 3, false, 50, 42).unwrap();
        let c = sobol(&y, 3, false, 50, 43).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.s1[0].value, c.s1[0].value,
            "point estimates do not depend on the seed"
        );
        assert_ne!(a.s1[0].hi, c.s1[0].hi, "intervals do");
    }

    #[test]
    fn rejects_designs_and_outputs_it_cannot_use() {
        // 3 inputs without pairs: 5 rows per sample.
        let y: Vec<f64> = (0..11).map(|v| v as f64).collect();
        let err = sobol(&y, 3, false, 10, 0).unwrap_err();
        assert!(
            matches!(err, AnalysisError::WrongRowCount { rows: 11, .. }),
            "{err}"
        );
        // 16 rows fit 2 samples with pairs but not without: the hint says so.
        let y: Vec<f64> = (0..16).map(|v| v as f64).collect();
        let err = sobol(&y, 3, false, 10, 0).unwrap_err();
        assert!(err.to_string().contains("second_order = true"), "{err}");

        assert!(matches!(
            sobol(&[], 3, false, 10, 0),
            Err(AnalysisError::EmptyData(_))
        ));
        assert!(matches!(
            sobol(&[1.0; 10], 3, false, 10, 0),
            Err(AnalysisError::ConstantOutput { rows: 10, .. })
        ));
        let mut y: Vec<f64> = (0..10).map(|v| v as f64).collect();
        y[7] = f64::NAN;
        assert!(matches!(
            sobol(&y, 3, false, 10, 0),
            Err(AnalysisError::NonFinite { row: 7, .. })
        ));
        let y: Vec<f64> = (0..10).map(|v| v as f64).collect();
        assert!(matches!(
            sobol(&y, 0, false, 10, 0),
            Err(AnalysisError::InvalidArgument(_))
        ));
        assert!(matches!(
            sobol(&y, 3, false, 1, 0),
            Err(AnalysisError::InvalidArgument(_))
        ));
    }
}
