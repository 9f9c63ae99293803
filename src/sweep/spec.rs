//! The sweep file: parsing, validation and resolution into a plan of points.
//!
//! Everything a sweep file can get wrong is found here, before any run starts. The file's shape
//! is a set of `Deserialize` structs that deny unknown fields, read through
//! `serde_path_to_error` so that a wrong type or an unknown key is reported with its path
//! (`axes[1].range.levels`). What serde cannot see is checked afterwards with its own message:
//! missing keys that need an example, malformed axes, a design without points, and axis keys
//! that do not exist in the base config (or in a scenario). Each message names the file, the key
//! and the bad value. What is *not* checked here is whether the model accepts a point's values: a
//! point the model rejects (say `review_probability = 1.5`) becomes failed runs with the
//! validator's message, so one bad corner of a design does not cost the rest of the sweep.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::design::{self, Coord, Dim, Kind};
use super::sensitivity_design::{self, SensitivityDesign};
use super::shard::{Shard, Span};
use crate::config::{self, ConfigError, relative_to};
use crate::output::format_number;

/// Upper bound on the number of points, so that a typo (a 10-axis grid of 100 levels) fails
/// with a message instead of exhausting memory while the point list is built.
const MAX_POINTS: usize = 10_000_000;

/// How run seeds are drawn from the master seed (`seeds = "common" | "independent"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedPolicy {
    /// Common random numbers (the default): replicate r of every point and scenario has the
    /// seed `derive_seed(master, 0, r)`, as in `aimarket compare`, so differences between
    /// points are paired.
    Common,
    /// Every run its own seed, `derive_seed(master, point, replicate)` (what every sweep did
    /// before common random numbers became the default).
    Independent,
}

impl SeedPolicy {
    /// The name written in sweep files and manifests.
    pub fn name(self) -> &'static str {
        match self {
            SeedPolicy::Common => "common",
            SeedPolicy::Independent => "independent",
        }
    }

    /// The rule, as recorded in the manifest.
    pub fn rule(self) -> &'static str {
        match self {
            SeedPolicy::Common => {
                "common random numbers: run seed = derive_seed(master_seed, 0, replicate) (src/sim/rng.rs), the same for every point and scenario; recorded per run in runs.csv"
            }
            SeedPolicy::Independent => {
                "independent: run seed = derive_seed(master_seed, point, replicate) (src/sim/rng.rs); recorded per run in runs.csv"
            }
        }
    }
}

/// One config a point can start from: the base, or one scenario file.
#[derive(Debug, Clone)]
pub struct Start {
    /// The path as written in the sweep file (what points.csv shows).
    pub label: String,
    /// The path resolved against the sweep file's directory.
    pub path: PathBuf,
    /// The file's table with the sweep's `set` overrides applied.
    pub table: toml::Table,
    /// SHA-256 of the resolved config (file plus `set`) in its JSON form ([`config::hash`]), for
    /// resume checks and the manifest.
    pub hash: String,
    /// The resolved config (file plus `set`).
    pub config: config::Config,
}

/// How an axis's values are given.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisValues {
    /// Explicit values, used as given.
    List(Vec<toml::Value>),
    /// A numeric range: `levels` evenly spaced values on a grid, continuous draws otherwise.
    Range {
        /// Lower end (inclusive).
        min: f64,
        /// Upper end (inclusive on a grid).
        max: f64,
        /// Number of grid levels (required for a grid design).
        levels: Option<usize>,
    },
}

/// A swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted config key, as with `run --set` (may contain `*`).
    pub key: String,
    /// Values or range.
    pub values: AxisValues,
    /// Whether the key holds an integer in the base config (range values are then rounded).
    pub integer: bool,
}

