//! Sensitivity-analysis designs of a sweep: `design = "morris"` (elementary-effects
//! trajectories) and `design = "sobol"` (Saltelli/Jansen cross-sampling on the scrambled Sobol'
//! sequence), both built by `crate::stats::sensitivity` in the unit hypercube.
//!
//! Point `i` of such a sweep *is* row `i` of the design: points.csv keeps the design's row order
//! (documented in [`SensitivityDesign::row_layout`] and in `stats::sensitivity`), and the
//! manifest records the design's parameters ([`SensitivityDesign`]: method, k, N or r and p, the
//! design seed, the parameter keys in coordinate order). `aimarket analyze` rebuilds the design
//! from those parameters and checks it against points.csv value by value, so it never guesses
//! which run plays which role.
//!
//! Every axis of these designs is a `range` axis; coordinate `u` of axis `i` maps to
//! `min + u·(max − min)` exactly as for a random or LHS design (rounded for integer keys).
//! Morris coordinates lie on `{0, 1/(p−1), …, 1}`, so both ends of a range are used; Sobol'
//! coordinates lie in `[0, 1)`.

use serde::{Deserialize, Serialize};

use super::design::{Coord, Kind};
use super::spec::Axis;
use crate::config::ConfigError;
use crate::stats::sensitivity::{self, MAX_BASE_SAMPLES, MAX_PARAMS, MorrisDesign, SaltelliDesign, SensitivityError};

/// Morris grid levels when the sweep file gives none.
pub const DEFAULT_LEVELS: usize = 4;

/// The sweep-file keys that size a design, as written (`None`: absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sizes {
    /// `points` (random and LHS designs).
    pub points: Option<u64>,
    /// `base_samples` (Sobol').
    pub base_samples: Option<u64>,
    /// `trajectories` (Morris).
    pub trajectories: Option<u64>,
    /// `levels` (Morris).
    pub levels: Option<u64>,
    /// Whether the file has a scenario axis.
    pub scenarios: bool,
}

/// A resolved Morris or Sobol' design: its record and one point's coordinates per row.
pub type Resolved = (SensitivityDesign, Vec<Vec<Coord>>);

/// Checks the design keys of a sweep file against its `design` and, for Morris and Sobol', builds
/// the design over `axes` (already checked to be `range` axes by the spec): its record and one
/// point's coordinates per row. `None` for grid, random and LHS designs (whose own keys the spec
/// checks). Errors name the file, the key and the value.
pub fn resolve(
    file: &str,
    kind: Kind,
    axes: &[Axis],
    sizes: &Sizes,
    seed: u64,
    max_points: usize,
) -> Result<Option<Resolved>, ConfigError> {
    let err = |key: &str, problem: String| ConfigError::new(file, key, problem);
    let only = |key: &str, value: Option<u64>, wanted: Kind| match value {
        Some(v) if kind != wanted => Err(err(
            key,
            format!(
                "is only for design = \"{}\", not \"{}\", got {v}",
                wanted.name(),
                kind.name()
            ),
        )),
        _ => Ok(()),
    };
    only("base_samples", sizes.base_samples, Kind::Sobol)?;
    only("trajectories", sizes.trajectories, Kind::Morris)?;
    only("levels", sizes.levels, Kind::Morris)?;
    let Some(method) = kind.method() else { return Ok(None) };
    let name = kind.name();
    if let Some(n) = sizes.points {
        let size = match method {
            Method::Sobol => "base_samples × (k + 2)",
            Method::Morris => "trajectories × (k + 1)",
        };
        return Err(err(
            "points",
            format!("is not used by design = \"{name}\" (its points are {size}), got {n}"),
        ));
    }
    if sizes.scenarios {
        return Err(err(
            "scenarios",
            format!(
                "cannot be combined with design = \"{name}\": every parameter must be a range axis; \
                 run one sensitivity sweep per scenario (with the scenario as `base`)"
            ),
        ));
    }
    if axes.is_empty() {
        return Err(err(
            "axes",
            format!(
                "is missing: design = \"{name}\" needs at least one range axis, e.g. \
                 [[axes]] key = \"enterprise.price_weight\" range = {{ min = 0.75, max = 2.25 }}"
            ),
        ));
    }
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let k = keys.len();
    let built = match method {
        Method::Sobol => {
            if k > MAX_PARAMS {
                return Err(err(
                    "axes",
                    format!("has {k} axes; design = \"sobol\" allows at most {MAX_PARAMS}"),
                ));
            }
            let n = match sizes.base_samples {
                None => {
                    return Err(err(
                        "base_samples",
                        "is missing: design = \"sobol\" needs the number of base samples N \
                         (N·(k + 2) points; a power of two), e.g. base_samples = 64"
                            .to_string(),
                    ));
                }
                Some(n) if n < 2 => return Err(err("base_samples", format!("must be at least 2, got {n}"))),
                Some(n) if n > MAX_BASE_SAMPLES as u64 => {
                    return Err(err(
                        "base_samples",
                        format!("must be at most {MAX_BASE_SAMPLES} (the Sobol' generator's limit), got {n}"),
                    ));
                }
                Some(n) => n as usize,
            };
            SensitivityDesign::sobol(keys, n, seed)
        }
        Method::Morris => {
            let r = match sizes.trajectories {
                None => {
                    return Err(err(
                        "trajectories",
                        "is missing: design = \"morris\" needs the number of trajectories r \
                         (r·(k + 1) points), e.g. trajectories = 10"
                            .to_string(),
                    ));
                }
                Some(0) => return Err(err("trajectories", "must be at least 1, got 0".to_string())),
                Some(r) if r.saturating_mul(k as u64 + 1) > max_points as u64 => {
                    return Err(err(
                        "trajectories",
                        format!("make more than {max_points} points with {k} axes, got {r}"),
                    ));
                }
                Some(r) => r as usize,
            };
            let p = match sizes.levels {
                None => DEFAULT_LEVELS,
                Some(p) if p < 2 || p % 2 == 1 || p > 1_000 => {
                    return Err(err(
                        "levels",
                        format!("must be an even number from 2 to 1000 (the step is p/2 grid levels), got {p}"),
                    ));
                }
                Some(p) => p as usize,
            };
            SensitivityDesign::morris(keys, r, p, seed)
        }
    };
    // The checks above are those of the estimator library, so this cannot fail; say so if it does.
    let (design, built) = built.map_err(|e| err("design", format!("\"{name}\" cannot be built: {e}")))?;
    let coords = built.coords();
    Ok(Some((design, coords)))
}

