//! Why executing a calibration can fail. Refusals (bad `--threads`, an output directory that
//! holds something else or another calibration) are found before anything in the directory
//! changes; the others are failures reading or writing it.

use std::path::{Path, PathBuf};

/// How a calibration session failed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// The worker pool cannot be built as asked (`--threads`).
    #[error("{0}")]
    Threads(String),
    /// Another process holds the output directory's lock.
    #[error("{0}")]
    Locked(crate::output::lock::LockError),
    /// The directory already holds a calibration and `--resume` was not given.
    #[error(
        "{} already holds a calibration; pass --resume to continue it, or choose another --out (or delete {})",
        out.display(),
        out.display()
    )]
    Occupied {
        /// The output directory.
        out: PathBuf,
    },
    /// The directory holds results that are not a calibration's.
    #[error("{} holds {file}, which no calibration state describes; choose another --out", out.display())]
    Foreign {
        /// The output directory.
        out: PathBuf,
        /// The file found.
        file: String,
    },
    /// The directory holds a different calibration than the one being resumed.
    #[error(
        "cannot resume the calibration in {}: {why}; start it again with another --out (or delete {})",
        out.display(),
        out.display()
    )]
    Mismatch {
        /// The output directory.
        out: PathBuf,
        /// What differs.
        why: String,
    },
    /// The state file cannot be parsed.
    #[error("{} is corrupt: {reason}", path.display())]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        reason: String,
    },
    /// A journal file cannot be read back.
    #[error("{} is corrupt: {reason}", path.display())]
    CorruptJournal {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading, writing or removing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read`, `write`, `create` or `remove`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A document could not be encoded.
    #[error("cannot encode {}: {reason}", path.display())]
    Encode {
        /// The file it was meant for.
        path: PathBuf,
        /// The encoding error.
        reason: String,
    },
    /// The optimiser failed in a way it should not (a bug in the strategy or the library).
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
}

impl CalibrateError {
    /// An adapter for `map_err`: an I/O error while doing `action` to `path`.
    pub fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> CalibrateError + 'p {
        move |source| CalibrateError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether this is a refusal of the request (bad input), not a failure of the work.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            CalibrateError::Threads(_)
                | CalibrateError::Locked(_)
                | CalibrateError::Occupied { .. }
                | CalibrateError::Foreign { .. }
                | CalibrateError::Mismatch { .. }
                | CalibrateError::CorruptState { .. }
        )
    }
}
