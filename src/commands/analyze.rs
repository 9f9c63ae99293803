//! `aimarket analyze SWEEP_DIR`: Morris or Sobol' indices of a complete `design = "morris"` or
//! `"sobol"` sweep, per parameter and metric, written to `sensitivity.csv` in the sweep
//! directory and printed as a ranked table with the stability warnings.
//!
//! Nothing here guesses which run plays which role. The manifest records the design (method, k,
//! N or r and p, the design seed, the parameter keys); the design is rebuilt from it and checked
//! against points.csv value by value; point id = design row. The output of a point is the mean
//! of its replicates (the final value, the mean over ticks, or the value at one tick, from
//! runs.csv or summary.csv), and only when *every* replicate of the point finished with a finite
//! value: a point with a failed replicate is a failed row for the estimators, so the indices it
//! touches are computed without it (and are blank, with the reason, when too little is left).
//! The estimators are those of `crate::stats::sensitivity` (Sobol' on outputs centred on their
//! mean, which leaves V and ST unchanged and removes the variance a large mean adds to S1); for
//! Morris, the intervals are a percentile bootstrap over each parameter's elementary effects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::CommandError;
use crate::config::Metric;
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::stats::percentile;
use crate::stats::sensitivity::{
    Missing, MorrisDesign, ReplicateNoise, SobolOptions, StabilityWarning, Which, morris_indices, replicate_means,
    replicate_noise, sobol_indices, sobol_warnings,
};
use crate::sweep::manifest::{MANIFEST_FILE, STATE_FILE};
use crate::sweep::sensitivity_design::{Built, Method, SensitivityDesign};

/// The metrics analysed when no `--metric` is given: the headline outputs.
pub const DEFAULT_METRICS: [&str; 6] = [
    "hhi_cloud",
    "hhi_ai_channel",
    "hhi_model",
    "hhi_compute",
    "infrastructure_rent",
    "mean_lab_dependency",
];

/// Bootstrap resamples of every interval.
pub const BOOTSTRAP: usize = 1000;

/// Fewest used base samples for a Sobol' index (or N, when the design is smaller).
pub const MIN_BASE: usize = 32;

/// The file written into the sweep directory.
pub const SENSITIVITY_FILE: &str = "sensitivity.csv";

/// Header of sensitivity.csv.
pub const COLUMNS: [&str; 9] = [
    "parameter",
    "metric",
    "window",
    "index",
    "value",
    "ci_low",
    "ci_high",
    "n_used",
    "missing_reason",
];

/// The `parameter` of the replicate-noise rows.
pub const NOISE_PARAMETER: &str = "(replicates)";

/// Which value of a run is its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The value in the last tick (`final_<metric>` of runs.csv).
    Final,
    /// The mean over all ticks (`mean_<metric>` of runs.csv).
    Average,
    /// The value in one tick (0-based, as in summary.csv).
    Tick(usize),
}

impl Window {
    /// `final`, `average` or a tick number.
    pub fn parse(s: &str) -> Result<Window, String> {
        match s {
            "final" => Ok(Window::Final),
            "average" => Ok(Window::Average),
            _ => s.parse::<usize>().map(Window::Tick).map_err(|_| {
                format!("--window must be `final`, `average` or a tick number (0-based, as in summary.csv), got `{s}`")
            }),
        }
    }

    /// The `window` column: `final`, `average` or `tick:T`.
    pub fn label(self) -> String {
        match self {
            Window::Final => "final".into(),
            Window::Average => "average".into(),
            Window::Tick(t) => format!("tick:{t}"),
        }
    }
}

