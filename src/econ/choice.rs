//! Enterprise discrete choice: where a new or reviewed AI workload goes (a channel × lab model
//! option, or the outside option of no AI / self-hosting) and where a new or moved cloud
//! workload goes (a provider, or the outside option of on-premises), both by multinomial logit
//! with switching costs.
//!
//! Utility of AI option k for an enterprise whose cloud workloads sit on the set H of providers,
//! with suite s, when it moves workloads from its current option c:
//!
//! ```text
//! U_k = V_k + home_affinity·[chan(k) ∈ H] + suite_affinity·bundle(p)·[chan(k) = p = suite(s)]
//!       − (switch_cost_base + lock_in(tenure))·[k ≠ c] − egress_weight·egress(chan(c))·[chan(k) ≠ chan(c)]
//! V_k = quality_weight·q_k − price_weight·ln(price_k) + brand(lab(k)) + direct_api_bonus·[direct(k)]
//! U_0 = V_0(t)   (the outside option; leaving a marketplace for it pays egress too)
//! ```
//!
//! Every enterprise-specific term is constant within a channel (a provider's marketplace or a
//! lab's direct API), so `exp(U_k)` factorises into a per-tick base weight `exp(V_k)` times a few
//! per-channel factors. [`ChoiceTables::choose`] samples the exact logit by inverse CDF with one
//! uniform, walking channel sums first and slots second: O(channels + labs) per choice, no `exp`
//! in the per-enterprise path.

use super::portfolio::CLOUD_SLOTS;

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

/// The enterprise-specific context of an AI choice.
#[derive(Debug, Clone, Copy)]
pub struct AiContext<'a> {
    /// Providers holding the enterprise's cloud workloads: their marketplaces get the data-gravity
    /// bonus `home_affinity`.
    pub held: &'a [usize],
    /// Provider whose productivity suite the enterprise uses, if any.
    pub suite: Option<usize>,
    /// Labs whose models the enterprise already uses: in the placement of a new project their
    /// options get the vendor-gravity bonus (procurement and integration already done).
    pub vendors: &'a [usize],
}

/// An [`AiContext`] as bit sets ([`ChoiceTables::context_sets`]).
#[derive(Debug, Clone, Copy)]
pub struct ContextSets {
    held: u64,
    suite: Option<usize>,
    vendors: u64,
}

/// Where an AI choice lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiPick {
    /// An option slot.
    Slot(usize),
    /// The outside option (no AI, or self-hosted open weights on own hardware).
    Outside,
}

/// Labs as a bit set (labs < 64; the config allows 32).
#[inline]
fn lab_set(labs: &[usize]) -> u64 {
    labs.iter().fold(0, |m, &l| m | 1 << l)
}

/// Most channels a choice can have (32 providers' marketplaces and 32 labs' direct APIs, the
/// validated maxima).
pub const MAX_CHANNELS: usize = 64;

/// Most channels for the branch-free new-project walk (its factors in a small stack array);
/// the baseline has 14 (6 marketplaces, 8 direct APIs).
const FLAT_CHANNELS: usize = 16;

/// Vendors the branch-free new-project walk pads to (an enterprise uses at most three labs).
const FLAT_VENDORS: usize = 3;

/// Per-tick tables for sampling AI options. Slot `k = channel · n_labs + lab`; channels
/// `0..n_providers` are provider marketplaces, the rest are labs' direct APIs.
#[derive(Debug, Clone, Default)]
pub struct ChoiceTables {
    n_labs: usize,
    /// Channel and lab of every slot (`k / n_labs`, `k % n_labs`): looked up, as a division
    /// costs tens of cycles on the path of every review.
    slot_channel: Vec<u8>,
    slot_lab: Vec<u8>,
    max: f64,
    base: Vec<f64>,
    group: Vec<f64>,
    /// Σ of every channel's base weight.
    group_total: f64,
    /// Per lab, Σ over channels of its slots' base weights.
    col: Vec<f64>,
    /// Per lab, the channels offering it, as a bit set.
    lab_channels: Vec<u64>,
    outside: f64,
    leave: Vec<f64>,
    home_factor: Vec<f64>,
    vendor_factor: f64,
    suite_factor: Vec<f64>,
    /// Per channel with any offer, in channel order, a row of `n_labs + 2`: the channel's base
    /// sum, `(vendor_factor − 1) · base` of each of its slots, then 0 (the term of "no vendor",
    /// which pads the new-project walk to three vendors). The same values the walk would form,
    /// made once per tick.
    new_rows: Vec<f64>,
    /// `base · vendor_factor` of every slot: a slot's weight for a new project of a lab used.
    favoured_base: Vec<f64>,
    /// The channels with any offer (`group > 0`), in channel order.
    offered_channels: Vec<u8>,
    /// An upper bound, with a wide margin, of what a review weighs against staying before the
    /// lock-in factor: `same + leave · others` in [`ChoiceTables::choose`], for any context and
    /// current option (see [`ChoiceTables::surely_stays`]).
    review_bound: Vec<f64>,
    /// Per channel, its home factor (`home_factor`) or 1 for a channel without one (a lab's
    /// direct API), and the same of `suite_factor`: looked up without a bounds branch.
    channel_home: Vec<f64>,
    channel_suite: Vec<f64>,
    /// A bound, with a wide margin, of the difference between a new project's inside total as
    /// [`ChoiceTables::fast_total`] forms it and as the walk sums it (see [`new_margin`]).
    new_margin: f64,
}

impl ChoiceTables {
    /// Builds the tables. `utilities[k]` is `V_k`, `None` when slot k is not offered;
    /// `outside_utility` is `V_0` (`None`: no outside option); `leave_cost[c]` the egress cost
    /// of leaving channel c; `home_affinity[p]` the data-gravity bonus of provider p's
    /// marketplace for its cloud users; `bundle[p]` provider p's `suite_affinity · bundle_strength`;
    /// `vendor_gravity` the bonus of a lab already used, for new projects.
    pub fn new(
        n_labs: usize,
        utilities: &[Option<f64>],
        outside_utility: Option<f64>,
        leave_cost: &[f64],
        home_affinity: &[f64],
        vendor_gravity: f64,
        bundle: &[f64],
    ) -> ChoiceTables {
        assert!(n_labs > 0 && n_labs <= 64 && utilities.len().is_multiple_of(n_labs));
        let n_channels = utilities.len() / n_labs;
        assert!(leave_cost.len() == n_channels && n_channels <= MAX_CHANNELS);
        let max = utilities
            .iter()
            .flatten()
            .chain(outside_utility.iter())
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let base: Vec<f64> = utilities.iter().map(|u| u.map_or(0.0, |u| (u - max).exp())).collect();
        let group: Vec<f64> = base.chunks(n_labs).map(|c| c.iter().sum()).collect();
        let col: Vec<f64> = (0..n_labs).map(|l| base.iter().skip(l).step_by(n_labs).sum()).collect();
        let lab_channels = (0..n_labs)
            .map(|l| {
                (0..n_channels)
                    .filter(|&c| base[c * n_labs + l] != 0.0)
                    .fold(0u64, |m, c| m | 1 << c)
            })
            .collect();
        let vendor_factor = vendor_gravity.exp();
        let offered_channels: Vec<u8> = (0..n_channels).filter(|&c| group[c] > 0.0).map(|c| c as u8).collect();
        let new_rows = offered_channels
            .iter()
            .flat_map(|&c| {
                let c = usize::from(c);
                let extra = base[c * n_labs..(c + 1) * n_labs]
                    .iter()
                    .map(move |&b| (vendor_factor - 1.0) * b);
                std::iter::once(group[c]).chain(extra).chain(std::iter::once(0.0))
            })
            .collect();
        let favoured_base = base.iter().map(|&b| b * vendor_factor).collect();
        let leave: Vec<f64> = leave_cost.iter().map(|c| (-c).exp()).collect();
        let home_factor: Vec<f64> = home_affinity.iter().map(|a| a.exp()).collect();
        let suite_factor: Vec<f64> = bundle.iter().map(|b| b.exp()).collect();
        let review_bound = review_bound(
            &group,
            &home_factor,
            &suite_factor,
            &leave,
            outside_weight(outside_utility, max),
        );
        let new_margin = new_margin(&group, &home_factor, &suite_factor, vendor_factor - 1.0, n_labs);
        let per_channel = |f: &[f64]| (0..n_channels).map(|c| f.get(c).copied().unwrap_or(1.0)).collect();
        let (channel_home, channel_suite) = (per_channel(&home_factor), per_channel(&suite_factor));
        ChoiceTables {
            n_labs,
            new_margin,
            channel_home,
            channel_suite,
            new_rows,
            favoured_base,
            offered_channels,
            slot_channel: (0..base.len()).map(|k| (k / n_labs) as u8).collect(),
            slot_lab: (0..base.len()).map(|k| (k % n_labs) as u8).collect(),
            max,
            lab_channels,
            group_total: group.iter().sum(),
            col,
            base,
            group,
            outside: outside_weight(outside_utility, max),
            leave,
            home_factor,
            vendor_factor,
            suite_factor,
            review_bound,
        }
    }

