//! The choice of new projects against theory. With every enterprise starting a cloud project and
//! an AI project every month, no reviews and compute prices and qualities held fixed, each
//! enterprise's new AI project is an independent draw from the multinomial logit over the
//! offered options **and the outside option**, given its suite and the clouds it uses; each new
//! cloud project likewise over the providers and on-premises. The expected probabilities are
//! recomputed here from the published market (qualities, prices, offers) and the config's
//! utility parameters, independently of the engine's tables — including the outside options'
//! utilities, re-derived from their configured shares — and compared with the observed picks by
//! chi-square tests; perturbed expectations must fail them.
//!
//! A second test checks the urn logic of the new-spend margin: an agent whose share of new
//! spend exceeds its installed share gains share over time, and the reverse.

use std::collections::HashMap;

use aimarket::config::{Config, Market};
use aimarket::econ::choice::{NO_OPTION, OptionWeights, option_utility};
use aimarket::econ::portfolio::{CLOUD_SLOTS, NO_CLOUD, Portfolio};
use aimarket::sim::Simulation;
use aimarket::sim::agents::Enterprise;
use aimarket::sim::resources::{Layout, MarketView, TickReport};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::common::*;

/// Overrides: a project a month, no reviews or moves, qualities and compute prices fixed, and
/// fast growth so that every project has units (a project of zero units leaves no trace).
const FRICTIONLESS: [&str; 20] = [
    "enterprise.project_probability=1",
    "pricing.rule=utilisation",
    "pricing.cost_trend_per_year=0",
    "enterprise.review_probability=0",
    "enterprise.cloud_review_probability=0",
    "enterprise.initial_ai_projects=1",
    "providers.*.price_response=0",
    "providers.*.invest_rate=0",
    "providers.*.invest_response=0",
    "lab_behaviour.stock_depreciation=0",
    "lab_behaviour.reinvest_share=0",
    "labs.*.budget_growth_per_year=0",
    "labs.*.training_budget_musd=0",
    "labs.*.own_capacity_kgpu=0",
    "demand.ai_growth_per_year=5",
    "demand.cloud_growth_per_year=5",
    "demand.ai_outside_trend_per_year=0",
    "demand.cloud_outside_trend_per_year=0",
    "providers.*.capacity_kgpu=100000",
    "run.seed=424242",
];

/// Utility parameters the expectations are computed from (perturbed to check power).
#[derive(Clone, Copy)]
struct Theory {
    quality_weight: f64,
    price_weight: f64,
    ai_cloud_affinity: f64,
    suite_affinity: f64,
    direct_api_bonus: f64,
    ai_outside_shift: f64,
    ai_vendor_gravity: f64,
    cloud_price_weight: f64,
    ai_pull_weight: f64,
    cloud_gravity: f64,
    cloud_outside_shift: f64,
}

impl Theory {
    fn of(config: &Config) -> Theory {
        let e = &config.enterprise;
        Theory {
            quality_weight: e.quality_weight,
            price_weight: e.price_weight,
            ai_cloud_affinity: e.ai_cloud_affinity,
            suite_affinity: e.suite_affinity,
            direct_api_bonus: e.direct_api_bonus,
            ai_outside_shift: 0.0,
            ai_vendor_gravity: e.ai_vendor_gravity,
            cloud_price_weight: e.cloud_price_weight,
            ai_pull_weight: e.ai_pull_weight,
            cloud_gravity: e.cloud_gravity,
            cloud_outside_shift: 0.0,
        }
    }

