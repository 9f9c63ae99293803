//! Merging shards (`aimarket merge OUT SHARD_DIR...`) into the directory a single-machine
//! sweep would have written.
//!
//! A shard is a contiguous block of whole points (`shard`), so the single-machine sweep's
//! runs.csv, summary.csv and trajectories.csv are the shards' files concatenated in shard order
//! (each without its header but the first), and its points.csv is any shard's (it is a pure
//! function of the plan). The merge therefore copies bytes, file by file, in run order: it
//! never parses a number and never holds more than a line in memory. The only rows it reads
//! are those of runs.csv (its columns found by name), to check that the run ids follow each
//! other without gap or duplicate; a shard's runs.csv written before the `seed_hex` column
//! existed has that column computed from `seed` as its rows are copied.
//!
//! A shard's manifest.json is the manifest of the whole sweep except for three top-level
//! members: `counts` (of the shard's points and runs), `shard` (which shard) and `timing`. The
//! merged manifest is the first shard's with `shard` dropped and `counts` and `timing` written
//! anew; every other member is copied as the text the shards wrote (and must be the same text
//! in every shard), so no float goes through a JSON parser and back. The merged
//! `.sweep-state.json` is the shards' state without `shard`, so the merged directory is, also
//! for `--resume`, the complete single-machine sweep.
//!
//! Everything is checked before anything is written: every directory is a complete shard of
//! the same sweep (hashes of the sweep file, base and scenarios, flags, version), no shard is
//! missing or given twice, and the output directory is empty or already holds this very sweep
//! (a merge can be run again). Each output file is written under a temporary name and renamed,
//! the manifest last.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::journal::JOURNAL_DIR;
use super::manifest::{Counts, MANIFEST_FILE, STATE_FILE, SweepState, Timing};
use super::resume::read_state;
use super::shard::{Shard, ShardEntry};
use super::tables;
use crate::output::atomic::{StagedFile, write_atomic};

/// Why a merge was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Another process writes the output directory.
    #[error(transparent)]
    Locked(#[from] crate::output::lock::LockError),
    /// A directory is not a shard (or not a sweep at all).
    #[error("{}: {why}", dir.display())]
    NotAShard {
        /// The directory.
        dir: PathBuf,
        /// What it is instead.
        why: String,
    },
    /// A shard has not finished.
    #[error(
        "shard {}/{} in {} is incomplete (no manifest.json: {} of its runs {}..{} are not all done); \
         finish it first: aimarket sweep SWEEP --shard {}/{} --out {}",
        shard.index, shard.count, dir.display(), shard.runs.end - shard.runs.start, shard.runs.start,
        shard.runs.end, shard.index, shard.count, dir.display()
    )]
    Incomplete {
        /// The shard directory.
        dir: PathBuf,
        /// The shard.
        shard: ShardEntry,
    },
    /// Two shards are not of the same sweep.
    #[error("{} and {} are not shards of the same sweep: {what}", a.display(), b.display())]
    Different {
        /// The first shard.
        a: PathBuf,
        /// The shard that differs from it.
        b: PathBuf,
        /// What differs.
        what: String,
    },
    /// The same shard was given twice.
    #[error("shard {index}/{count} is given twice: {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(" and "))]
    Duplicate {
        /// The shard index.
        index: u64,
        /// The number of shards.
        count: u64,
        /// The directories holding it.
        dirs: Vec<PathBuf>,
    },
    /// Shards are missing.
    #[error(
        "{} of {count} shards missing: {} (runs {}); pass every shard directory",
        indices.len(),
        list(indices.iter().map(u64::to_string)),
        list(runs.iter().map(|r| format!("{}..{}", r.start, r.end)))
    )]
    Missing {
        /// The number of shards.
        count: u64,
        /// The missing shard indices.
        indices: Vec<u64>,
        /// The run ids they hold.
        runs: Vec<Range<u64>>,
    },
    /// The output directory cannot take the merge.
    #[error("{}: {why}; choose another output directory", out.display())]
    Occupied {
        /// The output directory.
        out: PathBuf,
        /// What it holds.
        why: String,
    },
    /// A shard's files do not say what its manifest says.
    #[error("{} is corrupt: {why}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// No shard directory was given.
    #[error("no shard directories given")]
    NoShards,
    /// Reading or writing failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.len() > 20 {
        format!("{}, … ({} in all)", items[..20].join(", "), items.len())
    } else {
        items.join(", ")
    }
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> MergeError + 'p {
    move |source| MergeError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// What a merge wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// Shards merged.
    pub shards: u64,
    /// Points of the sweep.
    pub points: u64,
    /// Runs of the sweep.
    pub runs: u64,
    /// Failed runs among them.
    pub failed: u64,
}

