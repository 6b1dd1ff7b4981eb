#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Running applications end to end inside the process: projections and windows written
//! to streams, windows closed by the timer on idle input, Firehose in and out, a
//! destination missing then created, a stuck application beside a healthy one, a crash
//! resuming at least once, and input parallelism.

mod engines;
mod runtime_common;

use std::collections::BTreeSet;

use rheo_analytics::config::{DestinationRef, SourceRef};
use rheo_analytics::limits::SINK_BACKOFF_MS_MAX;
use rheo_analytics::plan::QueryShape;
use rheo_analytics::runtime::{RunMetrics, StartPosition};
use rheo_analytics::value::SqlType;
use runtime_common::*;

fn sorted(mut rows: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    rows.sort_by_key(|row| row.to_string());
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_records_are_projected_into_the_output_stream() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let spec =
        spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let handle = h.start(spec).await;
    h.put_referrers("in", &["a", "b", "a"]).await;
    let rows = read_kinesis(&h.engine, "out", 3).await;
    assert_eq!(rows, [projected("a", 1), projected("b", 1), projected("a", 1)]);
    // Counted once the write returns, which may be after the reader saw the records.
    let metrics = handle.metrics();
    eventually("rows counted", || RunMetrics::get(&metrics.rows_out) == 3).await;
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_outputs_of_one_stream_each_get_every_row() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    h.create_stream("copy", 1).await;
    let mut spec =
        spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let mut config = (*spec.config).clone();
    let mut copy = output(kinesis_out("copy"));
    copy.id = "1.3".to_owned();
    config.outputs.push(copy);
    spec.config = std::sync::Arc::new(config);
    let handle = h.start(spec).await;
    h.put_referrers("in", &["a", "b"]).await;
    let expected = [projected("a", 1), projected("b", 1)];
    assert_eq!(read_kinesis(&h.engine, "out", 2).await, expected);
    assert_eq!(read_kinesis(&h.engine, "copy", 2).await, expected);
    let metrics = handle.metrics();
    eventually("rows counted", || RunMetrics::get(&metrics.rows_out) == 4).await;
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_closes_on_the_timer_when_the_input_is_idle() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let spec = spec("app", count_plan(), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let handle = h.start(spec).await;
    h.ticker.advance_ms(1_000);
    h.put_referrers("in", &["a", "b", "a"]).await;
    records_in(&handle, 3).await;
    // Still inside the window: nothing is written.
    h.ticker.advance_ms(WINDOW_MS as u64 - 1_001);
    assert_eq!(RunMetrics::get(&handle.metrics().rows_out), 0);
    // The window's end passes with no new record: the timer closes it.
    h.ticker.advance_ms(1);
    let rows = read_kinesis(&h.engine, "out", 2).await;
    assert_eq!(sorted(rows), [counted("a", 2), counted("b", 1)]);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firehose_input_is_read_and_a_firehose_output_written() {
    let h = Harness::new();
    h.create_delivery_stream("in").await;
    h.create_delivery_stream("out").await;
    let source = SourceRef::Firehose { delivery_stream_name: "in".to_owned() };
    let destination = DestinationRef::Firehose { delivery_stream_name: "out".to_owned() };
    let spec = spec("app", projection_plan(1), input(source, 1), output(destination), StartPosition::Now);
    let handle = h.start(spec).await;
    let records = ["x", "y"].iter().map(|r| bytes::Bytes::from(serde_json::json!({"referrer": r}).to_string()));
    h.firehose.append_records("in", records.collect()).await.unwrap();
    let rows = read_firehose(&h.firehose, "out", 2).await;
    assert_eq!(rows, [projected("x", 1), projected("y", 1)]);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_destination_refuses_for_good_is_dropped_and_the_rest_written() {
    let h = Harness::new();
    h.create_delivery_stream("in").await;
    h.create_stream("out", 1).await;
    // A row under ROW_BYTES_MAX whose JSON encoding (six bytes per control character) is
    // past Kinesis's 1 MiB record limit; the Firehose tap takes an input that large.
    let wide = SqlType::Varchar(300_000);
    let mut plan = projection_plan(1);
    plan.streams[0].columns[0].sql_type = wide;
    let destination = plan.streams.len() - 1;
    plan.streams[destination].columns[0].sql_type = wide;
    if let QueryShape::Project(exprs) = &mut plan.pumps[0].query.shape {
        exprs[0].ty = wide;
    }
    let mut input = input(SourceRef::Firehose { delivery_stream_name: "in".to_owned() }, 1);
    input.schema.columns[0].sql_type = wide;
    let handle = h.start(spec("app", plan, input, output(kinesis_out("out")), StartPosition::Now)).await;
    let huge = "\u{1}".repeat(200_000);
    let records = [huge.as_str(), "a"].map(|r| bytes::Bytes::from(serde_json::json!({"referrer": r}).to_string()));
    h.firehose.append_records("in", records.to_vec()).await.unwrap();
    assert_eq!(read_kinesis(&h.engine, "out", 1).await, [projected("a", 1)]);
    let metrics = handle.metrics();
    eventually("the refused record dropped", || RunMetrics::get(&metrics.rows_dropped) == 1).await;
    eventually("the other written", || RunMetrics::get(&metrics.rows_out) == 1).await;
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_destination_is_retried_until_it_exists() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    let spec =
        spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("later")), StartPosition::Now);
    let handle = h.start(spec).await;
    h.put_referrers("in", &["a"]).await;
    let metrics = handle.metrics();
    eventually("a failed write", || RunMetrics::get(&metrics.output_failures) >= 1).await;
    h.create_stream("later", 1).await;
    // The back-off ends on the clock, whatever its current length.
    eventually_advancing(&h, SINK_BACKOFF_MS_MAX, "the row written", || RunMetrics::get(&metrics.rows_out) == 1).await;
    let rows = read_kinesis(&h.engine, "later", 1).await;
    assert_eq!(rows, [projected("a", 1)]);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_application_does_not_hold_up_another() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let stuck =
        spec("stuck", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("gone")), StartPosition::Now);
    let healthy =
        spec("healthy", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let stuck = h.start(stuck).await;
    let healthy = h.start(healthy).await;
    h.put_referrers("in", &["a", "b"]).await;
    let rows = read_kinesis(&h.engine, "out", 2).await;
    assert_eq!(rows, [projected("a", 1), projected("b", 1)]);
    let metrics = stuck.metrics();
    eventually("the stuck output failing", || RunMetrics::get(&metrics.output_failures) >= 1).await;
    assert_eq!(RunMetrics::get(&metrics.rows_out), 0);
    healthy.stop(true).await;
    // A stop without draining does not wait for the stuck destination.
    stuck.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_resumes_from_the_saved_position_and_counts_open_windows_again() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let make = |start| spec("app", count_plan(), input(kinesis_in("in"), 1), output(kinesis_out("out")), start);
    let handle = h.start(make(StartPosition::Now)).await;
    // A run saves where it starts before anything else (a crash before that resumes from
    // what the control plane stored at start).
    let metrics = handle.metrics();
    eventually("the start saved", || RunMetrics::get(&metrics.checkpoints) >= 1).await;
    // A first window closes and its row leaves: the position after it is saved (the
    // interval has passed), which the counter shows.
    h.put_referrers("in", &["x"]).await;
    records_in(&handle, 1).await;
    h.ticker.advance_ms(WINDOW_MS as u64);
    assert_eq!(read_kinesis(&h.engine, "out", 1).await, [counted("x", 1)]);
    eventually("the save past x", || RunMetrics::get(&metrics.checkpoints) >= 2).await;
    h.put_referrers("in", &["a", "a"]).await;
    records_in(&handle, 3).await;
    // Past the checkpoint interval with the window still open: what may be saved is
    // still before the records that window holds.
    h.ticker.advance_ms(2_000);
    h.put_referrers("in", &["b"]).await;
    records_in(&handle, 4).await;
    // Reading "c" in a later turn of the loop shows the turn that read "b" (at a time a
    // save was due) has checked for a save.
    h.put_referrers("in", &["c"]).await;
    records_in(&handle, 5).await;
    assert_eq!(RunMetrics::get(&metrics.checkpoints), 2, "nothing past the open window was saved");
    // A crash: the run ends without a stop.
    drop(handle);
    let saved = h.store.positions("app");

    let handle = h.start(make(StartPosition::At(saved["1.1"].clone()))).await;
    // The open window's records are read again; "x" is not.
    records_in(&handle, 4).await;
    h.put_referrers("in", &["d"]).await;
    records_in(&handle, 5).await;
    h.ticker.advance_ms(WINDOW_MS as u64);
    let rows = read_kinesis(&h.engine, "out", 5).await;
    assert_eq!(rows[0], counted("x", 1));
    assert_eq!(sorted(rows[1..].to_vec()), [counted("a", 2), counted("b", 1), counted("c", 1), counted("d", 1)]);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_are_spread_over_the_input_streams_by_index() {
    let h = Harness::new();
    h.create_stream("in", 2).await;
    h.create_stream("out", 1).await;
    let spec =
        spec("app", projection_plan(2), input(kinesis_in("in"), 2), output(kinesis_out("out")), StartPosition::Now);
    let handle = h.start(spec).await;
    // Two shards split the hash key range in halves.
    let upper = (1u128 << 127).to_string();
    h.put("in", &[("low", Some("0")), ("high", Some(upper.as_str()))]).await;
    let rows: BTreeSet<String> = read_kinesis(&h.engine, "out", 2).await.iter().map(|r| r.to_string()).collect();
    let expected: BTreeSet<String> =
        [projected("low", 1), projected("high", 2)].iter().map(|r| r.to_string()).collect();
    assert_eq!(rows, expected);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_stream_is_an_output_like_any_other() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("errors", 1).await;
    let mut errors = output(kinesis_out("errors"));
    errors.stream_name = rheo_analytics::plan::ERROR_STREAM.to_owned();
    let spec = spec("app", projection_plan(1), input(kinesis_in("in"), 1), errors, StartPosition::Now);
    let handle = h.start(spec).await;
    let stream = rheo_engine::StreamRef { name: Some("in".to_owned()), arn: None };
    let records = vec![rheo_engine::PutEntry {
        partition_key: Some("k".to_owned()),
        explicit_hash_key: None,
        data: bytes::Bytes::from_static(b"not json"),
    }];
    h.engine.put_records(rheo_engine::PutRecords { stream, records }).await.unwrap();
    let rows = read_kinesis(&h.engine, "errors", 1).await;
    assert_eq!(rows[0]["ERROR_NAME"], "PARSE", "{rows:?}");
    assert_eq!(RunMetrics::get(&handle.metrics().mapping_errors), 1);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_discards_open_windows_and_the_restart_counts_their_records_once() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let make = |start| spec("app", count_plan(), input(kinesis_in("in"), 1), output(kinesis_out("out")), start);
    let handle = h.start(make(StartPosition::Now)).await;
    h.put_referrers("in", &["a", "b", "a"]).await;
    records_in(&handle, 3).await;
    // Mid-window: the stop writes no partial row, and saves before the window's records.
    let metrics = handle.metrics();
    handle.stop(true).await;
    assert_eq!(RunMetrics::get(&metrics.rows_out), 0);

    let saved = h.store.positions("app");
    h.put_referrers("in", &["c"]).await;
    let handle = h.start(make(StartPosition::At(saved["1.1"].clone()))).await;
    // The three records of the discarded window are read again, then the new one.
    records_in(&handle, 4).await;
    h.ticker.advance_ms(WINDOW_MS as u64);
    let rows = read_kinesis(&h.engine, "out", 3).await;
    assert_eq!(sorted(rows), [counted("a", 2), counted("b", 1), counted("c", 1)]);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_output_pauses_reading_until_its_destination_takes_records() {
    const RECORDS: u64 = 250;
    const RECORD_BYTES: usize = 100_000;
    let h = Harness::new();
    h.create_stream("in", 1).await;
    // Records that are not JSON become error rows carrying the whole record, so the
    // output queue fills after about OUTPUT_PENDING_BYTES_MAX / RECORD_BYTES records.
    let mut errors = output(kinesis_out("later"));
    errors.stream_name = rheo_analytics::plan::ERROR_STREAM.to_owned();
    let spec = spec("app", projection_plan(1), input(kinesis_in("in"), 1), errors, StartPosition::Now);
    let handle = h.start(spec).await;
    let data = bytes::Bytes::from(vec![b'x'; RECORD_BYTES]);
    for _ in 0..RECORDS / 50 {
        let stream = rheo_engine::StreamRef { name: Some("in".to_owned()), arn: None };
        let record =
            rheo_engine::PutEntry { partition_key: Some("k".to_owned()), explicit_hash_key: None, data: data.clone() };
        h.engine.put_records(rheo_engine::PutRecords { stream, records: vec![record; 50] }).await.unwrap();
    }
    let metrics = handle.metrics();
    eventually("reading paused", || RunMetrics::get(&metrics.read_pauses) >= 1).await;
    // The destination keeps failing; reading stays paused.
    eventually_advancing(&h, SINK_BACKOFF_MS_MAX, "failed writes", || RunMetrics::get(&metrics.output_failures) >= 3)
        .await;
    let read = RunMetrics::get(&metrics.records_in);
    let queue_records = (rheo_analytics::limits::OUTPUT_PENDING_BYTES_MAX / RECORD_BYTES) as u64;
    let batch_records = (rheo_analytics::limits::READ_BATCH_BYTES / RECORD_BYTES) as u64;
    assert!(read <= queue_records + batch_records, "{read} records read past a full output");
    assert!(read < RECORDS);

    h.create_stream("later", 1).await;
    eventually_advancing(&h, SINK_BACKOFF_MS_MAX, "every error row written", || {
        RunMetrics::get(&metrics.rows_out) == RECORDS
    })
    .await;
    assert_eq!(RunMetrics::get(&metrics.records_in), RECORDS);
    handle.stop(true).await;
}

/// Saves into a [`MemoryStore`], but panics at one save: a run whose task fails.
struct PanicsAtSave {
    inner: std::sync::Arc<MemoryStore>,
    saves: std::sync::atomic::AtomicUsize,
    panic_at: usize,
}

impl rheo_analytics::runtime::CheckpointStore for PanicsAtSave {
    fn save<'a>(
        &'a self,
        application: &'a str,
        generation: u64,
        positions: Positions,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), rheo_analytics::error::AnalyticsError>> + Send + 'a>,
    > {
        let save = self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(save != self.panic_at, "a failing run task");
        self.inner.save(application, generation, positions)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_task_panics_runs_again_from_its_saved_positions() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let store = std::sync::Arc::new(PanicsAtSave {
        inner: std::sync::Arc::new(MemoryStore::default()),
        saves: std::sync::atomic::AtomicUsize::new(0),
        panic_at: 1,
    });
    let runtime = rheo_analytics::runtime::Runtime::with_ticker(
        h.engine.clone(),
        Some(h.firehose.clone()),
        h.ticker.clone(),
        store.clone(),
    );
    let spec =
        spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let mut handle = runtime.start(spec);
    handle.started().await.unwrap();
    let metrics = handle.metrics();
    eventually("the start saved", || RunMetrics::get(&metrics.checkpoints) >= 1).await;
    h.put_referrers("in", &["a"]).await;
    assert_eq!(read_kinesis(&h.engine, "out", 1).await, [projected("a", 1)]);
    // The next save panics; the run goes on after the back-off from the start's save, so
    // "a" is read (and written) again: at least once.
    eventually_advancing(&h, 1_000, "the run again", || {
        RunMetrics::get(&metrics.restarts) == 1 && RunMetrics::get(&metrics.records_in) >= 2
    })
    .await;
    h.put_referrers("in", &["b"]).await;
    assert_eq!(read_kinesis(&h.engine, "out", 3).await, [projected("a", 1), projected("a", 1), projected("b", 1)]);
    handle.stop(true).await;
}
