//! Names of the run-level series written to `metrics.csv` (one value per tick each).
//!
//! The order here is the column order. Event conditions (`when.metric`) and sweep summaries
//! refer to series by these names.

use crate::config::Config;

/// The four markets whose concentration is measured.
pub const MARKETS: [&str; 4] = ["cloud", "ai_channel", "model", "compute"];

/// Run-level series other than the per-market concentration measures.
pub const RUN_SERIES: [&str; 12] = [
    "switching_rate",
    "provider_switching_rate",
    "migration_rate",
    "ai_spend_musd",
    "cloud_spend_musd",
    "infrastructure_rent",
    "direct_api_share",
    "mean_compute_price",
    "mean_utilisation",
    "frontier_quality",
    "max_lab_dependency",
    "mean_lab_dependency",
];

/// All metric names in column order: `hhi_<m>`, `cr1_<m>`, `cr3_<m>` per market, then
/// [`RUN_SERIES`].
pub fn metric_names() -> Vec<String> {
    let mut names = Vec::with_capacity(MARKETS.len() * 3 + RUN_SERIES.len());
    for m in MARKETS {
        names.push(format!("hhi_{m}"));
        names.push(format!("cr1_{m}"));
        names.push(format!("cr3_{m}"));
    }
    names.extend(RUN_SERIES.iter().map(|s| s.to_string()));
    names
}

/// Column index of a metric, if it exists.
pub fn metric_index(name: &str) -> Option<usize> {
    metric_names().iter().position(|n| n == name)
}

/// Whether `name` is a metric an event condition can watch: a metrics column, or
/// `quality.<lab>`, `dependency.<lab>`, `rent.<provider>`.
pub fn is_known_metric(name: &str, config: &Config) -> bool {
    if metric_index(name).is_some() {
        return true;
    }
    match name.split_once('.') {
        Some(("quality" | "dependency", lab)) => config.labs.contains_key(lab),
        Some(("rent", provider)) => config.providers.contains_key(provider),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_ordered_by_market_first() {
        let names = metric_names();
        assert_eq!(names[0], "hhi_cloud");
        assert_eq!(names[3], "hhi_ai_channel");
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert_eq!(metric_index("switching_rate"), Some(12));
    }
}
