//! Figures of aimarket outputs (`aimarket plot`): read a run, sweep or compare directory
//! ([`read`]), build a [`Figure`] — panels of series with confidence bands, or heatmaps —
//! ([`build`]), draw it to PNG or SVG with an embedded font ([`draw`]) and export the plotted
//! numbers as a tidy CSV ([`Figure::to_csv`]).
//!
//! The figure model is plain data, so what is drawn can be checked against the inputs without
//! looking at pixels: every number drawn is a row of the exported CSV.

pub mod build;
mod crisp;
pub mod draw;
pub mod read;

use crate::config::Month;
use crate::output::format_number;

/// Why a figure could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The input directory, a metric, an axis or an option is wrong; nothing was written.
    #[error("{0}")]
    Input(String),
    /// Drawing or writing failed.
    #[error("{0}")]
    Failed(String),
}

impl PlotError {
    pub(crate) fn input(e: impl std::fmt::Display) -> PlotError {
        PlotError::Input(e.to_string())
    }
    pub(crate) fn failed(e: impl std::fmt::Display) -> PlotError {
        PlotError::Failed(e.to_string())
    }
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

/// The Okabe–Ito palette (colour-blind safe), in the order series get them; black is kept for
/// a comparison's base and yellow, weak on white, comes last.
pub const OKABE_ITO: [Colour; 7] = [
    Colour(0x00, 0x72, 0xB2), // blue
    Colour(0xD5, 0x5E, 0x00), // vermillion
    Colour(0x00, 0x9E, 0x73), // bluish green
    Colour(0xE6, 0x9F, 0x00), // orange
    Colour(0xCC, 0x79, 0xA7), // reddish purple
    Colour(0x56, 0xB4, 0xE9), // sky blue
    Colour(0xF0, 0xE4, 0x42), // yellow
];

/// Black, for a base series.
pub const BLACK: Colour = Colour(0, 0, 0);

/// Viridis anchors (perceptually uniform, colour-blind safe), interpolated linearly.
const VIRIDIS: [Colour; 9] = [
    Colour(68, 1, 84),
    Colour(71, 44, 122),
    Colour(59, 81, 139),
    Colour(44, 113, 142),
    Colour(33, 144, 141),
    Colour(39, 173, 129),
    Colour(92, 200, 99),
    Colour(170, 220, 50),
    Colour(253, 231, 37),
];

/// The viridis colour at `t` in [0, 1].
pub fn viridis(t: f64) -> Colour {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + f * (f64::from(y) - f64::from(x))).round() as u8;
    Colour(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour of series `i` of `n`: Okabe–Ito while it lasts, else evenly spaced viridis colours.
pub fn series_colour(i: usize, n: usize) -> Colour {
    if n <= OKABE_ITO.len() {
        OKABE_ITO[i % OKABE_ITO.len()]
    } else {
        viridis(i as f64 / (n - 1).max(1) as f64 * 0.9)
    }
}

/// One plotted point: a value and, where known, its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Position on the x axis: a tick (month index), an axis value, or a category index.
    pub x: f64,
    /// The value (a mean over replicates, or a run's value).
    pub y: f64,
    /// Lower end of the band, if any.
    pub low: Option<f64>,
    /// Upper end of the band, if any.
    pub high: Option<f64>,
}

/// A line with an optional band.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name (also the `series` column of the CSV).
    pub name: String,
    /// Line and band colour.
    pub colour: Colour,
    /// Points in x order.
    pub points: Vec<Point>,
}

/// The x axis of a panel.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// Months from `start`: x is the tick; labels and the CSV show `YYYY-MM`.
    Months {
        /// Month of tick 0.
        start: Month,
    },
    /// Ticks without a calendar (a sweep without its manifest).
    Ticks,
    /// A numeric parameter.
    Numeric {
        /// Axis title.
        label: String,
    },
    /// Named categories at x = 0, 1, …
    Categories {
        /// Axis title.
        label: String,
        /// Category names.
        names: Vec<String>,
    },
}

impl XAxis {
    /// The x value as written in the CSV.
    pub fn format(&self, x: f64) -> String {
        match self {
            XAxis::Months { start } => start.plus(x.round() as i64).to_string(),
            XAxis::Ticks | XAxis::Numeric { .. } => format_number(x),
            XAxis::Categories { names, .. } => names.get(x.round() as usize).cloned().unwrap_or_default(),
        }
    }

    /// The axis title.
    pub fn label(&self) -> &str {
        match self {
            XAxis::Months { .. } => "month",
            XAxis::Ticks => "month index",
            XAxis::Numeric { label } | XAxis::Categories { label, .. } => label,
        }
    }
}

/// A grid of cell means over two categorical axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Horizontal axis title and its values (columns).
    pub x_label: String,
    /// Column names.
    pub xs: Vec<String>,
    /// Vertical axis title.
    pub y_label: String,
    /// Row names (bottom to top).
    pub ys: Vec<String>,
    /// Cell statistics, `cells[row][column]`; `None`: no finished run.
    pub cells: Vec<Vec<Option<Point>>>,
}

