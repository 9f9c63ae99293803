//! One evaluation of the objective: the calibration's replicates simulated at one parameter
//! vector, in parallel, each reduced to its moments; and the journal that keeps a finished
//! evaluation across a killed process.
//!
//! Replicate r of every evaluation runs with the seed `derive_seed(seed, 0, r)` (common random
//! numbers), so two evaluations differ only through the parameters. The moments of the
//! replicates are averaged in replicate order, so the objective does not depend on the thread
//! that ran them.
//!
//! The journal (`.journal/eval-<key>.json`, the key a hash of the parameter vector's bits) is
//! written under a temporary name and renamed, so a file is complete or absent, as in the sweep
//! journal (`crate::sweep::journal`); floats are stored as bit patterns so that a replayed
//! evaluation gives the optimiser exactly the numbers it had.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::CalibrateError;
use super::spec::Calibration;
use crate::batch::{panic_message, run_in_memory};
use crate::sim::RunError;

/// Directory of finished evaluations, inside the output directory.
pub const JOURNAL_DIR: &str = ".journal";

/// One replicate of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Replicate {
    /// The run's seed.
    pub seed: u64,
    /// One value per moment (in moment order), or why the run failed (one line).
    pub moments: Result<Vec<f64>, String>,
}

/// The replicates of one parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The parameter values, in parameter order.
    pub x: Vec<f64>,
    /// The replicates, in replicate order.
    pub replicates: Vec<Replicate>,
}

impl Evaluation {
    /// The first failure of a replicate, if any.
    pub fn error(&self) -> Option<String> {
        self.replicates.iter().enumerate().find_map(|(r, rep)| {
            rep.moments
                .as_ref()
                .err()
                .map(|e| format!("replicate {r} (seed {}) failed: {e}", rep.seed))
        })
    }

    /// The values of moment `m` over the replicates, in replicate order (ok replicates only).
    pub fn values(&self, m: usize) -> Vec<f64> {
        self.replicates
            .iter()
            .filter_map(|r| r.moments.as_ref().ok().map(|v| v[m]))
            .collect()
    }

    /// The simulated mean of every moment; `None` when a replicate failed.
    pub fn means(&self) -> Option<Vec<f64>> {
        if self.error().is_some() {
            return None;
        }
        let n = self.replicates.len() as f64;
        let k = self
            .replicates
            .first()
            .and_then(|r| r.moments.as_ref().ok())
            .map_or(0, Vec::len);
        Some((0..k).map(|m| self.values(m).iter().sum::<f64>() / n).collect())
    }

    /// The objective J = Σ_m w_m (mean_m − target_m)²; infinite when a replicate failed.
    pub fn objective(&self, cal: &Calibration) -> f64 {
        match self.means() {
            Some(means) => cal
                .moments
                .iter()
                .zip(means)
                .map(|(m, mean)| m.weight * (mean - m.target) * (mean - m.target))
                .sum(),
            None => f64::INFINITY,
        }
    }
}

/// The bit patterns of a parameter vector: the key of the evaluation cache and journal.
pub fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Runs one replicate at `x`. `None` when it was interrupted (`stop`); a rejected config, a
/// model failure or a panic is a failed replicate.
fn run_replicate(cal: &Calibration, x: &[f64], r: u64, stop: &AtomicBool) -> Option<Replicate> {
    let seed = cal.replicate_seed(r);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let config = cal.config_at(x, r).map_err(Some)?;
        let out = run_in_memory(&config, stop).map_err(|e| match e {
            RunError::Interrupted => None,
            other => Some(other.to_string()),
        })?;
        let rec = out.recorded;
        let rows = &rec.rows;
        let mut values = Vec::with_capacity(cal.moments.len());
        for m in &cal.moments {
            if rows.len() <= m.last_tick {
                return Err(Some(format!(
                    "the run recorded {} months, moment {} needs {}",
                    rows.len(),
                    m.name,
                    m.last_tick + 1
                )));
            }
            let v = m.of(&rec);
            if !v.is_finite() {
                return Err(Some(format!("moment {} is not finite ({v})", m.name)));
            }
            values.push(v);
        }
        Ok(values)
    }));
    let moments = match outcome {
        Ok(Ok(values)) => Ok(values),
        Ok(Err(None)) => return None,
        Ok(Err(Some(e))) => Err(e),
        Err(panic) => Err(panic_message(&panic)),
    };
    Some(Replicate {
        seed,
        moments: moments.map_err(|e| e.replace(['\n', '\r'], " ")),
    })
}

