//! The two JSON documents a sweep keeps in its output directory, as typed structs:
//! `manifest.json`, written last, whose presence means the sweep is complete and which records
//! everything needed to trace and repeat it; and `.sweep-state.json`, written first, the
//! identity of the sweep that `--resume` checks before touching anything.
//!
//! The manifest has always been written through `serde_json::Value`, whose objects (without
//! serde_json's `preserve_order` feature) sort their keys. To keep the file byte-identical, the
//! fields of every manifest struct are declared in alphabetical order and the resolved base
//! config goes through `serde_json::Value` (sorted at every level); a test checks that
//! serialising the struct equals serialising its `Value`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::runner::Options;
use super::sensitivity_design::SensitivityDesign;
use super::shard::ShardEntry;
use super::spec::{AxisValues, Plan, SeedPolicy, Start};
use crate::config::Metric;

/// File holding the identity of the sweep an output directory belongs to.
pub const STATE_FILE: &str = ".sweep-state.json";
/// The manifest, whose presence means the sweep is complete.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The identity of a sweep, stored in the output directory so `--resume` can refuse to mix
/// results of different sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepState {
    /// aimarket version that started the sweep.
    pub aimarket_version: String,
    /// SHA-256 of the sweep file's bytes.
    pub sweep_hash: String,
    /// The base as written in the sweep file.
    pub base: String,
    /// SHA-256 of the resolved base config (with `set`) in its JSON form.
    pub base_hash: String,
    /// (label, hash of the resolved config as for `base_hash`) of every scenario.
    pub scenarios: Vec<(String, String)>,
    /// Whether trajectories.csv is written.
    pub trajectories: bool,
    /// Points of the design.
    pub points: u64,
    /// Replicates per point.
    pub replicates: u64,
    /// Runs in the sweep.
    pub runs: u64,
    /// Metric names in column order.
    pub metrics: Vec<String>,
    /// The seed policy (absent in states written before it existed, whose runs all had
    /// independent seeds).
    #[serde(default = "independent")]
    pub seeds: SeedPolicy,
    /// The shard, for a sharded sweep (`--shard`; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardEntry>,
}

impl SweepState {
    /// The identity of `plan` run with or without trajectories.
    pub fn of(plan: &Plan, trajectories: bool) -> SweepState {
        SweepState {
            aimarket_version: env!("CARGO_PKG_VERSION").to_string(),
            sweep_hash: plan.file_hash.clone(),
            base: plan.base.label.clone(),
            base_hash: plan.base.hash.clone(),
            scenarios: plan
                .scenarios
                .iter()
                .map(|s| (s.label.clone(), s.hash.clone()))
                .collect(),
            trajectories,
            points: plan.points.len() as u64,
            replicates: plan.replicates,
            runs: plan.runs(),
            metrics: Metric::names(),
            seeds: plan.seeds,
            shard: plan.span().entry(),
        }
    }
}

fn independent() -> SeedPolicy {
    SeedPolicy::Independent
}

/// manifest.json of a complete sweep (fields in alphabetical order: see the module comment).
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    aimarket_version: &'static str,
    axes: Vec<AxisEntry<'a>>,
    base: StartEntry<'a>,
    /// The resolved base with `set` applied, as a `Value` so that its keys are sorted.
    base_config: serde_json::Value,
    counts: Counts,
    design: &'static str,
    files: Vec<&'static str>,
    /// Git commit the binary was built from, or `unknown`.
    git_commit: &'static str,
    /// Whether that tree had uncommitted changes (`null`: unknown).
    git_dirty: Option<bool>,
    master_seed: u64,
    metrics: Vec<String>,
    scenarios: Vec<StartEntry<'a>>,
    seed_rule: &'static str,
    /// `common` (common random numbers) or `independent`.
    seeds: &'static str,
    /// Only for a Morris or Sobol' design: its parameters (point id = design row).
    #[serde(skip_serializing_if = "Option::is_none")]
    sensitivity: Option<&'a SensitivityDesign>,
    set: BTreeMap<&'a str, serde_json::Value>,
    /// Only in a shard's manifest: which shard, its points and runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<ShardEntry>,
    sweep_file: String,
    sweep_hash: &'a str,
    timing: Timing,
    trajectories: bool,
}

/// A config a point can start from.
#[derive(Debug, Serialize)]
struct StartEntry<'a> {
    file: &'a str,
    hash: &'a str,
    path: String,
}

impl<'a> From<&'a Start> for StartEntry<'a> {
    fn from(s: &'a Start) -> Self {
        StartEntry {
            file: &s.label,
            hash: &s.hash,
            path: s.path.display().to_string(),
        }
    }
}

/// An axis as given in the sweep file.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum AxisEntry<'a> {
    List { key: &'a str, values: &'a [toml::Value] },
    Range { key: &'a str, range: RangeEntry },
}

#[derive(Debug, Serialize)]
struct RangeEntry {
    levels: Option<usize>,
    max: f64,
    min: f64,
}

/// The manifest's `counts`: of the whole sweep, or of a shard's points and runs in a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Failed runs.
    pub failed: u64,
    /// Ok runs.
    pub ok: u64,
    /// Points.
    pub points: u64,
    /// Replicates per point.
    pub replicates: u64,
    /// Runs.
    pub runs: u64,
}

