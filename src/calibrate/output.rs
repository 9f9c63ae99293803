//! The files of a finished calibration, each written atomically (`crate::output::atomic`), the
//! manifest last: evaluations.csv, fit.csv, best.json, calibrated.toml, manifest.json. All
//! numbers are shortest round-trip decimals and nothing but the manifest's `timing` depends on
//! the session, so two calibrations of the same file are byte-identical whatever the thread
//! count.

use std::path::Path;

use serde_json::json;

use super::error::CalibrateError;
use super::optimise::{Record, Termination};
use super::spec::Calibration;
use crate::config;
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::stats::{summarise, t975};

/// The manifest, whose presence means the calibration is complete.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The result files, in the order they are written (the manifest last).
pub const FILES: [&str; 5] = [
    "evaluations.csv",
    "fit.csv",
    "best.json",
    "calibrated.toml",
    MANIFEST_FILE,
];

/// What the session did, for the manifest's `timing`.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// Worker threads.
    pub threads: usize,
    /// Evaluations simulated in this session.
    pub ran_now: u64,
    /// Wall time of this session, seconds.
    pub wall_seconds: f64,
}

/// The index of the best evaluation: the lowest objective, the earliest on a tie, among the
/// search's evaluations (not the standard errors' points around it); `None` when every
/// evaluation failed.
pub fn best(records: &[Record]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in records.iter().enumerate() {
        if r.stage != super::optimise::Stage::Jacobian
            && r.objective.is_finite()
            && best.is_none_or(|b| r.objective < records[b].objective)
        {
            best = Some(i);
        }
    }
    best
}