    /// Number of option slots.
    pub fn n_slots(&self) -> usize {
        self.base.len()
    }

    /// Channel of a slot.
    #[inline]
    pub fn channel_of(&self, slot: usize) -> usize {
        usize::from(self.slot_channel[slot])
    }

    /// Whether a slot is offered this tick.
    #[inline]
    pub fn is_offered(&self, slot: usize) -> bool {
        self.base.get(slot).is_some_and(|&w| w > 0.0)
    }

    /// The context-adjusted weight of one slot for a new workload (0 when not offered).
    #[inline]
    pub fn weight(&self, cx: &AiContext, slot: usize) -> f64 {
        self.base[slot] * self.factor(cx, self.channel_of(slot)) * self.vendor(cx, usize::from(self.slot_lab[slot]))
    }

    /// The held clouds and the vendors of `cx` as bit sets, with its suite, for
    /// [`ChoiceTables::weight_in`] (channels and labs are below 64).
    #[inline]
    pub fn context_sets(&self, cx: &AiContext) -> ContextSets {
        ContextSets {
            held: cx
                .held
                .iter()
                .fold(0, |m, &h| m | 1u64.checked_shl(h as u32).unwrap_or(0)),
            suite: cx.suite,
            vendors: lab_set(cx.vendors),
        }
    }

    /// [`ChoiceTables::weight`] of the context whose sets are `sets`: the same factors by the
    /// same products, with bit tests for the searches of the held clouds and the vendors.
    #[inline]
    pub fn weight_in(&self, sets: &ContextSets, slot: usize) -> f64 {
        let channel = self.channel_of(slot);
        let mut f = 1.0;
        if sets.held >> channel & 1 == 1 {
            f *= self.home_factor[channel];
        }
        if Some(channel) == sets.suite {
            f *= self.suite_factor[channel];
        }
        let v = if sets.vendors >> self.slot_lab[slot] & 1 == 1 {
            self.vendor_factor
        } else {
            1.0
        };
        self.base[slot] * f * v
    }

    #[inline]
    fn vendor(&self, cx: &AiContext, lab: usize) -> f64 {
        if cx.vendors.contains(&lab) {
            self.vendor_factor
        } else {
            1.0
        }
    }

    /// Σ of a channel's base weights with the vendor factor of new projects.
    #[inline]
    fn group_new(&self, cx: &AiContext, c: usize) -> f64 {
        let extra: f64 = cx.vendors.iter().map(|&l| self.base[c * self.n_labs + l]).sum();
        self.group[c] + (self.vendor_factor - 1.0) * extra
    }

    /// `ln Σ_k exp(V_k)` over offered options for an enterprise in context `cx` (the
    /// inclusive value of the inside options; −∞ when none is offered).
    pub fn inside_log_sum(&self, cx: &AiContext) -> f64 {
        self.new_total(cx).ln() + self.max
    }

    /// Σ of the context-adjusted weights of every offered slot for a new project.
    fn new_total(&self, cx: &AiContext) -> f64 {
        (0..self.group.len())
            .filter(|&c| self.group[c] > 0.0)
            .map(|c| self.group_new(cx, c) * self.factor(cx, c))
            .sum()
    }

    /// The weight of the outside option (on the same scale as [`ChoiceTables::weight`]).
    #[inline]
    pub fn outside_weight(&self) -> f64 {
        self.outside
    }

    #[inline]
    fn factor(&self, cx: &AiContext, channel: usize) -> f64 {
        let mut f = 1.0;
        if cx.held.contains(&channel) {
            f *= self.home_factor[channel];
        }
        if Some(channel) == cx.suite {
            f *= self.suite_factor[channel];
        }
        f
    }

    /// Choice probabilities of every slot and of the outside option (closed form, for tests and
    /// diagnostics). `stay` is `exp(−switching cost)`; `cur = None` means a new workload
    /// (no switching costs).
    pub fn probabilities(&self, cx: &AiContext, cur: Option<usize>, stay: f64) -> (Vec<f64>, f64) {
        let (lock, leave_cur) = match cur {
            None => (1.0, 1.0),
            Some(c) => (
                if self.base[c] > 0.0 { stay } else { 1.0 },
                self.leave[self.channel_of(c)],
            ),
        };
        let weights: Vec<f64> = (0..self.base.len())
            .map(|k| {
                let c = self.channel_of(k);
                let w = self.base[k] * self.factor(cx, c);
                match cur {
                    None => w * self.vendor(cx, k % self.n_labs),
                    Some(cur) if k == cur => w,
                    Some(cur) if c == self.channel_of(cur) => w * lock,
                    Some(_) => w * lock * leave_cur,
                }
            })
            .collect();
        let outside = self.outside * lock * leave_cur;
        let total: f64 = weights.iter().sum::<f64>() + outside;
        if total <= 0.0 {
            return (vec![0.0; weights.len()], 0.0);
        }
        (weights.iter().map(|w| w / total).collect(), outside / total)
    }

    /// The context-adjusted weight of every channel into `w` (`skip` and channels without offers
    /// get 0) and the per-channel factors into `f`, with the vendor bonus of new projects when
    /// `vendors` is set; returns the weights' sum. One pass over the channels with the few special
    /// factors (held clouds, suite) set up front: the hot part of a choice.
    #[inline]
    fn channel_weights(
        &self,
        cx: &AiContext,
        vendors: bool,
        skip: Option<usize>,
        f: &mut [f64; MAX_CHANNELS],
        w: &mut [f64; MAX_CHANNELS],
    ) -> f64 {
        let n = self.group.len();
        f[..n].fill(1.0);
        for &h in cx.held {
            if h < self.home_factor.len() {
                f[h] *= self.home_factor[h];
            }
        }
        if let Some(s) = cx.suite
            && s < self.suite_factor.len()
        {
            f[s] *= self.suite_factor[s];
        }
        let mut total = 0.0;
        let extra = self.vendor_factor - 1.0;
        for c in 0..n {
            let mut g = self.group[c];
            if g <= 0.0 || Some(c) == skip {
                w[c] = 0.0;
                continue;
            }
            if vendors {
                for &l in cx.vendors {
                    g += extra * self.base[c * self.n_labs + l];
                }
            }
            w[c] = g * f[c];
            total += w[c];
        }
        total
    }