/// A complete shard, as found in its directory.
struct Found {
    dir: PathBuf,
    state: SweepState,
    shard: ShardEntry,
    /// The manifest's top-level members as (key, value) text, in file order.
    members: Vec<(String, String)>,
    counts: Counts,
    timing: Timing,
}

/// The manifest members that differ between the shards of one sweep.
const PER_SHARD: [&str; 3] = ["counts", "shard", "timing"];

fn read_shard(dir: &Path) -> Result<Found, MergeError> {
    let not = |why: &str| MergeError::NotAShard {
        dir: dir.to_path_buf(),
        why: why.to_string(),
    };
    let state_path = dir.join(STATE_FILE);
    if !dir.is_dir() {
        return Err(not("no such directory"));
    }
    if !state_path.exists() {
        return Err(not("not a sweep shard (it has no .sweep-state.json)"));
    }
    let state = read_state(&state_path).map_err(|e| not(&e.to_string()))?;
    let Some(shard) = state.shard else {
        return Err(not("holds a whole sweep (run without --shard), not a shard"));
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(MergeError::Incomplete {
                dir: dir.to_path_buf(),
                shard,
            });
        }
        Err(e) => return Err(io("read", &manifest_path)(e)),
    };
    let corrupt = |why: String| MergeError::Corrupt {
        path: manifest_path.clone(),
        why,
    };
    let members = split_members(&text).ok_or_else(|| corrupt("not a JSON object as aimarket writes it".into()))?;
    let member = |key: &str| {
        members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| corrupt(format!("it has no {key}")))
    };
    let parse_err = |key: &str, e: serde_json::Error| corrupt(format!("{key}: {e}"));
    let counts: Counts = serde_json::from_str(member("counts")?).map_err(|e| parse_err("counts", e))?;
    let timing: Timing = serde_json::from_str(member("timing")?).map_err(|e| parse_err("timing", e))?;
    let in_manifest: ShardEntry = serde_json::from_str(member("shard")?).map_err(|e| parse_err("shard", e))?;
    if in_manifest != shard {
        return Err(corrupt(format!(
            "its shard {}/{} is not the shard {}/{} of .sweep-state.json",
            in_manifest.index, in_manifest.count, shard.index, shard.count
        )));
    }
    Ok(Found {
        dir: dir.to_path_buf(),
        state,
        shard,
        members,
        counts,
        timing,
    })
}

/// What differs between the sweeps of two shard states, if anything (shards aside).
fn state_difference(a: &SweepState, b: &SweepState) -> Option<String> {
    if a.sweep_hash != b.sweep_hash {
        return Some("their sweep files differ (SHA-256 of the sweep file)".into());
    }
    if a.base_hash != b.base_hash || a.base != b.base {
        return Some(format!("their base configs differ ({} by hash)", a.base));
    }
    if a.scenarios != b.scenarios {
        return Some("their scenario configs differ (by hash)".into());
    }
    if a.trajectories != b.trajectories {
        return Some(format!(
            "one was run {} --trajectories and the other {} it",
            if a.trajectories { "with" } else { "without" },
            if b.trajectories { "with" } else { "without" }
        ));
    }
    if a.aimarket_version != b.aimarket_version || a.metrics != b.metrics {
        return Some(format!(
            "they were run by different aimarket versions ({} and {})",
            a.aimarket_version, b.aimarket_version
        ));
    }
    if (a.points, a.replicates, a.runs) != (b.points, b.replicates, b.runs) {
        return Some("their designs have different sizes".into());
    }
    None
}

