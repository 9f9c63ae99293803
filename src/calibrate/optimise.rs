//! The search: a global stage, then Nelder–Mead (argmin) from its best point.
//!
//! The search works in unit coordinates: parameter i at u_i ∈ [0, 1] is
//! `lower_i + u_i · (upper_i − lower_i)`.
//!
//! 1. **Global stage.** The start (the file's `start` values, or the base config's) and
//!    `global_points` points of a Latin hypercube over the box (`crate::sweep::design::lhs`, a
//!    pure function of the calibration's seed) are evaluated as one batch, in parallel.
//! 2. **First simplex.** From the best of them, u₀, the simplex u₀, u₀ ± step·e_i (+ unless
//!    that leaves the box) is evaluated as one batch, in parallel.
//! 3. **Local stage.** argmin's Nelder–Mead (standard coefficients 1, 2, ½, ½) from that
//!    simplex. Nelder–Mead is unconstrained: a vertex u outside the box is simulated at its
//!    projection c = clamp(u) and its objective is J(c) + (1 + J(c))·1000·‖u − c‖², continuous
//!    and rising away from the box, so the simplex comes back and an estimate on a bound is
//!    found on it. It stops when the standard deviation of the simplex's objective values falls
//!    below `tolerance`, after `max_iterations` iterations, or when the budget of
//!    `max_evaluations` distinct parameter vectors is spent.
//!
//! Every evaluation goes through [`Search::request`], which serves a vector simulated before
//! (in this session, or in an earlier one from the journal) without simulating it again. The
//! strategy is deterministic given the objective values, so a resumed calibration replays the
//! same sequence of requests, gets the same answers from the journal, and continues exactly
//! where the killed one stopped. The estimate is the evaluation with the lowest objective of
//! all (the earliest on a tie).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use argmin::core::{CostFunction, Executor, State, TerminationReason};
use argmin::solver::neldermead::NelderMead;

use super::error::CalibrateError;
use super::evaluate::{self, Evaluation, bits};
use super::spec::Calibration;
use crate::output::format_number;
use crate::sweep::design::{self, Coord, Dim};

/// Penalty per squared unit distance outside the box (times 1 + J).
const OUTSIDE_PENALTY: f64 = 1000.0;

/// Which stage first asked for an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The start point.
    Start,
    /// A Latin-hypercube point of the global stage.
    Global,
    /// A corner of the first simplex.
    Simplex,
    /// A Nelder–Mead step.
    Local,
    /// A point around a converged estimate for its standard errors (`uncertainty`): outside
    /// the budget, and never the estimate.
    Jacobian,
}

impl Stage {
    /// The name written in evaluations.csv.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Start => "start",
            Stage::Global => "global",
            Stage::Simplex => "simplex",
            Stage::Local => "local",
            Stage::Jacobian => "jacobian",
        }
    }
}

/// One distinct evaluation, in the order it was first requested.
#[derive(Debug, Clone)]
pub struct Record {
    /// The stage that first asked for it.
    pub stage: Stage,
    /// Its replicates.
    pub eval: Evaluation,
    /// Its objective (infinite when a replicate failed).
    pub objective: f64,
}

/// Why the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The simplex's objective values agree within `tolerance`.
    Converged,
    /// `max_iterations` Nelder–Mead iterations.
    MaxIterations,
    /// `max_evaluations` distinct evaluations.
    MaxEvaluations,
}

impl Termination {
    /// The text written to best.json and the manifest.
    pub fn text(self) -> &'static str {
        match self {
            Termination::Converged => {
                "converged: the standard deviation of the simplex's objective values fell below optimiser.tolerance"
            }
            Termination::MaxIterations => "stopped after optimiser.max_iterations Nelder–Mead iterations",
            Termination::MaxEvaluations => "stopped: the budget of optimiser.max_evaluations evaluations is spent",
        }
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::MaxIterations => "max_iterations",
            Termination::MaxEvaluations => "max_evaluations",
        }
    }
}

