//! The journal: one file per finished run, so that a run's result survives the process.
//!
//! A worker saves each finished run to `.journal/run-<id>.json` before handing it to the writer:
//! the file is written under a temporary name and renamed, so it exists complete or not at all
//! (a leftover `.partial` file is a run that was in flight and is simply run again). A journal
//! lives until its point's summary rows are written, because a resumed sweep re-summarises from
//! the journals a point that was cut off. Floats are stored as their bit patterns so that a
//! replayed run writes exactly the numbers the original session would have.
//!
//! Journals are not fsynced: they protect against the process dying (Ctrl-C, SIGKILL, a crash),
//! where the page cache survives, not against power loss — an fsync per run would cost more than
//! a small run itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::SweepError;
use crate::config::{Metric, MetricValues};

/// Directory of finished-but-not-yet-summarised runs, inside the output directory.
pub const JOURNAL_DIR: &str = ".journal";

/// A finished run: what the writer commits and the journal keeps.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Run id (`point × replicates + replicate`).
    pub run: u64,
    /// The run's seed, `derive_seed(master seed, point, replicate)` (63 bits).
    pub seed: u64,
    /// `None` when ok; the failure message otherwise (single line).
    pub error: Option<String>,
    /// Wall time of the run, seconds.
    pub wall_seconds: f64,
    /// The metrics of every tick (empty for a failed run).
    pub rows: Vec<MetricValues>,
}

/// The journal form of a run: floats as their bit patterns, so they come back exactly.
#[derive(Serialize, Deserialize)]
struct JournalRecord {
    run: u64,
    seed: u64,
    error: Option<String>,
    wall_seconds: f64,
    /// Per tick, one value per metric in column order.
    rows: Vec<Vec<u64>>,
}

impl From<&RunRecord> for JournalRecord {
    fn from(r: &RunRecord) -> Self {
        JournalRecord {
            run: r.run,
            seed: r.seed,
            error: r.error.clone(),
            wall_seconds: r.wall_seconds,
            rows: r
                .rows
                .iter()
                .map(|row| row.values().iter().map(|v| v.to_bits()).collect())
                .collect(),
        }
    }
}

/// The journal file of `run`.
pub fn path(dir: &Path, run: u64) -> PathBuf {
    dir.join(format!("run-{run}.json"))
}

/// Saves a finished run (temporary name, then rename).
pub fn write(dir: &Path, rec: &RunRecord) -> Result<(), SweepError> {
    let target = path(dir, rec.run);
    let bytes = serde_json::to_vec(&JournalRecord::from(rec)).map_err(|source| SweepError::Encode {
        path: target.clone(),
        source,
    })?;
    let partial = dir.join(format!("run-{}.json.partial", rec.run));
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &target))
        .map_err(SweepError::io("write", &target))
}

/// Reads the journal of `run` back.
pub fn read(dir: &Path, run: u64) -> Result<RunRecord, SweepError> {
    let path = path(dir, run);
    let bytes = std::fs::read(&path).map_err(SweepError::io("read", &path))?;
    let corrupt = |reason: String| SweepError::CorruptJournal {
        path: path.clone(),
        reason,
    };
    let j: JournalRecord = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if j.run != run {
        return Err(SweepError::MisplacedJournal {
            path,
            run,
            found: j.run,
        });
    }
    let mut rows = Vec::with_capacity(j.rows.len());
    for (tick, bits) in j.rows.iter().enumerate() {
        if bits.len() != Metric::all().count() {
            return Err(corrupt(format!(
                "tick {tick} has {} values, expected {}",
                bits.len(),
                Metric::all().count()
            )));
        }
        let mut row = MetricValues::default();
        for (m, b) in Metric::all().zip(bits) {
            row[m] = f64::from_bits(*b);
        }
        rows.push(row);
    }
    Ok(RunRecord {
        run: j.run,
        seed: j.seed,
        error: j.error,
        wall_seconds: j.wall_seconds,
        rows,
    })
}

/// The runs journaled in `dir`. Leftover temporary files (runs that were in flight when the
/// process died) are removed.
pub fn list(dir: &Path) -> Result<BTreeSet<u64>, SweepError> {
    let mut journaled = BTreeSet::new();
    let entries = std::fs::read_dir(dir).map_err(SweepError::io("read", dir))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".partial") {
            remove_if_present(&entry.path())?;
        } else if let Some(id) = name
            .strip_prefix("run-")
            .and_then(|s| s.strip_suffix(".json"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            journaled.insert(id);
        }
    }
    Ok(journaled)
}

/// Drops the journal of `run` (once its point is summarised); a missing file is fine.
pub fn remove(dir: &Path, run: u64) -> Result<(), SweepError> {
    remove_if_present(&path(dir, run))
}

fn remove_if_present(path: &Path) -> Result<(), SweepError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SweepError::io("remove", path)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: f64) -> MetricValues {
        let mut row = MetricValues::default();
        for (i, m) in Metric::all().enumerate() {
            row[m] = v * (i + 1) as f64;
        }
        row
    }

    #[test]
    fn journal_records_round_trip_floats_exactly() {
        let rec = RunRecord {
            run: 3,
            seed: 9,
            error: None,
            wall_seconds: 0.5,
            rows: vec![values(0.1 + 0.2), values(f64::MIN_POSITIVE), values(1e300)],
        };
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &rec).unwrap();
        let back = read(dir.path(), 3).unwrap();
        assert_eq!(back.rows, rec.rows);
        assert_eq!((back.seed, back.wall_seconds), (9, 0.5));
        assert!(matches!(read(dir.path(), 4), Err(SweepError::Io { .. })));
    }

    #[test]
    fn a_journal_under_another_name_or_of_another_width_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            path(dir.path(), 5),
            r#"{"run":6,"seed":1,"error":null,"wall_seconds":0,"rows":[]}"#,
        )
        .unwrap();
        assert!(matches!(
            read(dir.path(), 5),
            Err(SweepError::MisplacedJournal { run: 5, found: 6, .. })
        ));
        std::fs::write(
            path(dir.path(), 7),
            r#"{"run":7,"seed":1,"error":null,"wall_seconds":0,"rows":[[1,2]]}"#,
        )
        .unwrap();
        let err = read(dir.path(), 7).unwrap_err().to_string();
        assert!(err.contains("tick 0 has 2 values"), "{err}");
    }

    #[test]
    fn listing_finds_runs_and_removes_partial_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["run-2.json", "run-10.json", "run-11.json.partial", "other.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(list(dir.path()).unwrap(), BTreeSet::from([2, 10]));
        assert!(!dir.path().join("run-11.json.partial").exists());
        remove(dir.path(), 2).unwrap();
        remove(dir.path(), 2).unwrap();
        assert_eq!(list(dir.path()).unwrap(), BTreeSet::from([10]));
    }
}
