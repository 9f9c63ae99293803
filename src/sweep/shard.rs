//! Sharding a sweep: `--shard I/N` runs only shard `I` of `N` of the design, so that the same
//! sweep can run on one machine or on N array tasks and be merged (`merge`) into the very files
//! the single-machine sweep writes.
//!
//! A shard is a contiguous block of whole points: shard `I` of `N` runs the points
//! `⌊I·P/N⌋ .. ⌊(I+1)·P/N⌋` of the `P` design points, with all their replicates. That split
//! is a pure function of (I, N, P) — never of timing — gives every shard either ⌊P/N⌋ or
//! ⌈P/N⌉ points, and puts every run in exactly one shard. Whole points in contiguous blocks is
//! what makes the merge byte-identical and streaming: each shard writes the complete summary
//! rows of its own points (a point's summary needs all of its replicates), and the runs,
//! summary and trajectory rows of shard `I` are exactly the rows the single-machine sweep
//! writes between those of shard `I − 1` and shard `I + 1`. Merging is then concatenating the
//! shards' files in shard order, without parsing numbers or holding anything in memory. (A
//! round-robin split, run `i` in shard `i mod N`, balances a little better when there are few
//! points, but it scatters a point's replicates over shards, so no shard could write summary
//! rows and the merge would have to recompute them from trajectories — which are optional.)

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The environment variables `--shard slurm` reads (set by Slurm in every array task).
pub const SLURM_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
/// See [`SLURM_TASK_ID`].
pub const SLURM_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

/// A half-open range of ids, as stored in the state and the manifest (`start` ≤ id < `end`;
/// fields in alphabetical order, as every manifest struct).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    /// One past the last id.
    pub end: u64,
    /// First id.
    pub start: u64,
}

impl From<&Range<u64>> for IdRange {
    fn from(r: &Range<u64>) -> Self {
        IdRange {
            end: r.end,
            start: r.start,
        }
    }
}

/// What a shard is: which shard, and the points and runs it covers (stored in the shard's
/// `.sweep-state.json` and `manifest.json`, and checked by the merge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// Number of shards.
    pub count: u64,
    /// This shard, 0-based.
    pub index: u64,
    /// The point ids of the shard.
    pub points: IdRange,
    /// The run ids of the shard.
    pub runs: IdRange,
}

