//! The control-plane limits of `--enforce-limits` at the point requests enter: which rate
//! budget each Kinesis operation draws from, and the daily count of encryption changes,
//! charged only when a change succeeded. Only client requests pass here; Firehose and
//! Analytics calling the engine from inside the server are not limited.

use rheo_engine::{ControlOperation as Op, Engine, EngineError, RateTarget, StreamRef};
use rheo_protocol::Request;

fn stream_ref(name: &Option<String>, arn: &Option<String>) -> StreamRef {
    StreamRef { name: name.clone(), arn: arn.clone() }
}

/// What a limited request names: its operation, stream, consumer ARN and shard.
type Named<'a> = (Op, Option<StreamRef>, Option<&'a str>, Option<&'a str>);

/// An operation naming a stream by `StreamName` and/or `StreamARN`.
fn on_stream<'a>(operation: Op, name: &Option<String>, arn: &Option<String>) -> Named<'a> {
    (operation, Some(stream_ref(name, arn)), None, None)
}

/// An operation naming a consumer by ARN, or by its stream's ARN and its name.
fn on_consumer<'a>(operation: Op, stream_arn: &Option<String>, consumer_arn: &'a Option<String>) -> Named<'a> {
    (operation, stream_arn.as_ref().map(|_| stream_ref(&None, stream_arn)), consumer_arn.as_deref(), None)
}

/// Takes the request from its operation's rate budget; the error to answer instead when
/// the budget is spent or the encryption of the stream changed too often today.
pub(super) fn refusal(engine: &Engine, request: &Request) -> Option<EngineError> {
    let account = |operation| (operation, None, None, None);
    let (operation, stream, consumer_arn, shard): Named<'_> = match request {
        Request::AddTagsToStream(input) => on_stream(Op::AddTagsToStream, &input.stream_name, &input.stream_arn),
        Request::CreateStream(input) => on_stream(Op::CreateStream, &Some(input.stream_name.clone()), &None),
        Request::DeleteStream(input) => on_stream(Op::DeleteStream, &input.stream_name, &input.stream_arn),
        Request::DeregisterStreamConsumer(input) => {
            on_consumer(Op::DeregisterStreamConsumer, &input.stream_arn, &input.consumer_arn)
        }
        Request::DescribeAccountSettings(_) => account(Op::DescribeAccountSettings),
        Request::DescribeLimits(_) => account(Op::DescribeLimits),
        Request::DescribeStream(input) => on_stream(Op::DescribeStream, &input.stream_name, &input.stream_arn),
        Request::DescribeStreamConsumer(input) => {
            on_consumer(Op::DescribeStreamConsumer, &input.stream_arn, &input.consumer_arn)
        }
        Request::DescribeStreamSummary(input) => {
            on_stream(Op::DescribeStreamSummary, &input.stream_name, &input.stream_arn)
        }
        Request::GetShardIterator(input) => {
            let (operation, stream, _, _) = on_stream(Op::GetShardIterator, &input.stream_name, &input.stream_arn);
            (operation, stream, None, Some(input.shard_id.as_str()))
        }
        Request::ListShards(input) => on_stream(Op::ListShards, &input.stream_name, &input.stream_arn),
        Request::ListStreamConsumers(input) => {
            on_stream(Op::ListStreamConsumers, &None, &Some(input.stream_arn.clone()))
        }
        Request::ListStreams(_) => account(Op::ListStreams),
        Request::ListTagsForStream(input) => on_stream(Op::ListTagsForStream, &input.stream_name, &input.stream_arn),
        Request::MergeShards(input) => on_stream(Op::MergeShards, &input.stream_name, &input.stream_arn),
        Request::RegisterStreamConsumer(input) => {
            on_stream(Op::RegisterStreamConsumer, &None, &Some(input.stream_arn.clone()))
        }
        Request::RemoveTagsFromStream(input) => {
            on_stream(Op::RemoveTagsFromStream, &input.stream_name, &input.stream_arn)
        }
        Request::SplitShard(input) => on_stream(Op::SplitShard, &input.stream_name, &input.stream_arn),
        Request::SubscribeToShard(input) => {
            (Op::SubscribeToShard, None, Some(input.consumer_arn.as_str()), Some(input.shard_id.as_str()))
        }
        Request::UpdateAccountSettings(_) => account(Op::UpdateAccountSettings),
        Request::UpdateShardCount(input) => on_stream(Op::UpdateShardCount, &input.stream_name, &input.stream_arn),
        Request::UpdateStreamWarmThroughput(input) => {
            on_stream(Op::UpdateStreamWarmThroughput, &input.stream_name, &input.stream_arn)
        }
        Request::StartStreamEncryption(_) | Request::StopStreamEncryption(_) => {
            let stream = encryption_change(request)?;
            return engine.check_encryption_change(&stream).err();
        }
        _ => return None,
    };
    let target = RateTarget { stream: stream.as_ref(), consumer_arn, shard };
    engine.admit_control(operation, &target).err()
}

/// The stream whose encryption the request changes, if it does.
pub(super) fn encryption_change(request: &Request) -> Option<StreamRef> {
    match request {
        Request::StartStreamEncryption(input) => Some(stream_ref(&input.stream_name, &input.stream_arn)),
        Request::StopStreamEncryption(input) => Some(stream_ref(&input.stream_name, &input.stream_arn)),
        _ => None,
    }
}