impl Axis {
    fn value_at(&self, coord: Coord) -> toml::Value {
        let number = |x: f64| {
            if self.integer {
                toml::Value::Integer(x.round() as i64)
            } else {
                toml::Value::Float(x)
            }
        };
        match (&self.values, coord) {
            (AxisValues::List(values), Coord::Index(i)) => values[i].clone(),
            (AxisValues::Range { min, max, levels }, Coord::Index(i)) => {
                let steps = levels.unwrap_or(2).saturating_sub(1).max(1) as f64;
                // Hit both ends exactly rather than accumulating rounding error.
                let x = if i == 0 {
                    *min
                } else if i as f64 == steps {
                    *max
                } else {
                    min + (max - min) * (i as f64 / steps)
                };
                number(x)
            }
            (AxisValues::Range { min, max, .. }, Coord::Unit(u)) => number(min + (max - min) * u),
            (AxisValues::List(values), Coord::Unit(u)) => {
                values[((u * values.len() as f64) as usize).min(values.len() - 1)].clone()
            }
        }
    }
}

/// One design point: where it starts and the value of every axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index into [`Plan::starts`] (0 = the base when there is no scenario axis).
    pub start: usize,
    /// One value per axis, in axis order.
    pub values: Vec<toml::Value>,
}

/// A validated sweep: what to run and how to label it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The sweep file as given on the command line.
    pub file: PathBuf,
    /// SHA-256 of the sweep file's bytes.
    pub file_hash: String,
    /// The base config (with `set` applied).
    pub base: Start,
    /// The scenario configs (with `set` applied); empty when there is no scenario axis.
    pub scenarios: Vec<Start>,
    /// Fixed overrides applied to every point before the axes.
    pub set: Vec<(String, toml::Value)>,
    /// The swept parameters.
    pub axes: Vec<Axis>,
    /// The design.
    pub design: Kind,
    /// Replicates per point.
    pub replicates: u64,
    /// Master seed from which every run seed is derived.
    pub seed: u64,
    /// How run seeds are derived from it.
    pub seeds: SeedPolicy,
    /// The design points, in point-id order.
    pub points: Vec<Point>,
    /// For a Morris or Sobol' design: its record (point id = design row).
    pub sensitivity: Option<SensitivityDesign>,
    /// The shard of the design this session runs (`--shard`); `None`: all of it. Set by the
    /// caller after [`load`]; it changes which runs execute, never their results.
    pub shard: Option<Shard>,
}

impl Plan {
    /// Total number of runs.
    pub fn runs(&self) -> u64 {
        self.points.len() as u64 * self.replicates
    }

    /// The points and runs this session runs: the whole design, or the plan's shard.
    pub fn span(&self) -> Span {
        Span::new(self.shard, self.points.len() as u64, self.replicates)
    }

    /// Whether the scenario files form an axis.
    pub fn has_scenarios(&self) -> bool {
        !self.scenarios.is_empty()
    }

    /// The config tables a point may start from.
    pub fn starts(&self) -> &[Start] {
        if self.has_scenarios() {
            &self.scenarios
        } else {
            std::slice::from_ref(&self.base)
        }
    }

    /// The seed of a (point, replicate) under the plan's [`SeedPolicy`]. With independent
    /// seeds, a Morris or Sobol' design still shares seeds within a base sample or trajectory
    /// (an inert parameter must have exactly zero effect; see `sensitivity_design`).
    pub fn run_seed(&self, point: u64, replicate: u64) -> u64 {
        match self.seeds {
            SeedPolicy::Common => crate::sim::rng::derive_seed(self.seed, 0, replicate),
            SeedPolicy::Independent => {
                let seed_point = self.sensitivity.as_ref().map_or(point, |d| d.seed_point(point));
                crate::sim::rng::derive_seed(self.seed, seed_point, replicate)
            }
        }
    }