    /// Utilities of every AI slot (`None`: not offered) for a new project of an enterprise with
    /// a suite owner, held clouds and labs already used.
    fn ai_utilities(
        &self,
        config: &Config,
        layout: &Layout,
        view: &MarketView,
        held: &[usize],
        suite: Option<usize>,
        vendors: &[usize],
    ) -> Vec<Option<f64>> {
        let n_p = layout.n_providers();
        let w = OptionWeights {
            quality_weight: self.quality_weight,
            price_weight: self.price_weight,
            direct_api_bonus: self.direct_api_bonus,
        };
        (0..layout.slots.n_slots())
            .map(|k| {
                if !view.offered[k] {
                    return None;
                }
                let (channel, lab) = layout.slots.split(k);
                let mut u = option_utility(
                    &w,
                    view.slot_quality[k],
                    view.slot_price[k],
                    config.labs[lab].brand,
                    channel >= n_p,
                );
                // Data gravity pulls towards a named cloud, not towards the fringe aggregate.
                if held.contains(&channel) && !config.providers[channel].fringe {
                    u += self.ai_cloud_affinity;
                }
                if Some(channel) == suite {
                    u += self.suite_affinity * config.providers[channel].bundle_strength;
                }
                if vendors.contains(&lab) {
                    u += self.ai_vendor_gravity;
                }
                Some(u)
            })
            .collect()
    }

    /// The AI outside utility, as documented: the `V_0` at which the mean outside probability of
    /// a new project in the initial market, over the initial enterprises (weight: size), equals
    /// `ai_outside_share`.
    fn ai_outside(&self, config: &Config, layout: &Layout, initial: &MarketView, start: &[Portfolio]) -> f64 {
        let segments: Vec<(f64, f64)> = start
            .iter()
            .map(|p| {
                let u = self.ai_utilities(
                    config,
                    layout,
                    initial,
                    &held(p),
                    usize::from(p.suite).checked_sub(1),
                    &[],
                );
                (f64::from(p.size), log_sum(&u))
            })
            .collect();
        solve(config.demand.ai_outside_share, &segments) + self.ai_outside_shift
    }

    /// Cloud utilities per provider (without gravity) for a suite owner.
    fn cloud_utilities(&self, config: &Config, view: &MarketView, suite: Option<usize>) -> Vec<Option<f64>> {
        config
            .providers
            .values()
            .enumerate()
            .map(|(p, pc)| {
                if !view.provider_active[p] {
                    return None;
                }
                let mut u = pc.brand - self.cloud_price_weight * pc.cloud_price_index.ln()
                    + self.ai_pull_weight * view.best_quality[p];
                match suite {
                    Some(q) if q == p => u += self.suite_affinity * pc.bundle_strength,
                    Some(q) => u -= config.providers[q].licensing_penalty,
                    None => {}
                }
                Some(u)
            })
            .collect()
    }

    /// The cloud outside utility: the same rule with the cloud choice (weight: size × units).
    fn cloud_outside(&self, config: &Config, initial: &MarketView, start: &[Portfolio]) -> f64 {
        let segments: Vec<(f64, f64)> = start
            .iter()
            .map(|p| {
                let mut u = self.cloud_utilities(config, initial, usize::from(p.suite).checked_sub(1));
                let h = held(p);
                for (c, x) in u.iter_mut().enumerate() {
                    if h.contains(&c) {
                        *x = x.map(|v| v + gravity(config, c, self.cloud_gravity));
                    } else if h.len() == CLOUD_SLOTS {
                        *x = None;
                    }
                }
                (f64::from(p.size) * f64::from(p.cloud_total()), log_sum(&u))
            })
            .collect();
        solve(config.demand.cloud_outside_share, &segments) + self.cloud_outside_shift
    }
}

