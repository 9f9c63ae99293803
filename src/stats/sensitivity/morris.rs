//! Morris (1991) elementary-effects screening: `r` random one-at-a-time trajectories on a
//! `p`-level grid, with μ, μ* (Campolongo et al. 2007) and σ per parameter.
//!
//! # Design
//!
//! The grid is `{0, 1/(p−1), …, 1}` in every coordinate (both ends included, unlike the
//! half-open Saltelli design), with `p` even and the step Δ = p / (2(p − 1)), i.e. `p/2` grid
//! steps. Each trajectory (Morris's B* = (J x* + (Δ/2)((2B − J)D* + J))P*) is built from
//!
//! * a base point x* drawn uniformly from the levels `{0, …, (p/2 − 1)/(p − 1)}` of each
//!   coordinate (those with x* + Δ ≤ 1),
//! * a sign per coordinate (D*): `+` starts the coordinate at x* and moves it up by Δ, `−`
//!   starts it at x* + Δ and moves it down, so every point lies on the grid,
//! * a uniformly random order of the k moves (P*).
//!
//! # Row order
//!
//! Trajectory `t` (0-based) owns the `k + 1` consecutive rows starting at `t·(k + 1)`: row
//! `t·(k+1)` is its start and row `t·(k+1) + m` (m = 1..k) the point after its m-th move, which
//! changes parameter [`MorrisDesign::moved`]`(t, m)` by [`MorrisDesign::step`]`(t, m)` = ±Δ. The
//! design has `r·(k + 1)` rows.
//!
//! # Elementary effects and failed runs
//!
//! The move at step m of trajectory t gives one elementary effect of its parameter i,
//! `EE = (f(row m) − f(row m−1)) / (±Δ)`, in output units per unit of the [0, 1] coordinate,
//! i.e. per full range of the parameter (divide by the range width for natural units). An effect
//! is used only when both of its rows finished with a finite output; a failed row therefore
//! drops the (at most two) effects that use it, and the other effects of its trajectory stand.
//! Per parameter, with n effects: μ = mean EE, μ* = mean |EE|, σ = sample sd of EE (divisor
//! n − 1). μ and μ* need n ≥ 1, σ needs n ≥ 2; otherwise they are `None`.

use rand::RngExt;
use rand::seq::SliceRandom;

use super::{SensitivityError, ok, rng};

/// A Morris design on the unit grid; see the module doc for the row order.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisDesign {
    k: usize,
    r: usize,
    levels: usize,
    seed: u64,
    /// Row-major, `r·(k+1)` rows of `k` coordinates.
    rows: Vec<f64>,
    /// Per trajectory, the parameter moved at steps 1..=k.
    order: Vec<Vec<usize>>,
    /// Per trajectory and parameter, +1 if it moves up, −1 if down.
    signs: Vec<Vec<i8>>,
}

impl MorrisDesign {
    /// Number of parameters.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of trajectories r.
    pub fn trajectories(&self) -> usize {
        self.r
    }

    /// Grid levels p.
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// The seed the design was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The step Δ = p / (2(p − 1)) in unit coordinates.
    pub fn delta(&self) -> f64 {
        delta(self.levels)
    }

    /// Number of rows (model runs), `r·(k + 1)`.
    pub fn len(&self) -> usize {
        self.r * (self.k + 1)
    }

    /// Whether the design has no rows (never, for a design that was built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`: `k` grid coordinates in [0, 1]. Panics if `i ≥ len()`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.k..(i + 1) * self.k]
    }

    /// All rows in design order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f64]> + '_ {
        self.rows.chunks_exact(self.k)
    }

    /// Index of row `m` (0 = start, 1..=k after the m-th move) of trajectory `t`.
    pub fn row_index(&self, t: usize, m: usize) -> usize {
        assert!(t < self.r && m <= self.k, "trajectory {t}, step {m}");
        t * (self.k + 1) + m
    }

    /// `(trajectory, step)` of row `i`.
    pub fn locate(&self, i: usize) -> (usize, usize) {
        assert!(i < self.len(), "row {i} of {}", self.len());
        (i / (self.k + 1), i % (self.k + 1))
    }

    /// The parameter changed by step `m` (1..=k) of trajectory `t`.
    pub fn moved(&self, t: usize, m: usize) -> usize {
        assert!((1..=self.k).contains(&m), "step {m} of 1..={}", self.k);
        self.order[t][m - 1]
    }

    /// The signed change, +Δ or −Δ, of step `m` (1..=k) of trajectory `t`.
    pub fn step(&self, t: usize, m: usize) -> f64 {
        f64::from(self.signs[t][self.moved(t, m)]) * self.delta()
    }
}