/// Checks the shards: one sweep, every shard once. Returns them in shard order.
fn check_shards(found: Vec<Found>) -> Result<Vec<Found>, MergeError> {
    let first = &found[0];
    for f in &found[1..] {
        let differ = |what: String| MergeError::Different {
            a: first.dir.clone(),
            b: f.dir.clone(),
            what,
        };
        if let Some(what) = state_difference(&first.state, &f.state) {
            return Err(differ(what));
        }
        if f.shard.count != first.shard.count {
            return Err(differ(format!(
                "one is a shard of {} and the other of {} shards",
                first.shard.count, f.shard.count
            )));
        }
        let shared = |m: &[(String, String)]| -> Vec<(String, String)> {
            m.iter()
                .filter(|(k, _)| !PER_SHARD.contains(&k.as_str()))
                .cloned()
                .collect()
        };
        let (a, b) = (shared(&first.members), shared(&f.members));
        if a != b {
            let key = a
                .iter()
                .zip(&b)
                .find(|(x, y)| x != y)
                .map(|(x, _)| x.0.clone())
                .unwrap_or_else(|| "their fields".into());
            return Err(differ(format!("their manifests differ in {key}")));
        }
    }
    let count = first.shard.count;
    let (points, replicates) = (first.state.points, first.state.replicates);
    let mut by_index: BTreeMap<u64, Vec<Found>> = BTreeMap::new();
    for f in found {
        let expected = Shard {
            index: f.shard.index,
            count,
        }
        .points(points);
        if f.shard.points.start != expected.start || f.shard.points.end != expected.end {
            return Err(MergeError::Corrupt {
                path: f.dir.join(STATE_FILE),
                why: format!(
                    "shard {}/{count} should hold points {}..{}, it says {}..{}",
                    f.shard.index, expected.start, expected.end, f.shard.points.start, f.shard.points.end
                ),
            });
        }
        by_index.entry(f.shard.index).or_default().push(f);
    }
    if let Some((&index, dups)) = by_index.iter().find(|(_, v)| v.len() > 1) {
        return Err(MergeError::Duplicate {
            index,
            count,
            dirs: dups.iter().map(|f| f.dir.clone()).collect(),
        });
    }
    let indices: Vec<u64> = (0..count).filter(|i| !by_index.contains_key(i)).collect();
    if !indices.is_empty() {
        let runs = indices
            .iter()
            .map(|&index| {
                let p = Shard { index, count }.points(points);
                p.start * replicates..p.end * replicates
            })
            .collect();
        return Err(MergeError::Missing { count, indices, runs });
    }
    Ok(by_index.into_values().flatten().collect())
}

/// Checks that `out` can take the merge of the sweep whose merged state is `state`.
fn check_out(out: &Path, state: &SweepState, shards: &[Found]) -> Result<(), MergeError> {
    let occupied = |why: String| MergeError::Occupied {
        out: out.to_path_buf(),
        why,
    };
    if !out.exists() {
        return Ok(());
    }
    if let Ok(o) = out.canonicalize()
        && let Some(s) = shards.iter().find(|s| s.dir.canonicalize().is_ok_and(|d| d == o))
    {
        return Err(occupied(format!("is shard {}/{} itself", s.shard.index, s.shard.count)));
    }
    let state_path = out.join(STATE_FILE);
    if state_path.exists() {
        let found = read_state(&state_path).map_err(|e| occupied(e.to_string()))?;
        if let Some(s) = found.shard {
            return Err(occupied(format!("holds shard {}/{} of a sweep", s.index, s.count)));
        }
        if let Some(what) = state_difference(&found, state) {
            return Err(occupied(format!("already holds a different sweep: {what}")));
        }
        let journal = out.join(JOURNAL_DIR);
        if std::fs::read_dir(&journal).is_ok_and(|mut d| d.next().is_some()) {
            return Err(occupied(
                "holds an unfinished single-machine run of this sweep (its .journal is not empty)".into(),
            ));
        }
        return Ok(());
    }
    for name in ["runs.csv", MANIFEST_FILE] {
        if out.join(name).exists() {
            return Err(occupied(format!("holds a {name} that no sweep state describes")));
        }
    }
    Ok(())
}