    /// The seed rule, as recorded in the manifest.
    pub fn seed_rule(&self) -> &'static str {
        match (self.seeds, &self.sensitivity) {
            (SeedPolicy::Independent, Some(_)) => {
                "independent within a sensitivity design: run seed = derive_seed(master_seed, seed_point, replicate) (src/sim/rng.rs), \
                 seed_point = the point itself, except AB_ij takes A_j's (sobol) and every point of a trajectory takes its start's (morris) \
                 (src/sweep/sensitivity_design.rs); recorded per run in runs.csv"
            }
            (policy, _) => policy.rule(),
        }
    }

    /// The resolved table of a point (start config, `set`, then axis values); `run.seed` is
    /// left to the caller.
    pub fn point_table(&self, point: usize) -> Result<toml::Table, String> {
        let p = &self.points[point];
        let mut table = self.starts()[p.start].table.clone();
        for (axis, value) in self.axes.iter().zip(&p.values) {
            config::set_key(&mut table, &axis.key, value.clone()).map_err(|e| format!("{} {e}", axis.key))?;
        }
        Ok(table)
    }

    /// The first month of a point (its `run.start`); `None` when the point's table has no
    /// valid one (its runs fail).
    pub fn point_start(&self, point: usize) -> Option<config::Month> {
        let table = self.point_table(point).ok()?;
        config::Month::parse(config::get_key(&table, "run.start")?.as_str()?).ok()
    }

    /// The name of scenario `i` in points.csv: its file stem (`eu_data_act`), or the path as
    /// written when two scenarios share a stem.
    pub fn scenario_name(&self, i: usize) -> &str {
        let stem = |s: &Start| s.path.file_stem().and_then(|x| x.to_str()).map(str::to_owned);
        let me = &self.scenarios[i];
        match me.path.file_stem().and_then(|x| x.to_str()) {
            Some(name)
                if self
                    .scenarios
                    .iter()
                    .filter(|s| stem(s).as_deref() == Some(name))
                    .count()
                    == 1 =>
            {
                name
            }
            _ => &me.label,
        }
    }

    /// The resolved, validated config of one run: its point's table with `run.seed` = `seed`.
    /// An error is the validator's message naming the point.
    pub fn run_config(&self, point: usize, seed: u64) -> Result<config::Config, String> {
        let table = self.point_table(point)?;
        let label = format!("{} point {point}", self.file.display());
        let mut config = config::from_table(table, &label).map_err(|e| e.to_string())?;
        config.run.seed = seed;
        Ok(config)
    }
}

/// A scalar TOML value as written to CSV (and as `run --set` reads it back).
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) => format_number(*f),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A value quoted for an error message.
fn shown(v: &toml::Value) -> String {
    let text = v.to_string();
    if text.len() > 60 {
        format!(
            "{}…",
            &text[..text.char_indices().nth(57).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

/// The sweep file as written: its shape only. Keys whose absence needs a tailored message
/// (`base`) are optional here and checked in [`load`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    base: Option<String>,
    scenarios: Option<Vec<String>>,
    design: Option<Kind>,
    points: Option<Count>,
    /// Sobol' base samples N.
    base_samples: Option<Count>,
    /// Morris trajectories r.
    trajectories: Option<Count>,
    /// Morris grid levels p.
    levels: Option<Count>,
    replicates: Option<Count>,
    seed: Option<Count>,
    seeds: Option<SeedPolicy>,
    /// Dotted key → value, in the file's order (`toml` preserves it).
    set: Option<toml::Table>,
    axes: Option<Vec<AxisFile>>,
}

/// One `[[axes]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an [[axes]] table with `key` and `values` or `range`"
)]
struct AxisFile {
    key: Option<String>,
    values: Option<Vec<toml::Value>>,
    range: Option<RangeFile>,
}

/// `range = { min, max, levels }` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table `{ min, max, levels }`")]
struct RangeFile {
    min: Option<Number>,
    max: Option<Number>,
    levels: Option<Count>,
}

/// A non-negative integer (TOML integers are signed; this says so when one is negative).
#[derive(Debug, Clone, Copy)]
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Count, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                u64::try_from(v)
                    .map(Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number, integer or float (finiteness is checked with the key's own message).
#[derive(Debug, Clone, Copy)]
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads the file's table into [`SweepFile`]; a wrong type or unknown key names its path.
fn parse(table: toml::Table, file: &str) -> Result<SweepFile, ConfigError> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(
        |e: serde_path_to_error::Error<toml::de::Error>| {
            let path = e.path().to_string();
            let message = e.inner().message().trim();
            // An unknown top-level key has no path of its own: the message names it.
            if path == "." {
                ConfigError::new(file, "", message)
            } else {
                ConfigError::new(file, &path, format!("is invalid: {message}"))
            }
        },
    )
}

struct Reader<'a> {
    file: &'a str,
}

impl Reader<'_> {
    fn err(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, key, problem)
    }

    fn positive(&self, key: &str, n: Count) -> Result<u64, ConfigError> {
        if n.0 == 0 {
            return Err(self.err(key, "must be at least 1, got 0"));
        }
        Ok(n.0)
    }

    fn finite(&self, key: &str, x: Option<Number>) -> Result<f64, ConfigError> {
        match x {
            None => Err(self.err(key, "is missing")),
            Some(Number(x)) if x.is_finite() => Ok(x),
            Some(Number(x)) => Err(self.err(
                key,
                format!("must be a finite number, got {}", shown(&toml::Value::Float(x))),
            )),
        }
    }
}

