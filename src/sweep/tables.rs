//! The sweep's output tables: points.csv, runs.csv, summary.csv and trajectories.csv — their
//! rows as typed records, their headers, appending to them, and finding how much of an existing
//! table can be kept on resume.
//!
//! Rows are `Serialize` structs. The per-metric columns (`final_<metric>`, `mean_<metric>`, one
//! per metric in trajectories.csv) are a [`PerMetric`], which serialises one field per
//! [`Metric`] in column order, and the headers name the same columns from the same enum, so the
//! two cannot drift apart. csv's serde support cannot derive a header for a record containing
//! a nested container (a struct or tuple inside a struct), so every header is written here as a
//! record of names and the rows are serialised with `has_headers(false)`; the fixed part of
//! each header is checked against the field names of its struct in the tests.
//!
//! Numbers are written with [`format_number`] (the shortest decimal that reads back as the same
//! f64, as everywhere else in aimarket), not csv's own float formatting.
//!
//! Each appended table keeps one `csv::Writer` open for the whole session. Appending is
//! line-oriented so that resume can work on bytes: [`Existing`] (and [`scan`] on it) walks the
//! complete lines of a table and [`Table::open`] truncates it to the part that is kept.
//!
//! Tables read back (on resume, and runs.csv on merge) are read by column name, found in the
//! file's header, never by position; a missing column is an error naming the file and the
//! column. [`RunsLayout`] reads runs.csv in the current layout or in an older one (without
//! `seed_hex`, which is then computed from `seed`).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};
use strum::EnumCount;

use super::error::SweepError;
use super::journal::RunRecord;
use super::spec::{Plan, value_text};
use crate::config::{Metric, MetricValues, Month};
use crate::output::atomic::write_atomic;
use crate::output::format_number;
use crate::sim::rng::seed_hex;
use crate::stats;

/// A number as aimarket writes it in every CSV file ([`format_number`]).
struct Num(f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_number(self.0))
    }
}

/// One column per [`Metric`], in column order; all empty when there are no values (a failed
/// run).
struct PerMetric<'a>(Option<&'a MetricValues>);

impl Serialize for PerMetric<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(Metric::COUNT)?;
        for m in Metric::all() {
            t.serialize_element(&self.0.map(|v| Num(v[m])))?;
        }
        t.end()
    }
}

/// The columns of runs.csv before the per-metric ones.
const RUN_COLUMNS: [&str; 8] = [
    "run",
    "point",
    "replicate",
    "seed",
    "seed_hex",
    "status",
    "error",
    "wall_seconds",
];

/// The fixed columns of a runs.csv row (see [`RUN_COLUMNS`]).
#[derive(Serialize)]
struct RunFields<'a> {
    run: u64,
    point: u64,
    replicate: u64,
    seed: u64,
    seed_hex: String,
    status: &'static str,
    error: Option<&'a str>,
    wall_seconds: Num,
}

/// A row of runs.csv: the run, then `final_<metric>` and `mean_<metric>` columns.
#[derive(Serialize)]
struct RunRow<'a>(RunFields<'a>, PerMetric<'a>, PerMetric<'a>);

impl<'a> RunRow<'a> {
    /// The row of a finished run; `means` receives the per-metric means over its ticks.
    fn new(rec: &'a RunRecord, replicates: u64, means: &'a mut MetricValues) -> RunRow<'a> {
        let last = rec.rows.last().filter(|_| rec.error.is_none());
        if last.is_some() {
            let ticks = rec.rows.len() as f64;
            for m in Metric::all() {
                means[m] = rec.rows.iter().map(|row| row[m]).sum::<f64>() / ticks;
            }
        }
        let fields = RunFields {
            run: rec.run,
            point: rec.run / replicates,
            replicate: rec.run % replicates,
            seed: rec.seed,
            seed_hex: seed_hex(rec.seed),
            status: if rec.error.is_none() { "ok" } else { "failed" },
            error: rec.error.as_deref(),
            wall_seconds: Num(rec.wall_seconds),
        };
        RunRow(fields, PerMetric(last), PerMetric(last.map(|_| &*means)))
    }
}

