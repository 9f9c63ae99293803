//! Executing a sweep: parallel runs, ordered streaming output, a crash-safe journal, and resume.
//!
//! Workers (a rayon pool) take run ids from a shared counter, so runs start roughly in id
//! order and the reorder buffer stays small. Each finished run is first written to
//! `.journal/run-<id>.json` (temp name + rename, so it exists complete or not at all), then sent
//! to the writer on the calling thread. The writer appends rows strictly in run-id order:
//! trajectory rows (flushed) and then the run's row in runs.csv — that row is the commit marker.
//! When the last replicate of a point is committed, the point's summary rows are appended and
//! flushed, and only then are the point's journal files deleted.
//!
//! That order gives resume its invariants: every run id below the number of complete rows in
//! runs.csv is committed (its trajectory rows precede it); any later run is either in the
//! journal (finished, to be written without re-running) or not done; and every point whose
//! summary is not complete still has its journals. Journals are not fsynced: they protect
//! against the process dying (Ctrl-C, SIGKILL, a crash), where the page cache survives, not
//! against power loss — an fsync per run would cost more than a small run itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::spec::Plan;
use crate::batch::{panic_message, run_in_memory};
use crate::cli::Failure;
use crate::config::{Config, Metric};
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::sim::rng::derive_seed;
use crate::stats;

/// File holding the identity of the sweep an output directory belongs to.
pub const STATE_FILE: &str = ".sweep-state.json";
/// Directory of finished-but-not-yet-summarised runs.
pub const JOURNAL_DIR: &str = ".journal";

/// How to execute a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Continue a sweep already in `out`.
    pub resume: bool,
    /// Write trajectories.csv.
    pub trajectories: bool,
    /// Draw a progress bar.
    pub progress: bool,
    /// Do not print notes (e.g. `--resume` with nothing to resume).
    pub quiet_notes: bool,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Every run is done and the manifest is written.
    Complete {
        /// Runs in the sweep.
        runs: u64,
        /// Runs that failed (all sessions).
        failed: u64,
        /// Runs executed in this session (the rest were already done).
        ran_now: u64,
        /// Wall time of this session, seconds.
        wall_seconds: f64,
    },
    /// Stopped by the interrupt flag; results so far are kept for `--resume`.
    Interrupted {
        /// Runs whose results are saved (committed or journaled).
        done: u64,
        /// Runs in the sweep.
        runs: u64,
    },
}

/// The identity of a sweep, stored in the output directory so `--resume` can refuse to mix
/// results of different sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    aimarket_version: String,
    sweep_hash: String,
    base: String,
    base_hash: String,
    scenarios: Vec<(String, String)>,
    trajectories: bool,
    points: u64,
    replicates: u64,
    runs: u64,
    metrics: Vec<String>,
}

impl State {
    fn of(plan: &Plan, trajectories: bool) -> State {
        State {
            aimarket_version: env!("CARGO_PKG_VERSION").to_string(),
            sweep_hash: plan.file_hash.clone(),
            base: plan.base.label.clone(),
            base_hash: plan.base.hash.clone(),
            scenarios: plan
                .scenarios
                .iter()
                .map(|s| (s.label.clone(), s.hash.clone()))
                .collect(),
            trajectories,
            points: plan.points.len() as u64,
            replicates: plan.replicates,
            runs: plan.runs(),
            metrics: Metric::names(),
        }
    }

    /// Why `self` (found on disk) cannot be resumed by `now`, if it cannot.
    fn mismatch(&self, now: &State) -> Option<String> {
        if self.sweep_hash != now.sweep_hash {
            return Some("the sweep file changed since the sweep started (its hash differs)".into());
        }
        if self.base_hash != now.base_hash {
            return Some(format!(
                "the base config {} changed since the sweep started (its hash differs)",
                now.base
            ));
        }
        if self.scenarios != now.scenarios {
            return Some("a scenario config changed since the sweep started (its hash differs)".into());
        }
        if self.trajectories != now.trajectories {
            let (was, is) = (flag(self.trajectories), flag(now.trajectories));
            return Some(format!(
                "the sweep started {was} --trajectories and is being resumed {is} it; resume with the same flags"
            ));
        }
        if self.metrics != now.metrics || self.runs != now.runs || self.aimarket_version != now.aimarket_version {
            return Some(format!(
                "it was started by aimarket {} with different metrics or run counts",
                self.aimarket_version
            ));
        }
        None
    }
}

