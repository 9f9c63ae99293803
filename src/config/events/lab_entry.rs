//! `lab_entry`: a dormant lab enters the market.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index};
use crate::config::ConfigError;

/// A dormant lab enters the market (a new lab, or a provider's first-party lab).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabEntry {
    /// Lab id (declared in `[labs]`).
    pub lab: String,
}

impl Kind for LabEntry {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.lab(&self.lab)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let l = lab_index(world, &self.lab)?;
        world.activate_lab(l);
        Ok("entered".into())
    }
}
