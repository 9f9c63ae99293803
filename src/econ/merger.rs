//! Merger review by the 2023 US Merger Guidelines: the structural presumption of Guideline 1
//! on owner-aggregated shares of a relevant market, and upward pricing pressure (UPP, GUPPI)
//! from logit diversion ratios.
//!
//! ```text
//! ΔHHI = 2 · (100 s_A) · (100 s_B)          HHI_post = HHI_pre + ΔHHI     (owners' shares)
//! presumption:  (HHI_post > 1,800 and ΔHHI > 100)  or  (s_A + s_B > 30 % and ΔHHI > 100)
//! diversion (logit with an outside option of share s_0, inside shares s):
//!     σ_k = (1 − s_0) s_k,   D_AB = σ_B / (1 − σ_A)
//! GUPPI_A = D_AB · m_B · p_B / p_A,   m = (p − c)/p (Lerner)      UPP_A = D_AB (p_B − c_B)
//! ```
//!
//! In a logit a uniform rise of all of A's prices diverts A's lost sales to every other option
//! in proportion to its choice probability, so the firm-level diversion uses the aggregate
//! shares. The decision rule is configurable ([`Rule`]).

/// One firm (an owner) of the relevant market as the review sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firm {
    /// Owner name.
    pub name: String,
    /// Share of the relevant market (named agents summed by owner), in [0, 1].
    pub share: f64,
    /// Mean price of its products (spend-weighted), if the market has prices.
    pub price: Option<f64>,
    /// Its Lerner index `(p − c)/p` (spend-weighted), if known.
    pub margin: Option<f64>,
}

/// What the structural presumption (Guideline 1) finds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Structure {
    /// HHI of the market before the merger.
    pub hhi_before: f64,
    /// HHI after the merger (the two owners' shares summed).
    pub hhi_after: f64,
    /// ΔHHI = 2 · 100 s_A · 100 s_B.
    pub delta: f64,
    /// The merged firm's share, in [0, 1].
    pub merged_share: f64,
    /// Post-merger HHI above 1,800 with ΔHHI above 100.
    pub hhi_prong: bool,
    /// Merged share above 30 % with ΔHHI above 100.
    pub share_prong: bool,
}

impl Structure {
    /// Whether the merger is presumed to lessen competition substantially.
    pub fn presumed(&self) -> bool {
        self.hhi_prong || self.share_prong
    }
}

/// Guideline 1's thresholds (2023 Merger Guidelines).
pub const HHI_HIGHLY_CONCENTRATED: f64 = 1_800.0;
/// A significant increase of the HHI.
pub const DELTA_SIGNIFICANT: f64 = 100.0;
/// The share prong: a merged firm above 30 %.
pub const SHARE_PRONG: f64 = 0.30;

/// Guideline 1 on the firms' shares for a merger of firms `a` and `b` (indices into `firms`).
pub fn structure(firms: &[Firm], a: usize, b: usize) -> Structure {
    let hhi_before: f64 = firms.iter().map(|f| (100.0 * f.share).powi(2)).sum();
    let (sa, sb) = (firms[a].share, firms[b].share);
    let delta = if a == b { 0.0 } else { 2.0 * (100.0 * sa) * (100.0 * sb) };
    let merged_share = if a == b { sa } else { sa + sb };
    let hhi_after = hhi_before + delta;
    Structure {
        hhi_before,
        hhi_after,
        delta,
        merged_share,
        hhi_prong: hhi_after > HHI_HIGHLY_CONCENTRATED && delta > DELTA_SIGNIFICANT,
        share_prong: merged_share > SHARE_PRONG && delta > DELTA_SIGNIFICANT,
    }
}

/// Logit diversion ratio from firm j to firm k: `σ_k / (1 − σ_j)` with choice probabilities
/// `σ = (1 − s_0) · s` (inside shares `s`, outside option's share `s_0`).
pub fn diversion(share_j: f64, share_k: f64, outside_share: f64) -> f64 {
    let inside = 1.0 - outside_share;
    let (sj, sk) = (inside * share_j, inside * share_k);
    if sj >= 1.0 { 0.0 } else { sk / (1.0 - sj) }
}