fn flag(on: bool) -> &'static str {
    if on { "with" } else { "without" }
}

/// A finished run as the writer needs it.
#[derive(Debug, Clone)]
struct RunRecord {
    run: u64,
    seed: u64,
    /// `None` when ok; the failure message otherwise (single line).
    error: Option<String>,
    wall_seconds: f64,
    /// Per tick, one value per metric (empty for a failed run).
    rows: Vec<Vec<f64>>,
}

/// The journal form of a run: floats as their bit patterns, so they come back exactly.
#[derive(Serialize, Deserialize)]
struct JournalRecord {
    run: u64,
    seed: u64,
    error: Option<String>,
    wall_seconds: f64,
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
                .map(|row| row.iter().map(|v| v.to_bits()).collect())
                .collect(),
        }
    }
}

impl From<JournalRecord> for RunRecord {
    fn from(j: JournalRecord) -> Self {
        RunRecord {
            run: j.run,
            seed: j.seed,
            error: j.error,
            wall_seconds: j.wall_seconds,
            rows: j
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(f64::from_bits).collect())
                .collect(),
        }
    }
}

fn journal_path(dir: &Path, run: u64) -> PathBuf {
    dir.join(format!("run-{run}.json"))
}

fn write_journal(dir: &Path, rec: &RunRecord) -> Result<(), String> {
    let bytes = serde_json::to_vec(&JournalRecord::from(rec)).map_err(|e| e.to_string())?;
    let target = journal_path(dir, rec.run);
    let partial = dir.join(format!("run-{}.json.partial", rec.run));
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &target))
        .map_err(|e| format!("cannot write {}: {e}", target.display()))
}

fn read_journal(dir: &Path, run: u64) -> Result<RunRecord, String> {
    let path = journal_path(dir, run);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let j: JournalRecord = serde_json::from_slice(&bytes).map_err(|e| format!("{} is corrupt: {e}", path.display()))?;
    if j.run != run {
        return Err(format!("{} holds run {}, expected {run}", path.display(), j.run));
    }
    Ok(j.into())
}

/// Header of runs.csv.
pub fn runs_header() -> Vec<String> {
    let names = Metric::names();
    let mut h: Vec<String> = ["run", "point", "replicate", "seed", "status", "error", "wall_seconds"]
        .map(String::from)
        .to_vec();
    h.extend(names.iter().map(|m| format!("final_{m}")));
    h.extend(names.iter().map(|m| format!("mean_{m}")));
    h
}

/// Header of summary.csv.
pub fn summary_header() -> Vec<String> {
    [
        "point", "tick", "metric", "n", "mean", "sd", "ci_low", "ci_high", "p05", "p50", "p95",
    ]
    .map(String::from)
    .to_vec()
}

/// Header of trajectories.csv.
pub fn trajectories_header() -> Vec<String> {
    let mut h = vec!["run".to_string(), "tick".to_string()];
    h.extend(Metric::names());
    h
}

/// One CSV record as a line (quoting as the csv crate does), without the newline.
fn csv_line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_string()
}

/// Appends to an output table, creating it (with its header) when missing.
struct Table {
    path: PathBuf,
    out: std::io::BufWriter<File>,
}

impl Table {
    fn write(&mut self, fields: &[String]) -> Result<(), String> {
        let line = csv_line(fields);
        self.out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| self.fail(e))
    }

    fn flush(&mut self) -> Result<(), String> {
        self.out.flush().map_err(|e| self.fail(e))
    }

    fn fail(&self, e: std::io::Error) -> String {
        format!("cannot write {}: {e}", self.path.display())
    }
}

/// Walks the complete lines of a table after its header, calling `visit(offset, line)`;
/// stops where `visit` returns false or at a torn last line. Returns the byte offset where the
/// kept part ends, or `None` when the file is missing or has no complete header (start over).
fn scan(path: &Path, header: &str, mut visit: impl FnMut(u64, &str) -> bool) -> Result<Option<u64>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let read = |reader: &mut BufReader<File>, line: &mut Vec<u8>| {
        line.clear();
        reader
            .read_until(b'\n', line)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    read(&mut reader, &mut line)?;
    if line.last() != Some(&b'\n') {
        return Ok(None);
    }
    if line[..line.len() - 1] != *header.as_bytes() {
        return Err(format!(
            "{} has a different header than this version of aimarket writes; choose another --out",
            path.display()
        ));
    }
    let mut offset = line.len() as u64;
    loop {
        let n = read(&mut reader, &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(Some(offset));
        }
        let text = String::from_utf8_lossy(&line[..n - 1]);
        if !visit(offset, &text) {
            return Ok(Some(offset));
        }
        offset += n as u64;
    }
}

