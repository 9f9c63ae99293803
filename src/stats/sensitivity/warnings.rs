//! When Sobol' indices are too unstable to report without a caveat.
//!
//! The rule, checked in this order for a [`SobolIndices`] result:
//!
//! 1. `SmallBaseSample`: N < [`SOBOL_MIN_STABLE_N`] = 512 base samples. The estimators'
//!    error falls like 1/√N at best; on test functions such as Ishigami, indices from fewer
//!    than a few hundred base samples routinely miss by more than 0.05 (Saltelli et al. 2010
//!    use N of 2^9 and up). 512 is the first power of two from 500, so a design that follows
//!    the power-of-two advice is either below or at the threshold, never just under it.
//! 2. `NotPowerOfTwo`: N is not a power of two, so the Sobol' points lose their balance
//!    properties and the estimates their quasi-Monte-Carlo advantage.
//! 3. Per parameter, in parameter order:
//!    * `Missing`: the index was not computed (too few finished base samples, zero variance).
//!    * `WideInterval`: the bootstrap interval of S1 or ST has a half-width above
//!      [`WIDE_HALF_WIDTH`] = 0.1, i.e. the index is not known to ±0.1.
//!    * `NegativeS1`: S1 is below zero beyond its interval — its whole interval is below zero,
//!      or the estimate is below −[`NEGATIVE_S1_SLACK`] = −0.05 — although a true S1 is ≥ 0:
//!      the sample is too small (or the output too heavy-tailed) for this estimator.
//!    * `S1AboveST`: S1's interval lies wholly above ST's, although a true S1 ≤ ST.
//!
//! No warning means none of these fired, not that the indices are exact.

use super::sobol::{Missing, SobolIndices};

/// Base samples below which Sobol' indices are flagged as unstable.
pub const SOBOL_MIN_STABLE_N: usize = 512;

/// Bootstrap half-width above which an index is flagged as imprecise.
pub const WIDE_HALF_WIDTH: f64 = 0.1;

/// How far below zero an S1 estimate may fall before it is flagged on its own.
pub const NEGATIVE_S1_SLACK: f64 = 0.05;

/// Which index a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// First-order.
    S1,
    /// Total.
    ST,
}

/// One reason to distrust a Sobol' result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StabilityWarning {
    /// N below [`SOBOL_MIN_STABLE_N`].
    SmallBaseSample {
        /// Base samples of the design.
        n: usize,
        /// The threshold.
        threshold: usize,
    },
    /// N is not a power of two.
    NotPowerOfTwo {
        /// Base samples of the design.
        n: usize,
    },
    /// Parameter `param`'s indices are missing.
    Missing {
        /// Parameter index.
        param: usize,
        /// Why.
        reason: Missing,
    },
    /// An interval half-width above [`WIDE_HALF_WIDTH`].
    WideInterval {
        /// Parameter index.
        param: usize,
        /// S1 or ST.
        index: Which,
        /// The half-width.
        half_width: f64,
    },
    /// S1 negative beyond its interval.
    NegativeS1 {
        /// Parameter index.
        param: usize,
        /// The estimate.
        estimate: f64,
        /// Upper end of its interval, if there is one.
        ci_high: Option<f64>,
    },
    /// S1's interval wholly above ST's.
    S1AboveST {
        /// Parameter index.
        param: usize,
    },
}

