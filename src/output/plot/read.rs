//! Reading aimarket output directories: which kind a directory is, and its tables.
//!
//! - a run directory has `metrics.csv` and the run's `manifest.json`;
//! - a sweep directory has `summary.csv` and `points.csv` (and `runs.csv`, `manifest.json`);
//! - a compare directory has `comparison.csv` (and, with `--trajectories`, `trajectories.csv`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::PlotError;
use crate::config::Month;

/// The kind of an output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `aimarket run`.
    Run,
    /// `aimarket sweep`.
    Sweep,
    /// `aimarket compare`.
    Compare,
}

impl Kind {
    /// Name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
            Kind::Compare => "compare",
        }
    }
}

/// The kind of `dir`, from the files it holds.
pub fn detect(dir: &Path) -> Result<Kind, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::input(format!(
            "{}: no such directory; give the output directory of aimarket run, sweep or compare",
            dir.display()
        )));
    }
    let has = |f: &str| dir.join(f).is_file();
    if has("comparison.csv") {
        return Ok(Kind::Compare);
    }
    if has("summary.csv") || has("points.csv") {
        return Ok(Kind::Sweep);
    }
    if has("metrics.csv") && has("manifest.json") {
        return Ok(Kind::Run);
    }
    Err(PlotError::input(format!(
        "{}: not an aimarket output directory: expected metrics.csv and manifest.json (run), summary.csv and points.csv (sweep) or comparison.csv (compare)",
        dir.display()
    )))
}

/// A CSV table: its header and rows of strings.
#[derive(Debug, Clone)]
pub struct Table {
    /// File read (for messages).
    pub path: PathBuf,
    /// Column names.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads `dir/name`.
    pub fn read(dir: &Path, name: &str) -> Result<Table, PlotError> {
        let path = dir.join(name);
        let bad = |e: &dyn std::fmt::Display| PlotError::input(format!("{}: {e}", path.display()));
        let mut r = csv::Reader::from_path(&path).map_err(|e| bad(&e))?;
        let header: Vec<String> = r.headers().map_err(|e| bad(&e))?.iter().map(String::from).collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(&e))?;
            rows.push(rec.iter().map(String::from).collect());
        }
        Ok(Table { path, header, rows })
    }

    /// Index of a column, or an error naming the file.
    pub fn column(&self, name: &str) -> Result<usize, PlotError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            PlotError::input(format!(
                "{}: no column `{name}`; is it an aimarket output of this version?",
                self.path.display()
            ))
        })
    }

    /// The number in row `r`, column `c` (`None` if empty).
    pub fn number(&self, r: usize, c: usize) -> Result<Option<f64>, PlotError> {
        let cell = self.rows[r].get(c).map_or("", String::as_str);
        if cell.is_empty() {
            return Ok(None);
        }
        cell.parse::<f64>().map(Some).map_err(|_| {
            PlotError::input(format!(
                "{}: row {}, column `{}`: expected a number, got {cell:?}",
                self.path.display(),
                r + 2,
                self.header.get(c).map_or("?", String::as_str)
            ))
        })
    }
}

/// Reads `dir/manifest.json` if present.
pub fn manifest(dir: &Path) -> Result<Option<serde_json::Value>, PlotError> {
    let path = dir.join("manifest.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| PlotError::input(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PlotError::input(format!("{}: {e}", path.display()))),
    }
}

/// A run directory: the per-month metrics.
#[derive(Debug, Clone)]
pub struct RunData {
    /// Directory read.
    pub dir: PathBuf,
    /// Month of tick 0.
    pub start: Month,
    /// Ticks of the rows.
    pub ticks: Vec<f64>,
    /// Metric columns by name, in file order.
    pub columns: Vec<(String, Vec<f64>)>,
    /// Seed and enterprises from the manifest (for the title).
    pub seed: Option<u64>,
    /// Enterprises from the manifest.
    pub enterprises: Option<u64>,
}

