//! The frictionless case against theory: with no switching costs, no egress, every enterprise
//! reviewing every month and homes fixed, each enterprise's AI option is an independent draw
//! from the multinomial logit of its (home, suite) segment. The expected probabilities are
//! recomputed here from the published market (qualities, prices, offers) and the config's
//! utility parameters, independently of the engine's choice tables, and compared with the
//! observed option counts by a chi-square test; a perturbed expectation must fail that test.

use aimarket::config::Config;
use aimarket::econ::choice::{OptionWeights, option_utility};
use aimarket::sim::Simulation;
use aimarket::sim::agents::{EnterpriseTraits, Sourcing};
use aimarket::sim::resources::{Layout, MarketView};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::common::*;

/// Overrides that remove every friction and hold qualities and compute prices fixed.
const FRICTIONLESS: [&str; 16] = [
    "enterprise.switch_cost_base=0",
    "enterprise.lock_in_per_month=0",
    "enterprise.egress_weight=0",
    "enterprise.review_probability=1",
    "enterprise.home_review_probability=0",
    "providers.*.price_response=0",
    "providers.*.invest_rate=0",
    "providers.*.invest_response=0",
    "lab_behaviour.stock_depreciation=0",
    "lab_behaviour.reinvest_share=0",
    "labs.*.budget_growth_per_year=0",
    "labs.*.training_budget_musd=0",
    "labs.*.own_capacity_kgpu=0",
    "demand.ai_growth_per_year=0",
    "demand.cloud_growth_per_year=0",
    "run.seed=424242",
];

/// Utility parameters the expectation is computed from (perturbed to check the test's power).
#[derive(Clone, Copy)]
struct Theory {
    quality_weight: f64,
    price_weight: f64,
    home_affinity: f64,
    suite_affinity: f64,
    direct_api_bonus: f64,
}

impl Theory {
    fn of(config: &Config) -> Theory {
        let e = &config.enterprise;
        Theory {
            quality_weight: e.quality_weight,
            price_weight: e.price_weight,
            home_affinity: e.home_affinity,
            suite_affinity: e.suite_affinity,
            direct_api_bonus: e.direct_api_bonus,
        }
    }

    /// Closed-form logit probabilities of every slot for an enterprise with `home` and `suite`
    /// (0 = none, p + 1 = provider p's suite).
    fn probabilities(
        &self,
        config: &Config,
        layout: &Layout,
        view: &MarketView,
        home: usize,
        suite: usize,
    ) -> Vec<f64> {
        let n_p = layout.n_providers();
        let w = OptionWeights {
            quality_weight: self.quality_weight,
            price_weight: self.price_weight,
            direct_api_bonus: self.direct_api_bonus,
        };
        let utilities: Vec<Option<f64>> = (0..layout.slots.n_slots())
            .map(|k| {
                if !view.offered[k] {
                    return None;
                }
                let (channel, lab) = layout.slots.split(k);
                let brand = config.labs[lab].brand;
                let mut u = option_utility(&w, view.slot_quality[k], view.slot_price[k], brand, channel >= n_p);
                if channel == home {
                    u += self.home_affinity;
                }
                if suite >= 1 && channel == suite - 1 {
                    u += self.suite_affinity * config.providers[channel].bundle_strength;
                }
                Some(u)
            })
            .collect();
        let max = utilities.iter().flatten().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let weights: Vec<f64> = utilities.iter().map(|u| u.map_or(0.0, |u| (u - max).exp())).collect();
        let total: f64 = weights.iter().sum();
        weights.iter().map(|x| x / total).collect()
    }
}

/// Observed option counts per (home, suite) segment: `counts[home][suite][slot]`.
fn segment_counts(sim: &mut Simulation, n_p: usize, n_slots: usize) -> Vec<Vec<Vec<u64>>> {
    let mut counts = vec![vec![vec![0u64; n_slots]; n_p + 1]; n_p];
    let world = sim.world_mut();
    let mut query = world.query::<(&EnterpriseTraits, &Sourcing)>();
    for (t, s) in query.iter(world) {
        counts[usize::from(s.home)][usize::from(t.suite)][usize::from(s.option)] += 1;
    }
    counts
}

/// Pearson chi-square of observed counts against the expectation, with cells of expected count
/// below 5 pooled per segment. Returns (statistic, degrees of freedom).
fn chi_square(
    config: &Config,
    layout: &Layout,
    view: &MarketView,
    counts: &[Vec<Vec<u64>>],
    theory: &Theory,
) -> (f64, usize) {
    let mut stat = 0.0;
    let mut df = 0usize;
    for (home, by_suite) in counts.iter().enumerate() {
        for (suite, observed) in by_suite.iter().enumerate() {
            let n: u64 = observed.iter().sum();
            if n == 0 {
                continue;
            }
            let p = theory.probabilities(config, layout, view, home, suite);
            let (mut pooled_o, mut pooled_e) = (0.0, 0.0);
            let mut cells = 0usize;
            for (k, &o) in observed.iter().enumerate() {
                let e = n as f64 * p[k];
                if e == 0.0 {
                    assert_eq!(
                        o, 0,
                        "home {home} suite {suite}: enterprises on slot {k}, which is not offered"
                    );
                    continue;
                }
                if e < 5.0 {
                    pooled_o += o as f64;
                    pooled_e += e;
                    continue;
                }
                stat += (o as f64 - e).powi(2) / e;
                cells += 1;
            }
            if pooled_e > 0.0 {
                stat += (pooled_o - pooled_e).powi(2) / pooled_e;
                cells += 1;
            }
            df += cells.saturating_sub(1);
        }
    }
    (stat, df)
}

