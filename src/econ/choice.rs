//! Enterprise discrete choice: the AI option (channel × lab model) and the cloud home, both by
//! multinomial logit with switching costs.
//!
//! Utility of AI option k for an enterprise with home h and suite s, currently on option c:
//!
//! ```text
//! U_k = V_k + home_affinity·[chan(k) = h] + suite_affinity·bundle(p)·[chan(k) = p = suite(s)]
//!       − (switch_cost_base + lock_in(tenure))·[k ≠ c] − egress_weight·egress(chan(c))·[chan(k) ≠ chan(c)]
//! V_k = quality_weight·q_k − price_weight·ln(price_k) + brand(lab(k)) + direct_api_bonus·[direct(k)]
//! ```
//!
//! Every enterprise-specific term is constant within a channel (a provider's marketplace or a
//! lab's direct API), so `exp(U_k)` factorises into a per-tick base weight `exp(V_k)` times a few
//! per-channel factors. [`ChoiceTables::choose`] samples the exact logit by inverse CDF with one
//! uniform, walking channel sums first and slots second: O(channels + labs) per review, no `exp`
//! in the per-enterprise path.

/// Marker for "no AI option yet" (enterprises before their first choice).
pub const NO_OPTION: u16 = u16::MAX;

/// Utility coefficients of the AI-option choice.
#[derive(Debug, Clone, Copy)]
pub struct OptionWeights {
    /// Utility per unit of quality.
    pub quality_weight: f64,
    /// Utility per unit of log price.
    pub price_weight: f64,
    /// Utility bonus of a direct API.
    pub direct_api_bonus: f64,
}

/// Common utility `V_k` of an option with the given quality, price (> 0) and lab brand.
pub fn option_utility(w: &OptionWeights, quality: f64, price: f64, brand: f64, direct: bool) -> f64 {
    let direct_bonus = if direct { w.direct_api_bonus } else { 0.0 };
    w.quality_weight * quality - w.price_weight * price.ln() + brand + direct_bonus
}

/// The enterprise-specific context of a choice: home channel and suite provider.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    home: usize,
    suite: Option<usize>,
    total: f64,
}

/// Per-tick tables for sampling AI options. Slot `k = channel · n_labs + lab`; channels
/// `0..n_providers` are provider marketplaces, the rest are labs' direct APIs.
#[derive(Debug, Clone, Default)]
pub struct ChoiceTables {
    n_labs: usize,
    base: Vec<f64>,
    group: Vec<f64>,
    leave: Vec<f64>,
    home_factor: f64,
    suite_factor: Vec<f64>,
    segments: Vec<Segment>,
    n_suites: usize,
}

impl ChoiceTables {
    /// Builds the tables. `utilities[k]` is `V_k`, `None` when slot k is not offered;
    /// `leave_cost[c]` the egress cost of leaving channel c; `bundle[p]` provider p's
    /// `suite_affinity · bundle_strength` (suite index p+1; suite 0 = none).
    pub fn new(
        n_labs: usize,
        utilities: &[Option<f64>],
        leave_cost: &[f64],
        home_affinity: f64,
        bundle: &[f64],
    ) -> ChoiceTables {
        assert!(n_labs > 0 && utilities.len().is_multiple_of(n_labs));
        let n_channels = utilities.len() / n_labs;
        assert_eq!(leave_cost.len(), n_channels);
        let n_providers = bundle.len();
        let max = utilities.iter().flatten().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let base: Vec<f64> = utilities.iter().map(|u| u.map_or(0.0, |u| (u - max).exp())).collect();
        let group: Vec<f64> = base.chunks(n_labs).map(|c| c.iter().sum()).collect();
        let mut tables = ChoiceTables {
            n_labs,
            base,
            group,
            leave: leave_cost.iter().map(|c| (-c).exp()).collect(),
            home_factor: home_affinity.exp(),
            suite_factor: bundle.iter().map(|b| b.exp()).collect(),
            segments: Vec::with_capacity(n_providers * (n_providers + 1)),
            n_suites: n_providers + 1,
        };
        for home in 0..n_providers {
            for suite in 0..=n_providers {
                let mut seg = Segment {
                    home,
                    suite: suite.checked_sub(1),
                    total: 0.0,
                };
                seg.total = (0..n_channels).map(|c| tables.group[c] * tables.factor(&seg, c)).sum();
                tables.segments.push(seg);
            }
        }
        tables
    }

