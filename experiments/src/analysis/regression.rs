//! Standardized regression coefficients: an importance ranking that works
//! on any design.
//!
//! Sobol and Morris need their own designs; a sweep that was run as a Latin
//! hypercube, a grid or a hand-made list of points can still be asked which
//! inputs move the output, and in which direction. Regressing the
//! standardized output on the standardized inputs gives one slope per input
//! in units of standard deviations, comparable across inputs with different
//! ranges. `r2` says how much to trust them: the slopes describe the model
//! only as far as it is close to linear (for uncorrelated inputs
//! `beta_k^2` is then the share of variance due to input `k`), and a low
//! `r2` sends the analyst to Sobol indices.
//!
//! The solve is the textbook one, written out so the crate needs no linear
//! algebra dependency: normal equations with an intercept, Gaussian
//! elimination with partial pivoting. The inputs are standardized first, so
//! the system is well scaled and a tiny pivot really means collinear inputs.

use serde::{Deserialize, Serialize};

use super::{check_finite, check_matrix, mean, std_ddof1, AnalysisError};

/// Standardized regression coefficients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Src {
    /// One standardized slope per input: the change in the output, in its
    /// standard deviations, per standard deviation of the input.
    pub beta: Vec<f64>,
    /// Coefficient of determination of the linear fit.
    pub r2: f64,
}

/// Standardized regression coefficients of `y` on the columns of `x` (rows
/// x inputs, one output per row).
///
/// Each column and `y` are standardized (mean 0, standard deviation with
/// ddof = 1), the least-squares normal equations for the intercept and the
/// D slopes are solved by Gaussian elimination with partial pivoting, and
/// the slopes are returned with R².
///
/// Errors: no rows or columns, ragged rows, outputs that do not match the
/// rows, non-finite values, fewer than D + 2 rows (no residual degree of
/// freedom), a constant output, and a singular system (a constant input, or
/// inputs that are linear combinations of each other).
pub fn src(x: &[Vec<f64>], y: &[f64]) -> Result<Src, AnalysisError> {
    let d = check_matrix(x, y.len())?;
    check_finite(y, "output")?;
    let n = x.len();
    if n < d + 2 {
        return Err(AnalysisError::WrongRowCount {
            design: "regression",
            rows: n,
            expected: format!(
                "at least D + 2 = {} rows for D = {d} inputs (an intercept and {d} slopes, \
                 and one row to spare)",
                d + 2
            ),
        });
    }

    let y_mean = mean(y);
    let y_sd = std_ddof1(y);
    if y_sd.is_nan() || y_sd <= 0.0 {
        return Err(AnalysisError::ConstantOutput {
            value: y[0],
            rows: n,
        });
    }
    let zy: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_sd).collect();

    // Standardized columns.
    let mut z = vec![vec![0.0; n]; d];
    for (k, col) in z.iter_mut().enumerate() {
        let raw: Vec<f64> = x.iter().map(|r| r[k]).collect();
        let (m, sd) = (mean(&raw), std_ddof1(&raw));
        if sd.is_nan() || sd <= 0.0 {
            return Err(AnalysisError::SingularRegression(format!(
                "input {k} is constant ({}) over all {n} rows, so its effect cannot be told \
                 apart from the intercept",
                raw[0]
            )));
        }
        for (c, v) in col.iter_mut().zip(&raw) {
            *c = (v - m) / sd;
        }
    }

    // Normal equations (X'X) b = X'y with X = [1, z_0, ..., z_{d-1}],
    // stored as an augmented (d+1) x (d+2) matrix.
    let u = d + 1;
    let column = |c: usize, i: usize| if c == 0 { 1.0 } else { z[c - 1][i] };
    let mut m = vec![vec![0.0; u + 1]; u];
    for (r, mrow) in m.iter_mut().enumerate() {
        for (c, cell) in mrow.iter_mut().take(u).enumerate() {
            *cell = (0..n).map(|i| column(r, i) * column(c, i)).sum();
        }
        mrow[u] = (0..n).map(|i| column(r, i) * zy[i]).sum();
    }
    let b = solve(m, n)?;

    let sse: f64 = (0..n)
        .map(|i| {
            let fit: f64 = (0..u).map(|c| b[c] * column(c, i)).sum();
            (zy[i] - fit).powi(2)
        })
        .sum();
    let sst: f64 = zy.iter().map(|v| v * v).sum();
    Ok(Src {
        beta: b[1..].to_vec(),
        r2: 1.0 - sse / sst,
    })
}

