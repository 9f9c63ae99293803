//! The calibration file: parsing, validation and resolution into a [`Calibration`].
//!
//! Everything a calibration file can get wrong is found here, before any simulation runs, with
//! the file, the key and the value: a shape error (wrong type, unknown key) through
//! `serde_path_to_error`, as for sweep files; then a parameter that does not exist in the base
//! config, is not a number, or whose bounds do not contain its base value or start; a moment
//! that names an unknown metric or statistic, a month outside the run, a window that runs
//! backwards, a standard error or weight ≤ 0; and optimiser settings whose budget cannot hold
//! the global stage and the first simplex.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{self, ConfigError, Metric, Month, relative_to};
use crate::output::format_number;
use crate::sweep::spec::check_key;

/// How the simulated statistic of a moment is taken from one run's monthly series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The average over the window's months.
    Mean,
    /// The value in the window's first month.
    First,
    /// The value in the window's last month.
    Last,
    /// Last minus first month of the window.
    Change,
    /// The least-squares slope over the window, per year (12 × the slope per month).
    Slope,
}

impl Statistic {
    /// The name written in calibration files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::First => "first",
            Statistic::Last => "last",
            Statistic::Change => "change",
            Statistic::Slope => "slope",
        }
    }

    /// The statistic of `values` (one per month of the window, at least one; at least two for
    /// change and slope, checked when the file is read).
    pub fn of(self, values: &[f64]) -> f64 {
        let n = values.len();
        match self {
            Statistic::Mean => values.iter().sum::<f64>() / n as f64,
            Statistic::First => values[0],
            Statistic::Last => values[n - 1],
            Statistic::Change => values[n - 1] - values[0],
            Statistic::Slope => {
                let mean_t = (n - 1) as f64 / 2.0;
                let mean_y = values.iter().sum::<f64>() / n as f64;
                let (mut sxy, mut sxx) = (0.0, 0.0);
                for (t, y) in values.iter().enumerate() {
                    let dt = t as f64 - mean_t;
                    sxy += dt * (y - mean_y);
                    sxx += dt * dt;
                }
                12.0 * sxy / sxx
            }
        }
    }
}

/// An estimated parameter: a numeric config key and its bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Dotted config key, as with `run --set` (may contain `*`: every matching value is set).
    pub key: String,
    /// Lower bound (inclusive).
    pub lower: f64,
    /// Upper bound (inclusive).
    pub upper: f64,
    /// Where the search starts: the file's `start`, or the base config's value.
    pub start: f64,
}

impl Parameter {
    /// The value at unit coordinate `u` (clamped to [0, 1]).
    pub fn value_at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        if u == 1.0 {
            self.upper
        } else {
            self.lower + (self.upper - self.lower) * u
        }
    }

    /// The unit coordinate of a value in the bounds.
    pub fn unit_of(&self, x: f64) -> f64 {
        ((x - self.lower) / (self.upper - self.lower)).clamp(0.0, 1.0)
    }
}

/// What a moment measures: a run-level metric (a metrics.csv column) or one agent's series,
/// so that a calibration can target AWS's cloud share or OpenAI's dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Series {
    /// A metrics.csv column.
    Metric(Metric),
    /// `share.cloud.<provider>`: the provider's share of cloud spend (shares.csv).
    CloudShare(String),
    /// `share.model.<lab>`: the lab's share of the model market by origin (shares.csv).
    ModelShare(String),
    /// `dependency.<lab>`: its largest provider's share of the lab's compute (agents.csv).
    Dependency(String),
    /// `rent.<provider>`: the provider's share of enterprise AI spend (agents.csv).
    Rent(String),
    /// `lerner.<lab>`: the lab's Lerner index on its direct API, fee over price (agents.csv).
    LabLerner(String),
}

