//! Comparative statics of the whole model: a higher switching cost lowers the switching rate,
//! and a higher price (and cost) of one provider lowers its shares of the AI channel and of
//! compute. Runs are paired on the same seeds (common random numbers).

use aimarket::config::Config;
use aimarket::config::{Market, Metric};
use aimarket::sim::Simulation;
use aimarket::sim::resources::TickReport;

use crate::common::*;

/// Every tick's report of a run.
fn run_reports(config: &Config) -> Vec<TickReport> {
    let mut sim = Simulation::new(config);
    (0..config.run.ticks)
        .map(|t| sim.step().unwrap_or_else(|e| panic!("tick {t}: {e}")).clone())
        .collect()
}

/// Run average of a metric.
fn mean_metric(reports: &[TickReport], name: &str) -> f64 {
    let i = Metric::from_name(name).expect("known metric");
    reports.iter().map(|r| r.metrics[i]).sum::<f64>() / reports.len() as f64
}

/// Run average of one agent's share of a market.
fn mean_share(reports: &[TickReport], market: &str, agent: &str) -> f64 {
    let m = Market::from_name(market).expect("known market");
    let total: f64 = reports
        .iter()
        .map(|r| {
            r.shares
                .iter()
                .find(|s| s.market == m && s.agent == agent)
                .expect("agent in market")
                .share
        })
        .sum();
    total / reports.len() as f64
}

/// Per-tick standard deviation of a metric (noise scale for the comparison).
fn sd_metric(reports: &[TickReport], name: &str) -> f64 {
    let i = Metric::from_name(name).expect("known metric");
    let mean = mean_metric(reports, name);
    (reports.iter().map(|r| (r.metrics[i] - mean).powi(2)).sum::<f64>() / (reports.len() - 1) as f64).sqrt()
}

#[test]
fn a_higher_switching_cost_lowers_the_switching_rate() {
    for seed in [1u64, 2, 3] {
        let seed_set = format!("run.seed={seed}");
        let low = run_reports(&small_baseline(
            100_000,
            120,
            &[&seed_set, "enterprise.switch_cost_base=2"],
        ));
        let high = run_reports(&small_baseline(
            100_000,
            120,
            &[&seed_set, "enterprise.switch_cost_base=6"],
        ));
        let (r_low, r_high) = (
            mean_metric(&low, "switching_rate"),
            mean_metric(&high, "switching_rate"),
        );
        // The run mean's standard error is at most the per-tick spread over √ticks (the spread
        // also holds the dated events' spikes, e.g. the April 2026 licences, so it overstates
        // the noise); demand a gap of five such standard errors. With switching costs that did
        // nothing the gap would be 0 ± one standard error.
        let spread = sd_metric(&low, "switching_rate").max(sd_metric(&high, "switching_rate"));
        let noise = spread / (low.len() as f64).sqrt();
        assert!(
            r_low - r_high > 5.0 * noise,
            "seed {seed}: switching rate {r_low:.5} at cost 2 vs {r_high:.5} at cost 6 (standard error {noise:.5})"
        );
        let (p_low, p_high) = (
            mean_metric(&low, "provider_switching_rate"),
            mean_metric(&high, "provider_switching_rate"),
        );
        assert!(
            p_low > p_high,
            "seed {seed}: provider switching {p_low:.5} at cost 2 vs {p_high:.5} at cost 6"
        );
    }
}

#[test]
fn switching_rate_falls_step_by_step_along_the_switching_cost() {
    let rates: Vec<f64> = [0.0, 1.0, 2.0, 4.0, 8.0]
        .iter()
        .map(|c| {
            mean_metric(
                &run_reports(&small_baseline(
                    50_000,
                    60,
                    &["run.seed=5", &format!("enterprise.switch_cost_base={c}")],
                )),
                "switching_rate",
            )
        })
        .collect();
    assert!(
        rates.windows(2).all(|w| w[1] < w[0]),
        "switching rate is not decreasing in the switching cost: {rates:?}"
    );
}

#[test]
fn a_higher_aws_price_lowers_its_ai_channel_and_compute_shares() {
    for seed in [1u64, 2] {
        let seed_set = format!("run.seed={seed}");
        // The demand side's response to a price: prices held by the utilisation rule (the
        // best-response rule would re-price AWS; tests/pricing.rs covers it).
        let base = run_reports(&small_baseline(100_000, 120, &[&seed_set, "pricing.rule=utilisation"]));
        let dear = run_reports(&small_baseline(
            100_000,
            120,
            &[
                &seed_set,
                "providers.aws.price=6.3",
                "providers.aws.unit_cost=3.0",
                "pricing.rule=utilisation",
            ],
        ));
        for market in ["ai_channel", "compute"] {
            let (before, after) = (mean_share(&base, market, "aws"), mean_share(&dear, market, "aws"));
            assert!(
                after < before,
                "seed {seed}: AWS's {market} share {before:.4} → {after:.4} after a 50 % price rise"
            );
        }
        // The price itself is what moved: AWS's compute price stays above the baseline's.
        let aws_price = |r: &TickReport| {
            r.agents
                .iter()
                .find(|a| a.kind == "provider" && a.agent == "aws")
                .expect("aws row")
                .price
        };
        assert!(
            base.iter().zip(&dear).all(|(b, d)| aws_price(d) > aws_price(b)),
            "seed {seed}: AWS price is higher at every tick"
        );
    }
}