/// The metrics named by `--metric` (the defaults when none), in the order given, without
/// duplicates; an unknown name is an error listing the known ones.
pub fn parse_metrics(names: &[String]) -> Result<Vec<Metric>, String> {
    let names: Vec<String> = if names.is_empty() {
        DEFAULT_METRICS.iter().map(|s| s.to_string()).collect()
    } else {
        names.to_vec()
    };
    let mut out: Vec<Metric> = Vec::new();
    for n in &names {
        let m = Metric::from_name(n).ok_or_else(|| {
            format!(
                "--metric: unknown metric `{n}`; the metrics are {}",
                Metric::names().join(", ")
            )
        })?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// A validated `analyze`.
#[derive(Debug, Clone)]
pub struct AnalyzePlan {
    /// The sweep's output directory.
    pub dir: PathBuf,
    /// Metrics to analyse.
    pub metrics: Vec<Metric>,
    /// Which value of a run is its output.
    pub window: Window,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// One row of sensitivity.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Axis key, or [`NOISE_PARAMETER`].
    pub parameter: String,
    /// Metric name.
    pub metric: String,
    /// [`Window::label`].
    pub window: String,
    /// `mu`, `mu_star`, `sigma`, `S1`, `ST`, `noise_variance`, `noise_share`, `mean_noise_share`.
    pub index: &'static str,
    /// The estimate; `None`: missing (see `missing_reason`).
    pub value: Option<f64>,
    /// Lower end of the 95 % bootstrap interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
    /// Base samples (Sobol'), elementary effects (Morris) or points (noise) used.
    pub n_used: usize,
    /// Why the value is blank.
    pub missing_reason: Option<String>,
}

impl Row {
    fn fields(&self) -> [String; 9] {
        let num = |v: Option<f64>| v.map(format_number).unwrap_or_default();
        [
            self.parameter.clone(),
            self.metric.clone(),
            self.window.clone(),
            self.index.to_string(),
            num(self.value),
            num(self.ci_low),
            num(self.ci_high),
            self.n_used.to_string(),
            self.missing_reason.clone().unwrap_or_default(),
        ]
    }
}

fn bad(dir: &Path, problem: impl std::fmt::Display) -> CommandError {
    CommandError::BadInput(format!("{}: {problem}", dir.display()))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CommandError + '_ {
    move |e| CommandError::failed(format!("cannot read {}: {e}", path.display()))
}

/// What the manifest says about the sweep.
#[derive(Debug)]
struct Sweep {
    design: SensitivityDesign,
    built: Built,
    replicates: usize,
    /// (min, max) of every axis, in coordinate order.
    ranges: Vec<(f64, f64)>,
}

fn load_sweep(dir: &Path) -> Result<Sweep, CommandError> {
    if !dir.is_dir() {
        return Err(bad(dir, "is not a sweep directory (no such directory)"));
    }
    let path = dir.join(MANIFEST_FILE);
    if !path.is_file() {
        return Err(if dir.join(STATE_FILE).is_file() {
            bad(
                dir,
                "holds an incomplete sweep (no manifest.json yet): finish it with `aimarket sweep SWEEP --out DIR --resume`, \
                 or merge its shards with `aimarket merge`",
            )
        } else {
            bad(dir, "is not a sweep directory (no manifest.json)")
        });
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(dir, format!("manifest.json is not valid JSON: {e}")))?;
    if m.get("base_config").is_none() || m.get("counts").is_none() {
        return Err(bad(
            dir,
            "is not a sweep directory (manifest.json is not a sweep's manifest)",
        ));
    }
    if let Some(s) = m.get("shard") {
        return Err(bad(
            dir,
            format!(
                "is one shard ({}/{}) of a sweep; merge the shards with `aimarket merge` and analyze the merged directory",
                s["index"], s["count"]
            ),
        ));
    }
    let design_name = m["design"].as_str().unwrap_or("?");
    let Some(record) = m.get("sensitivity") else {
        return Err(bad(
            dir,
            format!(
                "is a design = \"{design_name}\" sweep; analyze needs a design = \"morris\" or \"sobol\" sweep \
                 (see README, Sensitivity analysis)"
            ),
        ));
    };
    let design: SensitivityDesign = serde_json::from_value(record.clone())
        .map_err(|e| bad(dir, format!("manifest.json: `sensitivity` is not a design record: {e}")))?;
    if design.method.name() != design_name {
        return Err(bad(
            dir,
            format!(
                "manifest.json: design = \"{design_name}\" but the sensitivity record is for \"{}\"",
                design.method.name()
            ),
        ));
    }
    let built = design.build().map_err(|e| {
        bad(
            dir,
            format!("manifest.json: the recorded design cannot be rebuilt: {e}"),
        )
    })?;
    let replicates = m["counts"]["replicates"].as_u64().unwrap_or(0) as usize;
    let points = m["counts"]["points"].as_u64().unwrap_or(0) as usize;
    if replicates == 0 || points != built.len() {
        return Err(bad(
            dir,
            format!(
                "manifest.json: counts say {points} points × {replicates} replicates, the design has {} rows",
                built.len()
            ),
        ));
    }
    let axes = m["axes"].as_array().cloned().unwrap_or_default();
    let mut ranges = Vec::new();
    for (i, key) in design.parameters.iter().enumerate() {
        let a = axes.get(i);
        let (min, max) = match (
            a.and_then(|a| a["range"]["min"].as_f64()),
            a.and_then(|a| a["range"]["max"].as_f64()),
        ) {
            (Some(lo), Some(hi)) if a.and_then(|a| a["key"].as_str()) == Some(key) => (lo, hi),
            _ => {
                return Err(bad(
                    dir,
                    format!("manifest.json: axes[{i}] is not the range axis `{key}`"),
                ));
            }
        };
        ranges.push((min, max));
    }
    Ok(Sweep {
        design,
        built,
        replicates,
        ranges,
    })
}

fn reader(path: &Path) -> Result<csv::Reader<std::fs::File>, CommandError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    Ok(csv::ReaderBuilder::new().has_headers(true).from_reader(file))
}

fn corrupt(path: &Path, problem: impl std::fmt::Display) -> CommandError {
    CommandError::BadInput(format!("{}: {problem}", path.display()))
}

/// The header row of a table.
fn headers(r: &mut csv::Reader<std::fs::File>, path: &Path) -> Result<Vec<String>, CommandError> {
    Ok(r.headers()
        .map_err(|e| corrupt(path, e))?
        .iter()
        .map(String::from)
        .collect())
}

/// The position of a named column, or an error naming the table.
fn column(header: &[String], path: &Path, name: &str) -> Result<usize, CommandError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| corrupt(path, format!("has no column `{name}`")))
}

