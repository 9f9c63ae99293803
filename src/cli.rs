//! Command-line interface: clap definitions, then one function per command.
//!
//! `main` only calls [`main_entry`]; every command returns `Result<(), Failure>` and the
//! failure's message and exit code reach the user unchanged.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};
use crate::output::RunWriter;
use crate::sim::{RunError, simulate};

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

/// A command's failure: what to tell the user and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// Message printed to stderr (prefixed with "error: ").
    pub message: String,
    /// Process exit code.
    pub code: u8,
}

impl Failure {
    /// Exit code 2: bad input (config, sweep file, arguments).
    pub fn input(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            code: 2,
        }
    }

    /// Exit code 1: the work itself failed.
    pub fn run(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            code: 1,
        }
    }
}

/// Parses arguments, runs the command, and maps failures to exit codes.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
        Command::Sweep(args) => crate::sweep::execute(&args),
        Command::Scenarios(args) => crate::scenarios::list(&args.dir),
        Command::Compare(args) => crate::compare::execute(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Whether to draw progress bars: only on a terminal and without `--quiet`.
pub fn show_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A flag set by Ctrl-C (installed once per process).
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = flag.clone();
        // If a handler cannot be installed (another one exists), Ctrl-C simply kills the
        // process; outputs are still never left looking complete.
        let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
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

fn run(args: &RunArgs) -> Result<(), Failure> {
    let config = load_run_config(args).map_err(Failure::input)?;
    let bar = show_progress(args.quiet).then(|| {
        let bar = indicatif::ProgressBar::new(u64::from(config.run.ticks));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} months (eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let mut writer = RunWriter::create(&args.out).map_err(|e| Failure::run(format!("{}: {e}", args.out.display())))?;
    let stop = interrupt_flag();
    let result = simulate(
        &config,
        &mut writer,
        &mut |done| {
            if let Some(b) = &bar {
                b.set_position(u64::from(done));
            }
        },
        &|| stop.load(Ordering::SeqCst),
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(info) => {
            let paths = writer
                .finish(&config, &info)
                .map_err(|e| Failure::run(format!("{}: {e}", args.out.display())))?;
            if !args.quiet {
                eprintln!(
                    "ran {} months × {} enterprises in {:.2} s; wrote {}",
                    config.run.ticks,
                    config.run.enterprises,
                    info.wall_seconds,
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(())
        }
        Err(RunError::Interrupted) => Err(Failure {
            message: "interrupted; no output files were written".into(),
            code: 130,
        }),
        Err(e) => Err(Failure::run(format!("{e}; no output files were written"))),
    }
}

fn validate(args: &ValidateArgs) -> Result<(), Failure> {
    let config = config::load(&args.config, &args.set).map_err(Failure::input)?;
    println!(
        "{}: ok ({} providers, {} labs, {} contracts, {} events, {} months from {}, {} enterprises)",
        args.config.display(),
        config.providers.len(),
        config.labs.len(),
        config.contracts.len(),
        config.events.len(),
        config.run.ticks,
        config.run.start,
        config.run.enterprises
    );
    Ok(())
}