/// How this session went (the only part that differs between identical sweeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// When the manifest was written (Unix seconds).
    pub finished_unix: u64,
    /// Runs executed per second of this session.
    pub runs_per_second: f64,
    /// Runs executed in this session.
    pub runs_this_session: u64,
    /// Worker threads.
    pub threads: usize,
    /// Wall time of this session, seconds.
    pub wall_seconds_this_session: f64,
}

impl Timing {
    /// The timing of a session that ran `ran_now` runs in `wall_seconds` on `threads` threads,
    /// finishing now.
    pub fn new(threads: usize, ran_now: u64, wall_seconds: f64) -> Timing {
        let finished_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Timing {
            finished_unix,
            runs_per_second: if wall_seconds > 0.0 {
                ran_now as f64 / wall_seconds
            } else {
                0.0
            },
            runs_this_session: ran_now,
            threads,
            wall_seconds_this_session: wall_seconds,
        }
    }
}

/// What the last session did, for the manifest's `timing`.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// Worker threads.
    pub threads: usize,
    /// Runs executed in this session.
    pub ran_now: u64,
    /// Wall time of this session, seconds.
    pub wall_seconds: f64,
}

impl<'a> Manifest<'a> {
    /// The manifest of `plan` completed with `failed` failed runs.
    pub fn new(
        plan: &'a Plan,
        opts: &Options,
        failed: u64,
        session: Session,
    ) -> Result<Manifest<'a>, serde_json::Error> {
        let axes = plan
            .axes
            .iter()
            .map(|a| match &a.values {
                AxisValues::List(values) => AxisEntry::List { key: &a.key, values },
                AxisValues::Range { min, max, levels } => AxisEntry::Range {
                    key: &a.key,
                    range: RangeEntry {
                        levels: *levels,
                        max: *max,
                        min: *min,
                    },
                },
            })
            .collect();
        let set = plan
            .set
            .iter()
            .map(|(k, v)| (k.as_str(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
            .collect();
        let mut files = vec!["points.csv", "runs.csv", "summary.csv"];
        if opts.trajectories {
            files.push("trajectories.csv");
        }
        let span = plan.span();
        let Session {
            threads,
            ran_now,
            wall_seconds,
        } = session;
        Ok(Manifest {
            aimarket_version: env!("CARGO_PKG_VERSION"),
            axes,
            base: (&plan.base).into(),
            base_config: serde_json::to_value(&plan.base.config)?,
            counts: Counts {
                failed,
                ok: span.len() - failed,
                points: span.points.end - span.points.start,
                replicates: plan.replicates,
                runs: span.len(),
            },
            design: plan.design.name(),
            files,
            git_commit: crate::output::run_files::GIT_COMMIT,
            git_dirty: crate::output::run_files::git_dirty(),
            master_seed: plan.seed,
            metrics: Metric::names(),
            scenarios: plan.scenarios.iter().map(StartEntry::from).collect(),
            seed_rule: plan.seed_rule(),
            seeds: plan.seeds.name(),
            sensitivity: plan.sensitivity.as_ref(),
            set,
            shard: span.entry(),
            sweep_file: plan.file.display().to_string(),
            sweep_hash: &plan.file_hash,
            timing: Timing::new(threads, ran_now, wall_seconds),
            trajectories: opts.trajectories,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn plan() -> (tempfile::TempDir, Plan) {
        let dir = tempfile::tempdir().unwrap();
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
        let file = dir.path().join("m.toml");
        std::fs::write(
            &file,
            format!(
                "base = '{}'\nreplicates = 2\nset = {{ \"run.ticks\" = 6, \"run.enterprises\" = 500 }}\n\
                 [[axes]]\nkey = \"enterprise.switch_cost_base\"\nrange = {{ min = 1.0, max = 2.0, levels = 3 }}\n\
                 [[axes]]\nkey = \"providers.*.egress_fee\"\nvalues = [0.0, 0.5]\n",
                base.display()
            ),
        )
        .unwrap();
        let plan = super::super::spec::load(&file).unwrap();
        (dir, plan)
    }

    #[test]
    fn the_manifest_is_written_with_sorted_keys_at_every_level() {
        let (dir, plan) = plan();
        let opts = Options {
            out: dir.path().join("out"),
            threads: Some(1),
            resume: false,
            trajectories: true,
            progress: false,
            quiet_notes: true,
        };
        let session = Session {
            threads: 1,
            ran_now: 12,
            wall_seconds: 0.5,
        };
        let manifest = Manifest::new(&plan, &opts, 1, session).unwrap();
        let typed = serde_json::to_string_pretty(&manifest).unwrap();
        let value = serde_json::to_string_pretty(&serde_json::to_value(&manifest).unwrap()).unwrap();
        assert_eq!(typed, value);
        let v: serde_json::Value = serde_json::from_str(&typed).unwrap();
        assert_eq!(v["counts"]["ok"], 11);
        assert_eq!(v["axes"][0]["range"]["levels"], 3);
        assert_eq!(v["axes"][1]["values"][1], 0.5);
        assert_eq!(v["set"]["run.ticks"], 6);
        assert_eq!(v["timing"]["runs_per_second"], 24.0);
        assert_eq!(v["files"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn the_state_round_trips() {
        let (_dir, plan) = plan();
        let state = SweepState::of(&plan, false);
        let back: SweepState = serde_json::from_slice(&serde_json::to_vec_pretty(&state).unwrap()).unwrap();
        assert_eq!(back, state);
        assert_eq!(state.runs, 12);
    }
}
