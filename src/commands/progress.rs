//! Progress bars and Ctrl-C: shared by every command that runs simulations.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

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
