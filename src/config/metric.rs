//! The measured series of a run, defined once: the four markets and every run-level metric,
//! with its name (the `metrics.csv` column), unit and meaning.
//!
//! Values are stored in a [`MetricValues`] array indexed by [`Metric`], never paired with names
//! by position. CSV headers, the sweep's `final_`/`mean_` columns, `compare`'s quantities, event
//! conditions and the README's column table are all derived from this enum.

use std::ops::{Index, IndexMut};

use strum::{EnumCount, EnumIter, EnumMessage, EnumProperty, IntoEnumIterator, IntoStaticStr};

/// The four markets whose concentration is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, EnumCount, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Market {
    /// Enterprise general-cloud spend by cloud home; agents: providers.
    Cloud,
    /// Enterprise AI spend by who bills it (a provider marketplace or a lab's direct API).
    AiChannel,
    /// Enterprise AI spend by whose model serves it; agents: labs.
    Model,
    /// Compute used for labs by host; agents: providers and each lab's own data centres.
    Compute,
    /// Enterprise AI spend by who supplies the model: as `Model`, except that open-weight
    /// models hosted by a provider count for the hoster, not the releasing lab; agents: labs,
    /// then providers.
    ModelHoster,
}

impl Market {
    /// Name as written in outputs (`cloud`, `ai_channel`, `model`, `compute`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The market of a name, if any.
    pub fn from_name(name: &str) -> Option<Market> {
        Market::iter().find(|m| m.name() == name)
    }

    /// Every market, in output order.
    pub fn all() -> impl Iterator<Item = Market> {
        Market::iter()
    }

    /// The four markets of the model's question (figures' default panels): every market but
    /// `model_hoster`, the by-hoster view of the model market.
    pub fn headline() -> impl Iterator<Item = Market> {
        Market::iter().filter(|m| *m != Market::ModelHoster)
    }
}

