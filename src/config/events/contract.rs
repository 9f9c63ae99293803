//! `contract`: creates a contract or changes the terms of an existing one.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind, lab_index, provider_index};
use crate::config::ConfigError;
use crate::econ::contracts;

/// Create a contract or change the terms of an existing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Contract id; an existing id is changed, a new id is created.
    pub id: String,
    /// Lab id (required for a new contract).
    #[serde(default)]
    pub lab: Option<String>,
    /// Provider id (required for a new contract).
    #[serde(default)]
    pub provider: Option<String>,
    /// New compute credits added (an investment paid as credits), US$ M.
    #[serde(default)]
    pub add_credits_musd: Option<f64>,
    /// New revenue share.
    #[serde(default)]
    pub revenue_share: Option<f64>,
    /// New cap on revenue-share payments, US$ M.
    #[serde(default)]
    pub revenue_share_cap_musd: Option<f64>,
    /// New exclusivity floor (0 = none).
    #[serde(default)]
    pub min_compute_share: Option<f64>,
    /// Right of first refusal on or off (a matching right, not a floor).
    #[serde(default)]
    pub rofr: Option<bool>,
    /// New profit share.
    #[serde(default)]
    pub profit_share: Option<f64>,
    /// New cap on profit-share payments, US$ M.
    #[serde(default)]
    pub profit_share_cap_musd: Option<f64>,
    /// New committed compute spend, US$ M per month.
    #[serde(default)]
    pub commitment_musd: Option<f64>,
    /// Whether the provider may resell the lab's models.
    #[serde(default)]
    pub licence: Option<bool>,
    /// Whether the licence is exclusive.
    #[serde(default)]
    pub licence_exclusive: Option<bool>,
    /// End month of the contract (`YYYY-MM`).
    #[serde(default)]
    pub end: Option<String>,
}

impl Kind for Contract {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        let id = &self.id;
        if !cx.config().contracts.contains_key(id) && (self.lab.is_none() || self.provider.is_none()) {
            return Err(cx.fail(
                "id",
                format!("\"{id}\" is a new contract, so it needs `lab` and `provider`"),
            ));
        }
        if let Some(l) = &self.lab {
            cx.lab(l)?;
        }
        if let Some(p) = &self.provider {
            cx.provider(p)?;
        }
        if let Some(v) = self.add_credits_musd {
            cx.non_negative("add_credits_musd", v)?;
        }
        if let Some(v) = self.revenue_share {
            cx.probability("revenue_share", v)?;
        }
        if let Some(v) = self.revenue_share_cap_musd {
            cx.non_negative("revenue_share_cap_musd", v)?;
        }
        if let Some(v) = self.min_compute_share {
            cx.probability("min_compute_share", v)?;
        }
        if let Some(v) = self.commitment_musd {
            cx.non_negative("commitment_musd", v)?;
        }
        if let Some(v) = self.profit_share {
            cx.probability("profit_share", v)?;
        }
        if let Some(v) = self.profit_share_cap_musd {
            cx.non_negative("profit_share_cap_musd", v)?;
        }
        if let Some(m) = &self.end {
            cx.month("end", m)?;
        }
        Ok(())
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let id = &self.id;
        let tick = world.tick();
        let lab = self.lab.as_deref().map(|l| lab_index(world, l)).transpose()?;
        let provider = self.provider.as_deref().map(|p| provider_index(world, p)).transpose()?;
        let end = self.end.as_deref().map(|m| world.tick_of(m));
        let contracts = world.contracts();
        let created = !contracts.iter().any(|c| &c.id == id);
        if created {
            let (Some(lab), Some(provider)) = (lab, provider) else {
                return Err(format!("new contract \"{id}\" needs lab and provider"));
            };
            contracts.push(contracts::Contract::empty(id, lab, provider, i64::from(tick)));
        }
        let c = contracts.iter_mut().find(|c| &c.id == id).expect("present");
        if let Some(v) = self.add_credits_musd {
            c.credits += v;
        }
        if let Some(v) = self.revenue_share {
            c.revenue_share = v;
        }
        if let Some(v) = self.revenue_share_cap_musd {
            c.revenue_share_cap = v;
        }
        if let Some(v) = self.min_compute_share {
            c.min_compute_share = v;
            c.exclusivity_end = None;
        }
        if let Some(v) = self.commitment_musd {
            c.commitment = v;
        }
        if let Some(v) = self.rofr {
            c.rofr = v;
        }
        if let Some(v) = self.profit_share {
            c.profit_share = v;
        }
        if let Some(v) = self.profit_share_cap_musd {
            c.profit_share_cap = v;
        }
        if let Some(v) = self.licence {
            c.licence = v;
        }
        if let Some(v) = self.licence_exclusive {
            c.licence_exclusive = v;
        }
        if let Some(e) = end {
            c.end = Some(e);
        }
        Ok(if created {
            format!("contract {id} created")
        } else {
            format!("contract {id} changed")
        })
    }
}
