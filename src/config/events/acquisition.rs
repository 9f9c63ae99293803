//! `acquisition`: a provider acquires a lab, unless the regulator blocks it.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index, provider_index};
use crate::config::{ConfigError, Market, Metric};

/// A provider acquires a lab (it becomes the provider's first-party lab), unless blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acquisition {
    /// Acquiring provider id.
    pub provider: String,
    /// Target lab id.
    pub lab: String,
    /// The regulator blocks the deal outright.
    #[serde(default)]
    pub blocked: bool,
    /// The regulator applies the 2023 US Merger Guidelines test on the `ai_channel`
    /// market (post-merger HHI > 1,800 and ΔHHI > 100 ⇒ blocked).
    #[serde(default)]
    pub merger_review: bool,
}

/// 2023 US Merger Guidelines, Guideline 1: a merger is presumed illegal when the post-merger
/// HHI exceeds 1,800 and raises it by more than 100. Returns the verdict and a note.
pub fn merger_blocked(share_a: f64, share_b: f64, hhi_before: f64) -> (bool, String) {
    let delta = 2.0 * (100.0 * share_a) * (100.0 * share_b);
    let after = hhi_before + delta;
    let blocked = after > 1800.0 && delta > 100.0;
    (blocked, format!("post-merger HHI {after:.0}, ΔHHI {delta:.0}"))
}

impl Kind for Acquisition {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.provider(&self.provider)?;
        cx.lab(&self.lab)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let (provider, lab) = (&self.provider, &self.lab);
        let p = provider_index(world, provider)?;
        let l = lab_index(world, lab)?;
        if self.blocked {
            return Ok("blocked by the regulator; nothing changes".into());
        }
        if self.merger_review {
            let share = |agent: &str| world.last_share(Market::AiChannel, agent);
            let hhi = world.last_metric(Metric::HhiAiChannel);
            let (no, note) = merger_blocked(share(provider), share(lab), hhi);
            if no {
                return Ok(format!(
                    "blocked under the 2023 Merger Guidelines: {note}; nothing changes"
                ));
            }
        }
        world.set_lab_owner(l, Some(p));
        world.set_lab_listing(l, false);
        for c in world.contracts().iter_mut().filter(|c| c.lab == l && c.provider != p) {
            c.licence = false;
            c.licence_exclusive = false;
        }
        Ok(format!("{lab} now first-party of {provider}; other licences end"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merger_guidelines_block_large_concentrating_deals_only() {
        assert!(merger_blocked(0.30, 0.10, 1700.0).0, "ΔHHI 600 into HHI 2,300");
        assert!(!merger_blocked(0.05, 0.05, 900.0).0, "ΔHHI 50 is below 100");
        assert!(
            !merger_blocked(0.10, 0.10, 1000.0).0,
            "post-merger HHI 1,200 is below 1,800"
        );
    }
}
