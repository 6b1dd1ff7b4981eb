//! Firehose record processors (`ProcessingConfiguration.Processors`).
//!
//! Rheo implements the processors that run inside Firehose itself: `RecordDeAggregation`,
//! `MetadataExtraction` (inline JQ for dynamic partitioning) and `AppendDelimiterToRecord`.
//! Processors that call out to other services or decode CloudWatch Logs payloads
//! (`Lambda`, `Decompression`, `CloudWatchLogProcessing`) are rejected at configuration time
//! rather than accepted and silently skipped.
//!
//! Whatever order the configuration lists them in, processors run in AWS's fixed order:
//! de-aggregation, then metadata extraction on each resulting record, then the delimiter.
//!
//! This module validates the chain and runs the bounded steps ([`Pipeline::split`],
//! [`Pipeline::finish`]); the jq query between them runs in a worker process
//! ([`crate::jq`]), because jaq cannot bound a query's time, memory or stack.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use base64::Engine as _;
use jaq_core::load::{lex, Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Native, RcIter};
use jaq_json::Val;

use crate::limits::JQ_OUTPUT_BYTES_MAX;
use rheo_aws::kpl;

/// `ProcessorParameter.ParameterValue` length bounds from the Firehose API model.
pub const MIN_PARAMETER_VALUE_LEN: usize = 1;
pub const MAX_PARAMETER_VALUE_LEN: usize = 5120;

/// The only `JsonParsingEngine` Firehose accepts.
pub const JQ_ENGINE: &str = "JQ-1.6";

/// Deepest bracket nesting accepted in a `MetadataExtractionQuery`. jaq's lexer and parser
/// recurse per nesting level, and a 5120-character query of nothing but `(` could otherwise
/// overflow the stack of the thread validating it, which aborts the whole process.
pub const MAX_QUERY_NESTING: usize = 64;

/// Longest error message kept for a record whose extraction failed, in characters.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 1024;

/// Error code of records whose metadata extraction failed; they go to the error output prefix.
pub const METADATA_EXTRACTION_FAILED: &str = "DynamicPartitioning.MetadataExtractionFailed";
/// Error code of records that `RecordDeAggregation` could not split.
pub const DEAGGREGATION_FAILED: &str = "DynamicPartitioning.DeAggregationFailed";

const PROCESSOR_TYPES: [&str; 6] = [
    "RecordDeAggregation",
    "Decompression",
    "CloudWatchLogProcessing",
    "Lambda",
    "MetadataExtraction",
    "AppendDelimiterToRecord",
];

const PARAMETER_NAMES: [&str; 11] = [
    "LambdaArn",
    "NumberOfRetries",
    "MetadataExtractionQuery",
    "JsonParsingEngine",
    "RoleArn",
    "BufferSizeInMBs",
    "BufferIntervalInSeconds",
    "SubRecordType",
    "Delimiter",
    "CompressionFormat",
    "DataMessageExtraction",
];

/// One `Processor` of a `ProcessingConfiguration`, as decoded from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorSpec {
    /// `Processor.Type`.
    pub kind: String,
    /// `(ParameterName, ParameterValue)` pairs in request order.
    pub parameters: Vec<(String, String)>,
}

/// How `RecordDeAggregation` splits a record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SubRecordType {
    /// Concatenated or whitespace-separated JSON objects.
    Json,
    /// Segments between occurrences of a byte delimiter.
    Delimited(Vec<u8>),
    /// KPL aggregates (Rheo extension; the Kinesis-source case does this implicitly).
    Kpl,
}

/// A compiled jq query.
pub(crate) type JqFilter = jaq_core::Filter<Native<Val>>;

/// Partition keys extracted from one record, for `!{partitionKeyFromQuery:k}`.
pub type PartitionKeys = BTreeMap<String, String>;

/// A validated `MetadataExtraction` processor. The query is compiled here only to refuse
/// invalid ones at configuration time; jq worker processes compile and run it.
struct Extraction {
    query: String,
}

/// A validated, ready-to-run processor chain.
pub struct Pipeline {
    deaggregate_kpl: bool,
    deaggregation: Option<SubRecordType>,
    extraction: Option<Extraction>,
    delimiter: Option<Vec<u8>>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The compiled filter has no useful Debug form; its source query identifies it.
        f.debug_struct("Pipeline")
            .field("deaggregate_kpl", &self.deaggregate_kpl)
            .field("deaggregation", &self.deaggregation)
            .field("extraction", &self.extraction.as_ref().map(|e| &e.query))
            .field("delimiter", &self.delimiter)
            .finish()
    }
}

