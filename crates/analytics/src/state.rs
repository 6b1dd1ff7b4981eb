//! What an application keeps durably: its configuration as a client gave it (under AWS's
//! member names, so stored folders read back whatever the Rust types become), its version and
//! status, and its inputs' reading positions, inside the metadata settings of one storage
//! stream without shards of the Analytics log (`<data-dir>/analytics`). Its tags are the
//! storage stream's tags. Every change is one atomic metadata replacement; checkpoints
//! edit only the positions, starting from what is committed, so a checkpoint and a
//! control-plane change never undo each other.

use std::collections::BTreeMap;

use rheo_storage::{MetaTxn, StorageError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::OutputFormat;
use crate::lifecycle::{Status, Transition};
use crate::runtime::InputPosition;

/// Key of an application's state in its storage stream's settings.
pub const STATE_KEY: &str = "analytics";

/// Version of the stored form; a later form reads this one.
pub const STATE_FORMAT: u32 = 1;

/// One application's durable state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredApplication {
    pub format: u32,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// `ApplicationVersionId`: 1 at creation, +1 per configuration change.
    pub version: u64,
    pub description: Option<String>,
    /// Empty until a client gives code.
    pub code: String,
    pub inputs: Vec<StoredInput>,
    pub outputs: Vec<StoredOutput>,
    pub reference_sources: Vec<StoredReferenceSource>,
    pub logging_options: Vec<StoredLoggingOption>,
    /// READY or RUNNING: where the application ends up.
    pub status: Status,
    pub transition: Option<Transition>,
    /// Bumped by every start of a run; checkpoints of older runs are ignored.
    pub generation: u64,
    /// Where each input (by id) stopped reading; kept across stops for LAST_STOPPED_POINT.
    pub positions: BTreeMap<String, InputPosition>,
}

/// A Kinesis stream or Firehose delivery stream, or a Lambda function (stored, never run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    KinesisStreams,
    KinesisFirehose,
    Lambda,
}

/// A resource and the role AWS would assume to use it (stored, never assumed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(rename = "Kind")]
    pub kind: ResourceKind,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: String,
    #[serde(rename = "RoleARN")]
    pub role_arn: String,
}

/// `InputStartingPosition` of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StartingPosition {
    Now,
    TrimHorizon,
    LastStoppedPoint,
}

/// `Input` of the model, with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredInput {
    pub id: String,
    pub name_prefix: String,
    pub parallelism: u32,
    pub source: Resource,
    /// `InputProcessingConfiguration.InputLambdaProcessor`.
    pub lambda_processor: Option<Resource>,
    pub schema: StoredSchema,
    /// The position the last StartApplication named (`{}` in Describe before any).
    pub starting_position: Option<StartingPosition>,
}

/// `SourceSchema` of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredSchema {
    pub record_format: StoredRecordFormat,
    pub record_encoding: Option<String>,
    pub record_columns: Vec<StoredColumn>,
}

/// `RecordFormat` of the model, its mapping parameters flattened in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "RecordFormatType")]
pub enum StoredRecordFormat {
    #[serde(rename = "JSON")]
    Json {
        #[serde(rename = "RecordRowPath")]
        record_row_path: Option<String>,
    },
    #[serde(rename = "CSV")]
    Csv {
        #[serde(rename = "RecordRowDelimiter")]
        record_row_delimiter: Option<String>,
        #[serde(rename = "RecordColumnDelimiter")]
        record_column_delimiter: Option<String>,
    },
}

/// `RecordColumn` of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredColumn {
    pub name: String,
    pub mapping: Option<String>,
    pub sql_type: String,
}

/// `Output` of the model, with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredOutput {
    pub id: String,
    pub name: String,
    pub destination: Resource,
    pub format: OutputFormat,
}

/// `ReferenceDataSource` of the model, with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredReferenceSource {
    pub id: String,
    pub table_name: String,
    #[serde(rename = "BucketARN")]
    pub bucket_arn: String,
    pub file_key: String,
    #[serde(rename = "ReferenceRoleARN")]
    pub role_arn: String,
    pub schema: StoredSchema,
}

/// `CloudWatchLoggingOption` of the model, with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredLoggingOption {
    pub id: String,
    #[serde(rename = "LogStreamARN")]
    pub log_stream_arn: String,
    #[serde(rename = "RoleARN")]
    pub role_arn: String,
}

impl StoredApplication {
    /// Reads the state out of stored settings.
    pub fn from_settings(settings: &serde_json::Map<String, Value>) -> Option<StoredApplication> {
        load(settings, STATE_KEY)
    }

    /// Writes the state into settings.
    pub fn store(&self, settings: &mut serde_json::Map<String, Value>) -> Result<(), StorageError> {
        let value =
            serde_json::to_value(self).map_err(|e| StorageError::Rejected(format!("{STATE_KEY} state: {e}")))?;
        settings.insert(STATE_KEY.into(), value);
        Ok(())
    }

    /// Takes a changed configuration (everything but the run's generation and
    /// positions, which only runs change), keeping the positions of the inputs that
    /// still read the same source. When a position is dropped the generation moves on,
    /// so the run still reading the old source cannot save it back.
    pub fn take_configuration(&mut self, changed: StoredApplication) {
        let mut generation = self.generation;
        let mut positions = std::mem::take(&mut self.positions);
        let before = positions.len();
        positions.retain(|id, _| {
            let source = |app: &StoredApplication| app.inputs.iter().find(|i| &i.id == id).map(|i| i.source.clone());
            source(&changed).is_some() && source(&changed) == source(self)
        });
        if positions.len() < before {
            generation += 1;
        }
        *self = StoredApplication { generation, positions, ..changed };
    }

