//! Event definitions as written in a config: when an event fires and what it does.
//!
//! An event is one TOML table in `[[events]]`: trigger keys (`at`, `tick`, `when`,
//! `delay_months`, `label`) plus a `kind` and that kind's fields. The two halves are split by
//! hand so that each kind can still reject unknown fields.

use serde::{Deserialize, Serialize};

/// One scheduled or triggered event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "toml::Table", into = "toml::Table")]
pub struct EventSpec {
    /// Month at which it fires (`YYYY-MM`).
    pub at: Option<String>,
    /// Tick at which it fires (alternative to `at`).
    pub tick: Option<u32>,
    /// Condition that fires it (checked every month against last month's measurements).
    pub when: Option<Condition>,
    /// Months between the trigger and the effect (e.g. an AGI verification panel).
    pub delay_months: u32,
    /// Free text shown in logs and the event log.
    pub label: Option<String>,
    /// What it does.
    pub action: Action,
}

/// A threshold condition on a measured quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// A `metrics.csv` column (e.g. `hhi_cloud`) or `quality.<lab>` / `dependency.<lab>`.
    pub metric: String,
    /// Fires when the metric is strictly above this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// Fires when the metric is strictly below this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
}

/// The catalogue of event kinds (see `docs/MODEL.md`, "Events", for their effects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Set a behavioural parameter by dotted key; `*` in place of an agent id means all.
    Set {
        /// Dotted key, e.g. `providers.aws.egress_fee` or `providers.*.egress_fee`.
        key: String,
        /// New value (any TOML value of the key's type).
        value: toml::Value,
    },
    /// Create a contract or change the terms of an existing one.
    Contract {
        /// Contract id; an existing id is changed, a new id is created.
        id: String,
        /// Lab id (required for a new contract).
        #[serde(default)]
        lab: Option<String>,
        /// Provider id (required for a new contract).
        #[serde(default)]
        provider: Option<String>,
        /// New compute credits added (an investment paid as credits), US$ M.
        #[serde(default)]
        add_credits_musd: Option<f64>,
        /// New revenue share.
        #[serde(default)]
        revenue_share: Option<f64>,
        /// New cap on revenue-share payments, US$ M.
        #[serde(default)]
        revenue_share_cap_musd: Option<f64>,
        /// New exclusivity floor (0 = none; a right of first refusal is modelled as a lower floor).
        #[serde(default)]
        min_compute_share: Option<f64>,
        /// New committed compute spend, US$ M per month.
        #[serde(default)]
        commitment_musd: Option<f64>,
        /// Whether the provider may resell the lab's models.
        #[serde(default)]
        licence: Option<bool>,
        /// Whether the licence is exclusive.
        #[serde(default)]
        licence_exclusive: Option<bool>,
        /// End month of the contract (`YYYY-MM`).
        #[serde(default)]
        end: Option<String>,
    },
    /// The lab's board declares AGI: every partner licence of the lab covers no new models
    /// (the partner channel keeps the quality it had), and licence exclusivity ends.
    AgiDeclaration {
        /// Lab id.
        lab: String,
    },
    /// The lab releases an open-weight model `gap` below its frontier; any provider can host it.
    OpenWeights {
        /// Lab id.
        lab: String,
        /// Quality gap below the lab's frontier model (≥ 0); default: the lab's `open_weight_gap`.
        #[serde(default)]
        gap: Option<f64>,
    },
    /// A dormant lab enters the market (a new lab, or a provider's first-party lab).
    LabEntry {
        /// Lab id (declared in `[labs]`).
        lab: String,
    },
    /// A dormant provider enters, optionally with a capacity ramp.
    ProviderEntry {
        /// Provider id (declared in `[providers]`).
        provider: String,
        /// Capacity delivered each month of the ramp, kGPU.
        #[serde(default)]
        ramp_kgpu_per_month: f64,
        /// Number of months of the ramp.
        #[serde(default)]
        ramp_months: u32,
    },
    /// The provider's capacity is multiplied by `factor` (e.g. 0.8 = outage or export control).
    CapacityShock {
        /// Provider id.
        provider: String,
        /// Multiplier on capacity in service, ≥ 0.
        factor: f64,
    },
    /// A provider acquires a lab (it becomes the provider's first-party lab), unless blocked.
    Acquisition {
        /// Acquiring provider id.
        provider: String,
        /// Target lab id.
        lab: String,
        /// The regulator blocks the deal outright.
        #[serde(default)]
        blocked: bool,
        /// The regulator applies the 2023 US Merger Guidelines test on the `ai_channel`
        /// market (post-merger HHI > 1,800 and ΔHHI > 100 ⇒ blocked).
        #[serde(default)]
        merger_review: bool,
    },
    /// Ban bundling: suite affinity no longer favours the bundler.
    BanBundling,
    /// Cap switching/egress charges at `cap` (fraction of annual spend); 0 bans them.
    CapSwitchingCharges {
        /// Maximum egress fee, ≥ 0.
        cap: f64,
    },
    /// Ban exclusivity: compute floors and exclusive licences no longer bind.
    BanExclusivity,
    /// Remove licensing penalties for running a provider's software on rival clouds.
    RemoveLicensingPenalties,
    /// Open an investigation when `hhi_<market>` exceeds `threshold`; after
    /// `remedy_delay_months` impose the remedy actions.
    Investigation {
        /// Market: `cloud`, `ai_channel`, `model` or `compute`.
        market: String,
        /// HHI threshold (2023 US Merger Guidelines: 1,800).
        #[serde(default = "default_hhi_threshold")]
        threshold: f64,
        /// Months from opening to remedy.
        #[serde(default)]
        remedy_delay_months: u32,
        /// Actions imposed as the remedy.
        remedy: Vec<Action>,
    },
    /// Enterprise AI demand jumps by `factor` (e.g. 1.5 after a ChatGPT-like launch).
    DemandShock {
        /// Multiplier on enterprise AI demand from now on, > 0.
        factor: f64,
    },
    /// A GPU price cycle: unit costs follow 1 + amplitude·sin(2π·months/period) from now on.
    GpuPriceCycle {
        /// Relative amplitude, in [0, 1).
        amplitude: f64,
        /// Period in months, ≥ 2.
        period_months: u32,
    },
}