fn delta(p: usize) -> f64 {
    p as f64 / (2.0 * (p as f64 - 1.0))
}

/// A Morris design of `r` trajectories for `k` parameters on a `levels`-level grid, a pure
/// function of `seed`. Errors unless `k ≥ 1`, `r ≥ 1` and `levels` is even and ≥ 2 (Morris's
/// choice: with p even and Δ = p/(2(p−1)) every level is sampled with equal probability).
pub fn morris_design(k: usize, r: usize, levels: usize, seed: u64) -> Result<MorrisDesign, SensitivityError> {
    if k == 0 || r == 0 {
        return Err(SensitivityError::InvalidDesign(format!(
            "k = {k}, r = {r}; need both ≥ 1"
        )));
    }
    if levels < 2 || !levels.is_multiple_of(2) {
        return Err(SensitivityError::InvalidDesign(format!(
            "p = {levels} levels; need an even p ≥ 2"
        )));
    }
    let half = levels / 2; // Δ in grid steps
    let top = (levels - 1) as f64;
    let mut g = rng(seed, 0x3022_1599);
    let mut rows = Vec::with_capacity(r * (k + 1) * k);
    let mut order = Vec::with_capacity(r);
    let mut signs = Vec::with_capacity(r);
    for _ in 0..r {
        // Level indices: base x* in 0..half, sign, start point, then the moves.
        let base: Vec<usize> = (0..k).map(|_| g.random_range(0..half)).collect();
        let sign: Vec<i8> = (0..k).map(|_| if g.random::<bool>() { 1 } else { -1 }).collect();
        let mut perm: Vec<usize> = (0..k).collect();
        perm.shuffle(&mut g);
        let mut level: Vec<usize> = (0..k)
            .map(|i| if sign[i] > 0 { base[i] } else { base[i] + half })
            .collect();
        rows.extend(level.iter().map(|&l| l as f64 / top));
        for &i in &perm {
            level[i] = if sign[i] > 0 { level[i] + half } else { level[i] - half };
            rows.extend(level.iter().map(|&l| l as f64 / top));
        }
        order.push(perm);
        signs.push(sign);
    }
    Ok(MorrisDesign {
        k,
        r,
        levels,
        seed,
        rows,
        order,
        signs,
    })
}

/// Morris statistics of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MorrisParam {
    /// Elementary effects available (both rows finished); at most r.
    pub n_effects: usize,
    /// Mean elementary effect.
    pub mu: Option<f64>,
    /// Mean absolute elementary effect (Campolongo et al. 2007).
    pub mu_star: Option<f64>,
    /// Sample standard deviation of the elementary effects (n − 1); needs two effects.
    pub sigma: Option<f64>,
}

/// Morris statistics of every parameter, in parameter order.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisIndices {
    /// Trajectories r of the design.
    pub trajectories: usize,
    /// Trajectories whose k + 1 runs all finished.
    pub complete_trajectories: usize,
    /// Rows (runs) that failed or gave a non-finite output.
    pub failed_runs: usize,
    /// One entry per parameter.
    pub params: Vec<MorrisParam>,
}