/// One output record of [`Pipeline::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub data: Vec<u8>,
    /// Keys from `MetadataExtraction`, for `!{partitionKeyFromQuery:k}`; empty without it.
    pub partition_keys: BTreeMap<String, String>,
}

/// Outcome of processing one source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessResult {
    /// Zero or more output records (de-aggregation can yield several, or none for an empty input).
    Ok(Vec<Processed>),
    /// The whole source record failed and belongs under the error output prefix.
    Failed { error_code: String, error_message: String },
}

impl Pipeline {
    /// Validates a `ProcessingConfiguration` like AWS does, returning the
    /// `InvalidArgumentException` message on failure.
    ///
    /// A disabled configuration is still validated (AWS stores it and it may be enabled later
    /// by UpdateDestination) but yields an empty pipeline.
    pub fn new(enabled: bool, processors: &[ProcessorSpec], dynamic_partitioning: bool) -> Result<Pipeline, String> {
        let mut pipeline = Pipeline { deaggregate_kpl: false, deaggregation: None, extraction: None, delimiter: None };
        let mut seen: Vec<&str> = Vec::new();
        for spec in processors {
            let kind = spec.kind.as_str();
            if !PROCESSOR_TYPES.contains(&kind) {
                return Err(format!(
                    "Processor type {kind} is not valid. Valid types are: {}",
                    PROCESSOR_TYPES.join(", ")
                ));
            }
            if seen.contains(&kind) {
                return Err(format!("Processor type {kind} is specified more than once"));
            }
            seen.push(kind);
            let params = validate_parameters(spec)?;
            match kind {
                "RecordDeAggregation" => {
                    pipeline.deaggregation = Some(parse_deaggregation(&params)?);
                }
                "MetadataExtraction" => {
                    if !dynamic_partitioning {
                        return Err(
                            "Processor type MetadataExtraction requires dynamic partitioning to be enabled".to_owned()
                        );
                    }
                    pipeline.extraction = Some(parse_extraction(&params)?);
                }
                "AppendDelimiterToRecord" => {
                    only_parameters(kind, &params, &["Delimiter"])?;
                    let delimiter = params.get("Delimiter").map(|v| decode_delimiter(v)).transpose()?;
                    pipeline.delimiter = Some(delimiter.unwrap_or_else(|| b"\n".to_vec()));
                }
                // Lambda, Decompression, CloudWatchLogProcessing: valid in AWS, absent in Rheo.
                _ => return Err(format!("Processor type {kind} is not supported by Rheo")),
            }
        }
        if !enabled {
            pipeline.deaggregation = None;
            pipeline.extraction = None;
            pipeline.delimiter = None;
        }
        Ok(pipeline)
    }

    /// De-aggregate KPL aggregates before anything else, as Firehose does for records read
    /// from a Kinesis data stream. Independent of `ProcessingConfiguration.Enabled`.
    pub fn with_kpl_deaggregation(mut self, on: bool) -> Pipeline {
        self.deaggregate_kpl = on;
        self
    }

    /// Whether records pass through unchanged (the caller can then skip [`Pipeline::split`] and [`Pipeline::finish`]).
    pub fn is_empty(&self) -> bool {
        !self.deaggregate_kpl && self.deaggregation.is_none() && self.extraction.is_none() && self.delimiter.is_none()
    }

    /// The `MetadataExtractionQuery` to evaluate on every record [`Pipeline::split`] yields,
    /// if any. The delivery path evaluates it in a bounded worker process (`crate::jq`),
    /// never in the server's own process.
    pub fn extraction_query(&self) -> Option<&str> {
        self.extraction.as_ref().map(|e| e.query.as_str())
    }