/// Reads a run directory.
pub fn run(dir: &Path) -> Result<RunData, PlotError> {
    let t = Table::read(dir, "metrics.csv")?;
    let tick = t.column("tick")?;
    let date = t.column("date")?;
    let m = manifest(dir)?;
    let first_date = t.rows.first().and_then(|r| r.get(date)).cloned();
    let start = match first_date {
        Some(d) => {
            let first_tick = t.number(0, tick)?.unwrap_or(0.0);
            Month::parse(&d)
                .map_err(|e| PlotError::input(format!("{}: date: {e}", t.path.display())))?
                .plus(-(first_tick as i64))
        }
        None => return Err(PlotError::input(format!("{}: has no rows", t.path.display()))),
    };
    let mut ticks = Vec::with_capacity(t.rows.len());
    for r in 0..t.rows.len() {
        ticks.push(t.number(r, tick)?.unwrap_or(f64::NAN));
    }
    let mut columns = Vec::new();
    for (c, name) in t.header.iter().enumerate() {
        if c == tick || c == date {
            continue;
        }
        let mut v = Vec::with_capacity(t.rows.len());
        for r in 0..t.rows.len() {
            v.push(t.number(r, c)?.unwrap_or(f64::NAN));
        }
        columns.push((name.clone(), v));
    }
    Ok(RunData {
        dir: dir.to_path_buf(),
        start,
        ticks,
        columns,
        seed: m.as_ref().and_then(|m| m["seed"].as_u64()),
        enterprises: m.as_ref().and_then(|m| m["config"]["run"]["enterprises"].as_u64()),
    })
}

/// One swept axis: its name (the config key, or `scenario`) and each point's value.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Column name in points.csv.
    pub key: String,
    /// Value per point (as written).
    pub values: Vec<String>,
}

impl Axis {
    /// Short name: the last segment of the dotted key (`providers.*.egress_fee` → `egress_fee`).
    pub fn short(&self) -> &str {
        self.key.rsplit('.').next().unwrap_or(&self.key)
    }
}

/// A sweep directory.
#[derive(Debug, Clone)]
pub struct SweepData {
    /// Directory read.
    pub dir: PathBuf,
    /// Sweep file name from the manifest, if any.
    pub name: Option<String>,
    /// Month of tick 0 (from the manifest's base config), if known.
    pub start: Option<Month>,
    /// Number of points.
    pub points: usize,
    /// The axes (points.csv columns after `point`).
    pub axes: Vec<Axis>,
    /// Replicates per point (manifest), if known.
    pub replicates: Option<u64>,
}