/// The `v` at which `Σ w / (1 + exp(iv − v)) / Σ w = share`, by bisection.
fn solve(share: f64, segments: &[(f64, f64)]) -> f64 {
    let total: f64 = segments.iter().map(|(w, _)| w).sum();
    let mean = |v: f64| segments.iter().map(|(w, iv)| w / (1.0 + (iv - v).exp())).sum::<f64>() / total;
    let (mut lo, mut hi) = (-200.0, 200.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mean(mid) < share {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Cloud gravity of provider c: none for a fringe aggregate of many small clouds.
fn gravity(config: &Config, c: usize, bonus: f64) -> f64 {
    if config.providers[c].fringe { 0.0 } else { bonus }
}

fn log_sum(u: &[Option<f64>]) -> f64 {
    let max = u.iter().flatten().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    u.iter().flatten().map(|x| (x - max).exp()).sum::<f64>().ln() + max
}

/// Probabilities of the choices (last entry: the outside option) from utilities.
fn logit(u: &[Option<f64>], outside: f64) -> Vec<f64> {
    let max = u.iter().flatten().fold(outside, |a, &b| a.max(b));
    let mut w: Vec<f64> = u.iter().map(|x| x.map_or(0.0, |x| (x - max).exp())).collect();
    w.push((outside - max).exp());
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// Pearson chi-square of observed counts per segment against expectations, cells of expected
/// count below 5 pooled per segment; and of the totals over segments (more power against common
/// deviations; conservative since summed multinomials have variance at most the expectation).
#[derive(Debug, Clone, Copy, Default)]
struct Statistics {
    segments: (f64, usize),
    margins: (f64, usize),
}

impl Statistics {
    fn of(segments: &[(Vec<u64>, Vec<f64>)]) -> Statistics {
        let mut st = Statistics::default();
        let cells = segments.first().map_or(0, |(o, _)| o.len());
        let mut total_o = vec![0.0; cells];
        let mut total_e = vec![0.0; cells];
        for (observed, p) in segments {
            let n: u64 = observed.iter().sum();
            let (mut po, mut pe, mut used) = (0.0, 0.0, 0usize);
            for (k, &o) in observed.iter().enumerate() {
                let e = n as f64 * p[k];
                total_o[k] += o as f64;
                total_e[k] += e;
                if e == 0.0 {
                    assert_eq!(o, 0, "a pick with zero probability (cell {k})");
                    continue;
                }
                if e < 5.0 {
                    po += o as f64;
                    pe += e;
                    continue;
                }
                st.segments.0 += (o as f64 - e).powi(2) / e;
                used += 1;
            }
            if pe > 0.0 {
                st.segments.0 += (po - pe).powi(2) / pe;
                used += 1;
            }
            st.segments.1 += used.saturating_sub(1);
        }
        let margin: Vec<(f64, f64)> = total_o.into_iter().zip(total_e).filter(|(_, e)| *e > 0.0).collect();
        st.margins = (margin.iter().map(|(o, e)| (o - e).powi(2) / e).sum(), margin.len() - 1);
        st
    }

    fn add(&mut self, o: Statistics) {
        self.segments.0 += o.segments.0;
        self.segments.1 += o.segments.1;
        self.margins.0 += o.margins.0;
        self.margins.1 += o.margins.1;
    }

    /// Whether the expectation is rejected at overall level `alpha` (Bonferroni over the two).
    fn rejects(&self, alpha: f64) -> bool {
        let critical = |df: usize, a: f64| ChiSquared::new(df as f64).expect("df > 0").inverse_cdf(1.0 - a);
        self.segments.0 > critical(self.segments.1, alpha / 2.0)
            || self.margins.0 > critical(self.margins.1, alpha / 2.0)
    }
}

fn portfolios(sim: &mut Simulation) -> Vec<Portfolio> {
    let world = sim.world_mut();
    let mut q = world.query::<&Enterprise>();
    let mut all: Vec<Portfolio> = q.iter(world).map(|e| e.0).collect();
    all.sort_by_key(|p| p.id);
    all
}

fn held(p: &Portfolio) -> Vec<usize> {
    let mut h: Vec<usize> = p
        .cloud
        .iter()
        .filter(|&&c| c != NO_CLOUD)
        .map(|&c| usize::from(c))
        .collect();
    h.sort_unstable();
    h
}

fn vendors(p: &Portfolio, n_labs: usize) -> Vec<usize> {
    let mut v: Vec<usize> =
        p.ai.iter()
            .filter(|&&o| o != NO_OPTION)
            .map(|&o| usize::from(o) % n_labs)
            .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Where this month's new AI project of `after` went (slot, or `n_slots` for outside), from the
/// change against `before`; `None` when the project had no units.
fn ai_pick(before: &Portfolio, after: &Portfolio, n_slots: usize) -> Option<usize> {
    if after.ai_outside > before.ai_outside {
        return Some(n_slots);
    }
    after
        .ai
        .iter()
        .zip(&after.ai_units)
        .find(|(o, u)| {
            **o != NO_OPTION && {
                let old = before.ai.iter().position(|b| b == *o).map_or(0, |j| before.ai_units[j]);
                **u > old
            }
        })
        .map(|(o, _)| usize::from(*o))
}

fn cloud_pick(before: &Portfolio, after: &Portfolio, n_p: usize) -> Option<usize> {
    if after.cloud_outside > before.cloud_outside {
        return Some(n_p);
    }
    after
        .cloud
        .iter()
        .zip(&after.cloud_units)
        .find(|(c, u)| {
            **c != NO_CLOUD && {
                let old = before
                    .cloud
                    .iter()
                    .position(|b| b == *c)
                    .map_or(0, |j| before.cloud_units[j]);
                **u > old
            }
        })
        .map(|(c, _)| usize::from(*c))
}

type Perturbation = (&'static str, fn(&mut Theory));

/// Runs the frictionless world two months and returns the statistics (AI and cloud together) of
/// the true expectation and of each perturbed one.
fn new_project_statistics(enterprises: u32, perturbations: &[Perturbation]) -> (Statistics, Vec<Statistics>) {
    let config = small_baseline(enterprises, 2, &FRICTIONLESS);
    let truth = Theory::of(&config);
    let mut sim = Simulation::new(&config);
    let layout = sim.world().resource::<Layout>().clone();
    let initial = sim.world().resource::<MarketView>().clone();
    let start = portfolios(&mut sim);
    let (n_p, n_slots) = (layout.n_providers(), layout.slots.n_slots());
    let theories: Vec<Theory> = std::iter::once(truth)
        .chain(perturbations.iter().map(|(_, f)| {
            let mut t = truth;
            f(&mut t);
            t
        }))
        .collect();
    let mut stats = vec![Statistics::default(); theories.len()];
    for _ in 0..config.run.ticks {
        let before = portfolios(&mut sim);
        sim.step().expect("tick runs");
        let view = sim.world().resource::<MarketView>().clone();
        let after = portfolios(&mut sim);
        // Observed picks by segment: AI by (clouds used after the cloud project, suite); cloud by
        // (clouds used before, suite).
        let mut ai_seg: HashMap<(Vec<usize>, u8, Vec<usize>), Vec<u64>> = HashMap::new();
        let mut cloud_seg: HashMap<(Vec<usize>, u8), Vec<u64>> = HashMap::new();
        for (b, a) in before.iter().zip(&after) {
            assert!(b.ai.contains(&NO_OPTION), "a free AI slot: no restricted choice");
            if let Some(k) = ai_pick(b, a, n_slots) {
                ai_seg
                    .entry((held(a), a.suite, vendors(b, layout.n_labs())))
                    .or_insert_with(|| vec![0; n_slots + 1])[k] += 1;
            }
            if b.n_clouds() < CLOUD_SLOTS
                && let Some(c) = cloud_pick(b, a, n_p)
            {
                cloud_seg.entry((held(b), b.suite)).or_insert_with(|| vec![0; n_p + 1])[c] += 1;
            }
        }
        let mut ai_keys: Vec<_> = ai_seg.keys().cloned().collect();
        ai_keys.sort();
        let mut cloud_keys: Vec<_> = cloud_seg.keys().cloned().collect();
        cloud_keys.sort();
        for (t, s) in theories.iter().zip(&mut stats) {
            let v0 = t.ai_outside(&config, &layout, &initial, &start);
            let ai: Vec<(Vec<u64>, Vec<f64>)> = ai_keys
                .iter()
                .map(|key| {
                    let u = t.ai_utilities(
                        &config,
                        &layout,
                        &view,
                        &key.0,
                        usize::from(key.1).checked_sub(1),
                        &key.2,
                    );
                    (ai_seg[key].clone(), logit(&u, v0))
                })
                .collect();
            s.add(Statistics::of(&ai));
            let w0 = t.cloud_outside(&config, &initial, &start);
            let cloud: Vec<(Vec<u64>, Vec<f64>)> = cloud_keys
                .iter()
                .map(|key| {
                    let mut u = t.cloud_utilities(&config, &view, usize::from(key.1).checked_sub(1));
                    for &h in &key.0 {
                        if let Some(x) = u[h].as_mut() {
                            *x += gravity(&config, h, t.cloud_gravity);
                        }
                    }
                    (cloud_seg[key].clone(), logit(&u, w0))
                })
                .collect();
            s.add(Statistics::of(&cloud));
        }
    }
    let truth_stats = stats[0];
    (truth_stats, stats[1..].to_vec())
}

/// Overall level of the test: a correct engine fails it with probability 1e-4.
const ALPHA: f64 = 1e-4;

#[test]
fn new_projects_follow_the_closed_form_logit_with_the_outside_option_and_the_test_has_power() {
    let perturbations: [Perturbation; 9] = [
        ("quality_weight +5%", |t| t.quality_weight *= 1.05),
        ("price_weight +5%", |t| t.price_weight *= 1.05),
        ("ai_cloud_affinity +0.05", |t| t.ai_cloud_affinity += 0.05),
        ("direct_api_bonus +0.05", |t| t.direct_api_bonus += 0.05),
        ("AI outside utility +0.05", |t| t.ai_outside_shift += 0.05),
        ("ai_vendor_gravity +0.1", |t| t.ai_vendor_gravity += 0.1),
        ("cloud_gravity +0.1", |t| t.cloud_gravity += 0.1),
        (
            "cloud_price_weight +25% (indices sit near 1, so the term is small)",
            |t| t.cloud_price_weight *= 1.25,
        ),
        ("cloud outside utility +0.05", |t| t.cloud_outside_shift += 0.05),
    ];
    let (truth, perturbed) = new_project_statistics(400_000, &perturbations);
    eprintln!("truth: {truth:?}");
    assert!(truth.segments.1 > 50, "enough cells to test: {truth:?}");
    assert!(
        !truth.rejects(ALPHA),
        "new projects deviate from the closed-form logit: {truth:?}"
    );
    for ((name, _), stats) in perturbations.iter().zip(perturbed) {
        eprintln!("{name}: {stats:?}");
        assert!(
            stats.rejects(ALPHA),
            "the test cannot tell {name} from the truth: {stats:?}"
        );
    }
}

/// A market agent's (share, new-spend share) in a report.
fn share_of(report: &TickReport, market: Market, agent: &str) -> (f64, f64) {
    let row = report
        .shares
        .iter()
        .find(|s| s.market == market && s.agent == agent)
        .expect("agent listed");
    (row.share, row.new_share.expect("a new-spend share"))
}

#[test]
fn a_new_spend_share_above_the_installed_share_makes_the_share_rise_and_below_fall() {
    // The baseline without moves, so that only new projects change cloud shares: a month's share
    // is (installed + new) / (all installed + all new), so it rises exactly when the month's
    // new-spend share exceeds last month's share (the urn logic), whatever the size of the gap.
    // Prices are held at their configured indices: a moving price index moves spend shares by
    // itself (which is why shares.csv also gives quantity shares).
    let config = small_baseline(
        20_000,
        36,
        &[
            "enterprise.cloud_review_probability=0",
            "pricing.cloud_price_rule=configured",
        ],
    );
    let mut sim = Simulation::new(&config);
    let reports: Vec<TickReport> = (0..config.run.ticks)
        .map(|_| sim.step().expect("tick").clone())
        .collect();
    let (mut rises, mut falls) = (0, 0);
    for pair in reports.windows(2) {
        for agent in config.providers.keys() {
            let (before, _) = share_of(&pair[0], Market::Cloud, agent);
            let (after, new) = share_of(&pair[1], Market::Cloud, agent);
            if (new - before).abs() < 1e-9 {
                continue;
            }
            assert_eq!(
                (after - before).signum(),
                (new - before).signum(),
                "{agent} at tick {}: new-spend share {new:.4} vs share {before:.4}, but the share went to {after:.4}",
                pair[1].tick
            );
            if new > before { rises += 1 } else { falls += 1 }
        }
    }
    assert!(
        rises > 10 && falls > 10,
        "both directions are exercised: {rises} rises, {falls} falls"
    );
    // Over the three years, the providers whose new-spend share stays above their share gain.
    let first = &reports[1];
    let last = &reports[reports.len() - 1];
    for agent in config.providers.keys() {
        let always_above = reports[1..]
            .iter()
            .zip(&reports[..reports.len() - 1])
            .all(|(r, prev)| share_of(r, Market::Cloud, agent).1 > share_of(prev, Market::Cloud, agent).0);
        if always_above {
            assert!(
                share_of(last, Market::Cloud, agent).0 > share_of(first, Market::Cloud, agent).0,
                "{agent}"
            );
        }
    }
}

/// New inside units of one month (AI slots or providers; the outside option excluded) and the
/// month's metrics.
fn new_inside(sim: &Simulation) -> (f64, f64) {
    let h = sim.world().resource::<aimarket::sim::resources::Holdings>();
    let m = &h.month;
    let ai: u64 = m.new_ai[..m.new_ai.len() - 1].iter().sum();
    let cloud: u64 = m.new_cloud[..m.new_cloud.len() - 1].iter().sum();
    (ai as f64, cloud as f64)
}

#[test]
fn a_uniform_ten_percent_price_rise_lowers_new_quantity_by_the_documented_elasticity() {
    // A uniform rise of every inside option's price by 10 % lowers every inside utility by
    // β·ln 1.1, which in a logit is the same as raising the outside option's utility by that
    // amount; the outside trend set at tick 1 does exactly that for one month. With common random
    // numbers, the change of new inside quantity is the price response alone. The documented
    // elasticity is ε = −β · s_0 (s_0: outside share of new units), so
    // ln(Q_after / Q_before) ≈ ε · ln 1.1 (exact to first order in β·ln 1.1).
    // Equal sizes, so that a few giant enterprises do not dominate the size-weighted totals.
    let base = small_baseline(100_000, 2, &["enterprise.size_pareto_alpha=60"]);
    let (beta_ai, beta_cloud) = (base.enterprise.price_weight, base.enterprise.cloud_price_weight);
    let shift = |beta: f64| 12.0 * beta * 1.1f64.ln();
    let risen = small_baseline(
        100_000,
        2,
        &[
            "enterprise.size_pareto_alpha=60",
            &format!("demand.ai_outside_trend_per_year={}", shift(beta_ai)),
            &format!("demand.cloud_outside_trend_per_year={}", shift(beta_cloud)),
        ],
    );
    let mut a = Simulation::new(&base);
    let mut b = Simulation::new(&risen);
    for sim in [&mut a, &mut b] {
        sim.step().expect("tick 0");
    }
    let report = a.step().expect("tick 1").clone();
    b.step().expect("tick 1");
    let (ai_a, cloud_a) = new_inside(&a);
    let (ai_b, cloud_b) = new_inside(&b);
    let eps_ai = report.metrics[aimarket::config::Metric::AiPriceElasticity];
    let eps_cloud = report.metrics[aimarket::config::Metric::CloudPriceElasticity];
    let got_ai = (ai_b / ai_a).ln() / 1.1f64.ln();
    let got_cloud = (cloud_b / cloud_a).ln() / 1.1f64.ln();
    eprintln!("AI: elasticity {eps_ai:.3}, measured {got_ai:.3}; cloud: {eps_cloud:.3}, measured {got_cloud:.3}");
    assert!(
        eps_ai < -0.1 && eps_cloud < -0.1,
        "demand responds to price: {eps_ai}, {eps_cloud}"
    );
    assert!((got_ai - eps_ai).abs() < 0.2 * eps_ai.abs(), "AI: {got_ai} vs {eps_ai}");
    assert!(
        (got_cloud - eps_cloud).abs() < 0.2 * eps_cloud.abs(),
        "cloud: {got_cloud} vs {eps_cloud}"
    );
}