/// Why a request was not answered.
#[derive(Debug, thiserror::Error)]
pub enum Halt {
    /// The budget is spent.
    #[error("the evaluation budget is spent")]
    Budget,
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// Reading or writing failed.
    #[error(transparent)]
    Failed(#[from] CalibrateError),
}

/// The progress bar: evaluations of the budget, and the best objective so far.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A bar over `budget` evaluations (`draw`: draw it).
    pub fn new(draw: bool, budget: u64) -> Progress {
        let bar = draw.then(|| {
            let bar = indicatif::ProgressBar::new(budget);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} evaluations ({per_sec}) {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress { bar }
    }

    fn show(&self, done: usize, best: f64) {
        if let Some(b) = &self.bar {
            b.set_position(done as u64);
            if best.is_finite() {
                b.set_message(format!("best objective {}", format_number(best)));
            }
        }
    }

    fn tick(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The evaluations of a calibration: cache, journal replay, budget, parallel batches.
pub struct Search<'a> {
    cal: &'a Calibration,
    pool: &'a rayon::ThreadPool,
    journal: PathBuf,
    stop: &'a AtomicBool,
    progress: &'a Progress,
    /// Evaluations of earlier sessions not yet requested in this one.
    journaled: HashMap<Vec<u64>, Evaluation>,
    /// Parameter bits → index into `records`.
    index: HashMap<Vec<u64>, usize>,
    /// Every distinct evaluation, in first-request order.
    records: Vec<Record>,
    /// Evaluations simulated in this session.
    ran_now: u64,
    /// Lowest objective so far.
    best: f64,
}

impl<'a> Search<'a> {
    /// A search that replays `journaled` (from earlier sessions) before simulating anything.
    pub fn new(
        cal: &'a Calibration,
        pool: &'a rayon::ThreadPool,
        journal: PathBuf,
        journaled: HashMap<Vec<u64>, Evaluation>,
        stop: &'a AtomicBool,
        progress: &'a Progress,
    ) -> Search<'a> {
        Search {
            cal,
            pool,
            journal,
            stop,
            progress,
            journaled,
            index: HashMap::new(),
            records: Vec::new(),
            ran_now: 0,
            best: f64::INFINITY,
        }
    }

    /// Every distinct evaluation, in first-request order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Evaluations simulated in this session (the others were replayed from the journal).
    pub fn ran_now(&self) -> u64 {
        self.ran_now
    }

    fn push(&mut self, stage: Stage, eval: Evaluation) {
        let objective = eval.objective(self.cal);
        if objective < self.best {
            self.best = objective;
        }
        self.index.insert(bits(&eval.x), self.records.len());
        self.records.push(Record { stage, eval, objective });
    }

    /// The objectives of `xs`, simulating (in parallel) those not evaluated before. Within the
    /// budget, vectors are taken in order; when it runs out the ones within it are kept and
    /// [`Halt::Budget`] returned.
    pub fn request(&mut self, xs: &[Vec<f64>], stage: Stage) -> Result<Vec<f64>, Halt> {
        let budget = if stage == Stage::Jacobian {
            usize::MAX
        } else {
            self.cal.optimiser.max_evaluations as usize
        };
        let mut new: Vec<Vec<f64>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut over = false;
        for x in xs {
            let key = bits(x);
            if self.index.contains_key(&key) || !seen.insert(key) {
                continue;
            }
            if self.records.len() + new.len() >= budget {
                over = true;
                break;
            }
            new.push(x.clone());
        }
        // Replayed evaluations keep their place in the order; the rest run as one batch.
        let pending: Vec<Vec<f64>> = new
            .iter()
            .filter(|x| !self.journaled.contains_key(&bits(x)))
            .cloned()
            .collect();
        // Only asked when something must run: Nelder–Mead's first call (on the cached simplex)
        // must not fail.
        if !pending.is_empty() && self.stop.load(Ordering::SeqCst) {
            return Err(Halt::Interrupted);
        }
        let progress = self.progress;
        let ran = evaluate::evaluate_all(self.pool, self.cal, &pending, &self.journal, self.stop, &|| {
            progress.tick()
        })?;
        let mut ran: HashMap<Vec<u64>, Option<Evaluation>> = pending.iter().map(|x| bits(x)).zip(ran).collect();
        for x in &new {
            let key = bits(x);
            let eval = match self.journaled.remove(&key) {
                Some(e) => e,
                None => match ran.remove(&key).flatten() {
                    Some(e) => {
                        self.ran_now += 1;
                        e
                    }
                    None => return Err(Halt::Interrupted),
                },
            };
            self.push(stage, eval);
        }
        self.progress.show(self.records.len(), self.best);
        if over {
            return Err(Halt::Budget);
        }
        Ok(xs
            .iter()
            .map(|x| self.records[self.index[&bits(x)]].objective)
            .collect())
    }

    /// The parameter vector at unit coordinates `u` (clamped into the box).
    fn x_at(&self, u: &[f64]) -> Vec<f64> {
        self.cal
            .parameters
            .iter()
            .zip(u)
            .map(|(p, ui)| p.value_at(*ui))
            .collect()
    }
}

/// The objective as argmin sees it: unit coordinates in, penalised J out.
struct Objective<'s, 'r, 'a> {
    search: &'s RefCell<&'r mut Search<'a>>,
}

impl CostFunction for Objective<'_, '_, '_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let mut search = self.search.borrow_mut();
        let x = search.x_at(u);
        let j = search.request(&[x], Stage::Local).map_err(argmin::core::Error::new)?[0];
        let outside: f64 = u.iter().map(|ui| (ui - ui.clamp(0.0, 1.0)).powi(2)).sum();
        Ok(j + (1.0 + j) * OUTSIDE_PENALTY * outside)
    }
}

