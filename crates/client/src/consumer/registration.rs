//! Enhanced fan-out's stream consumer: registered unless it exists, then awaited until
//! ACTIVE (the KCL does the same at start).

use std::time::Duration;

use rheo_protocol::model::{
    ConsumerStatus, DescribeStreamConsumerInput, DescribeStreamSummaryInput, RegisterStreamConsumerInput,
};
use tokio::time::Instant;

use super::error::ConsumerError;
use super::retrieval::stream_name_or_arn;
use crate::services::Kinesis;

/// How long a new stream consumer may take to become ACTIVE.
pub const CONSUMER_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// Pause between `DescribeStreamConsumer` calls while waiting.
const CONSUMER_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Registers `consumer_name` on `stream` (a name or an ARN) unless it exists, waits
/// until it is ACTIVE, and returns its ARN.
pub(crate) async fn register_consumer(
    kinesis: &Kinesis,
    stream: &str,
    consumer_name: &str,
) -> Result<String, ConsumerError> {
    let (stream_name, stream_arn) = stream_name_or_arn(stream);
    let summary = kinesis
        .describe_stream_summary(DescribeStreamSummaryInput { stream_name, stream_arn, stream_id: None })
        .await?;
    let stream_arn = summary.stream_description_summary.stream_arn;
    let input = RegisterStreamConsumerInput {
        stream_arn: stream_arn.clone(),
        consumer_name: consumer_name.to_owned(),
        stream_id: None,
        tags: None,
    };
    let mut describe = match kinesis.register_stream_consumer(input).await {
        Ok(out) => DescribeStreamConsumerInput {
            stream_arn: None,
            consumer_name: None,
            consumer_arn: Some(out.consumer.consumer_arn),
            stream_id: None,
        },
        Err(e) if e.error_type() == Some("ResourceInUseException") => DescribeStreamConsumerInput {
            stream_arn: Some(stream_arn),
            consumer_name: Some(consumer_name.to_owned()),
            consumer_arn: None,
            stream_id: None,
        },
        Err(e) => return Err(e.into()),
    };
    let deadline = Instant::now() + CONSUMER_ACTIVE_TIMEOUT;
    loop {
        let description = kinesis.describe_stream_consumer(describe.clone()).await?.consumer_description;
        if description.consumer_status == ConsumerStatus::Active {
            tracing::info!(consumer_arn = %description.consumer_arn, "stream consumer ACTIVE");
            return Ok(description.consumer_arn);
        }
        if Instant::now() >= deadline {
            return Err(ConsumerError::Config(format!(
                "stream consumer {consumer_name} not ACTIVE after {CONSUMER_ACTIVE_TIMEOUT:?}"
            )));
        }
        describe = DescribeStreamConsumerInput {
            stream_arn: None,
            consumer_name: None,
            consumer_arn: Some(description.consumer_arn),
            stream_id: None,
        };
        tokio::time::sleep(CONSUMER_POLL_INTERVAL).await;
    }
}
