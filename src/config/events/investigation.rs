//! `investigation`: watches a market's HHI (per agent, by owner, or the MHHI) and imposes a
//! remedy some months after it opens.
//!
//! When it opens is decided by the queue (`crate::sim::events`), which watches `hhi_<market>`;
//! applying the investigation imposes its remedy.

use serde::{Deserialize, Serialize};

use super::{Action, Check, EventWorld, Kind};
use crate::config::{ConfigError, Market};

/// Open an investigation when `hhi_<market>` exceeds `threshold`; after
/// `remedy_delay_months` impose the remedy actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Investigation {
    /// Market: `cloud`, `ai_channel`, `model` or `compute`.
    pub market: String,
    /// HHI threshold (2023 US Merger Guidelines: 1,800).
    #[serde(default = "default_hhi_threshold")]
    pub threshold: f64,
    /// Which concentration series it watches: `hhi` (per agent, the default), `hhi_owner`
    /// (shares summed by owner) or `mhhi` (with partial stakes).
    #[serde(default = "default_measure")]
    pub measure: String,
    /// Months from opening to remedy.
    #[serde(default)]
    pub remedy_delay_months: u32,
    /// Actions imposed as the remedy.
    pub remedy: Vec<Action>,
}

fn default_hhi_threshold() -> f64 {
    1800.0
}

fn default_measure() -> String {
    "hhi".into()
}

/// The concentration series an investigation may watch.
pub const MEASURES: [&str; 3] = ["hhi", "hhi_owner", "mhhi"];

impl Investigation {
    /// The `metrics.csv` column it watches, e.g. `hhi_owner_ai_channel`.
    pub fn watched_metric(&self) -> String {
        format!("{}_{}", self.measure, self.market)
    }
}

impl Kind for Investigation {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        let market = &self.market;
        if Market::from_name(market).is_none() {
            return Err(cx.fail(
                "market",
                format!(
                    "is not a market: got \"{market}\", expected one of {}",
                    Market::all().map(Market::name).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if !MEASURES.contains(&self.measure.as_str()) {
            return Err(cx.fail(
                "measure",
                format!(
                    "is not a concentration measure: got \"{}\", expected one of {}",
                    self.measure,
                    MEASURES.join(", ")
                ),
            ));
        }
        cx.range("threshold", self.threshold, 0.0, 10_000.0)?;
        if self.remedy.is_empty() {
            return Err(cx.fail("remedy", "must list at least one action"));
        }
        for (i, a) in self.remedy.iter().enumerate() {
            a.validate(&cx.nested(&format!("remedy[{i}]")))?;
        }
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let mut notes = Vec::new();
        for a in &self.remedy {
            notes.push(a.apply(world)?);
        }
        Ok(format!("remedy: {}", notes.join("; ")))
    }
}
