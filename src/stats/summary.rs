//! Replicate statistics of one (point, tick, metric) cell: n, mean, sample sd, a Student-t 95%
//! confidence interval of the mean, and the 5th, 50th and 95th percentiles.
//!
//! Values are taken in replicate order and summed left to right, so the numbers depend only on
//! the replicates, never on which thread ran them.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Statistics of a sample. Fields that need more data than there is are `None` (empty in CSV).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Number of values (ok runs).
    pub n: usize,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Sample standard deviation (divisor n − 1); needs n ≥ 2.
    pub sd: Option<f64>,
    /// Lower end of the 95% CI of the mean, `mean − t(0.975, n−1)·sd/√n`; needs n ≥ 2.
    pub ci_low: Option<f64>,
    /// Upper end of the 95% CI of the mean; needs n ≥ 2.
    pub ci_high: Option<f64>,
    /// 5th percentile (linear interpolation, Hyndman–Fan type 7).
    pub p05: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(0.975),
        Err(_) => f64::NAN,
    }
}

/// Percentile `q` in [0, 1] of sorted values by linear interpolation between order statistics
/// (type 7, the default of R and NumPy).
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Statistics of `values`; `t` is the precomputed [`t975`] for `values.len() − 1` degrees of
/// freedom (the same for every cell of a point, so it is computed once).
pub fn summarise(values: &[f64], t: f64) -> Summary {
    let n = values.len();
    if n == 0 {
        return Summary {
            n,
            mean: None,
            sd: None,
            ci_low: None,
            ci_high: None,
            p05: None,
            p50: None,
            p95: None,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (sd, ci_low, ci_high) = if n >= 2 {
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        let half = t * sd / (n as f64).sqrt();
        (Some(sd), Some(mean - half), Some(mean + half))
    } else {
        (None, None, None)
    };
    Summary {
        n,
        mean: Some(mean),
        sd,
        ci_low,
        ci_high,
        p05: percentile(&sorted, 0.05),
        p50: percentile(&sorted, 0.5),
        p95: percentile(&sorted, 0.95),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t975(1) - 12.706).abs() < 1e-3);
        assert!((t975(4) - 2.776).abs() < 1e-3);
        assert!((t975(1000) - 1.962).abs() < 1e-3);
    }

    #[test]
    fn percentiles_interpolate_like_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), Some(2.5));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 1.0), Some(4.0));
        assert!((percentile(&v, 0.05).unwrap() - 1.15).abs() < 1e-12);
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
    }

    #[test]
    fn summary_of_a_known_sample() {
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let s = summarise(&v, t975(7));
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, Some(5.0));
        let sd = (32.0f64 / 7.0).sqrt();
        assert!((s.sd.unwrap() - sd).abs() < 1e-12);
        let half = 2.364624 * sd / 8f64.sqrt();
        assert!((s.ci_low.unwrap() - (5.0 - half)).abs() < 1e-5);
        assert!((s.ci_high.unwrap() - (5.0 + half)).abs() < 1e-5);
        assert_eq!(s.p50, Some(4.5));
    }

    #[test]
    fn one_value_has_no_spread() {
        let s = summarise(&[3.0], t975(0));
        assert_eq!(
            (s.n, s.mean, s.sd, s.ci_low, s.p95),
            (1, Some(3.0), None, None, Some(3.0))
        );
        assert_eq!(summarise(&[], f64::NAN).mean, None);
    }
}
