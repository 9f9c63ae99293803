//! `provider_entry`: a dormant provider enters, optionally with a capacity ramp.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, provider_index};
use crate::config::ConfigError;

/// A dormant provider enters, optionally with a capacity ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    /// Provider id (declared in `[providers]`).
    pub provider: String,
    /// Capacity delivered each month of the ramp, kGPU.
    #[serde(default)]
    pub ramp_kgpu_per_month: f64,
    /// Number of months of the ramp.
    #[serde(default)]
    pub ramp_months: u32,
}

impl Kind for ProviderEntry {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.provider(&self.provider)?;
        cx.non_negative("ramp_kgpu_per_month", self.ramp_kgpu_per_month)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let p = provider_index(world, &self.provider)?;
        let (ramp, months) = (self.ramp_kgpu_per_month, self.ramp_months);
        world.activate_provider(p, ramp, months);
        Ok(format!("entered with a ramp of {ramp} kGPU/month for {months} months"))
    }
}
