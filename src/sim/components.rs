//! Components of the three agent kinds: providers, labs and enterprises.
//!
//! Enterprises carry two small components (traits that never change, and their sourcing that
//! does) so that the world stays under 100 bytes per enterprise including bevy's bookkeeping.

use bevy_ecs::prelude::*;

use crate::econ::capacity::Pipeline;

/// Index of a provider in config order (also its index in every per-provider array).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderIdx(pub usize);

/// A provider's evolving state.
#[derive(Component, Debug, Clone)]
pub struct ProviderState {
    /// Whether the provider operates (entered the market).
    pub active: bool,
    /// AI compute capacity in service, kGPU.
    pub capacity: f64,
    /// Capacity under construction.
    pub pipeline: Pipeline,
    /// Compute price, US$ per GPU-hour.
    pub price: f64,
    /// Last month's demand over capacity (may exceed 1).
    pub load: f64,
    /// Last month's served compute over capacity, in [0, 1].
    pub utilisation: f64,
    /// Scheduled deliveries of an entry ramp, one per month, kGPU.
    pub ramp: std::collections::VecDeque<f64>,
}

/// Index of a lab in config order.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabIdx(pub usize);

/// A lab's evolving state.
#[derive(Component, Debug, Clone)]
pub struct LabState {
    /// Whether the lab operates (entered the market).
    pub active: bool,
    /// Effective training-compute stock, kGPU-months.
    pub stock: f64,
    /// Model quality, `ln(stock)`.
    pub quality: f64,
    /// Provider owning the lab (first-party), if any.
    pub owner: Option<usize>,
    /// Quality gap of a released open-weight model, if one was released.
    pub open_release_gap: Option<f64>,
    /// Whether the lab lists on open marketplaces (an acquisition may end this).
    pub marketplace_listing: bool,
    /// Share of rented compute on each provider.
    pub hosts: Vec<f64>,
    /// Own data-centre capacity, kGPU.
    pub own_capacity: f64,
    /// Training compute demanded this month, kGPU.
    pub training_kgpu: f64,
    /// Direct-API inference compute demanded this month, kGPU.
    pub inference_kgpu: f64,
    /// Training productivity this month (moving clusters costs some).
    pub efficiency: f64,
    /// Enterprise-derived revenue last month (after revenue shares), US$ M.
    pub revenue: f64,
    /// Training budget this month before reinvested revenue, US$ M.
    pub budget: f64,
    /// Training compute served last month, kGPU.
    pub served_training: f64,
    /// Average price per GPU-hour of the lab's hosting (own capacity at own cost).
    pub avg_host_price: f64,
}

/// Enterprise traits fixed at creation.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnterpriseTraits {
    /// Stable agent id: the key of every random draw of this enterprise.
    pub id: u32,
    /// Size in spend units (Pareto distributed); spend is proportional to size.
    pub size: u32,
    /// Productivity suite: 0 = none, p + 1 = provider p's suite.
    pub suite: u8,
}

/// Where an enterprise's workloads live and who serves its AI.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sourcing {
    /// Current AI option slot (`channel · n_labs + lab`), or `NO_OPTION` before the first choice.
    pub option: u16,
    /// Months on the current AI option (drives integration lock-in).
    pub tenure: u16,
    /// Cloud home provider.
    pub home: u8,
}
