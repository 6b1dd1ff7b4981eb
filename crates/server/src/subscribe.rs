//! Serving SubscribeToShard: a task per subscription turns the engine's reads into
//! event-stream messages and feeds them to the response body.
//!
//! ```text
//!  engine ──read──▶ pump task ──frame──▶ mpsc (QUEUE_EVENTS) ──▶ EventBody ──▶ hyper (h1 chunked / h2 DATA)
//!    ▲                 │
//!    └──── wait ───────┘  shard tip (watch), metadata changes, takeover, timers
//! ```
//!
//! - The first message is the `initial-response` event (payload `{}`), queued before
//!   the response headers go out, so it is always first (botocore requires it).
//! - Records are pushed as soon as they are visible: the task sleeps on the shard log's
//!   watch channel, never on a polling timer. An event carries whatever is available, up
//!   to the engine's per-event caps.
//! - When idle, an event without records goes out every heartbeat period (AWS: at least
//!   every 5 s), carrying the continuation sequence number.
//! - The subscription ends after its lifetime (AWS: 5 minutes), at the end of a closed
//!   shard (after an event with `ChildShards`), when the server shuts down, or with an
//!   exception message (`ResourceNotFoundException`, `ResourceInUseException`,
//!   `InternalFailureException`).
//!
//! Back-pressure and memory: the task reads from the log only once it holds a slot in
//! the body queue, so a slow subscriber stops the reads instead of making the server
//! buffer. One subscription holds at most [`QUEUE_EVENTS`] queued frames, the frame
//! hyper is writing, and the one being built: each carries at most
//! [`rheo_engine::limits::SUBSCRIBE_EVENT_BYTES_MAX`] (2 MiB) of record data, about 2.7 MiB
//! once base64-encoded in JSON, so roughly 11 MiB in the worst case (a single record
//! larger than the cap, up to the stream's maximum record size, travels alone).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use rheo_aws::event_stream;
use rheo_engine::{EngineError, RecordOut, Subscription, SubscriptionRead, Wake};
use rheo_protocol::model as wire;
use rheo_protocol::{encode_error, encode_response, encode_subscribe_to_shard_event, ErrorType, Response, WireFormat};
use rheo_storage::StorageError;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::dispatch::{child_shard, millis, record_encryption, sequence};
use crate::errors::wire_error;
use crate::state::AppState;

/// Frames waiting for the response body. Small: the log is the buffer.
pub const QUEUE_EVENTS: usize = 2;

/// How long the last message of a subscription (an exception) may wait for a slow
/// subscriber before the stream is closed without it.
const LAST_FRAME_WAIT_MS: u64 = 5_000;

/// How subscriptions behave; both have flags in the binary.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionConfig {
    /// How long a subscription lasts (AWS: 5 minutes).
    pub lifetime_ms: u64,
    /// An event goes out at least this often, with or without records (AWS: 5 s).
    pub heartbeat_ms: u64,
}

impl Default for SubscriptionConfig {
    fn default() -> Self {
        SubscriptionConfig { lifetime_ms: 300_000, heartbeat_ms: 5_000 }
    }
}

/// The body of a SubscribeToShard response: the frames the pump task queues.
#[derive(Debug)]
pub struct EventBody {
    frames: mpsc::Receiver<Bytes>,
}

impl Body for EventBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.frames.poll_recv(cx).map(|frame| frame.map(|bytes| Ok(Frame::data(bytes))))
    }

    fn size_hint(&self) -> SizeHint {
        // Unknown length: HTTP/1.1 sends it chunked.
        SizeHint::default()
    }
}

/// The `:content-type` of event payloads in `format`.
fn payload_type(format: WireFormat) -> &'static str {
    match format {
        WireFormat::Json => "application/json",
        WireFormat::Cbor => "application/x-amz-cbor-1.1",
    }
}

/// Opens the response body of a subscription and starts its task.
pub(crate) fn start(state: &Arc<AppState>, subscription: Subscription, format: WireFormat) -> EventBody {
    let (frames, body) = mpsc::channel(QUEUE_EVENTS);
    let initial = Response::SubscribeToShard(wire::SubscribeToShardOutput {});
    match event_stream::event("initial-response", payload_type(format), &encode_response(&initial, format)) {
        // The queue is new, so there is room.
        Ok(frame) => {
            let _ = frames.try_send(frame);
            tokio::spawn(pump(state.clone(), subscription, frames, format));
        }
        Err(error) => tracing::error!(message = "Could not frame the initial response.", %error),
    }
    EventBody { frames: body }
}

