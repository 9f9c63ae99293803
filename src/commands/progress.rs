//! Progress bars and Ctrl-C: shared by every command that runs simulations.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::CommandError;
use crate::batch::{self, Job};
use crate::sim::Observer;

/// Whether to draw progress bars: only on a terminal and without `--quiet`.
pub fn show_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A progress bar over `len` steps of `unit` (e.g. "months", "runs"), or `None` when no bar
/// should be drawn.
pub fn bar(show: bool, len: u64, unit: &str) -> Option<indicatif::ProgressBar> {
    show.then(|| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} (eta {{eta}})"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    })
}

/// A flag set by Ctrl-C (installed once per process).
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = flag.clone();
        // If a handler cannot be installed (another one exists), Ctrl-C simply kills the
        // process; outputs are still never left looking complete.
        let _ = ctrlc::set_handler(move || handler_flag.store(true, std::sync::atomic::Ordering::SeqCst));
        flag
    })
    .clone()
}

/// Runs `jobs` on `threads` workers (None: all cores) with a progress bar over runs and Ctrl-C
/// handling, and returns each job's observer in job order. An interrupt writes nothing; a
/// failed run is reported with its seed.
pub fn run_observed<O: Observer + Default + Send>(
    jobs: &[Job],
    threads: Option<usize>,
    progress: bool,
) -> Result<Vec<O>, CommandError> {
    let pool = batch::pool(threads).map_err(CommandError::input)?;
    let progress = bar(progress, jobs.len() as u64, "runs");
    let stop = interrupt_flag();
    let results = batch::run_all_observed::<O>(&pool, jobs, &stop, &|| {
        if let Some(b) = &progress {
            b.inc(1);
        }
    });
    if let Some(b) = &progress {
        b.finish_and_clear();
    }
    if stop.load(Ordering::SeqCst) {
        return Err(CommandError::Interrupted("interrupted; nothing was written".into()));
    }
    results
        .into_iter()
        .zip(jobs)
        .map(|(r, job)| {
            r.map(|(o, _)| o)
                .map_err(|e| format!("seed {}: {e}", job.config.run.seed))
        })
        .collect::<Result<_, _>>()
        .map_err(CommandError::failed)
}