    /// The segment of enterprises with this home provider and suite (0 = none, p+1 = provider p).
    #[inline]
    pub fn segment(&self, home: usize, suite: usize) -> &Segment {
        &self.segments[home * self.n_suites + suite]
    }

    /// Number of option slots.
    pub fn n_slots(&self) -> usize {
        self.base.len()
    }

    /// Channel of a slot.
    #[inline]
    pub fn channel_of(&self, slot: usize) -> usize {
        slot / self.n_labs
    }

    /// Whether a slot is offered this tick.
    #[inline]
    pub fn is_offered(&self, slot: usize) -> bool {
        self.base.get(slot).is_some_and(|&w| w > 0.0)
    }

    #[inline]
    fn factor(&self, seg: &Segment, channel: usize) -> f64 {
        let mut f = 1.0;
        if channel == seg.home {
            f *= self.home_factor;
        }
        if Some(channel) == seg.suite {
            f *= self.suite_factor[channel];
        }
        f
    }

    /// Choice probabilities of every slot (closed form, for tests and diagnostics).
    /// `stay` is `exp(−switching cost)`; `cur = None` means a first choice without costs.
    pub fn probabilities(&self, seg: &Segment, cur: Option<usize>, stay: f64) -> Vec<f64> {
        let weights: Vec<f64> = (0..self.base.len())
            .map(|k| {
                let c = self.channel_of(k);
                let w = self.base[k] * self.factor(seg, c);
                match cur {
                    None => w,
                    Some(cur) if k == cur => w,
                    Some(cur) => {
                        let lock = if self.base[cur] > 0.0 { stay } else { 1.0 };
                        let g = self.channel_of(cur);
                        if c == g { w * lock } else { w * lock * self.leave[g] }
                    }
                }
            })
            .collect();
        let total: f64 = weights.iter().sum();
        weights
            .iter()
            .map(|w| if total > 0.0 { w / total } else { 0.0 })
            .collect()
    }

    /// Samples the next option with one uniform `u` in [0, 1). `cur = None` is a first choice
    /// without switching costs. If the current option is no longer offered the enterprise must
    /// move, and the switching cost common to all alternatives drops out.
    pub fn choose(&self, seg: &Segment, cur: Option<usize>, stay: f64, u: f64) -> Option<usize> {
        let Some(cur) = cur else {
            return self.pick_among_channels(seg, u * seg.total, None);
        };
        let g = self.channel_of(cur);
        let fg = self.factor(seg, g);
        let w_cur = self.base[cur] * fg;
        let lock = if w_cur > 0.0 { stay } else { 1.0 };
        let same = (self.group[g] * fg - w_cur).max(0.0);
        let others = (seg.total - self.group[g] * fg).max(0.0);
        let leave = self.leave[g];
        let total = w_cur + lock * (same + leave * others);
        if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Some(cur);
        }
        let mut x = u * total;
        if x < w_cur {
            return Some(cur);
        }
        x -= w_cur;
        let same_w = lock * same;
        if x < same_w {
            return self.pick_in_channel(g, x / (lock * fg), Some(cur)).or(Some(cur));
        }
        x -= same_w;
        let scale = lock * leave;
        let target = if scale > 0.0 { x / scale } else { f64::INFINITY };
        self.pick_among_channels(seg, target, Some(g))
            .or_else(|| self.pick_in_channel(g, f64::INFINITY, Some(cur)))
            .or(Some(cur))
    }

    /// Walks channel weights (segment-adjusted) to `target`, then slots within the channel.
    fn pick_among_channels(&self, seg: &Segment, target: f64, skip: Option<usize>) -> Option<usize> {
        let mut acc = 0.0;
        let mut last = None;
        for c in 0..self.group.len() {
            if Some(c) == skip || self.group[c] <= 0.0 {
                continue;
            }
            let f = self.factor(seg, c);
            let w = self.group[c] * f;
            acc += w;
            last = Some(c);
            if target < acc {
                return self.pick_in_channel(c, (target - (acc - w)) / f, None);
            }
        }
        last.and_then(|c| self.pick_in_channel(c, f64::INFINITY, None))
    }

    /// Walks base weights of one channel's slots to `target`, skipping `skip`.
    fn pick_in_channel(&self, channel: usize, target: f64, skip: Option<usize>) -> Option<usize> {
        let mut acc = 0.0;
        let mut last = None;
        let start = channel * self.n_labs;
        for k in start..start + self.n_labs {
            let w = self.base[k];
            if Some(k) == skip || w <= 0.0 {
                continue;
            }
            acc += w;
            last = Some(k);
            if target < acc {
                return Some(k);
            }
        }
        last
    }
}

