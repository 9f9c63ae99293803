//! Starting or resuming a sweep in its output directory: checking the directory's sweep
//! identity (`.sweep-state.json`), then bringing its tables back to their last consistent state.
//!
//! The commit order of the runner (journal → trajectory rows → the runs.csv row as commit
//! marker → the point's summary → delete the point's journals; see `schedule`) gives resume its
//! invariants: the complete rows of runs.csv are the runs from the first of the sweep (or of the
//! shard) on, in id order, and each is committed (its trajectory rows precede it); any later run is either in the journal (finished, to be written
//! without re-running) or not done; and every point whose summary is not complete still has its
//! journals. So a half-written last line of any table is cut, trajectory rows of uncommitted
//! runs are dropped, summary rows of an incomplete point are dropped and recomputed from the
//! journals, and journaled runs are handed back to be committed without being run again.
//!
//! Everything that can make this session refuse the directory is checked before anything in it
//! is changed.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::{Difference, SweepError};
use super::journal::{self, JOURNAL_DIR};
use super::manifest::{Counts, MANIFEST_FILE, STATE_FILE, SweepState};
use super::runner::Options;
use super::spec::Plan;
use super::tables::{self, Existing, LayoutError, RunsLayout, Table};
use crate::config::{Metric, MetricValues};
use std::io::Write;

use crate::output::atomic::{StagedFile, write_atomic};

/// What is already on disk when a session starts.
pub struct Recovered {
    /// The next run id to commit: runs `span.runs.start .. committed` are committed (the
    /// complete rows of runs.csv).
    pub committed: u64,
    /// Failed runs among them.
    pub failed: u64,
    /// Journaled runs with id ≥ `committed`.
    pub journaled: BTreeSet<u64>,
    /// runs.csv, open for appending.
    pub runs: Table,
    /// summary.csv, open for appending.
    pub summary: Table,
    /// trajectories.csv, open for appending (with `--trajectories`).
    pub trajectories: Option<Table>,
    /// Ok rows of the committed runs of the point in progress.
    pub point_rows: Vec<Vec<MetricValues>>,
}

/// Why the sweep `found` on disk cannot be resumed by `now`, if it cannot.
fn difference(found: &SweepState, now: &SweepState) -> Option<Difference> {
    if found.sweep_hash != now.sweep_hash {
        return Some(Difference::SweepFile);
    }
    if found.base_hash != now.base_hash {
        return Some(Difference::Base { base: now.base.clone() });
    }
    if found.scenarios != now.scenarios {
        return Some(Difference::Scenario);
    }
    if found.trajectories != now.trajectories {
        return Some(Difference::Trajectories {
            was: found.trajectories,
            now: now.trajectories,
        });
    }
    if found.shard != now.shard {
        return Some(Difference::shard(found.shard, now.shard));
    }
    // A sweep started before common random numbers were the default has independent seeds.
    if found.metrics != now.metrics
        || found.runs != now.runs
        || found.aimarket_version != now.aimarket_version
        || found.seeds != now.seeds
    {
        return Some(Difference::Version {
            version: found.aimarket_version.clone(),
        });
    }
    None
}

/// What a session starts from.
pub enum Recovery {
    /// The directory holds this sweep (or shard) complete: nothing to do, nothing touched.
    Complete {
        /// Failed runs, from the manifest.
        failed: u64,
    },
    /// The directory is ready to continue (or start) the sweep.
    Continue(Box<Recovered>),
}

/// Prepares the output directory: checks or writes the sweep identity, repairs the tables to
/// their last consistent state, and re-summarises points whose summary was cut off. A shard
/// (`--shard`) always resumes its own directory, so that resubmitting a task is safe; a
/// directory that already holds the complete sweep or shard is left as it is.
pub fn recover(plan: &Plan, opts: &Options) -> Result<Recovery, SweepError> {
    let out = &opts.out;
    let state_path = out.join(STATE_FILE);
    let now = SweepState::of(plan, opts.trajectories);
    let resume = opts.resume || plan.shard.is_some();
    if state_path.exists() {
        if !resume {
            return Err(SweepError::Occupied { out: out.clone() });
        }
        let found = read_state(&state_path)?;
        if let Some(why) = difference(&found, &now) {
            return Err(SweepError::Mismatch { out: out.clone(), why });
        }
        if let Some(failed) = complete(out) {
            return Ok(Recovery::Complete { failed });
        }
    } else if out.join("runs.csv").exists() {
        return Err(SweepError::Foreign { out: out.clone() });
    }
    if opts.resume && !state_path.exists() && !opts.quiet_notes {
        eprintln!("note: nothing to resume in {}; starting the sweep", out.display());
    }
    recover_tables(plan, opts, &state_path, &now).map(|r| Recovery::Continue(Box::new(r)))
}

