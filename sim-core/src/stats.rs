//! Summary statistics over replicates: means and Student-t 95% intervals.

/// Mean, sample standard deviation and 95% interval of `xs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
}

impl Interval {
    /// NaN values are skipped (a metric undefined in some replicates).
    pub fn of(xs: &[f64]) -> Interval {
        let vals: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
        let n = vals.len();
        if n == 0 {
            return Interval {
                mean: f64::NAN,
                sd: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
                n,
            };
        }
        let mean = vals.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Interval {
                mean,
                sd: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
                n,
            };
        }
        let var = vals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = t_975(n - 1) * sd / (n as f64).sqrt();
        Interval {
            mean,
            sd,
            lo: mean - half,
            hi: mean + half,
            n,
        }
    }

    pub fn excludes_zero(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }
}

/// Running mean and variance (Welford), for intervals over a stream of
/// replicates that is never held in memory. NaN values are skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: usize,
    mean: f64,
    m2: f64,
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn interval(&self) -> Interval {
        let n = self.n;
        let nan = f64::NAN;
        if n == 0 {
            return Interval {
                mean: nan,
                sd: nan,
                lo: nan,
                hi: nan,
                n,
            };
        }
        if n == 1 {
            return Interval {
                mean: self.mean,
                sd: nan,
                lo: nan,
                hi: nan,
                n,
            };
        }
        let sd = (self.m2 / (n - 1) as f64).max(0.0).sqrt();
        let half = t_975(n - 1) * sd / (n as f64).sqrt();
        Interval {
            mean: self.mean,
            sd,
            lo: self.mean - half,
            hi: self.mean + half,
            n,
        }
    }
}

/// 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            // Cornish-Fisher expansion around the normal quantile.
            let z: f64 = 1.959_963_984_540_054;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_sample() {
        let i = Interval::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(i.mean, 2.5);
        // sd = sqrt(5/3); half-width = 3.182 * sd / 2
        let half = 3.182 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert!((i.hi - 2.5 - half).abs() < 1e-12);
        assert!(i.excludes_zero());
        assert!(!Interval::of(&[-1.0, 1.0, 0.5]).excludes_zero());
    }

    #[test]
    fn t_quantile_continuous_at_table_end() {
        assert!((t_975(31) - 2.040).abs() < 0.003);
        assert!((t_975(1000) - 1.962).abs() < 0.002);
    }

    #[test]
    fn moments_agree_with_the_two_pass_interval() {
        let xs = [0.41, 0.43, f64::NAN, 0.39, 0.44, 0.40];
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.add(x));
        let (a, b) = (m.interval(), Interval::of(&xs));
        assert_eq!(a.n, b.n);
        for (x, y) in [(a.mean, b.mean), (a.sd, b.sd), (a.lo, b.lo), (a.hi, b.hi)] {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }
}
