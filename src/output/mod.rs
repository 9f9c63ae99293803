//! Output files: atomic staging, the CSV files of a run, and its manifest.

pub mod atomic;
pub mod plot;
mod run_files;

pub use run_files::{RunManifest, RunWriter, format_number};