/// Opens a table for appending after truncating it to `keep` bytes (`None`: recreate it).
fn open_table(path: &Path, header: &str, keep: Option<u64>) -> Result<Table, String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(path)
        .map_err(fail)?;
    match keep {
        Some(len) => {
            file.set_len(len).map_err(fail)?;
            file.seek(SeekFrom::End(0)).map_err(fail)?;
        }
        None => {
            file.set_len(0).map_err(fail)?;
            file.write_all(format!("{header}\n").as_bytes()).map_err(fail)?;
        }
    }
    Ok(Table {
        path: path.to_path_buf(),
        out: std::io::BufWriter::with_capacity(1 << 16, file),
    })
}

fn first_field(line: &str) -> Option<u64> {
    line.split(',').next()?.parse().ok()
}

/// The writer: appends committed runs in id order and summarises completed points.
struct Writer<'a> {
    plan: &'a Plan,
    journal: PathBuf,
    runs: Table,
    summary: Table,
    trajectories: Option<Table>,
    /// Next run id to commit.
    next: u64,
    /// Rows of the ok runs of the point being assembled, in replicate order.
    point_rows: Vec<Vec<Vec<f64>>>,
    failed: u64,
    metrics: Vec<String>,
}

impl Writer<'_> {
    fn commit(&mut self, rec: RunRecord) -> Result<(), String> {
        debug_assert_eq!(rec.run, self.next);
        let r = self.plan.replicates;
        let (point, replicate) = (rec.run / r, rec.run % r);
        if let Some(t) = self.trajectories.as_mut() {
            for (tick, row) in rec.rows.iter().enumerate() {
                let mut fields = Vec::with_capacity(row.len() + 2);
                fields.push(rec.run.to_string());
                fields.push(tick.to_string());
                fields.extend(row.iter().map(|v| format_number(*v)));
                t.write(&fields)?;
            }
            // Trajectory rows must be on disk before the runs.csv row that commits them.
            t.flush()?;
        }
        let m = self.metrics.len();
        let mut fields = vec![
            rec.run.to_string(),
            point.to_string(),
            replicate.to_string(),
            rec.seed.to_string(),
            if rec.error.is_none() { "ok" } else { "failed" }.to_string(),
            rec.error.clone().unwrap_or_default(),
            format_number(rec.wall_seconds),
        ];
        match rec.rows.last() {
            Some(last) if rec.error.is_none() => {
                fields.extend(last.iter().map(|v| format_number(*v)));
                let ticks = rec.rows.len() as f64;
                fields.extend((0..m).map(|j| format_number(rec.rows.iter().map(|row| row[j]).sum::<f64>() / ticks)));
            }
            _ => fields.extend(std::iter::repeat_n(String::new(), 2 * m)),
        }
        self.runs.write(&fields)?;
        self.runs.flush()?;
        self.next += 1;
        if rec.error.is_none() {
            self.point_rows.push(rec.rows);
        } else {
            self.failed += 1;
        }
        if replicate + 1 == r {
            self.finish_point(point)?;
        }
        Ok(())
    }

    /// Writes the summary of `point` from the collected rows, then drops its journals.
    fn finish_point(&mut self, point: u64) -> Result<(), String> {
        let runs = std::mem::take(&mut self.point_rows);
        write_summary(&mut self.summary, point, &runs, &self.metrics)?;
        self.summary.flush()?;
        let r = self.plan.replicates;
        for run in point * r..(point + 1) * r {
            remove_if_present(&journal_path(&self.journal, run))?;
        }
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("cannot remove {}: {e}", path.display())),
        _ => Ok(()),
    }
}

