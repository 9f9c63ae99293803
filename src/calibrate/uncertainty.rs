//! Standard errors of a converged estimate by the method of simulated moments.
//!
//! With moments m(θ) (replicate means), weights W = diag(1/se²) from the targets' standard
//! errors and R replicates per evaluation, the estimator's asymptotic variance is
//! `V = (1 + 1/R) · (G′WG)⁻¹`, with G = ∂m/∂θ at the estimate (McFadden 1989; Gouriéroux &
//! Monfort 1996): the targets' sampling error, inflated by the simulation error of R
//! replicates. G is a central difference over `STEP` of each parameter's range around the
//! estimate (one-sided at a bound), with common random numbers, so the difference is smooth.
//! The formula needs every moment to have a standard error; with bare weights it does not apply.

use nalgebra::{DMatrix, DVector};

/// Half-width of the central difference, as a fraction of a parameter's range: wide enough
/// that the difference is not dominated by the granularity of individual choices.
pub const STEP: f64 = 0.05;

/// The two points of parameter `i`'s difference around `x` within `[lower, upper]`: `x ± h`,
/// moved inward at a bound (one-sided there).
pub fn difference_points(x: &[f64], i: usize, lower: f64, upper: f64) -> (Vec<f64>, Vec<f64>) {
    let h = STEP * (upper - lower);
    let (mut lo, mut hi) = (x.to_vec(), x.to_vec());
    lo[i] = (x[i] - h).max(lower);
    hi[i] = (x[i] + h).min(upper);
    (lo, hi)
}

/// The Jacobian column of parameter `i` from the moments at its two points.
pub fn column(m_lo: &[f64], m_hi: &[f64], x_lo: f64, x_hi: f64) -> Vec<f64> {
    m_lo.iter().zip(m_hi).map(|(a, b)| (b - a) / (x_hi - x_lo)).collect()
}

/// Standard errors `√diag((1 + 1/R)(G′WG)⁻¹)` from the Jacobian `g` (columns per parameter,
/// each with one entry per moment), the moments' weights `1/se²` and the replicates R; `None`
/// when G′WG is not positive definite (a parameter the moments do not identify).
pub fn standard_errors(g: &[Vec<f64>], weights: &[f64], replicates: usize) -> Option<Vec<f64>> {
    let k = g.len();
    let m = weights.len();
    if k == 0 || g.iter().any(|c| c.len() != m || c.iter().any(|v| !v.is_finite())) {
        return None;
    }
    let gm = DMatrix::from_fn(m, k, |r, c| g[c][r]);
    let w = DMatrix::from_diagonal(&DVector::from_column_slice(weights));
    let info = gm.transpose() * w * &gm;
    let inverse = info.cholesky()?.inverse();
    let inflate = 1.0 + 1.0 / replicates as f64;
    Some((0..k).map(|i| (inflate * inverse[(i, i)]).sqrt()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_moments_give_the_closed_form_standard_errors() {
        // m = A θ with A = [[2, 0], [1, 1], [0, 3]], se = (0.1, 0.2, 0.3), R = 4.
        let g = vec![vec![2.0, 1.0, 0.0], vec![0.0, 1.0, 3.0]];
        let w = [100.0, 25.0, 1.0 / 0.09];
        let se = standard_errors(&g, &w, 4).unwrap();
        // G′WG = [[400 + 25, 25], [25, 25 + 100]] = [[425, 25], [25, 125]], det = 52,500.
        let det: f64 = 425.0 * 125.0 - 25.0 * 25.0;
        let v00 = 1.25 * 125.0 / det;
        let v11 = 1.25 * 425.0 / det;
        assert!((se[0] - v00.sqrt()).abs() < 1e-12, "{se:?}");
        assert!((se[1] - v11.sqrt()).abs() < 1e-12, "{se:?}");
        // One parameter, one moment: se(θ) = se(m) / |∂m/∂θ| · √(1 + 1/R).
        let one = standard_errors(&[vec![4.0]], &[1.0 / 0.04], 8).unwrap();
        assert!((one[0] - 0.2 / 4.0 * (1.125f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn an_unidentified_parameter_has_no_standard_error() {
        // The second parameter moves no moment: G′WG is singular.
        assert_eq!(standard_errors(&[vec![1.0, 2.0], vec![0.0, 0.0]], &[1.0, 1.0], 8), None);
        // Two parameters that move the moments identically are not separately identified.
        assert_eq!(standard_errors(&[vec![1.0, 2.0], vec![1.0, 2.0]], &[1.0, 1.0], 8), None);
    }

    #[test]
    fn difference_points_stay_in_the_box_and_columns_divide_by_their_spacing() {
        let (lo, hi) = difference_points(&[0.5, 9.9], 1, 0.0, 10.0);
        assert_eq!(lo, vec![0.5, 9.4]);
        assert_eq!(hi, vec![0.5, 10.0]);
        let c = column(&[1.0, 2.0], &[2.0, 2.0], 9.4, 10.0);
        assert!((c[0] - 1.0 / 0.6).abs() < 1e-12 && c[1] == 0.0);
    }
}
