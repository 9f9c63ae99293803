//! Command-line interface in two levels: clap parses raw arguments, then [`plan`] checks them
//! and loads every input into a validated plan that a command in `crate::commands` executes.
//!
//! This is the only place that turns errors into exit codes: 0 success, 1 the work failed,
//! 2 bad input (nothing ran), 130 interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands::compare::ComparePlan;
use crate::commands::merge::MergePlan;
use crate::commands::run::RunPlan;
use crate::commands::scenarios::ScenariosPlan;
use crate::commands::slurm::SlurmPlan;
use crate::commands::sweep::SweepPlan;
use crate::commands::validate::ValidatePlan;
use crate::commands::{self, CommandError, progress::show_progress};
use crate::config::{self, Config};

/// aimarket: an agent-based simulation of the AI infrastructure market.
///
/// Cloud providers, AI labs and enterprises make hosting and switching decisions every month;
/// each run exports the concentration trajectories of four markets (cloud, AI channel, model,
/// compute) to CSV. See README.md for the output columns and docs/MODEL.md for the model.
#[derive(Debug, Parser)]
#[command(name = "aimarket", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one simulation and write metrics.csv, shares.csv, agents.csv and manifest.json.
    Run(RunArgs),
    /// Check a config (and overrides) without running it.
    Validate(ValidateArgs),
    /// Run a parameter sweep: every (point, replicate) in parallel, streamed to CSV.
    Sweep(SweepArgs),
    /// List the shipped scenarios with a one-line description each.
    Scenarios(ScenariosArgs),
    /// Compare scenarios against a base with common random numbers and paired 95% CIs.
    Compare(CompareArgs),
    /// Merge the shards of a sweep (sweep --shard I/N) into the single-machine sweep's files.
    Merge(MergeArgs),
    /// Write (and with --submit, submit) a Slurm job array running a sweep as shards, and a
    /// merge job that depends on it.
    Slurm(SlurmArgs),
}

/// Arguments of `aimarket run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file (TOML), e.g. configs/baseline.toml.
    pub config: PathBuf,
    /// Seed (overrides run.seed), 0 to 2^63 − 1.
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Number of monthly ticks (overrides run.ticks).
    #[arg(long)]
    pub ticks: Option<u32>,
    /// Number of enterprises (overrides run.enterprises).
    #[arg(long)]
    pub enterprises: Option<u32>,
    /// Output directory; created if missing. Files appear there only when the run succeeds.
    #[arg(long, default_value = "outputs")]
    pub out: PathBuf,
    /// Override any config key by its dotted path, e.g. --set enterprise.switch_cost_base=2.5
    /// or --set 'providers.*.egress_fee=0'. Repeatable; applied in order.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress bar and no summary.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `aimarket validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Config file (TOML).
    pub config: PathBuf,
    /// Overrides to check with it (same syntax as `run --set`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Arguments of `aimarket sweep`.
#[derive(Debug, Args, Clone)]
pub struct SweepArgs {
    /// Sweep file (TOML), e.g. configs/sweeps/switching_costs.toml.
    pub sweep: PathBuf,
    /// Output directory (default: outputs/sweeps/<sweep file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Continue an interrupted sweep in the same output directory.
    #[arg(long)]
    pub resume: bool,
    /// Also write every run's per-tick metrics to trajectories.csv.
    #[arg(long)]
    pub trajectories: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard I of N (I/N, 0 ≤ I < N): a contiguous block of whole points. `slurm` takes
    /// I and N from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT. A shard resumes its --out
    /// directory by itself and exits at once when it is complete; `aimarket merge` combines
    /// the shards.
    #[arg(long, value_name = "I/N|slurm")]
    pub shard: Option<String>,
}

/// Arguments of `aimarket merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output directory: gets points.csv, runs.csv, summary.csv, trajectories.csv (when the
    /// shards have them) and manifest.json, as the unsharded sweep would have written them.
    pub out: PathBuf,
    /// The shard directories (every shard of the sweep once, in any order).
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// No summary line.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `aimarket slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Sweep file (TOML), as for `aimarket sweep`.
    pub sweep: PathBuf,
    /// Number of array tasks, one shard each.
    #[arg(long)]
    pub tasks: u64,
    /// Partition (sbatch --partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task (sbatch --time), e.g. 02:00:00.
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per task (sbatch --cpus-per-task); each shard runs on that many threads.
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: u32,
    /// At most this many tasks at once (the %K of --array=0-(N-1)%K).
    #[arg(long)]
    pub array_limit: Option<u64>,
    /// Output directory (default: outputs/sweeps/<sweep file name>): shards in OUT/shard-I,
    /// merged results in OUT, scripts and logs in OUT/slurm.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Each shard also writes trajectories.csv (merged too).
    #[arg(long)]
    pub trajectories: bool,
    /// Submit both scripts with sbatch (the merge with --dependency=afterok on the array).
    #[arg(long)]
    pub submit: bool,
}

/// Arguments of `aimarket scenarios`.
#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// Directory holding scenario configs.
    #[arg(long, default_value = "configs/scenarios")]
    pub dir: PathBuf,
}

/// Arguments of `aimarket compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Base config, e.g. configs/baseline.toml.
    pub base: PathBuf,
    /// Scenario configs to compare against the base.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Replicates per config (each replicate uses the same seed for base and scenarios).
    #[arg(long, default_value_t = 8)]
    pub replicates: u32,
    /// Number of enterprises (overrides run.enterprises in every config).
    #[arg(long)]
    pub enterprises: Option<u32>,
    /// Master seed from which replicate seeds are derived (default: the base's run.seed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Output directory for comparison.csv and manifest.json.
    #[arg(long, default_value = "outputs/compare")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// A validated command, ready to execute.
