//! Figures from output directories: what is drawn, before any pixel.
//!
//! 1. a run: one panel per metric (default: the four HHIs in a 2×2 grid);
//! 2. a sweep's summary: one line per point with its 95 % band, one panel per metric;
//! 3. a comparison: per quantity, the base's and the scenarios' trajectories with bands (top
//!    row) and the paired difference with its band (bottom row);
//! 4. a sweep's response of a metric (final value or time average) to one axis (lines with 95 %
//!    bands over replicates, one per combination of the other axes) or two axes (heatmap).

use std::collections::HashMap;
use std::path::Path;

use super::read::{self, Kind, SweepData};
use super::{BLACK, Content, Figure, Heatmap, Panel, PlotError, Point, Series, XAxis, series_colour};
use crate::config::{Market, Metric};
use crate::stats::{summarise, t975};

/// Which summary of a run a response plot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The value in the last month (runs.csv `final_<metric>`).
    Final,
    /// The mean over all months (runs.csv `mean_<metric>`).
    Average,
}

impl Window {
    /// Parses `final` or `average`.
    pub fn parse(s: &str) -> Result<Window, PlotError> {
        match s {
            "final" => Ok(Window::Final),
            "average" => Ok(Window::Average),
            _ => Err(PlotError::input(format!(
                "--window must be final or average, got {s:?}"
            ))),
        }
    }

    fn column(self, metric: Metric) -> String {
        match self {
            Window::Final => format!("final_{}", metric.name()),
            Window::Average => format!("mean_{}", metric.name()),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Window::Final => "final value",
            Window::Average => "time average",
        }
    }
}

/// What to plot, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Metrics (or compare quantities); empty: the four HHIs.
    pub metrics: Vec<String>,
    /// Window of a response plot (default final).
    pub window: Option<Window>,
    /// Swept axis on x (a response plot).
    pub x: Option<String>,
    /// Second swept axis (a heatmap).
    pub y: Option<String>,
}

/// The figure for `dir` with `options`; every problem with the input is a [`PlotError::Input`].
pub fn figure(dir: &Path, options: &Options) -> Result<Figure, PlotError> {
    let kind = read::detect(dir)?;
    if options.y.is_some() && options.x.is_none() {
        return Err(PlotError::input(
            "--y needs --x: a heatmap has a swept axis on each side",
        ));
    }
    if options.x.is_some() && kind != Kind::Sweep {
        return Err(PlotError::input(format!(
            "--x makes a response plot of a sweep directory, but {} is a {} directory",
            dir.display(),
            kind.name()
        )));
    }
    if options.window.is_some() && options.x.is_none() {
        return Err(PlotError::input(
            "--window applies to response plots of a sweep (with --x); trajectories show every month",
        ));
    }
    match kind {
        Kind::Run => run_figure(dir, options),
        Kind::Compare => compare_figure(dir, options),
        Kind::Sweep if options.x.is_some() => response_figure(dir, options),
        Kind::Sweep => sweep_figure(dir, options),
    }
}

/// The metrics asked for (default: the four HHIs), each checked against the catalogue.
fn metrics(names: &[String]) -> Result<Vec<Metric>, PlotError> {
    if names.is_empty() {
        return Ok(Market::headline().map(Metric::hhi).collect());
    }
    names
        .iter()
        .map(|n| {
            Metric::from_name(n).ok_or_else(|| {
                PlotError::input(format!(
                    "unknown metric {n:?}; valid metrics: {}",
                    Metric::names().join(", ")
                ))
            })
        })
        .collect()
}

/// Rows × columns for `n` panels.
fn grid(n: usize) -> (usize, usize) {
    match n {
        0 | 1 => (1, 1),
        2 => (1, 2),
        3 => (1, 3),
        4 => (2, 2),
        5 | 6 => (2, 3),
        7..=9 => (3, 3),
        _ => (n.div_ceil(4), 4),
    }
}

/// The vertical axis title of a metric: its unit (HHIs say so).
fn unit_label(name: &str, unit: &str) -> String {
    if name.starts_with("hhi_") {
        format!("HHI ({unit})")
    } else {
        unit.to_string()
    }
}