fn records_event(subscription: &Subscription, records: Vec<RecordOut>, format: WireFormat) -> Option<(Bytes, u64)> {
    let encryption_type = record_encryption(subscription.encrypted());
    let mut bytes = 0u64;
    let records = records
        .into_iter()
        .map(|record| {
            bytes += (record.data.len() + record.partition_key.as_ref().map_or(0, String::len)) as u64;
            wire::Record {
                sequence_number: sequence(record.sequence_number),
                approximate_arrival_timestamp: Some(millis(record.arrival_ms)),
                data: record.data,
                partition_key: record.partition_key,
                encryption_type,
            }
        })
        .collect();
    let event = wire::SubscribeToShardEvent {
        records,
        continuation_sequence_number: Some(sequence(subscription.continuation_sequence_number())),
        millis_behind_latest: subscription.millis_behind_latest().min(i64::MAX as u64) as i64,
        child_shards: None,
    };
    let payload = encode_subscribe_to_shard_event(&event, format);
    match event_stream::event("SubscribeToShardEvent", payload_type(format), &payload) {
        Ok(frame) => Some((frame, bytes)),
        Err(error) => {
            tracing::error!(message = "Could not frame an event.", %error);
            None
        }
    }
}

/// The last event of a closed shard: no records, its children, and no
/// `ContinuationSequenceNumber` (KCL reads a missing one as the shard's end).
fn shard_end_event(children: Vec<wire::ChildShard>) -> wire::SubscribeToShardEvent {
    wire::SubscribeToShardEvent {
        records: Vec::new(),
        continuation_sequence_number: None,
        millis_behind_latest: 0,
        child_shards: Some(children),
    }
}

/// The exception message a subscription ends with. Only ResourceNotFound and
/// ResourceInUse are modelled for the event stream besides KMS errors; anything else
/// is an InternalFailureException.
fn exception_frame(error: &EngineError, format: WireFormat) -> Option<Bytes> {
    let wire = wire_error(error);
    let wire = match (wire.error_type.as_str(), error) {
        ("ResourceNotFoundException" | "ResourceInUseException", _) => wire,
        // The archive's cache has logged the failed fetch; the subscriber learns that the
        // archive is why, and that subscribing again later succeeds.
        (_, EngineError::Storage(StorageError::ArchiveUnavailable { .. })) => {
            ErrorType::InternalFailureException.with_message(error.to_string())
        }
        _ => {
            tracing::error!(message = "Subscription failed.", %error);
            ErrorType::InternalFailureException.with_message("Internal service failure.")
        }
    };
    event_stream::exception(&wire.error_type, payload_type(format), &encode_error(&wire, format)).ok()
}

