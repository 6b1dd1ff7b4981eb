//! Shard uids are identities, not LSNs: a stream created after a wide one has a shard uid
//! above its first records' LSNs. Sequence numbers, iterators and readers bound a shard
//! by its creation LSN, so nothing of it is refused or skipped (the stream reader's side:
//! `reader::tests::a_recreated_stream_is_read_from_its_start_and_old_positions_are_dropped`).

use super::*;

const SHARD: &str = "shardId-000000000000";

#[tokio::test]
async fn a_shard_whose_uid_runs_ahead_of_its_records_is_read_whole() {
    let h = harness();
    // Eleven identities but only ten LSNs: every later shard's uid is above its LSNs.
    create(&h.engine, "wide", 10).await;
    let stream = create(&h.engine, "s", 1).await;
    let latest = iterator(&h.engine, &stream, SHARD, IteratorStart::Latest);
    let mut puts = Vec::new();
    for data in ["a", "b"] {
        let put = h
            .engine
            .put_record(PutRecord {
                stream: stream.clone(),
                record: entry("k", data),
                sequence_number_for_ordering: None,
            })
            .await
            .unwrap();
        puts.push(put.placement.sequence_number);
    }
    let snapshot = h.engine.log().streams().into_iter().find(|s| s.name == "s").unwrap();
    assert!(puts[0].lsn < snapshot.shards[0].uid, "the set-up no longer puts the uid above the records");

    assert_eq!(drain(&h.engine, latest).0, ["a", "b"]);
    let at_first = IteratorStart::AtSequenceNumber(Some(puts[0].to_string()));
    assert_eq!(drain(&h.engine, iterator(&h.engine, &stream, SHARD, at_first)).0, ["a", "b"]);
    let description = h
        .engine
        .describe_stream(&DescribeStream { stream: stream.clone(), limit: None, exclusive_start_shard_id: None })
        .unwrap();
    let starting = description.shards[0].starting_sequence_number;
    let at_start = IteratorStart::AtSequenceNumber(Some(starting.to_string()));
    assert_eq!(drain(&h.engine, iterator(&h.engine, &stream, SHARD, at_start)).0, ["a", "b"]);
}
