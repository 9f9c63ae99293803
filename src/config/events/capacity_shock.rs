//! `capacity_shock`: a provider's capacity in service is multiplied by a factor.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, provider_index};
use crate::config::ConfigError;

/// The provider's capacity is multiplied by `factor` (e.g. 0.8 = outage or export control).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityShock {
    /// Provider id.
    pub provider: String,
    /// Multiplier on capacity in service, ≥ 0.
    pub factor: f64,
}

impl Kind for CapacityShock {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.provider(&self.provider)?;
        cx.non_negative("factor", self.factor)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let p = provider_index(world, &self.provider)?;
        world.scale_capacity(p, self.factor);
        Ok(format!("capacity × {}", self.factor))
    }
}