/// Every run-level series of `metrics.csv`, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, EnumCount, IntoStaticStr, EnumMessage, EnumProperty)]
pub enum Metric {
    /// HHI of the cloud market.
    #[strum(
        serialize = "hhi_cloud",
        message = "HHI of the cloud market over named agents",
        props(unit = "0–10,000")
    )]
    HhiCloud,
    /// CR1 of the cloud market.
    #[strum(
        serialize = "cr1_cloud",
        message = "share of the largest named agent of the cloud market",
        props(unit = "fraction")
    )]
    Cr1Cloud,
    /// CR3 of the cloud market.
    #[strum(
        serialize = "cr3_cloud",
        message = "share of the three largest named agents of the cloud market",
        props(unit = "fraction")
    )]
    Cr3Cloud,
    /// HHI of the AI-channel market.
    #[strum(
        serialize = "hhi_ai_channel",
        message = "HHI of the AI-channel market over named agents",
        props(unit = "0–10,000")
    )]
    HhiAiChannel,
    /// CR1 of the AI-channel market.
    #[strum(
        serialize = "cr1_ai_channel",
        message = "share of the largest named agent of the AI-channel market",
        props(unit = "fraction")
    )]
    Cr1AiChannel,
    /// CR3 of the AI-channel market.
    #[strum(
        serialize = "cr3_ai_channel",
        message = "share of the three largest named agents of the AI-channel market",
        props(unit = "fraction")
    )]
    Cr3AiChannel,
    /// HHI of the model market.
    #[strum(
        serialize = "hhi_model",
        message = "HHI of the model market over named agents",
        props(unit = "0–10,000")
    )]
    HhiModel,
    /// CR1 of the model market.
    #[strum(
        serialize = "cr1_model",
        message = "share of the largest named agent of the model market",
        props(unit = "fraction")
    )]
    Cr1Model,
    /// CR3 of the model market.
    #[strum(
        serialize = "cr3_model",
        message = "share of the three largest named agents of the model market",
        props(unit = "fraction")
    )]
    Cr3Model,
    /// HHI of the compute market.
    #[strum(
        serialize = "hhi_compute",
        message = "HHI of the compute market over named agents",
        props(unit = "0–10,000")
    )]
    HhiCompute,
    /// CR1 of the compute market.
    #[strum(
        serialize = "cr1_compute",
        message = "share of the largest named agent of the compute market",
        props(unit = "fraction")
    )]
    Cr1Compute,
    /// CR3 of the compute market.
    #[strum(
        serialize = "cr3_compute",
        message = "share of the three largest named agents of the compute market",
        props(unit = "fraction")
    )]
    Cr3Compute,
    /// Enterprises that moved AI workloads.
    #[strum(
        serialize = "switching_rate",
        message = "share of enterprises that moved AI workloads to another option this month (reviews and forced moves)",
        props(unit = "fraction per month")
    )]
    SwitchingRate,
    /// Enterprises whose moved AI workloads changed billing channel.
    #[strum(
        serialize = "provider_switching_rate",
        message = "share of enterprises whose moved AI workloads changed billing channel (a provider marketplace, a lab's direct API, or outside)",
        props(unit = "fraction per month")
    )]
    ProviderSwitchingRate,
    /// Enterprises that moved cloud workloads.
    #[strum(
        serialize = "migration_rate",
        message = "share of enterprises that moved cloud workloads to another cloud or on-premises this month",
        props(unit = "fraction per month")
    )]
    MigrationRate,
    /// Enterprises whose primary AI vendor changed.
    #[strum(
        serialize = "primary_switching_rate",
        message = "share of enterprises whose primary AI vendor (the lab with most of their AI workloads) changed this month",
        props(unit = "fraction per month")
    )]
    PrimarySwitchingRate,
    /// Cloud workload units moved over all cloud units.
    #[strum(
        serialize = "workload_switching_rate",
        message = "cloud workloads moved this month over cloud workloads held (size-weighted units)",
        props(unit = "fraction per month")
    )]
    WorkloadSwitchingRate,
    /// Full exits from a provider per enterprise.
    #[strum(
        serialize = "full_exit_rate",
        message = "full exits (an enterprise's last workload leaving a provider) this month per enterprise: the CMA's account-level switching",
        props(unit = "per enterprise per month")
    )]
    FullExitRate,
    /// Enterprises using two or more clouds.
    #[strum(
        serialize = "multi_cloud_share",
        message = "share of enterprises with workloads on at least two clouds",
        props(unit = "fraction")
    )]
    MultiCloudShare,
    /// AI users using models of three or more labs.
    #[strum(
        serialize = "multi_model_share",
        message = "share of AI-using enterprises using models of at least three labs",
        props(unit = "fraction")
    )]
    MultiModelShare,
    /// On-premises share of cloud workloads.
    #[strum(
        serialize = "cloud_outside_share",
        message = "share of cloud-able workloads kept on-premises (the outside option), size-weighted",
        props(unit = "fraction")
    )]
    CloudOutsideShare,
    /// On-premises share of this month's new cloud projects.
    #[strum(
        serialize = "cloud_new_outside_share",
        message = "share of this month's new cloud project units placed on-premises",
        props(unit = "fraction")
    )]
    CloudNewOutsideShare,
    /// Outside share of AI workloads.
    #[strum(
        serialize = "ai_outside_share",
        message = "share of AI workloads outside the market (no AI, self-hosted), size-weighted",
        props(unit = "fraction")
    )]
    AiOutsideShare,
    /// Outside share of this month's new AI projects.
    #[strum(
        serialize = "ai_new_outside_share",
        message = "share of this month's new AI project units placed outside the market",
        props(unit = "fraction")
    )]
    AiNewOutsideShare,
    /// Own-price elasticity of new cloud demand.
    #[strum(
        serialize = "cloud_price_elasticity",
        message = "elasticity of new cloud project quantity to a uniform rise of every cloud's price, −β_c · (outside share of new units)",
        props(unit = "elasticity")
    )]
    CloudPriceElasticity,
    /// Own-price elasticity of new AI demand.
    #[strum(
        serialize = "ai_price_elasticity",
        message = "elasticity of new AI project quantity to a uniform rise of every AI option's price, −β_p · (outside share of new units)",
        props(unit = "elasticity")
    )]
    AiPriceElasticity,
    /// Enterprise AI spend.
    #[strum(
        serialize = "ai_spend_musd",
        message = "enterprise AI spend",
        props(unit = "US$ M per month")
    )]
    AiSpendMusd,
    /// Enterprise general-cloud spend.
    #[strum(
        serialize = "cloud_spend_musd",
        message = "enterprise general-cloud spend",
        props(unit = "US$ M per month")
    )]
    CloudSpendMusd,
    /// Share of enterprise AI spend ending as provider revenue.
    #[strum(
        serialize = "infrastructure_rent",
        message = "share of enterprise AI spend that ends up as provider revenue (all providers)",
        props(unit = "fraction")
    )]
    InfrastructureRent,
    /// Share of enterprise AI spend bought through direct APIs.
    #[strum(
        serialize = "direct_api_share",
        message = "share of enterprise AI spend bought through labs' direct APIs",
        props(unit = "fraction")
    )]
    DirectApiShare,
    /// Capacity-weighted mean compute price.
    #[strum(
        serialize = "mean_compute_price",
        message = "capacity-weighted mean compute price",
        props(unit = "US$ per GPU-hour")
    )]
    MeanComputePrice,
    /// Served compute over capacity.
    #[strum(
        serialize = "mean_utilisation",
        message = "served compute over capacity, all operating providers",
        props(unit = "fraction")
    )]
    MeanUtilisation,
    /// Best lab quality.
    #[strum(
        serialize = "frontier_quality",
        message = "best lab quality (log effective training compute)",
        props(unit = "log kGPU-months")
    )]
    FrontierQuality,
    /// Largest dependency of an operating lab on one provider.
    #[strum(
        serialize = "max_lab_dependency",
        message = "over operating labs, the largest provider's share of a lab's compute: the maximum",
        props(unit = "fraction")
    )]
    MaxLabDependency,
    /// Mean dependency of operating labs.
    #[strum(
        serialize = "mean_lab_dependency",
        message = "over operating labs, the largest provider's share of a lab's compute: the mean",
        props(unit = "fraction")
    )]
    MeanLabDependency,
    /// Served-compute-weighted Lerner index of providers' compute prices.
    #[strum(
        serialize = "mean_compute_lerner",
        message = "Lerner index (price − unit cost) / price of compute, weighted by served compute",
        props(unit = "fraction")
    )]
    MeanComputeLerner,
    /// Profit of all providers.
    #[strum(
        serialize = "provider_profit_musd",
        message = "providers' profit: revenue − variable cost of served compute − depreciation of capacity",
        props(unit = "US$ M per month")
    )]
    ProviderProfitMusd,
    /// Profit of all labs.
    #[strum(
        serialize = "lab_profit_musd",
        message = "labs' profit: enterprise revenue after revenue shares − compute bills − own data-centre cost",
        props(unit = "US$ M per month")
    )]
    LabProfitMusd,
    /// Consumer surplus of enterprises' AI workloads.
    #[strum(
        serialize = "consumer_surplus_ai_musd",
        message = "enterprises' AI consumer surplus over the outside option: log-sum over the marginal utility of money, × workloads",
        props(unit = "US$ M per month")
    )]
    ConsumerSurplusAiMusd,
    /// Consumer surplus of enterprises' cloud workloads.
    #[strum(
        serialize = "consumer_surplus_cloud_musd",
        message = "enterprises' cloud consumer surplus over on-premises: log-sum over the marginal utility of money, × workloads",
        props(unit = "US$ M per month")
    )]
    ConsumerSurplusCloudMusd,
    /// Reference over local marginal utility of money of the AI choice.
    #[strum(
        serialize = "ai_surplus_reference_ratio",
        message = "the AI surplus money metric's reference marginal utility of money over this month's own (1 at the initial offer; above 1, ΔCS in US$ understates what a small price change is worth at this month's prices by this factor)",
        props(unit = "ratio")
    )]
    AiSurplusReferenceRatio,
    /// The same for the cloud choice.
    #[strum(
        serialize = "cloud_surplus_reference_ratio",
        message = "the same for the general-cloud surplus",
        props(unit = "ratio")
    )]
    CloudSurplusReferenceRatio,
    /// This month's own marginal utility of money of the AI choice.
    #[strum(
        serialize = "ai_marginal_utility_of_money",
        message = "the AI choice's marginal utility of money at this month's prices, β Σ_k s_k/P_k / Σ_k s_k averaged over suites (compare converts surplus changes at the base's value of it)",
        props(unit = "utility per US$ per GPU-hour")
    )]
    AiMarginalUtilityOfMoney,
    /// The same for the cloud choice.
    #[strum(
        serialize = "cloud_marginal_utility_of_money",
        message = "the same for the general-cloud choice",
        props(unit = "utility per unit of price index")
    )]
    CloudMarginalUtilityOfMoney,
    /// Providers' general-cloud margin.
    #[strum(
        serialize = "cloud_profit_musd",
        message = "providers' general-cloud profit: (price index − implied unit cost) × workloads, at the value of a unit",
        props(unit = "US$ M per month")
    )]
    CloudProfitMusd,
    /// Welfare of the general-cloud layer.
    #[strum(
        serialize = "cloud_welfare_musd",
        message = "general-cloud welfare: cloud consumer surplus + providers' general-cloud profit",
        props(unit = "US$ M per month")
    )]
    CloudWelfareMusd,
    /// Unit-weighted mean general-cloud price index.
    #[strum(
        serialize = "mean_cloud_price_index",
        message = "general-cloud price index (1 = market average at the start), weighted by cloud workloads",
        props(unit = "index")
    )]
    MeanCloudPriceIndex,
    /// Unit-weighted Lerner index of general cloud.
    #[strum(
        serialize = "mean_cloud_lerner",
        message = "Lerner index (index − implied unit cost) / index of general cloud, weighted by cloud workloads",
        props(unit = "fraction")
    )]
    MeanCloudLerner,
    /// Marketplace margin weighted by marketplace compute.
    #[strum(
        serialize = "mean_marketplace_margin",
        message = "marketplace margin over the compute price, weighted by the compute served on each provider's marketplace (configured, or set by the providers under `pricing.margin_rule = \"best_response\"`)",
        props(unit = "fraction")
    )]
    MeanMarketplaceMargin,
    /// HHI of the cloud market by owner.
    #[strum(
        serialize = "hhi_owner_cloud",
        message = "HHI of the cloud market with named agents' shares summed by owner (shares.csv `owner`)",
        props(unit = "0–10,000")
    )]
    HhiOwnerCloud,
    /// HHI of the AI-channel market by owner.
    #[strum(
        serialize = "hhi_owner_ai_channel",
        message = "HHI of the AI-channel market with named agents' shares summed by owner (owners: `providers.<id>.owner`; a first-party lab counts with its provider's owner)",
        props(unit = "0–10,000")
    )]
    HhiOwnerAiChannel,
    /// HHI of the model market by owner.
    #[strum(
        serialize = "hhi_owner_model",
        message = "HHI of the model market with named agents' shares summed by owner",
        props(unit = "0–10,000")
    )]
    HhiOwnerModel,
    /// HHI of the compute market by owner.
    #[strum(
        serialize = "hhi_owner_compute",
        message = "HHI of the compute market with named agents' shares summed by owner (a lab's own data centres count with its owner)",
        props(unit = "0–10,000")
    )]
    HhiOwnerCompute,
    // ---- Ownership: owner CR3 and MHHI (partial stakes) ----
    /// CR3 of the cloud market by owner.
    #[strum(
        serialize = "cr3_owner_cloud",
        message = "share of the three largest owners of the cloud market (named agents' shares summed by owner)",
        props(unit = "fraction")
    )]
    Cr3OwnerCloud,
    /// CR3 of the AI-channel market by owner.
    #[strum(
        serialize = "cr3_owner_ai_channel",
        message = "share of the three largest owners of the AI-channel market (named agents' shares summed by owner)",
        props(unit = "fraction")
    )]
    Cr3OwnerAiChannel,
    /// CR3 of the model market by owner.
    #[strum(
        serialize = "cr3_owner_model",
        message = "share of the three largest owners of the model market (named agents' shares summed by owner)",
        props(unit = "fraction")
    )]
    Cr3OwnerModel,
    /// CR3 of the compute market by owner.
    #[strum(
        serialize = "cr3_owner_compute",
        message = "share of the three largest owners of the compute market (named agents' shares summed by owner)",
        props(unit = "fraction")
    )]
    Cr3OwnerCompute,
    /// Modified HHI of the cloud market (O'Brien–Salop, partial stakes).
    #[strum(
        serialize = "mhhi_cloud",
        message = "modified HHI of the cloud market: owner HHI plus O'Brien–Salop cross terms of partial stakes (`[[stakes]]`, control γ as configured, proportional by default)",
        props(unit = "0–10,000")
    )]
    MhhiCloud,
    /// Modified HHI of the AI-channel market (O'Brien–Salop, partial stakes).
    #[strum(
        serialize = "mhhi_ai_channel",
        message = "modified HHI of the AI-channel market: owner HHI plus O'Brien–Salop cross terms of partial stakes (`[[stakes]]`, control γ as configured, proportional by default)",
        props(unit = "0–10,000")
    )]
    MhhiAiChannel,
    /// Modified HHI of the model market (O'Brien–Salop, partial stakes).
    #[strum(
        serialize = "mhhi_model",
        message = "modified HHI of the model market: owner HHI plus O'Brien–Salop cross terms of partial stakes (`[[stakes]]`, control γ as configured, proportional by default)",
        props(unit = "0–10,000")
    )]
    MhhiModel,
    /// Modified HHI of the compute market (O'Brien–Salop, partial stakes).
    #[strum(
        serialize = "mhhi_compute",
        message = "modified HHI of the compute market: owner HHI plus O'Brien–Salop cross terms of partial stakes (`[[stakes]]`, control γ as configured, proportional by default)",
        props(unit = "0–10,000")
    )]
    MhhiCompute,
    /// HHI of the model market by hoster.
    #[strum(
        serialize = "hhi_model_hoster",
        message = "HHI of the model market by hoster: open-weight models hosted by a provider count for the hoster (`model` counts them for their origin lab)",
        props(unit = "0–10,000")
    )]
    HhiModelHoster,
    /// Share of the largest named agent of the model market by hoster.
    #[strum(
        serialize = "cr1_model_hoster",
        message = "share of the largest named agent of the model market by hoster",
        props(unit = "fraction")
    )]
    Cr1ModelHoster,
    /// Share of the three largest named agents of the model market by hoster.
    #[strum(
        serialize = "cr3_model_hoster",
        message = "share of the three largest named agents of the model market by hoster",
        props(unit = "fraction")
    )]
    Cr3ModelHoster,
    /// HHI of the model market by hoster with named agents' shares summed by owner.
    #[strum(
        serialize = "hhi_owner_model_hoster",
        message = "HHI of the model market by hoster with named agents' shares summed by owner",
        props(unit = "0–10,000")
    )]
    HhiOwnerModelHoster,
    /// Share of the three largest owners of the model market by hoster.
    #[strum(
        serialize = "cr3_owner_model_hoster",
        message = "share of the three largest owners of the model market by hoster",
        props(unit = "fraction")
    )]
    Cr3OwnerModelHoster,
    /// Modified HHI.
    #[strum(
        serialize = "mhhi_model_hoster",
        message = "modified HHI (partial stakes) of the model market by hoster",
        props(unit = "0–10,000")
    )]
    MhhiModelHoster,
    /// Share of enterprise AI spend on open-weight models.
    #[strum(
        serialize = "open_weight_share",
        message = "share of enterprise AI spend on open-weight models (open-weight labs' and released open models, wherever hosted)",
        props(unit = "fraction")
    )]
    OpenWeightShare,
    /// Total welfare.
    #[strum(
        serialize = "total_welfare_musd",
        message = "AI-layer welfare: AI consumer surplus + providers' and labs' profit",
        props(unit = "US$ M per month")
    )]
    TotalWelfareMusd,
}

