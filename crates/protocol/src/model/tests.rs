//! Stream-level shapes of the newest operations through the codec.

use super::testing::{decode_json, validation_message};
use super::{RecordDistributionStrategy, UpdateStreamRecordDistributionStrategyInput};

const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/s";

#[test]
fn record_distribution_strategy_update_is_validated() {
    let input: UpdateStreamRecordDistributionStrategyInput =
        decode_json(&format!(r#"{{"StreamARN":"{STREAM}","RecordDistributionStrategy":"AUTO"}}"#)).unwrap();
    assert_eq!(input.record_distribution_strategy, RecordDistributionStrategy::Auto);
    assert_eq!(input.stream_id, None);
    assert_eq!(
        validation_message::<UpdateStreamRecordDistributionStrategyInput>(
            r#"{"StreamId":"x","RecordDistributionStrategy":"RANDOM"}"#
        ),
        "3 validation errors detected: \
         Value null at 'streamARN' failed to satisfy constraint: Member must not be null; \
         Value 'x' at 'streamId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9]{20}-[a-z0-9]{3}; \
         Value 'RANDOM' at 'recordDistributionStrategy' failed to satisfy constraint: Member must satisfy enum value set: [AUTO, USER_PARTITION_KEY]"
    );
}
