//! Market shares and concentration measures (HHI on the 0–10,000 scale, CR-n).

/// Shares of each agent in a market from amounts; `None` for an empty market (all amounts
/// zero), whose shares are undefined: they could not sum to one.
pub fn shares(amounts: &[f64]) -> Option<Vec<f64>> {
    let total: f64 = amounts.iter().sum();
    (total > 0.0).then(|| amounts.iter().map(|a| a / total).collect())
}

/// Herfindahl–Hirschman index on the 0–10,000 scale; `shares` are fractions summing to one.
pub fn hhi(shares: &[f64]) -> f64 {
    shares.iter().map(|s| (100.0 * s).powi(2)).sum()
}

/// HHI when some agents are fringe aggregates of many small firms: their share is atomistic
/// and contributes (approximately) nothing.
pub fn hhi_named(shares: &[f64], fringe: &[bool]) -> f64 {
    shares
        .iter()
        .zip(fringe)
        .filter(|(_, f)| !**f)
        .map(|(s, _)| (100.0 * s).powi(2))
        .sum()
}

/// HHI over owners: the named agents' shares summed by owner, then squared (a fringe
/// aggregate stays atomistic whoever owns it). `owners[i]` names agent i's owner.
pub fn hhi_by_owner(shares: &[f64], fringe: &[bool], owners: &[&str]) -> f64 {
    let mut by_owner: Vec<(&str, f64)> = Vec::new();
    for ((s, f), o) in shares.iter().zip(fringe).zip(owners) {
        if *f {
            continue;
        }
        match by_owner.iter_mut().find(|(name, _)| name == o) {
            Some((_, total)) => *total += s,
            None => by_owner.push((o, *s)),
        }
    }
    by_owner.iter().map(|(_, s)| (100.0 * s).powi(2)).sum()
}

/// CR-n over named (non-fringe) agents.
pub fn concentration_ratio_named(shares: &[f64], fringe: &[bool], n: usize) -> f64 {
    let named: Vec<f64> = shares
        .iter()
        .zip(fringe)
        .filter(|(_, f)| !**f)
        .map(|(s, _)| *s)
        .collect();
    concentration_ratio(&named, n)
}

/// Combined share of the `n` largest agents (CR-n), as a fraction.
pub fn concentration_ratio(shares: &[f64], n: usize) -> f64 {
    let mut sorted = shares.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted.iter().take(n).sum()
}

/// Largest provider's share of a lab's compute (own data centres count in the total only).
pub fn dependency(compute_by_host: &[f64], n_providers: usize) -> f64 {
    let total: f64 = compute_by_host.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    compute_by_host[..n_providers].iter().fold(0.0f64, |a, &b| a.max(b)) / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_hhi_sums_shares_by_owner_and_keeps_the_fringe_atomistic() {
        // gcp 0.14 and deepmind 0.10 under one owner: (24)² instead of 14² + 10²; the fringe
        // aggregate (0.3) counts in neither.
        let shares = [0.30, 0.26, 0.14, 0.10, 0.30];
        let fringe = [false, false, false, false, true];
        let owners = ["aws", "azure", "gcp", "gcp", "other"];
        let expected = 30.0f64.powi(2) + 26.0f64.powi(2) + 24.0f64.powi(2);
        assert!((hhi_by_owner(&shares, &fringe, &owners) - expected).abs() < 1e-9);
        // Every agent its own owner: the per-agent HHI.
        let own = ["a", "b", "c", "d", "e"];
        assert!((hhi_by_owner(&shares, &fringe, &own) - hhi_named(&shares, &fringe)).abs() < 1e-9);
        // Broken (owners ignored): lower by 2 · 14 · 10.
        assert!((hhi_named(&shares, &fringe) + 2.0 * 14.0 * 10.0 - expected).abs() < 1e-9);
    }

    #[test]
    fn monopoly_has_hhi_ten_thousand_and_cr1_one() {
        let s = shares(&[0.0, 5.0, 0.0]).unwrap();
        assert_eq!(hhi(&s), 10_000.0);
        assert_eq!(concentration_ratio(&s, 1), 1.0);
    }

    #[test]
    fn equal_split_has_hhi_ten_thousand_over_n() {
        let s = shares(&[2.0; 4]).unwrap();
        assert!((hhi(&s) - 2_500.0).abs() < 1e-9);
        assert!((concentration_ratio(&s, 3) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn synergy_q4_2025_shares_give_the_documented_hhi() {
        // market_data.md §1d: 28/21/14 → ~1,460 counting the named firms (plus a small tail).
        let h = hhi(&[0.28, 0.21, 0.14]);
        assert!((h - 1421.0).abs() < 1.0, "{h}");
    }

    #[test]
    fn fringe_aggregates_are_atomistic() {
        let s = [0.28, 0.21, 0.14, 0.37];
        let fringe = [false, false, false, true];
        assert!((hhi_named(&s, &fringe) - hhi(&[0.28, 0.21, 0.14])).abs() < 1e-9);
        assert!((concentration_ratio_named(&s, &fringe, 1) - 0.28).abs() < 1e-12);
        assert_eq!(hhi_named(&s, &[false; 4]), hhi(&s));
    }

    #[test]
    fn an_empty_market_has_no_shares() {
        assert_eq!(shares(&[0.0, 0.0]), None);
        assert_eq!(shares(&[]), None);
    }

    #[test]
    fn dependency_is_the_largest_provider_share_of_all_compute() {
        assert!((dependency(&[6.0, 2.0, 2.0], 2) - 0.6).abs() < 1e-12);
        // Own data centres dilute dependency but are not a provider.
        assert!((dependency(&[1.0, 1.0, 8.0], 2) - 0.1).abs() < 1e-12);
        assert_eq!(dependency(&[0.0, 0.0, 0.0], 2), 0.0);
    }

    proptest::proptest! {
        #[test]
        fn hhi_lies_between_equal_split_and_monopoly(amounts in proptest::collection::vec(0.0f64..1e6, 1..20)) {
            if let Some(s) = shares(&amounts) {
                let total: f64 = s.iter().sum();
                proptest::prop_assert!((total - 1.0).abs() < 1e-9);
                let h = hhi(&s);
                proptest::prop_assert!(h <= 10_000.0 + 1e-6);
                proptest::prop_assert!(h >= 10_000.0 / amounts.len() as f64 - 1e-6);
                proptest::prop_assert!(concentration_ratio(&s, 1) <= concentration_ratio(&s, 3) + 1e-12);
            }
        }
    }
}
