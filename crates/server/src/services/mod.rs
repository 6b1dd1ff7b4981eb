//! The AWS services Rheo serves, one [`crate::router::Service`] each. Kinesis is always
//! registered (the server is built around its engine); Firehose, Analytics and DynamoDB
//! when the binary runs them.

pub mod analytics;
pub mod dynamodb;
pub mod firehose;
pub mod kinesis;

use bytes::Bytes;
use rheo_protocol::WireError;

use crate::router::ServiceResponse;

pub use analytics::AnalyticsService;
pub use dynamodb::DynamoDbService;
pub use firehose::FirehoseService;
pub use kinesis::KinesisService;

/// The answer of a JSON service's operation: its encoded response, or its error.
fn json_answer(result: Result<Vec<u8>, WireError>) -> ServiceResponse {
    match result {
        Ok(body) => ServiceResponse::Body(Bytes::from(body)),
        Err(error) => ServiceResponse::Error(error),
    }
}
