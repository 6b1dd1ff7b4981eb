//! The control-plane calls a benchmark needs: streams, shards, consumers, queues.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::error::{BenchError, Result};
use crate::http::Client;

/// How often a status is polled while waiting.
const POLL: Duration = Duration::from_millis(20);

/// The stream a run uses.
#[derive(Clone, Debug)]
pub struct StreamHandle {
    /// Name.
    pub name: String,
    /// ARN, when the service reports one.
    pub arn: Option<String>,
    /// Whether this run created it (and so deletes it).
    pub created: bool,
    /// Open shards.
    pub open_shards: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SummaryOut {
    stream_description_summary: StreamState,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeOut {
    stream_description: StreamState,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamState {
    stream_status: String,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    open_shard_count: Option<u64>,
}

fn is_type(error: &BenchError, wanted: &str) -> bool {
    error.error_type() == Some(wanted)
}

async fn describe(client: &mut Client, name: &str) -> Result<StreamState> {
    match client.call::<SummaryOut>("DescribeStreamSummary", &json!({ "StreamName": name })).await {
        Ok(out) => Ok(out.stream_description_summary),
        Err(e) if is_type(&e, "UnknownOperationException") => {
            let out: DescribeOut = client.call("DescribeStream", &json!({ "StreamName": name, "Limit": 1 })).await?;
            Ok(out.stream_description)
        }
        Err(e) => Err(e),
    }
}

/// How a stream the run creates is provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// PROVISIONED with this many shards.
    Provisioned(u32),
    /// ON_DEMAND (the service picks the shards).
    OnDemand,
}

/// Creates `name` with `shards` shards, or reuses it if it exists, and waits until it is
/// ACTIVE.
pub async fn ensure_stream(client: &mut Client, name: &str, shards: u32, timeout: Duration) -> Result<StreamHandle> {
    ensure_stream_with(client, name, Capacity::Provisioned(shards), timeout).await
}

/// Creates `name` with the given capacity, or reuses it if it exists, and waits until it is
/// ACTIVE.
pub async fn ensure_stream_with(
    client: &mut Client,
    name: &str,
    capacity: Capacity,
    timeout: Duration,
) -> Result<StreamHandle> {
    let input = match capacity {
        Capacity::Provisioned(shards) => json!({ "StreamName": name, "ShardCount": shards }),
        Capacity::OnDemand => json!({ "StreamName": name, "StreamModeDetails": { "StreamMode": "ON_DEMAND" } }),
    };
    let created = match client.call::<serde_json::Value>("CreateStream", &input).await {
        Ok(_) => true,
        Err(e) if is_type(&e, "ResourceInUseException") => false,
        Err(e) => return Err(e),
    };
    let deadline = Instant::now() + timeout;
    loop {
        match describe(client, name).await {
            Ok(state) if state.stream_status == "ACTIVE" => {
                if let (false, Capacity::Provisioned(shards)) = (created, capacity) {
                    if let Some(open) = state.open_shard_count.filter(|n| *n != u64::from(shards)) {
                        eprintln!("note: reusing stream {name} with {open} open shards (asked for {shards})");
                    }
                }
                return Ok(StreamHandle {
                    name: name.to_owned(),
                    arn: state.stream_arn,
                    created,
                    open_shards: state.open_shard_count,
                });
            }
            Ok(_) => {}
            // Some services answer Describe* for a stream being created with not-found.
            Err(e) if is_type(&e, "ResourceNotFoundException") => {}
            Err(e) => return Err(e),
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout(format!("stream {name} not ACTIVE after {timeout:?}")));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Deletes a stream and waits (up to `timeout`) until it is gone.
pub async fn delete_stream(
    client: &mut Client,
    name: &str,
    enforce_consumer_deletion: bool,
    timeout: Duration,
) -> Result<()> {
    let input = if enforce_consumer_deletion {
        json!({ "StreamName": name, "EnforceConsumerDeletion": true })
    } else {
        json!({ "StreamName": name })
    };
    match client.call::<serde_json::Value>("DeleteStream", &input).await {
        Ok(_) => {}
        Err(e) if is_type(&e, "ResourceNotFoundException") => return Ok(()),
        Err(e) => return Err(e),
    }
    let deadline = Instant::now() + timeout;
    loop {
        match describe(client, name).await {
            Err(e) if is_type(&e, "ResourceNotFoundException") => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) if Instant::now() > deadline => {
                return Err(BenchError::Timeout(format!("stream {name} still exists after {timeout:?}")))
            }
            Ok(_) => tokio::time::sleep(POLL).await,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsOut {
    #[serde(default)]
    shards: Vec<ShardOut>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShardOut {
    shard_id: String,
    #[serde(default)]
    sequence_number_range: Option<SequenceRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SequenceRange {
    ending_sequence_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeShardsOut {
    stream_description: DescribeShardsInner,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeShardsInner {
    #[serde(default)]
    shards: Vec<ShardOut>,
    #[serde(default)]
    has_more_shards: bool,
}

/// Shard ids of a stream; `open_only` skips closed shards.
pub async fn list_shards(client: &mut Client, name: &str, open_only: bool) -> Result<Vec<String>> {
    let mut shards = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let input = match &next {
            Some(token) => json!({ "NextToken": token, "MaxResults": 10000 }),
            None => json!({ "StreamName": name, "MaxResults": 10000 }),
        };
        let out: ListShardsOut = match client.call("ListShards", &input).await {
            Ok(out) => out,
            Err(e) if is_type(&e, "UnknownOperationException") && next.is_none() => {
                return describe_shards(client, name, open_only).await;
            }
            Err(e) => return Err(e),
        };
        shards.extend(out.shards.into_iter().filter(|s| keep(s, open_only)).map(|s| s.shard_id));
        match out.next_token {
            Some(token) if !token.is_empty() => next = Some(token),
            _ => return Ok(shards),
        }
    }
}

fn keep(shard: &ShardOut, open_only: bool) -> bool {
    !open_only || shard.sequence_number_range.as_ref().is_none_or(|r| r.ending_sequence_number.is_none())
}

async fn describe_shards(client: &mut Client, name: &str, open_only: bool) -> Result<Vec<String>> {
    let mut shards: Vec<String> = Vec::new();
    loop {
        let mut input = json!({ "StreamName": name });
        if let Some(last) = shards.last() {
            input["ExclusiveStartShardId"] = json!(last);
        }
        let out: DescribeShardsOut = client.call("DescribeStream", &input).await?;
        let more = out.stream_description.has_more_shards;
        let page: Vec<ShardOut> = out.stream_description.shards;
        if page.is_empty() {
            return Ok(shards);
        }
        // Keep the last id for paging even if it is filtered out.
        let last_id = page.last().map(|s| s.shard_id.clone());
        shards.extend(page.into_iter().filter(|s| keep(s, open_only)).map(|s| s.shard_id));
        if !more {
            return Ok(shards);
        }
        if let Some(last_id) = last_id {
            if shards.last() != Some(&last_id) {
                shards.push(last_id);
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IteratorOut {
    shard_iterator: Option<String>,
}

/// `GetShardIterator` of type `kind` (`TRIM_HORIZON`, `LATEST`).
pub async fn shard_iterator(client: &mut Client, stream: &str, shard: &str, kind: &str) -> Result<String> {
    let out: IteratorOut = client
        .call("GetShardIterator", &json!({ "StreamName": stream, "ShardId": shard, "ShardIteratorType": kind }))
        .await?;
    out.shard_iterator
        .ok_or(BenchError::BadResponse { operation: "GetShardIterator", detail: "no ShardIterator".into() })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RegisterOut {
    consumer: ConsumerOut,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeConsumerOut {
    consumer_description: ConsumerOut,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConsumerOut {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: String,
    consumer_status: Option<String>,
}

/// Registers an enhanced fan-out consumer and waits until it is ACTIVE; returns its ARN.
pub async fn register_consumer(client: &mut Client, stream_arn: &str, name: &str, timeout: Duration) -> Result<String> {
    let out: RegisterOut =
        client.call("RegisterStreamConsumer", &json!({ "StreamARN": stream_arn, "ConsumerName": name })).await?;
    let arn = out.consumer.consumer_arn;
    let deadline = Instant::now() + timeout;
    loop {
        let out: DescribeConsumerOut = client.call("DescribeStreamConsumer", &json!({ "ConsumerARN": arn })).await?;
        if out.consumer_description.consumer_status.as_deref() == Some("ACTIVE") {
            return Ok(out.consumer_description.consumer_arn);
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout(format!("consumer {name} not ACTIVE after {timeout:?}")));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Deregisters a consumer (errors ignored by callers: the stream is deleted anyway).
pub async fn deregister_consumer(client: &mut Client, consumer_arn: &str) -> Result<()> {
    client.call::<serde_json::Value>("DeregisterStreamConsumer", &json!({ "ConsumerARN": consumer_arn })).await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueOut {
    queue_description: QueueDescriptionOut,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueDescriptionOut {
    #[serde(rename = "QueueARN")]
    queue_arn: String,
    queue_status: String,
}

/// Creates a queue on a stream, delivering from TRIM_HORIZON, and waits until it is ACTIVE;
/// returns its ARN. `visibility_secs` is the queue's VisibilityTimeoutSeconds (the service's
/// default when `None`).
pub async fn create_queue(
    client: &mut Client,
    stream_arn: &str,
    name: &str,
    visibility_secs: Option<u32>,
    timeout: Duration,
) -> Result<String> {
    let mut input = json!({
        "QueueName": name,
        "StreamConfigurationList": [{ "StreamARN": stream_arn, "StartingPosition": { "Type": "TRIM_HORIZON" } }],
    });
    if let Some(seconds) = visibility_secs {
        input["QueueAttributes"] = json!({ "VisibilityTimeoutSeconds": seconds });
    }
    let out: QueueOut = client.call("CreateQueue", &input).await?;
    let arn = out.queue_description.queue_arn;
    let deadline = Instant::now() + timeout;
    loop {
        let out: QueueOut = client.call("DescribeQueue", &json!({ "QueueARN": arn })).await?;
        if out.queue_description.queue_status == "ACTIVE" {
            return Ok(arn);
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout(format!("queue {name} not ACTIVE after {timeout:?}")));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Deletes a queue and waits (up to `timeout`) until it is gone, so that its stream can be
/// deleted next (a stream with queues cannot be).
pub async fn delete_queue(client: &mut Client, arn: &str, timeout: Duration) -> Result<()> {
    match client.call::<serde_json::Value>("DeleteQueue", &json!({ "QueueARN": arn })).await {
        Ok(_) => {}
        Err(e) if is_type(&e, "ResourceNotFoundException") => return Ok(()),
        Err(e) => return Err(e),
    }
    let deadline = Instant::now() + timeout;
    loop {
        match client.call::<serde_json::Value>("DescribeQueue", &json!({ "QueueARN": arn })).await {
            Err(e) if is_type(&e, "ResourceNotFoundException") => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) if Instant::now() > deadline => {
                return Err(BenchError::Timeout(format!("queue {arn} still exists after {timeout:?}")))
            }
            Ok(_) => tokio::time::sleep(POLL).await,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueCountOut {
    stream_description_summary: QueueCountState,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueCountState {
    queue_count: Option<u64>,
}

/// Waits (up to `timeout`) until DescribeStreamSummary counts no queue on the stream: a
/// service may drop a deleted queue from its stream's count a little after the queue itself
/// stops being described, and the stream cannot be deleted before.
pub async fn wait_for_no_queues(client: &mut Client, stream: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let out: QueueCountOut = client.call("DescribeStreamSummary", &json!({ "StreamName": stream })).await?;
        if out.stream_description_summary.queue_count.unwrap_or(0) == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout(format!("stream {stream} still counts queues after {timeout:?}")));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One `ListStreams`, for readiness checks.
pub async fn list_streams(client: &mut Client) -> Result<()> {
    client.call::<serde_json::Value>("ListStreams", &json!({})).await?;
    Ok(())
}