impl SweepData {
    /// A point's label: `short=value` for every axis (full keys where short names clash).
    pub fn point_label(&self, point: usize) -> String {
        let mut shorts: Vec<&str> = self.axes.iter().map(Axis::short).collect();
        shorts.sort_unstable();
        let clash = shorts.windows(2).any(|w| w[0] == w[1]);
        self.axes
            .iter()
            .map(|a| {
                let name = if clash { a.key.as_str() } else { a.short() };
                let v = &a.values[point];
                if a.key == "scenario" {
                    scenario_name(v)
                } else {
                    format!("{name}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The axis named `name`: its key, or its short name if unique.
    pub fn axis(&self, name: &str) -> Result<usize, PlotError> {
        if let Some(i) = self.axes.iter().position(|a| a.key == name) {
            return Ok(i);
        }
        let by_short: Vec<usize> = (0..self.axes.len()).filter(|&i| self.axes[i].short() == name).collect();
        if by_short.len() == 1 {
            return Ok(by_short[0]);
        }
        let keys: Vec<&str> = self.axes.iter().map(|a| a.key.as_str()).collect();
        Err(PlotError::input(format!(
            "{name:?} was not swept in {}; swept axes: {}",
            self.dir.display(),
            if keys.is_empty() {
                "none".to_string()
            } else {
                keys.join(", ")
            }
        )))
    }
}

/// A scenario file's name without directories and `.toml`.
pub fn scenario_name(path: &str) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    base.strip_suffix(".toml").unwrap_or(base).to_string()
}

/// Reads a sweep directory's points and manifest.
pub fn sweep(dir: &Path) -> Result<SweepData, PlotError> {
    let p = Table::read(dir, "points.csv")?;
    let point = p.column("point")?;
    let axes: Vec<Axis> = p
        .header
        .iter()
        .enumerate()
        .filter(|(c, _)| *c != point)
        .map(|(c, key)| Axis {
            key: key.clone(),
            values: p.rows.iter().map(|r| r.get(c).cloned().unwrap_or_default()).collect(),
        })
        .collect();
    for (i, r) in p.rows.iter().enumerate() {
        if r.get(point).map(String::as_str) != Some(i.to_string().as_str()) {
            return Err(PlotError::input(format!(
                "{}: row {} should be point {i}",
                p.path.display(),
                i + 2
            )));
        }
    }
    let m = manifest(dir)?;
    let start = m
        .as_ref()
        .and_then(|m| m["base_config"]["run"]["start"].as_str().map(String::from))
        .map(|s| Month::parse(&s))
        .transpose()
        .map_err(|e| PlotError::input(format!("{}/manifest.json: base_config.run.start: {e}", dir.display())))?;
    Ok(SweepData {
        dir: dir.to_path_buf(),
        name: m.as_ref().and_then(|m| m["sweep_file"].as_str().map(scenario_name)),
        start,
        points: p.rows.len(),
        axes,
        replicates: m.as_ref().and_then(|m| m["counts"]["replicates"].as_u64()),
    })
}

/// A sweep's summary.csv: per (point, metric), the per-tick mean and interval.
pub type Summaries = HashMap<(usize, String), Vec<super::Point>>;

/// Reads summary.csv.
pub fn summaries(dir: &Path) -> Result<Summaries, PlotError> {
    let t = Table::read(dir, "summary.csv")?;
    let (point, tick, metric) = (t.column("point")?, t.column("tick")?, t.column("metric")?);
    let (mean, low, high) = (t.column("mean")?, t.column("ci_low")?, t.column("ci_high")?);
    let mut out: Summaries = HashMap::new();
    for r in 0..t.rows.len() {
        let p = t.number(r, point)?.unwrap_or(f64::NAN) as usize;
        let x = t.number(r, tick)?.unwrap_or(f64::NAN);
        out.entry((p, t.rows[r][metric].clone()))
            .or_default()
            .push(super::Point {
                x,
                y: t.number(r, mean)?.unwrap_or(f64::NAN),
                low: t.number(r, low)?,
                high: t.number(r, high)?,
            });
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    Ok(out)
}

/// One finished run of a sweep: its point and its `final_`/`mean_` values by column name.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// Point id.
    pub point: usize,
    /// Column → value.
    pub values: HashMap<String, f64>,
}

/// Reads runs.csv, keeping the runs whose status is `ok`.
pub fn sweep_runs(dir: &Path) -> Result<Vec<SweepRun>, PlotError> {
    let t = Table::read(dir, "runs.csv")?;
    let (point, status) = (t.column("point")?, t.column("status")?);
    let value_columns: Vec<usize> = (0..t.header.len())
        .filter(|&c| t.header[c].starts_with("final_") || t.header[c].starts_with("mean_"))
        .collect();
    let mut out = Vec::new();
    for r in 0..t.rows.len() {
        if t.rows[r][status] != "ok" {
            continue;
        }
        let mut values = HashMap::new();
        for &c in &value_columns {
            if let Some(v) = t.number(r, c)? {
                values.insert(t.header[c].clone(), v);
            }
        }
        out.push(SweepRun {
            point: t.number(r, point)?.unwrap_or(f64::NAN) as usize,
            values,
        });
    }
    Ok(out)
}

/// Per-month statistics of one compared quantity of one scenario (a trajectories.csv row).
#[derive(Debug, Clone)]
pub struct CompareMonth {
    /// Tick.
    pub tick: f64,
    /// Base mean and interval.
    pub base: super::Point,
    /// Scenario mean and interval.
    pub scenario: super::Point,
    /// Paired difference and interval.
    pub delta: super::Point,
}

/// A compare directory with trajectories.
#[derive(Debug, Clone)]
pub struct CompareData {
    /// Directory read.
    pub dir: PathBuf,
    /// The base's label (manifest), or `base`.
    pub base: String,
    /// Scenario labels in file order.
    pub scenarios: Vec<String>,
    /// Quantities in file order.
    pub quantities: Vec<String>,
    /// Month of tick 0.
    pub start: Month,
    /// Pairs per (scenario, quantity) (the last month's `replicates`).
    pub replicates: usize,
    /// (scenario, quantity) → months.
    pub months: HashMap<(String, String), Vec<CompareMonth>>,
}

/// Reads a compare directory's trajectories.csv.
pub fn compare(dir: &Path) -> Result<CompareData, PlotError> {
    let m = manifest(dir)?;
    let listed = m
        .as_ref()
        .and_then(|m| m["files"].as_array().map(|f| f.iter().any(|x| x == "trajectories.csv")));
    if !dir.join("trajectories.csv").is_file() || listed == Some(false) {
        return Err(PlotError::input(format!(
            "{}: a compare directory without trajectories.csv; re-run aimarket compare with --trajectories to write the per-month statistics a figure needs",
            dir.display()
        )));
    }
    let t = Table::read(dir, "trajectories.csv")?;
    let c = |n: &str| t.column(n);
    let (sc, q, tick, date) = (c("scenario")?, c("quantity")?, c("tick")?, c("date")?);
    let cols = [
        c("base_mean")?,
        c("base_ci_low")?,
        c("base_ci_high")?,
        c("scenario_mean")?,
        c("scenario_ci_low")?,
        c("scenario_ci_high")?,
        c("delta")?,
        c("delta_ci_low")?,
        c("delta_ci_high")?,
    ];
    let reps = c("replicates")?;
    let mut scenarios: Vec<String> = Vec::new();
    let mut quantities: Vec<String> = Vec::new();
    let mut months: HashMap<(String, String), Vec<CompareMonth>> = HashMap::new();
    let mut start = None;
    let mut replicates = 0usize;
    for r in 0..t.rows.len() {
        let row = &t.rows[r];
        if !scenarios.contains(&row[sc]) {
            scenarios.push(row[sc].clone());
        }
        if !quantities.contains(&row[q]) {
            quantities.push(row[q].clone());
        }
        let x = t.number(r, tick)?.unwrap_or(f64::NAN);
        if start.is_none() {
            start = Some(
                Month::parse(&row[date])
                    .map_err(|e| PlotError::input(format!("{}: date: {e}", t.path.display())))?
                    .plus(-(x as i64)),
            );
        }
        let v = |i: usize| t.number(r, cols[i]);
        let point = |i: usize| -> Result<super::Point, PlotError> {
            Ok(super::Point {
                x,
                y: v(i)?.unwrap_or(f64::NAN),
                low: v(i + 1)?,
                high: v(i + 2)?,
            })
        };
        replicates = replicates.max(t.number(r, reps)?.unwrap_or(0.0) as usize);
        months
            .entry((row[sc].clone(), row[q].clone()))
            .or_default()
            .push(CompareMonth {
                tick: x,
                base: point(0)?,
                scenario: point(3)?,
                delta: point(6)?,
            });
    }
    let Some(start) = start else {
        return Err(PlotError::input(format!("{}: has no rows", t.path.display())));
    };
    let base = m
        .as_ref()
        .and_then(|m| m["base"]["label"].as_str().map(String::from))
        .unwrap_or_else(|| "base".to_string());
    Ok(CompareData {
        dir: dir.to_path_buf(),
        base,
        scenarios,
        quantities,
        start,
        replicates,
        months,
    })
}