    /// The first steps, in AWS's order: KPL de-aggregation (when enabled), then
    /// `RecordDeAggregation`. A failure fails the whole source record.
    pub fn split(&self, data: &[u8]) -> Result<Vec<Vec<u8>>, ProcessResult> {
        let records: Vec<Vec<u8>> = if self.deaggregate_kpl { kpl_split(data) } else { vec![data.to_vec()] };
        let Some(kind) = &self.deaggregation else { return Ok(records) };
        let mut split = Vec::with_capacity(records.len());
        for record in &records {
            match kind {
                SubRecordType::Json => match split_json(record) {
                    Ok(parts) => split.extend(parts),
                    Err(error_message) => {
                        return Err(ProcessResult::Failed {
                            error_code: DEAGGREGATION_FAILED.to_owned(),
                            error_message,
                        })
                    }
                },
                SubRecordType::Delimited(delimiter) => split.extend(split_delimited(record, delimiter)),
                SubRecordType::Kpl => split.extend(kpl_split(record)),
            }
        }
        Ok(split)
    }

    /// The last step: pairs the records of [`Pipeline::split`] with their extracted keys
    /// (`None` without `MetadataExtraction`) and appends the delimiter. One record whose
    /// extraction failed fails the whole source record, as in AWS.
    pub fn finish(&self, records: Vec<Vec<u8>>, keys: Option<Vec<Result<PartitionKeys, String>>>) -> ProcessResult {
        let mut keys = keys.map(Vec::into_iter);
        let mut out = Vec::with_capacity(records.len());
        for mut data in records {
            let partition_keys = match keys.as_mut().map(|k| k.next()) {
                None => BTreeMap::new(),
                Some(Some(Ok(keys))) => keys,
                Some(Some(Err(error_message))) => {
                    return ProcessResult::Failed { error_code: METADATA_EXTRACTION_FAILED.to_owned(), error_message }
                }
                Some(None) => {
                    return ProcessResult::Failed {
                        error_code: METADATA_EXTRACTION_FAILED.to_owned(),
                        error_message: "MetadataExtractionQuery was not evaluated".to_owned(),
                    }
                }
            };
            if let Some(delimiter) = &self.delimiter {
                data.extend_from_slice(delimiter);
            }
            out.push(Processed { data, partition_keys });
        }
        ProcessResult::Ok(out)
    }

    /// Runs one source record through every processor, evaluating jq in this process.
    /// Only for tests: an unbounded query could exhaust this process's memory or stack.
    #[cfg(test)]
    pub(crate) fn process(&self, data: &[u8]) -> ProcessResult {
        let records = match self.split(data) {
            Ok(records) => records,
            Err(failed) => return failed,
        };
        let keys = match &self.extraction {
            Some(e) => match compile_query(&e.query) {
                Ok(filter) => Some(records.iter().map(|r| extract(&filter, r)).collect()),
                Err(message) => Some(vec![Err(message)]),
            },
            None => None,
        };
        self.finish(records, keys)
    }
}

/// Checks names against the `ParameterName` enum, value lengths, and duplicates.
fn validate_parameters(spec: &ProcessorSpec) -> Result<BTreeMap<&str, &str>, String> {
    let mut params = BTreeMap::new();
    for (name, value) in &spec.parameters {
        if !PARAMETER_NAMES.contains(&name.as_str()) {
            return Err(format!(
                "Processor parameter name {name} is not valid. Valid names are: {}",
                PARAMETER_NAMES.join(", ")
            ));
        }
        let len = value.chars().count();
        if !(MIN_PARAMETER_VALUE_LEN..=MAX_PARAMETER_VALUE_LEN).contains(&len) || value.trim().is_empty() {
            return Err(format!(
                "Value for processor parameter {name} must be a non-blank string of \
                 {MIN_PARAMETER_VALUE_LEN} to {MAX_PARAMETER_VALUE_LEN} characters"
            ));
        }
        if params.insert(name.as_str(), value.as_str()).is_some() {
            return Err(format!("Processor parameter {name} is specified more than once for {}", spec.kind));
        }
    }
    Ok(params)
}

/// Rejects parameters that do not belong to the processor type.
fn only_parameters(kind: &str, params: &BTreeMap<&str, &str>, allowed: &[&str]) -> Result<(), String> {
    match params.keys().find(|name| !allowed.contains(name)) {
        Some(name) => Err(format!("Processor parameter {name} is not valid for processor type {kind}")),
        None => Ok(()),
    }
}

fn decode_delimiter(value: &str) -> Result<Vec<u8>, String> {
    match base64::engine::general_purpose::STANDARD.decode(value) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(format!("Delimiter {value} must be a non-empty base64-encoded string")),
    }
}