/// Header of runs.csv.
pub fn runs_header() -> Vec<String> {
    let mut h: Vec<String> = RUN_COLUMNS.map(String::from).to_vec();
    h.extend(Metric::all().map(|m| format!("final_{}", m.name())));
    h.extend(Metric::all().map(|m| format!("mean_{}", m.name())));
    h
}

/// The columns of summary.csv.
const SUMMARY_COLUMNS: [&str; 12] = [
    "point", "tick", "date", "metric", "n", "mean", "sd", "ci_low", "ci_high", "p05", "p50", "p95",
];

/// A row of summary.csv: one metric of one point in one tick, over the point's ok runs.
#[derive(Serialize)]
struct SummaryRow {
    point: u64,
    tick: usize,
    date: String,
    metric: &'static str,
    n: usize,
    mean: Option<Num>,
    sd: Option<Num>,
    ci_low: Option<Num>,
    ci_high: Option<Num>,
    p05: Option<Num>,
    p50: Option<Num>,
    p95: Option<Num>,
}

/// Header of summary.csv.
pub fn summary_header() -> Vec<String> {
    SUMMARY_COLUMNS.map(String::from).to_vec()
}

/// The columns of trajectories.csv before the per-metric ones.
const TRAJECTORY_COLUMNS: [&str; 3] = ["run", "tick", "date"];

/// The fixed columns of a trajectories.csv row.
#[derive(Serialize)]
struct TrajectoryKey {
    run: u64,
    tick: usize,
    date: String,
}

/// `YYYY-MM` of a tick from the point's first month (empty when it has none).
fn date(start: Option<Month>, tick: usize) -> String {
    start.map(|m| m.plus(tick as i64).to_string()).unwrap_or_default()
}

/// A row of trajectories.csv: a run's metrics in one tick.
#[derive(Serialize)]
struct TrajectoryRow<'a>(TrajectoryKey, PerMetric<'a>);

/// Header of trajectories.csv.
pub fn trajectories_header() -> Vec<String> {
    let mut h: Vec<String> = TRAJECTORY_COLUMNS.map(String::from).to_vec();
    h.extend(Metric::all().map(|m| m.name().to_string()));
    h
}

/// A row of points.csv: the point, its scenario (only with a scenario axis), then one value
/// per axis.
#[derive(Serialize)]
struct PointRow<'a> {
    point: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    scenario: Option<&'a str>,
    values: Vec<String>,
}

/// Header of points.csv: `point`, `scenario` (with a scenario axis), then every axis key.
pub fn points_header(plan: &Plan) -> Vec<String> {
    let mut h = vec!["point".to_string()];
    if plan.has_scenarios() {
        h.push("scenario".to_string());
    }
    h.extend(plan.axes.iter().map(|a| a.key.clone()));
    h
}

fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_writer(out)
}

/// A header (or any record) as the line it is written as (quoted as the csv crate quotes),
/// without the newline.
pub fn header_line(fields: &[String]) -> String {
    let mut w = writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_string()
}

/// Writes points.csv whole (atomically): it is a pure function of the plan.
pub fn write_points(out: &Path, plan: &Plan) -> Result<(), SweepError> {
    let path = out.join("points.csv");
    let fail = |e: csv::Error| SweepError::io("write", &path)(e.into());
    let mut w = writer(Vec::new());
    w.write_record(points_header(plan)).map_err(fail)?;
    for (id, p) in plan.points.iter().enumerate() {
        let row = PointRow {
            point: id,
            scenario: plan.has_scenarios().then(|| plan.scenario_name(p.start)),
            values: p.values.iter().map(value_text).collect(),
        };
        w.serialize(row).map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| SweepError::io("write", &path)(e.into_error()))?;
    write_atomic(out, "points.csv", &bytes).map_err(SweepError::io("write", &path))?;
    Ok(())
}

/// An output table open for appending.
pub struct Table {
    path: PathBuf,
    out: csv::Writer<File>,
}

