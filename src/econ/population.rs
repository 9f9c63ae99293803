//! Drawing the enterprise population from uniforms: heavy-tailed sizes and categorical traits.

/// Enterprise size from a uniform `u` in [0, 1): a Pareto(α) on [1, max_ratio] by inverse CDF,
/// `x = (1 − u·(1 − max^−α))^(−1/α)`, rounded to whole size units.
pub fn pareto_size(u: f64, alpha: f64, max_ratio: f64) -> u32 {
    let tail = 1.0 - max_ratio.powf(-alpha);
    let x = (1.0 - u * tail).powf(-1.0 / alpha);
    x.round().clamp(1.0, u32::MAX as f64) as u32
}

/// Index of the category a uniform falls into, given shares summing to (about) one.
/// Zero-share categories are never returned; rounding excess falls to the last positive one.
pub fn categorical(u: f64, shares: &[f64]) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &s) in shares.iter().enumerate() {
        if s <= 0.0 {
            continue;
        }
        acc += s;
        last = i;
        if u < acc {
            return i;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_sizes_lie_in_range_and_are_heavy_tailed() {
        let n = 100_000;
        let sizes: Vec<u32> = (0..n)
            .map(|i| pareto_size((i as f64 + 0.5) / n as f64, 1.1, 1e5))
            .collect();
        assert!(sizes.iter().all(|&s| (1..=100_000).contains(&s)));
        let mut sorted = sizes.clone();
        sorted.sort_unstable();
        let total: u64 = sorted.iter().map(|&s| u64::from(s)).sum();
        let top1: u64 = sorted[n - n / 100..].iter().map(|&s| u64::from(s)).sum();
        assert!(
            top1 as f64 / total as f64 > 0.3,
            "top 1% should hold a large share of size"
        );
        assert_eq!(sorted[n / 2], 2, "median of Pareto(1.1) on [1, ∞) is 2^(1/1.1) ≈ 1.9");
    }

    #[test]
    fn categorical_follows_shares_and_skips_empty_categories() {
        let shares = [0.5, 0.0, 0.3, 0.2];
        assert_eq!(categorical(0.1, &shares), 0);
        assert_eq!(categorical(0.55, &shares), 2);
        assert_eq!(categorical(0.95, &shares), 3);
        assert_eq!(categorical(0.999_999_9, &[0.5, 0.49, 0.0]), 1);
    }
}
