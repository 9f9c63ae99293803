//! [`EventWorld`] over the ECS world: how event effects reach components and resources.

use bevy_ecs::prelude::*;

use crate::config::events::EventWorld;
use crate::config::{Config, Market, Metric};
use crate::econ::contracts::Contract;
use crate::econ::merger::Agent;
use crate::econ::policy::Regulation;
use crate::sim::agents::lab::with_lab;
use crate::sim::agents::provider::with_provider;
use crate::sim::agents::{LabState, ProviderState};
use crate::sim::resources::{Clock, Contracts, Demand, Layout, Params, Policy, TickReport};

/// The ECS world seen through [`EventWorld`].
pub struct EcsEventWorld<'w>(pub &'w mut World);

impl EcsEventWorld<'_> {
    fn with_lab<R>(&mut self, lab: usize, f: impl FnOnce(&mut LabState) -> R) -> Option<R> {
        with_lab(self.0, lab, f)
    }

    fn with_provider<R>(&mut self, p: usize, f: impl FnOnce(&mut ProviderState) -> R) -> Option<R> {
        with_provider(self.0, p, f)
    }
}

impl EventWorld for EcsEventWorld<'_> {
    fn lab_index(&self, id: &str) -> Option<usize> {
        self.0.resource::<Layout>().labs.iter().position(|l| l == id)
    }

    fn provider_index(&self, id: &str) -> Option<usize> {
        self.0.resource::<Layout>().providers.iter().position(|p| p == id)
    }

    fn tick(&self) -> u32 {
        self.0.resource::<Clock>().tick
    }

    fn tick_of(&self, month: &str) -> i64 {
        self.0.resource::<Clock>().tick_of(month)
    }

    fn config(&self) -> &Config {
        &self.0.resource::<Params>().0
    }

    fn config_mut(&mut self) -> &mut Config {
        &mut self.0.resource_mut::<Params>().into_inner().0
    }

    fn contracts(&mut self) -> &mut Vec<Contract> {
        &mut self.0.resource_mut::<Contracts>().into_inner().0
    }

    fn regulation(&mut self) -> &mut Regulation {
        &mut self.0.resource_mut::<Policy>().into_inner().0
    }

    fn lab_quality(&mut self, lab: usize) -> Option<f64> {
        self.with_lab(lab, |s| s.quality)
    }

    fn set_lab_owner(&mut self, lab: usize, owner: Option<usize>) {
        self.with_lab(lab, |s| s.owner = owner);
    }

    fn set_lab_listing(&mut self, lab: usize, listed: bool) {
        self.with_lab(lab, |s| s.marketplace_listing = listed);
    }

    fn set_open_weight_gap(&mut self, lab: usize, gap: f64) {
        self.with_lab(lab, |s| s.open_release_gap = Some(gap));
    }

    fn add_lab_cash(&mut self, lab: usize, amount: f64) {
        self.with_lab(lab, |s| s.cash += amount);
    }

    fn activate_lab(&mut self, lab: usize) {
        self.with_lab(lab, |s| s.active = true);
    }

    fn activate_provider(&mut self, provider: usize, ramp_kgpu_per_month: f64, ramp_months: u32) {
        self.with_provider(provider, |s| {
            s.active = true;
            s.ramp
                .extend(std::iter::repeat_n(ramp_kgpu_per_month, ramp_months as usize));
        });
    }

    fn scale_capacity(&mut self, provider: usize, factor: f64) {
        self.with_provider(provider, |s| s.capacity *= factor);
    }

    fn scale_ai_demand(&mut self, factor: f64) {
        self.0.resource_mut::<Demand>().ai_kgpu_per_unit *= factor;
    }

    fn last_metric(&self, metric: Metric) -> f64 {
        self.0.resource::<TickReport>().metrics[metric]
    }

    fn last_share(&self, market: Market, agent: &str) -> f64 {
        self.0
            .resource::<TickReport>()
            .shares
            .iter()
            .find(|r| r.market == market && r.agent == agent)
            .map_or(0.0, |r| r.share)
    }

    fn lab_owner(&mut self, lab: usize) -> Option<usize> {
        self.with_lab(lab, |s| s.owner).flatten()
    }

    fn last_market(&self, market: Market) -> Vec<Agent> {
        let report = self.0.resource::<TickReport>();
        let row = |agent: &str| report.agents.iter().find(|r| r.agent == agent);
        report
            .shares
            .iter()
            .filter(|r| r.market == market)
            .map(|r| {
                let agent = row(&r.agent);
                // Prices: the market's own (spend per unit); compute is sold at the providers'
                // compute prices, and a lab's own data centres are not sold.
                let price = match market {
                    Market::Compute => agent.map(|a| a.price),
                    _ if r.quantity > 0.0 => Some(r.amount / r.quantity),
                    _ => None,
                };
                // Margins: the model's Lerner indices (providers' compute, labs' direct API);
                // general cloud has no cost in the model.
                let margin = match market {
                    Market::Cloud => None,
                    _ => agent.map(|a| a.lerner),
                };
                Agent {
                    owner: r.owner.clone(),
                    fringe: r.fringe,
                    share: r.share,
                    price,
                    margin,
                }
            })
            .collect()
    }

    fn last_outside_share(&self, market: Market) -> f64 {
        let m = &self.0.resource::<TickReport>().metrics;
        match market {
            Market::Cloud => m[Metric::CloudOutsideShare],
            Market::AiChannel | Market::Model | Market::ModelHoster => m[Metric::AiOutsideShare],
            Market::Compute => 0.0,
        }
    }
}