impl Table {
    /// Opens a table for appending after truncating it to `keep` bytes (`None`: recreate it
    /// with its header).
    pub fn open(path: &Path, header: &[String], keep: Option<u64>) -> Result<Table, SweepError> {
        let fail = |e| SweepError::io("write", path)(e);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(fail)?;
        match keep {
            Some(len) => {
                file.set_len(len).map_err(fail)?;
                file.seek(SeekFrom::End(0)).map_err(fail)?;
            }
            None => file.set_len(0).map_err(fail)?,
        }
        let mut table = Table {
            path: path.to_path_buf(),
            out: writer(file),
        };
        if keep.is_none() {
            table.out.write_record(header).map_err(|e| table.fail(e.into()))?;
            table.flush()?;
        }
        Ok(table)
    }

    /// Appends one row (buffered; see [`Table::flush`]).
    fn write(&mut self, row: &impl Serialize) -> Result<(), SweepError> {
        self.out.serialize(row).map_err(|e| self.fail(e.into()))
    }

    /// Appends a run's row to runs.csv.
    pub fn write_run(&mut self, rec: &RunRecord, replicates: u64) -> Result<(), SweepError> {
        let mut means = MetricValues::default();
        self.write(&RunRow::new(rec, replicates, &mut means))
    }

    /// Appends a run's rows to trajectories.csv, one per tick.
    pub fn write_trajectory(&mut self, plan: &Plan, rec: &RunRecord) -> Result<(), SweepError> {
        let start = plan.point_start((rec.run / plan.replicates) as usize);
        for (tick, row) in rec.rows.iter().enumerate() {
            self.write(&TrajectoryRow(
                TrajectoryKey {
                    run: rec.run,
                    tick,
                    date: date(start, tick),
                },
                PerMetric(Some(row)),
            ))?;
        }
        Ok(())
    }

    /// Appends the summary rows of one point: for every tick and metric, statistics over the
    /// ok replicates (`runs`, one per-tick series each). A point without ok runs has no rows.
    pub fn write_summary(&mut self, plan: &Plan, point: u64, runs: &[Vec<MetricValues>]) -> Result<(), SweepError> {
        let Some(first) = runs.first() else { return Ok(()) };
        let start = plan.point_start(point as usize);
        let t = stats::t975(runs.len().saturating_sub(1));
        let mut values = Vec::with_capacity(runs.len());
        for tick in 0..first.len() {
            let date = date(start, tick);
            for m in Metric::all() {
                values.clear();
                values.extend(runs.iter().map(|rows| rows[tick][m]));
                let s = stats::summarise(&values, t);
                self.write(&SummaryRow {
                    point,
                    tick,
                    date: date.clone(),
                    metric: m.name(),
                    n: s.n,
                    mean: s.mean.map(Num),
                    sd: s.sd.map(Num),
                    ci_low: s.ci_low.map(Num),
                    ci_high: s.ci_high.map(Num),
                    p05: s.p05.map(Num),
                    p50: s.p50.map(Num),
                    p95: s.p95.map(Num),
                })?;
            }
        }
        Ok(())
    }

    /// Writes everything appended so far to the file.
    pub fn flush(&mut self) -> Result<(), SweepError> {
        self.out.flush().map_err(|e| self.fail(e))
    }

    fn fail(&self, e: std::io::Error) -> SweepError {
        SweepError::io("write", &self.path)(e)
    }
}

/// An existing table read back on resume: its header, parsed, and the complete lines after it.
/// Columns are found by name in the header, never by position.
pub struct Existing {
    path: PathBuf,
    reader: BufReader<File>,
    /// The header's column names.
    pub header: Vec<String>,
    /// Byte offset of the first line after the header.
    offset: u64,
}