impl Series {
    /// The series named `name` in a run of `base`, if any.
    pub fn parse(name: &str, base: &config::Config) -> Option<Series> {
        if let Some(m) = Metric::from_name(name) {
            return Some(Series::Metric(m));
        }
        let provider = |p: &str| base.providers.contains_key(p).then(|| p.to_string());
        let lab = |l: &str| base.labs.contains_key(l).then(|| l.to_string());
        if let Some(p) = name.strip_prefix("share.cloud.") {
            return provider(p).map(Series::CloudShare);
        }
        if let Some(l) = name.strip_prefix("share.model.") {
            return lab(l).map(Series::ModelShare);
        }
        if let Some(l) = name.strip_prefix("dependency.") {
            return lab(l).map(Series::Dependency);
        }
        if let Some(l) = name.strip_prefix("lerner.") {
            return lab(l).map(Series::LabLerner);
        }
        name.strip_prefix("rent.").and_then(provider).map(Series::Rent)
    }

    /// The name as written in calibration files and outputs.
    pub fn name(&self) -> String {
        match self {
            Series::Metric(m) => m.name().to_string(),
            Series::CloudShare(p) => format!("share.cloud.{p}"),
            Series::ModelShare(l) => format!("share.model.{l}"),
            Series::Dependency(l) => format!("dependency.{l}"),
            Series::Rent(p) => format!("rent.{p}"),
            Series::LabLerner(l) => format!("lerner.{l}"),
        }
    }

    /// The series of a recorded run, per tick (an agent absent from the run counts 0).
    pub fn of(&self, rec: &crate::sim::MetricsRecorder) -> Vec<f64> {
        match self {
            Series::Metric(m) => rec.rows.iter().map(|r| r[*m]).collect(),
            Series::CloudShare(p) => rec.cloud_share_of(p),
            Series::ModelShare(l) => rec.model_share_of(l),
            Series::Dependency(l) => rec.dependency_of(l),
            Series::Rent(p) => rec.rent_of(p),
            Series::LabLerner(l) => rec.lab_lerner_of(l),
        }
    }
}

/// A target moment: a statistic of a metric over a window, its target and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    /// Name (the file's `name`, or `<metric>_<statistic>_<from>_<to>`), unique in the file.
    pub name: String,
    /// The series: a metrics.csv column or an agent's series ([`Series`]).
    pub metric: Series,
    /// First month of the window.
    pub from: Month,
    /// Last month of the window (= `from` for a single month).
    pub to: Month,
    /// The statistic taken over the window.
    pub statistic: Statistic,
    /// The target value.
    pub target: f64,
    /// The target's standard error, when the file gives one (then `weight` = 1/se²).
    pub se: Option<f64>,
    /// The weight of the squared deviation in the objective.
    pub weight: f64,
    /// Tick of `from` (0 = `run.start`).
    pub first_tick: usize,
    /// Tick of `to`.
    pub last_tick: usize,
}

impl Moment {
    /// The moment of one recorded run.
    pub fn of(&self, rec: &crate::sim::MetricsRecorder) -> f64 {
        let series = self.metric.of(rec);
        let values = &series[self.first_tick..=self.last_tick];
        self.statistic.of(values)
    }
}

/// Settings of the search (see `optimise` for the strategy).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Optimiser {
    /// Latin-hypercube points of the global stage (besides the start), evaluated in parallel.
    pub global_points: u64,
    /// Budget: distinct parameter vectors simulated, all stages together.
    pub max_evaluations: u64,
    /// Nelder–Mead iterations at most.
    pub max_iterations: u64,
    /// Nelder–Mead stops when the standard deviation of the simplex's objective values is below.
    pub tolerance: f64,
    /// Edge of the first simplex, as a fraction of each parameter's range.
    pub simplex_step: f64,
}