impl Metric {
    /// Column name in `metrics.csv`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Unit of the series.
    pub fn unit(self) -> &'static str {
        self.get_str("unit").unwrap_or("")
    }

    /// One-line meaning of the series.
    pub fn description(self) -> &'static str {
        self.get_message().unwrap_or("")
    }

    /// Every metric in column order.
    pub fn all() -> impl Iterator<Item = Metric> {
        Metric::iter()
    }

    /// Every column name in column order.
    pub fn names() -> Vec<String> {
        Metric::iter().map(|m| m.name().to_string()).collect()
    }

    /// The metric of a column name, if any.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::iter().find(|m| m.name() == name)
    }

    /// Position in column order (the index into [`MetricValues`]).
    pub fn index(self) -> usize {
        self as usize
    }

    /// HHI of a market.
    pub fn hhi(market: Market) -> Metric {
        match market {
            Market::Cloud => Metric::HhiCloud,
            Market::AiChannel => Metric::HhiAiChannel,
            Market::Model => Metric::HhiModel,
            Market::Compute => Metric::HhiCompute,
            Market::ModelHoster => Metric::HhiModelHoster,
        }
    }

    /// HHI of a market by owner.
    pub fn hhi_owner(market: Market) -> Metric {
        match market {
            Market::Cloud => Metric::HhiOwnerCloud,
            Market::AiChannel => Metric::HhiOwnerAiChannel,
            Market::Model => Metric::HhiOwnerModel,
            Market::Compute => Metric::HhiOwnerCompute,
            Market::ModelHoster => Metric::HhiOwnerModelHoster,
        }
    }

    /// CR3 of a market by owner.
    pub fn cr3_owner(market: Market) -> Metric {
        match market {
            Market::Cloud => Metric::Cr3OwnerCloud,
            Market::AiChannel => Metric::Cr3OwnerAiChannel,
            Market::Model => Metric::Cr3OwnerModel,
            Market::Compute => Metric::Cr3OwnerCompute,
            Market::ModelHoster => Metric::Cr3OwnerModelHoster,
        }
    }

    /// Modified HHI (partial stakes) of a market.
    pub fn mhhi(market: Market) -> Metric {
        match market {
            Market::Cloud => Metric::MhhiCloud,
            Market::AiChannel => Metric::MhhiAiChannel,
            Market::Model => Metric::MhhiModel,
            Market::Compute => Metric::MhhiCompute,
            Market::ModelHoster => Metric::MhhiModelHoster,
        }
    }

    /// CR1 of a market.
    pub fn cr1(market: Market) -> Metric {
        match market {
            Market::Cloud => Metric::Cr1Cloud,
            Market::AiChannel => Metric::Cr1AiChannel,
            Market::Model => Metric::Cr1Model,
            Market::Compute => Metric::Cr1Compute,
            Market::ModelHoster => Metric::Cr1ModelHoster,
        }
    }

    /// CR3 of a market.
    pub fn cr3(market: Market) -> Metric {
        match market {
            Market::Cloud => Metric::Cr3Cloud,
            Market::AiChannel => Metric::Cr3AiChannel,
            Market::Model => Metric::Cr3Model,
            Market::Compute => Metric::Cr3Compute,
            Market::ModelHoster => Metric::Cr3ModelHoster,
        }
    }
}

