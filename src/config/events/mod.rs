//! Event definitions: when an event fires (the trigger part of [`EventSpec`]), the catalogue of
//! what it does ([`Action`], one module per kind) and the [`EventWorld`] an effect acts on.
//!
//! An event is one TOML table in `[[events]]`: trigger keys (`at`, `tick`, `when`,
//! `delay_months`, `label`) plus a `kind` and that kind's fields. The two halves are split by
//! hand so that each kind can still reject unknown fields.
//!
//! Each kind's module holds its fields (one documented struct), its validation and its effect.
//! Adding a kind is a new module plus one line in the `catalogue!` invocation below. When events
//! fire is decided in `crate::sim::events`; effects are documented in `docs/MODEL.md`
//! ("Events").

mod world;

use serde::{Deserialize, Serialize};

pub use acquisition::{MergerReview, ReviewRule};
pub use set::{SETTABLE_AT_RUNTIME_HELP, is_initial_condition};
pub use world::EventWorld;

use super::validate::{Checker, ids};
use super::{Config, ConfigError, Month, Watched};

/// One scheduled or triggered event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "toml::Table")]
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

impl Condition {
    /// Whether the condition holds for this value of its metric.
    pub fn holds(&self, value: f64) -> bool {
        self.above.is_some_and(|a| value > a) || self.below.is_some_and(|b| value < b)
    }
}

/// What every event kind provides: its checks against the config and its effect on the world.
pub trait Kind {
    /// Checks the kind's fields against the config; `cx` names the event's key in errors.
    fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError>;

    /// Applies the event now; returns a note for the event log, or why it cannot apply.
    fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String>;
}

/// Declares each kind's module (re-exporting its fields struct), [`Action`] with one newtype
/// variant per kind, and its dispatch to [`Kind`].
macro_rules! catalogue {
    ($($variant:ident($module:ident::$ty:ident),)*) => {
        $(
            mod $module;
            pub use $module::$ty;
        )*

        /// The catalogue of event kinds (see `docs/MODEL.md`, "Events", for their effects).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum Action {
            $(
                #[doc = concat!("See [`", stringify!($module), "::", stringify!($ty), "`].")]
                $variant($module::$ty),
            )*
        }

        impl Action {
            /// The kind's checks and effect.
            fn as_kind(&self) -> &dyn Kind {
                match self {
                    $(Action::$variant(k) => k,)*
                }
            }
        }
    };
}

catalogue! {
    Set(set::Set),
    Contract(contract::Contract),
    AgiDeclaration(agi_declaration::AgiDeclaration),
    OpenWeights(open_weights::OpenWeights),
    LabEntry(lab_entry::LabEntry),
    ProviderEntry(provider_entry::ProviderEntry),
    CapacityShock(capacity_shock::CapacityShock),
    Acquisition(acquisition::Acquisition),
    BanBundling(ban_bundling::BanBundling),
    CapSwitchingCharges(cap_switching_charges::CapSwitchingCharges),
    BanExclusivity(ban_exclusivity::BanExclusivity),
    RemoveLicensingPenalties(remove_licensing_penalties::RemoveLicensingPenalties),
    Investigation(investigation::Investigation),
    DemandShock(demand_shock::DemandShock),
    GpuPriceCycle(gpu_price_cycle::GpuPriceCycle),
    Stake(stake::Stake),
    Funding(funding::Funding),
}

impl Action {
    /// Short name of the event kind, as written in configs.
    pub fn kind(&self) -> &'static str {
        self.into()
    }

    /// Checks the action against the config; `cx` names its key in errors.
    pub fn validate(&self, cx: &Check<'_>) -> Result<(), ConfigError> {
        self.as_kind().validate(cx)
    }

    /// Applies the action now; returns a note for the event log.
    pub fn apply(&self, world: &mut dyn EventWorld) -> Result<String, String> {
        self.as_kind().apply(world)
    }
}

/// Where an event's fields are checked: the config, and the event's key for error messages
/// (`events[2]`, `events[0].remedy[1]`).
pub struct Check<'a> {
    config: &'a Config,
    checker: &'a Checker<'a>,
    key: String,
}

