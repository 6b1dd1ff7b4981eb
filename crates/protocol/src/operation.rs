//! Operations, the `X-Amz-Target` header that names them, and the two body formats.
//!
//! The operation table below is the single list of the operations Rheo serves; the
//! `Operation`, `Request` and `Response` enums and the per-operation dispatch of the
//! codec are all generated from it, so adding an operation is one line.

use crate::codec::{self, Body};
use crate::error::{DecodeError, ErrorType, WireError};
use crate::model::*;
use crate::wire::WireStruct;

/// The `X-Amz-Target` service prefix of Kinesis Data Streams API 2013-12-02.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

/// The body encoding of a request and its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireFormat {
    /// `application/x-amz-json-1.1`: boto3, the CLI, and the JS, Go, Rust and .NET SDKs.
    Json,
    /// `application/x-amz-cbor-1.1`: the Java SDKs (v1 and v2), hence KCL and KPL.
    Cbor,
}

impl WireFormat {
    /// The JSON content type.
    pub const JSON_CONTENT_TYPE: &'static str = "application/x-amz-json-1.1";
    /// The CBOR content type.
    pub const CBOR_CONTENT_TYPE: &'static str = "application/x-amz-cbor-1.1";

    /// The `Content-Type` of bodies in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            WireFormat::Json => Self::JSON_CONTENT_TYPE,
            WireFormat::Cbor => Self::CBOR_CONTENT_TYPE,
        }
    }

    /// The format of a `Content-Type` header value, ignoring parameters (`; charset=…`)
    /// and ASCII case. Legacy `application/json` is not a format here: AWS answers it
    /// with its own `Output`/`Version` envelope, which is the server's business.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case(Self::JSON_CONTENT_TYPE) {
            Some(WireFormat::Json)
        } else if media_type.eq_ignore_ascii_case(Self::CBOR_CONTENT_TYPE) {
            Some(WireFormat::Cbor)
        } else {
            None
        }
    }
}

/// Why an `X-Amz-Target` value names no operation. All variants are answered with
/// `UnknownOperationException`; [`TargetError::Malformed`] also matters to a server that
/// reproduces AWS's 403 for bodies in an unknown content type without a
/// `Service.Operation` target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not of the form `Service.Operation`.
    #[error("X-Amz-Target `{0}` is not of the form Service.Operation")]
    Malformed(String),
    /// A service other than `Kinesis_20131202`.
    #[error("X-Amz-Target service `{0}` is not {TARGET_PREFIX}")]
    WrongService(String),
    /// A Kinesis operation this server does not know.
    #[error("unknown Kinesis operation `{0}`")]
    UnknownOperation(String),
}

impl TargetError {
    /// The error response: `UnknownOperationException` without a message.
    pub fn to_wire_error(&self) -> WireError {
        ErrorType::UnknownOperation.without_message()
    }
}

macro_rules! operations {
    ($( $operation:ident : $input:ident => $output:ident; )*) => {
        /// One of the Kinesis Data Streams operations Rheo serves.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($operation), "`")]
                $operation,
            )*
        }

        impl Operation {
            /// Every operation, in alphabetical order.
            pub const ALL: &'static [Operation] = &[$(Operation::$operation,)*];

            /// The operation's name, as in `X-Amz-Target`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Operation::$operation => stringify!($operation), )*
                }
            }

            /// The operation with this exact (case-sensitive) name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $( stringify!($operation) => Some(Operation::$operation), )*
                    _ => None,
                }
            }

            /// True when the model defines no output, so success is an empty body.
            pub fn has_empty_response(self) -> bool {
                match self {
                    $( Operation::$operation => <$output as WireStruct>::EMPTY_BODY, )*
                }
            }
        }

        /// A decoded request: the typed input of one operation.
        ///
        /// CreateChannel's input (a destination, streams, tags, logging) is several times
        /// the others; a request is decoded once and moved into its handler, so the size
        /// costs one copy, not worth a box in every arm.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum Request {
            $(
                #[doc = concat!("`", stringify!($operation), "`")]
                $operation($input),
            )*
        }

        impl Request {
            /// The operation this request is for.
            pub fn operation(&self) -> Operation {
                match self {
                    $( Request::$operation(_) => Operation::$operation, )*
                }
            }
        }

        /// A response to encode: the typed output of one operation.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Response {
            $(
                #[doc = concat!("`", stringify!($operation), "`")]
                $operation($output),
            )*
        }

        impl Response {
            /// The operation this response answers.
            pub fn operation(&self) -> Operation {
                match self {
                    $( Response::$operation(_) => Operation::$operation, )*
                }
            }
        }

        pub(crate) fn decode_request_generic(
            operation: Operation,
            format: crate::operation::WireFormat,
            body: Body<'_>,
        ) -> Result<Request, DecodeError> {
            match operation {
                $( Operation::$operation => codec::decode_structure::<$input>(format, body).map(Request::$operation), )*
            }
        }

        pub(crate) fn decode_response_generic(
            operation: Operation,
            format: crate::operation::WireFormat,
            body: Body<'_>,
        ) -> Result<Response, DecodeError> {
            match operation {
                $( Operation::$operation => codec::decode_output::<$output>(format, body).map(Response::$operation), )*
            }
        }

        pub(crate) fn encode_request_generic(request: &Request, format: crate::operation::WireFormat) -> Vec<u8> {
            match request {
                $( Request::$operation(input) => codec::encode_structure(input, format), )*
            }
        }

        pub(crate) fn encode_response_generic(response: &Response, format: crate::operation::WireFormat) -> Vec<u8> {
            match response {
                $( Response::$operation(output) => codec::encode_structure(output, format), )*
            }
        }
    };
}