/// A validated calibration: what to estimate, against what, and how.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The calibration file as given.
    pub file: PathBuf,
    /// SHA-256 of its bytes.
    pub file_hash: String,
    /// The base as written in the file.
    pub base_label: String,
    /// The base resolved against the file's directory.
    pub base_path: PathBuf,
    /// The base table with `set` (and `enterprises`) applied.
    pub table: toml::Table,
    /// The resolved base config (with `set`).
    pub base: config::Config,
    /// Hash of `base` ([`config::hash`]).
    pub base_hash: String,
    /// Fixed overrides, in file order (`enterprises` last, as `run.enterprises`).
    pub set: Vec<(String, toml::Value)>,
    /// Estimated parameters, in file order (the coordinates of the search).
    pub parameters: Vec<Parameter>,
    /// Target moments, in file order.
    pub moments: Vec<Moment>,
    /// Runs per evaluation.
    pub replicates: u64,
    /// Master seed: replicate r of every evaluation has the seed `derive_seed(seed, 0, r)`.
    pub seed: u64,
    /// The search settings.
    pub optimiser: Optimiser,
}

impl Calibration {
    /// The seed of replicate `r` (the same in every evaluation: common random numbers).
    pub fn replicate_seed(&self, r: u64) -> u64 {
        crate::sim::rng::derive_seed(self.seed, 0, r)
    }

    /// The base table with the parameters set to `x` (one value per parameter).
    pub fn table_at(&self, x: &[f64]) -> Result<toml::Table, String> {
        let mut table = self.table.clone();
        for (p, v) in self.parameters.iter().zip(x) {
            config::set_key(&mut table, &p.key, toml::Value::Float(*v)).map_err(|e| format!("{} {e}", p.key))?;
        }
        Ok(table)
    }

    /// The resolved, validated config of replicate `r` at `x`.
    pub fn config_at(&self, x: &[f64], r: u64) -> Result<config::Config, String> {
        let mut table = self.table_at(x)?;
        config::set_key(
            &mut table,
            "run.seed",
            toml::Value::Integer(self.replicate_seed(r) as i64),
        )?;
        let label = format!("{} at {}", self.file.display(), self.describe(x));
        config::from_table(table, &label).map_err(|e| e.to_string())
    }