/// Evaluates every vector of `xs` on `pool` (vectors and their replicates in parallel) and
/// journals each as soon as all its replicates are done. Returns the evaluations in the order
/// of `xs`; `None` for one cut off by `stop` (not journaled).
pub fn evaluate_all(
    pool: &rayon::ThreadPool,
    cal: &Calibration,
    xs: &[Vec<f64>],
    journal: &Path,
    stop: &AtomicBool,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Option<Evaluation>>, CalibrateError> {
    pool.install(|| {
        xs.par_iter()
            .map(|x| {
                let reps: Vec<Option<Replicate>> = (0..cal.replicates)
                    .into_par_iter()
                    .map(|r| run_replicate(cal, x, r, stop))
                    .collect();
                let Some(replicates) = reps.into_iter().collect::<Option<Vec<_>>>() else {
                    return Ok(None);
                };
                let eval = Evaluation {
                    x: x.clone(),
                    replicates,
                };
                write(journal, &eval)?;
                done();
                Ok(Some(eval))
            })
            .collect()
    })
}

/// The journal form of an evaluation: floats as bit patterns.
#[derive(Serialize, Deserialize)]
struct JournalRecord {
    x: Vec<u64>,
    replicates: Vec<JournalReplicate>,
}

#[derive(Serialize, Deserialize)]
struct JournalReplicate {
    seed: u64,
    error: Option<String>,
    moments: Vec<u64>,
}

/// The journal file of the evaluation at `x`.
pub fn path(dir: &Path, x: &[f64]) -> PathBuf {
    let bytes: Vec<u8> = bits(x).iter().flat_map(|b| b.to_le_bytes()).collect();
    let hash = crate::config::hash_bytes(&bytes);
    dir.join(format!("eval-{}.json", &hash[..24]))
}

/// Saves a finished evaluation (temporary name, then rename).
pub fn write(dir: &Path, eval: &Evaluation) -> Result<(), CalibrateError> {
    let target = path(dir, &eval.x);
    let record = JournalRecord {
        x: bits(&eval.x),
        replicates: eval
            .replicates
            .iter()
            .map(|r| JournalReplicate {
                seed: r.seed,
                error: r.moments.as_ref().err().cloned(),
                moments: r.moments.as_ref().map(|v| bits(v)).unwrap_or_default(),
            })
            .collect(),
    };
    let bytes = serde_json::to_vec(&record).map_err(|e| CalibrateError::Encode {
        path: target.clone(),
        reason: e.to_string(),
    })?;
    let mut partial = target.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &target))
        .map_err(CalibrateError::io("write", &target))
}

/// Every evaluation journaled in `dir`, by parameter bits. Leftover temporary files
/// (evaluations in flight when the process died) are removed.
pub fn read_all(dir: &Path, cal: &Calibration) -> Result<HashMap<Vec<u64>, Evaluation>, CalibrateError> {
    let mut found = HashMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(CalibrateError::io("read", dir)(e)),
    };
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    for file in names {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".partial") {
            std::fs::remove_file(&file).map_err(CalibrateError::io("remove", &file))?;
            continue;
        }
        if !(name.starts_with("eval-") && name.ends_with(".json")) {
            continue;
        }
        let corrupt = |reason: String| CalibrateError::CorruptJournal {
            path: file.clone(),
            reason,
        };
        let bytes = std::fs::read(&file).map_err(CalibrateError::io("read", &file))?;
        let j: JournalRecord = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let x: Vec<f64> = j.x.iter().map(|b| f64::from_bits(*b)).collect();
        if x.len() != cal.parameters.len() || path(dir, &x) != file {
            return Err(corrupt("it holds another parameter vector than its name says".into()));
        }
        if j.replicates.len() as u64 != cal.replicates {
            return Err(corrupt(format!(
                "it has {} replicates, expected {}",
                j.replicates.len(),
                cal.replicates
            )));
        }
        let mut replicates = Vec::new();
        for rep in j.replicates {
            let moments = match rep.error {
                Some(e) => Err(e),
                None if rep.moments.len() == cal.moments.len() => {
                    Ok(rep.moments.iter().map(|b| f64::from_bits(*b)).collect())
                }
                None => {
                    return Err(corrupt(format!(
                        "a replicate has {} moments, expected {}",
                        rep.moments.len(),
                        cal.moments.len()
                    )));
                }
            };
            replicates.push(Replicate {
                seed: rep.seed,
                moments,
            });
        }
        found.insert(j.x, Evaluation { x, replicates });
    }
    Ok(found)
}
