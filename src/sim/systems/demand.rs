//! Phase 1 (after events) — exogenous growth: enterprise AI demand, general-cloud spend and
//! operating labs' training budgets compound at their annual rates, one month at a time.

use bevy_ecs::prelude::*;

use crate::sim::agents::{LabIdx, LabState};
use crate::sim::resources::{Clock, Demand, Params};

/// Monthly factor of an annual growth rate.
pub fn monthly_factor(annual_growth: f64) -> f64 {
    (1.0 + annual_growth).powf(1.0 / 12.0)
}

/// Advances the demand paths by one month (from tick 1 on; tick 0 is the initial level).
pub fn advance_demand(
    params: Res<Params>,
    clock: Res<Clock>,
    mut demand: ResMut<Demand>,
    mut labs: Query<(&LabIdx, &mut LabState)>,
) {
    if clock.tick == 0 {
        return;
    }
    let d = &params.0.demand;
    demand.ai_kgpu *= monthly_factor(d.ai_growth_per_year);
    demand.cloud_musd *= monthly_factor(d.cloud_growth_per_year);
    // A dormant lab's budget is its budget at entry: it starts compounding once it operates.
    for (idx, mut lab) in labs.iter_mut().filter(|(_, l)| l.active) {
        lab.budget *= monthly_factor(params.0.labs[idx.0].budget_growth_per_year);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_compound_to_the_annual_rate() {
        assert!((monthly_factor(0.5).powi(12) - 1.5).abs() < 1e-12);
        assert_eq!(monthly_factor(0.0), 1.0);
    }
}