/// One value per [`Metric`], stored at the metric's index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricValues([f64; Metric::COUNT]);

impl Default for MetricValues {
    fn default() -> Self {
        MetricValues([0.0; Metric::COUNT])
    }
}

impl MetricValues {
    /// Values in column order.
    pub fn values(&self) -> &[f64; Metric::COUNT] {
        &self.0
    }

    /// (metric, value) pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (Metric, f64)> + '_ {
        Metric::iter().map(|m| (m, self.0[m.index()]))
    }

    /// The first metric whose value is not finite, if any.
    pub fn first_non_finite(&self) -> Option<Metric> {
        self.iter().find(|(_, v)| !v.is_finite()).map(|(m, _)| m)
    }
}

impl Index<Metric> for MetricValues {
    type Output = f64;
    fn index(&self, m: Metric) -> &f64 {
        &self.0[m.index()]
    }
}

impl IndexMut<Metric> for MetricValues {
    fn index_mut(&mut self, m: Metric) -> &mut f64 {
        &mut self.0[m.index()]
    }
}

/// A quantity an event condition can watch: a metric, or a per-agent series of the agent table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// A `metrics.csv` column.
    Metric(Metric),
    /// `quality.<lab>`: a lab's model quality.
    Quality(String),
    /// `dependency.<lab>`: a lab's largest provider's share of its compute.
    Dependency(String),
    /// `rent.<provider>`: a provider's infrastructure rent share.
    Rent(String),
}

