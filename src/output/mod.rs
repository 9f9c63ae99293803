//! Output files: atomic staging, the CSV files of a run, and its manifest; the lock on an
//! output directory; checks of an output directory before any work starts.

pub mod atomic;
pub mod lock;
pub mod plot;
pub mod run_files;

pub use run_files::{
    FAIL_AFTER_RENAMES_ENV, FAIL_AT_TICK_ENV, INCOMPLETE_FILE, RunManifest, RunWriter, STAGING_PREFIX, format_number,
};

use std::path::Path;

/// Checks that `dir` can hold results before any work starts: it is a directory (created if
/// missing) in which files can be created. The message says what is wrong with it.
pub fn check_out_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{shown}: --out must be a directory, but it is a file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{shown}: --out cannot be created: {e}"))?;
        }
        Err(e) => return Err(format!("{shown}: --out cannot be used: {e}")),
    }
    tempfile::Builder::new()
        .prefix(".aimarket-probe.")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| format!("{shown}: --out is not writable: {e}"))
}
