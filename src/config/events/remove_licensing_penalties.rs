//! `remove_licensing_penalties`: licensing penalties on rival clouds are removed.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::ConfigError;

/// Remove licensing penalties for running a provider's software on rival clouds. It has no fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveLicensingPenalties {}

impl Kind for RemoveLicensingPenalties {
    fn validate(&self, _cx: &Check<'_>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        world.regulation().licensing_penalties_removed = true;
        Ok("licensing penalties on rival clouds removed".into())
    }
}