/// μ, μ* and σ of each parameter from the outputs `y` of `design` in design order
/// (`None` = failed run); see the module doc for the rule on failed runs.
pub fn morris_indices(design: &MorrisDesign, y: &[Option<f64>]) -> Result<MorrisIndices, SensitivityError> {
    if y.len() != design.len() {
        return Err(SensitivityError::LengthMismatch {
            expected: design.len(),
            got: y.len(),
        });
    }
    let k = design.k;
    // Effects per parameter, in trajectory order.
    let mut effects: Vec<Vec<f64>> = vec![Vec::with_capacity(design.r); k];
    let mut complete = 0;
    for t in 0..design.r {
        let first = design.row_index(t, 0);
        if y[first..first + k + 1].iter().all(|v| ok(*v).is_some()) {
            complete += 1;
        }
        for m in 1..=k {
            let before = ok(y[design.row_index(t, m - 1)]);
            let after = ok(y[design.row_index(t, m)]);
            if let (Some(b), Some(a)) = (before, after) {
                effects[design.moved(t, m)].push((a - b) / design.step(t, m));
            }
        }
    }
    let params = effects
        .iter()
        .map(|ee| {
            let n = ee.len();
            if n == 0 {
                return MorrisParam {
                    n_effects: 0,
                    mu: None,
                    mu_star: None,
                    sigma: None,
                };
            }
            let mu = ee.iter().sum::<f64>() / n as f64;
            let mu_star = ee.iter().map(|e| e.abs()).sum::<f64>() / n as f64;
            let sigma = (n >= 2).then(|| (ee.iter().map(|e| (e - mu) * (e - mu)).sum::<f64>() / (n - 1) as f64).sqrt());
            MorrisParam {
                n_effects: n,
                mu: Some(mu),
                mu_star: Some(mu_star),
                sigma,
            }
        })
        .collect();
    Ok(MorrisIndices {
        trajectories: design.r,
        complete_trajectories: complete,
        failed_runs: y.iter().filter(|v| ok(**v).is_none()).count(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trajectories_are_one_at_a_time_walks_on_the_grid() {
        let (k, r, p) = (5, 20, 4);
        let d = morris_design(k, r, p, 3).unwrap();
        assert_eq!(d.len(), r * (k + 1));
        assert!((d.delta() - 2.0 / 3.0).abs() < 1e-15);
        for row in d.rows() {
            for &x in row {
                let l = x * (p - 1) as f64;
                assert!((l - l.round()).abs() < 1e-12 && (0.0..=1.0).contains(&x), "{x}");
            }
        }
        for t in 0..r {
            let mut seen = vec![false; k];
            for m in 1..=k {
                let (a, b) = (d.row(d.row_index(t, m - 1)), d.row(d.row_index(t, m)));
                let changed: Vec<usize> = (0..k).filter(|&c| a[c] != b[c]).collect();
                assert_eq!(changed, vec![d.moved(t, m)], "trajectory {t} step {m}");
                let c = changed[0];
                assert!(((b[c] - a[c]) - d.step(t, m)).abs() < 1e-12);
                assert!((d.step(t, m).abs() - d.delta()).abs() < 1e-15);
                assert!(!seen[c]);
                seen[c] = true;
                assert_eq!(d.locate(d.row_index(t, m)), (t, m));
            }
        }
    }

    #[test]
    fn design_is_reproducible_and_random_in_start_order_and_sign() {
        let a = morris_design(4, 50, 6, 1).unwrap();
        assert_eq!(a, morris_design(4, 50, 6, 1).unwrap());
        assert_ne!(a.rows, morris_design(4, 50, 6, 2).unwrap().rows);
        // Over 50 trajectories both signs, several orders and several start levels occur.
        let ups = a.signs.iter().flatten().filter(|&&s| s > 0).count();
        assert!(ups > 50 && ups < 150, "{ups} of 200 moves up");
        let mut orders = a.order.clone();
        orders.sort();
        orders.dedup();
        assert!(orders.len() > 10, "{} distinct orders", orders.len());
        let starts: std::collections::BTreeSet<u64> = (0..50).map(|t| a.row(a.row_index(t, 0))[0].to_bits()).collect();
        assert!(starts.len() >= 4, "{starts:?}");
    }

    /// y = Σ c_i (lo_i + x_i (hi_i − lo_i)): every elementary effect on the unit coordinate is
    /// c_i (hi_i − lo_i), so μ = c_i·w_i, μ* = |c_i|·w_i and σ = 0 up to rounding.
    #[test]
    fn linear_function_gives_its_scaled_coefficients() {
        let c = [2.0, -3.0, 0.0, 0.5];
        let lo = [0.0, 10.0, -1.0, 100.0];
        let hi = [1.0, 12.0, 1.0, 300.0];
        let d = morris_design(4, 30, 4, 8).unwrap();
        let y: Vec<Option<f64>> = d
            .rows()
            .map(|u| Some((0..4).map(|i| c[i] * (lo[i] + u[i] * (hi[i] - lo[i]))).sum()))
            .collect();
        let res = morris_indices(&d, &y).unwrap();
        for i in 0..4 {
            let p = res.params[i];
            let w = hi[i] - lo[i];
            let tol = 1e-9 * (1.0 + (c[i] * w).abs());
            assert_eq!(p.n_effects, 30);
            assert!((p.mu.unwrap() - c[i] * w).abs() < tol, "μ_{i} {p:?}");
            assert!((p.mu_star.unwrap() - c[i].abs() * w).abs() < tol, "μ*_{i} {p:?}");
            assert!(p.sigma.unwrap() < tol, "σ_{i} {p:?}");
        }
    }

    #[test]
    fn nonlinear_effects_have_spread_and_mu_star_sees_cancelling_effects() {
        // y = (x0 − ½)²: effects of x0 are ±Δ-symmetric, so μ ≈ 0 but μ* > 0 and σ > 0.
        let d = morris_design(2, 200, 4, 4).unwrap();
        let y: Vec<Option<f64>> = d.rows().map(|u| Some((u[0] - 0.5).powi(2))).collect();
        let res = morris_indices(&d, &y).unwrap();
        let p = res.params[0];
        // Between x and x + Δ, EE = 2x − 1 + Δ; with p = 4 (Δ = 2/3, x ∈ {0, 1/3}) |EE| = 1/3.
        assert!((p.mu_star.unwrap() - 1.0 / 3.0).abs() < 1e-12, "{p:?}");
        assert!(p.mu.unwrap().abs() < 0.1 && p.sigma.unwrap() > 0.3, "{p:?}");
        assert_eq!(res.params[1].mu_star, Some(0.0));
    }

    #[test]
    fn a_failed_run_drops_exactly_the_effects_that_use_it() {
        let (k, r) = (3, 10);
        let d = morris_design(k, r, 4, 5).unwrap();
        let mut y: Vec<Option<f64>> = d.rows().map(|u| Some(u[0] + 2.0 * u[1] - u[2])).collect();
        // An interior row of trajectory 2 (step 1): kills the effects of steps 1 and 2.
        y[d.row_index(2, 1)] = None;
        let hit = [d.moved(2, 1), d.moved(2, 2)];
        let res = morris_indices(&d, &y).unwrap();
        assert_eq!(res.failed_runs, 1);
        assert_eq!(res.complete_trajectories, r - 1);
        for i in 0..k {
            let want = if hit.contains(&i) { r - 1 } else { r };
            assert_eq!(res.params[i].n_effects, want, "parameter {i}");
        }
        // Still exact on the remaining effects.
        assert!((res.params[1].mu_star.unwrap() - 2.0).abs() < 1e-12);
        // One parameter, three trajectories, two starts failed: one effect is left (no σ); with
        // every run failed none is, and the parameter is missing.
        let d1 = morris_design(1, 3, 2, 0).unwrap();
        let y1 = vec![None, Some(1.0), Some(0.0), Some(2.0), None, Some(5.0)];
        let res = morris_indices(&d1, &y1).unwrap();
        assert_eq!(res.params[0].n_effects, 1);
        assert_eq!(res.params[0].sigma, None);
        let res = morris_indices(&d1, &[None; 6]).unwrap();
        assert_eq!(res.params[0].mu_star, None);
        assert_eq!(res.params[0].n_effects, 0);
        assert!(morris_indices(&d1, &[None; 5]).is_err());
    }

    #[test]
    fn bad_designs_are_errors() {
        assert!(morris_design(0, 5, 4, 0).is_err());
        assert!(morris_design(3, 0, 4, 0).is_err());
        assert!(morris_design(3, 5, 3, 0).is_err());
        assert!(morris_design(3, 5, 0, 0).is_err());
    }
}