/// Checks points.csv against the rebuilt design: one row per design row, in order, each value
/// the design's coordinate mapped to its range (rounded for integer keys).
fn check_points(dir: &Path, sweep: &Sweep) -> Result<(), CommandError> {
    let path = dir.join("points.csv");
    let mut r = reader(&path)?;
    let header = headers(&mut r, &path)?;
    let mut want = vec!["point".to_string()];
    want.extend(sweep.design.parameters.iter().cloned());
    if header != want {
        return Err(corrupt(
            &path,
            format!("has columns {header:?}, the design's are {want:?}"),
        ));
    }
    let mut n = 0;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| corrupt(&path, e))?;
        if i >= sweep.built.len() || rec.get(0) != Some(i.to_string().as_str()) {
            return Err(corrupt(&path, format!("row {} is not design row {i}", i + 1)));
        }
        for (c, (&u, &(lo, hi))) in sweep.built.row(i).iter().zip(&sweep.ranges).enumerate() {
            let x = lo + (hi - lo) * u;
            let text = rec.get(c + 1).unwrap_or("");
            if text != format_number(x) && text != (x.round() as i64).to_string() {
                return Err(corrupt(
                    &path,
                    format!(
                        "point {i}: {} = {text}, but design row {i} gives {} (was the file edited?)",
                        sweep.design.parameters[c],
                        format_number(x)
                    ),
                ));
            }
        }
        n += 1;
    }
    if n != sweep.built.len() {
        return Err(corrupt(
            &path,
            format!("has {n} points, the design has {}", sweep.built.len()),
        ));
    }
    Ok(())
}

/// Per point, per metric: the finished replicate values, and why the point cannot be used.
struct Outputs {
    /// `[metric][point]` → finished (finite) replicate values.
    groups: Vec<Vec<Vec<f64>>>,
    /// `[metric][point]` → why the point is a failed row.
    problem: Vec<Vec<Option<String>>>,
}

