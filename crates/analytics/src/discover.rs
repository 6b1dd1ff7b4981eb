//! DiscoverInputSchema: samples a Kinesis stream or a Firehose delivery stream of this
//! Rheo, in-process, and infers a schema from the sample with the mapping's
//! [`crate::mapping::infer`] (format, column names, SQL types, each sampled row parsed).
//!
//! What is not supported is refused with a clear error: an `S3Configuration` sample and an
//! `InputProcessingConfiguration` (Rheo runs no Lambda). Where AWS is silent [DECISION]:
//! a missing starting position means NOW, as AWS's examples send; NOW waits at most
//! [`DISCOVER_WAIT_MS`] for a first record, TRIM_HORIZON samples what the stream holds;
//! TRIM_HORIZON is refused for a delivery stream, as for an input; LAST_STOPPED_POINT
//! names no position outside an application and is refused. Nothing usable in the
//! sample → UnableToDetectSchema with the records sampled.

use std::time::Duration;

use bytes::Bytes;
use rheo_engine::{ReaderStart, StreamReaderRequest};
use rheo_firehose::tap::TapStart;
use rheo_protocol::analytics::model::*;

use crate::config::RecordFormat as MappedFormat;
use crate::error::{AnalyticsError, Result};
use crate::limits::{DISCOVER_SAMPLE_RECORDS, DISCOVER_WAIT_MS, READ_BATCH_BYTES};
use crate::mapping::infer::{infer, InferredSchema};
use crate::service::Analytics;

/// Bytes of records DiscoverInputSchema samples at most: a record that would take the
/// sample past it ends the sample (the answer carries the sample twice, as raw and
/// processed records, so this bounds the answer too) [DECISION; AWS documents no bound].
pub(crate) const DISCOVER_SAMPLE_BYTES_MAX: usize = 4 * 1024 * 1024;

/// The encoding DiscoverInputSchema reports (the only one AWS supports).
const RECORD_ENCODING: &str = "UTF-8";

/// DiscoverInputSchema.
pub(crate) async fn discover(
    analytics: &Analytics,
    request: DiscoverInputSchemaRequest,
) -> Result<DiscoverInputSchemaResponse> {
    if request.input_processing_configuration.is_some() {
        return Err(AnalyticsError::LambdaUnsupported { member: "InputProcessingConfiguration" });
    }
    if request.s3_configuration.is_some() {
        return Err(AnalyticsError::InvalidArgument(
            "DiscoverInputSchema from an S3 object is not supported by Rheo yet; sample a stream instead.".into(),
        ));
    }
    let arn = request
        .resource_arn
        .ok_or_else(|| AnalyticsError::InvalidArgument("DiscoverInputSchema needs a ResourceARN to sample.".into()))?;
    let position = request.input_starting_position_configuration.and_then(|c| c.input_starting_position);
    let records = sample(analytics, &arn, position.unwrap_or(InputStartingPosition::Now)).await?;
    let inferred = infer(&records);
    // The sample as text, once: the bytes go as their text is made (the answer lists
    // it twice, raw and processed, which are the same without a Lambda processor).
    let raw: Vec<String> = records.into_iter().map(|record| String::from_utf8_lossy(&record).into_owned()).collect();
    let Some(InferredSchema { schema, parsed }) = inferred else {
        return Err(AnalyticsError::UnableToDetectSchema { processed: raw.clone(), raw });
    };
    let mapping_parameters = match &schema.format {
        MappedFormat::Json { row_path } => MappingParameters {
            json_mapping_parameters: Some(JSONMappingParameters { record_row_path: row_path.clone() }),
            csv_mapping_parameters: None,
        },
        MappedFormat::Csv { row_delimiter, column_delimiter } => MappingParameters {
            json_mapping_parameters: None,
            csv_mapping_parameters: Some(CSVMappingParameters {
                record_row_delimiter: row_delimiter.clone(),
                record_column_delimiter: column_delimiter.clone(),
            }),
        },
    };
    let record_format_type = match schema.format {
        MappedFormat::Json { .. } => RecordFormatType::Json,
        MappedFormat::Csv { .. } => RecordFormatType::Csv,
    };
    let input_schema = SourceSchema {
        record_format: RecordFormat { record_format_type, mapping_parameters: Some(mapping_parameters) },
        record_encoding: Some(RECORD_ENCODING.to_owned()),
        record_columns: schema
            .columns
            .iter()
            .map(|column| RecordColumn {
                name: column.name.clone(),
                mapping: column.mapping.clone(),
                // As `RecordColumns[].SqlType` spells it (`VARCHAR(8)`).
                sql_type: column.sql_type.to_string(),
            })
            .collect(),
    };
    // A value that is missing or does not fit is shown empty: the wire list holds strings.
    let parsed = parsed.into_iter().map(|row| row.into_iter().map(Option::unwrap_or_default).collect()).collect();
    Ok(DiscoverInputSchemaResponse {
        input_schema: Some(input_schema),
        parsed_input_records: Some(parsed),
        processed_input_records: Some(raw.clone()),
        raw_input_records: Some(raw),
    })
}

