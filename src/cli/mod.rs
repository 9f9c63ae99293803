//! Command-line interface in two levels: clap parses raw arguments, then [`plan`] checks them
//! and loads every input into a validated plan that a command in `crate::commands` executes.
//!
//! This is the only place that turns errors into exit codes: 0 success, 1 the work failed,
//! 2 bad input (nothing ran), 130 interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands::analyze::{AnalyzePlan, Window};
use crate::commands::backtest::BacktestPlan;
use crate::commands::calibrate::CalibratePlan;
use crate::commands::compare::{CompareInputs, ComparePlan};
use crate::commands::facts::FactsPlan;
use crate::commands::init::InitPlan;
use crate::commands::merge::MergePlan;
use crate::commands::plot::PlotPlan;
use crate::commands::run::RunPlan;
use crate::commands::scenarios::ScenariosPlan;
use crate::commands::slurm::SlurmPlan;
use crate::commands::sweep::SweepPlan;
use crate::commands::validate::ValidatePlan;
use crate::commands::{self, CommandError, progress::show_progress};
use crate::config::embedded::{Expect, resolve};
use crate::config::{self, Config, bounds};

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
    /// Draw a figure (PNG or SVG) of a run, sweep or compare output directory.
    Plot(PlotArgs),
    /// Merge the shards of a sweep (sweep --shard I/N) into the single-machine sweep's files.
    Merge(MergeArgs),
    /// Write (and with --submit, submit) a Slurm job array running a sweep as shards, and a
    /// merge job that depends on it.
    Slurm(SlurmArgs),
    /// Morris or Sobol' sensitivity indices of a complete design = "morris" or "sobol" sweep:
    /// writes sensitivity.csv into the sweep directory and prints the ranked parameters.
    Analyze(AnalyzeArgs),
    /// Estimate parameters by the method of simulated moments: a Latin-hypercube global stage
    /// and Nelder–Mead, common random numbers, resumable; writes the estimate, the fit per
    /// moment, every evaluation, a calibrated config and a manifest.
    Calibrate(CalibrateArgs),
    /// Copy the shipped configs (baseline, scenarios, sweeps) into a directory for editing.
    Init(InitArgs),
    /// Repeat a run from its manifest.json (which holds the resolved config): the same files,
    /// byte for byte (the manifest's wall time aside).
    Rerun(RerunArgs),
    /// The stylized-facts report: measure the 13 facts of docs/DATA.md §8 on replicates of a
    /// config and write facts.csv and facts.md (the table of docs/VALIDATION.md).
    Facts(FactsArgs),
    /// Compare replicates of a history config, with a calibration's estimates applied, with the
    /// record in and out of the calibration window: fit per observation, summary per series,
    /// markdown tables and a figure of simulated against observed paths.
    Backtest(BacktestArgs),
}

/// Arguments of `aimarket backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Backtest file (TOML), e.g. configs/history/backtest.toml, or the name of a shipped one
    /// (history/backtest).
    pub backtest: PathBuf,
    /// Output directory (default: outputs/backtests/<backtest file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a key of the history config after the file's `set` (repeatable), e.g.
    /// --set enterprise.cloud_gravity=1.5 to rerun the backtest at another value.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no printed summary.
    #[arg(long)]
    pub quiet: bool,
    /// Run even if the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub force_size: bool,
}

/// Arguments of `aimarket facts`.
#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Config to measure (default: the shipped baseline).
    #[arg(default_value = "configs/baseline.toml")]
    pub config: PathBuf,
    /// Regulation scenario paired with the config for fact 13 (a file or a shipped name).
    #[arg(long, default_value = "eu_data_act")]
    pub regulation: PathBuf,
    /// Replicates of each config.
    #[arg(long, default_value_t = 8)]
    pub replicates: u32,
    /// Number of enterprises (overrides run.enterprises).
    #[arg(long)]
    pub enterprises: Option<u32>,
    /// Number of monthly ticks (overrides run.ticks).
    #[arg(long)]
    pub ticks: Option<u32>,
    /// Master seed of the replicate seeds (default: the config's run.seed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Output directory for facts.csv and facts.md.
    #[arg(long, default_value = "outputs/facts")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no printed table.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `aimarket init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to write baseline.toml, scenarios/ and sweeps/ into (created if missing).
    pub dir: PathBuf,
    /// Overwrite files that already exist there.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `aimarket rerun`.