/// Chi-square of the options' totals over all segments against the summed expectation: fewer
/// cells and so more power against deviations common to all segments. Summing independent
/// multinomials makes each cell's variance at most its expectation, so the Pearson statistic
/// on `slots − 1` degrees of freedom is conservative. Returns (statistic, degrees of freedom).
fn margin_chi_square(
    config: &Config,
    layout: &Layout,
    view: &MarketView,
    counts: &[Vec<Vec<u64>>],
    theory: &Theory,
) -> (f64, usize) {
    let n_slots = layout.slots.n_slots();
    let mut observed = vec![0.0; n_slots];
    let mut expected = vec![0.0; n_slots];
    for (home, by_suite) in counts.iter().enumerate() {
        for (suite, seg) in by_suite.iter().enumerate() {
            let n: u64 = seg.iter().sum();
            if n == 0 {
                continue;
            }
            let p = theory.probabilities(config, layout, view, home, suite);
            for k in 0..n_slots {
                observed[k] += seg[k] as f64;
                expected[k] += n as f64 * p[k];
            }
        }
    }
    let cells: Vec<(f64, f64)> = observed.into_iter().zip(expected).filter(|(_, e)| *e > 0.0).collect();
    let stat = cells.iter().map(|(o, e)| (o - e).powi(2) / e).sum();
    (stat, cells.len() - 1)
}

/// Upper critical value of the chi-square distribution at tail probability `alpha`.
fn critical(df: usize, alpha: f64) -> f64 {
    ChiSquared::new(df as f64).expect("df > 0").inverse_cdf(1.0 - alpha)
}

/// A named change to the expectation's parameters.
type Perturbation = (&'static str, fn(&mut Theory));

/// Summed (statistic, df) of the segment-level and the margin-level chi-square tests.
#[derive(Debug, Clone, Copy, Default)]
struct Statistics {
    segments: (f64, usize),
    margins: (f64, usize),
}

impl Statistics {
    fn add(&mut self, config: &Config, layout: &Layout, view: &MarketView, counts: &[Vec<Vec<u64>>], theory: &Theory) {
        let (s, d) = chi_square(config, layout, view, counts, theory);
        self.segments.0 += s;
        self.segments.1 += d;
        let (s, d) = margin_chi_square(config, layout, view, counts, theory);
        self.margins.0 += s;
        self.margins.1 += d;
    }

    /// Whether the expectation is rejected at overall level `alpha` (Bonferroni over the two).
    fn rejects(&self, alpha: f64) -> bool {
        self.segments.0 > critical(self.segments.1, alpha / 2.0)
            || self.margins.0 > critical(self.margins.1, alpha / 2.0)
    }
}

/// Runs the frictionless world for a few ticks and returns the chi-square statistics of the
/// true expectation and of each perturbed one.
fn frictionless_statistics(enterprises: u32, perturbations: &[Perturbation]) -> (Statistics, Vec<Statistics>) {
    let config = small_baseline(enterprises, 4, &FRICTIONLESS);
    let theory = Theory::of(&config);
    let mut sim = Simulation::new(&config);
    let layout = sim.world().resource::<Layout>().clone();
    let (n_p, n_slots) = (layout.n_providers(), layout.slots.n_slots());
    let mut truth = Statistics::default();
    let mut perturbed = vec![Statistics::default(); perturbations.len()];
    let mut first_view: Option<MarketView> = None;
    for _ in 0..config.run.ticks {
        sim.step().expect("tick runs");
        let view = sim.world().resource::<MarketView>().clone();
        let counts = segment_counts(&mut sim, n_p, n_slots);
        truth.add(&config, &layout, &view, &counts, &theory);
        for ((_, change), stats) in perturbations.iter().zip(&mut perturbed) {
            let mut t = theory;
            change(&mut t);
            stats.add(&config, &layout, &view, &counts, &t);
        }
        // The frictionless set-up holds qualities, offers and compute prices fixed.
        if let Some(v0) = &first_view {
            assert_eq!(v0.offered, view.offered, "offers stay fixed");
            assert_eq!(v0.slot_quality, view.slot_quality, "qualities stay fixed");
            assert_eq!(v0.price, view.price, "compute prices stay fixed");
        } else {
            first_view = Some(view);
        }
    }
    (truth, perturbed)
}

/// Overall level of the test: a correct engine fails it with probability 1e-4.
const ALPHA: f64 = 1e-4;

#[test]
fn frictionless_option_shares_match_the_closed_form_logit_and_the_test_has_power() {
    let perturbations: [Perturbation; 5] = [
        ("quality_weight +5%", |t| t.quality_weight *= 1.05),
        ("price_weight +5%", |t| t.price_weight *= 1.05),
        ("home_affinity +0.05", |t| t.home_affinity += 0.05),
        ("suite_affinity +0.05", |t| t.suite_affinity += 0.05),
        ("direct_api_bonus +0.05", |t| t.direct_api_bonus += 0.05),
    ];
    let (truth, perturbed) = frictionless_statistics(500_000, &perturbations);
    eprintln!("truth: {truth:?}");
    assert!(truth.segments.1 > 50, "enough cells to test: {truth:?}");
    assert!(
        !truth.rejects(ALPHA),
        "observed option counts deviate from the closed-form logit: {truth:?}"
    );
    for ((name, _), stats) in perturbations.iter().zip(perturbed) {
        eprintln!("{name}: {stats:?}");
        assert!(
            stats.rejects(ALPHA),
            "the test cannot tell {name} from the truth: {stats:?}"
        );
    }
}
