//! What every destination writes to S3 besides its deliveries: records that failed
//! processing or delivery, as AWS's error documents under the error output prefix, and
//! the unprocessed source records when source record backup is on.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rheo_storage::StoredRecord;
use serde_json::json;

use super::retry::StopSignal;
use super::s3::{compress, object_key, object_name, put_until_written, S3Sink};
use super::{DeliveryContext, FailedRecord};
use crate::metrics::StreamStats;
use crate::prefix::{self, KeyContext};

/// The key of an error object: the evaluated error prefix (or `<output_type>/` when it
/// cannot be evaluated), then AWS's object name.
fn error_key(context: &DeliveryContext<'_>, sink: &S3Sink, arrival_ms: u64, output_type: &str, now_ms: u64) -> String {
    let empty = BTreeMap::new();
    let key_context = KeyContext {
        arrival_ms,
        time_zone: sink.time_zone,
        error_output_type: Some(output_type),
        partition_keys: &empty,
    };
    let prefix =
        prefix::evaluate_error_prefix(sink.error_prefix.as_deref(), sink.prefix.as_deref(), output_type, &key_context)
            .unwrap_or_else(|_| format!("{output_type}/"));
    format!("{prefix}{}", object_name(context, sink, now_ms))
}

/// Writes failed records as AWS's error documents, one JSON object per line; false when
/// the stream stopped first.
pub(crate) async fn write_failures(
    context: &DeliveryContext<'_>,
    sink: &S3Sink,
    output_type: &str,
    failures: &[FailedRecord],
    stop: &mut StopSignal,
) -> bool {
    let Some(first) = failures.first() else { return true };
    let now_ms = context.clock.now_ms();
    let mut body = Vec::new();
    for failure in failures {
        let document = json!({
            "attemptsMade": failure.attempts,
            "arrivalTimestamp": failure.record.arrival_ms,
            "errorCode": failure.error_code,
            "errorMessage": failure.error_message,
            "attemptEndingTimestamp": now_ms,
            "rawData": STANDARD.encode(&failure.record.data),
            "subsequenceNumber": 0,
            "dataId": format!("{}.{}", context.stream_id, failure.record.lsn),
        });
        body.extend_from_slice(document.to_string().as_bytes());
        body.push(b'\n');
    }
    let key = error_key(context, sink, first.record.arrival_ms, output_type, now_ms);
    let Some(body) = compress(context, sink, body).await else { return false };
    let written = put_until_written(context, &sink.bucket, &key, body, stop).await;
    if written {
        StreamStats::add(&context.stats.failed_records, failures.len() as u64);
    }
    written
}

/// Copies the source records, unprocessed, to a backup bucket; false when the stream
/// stopped first.
pub(crate) async fn write_source_backup(
    context: &DeliveryContext<'_>,
    sink: &S3Sink,
    records: &[StoredRecord],
    stop: &mut StopSignal,
) -> bool {
    let Some(first) = records.first() else { return true };
    let body: Vec<u8> = records.iter().flat_map(|r| r.data.iter().copied()).collect();
    let now_ms = context.clock.now_ms();
    let key = match object_key(context, sink, first.arrival_ms, &BTreeMap::new(), now_ms) {
        Ok(key) => key,
        Err(error) => {
            tracing::error!(message = "Backup key could not be built.", stream = %context.stream_name, %error);
            return true;
        }
    };
    let Some(body) = compress(context, sink, body).await else { return false };
    put_until_written(context, &sink.bucket, &key, body, stop).await
}