    /// The id a change that creates version `version` gives its `ordinal`-th new element
    /// of a kind (`1.1` for the first input of CreateApplication; plan §4.4).
    pub fn element_id(version: u64, ordinal: usize) -> String {
        format!("{version}.{ordinal}")
    }
}

fn load<T: DeserializeOwned>(settings: &serde_json::Map<String, Value>, key: &str) -> Option<T> {
    serde_json::from_value(settings.get(key)?.clone()).ok()
}

/// Edits the committed state inside a metadata transaction.
pub fn edit<R>(
    txn: &mut MetaTxn<'_>,
    change: impl FnOnce(&mut StoredApplication) -> R,
) -> Result<(StoredApplication, R), StorageError> {
    let mut state = StoredApplication::from_settings(&txn.meta().props.settings)
        .ok_or_else(|| StorageError::Rejected(format!("storage stream without {STATE_KEY} state")))?;
    let result = change(&mut state);
    state.store(&mut txn.props_mut().settings)?;
    Ok((state, result))
}

/// An application with one Kinesis input and a stored position, for tests.
#[cfg(test)]
pub(crate) fn sample() -> StoredApplication {
    let schema = StoredSchema {
        record_format: StoredRecordFormat::Json { record_row_path: Some("$".into()) },
        record_encoding: Some("UTF-8".into()),
        record_columns: vec![StoredColumn {
            name: "referrer".into(),
            mapping: Some("$.referrer".into()),
            sql_type: "VARCHAR(32)".into(),
        }],
    };
    StoredApplication {
        format: STATE_FORMAT,
        created_ms: 1,
        updated_ms: 2,
        version: 3,
        description: None,
        code: String::new(),
        inputs: vec![StoredInput {
            id: "1.1".into(),
            name_prefix: "SOURCE_SQL_STREAM".into(),
            parallelism: 1,
            source: Resource {
                kind: ResourceKind::KinesisStreams,
                resource_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/in".into(),
                role_arn: "arn:aws:iam::000000000000:role/r".into(),
            },
            lambda_processor: None,
            schema,
            starting_position: Some(StartingPosition::LastStoppedPoint),
        }],
        outputs: Vec::new(),
        reference_sources: Vec::new(),
        logging_options: Vec::new(),
        status: Status::Running,
        transition: None,
        generation: 4,
        positions: BTreeMap::from([("1.1".into(), InputPosition::Firehose { stream_uid: 7, next_lsn: 8 })]),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn stored_state_reads_back_and_uses_aws_member_names() {
        let state = sample();
        let mut settings = serde_json::Map::new();
        state.store(&mut settings).unwrap();
        assert_eq!(StoredApplication::from_settings(&settings).unwrap(), state);
        let text = serde_json::to_string(&settings).unwrap();
        for name in ["\"NamePrefix\"", "\"ResourceARN\"", "\"RecordColumns\"", "\"LAST_STOPPED_POINT\"", "\"RUNNING\""]
        {
            assert!(text.contains(name), "{name} in {text}");
        }
    }

    /// State as format 1 stores it: what a folder written today holds must read back
    /// after any change of the Rust types.
    const FORMAT_1: &str = r#"{"format":1,"created_ms":1,"updated_ms":2,"version":3,"description":null,"code":"",
        "inputs":[{"Id":"1.1","NamePrefix":"SOURCE_SQL_STREAM","Parallelism":1,
            "Source":{"Kind":"KinesisStreams","ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/in","RoleARN":"arn:aws:iam::000000000000:role/r"},
            "LambdaProcessor":null,
            "Schema":{"RecordFormat":{"RecordFormatType":"JSON","RecordRowPath":"$"},"RecordEncoding":"UTF-8",
                "RecordColumns":[{"Name":"referrer","Mapping":"$.referrer","SqlType":"VARCHAR(32)"}]},
            "StartingPosition":"LAST_STOPPED_POINT"}],
        "outputs":[],"reference_sources":[],"logging_options":[],"status":"RUNNING","transition":null,"generation":4,
        "positions":{"1.1":{"Firehose":{"stream_uid":7,"next_lsn":8}}}}"#;

    #[test]
    fn format_1_reads_back() {
        let stored: serde_json::Value = serde_json::from_str(FORMAT_1).unwrap();
        let settings = serde_json::Map::from_iter([(STATE_KEY.to_owned(), stored.clone())]);
        assert_eq!(StoredApplication::from_settings(&settings).unwrap(), sample());
        assert_eq!(serde_json::to_value(sample()).unwrap(), stored, "and is written the same way");
    }

    #[test]
    fn settings_without_state_read_as_none() {
        assert!(StoredApplication::from_settings(&serde_json::Map::new()).is_none());
    }

    #[test]
    fn a_configuration_change_keeps_positions_of_unchanged_sources_only() {
        let stored = sample();
        let mut kept = stored.clone();
        let mut changed = stored.clone();
        changed.version += 1;
        changed.code = "-- new".into();
        changed.positions.clear();
        changed.generation = 99;
        kept.take_configuration(changed);
        assert_eq!((kept.positions.clone(), kept.generation, kept.version), (stored.positions.clone(), 4, 4));
        assert_eq!(kept.code, "-- new");

        let mut moved = stored.clone();
        let mut elsewhere = stored.clone();
        elsewhere.inputs[0].source.resource_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/other".into();
        moved.take_configuration(elsewhere);
        assert!(moved.positions.is_empty());
        assert_eq!(moved.generation, 5, "the old run's checkpoints no longer count");
    }

    #[test]
    fn element_ids_are_version_dot_ordinal() {
        assert_eq!(StoredApplication::element_id(1, 1), "1.1");
        assert_eq!(StoredApplication::element_id(4, 2), "4.2");
    }
}