impl Existing {
    /// Opens a table and reads its header; `None` when the file is missing or has no complete
    /// header line (start over).
    pub fn open(path: &Path) -> Result<Option<Existing>, SweepError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SweepError::io("read", path)(e)),
        };
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        reader
            .read_until(b'\n', &mut line)
            .map_err(SweepError::io("read", path))?;
        if line.last() != Some(&b'\n') {
            return Ok(None);
        }
        let header = parse_line(&String::from_utf8_lossy(&line[..line.len() - 1]))
            .map(|r| r.iter().map(String::from).collect())
            .unwrap_or_default();
        Ok(Some(Existing {
            path: path.to_path_buf(),
            reader,
            header,
            offset: line.len() as u64,
        }))
    }

    /// The table's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The position of the column `name`, or an error naming the table and the column.
    pub fn column(&self, name: &str) -> Result<usize, SweepError> {
        column(&self.header, name).ok_or_else(|| SweepError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
        })
    }

    /// Refuses the table unless its header is `header`, the layout rows are appended in.
    pub fn expect(&self, header: &[String]) -> Result<(), SweepError> {
        if let Some(missing) = header.iter().find(|h| !self.header.contains(h)) {
            return Err(SweepError::MissingColumn {
                path: self.path.clone(),
                column: missing.clone(),
            });
        }
        if self.header != header {
            return Err(SweepError::ForeignTable {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Walks the complete lines after the header, calling `visit(offset, line)`; stops where
    /// `visit` returns false or at a torn last line. Returns the byte offset where the kept
    /// part ends.
    pub fn walk(mut self, mut visit: impl FnMut(u64, &str) -> bool) -> Result<u64, SweepError> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(SweepError::io("read", &self.path))?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            let text = String::from_utf8_lossy(&line[..n - 1]);
            if !visit(self.offset, &text) {
                break;
            }
            self.offset += n as u64;
        }
        Ok(self.offset)
    }
}

/// Walks a table this session appends to (its header must be `header`) as [`Existing::walk`]
/// does, passing the number in column `key` of each line (`None` if it is not a number).
/// Returns the offset where the kept part ends, or `None` when the file is missing or has no
/// complete header (start over). For summary.csv and trajectories.csv, whose fields are never
/// quoted.
pub fn scan(
    path: &Path,
    header: &[String],
    key: &str,
    mut visit: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<Option<u64>, SweepError> {
    let Some(table) = Existing::open(path)? else {
        return Ok(None);
    };
    table.expect(header)?;
    let key = table.column(key)?;
    table
        .walk(|offset, line| visit(offset, line.split(',').nth(key).and_then(|f| f.parse().ok())))
        .map(Some)
}

/// The position of the column `name` in a header.
pub fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

/// One line of a table parsed as a CSV record (quoted fields included); `None` if it is not one.
pub fn parse_line(line: &str) -> Option<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => Some(rec),
        _ => None,
    }
}

/// Where a column of the current runs.csv layout comes from in a row of an existing runs.csv.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// The file's column.
    Column(usize),
    /// `seed_hex` computed from the file's `seed` column (a runs.csv written before `seed_hex`).
    SeedHex(usize),
}

/// The layout of an existing runs.csv, from its header by column name: where its `run` and
/// `status` columns are, and how a row of it becomes a row of the current layout. A runs.csv
/// whose header is the current one is kept as it is; one with the same columns in another order,
/// or without `seed_hex` (written before that column existed), is rewritten in the current
/// layout, `seed_hex` computed from `seed`. Any other missing column, or a column this version
/// does not write, refuses it.
#[derive(Debug)]
pub struct RunsLayout {
    /// Columns in the file.
    width: usize,
    /// Column of `run`.
    run: usize,
    /// Column of `status`.
    status: usize,
    /// For every column of [`runs_header`], its source; `None` when the file has the current
    /// header.
    convert: Option<Vec<Source>>,
}

/// Why a runs.csv header cannot be read back.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutError {
    /// A column this version needs is missing.
    Missing(String),
    /// A column this version does not write.
    Unknown(String),
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::Missing(c) => write!(f, "it has no column `{c}`"),
            LayoutError::Unknown(c) => write!(f, "it has a column `{c}` that this version of aimarket does not write"),
        }
    }
}

