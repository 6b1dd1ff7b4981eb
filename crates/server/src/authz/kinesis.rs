//! Kinesis's authorization table: the IAM action of every operation is `kinesis:` and its
//! name; the resource is what the Service Authorization Reference names for it — the
//! stream (by `StreamARN`, else `StreamName`), the consumer (SubscribeToShard and the
//! consumer operations), the resource ARN of tag and policy operations, or `*` for
//! actions on no resource (ListStreams, DescribeLimits, the account settings). Queues
//! and channels take their own ARNs.
//!
//! The match over [`Request`] is exhaustive: an operation added to the model does not
//! compile until it has its row here.

use rheo_engine::Engine;
use rheo_protocol::Request;

use super::pass_role::with_passed_roles;
use super::{Check, Needs, ANY_RESOURCE};

/// The service prefix of Kinesis's IAM actions.
pub const SERVICE: &str = "kinesis";

/// What `request` needs. `engine` resolves what the request names only indirectly: the
/// stream of a shard iterator, a consumer named by stream ARN and name.
pub fn needs(engine: &Engine, request: &Request) -> Needs {
    let operation = request.operation().name();
    let on = |resource: String| Needs::one(Check::new(SERVICE, operation, resource));
    let stream = |name: &Option<String>, arn: &Option<String>| on(stream_resource(engine, name, arn));
    let any = || on(ANY_RESOURCE.to_owned());
    match request {
        Request::AddTagsToStream(r) => stream(&r.stream_name, &r.stream_arn).with_request_tags(&r.tags),
        Request::CreateStream(r) => {
            let arn = engine.account().stream_arn(&r.stream_name).into_string();
            // Tags given at creation are added with AddTagsToStream's permission too, as
            // the reference lists for CreateStream.
            let mut needs = Needs::one(Check::new(SERVICE, operation, arn.clone()));
            if let Some(tags) = r.tags.as_ref().filter(|tags| !tags.is_empty()) {
                needs.checks.push(Check::new(SERVICE, "AddTagsToStream", arn));
                needs = needs.with_request_tags(tags);
            }
            needs
        }
        Request::DecreaseStreamRetentionPeriod(r) => stream(&r.stream_name, &r.stream_arn),
        Request::DeleteStream(r) => stream(&r.stream_name, &r.stream_arn),
        Request::DescribeStream(r) => stream(&r.stream_name, &r.stream_arn),
        Request::DescribeStreamSummary(r) => stream(&r.stream_name, &r.stream_arn),
        Request::DisableEnhancedMonitoring(r) => stream(&r.stream_name, &r.stream_arn),
        Request::EnableEnhancedMonitoring(r) => stream(&r.stream_name, &r.stream_arn),
        Request::GetRecords(r) => {
            // GetRecords reads the stream its iterator names, whatever StreamARN says: that
            // stream is always authorized. An iterator that does not open is refused by
            // GetRecords itself; `*` is what a policy must allow for it. A StreamARN sent
            // too must be allowed as well, so naming a permitted stream beside another
            // stream's iterator gains nothing.
            let read = engine
                .iterator_stream_arn(&r.shard_iterator)
                .map_or_else(|| ANY_RESOURCE.to_owned(), |arn| arn.into_string());
            let mut needs = on(read.clone());
            if let Some(arn) = r.stream_arn.as_ref().filter(|arn| **arn != read) {
                needs.checks.push(Check::new(SERVICE, operation, arn.clone()));
            }
            needs
        }
        Request::GetShardIterator(r) => stream(&r.stream_name, &r.stream_arn),
        Request::IncreaseStreamRetentionPeriod(r) => stream(&r.stream_name, &r.stream_arn),
        Request::ListShards(r) => match (&r.stream_name, &r.stream_arn, &r.next_token) {
            // With only a NextToken (AWS forbids a stream beside it), the token's stream
            // is the one listed: KCL pages so with a policy on its stream alone.
            (None, None, Some(token)) => on(engine
                .list_shards_token_stream_arn(token)
                .map_or_else(|| ANY_RESOURCE.to_owned(), |arn| arn.into_string())),
            _ => stream(&r.stream_name, &r.stream_arn),
        },
        Request::ListStreamConsumers(r) => on(r.stream_arn.clone()),
        Request::ListTagsForStream(r) => stream(&r.stream_name, &r.stream_arn),
        Request::MergeShards(r) => stream(&r.stream_name, &r.stream_arn),
        Request::PutRecord(r) => stream(&r.stream_name, &r.stream_arn),
        Request::PutRecords(r) => stream(&r.stream_name, &r.stream_arn),
        Request::RegisterStreamConsumer(r) => {
            let needs = on(r.stream_arn.clone());
            match &r.tags {
                Some(tags) => needs.with_request_tags(tags),
                None => needs,
            }
        }
        Request::RemoveTagsFromStream(r) => stream(&r.stream_name, &r.stream_arn).with_tag_keys(&r.tag_keys),
        Request::SplitShard(r) => stream(&r.stream_name, &r.stream_arn),
        Request::StartStreamEncryption(r) => stream(&r.stream_name, &r.stream_arn),
        Request::StopStreamEncryption(r) => stream(&r.stream_name, &r.stream_arn),
        Request::UpdateMaxRecordSize(r) => stream(&None, &r.stream_arn),
        Request::UpdateShardCount(r) => stream(&r.stream_name, &r.stream_arn),
        Request::UpdateStreamMode(r) => on(r.stream_arn.clone()),
        Request::UpdateStreamRecordDistributionStrategy(r) => on(r.stream_arn.clone()),
        Request::UpdateStreamWarmThroughput(r) => stream(&r.stream_name, &r.stream_arn),
        Request::DescribeStreamConsumer(r) => {
            on(consumer_resource(engine, &r.consumer_arn, &r.stream_arn, &r.consumer_name))
        }
        Request::DeregisterStreamConsumer(r) => {
            on(consumer_resource(engine, &r.consumer_arn, &r.stream_arn, &r.consumer_name))
        }
        Request::SubscribeToShard(r) => on(r.consumer_arn.clone()),
        Request::TagResource(r) => on(r.resource_arn.clone()).with_request_tags(&r.tags),
        Request::UntagResource(r) => on(r.resource_arn.clone()).with_tag_keys(&r.tag_keys),
        Request::ListTagsForResource(r) => on(r.resource_arn.clone()),
        Request::PutResourcePolicy(r) => on(r.resource_arn.clone()),
        Request::GetResourcePolicy(r) => on(r.resource_arn.clone()),
        Request::DeleteResourcePolicy(r) => on(r.resource_arn.clone()),
        Request::ListStreams(_)
        | Request::DescribeLimits(_)
        | Request::DescribeAccountSettings(_)
        | Request::UpdateAccountSettings(_)
        | Request::ListQueues(_)
        | Request::ListChannels(_) => any(),
        // A queue hands its streams' records to whoever may receive from it, so creating
        // one needs read access to each stream (Rheo's rule: queues are Rheo's own).
        Request::CreateQueue(r) => {
            reading_streams(any(), r.stream_configuration_list.iter().map(|s| &s.stream_arn), &r.tags)
        }
        Request::DescribeQueue(r) => on(r.queue_arn.clone()),
        Request::UpdateQueue(r) => on(r.queue_arn.clone()),
        Request::DeleteQueue(r) => on(r.queue_arn.clone()),
        Request::ReceiveQueueRecords(r) => on(r.queue_arn.clone()),
        Request::ReceiveDeadLetterQueueRecords(r) => on(r.queue_arn.clone()),
        Request::AcknowledgeQueueRecords(r) => on(r.queue_arn.clone()),
        Request::UpdateQueueRecordsVisibility(r) => on(r.queue_arn.clone()),
        Request::AcknowledgeDeadLetterQueueRecords(r) => on(r.queue_arn.clone()),
        Request::UpdateDeadLetterQueueRecordsVisibility(r) => on(r.queue_arn.clone()),
        Request::RestoreDeadLetterQueueRecords(r) => on(r.queue_arn.clone()),
        // A channel delivers its streams' records elsewhere: the same rule as for queues.
        // It also hands the channel its ServiceExecutionRoleARN: `iam:PassRole` on it.
        Request::CreateChannel(r) => with_passed_roles(
            reading_streams(any(), r.stream_configuration_list.iter().map(|s| &s.stream_arn), &r.tags),
            &rheo_protocol::encode_request(request, rheo_protocol::WireFormat::Json),
        ),
        Request::DescribeChannel(r) => on(r.channel_arn.clone()),
        // UpdateChannel carries no role: its role is CreateChannel's.
        Request::UpdateChannel(r) => on(r.channel_arn.clone()),
        Request::DeleteChannel(r) => on(r.channel_arn.clone()),
    }
}