#[derive(Debug, Args)]
pub struct RerunArgs {
    /// manifest.json of a run (or the run's output directory).
    pub manifest: PathBuf,
    /// Output directory (default: a `rerun` directory beside the manifest).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the results of another run in --out.
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no summary.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `aimarket analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Output directory of a complete (or merged) design = "morris" or "sobol" sweep.
    pub sweep_dir: PathBuf,
    /// Metric to analyse (a column of metrics.csv); repeatable. Default: hhi_cloud,
    /// hhi_ai_channel, hhi_model, hhi_compute, infrastructure_rent, mean_lab_dependency.
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,
    /// Which value of a run is its output: `final` (last tick), `average` (mean over ticks) or a
    /// tick number (0-based, from summary.csv).
    #[arg(long, default_value = "average", value_name = "final|average|TICK")]
    pub window: String,
    /// Print nothing (still writes sensitivity.csv).
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `aimarket run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file (TOML), e.g. configs/baseline.toml, or the name of a shipped config
    /// (baseline, eu_data_act, …: see `aimarket scenarios`).
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
    /// Threads for the enterprise phase (results are identical for any number; default 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
    /// Override any config key by its dotted path, e.g. --set enterprise.switch_cost_base=2.5
    /// or --set 'providers.*.egress_fee=0'. Repeatable; applied in order.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress bar and no summary.
    #[arg(long)]
    pub quiet: bool,
    /// Run even if the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub force_size: bool,
    /// Replace the results of another run (or a sweep or comparison) in --out; without it such
    /// a directory is refused.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `aimarket validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Config file (TOML), or the name of a shipped config.
    pub config: PathBuf,
    /// Overrides to check with it (same syntax as `run --set`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Arguments of `aimarket sweep`.
#[derive(Debug, Args, Clone)]
pub struct SweepArgs {
    /// Sweep file (TOML), e.g. configs/sweeps/switching_costs.toml, or the name of a shipped
    /// sweep (smoke, switching_costs, throughput).
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
    /// Run even if the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub force_size: bool,
    /// Run only shard I of N (I/N, 0 ≤ I < N): a contiguous block of whole points. `slurm` takes
    /// I and N from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT. A shard resumes its --out
    /// directory by itself and exits at once when it is complete; `aimarket merge` combines
    /// the shards.
    #[arg(long, value_name = "I/N|slurm")]
    pub shard: Option<String>,
}

/// Arguments of `aimarket calibrate`.
#[derive(Debug, Args, Clone)]
pub struct CalibrateArgs {
    /// Calibration file (TOML), e.g. configs/calibrations/switching.toml, or the name of a
    /// shipped calibration (switching).
    pub calibration: PathBuf,
    /// Output directory (default: outputs/calibrations/<calibration file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Continue an interrupted calibration in the same output directory.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no summary.
    #[arg(long)]
    pub quiet: bool,
    /// Run even if the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub force_size: bool,
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
    /// Directory holding scenario configs (default: configs/scenarios if it exists, else the
    /// scenarios embedded in the binary).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Arguments of `aimarket compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Base config, e.g. configs/baseline.toml (or a shipped config's name: baseline).
    pub base: PathBuf,
    /// Scenario configs (or shipped scenarios' names) to compare against the base (optional
    /// with --scenario-set).
    pub scenarios: Vec<PathBuf>,
    /// Define one more scenario: the base with this override (same syntax as `run --set`).
    /// Repeatable: all of them together make one scenario, labelled `set:<k=v,...>`.
    #[arg(long = "scenario-set", value_name = "KEY=VALUE")]
    pub scenario_set: Vec<String>,
    /// Override a config key in the base and every scenario (same syntax as `run --set`).
    /// Repeatable; applied in order, before scenario-set.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replicates per config (each replicate uses the same seed for base and scenarios).
    #[arg(long, default_value_t = 8)]
    pub replicates: u32,
    /// Number of enterprises (overrides run.enterprises in every config).
    #[arg(long)]
    pub enterprises: Option<u32>,
    /// Number of monthly ticks (overrides run.ticks in every config).
    #[arg(long)]
    pub ticks: Option<u32>,
    /// Master seed from which replicate seeds are derived (default: the base's run.seed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Output directory for comparison.csv, replicates.csv, trajectories.csv and manifest.json.
    #[arg(long, default_value = "outputs/compare")]
    pub out: PathBuf,
    /// Also write trajectories.csv: per month, base, scenario and paired difference with 95% CIs.
    #[arg(long)]
    pub trajectories: bool,
    /// Start every scenario from its base replicate's calibrated outside options
    /// (demand.cloud_outside_utility, demand.ai_outside_utility) instead of calibrating its own:
    /// one market facing two specifications. Recorded in manifest.json.
    #[arg(long)]
    pub common_calibration: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run even if the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub force_size: bool,
}

/// Arguments of `aimarket plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Output directory of `aimarket run`, `sweep` or `compare` (compare needs --trajectories).
    pub dir: PathBuf,
    /// Metrics to plot, one panel each (default: the four HHIs). Compare also takes rent.<provider>, profit.<owner> and the surplus series at the base's prices (consumer_surplus_ai_at_base_musd, …).
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub metric: Vec<String>,
    /// Response plots (--x): the runs' final value or their time average (default final).
    #[arg(long, value_parser = ["final", "average"])]
    pub window: Option<String>,
    /// Response plot of a sweep: the swept axis on x (its key, or its last segment if unique).
    #[arg(long, value_name = "AXIS")]
    pub x: Option<String>,
    /// With --x: a second swept axis, drawing a heatmap of the mean.
    #[arg(long, value_name = "AXIS")]
    pub y: Option<String>,
    /// Image file, .png or .svg (default: DIR/figure_<run|sweep|compare|response>.png); the
    /// plotted data go to the same path with .csv appended.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Width in pixels (default: from the number of panels).
    #[arg(long)]
    pub width: Option<u32>,
    /// Height in pixels (default: from the number of panels).
    #[arg(long)]
    pub height: Option<u32>,
    /// Do not print what was written.
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
    Sweep(Box<SweepPlan>),
    /// `aimarket scenarios`.
    Scenarios(ScenariosPlan),
    /// `aimarket compare`.
    Compare(ComparePlan),
    /// `aimarket plot`.
    Plot(PlotPlan),
    /// `aimarket merge`.
    Merge(MergePlan),
    /// `aimarket slurm`.
    Slurm(SlurmPlan),
    /// `aimarket analyze`.
    Analyze(AnalyzePlan),
    /// `aimarket calibrate`.
    Calibrate(Box<CalibratePlan>),
    /// `aimarket init`.
    Init(InitPlan),
    /// `aimarket rerun` (a run).
    Rerun(RunPlan),
    /// `aimarket facts`.
    Facts(Box<FactsPlan>),
    /// `aimarket backtest`.
    Backtest(Box<BacktestPlan>),
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
        Plan::Plot(p) => commands::plot::execute(&p),
        Plan::Sweep(p) => commands::sweep::execute(&p),
        Plan::Merge(p) => commands::merge::execute(&p),
        Plan::Slurm(p) => commands::slurm::execute(&p),
        Plan::Analyze(p) => commands::analyze::execute(&p),
        Plan::Facts(p) => commands::facts::execute(&p),
        Plan::Backtest(p) => commands::backtest::execute(&p),
        Plan::Calibrate(p) => commands::calibrate::execute(&p),
        Plan::Init(p) => commands::init::execute(&p),
        Plan::Rerun(p) => commands::run::execute(&p),
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
        Command::Run(mut args) => {
            args.config = resolve(&args.config, Expect::Config);
            let config = load_run_config(&args).map_err(CommandError::input)?;
            check_out_dir(&args.out)?;
            commands::run::check_target(&args.out, &config, args.force)?;
            check_size(
                bounds::world_bytes(&config),
                &format!("a run of {} enterprises", config.run.enterprises),
                args.force_size,
            )?;
            Plan::Run(RunPlan {
                config,
                out: args.out,
                progress: show_progress(args.quiet),
                report: !args.quiet,
                threads: usize::from(args.threads),
            })
        }
        Command::Validate(mut args) => {
            args.config = resolve(&args.config, Expect::Config);
            let config = config::load(&args.config, &args.set).map_err(CommandError::input)?;
            Plan::Validate(ValidatePlan {
                file: args.config,
                config,
            })
        }
        Command::Sweep(mut args) => {
            args.sweep = resolve(&args.sweep, Expect::Sweep);
            check_input_file(&args.sweep)?;
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
            check_out_dir(&out)?;
            check_sweep_size(&plan, args.threads, args.force_size)?;
            Plan::Sweep(Box::new(SweepPlan {
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
            }))
        }
        Command::Calibrate(mut args) => {
            args.calibration = resolve_shipped(&args.calibration, "calibrations");
            check_input_file(&args.calibration)?;
            let calibration = crate::calibrate::spec::load(&args.calibration).map_err(CommandError::input)?;
            if args.threads == Some(0) {
                return Err(CommandError::input("--threads must be at least 1, got 0"));
            }
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| crate::calibrate::default_out(&args.calibration));
            check_out_dir(&out)?;
            let runs = calibration.replicates * (1 + calibration.optimiser.global_points);
            let at_once = runs.min(threads_of(args.threads));
            check_size(
                at_once * bounds::world_bytes(&calibration.base),
                &format!(
                    "a calibration of {} enterprises ({at_once} runs at once)",
                    calibration.base.run.enterprises
                ),
                args.force_size,
            )?;
            Plan::Calibrate(Box::new(CalibratePlan {
                file: args.calibration,
                calibration: Box::new(calibration),
                options: crate::calibrate::runner::Options {
                    out,
                    threads: args.threads,
                    resume: args.resume,
                    progress: show_progress(args.quiet),
                },
                report: !args.quiet,
            }))
        }
        Command::Scenarios(args) => Plan::Scenarios(ScenariosPlan { dir: args.dir }),
        Command::Init(args) => Plan::Init(InitPlan {
            dir: args.dir,
            force: args.force,
        }),
        Command::Rerun(args) => Plan::Rerun(commands::rerun::plan(&args.manifest, args.out, args.force, args.quiet)?),
        Command::Slurm(mut args) => {
            args.sweep = resolve(&args.sweep, Expect::Sweep);
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
        Command::Facts(args) => {
            if args.threads == Some(0) {
                return Err(CommandError::input("--threads must be at least 1, got 0"));
            }
            if args.replicates < 2 {
                return Err(CommandError::input(format!(
                    "--replicates must be at least 2 (the report gives 95 % CIs), got {}",
                    args.replicates
                )));
            }
            let mut overrides = Vec::new();
            if let Some(t) = args.ticks {
                overrides.push(format!("run.ticks={t}"));
            }
            if let Some(n) = args.enterprises {
                overrides.push(format!("run.enterprises={n}"));
            }
            let base_file = resolve(&args.config, Expect::Config);
            let regulation_file = resolve(&args.regulation, Expect::Config);
            let base = config::load(&base_file, &overrides).map_err(CommandError::input)?;
            let regulation = config::load(&regulation_file, &overrides).map_err(CommandError::input)?;
            if (regulation.run.ticks, &regulation.run.start) != (base.run.ticks, &base.run.start) {
                return Err(CommandError::input(format!(
                    "{}: runs {} months from {}, the config {} months from {}; fact 13 pairs them month by month",
                    regulation_file.display(),
                    regulation.run.ticks,
                    regulation.run.start,
                    base.run.ticks,
                    base.run.start
                )));
            }
            check_out_dir(&args.out)?;
            let regulation_name = regulation_file
                .file_stem()
                .map_or_else(|| "regulation".to_string(), |s| s.to_string_lossy().into_owned());
            Plan::Facts(Box::new(FactsPlan {
                master_seed: args.seed.unwrap_or(base.run.seed),
                base,
                base_file: args.config,
                regulation,
                regulation_name,
                replicates: args.replicates,
                out: args.out,
                threads: args.threads,
                progress: show_progress(args.quiet),
                report: !args.quiet,
            }))
        }
        Command::Backtest(args) => {
            let file = resolve_shipped(&args.backtest, "history");
            check_input_file(&file)?;
            let backtest = crate::calibrate::backtest::load_with(&file, &args.set).map_err(CommandError::input)?;
            if args.threads == Some(0) {
                return Err(CommandError::input("--threads must be at least 1, got 0"));
            }
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| commands::backtest::default_out(&file));
            check_out_dir(&out)?;
            let at_once = backtest.replicates.min(threads_of(args.threads));
            check_size(
                at_once * bounds::world_bytes(&backtest.base),
                &format!(
                    "a backtest of {} enterprises ({at_once} runs at once)",
                    backtest.base.run.enterprises
                ),
                args.force_size,
            )?;
            Plan::Backtest(Box::new(BacktestPlan {
                backtest: Box::new(backtest),
                out,
                threads: args.threads,
                progress: show_progress(args.quiet),
                report: !args.quiet,
            }))
        }
        Command::Analyze(args) => Plan::Analyze(AnalyzePlan {
            metrics: commands::analyze::parse_metrics(&args.metrics).map_err(CommandError::BadInput)?,
            window: Window::parse(&args.window).map_err(CommandError::BadInput)?,
            dir: args.sweep_dir,
            quiet: args.quiet,
        }),
        Command::Merge(args) => Plan::Merge(MergePlan {
            out: args.out,
            shards: args.shards,
            quiet: args.quiet,
        }),
        Command::Compare(args) => {
            if args.threads == Some(0) {
                return Err(CommandError::input("--threads must be at least 1, got 0"));
            }
            let mut shorthands = Vec::new();
            if let Some(t) = args.ticks {
                shorthands.push(format!("run.ticks={t}"));
            }
            if let Some(n) = args.enterprises {
                shorthands.push(format!("run.enterprises={n}"));
            }
            let (configs, overrides) = ComparePlan::load_configs(&CompareInputs {
                base: resolve(&args.base, Expect::Config),
                scenarios: args.scenarios.iter().map(|s| resolve(s, Expect::Config)).collect(),
                scenario_set: args.scenario_set,
                set: args.set,
                shorthands,
                replicates: args.replicates,
            })?;
            check_out_dir(&args.out)?;
            let runs = configs.len() as u64 * u64::from(args.replicates);
            let at_once = runs.min(threads_of(args.threads));
            let world = configs
                .iter()
                .map(|c| bounds::world_bytes(&c.config))
                .max()
                .unwrap_or(0);
            let kept: u64 =
                configs.iter().map(|c| bounds::recorded_bytes(&c.config)).sum::<u64>() * u64::from(args.replicates);
            check_size(
                at_once * world + kept,
                &format!(
                    "{runs} runs of {} enterprises ({at_once} at once, every run's months kept for the table)",
                    configs[0].config.run.enterprises
                ),
                args.force_size,
            )?;
            Plan::Compare(ComparePlan {
                master_seed: args.seed.unwrap_or(configs[0].config.run.seed),
                configs,
                overrides,
                replicates: args.replicates,
                out: args.out,
                trajectories: args.trajectories,
                common_calibration: args.common_calibration,
                threads: args.threads,
                progress: show_progress(args.quiet),
                report: !args.quiet,
            })
        }
        Command::Plot(args) => {
            let window = args
                .window
                .as_deref()
                .map(crate::output::plot::build::Window::parse)
                .transpose()
                .map_err(CommandError::input)?;
            let options = crate::output::plot::build::Options {
                metrics: args.metric,
                window,
                x: args.x,
                y: args.y,
            };
            Plan::Plot(PlotPlan::new(
                &args.dir,
                &options,
                args.out,
                args.width,
                args.height,
                !args.quiet,
            )?)
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
    config::load(&args.config, &overrides).map_err(|mut e| {
        // Name the flag the user typed, not the override it became.
        for (flag, value) in [
            ("seed", args.seed),
            ("ticks", args.ticks.map(u64::from)),
            ("enterprises", args.enterprises.map(u64::from)),
        ] {
            if let Some(v) = value {
                e.file = e
                    .file
                    .replace(&format!("(with --set run.{flag}={v})"), &format!("(with --{flag} {v})"));
            }
        }
        e
    })
}

