//! Analysis of sweep outputs: which inputs matter, and where an outcome
//! holds.
//!
//! A sweep runs the simulator over a designed set of input points; this
//! module turns the outputs of those runs (already averaged over replicates,
//! one value per design row, in design row order) into the two answers
//! researchers ask for:
//!
//! * *Which inputs matter?* Global sensitivity analysis: variance-based
//!   Sobol indices on a Saltelli design ([`sobol()`]), Morris elementary
//!   effects on a trajectory design for cheap screening ([`morris()`]), and
//!   standardized regression coefficients for any design ([`src()`]).
//! * *Where does an outcome hold?* Scenario discovery: PRIM finds a box in
//!   input space where a case of interest is dense ([`prim()`]).
//!
//! Why it is written out here rather than left to SALib or the EMA
//! Workbench: the CLI and the Python package must give bit-identical answers
//! for the same seed without a Python stack behind the CLI. So the estimators
//! follow SALib 1.x and the EMA Workbench formula for formula (each file says
//! where it departs and why), and every random draw (bootstrap resamples,
//! Morris trajectories) comes from a `ChaCha8Rng` seeded by the caller's
//! `seed`, in a fixed order on one thread.
//!
//! Everything here is pure math on slices: no files, no simulator types, no
//! threads. Bad input (a design of the wrong size, a non-finite output, a
//! singular regression) is an [`AnalysisError`] naming the problem, never a
//! panic.

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod morris;
pub mod prim;
pub mod regression;
pub mod sobol;

pub use morris::{morris, morris_unit, try_morris_unit, MorrisIndices};
pub use prim::{prim, PrimBox, PrimResult, MASS_MIN, PASTE_ALPHA, PEEL_ALPHA};
pub use regression::{src, Src};
pub use sobol::{saltelli_unit, sobol, SobolIndices};

/// The standard normal quantile for a two-sided 95% interval,
/// `scipy.stats.norm.ppf(0.975)`, which SALib multiplies bootstrap standard
/// deviations by.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A point estimate with a 95% interval around it.
///
/// The intervals here are SALib's: `lo` and `hi` are `value` minus and plus
/// [`Z95`] times the standard deviation (ddof = 1) of bootstrap estimates, so
/// they are symmetric about the point estimate and may leave the index's
/// natural range (a Sobol index below 0, a `mu_star` below 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval95 {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Interval95 {
    /// `value` with the interval `value -/+ half_width`.
    pub fn around(value: f64, half_width: f64) -> Self {
        Interval95 {
            value,
            lo: value - half_width,
            hi: value + half_width,
        }
    }

    /// The interval SALib reports for a point estimate and its bootstrap
    /// estimates: half-width `Z95 * std(bootstrap, ddof = 1)`.
    pub(crate) fn from_bootstrap(value: f64, bootstrap: &[f64]) -> Self {
        Interval95::around(value, Z95 * std_ddof1(bootstrap))
    }

    /// An undefined entry (the unused cells of the second-order matrix).
    pub(crate) fn nan() -> Self {
        Interval95 {
            value: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        }
    }
}

/// Why an analysis could not be done. Each variant names the problem in the
/// caller's terms (rows of the design, trajectories, inputs), so a front end
/// can show the message as is.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AnalysisError {
    /// There is nothing to analyse (no rows, no inputs, no cases of
    /// interest).
    #[error("no data to analyse: {0}")]
    EmptyData(String),

    /// The number of rows does not fit the design the analysis expects.
    #[error("wrong number of rows for a {design} design: got {rows}, expected {expected}")]
    WrongRowCount {
        design: &'static str,
        rows: usize,
        expected: String,
    },

    /// Two inputs that must line up do not (outputs vs rows, a row's width).
    #[error("{what}: got {got}, expected {expected}")]
    LengthMismatch {
        what: String,
        got: usize,
        expected: usize,
    },

    /// Two consecutive rows of a Morris trajectory differ in more or fewer
    /// than one factor.
    #[error(
        "Morris trajectory {trajectory}: rows {row} and {next} differ in {changed} factors, \
         but each step of a trajectory must change exactly one",
        next = .row + 1
    )]
    NotOneFactorChanged {
        trajectory: usize,
        row: usize,
        changed: usize,
    },

    /// A Morris trajectory changes the same factor twice (so some other
    /// factor never moves).
    #[error(
        "Morris trajectory {trajectory} changes factor {factor} more than once (again at row {row}); \
         each factor must change exactly once per trajectory"
    )]
    FactorChangedTwice {
        trajectory: usize,
        factor: usize,
        row: usize,
    },

    /// A Morris step is not the grid's delta: the design was made with a
    /// different number of levels, or is not in unit coordinates.
    #[error(
        "Morris row {row}: factor {factor} moves by {step}, but a {levels}-level design in unit \
         coordinates moves by +/-{delta} (was it made with the same levels, and in [0, 1]?)"
    )]
    WrongStep {
        row: usize,
        factor: usize,
        step: f64,
        levels: usize,
        delta: f64,
    },

    /// The least-squares normal equations have no unique solution.
    #[error("singular regression: {0}")]
    SingularRegression(String),

    /// An output or input value is NaN or infinite.
    #[error("{what} at row {row} is not finite ({value})")]
    NonFinite {
        what: String,
        row: usize,
        value: f64,
    },

    /// The output does not vary, so there is no variance to attribute to
    /// the inputs.
    #[error("the output is constant ({value}) over all {rows} rows: there is no variance to attribute to the inputs")]
    ConstantOutput { value: f64, rows: usize },

    /// A setting is out of its range (levels, resamples, threshold, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Arithmetic mean (`NaN` for an empty slice).
pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Population variance (numpy's default, ddof = 0).
pub(crate) fn var_ddof0(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
}

/// Sample standard deviation (ddof = 1); `NaN` for fewer than two values.
pub(crate) fn std_ddof1(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// The first non-finite value of `v`, as an error naming `what` and its row.
pub(crate) fn check_finite(v: &[f64], what: &str) -> Result<(), AnalysisError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(row) => Err(AnalysisError::NonFinite {
            what: what.to_string(),
            row,
            value: v[row],
        }),
        None => Ok(()),
    }
}

/// Checks that `x` is a non-empty rectangular matrix of finite values with
/// one row per output, and returns its width.
pub(crate) fn check_matrix(x: &[Vec<f64>], outputs: usize) -> Result<usize, AnalysisError> {
    if x.is_empty() {
        return Err(AnalysisError::EmptyData(
            "the input matrix has no rows".into(),
        ));
    }
    if x.len() != outputs {
        return Err(AnalysisError::LengthMismatch {
            what: "number of outputs vs rows of the input matrix".into(),
            got: outputs,
            expected: x.len(),
        });
    }
    let d = x[0].len();
    if d == 0 {
        return Err(AnalysisError::EmptyData(
            "the input matrix has no columns".into(),
        ));
    }
    for (row, r) in x.iter().enumerate() {
        if r.len() != d {
            return Err(AnalysisError::LengthMismatch {
                what: format!("width of input row {row}"),
                got: r.len(),
                expected: d,
            });
        }
        if let Some(k) = r.iter().position(|v| !v.is_finite()) {
            return Err(AnalysisError::NonFinite {
                what: format!("input {k}"),
                row,
                value: r[k],
            });
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_numpy_conventions() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean(&v), 2.5);
        assert!((var_ddof0(&v) - 1.25).abs() < 1e-15);
        assert!((std_ddof1(&v) - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!(std_ddof1(&[1.0]).is_nan());
    }

    #[test]
    fn interval_is_symmetric_half_width() {
        let i = Interval95::from_bootstrap(0.5, &[0.0, 1.0]);
        let hw = Z95 * std_ddof1(&[0.0, 1.0]);
        assert_eq!(i.value, 0.5);
        assert!((i.hi - 0.5 - hw).abs() < 1e-15 && (0.5 - i.lo - hw).abs() < 1e-15);
    }

    #[test]
    fn matrix_checks_name_the_problem() {
        assert!(matches!(
            check_matrix(&[], 0),
            Err(AnalysisError::EmptyData(_))
        ));
        let ragged = vec![vec![1.0, 2.0], vec![1.0]];
        assert!(matches!(
            check_matrix(&ragged, 2),
            Err(AnalysisError::LengthMismatch {
                got: 1,
                expected: 2,
                ..
            })
        ));
        let nan = vec![vec![1.0, f64::NAN]];
        assert!(matches!(
            check_matrix(&nan, 1),
            Err(AnalysisError::NonFinite { row: 0, .. })
        ));
        assert!(matches!(
            check_matrix(&[vec![1.0]], 2),
            Err(AnalysisError::LengthMismatch { .. })
        ));
        assert!(matches!(
            check_finite(&[0.0, f64::INFINITY], "output"),
            Err(AnalysisError::NonFinite { row: 1, .. })
        ));
    }
}