/// What a panel shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Lines with bands over an x axis.
    Lines {
        /// The x axis.
        x: XAxis,
        /// The lines.
        series: Vec<Series>,
        /// Draw a horizontal line at 0 (paired differences).
        zero_line: bool,
    },
    /// A heatmap.
    Heatmap(Heatmap),
}

/// One panel of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Identifier written in the CSV `panel` column (e.g. `hhi_cloud`, `delta:hhi_cloud`).
    pub id: String,
    /// Title drawn above the panel.
    pub title: String,
    /// Vertical axis title (or the colour scale's, for a heatmap), with its unit.
    pub y_label: String,
    /// The panel's content.
    pub content: Content,
}

/// A figure: a title, a grid of panels and a legend shared by them.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title drawn at the top.
    pub title: String,
    /// One line under the title (what the bands are, replicates), may be empty.
    pub note: String,
    /// Panel rows.
    pub rows: usize,
    /// Panel columns.
    pub cols: usize,
    /// Panels, row by row.
    pub panels: Vec<Panel>,
    /// Legend entries (name, colour), drawn once below the panels.
    pub legend: Vec<(String, Colour)>,
}

impl Figure {
    /// The plotted numbers as a tidy CSV: `panel, series, x, y, y_low, y_high` (a heatmap cell:
    /// series = `<row axis>=<row value>`, x = the column value).
    pub fn to_csv(&self) -> Result<Vec<u8>, String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["panel", "series", "x", "y", "y_low", "y_high"])
            .map_err(|e| e.to_string())?;
        let opt = |v: Option<f64>| v.filter(|v| v.is_finite()).map(format_number).unwrap_or_default();
        let num = |v: f64| if v.is_finite() { format_number(v) } else { String::new() };
        for p in &self.panels {
            match &p.content {
                Content::Lines { x, series, .. } => {
                    for s in series {
                        for pt in &s.points {
                            w.write_record([
                                p.id.clone(),
                                s.name.clone(),
                                x.format(pt.x),
                                num(pt.y),
                                opt(pt.low),
                                opt(pt.high),
                            ])
                            .map_err(|e| e.to_string())?;
                        }
                    }
                }
                Content::Heatmap(h) => {
                    for (r, row) in h.cells.iter().enumerate() {
                        for (c, cell) in row.iter().enumerate() {
                            let Some(pt) = cell else { continue };
                            w.write_record([
                                p.id.clone(),
                                format!("{}={}", h.y_label, h.ys[r]),
                                h.xs[c].clone(),
                                num(pt.y),
                                opt(pt.low),
                                opt(pt.high),
                            ])
                            .map_err(|e| e.to_string())?;
                        }
                    }
                }
            }
        }
        w.into_inner().map_err(|e| e.to_string())
    }

    /// A default size in pixels for the panel grid.
    pub fn default_size(&self) -> (u32, u32) {
        let heatmap = self.panels.iter().any(|p| matches!(p.content, Content::Heatmap(_)));
        let (pw, ph) = if heatmap { (560, 440) } else { (480, 340) };
        let w = (pw * self.cols as u32 + 40).max(720);
        // Legend rows as the drawing packs them (about 8.5 px per character at 15 px).
        let mut legend_rows = usize::from(!self.legend.is_empty());
        let mut used = 0.0;
        for (name, _) in &self.legend {
            let entry = name.chars().count() as f64 * 8.5 + 54.0;
            if used > 0.0 && used + entry > f64::from(w) - 40.0 {
                legend_rows += 1;
                used = 0.0;
            }
            used += entry;
        }
        let h = ph * self.rows as u32 + 90 + 28 * legend_rows as u32;
        (w, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_and_viridis_ends() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        assert_eq!(viridis(1.0), VIRIDIS[8]);
        assert_eq!(series_colour(1, 3), OKABE_ITO[1]);
        assert_ne!(series_colour(0, 20), series_colour(19, 20));
    }

    #[test]
    fn csv_has_one_row_per_point_with_dates() {
        let fig = Figure {
            title: String::new(),
            note: String::new(),
            rows: 1,
            cols: 1,
            panels: vec![Panel {
                id: "hhi_cloud".into(),
                title: "hhi_cloud".into(),
                y_label: String::new(),
                content: Content::Lines {
                    x: XAxis::Months {
                        start: Month::parse("2026-11").unwrap(),
                    },
                    series: vec![Series {
                        name: "base".into(),
                        colour: BLACK,
                        points: vec![
                            Point {
                                x: 0.0,
                                y: 1.5,
                                low: Some(1.0),
                                high: Some(2.0),
                            },
                            Point {
                                x: 2.0,
                                y: 0.1,
                                low: None,
                                high: None,
                            },
                        ],
                    }],
                    zero_line: false,
                },
            }],
            legend: vec![],
        };
        let csv = String::from_utf8(fig.to_csv().unwrap()).unwrap();
        assert_eq!(
            csv,
            "panel,series,x,y,y_low,y_high\nhhi_cloud,base,2026-11,1.5,1,2\nhhi_cloud,base,2027-01,0.1,,\n"
        );
    }
}
