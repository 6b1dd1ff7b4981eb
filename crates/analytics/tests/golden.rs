//! Golden tests: each folder under `tests/golden/` holding an `app.sql` is one case.
//!
//! - `app.sql`: the application code. A first line `--fail=<text>` expects the compiler
//!   to refuse the code with an error whose text contains `<text>`.
//! - `inputs.json`: the input as the wire's `InputSchema` plus its name prefix and
//!   parallelism: `{"NamePrefix", "Parallelism", "RecordFormat", "RecordColumns"}`, and
//!   optionally `"Outputs": [stream names]` (default: every stream the code creates).
//! - `events.txt`: the timeline, one step per line (`#` comments):
//!   `@<ms> shard=<n> [arrival=<ms>] <record>` maps the record and pushes its rows at
//!   `now = <ms>` (records starting `csv:` take `\n`, `\r`, `\t`, `\\` escapes);
//!   `@<ms> tick` advances time with no input; `@<ms> restart` models a stop and a start
//!   from LAST_STOPPED_POINT: the executor is dropped with its open windows, and a new one
//!   is fed again, at `<ms>`, every record whose epoch is at or after the old executor's
//!   held epoch (what the runtime's saved position re-reads). A record's epoch is the
//!   second it was pushed at (`<ms> / 1000`); a re-fed record takes the restart's.
//! - `expected/<STREAM>.jsonl`: the rows of each output stream and of `error_stream`,
//!   ROWTIME first, compared byte for byte.
//!
//! Every case runs twice and must give the same bytes. `UPDATE_GOLDEN=1` rewrites the
//! expected files: review each change by hand against the rules before committing it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rheo_analytics::config::{RecordColumn, RecordFormat, SourceSchemaDef};
use rheo_analytics::exec::{ExecLimits, Executor};
use rheo_analytics::mapping::RecordMapper;
use rheo_analytics::plan::{ColumnDef, StreamKind, ERROR_STREAM};
use rheo_analytics::sql::{compile, parse_sql_type, InputCatalog, InputStreamDef};
use rheo_analytics::value::{ErrorRow, Row, Value};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inputs {
    name_prefix: String,
    #[serde(default = "one")]
    parallelism: u32,
    record_format: WireRecordFormat,
    record_columns: Vec<WireColumn>,
    #[serde(default)]
    outputs: Option<Vec<String>>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRecordFormat {
    record_format_type: String,
    #[serde(default)]
    mapping_parameters: Option<WireMapping>,
}

#[derive(Deserialize)]
struct WireMapping {
    #[serde(rename = "JSONMappingParameters")]
    json: Option<WireJson>,
    #[serde(rename = "CSVMappingParameters")]
    csv: Option<WireCsv>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireJson {
    record_row_path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireCsv {
    record_row_delimiter: String,
    record_column_delimiter: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireColumn {
    name: String,
    #[serde(default)]
    mapping: Option<String>,
    sql_type: String,
}

fn schema(inputs: &Inputs) -> SourceSchemaDef {
    let mapping = inputs.record_format.mapping_parameters.as_ref();
    let format = match inputs.record_format.record_format_type.as_str() {
        "JSON" => RecordFormat::Json {
            row_path: mapping
                .and_then(|m| m.json.as_ref())
                .map_or_else(|| "$".to_owned(), |j| j.record_row_path.clone()),
        },
        "CSV" => {
            let csv = mapping.and_then(|m| m.csv.as_ref());
            RecordFormat::Csv {
                row_delimiter: csv.map_or_else(|| "\n".to_owned(), |c| c.record_row_delimiter.clone()),
                column_delimiter: csv.map_or_else(|| ",".to_owned(), |c| c.record_column_delimiter.clone()),
            }
        }
        other => panic!("unknown RecordFormatType {other}"),
    };
    let columns = inputs
        .record_columns
        .iter()
        .map(|c| RecordColumn {
            name: c.name.clone(),
            sql_type: parse_sql_type(&c.sql_type).unwrap_or_else(|e| panic!("column {}: {e}", c.name)),
            mapping: c.mapping.clone(),
        })
        .collect();
    SourceSchemaDef { format, columns }
}

fn catalog(inputs: &Inputs, schema: &SourceSchemaDef) -> InputCatalog {
    let columns = schema.in_app_columns();
    let streams = (1..=inputs.parallelism)
        .map(|n| InputStreamDef { name: format!("{}_{n:03}", inputs.name_prefix), columns: columns.clone() })
        .collect();
    InputCatalog { streams }
}

enum Step {
    Record { at: i64, shard: u32, arrival: i64, data: Vec<u8> },
    Tick(i64),
    Restart(i64),
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => panic!("unknown escape \\{other}"),
            None => panic!("escape at the end of a record"),
        }
    }
    out.into_bytes()
}

fn parse_events(text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |what: &str| -> ! { panic!("events.txt line {}: {what}: {line}", number + 1) };
        let rest = line.strip_prefix('@').unwrap_or_else(|| fail("a step starts with @<ms>"));
        let (at, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let at: i64 = at.parse().unwrap_or_else(|_| fail("bad time"));
        match rest {
            "tick" => steps.push(Step::Tick(at)),
            "restart" => steps.push(Step::Restart(at)),
            _ => {
                let (shard, after) = rest.split_once(' ').unwrap_or_else(|| fail("shard=<n> <record>"));
                let shard =
                    shard.strip_prefix("shard=").and_then(|s| s.parse().ok()).unwrap_or_else(|| fail("shard=<n>"));
                rest = after;
                let mut arrival = at;
                if let Some(after) = rest.strip_prefix("arrival=") {
                    let (value, after) = after.split_once(' ').unwrap_or_else(|| fail("arrival=<ms> <record>"));
                    arrival = value.parse().unwrap_or_else(|_| fail("bad arrival"));
                    rest = after;
                }
                let data = match rest.strip_prefix("csv:") {
                    Some(csv) => unescape(csv),
                    None => rest.as_bytes().to_vec(),
                };
                steps.push(Step::Record { at, shard, arrival, data });
            }
        }
    }
    steps
}

/// One row as a JSON object, ROWTIME first, then the stream's columns in order.
fn render_row(row: &Row, columns: &[ColumnDef]) -> String {
    let mut out = String::from("{\"ROWTIME\":");
    out.push_str(&json_string(&timestamp(row.rowtime_ms)));
    for (column, value) in columns.iter().zip(row.values.iter()) {
        out.push(',');
        out.push_str(&json_string(&column.name));
        out.push(':');
        render_value(value, &mut out);
    }
    out.push('}');
    out
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
}

fn render_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(v) => write!(out, "{v}").unwrap(),
        Value::Real(v) => write!(out, "{v:?}").unwrap(),
        Value::Double(v) => write!(out, "{v:?}").unwrap(),
        Value::Decimal(unscaled, scale) => {
            let digits = format!("{:0>width$}", unscaled.unsigned_abs(), width = usize::from(*scale) + 1);
            let (whole, fraction) = digits.split_at(digits.len() - usize::from(*scale));
            let sign = if *unscaled < 0 { "-" } else { "" };
            if fraction.is_empty() {
                write!(out, "{sign}{whole}").unwrap();
            } else {
                write!(out, "{sign}{whole}.{fraction}").unwrap();
            }
        }
        Value::Str(bytes) => out.push_str(&json_string(&String::from_utf8_lossy(bytes))),
        Value::Bin(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            out.push_str(&json_string(&format!("X'{hex}'")));
        }
        Value::Date(days) => {
            let date = chrono::DateTime::from_timestamp(i64::from(*days) * 86_400, 0)
                .map(|t| t.format("%Y-%m-%d").to_string());
            out.push_str(&json_string(&date.unwrap_or_else(|| days.to_string())));
        }
        Value::Time(ms) => {
            let time =
                chrono::DateTime::from_timestamp_millis(i64::from(*ms)).map(|t| t.format("%H:%M:%S%.3f").to_string());
            out.push_str(&json_string(&time.unwrap_or_else(|| ms.to_string())));
        }
        Value::Timestamp(ms) => out.push_str(&json_string(&timestamp(*ms))),
        Value::Interval(ms) => write!(out, "{ms}").unwrap(),
    }
}