#[derive(Debug)]
pub enum Plan {
    /// `aimarket run`.
    Run(RunPlan),
    /// `aimarket validate`.
    Validate(ValidatePlan),
    /// `aimarket sweep`.
    Sweep(SweepPlan),
    /// `aimarket scenarios`.
    Scenarios(ScenariosPlan),
    /// `aimarket compare`.
    Compare(ComparePlan),
    /// `aimarket merge`.
    Merge(MergePlan),
    /// `aimarket slurm`.
    Slurm(SlurmPlan),
}

/// The exit code of a command error.
pub fn exit_code(e: &CommandError) -> u8 {
    match e {
        CommandError::BadInput(_) => 2,
        CommandError::Failed(_) => 1,
        CommandError::Interrupted(_) => 130,
    }
}

/// Parses arguments, plans, executes, and maps failures to exit codes.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    let result = plan(cli.command).and_then(|p| match p {
        Plan::Run(p) => commands::run::execute(&p),
        Plan::Validate(p) => commands::validate::execute(&p),
        Plan::Scenarios(p) => commands::scenarios::execute(&p),
        Plan::Compare(p) => commands::compare::execute(&p),
        Plan::Sweep(p) => commands::sweep::execute(&p),
        Plan::Merge(p) => commands::merge::execute(&p),
        Plan::Slurm(p) => commands::slurm::execute(&p),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Checks the arguments of a command and loads its inputs; nothing runs.
pub fn plan(command: Command) -> Result<Plan, CommandError> {
    Ok(match command {
        Command::Run(args) => Plan::Run(RunPlan {
            config: load_run_config(&args).map_err(CommandError::input)?,
            out: args.out,
            progress: show_progress(args.quiet),
            report: !args.quiet,
        }),
        Command::Validate(args) => {
            let config = config::load(&args.config, &args.set).map_err(CommandError::input)?;
            Plan::Validate(ValidatePlan {
                file: args.config,
                config,
            })
        }
        Command::Sweep(args) => {
            let shard = args
                .shard
                .as_deref()
                .map(|s| crate::sweep::shard::Shard::parse(s, |name| std::env::var(name).ok()))
                .transpose()
                .map_err(CommandError::BadInput)?;
            let mut plan = crate::sweep::spec::load(&args.sweep).map_err(CommandError::input)?;
            plan.shard = shard;
            if args.threads == Some(0) {
                return Err(CommandError::input("--threads must be at least 1, got 0"));
            }
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| crate::sweep::default_out(&args.sweep));
            Plan::Sweep(SweepPlan {
                file: args.sweep,
                plan: Box::new(plan),
                options: crate::sweep::runner::Options {
                    out,
                    threads: args.threads,
                    resume: args.resume,
                    trajectories: args.trajectories,
                    progress: show_progress(args.quiet),
                    quiet_notes: args.quiet,
                },
            })
        }
        Command::Scenarios(args) => Plan::Scenarios(ScenariosPlan { dir: args.dir }),
        Command::Slurm(args) => {
            let plan = crate::sweep::spec::load(&args.sweep).map_err(CommandError::input)?;
            if args.tasks == 0 {
                return Err(CommandError::input("--tasks must be at least 1, got 0"));
            }
            if args.cpus_per_task == 0 {
                return Err(CommandError::input("--cpus-per-task must be at least 1, got 0"));
            }
            if args.array_limit == Some(0) {
                return Err(CommandError::input("--array-limit must be at least 1, got 0"));
            }
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| crate::sweep::default_out(&args.sweep));
            Plan::Slurm(SlurmPlan {
                file: args.sweep,
                plan: Box::new(plan),
                tasks: args.tasks,
                partition: args.partition,
                time: args.time,
                cpus_per_task: args.cpus_per_task,
                array_limit: args.array_limit,
                out,
                trajectories: args.trajectories,
                submit: args.submit,
            })
        }
        Command::Merge(args) => Plan::Merge(MergePlan {
            out: args.out,
            shards: args.shards,
            quiet: args.quiet,
        }),
        Command::Compare(args) => {
            if args.threads == Some(0) {
                return Err(CommandError::input("--threads must be at least 1, got 0"));
            }
            let overrides: Vec<String> = args
                .enterprises
                .map(|n| format!("run.enterprises={n}"))
                .into_iter()
                .collect();
            let configs = ComparePlan::load_configs(&args.base, &args.scenarios, &overrides, args.replicates)?;
            Plan::Compare(ComparePlan {
                master_seed: args.seed.unwrap_or(configs[0].config.run.seed),
                configs,
                replicates: args.replicates,
                out: args.out,
                threads: args.threads,
                progress: show_progress(args.quiet),
                report: !args.quiet,
            })
        }
    })
}

/// Loads a config with the `run` command's overrides applied in order: `--set`, then the
/// dedicated flags (they win).
pub fn load_run_config(args: &RunArgs) -> Result<Config, config::ConfigError> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("run.seed={seed}"));
    }
    if let Some(ticks) = args.ticks {
        overrides.push(format!("run.ticks={ticks}"));
    }
    if let Some(n) = args.enterprises {
        overrides.push(format!("run.enterprises={n}"));
    }
    config::load(&args.config, &overrides)
}
