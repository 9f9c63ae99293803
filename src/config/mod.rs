//! Configuration: loading TOML, dotted-key overrides, validation and hashing.
//!
//! The flow is always file → `toml::Table` → overrides applied on the table → typed
//! [`Config`] (unknown keys rejected, the failing key named) → [`validate`]. Sweeps and events
//! reuse the same dotted-key machinery, so a key means the same thing everywhere.

pub mod bounds;
pub mod embedded;
pub mod events;
mod metric;
mod month;
pub mod scenario;
mod schema;
mod validate;

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use events::{SETTABLE_AT_RUNTIME_HELP, is_initial_condition};
pub use metric::{Market, Metric, MetricValues, Watched};
pub use month::Month;
pub use schema::*;
pub use validate::validate;

/// A configuration problem: where (file, key), and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file (or `--set` argument) the problem is in.
    pub file: String,
    /// Dotted key, empty when the problem is not tied to one key.
    pub key: String,
    /// What was found and what was expected.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.problem)
        } else {
            write!(f, "{}: {} {}", self.file, self.key, self.problem)
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub(crate) fn new(file: &str, key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            key: key.to_string(),
            problem: problem.into(),
        }
    }
}

/// Resolves a path given relative to another file's directory.
pub fn relative_to(file: &Path, path: &Path) -> std::path::PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        file.parent().unwrap_or(Path::new(".")).join(path)
    }
}

/// Reads a TOML file into a table, naming the file in every error. A file with
/// `extends = "other.toml"` (path relative to the file) is merged over that file: tables merge
/// key by key, values replace, and `events` are appended to the base's events. Scenarios use
/// this to change a baseline by events only.
pub fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    read_table_depth(path, 0, &mut Vec::new())
}

/// Where one event of a merged table was written: its file and its index in that file's
/// `[[events]]`. Validation numbers events in the merged list (a scenario's first event
/// follows its baseline's); errors are re-addressed to the file that holds the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOrigin {
    /// The file the event is written in.
    pub file: String,
    /// Its index among that file's events.
    pub index: usize,
}

/// As [`read_table`], with the origin of every event of the merged table, in order.
pub fn read_table_with_origins(path: &Path) -> Result<(toml::Table, Vec<EventOrigin>), ConfigError> {
    let mut origins = Vec::new();
    let table = read_table_depth(path, 0, &mut origins)?;
    Ok((table, origins))
}

/// Origins of the events of one file's own table, appended to `origins`.
fn push_origins(table: &toml::Table, file: &str, origins: &mut Vec<EventOrigin>) {
    if let Some(toml::Value::Array(events)) = table.get("events") {
        origins.extend((0..events.len()).map(|index| EventOrigin {
            file: file.to_string(),
            index,
        }));
    }
}

/// `e` re-addressed to the file and index of the event it names (`events[k]…` of the merged
/// list), when that event comes from another file or another position.
fn relocate_event_error(mut e: ConfigError, origins: &[EventOrigin]) -> ConfigError {
    let Some(rest) = e.key.strip_prefix("events[") else {
        return e;
    };
    let Some((k, tail)) = rest.split_once(']') else {
        return e;
    };
    let Some(origin) = k.parse::<usize>().ok().and_then(|k| origins.get(k)) else {
        return e;
    };
    e.key = format!("events[{}]{tail}", origin.index);
    e.file = origin.file.clone();
    e
}

/// The text of a config or sweep file: an embedded config by its virtual path
/// ([`embedded::read`]), else the file. `file` names it in errors.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    let file = path.display().to_string();
    if let Some(text) = embedded::read(path) {
        return Ok(text.to_string());
    }
    // Checked before opening: a FIFO or a device would block or never end.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(ConfigError::new(
                &file,
                "",
                "is not a regular file (a directory, FIFO or device); expected a TOML file",
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.components().count() == 1 => {
            return Err(ConfigError::new(
                &file,
                "",
                format!(
                    "cannot be read: {e}; it is not the name of a shipped config either (`aimarket scenarios` lists them; shipped: baseline, {})",
                    embedded::names("scenarios").join(", ")
                ),
            ));
        }
        Err(e) => return Err(ConfigError::new(&file, "", format!("cannot be read: {e}"))),
    }
    std::fs::read_to_string(path).map_err(|e| ConfigError::new(&file, "", format!("cannot be read: {e}")))
}

