//! Paired comparisons under common random numbers: the mean of scenario − base differences
//! with a Student-t 95 % interval.

use super::summary::{summarise, t975};

/// Mean paired difference with a 95 % Student-t interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// Number of pairs.
    pub n: usize,
    /// Mean of the base values.
    pub base_mean: f64,
    /// Mean of the scenario values.
    pub scenario_mean: f64,
    /// Mean of scenario − base.
    pub delta: f64,
    /// Lower end of the 95 % interval (NaN with fewer than two pairs).
    pub ci_low: f64,
    /// Upper end of the 95 % interval (NaN with fewer than two pairs).
    pub ci_high: f64,
}

impl Paired {
    /// Whether the interval excludes zero.
    pub fn significant(&self) -> bool {
        self.ci_low > 0.0 || self.ci_high < 0.0
    }
}

/// The paired comparison of `scenario[r]` against `base[r]` (equal lengths): the replicate
/// statistics of the differences, computed by the same code as sweep summaries.
pub fn paired(base: &[f64], scenario: &[f64]) -> Paired {
    let n = base.len().min(scenario.len());
    let d: Vec<f64> = base.iter().zip(scenario).map(|(b, s)| s - b).collect();
    let t = if n >= 2 { t975(n - 1) } else { f64::NAN };
    let diff = summarise(&d, t);
    let mean = |v: &[f64]| summarise(v, f64::NAN).mean.unwrap_or(f64::NAN);
    Paired {
        n,
        base_mean: mean(&base[..n]),
        scenario_mean: mean(&scenario[..n]),
        delta: diff.mean.unwrap_or(f64::NAN),
        ci_low: diff.ci_low.unwrap_or(f64::NAN),
        ci_high: diff.ci_high.unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_interval_matches_a_hand_computed_t_interval() {
        // d = [1, 2, 3]: mean 2, sd 1, t(2, 0.975) = 4.3027 → half-width 4.3027/√3 = 2.4841.
        let p = paired(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0]);
        assert!((p.delta - 2.0).abs() < 1e-12);
        assert!((p.ci_high - 2.0 - 2.4841).abs() < 1e-3, "{p:?}");
        assert!(!p.significant());
        let q = paired(&[1.0, 2.0, 3.0, 4.0], &[1.5, 2.4, 3.6, 4.5]);
        assert!(q.significant() && q.delta > 0.0);
        assert!(paired(&[1.0], &[2.0]).ci_low.is_nan());
    }
}
