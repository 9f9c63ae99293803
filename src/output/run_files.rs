//! The files of one run — metrics.csv, shares.csv, agents.csv, manifest.json — written as the
//! run goes under temporary names and renamed into place when it succeeds.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::atomic::StagedFile;
use crate::config::{self, Config, Metric};
use crate::sim::events::FiredEvent;
use crate::sim::resources::TickReport;
use crate::sim::{Observer, RunInfo};

/// Identifier of the enterprise choice kernel, recorded so that results can be traced to it.
pub const CHOICE_KERNEL: &str = "factorised-logit-inverse-cdf/1";

/// Shortest decimal that reads back as the same f64 (deterministic across runs and threads).
pub fn format_number(v: f64) -> String {
    format!("{v}")
}

fn opt(v: Option<f64>) -> String {
    v.map(format_number).unwrap_or_default()
}

type CsvOut = csv::Writer<BufWriter<File>>;

/// Streams a run's tables to staged files.
pub struct RunWriter {
    dir: PathBuf,
    metrics: (StagedFile, CsvOut),
    shares: (StagedFile, CsvOut),
    agents: (StagedFile, CsvOut),
}

fn staged_csv(dir: &Path, name: &str, header: &[String]) -> std::io::Result<(StagedFile, CsvOut)> {
    let staged = StagedFile::new(dir, name)?;
    let mut w = csv::Writer::from_writer(staged.writer()?);
    w.write_record(header).map_err(std::io::Error::other)?;
    Ok((staged, w))
}

impl RunWriter {
    /// Creates `dir` if needed and starts the three CSV files.
    pub fn create(dir: &Path) -> std::io::Result<RunWriter> {
        std::fs::create_dir_all(dir)?;
        let mut metric_header = vec!["tick".to_string(), "date".to_string()];
        metric_header.extend(Metric::names());
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            metrics: staged_csv(dir, "metrics.csv", &metric_header)?,
            shares: staged_csv(
                dir,
                "shares.csv",
                &strings(&[
                    "tick",
                    "date",
                    "market",
                    "agent",
                    "share",
                    "amount",
                    "quantity",
                    "quantity_share",
                    "new_share",
                ]),
            )?,
            agents: staged_csv(
                dir,
                "agents.csv",
                &strings(&[
                    "tick",
                    "date",
                    "kind",
                    "agent",
                    "price",
                    "capacity_kgpu",
                    "utilisation",
                    "revenue_musd",
                    "rent_share",
                    "quality",
                    "dependency",
                    "compute_kgpu",
                ]),
            )?,
        })
    }

    /// Writes the manifest and renames all four files into place (manifest last).
    pub fn finish(self, config: &Config, info: &RunInfo) -> std::io::Result<Vec<PathBuf>> {
        let mut staged = Vec::new();
        for (file, mut w) in [self.metrics, self.shares, self.agents] {
            w.flush()?;
            drop(w);
            staged.push(file);
        }
        let manifest = RunManifest::new(config, info, staged.iter().map(|s| file_name(s.target())).collect());
        let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
        let mut paths = Vec::new();
        for s in staged {
            paths.push(s.commit()?);
        }
        paths.push(super::atomic::write_atomic(&self.dir, "manifest.json", &json)?);
        Ok(paths)
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Observer for RunWriter {
    fn tick(&mut self, r: &TickReport) -> Result<(), String> {
        let tick = r.tick.to_string();
        let mut row = vec![tick.clone(), r.date.clone()];
        row.extend(r.metrics.values().iter().map(|v| format_number(*v)));
        self.metrics.1.write_record(&row).map_err(|e| e.to_string())?;
        for s in &r.shares {
            self.shares
                .1
                .write_record([
                    &tick,
                    &r.date,
                    s.market.name(),
                    &s.agent,
                    &format_number(s.share),
                    &format_number(s.amount),
                    &format_number(s.quantity),
                    &format_number(s.quantity_share),
                    &opt(s.new_share),
                ])
                .map_err(|e| e.to_string())?;
        }
        for a in &r.agents {
            self.agents
                .1
                .write_record([
                    tick.as_str(),
                    &r.date,
                    a.kind,
                    &a.agent,
                    &format_number(a.price),
                    &format_number(a.capacity_kgpu),
                    &format_number(a.utilisation),
                    &format_number(a.revenue_musd),
                    &opt(a.rent_share),
                    &opt(a.quality),
                    &opt(a.dependency),
                    &format_number(a.compute_kgpu),
                ])
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Counts of agents in a run.
#[derive(Debug, Clone, Serialize)]
pub struct AgentCounts {
    /// Providers.
    pub providers: usize,
    /// Labs.
    pub labs: usize,
    /// Enterprises.
    pub enterprises: u32,
    /// Contracts at the start.
    pub contracts: usize,
    /// Configured events.
    pub events: usize,
}

/// manifest.json of a run: everything needed to reproduce and trace it.
#[derive(Debug, Clone, Serialize)]
pub struct RunManifest {
    /// aimarket version.
    pub aimarket_version: &'static str,
    /// Enterprise choice kernel identifier.
    pub choice_kernel: &'static str,
    /// SHA-256 of the resolved config (TOML form).
    pub config_hash: String,
    /// Seed.
    pub seed: u64,
    /// Ticks.
    pub ticks: u32,
    /// First month.
    pub start: String,
    /// Agent counts.
    pub agents: AgentCounts,
    /// Files written with this manifest.
    pub files: Vec<String>,
    /// Events that fired.
    pub events_fired: Vec<FiredEvent>,
    /// Wall time, seconds (the only field that differs between identical runs).
    pub wall_seconds: f64,
    /// The fully resolved config.
    pub config: Config,
}

impl RunManifest {
    /// Manifest of a finished run.
    pub fn new(config: &Config, info: &RunInfo, files: Vec<String>) -> RunManifest {
        RunManifest {
            aimarket_version: env!("CARGO_PKG_VERSION"),
            choice_kernel: CHOICE_KERNEL,
            config_hash: config::hash(config),
            seed: config.run.seed,
            ticks: config.run.ticks,
            start: config.run.start.clone(),
            agents: AgentCounts {
                providers: config.providers.len(),
                labs: config.labs.len(),
                enterprises: config.run.enterprises,
                contracts: config.contracts.len(),
                events: config.events.len(),
            },
            files,
            events_fired: info.events.clone(),
            wall_seconds: info.wall_seconds,
            config: config.clone(),
        }
    }
}
