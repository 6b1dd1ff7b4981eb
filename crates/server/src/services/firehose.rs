//! The Firehose API (`Firehose_20150804.*`, JSON 1.1) on the same port as Kinesis.

use rheo_firehose::Firehose;
use rheo_protocol::firehose::{decode_request, encode_response, FirehoseOperation, FirehoseRequest, FirehoseResponse};
use rheo_protocol::WireError;

use crate::errors::firehose_wire_error;

mod service;
pub use service::FirehoseService;

/// The content type of Firehose requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Runs one Firehose operation on a JSON body and encodes its response. The body is
/// decoded and validated by `rheo_protocol::firehose` (AWS's `SerializationException` and
/// `ValidationException` texts) before the service sees it, then `authorize`d.
pub async fn call(
    firehose: &Firehose,
    operation: FirehoseOperation,
    body: &[u8],
    authorize: impl FnOnce(&FirehoseRequest) -> Result<(), WireError>,
) -> Result<Vec<u8>, WireError> {
    use FirehoseRequest as Rq;
    use FirehoseResponse as Rs;
    let request = decode_request(operation, body).map_err(|error| error.to_wire_error())?;
    authorize(&request)?;
    let result = match request {
        Rq::CreateDeliveryStream(input) => firehose.create_delivery_stream(input).await.map(Rs::CreateDeliveryStream),
        Rq::DeleteDeliveryStream(input) => firehose.delete_delivery_stream(input).await.map(Rs::DeleteDeliveryStream),
        Rq::DescribeDeliveryStream(input) => {
            firehose.describe_delivery_stream(input).await.map(Rs::DescribeDeliveryStream)
        }
        Rq::ListDeliveryStreams(input) => firehose.list_delivery_streams(input).await.map(Rs::ListDeliveryStreams),
        Rq::UpdateDestination(input) => firehose.update_destination(input).await.map(Rs::UpdateDestination),
        Rq::PutRecord(input) => firehose.put_record(input).await.map(Rs::PutRecord),
        Rq::PutRecordBatch(input) => firehose.put_record_batch(input).await.map(Rs::PutRecordBatch),
        Rq::StartDeliveryStreamEncryption(input) => {
            firehose.start_encryption(input).await.map(Rs::StartDeliveryStreamEncryption)
        }
        Rq::StopDeliveryStreamEncryption(input) => {
            firehose.stop_encryption(input).await.map(Rs::StopDeliveryStreamEncryption)
        }
        Rq::TagDeliveryStream(input) => firehose.tag_delivery_stream(input).await.map(Rs::TagDeliveryStream),
        Rq::UntagDeliveryStream(input) => firehose.untag_delivery_stream(input).await.map(Rs::UntagDeliveryStream),
        Rq::ListTagsForDeliveryStream(input) => firehose.list_tags(input).await.map(Rs::ListTagsForDeliveryStream),
    };
    result.map(|response| encode_response(&response)).map_err(|error| {
        let wire = firehose_wire_error(&error);
        if wire.http_status >= 500 {
            tracing::error!(message = "Firehose request failed.", operation = operation.name(), %error);
        }
        wire
    })
}
