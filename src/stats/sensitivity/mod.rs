//! Global sensitivity analysis as pure functions: Sobol' indices on a Saltelli design and Morris
//! elementary-effects screening. `docs/SENSITIVITY.md` states the methods with their equations.
//!
//! Everything here works in the unit hypercube: a design is a list of rows of `k` coordinates in
//! `[0, 1)` (Saltelli) or on the grid `{0, 1/(p−1), …, 1}` (Morris). The caller maps coordinate
//! `x` of parameter `i` to its range, runs the model once per row and hands the outputs back in
//! design order as `&[Option<f64>]`, `None` marking a failed run. Nothing here knows about the
//! simulation or its configuration.
//!
//! * [`saltelli_design`] → [`SaltelliDesign`]; [`sobol_indices`] → [`SobolIndices`] (first-order
//!   S1 after Saltelli et al. 2010, total ST after Jansen 1999, percentile bootstrap CIs).
//! * [`morris_design`] → [`MorrisDesign`]; [`morris_indices`] → [`MorrisIndices`] (μ, μ*, σ).
//! * [`sobol_warnings`]: when a Sobol' result is too unstable to report without a caveat.
//! * [`replicate_means`] and [`replicate_noise`]: replicates are averaged per design point before
//!   the indices are computed; the noise report says how much of the variance is noise.
//!
//! Determinism: no threads, no hash maps; every sum runs left to right in design order and every
//! random draw comes from a `Xoshiro256PlusPlus` seeded from the caller's seed, so results are a
//! function of (design, outputs, seed) alone, whatever thread the caller runs this on.
//!
//! # Why `sobol_burley`
//!
//! The Saltelli design needs a *scrambled* Sobol' sequence, so that (a) the estimators are
//! unbiased randomised-QMC estimates, (b) different seeds give independent designs, and (c) the
//! first point is not the degenerate origin that unscrambled Sobol' starts with. `sobol_burley`
//! (Nathan Vegdahl; Burley 2020, "Practical Hash-based Owen Scrambling", JCGT 9(4)) gives exactly
//! that: Owen-scrambled Sobol' points with Joe–Kuo direction numbers (new-joe-kuo-6, 256
//! dimensions), seedable, `no_std`, with no dependencies, dual MIT/Apache licensed, and as a pure
//! function `sample(index, dimension, seed)` — which suits a design that must be reproducible and
//! independent of evaluation order. It is used with `default-features = false` (no SIMD, hence
//! no `unsafe`). Its limits become ours and are checked: at most 2^16 base samples and 256
//! dimensions, so `k ≤ 128` for a Saltelli design (which uses 2k dimensions). Its output is
//! `f32` (24-bit resolution, converted exactly to `f64`), which is ample for parameter ranges.
//! The alternative `sobol` crate (1.0.2) generates unscrambled points only — no seed, so no
//! independent designs — and pulls in `libflate` and `num-traits`; a hand-written scrambler
//! would be more code to trust. (`cargo search` was unavailable here; both were checked with
//! `cargo info` and by reading their sources.)

mod morris;
mod noise;
mod saltelli;
mod sobol;
mod warnings;

pub use morris::{MorrisDesign, MorrisIndices, MorrisParam, morris_design, morris_indices};
pub use noise::{ReplicateNoise, replicate_means, replicate_noise};
pub use saltelli::{MAX_BASE_SAMPLES, MAX_PARAMS, Role, SaltelliDesign, saltelli_design};
pub use sobol::{Estimate, Missing, SobolIndices, SobolOptions, SobolParam, sobol_indices};
pub use warnings::{NEGATIVE_S1_SLACK, SOBOL_MIN_STABLE_N, StabilityWarning, WIDE_HALF_WIDTH, Which, sobol_warnings};

/// Why a design could not be built or outputs could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SensitivityError {
    /// A design parameter is out of its allowed range.
    InvalidDesign(String),
    /// The outputs do not line up with the design.
    LengthMismatch {
        /// Rows in the design.
        expected: usize,
        /// Outputs given.
        got: usize,
    },
    /// An analysis option is out of its allowed range.
    InvalidOption(String),
}

impl std::fmt::Display for SensitivityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SensitivityError::InvalidDesign(m) => write!(f, "invalid design: {m}"),
            SensitivityError::LengthMismatch { expected, got } => {
                write!(f, "{got} outputs for a design of {expected} rows")
            }
            SensitivityError::InvalidOption(m) => write!(f, "invalid option: {m}"),
        }
    }
}

impl std::error::Error for SensitivityError {}

/// A seeded generator for a stream identified by `(seed, stream)`; streams are independent.
fn rng(seed: u64, stream: u64) -> rand_xoshiro::Xoshiro256PlusPlus {
    use rand::SeedableRng;
    // seed_from_u64 runs SplitMix64 over its argument, so nearby (seed, stream) pairs give
    // unrelated states.
    rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
}

/// `Some(x)` when the run finished with a finite output; a non-finite output counts as failed.
fn ok(y: Option<f64>) -> Option<f64> {
    y.filter(|v| v.is_finite())
}