    /// The channels whose factor differs from 1 for this context (clouds held, suite), with
    /// their factors, written to `out`; returns how many (at most four). Written in place: an
    /// array returned by value was copied with loads wider than its stores, which stall.
    #[inline(always)]
    fn specials(&self, cx: &AiContext, out: &mut [(usize, f64); 4]) -> usize {
        let mut n = 0;
        // Held clouds are distinct providers (one slot each); the suite owner may be one of them.
        for &h in cx.held.iter().take(3) {
            if let Some(&f) = self.home_factor.get(h) {
                out[n] = (h, f);
                n += 1;
            }
        }
        if let Some(s) = cx.suite
            && let Some(&f) = self.suite_factor.get(s)
        {
            match out[..n].iter_mut().find(|e| e.0 == s) {
                Some(e) => e.1 *= f,
                None => {
                    out[n] = (s, f);
                    n += 1;
                }
            }
        }
        n
    }

    /// Σ of the context-adjusted channel weights without channel `skip`, from per-tick sums and
    /// the few special channels: O(specials × vendors) instead of a pass over every channel.
    #[inline]
    fn fast_total(&self, cx: &AiContext, sp: &[(usize, f64)], vendors: bool, skip: Option<usize>) -> f64 {
        let mut total = self.group_total - skip.map_or(0.0, |g| self.group[g]);
        for &(c, f) in sp {
            if Some(c) != skip {
                total += (f - 1.0) * self.group[c];
            }
        }
        if vendors && !cx.vendors.is_empty() {
            let extra = self.vendor_factor - 1.0;
            for &l in cx.vendors {
                let mut v = self.col[l] - skip.map_or(0.0, |g| self.base[g * self.n_labs + l]);
                for &(c, f) in sp {
                    if Some(c) != skip {
                        v += (f - 1.0) * self.base[c * self.n_labs + l];
                    }
                }
                total += extra * v;
            }
        }
        total
    }

    /// Samples where an AI workload goes with one uniform `u` in [0, 1). `cur = None` is a new
    /// workload without switching costs. If the current option is no longer offered, the
    /// switching cost common to all alternatives drops out (the enterprise must move).
    #[inline]
    pub fn choose(&self, cx: &AiContext, cur: Option<usize>, stay: f64, u: f64) -> AiPick {
        if let Some(c) = cur
            && self.surely_stays(c, cx.held.contains(&self.channel_of(c)), cx.suite, stay, u)
        {
            return AiPick::Slot(c);
        }
        self.choose_exact(cx, cur, stay, u)
    }