/// Reads runs.csv: checks it is complete and collects the `final_`/`mean_` values.
fn read_runs(dir: &Path, sweep: &Sweep, metrics: &[Metric], window: Window) -> Result<Outputs, CommandError> {
    let path = dir.join("runs.csv");
    let mut r = reader(&path)?;
    let header = headers(&mut r, &path)?;
    let col = |name: &str| column(&header, &path, name);
    let (c_point, c_rep, c_status, c_error) = (col("point")?, col("replicate")?, col("status")?, col("error")?);
    let prefix = match window {
        Window::Final => "final_",
        _ => "mean_",
    };
    let c_metric: Vec<usize> = metrics
        .iter()
        .map(|m| col(&format!("{prefix}{}", m.name())))
        .collect::<Result<_, _>>()?;
    let points = sweep.built.len();
    let reps = sweep.replicates;
    let mut seen = vec![false; points * reps];
    let mut out = Outputs {
        groups: vec![vec![Vec::new(); points]; metrics.len()],
        problem: vec![vec![None; points]; metrics.len()],
    };
    for rec in r.records() {
        let rec = rec.map_err(|e| corrupt(&path, e))?;
        let get = |c: usize| rec.get(c).unwrap_or("");
        let (p, q) = match (get(c_point).parse::<usize>(), get(c_rep).parse::<usize>()) {
            (Ok(p), Ok(q)) if p < points && q < reps => (p, q),
            _ => {
                return Err(corrupt(
                    &path,
                    format!(
                        "has a run of point `{}` replicate `{}` outside the design",
                        get(c_point),
                        get(c_rep)
                    ),
                ));
            }
        };
        if std::mem::replace(&mut seen[p * reps + q], true) {
            return Err(corrupt(&path, format!("has point {p} replicate {q} twice")));
        }
        let ok = get(c_status) == "ok";
        for (mi, &c) in c_metric.iter().enumerate() {
            let value = get(c).parse::<f64>().ok().filter(|v| v.is_finite());
            match (ok, value) {
                (true, Some(v)) => out.groups[mi][p].push(v),
                (true, None) => {
                    out.problem[mi][p].get_or_insert_with(|| {
                        format!("point {p} replicate {q} has no finite {}{}", prefix, metrics[mi].name())
                    });
                }
                (false, _) => {
                    out.problem[mi][p]
                        .get_or_insert_with(|| format!("point {p} replicate {q} failed: {}", get(c_error)));
                }
            }
        }
    }
    let missing = seen.iter().filter(|s| !**s).count();
    if missing > 0 {
        return Err(bad(
            dir,
            format!("is incomplete: runs.csv lacks {missing} of its {} runs", points * reps),
        ));
    }
    Ok(out)
}

/// Per metric, per point at tick `t` from summary.csv: (n, mean, sd).
type Moments = Vec<Vec<Option<(usize, Option<f64>, Option<f64>)>>>;

fn read_summary(dir: &Path, sweep: &Sweep, metrics: &[Metric], t: usize) -> Result<Moments, CommandError> {
    let path = dir.join("summary.csv");
    let mut r = reader(&path)?;
    let header = headers(&mut r, &path)?;
    let col = |name: &str| column(&header, &path, name);
    let (cp, ct, cm, cn, cmean, csd) = (
        col("point")?,
        col("tick")?,
        col("metric")?,
        col("n")?,
        col("mean")?,
        col("sd")?,
    );
    let points = sweep.built.len();
    let mut out: Moments = vec![vec![None; points]; metrics.len()];
    let mut last_tick: Option<usize> = None;
    for rec in r.records() {
        let rec = rec.map_err(|e| corrupt(&path, e))?;
        let get = |c: usize| rec.get(c).unwrap_or("");
        let tick: usize = get(ct)
            .parse()
            .map_err(|_| corrupt(&path, format!("tick `{}`", get(ct))))?;
        last_tick = Some(last_tick.map_or(tick, |l| l.max(tick)));
        if tick != t {
            continue;
        }
        let Some(mi) = metrics.iter().position(|m| m.name() == get(cm)) else {
            continue;
        };
        let p: usize = match get(cp).parse() {
            Ok(p) if p < points => p,
            _ => return Err(corrupt(&path, format!("point `{}` outside the design", get(cp)))),
        };
        let n: usize = get(cn).parse().unwrap_or(0);
        let num = |c: usize| get(c).parse::<f64>().ok().filter(|v| v.is_finite());
        out[mi][p] = Some((n, num(cmean), num(csd)));
    }
    match last_tick {
        Some(last) if t <= last => Ok(out),
        Some(last) => Err(bad(
            dir,
            format!("--window {t}: tick out of range; the sweep's runs have ticks 0 to {last}"),
        )),
        None => Err(bad(dir, "--window: summary.csv has no rows (every run failed?)")),
    }
}