/// Gross upward pricing pressure index of firm j from a merger with k:
/// `D_jk · m_k · p_k / p_j` (the value of diverted sales as a share of j's price).
pub fn guppi(diversion_jk: f64, margin_k: f64, price_k: f64, price_j: f64) -> f64 {
    if price_j <= 0.0 {
        0.0
    } else {
        diversion_jk * margin_k * price_k / price_j
    }
}

/// Upward pricing pressure of firm j, in price units: `D_jk (p_k − c_k) − e c_j` with a
/// credited marginal-cost efficiency `e` (Farrell & Shapiro 2010).
pub fn upp(diversion_jk: f64, price_k: f64, cost_k: f64, cost_j: f64, efficiency: f64) -> f64 {
    diversion_jk * (price_k - cost_k) - efficiency * cost_j
}

/// How the reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Block on Guideline 1's structural presumption.
    Presumption,
    /// Block when either firm's GUPPI exceeds the threshold.
    Guppi {
        /// GUPPI threshold, e.g. 0.05.
        threshold: f64,
    },
    /// Block on the presumption or on GUPPI above the threshold.
    PresumptionOrGuppi {
        /// GUPPI threshold.
        threshold: f64,
    },
    /// Compute and report the figures; never block.
    Report,
}

/// A review's figures and verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// Guideline 1.
    pub structure: Structure,
    /// Logit diversion ratios A→B and B→A.
    pub diversion: (f64, f64),
    /// GUPPI of A and of B, where prices and margins are known.
    pub guppi: (Option<f64>, Option<f64>),
    /// Whether the rule blocks the merger.
    pub blocked: bool,
}

/// Reviews the merger of firms `a` and `b` of `firms` (a relevant market whose outside option
/// has share `outside_share`) by `rule`.
pub fn review(firms: &[Firm], a: usize, b: usize, outside_share: f64, rule: Rule) -> Review {
    let structure = structure(firms, a, b);
    let (fa, fb) = (&firms[a], &firms[b]);
    let (d_ab, d_ba) = if a == b {
        (0.0, 0.0)
    } else {
        (
            diversion(fa.share, fb.share, outside_share),
            diversion(fb.share, fa.share, outside_share),
        )
    };
    let g = |d: f64, j: &Firm, k: &Firm| match (j.price, k.price, k.margin) {
        (Some(pj), Some(pk), Some(mk)) => Some(guppi(d, mk, pk, pj)),
        _ => None,
    };
    let guppis = (g(d_ab, fa, fb), g(d_ba, fb, fa));
    let max_guppi = guppis.0.into_iter().chain(guppis.1).fold(f64::NEG_INFINITY, f64::max);
    let blocked = match rule {
        Rule::Presumption => structure.presumed(),
        Rule::Guppi { threshold } => max_guppi > threshold,
        Rule::PresumptionOrGuppi { threshold } => structure.presumed() || max_guppi > threshold,
        Rule::Report => false,
    };
    Review {
        structure,
        diversion: (d_ab, d_ba),
        guppi: guppis,
        blocked,
    }
}

impl Review {
    /// The figures as one line for the event log.
    pub fn note(&self, a: &str, b: &str) -> String {
        let s = &self.structure;
        let g = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{:.1} %", 100.0 * v));
        format!(
            "HHI {:.0} → {:.0} (Δ {:.0}), merged share {:.1} %{}{}; diversion {a}→{b} {:.3}, {b}→{a} {:.3}; GUPPI {a} {}, {b} {}",
            s.hhi_before,
            s.hhi_after,
            s.delta,
            100.0 * s.merged_share,
            if s.hhi_prong { "; HHI prong met" } else { "" },
            if s.share_prong { "; 30 % prong met" } else { "" },
            self.diversion.0,
            self.diversion.1,
            g(self.guppi.0),
            g(self.guppi.1),
        )
    }
}

/// One agent of a market as the review sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Its owner.
    pub owner: String,
    /// A fringe aggregate (atomistic: no firm).
    pub fringe: bool,
    /// Its share of the market.
    pub share: f64,
    /// Its mean price, if the market has prices.
    pub price: Option<f64>,
    /// Its Lerner index, if known.
    pub margin: Option<f64>,
}

