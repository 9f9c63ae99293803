//! `funding`: a lab raises a round; the money is added to its cash (issue 10 §3).

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index};
use crate::config::ConfigError;

/// A funding round: `amount_musd` is added to the lab's cash, which it spends over
/// `lab_behaviour.cash_runway_months` (docs/MODEL.md 7.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    /// Lab id.
    pub lab: String,
    /// Money raised, US$ M.
    pub amount_musd: f64,
    /// Where the figure comes from (free text, shown in the event log).
    #[serde(default)]
    pub source: Option<String>,
}

impl Kind for Funding {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.lab(&self.lab)?;
        cx.non_negative("amount_musd", self.amount_musd)
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let l = lab_index(world, &self.lab)?;
        world.add_lab_cash(l, self.amount_musd);
        Ok(match &self.source {
            Some(s) => format!("raised US$ {:.0} M ({s})", self.amount_musd),
            None => format!("raised US$ {:.0} M", self.amount_musd),
        })
    }
}