async fn pump(state: Arc<AppState>, mut subscription: Subscription, frames: mpsc::Sender<Bytes>, format: WireFormat) {
    let metrics = &state.metrics;
    let _open = metrics.subscription_opened();
    let engine = &state.engine;
    let config = state.subscriptions;
    let heartbeat_every = Duration::from_millis(config.heartbeat_ms.max(1));
    let deadline = Instant::now() + Duration::from_millis(config.lifetime_ms);
    let mut shutdown = state.shutdown.subscribe();
    if *shutdown.borrow_and_update() {
        return;
    }
    let heartbeat = tokio::time::sleep(heartbeat_every);
    tokio::pin!(heartbeat);
    // A reserved slot in the body queue: reads happen only while one is held.
    let mut slot: Option<mpsc::Permit<'_, Bytes>> = None;
    let mut read_now = true;
    let mut throttled_until: Option<Instant> = None;
    let ending: Option<EngineError> = loop {
        if read_now && throttled_until.is_none() {
            if let Some(permit) = slot.take() {
                match engine.read_subscription(&mut subscription) {
                    Ok(SubscriptionRead::Records { records, caught_up }) => {
                        // An empty read finds nothing up to the tip: wait for the next change.
                        read_now = !caught_up && !records.is_empty();
                        if records.is_empty() {
                            slot = Some(permit);
                        } else {
                            let count = records.len() as u64;
                            if let Some((frame, bytes)) = records_event(&subscription, records, format) {
                                permit.send(frame);
                                metrics.event_pushed(count, bytes);
                            }
                            heartbeat.as_mut().reset(Instant::now() + heartbeat_every);
                        }
                    }
                    Ok(SubscriptionRead::ShardEnd { child_shards }) => {
                        let children: Vec<wire::ChildShard> = child_shards.into_iter().map(child_shard).collect();
                        let payload = encode_subscribe_to_shard_event(&shard_end_event(children), format);
                        if let Ok(frame) = event_stream::event("SubscribeToShardEvent", payload_type(format), &payload)
                        {
                            permit.send(frame);
                            metrics.event_pushed(0, 0);
                        }
                        break None;
                    }
                    Ok(SubscriptionRead::Throttled { wait_ms }) => {
                        slot = Some(permit);
                        throttled_until = Some(Instant::now() + Duration::from_millis(wait_ms));
                    }
                    Err(error) => {
                        slot = Some(permit);
                        break Some(error);
                    }
                }
                continue;
            }
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => break None,
            () = tokio::time::sleep_until(deadline) => break None,
            reserved = frames.reserve(), if slot.is_none() => match reserved {
                Ok(permit) => slot = Some(permit),
                // The subscriber went away.
                Err(_) => return,
            },
            () = frames.closed(), if slot.is_some() => return,
            () = tokio::time::sleep_until(throttled_until.unwrap_or(deadline)), if throttled_until.is_some() => {
                throttled_until = None;
            }
            wake = subscription.wait() => match wake {
                Wake::Records => read_now = true,
                Wake::Changed | Wake::TakenOver | Wake::Gone => match engine.check_subscription(&mut subscription) {
                    Err(error) => break Some(error),
                    Ok(()) if wake == Wake::Gone => {
                        break Some(EngineError::Internal("the shard's log is gone".into()));
                    }
                    Ok(()) => {}
                },
            },
            () = &mut heartbeat, if slot.is_some() => {
                if let Some(permit) = slot.take() {
                    if let Some((frame, _)) = records_event(&subscription, Vec::new(), format) {
                        permit.send(frame);
                        metrics.event_pushed(0, 0);
                    }
                }
                heartbeat.as_mut().reset(Instant::now() + heartbeat_every);
            }
        }
    };
    let Some(error) = ending else { return };
    tracing::debug!(
        message = "Subscription ended with an exception.",
        consumer = %subscription.consumer_arn(),
        shard = %subscription.shard_id(),
        %error
    );
    let Some(frame) = exception_frame(&error, format) else { return };
    match slot {
        Some(permit) => permit.send(frame),
        None => {
            let _ = tokio::time::timeout(Duration::from_millis(LAST_FRAME_WAIT_MS), frames.send(frame)).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rheo_protocol::HashKey;

    use super::*;

    fn children() -> Vec<wire::ChildShard> {
        let child = |id: &str, start: u128, end: u128| wire::ChildShard {
            shard_id: id.into(),
            parent_shards: vec!["shardId-000000000000".into()],
            hash_key_range: wire::HashKeyRange {
                starting_hash_key: HashKey::from_u128(start),
                ending_hash_key: HashKey::from_u128(end),
            },
        };
        vec![
            child("shardId-000000000001", 0, u128::MAX / 2),
            child("shardId-000000000002", u128::MAX / 2 + 1, u128::MAX),
        ]
    }

    /// The CBOR bytes the hand-encoder this replaced wrote for the same children.
    const HAND_ENCODED_CBOR: &str = "a3675265636f72647380724d696c6c6973426568696e644c6174657374006b4368696c6453\
        686172647382a3675368617264496474736861726449642d3030303030303030303030316c506172656e7453686172647381\
        74736861726449642d3030303030303030303030306c486173684b657952616e6765a26f5374617274696e67486173684b65\
        7961306d456e64696e67486173684b65797827313730313431313833343630343639323331373331363837333033373135\
        383834313035373237a3675368617264496474736861726449642d3030303030303030303030326c506172656e7453686172\
        64738174736861726449642d3030303030303030303030306c486173684b657952616e6765a26f5374617274696e67486173\
        684b657978273137303134313138333436303436393233313733313638373330333731353838343130353732386d456e6469\
        6e67486173684b65797827333430323832333636393230393338343633343633333734363037343331373638323131343535";

    /// What the hand-encoder wrote in JSON: the same members, keys sorted (serde_json's map).
    const HAND_ENCODED_JSON: &str = r#"{"ChildShards":[{"HashKeyRange":{"EndingHashKey":"170141183460469231731687303715884105727","StartingHashKey":"0"},"ParentShards":["shardId-000000000000"],"ShardId":"shardId-000000000001"},{"HashKeyRange":{"EndingHashKey":"340282366920938463463374607431768211455","StartingHashKey":"170141183460469231731687303715884105728"},"ParentShards":["shardId-000000000000"],"ShardId":"shardId-000000000002"}],"MillisBehindLatest":0,"Records":[]}"#;

    #[test]
    fn an_archive_that_cannot_serve_a_subscription_ends_it_with_its_text() {
        let error = EngineError::Storage(crate::errors::archive_unavailable());
        let frame = exception_frame(&error, WireFormat::Json).unwrap();
        let text = String::from_utf8_lossy(&frame);
        assert!(text.contains("InternalFailureException"), "{text}");
        assert!(text.contains("s3://bucket/rheo") && text.contains("connection refused"), "{text}");
        // Other internal failures still say nothing of the server's insides.
        let frame = exception_frame(&EngineError::Internal("secret detail".into()), WireFormat::Json).unwrap();
        let text = String::from_utf8_lossy(&frame);
        assert!(text.contains("Internal service failure.") && !text.contains("secret"), "{text}");
    }

    #[test]
    fn the_shard_end_event_encodes_as_the_hand_encoder_did() {
        let event = shard_end_event(children());
        let cbor = encode_subscribe_to_shard_event(&event, WireFormat::Cbor);
        let hex: String = cbor.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, HAND_ENCODED_CBOR.split_whitespace().collect::<String>());

        // JSON: the same document; members now in model order, as every other event's.
        let json = encode_subscribe_to_shard_event(&event, WireFormat::Json);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::from_str::<serde_json::Value>(HAND_ENCODED_JSON).unwrap()
        );
        assert!(json.starts_with(br#"{"Records":[],"MillisBehindLatest":0,"ChildShards":[{"ShardId":"#));
    }
}