/// Firms of a market from its agents: named agents' shares summed by owner; price and margin
/// share-weighted over the agents that have them. Fringe aggregates are atomistic: no firm.
pub fn firms(agents: &[Agent]) -> Vec<Firm> {
    struct Acc {
        share: f64,
        pw: f64,
        pws: f64,
        mw: f64,
        mws: f64,
    }
    let mut out: Vec<(String, Acc)> = Vec::new();
    for a in agents.iter().filter(|a| !a.fringe) {
        let i = match out.iter().position(|(n, _)| *n == a.owner) {
            Some(i) => i,
            None => {
                out.push((
                    a.owner.clone(),
                    Acc {
                        share: 0.0,
                        pw: 0.0,
                        pws: 0.0,
                        mw: 0.0,
                        mws: 0.0,
                    },
                ));
                out.len() - 1
            }
        };
        let acc = &mut out[i].1;
        acc.share += a.share;
        if let Some(p) = a.price.filter(|p| p.is_finite() && *p > 0.0) {
            acc.pw += a.share * p;
            acc.pws += a.share;
        }
        if let Some(m) = a.margin.filter(|m| m.is_finite()) {
            acc.mw += a.share * m;
            acc.mws += a.share;
        }
    }
    out.into_iter()
        .map(|(name, a)| Firm {
            name,
            share: a.share,
            price: (a.pws > 0.0).then(|| a.pw / a.pws),
            margin: (a.mws > 0.0).then(|| a.mw / a.mws),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firm(name: &str, share: f64, price: f64, margin: f64) -> Firm {
        Firm {
            name: name.into(),
            share,
            price: Some(price),
            margin: Some(margin),
        }
    }

    #[test]
    fn guideline_one_arithmetic_on_a_hand_computed_market() {
        // Shares 30/25/20/15/10: HHI = 900 + 625 + 400 + 225 + 100 = 2,250.
        let m: Vec<Firm> = [0.30, 0.25, 0.20, 0.15, 0.10]
            .iter()
            .enumerate()
            .map(|(i, &s)| firm(&format!("f{i}"), s, 1.0, 0.5))
            .collect();
        // f3 + f4: ΔHHI = 2 · 15 · 10 = 300, HHI 2,550, share 25 %: the HHI prong only.
        let s = structure(&m, 3, 4);
        assert!((s.hhi_before - 2_250.0).abs() < 1e-9 && (s.delta - 300.0).abs() < 1e-9);
        assert!((s.hhi_after - 2_550.0).abs() < 1e-9);
        assert!(s.hhi_prong && !s.share_prong && s.presumed());
        // f0 + f4: ΔHHI 600, share 40 %: both prongs.
        let s = structure(&m, 0, 4);
        assert!(s.hhi_prong && s.share_prong && (s.merged_share - 0.40).abs() < 1e-12);
    }

    #[test]
    fn the_thirty_percent_prong_catches_what_the_hhi_prong_misses() {
        // 29/2 in an unconcentrated market (the rest 69 firms of 1 %): HHI = 841 + 4 + 69 = 914,
        // ΔHHI = 2 · 29 · 2 = 116 > 100, post-merger 1,030 < 1,800: only the 30 % prong (31 %).
        let mut m = vec![firm("big", 0.29, 1.0, 0.3), firm("small", 0.02, 1.0, 0.3)];
        m.extend((0..69).map(|i| firm(&format!("t{i}"), 0.01, 1.0, 0.3)));
        let s = structure(&m, 0, 1);
        assert!((s.hhi_before - 914.0).abs() < 1e-9 && (s.delta - 116.0).abs() < 1e-9);
        assert!(!s.hhi_prong && s.share_prong, "{s:?}");
        // A broken screen with only the HHI prong (the old `merger_blocked`) clears it.
        assert!(!(s.hhi_after > 1_800.0 && s.delta > 100.0));
        // ΔHHI of 95 is not significant even in a highly concentrated market (HHI 5,954):
        // 25 % + 1.9 % is cleared.
        let m2 = vec![
            firm("a", 0.25, 1.0, 0.3),
            firm("b", 0.019, 1.0, 0.3),
            firm("c", 0.731, 1.0, 0.3),
        ];
        let s2 = structure(&m2, 0, 1);
        assert!((s2.delta - 95.0).abs() < 1e-9 && s2.hhi_after > 1_800.0 && !s2.presumed());
    }

    #[test]
    fn guppi_matches_a_hand_computed_logit_example() {
        // Inside shares A 0.4, B 0.2 (C 0.4); outside option 0.5 of all choosers.
        // σ_A = 0.2, σ_B = 0.1: D_AB = 0.1 / 0.8 = 0.125, D_BA = 0.2 / 0.9 = 0.2222.
        // Prices p_A = 10, p_B = 8; margins m_A = 0.4, m_B = 0.25 (c_A = 6, c_B = 6).
        // GUPPI_A = 0.125 · 0.25 · 8 / 10 = 0.025; GUPPI_B = 0.2222 · 0.4 · 10 / 8 = 0.1111.
        let m = vec![
            firm("a", 0.4, 10.0, 0.4),
            firm("b", 0.2, 8.0, 0.25),
            firm("c", 0.4, 9.0, 0.3),
        ];
        let r = review(&m, 0, 1, 0.5, Rule::Guppi { threshold: 0.05 });
        assert!((r.diversion.0 - 0.125).abs() < 1e-12 && (r.diversion.1 - 2.0 / 9.0).abs() < 1e-12);
        assert!((r.guppi.0.unwrap() - 0.025).abs() < 1e-12);
        assert!((r.guppi.1.unwrap() - 1.0 / 9.0).abs() < 1e-12);
        assert!(r.blocked, "GUPPI_B 11 % > 5 %");
        // UPP in price units: UPP_A = D_AB (p_B − c_B) = 0.125 · 2 = 0.25; with a 5 %
        // efficiency on c_A = 6 it is 0.25 − 0.3 < 0.
        assert!((upp(0.125, 8.0, 6.0, 6.0, 0.0) - 0.25).abs() < 1e-12);
        assert!(upp(0.125, 8.0, 6.0, 6.0, 0.05) < 0.0);
        // Without the outside option (s_0 = 0) the diversion is the inside-share formula
        // s_B / (1 − s_A) = 0.2 / 0.6: ignoring the outside option overstates it.
        assert!((diversion(0.4, 0.2, 0.0) - 1.0 / 3.0).abs() < 1e-12);
        // A threshold above both GUPPIs clears it; the presumption rule looks only at shares
        // (HHI 3,600 → 5,200, Δ 1,600: blocked); the report rule never blocks.
        assert!(!review(&m, 0, 1, 0.5, Rule::Guppi { threshold: 0.12 }).blocked);
        assert!(review(&m, 0, 1, 0.5, Rule::Presumption).blocked);
        assert!(!review(&m, 0, 1, 0.5, Rule::Report).blocked);
    }

    #[test]
    fn a_firm_merging_with_itself_changes_nothing() {
        let m = vec![firm("a", 0.6, 1.0, 0.5), firm("b", 0.4, 1.0, 0.5)];
        let r = review(&m, 0, 0, 0.2, Rule::PresumptionOrGuppi { threshold: 0.0 });
        assert_eq!(r.structure.delta, 0.0);
        assert!(!r.blocked, "no change of ownership, no GUPPI above 0");
    }

    #[test]
    fn firms_sum_named_agents_by_owner_with_spend_weighted_prices() {
        // gcp (0.2, price 4, margin 0.5) and deepmind (0.1, price 10, margin 0.8) under
        // alphabet: share 0.3, price (0.2·4 + 0.1·10)/0.3 = 6, margin (0.1 + 0.08)/0.3 = 0.6.
        let a = |owner: &str, fringe, share, price, margin| Agent {
            owner: owner.into(),
            fringe,
            share,
            price,
            margin,
        };
        let f = firms(&[
            a("alphabet", false, 0.2, Some(4.0), Some(0.5)),
            a("alphabet", false, 0.1, Some(10.0), Some(0.8)),
            a("amazon", false, 0.3, None, None),
            a("other", true, 0.4, Some(1.0), Some(0.1)),
        ]);
        assert_eq!(f.len(), 2, "the fringe is no firm");
        assert!((f[0].share - 0.3).abs() < 1e-12);
        assert!((f[0].price.unwrap() - 6.0).abs() < 1e-12);
        assert!((f[0].margin.unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(f[1].price, None);
    }
}
