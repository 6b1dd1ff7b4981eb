//! Record processors (`ProcessingConfiguration`): de-aggregation, metadata extraction
//! for dynamic partitioning (jq, through the `jaq` crates), and the delimiter.
//!
//! Lambda, Decompression and CloudWatchLogProcessing are refused at configuration time
//! with a clear error rather than accepted and ignored.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, RcIter};
use jaq_json::Val;

/// Largest processor parameter value (AWS model).
const PARAMETER_VALUE_CHARS_MAX: usize = 5120;
/// Most sub-records one record may be split into.
pub const SUB_RECORDS_MAX: usize = 100_000;

/// A processor as configured.
#[derive(Clone, Debug)]
pub struct ProcessorSpec {
    pub kind: String,
    pub parameters: Vec<(String, String)>,
}

/// A processed record and the partition keys extracted from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Processed {
    pub data: Vec<u8>,
    pub partition_keys: BTreeMap<String, String>,
}

/// The outcome for one source record.
#[derive(Clone, Debug, PartialEq)]
pub enum ProcessResult {
    Ok(Vec<Processed>),
    Failed { error_code: String, error_message: String },
}

#[derive(Clone, Debug, PartialEq)]
enum Split {
    Json,
    Delimited(Vec<u8>),
}

/// The processors of one destination, checked.
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    split: Option<Split>,
    /// The jq query; compiled per batch because compiled jaq filters are not `Send`.
    query: Option<String>,
    delimiter: Option<Vec<u8>>,
}

const TYPES: [&str; 6] = [
    "RecordDeAggregation",
    "Decompression",
    "CloudWatchLogProcessing",
    "Lambda",
    "MetadataExtraction",
    "AppendDelimiterToRecord",
];
const PARAMETERS: [&str; 12] = [
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
    "CustomTimeZone",
    "DataMessageExtraction",
];

type Filter = jaq_core::Filter<jaq_core::Native<Val>>;

fn compile(query: &str) -> Result<Filter, String> {
    let loader = Loader::new(jaq_std::defs().chain(jaq_json::defs()));
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code: query, path: () })
        .map_err(|errors| format!("MetadataExtractionQuery does not parse: {} error(s)", errors.len()))?;
    Compiler::default()
        .with_funs(jaq_std::funs().chain(jaq_json::funs()))
        .compile(modules)
        .map_err(|errors| format!("MetadataExtractionQuery does not compile: {} error(s)", errors.len()))
}

fn failed(code: &str, message: impl Into<String>) -> ProcessResult {
    ProcessResult::Failed { error_code: code.to_owned(), error_message: message.into() }
}

impl Pipeline {
    /// Checks processors like AWS; errors are InvalidArgumentException messages.
    pub fn new(enabled: bool, processors: &[ProcessorSpec], dynamic_partitioning: bool) -> Result<Pipeline, String> {
        let mut pipeline = Pipeline::default();
        for processor in processors {
            if !TYPES.contains(&processor.kind.as_str()) {
                return Err(format!(
                    "1 validation error detected: Value '{}' at 'processingConfiguration.processors.member.type' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    processor.kind,
                    TYPES.join(", ")
                ));
            }
            let mut parameters = BTreeMap::new();
            for (name, value) in &processor.parameters {
                if !PARAMETERS.contains(&name.as_str()) {
                    return Err(format!("Unknown processor parameter name: {name}"));
                }
                if value.trim().is_empty() || value.chars().count() > PARAMETER_VALUE_CHARS_MAX {
                    return Err(format!(
                        "Processor parameter {name} must have 1 to {PARAMETER_VALUE_CHARS_MAX} non-blank characters"
                    ));
                }
                parameters.insert(name.as_str(), value.as_str());
            }
            if !enabled {
                continue;
            }
            match processor.kind.as_str() {
                "AppendDelimiterToRecord" => {
                    let delimiter = match parameters.get("Delimiter") {
                        Some(text) => STANDARD.decode(text).map_err(|_| "Delimiter must be base64".to_owned())?,
                        None => b"\n".to_vec(),
                    };
                    pipeline.delimiter = Some(delimiter);
                }
                "RecordDeAggregation" => {
                    pipeline.split = Some(match parameters.get("SubRecordType").copied().unwrap_or("JSON") {
                        "JSON" => Split::Json,
                        "DELIMITED" => Split::Delimited(match parameters.get("Delimiter") {
                            Some(text) => STANDARD.decode(text).map_err(|_| "Delimiter must be base64".to_owned())?,
                            None => b"\n".to_vec(),
                        }),
                        other => return Err(format!("SubRecordType must be JSON or DELIMITED, not {other}")),
                    });
                }
                "MetadataExtraction" => {
                    if !dynamic_partitioning {
                        return Err("MetadataExtraction requires dynamic partitioning to be enabled".into());
                    }
                    match parameters.get("JsonParsingEngine") {
                        Some(&"JQ-1.6") => {}
                        Some(other) => return Err(format!("JsonParsingEngine must be JQ-1.6, not {other}")),
                        None => return Err("MetadataExtraction requires the JsonParsingEngine parameter".into()),
                    }
                    let query = parameters
                        .get("MetadataExtractionQuery")
                        .ok_or("MetadataExtraction requires the MetadataExtractionQuery parameter")?;
                    compile(query)?;
                    pipeline.query = Some((*query).to_owned());
                }
                other => return Err(format!("Processor type {other} is not supported by Rheo")),
            }
        }
        Ok(pipeline)
    }