impl RunsLayout {
    /// The layout of a runs.csv with this header.
    pub fn of(header: &[String]) -> Result<RunsLayout, LayoutError> {
        let current = runs_header();
        if let Some(extra) = header.iter().find(|h| !current.contains(h)) {
            return Err(LayoutError::Unknown(extra.clone()));
        }
        let find = |name: &str| column(header, name).ok_or_else(|| LayoutError::Missing(name.to_string()));
        let sources = current
            .iter()
            .map(|name| match (column(header, name), name.as_str()) {
                (Some(c), _) => Ok(Source::Column(c)),
                (None, "seed_hex") => find("seed").map(Source::SeedHex),
                (None, _) => Err(LayoutError::Missing(name.clone())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RunsLayout {
            width: header.len(),
            run: find("run")?,
            status: find("status")?,
            convert: (header != current).then_some(sources),
        })
    }

    /// Whether rows must be rewritten to be in the current layout.
    pub fn converts(&self) -> bool {
        self.convert.is_some()
    }

    /// The run id of a complete row (`None`: not a complete row of this layout).
    pub fn run(&self, rec: &csv::StringRecord) -> Option<u64> {
        (rec.len() == self.width).then(|| rec[self.run].parse().ok()).flatten()
    }

    /// Whether the row's run is ok.
    pub fn ok(&self, rec: &csv::StringRecord) -> bool {
        &rec[self.status] == "ok"
    }

    /// The row as a line of the current layout, with its newline; `None` when the file has the
    /// current layout (its line is kept as it is) or the row has no number in `seed`.
    pub fn convert(&self, rec: &csv::StringRecord) -> Option<String> {
        let sources = self.convert.as_ref()?;
        let fields = sources
            .iter()
            .map(|s| match *s {
                Source::Column(c) => Some(rec[c].to_string()),
                Source::SeedHex(c) => rec[c].parse().ok().map(seed_hex),
            })
            .collect::<Option<Vec<String>>>()?;
        Some(header_line(&fields) + "\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header csv derives from a flat struct's field names.
    fn derived_header(row: &impl Serialize) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.serialize(row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_string()
    }

    fn line(row: &impl Serialize) -> String {
        let mut w = writer(Vec::new());
        w.serialize(row).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn record(error: Option<&str>, ticks: usize) -> RunRecord {
        let rows = (0..ticks)
            .map(|t| {
                let mut v = MetricValues::default();
                for (i, m) in Metric::all().enumerate() {
                    v[m] = (t * 100 + i) as f64 + 0.5;
                }
                v
            })
            .collect();
        RunRecord {
            run: 7,
            seed: 42,
            error: error.map(String::from),
            wall_seconds: 0.25,
            rows,
        }
    }

    #[test]
    fn fixed_columns_are_the_field_names_of_their_structs() {
        let run = RunFields {
            run: 0,
            point: 0,
            replicate: 0,
            seed: 0,
            seed_hex: String::new(),
            status: "ok",
            error: None,
            wall_seconds: Num(0.0),
        };
        assert_eq!(derived_header(&run), RUN_COLUMNS.join(","));
        let summary = SummaryRow {
            point: 0,
            tick: 0,
            date: String::new(),
            metric: "m",
            n: 0,
            mean: None,
            sd: None,
            ci_low: None,
            ci_high: None,
            p05: None,
            p50: None,
            p95: None,
        };
        assert_eq!(derived_header(&summary), SUMMARY_COLUMNS.join(","));
        assert_eq!(
            derived_header(&TrajectoryKey {
                run: 0,
                tick: 0,
                date: String::new()
            }),
            TRAJECTORY_COLUMNS.join(",")
        );
    }

    #[test]
    fn run_rows_fill_every_header_column_with_finals_and_means() {
        let rec = record(None, 2);
        let mut means = MetricValues::default();
        let text = line(&RunRow::new(&rec, 3, &mut means));
        let fields: Vec<&str> = text.trim_end().split(',').collect();
        let header = runs_header();
        assert_eq!(fields.len(), header.len());
        let at = |name: &str| fields[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(
            (at("run"), at("point"), at("replicate"), at("seed")),
            ("7", "2", "1", "42")
        );
        assert_eq!((at("status"), at("error"), at("wall_seconds")), ("ok", "", "0.25"));
        // Tick 1 is 100.5 + i, tick 0 is 0.5 + i: the final is tick 1, the mean halfway.
        assert_eq!(at("final_hhi_cloud"), "100.5");
        assert_eq!(at("mean_hhi_cloud"), "50.5");
        let last = Metric::all().last().unwrap();
        assert_eq!(
            at(&format!("final_{}", last.name())),
            format!("{}", 100.5 + (Metric::COUNT - 1) as f64)
        );
    }

    #[test]
    fn failed_run_rows_quote_the_message_and_leave_metrics_empty() {
        let rec = record(Some("bad \"x\", really"), 0);
        let mut means = MetricValues::default();
        let text = line(&RunRow::new(&rec, 1, &mut means));
        let expected = format!(
            "7,7,0,42,0x000000000000002a,failed,\"bad \"\"x\"\", really\",0.25{}\n",
            ",".repeat(2 * Metric::COUNT)
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn numbers_are_written_as_aimarket_writes_them_not_as_csv_would() {
        let mut v = MetricValues::default();
        v[Metric::HhiCloud] = 1.0;
        v[Metric::Cr1Cloud] = 1e21;
        v[Metric::Cr3Cloud] = 0.1 + 0.2;
        let key = TrajectoryKey {
            run: 1,
            tick: 2,
            date: date(Month::parse("2026-11").ok(), 2),
        };
        let text = line(&TrajectoryRow(key, PerMetric(Some(&v))));
        let fields: Vec<&str> = text.trim_end().split(',').collect();
        assert_eq!(fields.len(), trajectories_header().len());
        assert_eq!(
            &fields[..6],
            [
                "1",
                "2",
                "2027-01",
                "1",
                "1000000000000000000000",
                "0.30000000000000004"
            ]
        );
    }

    #[test]
    fn headers_are_derived_from_the_metric_enum() {
        let names: Vec<&str> = Metric::all().map(Metric::name).collect();
        let runs = runs_header();
        assert_eq!(runs.len(), RUN_COLUMNS.len() + 2 * names.len());
        assert_eq!(runs[RUN_COLUMNS.len()], format!("final_{}", names[0]));
        assert_eq!(runs[RUN_COLUMNS.len() + names.len()], format!("mean_{}", names[0]));
        assert_eq!(
            trajectories_header()[3..],
            names.iter().map(|n| n.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(header_line(&["1".into(), "a,b".into(), "x".into()]), "1,\"a,b\",x");
    }

    #[test]
    fn a_table_is_recreated_or_truncated_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let header = vec!["run".to_string(), "tick".to_string()];
        let mut t = Table::open(&path, &header, None).unwrap();
        t.write(&(1, 2)).unwrap();
        t.write(&(3, 4)).unwrap();
        t.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "run,tick\n1,2\n3,4\n");
        drop(t);
        let mut t = Table::open(&path, &header, Some(13)).unwrap();
        t.write(&(5, 6)).unwrap();
        drop(t);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "run,tick\n1,2\n5,6\n");
    }

    #[test]
    fn scan_stops_at_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n3,4\n5,").unwrap();
        let header = ["a".to_string(), "b".to_string()];
        let mut seen = Vec::new();
        let keep = scan(&path, &header, "b", |_, b| {
            seen.push(b);
            true
        })
        .unwrap();
        assert_eq!(seen, vec![Some(2), Some(4)]);
        assert_eq!(keep, Some(12));
        assert_eq!(
            scan(&dir.path().join("none.csv"), &header, "a", |_, _| true).unwrap(),
            None
        );
        let other = ["b".to_string(), "a".to_string()];
        assert!(matches!(
            scan(&path, &other, "a", |_, _| true),
            Err(SweepError::ForeignTable { .. })
        ));
        let wider = ["a".to_string(), "b".to_string(), "c".to_string()];
        let e = scan(&path, &wider, "a", |_, _| true).unwrap_err();
        assert!(matches!(&e, SweepError::MissingColumn { column, .. } if column == "c"));
        let text = e.to_string();
        assert!(text.contains("t.csv") && text.contains("no column `c`"), "{text}");
    }

    /// The row of `rec` parsed back into (column name → field).
    fn fields_by_name(text: &str) -> std::collections::HashMap<String, String> {
        let rec = parse_line(text.trim_end()).unwrap();
        runs_header().into_iter().zip(rec.iter().map(String::from)).collect()
    }

    #[test]
    fn seed_hex_is_the_seed_exactly_also_beyond_the_doubles() {
        let mut rec = record(None, 1);
        // Above 2^53 and odd: a double cannot hold it.
        rec.seed = (1u64 << 62) + 12_345_678_901;
        assert_ne!(rec.seed as f64 as u64, rec.seed);
        let mut means = MetricValues::default();
        let row = fields_by_name(&line(&RunRow::new(&rec, 3, &mut means)));
        let hex = &row["seed_hex"];
        assert_eq!(hex.len(), 18);
        assert!(hex.starts_with("0x"));
        assert_eq!(u64::from_str_radix(&hex[2..], 16).unwrap(), rec.seed);
        assert_eq!(row["seed"].parse::<u64>().unwrap(), rec.seed);
        assert_eq!(seed_hex(42), "0x000000000000002a");
        assert_eq!(seed_hex(u64::MAX), "0xffffffffffffffff");
    }

    #[test]
    fn runs_are_read_back_by_column_name_in_any_order_or_without_seed_hex() {
        let rec = record(Some("bad, really"), 0);
        let mut means = MetricValues::default();
        let current = line(&RunRow::new(&rec, 1, &mut means));
        let parsed = parse_line(current.trim_end()).unwrap();
        let header = runs_header();

        // The current layout: kept as it is.
        let layout = RunsLayout::of(&header).unwrap();
        assert!(!layout.converts());
        assert_eq!(layout.run(&parsed), Some(7));
        assert!(!layout.ok(&parsed));
        assert_eq!(layout.convert(&parsed), None);

        // The same columns reversed: found by name and rewritten in the current order.
        let reversed: Vec<String> = header.iter().rev().cloned().collect();
        let rev_rec: csv::StringRecord = parsed.iter().rev().collect();
        let layout = RunsLayout::of(&reversed).unwrap();
        assert!(layout.converts());
        assert_eq!(layout.run(&rev_rec), Some(7));
        assert!(!layout.ok(&rev_rec));
        assert_eq!(layout.convert(&rev_rec).unwrap(), current);

        // The layout before seed_hex: seed_hex is computed from seed.
        let hex = column(&header, "seed_hex").unwrap();
        let old_header: Vec<String> = header.iter().filter(|h| *h != "seed_hex").cloned().collect();
        let old_rec: csv::StringRecord = parsed
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != hex)
            .map(|(_, f)| f)
            .collect();
        let layout = RunsLayout::of(&old_header).unwrap();
        assert!(layout.converts());
        assert_eq!(layout.run(&old_rec), Some(7));
        assert_eq!(layout.convert(&old_rec).unwrap(), current);
        // A row that is not complete in its layout is not a run.
        assert_eq!(layout.run(&parsed), None);

        // A missing column (other than seed_hex) or an unknown one is named.
        let no_status: Vec<String> = header.iter().filter(|h| *h != "status").cloned().collect();
        assert_eq!(
            RunsLayout::of(&no_status).unwrap_err(),
            LayoutError::Missing("status".into())
        );
        let mut extra = header.clone();
        extra.push("colour".into());
        let e = RunsLayout::of(&extra).unwrap_err();
        assert_eq!(e, LayoutError::Unknown("colour".into()));
        assert!(e.to_string().contains("`colour`"));
    }
}