    /// [`ChoiceTables::choose`] without the shortcut of [`ChoiceTables::surely_stays`].
    #[inline(never)]
    fn choose_exact(&self, cx: &AiContext, cur: Option<usize>, stay: f64, u: f64) -> AiPick {
        // The special channels once per choice: both the total and the walk use them.
        let mut sp = [(usize::MAX, 1.0); 4];
        let n_sp = self.specials(cx, &mut sp);
        let sp = &sp[..n_sp];
        let Some(cur) = cur else {
            return self.choose_new(cx, sp, u);
        };
        let g = self.channel_of(cur);
        // Most reviews keep the current option: decide that from the totals alone, and walk the
        // channels only when the enterprise moves.
        let fg = sp.iter().find(|e| e.0 == g).map_or(1.0, |e| e.1);
        let w_cur = self.base[cur] * fg;
        let lock = if w_cur > 0.0 { stay } else { 1.0 };
        let same = (self.group[g] * fg - w_cur).max(0.0);
        let others = self.fast_total(cx, sp, false, Some(g)) + self.outside;
        let leave = self.leave[g];
        let total = w_cur + lock * (same + leave * others);
        if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return AiPick::Slot(cur);
        }
        let mut x = u * total;
        if x < w_cur {
            return AiPick::Slot(cur);
        }
        x -= w_cur;
        let same_w = lock * same;
        if x < same_w {
            return AiPick::Slot(self.pick_in_channel(g, x / (lock * fg), Some(cur)).unwrap_or(cur));
        }
        x -= same_w;
        let scale = lock * leave;
        let target = if scale > 0.0 { x / scale } else { f64::INFINITY };
        self.walk_move(cx, g, cur, target)
    }

    /// Whether the review of `cur` in [`ChoiceTables::choose`] keeps it, decided from the current
    /// option's own weight and the per-tick `review_bound`, without the special channels or the
    /// totals: nearly every review stays, as the lock-in factor `stay` is small. `choose` keeps
    /// `cur` when `u · total < w_cur`, with `total = w_cur + stay · r` and `r = same + leave ·
    /// others` as it computes them. `review_bound[g]` is above any such `r` with a margin (see
    /// [`review_bound`]), so `hi = w_cur + stay · review_bound ≥ total` and, rounding being
    /// monotone, `u · hi ≥ u · total`: `u · hi < w_cur` implies that `choose` stays. Only "true"
    /// is conclusive; otherwise `choose` decides as before. A current option not offered has
    /// `w_cur = 0` and never passes (its forced move always walks).
    /// `channel_held` says whether the enterprise's clouds include the current option's channel
    /// (`cx.held` contains it), `suite` is `cx.suite`: the caller can answer both without
    /// building the context, which most reviews then never need.
    #[inline(always)]
    pub fn surely_stays(&self, cur: usize, channel_held: bool, suite: Option<usize>, stay: f64, u: f64) -> bool {
        let g = self.channel_of(cur);
        // The factor of the current channel as `specials` forms it: home × suite, either alone,
        // or 1 (`1 · x` and `x · 1` being exact, the same value). Selected without branches:
        // whether the channel is a held cloud, the suite's, or a marketplace at all follows no
        // pattern a predictor learns, and this decides nearly every review.
        let home = select(channel_held, self.channel_home[g], 1.0);
        let suite = select(suite == Some(g), self.channel_suite[g], 1.0);
        let w_cur = self.base[cur] * (home * suite);
        u * (w_cur + stay * self.review_bound[g]) < w_cur
    }

    /// The walk of a move to another channel (rare: most reviews stay). Out of line, with its
    /// per-channel arrays, so that the common stay decision sets up no large frame.
    #[cold]
    #[inline(never)]
    fn walk_move(&self, cx: &AiContext, g: usize, cur: usize, target: f64) -> AiPick {
        let mut f = [0.0; MAX_CHANNELS];
        let mut w = [0.0; MAX_CHANNELS];
        self.channel_weights(cx, false, Some(g), &mut f, &mut w);
        match self.walk(cx, &f, &w, target, false) {
            AiPick::Outside if self.outside <= 0.0 => AiPick::Slot(cur),
            pick => pick,
        }
    }

    /// A new workload's choice. Out of line: a review, the more frequent call, then sets up
    /// neither its frame nor its registers.
    #[inline(never)]
    fn choose_new(&self, cx: &AiContext, sp: &[(usize, f64)], u: f64) -> AiPick {
        // The total from per-tick sums; the walk computes channel weights only until it
        // reaches the target.
        let inside = self.fast_total(cx, sp, true, None);
        let total = inside + self.outside;
        let target = u * total;
        // Many new projects go to the outside option, which the walk reaches only past every
        // channel. The walk's sum of the channel weights is `inside` but for rounding, far
        // below `new_margin` (see [`new_margin`]): a target above `inside + new_margin` is
        // past that sum too, and the walk would end on the outside option.
        if self.outside > 0.0 && target > inside + self.new_margin {
            return AiPick::Outside;
        }
        self.walk_new(cx, sp, target)
    }

    /// The walk of a new project: channel weights (with the vendor bonus) computed on the way.
    fn walk_new(&self, cx: &AiContext, sp: &[(usize, f64)], target: f64) -> AiPick {
        if self.group.len() <= FLAT_CHANNELS && cx.vendors.len() <= FLAT_VENDORS {
            return self.walk_new_flat(cx, sp, target);
        }
        self.walk_new_split(cx, sp, target)
    }

    /// [`ChoiceTables::walk_new_split`] without its branches, which enterprises' differing
    /// clouds and vendors made mispredict: every offered channel gets the general weight
    /// `(g0 + Σ_vendors extra · base) · f`, with g0 and the vendor terms from the per-tick
    /// `new_rows` and always three vendor terms, the missing vendors' terms being the 0 that ends
    /// each row. Byte-identical: a plain channel has no offer of a used lab, so its vendor terms
    /// are `extra · 0 = ±0` (extra is finite, the gravity being bounded) and `g0 ± 0 = g0`; a
    /// padding term adds +0, which leaves any sum but −0 as it is, and the sum is never −0 (it
    /// starts at g0 > 0, and a sum is −0 only when both terms are); the factor of a plain channel
    /// is 1, and `x · 1`, `x / 1` are exact; in its slot walk the favoured labs weigh
    /// `0 · vendor_factor = 0` and are skipped as before.
    #[inline]
    fn walk_new_flat(&self, cx: &AiContext, sp: &[(usize, f64)], target: f64) -> AiPick {
        let mut f = [1.0; FLAT_CHANNELS];
        for &(c, fc) in sp {
            if c < FLAT_CHANNELS {
                f[c] = fc;
            }
        }
        // The vendors' columns in `new_rows`, the padding column `n_labs + 1` for the rest (a
        // loop, not `copy_from_slice`: that is a call to `memcpy`).
        let mut v = [self.n_labs + 1; FLAT_VENDORS];
        for (d, &l) in v.iter_mut().zip(cx.vendors) {
            *d = l + 1;
        }
        let mut acc = 0.0;
        for (&c, row) in self
            .offered_channels
            .iter()
            .zip(self.new_rows.chunks_exact(self.n_labs + 2))
        {
            let c = usize::from(c);
            let g = row[0] + row[v[0]] + row[v[1]] + row[v[2]];
            let fc = f[c];
            let wc = g * fc;
            acc += wc;
            if target < acc
                && let Some(k) = self.walk_slots(c, (target - (acc - wc)) / fc, lab_set(cx.vendors))
            {
                return AiPick::Slot(k);
            }
        }
        if self.outside > 0.0 {
            return AiPick::Outside;
        }
        self.offered_channels
            .last()
            .and_then(|&c| self.pick_in_channel(usize::from(c), f64::INFINITY, None))
            .map_or(AiPick::Outside, AiPick::Slot)
    }

    /// The new-project walk for many channels: plain channels (factor 1, no used lab offered)
    /// weigh their base sum without the vendor loop.
    fn walk_new_split(&self, cx: &AiContext, sp: &[(usize, f64)], target: f64) -> AiPick {
        // Channels with a factor other than 1, and channels offering a lab already used, as bit
        // sets (channels < MAX_CHANNELS = 64): the others weigh their base sum, exactly what the
        // general terms give (a vendor term without an offer adds 0, a factor of 1 multiplies by 1).
        let special = sp.iter().fold(0u64, |m, e| m | 1 << e.0);
        let vendor_channels = cx.vendors.iter().fold(0u64, |m, &l| m | self.lab_channels[l]);
        let plain = !(special | vendor_channels);
        let extra = self.vendor_factor - 1.0;
        let mut acc = 0.0;
        let mut last = None;
        for (c, (&g0, row)) in self.group.iter().zip(self.base.chunks_exact(self.n_labs)).enumerate() {
            if g0 <= 0.0 {
                continue;
            }
            if plain >> c & 1 == 1 {
                acc += g0;
                last = Some(c);
                if target < acc
                    && let Some(k) = self.walk_slots(c, target - (acc - g0), 0)
                {
                    return AiPick::Slot(k);
                }
                continue;
            }
            let mut g = g0;
            for &l in cx.vendors {
                g += extra * row[l];
            }
            let fc = if special >> c & 1 == 0 {
                1.0
            } else {
                sp.iter().find(|e| e.0 == c).map_or(1.0, |e| e.1)
            };
            let wc = g * fc;
            acc += wc;
            last = Some(c);
            if target < acc
                && let Some(k) = self.walk_slots(c, (target - (acc - wc)) / fc, lab_set(cx.vendors))
            {
                return AiPick::Slot(k);
            }
        }
        if self.outside > 0.0 {
            return AiPick::Outside;
        }
        last.and_then(|c| self.pick_in_channel(c, f64::INFINITY, None))
            .map_or(AiPick::Outside, AiPick::Slot)
    }

    /// Walks the channel weights `w` (factors `f`) to `target`, then the slots of the channel
    /// reached (with the vendor bonus of new projects when `vendors` is set); past the last
    /// channel, the outside option. With nothing past the target (rounding), the last slot with
    /// weight.
    fn walk(
        &self,
        cx: &AiContext,
        f: &[f64; MAX_CHANNELS],
        w: &[f64; MAX_CHANNELS],
        target: f64,
        vendors: bool,
    ) -> AiPick {
        let mut acc = 0.0;
        let mut last = None;
        for c in 0..self.group.len() {
            if w[c] <= 0.0 {
                continue;
            }
            acc += w[c];
            last = Some(c);
            if target < acc {
                let favoured = if vendors { lab_set(cx.vendors) } else { 0 };
                if let Some(k) = self.walk_slots(c, (target - (acc - w[c])) / f[c], favoured) {
                    return AiPick::Slot(k);
                }
            }
        }
        if self.outside > 0.0 {
            return AiPick::Outside;
        }
        last.and_then(|c| self.pick_in_channel(c, f64::INFINITY, None))
            .map_or(AiPick::Outside, AiPick::Slot)
    }

    /// Walks the slots of `channel` to `inner`, the labs in `favoured` weighted by the vendor
    /// factor; with nothing past `inner` (rounding), the last slot with weight.
    fn walk_slots(&self, channel: usize, mut inner: f64, favoured: u64) -> Option<usize> {
        let start = channel * self.n_labs;
        let end = start + self.n_labs;
        let mut pick = None;
        for (l, (&b, &bf)) in self.base[start..end]
            .iter()
            .zip(&self.favoured_base[start..end])
            .enumerate()
        {
            let k = start + l;
            // `bf` is `b · vendor_factor`, multiplied once per tick.
            let wk = if favoured >> l & 1 == 1 { bf } else { b };
            if wk <= 0.0 {
                continue;
            }
            pick = Some(k);
            if inner < wk {
                break;
            }
            inner -= wk;
        }
        pick
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

/// The weight of the outside option, 0 without one.
fn outside_weight(outside_utility: Option<f64>, max: f64) -> f64 {
    outside_utility.map_or(0.0, |u| (u - max).exp())
}

/// `a` if `c`, else `b`, by a mask on the bits rather than a branch.
#[inline(always)]
fn select(c: bool, a: f64, b: f64) -> f64 {
    let m = u64::from(c).wrapping_neg();
    f64::from_bits(a.to_bits() & m | b.to_bits() & !m)
}

/// The `new_margin` of [`ChoiceTables`]. A new project's inside total is formed twice, in
/// different orders: by [`ChoiceTables::fast_total`] from per-tick sums and the special
/// channels, and by the walk as the running sum of every channel's `(group + extra · Σ_vendors
/// base) · factor`. Both are the same sum but for rounding. With `F_c` the largest factor a
/// context can give channel c and at most `n_labs` vendor terms, every term and partial sum
/// of either is at most `B = (1 + n_labs·|extra|) · Σ_c (F_c + 2) · group[c]` in magnitude
/// (`base ≤ group` per channel, `col` the sum of a lab's bases), and each of their fewer than
/// 4000 roundings (64 channels, 32 labs) errs by at most 2^−53 · B: the two differ by less
/// than 10^−12 · B, and the margin is 10^−9 · B. A non-finite margin only makes the check fail.
fn new_margin(group: &[f64], home: &[f64], suite: &[f64], extra: f64, n_labs: usize) -> f64 {
    let factor = |c: usize| {
        let h = home.get(c).copied().unwrap_or(1.0);
        let s = suite.get(c).copied().unwrap_or(1.0);
        1.0f64.max(h).max(s).max(h * s)
    };
    let b: f64 = group.iter().enumerate().map(|(c, &g)| (factor(c) + 2.0) * g).sum();
    1e-9 * b * (1.0 + n_labs as f64 * extra.abs())
}

/// The `review_bound` of [`ChoiceTables`], per current channel g: an upper bound of
/// `same + leave[g] · others` in a review. With `F_c` the largest factor a context can give
/// channel c (1, home, suite, or both) and every weight non-negative, `same ≤ group[g] · F_g` and
/// `others ≤ Σ_{c ≠ g} group[c] · F_c + outside`; the bound is that sum with a relative margin
/// of 10⁻⁶ and an absolute one of 10⁻⁹ of the largest magnitude involved, far above the
/// rounding of the few sums `choose` forms (relative 10⁻¹⁵ of their largest term). A
/// non-finite bound only makes the check fail.
fn review_bound(group: &[f64], home: &[f64], suite: &[f64], leave: &[f64], outside: f64) -> Vec<f64> {
    let factor = |c: usize| {
        let h = home.get(c).copied().unwrap_or(1.0);
        let s = suite.get(c).copied().unwrap_or(1.0);
        1.0f64.max(h).max(s).max(h * s)
    };
    let most: Vec<f64> = group.iter().enumerate().map(|(c, &g)| g * factor(c)).collect();
    let sum_most: f64 = most.iter().sum();
    // The largest magnitude of the sums `choose` forms (the fast total starts from the plain
    // group sum before adding the special channels' extras).
    let magnitude = sum_most + group.iter().sum::<f64>() + outside;
    (0..group.len())
        .map(|g| {
            let l = leave[g].max(0.0);
            let r = most[g] + l * (sum_most - most[g] + outside);
            r * (1.0 + 1e-6) + 1e-9 * magnitude * (1.0 + l)
        })
        .collect()
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

/// Per-tick tables for placing and moving cloud workloads: weights per (suite, provider), the
/// outside option (on-premises), the data-gravity factor of clouds already holding the
/// enterprise's workloads, and the factor of the migration cost.
///
/// ```text
/// W_p = brand_p − β_c·ln(index_p) + β_AI·best_quality_p + suite bonus − licensing penalty
///       + γ_g·[p holds the enterprise's workloads] − M·[moving, p ≠ origin]
/// W_0 = V_0(t)   (on-premises / not buying; moving there costs M too)
/// ```
#[derive(Debug, Clone, Default)]
pub struct CloudTables {
    n_providers: usize,
    max: f64,
    weights: Vec<f64>,
    /// `weights[i] · gravity[p]` for the same (suite, provider) entries: the weight of a held
    /// cloud, multiplied once per tick rather than once per choice.
    held_weights: Vec<f64>,
    outside: f64,
    gravity: Vec<f64>,
    move_factor: f64,
    /// New projects' walks, made once per tick with few providers (up to [`WALK_PROVIDERS`];
    /// empty with more): per suite and held set of at most [`CLOUD_SLOTS`] clouds (`full`
    /// exactly when that many, as enterprises choose) an entry of `n_providers + 1` values, the
    /// sum of the weights and the outside weight (`others` in [`CloudTables::choose`]), then
    /// the walk's running sum at each provider (the sum before it for a provider without
    /// weight, which the walk skips). The same operations in the same order as the walk of a choice, so the same
    /// values: a new project's choice then reads one entry.
    new_walks: Vec<f64>,
    /// Per entry of `new_walks`, the last provider with weight ([`NO_PROVIDER`] if none).
    new_last: Vec<u8>,
    /// Per held set, its place among the held sets with entries, with [`FULL_RANK`] when it
    /// is full ([`NO_RANK`]: no entry).
    walk_rank: Vec<u16>,
    /// Held sets with entries, per suite.
    walk_sets: usize,
}

/// A held set without entries in [`CloudTables`]' walks.
const NO_RANK: u16 = u16::MAX;
/// The flag of a full held set (its entry is for `full`) in [`CloudTables`]' `walk_rank`.
const FULL_RANK: u16 = 1 << 14;

/// Most providers for which [`CloudTables`] makes the new projects' walks: entries for every
/// suite and held set (7 · 42 for the baseline's 6).
const WALK_PROVIDERS: usize = 6;

/// No provider in [`CloudTables`]' `new_last`.
const NO_PROVIDER: u8 = u8::MAX;

/// The weight of provider p in a cloud choice, from the per-tick products and the held set (as
/// [`CloudTables::weight`]: a held provider with gravity, an unheld one not at all when the
/// enterprise manages no more clouds).
#[inline(always)]
fn weight_of(row: &[f64], held_row: &[f64], held_set: u64, full: bool, p: usize) -> f64 {
    if held_set >> p & 1 == 1 {
        held_row[p]
    } else if full {
        0.0
    } else {
        row[p]
    }
}

/// Most providers a cloud choice handles (held clouds are kept as a 64-bit set; the config
/// allows 32).
pub const MAX_PROVIDERS: usize = 64;

/// Where a cloud choice lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudPick {
    /// A provider.
    Provider(usize),
    /// The outside option: on-premises (or not buying).
    Outside,
}

impl CloudTables {
    /// `utilities[s · n_providers + p]` (`None` for providers not operating), the outside
    /// utility `V_0`, each provider's data-gravity bonus `γ_g` and the migration cost `M`.
    pub fn new(
        n_providers: usize,
        utilities: &[Option<f64>],
        outside_utility: f64,
        gravity: &[f64],
        migration_cost: f64,
    ) -> CloudTables {
        let max = utilities
            .iter()
            .flatten()
            .chain(std::iter::once(&outside_utility))
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        assert!(n_providers <= MAX_PROVIDERS && gravity.len() == n_providers);
        let weights: Vec<f64> = utilities.iter().map(|u| u.map_or(0.0, |u| (u - max).exp())).collect();
        let gravity: Vec<f64> = gravity.iter().map(|g| g.exp()).collect();
        let held_weights = weights
            .iter()
            .enumerate()
            .map(|(i, w)| w * gravity[i % n_providers])
            .collect();
        let mut tables = CloudTables {
            n_providers,
            max,
            weights,
            held_weights,
            outside: (outside_utility - max).exp(),
            gravity,
            move_factor: (-migration_cost).exp(),
            new_walks: Vec::new(),
            new_last: Vec::new(),
            walk_rank: Vec::new(),
            walk_sets: 0,
        };
        if n_providers <= WALK_PROVIDERS {
            tables.make_new_walks();
        }
        tables
    }

    /// Fills `new_walks`, `new_last` and `walk_rank` for every suite and every held set an
    /// enterprise can have (at most [`CLOUD_SLOTS`] clouds, `full` with that many).
    fn make_new_walks(&mut self) {
        match self.n_providers {
            1 => self.fill_new_walks::<1>(),
            2 => self.fill_new_walks::<2>(),
            3 => self.fill_new_walks::<3>(),
            4 => self.fill_new_walks::<4>(),
            5 => self.fill_new_walks::<5>(),
            6 => self.fill_new_walks::<6>(),
            _ => {}
        }
    }

    /// [`CloudTables::make_new_walks`] for `N` providers. Once per tick, so written to cost
    /// little: the number of providers a constant, each entry's weights once into an array.
    fn fill_new_walks<const N: usize>(&mut self) {
        // The held sets with entries, and whether they are full (a popcount is a library call
        // on the portable target: counted once here, not per choice).
        let sets: Vec<(u64, bool)> = (0..1u64 << N)
            .map(|s| (s, s.count_ones() as usize))
            .filter(|&(_, k)| k <= CLOUD_SLOTS)
            .map(|(s, k)| (s, k == CLOUD_SLOTS))
            .collect();
        let mut rank = vec![NO_RANK; 1 << N];
        for (r, &(set, full)) in sets.iter().enumerate() {
            rank[set as usize] = r as u16 | if full { FULL_RANK } else { 0 };
        }
        let n_suites = self.weights.len() / N;
        let mut walks = Vec::with_capacity(n_suites * sets.len() * (N + 1));
        let mut last = Vec::with_capacity(n_suites * sets.len());
        for suite in 0..n_suites {
            let row: &[f64; N] = self.weights[suite * N..][..N].try_into().expect("N weights");
            let held_row: &[f64; N] = self.held_weights[suite * N..][..N].try_into().expect("N weights");
            for &(held_set, full) in &sets {
                let w: [f64; N] = std::array::from_fn(|p| weight_of(row, held_row, held_set, full, p));
                // `others` as `choose_general` forms it for `from = None` (a sum of the weights
                // in provider order, from the same zero as `Sum`), then the walk's running sums.
                walks.push(w.iter().sum::<f64>() + self.outside);
                let mut acc = 0.0;
                let mut l = NO_PROVIDER;
                for (p, &wp) in w.iter().enumerate() {
                    if wp > 0.0 {
                        acc += wp;
                        l = p as u8;
                    }
                    walks.push(acc);
                }
                last.push(l);
            }
        }
        self.new_walks = walks;
        self.new_last = last;
        self.walk_rank = rank;
        self.walk_sets = sets.len();
    }

    /// The entry of `new_walks` for (suite, held set, full), if it has one.
    #[inline]
    fn walk_index(&self, suite: usize, held_set: u64, full: bool) -> Option<usize> {
        let r = *self.walk_rank.get(held_set as usize)?;
        (r != NO_RANK && full == (r & FULL_RANK != 0)).then(|| suite * self.walk_sets + usize::from(r & !FULL_RANK))
    }

    /// Weight of provider p for an enterprise holding `held` (a held provider gets the gravity
    /// factor; with `full`, an unheld provider cannot be chosen: the enterprise manages no more
    /// clouds).
    #[inline]
    fn weight(&self, row: &[f64], p: usize, held: &[usize], full: bool) -> f64 {
        if held.contains(&p) {
            row[p] * self.gravity[p]
        } else if full {
            0.0
        } else {
            row[p]
        }
    }

    /// `ln Σ_p exp(W_p)` over operating providers for suite `suite`, without gravity (the
    /// inclusive value of the inside options for an enterprise with no cloud yet).
    pub fn inside_log_sum(&self, suite: usize) -> f64 {
        self.row(suite).iter().sum::<f64>().ln() + self.max
    }

    /// `ln Σ_p exp(W_p)` over the providers an enterprise with `held` clouds can choose for a
    /// new project (gravity included).
    pub fn inside_log_sum_for(&self, suite: usize, held: &[usize], full: bool) -> f64 {
        let row = self.row(suite);
        (0..self.n_providers)
            .map(|p| self.weight(row, p, held, full))
            .sum::<f64>()
            .ln()
            + self.max
    }

    fn row(&self, suite: usize) -> &[f64] {
        &self.weights[suite * self.n_providers..(suite + 1) * self.n_providers]
    }

    /// Closed-form probabilities of each provider and of the outside option for a new workload
    /// (`from = None`) or a move from provider `from`.
    pub fn probabilities(&self, suite: usize, held: &[usize], full: bool, from: Option<usize>) -> (Vec<f64>, f64) {
        let row = self.row(suite);
        let m = |p: Option<usize>| {
            if from.is_some() && p != from {
                self.move_factor
            } else {
                1.0
            }
        };
        let w: Vec<f64> = (0..self.n_providers)
            .map(|p| self.weight(row, p, held, full) * m(Some(p)))
            .collect();
        let outside = self.outside * m(None);
        let total: f64 = w.iter().sum::<f64>() + outside;
        (w.iter().map(|x| x / total).collect(), outside / total)
    }

    /// Samples where a cloud workload goes with one uniform `u`: a new workload (`from = None`)
    /// or one moved from provider `from` (staying is `Provider(from)`).
    pub fn choose(&self, suite: usize, held: &[usize], full: bool, from: Option<usize>, u: f64) -> CloudPick {
        let (lo, hi) = (suite * self.n_providers, (suite + 1) * self.n_providers);
        let row = &self.weights[lo..hi];
        let held_row = &self.held_weights[lo..hi];
        let held_set = held.iter().fold(0u64, |m, &h| m | 1 << h);
        if from.is_none()
            && let Some(e) = self.walk_index(suite, held_set, full)
        {
            return self.choose_new(e, u);
        }
        self.choose_general(row, held_row, held_set, full, from, u)
    }

    /// [`CloudTables::choose`] of a new project from its entry of `new_walks`: the same
    /// operations on the same values as [`CloudTables::choose_general`] with `from = None`,
    /// the sums and the running sums of the walk read rather than formed.
    #[inline]
    fn choose_new(&self, e: usize, u: f64) -> CloudPick {
        let n = self.n_providers;
        let walk = &self.new_walks[e * (n + 1)..(e + 1) * (n + 1)];
        let (stay, m) = (0.0, 1.0);
        let others = walk[0];
        let total = stay + m * others;
        let mut x = u * total;
        x -= stay;
        let target = x / m;
        // The walk as a count (where it ends is random, a branch there mispredicted): the
        // running sums never decrease and a provider without weight repeats the sum before it,
        // so the first provider with `target < acc` (the walk's pick, as target ≥ 0 or NaN and
        // acc starts at 0) comes after exactly the providers with `!(target < acc)`.
        let k = walk[1..]
            .iter()
            .map(|acc| usize::from(target.partial_cmp(acc) != Some(std::cmp::Ordering::Less)))
            .sum::<usize>();
        if k < n {
            return CloudPick::Provider(k);
        }
        if self.outside > 0.0 {
            return CloudPick::Outside;
        }
        // Rounding past the last weight: the last provider with weight.
        match self.new_last[e] {
            NO_PROVIDER => CloudPick::Outside,
            p => CloudPick::Provider(usize::from(p)),
        }
    }

    /// [`CloudTables::choose`] in general, from the row of the enterprise's suite, the same row
    /// with gravity, and the set of held providers.
    fn choose_general(
        &self,
        row: &[f64],
        held_row: &[f64],
        held_set: u64,
        full: bool,
        from: Option<usize>,
        u: f64,
    ) -> CloudPick {
        let weight = |p: usize| weight_of(row, held_row, held_set, full, p);
        let (stay, m) = match from {
            None => (0.0, 1.0),
            Some(f) => (weight(f), self.move_factor),
        };
        let from = from.unwrap_or(usize::MAX);
        let others: f64 = (0..self.n_providers).filter(|&p| p != from).map(weight).sum::<f64>() + self.outside;
        let total = stay + m * others;
        let mut x = u * total;
        if from != usize::MAX && (x < stay || m * others <= 0.0) {
            return CloudPick::Provider(from);
        }
        x -= stay;
        let target = x / m;
        let mut acc = 0.0;
        for p in (0..self.n_providers).filter(|&p| p != from) {
            let w = weight(p);
            if w <= 0.0 {
                continue;
            }
            acc += w;
            if target < acc {
                return CloudPick::Provider(p);
            }
        }
        if self.outside > 0.0 {
            return CloudPick::Outside;
        }
        // Rounding past the last weight: the last provider with weight.
        (0..self.n_providers)
            .rev()
            .find(|&p| p != from && weight(p) > 0.0)
            .map_or(CloudPick::Outside, CloudPick::Provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 providers, 2 labs → channels: aws, azure, direct-a, direct-b; 8 slots.
    fn tables(outside: Option<f64>) -> ChoiceTables {
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
        ChoiceTables::new(2, &u, outside, &[0.6, 0.3, 0.0, 0.0], &[1.0, 1.0], 0.9, &[0.0, 0.8])
    }

    fn empirical(t: &ChoiceTables, cx: &AiContext, cur: Option<usize>, stay: f64) -> (Vec<f64>, f64) {
        let n = 200_000;
        let mut counts = vec![0usize; t.n_slots()];
        let mut outside = 0usize;
        for i in 0..n {
            match t.choose(cx, cur, stay, (i as f64 + 0.5) / n as f64) {
                AiPick::Slot(k) => counts[k] += 1,
                AiPick::Outside => outside += 1,
            }
        }
        (
            counts.iter().map(|&c| c as f64 / n as f64).collect(),
            outside as f64 / n as f64,
        )
    }

    #[test]
    fn sampler_reproduces_closed_form_probabilities_with_and_without_the_outside_option() {
        for outside in [None, Some(0.4)] {
            let t = tables(outside);
            for held in [&[][..], &[0][..], &[0, 1][..]] {
                for (suite, vendors) in [(None, &[][..]), (Some(0), &[1][..]), (Some(1), &[0, 1][..])] {
                    let cx = AiContext { held, suite, vendors };
                    for cur in [None, Some(0), Some(2), Some(7)] {
                        let (exact, exact_out) = t.probabilities(&cx, cur, 0.4);
                        let (got, got_out) = empirical(&t, &cx, cur, 0.4);
                        assert!((exact_out - got_out).abs() < 1e-4, "outside {exact_out} vs {got_out}");
                        for k in 0..8 {
                            assert!(
                                (exact[k] - got[k]).abs() < 1e-4,
                                "held {held:?} suite {suite:?} cur {cur:?} slot {k}: {} vs {}",
                                exact[k],
                                got[k]
                            );
                        }
                    }
                }
            }
        }
    }

    /// The review shortcut only ever answers "stays" where the exact decision stays, and with a
    /// small lock-in factor it answers most reviews: every context, current option, lock-in and
    /// uniform of a grid, against `choose_exact`; the uniforms include those next to the exact
    /// threshold `w_cur / total`, where rounding would show.
    #[test]
    fn the_review_shortcut_stays_only_where_the_exact_choice_stays() {
        let mut shortcut = 0usize;
        let mut reviews = 0usize;
        for outside in [None, Some(0.4), Some(3.0)] {
            let t = tables(outside);
            for held in [&[][..], &[0][..], &[1][..], &[0, 1][..]] {
                for suite in [None, Some(0), Some(1)] {
                    let cx = AiContext {
                        held,
                        suite,
                        vendors: &[],
                    };
                    for cur in [0, 1, 2, 4, 7] {
                        for stay in [1.0, 0.4, 0.05, 0.0025, 0.0] {
                            let p = t.probabilities(&cx, Some(cur), stay).0[cur];
                            let mut us: Vec<f64> = (0..200).map(|i| f64::from(i) / 200.0).collect();
                            let mut near = p;
                            for _ in 0..40 {
                                us.extend([near, near.next_down(), near.next_up()]);
                                near = near.next_down();
                            }
                            for u in us.into_iter().filter(|u| (0.0..1.0).contains(u)) {
                                reviews += 1;
                                if t.surely_stays(cur, held.contains(&t.channel_of(cur)), suite, stay, u) {
                                    shortcut += 1;
                                    assert_eq!(
                                        t.choose_exact(&cx, Some(cur), stay, u),
                                        AiPick::Slot(cur),
                                        "outside {outside:?} held {held:?} suite {suite:?} cur {cur} stay {stay} u {u}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        // Stays are common at small lock-in factors; a shortcut that never fires would be useless.
        assert!(shortcut * 4 > reviews, "{shortcut} of {reviews}");
        // A withdrawn current option (weight 0) never takes the shortcut.
        let t = tables(Some(0.0));
        assert!(!t.surely_stays(3, false, Some(1), 0.0, 0.0));
    }

    #[test]
    fn new_workload_probabilities_are_plain_logit_including_the_outside_good() {
        let t = tables(Some(0.4));
        let held = [1];
        let (p, p0) = t.probabilities(
            &AiContext {
                held: &held,
                suite: None,
                vendors: &[],
            },
            None,
            1.0,
        );
        // Azure (channel 1) is held: +1.0 on its slot; suite none; outside V_0 = 0.4.
        let v = [
            0.5,
            0.0,
            1.0 + 1.0,
            f64::NEG_INFINITY,
            0.2,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            0.7,
        ];
        let z: f64 = v.iter().map(|x| x.exp()).sum::<f64>() + 0.4f64.exp();
        for k in 0..8 {
            assert!((p[k] - v[k].exp() / z).abs() < 1e-12);
        }
        assert!((p0 - 0.4f64.exp() / z).abs() < 1e-12);
    }

    #[test]
    fn unavailable_slots_are_never_chosen_and_a_withdrawn_option_must_move() {
        let t = tables(Some(0.0));
        let cx = AiContext {
            held: &[1],
            suite: Some(1),
            vendors: &[],
        };
        for i in 0..1000 {
            if let AiPick::Slot(k) = t.choose(&cx, Some(3), 0.5, i as f64 / 1000.0) {
                assert!(t.is_offered(k), "chose unavailable slot {k}");
            }
        }
        let (p, p0) = t.probabilities(
            &AiContext {
                held: &[0],
                suite: None,
                vendors: &[],
            },
            Some(3),
            1e-6,
        );
        assert_eq!(p[3], 0.0);
        assert!((p.iter().sum::<f64>() + p0 - 1.0).abs() < 1e-12);
        // Switching costs common to all alternatives drop out; leaving Azure costs egress, the
        // outside option included.
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
        let total: f64 = w.iter().sum::<f64>() + leave;
        for k in 0..8 {
            assert!((p[k] - w[k] / total).abs() < 1e-12, "{p:?}");
        }
        assert!((p0 - leave / total).abs() < 1e-12);
    }

    #[test]
    fn higher_switching_cost_raises_the_stay_probability() {
        let t = tables(Some(0.0));
        let cx = AiContext {
            held: &[0],
            suite: None,
            vendors: &[],
        };
        let low = t.probabilities(&cx, Some(4), 0.8).0[4];
        let high = t.probabilities(&cx, Some(4), 0.2).0[4];
        assert!(high > low);
    }

    #[test]
    fn data_gravity_and_the_suite_bundle_raise_a_channels_share() {
        let t = tables(None);
        let on_aws = t
            .probabilities(
                &AiContext {
                    held: &[0],
                    suite: None,
                    vendors: &[],
                },
                None,
                1.0,
            )
            .0;
        let on_azure = t
            .probabilities(
                &AiContext {
                    held: &[1],
                    suite: None,
                    vendors: &[],
                },
                None,
                1.0,
            )
            .0;
        assert!(on_azure[2] > on_aws[2]);
        let azure_suite = t
            .probabilities(
                &AiContext {
                    held: &[0],
                    suite: Some(1),
                    vendors: &[],
                },
                None,
                1.0,
            )
            .0;
        assert!(azure_suite[2] > on_aws[2]);
        let both = t
            .probabilities(
                &AiContext {
                    held: &[0, 1],
                    suite: None,
                    vendors: &[],
                },
                None,
                1.0,
            )
            .0;
        assert!(
            both[2] > on_aws[2] && both[0] > on_azure[0],
            "multi-homed: both marketplaces pull"
        );
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

    fn cloud() -> CloudTables {
        // 3 providers (the third not operating for suite 1), outside utility 0.2, gravity 0.7.
        CloudTables::new(
            3,
            &[Some(0.0), Some(0.5), Some(-0.2), Some(1.0), Some(0.0), None],
            0.2,
            &[0.7; 3],
            2.0,
        )
    }

    #[test]
    fn cloud_sampler_matches_closed_form_for_new_and_moved_workloads() {
        let c = cloud();
        let n = 100_000;
        for (suite, held, full, from) in [
            (0, &[][..], false, None),
            (0, &[2][..], false, None),
            (1, &[0][..], true, None),
            (0, &[0, 1][..], false, Some(0)),
            (1, &[1][..], false, Some(1)),
        ] {
            let (exact, exact_out) = c.probabilities(suite, held, full, from);
            let mut counts = [0usize; 4];
            for i in 0..n {
                match c.choose(suite, held, full, from, (i as f64 + 0.5) / n as f64) {
                    CloudPick::Provider(p) => counts[p] += 1,
                    CloudPick::Outside => counts[3] += 1,
                }
            }
            for p in 0..3 {
                assert!(
                    (exact[p] - counts[p] as f64 / n as f64).abs() < 1e-4,
                    "{suite} {held:?} {from:?} p{p}"
                );
            }
            assert!((exact_out - counts[3] as f64 / n as f64).abs() < 1e-4);
        }
    }

    /// A new project's choice from the per-tick walks is the general walk's, for every suite,
    /// held set and `full` and a grid of uniforms, including providers not operating, a
    /// negligible outside option and the largest number of providers with walks.
    #[test]
    fn new_project_walks_choose_as_the_general_walk() {
        let utilities = [
            Some(0.0),
            Some(0.5),
            None,
            Some(-0.2),
            Some(1.0),
            Some(0.0),
            None,
            Some(0.3),
            Some(-1.0),
            Some(0.1),
            None,
            None,
        ];
        let six: Vec<Option<f64>> = (0..42)
            .map(|i| (i % 5 != 3).then(|| f64::from(i % 7) * 0.3 - 0.8))
            .collect();
        let tables = [
            CloudTables::new(4, &utilities[..8], 0.2, &[0.7, 0.1, 0.0, 1.3], 2.0),
            CloudTables::new(4, &utilities[..8], -800.0, &[0.7; 4], 0.5),
            CloudTables::new(3, &utilities[..9], 0.0, &[0.4; 3], 900.0),
            CloudTables::new(6, &six, 0.4, &[0.2, 0.9, 0.0, 0.3, 1.1, 0.5], 1.0),
        ];
        for c in &tables {
            let n = c.n_providers;
            assert!(!c.new_walks.is_empty());
            for suite in 0..c.weights.len() / n {
                let (lo, hi) = (suite * n, (suite + 1) * n);
                let (row, held_row) = (&c.weights[lo..hi], &c.held_weights[lo..hi]);
                for held_set in 0..1u64 << n {
                    let held: Vec<usize> = (0..n).filter(|&p| held_set >> p & 1 == 1).collect();
                    for full in [false, true] {
                        for i in 0..=400 {
                            let u = (f64::from(i) / 400.0).min(1.0 - f64::EPSILON);
                            assert_eq!(
                                c.choose(suite, &held, full, None, u),
                                c.choose_general(row, held_row, held_set, full, None, u),
                                "suite {suite} held {held_set:b} full {full} u {u}"
                            );
                        }
                    }
                }
            }
        }
        // With more providers there are no walks, and the general walk decides.
        let seven: Vec<Option<f64>> = (0..56).map(|i| Some(f64::from(i % 4) * 0.1)).collect();
        assert!(CloudTables::new(7, &seven, 0.0, &[0.1; 7], 1.0).new_walks.is_empty());
    }

    /// The outside shortcut of a new project's choice changes no pick: for many contexts
    /// (held clouds, suite, vendors) and a fine grid of uniforms near the top, where the
    /// shortcut applies, `choose` picks what the walk alone picks.
    #[test]
    fn new_projects_outside_shortcut_picks_as_the_walk() {
        let mut checked = 0;
        for (t, outside) in [
            (tables(Some(0.3)), true),
            (tables(Some(-2.0)), true),
            (tables(None), false),
        ] {
            for held in [&[][..], &[0][..], &[1][..], &[0, 1][..]] {
                for suite in [None, Some(0), Some(1)] {
                    for vendors in [&[][..], &[0][..], &[1][..], &[1, 0][..]] {
                        let cx = AiContext { held, suite, vendors };
                        let mut sp = [(usize::MAX, 1.0); 4];
                        let n_sp = t.specials(&cx, &mut sp);
                        let sp = &sp[..n_sp];
                        let inside = t.fast_total(&cx, sp, true, None);
                        for i in 0..=2000 {
                            let u = (1.0 - f64::from(i) * 1e-4).min(1.0 - f64::EPSILON);
                            let target = u * (inside + t.outside);
                            checked += usize::from(target > inside + t.new_margin);
                            assert_eq!(
                                t.choose(&cx, None, 1.0, u),
                                t.walk_new(&cx, sp, target),
                                "{held:?} {suite:?} {vendors:?} {u}"
                            );
                        }
                    }
                }
            }
            assert!(!outside || checked > 0);
        }
    }

    /// The weight from the context's bit sets is the weight from the context, bit for bit.
    #[test]
    fn weights_from_context_sets_are_the_weights() {
        let t = tables(Some(0.3));
        for held in [&[][..], &[0][..], &[1][..], &[1, 0][..]] {
            for suite in [None, Some(0), Some(1)] {
                for vendors in [&[][..], &[0][..], &[1][..], &[1, 0][..]] {
                    let cx = AiContext { held, suite, vendors };
                    let sets = t.context_sets(&cx);
                    for slot in 0..t.n_slots() {
                        assert_eq!(t.weight_in(&sets, slot).to_bits(), t.weight(&cx, slot).to_bits());
                    }
                }
            }
        }
    }

    /// The branch-free select is `if c { a } else { b }`, bit for bit.
    #[test]
    fn select_is_if_else() {
        for (a, b) in [(0.5, 1.0), (-0.0, 0.0), (f64::NAN, f64::INFINITY), (1e-300, -7.25)] {
            assert_eq!(select(true, a, b).to_bits(), a.to_bits());
            assert_eq!(select(false, a, b).to_bits(), b.to_bits());
        }
    }

    #[test]
    fn gravity_keeps_workloads_together_and_migration_cost_keeps_them_in_place() {
        let c = cloud();
        let (free, _) = c.probabilities(0, &[], false, None);
        let (held, _) = c.probabilities(0, &[2], false, None);
        assert!(held[2] > free[2]);
        let (stay, _) = c.probabilities(0, &[0], false, Some(0));
        let cheap = CloudTables::new(
            3,
            &[Some(0.0), Some(0.5), Some(-0.2), Some(1.0), Some(0.0), None],
            0.2,
            &[0.7; 3],
            0.5,
        );
        assert!(stay[0] > cheap.probabilities(0, &[0], false, Some(0)).0[0]);
        // A full portfolio cannot add a cloud; the closed form for a new workload is plain logit.
        let (full, out) = c.probabilities(1, &[0], true, None);
        assert_eq!(full[1], 0.0);
        let z = (1.0f64 + 0.7).exp() + 0.2f64.exp();
        assert!((full[0] - (1.7f64).exp() / z).abs() < 1e-12 && (out - 0.2f64.exp() / z).abs() < 1e-12);
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
        assert_eq!(&t[0..3], &[Some(0.0), Some(0.0), None]);
        assert_eq!(&t[6..9], &[Some(-0.5), Some(0.6), None]);
    }
}
