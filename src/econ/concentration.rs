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

/// The named agents' shares summed by owner, owners in order of first appearance (a fringe
/// aggregate stays atomistic whoever owns it, so it is left out). `owners[i]` names agent i's
/// owner.
pub fn owner_shares<'a>(shares: &[f64], fringe: &[bool], owners: &[&'a str]) -> Vec<(&'a str, f64)> {
    let mut by_owner: Vec<(&'a str, f64)> = Vec::new();
    for ((s, f), o) in shares.iter().zip(fringe).zip(owners) {
        if *f {
            continue;
        }
        match by_owner.iter_mut().find(|(name, _)| name == o) {
            Some((_, total)) => *total += s,
            None => by_owner.push((o, *s)),
        }
    }
    by_owner
}

/// HHI over owners: the named agents' shares summed by owner, then squared (a fringe
/// aggregate stays atomistic whoever owns it). `owners[i]` names agent i's owner.
pub fn hhi_by_owner(shares: &[f64], fringe: &[bool], owners: &[&str]) -> f64 {
    owner_shares(shares, fringe, owners)
        .iter()
        .map(|(_, s)| (100.0 * s).powi(2))
        .sum()
}

/// CR-n over owners: the combined share of the `n` largest owners (named agents only).
pub fn concentration_ratio_by_owner(shares: &[f64], fringe: &[bool], owners: &[&str], n: usize) -> f64 {
    let by_owner: Vec<f64> = owner_shares(shares, fringe, owners).iter().map(|(_, s)| *s).collect();
    concentration_ratio(&by_owner, n)
}

/// A partial (minority) stake of one owner in another firm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stake<'a> {
    /// The owner holding the stake.
    pub holder: &'a str,
    /// The owner (firm) the stake is in.
    pub firm: &'a str,
    /// β: the holder's share of the firm's profit, in (0, 1).
    pub financial: f64,
    /// γ: the holder's share of control over the firm's decisions, in [0, 1].
    pub control: f64,
}

