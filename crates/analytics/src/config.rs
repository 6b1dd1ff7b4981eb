//! An application's configuration in the form the runtime uses: resolved names, parsed
//! types, no wire types. The control plane builds it from what a client sent.

use serde::{Deserialize, Serialize};

use crate::plan::{ColumnDef, APPROXIMATE_ARRIVAL_TIME};
use crate::value::SqlType;

#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    pub name: String,
    pub code: String,
    pub inputs: Vec<InputConfig>,
    pub outputs: Vec<OutputConfig>,
}

/// A streaming input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputConfig {
    /// Its id (`1.1`): positions are checkpointed under it.
    pub id: String,
    /// In-application streams are `<name_prefix>_001` .. `_<parallelism>`.
    pub name_prefix: String,
    pub parallelism: u32,
    pub source: SourceRef,
    pub schema: SourceSchemaDef,
    /// The role it reads as.
    pub access: RoleAccess,
}

/// The role (`RoleARN`) an input reads or an output writes as, and the ARN of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAccess {
    pub role_arn: String,
    pub resource_arn: String,
}

impl InputConfig {
    /// The exact names of the in-application streams this input feeds.
    pub fn in_app_stream_names(&self) -> Vec<String> {
        (1..=self.parallelism).map(|n| format!("{}_{n:03}", self.name_prefix)).collect()
    }
}

/// A stream of this Rheo that an application reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    Kinesis { stream_name: String },
    Firehose { delivery_stream_name: String },
}

/// How records become rows (`InputSchema` / `ReferenceSchema`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSchemaDef {
    pub format: RecordFormat,
    pub columns: Vec<RecordColumn>,
}

impl SourceSchemaDef {
    /// The columns of the in-application streams this schema feeds: its own, then the
    /// system column [`APPROXIMATE_ARRIVAL_TIME`] the mapper appends.
    pub fn in_app_columns(&self) -> Vec<ColumnDef> {
        self.columns
            .iter()
            .map(|column| ColumnDef { name: column.name.clone(), sql_type: column.sql_type, not_null: false })
            .chain(std::iter::once(ColumnDef {
                name: APPROXIMATE_ARRIVAL_TIME.to_owned(),
                sql_type: SqlType::Timestamp,
                not_null: false,
            }))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFormat {
    /// `RecordRowPath`, e.g. `$` or `$.items[0:]`.
    Json {
        row_path: String,
    },
    Csv {
        row_delimiter: String,
        column_delimiter: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordColumn {
    /// The exact column name, as declared (AWS quotes it: case is kept).
    pub name: String,
    pub sql_type: SqlType,
    /// The JSONPath of a JSON input (`$.referrer`); `None` for CSV (by position).
    pub mapping: Option<String>,
}

/// An output: the rows of one in-application stream, written to a destination.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    pub id: String,
    /// The exact in-application stream name (`DESTINATION_SQL_STREAM`, `error_stream`).
    pub stream_name: String,
    pub destination: DestinationRef,
    pub format: OutputFormat,
    /// The role it writes as.
    pub access: RoleAccess,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationRef {
    Kinesis { stream_name: String },
    Firehose { delivery_stream_name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputFormat {
    Json,
    Csv,
}