/// Solves the augmented system `m` (u rows of u + 1) in place by Gaussian
/// elimination with partial pivoting. `n` (the number of data rows) sets the
/// scale of a negligible pivot: the standardized system's diagonal is about
/// `n`.
fn solve(mut m: Vec<Vec<f64>>, n: usize) -> Result<Vec<f64>, AnalysisError> {
    let u = m.len();
    let tiny = 1e-10 * n as f64;
    for col in 0..u {
        let pivot = (col..u)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap_or(col);
        if m[pivot][col].abs() <= tiny || m[pivot][col].is_nan() {
            let unknown = if col == 0 {
                "the intercept".to_string()
            } else {
                format!("the slope of input {}", col - 1)
            };
            return Err(AnalysisError::SingularRegression(format!(
                "the normal equations are singular at {unknown}: that input is (nearly) a \
                 linear combination of the inputs before it, so their effects cannot be \
                 separated"
            )));
        }
        m.swap(col, pivot);
        let (top, below) = m.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for row in below.iter_mut() {
            let f = row[col] / pivot_row[col];
            if f != 0.0 {
                for (cell, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *cell -= f * p;
                }
            }
        }
    }
    let mut b = vec![0.0; u];
    for r in (0..u).rev() {
        let s: f64 = ((r + 1)..u).map(|c| m[r][c] * b[c]).sum();
        b[r] = (m[r][u] - s) / m[r][r];
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_x(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| (0..d).map(|_| rng.gen::<f64>()).collect())
            .collect()
    }

    #[test]
    fn recovers_signs_and_ratio_of_a_linear_model() {
        let x = random_x(2000, 3, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let y: Vec<f64> = x
            .iter()
            .map(|r| 3.0 * r[0] - 2.0 * r[1] + 0.01 * (rng.gen::<f64>() - 0.5))
            .collect();
        let s = src(&x, &y).unwrap();
        assert!(s.beta[0] > 0.0 && s.beta[1] < 0.0, "{:?}", s.beta);
        let ratio = s.beta[0] / s.beta[1];
        assert!(
            (ratio + 1.5).abs() < 0.1,
            "ratio {ratio}, betas {:?}",
            s.beta
        );
        assert!(s.beta[2].abs() < 0.01, "unused input: {}", s.beta[2]);
        assert!(s.r2 > 0.999, "r2 = {}", s.r2);
        // For a linear model with independent inputs, sum beta^2 = R^2.
        let sum_sq: f64 = s.beta.iter().map(|b| b * b).sum();
        assert!(
            (sum_sq - s.r2).abs() < 0.02,
            "sum beta^2 = {sum_sq}, r2 = {}",
            s.r2
        );
    }

    #[test]
    fn noise_lowers_r2() {
        let x = random_x(2000, 2, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let y: Vec<f64> = x
            .iter()
            .map(|r| r[0] + 2.0 * (rng.gen::<f64>() - 0.5))
            .collect();
        let s = src(&x, &y).unwrap();
        // Var(x0) = 1/12, Var(noise) = 4/12: R^2 near 0.2.
        assert!((s.r2 - 0.2).abs() < 0.05, "r2 = {}", s.r2);
        assert!(s.beta[0] > 0.0);
    }

    #[test]
    fn exact_fit_matches_the_closed_form() {
        // y = 1 + 2 x0 exactly: beta_0 = 2 sd(x0) / sd(y) = 1, R^2 = 1.
        let x: Vec<Vec<f64>> = (0..10)
            .map(|i| vec![i as f64, ((i * 7) % 10) as f64])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| 1.0 + 2.0 * r[0]).collect();
        let s = src(&x, &y).unwrap();
        assert!((s.beta[0] - 1.0).abs() < 1e-12, "{:?}", s.beta);
        assert!(s.beta[1].abs() < 1e-12, "{:?}", s.beta);
        assert!((s.r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn singular_systems_are_named() {
        let x = random_x(50, 2, 5);
        // A duplicate column.
        let dup: Vec<Vec<f64>> = x.iter().map(|r| vec![r[0], r[1], r[0]]).collect();
        let y: Vec<f64> = x.iter().map(|r| r[0] + r[1]).collect();
        let err = src(&dup, &y).unwrap_err();
        assert!(matches!(err, AnalysisError::SingularRegression(_)), "{err}");
        assert!(err.to_string().contains("input 2"), "{err}");
        // A linear combination.
        let comb: Vec<Vec<f64>> = x
            .iter()
            .map(|r| vec![r[0], r[1], r[0] - 2.0 * r[1]])
            .collect();
        assert!(matches!(
            src(&comb, &y),
            Err(AnalysisError::SingularRegression(_))
        ));
        // A constant column.
        let cst: Vec<Vec<f64>> = x.iter().map(|r| vec![r[0], 5.0]).collect();
        let err = src(&cst, &y).unwrap_err();
        assert!(err.to_string().contains("input 1 is constant"), "{err}");
    }

    #[test]
    fn rejects_data_it_cannot_fit() {
        let x = random_x(10, 2, 6);
        let y: Vec<f64> = x.iter().map(|r| r[0]).collect();
        assert!(matches!(src(&[], &[]), Err(AnalysisError::EmptyData(_))));
        assert!(matches!(
            src(&x, &y[..9]),
            Err(AnalysisError::LengthMismatch { .. })
        ));
        assert!(matches!(
            src(&x[..3], &y[..3]),
            Err(AnalysisError::WrongRowCount { rows: 3, .. })
        ));
        assert!(matches!(
            src(&x, &[2.0; 10]),
            Err(AnalysisError::ConstantOutput { .. })
        ));
        let mut yn = y.clone();
        yn[3] = f64::INFINITY;
        assert!(matches!(
            src(&x, &yn),
            Err(AnalysisError::NonFinite { row: 3, .. })
        ));
    }
}