/// Reads and validates a sweep file. Nothing runs if this fails.
pub fn load(path: &Path) -> Result<Plan, ConfigError> {
    let file = path.display().to_string();
    let text = match config::embedded::read(path) {
        Some(text) => text.to_string(),
        None => {
            let bytes = std::fs::read(path).map_err(|e| ConfigError::new(&file, "", format!("cannot be read: {e}")))?;
            String::from_utf8(bytes).map_err(|_| ConfigError::new(&file, "", "is not UTF-8 text"))?
        }
    };
    let sweep = parse(config::parse_table(&text, &file)?, &file)?;
    let r = Reader { file: &file };

    // Fixed overrides, applied to every start config before the axes.
    let mut set = Vec::new();
    for (key, value) in sweep.set.unwrap_or_default() {
        if key == "run.seed" {
            return Err(r.err(
                &format!("set.\"{key}\""),
                "cannot be set: run seeds are derived from the sweep's `seed`",
            ));
        }
        set.push((key, value));
    }

    let Some(base_label) = sweep.base else {
        return Err(r.err(
            "base",
            "is missing: name the config the sweep starts from, e.g. base = \"../baseline.toml\"",
        ));
    };
    let base = load_start(&r, path, "base", &base_label, &set)?;

    let mut scenarios = Vec::new();
    if let Some(list) = sweep.scenarios {
        if list.is_empty() {
            return Err(r.err(
                "scenarios",
                "must list at least one config file (or be left out), got []",
            ));
        }
        for (i, label) in list.iter().enumerate() {
            let key = format!("scenarios[{i}]");
            if scenarios.iter().any(|s: &Start| &s.label == label) {
                return Err(r.err(&key, format!("lists \"{label}\" twice")));
            }
            scenarios.push(load_start(&r, path, &key, label, &set)?);
        }
    }

    let design = sweep.design.unwrap_or(Kind::Grid);
    let replicates = match sweep.replicates {
        Some(n) => r.positive("replicates", n)?,
        None => 1,
    };
    let seed = sweep.seed.map_or(base.config.run.seed, |s| s.0);

    let starts: Vec<&Start> = if scenarios.is_empty() {
        vec![&base]
    } else {
        scenarios.iter().collect()
    };
    let mut axes: Vec<Axis> = Vec::new();
    for (i, item) in sweep.axes.unwrap_or_default().into_iter().enumerate() {
        let axis = read_axis(&r, i, item, design, &starts)?;
        if let Some(j) = axes.iter().position(|a| a.key == axis.key) {
            return Err(r.err(
                &format!("axes[{i}].key"),
                format!("\"{}\" is already swept by axes[{j}]", axis.key),
            ));
        }
        axes.push(axis);
    }

    // Dimensions: the scenario axis first (so scenarios vary slowest on a grid), then the axes.
    let mut dims = Vec::new();
    if !scenarios.is_empty() {
        dims.push(Dim::Discrete(scenarios.len()));
    }
    for a in &axes {
        dims.push(match (&a.values, design) {
            (AxisValues::List(v), _) => Dim::Discrete(v.len()),
            (AxisValues::Range { levels, .. }, Kind::Grid) => Dim::Discrete(levels.unwrap_or(2)),
            (AxisValues::Range { .. }, _) => Dim::Continuous,
        });
    }
    let sizes = sensitivity_design::Sizes {
        points: sweep.points.map(|c| c.0),
        base_samples: sweep.base_samples.map(|c| c.0),
        trajectories: sweep.trajectories.map(|c| c.0),
        levels: sweep.levels.map(|c| c.0),
        scenarios: !scenarios.is_empty(),
    };
    // Checks the Morris/Sobol' keys for every design; builds the design for those two.
    let resolved = sensitivity_design::resolve(&file, design, &axes, &sizes, seed, MAX_POINTS)?;
    let mut sensitivity = None;
    let coords = match design {
        Kind::Morris | Kind::Sobol => {
            let (record, coords) = resolved.expect("Morris and Sobol' designs resolve to one");
            sensitivity = Some(record);
            coords
        }
        Kind::Grid => {
            if let Some(n) = sweep.points {
                let n = r.positive("points", n)?;
                return Err(r.err(
                    "points",
                    format!(
                        "is only for random and lhs designs (a grid has one point per combination of levels), got {n}"
                    ),
                ));
            }
            let levels: Vec<usize> = dims
                .iter()
                .map(|d| if let Dim::Discrete(k) = d { *k } else { 1 })
                .collect();
            match design::grid_size(&levels) {
                Some(n) if n <= MAX_POINTS => design::grid(&levels),
                _ => {
                    return Err(r.err("axes", format!("make a grid of more than {MAX_POINTS} points (levels {levels:?}); use fewer levels or a random/lhs design")));
                }
            }
        }
        Kind::Random | Kind::Lhs => {
            let n = match sweep.points {
                Some(n) => r.positive("points", n)?,
                None => {
                    return Err(r.err(
                        "points",
                        format!(
                            "is missing: design = \"{}\" needs a number of points, e.g. points = 20",
                            design.name()
                        ),
                    ));
                }
            };
            if n > MAX_POINTS as u64 {
                return Err(r.err("points", format!("must be at most {MAX_POINTS}, got {n}")));
            }
            if design == Kind::Random {
                design::random(&dims, n as usize, seed)
            } else {
                design::lhs(&dims, n as usize, seed)
            }
        }
    };
    if (coords.len() as u64)
        .checked_mul(replicates)
        .is_none_or(|runs| runs > u64::from(u32::MAX))
    {
        return Err(r.err(
            "replicates",
            format!("make too many runs ({} points × {replicates})", coords.len()),
        ));
    }
    let points = coords
        .into_iter()
        .map(|c| {
            let (start, rest) = if scenarios.is_empty() {
                (0, &c[..])
            } else {
                match c[0] {
                    Coord::Index(i) => (i, &c[1..]),
                    Coord::Unit(_) => unreachable!("the scenario dimension is discrete"),
                }
            };
            Point {
                start,
                values: axes.iter().zip(rest).map(|(a, &coord)| a.value_at(coord)).collect(),
            }
        })
        .collect();

    Ok(Plan {
        file: path.to_path_buf(),
        file_hash: config::hash_bytes(text.as_bytes()),
        base,
        scenarios,
        set,
        axes,
        design,
        replicates,
        seed,
        seeds: sweep.seeds.unwrap_or(SeedPolicy::Common),
        points,
        sensitivity,
        shard: None,
    })
}