fn csv_bytes(rows: Vec<Vec<String>>, path: &Path) -> Result<Vec<u8>, CalibrateError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(&row).map_err(|e| CalibrateError::Encode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    w.into_inner().map_err(|e| CalibrateError::Encode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn write(out: &Path, name: &str, bytes: &[u8]) -> Result<(), CalibrateError> {
    write_atomic(out, name, bytes).map_err(CalibrateError::io("write", &out.join(name)))?;
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map(format_number).unwrap_or_default()
}

/// evaluations.csv: every distinct evaluation in the order it was first requested.
pub fn write_evaluations(out: &Path, cal: &Calibration, records: &[Record]) -> Result<(), CalibrateError> {
    let mut header = vec!["evaluation".to_string(), "stage".to_string()];
    header.extend(cal.parameters.iter().map(|p| p.key.clone()));
    header.extend(["objective", "status", "error"].map(String::from));
    header.extend(cal.moments.iter().map(|m| format!("sim_{}", m.name)));
    let mut rows = vec![header];
    for (i, r) in records.iter().enumerate() {
        let mut row = vec![i.to_string(), r.stage.name().to_string()];
        row.extend(r.eval.x.iter().map(|v| format_number(*v)));
        let means = r.eval.means();
        match (&means, r.eval.error()) {
            (Some(_), None) => row.extend([format_number(r.objective), "ok".into(), String::new()]),
            (_, e) => row.extend([String::new(), "failed".into(), e.unwrap_or_default()]),
        }
        match means {
            Some(m) => row.extend(m.iter().map(|v| format_number(*v))),
            None => row.extend(cal.moments.iter().map(|_| String::new())),
        }
        rows.push(row);
    }
    let path = out.join("evaluations.csv");
    write(out, "evaluations.csv", &csv_bytes(rows, &path)?)
}

/// Writes fit.csv, best.json, calibrated.toml and then manifest.json for the best evaluation
/// `best` of `records` (evaluations.csv must be written already); `standard_errors`, one per
/// parameter, when they were computed (`uncertainty`).
pub fn write_results(
    out: &Path,
    cal: &Calibration,
    records: &[Record],
    best: usize,
    termination: Termination,
    session: Session,
    standard_errors: Option<&[f64]>,
) -> Result<(), CalibrateError> {
    let rec = &records[best];
    let n = cal.replicates as usize;
    let t = t975(n.saturating_sub(1));

    // fit.csv
    let mut rows = vec![
        [
            "moment",
            "metric",
            "from",
            "to",
            "statistic",
            "target",
            "se",
            "weight",
            "n",
            "simulated_mean",
            "simulated_sd",
            "ci_low",
            "ci_high",
            "z",
            "contribution",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut fit = Vec::new();
    for (i, m) in cal.moments.iter().enumerate() {
        let s = summarise(&rec.eval.values(i), t);
        let mean = s.mean.unwrap_or(f64::NAN);
        let dev = mean - m.target;
        let z = dev * m.weight.sqrt();
        let contribution = m.weight * dev * dev;
        rows.push(vec![
            m.name.clone(),
            m.metric.name(),
            m.from.to_string(),
            m.to.to_string(),
            m.statistic.name().to_string(),
            format_number(m.target),
            opt(m.se),
            format_number(m.weight),
            s.n.to_string(),
            format_number(mean),
            opt(s.sd),
            opt(s.ci_low),
            opt(s.ci_high),
            format_number(z),
            format_number(contribution),
        ]);
        fit.push(json!({
            "moment": m.name,
            "target": m.target,
            "simulated_mean": mean,
            "ci_low": s.ci_low,
            "ci_high": s.ci_high,
            "z": z,
        }));
    }
    let path = out.join("fit.csv");
    write(out, "fit.csv", &csv_bytes(rows, &path)?)?;

    // best.json
    let parameters: Vec<serde_json::Value> = cal
        .parameters
        .iter()
        .zip(&rec.eval.x)
        .enumerate()
        .map(|(i, (p, v))| {
            json!({
                "key": p.key,
                "value": v,
                "standard_error": standard_errors.map(|se| se[i]),
                "lower": p.lower,
                "upper": p.upper,
                "start": p.start,
                "at_bound": *v == p.lower || *v == p.upper,
            })
        })
        .collect();
    let best_json = json!({
        "objective": rec.objective,
        "evaluation": best,
        "stage": rec.stage.name(),
        "parameters": parameters,
        "moments": fit,
        "evaluations": records.len(),
        "termination": termination.name(),
        "termination_text": termination.text(),
    });
    let encode = |path: &Path| {
        let path = path.to_path_buf();
        move |e: serde_json::Error| CalibrateError::Encode {
            path,
            reason: e.to_string(),
        }
    };
    let bytes = serde_json::to_vec_pretty(&best_json).map_err(encode(&out.join("best.json")))?;
    write(out, "best.json", &bytes)?;

    // calibrated.toml: the base with `set` and the estimates, and replicate 0's seed.
    let mut table = cal.table_at(&rec.eval.x).map_err(CalibrateError::Optimiser)?;
    config::set_key(
        &mut table,
        "run.seed",
        toml::Value::Integer(cal.replicate_seed(0) as i64),
    )
    .map_err(CalibrateError::Optimiser)?;
    let mut text = format!(
        "# Calibrated by `aimarket calibrate {}`: the base {} with the calibration's `set` and these\n\
         # estimates (objective {}, evaluation {} of {}); run.seed is replicate 0's seed.\n",
        cal.file.display(),
        cal.base_label,
        format_number(rec.objective),
        best,
        records.len()
    );
    for (p, v) in cal.parameters.iter().zip(&rec.eval.x) {
        text.push_str(&format!(
            "#   {} = {}   (bounds {} to {})\n",
            p.key,
            format_number(*v),
            format_number(p.lower),
            format_number(p.upper)
        ));
    }
    text.push('\n');
    text.push_str(&toml::to_string(&table).map_err(|e| CalibrateError::Encode {
        path: out.join("calibrated.toml"),
        reason: e.to_string(),
    })?);
    write(out, "calibrated.toml", text.as_bytes())?;

    // manifest.json (serde_json's maps sort their keys).
    let failed = records.iter().filter(|r| !r.objective.is_finite()).count();
    let finished_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let set: serde_json::Map<String, serde_json::Value> = cal
        .set
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
        .collect();
    let manifest = json!({
        "aimarket_version": env!("CARGO_PKG_VERSION"),
        "calibration_file": cal.file.display().to_string(),
        "calibration_hash": cal.file_hash,
        "base": { "file": cal.base_label, "path": cal.base_path.display().to_string(), "hash": cal.base_hash },
        "base_config": serde_json::to_value(&cal.base).map_err(encode(&out.join(MANIFEST_FILE)))?,
        "set": set,
        "parameters": cal.parameters.iter().map(|p| json!({
            "key": p.key, "lower": p.lower, "upper": p.upper, "start": p.start,
        })).collect::<Vec<_>>(),
        "moments": cal.moments.iter().map(|m| json!({
            "name": m.name, "metric": m.metric.name(), "from": m.from.to_string(), "to": m.to.to_string(),
            "statistic": m.statistic.name(), "target": m.target, "se": m.se, "weight": m.weight,
        })).collect::<Vec<_>>(),
        "objective_rule": "J = Σ_m weight_m · (simulated mean_m − target_m)², weight_m = 1/se_m²; simulated mean_m = the mean over the replicates of moment m",
        "replicates": cal.replicates,
        "master_seed": cal.seed,
        "seed_rule": cal.seed_rule(),
        "optimiser": cal.optimiser,
        "strategy": "global stage: the start and optimiser.global_points Latin-hypercube points (seed = master_seed), evaluated in parallel; then argmin Nelder–Mead from the best, first simplex step optimiser.simplex_step of each range; outside the bounds J(clamp(u)) + (1 + J)·1000·‖u − clamp(u)‖² in unit coordinates (src/calibrate/optimise.rs)",
        "termination": termination.name(),
        "best": { "evaluation": best, "objective": rec.objective },
        "counts": {
            "evaluations": records.len(),
            "failed_evaluations": failed,
            "runs": records.len() as u64 * cal.replicates,
        },
        "metrics": config::Metric::names(),
        "files": FILES,
        "git_commit": crate::output::run_files::GIT_COMMIT,
        "git_dirty": crate::output::run_files::git_dirty(),
        "timing": {
            "finished_unix": finished_unix,
            "threads": session.threads,
            "evaluations_this_session": session.ran_now,
            "wall_seconds_this_session": session.wall_seconds,
        },
    });
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(encode(&out.join(MANIFEST_FILE)))?;
    write(out, MANIFEST_FILE, &bytes)
}