/// Replicate noise from per-point (n, mean, sd): the same quantities as
/// [`replicate_noise`], from sufficient statistics (pooled SS = Σ (n−1)s² + n(ȳ_p − ȳ)²).
fn noise_from_moments(m: &[(usize, f64, Option<f64>)]) -> Option<ReplicateNoise> {
    let with_two: Vec<(usize, f64)> = m
        .iter()
        .filter_map(|&(n, _, sd)| Some((n, sd?)))
        .filter(|(n, _)| *n >= 2)
        .collect();
    if with_two.is_empty() || m.len() < 2 {
        return None;
    }
    let points = with_two.len();
    let within = with_two.iter().map(|(_, s)| s * s).sum::<f64>() / points as f64;
    let within_of_mean = with_two.iter().map(|(n, s)| s * s / *n as f64).sum::<f64>() / points as f64;
    let total_n: usize = m.iter().map(|x| x.0).sum();
    let grand = m.iter().map(|&(n, mean, _)| n as f64 * mean).sum::<f64>() / total_n as f64;
    let ss: f64 = m
        .iter()
        .map(|&(n, mean, sd)| (n as f64 - 1.0) * sd.unwrap_or(0.0).powi(2) + n as f64 * (mean - grand).powi(2))
        .sum();
    let total = ss / (total_n as f64 - 1.0);
    let means: Vec<f64> = m.iter().map(|x| x.1).collect();
    let mm = means.iter().sum::<f64>() / means.len() as f64;
    let mean_variance = means.iter().map(|x| (x - mm).powi(2)).sum::<f64>() / (means.len() - 1) as f64;
    Some(ReplicateNoise {
        points,
        within_variance: within,
        total_variance: total,
        noise_share: (total > 0.0).then(|| within / total),
        mean_variance,
        mean_noise_share: (mean_variance > 0.0).then(|| within_of_mean / mean_variance),
    })
}

/// The elementary effects of each parameter, in trajectory order (both rows finished), as in
/// `stats::sensitivity::morris_indices`.
fn morris_effects(d: &MorrisDesign, y: &[Option<f64>]) -> Vec<Vec<f64>> {
    let mut effects = vec![Vec::new(); d.k()];
    for t in 0..d.trajectories() {
        for m in 1..=d.k() {
            if let (Some(b), Some(a)) = (y[d.row_index(t, m - 1)], y[d.row_index(t, m)]) {
                effects[d.moved(t, m)].push((a - b) / d.step(t, m));
            }
        }
    }
    effects
}

/// Percentile-bootstrap 95 % intervals of (μ, μ*, σ) over a parameter's effects.
fn morris_bootstrap(effects: &[f64], seed: u64) -> [(Option<f64>, Option<f64>); 3] {
    let n = effects.len();
    if n < 2 {
        return [(None, None); 3];
    }
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut mu, mut mu_star, mut sigma) = (Vec::new(), Vec::new(), Vec::new());
    let mut s = vec![0.0; n];
    for _ in 0..BOOTSTRAP {
        for v in s.iter_mut() {
            *v = effects[g.random_range(0..n)];
        }
        let m = s.iter().sum::<f64>() / n as f64;
        mu.push(m);
        mu_star.push(s.iter().map(|e| e.abs()).sum::<f64>() / n as f64);
        sigma.push((s.iter().map(|e| (e - m) * (e - m)).sum::<f64>() / (n - 1) as f64).sqrt());
    }
    [mu, mu_star, sigma].map(|mut v| {
        v.sort_by(f64::total_cmp);
        (percentile(&v, 0.025), percentile(&v, 0.975))
    })
}

/// A short reason naming how many points failed and the first failure.
fn failures(problem: &[Option<String>]) -> String {
    let bad: Vec<&String> = problem.iter().flatten().collect();
    match bad.first() {
        None => "no point failed".to_string(),
        Some(first) => format!("{} failed point(s), first: {first}", bad.len()),
    }
}

/// Everything computed for one metric.
struct Analysis {
    rows: Vec<Row>,
    warnings: Vec<String>,
    noise: Option<ReplicateNoise>,
    failed_points: usize,
}