/// Loads a start config (the base or a scenario), applies `set`, and checks it is valid.
fn load_start(
    r: &Reader,
    sweep: &Path,
    key: &str,
    label: &str,
    set: &[(String, toml::Value)],
) -> Result<Start, ConfigError> {
    let path = relative_to(sweep, Path::new(label));
    if !path.is_file() && !config::embedded::is_embedded(&path) {
        return Err(r.err(
            key,
            format!("\"{label}\" does not exist (looked for {})", path.display()),
        ));
    }
    let mut table = config::read_table(&path)?;
    for (k, v) in set {
        check_key(&table, k).map_err(|p| {
            r.err(
                &format!("set.\"{k}\""),
                format!("does not exist in {}: {p}", path.display()),
            )
        })?;
        config::set_key(&mut table, k, v.clone()).map_err(|p| {
            r.err(
                &format!("set.\"{k}\""),
                format!("cannot be set in {}: {p}", path.display()),
            )
        })?;
    }
    // The base (with `set`) must itself be a valid config: a typo in it should stop the sweep,
    // not fail every run.
    let config = config::from_table(table.clone(), &format!("{} (with the sweep's `set`)", path.display()))?;
    Ok(Start {
        label: label.to_string(),
        path,
        hash: config::hash(&config),
        config,
        table,
    })
}

