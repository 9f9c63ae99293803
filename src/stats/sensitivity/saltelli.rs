//! The Saltelli design for Sobol' indices: N base samples of a 2k-dimensional Owen-scrambled
//! Sobol' sequence, split into matrices A (dimensions 0..k) and B (dimensions k..2k), and the
//! cross matrices AB_i (A with column i taken from B).
//!
//! # Row order
//!
//! Rows are grouped by base sample: base sample `j` (0-based) owns the `k + 2` consecutive rows
//! starting at `j·(k + 2)`, in the order
//!
//! ```text
//! j·(k+2) + 0        A_j
//! j·(k+2) + 1        B_j
//! j·(k+2) + 2 + i    AB_ij   (i = 0..k: A_j with coordinate i replaced by B_ji)
//! ```
//!
//! so the design has `N·(k + 2)` rows, and dropping the tail of a run list drops whole base
//! samples. [`SaltelliDesign::row_index`] and [`SaltelliDesign::locate`] convert between a row
//! index and `(base sample, Role)`.

use rand::RngExt;

use super::{SensitivityError, rng};

/// Largest number of base samples: the Sobol' generator supports 2^16 points.
pub const MAX_BASE_SAMPLES: usize = 1 << 16;

/// Largest number of parameters: the generator has 256 dimensions and the design uses 2k.
pub const MAX_PARAMS: usize = sobol_burley::NUM_DIMENSIONS as usize / 2;

/// What a row of a Saltelli design is, within its base sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Row j of matrix A.
    A,
    /// Row j of matrix B.
    B,
    /// Row j of AB_i: A_j with coordinate `i` (0-based) from B_j.
    AB(usize),
}

/// A Saltelli design in the unit hypercube; see the module doc for the row order.
#[derive(Debug, Clone, PartialEq)]
pub struct SaltelliDesign {
    k: usize,
    n: usize,
    seed: u64,
    /// Row-major, `n·(k+2)` rows of `k` coordinates.
    rows: Vec<f64>,
}

impl SaltelliDesign {
    /// Number of parameters.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of base samples N.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The seed the design was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Rows per base sample, `k + 2`.
    pub fn rows_per_sample(&self) -> usize {
        self.k + 2
    }

    /// Number of rows (model runs), `N·(k + 2)`.
    pub fn len(&self) -> usize {
        self.n * (self.k + 2)
    }

    /// Whether the design has no rows (never, for a design that was built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `r`: `k` coordinates in `[0, 1)`. Panics if `r ≥ len()`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.rows[r * self.k..(r + 1) * self.k]
    }

    /// All rows in design order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f64]> + '_ {
        self.rows.chunks_exact(self.k)
    }

    /// Index of the row playing `role` for base sample `j`. Panics if `j ≥ N` or the AB column
    /// is `≥ k`.
    pub fn row_index(&self, j: usize, role: Role) -> usize {
        assert!(j < self.n, "base sample {j} of {}", self.n);
        let offset = match role {
            Role::A => 0,
            Role::B => 1,
            Role::AB(i) => {
                assert!(i < self.k, "AB column {i} of {}", self.k);
                2 + i
            }
        };
        j * (self.k + 2) + offset
    }

    /// `(base sample, role)` of row `r`. Panics if `r ≥ len()`.
    pub fn locate(&self, r: usize) -> (usize, Role) {
        assert!(r < self.len(), "row {r} of {}", self.len());
        let (j, o) = (r / (self.k + 2), r % (self.k + 2));
        let role = match o {
            0 => Role::A,
            1 => Role::B,
            _ => Role::AB(o - 2),
        };
        (j, role)
    }
}