/// Refuses an output directory for the merge of `plan`'s sweep (with or without
/// `trajectories`) when it already holds another sweep: what `aimarket slurm` checks before
/// anything is submitted.
pub fn check_target(out: &Path, plan: &super::spec::Plan, trajectories: bool) -> Result<(), MergeError> {
    let mut state = SweepState::of(plan, trajectories);
    state.shard = None;
    check_out(out, &state, &[])
}

/// Merges complete shards of one sweep into `out`.
pub fn merge(out: &Path, dirs: &[PathBuf]) -> Result<Merged, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::NoShards);
    }
    let found = dirs.iter().map(|d| read_shard(d)).collect::<Result<Vec<_>, _>>()?;
    let shards = check_shards(found)?;
    let mut state = shards[0].state.clone();
    state.shard = None;
    check_out(out, &state, &shards)?;

    std::fs::create_dir_all(out).map_err(io("write", out))?;
    // The merged directory is a sweep directory like any other: one writer at a time.
    let _lock = crate::output::lock::lock_dir(out)?;
    let state_path = out.join(STATE_FILE);
    let bytes = serde_json::to_vec_pretty(&state).map_err(|e| io("write", &state_path)(e.into()))?;
    write_atomic(out, STATE_FILE, &bytes).map_err(io("write", &state_path))?;

    copy_points(out, &shards)?;
    let (ok, failed) = copy_runs(out, &shards)?;
    copy_table(
        out,
        "summary.csv",
        &tables::header_line(&tables::summary_header()),
        &shards,
    )?;
    if state.trajectories {
        let header = tables::header_line(&tables::trajectories_header());
        copy_table(out, "trajectories.csv", &header, &shards)?;
    }
    let counts = Counts {
        failed,
        ok,
        points: state.points,
        replicates: state.replicates,
        runs: state.runs,
    };
    let timing = Timing::new(
        shards.iter().map(|s| s.timing.threads).max().unwrap_or(1),
        shards.iter().map(|s| s.timing.runs_this_session).sum(),
        shards.iter().map(|s| s.timing.wall_seconds_this_session).sum(),
    );
    let manifest = merged_manifest(&shards[0].members, &counts, &timing);
    let path = out.join(MANIFEST_FILE);
    write_atomic(out, MANIFEST_FILE, manifest.as_bytes()).map_err(io("write", &path))?;
    let _ = std::fs::remove_dir(out.join(JOURNAL_DIR));
    Ok(Merged {
        shards: shards.len() as u64,
        points: state.points,
        runs: state.runs,
        failed,
    })
}

/// points.csv: the same in every shard (a function of the plan); written once.
fn copy_points(out: &Path, shards: &[Found]) -> Result<(), MergeError> {
    let read = |f: &Found| {
        let path = f.dir.join("points.csv");
        std::fs::read(&path).map_err(io("read", &path))
    };
    let bytes = read(&shards[0])?;
    for s in &shards[1..] {
        if read(s)? != bytes {
            return Err(MergeError::Different {
                a: shards[0].dir.clone(),
                b: s.dir.clone(),
                what: "their points.csv differ".into(),
            });
        }
    }
    let path = out.join("points.csv");
    write_atomic(out, "points.csv", &bytes).map_err(io("write", &path))?;
    Ok(())
}