    /// True when records pass unchanged.
    pub fn is_empty(&self) -> bool {
        self.split.is_none() && self.query.is_none() && self.delimiter.is_none()
    }

    fn split<'a>(&self, data: &'a [u8]) -> Result<Vec<&'a [u8]>, String> {
        match &self.split {
            None => Ok(vec![data]),
            Some(Split::Json) => {
                let mut parts = Vec::new();
                let mut stream = serde_json::Deserializer::from_slice(data).into_iter::<serde::de::IgnoredAny>();
                let mut start = 0;
                while let Some(item) = stream.next() {
                    item.map_err(|e| format!("record is not a sequence of JSON objects: {e}"))?;
                    let end = stream.byte_offset();
                    let text = &data[start..end];
                    let trimmed = text.iter().position(|b| !b.is_ascii_whitespace()).map_or(text, |i| &text[i..]);
                    parts.push(trimmed);
                    start = end;
                    if parts.len() > SUB_RECORDS_MAX {
                        return Err(format!("more than {SUB_RECORDS_MAX} sub-records"));
                    }
                }
                Ok(parts)
            }
            Some(Split::Delimited(delimiter)) => {
                if delimiter.is_empty() {
                    return Ok(vec![data]);
                }
                let mut parts = Vec::new();
                let mut rest = data;
                while let Some(at) = rest.windows(delimiter.len()).position(|w| w == delimiter.as_slice()) {
                    parts.push(&rest[..at]);
                    rest = &rest[at + delimiter.len()..];
                }
                if !rest.is_empty() {
                    parts.push(rest);
                }
                if parts.len() > SUB_RECORDS_MAX {
                    return Err(format!("more than {SUB_RECORDS_MAX} sub-records"));
                }
                Ok(parts)
            }
        }
    }

    fn extract(filter: &Filter, data: &[u8]) -> Result<BTreeMap<String, String>, String> {
        let value: serde_json::Value = serde_json::from_slice(data).map_err(|e| format!("record is not JSON: {e}"))?;
        let inputs = RcIter::new(core::iter::empty());
        let mut outputs = filter.run((Ctx::new([], &inputs), Val::from(value)));
        let result =
            outputs.next().ok_or("the query produced no value")?.map_err(|e| format!("the query failed: {e}"))?;
        let serde_json::Value::Object(map) = serde_json::Value::from(result) else {
            return Err("the query must produce an object".into());
        };
        map.into_iter()
            .map(|(key, value)| match value {
                serde_json::Value::Null => Err(format!("partition key {key} is null")),
                serde_json::Value::String(text) => Ok((key, text)),
                other => Ok((key, other.to_string())),
            })
            .collect()
    }

    /// Processes records in order: de-aggregation, metadata extraction, delimiter.
    pub fn process_all<'a>(&self, records: impl IntoIterator<Item = &'a [u8]>) -> Vec<ProcessResult> {
        let filter = match self.query.as_deref().map(compile).transpose() {
            Ok(filter) => filter,
            Err(error) => {
                return records
                    .into_iter()
                    .map(|_| failed("DynamicPartitioning.MetadataExtractionFailed", error.clone()))
                    .collect()
            }
        };
        records
            .into_iter()
            .map(|data| {
                let parts = match self.split(data) {
                    Ok(parts) => parts,
                    Err(error) => return failed("RecordDeAggregation.Failed", error),
                };
                let mut outputs = Vec::with_capacity(parts.len());
                for part in parts {
                    let partition_keys = match &filter {
                        Some(filter) => match Self::extract(filter, part) {
                            Ok(keys) => keys,
                            Err(error) => return failed("DynamicPartitioning.MetadataExtractionFailed", error),
                        },
                        None => BTreeMap::new(),
                    };
                    let mut out = part.to_vec();
                    if let Some(delimiter) = &self.delimiter {
                        out.extend_from_slice(delimiter);
                    }
                    outputs.push(Processed { data: out, partition_keys });
                }
                ProcessResult::Ok(outputs)
            })
            .collect()
    }

    /// Processes one record.
    pub fn process(&self, data: &[u8]) -> ProcessResult {
        self.process_all([data]).pop().unwrap_or_else(|| failed("Processing.Failed", "no result"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec(kind: &str, parameters: &[(&str, &str)]) -> ProcessorSpec {
        ProcessorSpec {
            kind: kind.into(),
            parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    fn ok(result: ProcessResult) -> Vec<Processed> {
        match result {
            ProcessResult::Ok(out) => out,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_dynamic_partitioning_example() {
        let query = r#"{customer_id:.customer_id,device:.type.device,year:.event_timestamp|strftime("%Y"),month:.event_timestamp|strftime("%m"),day:.event_timestamp|strftime("%d"),hour:.event_timestamp|strftime("%H")}"#;
        let pipeline = Pipeline::new(
            true,
            &[spec("MetadataExtraction", &[("JsonParsingEngine", "JQ-1.6"), ("MetadataExtractionQuery", query)])],
            true,
        )
        .unwrap();
        let record = br#"{"type":{"device":"mobile","event":"user_clicked_submit_button"},"customer_id":"1234567890","event_timestamp":1565382027,"region":"sample_region"}"#;
        let out = ok(pipeline.process(record));
        let keys: Vec<(&str, &str)> = out[0].partition_keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("customer_id", "1234567890"),
                ("day", "09"),
                ("device", "mobile"),
                ("hour", "20"),
                ("month", "08"),
                ("year", "2019")
            ]
        );
        assert_eq!(out[0].data, record);
        assert!(matches!(pipeline.process(b"not json"), ProcessResult::Failed { .. }));
        assert!(matches!(pipeline.process(br#"{"type":{}}"#), ProcessResult::Failed { .. }), "null keys fail");
    }

    #[test]
    fn deaggregation_and_delimiters() {
        let json = Pipeline::new(
            true,
            &[spec("RecordDeAggregation", &[("SubRecordType", "JSON")]), spec("AppendDelimiterToRecord", &[])],
            false,
        )
        .unwrap();
        let out = ok(json.process(b"{\"a\":1}{\"a\":2}\n {\"a\":3}"));
        let data: Vec<&[u8]> = out.iter().map(|p| p.data.as_slice()).collect();
        assert_eq!(data, [&b"{\"a\":1}\n"[..], b"{\"a\":2}\n", b"{\"a\":3}\n"]);
        assert!(matches!(json.process(b"{\"a\":"), ProcessResult::Failed { .. }));
        let delimited = Pipeline::new(
            true,
            &[spec("RecordDeAggregation", &[("SubRecordType", "DELIMITED"), ("Delimiter", "IyMjIw==")])],
            false,
        )
        .unwrap();
        let out = ok(delimited.process(b"a####b####c"));
        assert_eq!(
            out.iter().map(|p| p.data.clone()).collect::<Vec<_>>(),
            [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        let plain = Pipeline::new(false, &[spec("AppendDelimiterToRecord", &[])], false).unwrap();
        assert!(plain.is_empty());
    }

    #[test]
    fn configuration_errors() {
        assert!(Pipeline::new(true, &[spec("Bogus", &[])], false).unwrap_err().contains("enum value set"));
        assert!(Pipeline::new(true, &[spec("Lambda", &[("LambdaArn", "arn:x")])], false)
            .unwrap_err()
            .contains("not supported by Rheo"));
        assert!(Pipeline::new(
            true,
            &[spec("MetadataExtraction", &[("JsonParsingEngine", "JQ-1.5"), ("MetadataExtractionQuery", "{a:.a}")])],
            true
        )
        .is_err());
        assert!(Pipeline::new(
            true,
            &[spec("MetadataExtraction", &[("JsonParsingEngine", "JQ-1.6"), ("MetadataExtractionQuery", "{a:")])],
            true
        )
        .is_err());
        assert!(Pipeline::new(true, &[spec("AppendDelimiterToRecord", &[("Bogus", "x")])], false).is_err());
    }
}
