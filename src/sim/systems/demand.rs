//! Phase 1 (after events) — exogenous growth of labs' training budgets, one month at a time.
//! Enterprise demand grows through new projects (phase 4), not here. Also the initialisation
//! steps that calibrate demand: the outside options' utilities and what a workload unit is worth.

use bevy_ecs::prelude::*;

use std::collections::BTreeMap;

use crate::econ::choice::AiContext;
use crate::econ::offering::open_weight_frontier;
use crate::econ::portfolio::CLOUD_SLOTS;
use crate::sim::agents::{Enterprise, LabIdx, LabState};
use crate::sim::events::{EventLog, FiredEvent};
use crate::sim::resources::{Clock, Demand, Holdings, Layout, MarketView, Params};

/// Monthly factor of an annual growth rate.
pub fn monthly_factor(annual_growth: f64) -> f64 {
    (1.0 + annual_growth).powf(1.0 / 12.0)
}

/// Adds the funding rounds dated this month to the labs' cash (logged as `funding`), then
/// compounds operating labs' funding flows by one month (from tick 1 on).
pub fn advance_demand(
    params: Res<Params>,
    clock: Res<Clock>,
    mut log: ResMut<EventLog>,
    mut labs: Query<(&LabIdx, &mut LabState)>,
) {
    let mut raised: Vec<(usize, String, f64, String)> = Vec::new();
    for (idx, mut lab) in &mut labs {
        let (id, cfg) = params.0.labs.get_index(idx.0).expect("configured lab");
        for (month, round) in &cfg.funding {
            if clock.tick_of(month) == i64::from(clock.tick) {
                lab.cash += round.amount_musd;
                raised.push((idx.0, id.clone(), round.amount_musd, round.source.clone()));
            }
        }
    }
    raised.sort_by_key(|r| r.0);
    for (_, id, amount, source) in raised {
        log.0.push(FiredEvent {
            tick: clock.tick,
            date: clock.month().to_string(),
            kind: "funding".into(),
            label: id,
            note: format!("raised US$ {amount:.0} M ({source})"),
        });
    }
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

/// The outside utility `V_0` at which the weighted mean outside probability
/// `Σ w_i / (1 + exp(iv_i − V_0)) / Σ w_i` over segments `(w_i, iv_i)` equals `share`
/// (bisection: the mean is increasing in `V_0`).
pub fn population_outside_utility(share: f64, segments: &[(f64, f64)]) -> f64 {
    let total: f64 = segments.iter().map(|(w, _)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let mean = |v: f64| segments.iter().map(|(w, iv)| w / (1.0 + (iv - v).exp())).sum::<f64>() / total;
    let (mut lo, mut hi) = segments
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, iv)| {
            (l.min(*iv), h.max(*iv))
        });
    lo += outside_utility(share, 0.0) - 1.0;
    hi += outside_utility(share, 0.0) + 1.0;
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        // Adjacent floats: the midpoint is an end and no further step changes either end.
        if mid <= lo || mid >= hi {
            break;
        }
        if mean(mid) < share { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// The enterprises' segments for the outside-option calibration: per (clouds used, sorted;
/// how many; suite), the size-weighted cloud units and the total size. Enterprises do not change
/// while start-up calibrates, so this is computed once for all its rounds.
pub type OutsideSegments = Vec<(([usize; CLOUD_SLOTS], usize, u8), (f64, f64))>;

/// [`OutsideSegments`] of `enterprises` (keys in order).
pub fn outside_segments<'a>(enterprises: impl Iterator<Item = &'a Enterprise>) -> OutsideSegments {
    // Segments (clouds used, suite) with their weights: the inclusive values differ by segment.
    let mut segments: BTreeMap<([usize; CLOUD_SLOTS], usize, u8), (f64, f64)> = BTreeMap::new();
    for e in enterprises {
        let p = &e.0;
        let mut held = [usize::MAX; CLOUD_SLOTS];
        let n = p.held_clouds(&mut held);
        held[..n].sort_unstable();
        let w = segments.entry((held, n, p.suite)).or_insert((0.0, 0.0));
        w.0 += f64::from(p.size) * f64::from(p.cloud_total());
        w.1 += f64::from(p.size);
    }
    segments.into_iter().collect()
}

/// Initialisation: sets the outside options' utilities so that, in the initial market and
/// averaged over the enterprises' `segments` (weighted by the size of their next project),
/// `cloud_outside_share` of new cloud projects go on-premises and `ai_outside_share` of new AI
/// projects stay outside the market. Records the open-weight frontier the AI outside option
/// starts from.
pub fn calibrate_outside_options(
    In(segments): In<OutsideSegments>,
    params: Res<Params>,
    view: Res<MarketView>,
    layout: Res<Layout>,
    labs: Query<(&LabIdx, &LabState)>,
    mut demand: ResMut<Demand>,
) {
    let d = &params.0.demand;
    let mut cloud = Vec::with_capacity(segments.len());
    let mut ai = Vec::with_capacity(segments.len());
    for ((held, n, suite), (cloud_w, ai_w)) in &segments {
        let full = *n == CLOUD_SLOTS;
        cloud.push((
            *cloud_w,
            view.cloud.inside_log_sum_for(usize::from(*suite), &held[..*n], full),
        ));
        let cx = AiContext {
            held: &held[..*n],
            suite: usize::from(*suite).checked_sub(1),
            vendors: &[],
        };
        ai.push((*ai_w, view.choice.inside_log_sum(&cx)));
    }
    // A configured utility is used as it is (one calibration shared by several specifications).
    demand.cloud_outside_v0 = d
        .cloud_outside_utility
        .unwrap_or_else(|| population_outside_utility(d.cloud_outside_share, &cloud));
    demand.ai_outside_v0 = d
        .ai_outside_utility
        .unwrap_or_else(|| population_outside_utility(d.ai_outside_share, &ai));
    let mut lab_view = vec![(false, false, 0.0, None); layout.n_labs()];
    for (idx, lab) in &labs {
        lab_view[idx.0] = (
            lab.active,
            params.0.labs[idx.0].open_weight,
            lab.quality,
            lab.open_release_gap,
        );
    }
    demand.ai_outside_q0 = open_weight_frontier(&lab_view);
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
    fn the_population_outside_utility_gives_the_mean_share() {
        let segments = [(1.0, 0.5), (3.0, 2.0), (2.0, -1.0)];
        let v0 = population_outside_utility(0.3, &segments);
        let mean: f64 = segments.iter().map(|(w, iv)| w / (1.0 + (iv - v0).exp())).sum::<f64>() / 6.0;
        assert!((mean - 0.3).abs() < 1e-9, "{mean}");
        // One segment: the closed form.
        assert!((population_outside_utility(0.35, &[(2.0, 1.7)]) - outside_utility(0.35, 1.7)).abs() < 1e-9);
    }

    #[test]
    fn the_outside_utility_gives_the_outside_option_its_share() {
        let iv = 1.7;
        let v0 = outside_utility(0.35, iv);
        let share = v0.exp() / (v0.exp() + iv.exp());
        assert!((share - 0.35).abs() < 1e-12);
    }
}