fn parse_deaggregation(params: &BTreeMap<&str, &str>) -> Result<SubRecordType, String> {
    only_parameters("RecordDeAggregation", params, &["SubRecordType", "Delimiter"])?;
    let kind = match params.get("SubRecordType").copied() {
        Some("JSON") => SubRecordType::Json,
        Some("DELIMITED") => {
            let delimiter = params.get("Delimiter").map(|v| decode_delimiter(v)).transpose()?;
            return Ok(SubRecordType::Delimited(delimiter.unwrap_or_else(|| b"\n".to_vec())));
        }
        Some("KPL") => SubRecordType::Kpl,
        Some(other) => {
            return Err(format!("SubRecordType {other} is not valid. Valid values are: JSON, DELIMITED, KPL"))
        }
        None => return Err("Processor type RecordDeAggregation requires the SubRecordType parameter".to_owned()),
    };
    if params.contains_key("Delimiter") {
        return Err("Processor parameter Delimiter is only valid with SubRecordType DELIMITED".to_owned());
    }
    Ok(kind)
}

fn parse_extraction(params: &BTreeMap<&str, &str>) -> Result<Extraction, String> {
    only_parameters("MetadataExtraction", params, &["MetadataExtractionQuery", "JsonParsingEngine"])?;
    let query = params
        .get("MetadataExtractionQuery")
        .ok_or("Processor type MetadataExtraction requires the MetadataExtractionQuery parameter")?;
    match params.get("JsonParsingEngine").copied() {
        Some(JQ_ENGINE) => {}
        Some(other) => return Err(format!("JsonParsingEngine {other} is not valid. Valid values are: {JQ_ENGINE}")),
        None => return Err("Processor type MetadataExtraction requires the JsonParsingEngine parameter".to_owned()),
    }
    compile_query(query)?;
    Ok(Extraction { query: (*query).to_owned() })
}

/// Compiles a JQ query with jaq's standard library (`strftime`, `strptime`, `todate`, ...).
pub(crate) fn compile_query(query: &str) -> Result<JqFilter, String> {
    let invalid = |detail: String| format!("MetadataExtractionQuery {query} is not a valid JQ expression: {detail}");
    let mut depth = 0usize;
    for c in query.chars() {
        // Counting inside string literals too over-estimates, which only errs on the safe side.
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_QUERY_NESTING {
            return Err(invalid(format!("nested deeper than {MAX_QUERY_NESTING} levels")));
        }
    }
    let tokens = lex::Lexer::new(query).lex().map_err(|errs| {
        invalid(errs.iter().map(|(expect, at)| format!("expected {} at `{}`", expect.as_str(), excerpt(at))).collect())
    })?;
    // A user-defined recursive function overflows the stack at run time, which no error
    // handling can catch; extraction queries are object constructions and need no `def`.
    if tokens_contain_def(&tokens) {
        return Err(invalid("function definitions (def) are not supported".to_owned()));
    }

    let arena = Arena::default();
    let loader = Loader::new(jaq_std::defs().chain(jaq_json::defs()));
    let modules = loader.load(&arena, File { code: query, path: () }).map_err(|errs| {
        let detail = errs
            .iter()
            .map(|(_, e)| match e {
                jaq_core::load::Error::Io(errs) => {
                    errs.iter().map(|(_, msg)| msg.clone()).collect::<Vec<_>>().join("; ")
                }
                jaq_core::load::Error::Lex(errs) => errs
                    .iter()
                    .map(|(expect, at)| format!("expected {} at `{}`", expect.as_str(), excerpt(at)))
                    .collect::<Vec<_>>()
                    .join("; "),
                jaq_core::load::Error::Parse(errs) => errs
                    .iter()
                    .map(|(expect, at)| format!("expected {} at `{}`", expect.as_str(), excerpt(at)))
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect::<Vec<_>>()
            .join("; ");
        invalid(detail)
    })?;
    Compiler::default().with_funs(jaq_std::funs().chain(jaq_json::funs())).compile(modules).map_err(|errs| {
        let detail = errs
            .iter()
            .flat_map(|(_, errs)| errs.iter().map(|(name, undef)| format!("undefined {} {name}", undef.as_str())))
            .collect::<Vec<_>>()
            .join("; ");
        invalid(detail)
    })
}

fn tokens_contain_def(tokens: &[lex::Token<&str>]) -> bool {
    tokens.iter().any(|lex::Token(text, tok)| match tok {
        lex::Tok::Word => *text == "def",
        lex::Tok::Block(inner) => tokens_contain_def(inner),
        lex::Tok::Str(parts) => parts.iter().any(|part| match part {
            lex::StrPart::Term(t) => tokens_contain_def(std::slice::from_ref(t)),
            _ => false,
        }),
        _ => false,
    })
}

/// The start of the unparsed rest of a query, for error messages.
fn excerpt(rest: &str) -> String {
    const EXCERPT_CHARS: usize = 20;
    if rest.is_empty() {
        return "end of query".to_owned();
    }
    rest.chars().take(EXCERPT_CHARS).collect()
}

/// Evaluates a compiled query on one record and turns the resulting object into partition
/// keys. Unbounded in time, memory and stack: the server calls it only inside a jq worker
/// process (`crate::jq`), whose limits contain a runaway query.
pub(crate) fn extract(filter: &JqFilter, record: &[u8]) -> Result<PartitionKeys, String> {
    extract_unbounded_message(filter, record).map_err(|message| truncate_message(&message))
}

/// Cuts an error message to [`MAX_ERROR_MESSAGE_CHARS`]: jaq's messages quote the value
/// at fault, which a query can make as large as it likes.
fn truncate_message(message: &str) -> String {
    match message.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}...", &message[..end]),
        None => message.to_owned(),
    }
}

