//! `agi_declaration`: the lab's board declares AGI; partner licences freeze.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index};
use crate::config::ConfigError;

/// The lab's board declares AGI: every partner licence of the lab covers no new models (the
/// partner channel keeps the quality it had), and licence exclusivity ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgiDeclaration {
    /// Lab id.
    pub lab: String,
}

impl Kind for AgiDeclaration {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.lab(&self.lab)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let l = lab_index(world, &self.lab)?;
        let quality = world.lab_quality(l).unwrap_or(0.0);
        let mut frozen = 0;
        for c in world.contracts().iter_mut().filter(|c| c.lab == l && c.licence) {
            c.frozen_quality.get_or_insert(quality);
            c.licence_exclusive = false;
            frozen += 1;
        }
        Ok(format!("{frozen} partner licence(s) frozen at quality {quality:.3}"))
    }
}