/// Opens a shard's table and checks its header line (returned with the reader past it).
fn open_table(path: &Path, header: &str) -> Result<BufReader<File>, MergeError> {
    let file = File::open(path).map_err(io("read", path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).map_err(io("read", path))?;
    if line.strip_suffix(b"\n") != Some(header.as_bytes()) {
        return Err(MergeError::Corrupt {
            path: path.to_path_buf(),
            why: "its header is not the one this version of aimarket writes".into(),
        });
    }
    Ok(reader)
}

/// A staged output table with its header written.
fn start_table(out: &Path, name: &str, header: &str) -> Result<(StagedFile, BufWriter<File>), MergeError> {
    let path = out.join(name);
    let staged = StagedFile::new(out, name).map_err(io("write", &path))?;
    let mut w = BufWriter::with_capacity(1 << 16, staged.file().map_err(io("write", &path))?);
    writeln!(w, "{header}").map_err(io("write", &path))?;
    Ok((staged, w))
}

fn finish_table(staged: StagedFile, mut w: BufWriter<File>) -> Result<(), MergeError> {
    let path = staged.target().to_path_buf();
    w.flush().map_err(io("write", &path))?;
    drop(w);
    staged.commit().map_err(io("write", &path))?;
    Ok(())
}

/// runs.csv: the shards' rows in shard order, checking that run ids follow each other and
/// match every shard's range. Columns are found by name in each shard's header; a shard's
/// runs.csv in an older layout (without `seed_hex`) has its rows rewritten in the current one,
/// the others are copied as bytes. Returns (ok, failed).
fn copy_runs(out: &Path, shards: &[Found]) -> Result<(u64, u64), MergeError> {
    let header = tables::header_line(&tables::runs_header());
    let (staged, mut w) = start_table(out, "runs.csv", &header)?;
    let (mut ok, mut failed) = (0, 0);
    let mut line = Vec::new();
    for s in shards {
        let path = s.dir.join("runs.csv");
        let corrupt = |why: String| MergeError::Corrupt {
            path: path.clone(),
            why,
        };
        let file = File::open(&path).map_err(io("read", &path))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        reader.read_until(b'\n', &mut line).map_err(io("read", &path))?;
        let names: Vec<String> = line
            .strip_suffix(b"\n")
            .and_then(|h| tables::parse_line(&String::from_utf8_lossy(h)))
            .map(|r| r.iter().map(String::from).collect())
            .ok_or_else(|| corrupt("it has no header line".into()))?;
        let layout = tables::RunsLayout::of(&names).map_err(|e| corrupt(e.to_string()))?;
        let mut next = s.shard.runs.start;
        let (mut shard_ok, mut shard_failed) = (0, 0);
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io("read", &path))?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                return Err(corrupt(format!("its last line (run {next}) is cut off")));
            }
            let text = String::from_utf8_lossy(&line);
            let rec = tables::parse_line(text.trim_end_matches('\n'));
            let run = rec.as_ref().and_then(|r| layout.run(r));
            let converted = rec.as_ref().and_then(|r| layout.convert(r));
            if run != Some(next) || next >= s.shard.runs.end || (layout.converts() && converted.is_none()) {
                return Err(corrupt(format!(
                    "expected run {next} of the shard's runs {}..{}, found the line {}",
                    s.shard.runs.start,
                    s.shard.runs.end,
                    text.trim_end()
                )));
            }
            match rec.as_ref().is_some_and(|r| layout.ok(r)) {
                true => shard_ok += 1,
                false => shard_failed += 1,
            }
            let bytes = converted.as_ref().map_or(&line[..], |c| c.as_bytes());
            w.write_all(bytes).map_err(io("write", staged.target()))?;
            next += 1;
        }
        line.clear();
        if next != s.shard.runs.end || (shard_ok, shard_failed) != (s.counts.ok, s.counts.failed) {
            return Err(MergeError::Corrupt {
                path,
                why: format!(
                    "it has runs {}..{next} ({shard_ok} ok, {shard_failed} failed); its manifest says runs {}..{} ({} ok, {} failed)",
                    s.shard.runs.start, s.shard.runs.start, s.shard.runs.end, s.counts.ok, s.counts.failed
                ),
            });
        }
        ok += shard_ok;
        failed += shard_failed;
    }
    finish_table(staged, w)?;
    Ok((ok, failed))
}

/// A table whose rows are copied as bytes, shard after shard (summary.csv, trajectories.csv).
fn copy_table(out: &Path, name: &str, header: &str, shards: &[Found]) -> Result<(), MergeError> {
    let (staged, mut w) = start_table(out, name, header)?;
    for s in shards {
        let path = s.dir.join(name);
        let mut reader = open_table(&path, header)?;
        std::io::copy(&mut reader, &mut w).map_err(io("read", &path))?;
    }
    finish_table(staged, w)
}