impl Watched {
    /// Parses a watched name (`hhi_cloud`, `quality.openai`, …); `None` if it names nothing.
    pub fn parse(name: &str) -> Option<Watched> {
        if let Some(m) = Metric::from_name(name) {
            return Some(Watched::Metric(m));
        }
        match name.split_once('.')? {
            ("quality", lab) => Some(Watched::Quality(lab.to_string())),
            ("dependency", lab) => Some(Watched::Dependency(lab.to_string())),
            ("rent", provider) => Some(Watched::Rent(provider.to_string())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_in_column_order_markets_first() {
        let names: Vec<&str> = Metric::all().map(Metric::name).collect();
        assert_eq!(names[0], "hhi_cloud");
        assert_eq!(names[3], "hhi_ai_channel");
        assert_eq!(names[12], "switching_rate");
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        for m in Market::all() {
            assert_eq!(Metric::hhi(m).name(), format!("hhi_{}", m.name()));
            assert_eq!(Metric::cr1(m).name(), format!("cr1_{}", m.name()));
            assert_eq!(Metric::cr3(m).name(), format!("cr3_{}", m.name()));
        }
    }

    #[test]
    fn every_metric_has_a_unit_and_a_description_and_parses_back() {
        for m in Metric::all() {
            assert!(!m.unit().is_empty() && !m.description().is_empty(), "{m:?}");
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        assert_eq!(Market::from_name("ai_channel"), Some(Market::AiChannel));
        assert_eq!(Market::from_name("clouds"), None);
    }

    #[test]
    fn values_are_stored_at_their_metric() {
        let mut v = MetricValues::default();
        v[Metric::MigrationRate] = 0.5;
        assert_eq!(v.values()[Metric::MigrationRate.index()], 0.5);
        assert_eq!(v.first_non_finite(), None);
        v[Metric::HhiModel] = f64::NAN;
        assert_eq!(v.first_non_finite(), Some(Metric::HhiModel));
    }

    #[test]
    fn watched_names_parse() {
        assert_eq!(Watched::parse("hhi_cloud"), Some(Watched::Metric(Metric::HhiCloud)));
        assert_eq!(Watched::parse("rent.aws"), Some(Watched::Rent("aws".into())));
        assert_eq!(Watched::parse("price.aws"), None);
        assert_eq!(Watched::parse("nonsense"), None);
    }
}