/// Summary rows of one point: for every tick and metric, statistics over the ok replicates.
/// A point without ok runs has no rows.
fn write_summary(table: &mut Table, point: u64, runs: &[Vec<Vec<f64>>], metrics: &[String]) -> Result<(), String> {
    let Some(first) = runs.first() else { return Ok(()) };
    let t = stats::t975(runs.len().saturating_sub(1));
    let opt = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    let mut values = Vec::with_capacity(runs.len());
    for tick in 0..first.len() {
        for (j, name) in metrics.iter().enumerate() {
            values.clear();
            values.extend(runs.iter().map(|rows| rows[tick][j]));
            let s = stats::summarise(&values, t);
            table.write(&[
                point.to_string(),
                tick.to_string(),
                name.clone(),
                s.n.to_string(),
                opt(s.mean),
                opt(s.sd),
                opt(s.ci_low),
                opt(s.ci_high),
                opt(s.p05),
                opt(s.p50),
                opt(s.p95),
            ])?;
        }
    }
    Ok(())
}

/// A run that never stops early: on Ctrl-C in-flight runs finish and are kept.
static NEVER: AtomicBool = AtomicBool::new(false);

/// Runs one (point, replicate). Never panics: a panic or a rejected config is a failed run.
fn execute_run(plan: &Plan, run: u64, cache: &mut Option<(u64, Result<Config, String>)>) -> RunRecord {
    let r = plan.replicates;
    let (point, replicate) = (run / r, run % r);
    let seed = derive_seed(plan.seed, point, replicate);
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Replicates of a point are usually taken by the same worker in a row; resolve once.
        if cache.as_ref().is_none_or(|(p, _)| *p != point) {
            *cache = Some((point, plan.run_config(point as usize, seed)));
        }
        let config = match cache {
            Some((_, Ok(c))) => c,
            Some((_, Err(e))) => return Err(e.clone()),
            None => unreachable!("filled above"),
        };
        let mut config = config.clone();
        config.run.seed = seed;
        let out = run_in_memory(&config, &NEVER).map_err(|e| e.to_string())?;
        if out.recorded.rows.is_empty() {
            return Err("the run recorded no ticks".to_string());
        }
        Ok(out.recorded.rows.iter().map(|row| row.values().to_vec()).collect())
    }));
    let result = match outcome {
        Ok(r) => r,
        Err(panic) => Err(panic_message(&panic)),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(rows) => RunRecord {
            run,
            seed,
            error: None,
            wall_seconds,
            rows,
        },
        // One line per run in runs.csv, whatever the message looks like.
        Err(e) => RunRecord {
            run,
            seed,
            error: Some(e.replace(['\n', '\r'], " ")),
            wall_seconds,
            rows: Vec::new(),
        },
    }
}

/// What is already on disk when a session starts.
struct Recovered {
    /// Committed runs (complete rows in runs.csv).
    committed: u64,
    /// Failed runs among them.
    failed: u64,
    /// Journaled runs with id ≥ `committed`.
    journaled: BTreeSet<u64>,
    runs: Table,
    summary: Table,
    trajectories: Option<Table>,
    /// Ok rows of the committed runs of the point in progress.
    point_rows: Vec<Vec<Vec<f64>>>,
}

/// Prepares the output directory: checks or writes the sweep identity, repairs the tables to
/// their last consistent state, and re-summarises points whose summary was cut off.
fn recover(plan: &Plan, opts: &Options) -> Result<Recovered, Failure> {
    let out = &opts.out;
    let state_path = out.join(STATE_FILE);
    let now = State::of(plan, opts.trajectories);
    let resume_hint = format!(
        "pass --resume to continue it, or choose another --out (or delete {})",
        out.display()
    );
    if state_path.exists() {
        if !opts.resume {
            return Err(Failure::input(format!(
                "{} already holds a sweep; {resume_hint}",
                out.display()
            )));
        }
        let text = std::fs::read(&state_path)
            .map_err(|e| Failure::run(format!("cannot read {}: {e}", state_path.display())))?;
        let found: State = serde_json::from_slice(&text)
            .map_err(|e| Failure::input(format!("{} is corrupt: {e}", state_path.display())))?;
        if let Some(why) = found.mismatch(&now) {
            return Err(Failure::input(format!(
                "cannot resume the sweep in {}: {why}; start it again with another --out (or delete {})",
                out.display(),
                out.display()
            )));
        }
    } else if out.join("runs.csv").exists() {
        return Err(Failure::input(format!(
            "{} holds a runs.csv that no sweep state describes; choose another --out",
            out.display()
        )));
    }
    if opts.resume && !state_path.exists() && !opts.quiet_notes {
        eprintln!("note: nothing to resume in {}; starting the sweep", out.display());
    }
    recover_tables(plan, opts, &state_path, &now).map_err(Failure::run)
}

