//! Drawing a [`Figure`] with plotters: PNG (bitmap) or SVG by the file's extension, text in the
//! embedded DejaVu Sans (no fontconfig or system fonts needed). Files are written under a
//! temporary name and renamed into place when complete.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::crisp::Crisp;
use super::{Colour, Content, Figure, Heatmap, Panel, PlotError, Point, Series, XAxis, viridis};
use crate::config::Month;
use crate::output::atomic::write_atomic;

/// DejaVu Sans 2.37 (Bitstream Vera licence, `DejaVuSans.LICENSE.txt` beside it).
pub(super) static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Registers the embedded font once; false if it could not be parsed.
fn register_font() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
}

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Portable Network Graphics.
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

/// The format of an output path, from its extension.
pub fn format_of(path: &Path) -> Result<Format, PlotError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(PlotError::input(format!(
            "--out {}: the figure's format is chosen by the extension: .png or .svg",
            path.display()
        ))),
    }
}

fn rgb(c: Colour) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

const GRID: RGBColor = RGBColor(225, 225, 225);
const AXIS: RGBColor = RGBColor(90, 90, 90);
const ZERO: RGBColor = RGBColor(120, 120, 120);

/// Draws `figure` to `path` (PNG or SVG by extension) at `size` pixels, atomically.
pub fn render(figure: &Figure, path: &Path, size: (u32, u32)) -> Result<(), PlotError> {
    if !register_font() {
        return Err(PlotError::failed("the embedded font could not be loaded"));
    }
    let format = format_of(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| PlotError::input(format!("--out {}: not a file name", path.display())))?
        .to_string();
    std::fs::create_dir_all(&dir).map_err(|e| PlotError::failed(format!("{}: {e}", dir.display())))?;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                draw_figure(&root, figure).map_err(PlotError::failed)?;
                root.present().map_err(|e| PlotError::failed(format!("{e:?}")))?;
            }
            write_atomic(&dir, &name, svg.as_bytes())
                .map_err(|e| PlotError::failed(format!("{}: {e}", path.display())))?;
        }
        Format::Png => {
            // The encoder picks the format by extension, so the temporary name ends in .png.
            let mut builder = tempfile::Builder::new();
            let prefix = format!(".{name}.");
            builder.prefix(&prefix).suffix(".partial.png");
            // An ordinary file (0666 less the umask), as `File::create` would make.
            #[cfg(unix)]
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
            let temp = builder
                .tempfile_in(&dir)
                .map_err(|e| PlotError::failed(format!("{}: {e}", dir.display())))?;
            {
                let root = Crisp(BitMapBackend::new(temp.path(), size)).into_drawing_area();
                draw_figure(&root, figure).map_err(PlotError::failed)?;
                root.present()
                    .map_err(|e| PlotError::failed(format!("{}: {e:?}", path.display())))?;
            }
            temp.persist(path)
                .map_err(|e| PlotError::failed(format!("{}: {}", path.display(), e.error)))?;
        }
    }
    Ok(())
}

/// A linear f64 axis whose tick marks are given (plotters' own f64 axis picks its own).
#[derive(Debug, Clone)]
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

fn ticked(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Ticked {
    Ticked {
        lo: range.start,
        hi: range.end,
        ticks,
    }
}

impl Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f * f64::from(limit.1 - limit.0) + 1e-3).floor() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing failed: {e:?}")
}

fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(&BLACK)
}

/// Splits `names` into legend rows that fit `width` pixels.
fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[(String, Colour)],
    width: u32,
) -> Vec<Vec<usize>> {
    let style = font(15.0);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0u32;
    for (i, (name, _)) in names.iter().enumerate() {
        let w = area
            .estimate_text_size(name, &style)
            .map_or(8 * name.len() as u32, |s| s.0)
            + 28
            + 26;
        if used + w > width.saturating_sub(40) && !rows.last().is_some_and(Vec::is_empty) {
            rows.push(Vec::new());
            used = 0;
        }
        rows.last_mut().expect("a row").push(i);
        used += w;
    }
    rows
}