/// The path a calibration or backtest argument names: itself when it exists (or is a virtual
/// path), otherwise the shipped file of that name in `configs/<dir>` (`switching` →
/// `embedded:/configs/calibrations/switching.toml`, `backtest` →
/// `embedded:/configs/history/backtest.toml`), otherwise itself (reported missing).
fn resolve_shipped(arg: &std::path::Path, dir: &str) -> PathBuf {
    use crate::config::embedded;
    if arg.exists() || embedded::is_embedded(arg) {
        return arg.to_path_buf();
    }
    let Some(name) = arg.to_str() else {
        return arg.to_path_buf();
    };
    let name = name.strip_prefix("./").unwrap_or(name);
    let name = name.strip_prefix("configs/").unwrap_or(name);
    let name = name.strip_prefix(dir).and_then(|n| n.strip_prefix('/')).unwrap_or(name);
    let stem = name.strip_suffix(".toml").unwrap_or(name);
    let path = embedded::virtual_path(&format!("{dir}/{stem}.toml"));
    if embedded::is_embedded(&path) {
        path
    } else {
        arg.to_path_buf()
    }
}

/// A sweep file must be a regular file (a FIFO would block the read forever).
fn check_input_file(path: &std::path::Path) -> Result<(), CommandError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(CommandError::input(format!(
            "{}: is not a regular file (a directory, FIFO or device); expected a TOML file",
            path.display()
        ))),
        // A missing file is reported by the loader, with its usual message.
        _ => Ok(()),
    }
}