/// The part of [`recover`] after the sweep identity is settled: only I/O can fail here.
fn recover_tables(plan: &Plan, opts: &Options, state_path: &Path, now: &State) -> Result<Recovered, String> {
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let journal = out.join(JOURNAL_DIR);
    std::fs::create_dir_all(&journal).map_err(|e| format!("cannot create {}: {e}", journal.display()))?;
    if !state_path.exists() {
        let bytes = serde_json::to_vec_pretty(now).map_err(|e| e.to_string())?;
        write_atomic(out, STATE_FILE, &bytes).map_err(|e| format!("cannot write {}: {e}", state_path.display()))?;
    }

    // points.csv is a pure function of the plan: (re)write it whole.
    let mut points = csv_line(&plan.points_header()) + "\n";
    for p in 0..plan.points.len() {
        points += &csv_line(&plan.points_row(p));
        points.push('\n');
    }
    write_atomic(out, "points.csv", points.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", out.join("points.csv").display()))?;

    // runs.csv: committed runs are the complete rows, numbered 0, 1, 2, … in order.
    let runs_path = out.join("runs.csv");
    let runs_header = csv_line(&runs_header());
    let mut ok: Vec<bool> = Vec::new();
    let runs_keep = scan(&runs_path, &runs_header, |_, line| {
        let fields: Vec<&str> = line.splitn(6, ',').collect();
        let fits = fields.len() == 6 && fields[0].parse::<u64>().ok() == Some(ok.len() as u64);
        if fits {
            ok.push(fields[4] == "ok");
        }
        fits
    })?;
    let committed = ok.len() as u64;
    let failed = ok.iter().filter(|o| !**o).count() as u64;
    let runs = open_table(&runs_path, &runs_header, runs_keep)?;

    // trajectories.csv: keep the rows of committed runs only.
    let trajectories = if opts.trajectories {
        let path = out.join("trajectories.csv");
        let header = csv_line(&trajectories_header());
        let keep = scan(&path, &header, |_, line| {
            first_field(line).is_some_and(|run| run < committed)
        })?;
        Some(open_table(&path, &header, keep)?)
    } else {
        None
    };

    // Journals: finished runs. Leftover temp files are runs that were in flight.
    let mut journaled = BTreeSet::new();
    let entries = std::fs::read_dir(&journal).map_err(|e| format!("cannot read {}: {e}", journal.display()))?;
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

    // summary.csv: keep the complete point groups; a point is complete when it has ticks ×
    // metrics rows (or none, when none of its runs is ok).
    let r = plan.replicates;
    let m = Metric::names().len() as u64;
    let done_points = committed / r;
    let summary_path = out.join("summary.csv");
    let summary_header = csv_line(&summary_header());
    let mut groups: Vec<(u64, u64, u64)> = Vec::new(); // (point, first offset, rows)
    let summary_keep = scan(&summary_path, &summary_header, |offset, line| {
        match (first_field(line), groups.last_mut()) {
            (Some(p), Some(g)) if g.0 == p => g.2 += 1,
            (Some(p), _) => groups.push((p, offset, 1)),
            (None, _) => return false,
        }
        true
    })?;
    let expected_rows = |point: u64| -> Result<u64, String> {
        let any_ok = (point * r..(point + 1) * r).any(|run| ok[run as usize]);
        if !any_ok {
            return Ok(0);
        }
        let config = plan.run_config(point as usize, 0)?;
        Ok(u64::from(config.run.ticks) * m)
    };
    let mut summarised = 0; // points 0..summarised have complete summaries
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
    let mut summary = open_table(&summary_path, &summary_header, cut)?;

    // Re-summarise points whose runs are all committed but whose summary was cut off.
    let metrics = Metric::names();
    let load_ok = |run: u64| -> Result<Option<Vec<Vec<f64>>>, String> {
        if !ok[run as usize] {
            return Ok(None);
        }
        read_journal(&journal, run).map(|rec| Some(rec.rows)).map_err(|e| {
            format!(
                "cannot resume: run {run} is committed but its journal is gone ({e}); start again with another --out"
            )
        })
    };
    for point in summarised..done_points {
        let mut rows = Vec::new();
        for run in point * r..(point + 1) * r {
            rows.extend(load_ok(run)?);
        }
        write_summary(&mut summary, point, &rows, &metrics)?;
        summary.flush()?;
    }
    // Journals of summarised points are no longer needed (a deletion may have been cut off).
    for &run in journaled.range(..done_points * r) {
        remove_if_present(&journal_path(&journal, run))?;
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

/// Executes (or resumes) a sweep into `opts.out`. `stop` is the interrupt flag.
pub fn execute(plan: &Plan, opts: &Options, stop: &AtomicBool) -> Result<Ending, Failure> {
    let started = Instant::now();
    let pool = crate::batch::pool(opts.threads).map_err(Failure::input)?;
    let threads = pool.current_num_threads();
    let total = plan.runs();
    let rec = recover(plan, opts)?;
    let journal = opts.out.join(JOURNAL_DIR);
    let pending: Vec<u64> = (rec.committed..total)
        .filter(|id| !rec.journaled.contains(id))
        .collect();
    let already = total - pending.len() as u64;
    let mut writer = Writer {
        plan,
        journal: journal.clone(),
        runs: rec.runs,
        summary: rec.summary,
        trajectories: rec.trajectories,
        next: rec.committed,
        point_rows: rec.point_rows,
        failed: rec.failed,
        metrics: Metric::names(),
    };
    let journaled = rec.journaled;

    let bar = opts.progress.then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({per_sec}, eta {eta}) {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_position(already);
        bar.reset_eta();
        bar
    });
    let show_failed = |bar: &Option<indicatif::ProgressBar>, failed: u64| {
        if let Some(b) = bar
            && failed > 0
        {
            b.set_message(format!("{failed} failed"));
        }
    };
    show_failed(&bar, writer.failed);

    let counter = AtomicUsize::new(0);
    let halt = AtomicBool::new(false);
    // Bounded, so that workers wait rather than pile results up if the writer falls behind
    // (many cores with --trajectories). The writer always drains it into the reorder buffer, so
    // a full channel cannot block the run the writer is waiting for.
    let (tx, rx) = mpsc::sync_channel::<Result<RunRecord, String>>(2 * threads);
    let mut buffer: BTreeMap<u64, RunRecord> = BTreeMap::new();
    // Failures shown on the bar: committed ones plus those received or replayed since.
    let mut seen_failed = writer.failed;
    let result: Result<(), String> = pool.in_place_scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (pending, counter, halt, journal) = (&pending, &counter, &halt, &journal);
            scope.spawn(move |_| {
                let mut cache = None;
                loop {
                    if stop.load(Ordering::SeqCst) || halt.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = counter.fetch_add(1, Ordering::SeqCst);
                    let Some(&run) = pending.get(i) else { break };
                    let rec = execute_run(plan, run, &mut cache);
                    let msg = write_journal(journal, &rec).map(|()| rec);
                    if tx.send(msg).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let outcome = (|| {
            while writer.next < total {
                let next = writer.next;
                if journaled.contains(&next) {
                    let rec = read_journal(&journal, next)?;
                    if rec.error.is_some() {
                        seen_failed += 1;
                        show_failed(&bar, seen_failed);
                    }
                    writer.commit(rec)?;
                } else if let Some(rec) = buffer.remove(&next) {
                    writer.commit(rec)?;
                } else {
                    match rx.recv() {
                        Ok(msg) => {
                            let rec = msg?;
                            if let Some(b) = &bar {
                                b.inc(1);
                            }
                            if rec.error.is_some() {
                                seen_failed += 1;
                                show_failed(&bar, seen_failed);
                            }
                            buffer.insert(rec.run, rec);
                        }
                        // Every worker has stopped (interrupt): what is buffered stays journaled.
                        Err(_) => break,
                    }
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            halt.store(true, Ordering::SeqCst);
        }
        drop(rx);
        outcome
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    result.map_err(Failure::run)?;

    if writer.next < total {
        let done = writer.next + buffer.len() as u64 + journaled.range(writer.next..).count() as u64;
        return Ok(Ending::Interrupted { done, runs: total });
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    let ran_now = pending.len() as u64;
    // Resuming a sweep that was already complete keeps its manifest (and its timing).
    if ran_now > 0 || !opts.out.join("manifest.json").exists() {
        write_manifest(plan, opts, threads, writer.failed, ran_now, wall_seconds).map_err(Failure::run)?;
    }
    let _ = std::fs::remove_dir(&journal);
    Ok(Ending::Complete {
        runs: total,
        failed: writer.failed,
        ran_now,
        wall_seconds,
    })
}

/// manifest.json: written last, atomically; its presence means the sweep is complete.
fn write_manifest(
    plan: &Plan,
    opts: &Options,
    threads: usize,
    failed: u64,
    ran_now: u64,
    wall_seconds: f64,
) -> Result<(), String> {
    let start = |s: &super::spec::Start| serde_json::json!({ "file": s.label, "path": s.path.display().to_string(), "hash": s.hash });
    let axes: Vec<serde_json::Value> = plan
        .axes
        .iter()
        .map(|a| match &a.values {
            super::spec::AxisValues::List(v) => serde_json::json!({ "key": a.key, "values": v }),
            super::spec::AxisValues::Range { min, max, levels } => {
                serde_json::json!({ "key": a.key, "range": { "min": min, "max": max, "levels": levels } })
            }
        })
        .collect();
    let set: serde_json::Map<String, serde_json::Value> = plan
        .set
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
        .collect();
    let mut files = vec!["points.csv", "runs.csv", "summary.csv"];
    if opts.trajectories {
        files.push("trajectories.csv");
    }
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let manifest = serde_json::json!({
        "aimarket_version": env!("CARGO_PKG_VERSION"),
        "sweep_file": plan.file.display().to_string(),
        "sweep_hash": plan.file_hash,
        "base": start(&plan.base),
        "base_config": plan.base.config,
        "scenarios": plan.scenarios.iter().map(start).collect::<Vec<_>>(),
        "set": set,
        "axes": axes,
        "design": plan.design.name(),
        "master_seed": plan.seed,
        "seed_rule": "run seed = derive_seed(master_seed, point, replicate) (src/sim/rng.rs); recorded per run in runs.csv",
        "counts": {
            "points": plan.points.len(),
            "replicates": plan.replicates,
            "runs": plan.runs(),
            "ok": plan.runs() - failed,
            "failed": failed,
        },
        "metrics": Metric::names(),
        "files": files,
        "trajectories": opts.trajectories,
        "timing": {
            "finished_unix": unix,
            "threads": threads,
            "runs_this_session": ran_now,
            "wall_seconds_this_session": wall_seconds,
            "runs_per_second": if wall_seconds > 0.0 { ran_now as f64 / wall_seconds } else { 0.0 },
        },
    });
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    write_atomic(&opts.out, "manifest.json", &bytes)
        .map_err(|e| format!("cannot write {}: {e}", opts.out.join("manifest.json").display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_only_when_needed() {
        assert_eq!(csv_line(&["1".into(), "a,b".into(), "x".into()]), "1,\"a,b\",x");
    }

    #[test]
    fn journal_records_round_trip_floats_exactly() {
        let rec = RunRecord {
            run: 3,
            seed: 9,
            error: None,
            wall_seconds: 0.5,
            rows: vec![vec![0.1 + 0.2, f64::MIN_POSITIVE, 1e300]],
        };
        let dir = tempfile::tempdir().unwrap();
        write_journal(dir.path(), &rec).unwrap();
        let back = read_journal(dir.path(), 3).unwrap();
        assert_eq!(back.rows, rec.rows);
        assert!(read_journal(dir.path(), 4).is_err());
    }

    #[test]
    fn scan_stops_at_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n3,4\n5,").unwrap();
        let mut seen = Vec::new();
        let keep = scan(&path, "a,b", |_, l| {
            seen.push(l.to_string());
            true
        })
        .unwrap();
        assert_eq!(seen, vec!["1,2", "3,4"]);
        assert_eq!(keep, Some(12));
        assert_eq!(scan(&dir.path().join("none.csv"), "a,b", |_, _| true).unwrap(), None);
        assert!(scan(&path, "x,y", |_, _| true).is_err());
    }
}