fn read_table_depth(path: &Path, depth: usize, origins: &mut Vec<EventOrigin>) -> Result<toml::Table, ConfigError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    let mut table = parse_table(&text, &file)?;
    let Some(extends) = table.remove("extends") else {
        push_origins(&table, &file, origins);
        return Ok(table);
    };
    let toml::Value::String(base) = extends else {
        return Err(ConfigError::new(
            &file,
            "extends",
            format!("must be a path string, got {extends}"),
        ));
    };
    if depth >= 8 {
        return Err(ConfigError::new(
            &file,
            "extends",
            format!("chains too deep (a cycle?) at \"{base}\""),
        ));
    }
    let base_path = path.parent().unwrap_or(Path::new(".")).join(&base);
    let mut merged = read_table_depth(&base_path, depth + 1, origins)
        .map_err(|e| ConfigError::new(&file, "extends", format!("= \"{base}\" cannot be used: {e}")))?;
    push_origins(&table, &file, origins);
    merge_into(&mut merged, table);
    Ok(merged)
}

/// Deep-merges `over` into `base`: tables recursively, `events` arrays appended, others replaced.
fn merge_into(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_into(b, o),
            (Some(toml::Value::Array(b)), toml::Value::Array(o)) if key == "events" => b.extend(o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// Parses TOML text into a table; `file` names the source in errors.
pub fn parse_table(text: &str, file: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
        ConfigError::new(file, "", format!("is not valid TOML{at}: {}", e.message().trim()))
    })
}

/// Turns a table into a typed, validated config.
pub fn from_table(table: toml::Table, file: &str) -> Result<Config, ConfigError> {
    let config: Config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(
        |e: serde_path_to_error::Error<toml::de::Error>| {
            let path = e.path().to_string();
            let message = e.inner().message().trim().to_string();
            let key = if path == "." { String::new() } else { path };
            ConfigError::new(file, &key, format!("is invalid: {message}"))
        },
    )?;
    validate(&config, file)?;
    Ok(config)
}

/// Loads a config file, applies `key=value` overrides in order, and validates the result.
pub fn load(path: &Path, overrides: &[String]) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let (mut table, origins) = read_table_with_origins(path)?;
    reject_sweep_file(&table, &file)?;
    // Each override's key as validation errors name it (an event label becomes `events[i]`).
    let mut canonical = Vec::with_capacity(overrides.len());
    for arg in overrides {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| ConfigError::new("--set", "", format!("expected key=value, got \"{arg}\"")))?;
        canonical.push(canonical_key(&table, key.trim()));
        set_key(&mut table, key.trim(), parse_value(value.trim()))
            .map_err(|problem| ConfigError::new("--set", key.trim(), problem))?;
    }
    from_table(table, &file).map_err(|e| {
        // Point at the override that produced the bad value, not only at the file.
        if let Some((arg, _)) = overrides
            .iter()
            .zip(&canonical)
            .rev()
            .find(|(_, k)| key_matches(k, &e.key))
        {
            let mut e = relocate_event_error(e, &origins);
            e.file = format!("{} (with --set {arg})", e.file);
            return e;
        }
        relocate_event_error(e, &origins)
    })
}

/// Whether an override key and an error's key name the same value: equal segment by segment,
/// where `*` on either side matches any id (an override of `providers.aws.home_share` causes an
/// error about `providers.*.home_share`, a sum over all providers). Text after the key (e.g.
/// `contracts.*.min_compute_share (lab x)`) is ignored.
fn key_matches(pattern: &str, target: &str) -> bool {
    let target = target.split(' ').next().unwrap_or(target);
    let (p, t): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), target.split('.').collect());
    p.len() == t.len() && p.iter().zip(&t).all(|(a, b)| *a == "*" || *b == "*" || a == b)
}

/// Top-level keys that only a sweep file has.
const SWEEP_FILE_KEYS: [&str; 4] = ["base", "axes", "design", "replicates"];

/// A sweep file given where a config is expected gets a message saying so, instead of
/// "unknown field `base`".
fn reject_sweep_file(table: &toml::Table, file: &str) -> Result<(), ConfigError> {
    if !table.contains_key("run") && SWEEP_FILE_KEYS.iter().any(|k| table.contains_key(*k)) {
        // Calibration and backtest specs share a sweep's `base`; their own tables name them.
        let (what, command) = if table.contains_key("moments") {
            ("a calibration file (it has `base` and `[[moments]]`)", "calibrate")
        } else if table.contains_key("observations") {
            ("a backtest file (it has `base` and `[[observations]]`)", "backtest")
        } else {
            ("a sweep file (it has top-level `base`/`axes`)", "sweep")
        };
        return Err(ConfigError::new(
            file,
            "",
            format!("is {what}, not a model config; run it with `aimarket {command} {file}`"),
        ));
    }
    Ok(())
}