/// `needs` plus `kinesis:GetRecords` on each of `streams`, and the request's tags.
fn reading_streams<'a>(
    mut needs: Needs,
    streams: impl Iterator<Item = &'a String>,
    tags: &Option<rheo_protocol::model::TagMap>,
) -> Needs {
    needs.checks.extend(streams.map(|arn| Check::new(SERVICE, "GetRecords", arn.clone())));
    match tags {
        Some(tags) => needs.with_request_tags(tags),
        None => needs,
    }
}

/// The stream a request names: its ARN when given (the engine acts on the ARN's stream),
/// else the ARN of its name, else `*` (the call then fails its own validation).
fn stream_resource(engine: &Engine, name: &Option<String>, arn: &Option<String>) -> String {
    match (arn, name) {
        (Some(arn), _) => arn.clone(),
        (None, Some(name)) => engine.account().stream_arn(name).into_string(),
        (None, None) => ANY_RESOURCE.to_owned(),
    }
}

/// The consumer a request names: its ARN, else the ARN of the stream's consumer of that
/// name (the form `STREAM_ARN/consumer/NAME` when none is registered, so a policy on
/// `.../consumer/*` still decides).
fn consumer_resource(
    engine: &Engine,
    consumer_arn: &Option<String>,
    stream_arn: &Option<String>,
    consumer_name: &Option<String>,
) -> String {
    match (consumer_arn, stream_arn, consumer_name) {
        (Some(arn), _, _) => arn.clone(),
        (None, Some(stream), Some(name)) => engine
            .consumer_arn_by_name(stream, name)
            .map_or_else(|| format!("{stream}/consumer/{name}"), |arn| arn.into_string()),
        _ => ANY_RESOURCE.to_owned(),
    }
}