/// Cloud-home utility of a provider for an enterprise (before the migration cost).
#[derive(Debug, Clone, Copy)]
pub struct HomeInputs {
    /// Provider's home-choice brand constant.
    pub brand: f64,
    /// Provider's general-cloud price index (> 0).
    pub cloud_price_index: f64,
    /// Best model quality its marketplace offers (AI pull); 0 if none.
    pub best_quality: f64,
    /// Suite bonus if the enterprise uses this provider's suite, else 0.
    pub suite_bonus: f64,
    /// Licensing penalty this enterprise's suite owner imposes on this provider, else 0.
    pub licensing_penalty: f64,
}

/// `brand − cloud_price_weight·ln(index) + ai_pull_weight·best_quality + suite − licensing`.
pub fn home_utility(inputs: &HomeInputs, cloud_price_weight: f64, ai_pull_weight: f64) -> f64 {
    inputs.brand - cloud_price_weight * inputs.cloud_price_index.ln()
        + ai_pull_weight * inputs.best_quality
        + inputs.suite_bonus
        - inputs.licensing_penalty
}

/// A provider as the cloud-home choice sees it.
#[derive(Debug, Clone, Copy)]
pub struct HomeProvider {
    /// Whether it operates (only operating providers can be chosen).
    pub active: bool,
    /// Home-choice brand constant.
    pub brand: f64,
    /// General-cloud price index (> 0).
    pub cloud_price_index: f64,
    /// Best model quality its marketplace offers (0 if none).
    pub best_quality: f64,
    /// `suite_affinity · bundle_strength` for its own suite's users (0 when bundling is banned).
    pub suite_bonus: f64,
    /// Licensing penalty it imposes on rival clouds for its suite's users (0 when removed).
    pub licensing_penalty: f64,
}

/// Home utilities `W[s · n + p]` for every suite s (0 = none, q + 1 = provider q's suite) and
/// provider p; `None` for providers not operating.
pub fn home_utility_table(
    providers: &[HomeProvider],
    cloud_price_weight: f64,
    ai_pull_weight: f64,
) -> Vec<Option<f64>> {
    let n = providers.len();
    let mut table = Vec::with_capacity((n + 1) * n);
    for suite in 0..=n {
        let owner = suite.checked_sub(1);
        for (p, hp) in providers.iter().enumerate() {
            if !hp.active {
                table.push(None);
                continue;
            }
            let inputs = HomeInputs {
                brand: hp.brand,
                cloud_price_index: hp.cloud_price_index,
                best_quality: hp.best_quality,
                suite_bonus: if owner == Some(p) { hp.suite_bonus } else { 0.0 },
                licensing_penalty: match owner {
                    Some(q) if q != p => providers[q].licensing_penalty,
                    _ => 0.0,
                },
            };
            table.push(Some(home_utility(&inputs, cloud_price_weight, ai_pull_weight)));
        }
    }
    table
}

/// Per-tick tables for the cloud-home choice: weights per (suite, provider).
#[derive(Debug, Clone, Default)]
pub struct HomeTables {
    n_providers: usize,
    weights: Vec<f64>,
    totals: Vec<f64>,
    move_factor: f64,
}

impl HomeTables {
    /// `utilities[s · n_providers + p]`, `None` for providers not operating.
    pub fn new(n_providers: usize, utilities: &[Option<f64>], migration_cost: f64) -> HomeTables {
        let max = utilities.iter().flatten().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let weights: Vec<f64> = utilities.iter().map(|u| u.map_or(0.0, |u| (u - max).exp())).collect();
        let totals = weights.chunks(n_providers).map(|c| c.iter().sum()).collect();
        HomeTables {
            n_providers,
            weights,
            totals,
            move_factor: (-migration_cost).exp(),
        }
    }