    /// `key = value, …` of a parameter vector, for messages.
    pub fn describe(&self, x: &[f64]) -> String {
        self.parameters
            .iter()
            .zip(x)
            .map(|(p, v)| format!("{} = {}", p.key, format_number(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The seed rule, as recorded in the manifest.
    pub fn seed_rule(&self) -> &'static str {
        "common random numbers: replicate r of every evaluation has the seed derive_seed(seed, 0, r) (src/sim/rng.rs), so the objective changes only through the parameters"
    }
}

/// The calibration file as written: its shape only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalibrationFile {
    base: Option<String>,
    replicates: Option<u64>,
    seed: Option<u64>,
    enterprises: Option<u64>,
    set: Option<toml::Table>,
    parameters: Option<Vec<ParameterFile>>,
    moments: Option<Vec<MomentFile>>,
    optimiser: Option<OptimiserFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterFile {
    key: Option<String>,
    lower: Option<f64>,
    upper: Option<f64>,
    start: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MomentFile {
    name: Option<String>,
    metric: Option<String>,
    at: Option<String>,
    from: Option<String>,
    to: Option<String>,
    statistic: Option<Statistic>,
    target: Option<f64>,
    se: Option<f64>,
    weight: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptimiserFile {
    global_points: Option<u64>,
    max_evaluations: Option<u64>,
    max_iterations: Option<u64>,
    tolerance: Option<f64>,
    simplex_step: Option<f64>,
}

/// Errors of one file.
pub(crate) struct Reader<'a> {
    /// The file, as given.
    pub file: &'a str,
}

impl Reader<'_> {
    pub(crate) fn err(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            key: key.to_string(),
            problem: problem.into(),
        }
    }

    pub(crate) fn finite(&self, key: &str, x: Option<f64>, example: &str) -> Result<f64, ConfigError> {
        match x {
            None => Err(self.err(key, format!("is missing, e.g. {example}"))),
            Some(x) if x.is_finite() => Ok(x),
            Some(x) => Err(self.err(key, format!("must be a finite number, got {x}"))),
        }
    }

    pub(crate) fn month(&self, key: &str, text: &str, first: Month, last: Month) -> Result<Month, ConfigError> {
        let m = Month::parse(text).map_err(|e| self.err(key, format!("is invalid: {e}")))?;
        if m < first || m > last {
            return Err(self.err(
                key,
                format!("\"{text}\" is outside the run, which covers {first} to {last} (run.start and run.ticks)"),
            ));
        }
        Ok(m)
    }

    /// The months of an `at` or a `from`/`to` window at `at`, inside the run.
    pub(crate) fn window(
        &self,
        at: &str,
        month: Option<String>,
        from: Option<String>,
        to: Option<String>,
        first: Month,
        last: Month,
    ) -> Result<(Month, Month), ConfigError> {
        match (month, from, to) {
            (Some(month), None, None) => {
                let month = self.month(&format!("{at}.at"), &month, first, last)?;
                Ok((month, month))
            }
            (None, Some(from), Some(to)) => {
                let f = self.month(&format!("{at}.from"), &from, first, last)?;
                let t = self.month(&format!("{at}.to"), &to, first, last)?;
                if t < f {
                    return Err(self.err(
                        &format!("{at}.to"),
                        format!("must not be before from = \"{from}\", got \"{to}\""),
                    ));
                }
                Ok((f, t))
            }
            (Some(_), _, _) => Err(self.err(at, "has both `at` and `from`/`to`; give a month or a window")),
            _ => Err(self.err(
                at,
                "needs a month `at = \"YYYY-MM\"` or a window `from = \"YYYY-MM\"`, `to = \"YYYY-MM\"`",
            )),
        }
    }
}

/// A base config read with a file's `set` overrides and `enterprises` applied.
pub(crate) struct BaseWithSet {
    /// The `base` as written.
    pub label: String,
    /// Its path, relative to the file that names it.
    pub path: PathBuf,
    /// The base table with the overrides.
    pub table: toml::Table,
    /// The overrides in file order (`enterprises` last, as `run.enterprises`).
    pub set: Vec<(String, toml::Value)>,
    /// The validated config.
    pub config: config::Config,
}

/// Reads the base named by a calibration or backtest file (`what`) at `path`, applies its
/// `set` table and `enterprises`, and validates the result. `run.seed` cannot be set: replicate
/// seeds come from the file's `seed`.
pub(crate) fn base_with_set(
    path: &Path,
    base: Option<String>,
    set_table: Option<toml::Table>,
    enterprises: Option<u64>,
    r: &Reader,
    what: &str,
) -> Result<BaseWithSet, ConfigError> {
    let Some(label) = base else {
        return Err(r.err(
            "base",
            format!("is missing: name the config of the {what}, e.g. base = \"../baseline.toml\""),
        ));
    };
    let base_path = relative_to(path, Path::new(&label));
    if !base_path.is_file() && !config::embedded::is_embedded(&base_path) {
        return Err(r.err(
            "base",
            format!("\"{label}\" does not exist (looked for {})", base_path.display()),
        ));
    }
    let mut table = config::read_table(&base_path)?;
    let mut set = Vec::new();
    for (key, value) in set_table.unwrap_or_default() {
        let at = format!("set.\"{key}\"");
        if key == "run.seed" {
            return Err(r.err(
                &at,
                format!("cannot be set: replicate seeds are derived from the {what}'s `seed`"),
            ));
        }
        check_key(&table, &key).map_err(|p| r.err(&at, format!("does not exist in {}: {p}", base_path.display())))?;
        config::set_key(&mut table, &key, value.clone())
            .map_err(|p| r.err(&at, format!("cannot be set in {}: {p}", base_path.display())))?;
        set.push((key, value));
    }
    if let Some(n) = enterprises {
        let value = toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        config::set_key(&mut table, "run.enterprises", value.clone()).map_err(|p| r.err("enterprises", p))?;
        set.push(("run.enterprises".to_string(), value));
    }
    let config = config::from_table(
        table.clone(),
        &format!("{} (with the {what}'s `set`)", base_path.display()),
    )?;
    Ok(BaseWithSet {
        label,
        path: base_path,
        table,
        set,
        config,
    })
}

/// Default number of global points, max evaluations and iterations, tolerance and step.
const DEFAULT_GLOBAL_POINTS: u64 = 16;
const DEFAULT_MAX_EVALUATIONS: u64 = 200;
const DEFAULT_MAX_ITERATIONS: u64 = 1000;
const DEFAULT_TOLERANCE: f64 = 1e-3;
const DEFAULT_SIMPLEX_STEP: f64 = 0.1;

/// Reads a calibration or backtest file (a path or an embedded name) into its shape `T`, with
/// its text: a TOML error or a shape error (wrong type, unknown key) names the file and the key.
pub(crate) fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(T, String), ConfigError> {
    let file = path.display().to_string();
    let text = match config::embedded::read(path) {
        Some(text) => text.to_string(),
        None => config::read_text(path)?,
    };
    let table = config::parse_table(&text, &file)?;
    let spec = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(
        |e: serde_path_to_error::Error<toml::de::Error>| {
            let key = e.path().to_string();
            let message = e.inner().message().trim().to_string();
            if key == "." {
                ConfigError {
                    file: file.clone(),
                    key: String::new(),
                    problem: message,
                }
            } else {
                ConfigError {
                    file: file.clone(),
                    key,
                    problem: format!("is invalid: {message}"),
                }
            }
        },
    )?;
    Ok((spec, text))
}

/// Reads and validates a calibration file. Nothing runs if this fails.
pub fn load(path: &Path) -> Result<Calibration, ConfigError> {
    let file = path.display().to_string();
    let (spec, text): (CalibrationFile, String) = read_file(path)?;
    let r = Reader { file: &file };

    // The base, with `set` and `enterprises`.
    let BaseWithSet {
        label: base_label,
        path: base_path,
        table,
        set,
        config: base,
    } = base_with_set(path, spec.base, spec.set, spec.enterprises, &r, "calibration")?;
    let run_start = Month::parse(&base.run.start).map_err(|e| r.err("base", e))?;
    let run_last = run_start.plus(i64::from(base.run.ticks) - 1);

    let replicates = match spec.replicates {
        Some(0) => return Err(r.err("replicates", "must be at least 1, got 0")),
        Some(n) if n > 10_000 => return Err(r.err("replicates", format!("must be at most 10000, got {n}"))),
        Some(n) => n,
        None => 8,
    };
    let seed = spec.seed.unwrap_or(base.run.seed);

    // Parameters.
    let list = spec.parameters.unwrap_or_default();
    if list.is_empty() {
        return Err(r.err(
            "parameters",
            "is missing: list at least one [[parameters]] table with key, lower and upper",
        ));
    }
    let mut parameters: Vec<Parameter> = Vec::new();
    for (i, p) in list.into_iter().enumerate() {
        let at = format!("parameters[{i}]");
        let Some(key) = p.key else {
            return Err(r.err(
                &format!("{at}.key"),
                "is missing: name the dotted config key to estimate, e.g. key = \"enterprise.switch_cost_base\"",
            ));
        };
        let kkey = format!("{at}.key");
        if key.starts_with("run.") {
            return Err(r.err(
                &kkey,
                format!(
                    "\"{key}\" cannot be estimated: the run's start, length, size and seed are fixed by the calibration"
                ),
            ));
        }
        if let Some(j) = parameters.iter().position(|q| q.key == key) {
            return Err(r.err(&kkey, format!("\"{key}\" is already estimated by parameters[{j}]")));
        }
        let found = check_key(&table, &key).map_err(|e| {
            r.err(
                &kkey,
                format!(
                    "\"{key}\" does not exist in the base config {}: {e}",
                    base_path.display()
                ),
            )
        })?;
        let mut values = Vec::new();
        for v in found {
            match v {
                toml::Value::Float(f) => values.push(*f),
                toml::Value::Integer(n) => {
                    return Err(r.err(
                        &kkey,
                        format!(
                            "\"{key}\" holds an integer ({n}) in the base config; only continuous parameters can be estimated"
                        ),
                    ));
                }
                other => {
                    return Err(r.err(
                        &kkey,
                        format!("\"{key}\" is not a number in the base config (it is {other})"),
                    ));
                }
            }
        }
        let lower = r.finite(&format!("{at}.lower"), p.lower, "lower = 1.0")?;
        let upper = r.finite(&format!("{at}.upper"), p.upper, "upper = 10.0")?;
        if lower >= upper {
            return Err(r.err(
                &format!("{at}.upper"),
                format!(
                    "must be greater than lower = {}, got {}",
                    format_number(lower),
                    format_number(upper)
                ),
            ));
        }
        for v in &values {
            if *v < lower || *v > upper {
                return Err(r.err(
                    &at,
                    format!(
                        "bounds [{}, {}] do not contain the base value {} of \"{key}\"",
                        format_number(lower),
                        format_number(upper),
                        format_number(*v)
                    ),
                ));
            }
        }
        let start = match p.start {
            Some(s) => {
                let s = r.finite(&format!("{at}.start"), Some(s), "")?;
                if s < lower || s > upper {
                    return Err(r.err(
                        &format!("{at}.start"),
                        format!(
                            "must lie within [{}, {}], got {}",
                            format_number(lower),
                            format_number(upper),
                            format_number(s)
                        ),
                    ));
                }
                s
            }
            None => {
                let first = values[0];
                if values.iter().any(|v| *v != first) {
                    return Err(r.err(
                        &format!("{at}.start"),
                        format!("is missing: \"{key}\" has different values in the base config; give the start"),
                    ));
                }
                first
            }
        };
        parameters.push(Parameter {
            key,
            lower,
            upper,
            start,
        });
    }

    // Moments.
    let list = spec.moments.unwrap_or_default();
    if list.is_empty() {
        return Err(r.err(
            "moments",
            "is missing: list at least one [[moments]] table with metric, at (or from and to), target and se (or weight)",
        ));
    }
    let mut moments: Vec<Moment> = Vec::new();
    for (i, m) in list.into_iter().enumerate() {
        let at = format!("moments[{i}]");
        let Some(metric_name) = m.metric else {
            return Err(r.err(
                &format!("{at}.metric"),
                "is missing: name a metrics.csv column, e.g. metric = \"primary_switching_rate\"",
            ));
        };
        let metric = Series::parse(&metric_name, &base).ok_or_else(|| {
            r.err(
                &format!("{at}.metric"),
                format!(
                    "\"{metric_name}\" is not a metric; expected one of {}, or an agent's series share.cloud.<provider>, share.model.<lab>, dependency.<lab>, lerner.<lab> or rent.<provider> with an agent of the base config",
                    Metric::names().join(", ")
                ),
            )
        })?;
        let (from, to) = r.window(&at, m.at, m.from, m.to, run_start, run_last)?;
        let statistic = m.statistic.unwrap_or(Statistic::Mean);
        if matches!(statistic, Statistic::Slope | Statistic::Change) && from == to {
            return Err(r.err(
                &format!("{at}.statistic"),
                format!("\"{}\" needs a window of at least two months", statistic.name()),
            ));
        }
        let target = r.finite(&format!("{at}.target"), m.target, "target = 0.01")?;
        let (se, weight) = match (m.se, m.weight) {
            (Some(_), Some(_)) => return Err(r.err(&at, "has both `se` and `weight`; give one")),
            (Some(se), None) => {
                if !(se.is_finite() && se > 0.0) {
                    return Err(r.err(&format!("{at}.se"), format!("must be a positive number, got {se}")));
                }
                (Some(se), 1.0 / (se * se))
            }
            (None, Some(w)) => {
                if !(w.is_finite() && w > 0.0) {
                    return Err(r.err(&format!("{at}.weight"), format!("must be a positive number, got {w}")));
                }
                (None, w)
            }
            (None, None) => {
                return Err(r.err(
                    &at,
                    "needs the target's standard error `se` (weight 1/se²) or a `weight`",
                ));
            }
        };
        let name = match m.name {
            Some(n) => {
                if n.is_empty()
                    || !n
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    return Err(r.err(
                        &format!("{at}.name"),
                        format!("must be letters, digits, `_`, `-` or `.`, got \"{n}\""),
                    ));
                }
                n
            }
            None => {
                if from == to {
                    format!("{}_{}_{from}", metric.name(), statistic.name())
                } else {
                    format!("{}_{}_{from}_{to}", metric.name(), statistic.name())
                }
            }
        };
        if let Some(j) = moments.iter().position(|q| q.name == name) {
            return Err(r.err(
                &format!("{at}.name"),
                format!("\"{name}\" is already the name of moments[{j}]; give each moment its own name"),
            ));
        }
        moments.push(Moment {
            name,
            metric,
            first_tick: from.ticks_since(run_start) as usize,
            last_tick: to.ticks_since(run_start) as usize,
            from,
            to,
            statistic,
            target,
            se,
            weight,
        });
    }

    // The search.
    let o = spec.optimiser.unwrap_or(OptimiserFile {
        global_points: None,
        max_evaluations: None,
        max_iterations: None,
        tolerance: None,
        simplex_step: None,
    });
    let k = parameters.len() as u64;
    let global_points = o.global_points.unwrap_or(DEFAULT_GLOBAL_POINTS);
    if global_points > 100_000 {
        return Err(r.err(
            "optimiser.global_points",
            format!("must be at most 100000, got {global_points}"),
        ));
    }
    let needed = 1 + global_points + k;
    let max_evaluations = o.max_evaluations.unwrap_or(DEFAULT_MAX_EVALUATIONS.max(needed));
    if max_evaluations < needed {
        return Err(r.err(
            "optimiser.max_evaluations",
            format!(
                "must be at least {needed} (the start, {global_points} global points and the {k} other corners of the first simplex), got {max_evaluations}"
            ),
        ));
    }
    let max_iterations = o.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS);
    let tolerance = o.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(r.err("optimiser.tolerance", format!("must be a number ≥ 0, got {tolerance}")));
    }
    let simplex_step = o.simplex_step.unwrap_or(DEFAULT_SIMPLEX_STEP);
    if !(simplex_step > 0.0 && simplex_step <= 0.5) {
        return Err(r.err(
            "optimiser.simplex_step",
            format!("must be in (0, 0.5] (a fraction of each parameter's range), got {simplex_step}"),
        ));
    }

    let calibration = Calibration {
        file: path.to_path_buf(),
        file_hash: config::hash_bytes(text.as_bytes()),
        base_label,
        base_path,
        base_hash: config::hash(&base),
        table,
        base,
        set,
        parameters,
        moments,
        replicates,
        seed,
        optimiser: Optimiser {
            global_points,
            max_evaluations,
            max_iterations,
            tolerance,
            simplex_step,
        },
    };
    // The start must itself be a valid config: a bad bound or start should stop the
    // calibration here, not fail its first evaluation.
    let start: Vec<f64> = calibration.parameters.iter().map(|p| p.start).collect();
    calibration
        .config_at(&start, 0)
        .map_err(|e| r.err("parameters", format!("give a start the model rejects: {e}")))?;
    Ok(calibration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_a_known_series() {
        let v = [1.0, 3.0, 2.0, 6.0];
        assert_eq!(Statistic::Mean.of(&v), 3.0);
        assert_eq!(Statistic::First.of(&v), 1.0);
        assert_eq!(Statistic::Last.of(&v), 6.0);
        assert_eq!(Statistic::Change.of(&v), 5.0);
        // OLS slope of y on t = 0..3: Σ(t−1.5)(y−3) / Σ(t−1.5)² = 7 / 5 = 1.4 per month.
        assert!((Statistic::Slope.of(&v) - 16.8).abs() < 1e-12);
        let line: Vec<f64> = (0..24).map(|t| 2.0 + 0.25 * t as f64).collect();
        assert!((Statistic::Slope.of(&line) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn agent_series_are_named_parsed_against_the_base_and_read_from_a_recorded_run() {
        let base = config::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml"),
            &["run.enterprises=600".to_string(), "run.ticks=3".to_string()],
        )
        .expect("baseline");
        for name in [
            "hhi_cloud",
            "share.cloud.aws",
            "share.model.openai",
            "dependency.openai",
            "rent.azure",
        ] {
            let s = Series::parse(name, &base).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(s.name(), name);
        }
        // Agents the base does not have, and a lab asked for as a provider, are refused.
        for bad in [
            "share.cloud.ibm",
            "share.cloud.openai",
            "dependency.aws",
            "share.compute.aws",
            "rent.",
        ] {
            assert_eq!(Series::parse(bad, &base), None, "{bad}");
        }
        // Read from a recorded run, the series equal shares.csv's and agents.csv's values.
        let mut rec = crate::sim::MetricsRecorder::default();
        let mut reports = Vec::new();
        struct Both<'a>(
            &'a mut crate::sim::MetricsRecorder,
            &'a mut Vec<crate::sim::resources::TickReport>,
        );
        impl crate::sim::Observer for Both<'_> {
            fn start(&mut self, layout: &crate::sim::resources::Layout) -> Result<(), String> {
                self.0.start(layout)
            }
            fn tick(&mut self, report: &crate::sim::resources::TickReport) -> Result<(), String> {
                self.1.push(report.clone());
                self.0.tick(report)
            }
        }
        crate::sim::simulate(&base, &mut Both(&mut rec, &mut reports), &mut |_| {}, &|| false).expect("runs");
        let t = 2;
        let share = |market, agent: &str| {
            reports[t]
                .shares
                .iter()
                .find(|r| r.market == market && r.agent == agent)
                .map(|r| r.share)
                .expect("row")
        };
        let aws = Series::parse("share.cloud.aws", &base).unwrap();
        assert_eq!(aws.of(&rec)[t], share(config::Market::Cloud, "aws"));
        let openai = Series::parse("share.model.openai", &base).unwrap();
        assert_eq!(openai.of(&rec)[t], share(config::Market::Model, "openai"));
        let dep = reports[t]
            .agents
            .iter()
            .find(|a| a.agent == "openai")
            .and_then(|a| a.dependency);
        assert_eq!(
            Some(Series::parse("dependency.openai", &base).unwrap().of(&rec)[t]),
            dep
        );
        assert!(aws.of(&rec)[t] > 0.1 && aws.of(&rec)[t] != openai.of(&rec)[t]);
    }

    #[test]
    fn unit_coordinates_map_to_the_bounds_and_back() {
        let p = Parameter {
            key: "k".into(),
            lower: 2.0,
            upper: 10.0,
            start: 6.0,
        };
        assert_eq!(p.value_at(0.0), 2.0);
        assert_eq!(p.value_at(1.0), 10.0);
        assert_eq!(p.value_at(1.7), 10.0);
        assert_eq!(p.value_at(-0.2), 2.0);
        assert_eq!(p.value_at(p.unit_of(6.0)), 6.0);
    }
}