/// Modified HHI with partial ownership (O'Brien & Salop 2000), on the 0–10,000 scale:
///
/// ```text
/// MHHI = Σ_j s_j² + Σ_j Σ_{k≠j} s_j s_k · (Σ_i γ_ij β_ik) / (Σ_i γ_ij β_ij)
/// ```
///
/// over the firms `(name, share)` of a market (owners, shares summed by owner). Investors i are
/// the owners: each firm's residual profit and control (1 − the stakes others hold in it) belong
/// to its own shareholders, who hold no other stake, so `β_jj = 1 − Σ_{i≠j} β_ij` and likewise
/// for γ. The manager of firm j maximises `Σ_i γ_ij Σ_k β_ik π_k`, so the cross term is the
/// weight it puts on rival k's profit relative to its own. Stakes between owners that are not
/// firms of this market still count through their control (a holder without a share of this
/// market adds no cross term of its own). A stake of a firm in itself is ignored. With no
/// stakes the MHHI is the owner HHI; a 100 % stake with full control gives the merged HHI.
pub fn mhhi<'a>(firms: &[(&'a str, f64)], stakes: &[Stake<'a>]) -> f64 {
    // Names are interned once, so the β and γ terms below compare indices rather than strings
    // (the measurement phase evaluates this for five markets every month). The arithmetic is the
    // same, term by term and in the same order, as over the names.
    let mut names: Vec<&'a str> = Vec::with_capacity(firms.len() + stakes.len());
    let mut intern = |name: &'a str| -> usize {
        names.iter().position(|n| *n == name).unwrap_or_else(|| {
            names.push(name);
            names.len() - 1
        })
    };
    let firm_ids: Vec<(usize, f64)> = firms.iter().map(|&(name, s)| (intern(name), s)).collect();
    // (holder, firm, β, γ) of each stake that is not a firm's stake in itself.
    let stakes: Vec<(usize, usize, f64, f64)> = stakes
        .iter()
        .filter(|st| st.holder != st.firm)
        .map(|st| (intern(st.holder), intern(st.firm), st.financial, st.control))
        .collect();
    // β_ik: investor i's share of firm k's profit (field 2 of a stake); γ_ij likewise for
    // control (field 3): the firm's own holders keep what the stakes in it leave.
    let weight = |i: usize, k: usize, field: fn(&(usize, usize, f64, f64)) -> f64| -> f64 {
        if i == k {
            1.0 - stakes.iter().filter(|st| st.1 == k).map(field).sum::<f64>()
        } else {
            stakes.iter().filter(|st| st.0 == i && st.1 == k).map(field).sum()
        }
    };
    let beta = |i: usize, k: usize| weight(i, k, |st| st.2);
    let gamma = |i: usize, j: usize| weight(i, j, |st| st.3);
    let mut total = 0.0;
    // Investors with control over firm j (its own shareholders and the stake holders in j),
    // each with γ_ij.
    let mut investors: Vec<(usize, f64)> = Vec::with_capacity(stakes.len() + 1);
    for &(j, s_j) in &firm_ids {
        total += s_j * s_j;
        investors.clear();
        investors.extend(
            std::iter::once(j)
                .chain(stakes.iter().filter(|st| st.1 == j).map(|st| st.0))
                .map(|i| (i, gamma(i, j))),
        );
        let own: f64 = investors.iter().map(|&(i, g)| g * beta(i, j)).sum();
        if own <= 0.0 {
            continue;
        }
        for &(k, s_k) in &firm_ids {
            if k == j {
                continue;
            }
            let cross: f64 = investors.iter().map(|&(i, g)| g * beta(i, k)).sum();
            total += s_j * s_k * cross / own;
        }
    }
    10_000.0 * total
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
    fn owner_cr3_counts_owners_not_agents() {
        // gcp 0.14 + deepmind 0.10 = alphabet 0.24 enters the top three ahead of 0.20.
        let shares = [0.30, 0.20, 0.14, 0.10, 0.26];
        let fringe = [false, false, false, false, true];
        let owners = ["amazon", "microsoft", "alphabet", "alphabet", "other"];
        assert!((concentration_ratio_by_owner(&shares, &fringe, &owners, 3) - 0.74).abs() < 1e-12);
        // Per agent: 0.30 + 0.20 + 0.14 (broken: ignoring owners loses 0.10).
        assert!((concentration_ratio_named(&shares, &fringe, 3) - 0.64).abs() < 1e-12);
    }

    /// Firms A 0.4, B 0.3, C 0.2 (a fringe holds the rest): HHI 2,900.
    const FIRMS: [(&str, f64); 3] = [("a", 0.4), ("b", 0.3), ("c", 0.2)];

    #[test]
    fn mhhi_of_a_minority_stake_matches_hand_arithmetic() {
        // A holds 27 % of B with proportional control (γ = β = 0.27).
        // Firm A: only its own shareholders (γ = β = 1); weight on B's profit 0.27 / 1:
        //   s_A s_B · 0.27 = 0.4 · 0.3 · 0.27 = 0.0324.
        // Firm B: investors A (γ = β = 0.27) and B's own (γ = β = 0.73):
        //   weight on A = 0.27 · 1 / (0.27² + 0.73²) = 0.27 / 0.6058;
        //   s_B s_A · 0.27 / 0.6058 = 0.12 · 0.445692 = 0.053483.
        // MHHI = 2,900 + 10,000 · (0.0324 + 0.053483) = 3,758.83.
        let stake = Stake {
            holder: "a",
            firm: "b",
            financial: 0.27,
            control: 0.27,
        };
        let expected = 2_900.0 + 10_000.0 * (0.4 * 0.3 * 0.27 + 0.3 * 0.4 * 0.27 / (0.27f64.powi(2) + 0.73f64.powi(2)));
        assert!((expected - 3_758.83).abs() < 0.01, "{expected}");
        assert!((mhhi(&FIRMS, &[stake]) - expected).abs() < 1e-9);
        // A silent stake (no control): only A internalises, + 324.
        let silent = Stake { control: 0.0, ..stake };
        assert!((mhhi(&FIRMS, &[silent]) - 3_224.0).abs() < 1e-9);
        // No stakes: the HHI.
        assert!((mhhi(&FIRMS, &[]) - 2_900.0).abs() < 1e-9);
        // A broken MHHI that drops B's side (counts only the holder's internalisation) gives
        // 3,224 under proportional control too, 534.83 below the hand result.
        assert!((mhhi(&FIRMS, &[stake]) - 3_224.0).abs() > 500.0);
    }

    #[test]
    fn a_full_stake_with_full_control_is_a_merger() {
        // 100 % of B with all control: ΔMHHI = 2 s_A s_B = 2,400, the merged HHI 0.7² + 0.2².
        let full = Stake {
            holder: "a",
            firm: "b",
            financial: 1.0,
            control: 1.0,
        };
        assert!((mhhi(&FIRMS, &[full]) - 5_300.0).abs() < 1e-9);
        // A stake in oneself, or by a holder outside the market in a firm with no rival
        // stake, changes nothing.
        let own = Stake {
            holder: "a",
            firm: "a",
            ..full
        };
        assert!((mhhi(&FIRMS, &[own]) - 2_900.0).abs() < 1e-9);
        let outsider = Stake {
            holder: "z",
            firm: "b",
            financial: 0.15,
            control: 0.0,
        };
        assert!((mhhi(&FIRMS, &[outsider]) - 2_900.0).abs() < 1e-9);
    }

    #[test]
    fn common_ownership_by_an_outsider_with_control_links_its_targets() {
        // Z holds 10 % of A and of B, with proportional control. Firm A's managers weigh B's
        // profit by γ_ZA β_ZB / (γ_ZA β_ZA + γ_AA β_AA) = 0.01 / (0.01 + 0.81) = 1/82, and
        // symmetrically: ΔMHHI = 2 · 0.4 · 0.3 / 82 · 10,000 = 29.27.
        let stakes = [
            Stake {
                holder: "z",
                firm: "a",
                financial: 0.1,
                control: 0.1,
            },
            Stake {
                holder: "z",
                firm: "b",
                financial: 0.1,
                control: 0.1,
            },
        ];
        assert!((mhhi(&FIRMS, &stakes) - (2_900.0 + 2.0 * 0.12 / 82.0 * 10_000.0)).abs() < 1e-9);
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
        // docs/DATA.md §1d: 28/21/14 → ~1,460 counting the named firms (plus a small tail).
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