fn extract_unbounded_message(filter: &JqFilter, record: &[u8]) -> Result<PartitionKeys, String> {
    let input: serde_json::Value =
        serde_json::from_slice(record).map_err(|e| format!("Record is not valid JSON: {e}"))?;
    // chrono panics when `strftime` is given an invalid format specifier (e.g. "%Q");
    // a bad query must fail the record, not take down the worker.
    let outputs = catch_unwind(AssertUnwindSafe(|| {
        let inputs = RcIter::new(core::iter::empty());
        let mut out = filter.run((Ctx::new([], &inputs), Val::from(input)));
        let first = out.next().map(|r| r.map(serde_json::Value::from).map_err(|e| e.to_string()));
        // A second output is pulled only to detect ambiguity, never kept.
        let more = out.next().is_some();
        (first, more)
    }))
    .map_err(|_| "MetadataExtractionQuery panicked while evaluating (invalid strftime format?)".to_owned())?;
    let object = match outputs {
        (None, _) => return Err("MetadataExtractionQuery produced no result".to_owned()),
        (Some(_), true) => return Err("MetadataExtractionQuery produced more than one result".to_owned()),
        (Some(Err(e)), false) => return Err(format!("MetadataExtractionQuery failed: {e}")),
        (Some(Ok(serde_json::Value::Object(object))), false) => object,
        (Some(Ok(other)), false) => {
            return Err(format!("MetadataExtractionQuery must produce a JSON object, got {other}"))
        }
    };
    let mut output_bytes = 0usize;
    object
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => return Err(format!("Partition key {key} evaluated to null")),
                other => return Err(format!("Partition key {key} must be a string, number or boolean, got {other}")),
            };
            output_bytes = output_bytes.saturating_add(key.len() + value.len());
            if output_bytes > JQ_OUTPUT_BYTES_MAX {
                return Err(format!(
                    "MetadataExtractionQuery produced more than {JQ_OUTPUT_BYTES_MAX} bytes of partition keys"
                ));
            }
            Ok((key, value))
        })
        .collect()
}

/// De-aggregates a KPL aggregate, or passes the record through whole. Like the KCL, a record
/// with the magic but a bad checksum or body is taken to be an ordinary user record that
/// happens to start with those bytes.
fn kpl_split(data: &[u8]) -> Vec<Vec<u8>> {
    match kpl::deaggregate(data) {
        Ok(subs) if kpl::is_aggregated(data) => subs.into_iter().map(|s| s.data.to_vec()).collect(),
        _ => vec![data.to_vec()],
    }
}