impl<'a> Check<'a> {
    /// The config the event belongs to.
    pub fn config(&self) -> &'a Config {
        self.config
    }

    /// The file the config came from.
    pub fn file(&self) -> &'a str {
        self.checker.file
    }

    /// Dotted key of a field of the event (the event itself for `""`).
    pub fn key(&self, field: &str) -> String {
        if field.is_empty() {
            self.key.clone()
        } else {
            format!("{}.{field}", self.key)
        }
    }

    /// The context of an action nested in this one (e.g. `remedy[0]`).
    pub fn nested(&self, field: &str) -> Check<'a> {
        Check {
            config: self.config,
            checker: self.checker,
            key: self.key(field),
        }
    }

    /// An error on a field of the event.
    pub fn fail(&self, field: &str, problem: impl Into<String>) -> ConfigError {
        self.checker.fail(&self.key(field), problem)
    }

    /// `name` is a declared lab (an error is reported on `<event>.lab`).
    pub fn lab(&self, name: &str) -> Result<(), ConfigError> {
        if self.config.labs.contains_key(name) {
            Ok(())
        } else {
            Err(self.fail(
                "lab",
                format!(
                    "names unknown lab \"{name}\"; expected one of {}",
                    ids(self.config.labs.keys())
                ),
            ))
        }
    }

    /// `name` is a declared provider (an error is reported on `<event>.provider`).
    pub fn provider(&self, name: &str) -> Result<(), ConfigError> {
        if self.config.providers.contains_key(name) {
            Ok(())
        } else {
            Err(self.fail(
                "provider",
                format!(
                    "names unknown provider \"{name}\"; expected one of {}",
                    ids(self.config.providers.keys())
                ),
            ))
        }
    }

    /// A finite value in `[lo, hi]`.
    pub fn range(&self, field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
        self.checker.range(&self.key(field), v, lo, hi)
    }

    /// A value in `[0, 1]`.
    pub fn probability(&self, field: &str, v: f64) -> Result<(), ConfigError> {
        self.checker.probability(&self.key(field), v)
    }

    /// A finite value ≥ 0.
    pub fn non_negative(&self, field: &str, v: f64) -> Result<(), ConfigError> {
        self.checker.non_negative(&self.key(field), v)
    }

    /// A finite value > 0.
    pub fn positive(&self, field: &str, v: f64) -> Result<(), ConfigError> {
        self.checker.positive(&self.key(field), v)
    }

    /// A finite value.
    pub fn finite(&self, field: &str, v: f64) -> Result<(), ConfigError> {
        self.checker.finite(&self.key(field), v)
    }

    /// A `YYYY-MM` month.
    pub fn month(&self, field: &str, text: &str) -> Result<Month, ConfigError> {
        self.checker.month(&self.key(field), text)
    }
}

impl EventSpec {
    /// Checks the trigger and the action of the event at `key` (e.g. `events[2]`) of `c`,
    /// whose run starts at `start`.
    pub(super) fn validate(&self, c: &Config, ck: &Checker, start: Month, key: &str) -> Result<(), ConfigError> {
        let triggers = usize::from(self.at.is_some()) + usize::from(self.tick.is_some());
        if triggers > 1 {
            return Err(ck.fail(key, "gives both `at` and `tick`; give one"));
        }
        if triggers == 0 && self.when.is_none() && !matches!(self.action, Action::Investigation(_)) {
            return Err(ck.fail(
                key,
                "has no trigger: give `at = \"YYYY-MM\"`, `tick = N` or `when = {{ metric = .., above = .. }}`",
            ));
        }
        if let Some(at) = &self.at {
            let m = ck.month(&format!("{key}.at"), at)?;
            // A month after the run's end is kept and never fires: a config carries dated
            // contract terms (e.g. a revenue share ending in 2030) that a shortened run does not
            // reach. A month before the start can only be a mistake.
            if m.ticks_since(start) < 0 {
                return Err(ck.fail(
                    &format!("{key}.at"),
                    format!("is before the run: got {at}, expected {start} or later"),
                ));
            }
        }
        if let Some(t) = self.tick
            && t >= c.run.ticks
        {
            return Err(ck.fail(
                &format!("{key}.tick"),
                format!("is outside the run: got {t}, expected 0 to {}", c.run.ticks - 1),
            ));
        }
        if let Some(w) = &self.when {
            let known = match Watched::parse(&w.metric) {
                Some(Watched::Metric(_)) => true,
                Some(Watched::Quality(l) | Watched::Dependency(l)) => c.labs.contains_key(&l),
                Some(Watched::Rent(p)) => c.providers.contains_key(&p),
                None => false,
            };
            if !known {
                return Err(ck.fail(
                    &format!("{key}.when.metric"),
                    format!("is not a known metric: got \"{}\", expected a metrics.csv column or quality.<lab>, dependency.<lab>, rent.<provider>", w.metric),
                ));
            }
            if w.above.is_some() == w.below.is_some() {
                return Err(ck.fail(&format!("{key}.when"), "needs exactly one of `above` or `below`"));
            }
            for (field, threshold) in [("above", w.above), ("below", w.below)] {
                if let Some(x) = threshold {
                    ck.finite(&format!("{key}.when.{field}"), x)?;
                }
            }
        }
        let cx = Check {
            config: c,
            checker: ck,
            key: key.to_string(),
        };
        self.action.validate(&cx)
    }
}

/// Index of a lab by id, or an error naming it.
fn lab_index(world: &dyn EventWorld, id: &str) -> Result<usize, String> {
    world.lab_index(id).ok_or_else(|| format!("unknown lab \"{id}\""))
}

