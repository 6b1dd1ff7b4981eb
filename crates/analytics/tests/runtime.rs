#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Running applications, the parts that need no SQL evaluation: start-up failures and
//! positions saved at stop and resumed from.

mod engines;
mod runtime_common;

use rheo_analytics::config::SourceRef;
use rheo_analytics::error::AnalyticsError;
use rheo_analytics::runtime::{RunMetrics, StartPosition};
use runtime_common::*;

// ----- Start-up -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_input_stream_fails_the_start() {
    let h = Harness::new();
    let spec =
        spec("app", projection_plan(1), input(kinesis_in("nope"), 1), output(kinesis_out("out")), StartPosition::Now);
    let mut handle = h.runtime.start(spec);
    let error = handle.started().await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidConfiguration(text) if text.contains("nope")), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firehose_input_cannot_start_at_trim_horizon() {
    let h = Harness::new();
    h.create_delivery_stream("in").await;
    let source = SourceRef::Firehose { delivery_stream_name: "in".to_owned() };
    let spec =
        spec("app", projection_plan(1), input(source, 1), output(kinesis_out("out")), StartPosition::TrimHorizon);
    let mut handle = h.runtime.start(spec);
    let error = handle.started().await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{error:?}");
}

// ----- Positions -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_saves_the_position_and_a_start_from_it_reads_only_what_followed() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let make = |start| spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), start);
    let handle = h.start(make(StartPosition::Now)).await;
    h.put_referrers("in", &["a", "b"]).await;
    records_in(&handle, 2).await;
    handle.stop(true).await;
    let saved = h.store.positions("app");

    h.put_referrers("in", &["c"]).await;
    let handle = h.start(make(StartPosition::At(saved["1.1"].clone()))).await;
    records_in(&handle, 1).await;
    let metrics = handle.metrics();
    handle.stop(true).await;
    assert_eq!(RunMetrics::get(&metrics.records_in), 1, "only the record put while stopped is read again");
}