/// The unit of a compare quantity: a metric's own; `rent.<provider>` is a share of enterprise AI
/// spend; `profit.<owner>` and the surplus series at the base's prices (`…_at_base_musd`) are
/// US$ M per month.
fn quantity_unit(name: &str) -> &'static str {
    match Metric::from_name(name) {
        Some(m) => m.unit(),
        None if name.starts_with("profit.") || name.ends_with("_musd") => "US$ M per month",
        None => "fraction of enterprise AI spend",
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn run_figure(dir: &Path, options: &Options) -> Result<Figure, PlotError> {
    let data = read::run(dir)?;
    let metrics = metrics(&options.metrics)?;
    let mut panels = Vec::new();
    for m in &metrics {
        let Some((_, values)) = data.columns.iter().find(|(n, _)| n == m.name()) else {
            return Err(PlotError::input(format!(
                "{}/metrics.csv has no column {}",
                dir.display(),
                m.name()
            )));
        };
        let points = data
            .ticks
            .iter()
            .zip(values)
            .map(|(&x, &y)| Point {
                x,
                y,
                low: None,
                high: None,
            })
            .collect();
        panels.push(Panel {
            id: m.name().to_string(),
            title: m.name().to_string(),
            y_label: unit_label(m.name(), m.unit()),
            content: Content::Lines {
                x: XAxis::Months { start: data.start },
                series: vec![Series {
                    name: "run".into(),
                    colour: series_colour(0, 1),
                    points,
                }],
                zero_line: false,
            },
        });
    }
    let (rows, cols) = grid(panels.len());
    let mut title = format!("Run {}", dir.display());
    if let (Some(n), Some(seed)) = (data.enterprises, data.seed) {
        title.push_str(&format!(": {} enterprises, seed {seed}", thousands(n)));
    }
    Ok(Figure {
        title,
        note: String::new(),
        rows,
        cols,
        panels,
        legend: Vec::new(),
    })
}

fn sweep_title(data: &SweepData) -> String {
    match &data.name {
        Some(n) => format!("Sweep {n}"),
        None => format!("Sweep {}", data.dir.display()),
    }
}

fn sweep_figure(dir: &Path, options: &Options) -> Result<Figure, PlotError> {
    let data = read::sweep(dir)?;
    let summaries = read::summaries(dir)?;
    let metrics = metrics(&options.metrics)?;
    let x = data.start.map_or(XAxis::Ticks, |start| XAxis::Months { start });
    let labels: Vec<String> = (0..data.points).map(|p| data.point_label(p)).collect();
    let colours: Vec<_> = (0..data.points).map(|p| series_colour(p, data.points)).collect();
    let mut panels = Vec::new();
    for m in &metrics {
        let series: Vec<Series> = (0..data.points)
            .filter_map(|p| {
                summaries.get(&(p, m.name().to_string())).map(|points| Series {
                    name: labels[p].clone(),
                    colour: colours[p],
                    points: points.clone(),
                })
            })
            .collect();
        if series.is_empty() {
            return Err(PlotError::input(format!(
                "{}/summary.csv has no rows for {} (no point finished?)",
                dir.display(),
                m.name()
            )));
        }
        panels.push(Panel {
            id: m.name().to_string(),
            title: m.name().to_string(),
            y_label: unit_label(m.name(), m.unit()),
            content: Content::Lines {
                x: x.clone(),
                series,
                zero_line: false,
            },
        });
    }
    let (rows, cols) = grid(panels.len());
    let reps = data
        .replicates
        .map_or(String::new(), |r| format!(" over {r} replicates"));
    Ok(Figure {
        title: format!("{}: mean per point{reps}", sweep_title(&data)),
        note: "bands: 95% confidence interval of the mean (Student t)".into(),
        rows,
        cols,
        panels,
        legend: (0..data.points)
            .filter(|&p| summaries.contains_key(&(p, metrics[0].name().to_string())))
            .map(|p| (labels[p].clone(), colours[p]))
            .collect(),
    })
}

fn compare_figure(dir: &Path, options: &Options) -> Result<Figure, PlotError> {
    let data = read::compare(dir)?;
    let quantities: Vec<String> = if options.metrics.is_empty() {
        Market::headline().map(|m| Metric::hhi(m).name().to_string()).collect()
    } else {
        options.metrics.clone()
    };
    for q in &quantities {
        if !data.quantities.contains(q) {
            return Err(PlotError::input(format!(
                "unknown metric {q:?} in {}; valid quantities: {}",
                dir.display(),
                data.quantities.join(", ")
            )));
        }
    }
    let x = XAxis::Months { start: data.start };
    let n = data.scenarios.len();
    let colour = |i: usize| series_colour(i, n);
    let mut levels = Vec::new();
    let mut deltas = Vec::new();
    for q in &quantities {
        let mut level_series = Vec::new();
        let mut delta_series = Vec::new();
        for (i, s) in data.scenarios.iter().enumerate() {
            let Some(months) = data.months.get(&(s.clone(), q.clone())) else {
                continue;
            };
            if level_series.is_empty() {
                level_series.push(Series {
                    name: data.base.clone(),
                    colour: BLACK,
                    points: months.iter().map(|m| m.base).collect(),
                });
            }
            level_series.push(Series {
                name: s.clone(),
                colour: colour(i),
                points: months.iter().map(|m| m.scenario).collect(),
            });
            delta_series.push(Series {
                name: s.clone(),
                colour: colour(i),
                points: months.iter().map(|m| m.delta).collect(),
            });
        }
        let unit = quantity_unit(q);
        levels.push(Panel {
            id: q.clone(),
            title: q.clone(),
            y_label: unit_label(q, unit),
            content: Content::Lines {
                x: x.clone(),
                series: level_series,
                zero_line: false,
            },
        });
        deltas.push(Panel {
            id: format!("delta:{q}"),
            title: format!("Δ {q} (scenario − base)"),
            y_label: format!("Δ {}", unit_label(q, unit)),
            content: Content::Lines {
                x: x.clone(),
                series: delta_series,
                zero_line: true,
            },
        });
    }
    let cols = quantities.len();
    let mut legend = vec![(data.base.clone(), BLACK)];
    legend.extend(data.scenarios.iter().enumerate().map(|(i, s)| (s.clone(), colour(i))));
    let versus = if n == 1 {
        data.scenarios[0].clone()
    } else {
        format!("{n} scenarios")
    };
    Ok(Figure {
        title: format!("{versus} vs {}", data.base),
        note: format!(
            "{} paired replicates (common random numbers); bands: 95% confidence intervals; bottom row: paired difference",
            data.replicates
        ),
        rows: 2,
        cols,
        panels: levels.into_iter().chain(deltas).collect(),
        legend,
    })
}

/// Mean and 95 % interval of replicate values.
fn stats(values: &[f64]) -> Point {
    let n = values.len();
    let t = if n >= 2 { t975(n - 1) } else { f64::NAN };
    let s = summarise(values, t);
    Point {
        x: 0.0,
        y: s.mean.unwrap_or(f64::NAN),
        low: s.ci_low,
        high: s.ci_high,
    }
}

/// Distinct values of an axis in order: numerically sorted if all are numbers, else in order
/// of first appearance. Returns the values and whether they are numeric.
fn levels(values: &[String]) -> (Vec<String>, bool) {
    let mut distinct: Vec<String> = Vec::new();
    for v in values {
        if !distinct.contains(v) {
            distinct.push(v.clone());
        }
    }
    let numeric = distinct.iter().all(|v| v.parse::<f64>().is_ok_and(f64::is_finite));
    if numeric {
        distinct.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    }
    (distinct, numeric)
}

fn display_level(data: &SweepData, axis: usize, v: &str) -> String {
    if data.axes[axis].key == "scenario" {
        read::scenario_name(v)
    } else {
        v.to_string()
    }
}

fn response_figure(dir: &Path, options: &Options) -> Result<Figure, PlotError> {
    let data = read::sweep(dir)?;
    let xi = data.axis(options.x.as_deref().unwrap_or_default())?;
    let yi = options.y.as_deref().map(|y| data.axis(y)).transpose()?;
    if yi == Some(xi) {
        return Err(PlotError::input("--x and --y name the same axis"));
    }
    let metrics = metrics(&options.metrics)?;
    let window = options.window.unwrap_or(Window::Final);
    let runs = read::sweep_runs(dir)?;
    if runs.is_empty() {
        return Err(PlotError::input(format!(
            "{}/runs.csv has no finished run",
            dir.display()
        )));
    }
    let xaxis = &data.axes[xi];
    let (xs, numeric) = levels(&xaxis.values);
    let x_of = |p: usize| xs.iter().position(|v| *v == xaxis.values[p]).unwrap_or(0);
    let mut panels = Vec::new();
    let mut legend = Vec::new();
    for m in &metrics {
        let column = window.column(*m);
        let value = |r: &read::SweepRun| r.values.get(&column).copied();
        let content = if let Some(yi) = yi {
            let yaxis = &data.axes[yi];
            let (ys, _) = levels(&yaxis.values);
            let mut cells = vec![vec![Vec::new(); xs.len()]; ys.len()];
            for r in &runs {
                let row = ys.iter().position(|v| *v == yaxis.values[r.point]).unwrap_or(0);
                if let Some(v) = value(r) {
                    cells[row][x_of(r.point)].push(v);
                }
            }
            Content::Heatmap(Heatmap {
                x_label: xaxis.key.clone(),
                xs: xs.iter().map(|v| display_level(&data, xi, v)).collect(),
                y_label: yaxis.key.clone(),
                ys: ys.iter().map(|v| display_level(&data, yi, v)).collect(),
                cells: cells
                    .iter()
                    .map(|row| row.iter().map(|c| (!c.is_empty()).then(|| stats(c))).collect())
                    .collect(),
            })
        } else {
            // One line per combination of the other axes' values.
            let others: Vec<usize> = (0..data.axes.len()).filter(|&a| a != xi).collect();
            let group_of = |p: usize| -> String {
                others
                    .iter()
                    .map(|&a| {
                        let ax = &data.axes[a];
                        if ax.key == "scenario" {
                            read::scenario_name(&ax.values[p])
                        } else {
                            format!("{}={}", ax.short(), ax.values[p])
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut groups: Vec<String> = Vec::new();
            let mut values: HashMap<(String, usize), Vec<f64>> = HashMap::new();
            for p in 0..data.points {
                let g = group_of(p);
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
            for r in &runs {
                if let Some(v) = value(r) {
                    values.entry((group_of(r.point), x_of(r.point))).or_default().push(v);
                }
            }
            let series = groups
                .iter()
                .enumerate()
                .map(|(i, g)| Series {
                    name: if g.is_empty() { m.name().to_string() } else { g.clone() },
                    colour: series_colour(i, groups.len()),
                    points: (0..xs.len())
                        .filter_map(|c| {
                            values.get(&(g.clone(), c)).map(|v| Point {
                                x: if numeric {
                                    xs[c].parse().unwrap_or(f64::NAN)
                                } else {
                                    c as f64
                                },
                                ..stats(v)
                            })
                        })
                        .collect(),
                })
                .collect::<Vec<_>>();
            if legend.is_empty() && groups.len() > 1 {
                legend = series.iter().map(|s| (s.name.clone(), s.colour)).collect();
            }
            let x = if numeric {
                XAxis::Numeric {
                    label: xaxis.key.clone(),
                }
            } else {
                XAxis::Categories {
                    label: xaxis.key.clone(),
                    names: xs.iter().map(|v| display_level(&data, xi, v)).collect(),
                }
            };
            Content::Lines {
                x,
                series,
                zero_line: false,
            }
        };
        panels.push(Panel {
            id: m.name().to_string(),
            title: format!("{} ({})", m.name(), window.label()),
            y_label: unit_label(m.name(), m.unit()),
            content,
        });
    }
    let (rows, cols) = grid(panels.len());
    let (what, note) = match yi {
        Some(yi) => (
            format!("{} × {}", data.axes[xi].key, data.axes[yi].key),
            "cells: mean over the runs of the cell".to_string(),
        ),
        None => (
            data.axes[xi].key.clone(),
            "mean over replicates; bands and bars: 95% confidence interval of the mean (Student t)".to_string(),
        ),
    };
    Ok(Figure {
        title: format!("{}: response to {what}", sweep_title(&data)),
        note,
        rows,
        cols,
        panels,
        legend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_and_levels() {
        assert_eq!(grid(4), (2, 2));
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(11), (3, 4));
        let (v, numeric) = levels(&["4".into(), "2".into(), "4".into(), "10".into()]);
        assert_eq!(v, ["2", "4", "10"]);
        assert!(numeric);
        let (v, numeric) = levels(&["b".into(), "a".into()]);
        assert_eq!((v, numeric), (vec!["b".to_string(), "a".to_string()], false));
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn compare_quantities_carry_their_units() {
        assert_eq!(quantity_unit("hhi_cloud"), "0–10,000");
        assert_eq!(quantity_unit("rent.azure"), "fraction of enterprise AI spend");
        assert_eq!(quantity_unit("profit.alphabet"), "US$ M per month");
        assert_eq!(quantity_unit("total_welfare_at_base_musd"), "US$ M per month");
    }

    #[test]
    fn unknown_metrics_list_the_valid_ones() {
        let e = metrics(&["hhi_clouds".into()]).unwrap_err().to_string();
        assert!(e.contains("hhi_clouds") && e.contains("hhi_cloud,") && e.contains("mean_lab_dependency"));
    }
}
