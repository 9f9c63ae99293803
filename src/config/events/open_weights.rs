//! `open_weights`: the lab releases an open-weight model below its frontier.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index};
use crate::config::ConfigError;

/// The lab releases an open-weight model `gap` below its frontier; any provider can host it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenWeights {
    /// Lab id.
    pub lab: String,
    /// Quality gap below the lab's frontier model (≥ 0); default: the lab's `open_weight_gap`.
    #[serde(default)]
    pub gap: Option<f64>,
}

impl Kind for OpenWeights {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.lab(&self.lab)?;
        if let Some(g) = self.gap {
            cx.non_negative("gap", g)?;
        }
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let l = lab_index(world, &self.lab)?;
        let gap = self.gap.unwrap_or(world.config().labs[l].open_weight_gap);
        world.set_open_weight_gap(l, gap);
        Ok(format!("open-weight release {gap} below frontier"))
    }
}