/// The warnings for `indices` under the rule of the module doc, in that order; empty if none.
pub fn sobol_warnings(indices: &SobolIndices) -> Vec<StabilityWarning> {
    let mut w = Vec::new();
    let n = indices.n;
    if n < SOBOL_MIN_STABLE_N {
        w.push(StabilityWarning::SmallBaseSample {
            n,
            threshold: SOBOL_MIN_STABLE_N,
        });
    }
    if !n.is_power_of_two() {
        w.push(StabilityWarning::NotPowerOfTwo { n });
    }
    for (param, p) in indices.params.iter().enumerate() {
        if let Some(reason) = p.missing {
            w.push(StabilityWarning::Missing { param, reason });
            continue;
        }
        for (index, e) in [(Which::S1, p.s1), (Which::ST, p.st)] {
            if let Some(half_width) = e.half_width().filter(|h| *h > WIDE_HALF_WIDTH) {
                w.push(StabilityWarning::WideInterval {
                    param,
                    index,
                    half_width,
                });
            }
        }
        if let Some(estimate) = p.s1.value {
            let below = p.s1.ci_high.is_some_and(|h| h < 0.0);
            if below || estimate < -NEGATIVE_S1_SLACK {
                w.push(StabilityWarning::NegativeS1 {
                    param,
                    estimate,
                    ci_high: p.s1.ci_high,
                });
            }
        }
        if let (Some(lo), Some(hi)) = (p.s1.ci_low, p.st.ci_high)
            && lo > hi
        {
            w.push(StabilityWarning::S1AboveST { param });
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::sensitivity::sobol::tests::ishigami;
    use crate::stats::sensitivity::{Estimate, SobolOptions, SobolParam, saltelli_design, sobol_indices};

    fn run(k: usize, n: usize) -> SobolIndices {
        let d = saltelli_design(k, n, 17).unwrap();
        let y: Vec<Option<f64>> = d.rows().map(|r| Some(ishigami(r))).collect();
        sobol_indices(&d, &y, &SobolOptions::default()).unwrap()
    }

    #[test]
    fn a_large_sample_has_no_warning_and_a_small_one_does() {
        assert_eq!(sobol_warnings(&run(3, 4096)), vec![]);
        let w = sobol_warnings(&run(3, 64));
        assert_eq!(w[0], StabilityWarning::SmallBaseSample { n: 64, threshold: 512 });
        // At N = 64 the Ishigami intervals are wider than ±0.1.
        assert!(
            w.iter().any(|x| matches!(x, StabilityWarning::WideInterval { .. })),
            "{w:?}"
        );
        assert!(sobol_warnings(&run(3, 600)).contains(&StabilityWarning::NotPowerOfTwo { n: 600 }));
    }

    #[test]
    fn each_rule_fires_on_a_crafted_result() {
        let est = |v: f64, lo: f64, hi: f64| Estimate {
            value: Some(v),
            ci_low: Some(lo),
            ci_high: Some(hi),
        };
        let param = |s1: Estimate, st: Estimate| SobolParam {
            n_used: 1024,
            missing: None,
            variance: Some(1.0),
            s1,
            st,
            bootstrap_used: 1000,
        };
        let res = SobolIndices {
            n: 1024,
            n_complete: 1024,
            failed_runs: 0,
            params: vec![
                param(est(0.3, 0.28, 0.32), est(0.4, 0.38, 0.42)),     // fine
                param(est(-0.03, -0.05, -0.01), est(0.1, 0.05, 0.15)), // wholly below 0
                param(est(-0.06, -0.1, 0.01), est(0.1, 0.05, 0.15)),   // notably negative
                param(est(0.3, 0.1, 0.5), est(0.4, 0.35, 0.45)),       // wide S1
                param(est(0.5, 0.48, 0.52), est(0.4, 0.38, 0.42)),     // S1 above ST
                SobolParam {
                    missing: Some(Missing::ZeroVariance),
                    ..param(Estimate::default(), Estimate::default())
                },
            ],
        };
        let w = sobol_warnings(&res);
        assert_eq!(
            w,
            vec![
                StabilityWarning::NegativeS1 {
                    param: 1,
                    estimate: -0.03,
                    ci_high: Some(-0.01)
                },
                StabilityWarning::NegativeS1 {
                    param: 2,
                    estimate: -0.06,
                    ci_high: Some(0.01)
                },
                StabilityWarning::WideInterval {
                    param: 3,
                    index: Which::S1,
                    half_width: 0.2
                },
                StabilityWarning::S1AboveST { param: 4 },
                StabilityWarning::Missing {
                    param: 5,
                    reason: Missing::ZeroVariance
                },
            ]
        );
    }
}
