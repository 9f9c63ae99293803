//! `ban_bundling`: suite bundles no longer favour the bundler.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::ConfigError;

/// Ban bundling: suite affinity no longer favours the bundler. It has no fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanBundling {}

impl Kind for BanBundling {
    fn validate(&self, _cx: &Check<'_>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        world.regulation().bundling_banned = true;
        Ok("suite bundles no longer favour the bundler".into())
    }
}
