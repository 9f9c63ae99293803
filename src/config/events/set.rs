//! `set`: changes a behavioural parameter by dotted key from this tick on.

use serde::{Deserialize, Serialize};

use super::{Check, EventWorld, Kind};
use crate::config::{self, CloudPriceRule, Config, ConfigError, FeeRule, MarginRule};

/// Keys that describe the state at tick 0; an event cannot `set` them.
const INITIAL_CONDITION_FIELDS: [&str; 14] = [
    "home_share",
    "training_budget_musd",
    "build_lag_months",
    "owner",
    "marketplace_listing",
    "capacity_kgpu",
    "price",
    "entry",
    "compute_stock",
    "own_capacity_kgpu",
    "initial_hosts",
    "credits_musd",
    "suite_share",
    "start",
];

/// Help text listing which keys an event may `set`.
pub const SETTABLE_AT_RUNTIME_HELP: &str = "a behavioural parameter (enterprise.*, demand.*growth*, \
lab_behaviour.*, providers.<id>.<rule>, labs.<id>.<rule>); initial conditions (run.*, shares, \
capacities, stocks, budgets, prices at tick 0, entry dates, owners, listings) cannot change mid-run, \
and contract terms change with `kind = \"contract\"`";

/// Whether a dotted key names an initial condition rather than a behavioural rule.
pub fn is_initial_condition(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    key.starts_with("run.")
        || key == "demand.ai_inference_kgpu"
        || key == "demand.cloud_spend_musd"
        || key == "demand.initial_cloud_outside_share"
        || key == "demand.cloud_outside_share"
        || key == "demand.ai_outside_share"
        || key == "demand.cloud_outside_utility"
        || key == "demand.ai_outside_utility"
        || key.starts_with("enterprise.initial_")
        || INITIAL_CONDITION_FIELDS.contains(&last)
        || key.contains(".initial_hosts.")
        || key.starts_with("contracts.")
}

/// Set a behavioural parameter by dotted key; `*` in place of an agent id means all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Set {
    /// Dotted key, e.g. `providers.aws.egress_fee` or `providers.*.egress_fee`.
    pub key: String,
    /// New value (any TOML value of the key's type).
    pub value: toml::Value,
}

impl Kind for Set {
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        let k = &self.key;
        if is_initial_condition(k) {
            return Err(cx.fail(
                "key",
                format!(
                    "\"{k}\" is an initial condition and cannot be set mid-run; expected {SETTABLE_AT_RUNTIME_HELP}"
                ),
            ));
        }
        let last = k.rsplit('.').next().unwrap_or(k);
        let pricing = &cx.config().pricing;
        let chosen = match last {
            "cloud_price_index" if k.starts_with("providers.") && pricing.cloud_price_rule == CloudPriceRule::BestResponse => {
                Some("pricing.cloud_price_rule")
            }
            "model_fee" if k.starts_with("labs.") && pricing.fee_rule == FeeRule::BestResponse => Some("pricing.fee_rule"),
            "marketplace_margin" if k.starts_with("providers.") && pricing.margin_rule == MarginRule::BestResponse => {
                Some("pricing.margin_rule")
            }
            _ => None,
        };
        if let Some(rule) = chosen {
            return Err(cx.fail(
                "key",
                format!(
                    "\"{k}\" is a price the sellers choose under {rule} = \"best_response\", so setting it would have \
                     no effect; set {rule} = \"configured\" to script it"
                ),
            ));
        }
        let mut without_events = config::to_table(cx.config());
        without_events.remove("events");
        let mut table = without_events.clone();
        config::set_key(&mut table, k, self.value.clone()).map_err(|p| cx.fail("key", format!("\"{k}\" {p}")))?;
        let probe: Result<Config, _> = serde_path_to_error::deserialize(toml::Value::Table(table));
        match probe {
            Err(e) => Err(cx.fail("value", format!("does not fit \"{k}\": {}", e.inner().message().trim()))),
            Ok(probe) => match config::validate(&probe, cx.file()) {
                Ok(()) => Ok(()),
                // A config that fails without this event too (a bound of `run.enterprises`,
                // say) is reported under its own key by the rest of validation, not as this
                // event's value.
                Err(_) if config::from_table(without_events, cx.file()).is_err() => Ok(()),
                Err(e) => Err(cx.fail(
                    "value",
                    format!(
                        "is rejected: {}",
                        e.to_string().trim_start_matches(&format!("{}: ", cx.file()))
                    ),
                )),
            },
        }
    }

    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        let (key, value) = (&self.key, &self.value);
        // Seeds are below 2^63 (validated), so the config round-trips through TOML.
        let mut table = config::to_table(world.config());
        config::set_key(&mut table, key, value.clone())?;
        let updated: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| format!("{key}: {}", e.inner().message()))?;
        *world.config_mut() = updated;
        Ok(format!("{key} = {value}"))
    }
}
