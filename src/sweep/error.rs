//! Why executing a sweep can fail, as one typed error.
//!
//! The runner does not decide exit codes: it says *what* went wrong, and the command glue
//! (`sweep::execute`) maps each variant to one. The variants fall into two groups. Refusals are
//! about the request itself — bad `--threads`, an output directory that holds another sweep or
//! cannot be resumed by this one — and are detected before anything in the directory changes.
//! The others are failures while reading or writing the output directory, or contents of it
//! that cannot be made consistent again; they can happen at any point of a session.

use std::path::{Path, PathBuf};

use super::shard::ShardEntry;

/// How a sweep session failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The worker pool cannot be built as asked (`--threads`).
    #[error("{0}")]
    Threads(String),
    /// Another process holds the output directory's lock (a sweep still running into it).
    #[error("{0}")]
    Locked(crate::output::lock::LockError),
    /// The output directory already holds a sweep and `--resume` was not given.
    #[error(
        "{} already holds a sweep; pass --resume to continue it, or choose another --out (or delete {})",
        out.display(),
        out.display()
    )]
    Occupied {
        /// The output directory.
        out: PathBuf,
    },
    /// The output directory holds a runs.csv but no sweep state: not a sweep this runner wrote.
    #[error(
        "{} holds a runs.csv that no sweep state describes; choose another --out",
        out.display()
    )]
    Foreign {
        /// The output directory.
        out: PathBuf,
    },
    /// `.sweep-state.json` cannot be parsed.
    #[error("{} is corrupt: {source}", path.display())]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The directory holds a different sweep than the one being resumed.
    #[error(
        "cannot resume the sweep in {}: {why}; start it again with another --out (or delete {})",
        out.display(),
        out.display()
    )]
    Mismatch {
        /// The output directory.
        out: PathBuf,
        /// What differs.
        why: Difference,
    },
    /// Reading, writing, creating or removing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read`, `write`, `create` or `remove`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON document could not be encoded (not expected to happen: the types always encode).
    #[error("cannot encode {}: {source}", path.display())]
    Encode {
        /// The file it was meant for.
        path: PathBuf,
        /// The encoding error.
        source: serde_json::Error,
    },
    /// A table was written by another version of aimarket (its header differs).
    #[error(
        "{} has a different header than this version of aimarket writes; choose another --out",
        path.display()
    )]
    ForeignTable {
        /// The table.
        path: PathBuf,
    },
    /// A table read back lacks a column this version reads (by name) or writes.
    #[error(
        "{} has no column `{column}` (was it written by another version of aimarket?); choose another --out",
        path.display()
    )]
    MissingColumn {
        /// The table.
        path: PathBuf,
        /// The column's name.
        column: String,
    },
    /// A journal file cannot be read back as the run it is named after.
    #[error("{} is corrupt: {reason}", path.display())]
    CorruptJournal {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A journal file holds another run than its name says.
    #[error("{} holds run {found}, expected {run}", path.display())]
    MisplacedJournal {
        /// The journal file.
        path: PathBuf,
        /// The run its name says.
        run: u64,
        /// The run it holds.
        found: u64,
    },
    /// A committed run must be re-summarised on resume, but its journal cannot be read.
    #[error("cannot resume: run {run} is committed but its journal is gone ({source}); start again with another --out")]
    JournalGone {
        /// The run.
        run: u64,
        /// Why its journal cannot be read.
        source: Box<SweepError>,
    },
    /// A point of the plan cannot be resolved while repairing the directory.
    #[error("{0}")]
    Point(String),
}

impl SweepError {
    /// An adapter for `map_err`: an I/O error while doing `action` to `path`.
    pub fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> SweepError + 'p {
        move |source| SweepError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why a directory's sweep cannot be resumed by the sweep being run now.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Difference {
    /// The sweep file's bytes changed.
    #[error("the sweep file changed since the sweep started (its hash differs)")]
    SweepFile,
    /// The resolved base config changed.
    #[error("the base config {base} changed since the sweep started (its hash differs)")]
    Base {
        /// The base as written in the sweep file.
        base: String,
    },
    /// A resolved scenario config changed (or the list of scenarios did).
    #[error("a scenario config changed since the sweep started (its hash differs)")]
    Scenario,
    /// `--trajectories` differs between the sessions.
    #[error(
        "the sweep started {} --trajectories and is being resumed {} it; resume with the same flags",
        with(*was),
        with(*now)
    )]
    Trajectories {
        /// Whether the sweep started with it.
        was: bool,
        /// Whether this session has it.
        now: bool,
    },
    /// `--shard` differs between the sessions (another shard, or sharded against unsharded).
    /// (What it holds and what this session is; see [`Difference::shard`].)
    #[error("{0}; give each shard its own --out")]
    Shard(String),
    /// Another aimarket version, metric list or run count.
    #[error("it was started by aimarket {version} with different metrics or run counts")]
    Version {
        /// The version that started the sweep.
        version: String,
    },
}

impl Difference {
    /// The difference between the shard a directory holds and the shard of this session.
    pub fn shard(was: Option<ShardEntry>, now: Option<ShardEntry>) -> Difference {
        Difference::Shard(format!("it holds {} and this is {}", shard_name(was), shard_name(now)))
    }
}

fn shard_name(shard: Option<ShardEntry>) -> String {
    match shard {
        Some(s) => format!("shard {}/{}", s.index, s.count),
        None => "the whole sweep (no --shard)".to_string(),
    }
}

fn with(on: bool) -> &'static str {
    if on { "with" } else { "without" }
}