/// Checks that a dotted key (with `*` wildcards) names existing values in a table, returning
/// them; the message says which part is missing.
pub fn check_key<'a>(table: &'a toml::Table, key: &str) -> Result<Vec<&'a toml::Value>, String> {
    fn walk<'a>(
        table: &'a toml::Table,
        parts: &[&str],
        path: &str,
        out: &mut Vec<&'a toml::Value>,
    ) -> Result<(), String> {
        let (head, rest) = (parts[0], &parts[1..]);
        let here = if path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{path}]")
        };
        let join = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        if head == "*" {
            if rest.is_empty() {
                return Err("a key cannot end in `*`".to_string());
            }
            if table.is_empty() {
                return Err(format!("`*` matches nothing in {here}"));
            }
            for (k, v) in table {
                let child = v
                    .as_table()
                    .ok_or_else(|| format!("`*` must stand for tables, but {} is a value", join(k)))?;
                walk(child, rest, &join(k), out)?;
            }
            return Ok(());
        }
        match (table.get(head), rest.is_empty()) {
            (None, _) => Err(format!("no key `{head}` in {here}")),
            (Some(toml::Value::Table(_)), true) => Err(format!("{} is a table, not a value", join(head))),
            (Some(v), true) => {
                out.push(v);
                Ok(())
            }
            (Some(toml::Value::Table(child)), false) => walk(child, rest, &join(head), out),
            (Some(_), false) => Err(format!("{} is a value, not a table", join(head))),
        }
    }
    let parts = config::key_parts(key).map_err(|_| "is not a valid dotted key".to_string())?;
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    // `events.<label>.<field>`: the labelled event's field (it must be there already).
    if let ["events", label, rest @ ..] = &parts[..]
        && let Some(toml::Value::Array(items)) = table.get("events")
    {
        let i = config::event_by_label(items, label)?;
        if rest.is_empty() {
            return Err(format!("events[{i}] is an event, not a value; add a field"));
        }
        let event = items[i]
            .as_table()
            .ok_or_else(|| format!("events[{i}] is not a table"))?;
        walk(event, rest, &format!("events[{i}]"), &mut out)?;
        return Ok(out);
    }
    walk(table, &parts, "", &mut out)?;
    Ok(out)
}

