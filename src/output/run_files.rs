//! The files of one run — metrics.csv, shares.csv, agents.csv, manifest.json — committed as a
//! whole set.
//!
//! The run streams its tables into a hidden staging directory inside the output directory
//! (`.aimarket-staging.*`), which is removed on every failure path (and, after a crash, by the
//! next run into that directory). When the run succeeds, every staged file (the manifest too)
//! is flushed to disk, then the set is committed:
//!
//! 1. `INCOMPLETE` is written (a plain note: the directory is being replaced);
//! 2. the old `manifest.json` is removed, so the old set no longer looks complete;
//! 3. the three tables are renamed into place, then `manifest.json` — the commit marker;
//! 4. `INCOMPLETE` is removed.
//!
//! So after any interruption the directory holds the complete previous set (the run failed
//! before step 1), the complete new set (after step 4), or a set marked `INCOMPLETE` with no
//! manifest of its own — never a mix that looks complete. A set is complete when
//! `manifest.json` is present and `INCOMPLETE` is not.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{self, Config, Metric};
use crate::sim::events::FiredEvent;
use crate::sim::resources::TickReport;
use crate::sim::{Observer, RunInfo};

/// Identifier of the enterprise choice kernel, recorded so that results can be traced to it.
pub const CHOICE_KERNEL: &str = "factorised-logit-inverse-cdf/1";

/// The git commit the binary was built from (`git rev-parse HEAD` in `build.rs`), or
/// `unknown` when it was built outside a git checkout or without git.
pub const GIT_COMMIT: &str = env!("AIMARKET_GIT_COMMIT");

/// Whether the tree the binary was built from had changes (`git status --porcelain`):
/// `true`, `false` or `unknown`.
pub const GIT_DIRTY: &str = env!("AIMARKET_GIT_DIRTY");

/// [`GIT_DIRTY`] as a JSON value: a boolean, or `null` when unknown.
pub fn git_dirty() -> Option<bool> {
    match GIT_DIRTY {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Name of the note present while (or because) a set of results is being replaced.
pub const INCOMPLETE_FILE: &str = "INCOMPLETE";

/// Prefix of the staging directory of a run in progress.
pub const STAGING_PREFIX: &str = ".aimarket-staging.";

/// Test hook: fail the commit after this many renames (0–3), to show the state a crash or a
/// full disk in the rename window leaves.
pub const FAIL_AFTER_RENAMES_ENV: &str = "AIMARKET_FAIL_AFTER_RENAMES";

/// Test hook: fail the run (as a full disk would) when writing this tick.
pub const FAIL_AT_TICK_ENV: &str = "AIMARKET_FAIL_AT_TICK";

const INCOMPLETE_NOTE: &str = "aimarket was replacing the results in this directory and did not finish:\n\
the files here may come from different runs. A complete set has a manifest.json and no\n\
INCOMPLETE file. Run again to write a complete set.\n";

const TABLES: [&str; 3] = ["metrics.csv", "shares.csv", "agents.csv"];

/// Shortest decimal that reads back as the same f64 (deterministic across runs and threads).
pub fn format_number(v: f64) -> String {
    format!("{v}")
}

fn opt(v: Option<f64>) -> String {
    v.map(format_number).unwrap_or_default()
}

type CsvOut = csv::Writer<BufWriter<File>>;

/// Streams a run's tables into a staging directory; [`RunWriter::finish`] commits them.
pub struct RunWriter {
    dir: PathBuf,
    staging: tempfile::TempDir,
    metrics: CsvOut,
    shares: CsvOut,
    agents: CsvOut,
    fail_at_tick: Option<u32>,
}

fn staged_csv(dir: &Path, name: &str, header: &[String]) -> std::io::Result<CsvOut> {
    let mut w = csv::Writer::from_writer(BufWriter::new(File::create(dir.join(name))?));
    w.write_record(header).map_err(std::io::Error::other)?;
    Ok(w)
}

/// Flushes a directory's entries (renames, removals) to disk.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes staging directories left by runs that were killed (the caller holds the lock).
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn env_number(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl RunWriter {
    /// Creates `dir` if needed, removes staging left by killed runs and starts the three CSV
    /// files in a new staging directory.
    pub fn create(dir: &Path) -> std::io::Result<RunWriter> {
        std::fs::create_dir_all(dir)?;
        remove_stale_staging(dir);
        let staging = tempfile::Builder::new().prefix(STAGING_PREFIX).tempdir_in(dir)?;
        let mut metric_header = vec!["tick".to_string(), "date".to_string()];
        metric_header.extend(Metric::names());
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = staging.path();
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            metrics: staged_csv(s, "metrics.csv", &metric_header)?,
            shares: staged_csv(
                s,
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
                    "owner",
                    "fringe",
                ]),
            )?,
            agents: staged_csv(
                s,
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
                    "unit_cost",
                    "profit_musd",
                    "lerner",
                    "cloud_price_index",
                    "cloud_lerner",
                    "marketplace_margin",
                ]),
            )?,
            staging,
            fail_at_tick: env_number(FAIL_AT_TICK_ENV),
        })
    }

    /// Writes the manifest and commits the whole set (see the module documentation). On an
    /// error before the commit starts the older results are untouched; during it, the
    /// directory is left marked `INCOMPLETE`. The staging directory is removed either way.
    pub fn finish(self, config: &Config, info: &RunInfo) -> std::io::Result<Vec<PathBuf>> {
        let staging = self.staging.path().to_path_buf();
        for w in [self.metrics, self.shares, self.agents] {
            let file = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        let manifest = RunManifest::new(config, info, TABLES.iter().map(|s| s.to_string()).collect());
        let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
        let mut m = File::create(staging.join("manifest.json"))?;
        m.write_all(&json)?;
        m.sync_all()?;
        drop(m);
        commit(&staging, &self.dir)
        // `self.staging` (now empty, or holding what was not renamed) is removed on drop.
    }
}