/// Runs one case: the expected files' names and contents, or the compile error's text.
fn run_case(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let code = fs::read_to_string(dir.join("app.sql")).unwrap();
    let inputs: Inputs = serde_json::from_str(&fs::read_to_string(dir.join("inputs.json")).unwrap())
        .unwrap_or_else(|e| panic!("{}: inputs.json: {e}", dir.display()));
    let schema = schema(&inputs);
    let catalog = catalog(&inputs, &schema);
    let plan = Arc::new(compile(&code, &catalog).map_err(|e| format!("{e} / {e:?}"))?);
    let output_names: Vec<String> = match &inputs.outputs {
        Some(names) => names.clone(),
        None => plan.created_streams().map(str::to_owned).collect(),
    };
    let mut outputs: Vec<usize> = output_names
        .iter()
        .map(|name| plan.stream_id(name).unwrap_or_else(|| panic!("{}: no stream {name}", dir.display())))
        .collect();
    let error_stream = plan.stream_id(ERROR_STREAM).expect("the plan has error_stream");
    outputs.push(error_stream);
    let inputs_ids: Vec<usize> =
        catalog.streams.iter().map(|s| plan.stream_id(&s.name).expect("input stream in plan")).collect();
    let mut mapper = RecordMapper::new(&schema).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut executor = Executor::new(plan.clone(), &outputs, ExecLimits::default(), 0);
    let events = parse_events(&fs::read_to_string(dir.join("events.txt")).unwrap_or_default());
    let mut collected: BTreeMap<usize, Vec<Row>> = outputs.iter().map(|id| (*id, Vec::new())).collect();
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    // Every record pushed, with its epoch, shard and arrival: what a restart may re-read.
    let mut history: Vec<(u32, u32, i64, Vec<u8>)> = Vec::new();
    for step in events {
        match step {
            Step::Record { at, shard, arrival, data } => {
                let epoch = u32::try_from(at / 1000).unwrap_or(u32::MAX);
                feed(
                    &mut executor,
                    &mut mapper,
                    &inputs_ids,
                    at,
                    (shard, arrival, &data),
                    epoch,
                    (&mut rows, &mut errors),
                );
                history.push((epoch, shard, arrival, data));
            }
            Step::Tick(at) => executor.advance(at),
            Step::Restart(at) => {
                let held = executor.held_epoch();
                executor = Executor::new(plan.clone(), &outputs, ExecLimits::default(), at);
                let epoch = u32::try_from(at / 1000).unwrap_or(u32::MAX);
                history.retain(|(old, ..)| held.is_some_and(|held| *old >= held));
                for (old, shard, arrival, data) in history.iter_mut() {
                    *old = epoch;
                    feed(
                        &mut executor,
                        &mut mapper,
                        &inputs_ids,
                        at,
                        (*shard, *arrival, data),
                        epoch,
                        (&mut rows, &mut errors),
                    );
                }
            }
        }
        for (id, rows) in collected.iter_mut() {
            executor.drain(*id, rows);
        }
    }
    let mut files = BTreeMap::new();
    for (id, rows) in collected {
        let stream = &plan.streams[id];
        assert!(stream.kind != StreamKind::Input, "{}: an input stream is not an output", dir.display());
        let text: String = rows.iter().map(|row| render_row(row, &stream.columns) + "\n").collect();
        files.insert(format!("{}.jsonl", stream.name), text);
    }
    Ok(files)
}

