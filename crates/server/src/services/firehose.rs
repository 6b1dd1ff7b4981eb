//! The Firehose API (`Firehose_20150804.*`, JSON 1.1) on the same port as Kinesis.

use rheo_firehose::wire::*;
use rheo_firehose::{Firehose, FirehoseError};
use rheo_protocol::WireError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::errors::firehose_wire_error;

mod service;
pub use service::FirehoseService;

/// The content type of Firehose requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FirehoseError> {
    serde_json::from_slice(body).map_err(|error| FirehoseError::Serialization(error.to_string()))
}

/// Runs one Firehose operation on a JSON body.
pub async fn call(firehose: &Firehose, operation: FirehoseOperation, body: &[u8]) -> Result<Value, WireError> {
    use FirehoseOperation as Op;
    let result = match operation {
        Op::CreateDeliveryStream => match decode(body) {
            Ok(input) => firehose.create_delivery_stream(input).await,
            Err(e) => Err(e),
        },
        Op::DeleteDeliveryStream => match decode(body) {
            Ok(input) => firehose.delete_delivery_stream(input).await,
            Err(e) => Err(e),
        },
        Op::DescribeDeliveryStream => match decode(body) {
            Ok(input) => firehose.describe_delivery_stream(input).await,
            Err(e) => Err(e),
        },
        Op::ListDeliveryStreams => match decode(body) {
            Ok(input) => firehose.list_delivery_streams(input).await,
            Err(e) => Err(e),
        },
        Op::UpdateDestination => match decode(body) {
            Ok(input) => firehose.update_destination(input).await,
            Err(e) => Err(e),
        },
        Op::PutRecord => match decode(body) {
            Ok(input) => firehose.put_record(input).await,
            Err(e) => Err(e),
        },
        Op::PutRecordBatch => match decode(body) {
            Ok(input) => firehose.put_record_batch(input).await,
            Err(e) => Err(e),
        },
        Op::StartDeliveryStreamEncryption => match decode(body) {
            Ok(input) => firehose.start_encryption(input).await,
            Err(e) => Err(e),
        },
        Op::StopDeliveryStreamEncryption => match decode(body) {
            Ok(input) => firehose.stop_encryption(input).await,
            Err(e) => Err(e),
        },
        Op::TagDeliveryStream => match decode(body) {
            Ok(input) => firehose.tag_delivery_stream(input).await,
            Err(e) => Err(e),
        },
        Op::UntagDeliveryStream => match decode(body) {
            Ok(input) => firehose.untag_delivery_stream(input).await,
            Err(e) => Err(e),
        },
        Op::ListTagsForDeliveryStream => match decode(body) {
            Ok(input) => firehose.list_tags(input).await,
            Err(e) => Err(e),
        },
    };
    result.map_err(|error| {
        let wire = firehose_wire_error(&error);
        if wire.http_status >= 500 {
            tracing::error!(message = "Firehose request failed.", operation = operation.name(), %error);
        }
        wire
    })
}
