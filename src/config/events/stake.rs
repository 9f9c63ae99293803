//! `stake`: an owner takes, changes or sells a partial equity stake in a provider or lab; a
//! controlling stake (control above one half) makes the target owned.

use serde::{Deserialize, Serialize};

use super::acquisition::take_control;
use super::{Check, EventWorld, Kind};
use crate::config::{ConfigError, StakeConfig};

/// Sets `owner`'s stake in `target` to `share` (0 sells it) with control `control`
/// (absent: proportional, = share). Control above 0.5 is ownership: a lab becomes first-party
/// of the owner's (first) provider, as by an acquisition; a provider's owner becomes `owner`;
/// either way every partial stake in the target lapses (the minority holders are bought out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stake {
    /// The holder: an owner name.
    pub owner: String,
    /// The provider or lab id.
    pub target: String,
    /// The holder's share of the target's profit, in [0, 1).
    pub share: f64,
    /// The holder's control, in [0, 1]; absent = `share`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<f64>,
}

impl Stake {
    fn control_weight(&self) -> f64 {
        self.control.unwrap_or(self.share)
    }
}

impl Kind for Stake {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        let c = cx.config();
        let owners = c.owner_names();
        if !owners.contains(&self.owner.as_str()) {
            return Err(cx.fail(
                "owner",
                format!(
                    "names no owner of a provider or lab: got \"{}\", expected one of {}",
                    self.owner,
                    owners.join(", ")
                ),
            ));
        }
        if c.initial_owner_of(&self.target).is_none() {
            return Err(cx.fail(
                "target",
                format!(
                    "names no provider or lab: got \"{}\", expected a provider or lab id",
                    self.target
                ),
            ));
        }
        cx.range("share", self.share, 0.0, 0.999_999)?;
        cx.probability("control", self.control_weight())?;
        if self.control_weight() > 0.5 && c.labs.contains_key(&self.target) && c.first_provider_of(&self.owner).is_none()
        {
            return Err(cx.fail(
                "control",
                format!(
                    "is a controlling stake ({}) in lab \"{}\", which makes it first-party of its owner's provider, but \"{}\" owns no provider; expected control ≤ 0.5",
                    self.control_weight(),
                    self.target,
                    self.owner
                ),
            ));
        }
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let (owner, target) = (&self.owner, &self.target);
        if self.control_weight() > 0.5 {
            if let Some(l) = world.lab_index(target) {
                let p = world
                    .config()
                    .first_provider_of(owner)
                    .ok_or_else(|| format!("owner \"{owner}\" has no provider"))?;
                return Ok(format!("controlling stake: {}", take_control(world, p, l)));
            }
            let cfg = world.config_mut();
            let i = cfg
                .providers
                .get_index_of(target)
                .ok_or_else(|| format!("unknown target \"{target}\""))?;
            cfg.providers[i].owner = Some(owner.clone());
            cfg.stakes.retain(|st| st.target != *target);
            return Ok(format!("controlling stake: provider {target} now owned by {owner}"));
        }
        let cfg = world.config_mut();
        cfg.stakes.retain(|st| !(st.target == *target && st.owner == *owner));
        if self.share > 0.0 {
            cfg.stakes.push(StakeConfig {
                owner: owner.clone(),
                target: target.clone(),
                share: self.share,
                control: self.control,
                source: None,
            });
        }
        let of = || cfg.stakes.iter().filter(|st| st.target == *target);
        let (shares, control): (f64, f64) = (
            of().map(|st| st.share).sum(),
            of().map(StakeConfig::control_weight).sum(),
        );
        if shares >= 1.0 || control > 1.0 + 1e-9 {
            return Err(format!(
                "stakes in {target} now sum to a share of {shares} and control of {control}; expected a share below 1 and control at most 1"
            ));
        }
        Ok(format!(
            "{owner} holds {:.1} % of {target} (control {:.1} %)",
            100.0 * self.share,
            100.0 * self.control_weight()
        ))
    }
}
