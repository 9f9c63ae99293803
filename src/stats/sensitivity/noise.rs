//! Replicates: the indices are computed on the mean of each design point's replicates, and the
//! noise report says how much replicate (seed) noise is left in those means.
//!
//! A stochastic model evaluated with m replicates per design point gives replicate means
//! ȳ_p = f(x_p) + ε̄_p with Var(ε̄_p) ≈ σ²_ε / m. The noise acts like an extra, independent
//! input: it adds σ²_ε/m to the variance that the indices divide by, and the Jansen numerator
//! ½·E[(f(A) − f(AB_i))²] of every parameter picks it up too, so every ST is biased upwards by
//! about the [`ReplicateNoise::mean_noise_share`] and every S1 is biased downwards through the
//! larger V. Report that share next to the indices; when it is not small, raise m.

use super::ok;

/// Replicate noise against the spread of the outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicateNoise {
    /// Design points with at least two finished replicates (those that enter `within_variance`).
    pub points: usize,
    /// Mean over those points of the within-point sample variance (divisor m_p − 1): the
    /// replicate noise variance σ²_ε of a single run.
    pub within_variance: f64,
    /// Sample variance of all finished replicate values pooled over all points.
    pub total_variance: f64,
    /// `within_variance / total_variance`: the share of single-run variance that is noise.
    /// `None` when the pooled variance is zero.
    pub noise_share: Option<f64>,
    /// Sample variance of the replicate means over points with at least one replicate.
    pub mean_variance: f64,
    /// Mean over points of s²_p / m_p (the noise variance left in a replicate mean) divided by
    /// `mean_variance`: the share of the variance the indices decompose that is noise.
    /// `None` when the means do not vary.
    pub mean_noise_share: Option<f64>,
}

/// The mean of each point's finished replicates (non-finite values are skipped as failed runs),
/// `None` for a point with none: the `y` to hand to the estimators, in the same point order.
pub fn replicate_means<G: AsRef<[f64]>>(groups: &[G]) -> Vec<Option<f64>> {
    groups
        .iter()
        .map(|g| {
            let (mut n, mut s) = (0usize, 0.0);
            for v in g.as_ref().iter().filter_map(|v| ok(Some(*v))) {
                n += 1;
                s += v;
            }
            (n > 0).then(|| s / n as f64)
        })
        .collect()
}

fn sample_variance(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
}

/// Replicate noise of `groups` (the finished replicate outputs of each design point, in point
/// order; non-finite values are skipped). `None` when no point has two finished replicates or
/// fewer than two points have any.
pub fn replicate_noise<G: AsRef<[f64]>>(groups: &[G]) -> Option<ReplicateNoise> {
    let clean: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| g.as_ref().iter().copied().filter(|v| v.is_finite()).collect())
        .collect();
    let (mut points, mut within, mut within_of_mean) = (0usize, 0.0, 0.0);
    for g in clean.iter().filter(|g| g.len() >= 2) {
        let s2 = sample_variance(g);
        points += 1;
        within += s2;
        within_of_mean += s2 / g.len() as f64;
    }
    let means: Vec<f64> = replicate_means(&clean).into_iter().flatten().collect();
    if points == 0 || means.len() < 2 {
        return None;
    }
    let within = within / points as f64;
    let within_of_mean = within_of_mean / points as f64;
    let pooled: Vec<f64> = clean.iter().flatten().copied().collect();
    let total = sample_variance(&pooled);
    let mean_variance = sample_variance(&means);
    Some(ReplicateNoise {
        points,
        within_variance: within,
        total_variance: total,
        noise_share: (total > 0.0).then(|| within / total),
        mean_variance,
        mean_noise_share: (mean_variance > 0.0).then(|| within_of_mean / mean_variance),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_skip_failed_replicates() {
        let g: Vec<Vec<f64>> = vec![vec![1.0, 3.0], vec![], vec![2.0, f64::NAN, 4.0]];
        assert_eq!(replicate_means(&g), vec![Some(2.0), None, Some(3.0)]);
    }

    #[test]
    fn noise_matches_a_hand_computation() {
        // Points: {1, 3} (mean 2, s² 2), {10, 14} (mean 12, s² 8), {5} (mean 5, one replicate).
        let g = [vec![1.0, 3.0], vec![10.0, 14.0], vec![5.0]];
        let n = replicate_noise(&g).unwrap();
        assert_eq!(n.points, 2);
        assert!((n.within_variance - 5.0).abs() < 1e-12);
        // Pooled {1, 3, 10, 14, 5}: mean 6.6, Σ(x − m)² = 31.36 + 12.96 + 11.56 + 54.76 + 2.56.
        let total = (31.36 + 12.96 + 11.56 + 54.76 + 2.56) / 4.0;
        assert!((n.total_variance - total).abs() < 1e-9);
        assert!((n.noise_share.unwrap() - 5.0 / total).abs() < 1e-9);
        // Means {2, 12, 5}: mean 19/3, sample variance 26.333…; noise left in a mean (1 + 4)/2.
        let mv = ((2.0f64 - 19.0 / 3.0).powi(2) + (12.0f64 - 19.0 / 3.0).powi(2) + (5.0f64 - 19.0 / 3.0).powi(2)) / 2.0;
        assert!((n.mean_variance - mv).abs() < 1e-9);
        assert!((n.mean_noise_share.unwrap() - 2.5 / mv).abs() < 1e-9);
    }

    #[test]
    fn noise_free_replicates_have_zero_share_and_too_few_are_none() {
        let g = [vec![1.0, 1.0], vec![4.0, 4.0]];
        let n = replicate_noise(&g).unwrap();
        assert_eq!(n.within_variance, 0.0);
        assert_eq!(n.noise_share, Some(0.0));
        assert!(replicate_noise(&[vec![1.0], vec![2.0]]).is_none());
        assert!(replicate_noise(&[vec![1.0, 2.0]]).is_none());
    }
}
