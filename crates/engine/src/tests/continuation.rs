//! SubscribeToShard's `ContinuationSequenceNumber` is a resume point (issue 14, item 11):
//! no record's own number, after the event's last record and before any later record, and
//! resuming there with AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER starts at exactly the
//! first record not yet delivered.

use super::*;
use crate::{SequenceNumber, Subscription, SubscriptionRead};

const SHARD: &str = "shardId-000000000000";

/// Orders decimal sequence numbers as numbers.
fn numeric(seq: &SequenceNumber) -> (usize, String) {
    let text = seq.to_string();
    (text.len(), text)
}

fn read_records(h: &Harness, subscription: &mut Subscription) -> Vec<RecordOut> {
    match h.engine.read_subscription(subscription).unwrap() {
        SubscriptionRead::Records { records, .. } => records,
        other => panic!("expected records, got {other:?}"),
    }
}

fn data_of(records: &[RecordOut]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8_lossy(&r.data).into_owned()).collect()
}

async fn put(h: &Harness, stream: &StreamRef, data: &str) -> SequenceNumber {
    let put = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", data), sequence_number_for_ordering: None })
        .await
        .unwrap();
    put.placement.sequence_number
}

/// What GetShardIterator at `start` reads to the shard's current end.
fn read_from(h: &Harness, stream: &StreamRef, start: IteratorStart) -> Vec<String> {
    drain(&h.engine, iterator(&h.engine, stream, SHARD, start)).0
}

/// What a new subscription at `start` delivers first (the previous one was dropped).
async fn subscribe_from(h: &Harness, start: IteratorStart) -> Vec<String> {
    let (_, mut subscription) = subscribed(h, "s", SHARD, start).await;
    data_of(&read_records(h, &mut subscription))
}

#[tokio::test]
async fn the_continuation_is_no_record_and_resumes_exactly_at_the_next_record() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    put(&h, &stream, "a").await;
    put(&h, &stream, "b").await;
    let (_, mut subscription) = subscribed(&h, "s", SHARD, IteratorStart::TrimHorizon).await;
    let delivered = read_records(&h, &mut subscription);
    assert_eq!(data_of(&delivered), ["a", "b"]);
    let continuation = subscription.continuation_sequence_number();
    drop(subscription);

    for record in &delivered {
        assert_ne!(continuation, record.sequence_number);
    }
    let last = delivered[1].sequence_number;
    assert!(numeric(&continuation) > numeric(&last), "{continuation} must follow {last}");
    assert_eq!(continuation.shard_index, 0);

    // A record arriving right after the event: in a one-shard stream it takes the very
    // next LSN, the closest a later record can come.
    let c = put(&h, &stream, "c").await;
    assert_eq!(c.lsn, last.lsn + 1);
    assert!(numeric(&continuation) < numeric(&c), "{continuation} must precede {c}");

    let text = continuation.to_string();
    assert_eq!(read_from(&h, &stream, IteratorStart::AtSequenceNumber(Some(text.clone()))), ["c"]);
    assert_eq!(read_from(&h, &stream, IteratorStart::AfterSequenceNumber(Some(text.clone()))), ["c"]);
    assert_eq!(subscribe_from(&h, IteratorStart::AtSequenceNumber(Some(text.clone()))).await, ["c"]);
    assert_eq!(subscribe_from(&h, IteratorStart::AfterSequenceNumber(Some(text))).await, ["c"]);

    // A record's own number keeps its meaning: AT includes it, AFTER does not.
    let b = last.to_string();
    assert_eq!(read_from(&h, &stream, IteratorStart::AtSequenceNumber(Some(b.clone()))), ["b", "c"]);
    assert_eq!(read_from(&h, &stream, IteratorStart::AfterSequenceNumber(Some(b))), ["c"]);
}

#[tokio::test]
async fn an_event_without_records_resumes_where_the_subscription_stands() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    put(&h, &stream, "old").await;
    let (_, mut subscription) = subscribed(&h, "s", SHARD, IteratorStart::Latest).await;
    assert!(read_records(&h, &mut subscription).is_empty());
    let idle = subscription.continuation_sequence_number();
    drop(subscription);
    let next = put(&h, &stream, "new").await;
    assert!(numeric(&idle) < numeric(&next));
    let text = idle.to_string();
    assert_eq!(read_from(&h, &stream, IteratorStart::AtSequenceNumber(Some(text.clone()))), ["new"]);
    assert_eq!(read_from(&h, &stream, IteratorStart::AfterSequenceNumber(Some(text.clone()))), ["new"]);
    assert_eq!(subscribe_from(&h, IteratorStart::AtSequenceNumber(Some(text))).await, ["new"]);
}

#[tokio::test]
async fn a_continuation_is_refused_on_another_shard() {
    let h = harness();
    let stream = create(&h.engine, "s", 2).await;
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: at_hash(0, "a"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    let (_, mut subscription) = subscribed(&h, "s", SHARD, IteratorStart::TrimHorizon).await;
    assert_eq!(data_of(&read_records(&h, &mut subscription)), ["a"]);
    let continuation = subscription.continuation_sequence_number().to_string();
    let error = h
        .engine
        .get_shard_iterator(&GetShardIterator {
            stream,
            shard_id: "shardId-000000000001".into(),
            start: IteratorStart::AtSequenceNumber(Some(continuation)),
            stray_sequence_number: false,
        })
        .unwrap_err();
    assert!(matches!(invalid_argument(error), InvalidArgument::StartingSequenceNumberShard { .. }));
}
