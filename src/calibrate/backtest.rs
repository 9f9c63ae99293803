//! The backtest file (`aimarket backtest BACKTEST`): a history config, the estimates to apply
//! to it (`set`), and the record to compare its runs with. Each observation is a statistic of a
//! series over a month or window (as a calibration moment), an observed value and/or range,
//! and its source; it is in-sample when its window ends by `calibration_end`, and out of sample
//! after it. Parsing and validation live here; the fit of one observation to the replicates is
//! [`fit`], a plain function.
//!
//! The judgement of an observation follows the question a backtest asks: would the recorded
//! history be a plausible draw of the model? So the simulated spread is the 95 % *prediction*
//! interval of one more replicate, `mean ± t(0.975, n−1)·sd·√(1 + 1/n)`, not the interval of the
//! mean; the observation is covered when its value (or its range) meets that interval.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::spec::{Reader, Series, Statistic, base_with_set, read_file};
use crate::config::{self, ConfigError, Month};
use crate::stats::{summarise, t975};

/// One observation of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The series it observes.
    pub series: Series,
    /// First month of the window.
    pub from: Month,
    /// Last month of the window (= `from` for one month).
    pub to: Month,
    /// Tick of `from`.
    pub first_tick: usize,
    /// Tick of `to`.
    pub last_tick: usize,
    /// How the simulated value is taken over the window.
    pub statistic: Statistic,
    /// The observed value, when the record gives one.
    pub value: Option<f64>,
    /// The low end of the observed range, when the record gives one.
    pub low: Option<f64>,
    /// The high end of the observed range.
    pub high: Option<f64>,
    /// Where the figure comes from.
    pub source: String,
    /// Whether the window ends by the calibration's last month.
    pub in_sample: bool,
}

impl Observation {
    /// The statistic of one recorded run.
    pub fn of(&self, rec: &crate::sim::MetricsRecorder) -> f64 {
        let series = self.series.of(rec);
        self.statistic.of(&series[self.first_tick..=self.last_tick])
    }

    /// The observed interval: the range when given, else the value as a point.
    pub fn interval(&self) -> (f64, f64) {
        match (self.low, self.high, self.value) {
            (Some(lo), Some(hi), _) => (lo, hi),
            (_, _, Some(v)) => (v, v),
            // Validation requires a value or both ends of a range.
            _ => (f64::NAN, f64::NAN),
        }
    }

    /// "in" or "out" (of sample).
    pub fn sample(&self) -> &'static str {
        if self.in_sample { "in" } else { "out" }
    }
}

/// A validated backtest file.
#[derive(Debug, Clone)]
pub struct Backtest {
    /// The file, as given.
    pub file: PathBuf,
    /// Hash of its text.
    pub file_hash: String,
    /// The config as named in the file.
    pub base_label: String,
    /// Its path.
    pub base_path: PathBuf,
    /// The config with `set` and `enterprises` (its seed is replaced per replicate).
    pub base: config::Config,
    /// The overrides applied (the calibrated estimates), in file order.
    pub set: Vec<(String, toml::Value)>,
    /// Runs of the config.
    pub replicates: u64,
    /// Master seed: replicate r has the seed `derive_seed(seed, 0, r)`.
    pub seed: u64,
    /// Last month of the calibration window.
    pub calibration_end: Month,
    /// The record, in file order.
    pub observations: Vec<Observation>,
}

impl Backtest {
    /// The seed of replicate `r`.
    pub fn replicate_seed(&self, r: u64) -> u64 {
        crate::sim::rng::derive_seed(self.seed, 0, r)
    }

    /// The config of replicate `r`.
    pub fn config_of(&self, r: u64) -> config::Config {
        let mut c = self.base.clone();
        c.run.seed = self.replicate_seed(r);
        c
    }

    /// The series observed, each once, in order of first appearance.
    pub fn series(&self) -> Vec<Series> {
        let mut out: Vec<Series> = Vec::new();
        for o in &self.observations {
            if !out.contains(&o.series) {
                out.push(o.series.clone());
            }
        }
        out
    }
}

/// How the replicates compare with one observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Replicates that ran.
    pub n: usize,
    /// Mean of the simulated statistic.
    pub mean: f64,
    /// Its sample standard deviation (NaN for one replicate).
    pub sd: f64,
    /// 95 % confidence interval of the mean.
    pub ci: (f64, f64),
    /// 95 % prediction interval of one replicate (where one history would fall).
    pub band: (f64, f64),
    /// Simulated mean minus the observation: the distance to the observed range, signed,
    /// 0 inside it.
    pub error: f64,
    /// Whether the observed value or range meets the prediction interval.
    pub covered: bool,
}

