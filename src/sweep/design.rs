//! Experimental designs over a sweep's axes: full-factorial grid, independent random draws and
//! Latin hypercube samples; the sensitivity designs (Morris, Sobol') are built in
//! `sensitivity_design` and named here as [`Kind::Morris`] and [`Kind::Sobol`].
//!
//! A design knows nothing about config keys or values. It works on abstract dimensions, each
//! either discrete (`k` levels, picked by index) or continuous (a unit interval, mapped to
//! `[min, max]` by the spec), and returns one coordinate per dimension for every point. Random
//! and LHS designs are pure functions of the master seed, so a sweep file always resolves to
//! the same points.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

pub use super::sensitivity_design::Method;

/// One dimension of a design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dim {
    /// `k` levels, picked by index (explicit values, the scenario axis, or a grid range).
    Discrete(usize),
    /// The unit interval (a `range` axis under a random or LHS design).
    Continuous,
}

/// One coordinate of a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Coord {
    /// Index of a level of a [`Dim::Discrete`] dimension.
    Index(usize),
    /// A value in `[0, 1)` of a [`Dim::Continuous`] dimension.
    Unit(f64),
}

/// Which design to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Full factorial: every combination of levels.
    Grid,
    /// Independent uniform draws.
    Random,
    /// Latin hypercube: exactly one point per stratum in every dimension.
    Lhs,
    /// Morris elementary-effects trajectories (`trajectories`, `levels`).
    Morris,
    /// Saltelli/Jansen cross-sampling for Sobol' indices (`base_samples`).
    Sobol,
}

impl Kind {
    /// The name used in sweep files and manifests.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Grid => "grid",
            Kind::Random => "random",
            Kind::Lhs => "lhs",
            Kind::Morris => "morris",
            Kind::Sobol => "sobol",
        }
    }

    /// The sensitivity method of a Morris or Sobol' design; `None` for the others.
    pub fn method(self) -> Option<Method> {
        match self {
            Kind::Morris => Some(Method::Morris),
            Kind::Sobol => Some(Method::Sobol),
            Kind::Grid | Kind::Random | Kind::Lhs => None,
        }
    }
}

/// `design = "grid"`, `"random"`, `"lhs"`, `"morris"` or `"sobol"` in a sweep file: read by [`Kind::name`], so that a
/// wrong value is quoted back with the names that are accepted.
impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let name = String::deserialize(d)?;
        [Kind::Grid, Kind::Random, Kind::Lhs, Kind::Morris, Kind::Sobol]
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                serde::de::Error::invalid_value(
                    serde::de::Unexpected::Str(&name),
                    &"\"grid\", \"random\", \"lhs\", \"morris\" or \"sobol\"",
                )
            })
    }
}

/// Number of points of a full-factorial grid, or `None` if it overflows.
pub fn grid_size(levels: &[usize]) -> Option<usize> {
    levels.iter().try_fold(1usize, |acc, &k| acc.checked_mul(k))
}

/// All combinations of level indices, first dimension slowest (row-major), so that points of
/// the same leading level are adjacent in the output files.
pub fn grid(levels: &[usize]) -> Vec<Vec<Coord>> {
    let n = grid_size(levels).unwrap_or(0);
    let mut points = Vec::with_capacity(n);
    for mut i in 0..n {
        let mut coords = vec![Coord::Index(0); levels.len()];
        for d in (0..levels.len()).rev() {
            coords[d] = Coord::Index(i % levels[d]);
            i /= levels[d];
        }
        points.push(coords);
    }
    points
}

/// `n` points with every coordinate drawn independently and uniformly.
pub fn random(dims: &[Dim], n: usize, seed: u64) -> Vec<Vec<Coord>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            dims.iter()
                .map(|d| match *d {
                    Dim::Discrete(k) => Coord::Index(rng.random_range(0..k)),
                    Dim::Continuous => Coord::Unit(rng.random::<f64>()),
                })
                .collect()
        })
        .collect()
}