/// Which sensitivity method a design serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Morris elementary effects: μ, μ*, σ.
    Morris,
    /// Sobol' indices: S1, ST.
    Sobol,
}

impl Method {
    /// The name used in sweep files and manifests.
    pub fn name(self) -> &'static str {
        match self {
            Method::Morris => "morris",
            Method::Sobol => "sobol",
        }
    }
}

/// The parameters of a Morris or Sobol' design, as recorded in the manifest's `sensitivity`
/// member (fields in alphabetical order, as every manifest struct: see `manifest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityDesign {
    /// Sobol': base samples N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_samples: Option<usize>,
    /// Seed the design was built from (the sweep's master seed).
    pub design_seed: u64,
    /// Number of parameters.
    pub k: usize,
    /// Morris: grid levels p.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<usize>,
    /// Morris or Sobol'.
    pub method: Method,
    /// The axis keys in coordinate order (coordinate i is axis i).
    pub parameters: Vec<String>,
    /// How design rows (= point ids) are laid out, in words.
    pub row_layout: String,
    /// Rows of the design = points of the sweep.
    pub rows: usize,
    /// Morris: trajectories r.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<usize>,
}

/// A built design in the unit hypercube.
#[derive(Debug, Clone, PartialEq)]
pub enum Built {
    /// A Saltelli design (Sobol').
    Sobol(SaltelliDesign),
    /// A Morris design.
    Morris(MorrisDesign),
}

impl Built {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Built::Sobol(d) => d.len(),
            Built::Morris(d) => d.len(),
        }
    }

    /// Whether the design has no rows (never, for a built design).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `r`: one unit coordinate per parameter.
    pub fn row(&self, r: usize) -> &[f64] {
        match self {
            Built::Sobol(d) => d.row(r),
            Built::Morris(d) => d.row(r),
        }
    }

    /// Every row as sweep coordinates, in row (= point id) order.
    pub fn coords(&self) -> Vec<Vec<Coord>> {
        (0..self.len())
            .map(|r| self.row(r).iter().map(|&u| Coord::Unit(u)).collect())
            .collect()
    }
}

impl SensitivityDesign {
    /// A Sobol' design over `parameters` with `n` base samples.
    pub fn sobol(parameters: Vec<String>, n: usize, seed: u64) -> Result<(SensitivityDesign, Built), SensitivityError> {
        let k = parameters.len();
        let built = sensitivity::saltelli_design(k, n, seed)?;
        let d = SensitivityDesign {
            base_samples: Some(n),
            design_seed: seed,
            k,
            levels: None,
            method: Method::Sobol,
            parameters,
            row_layout: "base sample j owns points j·(k+2) .. j·(k+2)+k+1: A_j, B_j, then AB_ij for i = 0..k-1 \
                         (A_j with parameter i from B_j)"
                .to_string(),
            rows: built.len(),
            trajectories: None,
        };
        Ok((d, Built::Sobol(built)))
    }