/// Parses a command-line value as a TOML value; bare words become strings.
pub fn parse_value(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Sets a dotted key in a table. `*` in a path segment applies to every entry of that table.
/// Intermediate tables must exist; the leaf may be new (its name is then checked when the
/// table is deserialised, which rejects unknown fields). `events.<label>.<field>` addresses
/// the `[[events]]` entry with that `label` (quoted when it is not a bare word, see
/// [`key_parts`]); the event is checked at once, so an unknown field is named here.
pub fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts = key_parts(key)?;
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    if let ["events", label, rest @ ..] = &parts[..]
        && let Some(toml::Value::Array(items)) = table.get_mut("events")
    {
        let i = event_by_label(items, label)?;
        if rest.is_empty() {
            return Err("names an event, not a value; add a field, e.g. events.<label>.at".to_string());
        }
        let event = items[i]
            .as_table_mut()
            .ok_or_else(|| format!("names events[{i}], which is not a table"))?;
        set_parts(event, rest, &value)?;
        if let Err(e) = toml::Value::Table(event.clone()).try_into::<events::EventSpec>() {
            return Err(format!("is invalid: {} (in events[{i}])", e.message().trim()));
        }
        return Ok(());
    }
    set_parts(table, &parts, &value)
}

fn set_parts(table: &mut toml::Table, parts: &[&str], value: &toml::Value) -> Result<(), String> {
    let (head, rest) = (parts[0], &parts[1..]);
    if rest.is_empty() {
        if head == "*" {
            return Err("cannot end in `*`".to_string());
        }
        if let Some(old) = table.get(head)
            && old.is_table()
        {
            return Err("names a table, not a value".to_string());
        }
        table.insert(head.to_string(), value.clone());
        return Ok(());
    }
    if head == "*" {
        if table.is_empty() {
            return Err("`*` matches nothing".to_string());
        }
        for (_, child) in table.iter_mut() {
            let child = child
                .as_table_mut()
                .ok_or_else(|| "`*` must stand for agent tables".to_string())?;
            set_parts(child, rest, value)?;
        }
        return Ok(());
    }
    // An entry of an array of tables (`stakes[1].share`).
    if let Some((name, i)) = indexed(head) {
        return match table.get_mut(name) {
            Some(toml::Value::Array(items)) => match items.get_mut(i) {
                Some(toml::Value::Table(child)) => set_parts(child, rest, value),
                _ => Err(format!("does not exist (`{name}` has {} entries)", items.len())),
            },
            _ => Err(format!("does not exist (no array `{name}`)")),
        };
    }
    match table.get_mut(head) {
        Some(toml::Value::Table(child)) => set_parts(child, rest, value),
        Some(_) => Err(format!("does not exist: `{head}` is a value, not a table")),
        None => Err(format!("does not exist (no table `{head}`)")),
    }
}

/// `name[i]` as `(name, i)`: a segment naming an entry of an array of tables.
fn indexed(segment: &str) -> Option<(&str, usize)> {
    let (name, rest) = segment.split_once('[')?;
    let i = rest.strip_suffix(']')?.parse().ok()?;
    Some((name, i))
}

/// Reads a dotted key from a table (no wildcards; `events.<label>.…` as in [`set_key`]).
pub fn get_key<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let parts = key_parts(key).ok()?;
    let mut parts = parts.iter();
    let first = parts.next()?;
    let mut value = match indexed(first) {
        Some((name, i)) => table.get(name)?.as_array()?.get(i)?,
        None => table.get(first)?,
    };
    if first == "events"
        && let toml::Value::Array(items) = value
    {
        value = &items[event_by_label(items, parts.next()?).ok()?];
    }
    for p in parts {
        value = match indexed(p) {
            Some((name, i)) => value.as_table()?.get(name)?.as_array()?.get(i)?,
            None => value.as_table()?.get(p)?,
        };
    }
    Some(value)
}

