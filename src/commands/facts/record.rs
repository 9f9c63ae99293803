//! What one run records for the stylized facts: the run-level metrics, and per tick the shares
//! of the cloud, model and compute markets by agent and each lab's dependency.

use std::collections::BTreeMap;

use crate::config::{Market, Metric, MetricValues};
use crate::sim::Observer;
use crate::sim::resources::TickReport;

/// Per-tick series of one run. An agent absent in a month (not yet entered) has share 0 there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactSeries {
    /// Run-level metrics per tick.
    pub metrics: Vec<MetricValues>,
    /// Cloud-market share (spend) per provider and tick.
    pub cloud: BTreeMap<String, Vec<f64>>,
    /// Model-market share per lab and tick.
    pub model: BTreeMap<String, Vec<f64>>,
    /// Compute-market share per provider and tick.
    pub compute: BTreeMap<String, Vec<f64>>,
    /// Largest provider's share of each lab's compute, per tick.
    pub dependency: BTreeMap<String, Vec<f64>>,
}

impl FactSeries {
    /// Number of ticks recorded.
    pub fn ticks(&self) -> usize {
        self.metrics.len()
    }

    /// The series of a metric.
    pub fn metric(&self, m: Metric) -> Vec<f64> {
        self.metrics.iter().map(|v| v[m]).collect()
    }

    /// The series of `agent` in `table`, zeros if it never appeared.
    pub fn of(table: &BTreeMap<String, Vec<f64>>, agent: &str, ticks: usize) -> Vec<f64> {
        table.get(agent).cloned().unwrap_or_else(|| vec![0.0; ticks])
    }
}

/// Appends `value` for `agent` at tick `t`, padding missed months with zeros.
fn push(table: &mut BTreeMap<String, Vec<f64>>, agent: &str, t: usize, value: f64) {
    let series = table.entry(agent.to_string()).or_default();
    series.resize(t, 0.0);
    series.push(value);
}

/// Pads every series to `len` ticks (agents that left or had no row this month).
fn pad(table: &mut BTreeMap<String, Vec<f64>>, len: usize) {
    for series in table.values_mut() {
        series.resize(len, 0.0);
    }
}

impl Observer for FactSeries {
    fn tick(&mut self, report: &TickReport) -> Result<(), String> {
        let t = self.metrics.len();
        self.metrics.push(report.metrics);
        for row in &report.shares {
            let table = match row.market {
                Market::Cloud => &mut self.cloud,
                Market::Model => &mut self.model,
                Market::Compute => &mut self.compute,
                Market::AiChannel | Market::ModelHoster => continue,
            };
            push(table, &row.agent, t, row.share);
        }
        for a in &report.agents {
            if let Some(d) = a.dependency {
                push(&mut self.dependency, &a.agent, t, d);
            }
        }
        for table in [
            &mut self.cloud,
            &mut self.model,
            &mut self.compute,
            &mut self.dependency,
        ] {
            pad(table, t + 1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_agents_are_padded_with_zeros_before_they_appear() {
        let mut table = BTreeMap::new();
        push(&mut table, "a", 0, 0.5);
        pad(&mut table, 1);
        push(&mut table, "b", 1, 0.25);
        push(&mut table, "a", 1, 0.4);
        pad(&mut table, 2);
        assert_eq!(table["a"], vec![0.5, 0.4]);
        assert_eq!(table["b"], vec![0.0, 0.25]);
        assert_eq!(FactSeries::of(&table, "c", 2), vec![0.0, 0.0]);
    }
}