    /// A Morris design over `parameters` with `r` trajectories on `p` levels.
    pub fn morris(
        parameters: Vec<String>,
        r: usize,
        p: usize,
        seed: u64,
    ) -> Result<(SensitivityDesign, Built), SensitivityError> {
        let k = parameters.len();
        let built = sensitivity::morris_design(k, r, p, seed)?;
        let d = SensitivityDesign {
            base_samples: None,
            design_seed: seed,
            k,
            levels: Some(p),
            method: Method::Morris,
            parameters,
            row_layout: "trajectory t owns points t·(k+1) .. t·(k+1)+k: its start, then the point after each of its \
                         k one-at-a-time moves"
                .to_string(),
            rows: built.len(),
            trajectories: Some(r),
        };
        Ok((d, Built::Morris(built)))
    }

    /// The point whose seeds a point's runs use (common random numbers): replicate `r` of point
    /// `p` runs with `derive_seed(master, seed_point(p), r)`. Sobol': AB_ij takes the seeds of
    /// A_j, so that f(A_j) and f(AB_ij) differ only through parameter i (an inert parameter gets
    /// S1 = ST = 0 exactly, and seed noise enters as one more input, shared by A_j and every AB_ij,
    /// independent in B_j); A_j and B_j keep their own. Morris: every point of trajectory t takes
    /// the seeds of its start, so each elementary effect is a difference at equal seeds.
    pub fn seed_point(&self, point: u64) -> u64 {
        let k = self.k as u64;
        match self.method {
            Method::Sobol if point % (k + 2) >= 2 => point - point % (k + 2),
            Method::Sobol => point,
            Method::Morris => point - point % (k + 1),
        }
    }

    /// Rebuilds the design from its recorded parameters (for `analyze`); checks that it has the
    /// recorded number of rows.
    pub fn build(&self) -> Result<Built, SensitivityError> {
        let missing = |what: &str| SensitivityError::InvalidDesign(format!("the manifest records no {what}"));
        let (_, built) = match self.method {
            Method::Sobol => SensitivityDesign::sobol(
                self.parameters.clone(),
                self.base_samples.ok_or_else(|| missing("base_samples"))?,
                self.design_seed,
            )?,
            Method::Morris => SensitivityDesign::morris(
                self.parameters.clone(),
                self.trajectories.ok_or_else(|| missing("trajectories"))?,
                self.levels.ok_or_else(|| missing("levels"))?,
                self.design_seed,
            )?,
        };
        if self.k != self.parameters.len() || built.len() != self.rows {
            return Err(SensitivityError::InvalidDesign(format!(
                "the manifest records k = {} and {} rows, but {} parameters make {} rows",
                self.k,
                self.rows,
                self.parameters.len(),
                built.len()
            )));
        }
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("p{i}")).collect()
    }

    #[test]
    fn designs_rebuild_from_their_recorded_parameters() {
        let (d, built) = SensitivityDesign::sobol(keys(3), 16, 7).unwrap();
        assert_eq!(d.rows, 16 * 5);
        assert_eq!(d.build().unwrap(), built);
        let back: SensitivityDesign = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        let (m, built) = SensitivityDesign::morris(keys(4), 5, 4, 9).unwrap();
        assert_eq!(m.rows, 5 * 5);
        assert_eq!(m.build().unwrap(), built);
        assert_ne!(SensitivityDesign::morris(keys(4), 5, 4, 10).unwrap().1, built);
    }

    #[test]
    fn the_manifest_entry_has_sorted_keys() {
        let (d, _) = SensitivityDesign::morris(keys(2), 2, 4, 1).unwrap();
        let typed = serde_json::to_string(&d).unwrap();
        let value = serde_json::to_string(&serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(typed, value);
    }

    #[test]
    fn seeds_are_shared_within_a_base_sample_and_a_trajectory() {
        let (d, _) = SensitivityDesign::sobol(keys(3), 4, 1).unwrap();
        let seeds: Vec<u64> = (0..10).map(|p| d.seed_point(p)).collect();
        assert_eq!(seeds, vec![0, 1, 0, 0, 0, 5, 6, 5, 5, 5]);
        let (m, _) = SensitivityDesign::morris(keys(2), 3, 4, 1).unwrap();
        let seeds: Vec<u64> = (0..9).map(|p| m.seed_point(p)).collect();
        assert_eq!(seeds, vec![0, 0, 0, 3, 3, 3, 6, 6, 6]);
    }

    #[test]
    fn a_tampered_record_is_refused() {
        let (mut d, _) = SensitivityDesign::sobol(keys(3), 8, 1).unwrap();
        d.rows += 1;
        assert!(d.build().is_err());
        d.rows -= 1;
        d.base_samples = None;
        assert!(d.build().is_err());
    }
}