/// Splits a dotted key into its segments. A segment may be quoted (`"…"` or `'…'`) to hold
/// dots, spaces or other characters, as an event label does:
/// `events."EU Data Act: no switching charges (from 2027-01-12)".cap`.
pub fn key_parts(key: &str) -> Result<Vec<String>, String> {
    let invalid = || format!("is not a valid dotted key (\"{key}\")");
    let mut parts = Vec::new();
    let mut rest = key;
    loop {
        let (part, after) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &rest[1..];
                let end = body
                    .find(q)
                    .ok_or_else(|| format!("has an unclosed quote (\"{key}\")"))?;
                (body[..end].to_string(), &body[end + 1..])
            }
            _ => {
                let end = rest.find('.').unwrap_or(rest.len());
                if rest[..end].is_empty() {
                    return Err(invalid());
                }
                (rest[..end].to_string(), &rest[end..])
            }
        };
        if part.is_empty() {
            return Err(invalid());
        }
        parts.push(part);
        if after.is_empty() {
            return Ok(parts);
        }
        rest = after.strip_prefix('.').ok_or_else(invalid)?;
    }
}

/// A segment as written in a dotted key: quoted when it is not a bare word.
fn key_segment(part: &str) -> String {
    if !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*'))
    {
        part.to_string()
    } else {
        format!("\"{part}\"")
    }
}