fn analyse(
    sweep: &Sweep,
    metric: Metric,
    window: Window,
    y: &[Option<f64>],
    problem: &[Option<String>],
    noise: Option<ReplicateNoise>,
) -> Result<Analysis, CommandError> {
    let name = metric.name().to_string();
    let label = window.label();
    let params = &sweep.design.parameters;
    let row = |parameter: &str,
               index: &'static str,
               value: Option<f64>,
               ci: (Option<f64>, Option<f64>),
               n_used: usize,
               reason: Option<String>| Row {
        parameter: parameter.to_string(),
        metric: name.clone(),
        window: label.clone(),
        index,
        value,
        ci_low: value.and(ci.0),
        ci_high: value.and(ci.1),
        n_used,
        missing_reason: if value.is_none() { reason } else { None },
    };
    let failed = failures(problem);
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    let estimator = |e| CommandError::failed(format!("{name}: {e}"));
    match &sweep.built {
        Built::Sobol(d) => {
            let opts = SobolOptions {
                bootstrap: BOOTSTRAP,
                seed: sweep.design.design_seed,
                min_base: MIN_BASE.min(d.n()),
                confidence: 0.95,
            };
            // Centre the outputs: V and the Jansen ST are shift invariant, and the S1 estimator
            // (1/n) Σ f_B (f_i − f_A) keeps its expectation (E[f_i − f_A] = 0) but loses the
            // variance a large mean adds to it (an HHI near 2,000 otherwise swamps S1).
            let ok: Vec<f64> = y.iter().flatten().copied().collect();
            let centre = if ok.is_empty() {
                0.0
            } else {
                ok.iter().sum::<f64>() / ok.len() as f64
            };
            let centred: Vec<Option<f64>> = y.iter().map(|v| v.map(|v| v - centre)).collect();
            let ix = sobol_indices(d, &centred, &opts).map_err(estimator)?;
            for (p, key) in ix.params.iter().zip(params) {
                let reason = p.missing.map(|m| match m {
                    Missing::TooFewBaseSamples { used, required } => format!(
                        "only {used} of {} base samples have A, B and AB_i all finished, {required} needed ({failed})",
                        d.n()
                    ),
                    Missing::ZeroVariance => "the output does not vary over the design".to_string(),
                });
                rows.push(row(
                    key,
                    "S1",
                    p.s1.value,
                    (p.s1.ci_low, p.s1.ci_high),
                    p.n_used,
                    reason.clone(),
                ));
                rows.push(row(
                    key,
                    "ST",
                    p.st.value,
                    (p.st.ci_low, p.st.ci_high),
                    p.n_used,
                    reason,
                ));
            }
            for w in sobol_warnings(&ix) {
                let which = |i: Which| if i == Which::S1 { "S1" } else { "ST" };
                warnings.push(match w {
                    StabilityWarning::SmallBaseSample { n, threshold } => format!(
                        "N = {n} base samples is below {threshold}: an index may be off by more than ±0.1 (docs/SENSITIVITY.md §1.7)"
                    ),
                    StabilityWarning::NotPowerOfTwo { n } => {
                        format!("N = {n} is not a power of two: the Sobol' balance properties are lost")
                    }
                    StabilityWarning::Missing { param, .. } => {
                        format!("{}: S1 and ST are missing ({failed})", params[param])
                    }
                    StabilityWarning::WideInterval {
                        param,
                        index,
                        half_width,
                    } => format!(
                        "{}: the 95 % interval of {} is wide (half-width {half_width:.3})",
                        params[param],
                        which(index)
                    ),
                    StabilityWarning::NegativeS1 { param, estimate, .. } => format!(
                        "{}: S1 = {estimate:.3} is negative beyond its interval (a true S1 is ≥ 0: too few base samples)",
                        params[param]
                    ),
                    StabilityWarning::S1AboveST { param } => format!(
                        "{}: the interval of S1 lies wholly above that of ST (a true S1 ≤ ST: too few base samples)",
                        params[param]
                    ),
                });
            }
        }
        Built::Morris(d) => {
            let ix = morris_indices(d, y).map_err(estimator)?;
            let effects = morris_effects(d, y);
            for (i, (p, key)) in ix.params.iter().zip(params).enumerate() {
                let ci = morris_bootstrap(
                    &effects[i],
                    sweep.design.design_seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let none = || Some(format!("no elementary effect has both of its runs finished ({failed})"));
                let one = || {
                    Some(if p.n_effects == 1 {
                        format!("σ needs two elementary effects, there is one ({failed})")
                    } else {
                        format!("no elementary effect has both of its runs finished ({failed})")
                    })
                };
                rows.push(row(key, "mu", p.mu, ci[0], p.n_effects, none()));
                rows.push(row(key, "mu_star", p.mu_star, ci[1], p.n_effects, none()));
                rows.push(row(key, "sigma", p.sigma, ci[2], p.n_effects, one()));
                if p.n_effects < d.trajectories() && p.n_effects > 0 {
                    warnings.push(format!(
                        "{key}: {} of {} elementary effects (the others touch a failed point: {failed})",
                        p.n_effects,
                        d.trajectories()
                    ));
                }
            }
            if d.trajectories() < 10 {
                warnings.push(format!(
                    "r = {} trajectories: Morris screening usually needs 10 or more to rank reliably",
                    d.trajectories()
                ));
            }
        }
    }
    if sweep.replicates >= 2 {
        let reason = Some("fewer than two points have two or more finished replicates".to_string());
        let (a, b, c, n) = match &noise {
            Some(n) => (Some(n.within_variance), n.noise_share, n.mean_noise_share, n.points),
            None => (None, None, None, 0),
        };
        rows.push(row(
            NOISE_PARAMETER,
            "noise_variance",
            a,
            (None, None),
            n,
            reason.clone(),
        ));
        rows.push(row(NOISE_PARAMETER, "noise_share", b, (None, None), n, reason.clone()));
        rows.push(row(NOISE_PARAMETER, "mean_noise_share", c, (None, None), n, reason));
        if let Some(share) = c.filter(|s| *s > 0.1) {
            warnings.push(format!(
                "replicate noise is {:.0} % of the variance of the point means: the indices are shares of a variance \
                 that includes it (seed noise acts as one more input; see docs/SENSITIVITY.md §1.6); raise replicates",
                share * 100.0
            ));
        }
    }
    Ok(Analysis {
        rows,
        warnings,
        noise,
        failed_points: problem.iter().filter(|p| p.is_some()).count(),
    })
}

/// Reads the rows of an existing sensitivity.csv (to keep those of other metrics and windows);
/// none when the file is missing or not ours.
fn existing_rows(path: &Path) -> Vec<[String; 9]> {
    let Ok(mut r) = reader(path) else { return Vec::new() };
    match r.headers() {
        Ok(h) if h.iter().eq(COLUMNS.iter().copied()) => {}
        _ => return Vec::new(),
    }
    r.records()
        .filter_map(|rec| {
            let rec = rec.ok()?;
            let v: Vec<String> = rec.iter().map(String::from).collect();
            v.try_into().ok()
        })
        .collect()
}

fn write_csv(dir: &Path, rows: &[Row]) -> Result<PathBuf, CommandError> {
    let path = dir.join(SENSITIVITY_FILE);
    let fresh: BTreeSet<(String, String)> = rows.iter().map(|r| (r.metric.clone(), r.window.clone())).collect();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let fail = |e: csv::Error| CommandError::failed(format!("cannot write {}: {e}", path.display()));
    w.write_record(COLUMNS).map_err(fail)?;
    for old in existing_rows(&path) {
        if !fresh.contains(&(old[1].clone(), old[2].clone())) {
            w.write_record(&old).map_err(fail)?;
        }
    }
    for r in rows {
        w.write_record(r.fields()).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| fail(e.into_error().into()))?;
    write_atomic(dir, SENSITIVITY_FILE, &bytes)
        .map_err(|e| CommandError::failed(format!("cannot write {}: {e}", path.display())))
}

/// The results of an analysis, for the command and the tests.
pub fn analyze(plan: &AnalyzePlan) -> Result<(Vec<Row>, String, Vec<String>), CommandError> {
    let dir = &plan.dir;
    let sweep = load_sweep(dir)?;
    check_points(dir, &sweep)?;
    let runs = read_runs(dir, &sweep, &plan.metrics, plan.window)?;
    let summary = match plan.window {
        Window::Tick(t) => Some(read_summary(dir, &sweep, &plan.metrics, t)?),
        _ => None,
    };
    let reps = sweep.replicates;
    let mut rows = Vec::new();
    let mut report = String::new();
    let mut warnings = Vec::new();
    for (mi, &metric) in plan.metrics.iter().enumerate() {
        let mut problem = runs.problem[mi].clone();
        let (y, noise) = match &summary {
            None => {
                let means = replicate_means(&runs.groups[mi]);
                let y: Vec<Option<f64>> = means
                    .iter()
                    .zip(&problem)
                    .map(|(m, p)| if p.is_none() { *m } else { None })
                    .collect();
                (y, replicate_noise(&runs.groups[mi]))
            }
            Some(s) => {
                let Window::Tick(t) = plan.window else { unreachable!() };
                let mut y = Vec::with_capacity(sweep.built.len());
                let mut moments = Vec::new();
                for (p, cell) in s[mi].iter().enumerate() {
                    match cell {
                        Some((n, Some(mean), sd)) if *n == reps && problem[p].is_none() => {
                            y.push(Some(*mean));
                            moments.push((*n, *mean, *sd));
                        }
                        _ => {
                            problem[p].get_or_insert_with(|| {
                                format!("point {p} has no value at tick {t} for every replicate")
                            });
                            y.push(None);
                        }
                    }
                }
                (y, noise_from_moments(&moments))
            }
        };
        let a = analyse(&sweep, metric, plan.window, &y, &problem, noise)?;
        report.push_str(&table(&sweep, metric, plan.window, &a));
        warnings.extend(a.warnings.iter().map(|w| format!("{}: {w}", metric.name())));
        rows.extend(a.rows);
    }
    Ok((rows, report, warnings))
}

/// The ranked table of one metric: by ST (Sobol') or μ* (Morris), missing values last.
fn table(sweep: &Sweep, metric: Metric, window: Window, a: &Analysis) -> String {
    use std::fmt::Write;
    let d = &sweep.design;
    let mut s = String::new();
    let size = match d.method {
        Method::Sobol => format!("N = {}", d.base_samples.unwrap_or(0)),
        Method::Morris => format!("r = {}, p = {}", d.trajectories.unwrap_or(0), d.levels.unwrap_or(0)),
    };
    let _ = writeln!(
        s,
        "\n{} — {} ({}, {size}, k = {}, {} points × {} replicates, {} failed points)",
        metric.name(),
        window.label(),
        d.method.name(),
        d.k,
        d.rows,
        sweep.replicates,
        a.failed_points
    );
    let (first, second, third) = match d.method {
        Method::Sobol => ("ST", "S1", None),
        Method::Morris => ("mu_star", "mu", Some("sigma")),
    };
    let get = |p: &str, i: &str| a.rows.iter().find(|r| r.parameter == p && r.index == i);
    let mut order: Vec<&String> = d.parameters.iter().collect();
    order.sort_by(|x, y| {
        let v = |p: &str| get(p, first).and_then(|r| r.value);
        match (v(x), v(y)) {
            (Some(a), Some(b)) => b.total_cmp(&a),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    let width = d.parameters.iter().map(|p| p.chars().count()).max().unwrap_or(9).max(9);
    let cell = |r: Option<&Row>| match r {
        Some(Row {
            value: Some(v),
            ci_low,
            ci_high,
            ..
        }) => match (ci_low, ci_high) {
            (Some(lo), Some(hi)) => format!("{v:>8.3} [{lo:>7.3}, {hi:>7.3}]"),
            _ => format!("{v:>8.3} {:>18}", ""),
        },
        _ => format!("{:>8} {:>18}", "—", ""),
    };
    let _ = write!(
        s,
        "{:>4}  {:<width$}  {:>27}  {:>27}",
        "rank",
        "parameter",
        format!("{first} [95% CI]"),
        format!("{second} [95% CI]")
    );
    if let Some(t) = third {
        let _ = write!(s, "  {:>27}", format!("{t} [95% CI]"));
    }
    let _ = writeln!(s, "  {:>5}", "n");
    for (rank, p) in order.iter().enumerate() {
        let _ = write!(
            s,
            "{:>4}  {:<width$}  {:>27}  {:>27}",
            rank + 1,
            p,
            cell(get(p, first)),
            cell(get(p, second))
        );
        if let Some(t) = third {
            let _ = write!(s, "  {:>27}", cell(get(p, t)));
        }
        let _ = writeln!(s, "  {:>5}", get(p, first).map_or(0, |r| r.n_used));
    }
    if let Some(n) = &a.noise {
        let pct = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{:.1} %", v * 100.0));
        let _ = writeln!(
            s,
            "replicate noise: variance {} ({} of single-run variance, {} of the variance of point means)",
            format_number(n.within_variance),
            pct(n.noise_share),
            pct(n.mean_noise_share)
        );
    }
    s
}

/// Analyses the sweep, writes sensitivity.csv, prints the ranked tables and the warnings.
pub fn execute(plan: &AnalyzePlan) -> Result<(), CommandError> {
    let (rows, report, warnings) = analyze(plan)?;
    let path = write_csv(&plan.dir, &rows)?;
    if !plan.quiet {
        print!("{report}");
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