fn read_axis(r: &Reader, i: usize, item: AxisFile, design: Kind, starts: &[&Start]) -> Result<Axis, ConfigError> {
    let at = format!("axes[{i}]");
    let Some(key) = item.key else {
        return Err(r.err(
            &format!("{at}.key"),
            "is missing: name the dotted config key to sweep, e.g. key = \"enterprise.switch_cost_base\"",
        ));
    };
    if key == "run.seed" {
        return Err(r.err(
            &format!("{at}.key"),
            "\"run.seed\" cannot be swept: run seeds are derived from the sweep's `seed`; use replicates",
        ));
    }
    // The key must exist in every config a point can start from.
    let mut integer = true;
    for s in starts {
        let found = check_key(&s.table, &key).map_err(|p| {
            r.err(
                &format!("{at}.key"),
                format!("\"{key}\" does not exist in the base config {}: {p}", s.path.display()),
            )
        })?;
        integer &= found.iter().all(|v| v.is_integer());
    }
    let values = match (item.values, item.range) {
        (Some(_), Some(_)) => return Err(r.err(&at, "has both `values` and `range`; give one")),
        (None, None) => {
            return Err(r.err(
                &at,
                format!("needs `values = [...]` or `range = {{ min, max, levels }}` for \"{key}\""),
            ));
        }
        (Some(list), None) if design.method().is_some() => {
            return Err(r.err(
                &format!("{at}.values"),
                format!(
                    "cannot be used with design = \"{}\": every axis must be a range axis, e.g. range = {{ min = 0.5, max = 1.5 }}; got {}",
                    design.name(),
                    shown(&toml::Value::Array(list))
                ),
            ));
        }
        (Some(list), None) => {
            let vkey = format!("{at}.values");
            if list.is_empty() {
                return Err(r.err(&vkey, "must list at least one value, got []"));
            }
            for (j, x) in list.iter().enumerate() {
                if matches!(
                    x,
                    toml::Value::Array(_) | toml::Value::Table(_) | toml::Value::Datetime(_)
                ) {
                    return Err(r.err(
                        &format!("{vkey}[{j}]"),
                        format!("must be a number, string or boolean, got {}", shown(x)),
                    ));
                }
                if let toml::Value::Float(f) = x
                    && !f.is_finite()
                {
                    return Err(r.err(&format!("{vkey}[{j}]"), format!("must be finite, got {f}")));
                }
            }
            AxisValues::List(list)
        }
        (None, Some(range)) => {
            let rkey = format!("{at}.range");
            let min = r.finite(&format!("{rkey}.min"), range.min)?;
            let max = r.finite(&format!("{rkey}.max"), range.max)?;
            if min >= max {
                return Err(r.err(
                    &format!("{rkey}.max"),
                    format!(
                        "must be greater than min = {}, got {}",
                        format_number(min),
                        format_number(max)
                    ),
                ));
            }
            let levels = match range.levels {
                Some(Count(n)) if design.method().is_some() => {
                    return Err(r.err(
                        &format!("{rkey}.levels"),
                        format!(
                            "is only for grid designs; design = \"{}\" places its own points, got {n}",
                            design.name()
                        ),
                    ));
                }
                Some(Count(n)) => {
                    if n < 2 {
                        return Err(r.err(&format!("{rkey}.levels"), format!("must be ≥ 2, got {n}")));
                    }
                    Some(n as usize)
                }
                None if design == Kind::Grid => {
                    return Err(r.err(
                        &format!("{rkey}.levels"),
                        "is missing: a grid design needs the number of evenly spaced values, e.g. levels = 5",
                    ));
                }
                None => None,
            };
            if integer && levels.is_some_and(|l| l as f64 > max.round() - min.round() + 1.0) {
                return Err(r.err(
                    &format!("{rkey}.levels"),
                    format!(
                        "asks for {} integer values of \"{key}\" between {} and {}; there are fewer",
                        levels.unwrap_or(0),
                        format_number(min),
                        format_number(max)
                    ),
                ));
            }
            AxisValues::Range { min, max, levels }
        }
    };
    if let AxisValues::List(list) = &values {
        integer = list.iter().all(|v| v.is_integer());
    }
    Ok(Axis { key, values, integer })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(values: AxisValues, integer: bool) -> Axis {
        Axis {
            key: "k".into(),
            values,
            integer,
        }
    }

    #[test]
    fn grid_ranges_are_evenly_spaced_and_hit_both_ends() {
        let a = axis(
            AxisValues::Range {
                min: 0.0,
                max: 0.3,
                levels: Some(4),
            },
            false,
        );
        let v: Vec<f64> = (0..4)
            .map(|i| a.value_at(Coord::Index(i)).as_float().unwrap())
            .collect();
        assert_eq!(v[0], 0.0);
        assert_eq!(v[3], 0.3);
        assert!((v[1] - 0.1).abs() < 1e-15 && (v[2] - 0.2).abs() < 1e-15, "{v:?}");
    }

    #[test]
    fn integer_keys_get_integer_values() {
        let a = axis(
            AxisValues::Range {
                min: 1.0,
                max: 10.0,
                levels: None,
            },
            true,
        );
        assert_eq!(a.value_at(Coord::Unit(0.5)), toml::Value::Integer(6));
        assert_eq!(a.value_at(Coord::Unit(0.0)), toml::Value::Integer(1));
    }

    #[test]
    fn wildcard_keys_are_checked_in_every_table() {
        let t: toml::Table = "[p.a]\nx = 1\n[p.b]\ny = 2\n".parse().unwrap();
        assert_eq!(check_key(&t, "p.a.x").unwrap().len(), 1);
        let err = check_key(&t, "p.*.x").unwrap_err();
        assert!(err.contains("no key `x` in [p.b]"), "{err}");
        assert!(check_key(&t, "p.a").unwrap_err().contains("is a table"));
        assert!(
            check_key(&t, "q.x")
                .unwrap_err()
                .contains("no key `q` in the top level")
        );
    }

    /// The error of loading a sweep file with `body` after a `base` line.
    fn load_error(body: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
        let file = dir.path().join("e.toml");
        std::fs::write(&file, format!("base = '{}'\n{body}", base.display())).unwrap();
        load(&file).unwrap_err().to_string()
    }

    #[test]
    fn shape_errors_name_the_path_the_value_and_what_was_expected() {
        let axis = "[[axes]]\nkey = \"enterprise.switch_cost_base\"\nvalues = [1.0, 2.0]\n[[axes]]\nkey = \"enterprise.review_probability\"\n";
        let cases = [
            (
                format!("{axis}range = {{ min = 0.1, max = 0.2, levels = 2.5 }}\n"),
                "axes[1].range.levels is invalid: invalid type: floating point `2.5`, expected a non-negative integer",
            ),
            (
                format!("{axis}range = {{ min = 0.1, max = 0.2, levels = 2, step = 1 }}\n"),
                "axes[1].range.step is invalid: unknown field `step`, expected one of `min`, `max`, `levels`",
            ),
            (
                format!("{axis}range = {{ min = true, max = 0.2, levels = 2 }}\n"),
                "axes[1].range.min is invalid: invalid type: boolean `true`, expected a number",
            ),
            (
                "replicates = -3\n".to_string(),
                "replicates is invalid: invalid value: integer `-3`, expected a non-negative integer",
            ),
            (
                "scenarios = ['a.toml', 2]\n".to_string(),
                "scenarios[1] is invalid: invalid type: integer `2`, expected a string",
            ),
            (
                "design = \"sobel\"\n".to_string(),
                "design is invalid: invalid value: string \"sobel\", expected \"grid\", \"random\", \"lhs\", \"morris\" or \"sobol\"",
            ),
        ];
        for (body, expected) in cases {
            let err = load_error(&body);
            assert!(err.contains("e.toml: ") && err.ends_with(expected), "{err}");
        }
    }

    #[test]
    fn semantic_errors_keep_their_own_messages() {
        let axis = "[[axes]]\nkey = \"enterprise.switch_cost_base\"\n";
        let cases = [
            (format!("{axis}range = {{ max = 2 }}\n"), "axes[0].range.min is missing"),
            (
                format!("{axis}range = {{ min = 1, max = inf, levels = 2 }}\n"),
                "axes[0].range.max must be a finite number, got inf",
            ),
            (
                format!("{axis}range = {{ min = 2, max = 1, levels = 2 }}\n"),
                "axes[0].range.max must be greater than min = 2, got 1",
            ),
            (
                format!("{axis}values = []\n"),
                "axes[0].values must list at least one value, got []",
            ),
            ("replicates = 0\n".to_string(), "replicates must be at least 1, got 0"),
            ("points = 4\n".to_string(), "points is only for random and lhs designs"),
            (
                "set = { \"run.seed\" = 1 }\n".to_string(),
                "set.\"run.seed\" cannot be set",
            ),
        ];
        for (body, expected) in cases {
            let err = load_error(&body);
            assert!(err.contains(&format!("e.toml: {expected}")), "{err}");
        }
    }

    #[test]
    fn values_are_written_the_way_run_set_reads_them() {
        assert_eq!(value_text(&toml::Value::Float(0.1)), "0.1");
        assert_eq!(value_text(&toml::Value::Integer(3)), "3");
        assert_eq!(value_text(&toml::Value::String("open".into())), "open");
        assert_eq!(
            config::parse_value(&value_text(&toml::Value::Float(0.07))),
            toml::Value::Float(0.07)
        );
    }
}