/// A Latin hypercube of `n` points: in every dimension the `n` points fall one in each of `n`
/// equal strata (a random permutation per dimension, a uniform position within the stratum).
/// A discrete dimension of `k` levels maps stratum `s` to level `⌊s·k/n⌋`, so each level is used
/// `n/k` times (±1).
pub fn lhs(dims: &[Dim], n: usize, seed: u64) -> Vec<Vec<Coord>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut points = vec![Vec::with_capacity(dims.len()); n];
    for d in dims {
        // Fisher–Yates: an unbiased permutation of the strata.
        let mut strata: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            strata.swap(i, j);
        }
        for (point, &s) in points.iter_mut().zip(&strata) {
            point.push(match *d {
                Dim::Discrete(k) => Coord::Index(s * k / n),
                Dim::Continuous => {
                    let u = (s as f64 + rng.random::<f64>()) / n as f64;
                    // Rounding can reach 1.0 exactly for the top stratum; keep [0, 1).
                    Coord::Unit(u.min(1.0 - f64::EPSILON / 2.0))
                }
            });
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(c: Coord) -> usize {
        match c {
            Coord::Index(i) => i,
            Coord::Unit(_) => panic!("expected an index"),
        }
    }

    fn unit(c: Coord) -> f64 {
        match c {
            Coord::Unit(u) => u,
            Coord::Index(_) => panic!("expected a unit value"),
        }
    }

    #[test]
    fn grid_is_the_full_factorial_in_row_major_order() {
        let g = grid(&[2, 3]);
        assert_eq!(g.len(), 6);
        let pairs: Vec<(usize, usize)> = g.iter().map(|p| (index(p[0]), index(p[1]))).collect();
        assert_eq!(pairs, vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
        assert_eq!(grid(&[]).len(), 1, "no axes: one point");
        assert_eq!(grid(&[4, 0]).len(), 0);
        assert_eq!(grid_size(&[usize::MAX, 2]), None);
    }

    #[test]
    fn random_design_is_reproducible_from_its_seed_and_in_range() {
        let dims = [Dim::Continuous, Dim::Discrete(3)];
        let a = random(&dims, 50, 7);
        assert_eq!(a, random(&dims, 50, 7));
        assert_ne!(a, random(&dims, 50, 8));
        assert_eq!(a.len(), 50);
        for p in &a {
            assert!((0.0..1.0).contains(&unit(p[0])));
            assert!(index(p[1]) < 3);
        }
        // All three levels show up in 50 draws (fails with probability ~3·(2/3)^50).
        let mut seen = [false; 3];
        a.iter().for_each(|p| seen[index(p[1])] = true);
        assert_eq!(seen, [true; 3]);
    }

    #[test]
    fn lhs_has_exactly_one_point_per_stratum_in_every_dimension() {
        for n in [1, 2, 7, 40] {
            let dims = [Dim::Continuous, Dim::Continuous, Dim::Continuous];
            let points = lhs(&dims, n, 99);
            assert_eq!(points.len(), n);
            for d in 0..dims.len() {
                let mut strata: Vec<usize> = points
                    .iter()
                    .map(|p| (unit(p[d]) * n as f64).floor() as usize)
                    .collect();
                strata.sort_unstable();
                assert_eq!(strata, (0..n).collect::<Vec<_>>(), "n = {n}, dimension {d}");
            }
        }
    }

    #[test]
    fn lhs_balances_discrete_levels_and_is_reproducible() {
        let dims = [Dim::Discrete(4), Dim::Continuous];
        let points = lhs(&dims, 12, 5);
        let mut counts = [0; 4];
        points.iter().for_each(|p| counts[index(p[0])] += 1);
        assert_eq!(counts, [3; 4]);
        assert_eq!(points, lhs(&dims, 12, 5));
        assert_ne!(points, lhs(&dims, 12, 6));
    }

    #[test]
    fn lhs_dimensions_are_not_all_the_same_permutation() {
        let points = lhs(&[Dim::Continuous, Dim::Continuous], 30, 1);
        let same = points
            .iter()
            .filter(|p| (unit(p[0]) * 30.0).floor() == (unit(p[1]) * 30.0).floor())
            .count();
        assert!(same < 30, "dimensions must be permuted independently");
    }
}
