//! `cap_switching_charges`: egress/switching fees are capped.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::ConfigError;

/// Cap switching/egress charges at `cap` (fraction of annual spend); 0 bans them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapSwitchingCharges {
    /// Maximum egress fee, ≥ 0.
    pub cap: f64,
}

impl Kind for CapSwitchingCharges {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.non_negative("cap", self.cap)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let reg = world.regulation();
        // A later, higher cap never loosens a stricter one.
        let cap = reg.egress_cap.map_or(self.cap, |c| c.min(self.cap));
        reg.egress_cap = Some(cap);
        Ok(format!("egress fees capped at {cap}"))
    }
}