/// `--out` must be a directory that can be created and written, checked before any run.
fn check_out_dir(out: &std::path::Path) -> Result<(), CommandError> {
    crate::output::check_out_dir(out).map_err(CommandError::input)
}

/// Worker threads a pool will have: `--threads`, or one per core.
fn threads_of(threads: Option<usize>) -> u64 {
    threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1) as u64
}

/// Test hook: pretend the machine has this many bytes available (instead of MemAvailable).
const MEMORY_OVERRIDE_ENV: &str = "AIMARKET_MEMORY_AVAILABLE";

/// Bytes of memory available for new work: `MemAvailable` of /proc/meminfo; `None` where it
/// cannot be read (then nothing is refused).
fn available_memory() -> Option<u64> {
    if let Ok(v) = std::env::var(MEMORY_OVERRIDE_ENV) {
        return v.trim().parse().ok();
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// Refuses work whose estimated memory exceeds what is available, unless forced.
fn check_size(needed: u64, what: &str, force: bool) -> Result<(), CommandError> {
    let Some(available) = available_memory() else {
        return Ok(());
    };
    if force || needed <= available {
        return Ok(());
    }
    Err(CommandError::input(format!(
        "{what} needs about {} of memory ({} B per enterprise, --enterprises / run.enterprises), more than the {} available; \
         lower --enterprises (run.enterprises), --replicates or --threads, or pass --force-size to run anyway",
        gigabytes(needed),
        bounds::BYTES_PER_ENTERPRISE,
        gigabytes(available)
    )))
}

/// The memory of a sweep: its largest point's world on every thread, plus one point's
/// replicates of per-month metrics kept for the summary. Points whose config the model
/// rejects are left out (they become failed runs).
fn check_sweep_size(plan: &crate::sweep::spec::Plan, threads: Option<usize>, force: bool) -> Result<(), CommandError> {
    let (mut enterprises, mut ticks) = (0u64, 0u64);
    let max_n = bounds::bound_of(&["run".into(), "enterprises".into()]).map_or(f64::INFINITY, |b| b.max);
    let max_t = bounds::bound_of(&["run".into(), "ticks".into()]).map_or(f64::INFINITY, |b| b.max);
    for point in 0..plan.points.len() {
        let Ok(table) = plan.point_table(point) else { continue };
        let int = |key: &str, max: f64| {
            config::get_key(&table, key)
                .and_then(toml::Value::as_integer)
                .filter(|&v| v >= 0 && v as f64 <= max)
                .map_or(0, |v| v as u64)
        };
        enterprises = enterprises.max(int("run.enterprises", max_n));
        ticks = ticks.max(int("run.ticks", max_t));
    }
    let at_once = plan.runs().min(threads_of(threads));
    let world = enterprises * bounds::BYTES_PER_ENTERPRISE + bounds::BYTES_PER_WORLD;
    let per_month = std::mem::size_of::<config::MetricValues>() as u64 + 24;
    let kept = plan.replicates * ticks * per_month;
    check_size(
        at_once * world + kept,
        &format!("a sweep with points of {enterprises} enterprises ({at_once} runs at once)"),
        force,
    )
}
