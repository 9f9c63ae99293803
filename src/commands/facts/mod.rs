//! `aimarket facts`: the stylized-facts report. Runs replicates of a config and, paired with
//! them (same seeds), of a regulation scenario; measures the 13 stylized facts of
//! docs/DATA.md §8 ([`measure::facts`]); writes `facts.csv` and `facts.md` (the table of
//! docs/VALIDATION.md) and prints the table.

pub mod measure;
pub mod record;

use std::fmt::Write as _;
use std::path::PathBuf;

use super::CommandError;
use super::progress::run_observed;
use crate::batch::Job;
use crate::config::Config;
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::sim::rng::derive_seed;
use measure::{FactRow, Measured, facts};
use record::FactSeries;

/// A validated `facts` invocation.
#[derive(Debug, Clone)]
pub struct FactsPlan {
    /// The config whose dynamics are measured (the baseline).
    pub base: Config,
    /// Its file, as given.
    pub base_file: PathBuf,
    /// The regulation scenario of fact 13, and its name.
    pub regulation: Config,
    /// Name of the regulation scenario (its file stem).
    pub regulation_name: String,
    /// Replicates of each.
    pub replicates: u32,
    /// Master seed of the replicate seeds (`derive_seed(master, 0, r)`, as in compare).
    pub master_seed: u64,
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads (None: all cores).
    pub threads: Option<usize>,
    /// Show a progress bar.
    pub progress: bool,
    /// Print the table.
    pub report: bool,
}

/// Runs every replicate of `configs` (in that order) and returns their series in job order.
fn run_all(plan: &FactsPlan, configs: &[&Config]) -> Result<Vec<FactSeries>, CommandError> {
    let jobs: Vec<Job> = configs
        .iter()
        .flat_map(|c| {
            (0..plan.replicates).map(move |r| {
                let mut config = (*c).clone();
                config.run.seed = derive_seed(plan.master_seed, 0, u64::from(r));
                Job { config }
            })
        })
        .collect();
    run_observed(&jobs, plan.threads, plan.progress)
}

/// Mean and CI of a measured statistic as table text: `−0.42 [−0.51, −0.33]`.
fn cell(m: &Measured) -> String {
    let n = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map_or("–".to_string(), |x| format!("{x:.3}"))
    };
    match (m.summary.ci_low, m.summary.ci_high) {
        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => {
            format!("{} [{}, {}]", n(m.summary.mean), n(Some(lo)), n(Some(hi)))
        }
        _ => n(m.summary.mean),
    }
}

/// The markdown table of the report.
pub fn markdown(rows: &[FactRow], plan_line: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{plan_line}\n");
    out.push_str(
        "| # | fact | representable | measured on the model: mean [95 % CI] | observed | criterion | verdict |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|\n");
    for r in rows {
        let measured = if r.measured.is_empty() {
            format!("– ({})", r.note)
        } else {
            let mut parts: Vec<String> = r
                .measured
                .iter()
                .map(|m| format!("{}: {}", m.statistic, cell(m)))
                .collect();
            if !r.note.is_empty() {
                parts.push(format!("({})", r.note));
            }
            parts.join("; ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.id,
            r.title,
            r.representable.name(),
            measured,
            r.observed,
            r.criterion,
            r.verdict.name()
        );
    }
    out
}

/// `facts.csv`: one row per fact and statistic (a fact without statistics has one row).
pub fn csv(rows: &[FactRow]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "fact",
        "title",
        "representable",
        "statistic",
        "n",
        "mean",
        "ci_low",
        "ci_high",
        "observed",
        "criterion",
        "verdict",
        "note",
    ])
    .map_err(|e| e.to_string())?;
    let num = |v: Option<f64>| v.filter(|x| x.is_finite()).map(format_number).unwrap_or_default();
    for r in rows {
        let empty = [None];
        let stats: Vec<Option<&Measured>> = if r.measured.is_empty() {
            empty.to_vec()
        } else {
            r.measured.iter().map(Some).collect()
        };
        for m in stats {
            w.write_record([
                r.id.to_string(),
                r.title.to_string(),
                r.representable.name().to_string(),
                m.map(|m| m.statistic.clone()).unwrap_or_default(),
                m.map(|m| m.summary.n.to_string()).unwrap_or_default(),
                num(m.and_then(|m| m.summary.mean)),
                num(m.and_then(|m| m.summary.ci_low)),
                num(m.and_then(|m| m.summary.ci_high)),
                r.observed.to_string(),
                r.criterion.to_string(),
                r.verdict.name().to_string(),
                r.note.to_string(),
            ])
            .map_err(|e| e.to_string())?;
        }
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// Runs the report and writes `facts.csv` and `facts.md` into the output directory.
pub fn execute(plan: &FactsPlan) -> Result<(), CommandError> {
    let runs = run_all(plan, &[&plan.base, &plan.regulation])?;
    let n = plan.replicates as usize;
    let (base, regulated) = runs.split_at(n);
    let rows = facts(base, regulated, &plan.regulation_name);
    let plan_line = format!(
        "Generated by `aimarket facts {} --replicates {} --enterprises {} --seed {}` ({} months from {}; fact 13 pairs the replicates with `{}`).",
        plan.base_file.display(),
        plan.replicates,
        plan.base.run.enterprises,
        plan.master_seed,
        plan.base.run.ticks,
        plan.base.run.start,
        plan.regulation_name
    );
    let md = markdown(&rows, &plan_line);
    let table = csv(&rows).map_err(CommandError::failed)?;
    std::fs::create_dir_all(&plan.out)
        .map_err(|e| CommandError::failed(format!("{}: cannot create: {e}", plan.out.display())))?;
    for (name, bytes) in [("facts.csv", table.as_slice()), ("facts.md", md.as_bytes())] {
        write_atomic(&plan.out, name, bytes)
            .map_err(|e| CommandError::failed(format!("{}: cannot write {name}: {e}", plan.out.display())))?;
    }
    if plan.report {
        print!("{md}");
        let reproduced = rows
            .iter()
            .filter(|r| r.verdict == measure::Verdict::Reproduced)
            .count();
        let measured = rows
            .iter()
            .filter(|r| r.verdict != measure::Verdict::NotMeasured)
            .count();
        println!(
            "\n{reproduced} of {measured} measured facts reproduced; wrote facts.csv and facts.md to {}",
            plan.out.display()
        );
    }
    Ok(())
}
