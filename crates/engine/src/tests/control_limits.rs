//! `--enforce-limits` on the control plane: rates per operation (through the engine's
//! clock), streams CREATING or DELETING at once, and encryption changes per day; none of
//! them without the flag.

use super::*;
use crate::control_rates::ControlOperation;
use crate::limits::{DAY_MS, ENCRYPTION_CHANGES_PER_DAY_MAX, STREAMS_CHANGING_MAX};
use crate::RateTarget;

fn enforcing(lifecycle_ms: u64) -> Harness {
    harness_with(EngineConfig {
        enforce_limits: true,
        create_stream_ms: lifecycle_ms,
        delete_stream_ms: lifecycle_ms,
        ..config()
    })
}

fn on_stream(stream: &StreamRef) -> RateTarget<'_> {
    RateTarget { stream: Some(stream), ..RateTarget::default() }
}

fn is_rate(error: &EngineError, expected_stream: Option<&str>) -> bool {
    matches!(error, EngineError::LimitExceeded(LimitExceeded::Rate { stream, account, .. })
        if stream.as_deref() == expected_stream && account == "000000000000")
}

#[test]
fn account_rates_are_shared_by_all_streams_and_refill_with_the_clock() {
    let h = enforcing(0);
    let (a, b) = (StreamRef::name("a"), StreamRef::name("b"));
    for i in 0..10 {
        let stream = if i % 2 == 0 { &a } else { &b };
        h.engine.admit_control(ControlOperation::DescribeStream, &on_stream(stream)).unwrap();
    }
    let error = h.engine.admit_control(ControlOperation::DescribeStream, &on_stream(&b)).unwrap_err();
    assert!(is_rate(&error, Some("b")), "{error:?}");
    // Another operation has its own budget.
    h.engine.admit_control(ControlOperation::DescribeStreamSummary, &on_stream(&a)).unwrap();
    h.clock.advance_ms(1000);
    h.engine.admit_control(ControlOperation::DescribeStream, &on_stream(&b)).unwrap();
}

#[test]
fn rates_refill_by_monotonic_time_when_the_wall_clock_steps_back() {
    let h = enforcing(0);
    let a = StreamRef::name("a");
    while h.engine.admit_control(ControlOperation::DescribeStream, &on_stream(&a)).is_ok() {}
    // An hour's correction of the wall clock, then a second of real time.
    h.clock.step_back_ms(3_600_000);
    h.clock.advance_ms(1000);
    h.engine.admit_control(ControlOperation::DescribeStream, &on_stream(&a)).unwrap();
}

#[test]
fn calls_naming_no_stream_get_the_account_text() {
    let h = enforcing(0);
    for _ in 0..5 {
        h.engine.admit_control(ControlOperation::ListStreams, &RateTarget::default()).unwrap();
    }
    let error = h.engine.admit_control(ControlOperation::ListStreams, &RateTarget::default()).unwrap_err();
    assert!(is_rate(&error, None), "{error:?}");
    assert!(h.engine.admit_control(ControlOperation::DescribeLimits, &RateTarget::default()).is_ok());
    assert!(h.engine.admit_control(ControlOperation::DescribeLimits, &RateTarget::default()).is_err());
}

#[test]
fn stream_rates_are_per_stream_whether_named_or_by_arn() {
    let h = enforcing(0);
    let arn = h.engine.account().stream_arn("a").into_string();
    let by_arn = StreamRef { name: None, arn: Some(arn) };
    let by_name = StreamRef::name("a");
    for i in 0..5 {
        let stream = if i % 2 == 0 { &by_arn } else { &by_name };
        h.engine.admit_control(ControlOperation::ListStreamConsumers, &on_stream(stream)).unwrap();
    }
    let error = h.engine.admit_control(ControlOperation::ListStreamConsumers, &on_stream(&by_name)).unwrap_err();
    assert!(is_rate(&error, Some("a")), "{error:?}");
    h.engine.admit_control(ControlOperation::ListStreamConsumers, &on_stream(&StreamRef::name("b"))).unwrap();
    // A consumer ARN names its stream.
    let consumer = h.engine.account().consumer_arn("a", "c", 1).into_string();
    let target = RateTarget { consumer_arn: Some(&consumer), ..RateTarget::default() };
    for _ in 0..20 {
        h.engine.admit_control(ControlOperation::DescribeStreamConsumer, &target).unwrap();
    }
    let error = h.engine.admit_control(ControlOperation::DescribeStreamConsumer, &target).unwrap_err();
    assert!(is_rate(&error, Some("a")), "{error:?}");
}