/// Runs the strategy. `Ok(termination)` when it ended by itself; `Err(Halt::Interrupted)` when
/// stopped (everything finished is journaled).
pub fn run(search: &mut Search) -> Result<Termination, Halt> {
    match stages(search) {
        Err(Halt::Budget) => Ok(Termination::MaxEvaluations),
        other => other,
    }
}

fn stages(search: &mut Search) -> Result<Termination, Halt> {
    let cal = search.cal;
    let o = &cal.optimiser;
    let k = cal.parameters.len();

    // 1. The start and the global points, one batch.
    let mut units: Vec<Vec<f64>> = vec![cal.parameters.iter().map(|p| p.unit_of(p.start)).collect()];
    let dims = vec![Dim::Continuous; k];
    for point in design::lhs(&dims, o.global_points as usize, cal.seed) {
        units.push(
            point
                .into_iter()
                .map(|c| match c {
                    Coord::Unit(u) => u,
                    Coord::Index(_) => unreachable!("continuous dimensions"),
                })
                .collect(),
        );
    }
    let xs: Vec<Vec<f64>> = units.iter().map(|u| search.x_at(u)).collect();
    search.request(&xs[..1], Stage::Start)?;
    let js = search.request(&xs, Stage::Global)?;
    // The best (the first of equals); the start if every evaluation failed.
    let mut best = 0;
    for (i, j) in js.iter().enumerate() {
        if *j < js[best] {
            best = i;
        }
    }
    let u0 = units[best].clone();

    // 2. The first simplex, one batch.
    let mut simplex = vec![u0.clone()];
    for i in 0..k {
        let mut v = u0.clone();
        v[i] = if v[i] + o.simplex_step <= 1.0 {
            v[i] + o.simplex_step
        } else {
            v[i] - o.simplex_step
        };
        simplex.push(v);
    }
    let corners: Vec<Vec<f64>> = simplex.iter().map(|u| search.x_at(u)).collect();
    search.request(&corners, Stage::Simplex)?;

    // 3. Nelder–Mead.
    let cell = RefCell::new(search);
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(o.tolerance)
        .map_err(|e| Halt::Failed(CalibrateError::Optimiser(e.to_string())))?;
    let result = Executor::new(Objective { search: &cell }, solver)
        .configure(|state| state.max_iters(o.max_iterations))
        .run();
    match result {
        Ok(res) => Ok(match res.state().get_termination_reason() {
            Some(TerminationReason::SolverConverged) => Termination::Converged,
            Some(TerminationReason::MaxItersReached) => Termination::MaxIterations,
            other => {
                return Err(Halt::Failed(CalibrateError::Optimiser(format!(
                    "Nelder–Mead ended for an unexpected reason: {other:?}"
                ))));
            }
        }),
        Err(e) => match e.downcast::<Halt>() {
            Ok(Halt::Budget) => Ok(Termination::MaxEvaluations),
            Ok(other) => Err(other),
            Err(e) => Err(Halt::Failed(CalibrateError::Optimiser(e.to_string()))),
        },
    }
}