/// The fit of the replicates' `values` (one per replicate) to an observed interval `[lo, hi]`
/// (`lo == hi` for a point).
pub fn fit(values: &[f64], observed: (f64, f64)) -> Fit {
    let n = values.len();
    let s = summarise(values, t975(n.saturating_sub(1)));
    let mean = s.mean.unwrap_or(f64::NAN);
    let sd = s.sd.unwrap_or(f64::NAN);
    let ci = (s.ci_low.unwrap_or(f64::NAN), s.ci_high.unwrap_or(f64::NAN));
    let half = t975(n.saturating_sub(1)) * sd * (1.0 + 1.0 / n as f64).sqrt();
    let band = (mean - half, mean + half);
    let (lo, hi) = observed;
    let error = if mean < lo {
        mean - lo
    } else if mean > hi {
        mean - hi
    } else {
        0.0
    };
    let covered = band.0 <= hi && lo <= band.1;
    Fit {
        n,
        mean,
        sd,
        ci,
        band,
        error,
        covered,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BacktestFile {
    base: Option<String>,
    replicates: Option<u64>,
    seed: Option<u64>,
    enterprises: Option<u64>,
    calibration_end: Option<String>,
    set: Option<toml::Table>,
    observations: Option<Vec<ObservationFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationFile {
    series: Option<String>,
    at: Option<String>,
    from: Option<String>,
    to: Option<String>,
    statistic: Option<Statistic>,
    value: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    source: Option<String>,
}

/// Reads and validates a backtest file. Nothing runs if this fails.
pub fn load(path: &Path) -> Result<Backtest, ConfigError> {
    load_with(path, &[])
}

/// [`load`] with `overrides` (`key=value`, as `run --set`) applied after the file's `set`, so
/// that a backtest can be rerun at other parameter values (e.g. the hand-set ones) without
/// editing the file. A bad override is named as `set."<key>"`.
pub fn load_with(path: &Path, overrides: &[String]) -> Result<Backtest, ConfigError> {
    let file = path.display().to_string();
    let (spec, text): (BacktestFile, String) = read_file(path)?;
    let r = Reader { file: &file };
    let mut set = spec.set.unwrap_or_default();
    let mut enterprises = spec.enterprises;
    for arg in overrides {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| ConfigError::new("--set", "", format!("expected key=value, got \"{arg}\"")))?;
        let (key, value) = (key.trim(), config::parse_value(value.trim()));
        // The file's `enterprises` is applied after its `set`; on the command line the
        // population must win over it too.
        if key == "run.enterprises" {
            let n = value.as_integer().and_then(|n| u64::try_from(n).ok()).ok_or_else(|| {
                ConfigError::new(
                    "--set",
                    key,
                    format!("must be a whole number of enterprises, got {value}"),
                )
            })?;
            enterprises = Some(n);
        } else {
            set.insert(key.to_string(), value);
        }
    }
    let base = base_with_set(path, spec.base, Some(set), enterprises, &r, "backtest")?;
    let run_start = Month::parse(&base.config.run.start).map_err(|e| r.err("base", e))?;
    let run_last = run_start.plus(i64::from(base.config.run.ticks) - 1);
    let replicates = match spec.replicates {
        Some(n) if n < 2 => {
            return Err(r.err(
                "replicates",
                format!("must be at least 2 (the prediction interval needs a spread), got {n}"),
            ));
        }
        Some(n) if n > 10_000 => return Err(r.err("replicates", format!("must be at most 10000, got {n}"))),
        Some(n) => n,
        None => 8,
    };
    let seed = spec.seed.unwrap_or(base.config.run.seed);
    let Some(end) = spec.calibration_end else {
        return Err(r.err(
            "calibration_end",
            "is missing: the last month of the calibration window, e.g. calibration_end = \"2022-09\"",
        ));
    };
    let calibration_end = r.month("calibration_end", &end, run_start, run_last)?;

    let list = spec.observations.unwrap_or_default();
    if list.is_empty() {
        return Err(r.err(
            "observations",
            "is missing: list at least one [[observations]] table with series, at (or from and to), value (or low and high) and source",
        ));
    }
    let mut observations = Vec::new();
    for (i, o) in list.into_iter().enumerate() {
        let at = format!("observations[{i}]");
        let Some(name) = o.series else {
            return Err(r.err(
                &format!("{at}.series"),
                "is missing: name a metrics.csv column or an agent's series, e.g. series = \"share.cloud.aws\"",
            ));
        };
        let series = Series::parse(&name, &base.config).ok_or_else(|| {
            r.err(
                &format!("{at}.series"),
                format!(
                    "\"{name}\" is not a series; expected a metrics.csv column ({}), or share.cloud.<provider>, share.model.<lab>, dependency.<lab>, lerner.<lab> or rent.<provider> with an agent of {}",
                    config::Metric::names().join(", "),
                    base.path.display()
                ),
            )
        })?;
        let (from, to) = r.window(&at, o.at, o.from, o.to, run_start, run_last)?;
        let statistic = o.statistic.unwrap_or(Statistic::Mean);
        if matches!(statistic, Statistic::Slope | Statistic::Change) && from == to {
            return Err(r.err(
                &format!("{at}.statistic"),
                format!("\"{}\" needs a window of at least two months", statistic.name()),
            ));
        }
        let finite = |key: &str, v: Option<f64>| match v {
            Some(x) if !x.is_finite() => {
                Err(r.err(&format!("{at}.{key}"), format!("must be a finite number, got {x}")))
            }
            v => Ok(v),
        };
        let value = finite("value", o.value)?;
        let low = finite("low", o.low)?;
        let high = finite("high", o.high)?;
        match (value, low, high) {
            (_, Some(lo), Some(hi)) if lo > hi => {
                return Err(r.err(&format!("{at}.high"), format!("must not be below low = {lo}, got {hi}")));
            }
            (Some(v), Some(lo), Some(hi)) if v < lo || v > hi => {
                return Err(r.err(
                    &format!("{at}.value"),
                    format!("must lie in the range low = {lo} … high = {hi}, got {v}"),
                ));
            }
            (_, Some(_), None) | (_, None, Some(_)) => {
                return Err(r.err(&at, "gives one end of a range; give both `low` and `high`, or neither"));
            }
            (None, None, None) => {
                return Err(r.err(&at, "needs the observed `value`, or a range `low` and `high`"));
            }
            _ => {}
        }
        let source = match o.source {
            Some(s) if !s.trim().is_empty() => s,
            _ => {
                return Err(r.err(
                    &format!("{at}.source"),
                    "is missing: say where the figure comes from, e.g. source = \"Synergy Q4 2022 (docs/DATA.md §1a)\"",
                ));
            }
        };
        observations.push(Observation {
            series,
            first_tick: from.ticks_since(run_start) as usize,
            last_tick: to.ticks_since(run_start) as usize,
            from,
            to,
            statistic,
            value,
            low,
            high,
            source,
            in_sample: to <= calibration_end,
        });
    }
    Ok(Backtest {
        file: path.to_path_buf(),
        file_hash: config::hash_bytes(text.as_bytes()),
        base_label: base.label,
        base_path: base.path,
        base: base.config,
        set: base.set,
        replicates,
        seed,
        calibration_end,
        observations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prediction_interval_is_wider_than_the_confidence_interval_by_root_n_plus_one() {
        let v = [1.0, 2.0, 3.0, 4.0];
        let f = fit(&v, (2.5, 2.5));
        // mean 2.5, sd √(5/3); t(0.975, 3) = 3.182446…
        let sd = (5.0f64 / 3.0).sqrt();
        let t = 3.182_446_305_284_263;
        assert!((f.mean - 2.5).abs() < 1e-12);
        assert!((f.sd - sd).abs() < 1e-12);
        assert!((f.ci.1 - (2.5 + t * sd / 2.0)).abs() < 1e-9);
        assert!((f.band.1 - (2.5 + t * sd * (1.25f64).sqrt())).abs() < 1e-9);
        // The band is √(n + 1) = √5 times the CI's half-width.
        let ratio = (f.band.1 - f.mean) / (f.ci.1 - f.mean);
        assert!((ratio - 5f64.sqrt()).abs() < 1e-9);
        assert_eq!(f.error, 0.0);
        assert!(f.covered);
    }

    #[test]
    fn error_is_the_signed_distance_to_the_observed_range_and_coverage_needs_overlap() {
        let v = [10.0, 10.2, 9.8, 10.0];
        // Observed range above the simulated values: negative error to its low end.
        let above = fit(&v, (12.0, 14.0));
        assert!((above.error - (10.0 - 12.0)).abs() < 1e-12);
        assert!(!above.covered, "band {:?}", above.band);
        // A range that reaches into the band is covered, with error to its nearest end.
        let reach = fit(&v, (10.3, 14.0));
        assert!((reach.error - (10.0 - 10.3)).abs() < 1e-12);
        assert!(reach.covered);
        // A point below: positive error.
        let below = fit(&v, (9.0, 9.0));
        assert!((below.error - 1.0).abs() < 1e-12);
        assert!(!below.covered);
    }
}