/// Steps 1–4 of the module documentation.
fn commit(staging: &Path, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let fail_after = env_number(FAIL_AFTER_RENAMES_ENV);
    let marker = dir.join(INCOMPLETE_FILE);
    let mut note = File::create(&marker)?;
    note.write_all(INCOMPLETE_NOTE.as_bytes())?;
    note.sync_all()?;
    drop(note);
    match std::fs::remove_file(dir.join("manifest.json")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    sync_dir(dir)?;
    let mut paths = Vec::new();
    for (renamed, name) in TABLES.iter().chain(["manifest.json"].iter()).enumerate() {
        if fail_after == Some(renamed as u32) {
            return Err(std::io::Error::other(format!(
                "injected failure after {renamed} renames ({FAIL_AFTER_RENAMES_ENV})"
            )));
        }
        let target = dir.join(name);
        std::fs::rename(staging.join(name), &target)?;
        paths.push(target);
    }
    sync_dir(dir)?;
    std::fs::remove_file(&marker)?;
    sync_dir(dir)?;
    Ok(paths)
}

impl Observer for RunWriter {
    fn tick(&mut self, r: &TickReport) -> Result<(), String> {
        if self.fail_at_tick == Some(r.tick) {
            return Err(format!("injected failure at tick {} ({FAIL_AT_TICK_ENV})", r.tick));
        }
        let tick = r.tick.to_string();
        let mut row = vec![tick.clone(), r.date.clone()];
        row.extend(r.metrics.values().iter().map(|v| format_number(*v)));
        self.metrics.write_record(&row).map_err(|e| e.to_string())?;
        // Shares of an empty market are undefined: blank, not zeros that cannot sum to one.
        let empty = |m| !r.shares.iter().any(|s| s.market == m && s.amount > 0.0);
        for s in &r.shares {
            let share = if empty(s.market) {
                String::new()
            } else {
                format_number(s.share)
            };
            self.shares
                .write_record([
                    tick.as_str(),
                    &r.date,
                    s.market.name(),
                    &s.agent,
                    &share,
                    &format_number(s.amount),
                    &format_number(s.quantity),
                    &format_number(s.quantity_share),
                    &opt(s.new_share),
                    &s.owner,
                    if s.fringe { "true" } else { "false" },
                ])
                .map_err(|e| e.to_string())?;
        }
        for a in &r.agents {
            self.agents
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
                    &format_number(a.unit_cost),
                    &format_number(a.profit_musd),
                    &format_number(a.lerner),
                    &opt(a.cloud_price_index),
                    &opt(a.cloud_lerner),
                    &opt(a.marketplace_margin),
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
    /// Git commit the binary was built from, or `unknown`.
    pub git_commit: &'static str,
    /// Whether that tree had uncommitted changes (`null`: unknown).
    pub git_dirty: Option<bool>,
    /// SHA-256 of the resolved config (its JSON serialisation).
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
    /// The outside options' utilities at tick 0 (calibrated, or as configured).
    pub calibration: crate::sim::run::Calibration,
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
            git_commit: GIT_COMMIT,
            git_dirty: git_dirty(),
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
            calibration: info.calibration,
            wall_seconds: info.wall_seconds,
            config: config.clone(),
        }
    }
}
