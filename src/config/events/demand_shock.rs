//! `demand_shock`: enterprise AI demand jumps by a factor.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::ConfigError;

/// Enterprise AI demand jumps by `factor` (e.g. 1.5 after a ChatGPT-like launch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandShock {
    /// Multiplier on enterprise AI demand from now on, > 0.
    pub factor: f64,
}

impl Kind for DemandShock {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.positive("factor", self.factor)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        world.scale_ai_demand(self.factor);
        Ok(format!("enterprise AI demand × {}", self.factor))
    }
}