/// The merged manifest: the shard's members with `shard` dropped and `counts` and `timing`
/// replaced, laid out as serde_json's pretty printer lays out the whole manifest.
fn merged_manifest(members: &[(String, String)], counts: &Counts, timing: &Timing) -> String {
    // A nested object printed alone is indented from column 0; as a member it starts at 2.
    // (The manifest types always encode.)
    let pretty = |v: serde_json::Result<String>| v.unwrap_or_default().replace('\n', "\n  ");
    let (counts, timing) = (
        pretty(serde_json::to_string_pretty(counts)),
        pretty(serde_json::to_string_pretty(timing)),
    );
    let mut parts = Vec::with_capacity(members.len());
    for (key, value) in members {
        let value = match key.as_str() {
            "shard" => continue,
            "counts" => counts.clone(),
            "timing" => timing.clone(),
            _ => value.clone(),
        };
        parts.push(format!("  \"{key}\": {value}"));
    }
    format!("{{\n{}\n}}", parts.join(",\n"))
}

/// Splits a JSON object into its top-level members as (key, value text), in order, or `None`
/// if the text is not one object. Keys are taken as written between their quotes (the
/// manifest's keys need no escapes); values are their exact text.
fn split_members(text: &str) -> Option<Vec<(String, String)>> {
    let b = text.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    // The end of the string starting at b[i] == '"' (index after the closing quote).
    let string_end = |mut i: usize| -> Option<usize> {
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
        None
    };
    skip_ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut members = Vec::new();
    skip_ws(&mut i);
    if b.get(i) == Some(&b'}') {
        i += 1;
        skip_ws(&mut i);
        return (i == b.len()).then_some(members);
    }
    loop {
        skip_ws(&mut i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(i)?;
        let key = text[i + 1..key_end - 1].to_string();
        i = key_end;
        skip_ws(&mut i);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        skip_ws(&mut i);
        let start = i;
        let mut depth = 0usize;
        loop {
            match *b.get(i)? {
                b'"' => {
                    i = string_end(i)?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b',' | b'}' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let value = text[start..i].trim_end();
        if value.is_empty() {
            return None;
        }
        members.push((key, value.to_string()));
        if b[i] == b'}' {
            i += 1;
            skip_ws(&mut i);
            return (i == b.len()).then_some(members);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_split_and_reassemble_to_the_pretty_printed_bytes() {
        let value = serde_json::json!({
            "a": [1, 2.5, {"x": "y,}]\"", "z": []}],
            "counts": {"failed": 0, "ok": 3, "points": 1, "replicates": 3, "runs": 3},
            "e": {},
            "s": "quote \" and \\ and , { [",
            "shard": {"count": 2, "index": 0},
            "t": null,
            "timing": {"finished_unix": 1, "runs_per_second": 0.5, "runs_this_session": 1, "threads": 1,
                       "wall_seconds_this_session": 2.0},
        });
        let text = serde_json::to_string_pretty(&value).unwrap();
        let members = split_members(&text).unwrap();
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "counts", "e", "s", "shard", "t", "timing"]);
        assert_eq!(members[3].1, r#""quote \" and \\ and , { [""#);
        let counts: Counts = serde_json::from_str(&members[1].1).unwrap();
        let timing: Timing = serde_json::from_str(&members[6].1).unwrap();
        let merged = merged_manifest(&members, &counts, &timing);
        let mut expected = value.clone();
        expected.as_object_mut().unwrap().remove("shard");
        assert_eq!(merged, serde_json::to_string_pretty(&expected).unwrap());
        for bad in ["", "[]", "{\"a\" 1}", "{\"a\": }", "{\"a\": 1", "{\"a\": 1} x"] {
            assert_eq!(split_members(bad), None, "{bad}");
        }
        assert_eq!(split_members(" {} "), Some(vec![]));
    }

    #[test]
    fn missing_shards_are_listed_with_their_runs() {
        let e = MergeError::Missing {
            count: 8,
            indices: vec![2, 5],
            runs: vec![4..6, 10..12],
        };
        assert_eq!(
            e.to_string(),
            "2 of 8 shards missing: 2, 5 (runs 4..6, 10..12); pass every shard directory"
        );
    }
}