#[test]
fn get_shard_iterator_is_limited_per_shard_as_throughput() {
    let h = enforcing(0);
    let stream = StreamRef::name("s");
    let shard = |id: &'static str| RateTarget { stream: Some(&stream), consumer_arn: None, shard: Some(id) };
    for i in 0..5 {
        // The short and long spellings of a shard id share one budget.
        let id = if i % 2 == 0 { "shardId-000000000000" } else { "0" };
        h.engine.admit_control(ControlOperation::GetShardIterator, &shard(id)).unwrap();
    }
    let error = h.engine.admit_control(ControlOperation::GetShardIterator, &shard("0")).unwrap_err();
    assert!(
        matches!(&error, EngineError::ThroughputExceeded { shard, stream, .. }
            if shard == "shardId-000000000000" && stream == "s"),
        "{error:?}"
    );
    h.engine.admit_control(ControlOperation::GetShardIterator, &shard("shardId-000000000001")).unwrap();
}

#[test]
fn subscribe_to_shard_is_once_per_second_per_consumer_and_shard() {
    let h = enforcing(0);
    let consumer = h.engine.account().consumer_arn("s", "c", 1).into_string();
    let other = h.engine.account().consumer_arn("s", "d", 1).into_string();
    let target = |arn, shard| RateTarget { stream: None, consumer_arn: Some(arn), shard: Some(shard) };
    h.engine.admit_control(ControlOperation::SubscribeToShard, &target(&consumer, "0")).unwrap();
    let error = h.engine.admit_control(ControlOperation::SubscribeToShard, &target(&consumer, "0")).unwrap_err();
    assert!(is_rate(&error, Some("s")), "{error:?}");
    h.engine.admit_control(ControlOperation::SubscribeToShard, &target(&consumer, "1")).unwrap();
    h.engine.admit_control(ControlOperation::SubscribeToShard, &target(&other, "0")).unwrap();
    h.clock.advance_ms(1000);
    h.engine.admit_control(ControlOperation::SubscribeToShard, &target(&consumer, "0")).unwrap();
}

#[test]
fn without_the_flag_no_rate_applies() {
    let h = harness();
    for _ in 0..100 {
        h.engine.admit_control(ControlOperation::DescribeLimits, &RateTarget::default()).unwrap();
        h.engine.check_encryption_change(&StreamRef::name("s")).unwrap();
        h.engine.note_encryption_change(&StreamRef::name("s"));
    }
}

#[tokio::test]
async fn at_most_five_streams_creating_or_deleting() {
    let h = enforcing(10_000);
    for i in 0..STREAMS_CHANGING_MAX {
        create(&h.engine, &format!("s{i}"), 1).await;
    }
    let error = h
        .engine
        .create_stream(CreateStream { name: "more".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::LimitExceeded(LimitExceeded::StreamsChanging { limit: 5, account })
            if account == "000000000000"),
        "{error:?}"
    );
    // Once they are ACTIVE, a stream being deleted counts too.
    h.clock.advance_ms(10_000);
    create(&h.engine, "more", 1).await;
    for i in 0..4 {
        let request = DeleteStream { stream: StreamRef::name(format!("s{i}")), enforce_consumer_deletion: false };
        h.engine.delete_stream(&request).await.unwrap();
    }
    let request = DeleteStream { stream: StreamRef::name("s4"), enforce_consumer_deletion: false };
    let error = h.engine.delete_stream(&request).await.unwrap_err();
    assert!(matches!(error, EngineError::LimitExceeded(LimitExceeded::StreamsChanging { .. })), "{error:?}");
    // Deleting a stream already DELETING again is not a new change.
    let again = DeleteStream { stream: StreamRef::name("s0"), enforce_consumer_deletion: false };
    h.engine.delete_stream(&again).await.unwrap();
    h.clock.advance_ms(10_000);
    h.engine.delete_stream(&request).await.unwrap();
}

#[tokio::test]
async fn without_the_flag_streams_may_all_be_creating() {
    let h = harness_with(EngineConfig { create_stream_ms: 10_000, ..config() });
    for i in 0..STREAMS_CHANGING_MAX * 2 {
        create(&h.engine, &format!("s{i}"), 1).await;
    }
}

#[test]
fn encryption_changes_are_limited_per_stream_and_day() {
    let h = enforcing(0);
    let stream = StreamRef::name("s");
    for _ in 0..ENCRYPTION_CHANGES_PER_DAY_MAX {
        h.engine.check_encryption_change(&stream).unwrap();
        h.engine.note_encryption_change(&stream);
    }
    let error = h.engine.check_encryption_change(&stream).unwrap_err();
    assert!(
        matches!(&error, EngineError::LimitExceeded(LimitExceeded::EncryptionChangesPerDay { stream, limit: 25, .. })
            if stream == "s"),
        "{error:?}"
    );
    h.engine.check_encryption_change(&StreamRef::name("other")).unwrap();
    h.clock.advance_ms(DAY_MS);
    h.engine.check_encryption_change(&stream).unwrap();
}