impl Shard {
    /// Parses `I/N` or `slurm` (I and N from `SLURM_ARRAY_TASK_ID` and
    /// `SLURM_ARRAY_TASK_COUNT`, read through `env`).
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        if text == "slurm" {
            let var = |name: &str| -> Result<String, String> {
                env(name).ok_or_else(|| {
                    format!(
                        "--shard slurm takes the shard from {SLURM_TASK_ID} and {SLURM_TASK_COUNT}, which Slurm sets in \
                         the tasks of an array job (sbatch --array), but {name} is not set; outside an array job \
                         use --shard I/N"
                    )
                })
            };
            let (id, count) = (var(SLURM_TASK_ID)?, var(SLURM_TASK_COUNT)?);
            let number = |name: &str, v: &str| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("--shard slurm: {name} must be a whole number, got \"{v}\""))
            };
            let shard = Shard {
                index: number(SLURM_TASK_ID, &id)?,
                count: number(SLURM_TASK_COUNT, &count)?,
            };
            return shard.check().map_err(|why| {
                format!(
                    "--shard slurm: {SLURM_TASK_ID}={id} and {SLURM_TASK_COUNT}={count}: {why} (number the array \
                     from 0, e.g. sbatch --array=0-{})",
                    shard.count.max(1) - 1
                )
            });
        }
        let bad = || format!("--shard must be I/N (shard I of N, 0 ≤ I < N, e.g. 0/4) or slurm, got \"{text}\"");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let parse = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse::<u64>().map_err(|_| bad())
        };
        let shard = Shard {
            index: parse(i)?,
            count: parse(n)?,
        };
        shard.check().map_err(|why| format!("--shard {text}: {why}"))
    }

    fn check(self) -> Result<Shard, String> {
        if self.count == 0 {
            return Err("the number of shards must be at least 1".to_string());
        }
        if self.index >= self.count {
            return Err(format!(
                "shard {} does not exist: shards are numbered 0 to {} of {}",
                self.index,
                self.count - 1,
                self.count
            ));
        }
        Ok(self)
    }

    /// The point ids of this shard among `points` points: `⌊I·P/N⌋ .. ⌊(I+1)·P/N⌋`.
    pub fn points(self, points: u64) -> Range<u64> {
        let at = |i: u64| (u128::from(i) * u128::from(points) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// The part of a sweep one session runs: all of it, or one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The shard (`None`: the whole sweep).
    pub shard: Option<Shard>,
    /// Point ids.
    pub points: Range<u64>,
    /// Run ids (`points × replicates`).
    pub runs: Range<u64>,
}

impl Span {
    /// The span of `shard` in a design of `points` points × `replicates`.
    pub fn new(shard: Option<Shard>, points: u64, replicates: u64) -> Span {
        let points = shard.map_or(0..points, |s| s.points(points));
        let runs = points.start * replicates..points.end * replicates;
        Span { shard, points, runs }
    }

    /// Number of runs.
    pub fn len(&self) -> u64 {
        self.runs.end - self.runs.start
    }

    /// Whether the span has no runs (a shard of more shards than points).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shard as recorded in the state and the manifest.
    pub fn entry(&self) -> Option<ShardEntry> {
        self.shard.map(|s| ShardEntry {
            count: s.count,
            index: s.index,
            points: (&self.points).into(),
            runs: (&self.runs).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn shards_parse_and_bad_forms_say_what_is_expected() {
        assert_eq!(Shard::parse("2/5", no_env), Ok(Shard { index: 2, count: 5 }));
        assert_eq!(Shard::parse("0/1", no_env), Ok(Shard { index: 0, count: 1 }));
        let err = Shard::parse("3/2", no_env).unwrap_err();
        assert!(
            err.contains("shard 3 does not exist: shards are numbered 0 to 1 of 2"),
            "{err}"
        );
        let err = Shard::parse("0/0", no_env).unwrap_err();
        assert!(err.contains("at least 1"), "{err}");
        for bad in [
            "", "1", "a/b", "1/", "/2", "-1/2", "1/2/3", "+1/2", " 1/2", "slurmy", "1.0/2",
        ] {
            let err = Shard::parse(bad, no_env).unwrap_err();
            assert!(err.starts_with("--shard must be I/N"), "{bad}: {err}");
        }
    }

    #[test]
    fn slurm_shards_come_from_the_array_variables() {
        let env = |id: &'static str, count: &'static str| {
            move |name: &str| match name {
                SLURM_TASK_ID => Some(id.to_string()),
                SLURM_TASK_COUNT => Some(count.to_string()),
                _ => None,
            }
        };
        assert_eq!(Shard::parse("slurm", env("3", "8")), Ok(Shard { index: 3, count: 8 }));
        let err = Shard::parse("slurm", env("8", "8")).unwrap_err();
        assert!(
            err.contains("SLURM_ARRAY_TASK_ID=8") && err.contains("--array=0-7"),
            "{err}"
        );
        let err = Shard::parse("slurm", env("x", "8")).unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err = Shard::parse("slurm", no_env).unwrap_err();
        assert!(err.contains("SLURM_ARRAY_TASK_ID is not set"), "{err}");
        let only_id = |name: &str| (name == SLURM_TASK_ID).then(|| "1".to_string());
        let err = Shard::parse("slurm", only_id).unwrap_err();
        assert!(err.contains("SLURM_ARRAY_TASK_COUNT is not set"), "{err}");
    }

    #[test]
    fn shards_are_balanced_contiguous_blocks_covering_every_point_once() {
        for points in [0u64, 1, 2, 7, 8, 50, 1001] {
            for count in [1u64, 2, 3, 4, 7, 8, 13, 1000] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.points(points);
                    assert_eq!(r.start, next, "contiguous");
                    let len = r.end - r.start;
                    assert!(len == points / count || len == points.div_ceil(count), "balanced");
                    next = r.end;
                }
                assert_eq!(next, points, "every point in exactly one shard");
            }
        }
        let span = Span::new(Some(Shard { index: 1, count: 3 }), 8, 2);
        assert_eq!((span.points.clone(), span.runs.clone(), span.len()), (2..5, 4..10, 6));
        assert_eq!(Span::new(None, 8, 2).runs, 0..16);
        assert!(Span::new(Some(Shard { index: 0, count: 3 }), 2, 2).is_empty());
    }
}
