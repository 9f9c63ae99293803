//! Phase 1 (after events) — exogenous growth of labs' training budgets, one month at a time.
//! Enterprise demand grows through new projects (phase 4), not here. Also the initialisation
//! steps that calibrate demand: the outside options' utilities and what a workload unit is worth.

use bevy_ecs::prelude::*;

use crate::econ::choice::AiContext;
use crate::sim::agents::{LabIdx, LabState};
use crate::sim::resources::{Clock, Demand, Holdings, Layout, MarketView, Params};

/// Monthly factor of an annual growth rate.
pub fn monthly_factor(annual_growth: f64) -> f64 {
    (1.0 + annual_growth).powf(1.0 / 12.0)
}

/// Compounds operating labs' training budgets by one month (from tick 1 on).
pub fn advance_demand(params: Res<Params>, clock: Res<Clock>, mut labs: Query<(&LabIdx, &mut LabState)>) {
    if clock.tick == 0 {
        return;
    }
    // A dormant lab's budget is its budget at entry: it starts compounding once it operates.
    for (idx, mut lab) in labs.iter_mut().filter(|(_, l)| l.active) {
        lab.budget *= monthly_factor(params.0.labs[idx.0].budget_growth_per_year);
    }
}

/// The outside option's utility that gives it share `s` against inside options of inclusive
/// value `iv`: `V_0 = ln(s / (1 − s)) + iv`.
pub fn outside_utility(share: f64, iv: f64) -> f64 {
    (share / (1.0 - share)).ln() + iv
}

/// Initialisation: sets the outside options' utilities so that, in the initial market, an
/// enterprise with no suite and no cloud sends `cloud_outside_share` of its new cloud projects
/// on-premises and `ai_outside_share` of its new AI projects outside the market.
pub fn calibrate_outside_options(params: Res<Params>, view: Res<MarketView>, mut demand: ResMut<Demand>) {
    let d = &params.0.demand;
    demand.cloud_outside_v0 = outside_utility(d.cloud_outside_share, view.cloud.inside_log_sum(0));
    let plain = AiContext { held: &[], suite: None };
    demand.ai_outside_v0 = outside_utility(d.ai_outside_share, view.choice.inside_log_sum(&plain));
}

/// Initialisation: what a workload unit is worth, so that the initial holdings buy the
/// configured AI inference (kGPU) and general-cloud spend (US$ M per month).
pub fn calibrate_units(params: Res<Params>, layout: Res<Layout>, holdings: Res<Holdings>, mut demand: ResMut<Demand>) {
    let cfg = &params.0;
    let n_slots = layout.slots.n_slots();
    let ai_units: u64 = holdings.ai[..n_slots].iter().sum();
    let cloud_units: f64 = cfg
        .providers
        .values()
        .zip(&holdings.cloud)
        .map(|(p, &u)| u as f64 * p.cloud_price_index)
        .sum();
    demand.ai_kgpu_per_unit = if ai_units > 0 {
        cfg.demand.ai_inference_kgpu / ai_units as f64
    } else {
        0.0
    };
    demand.cloud_musd_per_unit = if cloud_units > 0.0 {
        cfg.demand.cloud_spend_musd / cloud_units
    } else {
        0.0
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_compound_to_the_annual_rate() {
        assert!((monthly_factor(0.5).powi(12) - 1.5).abs() < 1e-12);
        assert_eq!(monthly_factor(0.0), 1.0);
    }

    #[test]
    fn the_outside_utility_gives_the_outside_option_its_share() {
        let iv = 1.7;
        let v0 = outside_utility(0.35, iv);
        let share = v0.exp() / (v0.exp() + iv.exp());
        assert!((share - 0.35).abs() < 1e-12);
    }
}