fn draw_figure<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let title_h = if fig.note.is_empty() { 44 } else { 66 };
    let rows = if fig.legend.is_empty() {
        Vec::new()
    } else {
        legend_rows(root, &fig.legend, w)
    };
    let legend_h = if rows.is_empty() {
        8
    } else {
        14 + 26 * rows.len() as u32
    };
    let (top, rest) = root.split_vertically(title_h);
    let (grid, bottom) = rest.split_vertically(h.saturating_sub(title_h + legend_h));

    top.draw(&Text::new(
        fig.title.clone(),
        (w as i32 / 2, 12),
        font(22.0).pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(err)?;
    if !fig.note.is_empty() {
        top.draw(&Text::new(
            fig.note.clone(),
            (w as i32 / 2, 42),
            font(14.0).color(&AXIS).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
    }

    let cells = grid.split_evenly((fig.rows, fig.cols));
    for (panel, area) in fig.panels.iter().zip(cells.iter()) {
        match &panel.content {
            Content::Lines { x, series, zero_line } => draw_lines(area, panel, x, series, *zero_line)?,
            Content::Heatmap(hm) => draw_heatmap(area, panel, hm)?,
        }
    }

    // The legend: centred rows of a line swatch and the name.
    let style = font(15.0);
    for (r, row) in rows.iter().enumerate() {
        let widths: Vec<u32> = row
            .iter()
            .map(|&i| bottom.estimate_text_size(&fig.legend[i].0, &style).map_or(80, |s| s.0) + 28)
            .collect();
        let total: u32 = widths.iter().sum::<u32>() + 26 * (row.len() as u32).saturating_sub(1);
        let mut x = (w.saturating_sub(total) / 2) as i32;
        let y = 8 + 26 * r as i32 + 9;
        for (k, &i) in row.iter().enumerate() {
            let (name, colour) = &fig.legend[i];
            bottom
                .draw(&Rectangle::new(
                    [(x, y - 8), (x + 22, y + 8)],
                    rgb(*colour).mix(0.18).filled(),
                ))
                .map_err(err)?;
            bottom
                .draw(&PathElement::new(
                    vec![(x, y), (x + 22, y)],
                    rgb(*colour).stroke_width(3),
                ))
                .map_err(err)?;
            bottom
                .draw(&Text::new(
                    name.clone(),
                    (x + 28, y),
                    style.pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
            x += widths[k] as i32 + 26;
        }
    }
    Ok(())
}

/// Ticks at "nice" steps (1, 2, 2.5, 5 × 10^k) covering [lo, hi], about `target` of them.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let span = (hi - lo).abs();
    if !(span.is_finite() && span > 0.0) {
        return (vec![lo], 1.0);
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= target as f64 + 1.0)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil();
    let mut ticks = Vec::new();
    let mut k = first;
    while k * step <= hi + step * 1e-9 && ticks.len() < 100 {
        let v = k * step;
        ticks.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        k += 1.0;
    }
    (ticks, step)
}

/// A tick label for `v` on an axis with tick spacing `step`: just enough decimals, scientific
/// notation for axes whose values are all below 10⁻³.
pub fn tick_label(v: f64, step: f64, largest: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if largest < 1e-3 {
        let digits = ((largest / step).log10().ceil() as i32).clamp(1, 4) as usize;
        return format!("{v:.digits$e}").replace("e-", "e−");
    }
    // The fewest decimals that write the step exactly (0.25 → 2, 50 → 0, 2.5 → 1).
    let decimals = (0..=8usize)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(8);
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') {
        s.replacen('-', "−", 1)
    } else {
        s
    }
}

/// A value printed in a heatmap cell: four significant digits.
fn cell_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() < 1e-3 {
        return format!("{v:.2e}");
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// Month ticks for ticks `lo..=hi` from `start`: the coarsest-first step that keeps at most
/// `max` labels, aligned to calendar months (Januaries for steps of a year or more).
pub fn month_ticks(start: Month, lo: i64, hi: i64, max: usize) -> Vec<f64> {
    let origin = Month::parse("0000-01").expect("a valid month");
    let at = |t: i64| {
        let abs = start.plus(t).ticks_since(origin);
        (abs.div_euclid(12), abs.rem_euclid(12))
    };
    for step in [1i64, 2, 3, 6, 12, 24, 36, 60, 120, 240, 600] {
        let ticks: Vec<f64> = (lo..=hi)
            .filter(|&t| {
                let (year, month) = at(t);
                if step < 12 {
                    month % step == 0
                } else {
                    month == 0 && year % (step / 12) == 0
                }
            })
            .map(|t| t as f64)
            .collect();
        if ticks.len() <= max.max(2) && !ticks.is_empty() {
            return ticks;
        }
    }
    vec![lo as f64]
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Range covering the values, with 6 % padding (0 included if `zero`).
fn value_range(values: impl Iterator<Item = f64>, zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(f64::MIN_POSITIVE) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.06;
    (lo - pad, hi + pad)
}

/// The contiguous runs of points that have a finite value (and, for bands, both ends).
fn segments(points: &[Point], band: bool) -> Vec<Vec<Point>> {
    let mut out: Vec<Vec<Point>> = vec![Vec::new()];
    for p in points {
        let ok = p.y.is_finite()
            && p.x.is_finite()
            && (!band || (p.low.and_then(finite).is_some() && p.high.and_then(finite).is_some()));
        if ok {
            out.last_mut().expect("a segment").push(*p);
        } else if !out.last().is_some_and(Vec::is_empty) {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Draws a panel's title in a strip at its top and returns the rest of the panel.
fn captioned<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = area.dim_in_pixel();
    let (top, body) = area.split_vertically(32);
    top.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 18),
        font(17.0).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(err)?;
    Ok(body)
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: &XAxis,
    series: &[Series],
    zero_line: bool,
) -> Result<(), String> {
    let area = &captioned(area, &panel.title)?;
    let (pw, ph) = area.dim_in_pixel();
    let all = series.iter().flat_map(|s| &s.points);
    let xs: Vec<f64> = all.clone().map(|p| p.x).filter(|v| v.is_finite()).collect();
    let (x0, x1) = match x {
        XAxis::Categories { names, .. } => (-0.5, names.len() as f64 - 0.5),
        _ => {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if !lo.is_finite() {
                (0.0, 1.0)
            } else if hi > lo {
                match x {
                    XAxis::Numeric { .. } => {
                        let pad = (hi - lo) * 0.04;
                        (lo - pad, hi + pad)
                    }
                    _ => (lo, hi),
                }
            } else {
                (lo - 0.5, hi + 0.5)
            }
        }
    };
    let (y0, y1) = value_range(all.flat_map(|p| [Some(p.y), p.low, p.high]).flatten(), zero_line);
    let (yticks, ystep) = nice_ticks(y0, y1, if ph > 300 { 6 } else { 4 });
    let largest = y0.abs().max(y1.abs());
    let ylabels: Vec<String> = yticks.iter().map(|&v| tick_label(v, ystep, largest)).collect();
    let label_style = font(13.0).color(&AXIS);
    let widest = ylabels
        .iter()
        .map(|l| {
            area.estimate_text_size(l, &label_style)
                .map_or(8 * l.len() as u32, |s| s.0)
        })
        .max()
        .unwrap_or(20);
    let max_x_labels = ((pw.saturating_sub(widest + 60)) / 78).max(2) as usize;
    let xticks: Vec<f64> = match x {
        XAxis::Months { start } => month_ticks(*start, x0.ceil() as i64, x1.floor() as i64, max_x_labels),
        XAxis::Ticks => nice_ticks(x0, x1, max_x_labels.min(6)).0,
        XAxis::Numeric { .. } => {
            let mut distinct: Vec<f64> = xs.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            if distinct.len() <= max_x_labels {
                distinct
            } else {
                nice_ticks(x0, x1, max_x_labels.min(6)).0
            }
        }
        XAxis::Categories { names, .. } => (0..names.len()).map(|i| i as f64).collect(),
    };
    let xstep = xticks.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    let xstep = if xstep.is_finite() { xstep } else { 1.0 };
    let xlargest = x0.abs().max(x1.abs());
    let x_desc = match x {
        XAxis::Months { .. } => None,
        other => Some(other.label().to_string()),
    };

    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_top(4)
        .margin_right(20)
        .x_label_area_size(if x_desc.is_some() { 50 } else { 32 })
        .y_label_area_size(widest + 34)
        .build_cartesian_2d(ticked(x0..x1, xticks.clone()), ticked(y0..y1, yticks.clone()))
        .map_err(err)?;
    let x_fmt = |v: &f64| match x {
        XAxis::Months { start } => start.plus(v.round() as i64).to_string(),
        XAxis::Categories { names, .. } => names.get(v.round() as usize).cloned().unwrap_or_default(),
        _ => tick_label(*v, xstep, xlargest),
    };
    let y_fmt = |v: &f64| tick_label(*v, ystep, largest);
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(label_style.clone())
        .axis_desc_style(font(14.0))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_desc(panel.y_label.clone());
    if let Some(d) = &x_desc {
        mesh.x_desc(d.clone());
    }
    mesh.draw().map_err(err)?;

    if zero_line {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x0, 0.0), (x1, 0.0)],
                ZERO.stroke_width(1),
            )))
            .map_err(err)?;
    }
    let categories = matches!(x, XAxis::Categories { .. });
    // On a categorical axis, series are set slightly apart so that their error bars do not
    // hide each other (the exported x is still the category).
    let dodged: Vec<Series> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let shift = if categories && series.len() > 1 {
                (i as f64 - (series.len() - 1) as f64 / 2.0) * (0.3 / series.len() as f64)
            } else {
                0.0
            };
            Series {
                points: s.points.iter().map(|p| Point { x: p.x + shift, ..*p }).collect(),
                ..s.clone()
            }
        })
        .collect();
    let series = &dodged;
    // Bands first (so that every line is drawn over every band), then lines.
    // Overlapping bands darken each other: the more series, the lighter each band.
    let banded = series
        .iter()
        .filter(|s| s.points.iter().any(|p| p.low.is_some()))
        .count();
    let alpha = (0.22 / (banded.max(1) as f64).sqrt()).max(0.08);
    for s in series {
        let c = rgb(s.colour);
        let alpha = if s.colour == super::BLACK { alpha * 0.7 } else { alpha };
        for seg in segments(&s.points, true) {
            if categories || seg.len() == 1 {
                for p in &seg {
                    let (lo, hi) = (p.low.unwrap_or(p.y), p.high.unwrap_or(p.y));
                    let cap = 0.08;
                    chart
                        .draw_series([
                            PathElement::new(vec![(p.x, lo), (p.x, hi)], c.stroke_width(2)),
                            PathElement::new(vec![(p.x - cap, lo), (p.x + cap, lo)], c.stroke_width(2)),
                            PathElement::new(vec![(p.x - cap, hi), (p.x + cap, hi)], c.stroke_width(2)),
                        ])
                        .map_err(err)?;
                }
                continue;
            }
            let mut outline: Vec<(f64, f64)> = seg.iter().map(|p| (p.x, p.high.unwrap_or(p.y))).collect();
            outline.extend(seg.iter().rev().map(|p| (p.x, p.low.unwrap_or(p.y))));
            chart
                .draw_series(std::iter::once(Polygon::new(outline, c.mix(alpha).filled())))
                .map_err(err)?;
        }
    }
    for s in series {
        let c = rgb(s.colour);
        for seg in segments(&s.points, false) {
            chart
                .draw_series(LineSeries::new(seg.iter().map(|p| (p.x, p.y)), c.stroke_width(2)))
                .map_err(err)?;
            if !matches!(x, XAxis::Months { .. } | XAxis::Ticks) || seg.len() == 1 {
                chart
                    .draw_series(seg.iter().map(|p| Circle::new((p.x, p.y), 4, c.filled())))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel, hm: &Heatmap) -> Result<(), String> {
    let area = &captioned(area, &panel.title)?;
    let (pw, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(pw.saturating_sub(110));
    let values: Vec<f64> = hm
        .cells
        .iter()
        .flatten()
        .flatten()
        .map(|p| p.y)
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let t = |v: f64| (v - lo) / (hi - lo);
    let (nx, ny) = (hm.xs.len(), hm.ys.len());
    let label_style = font(13.0).color(&AXIS);
    let widest = hm
        .ys
        .iter()
        .map(|l| {
            area.estimate_text_size(l, &label_style)
                .map_or(8 * l.len() as u32, |s| s.0)
        })
        .max()
        .unwrap_or(20);
    let mut chart = ChartBuilder::on(&main)
        .margin(8)
        .margin_top(22)
        .x_label_area_size(50)
        .y_label_area_size(widest + 34)
        .build_cartesian_2d(
            ticked(0.0..nx as f64, (0..nx).map(|i| i as f64 + 0.5).collect()),
            ticked(0.0..ny as f64, (0..ny).map(|i| i as f64 + 0.5).collect()),
        )
        .map_err(err)?;
    let x_fmt = |v: &f64| hm.xs.get(v.floor() as usize).cloned().unwrap_or_default();
    let y_fmt = |v: &f64| hm.ys.get(v.floor() as usize).cloned().unwrap_or_default();
    chart
        .configure_mesh()
        .disable_mesh()
        .axis_style(AXIS)
        .label_style(label_style.clone())
        .axis_desc_style(font(14.0))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc(hm.x_label.clone())
        .y_desc(hm.y_label.clone())
        .draw()
        .map_err(err)?;
    let show_values = nx * ny <= 100;
    for (r, row) in hm.cells.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (x, y) = (c as f64, r as f64);
            match cell {
                Some(p) if p.y.is_finite() => {
                    let colour = viridis(t(p.y));
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x, y), (x + 1.0, y + 1.0)],
                            rgb(colour).filled(),
                        )))
                        .map_err(err)?;
                    if show_values {
                        let ink = if t(p.y) < 0.6 { WHITE } else { BLACK };
                        chart
                            .draw_series(std::iter::once(Text::new(
                                cell_label(p.y),
                                (x + 0.5, y + 0.5),
                                font(14.0).color(&ink).pos(Pos::new(HPos::Center, VPos::Center)),
                            )))
                            .map_err(err)?;
                    }
                }
                _ => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x, y), (x + 1.0, y + 1.0)],
                            RGBColor(240, 240, 240).filled(),
                        )))
                        .map_err(err)?;
                }
            }
        }
    }
    // Colour scale.
    let (ticks, step) = nice_ticks(lo, hi, 5);
    let largest = lo.abs().max(hi.abs());
    let mut scale = ChartBuilder::on(&bar)
        .margin(8)
        .margin_top(22)
        .margin_left(4)
        .margin_right(50)
        .x_label_area_size(50)
        .y_label_area_size(0)
        .build_cartesian_2d(ticked(0.0..1.0, Vec::new()), ticked(lo..hi, ticks))
        .map_err(err)?;
    let steps = 64;
    scale
        .draw_series((0..steps).map(|i| {
            let a = lo + (hi - lo) * i as f64 / steps as f64;
            let b = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], rgb(viridis(t((a + b) / 2.0))).filled())
        }))
        .map_err(err)?;
    let bar_font = font(12.0).color(&AXIS).pos(Pos::new(HPos::Left, VPos::Center));
    scale
        .draw_series(
            nice_ticks(lo, hi, 5).0.into_iter().map(|v| {
                EmptyElement::at((1.0, v)) + Text::new(tick_label(v, step, largest), (5, 0), bar_font.clone())
            }),
        )
        .map_err(err)?;
    bar.draw(&Text::new(
        panel.y_label.clone(),
        (4, 2),
        font(12.0).color(&AXIS).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_the_range() {
        let (t, s) = nice_ticks(1405.0, 1688.0, 5);
        assert_eq!(s, 50.0);
        assert_eq!(t.first(), Some(&1450.0));
        assert_eq!(t.last(), Some(&1650.0));
        assert_eq!(tick_label(1450.0, s, 1688.0), "1450");
        let (t, s) = nice_ticks(-0.0021, 0.0004, 5);
        assert_eq!(tick_label(t[0], s, 0.0021), "−0.0020");
        assert_eq!(tick_label(2.5e-5, 2.5e-5, 1e-4), "2.5e−5");
        assert_eq!(tick_label(7.5, 2.5, 10.0), "7.5");
        assert_eq!(tick_label(0.75, 0.25, 1.0), "0.75");
    }

    #[test]
    fn month_ticks_fall_on_calendar_boundaries() {
        let start = Month::parse("2026-01").unwrap();
        assert_eq!(month_ticks(start, 0, 119, 6), vec![0.0, 24.0, 48.0, 72.0, 96.0]);
        assert_eq!(month_ticks(start, 0, 23, 5), vec![0.0, 6.0, 12.0, 18.0]);
        assert!(format_of(Path::new("a.PNG")).is_ok() && format_of(Path::new("a.pdf")).is_err());
    }
}