/// Reads a `.sweep-state.json`.
pub fn read_state(path: &Path) -> Result<SweepState, SweepError> {
    let text = std::fs::read(path).map_err(SweepError::io("read", path))?;
    serde_json::from_slice(&text).map_err(|source| SweepError::CorruptState {
        path: path.to_path_buf(),
        source,
    })
}

/// The failed runs of the complete sweep in `out`, if its manifest is there (and readable).
fn complete(out: &Path) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Head {
        counts: Counts,
    }
    let bytes = std::fs::read(out.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice::<Head>(&bytes).ok().map(|h| h.counts.failed)
}

/// The part of [`recover`] after the sweep identity is settled: only I/O (or a directory whose
/// contents cannot be made consistent) can fail here.
fn recover_tables(plan: &Plan, opts: &Options, state_path: &Path, now: &SweepState) -> Result<Recovered, SweepError> {
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(SweepError::io("create", out))?;
    let journal = out.join(JOURNAL_DIR);
    std::fs::create_dir_all(&journal).map_err(SweepError::io("create", &journal))?;
    if !state_path.exists() {
        let bytes = serde_json::to_vec_pretty(now).map_err(|source| SweepError::Encode {
            path: state_path.to_path_buf(),
            source,
        })?;
        write_atomic(out, STATE_FILE, &bytes).map_err(SweepError::io("write", state_path))?;
    }

    // points.csv is a pure function of the plan: (re)write it whole.
    tables::write_points(out, plan)?;

    // runs.csv: committed runs are the complete rows, numbered from the span's first run id
    // (0 unless sharded) in order. `ok[i]` is about run `first + i`. Columns are found by name;
    // a runs.csv in an older layout (without `seed_hex`) has its kept rows rewritten in the
    // current one before anything is appended.
    let span = plan.span();
    let first = span.runs.start;
    let runs_path = out.join("runs.csv");
    let runs_header = tables::runs_header();
    let mut ok: Vec<bool> = Vec::new();
    let runs_keep = match Existing::open(&runs_path)? {
        None => None,
        Some(table) => {
            let layout = RunsLayout::of(&table.header).map_err(|e| match e {
                LayoutError::Missing(column) => SweepError::MissingColumn {
                    path: runs_path.clone(),
                    column,
                },
                LayoutError::Unknown(_) => SweepError::ForeignTable {
                    path: runs_path.clone(),
                },
            })?;
            // The rewritten runs.csv (older layout only), streamed to a staged file, and its length.
            let write_err = SweepError::io("write", &runs_path);
            let mut rewrite = match layout.converts() {
                false => None,
                true => {
                    let start = || -> std::io::Result<_> {
                        let staged = StagedFile::new(out, "runs.csv")?;
                        let mut w = staged.writer()?;
                        let header = tables::header_line(&runs_header) + "\n";
                        w.write_all(header.as_bytes())?;
                        Ok((staged, w, header.len() as u64))
                    };
                    Some(start().map_err(SweepError::io("write", &runs_path))?)
                }
            };
            let mut failed_write = None;
            let keep = table.walk(|_, line| {
                let Some(rec) = tables::parse_line(line) else {
                    return false;
                };
                let fits =
                    layout.run(&rec) == Some(first + ok.len() as u64) && first + (ok.len() as u64) < span.runs.end;
                if !fits {
                    return false;
                }
                if let Some((_, w, len)) = &mut rewrite {
                    let Some(row) = layout.convert(&rec) else { return false };
                    if let Err(e) = w.write_all(row.as_bytes()) {
                        failed_write = Some(e);
                        return false;
                    }
                    *len += row.len() as u64;
                }
                ok.push(layout.ok(&rec));
                true
            })?;
            if let Some(e) = failed_write {
                return Err(write_err(e));
            }
            match rewrite {
                Some((staged, mut w, len)) => {
                    w.flush().map_err(SweepError::io("write", &runs_path))?;
                    drop(w);
                    staged.commit().map_err(write_err)?;
                    Some(len)
                }
                None => Some(keep),
            }
        }
    };
    let committed = first + ok.len() as u64;
    let is_ok = |run: u64| ok[(run - first) as usize];
    let failed = ok.iter().filter(|o| !**o).count() as u64;
    let runs = Table::open(&runs_path, &runs_header, runs_keep)?;

    // trajectories.csv: keep the rows of committed runs only.
    let trajectories = if opts.trajectories {
        let path = out.join("trajectories.csv");
        let header = tables::trajectories_header();
        let keep = tables::scan(&path, &header, "run", |_, run| run.is_some_and(|run| run < committed))?;
        Some(Table::open(&path, &header, keep)?)
    } else {
        None
    };

    // Journals: finished runs. Leftover temp files are runs that were in flight.
    let mut journaled = journal::list(&journal)?;

    // summary.csv: keep the complete point groups; a point is complete when it has ticks ×
    // metrics rows (or none, when none of its runs is ok).
    let r = plan.replicates;
    let m = Metric::all().count() as u64;
    let done_points = committed / r; // the span starts at a whole point
    let summary_path = out.join("summary.csv");
    let summary_header = tables::summary_header();
    let mut groups: Vec<(u64, u64, u64)> = Vec::new(); // (point, first offset, rows)
    let summary_keep = tables::scan(&summary_path, &summary_header, "point", |offset, point| {
        match (point, groups.last_mut()) {
            (Some(p), Some(g)) if g.0 == p => g.2 += 1,
            (Some(p), _) => groups.push((p, offset, 1)),
            (None, _) => return false,
        }
        true
    })?;
    let expected_rows = |point: u64| -> Result<u64, SweepError> {
        let any_ok = (point * r..(point + 1) * r).any(is_ok);
        if !any_ok {
            return Ok(0);
        }
        let config = plan.run_config(point as usize, 0).map_err(SweepError::Point)?;
        Ok(u64::from(config.run.ticks) * m)
    };
    let mut summarised = span.points.start; // points from the span's first to summarised have complete summaries
    let mut cut = summary_keep;
    let mut g = groups.iter().peekable();
    while summarised < done_points {
        let want = expected_rows(summarised)?;
        let complete = match g.peek() {
            Some(&&(p, _, rows)) if p == summarised => rows == want,
            _ => want == 0,
        };
        if !complete {
            break;
        }
        if g.peek().is_some_and(|grp| grp.0 == summarised) {
            g.next();
        }
        summarised += 1;
    }
    if let Some(&&(_, offset, _)) = g.peek() {
        cut = Some(offset);
    }
    let mut summary = Table::open(&summary_path, &summary_header, cut)?;

    // Re-summarise points whose runs are all committed but whose summary was cut off.
    let load_ok = |run: u64| -> Result<Option<Vec<MetricValues>>, SweepError> {
        if !is_ok(run) {
            return Ok(None);
        }
        journal::read(&journal, run)
            .map(|rec| Some(rec.rows))
            .map_err(|e| SweepError::JournalGone {
                run,
                source: Box::new(e),
            })
    };
    for point in summarised..done_points {
        let mut rows = Vec::new();
        for run in point * r..(point + 1) * r {
            rows.extend(load_ok(run)?);
        }
        summary.write_summary(plan, point, &rows)?;
        summary.flush()?;
    }
    // Journals of summarised points are no longer needed (a deletion may have been cut off).
    for &run in journaled.range(..done_points * r) {
        journal::remove(&journal, run)?;
    }
    let mut point_rows = Vec::new();
    for run in done_points * r..committed {
        point_rows.extend(load_ok(run)?);
    }
    let journaled = journaled.split_off(&committed);
    Ok(Recovered {
        committed,
        failed,
        journaled,
        runs,
        summary,
        trajectories,
        point_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SweepState {
        SweepState {
            aimarket_version: "1".into(),
            sweep_hash: "s".into(),
            base: "b.toml".into(),
            base_hash: "b".into(),
            scenarios: vec![],
            trajectories: false,
            points: 2,
            replicates: 3,
            runs: 6,
            metrics: vec!["m".into()],
            seeds: crate::sweep::spec::SeedPolicy::Common,
            shard: None,
        }
    }

    #[test]
    fn differences_are_named_most_telling_first() {
        let found = state();
        assert_eq!(difference(&found, &found.clone()), None);
        let mut now = state();
        now.trajectories = true;
        now.base_hash = "c".into();
        assert_eq!(
            difference(&found, &now),
            Some(Difference::Base { base: "b.toml".into() })
        );
        now.base_hash = "b".into();
        let why = difference(&found, &now).unwrap();
        assert_eq!(why, Difference::Trajectories { was: false, now: true });
        assert!(
            why.to_string()
                .contains("started without --trajectories and is being resumed with it")
        );
        let mut now = state();
        now.runs = 7;
        assert!(matches!(difference(&found, &now), Some(Difference::Version { .. })));
        now.sweep_hash = "t".into();
        assert_eq!(difference(&found, &now), Some(Difference::SweepFile));
    }
}