    /// Closed-form probabilities of each home for suite `suite`, currently at `cur`.
    pub fn probabilities(&self, suite: usize, cur: usize) -> Vec<f64> {
        let row = &self.weights[suite * self.n_providers..(suite + 1) * self.n_providers];
        let m = if row[cur] > 0.0 { self.move_factor } else { 1.0 };
        let w: Vec<f64> = row
            .iter()
            .enumerate()
            .map(|(p, &x)| if p == cur { x } else { x * m })
            .collect();
        let total: f64 = w.iter().sum();
        w.iter().map(|x| x / total).collect()
    }

    /// Samples the home after a review with one uniform `u` in [0, 1).
    pub fn choose(&self, suite: usize, cur: usize, u: f64) -> usize {
        let row = &self.weights[suite * self.n_providers..(suite + 1) * self.n_providers];
        let w_cur = row[cur];
        let m = if w_cur > 0.0 { self.move_factor } else { 1.0 };
        let others = (self.totals[suite] - w_cur).max(0.0);
        let total = w_cur + m * others;
        let x = u * total;
        if x < w_cur || others <= 0.0 || m <= 0.0 {
            return cur;
        }
        let target = (x - w_cur) / m;
        let mut acc = 0.0;
        let mut last = cur;
        for (p, &w) in row.iter().enumerate() {
            if p == cur || w <= 0.0 {
                continue;
            }
            acc += w;
            last = p;
            if target < acc {
                return p;
            }
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 providers, 2 labs → channels: aws, azure, direct-a, direct-b; 8 slots.
    fn tables() -> ChoiceTables {
        let u = [
            Some(0.5),
            Some(0.0), // aws: lab a, lab b
            Some(1.0),
            None, // azure: lab a only
            Some(0.2),
            None, // direct lab a
            None,
            Some(0.7), // direct lab b
        ];
        ChoiceTables::new(2, &u, &[0.6, 0.3, 0.0, 0.0], 1.0, &[0.0, 0.8])
    }

    fn empirical(t: &ChoiceTables, seg: &Segment, cur: Option<usize>, stay: f64) -> Vec<f64> {
        let n = 200_000;
        let mut counts = vec![0usize; t.n_slots()];
        for i in 0..n {
            let u = (i as f64 + 0.5) / n as f64;
            counts[t.choose(seg, cur, stay, u).unwrap()] += 1;
        }
        counts.iter().map(|&c| c as f64 / n as f64).collect()
    }

    #[test]
    fn sampler_reproduces_closed_form_probabilities() {
        let t = tables();
        for home in 0..2 {
            for suite in 0..3 {
                let seg = *t.segment(home, suite);
                for cur in [None, Some(0), Some(2), Some(7)] {
                    let exact = t.probabilities(&seg, cur, 0.4);
                    let got = empirical(&t, &seg, cur, 0.4);
                    for k in 0..8 {
                        assert!(
                            (exact[k] - got[k]).abs() < 1e-4,
                            "home {home} suite {suite} cur {cur:?} slot {k}: {} vs {}",
                            exact[k],
                            got[k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn frictionless_probabilities_are_plain_logit() {
        let t = tables();
        let seg = *t.segment(0, 0);
        let p = t.probabilities(&seg, Some(0), 1.0);
        // Without switching costs or egress the current option plays no role.
        let t0 = ChoiceTables::new(
            2,
            &[Some(0.5), Some(0.0), Some(1.0), None, Some(0.2), None, None, Some(0.7)],
            &[0.0; 4],
            1.0,
            &[0.0, 0.8],
        );
        let q = t0.probabilities(t0.segment(0, 0), Some(0), 1.0);
        let v: [f64; 8] = [
            0.5 + 1.0,
            1.0,
            1.0,
            f64::NEG_INFINITY,
            0.2,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            0.7,
        ];
        let z: f64 = v.iter().map(|x| x.exp()).sum();
        for k in 0..8 {
            assert!((q[k] - v[k].exp() / z).abs() < 1e-12);
        }
        assert!(p[0] > q[0], "egress and switching costs favour staying");
    }

    #[test]
    fn unavailable_slots_are_never_chosen() {
        let t = tables();
        for i in 0..1000 {
            let u = i as f64 / 1000.0;
            let k = t.choose(t.segment(1, 2), Some(3), 0.5, u).unwrap();
            assert!(t.is_offered(k), "chose unavailable slot {k}");
        }
    }

    #[test]
    fn an_enterprise_on_a_withdrawn_option_must_move() {
        let t = tables();
        let p = t.probabilities(t.segment(0, 0), Some(3), 1e-6);
        assert_eq!(p[3], 0.0);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Switching costs common to all alternatives drop out; only leaving Azure costs egress.
        let leave = (-0.3f64).exp();
        let w = [
            1.5f64.exp() * leave,
            1.0f64.exp() * leave,
            1.0f64.exp(),
            0.0,
            0.2f64.exp() * leave,
            0.0,
            0.0,
            0.7f64.exp() * leave,
        ];
        let total: f64 = w.iter().sum();
        for k in 0..8 {
            assert!((p[k] - w[k] / total).abs() < 1e-12, "{p:?}");
        }
    }

    #[test]
    fn higher_switching_cost_raises_the_stay_probability() {
        let t = tables();
        let seg = *t.segment(0, 0);
        let low = t.probabilities(&seg, Some(4), 0.8)[4];
        let high = t.probabilities(&seg, Some(4), 0.2)[4];
        assert!(high > low);
    }

    #[test]
    fn home_affinity_and_suite_bundle_raise_a_channels_share() {
        let t = tables();
        let on_aws = t.probabilities(t.segment(0, 0), None, 1.0);
        let on_azure = t.probabilities(t.segment(1, 0), None, 1.0);
        assert!(on_azure[2] > on_aws[2]);
        let azure_suite = t.probabilities(t.segment(0, 2), None, 1.0);
        assert!(azure_suite[2] > on_aws[2]);
    }

    #[test]
    fn option_utility_rewards_quality_and_penalises_price() {
        let w = OptionWeights {
            quality_weight: 2.0,
            price_weight: 1.5,
            direct_api_bonus: 0.3,
        };
        let a = option_utility(&w, 1.0, 2.0, 0.0, false);
        assert!(option_utility(&w, 1.1, 2.0, 0.0, false) > a);
        assert!(option_utility(&w, 1.0, 2.2, 0.0, false) < a);
        assert!((option_utility(&w, 1.0, 2.0, 0.0, true) - a - 0.3).abs() < 1e-12);
    }

    #[test]
    fn home_choice_matches_closed_form_and_migration_cost_keeps_enterprises_home() {
        let h = HomeTables::new(3, &[Some(0.0), Some(0.5), Some(-0.2), Some(1.0), Some(0.0), None], 2.0);
        let n = 100_000;
        for (suite, cur) in [(0, 0), (0, 2), (1, 1), (1, 2)] {
            let exact = h.probabilities(suite, cur);
            let mut counts = [0usize; 3];
            for i in 0..n {
                counts[h.choose(suite, cur, (i as f64 + 0.5) / n as f64)] += 1;
            }
            for p in 0..3 {
                assert!((exact[p] - counts[p] as f64 / n as f64).abs() < 1e-4);
            }
        }
        let cheap = HomeTables::new(3, &[Some(0.0), Some(0.5), Some(-0.2), Some(1.0), Some(0.0), None], 0.5);
        assert!(h.probabilities(0, 0)[0] > cheap.probabilities(0, 0)[0]);
    }

    #[test]
    fn home_table_gives_the_suite_bonus_to_the_owner_and_the_penalty_to_rivals() {
        let hp = |active, bonus, penalty| HomeProvider {
            active,
            brand: 0.0,
            cloud_price_index: 1.0,
            best_quality: 0.0,
            suite_bonus: bonus,
            licensing_penalty: penalty,
        };
        let t = home_utility_table(&[hp(true, 0.0, 0.0), hp(true, 0.6, 0.5), hp(false, 0.0, 0.0)], 2.0, 0.3);
        assert_eq!(t.len(), 12);
        // No suite: nothing but brand and price.
        assert_eq!(&t[0..3], &[Some(0.0), Some(0.0), None]);
        // Provider 1's suite users: +0.6 on provider 1, −0.5 on its rival 0.
        assert_eq!(&t[6..9], &[Some(-0.5), Some(0.6), None]);
    }

    #[test]
    fn home_utility_combines_its_terms() {
        let i = HomeInputs {
            brand: 1.0,
            cloud_price_index: 1.0,
            best_quality: 2.0,
            suite_bonus: 0.5,
            licensing_penalty: 0.25,
        };
        assert!((home_utility(&i, 3.0, 0.1) - (1.0 + 0.2 + 0.5 - 0.25)).abs() < 1e-12);
    }
}