fn default_hhi_threshold() -> f64 {
    1800.0
}

impl TryFrom<toml::Table> for EventSpec {
    type Error = String;

    fn try_from(mut table: toml::Table) -> Result<Self, Self::Error> {
        let take = |t: &mut toml::Table, k: &str| t.remove(k);
        let at = match take(&mut table, "at") {
            None => None,
            Some(toml::Value::String(s)) => Some(s),
            Some(v) => return Err(format!("at must be a YYYY-MM string, got {v}")),
        };
        let tick = match take(&mut table, "tick") {
            None => None,
            Some(toml::Value::Integer(i)) if i >= 0 => Some(i as u32),
            Some(v) => return Err(format!("tick must be a non-negative integer, got {v}")),
        };
        let when = match take(&mut table, "when") {
            None => None,
            Some(v) => Some(
                v.try_into::<Condition>()
                    .map_err(|e| format!("when: {}", e.message()))?,
            ),
        };
        let delay_months = match take(&mut table, "delay_months") {
            None => 0,
            Some(toml::Value::Integer(i)) if i >= 0 => i as u32,
            Some(v) => {
                return Err(format!("delay_months must be a non-negative integer, got {v}"));
            }
        };
        let label = match take(&mut table, "label") {
            None => None,
            Some(toml::Value::String(s)) => Some(s),
            Some(v) => return Err(format!("label must be a string, got {v}")),
        };
        if !table.contains_key("kind") {
            return Err("event has no `kind`".to_string());
        }
        let action = toml::Value::Table(table)
            .try_into::<Action>()
            .map_err(|e| e.message().to_string())?;
        Ok(EventSpec {
            at,
            tick,
            when,
            delay_months,
            label,
            action,
        })
    }
}

impl From<EventSpec> for toml::Table {
    fn from(e: EventSpec) -> Self {
        let mut table = match toml::Value::try_from(&e.action) {
            Ok(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        };
        if let Some(at) = e.at {
            table.insert("at".into(), at.into());
        }
        if let Some(tick) = e.tick {
            table.insert("tick".into(), i64::from(tick).into());
        }
        if let Some(when) = e.when
            && let Ok(v) = toml::Value::try_from(&when)
        {
            table.insert("when".into(), v);
        }
        if e.delay_months > 0 {
            table.insert("delay_months".into(), i64::from(e.delay_months).into());
        }
        if let Some(label) = e.label {
            table.insert("label".into(), label.into());
        }
        table
    }
}