/// Index of a provider by id, or an error naming it.
fn provider_index(world: &dyn EventWorld, id: &str) -> Result<usize, String> {
    world
        .provider_index(id)
        .ok_or_else(|| format!("unknown provider \"{id}\""))
}

impl<'de> Deserialize<'de> for EventSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SpecVisitor)
    }
}

/// Reads an event table: trigger keys one by one (each value is checked where it is read, so
/// that errors name `events[i].<key>`), everything else into the action's table.
struct SpecVisitor;

impl<'de> serde::de::Visitor<'de> for SpecVisitor {
    type Value = EventSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an event table")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<EventSpec, A::Error> {
        use serde::de::Error;
        let (mut at, mut tick, mut when, mut delay_months, mut label) = (None, None, None, 0, None);
        let mut table = toml::Table::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "at" => at = Some(map.next_value::<MonthText>()?.0),
                "tick" => tick = Some(map.next_value::<Count>()?.0),
                "when" => when = Some(map.next_value::<Condition>()?),
                "delay_months" => delay_months = map.next_value::<Count>()?.0,
                "label" => label = Some(map.next_value::<Label>()?.0),
                _ => {
                    let value = map.next_value::<toml::Value>()?;
                    table.insert(key, value);
                }
            }
        }
        if !table.contains_key("kind") {
            return Err(A::Error::custom("event has no `kind`"));
        }
        let action = toml::Value::Table(table)
            .try_into::<Action>()
            .map_err(|e| A::Error::custom(e.message()))?;
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

/// A tick or a number of months: an integer in `[0, u32::MAX]`.
struct Count(u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(deserializer)? {
            toml::Value::Integer(i) if u32::try_from(i).is_ok() => Ok(Count(i as u32)),
            v => Err(serde::de::Error::custom(format!(
                "must be an integer from 0 to {}, got {v}",
                u32::MAX
            ))),
        }
    }
}

/// `at`: a `YYYY-MM` string (the month itself is checked in validation).
struct MonthText(String);

impl<'de> Deserialize<'de> for MonthText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string(deserializer, "a YYYY-MM string").map(MonthText)
    }
}

/// `label`: any string.
struct Label(String);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string(deserializer, "a string").map(Label)
    }
}

/// A string, or an error saying it must be `what`.
fn string<'de, D: serde::Deserializer<'de>>(deserializer: D, what: &str) -> Result<String, D::Error> {
    match toml::Value::deserialize(deserializer)? {
        toml::Value::String(s) => Ok(s),
        v => Err(serde::de::Error::custom(format!("must be {what}, got {v}"))),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One event of every kind.
    const EVERY_KIND: &str = r#"
[[events]]
tick = 1
kind = "set"
key = "enterprise.review_probability"
value = 0.5
[[events]]
at = "2027-01"
kind = "contract"
id = "c"
lab = "l"
provider = "p"
add_credits_musd = 10.0
end = "2030-01"
[[events]]
when = { metric = "quality.l", above = 9.0 }
delay_months = 6
kind = "agi_declaration"
lab = "l"
[[events]]
tick = 1
kind = "open_weights"
lab = "l"
[[events]]
tick = 1
kind = "lab_entry"
lab = "l"
[[events]]
tick = 1
kind = "provider_entry"
provider = "p"
ramp_kgpu_per_month = 5.0
ramp_months = 3
[[events]]
tick = 1
kind = "capacity_shock"
provider = "p"
factor = 0.5
[[events]]
tick = 1
label = "deal"
kind = "acquisition"
provider = "p"
lab = "l"
merger_review = true
[[events]]
tick = 1
kind = "ban_bundling"
[[events]]
tick = 1
kind = "cap_switching_charges"
cap = 0.0
[[events]]
tick = 1
kind = "ban_exclusivity"
[[events]]
tick = 1
kind = "remove_licensing_penalties"
[[events]]
kind = "investigation"
market = "cloud"
remedy = [{ kind = "ban_bundling" }, { kind = "cap_switching_charges", cap = 0.01 }]
[[events]]
tick = 1
kind = "demand_shock"
factor = 1.5
[[events]]
tick = 1
kind = "gpu_price_cycle"
amplitude = 0.2
period_months = 12
"#;

    #[derive(Deserialize)]
    struct Events {
        events: Vec<EventSpec>,
    }

    #[test]
    fn every_kind_is_named_by_its_tag_and_round_trips() {
        let events = toml::from_str::<Events>(EVERY_KIND).expect("valid events").events;
        let mut kinds: Vec<&str> = events.iter().map(|e| e.action.kind()).collect();
        for e in &events {
            let table = toml::Table::from(e.clone());
            assert_eq!(table["kind"].as_str(), Some(e.action.kind()));
            assert_eq!(
                &toml::Value::Table(table).try_into::<EventSpec>().expect("round trip"),
                e
            );
        }
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), 15, "one event of every kind: {kinds:?}");
    }
}
