//! `gpu_price_cycle`: GPU unit costs follow a sine cycle from now on.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::ConfigError;

/// A GPU price cycle: unit costs follow 1 + amplitude·sin(2π·months/period) from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuPriceCycle {
    /// Relative amplitude, in [0, 1).
    pub amplitude: f64,
    /// Period in months, ≥ 2.
    pub period_months: u32,
}

impl Kind for GpuPriceCycle {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.range("amplitude", self.amplitude, 0.0, 0.99)?;
        if self.period_months < 2 {
            return Err(cx.fail("period_months", format!("must be ≥ 2, got {}", self.period_months)));
        }
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let (amplitude, period_months) = (self.amplitude, self.period_months);
        let tick = world.tick();
        world.regulation().price_cycle = Some((tick, amplitude, period_months));
        Ok(format!("GPU price cycle ±{amplitude} over {period_months} months"))
    }
}