operations! {
    AcknowledgeDeadLetterQueueRecords: AcknowledgeDeadLetterQueueRecordsInput => AcknowledgeDeadLetterQueueRecordsOutput;
    AcknowledgeQueueRecords: AcknowledgeQueueRecordsInput => AcknowledgeQueueRecordsOutput;
    AddTagsToStream: AddTagsToStreamInput => EmptyOutput;
    CreateChannel: CreateChannelInput => CreateChannelOutput;
    CreateQueue: CreateQueueInput => CreateQueueOutput;
    CreateStream: CreateStreamInput => EmptyOutput;
    DecreaseStreamRetentionPeriod: DecreaseStreamRetentionPeriodInput => EmptyOutput;
    DeleteChannel: DeleteChannelInput => EmptyOutput;
    DeleteQueue: DeleteQueueInput => EmptyOutput;
    DeleteResourcePolicy: DeleteResourcePolicyInput => EmptyOutput;
    DeleteStream: DeleteStreamInput => EmptyOutput;
    DeregisterStreamConsumer: DeregisterStreamConsumerInput => EmptyOutput;
    DescribeAccountSettings: DescribeAccountSettingsInput => DescribeAccountSettingsOutput;
    DescribeChannel: DescribeChannelInput => DescribeChannelOutput;
    DescribeLimits: DescribeLimitsInput => DescribeLimitsOutput;
    DescribeQueue: DescribeQueueInput => DescribeQueueOutput;
    DescribeStream: DescribeStreamInput => DescribeStreamOutput;
    DescribeStreamConsumer: DescribeStreamConsumerInput => DescribeStreamConsumerOutput;
    DescribeStreamSummary: DescribeStreamSummaryInput => DescribeStreamSummaryOutput;
    DisableEnhancedMonitoring: DisableEnhancedMonitoringInput => EnhancedMonitoringOutput;
    EnableEnhancedMonitoring: EnableEnhancedMonitoringInput => EnhancedMonitoringOutput;
    GetRecords: GetRecordsInput => GetRecordsOutput;
    GetResourcePolicy: GetResourcePolicyInput => GetResourcePolicyOutput;
    GetShardIterator: GetShardIteratorInput => GetShardIteratorOutput;
    IncreaseStreamRetentionPeriod: IncreaseStreamRetentionPeriodInput => EmptyOutput;
    ListChannels: ListChannelsInput => ListChannelsOutput;
    ListQueues: ListQueuesInput => ListQueuesOutput;
    ListShards: ListShardsInput => ListShardsOutput;
    ListStreamConsumers: ListStreamConsumersInput => ListStreamConsumersOutput;
    ListStreams: ListStreamsInput => ListStreamsOutput;
    ListTagsForResource: ListTagsForResourceInput => ListTagsForResourceOutput;
    ListTagsForStream: ListTagsForStreamInput => ListTagsForStreamOutput;
    MergeShards: MergeShardsInput => EmptyOutput;
    PutRecord: PutRecordInput => PutRecordOutput;
    PutRecords: PutRecordsInput => PutRecordsOutput;
    PutResourcePolicy: PutResourcePolicyInput => EmptyOutput;
    ReceiveDeadLetterQueueRecords: ReceiveDeadLetterQueueRecordsInput => ReceiveDeadLetterQueueRecordsOutput;
    ReceiveQueueRecords: ReceiveQueueRecordsInput => ReceiveQueueRecordsOutput;
    RegisterStreamConsumer: RegisterStreamConsumerInput => RegisterStreamConsumerOutput;
    RemoveTagsFromStream: RemoveTagsFromStreamInput => EmptyOutput;
    RestoreDeadLetterQueueRecords: RestoreDeadLetterQueueRecordsInput => RestoreDeadLetterQueueRecordsOutput;
    SplitShard: SplitShardInput => EmptyOutput;
    StartStreamEncryption: StartStreamEncryptionInput => EmptyOutput;
    StopStreamEncryption: StopStreamEncryptionInput => EmptyOutput;
    SubscribeToShard: SubscribeToShardInput => SubscribeToShardOutput;
    TagResource: TagResourceInput => EmptyOutput;
    UntagResource: UntagResourceInput => EmptyOutput;
    UpdateAccountSettings: UpdateAccountSettingsInput => UpdateAccountSettingsOutput;
    UpdateChannel: UpdateChannelInput => UpdateChannelOutput;
    UpdateDeadLetterQueueRecordsVisibility: UpdateDeadLetterQueueRecordsVisibilityInput => UpdateDeadLetterQueueRecordsVisibilityOutput;
    UpdateMaxRecordSize: UpdateMaxRecordSizeInput => EmptyOutput;
    UpdateQueue: UpdateQueueInput => UpdateQueueOutput;
    UpdateQueueRecordsVisibility: UpdateQueueRecordsVisibilityInput => UpdateQueueRecordsVisibilityOutput;
    UpdateShardCount: UpdateShardCountInput => UpdateShardCountOutput;
    UpdateStreamMode: UpdateStreamModeInput => EmptyOutput;
    UpdateStreamRecordDistributionStrategy: UpdateStreamRecordDistributionStrategyInput => EmptyOutput;
    UpdateStreamWarmThroughput: UpdateStreamWarmThroughputInput => UpdateStreamWarmThroughputOutput;
}