/// The Saltelli design for `k` parameters and `n` base samples, a pure function of `seed`.
///
/// Base sample `j` is point `j` of a 2k-dimensional Owen-scrambled Sobol' sequence (scramble
/// seed derived from `seed`); its first k coordinates are A_j and its last k are B_j. Use a power
/// of two for `n`: the balance properties of the Sobol' sequence hold for power-of-two prefixes.
/// Errors unless `1 ≤ k ≤ MAX_PARAMS` and `2 ≤ n ≤ MAX_BASE_SAMPLES`.
pub fn saltelli_design(k: usize, n: usize, seed: u64) -> Result<SaltelliDesign, SensitivityError> {
    if k == 0 || k > MAX_PARAMS {
        return Err(SensitivityError::InvalidDesign(format!(
            "k = {k} parameters; need 1 ≤ k ≤ {MAX_PARAMS}"
        )));
    }
    if !(2..=MAX_BASE_SAMPLES).contains(&n) {
        return Err(SensitivityError::InvalidDesign(format!(
            "N = {n} base samples; need 2 ≤ N ≤ {MAX_BASE_SAMPLES}"
        )));
    }
    let scramble: u32 = rng(seed, 0x5A17_E111).random();
    let mut rows = Vec::with_capacity(n * (k + 2) * k);
    let mut a = vec![0.0; k];
    let mut b = vec![0.0; k];
    for j in 0..n {
        for i in 0..k {
            a[i] = f64::from(sobol_burley::sample(j as u32, i as u32, scramble));
            b[i] = f64::from(sobol_burley::sample(j as u32, (k + i) as u32, scramble));
        }
        rows.extend_from_slice(&a);
        rows.extend_from_slice(&b);
        for i in 0..k {
            let start = rows.len();
            rows.extend_from_slice(&a);
            rows[start + i] = b[i];
        }
    }
    Ok(SaltelliDesign { k, n, seed, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_documented_order() {
        let d = saltelli_design(3, 16, 1).unwrap();
        assert_eq!(d.len(), 16 * 5);
        assert_eq!(d.rows().len(), d.len());
        for j in 0..16 {
            let a = d.row(5 * j);
            let b = d.row(5 * j + 1);
            assert_eq!(d.row_index(j, Role::A), 5 * j);
            assert_eq!(d.row_index(j, Role::B), 5 * j + 1);
            assert_eq!(d.locate(5 * j), (j, Role::A));
            assert_eq!(d.locate(5 * j + 1), (j, Role::B));
            for i in 0..3 {
                let r = 5 * j + 2 + i;
                assert_eq!(d.row_index(j, Role::AB(i)), r);
                assert_eq!(d.locate(r), (j, Role::AB(i)));
                for c in 0..3 {
                    let want = if c == i { b[c] } else { a[c] };
                    assert_eq!(d.row(r)[c], want, "AB_{i} row of sample {j}, column {c}");
                }
            }
            assert!(a.iter().zip(b).all(|(x, y)| x != y), "A and B coincide at sample {j}");
        }
        assert!(d.rows().flatten().all(|&x| (0.0..1.0).contains(&x)));
    }

    #[test]
    fn design_is_reproducible_from_its_seed_and_differs_across_seeds() {
        let a = saltelli_design(4, 64, 42).unwrap();
        assert_eq!(a, saltelli_design(4, 64, 42).unwrap());
        let b = saltelli_design(4, 64, 43).unwrap();
        assert_ne!(a.rows, b.rows);
        // Not merely shifted: most coordinates differ.
        let same = a.rows.iter().zip(&b.rows).filter(|(x, y)| x == y).count();
        assert!(same < a.rows.len() / 100, "{same} equal coordinates");
    }

    #[test]
    fn every_column_of_a_and_b_is_stratified_for_a_power_of_two() {
        // The (0, m, 1)-net property of each Sobol' coordinate survives Owen scrambling: with
        // N = 2^m, each of the N intervals [l/N, (l+1)/N) holds exactly one point.
        let (k, n) = (5, 256);
        let d = saltelli_design(k, n, 9).unwrap();
        for role in [Role::A, Role::B] {
            for c in 0..k {
                let mut hit = vec![0u32; n];
                for j in 0..n {
                    hit[(d.row(d.row_index(j, role))[c] * n as f64) as usize] += 1;
                }
                assert!(hit.iter().all(|&h| h == 1), "{role:?} column {c}: {hit:?}");
            }
        }
    }

    #[test]
    fn out_of_range_designs_are_errors() {
        assert!(saltelli_design(0, 8, 0).is_err());
        assert!(saltelli_design(MAX_PARAMS + 1, 8, 0).is_err());
        assert!(saltelli_design(2, 1, 0).is_err());
        assert!(saltelli_design(2, MAX_BASE_SAMPLES + 1, 0).is_err());
        assert!(saltelli_design(MAX_PARAMS, 2, 0).is_ok());
    }
}
