//! Statistics as plain functions: replicate summaries and paired comparisons.
//!
//! Values are always taken in replicate order and summed left to right, so results depend only
//! on the replicates, never on which thread ran them.

mod paired;
pub mod sensitivity;
mod summary;

pub use paired::{Paired, paired};
pub use summary::{Summary, percentile, summarise, t975};