/// Up to [`DISCOVER_SAMPLE_RECORDS`] records of the stream or delivery stream `arn` names.
async fn sample(analytics: &Analytics, arn: &str, position: InputStartingPosition) -> Result<Vec<Bytes>> {
    let owner = analytics.owner();
    let wait = Duration::from_millis(DISCOVER_WAIT_MS);
    // Only NOW waits: from TRIM_HORIZON, what the stream holds is the whole sample.
    let wait_for_new = position == InputStartingPosition::Now;
    if let Some(name) = owner.resource_name(arn, "kinesis", "stream") {
        let start = match position {
            InputStartingPosition::Now => ReaderStart::Latest,
            InputStartingPosition::TrimHorizon => ReaderStart::TrimHorizon,
            InputStartingPosition::LastStoppedPoint => return Err(no_last_stopped_point()),
        };
        let request = StreamReaderRequest { stream_name: name.to_owned(), start };
        let mut reader = analytics
            .engine()
            .stream_reader(request)
            .map_err(|error| AnalyticsError::InvalidArgument(format!("Stream {name} cannot be read: {error}.")))?;
        let mut records = Sample::default();
        let mut waited = false;
        while records.wants_more() {
            let batch = reader
                .next_batch(records.records_left(), records.bytes_left())
                .map_err(|error| AnalyticsError::InvalidArgument(format!("Stream {name} cannot be read: {error}.")))?;
            match batch {
                Some(batch) => records.extend(batch.records.into_iter().map(|record| record.data)),
                None if records.records.is_empty() && !waited && wait_for_new => {
                    waited = true;
                    let _ = tokio::time::timeout(wait, reader.wait()).await;
                }
                None => break,
            }
        }
        return Ok(records.records);
    }
    if let Some(name) = owner.resource_name(arn, "firehose", "deliverystream") {
        let firehose = analytics.firehose().ok_or_else(|| {
            AnalyticsError::InvalidArgument(
                "Firehose is not enabled on this Rheo; there is no delivery stream to sample.".into(),
            )
        })?;
        let start = match position {
            InputStartingPosition::Now => TapStart::Latest,
            InputStartingPosition::TrimHorizon => {
                return Err(AnalyticsError::InvalidArgument(
                    "TRIM_HORIZON is not supported for a Firehose delivery stream.".into(),
                ))
            }
            InputStartingPosition::LastStoppedPoint => return Err(no_last_stopped_point()),
        };
        let cannot = |error: rheo_firehose::FirehoseError| {
            AnalyticsError::InvalidArgument(format!("Delivery stream {name} cannot be read: {error}."))
        };
        let mut tap = firehose.tap(name, start).map_err(cannot)?;
        let mut records = Sample::default();
        let mut waited = false;
        while records.wants_more() {
            match tap.next_batch(records.records_left(), records.bytes_left()).map_err(cannot)? {
                Some(batch) => records.extend(batch.into_iter().map(|record| record.data)),
                None if records.records.is_empty() && !waited => {
                    waited = true;
                    let _ = tokio::time::timeout(wait, tap.wait()).await;
                }
                None => break,
            }
        }
        return Ok(records.records);
    }
    Err(AnalyticsError::InvalidArgument(format!("ResourceARN {arn} names no stream or delivery stream of this Rheo.")))
}

/// Records sampled so far, within [`DISCOVER_SAMPLE_RECORDS`] and
/// [`DISCOVER_SAMPLE_BYTES_MAX`].
#[derive(Default)]
struct Sample {
    records: Vec<Bytes>,
    bytes: usize,
    /// A record past the byte bound was met: the sample is over.
    full: bool,
}

impl Sample {
    fn wants_more(&self) -> bool {
        !self.full && self.records.len() < DISCOVER_SAMPLE_RECORDS
    }

    fn records_left(&self) -> usize {
        DISCOVER_SAMPLE_RECORDS.saturating_sub(self.records.len())
    }

    fn bytes_left(&self) -> usize {
        DISCOVER_SAMPLE_BYTES_MAX.saturating_sub(self.bytes).min(READ_BATCH_BYTES)
    }

    /// Takes records in order until one would pass a bound.
    fn extend(&mut self, batch: impl IntoIterator<Item = Bytes>) {
        for record in batch {
            if !self.wants_more() || self.bytes + record.len() > DISCOVER_SAMPLE_BYTES_MAX {
                self.full = true;
                return;
            }
            self.bytes += record.len();
            self.records.push(record);
        }
    }
}

fn no_last_stopped_point() -> AnalyticsError {
    AnalyticsError::InvalidArgument("LAST_STOPPED_POINT names no position outside a running application.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_keeps_to_its_byte_bound() {
        let mut sample = Sample::default();
        let big = Bytes::from(vec![b'x'; DISCOVER_SAMPLE_BYTES_MAX / 2 - 1]);
        let byte = || Bytes::from_static(b"1");
        sample.extend([big.clone(), big, byte(), byte(), byte()]);
        // Two one-byte records fill the bound exactly; the third would pass it.
        assert_eq!(sample.records.len(), 4);
        assert_eq!(sample.bytes, DISCOVER_SAMPLE_BYTES_MAX);
        assert!(sample.bytes <= DISCOVER_SAMPLE_BYTES_MAX);
        assert!(!sample.wants_more());
        let mut sample = Sample::default();
        sample.extend([Bytes::from(vec![b'x'; DISCOVER_SAMPLE_BYTES_MAX + 1])]);
        assert!(sample.records.is_empty() && !sample.wants_more());
    }

    #[test]
    fn the_sample_keeps_to_its_record_bound() {
        let mut sample = Sample::default();
        sample.extend(std::iter::repeat_n(Bytes::from_static(b"{}"), DISCOVER_SAMPLE_RECORDS + 5));
        assert_eq!(sample.records.len(), DISCOVER_SAMPLE_RECORDS);
        assert_eq!(sample.records_left(), 0);
    }
}
