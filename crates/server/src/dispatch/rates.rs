//! The control-plane limits of `--enforce-limits` at the point requests enter: which rate
//! budget each Kinesis operation draws from, and the daily count of encryption changes,
//! charged only when a change succeeded. Only client requests pass here; Firehose and
//! Analytics calling the engine from inside the server are not limited.

use rheo_engine::{ControlOperation as Op, Engine, EngineError, RateTarget, StreamRef};
use rheo_protocol::Request;

fn stream_ref(name: &Option<String>, arn: &Option<String>) -> StreamRef {
    StreamRef { name: name.clone(), arn: arn.clone() }
}

/// Takes the request from its operation's rate budget; the error to answer when the
/// budget is spent or the encryption of the stream changed too often today.
pub(super) fn admit(engine: &Engine, request: &Request) -> Result<(), EngineError> {
    let stream;
    let (operation, target) = match request {
        Request::AddTagsToStream(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::AddTagsToStream, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::CreateStream(input) => {
            stream = StreamRef { name: Some(input.stream_name.clone()), arn: None };
            (Op::CreateStream, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::DeleteStream(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::DeleteStream, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::DeregisterStreamConsumer(input) => {
            stream = stream_ref(&None, &input.stream_arn);
            let target = RateTarget {
                stream: input.stream_arn.as_ref().map(|_| &stream),
                consumer_arn: input.consumer_arn.as_deref(),
                shard: None,
            };
            (Op::DeregisterStreamConsumer, target)
        }
        Request::DescribeAccountSettings(_) => (Op::DescribeAccountSettings, RateTarget::default()),
        Request::DescribeLimits(_) => (Op::DescribeLimits, RateTarget::default()),
        Request::DescribeStream(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::DescribeStream, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::DescribeStreamConsumer(input) => {
            stream = stream_ref(&None, &input.stream_arn);
            let target = RateTarget {
                stream: input.stream_arn.as_ref().map(|_| &stream),
                consumer_arn: input.consumer_arn.as_deref(),
                shard: None,
            };
            (Op::DescribeStreamConsumer, target)
        }
        Request::DescribeStreamSummary(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::DescribeStreamSummary, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::GetShardIterator(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            let target = RateTarget { stream: Some(&stream), consumer_arn: None, shard: Some(&input.shard_id) };
            (Op::GetShardIterator, target)
        }
        Request::ListShards(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::ListShards, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::ListStreamConsumers(input) => {
            stream = stream_ref(&None, &Some(input.stream_arn.clone()));
            (Op::ListStreamConsumers, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::ListStreams(_) => (Op::ListStreams, RateTarget::default()),
        Request::ListTagsForStream(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::ListTagsForStream, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::MergeShards(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::MergeShards, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::RegisterStreamConsumer(input) => {
            stream = stream_ref(&None, &Some(input.stream_arn.clone()));
            (Op::RegisterStreamConsumer, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::RemoveTagsFromStream(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::RemoveTagsFromStream, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::SplitShard(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::SplitShard, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::SubscribeToShard(input) => {
            let target =
                RateTarget { stream: None, consumer_arn: Some(&input.consumer_arn), shard: Some(&input.shard_id) };
            (Op::SubscribeToShard, target)
        }
        Request::UpdateAccountSettings(_) => (Op::UpdateAccountSettings, RateTarget::default()),
        Request::UpdateShardCount(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::UpdateShardCount, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::UpdateStreamWarmThroughput(input) => {
            stream = stream_ref(&input.stream_name, &input.stream_arn);
            (Op::UpdateStreamWarmThroughput, RateTarget { stream: Some(&stream), ..RateTarget::default() })
        }
        Request::StartStreamEncryption(input) => {
            return engine.check_encryption_change(&stream_ref(&input.stream_name, &input.stream_arn));
        }
        Request::StopStreamEncryption(input) => {
            return engine.check_encryption_change(&stream_ref(&input.stream_name, &input.stream_arn));
        }
        _ => return Ok(()),
    };
    engine.admit_control(operation, &target)
}

/// The stream whose encryption the request changes, if it does.
pub(super) fn encryption_change(request: &Request) -> Option<StreamRef> {
    match request {
        Request::StartStreamEncryption(input) => Some(stream_ref(&input.stream_name, &input.stream_arn)),
        Request::StopStreamEncryption(input) => Some(stream_ref(&input.stream_name, &input.stream_arn)),
        _ => None,
    }
}
