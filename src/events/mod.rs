//! Events: dated or triggered changes to the world — contract changes, the AGI clause, open
//! weights, entries, capacity shocks, acquisitions, regulation, demand and price shocks.
//!
//! `spec` is what a config says; `queue` decides when each event fires; `apply` changes the
//! world. Effects are documented in `docs/MODEL.md` ("Events").

mod apply;
mod queue;
mod spec;

pub use apply::{apply_action, merger_blocked};
pub use queue::{EventLog, EventQueue, FiredEvent, apply_due_events};
pub use spec::{Action, Condition, EventSpec};

impl Action {
    /// Short name of the event kind, as written in configs.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Set { .. } => "set",
            Action::Contract { .. } => "contract",
            Action::AgiDeclaration { .. } => "agi_declaration",
            Action::OpenWeights { .. } => "open_weights",
            Action::LabEntry { .. } => "lab_entry",
            Action::ProviderEntry { .. } => "provider_entry",
            Action::CapacityShock { .. } => "capacity_shock",
            Action::Acquisition { .. } => "acquisition",
            Action::BanBundling => "ban_bundling",
            Action::CapSwitchingCharges { .. } => "cap_switching_charges",
            Action::BanExclusivity => "ban_exclusivity",
            Action::RemoveLicensingPenalties => "remove_licensing_penalties",
            Action::Investigation { .. } => "investigation",
            Action::DemandShock { .. } => "demand_shock",
            Action::GpuPriceCycle { .. } => "gpu_price_cycle",
        }
    }
}
