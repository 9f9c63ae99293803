//! Regulation and exogenous shocks in force: the switches that policy events turn.

/// Regulation and exogenous shocks in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Regulation {
    /// Cap on egress/switching fees (0 = ban).
    pub egress_cap: Option<f64>,
    /// Suite bundles no longer favour the bundler.
    pub bundling_banned: bool,
    /// Exclusivity floors and exclusive licences do not bind.
    pub exclusivity_banned: bool,
    /// Licensing penalties on rival clouds removed.
    pub licensing_penalties_removed: bool,
    /// GPU price cycle: (start tick, amplitude, period months).
    pub price_cycle: Option<(u32, f64, u32)>,
}