impl Operation {
    /// Parses an `X-Amz-Target` value such as `Kinesis_20131202.PutRecords`.
    pub fn from_target(target: &str) -> Result<Self, TargetError> {
        let Some((service, operation)) =
            target.split_once('.').filter(|(service, operation)| !service.is_empty() && !operation.is_empty())
        else {
            return Err(TargetError::Malformed(target.to_owned()));
        };
        if service != TARGET_PREFIX {
            return Err(TargetError::WrongService(service.to_owned()));
        }
        Operation::from_name(operation).ok_or_else(|| TargetError::UnknownOperation(operation.to_owned()))
    }

    /// The `X-Amz-Target` value naming this operation.
    pub fn target(self) -> String {
        format!("{TARGET_PREFIX}.{}", self.name())
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_operation_is_listed_in_order() {
        // The 39 core operations, UpdateStreamRecordDistributionStrategy, the 5 channel
        // operations and the 12 of queues and dead-letter records.
        assert_eq!(Operation::ALL.len(), 57);
        assert!(Operation::ALL.windows(2).all(|pair| pair[0].name() < pair[1].name()));
        for operation in Operation::ALL {
            assert_eq!(Operation::from_target(&operation.target()), Ok(*operation));
        }
    }

    #[test]
    fn bad_targets_are_distinguished() {
        assert_eq!(Operation::from_target("PutRecords"), Err(TargetError::Malformed("PutRecords".into())));
        assert_eq!(Operation::from_target(".PutRecords"), Err(TargetError::Malformed(".PutRecords".into())));
        assert_eq!(
            Operation::from_target("DynamoDB_20120810.PutRecords"),
            Err(TargetError::WrongService("DynamoDB_20120810".into()))
        );
        assert_eq!(
            Operation::from_target("Kinesis_20131202.CreateQueues"),
            Err(TargetError::UnknownOperation("CreateQueues".into()))
        );
        assert_eq!(
            Operation::from_target("Kinesis_20131202.putRecords"),
            Err(TargetError::UnknownOperation("putRecords".into()))
        );
        let error = TargetError::WrongService("x".into()).to_wire_error();
        assert_eq!(error.error_type, "UnknownOperationException");
        assert_eq!(error.message, None);
    }

    #[test]
    fn content_types() {
        assert_eq!(WireFormat::from_content_type("application/x-amz-json-1.1"), Some(WireFormat::Json));
        assert_eq!(WireFormat::from_content_type("Application/X-Amz-Cbor-1.1; charset=utf-8"), Some(WireFormat::Cbor));
        assert_eq!(WireFormat::from_content_type("application/json"), None);
        assert_eq!(WireFormat::Cbor.content_type(), "application/x-amz-cbor-1.1");
    }

    #[test]
    fn empty_responses() {
        assert!(Operation::CreateStream.has_empty_response());
        assert!(!Operation::DescribeAccountSettings.has_empty_response());
        assert!(!Operation::SubscribeToShard.has_empty_response());
    }
}
