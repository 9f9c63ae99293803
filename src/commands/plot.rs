//! `aimarket plot DIR`: a figure of a run, sweep or compare output directory, as PNG or SVG,
//! with the plotted numbers beside it as `<out>.csv` (`panel, series, x, y, y_low, y_high`).
//!
//! Planning reads the inputs and builds the whole figure (every bad directory, metric or axis is
//! reported before anything is written); executing draws it and writes both files atomically.

use std::path::{Path, PathBuf};

use super::CommandError;
use crate::output::atomic::write_atomic;
use crate::output::plot::build::{self, Options};
use crate::output::plot::draw::{format_of, render};
use crate::output::plot::read::{self, Kind};
use crate::output::plot::{Figure, PlotError};

/// A validated `plot`: the figure to draw and where.
#[derive(Debug, Clone)]
pub struct PlotPlan {
    /// The figure (read and checked).
    pub figure: Figure,
    /// Image path (`.png` or `.svg`).
    pub out: PathBuf,
    /// Size in pixels.
    pub size: (u32, u32),
    /// Print what was written.
    pub report: bool,
}

fn command_error(e: PlotError) -> CommandError {
    match e {
        PlotError::Input(m) => CommandError::BadInput(m),
        PlotError::Failed(m) => CommandError::Failed(m),
    }
}

/// The default image path for `dir`: `<dir>/figure_<kind>.png` (`figure_response.png` for a
/// response plot).
pub fn default_out(dir: &Path, response: bool) -> Result<PathBuf, CommandError> {
    let kind = read::detect(dir).map_err(command_error)?;
    let name = match kind {
        Kind::Sweep if response => "response",
        k => k.name(),
    };
    Ok(dir.join(format!("figure_{name}.png")))
}

impl PlotPlan {
    /// Reads `dir` and builds the figure; checks the output path and size. Nothing is written.
    pub fn new(
        dir: &Path,
        options: &Options,
        out: Option<PathBuf>,
        width: Option<u32>,
        height: Option<u32>,
        report: bool,
    ) -> Result<PlotPlan, CommandError> {
        let figure = build::figure(dir, options).map_err(command_error)?;
        let out = match out {
            Some(o) => o,
            None => default_out(dir, options.x.is_some())?,
        };
        format_of(&out).map_err(command_error)?;
        let (w, h) = figure.default_size();
        let size = (width.unwrap_or(w), height.unwrap_or(h));
        if size.0 < 200 || size.1 < 150 || size.0 > 20_000 || size.1 > 20_000 {
            return Err(CommandError::input(format!(
                "--width/--height must be 200–20000 × 150–20000 pixels, got {} × {}",
                size.0, size.1
            )));
        }
        Ok(PlotPlan {
            figure,
            out,
            size,
            report,
        })
    }

    /// The path of the exported data: the image path with `.csv` appended.
    pub fn csv_path(&self) -> PathBuf {
        let mut s = self.out.clone().into_os_string();
        s.push(".csv");
        PathBuf::from(s)
    }
}

/// Draws the figure and writes the image and its data.
pub fn execute(plan: &PlotPlan) -> Result<(), CommandError> {
    let csv = plan.figure.to_csv().map_err(CommandError::failed)?;
    render(&plan.figure, &plan.out, plan.size).map_err(command_error)?;
    let data = plan.csv_path();
    let dir = data
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write_atomic(dir, &name, &csv).map_err(|e| CommandError::failed(format!("{}: {e}", data.display())))?;
    if plan.report {
        eprintln!(
            "wrote {} ({} × {} px) and {}",
            plan.out.display(),
            plan.size.0,
            plan.size.1,
            data.display()
        );
    }
    Ok(())
}
