//! `acquisition`: a provider acquires a lab, unless the regulator blocks it; an optional merger
//! review by the 2023 US Merger Guidelines (`crate::econ::merger`) decides on last month's
//! owner-aggregated shares of a configurable relevant market.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index, provider_index};
use crate::config::{ConfigError, Market};
use crate::econ::merger::{self, Rule};

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
    /// Shorthand for `review = {}`: the default merger review (Guideline 1's structural
    /// presumption on the `ai_channel` market).
    #[serde(default)]
    pub merger_review: bool,
    /// A merger review with its relevant market and decision rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<MergerReview>,
}

/// How the regulator reviews an acquisition (`crate::econ::merger`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergerReview {
    /// The relevant market: `cloud`, `ai_channel`, `model` or `compute`.
    #[serde(default = "default_market")]
    pub market: String,
    /// The decision rule.
    #[serde(default)]
    pub rule: ReviewRule,
    /// GUPPI above which the `guppi` rules block, as a fraction of the price.
    #[serde(default = "default_guppi_threshold")]
    pub guppi_threshold: f64,
}

/// The decision rule of a merger review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewRule {
    /// Block on Guideline 1's structural presumption (HHI or 30 % prong).
    #[default]
    Presumption,
    /// Block when either party's GUPPI exceeds `guppi_threshold`.
    Guppi,
    /// Block on the presumption or on GUPPI above `guppi_threshold`.
    PresumptionOrGuppi,
    /// Compute and log the figures; never block.
    Report,
}

fn default_market() -> String {
    "ai_channel".into()
}

fn default_guppi_threshold() -> f64 {
    0.05
}

impl Default for MergerReview {
    fn default() -> Self {
        MergerReview {
            market: default_market(),
            rule: ReviewRule::default(),
            guppi_threshold: default_guppi_threshold(),
        }
    }
}

impl MergerReview {
    fn rule(&self) -> Rule {
        let threshold = self.guppi_threshold;
        match self.rule {
            ReviewRule::Presumption => Rule::Presumption,
            ReviewRule::Guppi => Rule::Guppi { threshold },
            ReviewRule::PresumptionOrGuppi => Rule::PresumptionOrGuppi { threshold },
            ReviewRule::Report => Rule::Report,
        }
    }

    /// Reviews the merger of the owners `a` (acquirer) and `b` (target) on last month's
    /// market: the verdict and the figures for the event log.
    pub fn decide(&self, world: &dyn EventWorld, a: &str, b: &str) -> (bool, String) {
        let market = Market::from_name(&self.market).expect("validated market");
        let agents = world.last_market(market);
        let mut firms = merger::firms(&agents);
        let mut index = |name: &str| match firms.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                firms.push(merger::Firm {
                    name: name.to_string(),
                    share: 0.0,
                    price: None,
                    margin: None,
                });
                firms.len() - 1
            }
        };
        let (ia, ib) = (index(a), index(b));
        let outside = world.last_outside_share(market);
        let r = merger::review(&firms, ia, ib, outside, self.rule());
        let rule = match self.rule {
            ReviewRule::Presumption => "presumption".to_string(),
            ReviewRule::Guppi => format!("GUPPI > {:.1} %", 100.0 * self.guppi_threshold),
            ReviewRule::PresumptionOrGuppi => {
                format!("presumption or GUPPI > {:.1} %", 100.0 * self.guppi_threshold)
            }
            ReviewRule::Report => "report only".to_string(),
        };
        let presumed = if r.structure.presumed() {
            "presumed illegal"
        } else {
            "no presumption"
        };
        (
            r.blocked,
            format!(
                "merger review ({} market, owners {a} + {b}, outside share {outside:.3}, rule: {rule}): {}; {presumed}",
                self.market,
                r.note(a, b)
            ),
        )
    }

    /// Checks the review's fields; `cx` names the event's key.
    pub fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        if Market::from_name(&self.market).is_none() {
            return Err(cx.fail(
                "review.market",
                format!(
                    "is not a market: got \"{}\", expected one of {}",
                    self.market,
                    Market::all().map(Market::name).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        cx.range("review.guppi_threshold", self.guppi_threshold, 0.0, 1.0)
    }
}

/// The acquisition's effect: `lab` becomes first-party of provider `p`, stops listing on open
/// marketplaces, every other provider's licence of it ends, and every partial stake in it
/// lapses (the acquirer buys out the minority holders, its own stake included). Returns the
/// note.
pub fn take_control(world: &mut dyn EventWorld, p: usize, l: usize) -> String {
    world.set_lab_owner(l, Some(p));
    world.set_lab_listing(l, false);
    for c in world.contracts().iter_mut().filter(|c| c.lab == l && c.provider != p) {
        c.licence = false;
        c.licence_exclusive = false;
    }
    let cfg = world.config_mut();
    let owner = cfg.provider_owner(p).to_string();
    let (lab, provider) = (
        cfg.labs.get_index(l).map(|(id, _)| id.clone()).unwrap_or_default(),
        cfg.providers.get_index(p).map(|(id, _)| id.clone()).unwrap_or_default(),
    );
    cfg.stakes.retain(|st| st.target != lab);
    format!("{lab} now first-party of {provider} (owner {owner}); other licences end")
}

impl Kind for Acquisition {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        cx.provider(&self.provider)?;
        cx.lab(&self.lab)?;
        if let Some(r) = &self.review {
            r.validate(cx)?;
        }
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let p = provider_index(world, &self.provider)?;
        let l = lab_index(world, &self.lab)?;
        if self.blocked {
            return Ok("blocked by the regulator; nothing changes".into());
        }
        let review = self
            .review
            .clone()
            .or_else(|| self.merger_review.then(MergerReview::default));
        let mut figures = String::new();
        if let Some(review) = review {
            let acquirer = world.config().provider_owner(p).to_string();
            let owning = world.lab_owner(l);
            let target = world.config().lab_owner(l, owning).to_string();
            let (blocked, note) = review.decide(world, &acquirer, &target);
            if blocked {
                return Ok(format!("blocked: {note}; nothing changes"));
            }
            // Under `rule = "report"` nothing is blocked whatever the figures say.
            figures = format!("; not blocked: {note}");
        }
        Ok(format!("{}{figures}", take_control(world, p, l)))
    }
}