/// Maps one record (shard, arrival, data) and pushes its rows at `at`.
fn feed(
    executor: &mut Executor,
    mapper: &mut RecordMapper,
    inputs_ids: &[usize],
    at: i64,
    (shard, arrival, data): (u32, i64, &[u8]),
    epoch: u32,
    (rows, errors): (&mut Vec<Row>, &mut Vec<ErrorRow>),
) {
    let stream = inputs_ids[shard as usize % inputs_ids.len()];
    mapper.map(data, arrival, at, epoch, rows, errors);
    executor.advance(at);
    executor.push_errors(errors);
    executor.push(stream, rows, at);
}

fn cases(root: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            if entry.join("app.sql").is_file() {
                found.push(entry);
            } else {
                cases(&entry, found);
            }
        }
    }
}

#[test]
fn golden_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut found = Vec::new();
    cases(&root, &mut found);
    assert!(!found.is_empty(), "no golden cases under {}", root.display());
    let mut failures = Vec::new();
    for dir in &found {
        let name = dir.strip_prefix(&root).unwrap().display().to_string();
        let code = fs::read_to_string(dir.join("app.sql")).unwrap();
        let expected_failure = code.lines().next().and_then(|l| l.strip_prefix("--fail=")).map(str::trim);
        let first = run_case(dir);
        let second = run_case(dir);
        assert_eq!(first, second, "{name}: two runs differ");
        match (expected_failure, first) {
            (Some(text), Err(error)) => {
                if !error.contains(text) {
                    failures.push(format!("{name}: refused with `{error}`, expected a text containing `{text}`"));
                }
            }
            (Some(_), Ok(_)) => failures.push(format!("{name}: compiled, expected a refusal")),
            (None, Err(error)) => failures.push(format!("{name}: refused: {error}")),
            (None, Ok(files)) => {
                let expected_dir = dir.join("expected");
                if update {
                    fs::create_dir_all(&expected_dir).unwrap();
                    for (file, text) in &files {
                        fs::write(expected_dir.join(file), text).unwrap();
                    }
                }
                // An expected file the run no longer produces is stale: the case changed.
                for entry in fs::read_dir(&expected_dir).into_iter().flatten().flatten() {
                    let file = entry.file_name().to_string_lossy().into_owned();
                    if !files.contains_key(&file) {
                        failures.push(format!("{name}: expected/{file} is not a stream the case outputs"));
                    }
                }
                for (file, text) in &files {
                    let path = expected_dir.join(file);
                    match fs::read_to_string(&path) {
                        Ok(expected) if &expected == text => {}
                        Ok(expected) => {
                            failures.push(format!("{name}/{file}:\n--- expected\n{expected}--- got\n{text}"))
                        }
                        Err(_) => failures.push(format!("{name}: {} is missing; got\n{text}", path.display())),
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} golden cases failed:\n{}", failures.len(), found.len(), failures.join("\n"));
}