/// The index of the `[[events]]` entry labelled `label`, or why there is none: no entry has
/// that label, or several do (a label must name one event to address it).
pub fn event_by_label(events: &[toml::Value], label: &str) -> Result<usize, String> {
    fn label_of(e: &toml::Value) -> Option<&str> {
        e.as_table().and_then(|t| t.get("label")).and_then(toml::Value::as_str)
    }
    let found: Vec<usize> = (0..events.len())
        .filter(|&i| label_of(&events[i]) == Some(label))
        .collect();
    match found[..] {
        [i] => Ok(i),
        [] => {
            let labels: Vec<String> = events.iter().filter_map(label_of).map(|l| format!("\"{l}\"")).collect();
            Err(if labels.is_empty() {
                format!(
                    "names no event: no [[events]] entry is labelled \"{label}\" (the config's events have no labels)"
                )
            } else {
                format!(
                    "names no event: no [[events]] entry is labelled \"{label}\"; expected one of {}",
                    labels.join(", ")
                )
            })
        }
        _ => Err(format!(
            "is ambiguous: {} [[events]] entries are labelled \"{label}\" ({}); give them distinct labels",
            found.len(),
            found
                .iter()
                .map(|i| format!("events[{i}]"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The key with an event label replaced by the event's index (`events[2].cap`), the form
/// validation errors use; other keys are returned unchanged.
pub fn canonical_key(table: &toml::Table, key: &str) -> String {
    let Ok(parts) = key_parts(key) else {
        return key.to_string();
    };
    if let [events, label, rest @ ..] = &parts[..]
        && events == "events"
        && let Some(toml::Value::Array(items)) = table.get("events")
        && let Ok(i) = event_by_label(items, label)
    {
        let mut out = format!("events[{i}]");
        for p in rest {
            out.push('.');
            out.push_str(&key_segment(p));
        }
        return out;
    }
    key.to_string()
}

/// The config as a TOML table (the fully resolved form written to manifests).
pub fn to_table(config: &Config) -> toml::Table {
    match toml::Value::try_from(config) {
        Ok(toml::Value::Table(t)) => t,
        _ => unreachable!("a Config always serialises to a table"),
    }
}

/// Stable SHA-256 of a config's resolved form (its JSON serialisation, not the TOML text), hex
/// encoded.
pub fn hash(config: &Config) -> String {
    hash_bytes(&serde_json::to_vec(config).expect("a Config always serialises to JSON"))
}

/// Hex SHA-256 of bytes.
pub fn hash_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        parse_table(text, "t.toml").unwrap()
    }

    #[test]
    fn set_key_replaces_nested_values_and_wildcards() {
        let mut t = table("[p.a]\nx = 1\n[p.b]\nx = 2\n");
        set_key(&mut t, "p.a.x", toml::Value::Integer(5)).unwrap();
        assert_eq!(get_key(&t, "p.a.x"), Some(&toml::Value::Integer(5)));
        set_key(&mut t, "p.*.x", toml::Value::Integer(9)).unwrap();
        assert_eq!(get_key(&t, "p.b.x"), Some(&toml::Value::Integer(9)));
        assert_eq!(get_key(&t, "p.a.x"), Some(&toml::Value::Integer(9)));
    }

    #[test]
    fn set_key_rejects_missing_tables_and_table_leaves() {
        let mut t = table("[p.a]\nx = 1\n");
        assert!(set_key(&mut t, "q.a.x", 1.into()).is_err());
        assert!(set_key(&mut t, "p.a", 1.into()).is_err());
        assert!(set_key(&mut t, "p..x", 1.into()).is_err());
    }

    #[test]
    fn keys_split_on_dots_outside_quotes() {
        assert_eq!(key_parts("a.b").unwrap(), ["a", "b"]);
        assert_eq!(
            key_parts("events.\"EU: x (2027-01.12)\".cap").unwrap(),
            ["events", "EU: x (2027-01.12)", "cap"]
        );
        assert_eq!(key_parts("events.'a b'.at").unwrap(), ["events", "a b", "at"]);
        for bad in ["", "a..b", "a.", ".a", "a.\"b", "a.\"\".c", "a.\"b\"c"] {
            assert!(key_parts(bad).is_err(), "{bad}");
        }
    }

    const LABELLED: &str = "[run]\nx = 1\n[[events]]\nat = \"2027-01\"\nkind = \"cap_switching_charges\"\ncap = 0.0\nlabel = \"eu cap\"\n\
        [[events]]\ntick = 3\nkind = \"ban_bundling\"\nlabel = \"twice\"\n[[events]]\ntick = 4\nkind = \"ban_bundling\"\nlabel = \"twice\"\n";

    #[test]
    fn events_are_addressed_by_label() {
        let mut t = table(LABELLED);
        set_key(&mut t, "events.\"eu cap\".cap", toml::Value::Float(0.05)).unwrap();
        set_key(&mut t, "events.'eu cap'.at", "2028-06".into()).unwrap();
        assert_eq!(get_key(&t, "events.\"eu cap\".cap"), Some(&toml::Value::Float(0.05)));
        assert_eq!(t["events"][0]["at"].as_str(), Some("2028-06"));
        assert_eq!(canonical_key(&t, "events.\"eu cap\".cap"), "events[0].cap");
        assert_eq!(canonical_key(&t, "run.x"), "run.x");
        let err = set_key(&mut t, "events.nope.cap", 1.into()).unwrap_err();
        assert!(
            err.contains("names no event") && err.contains("\"eu cap\", \"twice\", \"twice\""),
            "{err}"
        );
        let err = set_key(&mut t, "events.twice.tick", 1.into()).unwrap_err();
        assert!(
            err.contains("is ambiguous") && err.contains("events[1], events[2]"),
            "{err}"
        );
        let err = set_key(&mut t, "events.\"eu cap\".capp", 1.into()).unwrap_err();
        assert!(
            err.contains("unknown field `capp`") && err.contains("events[0]"),
            "{err}"
        );
        assert!(
            set_key(&mut t, "events.\"eu cap\"", 1.into())
                .unwrap_err()
                .contains("names an event")
        );
    }

    #[test]
    fn a_label_addressed_override_changes_the_event_and_is_blamed_for_its_errors() {
        let eu = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/scenarios/eu_data_act.toml");
        let key = "events.\"EU Data Act: no switching charges (from 2027-01-12)\"";
        let c = load(&eu, &[format!("{key}.cap=0.01"), format!("{key}.at=2028-03")]).unwrap();
        let e = c
            .events
            .iter()
            .find(|e| e.label.as_deref() == Some("EU Data Act: no switching charges (from 2027-01-12)"))
            .expect("the labelled event");
        assert_eq!(e.at.as_deref(), Some("2028-03"));
        assert!(
            matches!(&e.action, events::Action::CapSwitchingCharges(a) if a.cap == 0.01),
            "{e:?}"
        );
        // The error names the event by its index in the scenario file, and the override.
        let err = load(&eu, &[format!("{key}.at=2025-01")]).unwrap_err();
        assert_eq!(err.key, "events[1].at");
        assert!(err.file.contains("eu_data_act.toml"), "{err}");
        assert!(err.file.ends_with(&format!("(with --set {key}.at=2025-01)")), "{err}");
        let err = load(&eu, &["events.eu.cap=0".into()]).unwrap_err();
        assert_eq!((err.file.as_str(), err.key.as_str()), ("--set", "events.eu.cap"));
        assert!(err.problem.contains("names no event"), "{err}");
    }

    #[test]
    fn command_line_values_parse_as_toml_or_strings() {
        assert_eq!(parse_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_value("2027-01"), toml::Value::String("2027-01".into()));
        assert_eq!(parse_value("\"x\""), toml::Value::String("x".into()));
    }

    #[test]
    fn event_errors_name_the_file_and_index_where_the_event_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.toml");
        let over = dir.path().join("s.toml");
        std::fs::write(&base, "[[events]]\nk = 1\n[[events]]\nk = 2\n").unwrap();
        std::fs::write(&over, "extends = \"base.toml\"\n[[events]]\nk = 3\n").unwrap();
        let (t, origins) = read_table_with_origins(&over).unwrap();
        assert_eq!(t["events"].as_array().unwrap().len(), origins.len());
        let at = |k: usize| {
            let e = relocate_event_error(ConfigError::new("merged", &format!("events[{k}].lab"), "bad"), &origins);
            (e.file, e.key)
        };
        // Merged index 2 is the overlay's first event; 1 is the base's second. Without the
        // relocation both would be reported as `merged: events[k]`.
        assert_eq!(at(2), (over.display().to_string(), "events[0].lab".to_string()));
        assert_eq!(at(1), (base.display().to_string(), "events[1].lab".to_string()));
        // Keys that name no event, or an index beyond the list, are left alone.
        let other = relocate_event_error(ConfigError::new("merged", "run.ticks", "bad"), &origins);
        assert_eq!((other.file.as_str(), other.key.as_str()), ("merged", "run.ticks"));
        assert_eq!(at(7), ("merged".to_string(), "events[7].lab".to_string()));
    }

    #[test]
    fn extends_merges_tables_and_appends_events() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "[a]\nx = 1\ny = 2\n[[events]]\nk = 1\n").unwrap();
        std::fs::write(
            dir.path().join("s.toml"),
            "extends = \"base.toml\"\n[a]\ny = 3\n[[events]]\nk = 2\n",
        )
        .unwrap();
        let t = read_table(&dir.path().join("s.toml")).unwrap();
        assert_eq!(get_key(&t, "a.x"), Some(&toml::Value::Integer(1)));
        assert_eq!(get_key(&t, "a.y"), Some(&toml::Value::Integer(3)));
        assert_eq!(t["events"].as_array().unwrap().len(), 2);
        assert!(!t.contains_key("extends"));
        std::fs::write(dir.path().join("bad.toml"), "extends = \"missing.toml\"\n").unwrap();
        let err = read_table(&dir.path().join("bad.toml")).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("missing.toml"), "{err}");
    }

    #[test]
    fn errors_caused_by_an_override_name_it() {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
        let err = load(&base, &["enterprise.review_probability=2".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("(with --set enterprise.review_probability=2)"), "{err}");
        assert!(err.contains("must be in [0, 1], got 2"), "{err}");
        let err = load(&base, &["providers.*.egress_fee=-1".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--set providers.*.egress_fee=-1") && err.contains("providers.aws.egress_fee"),
            "{err}"
        );
        assert!(key_matches("providers.*.x", "providers.aws.x") && !key_matches("providers.*", "providers.aws.x"));
    }

    #[test]
    fn an_override_is_blamed_for_an_error_about_a_sum_over_all_agents() {
        // Regression (issue 7): this used to blame configs/baseline.toml alone.
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
        let err = load(&base, &["providers.aws.home_share=0.25".into()]).unwrap_err();
        assert_eq!(err.key, "providers.*.home_share");
        assert!(
            err.file.ends_with("(with --set providers.aws.home_share=0.25)"),
            "{err}"
        );
        assert!(key_matches(
            "contracts.a.min_compute_share",
            "contracts.*.min_compute_share (lab openai)"
        ));
        assert!(!key_matches("providers.aws.price", "providers.*.home_share"));
    }

    #[test]
    fn a_sweep_file_given_as_a_config_is_named_as_such() {
        // Regression (issue 7): `aimarket validate` on a sweep file said "unknown field `base`".
        let sweep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sweeps/smoke.toml");
        let err = load(&sweep, &[]).unwrap_err().to_string();
        assert!(
            err.contains("is a sweep file") && err.contains("aimarket sweep"),
            "{err}"
        );
        // A calibration or backtest spec is named with the command that runs it.
        for (path, command) in [
            ("configs/calibrations/switching.toml", "aimarket calibrate"),
            ("configs/history/backtest.toml", "aimarket backtest"),
        ] {
            let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
            let err = load(&spec, &[]).unwrap_err().to_string();
            assert!(err.contains(command) && !err.contains("aimarket sweep"), "{err}");
        }
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = parse_table("a = 1\nb = \n", "f.toml").unwrap_err();
        assert!(
            err.to_string().starts_with("f.toml: is not valid TOML (line 2)"),
            "{err}"
        );
    }
}