/// Splits concatenated JSON objects (with or without whitespace between them), keeping each
/// object's exact bytes rather than re-serialising it.
fn split_json(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut stream = serde_json::Deserializer::from_slice(data).into_iter::<serde::de::IgnoredAny>();
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(item) = stream.next() {
        item.map_err(|e| format!("Record is not a sequence of JSON objects: {e}"))?;
        let end = stream.byte_offset();
        // The offset after one value is before the whitespace preceding the next.
        let object = data[start..end].trim_ascii_start();
        if !object.starts_with(b"{") {
            return Err(format!("Sub-record {} is a JSON value but not an object", parts.len()));
        }
        parts.push(object.to_vec());
        start = end;
    }
    Ok(parts)
}

/// Splits on every occurrence of `delimiter`, dropping empty segments so a trailing delimiter
/// (the common case) does not produce an empty record.
fn split_delimited(data: &[u8], delimiter: &[u8]) -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + delimiter.len() <= data.len() {
        if data[i..].starts_with(delimiter) {
            parts.push(&data[start..i]);
            i += delimiter.len();
            start = i;
        } else {
            i += 1;
        }
    }
    parts.push(&data[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec(kind: &str, params: &[(&str, &str)]) -> ProcessorSpec {
        ProcessorSpec {
            kind: kind.to_owned(),
            parameters: params.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        }
    }

    fn extraction(query: &str) -> ProcessorSpec {
        spec("MetadataExtraction", &[("MetadataExtractionQuery", query), ("JsonParsingEngine", JQ_ENGINE)])
    }

    fn ok(result: ProcessResult) -> Vec<Processed> {
        match result {
            ProcessResult::Ok(records) => records,
            ProcessResult::Failed { error_code, error_message } => panic!("failed: {error_code}: {error_message}"),
        }
    }

    fn data(result: ProcessResult) -> Vec<Vec<u8>> {
        ok(result).into_iter().map(|p| p.data).collect()
    }

    fn failed_code(result: ProcessResult) -> String {
        match result {
            ProcessResult::Failed { error_code, .. } => error_code,
            ProcessResult::Ok(records) => panic!("expected failure, got {records:?}"),
        }
    }

    #[test]
    fn pipeline_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Pipeline>();
    }

    #[test]
    fn spec_worked_example() {
        let query = r#"{customer_id:.customer_id,device:.type.device,year:.event_timestamp|strftime("%Y"),month:.event_timestamp|strftime("%m"),day:.event_timestamp|strftime("%d"),hour:.event_timestamp|strftime("%H")}"#;
        let pipeline = Pipeline::new(true, &[extraction(query)], true).unwrap();
        let record = br#"{"type":{"device":"mobile","event":"user_clicked_submit_button"},"customer_id":"1234567890","event_timestamp":1565382027,"region":"sample_region"}"#;
        let out = ok(pipeline.process(record));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data, record.to_vec());
        let expected: BTreeMap<String, String> = crate::test_data::worked_example_keys();
        assert_eq!(out[0].partition_keys, expected);
    }

    #[test]
    fn numbers_and_bools_become_their_json_text() {
        let pipeline = Pipeline::new(true, &[extraction("{n:.n, f:.f, b:.b}")], true).unwrap();
        let out = ok(pipeline.process(br#"{"n":42,"f":1.5,"b":true}"#));
        assert_eq!(out[0].partition_keys["n"], "42");
        assert_eq!(out[0].partition_keys["f"], "1.5");
        assert_eq!(out[0].partition_keys["b"], "true");
    }

    #[test]
    fn extraction_failures_fail_the_record() {
        let pipeline = Pipeline::new(true, &[extraction("{id:.id}")], true).unwrap();
        // Not JSON at all.
        assert_eq!(failed_code(pipeline.process(b"not json")), METADATA_EXTRACTION_FAILED);
        // Missing key evaluates to null.
        assert_eq!(failed_code(pipeline.process(br#"{"other":1}"#)), METADATA_EXTRACTION_FAILED);
        // Runtime error: indexing a number.
        assert_eq!(failed_code(pipeline.process(b"5")), METADATA_EXTRACTION_FAILED);
        // Object-valued key.
        assert_eq!(failed_code(pipeline.process(br#"{"id":{"x":1}}"#)), METADATA_EXTRACTION_FAILED);

        let not_object = Pipeline::new(true, &[extraction(".id")], true).unwrap();
        assert_eq!(failed_code(not_object.process(br#"{"id":"x"}"#)), METADATA_EXTRACTION_FAILED);
        let many = Pipeline::new(true, &[extraction("{id:(.a,.b)}")], true).unwrap();
        assert_eq!(failed_code(many.process(br#"{"a":"1","b":"2"}"#)), METADATA_EXTRACTION_FAILED);
    }

    #[test]
    fn invalid_strftime_format_fails_instead_of_panicking() {
        let pipeline = Pipeline::new(true, &[extraction(r#"{y:.t|strftime("%Q")}"#)], true).unwrap();
        assert_eq!(failed_code(pipeline.process(br#"{"t":0}"#)), METADATA_EXTRACTION_FAILED);
    }

    #[test]
    fn append_delimiter_default_and_custom() {
        let pipeline = Pipeline::new(true, &[spec("AppendDelimiterToRecord", &[])], false).unwrap();
        assert_eq!(data(pipeline.process(b"abc")), vec![b"abc\n".to_vec()]);
        // "IyMjIw==" is "####".
        let pipeline =
            Pipeline::new(true, &[spec("AppendDelimiterToRecord", &[("Delimiter", "IyMjIw==")])], false).unwrap();
        assert_eq!(data(pipeline.process(b"abc")), vec![b"abc####".to_vec()]);
    }

    #[test]
    fn json_deaggregation_keeps_exact_bytes() {
        let pipeline = Pipeline::new(
            true,
            &[spec("AppendDelimiterToRecord", &[]), spec("RecordDeAggregation", &[("SubRecordType", "JSON")])],
            true,
        )
        .unwrap();
        let out = data(pipeline.process(b"{\"a\":1}{\"a\": 2}\n{ \"a\":[3] }\n"));
        assert_eq!(out, vec![b"{\"a\":1}\n".to_vec(), b"{\"a\": 2}\n".to_vec(), b"{ \"a\":[3] }\n".to_vec()]);
    }

    #[test]
    fn json_deaggregation_rejects_bad_input() {
        let pipeline = Pipeline::new(true, &[spec("RecordDeAggregation", &[("SubRecordType", "JSON")])], true).unwrap();
        assert_eq!(failed_code(pipeline.process(b"{\"a\":1}{\"a\"")), DEAGGREGATION_FAILED);
        assert_eq!(failed_code(pipeline.process(b"{\"a\":1} 7")), DEAGGREGATION_FAILED);
    }

    #[test]
    fn delimited_deaggregation() {
        let pipeline = Pipeline::new(
            true,
            &[spec("RecordDeAggregation", &[("SubRecordType", "DELIMITED"), ("Delimiter", "IyMjIw==")])],
            true,
        )
        .unwrap();
        assert_eq!(
            data(pipeline.process(b"a####bc#########d####")),
            vec![b"a".to_vec(), b"bc".to_vec(), b"#d".to_vec()]
        );
        let newline =
            Pipeline::new(true, &[spec("RecordDeAggregation", &[("SubRecordType", "DELIMITED")])], true).unwrap();
        assert_eq!(data(newline.process(b"x\ny\n")), vec![b"x".to_vec(), b"y".to_vec()]);
    }

    #[test]
    fn deaggregation_then_extraction_per_record() {
        let pipeline = Pipeline::new(
            true,
            &[
                extraction("{id:.id}"),
                spec("AppendDelimiterToRecord", &[]),
                spec("RecordDeAggregation", &[("SubRecordType", "JSON")]),
            ],
            true,
        )
        .unwrap();
        let out = ok(pipeline.process(br#"{"id":"a"}{"id":7}"#));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].partition_keys["id"], "a");
        assert_eq!(out[1].partition_keys["id"], "7");
        assert_eq!(out[1].data, b"{\"id\":7}\n".to_vec());
    }

    #[test]
    fn kpl_aggregates_deaggregated_first_for_kinesis_source() {
        let agg = kpl::aggregate(&[
            ("pk".to_owned(), None, br#"{"id":"a"}"#.to_vec()),
            ("pk".to_owned(), None, br#"{"id":"b"}{"id":"c"}"#.to_vec()),
        ]);
        let pipeline = Pipeline::new(
            true,
            &[extraction("{id:.id}"), spec("RecordDeAggregation", &[("SubRecordType", "JSON")])],
            true,
        )
        .unwrap()
        .with_kpl_deaggregation(true);
        let ids: Vec<_> = ok(pipeline.process(&agg)).into_iter().map(|p| p.partition_keys["id"].clone()).collect();
        assert_eq!(ids, vec!["a", "b", "c"]);

        // Without the flag and with processing disabled, records pass through untouched.
        let plain = Pipeline::new(false, &[], false).unwrap();
        assert!(plain.is_empty());
        assert!(!Pipeline::new(false, &[], false).unwrap().with_kpl_deaggregation(true).is_empty());
        assert_eq!(data(plain.process(&agg)), vec![agg.clone()]);

        // A record that merely starts with the magic passes through whole.
        let mut corrupt = agg.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        let kpl_only = Pipeline::new(true, &[], false).unwrap().with_kpl_deaggregation(true);
        assert_eq!(data(kpl_only.process(&corrupt)), vec![corrupt.clone()]);
    }

    #[test]
    fn disabled_configuration_is_validated_but_inert() {
        let pipeline = Pipeline::new(false, &[spec("AppendDelimiterToRecord", &[])], false).unwrap();
        assert!(pipeline.is_empty());
        assert_eq!(data(pipeline.process(b"x")), vec![b"x".to_vec()]);
        assert!(Pipeline::new(false, &[spec("Bogus", &[])], false).is_err());
    }

    #[test]
    fn validation_errors() {
        let err = |specs: &[ProcessorSpec]| Pipeline::new(true, specs, true).unwrap_err();

        assert!(err(&[spec("Bogus", &[])]).contains("Processor type Bogus is not valid"));
        assert_eq!(
            err(&[spec("Lambda", &[("LambdaArn", "arn:aws:lambda:us-east-1:123456789012:function:f")])]),
            "Processor type Lambda is not supported by Rheo"
        );
        assert_eq!(err(&[spec("Decompression", &[])]), "Processor type Decompression is not supported by Rheo");
        assert!(err(&[spec("AppendDelimiterToRecord", &[("Nope", "x")])]).contains("parameter name Nope"));
        assert!(err(&[spec("AppendDelimiterToRecord", &[("Delimiter", "")])]).contains("non-blank"));
        let long = "A".repeat(MAX_PARAMETER_VALUE_LEN + 1);
        assert!(err(&[spec("AppendDelimiterToRecord", &[("Delimiter", &long)])]).contains("5120"));
        assert!(err(&[spec("AppendDelimiterToRecord", &[("Delimiter", "!!!")])]).contains("base64"));
        assert!(err(&[spec("AppendDelimiterToRecord", &[("SubRecordType", "JSON")])]).contains("not valid for"));
        assert!(err(&[spec("AppendDelimiterToRecord", &[]), spec("AppendDelimiterToRecord", &[])])
            .contains("more than once"));

        assert!(err(&[spec("RecordDeAggregation", &[])]).contains("requires the SubRecordType"));
        assert!(err(&[spec("RecordDeAggregation", &[("SubRecordType", "XML")])]).contains("SubRecordType XML"));
        assert!(err(&[spec("RecordDeAggregation", &[("SubRecordType", "JSON"), ("Delimiter", "Cg==")])])
            .contains("only valid with SubRecordType DELIMITED"));

        let bad_engine =
            spec("MetadataExtraction", &[("MetadataExtractionQuery", "{a:.a}"), ("JsonParsingEngine", "JQ-1.5")]);
        assert!(err(&[bad_engine]).contains("JsonParsingEngine JQ-1.5"));
        assert!(err(&[spec("MetadataExtraction", &[("JsonParsingEngine", JQ_ENGINE)])])
            .contains("requires the MetadataExtractionQuery"));
        assert!(err(&[spec("MetadataExtraction", &[("MetadataExtractionQuery", "{a:.a}")])])
            .contains("requires the JsonParsingEngine"));
        assert!(err(&[extraction("{a:.a")]).contains("not a valid JQ expression"));
        assert!(err(&[extraction("{a:nosuchfn}")]).contains("not a valid JQ expression"));
        assert!(err(&[extraction("def f: f; {a: f}")]).contains("def"));
        let deep = format!("{}.{}", "(".repeat(2000), ")".repeat(2000));
        assert!(err(&[extraction(&deep)]).contains("nested deeper"));
        assert!(Pipeline::new(true, &[extraction("{a:.a}")], false).unwrap_err().contains("dynamic partitioning"));
    }
}
