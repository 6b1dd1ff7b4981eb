//! Typed clients of the three services: a request of the protocol crate's model in, its
//! output out. The codecs are `rheo-protocol`'s, the same the server decodes with.

use bytes::Bytes;
use rheo_protocol::dynamodb::model as ddb;
use rheo_protocol::dynamodb::{DynamoDbOperation, DynamoDbRequest, DynamoDbResponse};
use rheo_protocol::firehose::model as fh;
use rheo_protocol::firehose::{FirehoseRequest, FirehoseResponse};
use rheo_protocol::model::{self as k, EmptyOutput};
use rheo_protocol::{Request, Response, WireFormat};

use crate::config::{ClientConfig, Service};
use crate::error::{ClientError, Result};
use crate::transport::{HttpVersion, StreamingBody, Transport};

/// Generates one typed method per listed operation over `call`.
macro_rules! typed_calls {
    ($request:ident, $response:ident, $service:literal; $( $(#[$doc:meta])* $method:ident: $operation:ident($input:ty) -> $output:ty; )*) => {
        $(
            $(#[$doc])*
            pub async fn $method(&self, input: $input) -> Result<$output> {
                match self.call($request::$operation(input)).await? {
                    $response::$operation(output) => Ok(output),
                    #[allow(unreachable_patterns)]
                    other => Err(ClientError::Decode {
                        service: $service,
                        operation: stringify!($operation),
                        detail: format!("the answer is for {:?}", other.operation()),
                    }),
                }
            }
        )*
    };
}

/// A Kinesis Data Streams client.
#[derive(Debug)]
pub struct Kinesis {
    transport: Transport,
    format: WireFormat,
}

impl Kinesis {
    /// A client speaking JSON, as the AWS CLI and most SDKs do.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        Ok(Kinesis {
            transport: Transport::new(config, Service::Kinesis, HttpVersion::Http1)?,
            format: WireFormat::Json,
        })
    }

    /// A client speaking CBOR (as the Java SDK does): record data travels as raw bytes
    /// instead of base64, which is what the producer's throughput needs.
    pub fn new_cbor(config: &ClientConfig) -> Result<Self> {
        Ok(Kinesis {
            transport: Transport::new(config, Service::Kinesis, HttpVersion::Http1)?,
            format: WireFormat::Cbor,
        })
    }

    /// A client for `SubscribeToShard` (HTTP/2, as AWS requires).
    pub fn new_http2(config: &ClientConfig) -> Result<Self> {
        Ok(Kinesis {
            transport: Transport::new(config, Service::Kinesis, HttpVersion::Http2)?,
            format: WireFormat::Json,
        })
    }

    /// Sends any Kinesis request.
    pub async fn call(&self, request: Request) -> Result<Response> {
        let operation = request.operation();
        let body = Bytes::from(rheo_protocol::encode_request(&request, self.format));
        let answer = self.transport.call(operation.name(), self.format.content_type(), body).await?;
        rheo_protocol::decode_response(operation, self.format, &answer).map_err(|e| ClientError::Decode {
            service: "Kinesis",
            operation: operation.name(),
            detail: e.to_string(),
        })
    }

    /// Sends `SubscribeToShard` and returns the event stream's body unread: frames of
    /// `application/vnd.amazon.eventstream` to decode with `rheo_aws::event_stream`.
    pub async fn subscribe_to_shard_raw(&self, input: k::SubscribeToShardInput) -> Result<StreamingBody> {
        let request = Request::SubscribeToShard(input);
        let body = Bytes::from(rheo_protocol::encode_request(&request, self.format));
        self.transport.call_streaming("SubscribeToShard", self.format.content_type(), body).await
    }

    typed_calls! { Request, Response, "Kinesis";
        /// `CreateStream`.
        create_stream: CreateStream(k::CreateStreamInput) -> EmptyOutput;
        /// `DeleteStream`.
        delete_stream: DeleteStream(k::DeleteStreamInput) -> EmptyOutput;
        /// `DescribeStreamSummary`.
        describe_stream_summary: DescribeStreamSummary(k::DescribeStreamSummaryInput) -> k::DescribeStreamSummaryOutput;
        /// `ListStreams` (one page).
        list_streams: ListStreams(k::ListStreamsInput) -> k::ListStreamsOutput;
        /// `ListShards` (one page).
        list_shards: ListShards(k::ListShardsInput) -> k::ListShardsOutput;
        /// `GetShardIterator`.
        get_shard_iterator: GetShardIterator(k::GetShardIteratorInput) -> k::GetShardIteratorOutput;
        /// `GetRecords`.
        get_records: GetRecords(k::GetRecordsInput) -> k::GetRecordsOutput;
        /// `PutRecord`.
        put_record: PutRecord(k::PutRecordInput) -> k::PutRecordOutput;
        /// `PutRecords`.
        put_records: PutRecords(k::PutRecordsInput) -> k::PutRecordsOutput;
        /// `SplitShard`.
        split_shard: SplitShard(k::SplitShardInput) -> EmptyOutput;
        /// `MergeShards`.
        merge_shards: MergeShards(k::MergeShardsInput) -> EmptyOutput;
        /// `UpdateShardCount`.
        update_shard_count: UpdateShardCount(k::UpdateShardCountInput) -> k::UpdateShardCountOutput;
        /// `RegisterStreamConsumer`.
        register_stream_consumer: RegisterStreamConsumer(k::RegisterStreamConsumerInput) -> k::RegisterStreamConsumerOutput;
        /// `DescribeStreamConsumer`.
        describe_stream_consumer: DescribeStreamConsumer(k::DescribeStreamConsumerInput) -> k::DescribeStreamConsumerOutput;
        /// `DeregisterStreamConsumer`.
        deregister_stream_consumer: DeregisterStreamConsumer(k::DeregisterStreamConsumerInput) -> EmptyOutput;
    }
}

/// A DynamoDB client (JSON 1.0).
#[derive(Debug)]
pub struct DynamoDb {
    transport: Transport,
}

impl DynamoDb {
    /// A client for `config`'s endpoint.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        Ok(DynamoDb { transport: Transport::new(config, Service::DynamoDb, HttpVersion::Http1)? })
    }

    /// Sends any DynamoDB request.
    pub async fn call(&self, request: DynamoDbRequest) -> Result<DynamoDbResponse> {
        let operation = request.operation();
        let body = Bytes::from(rheo_protocol::dynamodb::encode_request(&request));
        let answer = self.transport.call(operation.name(), Service::DynamoDb.json_content_type(), body).await?;
        rheo_protocol::dynamodb::decode_response(operation, &answer).map_err(|e| ClientError::Decode {
            service: "DynamoDB",
            operation: operation.name(),
            detail: e.to_string(),
        })
    }

    /// Sends a request written as DynamoDB JSON (`{"TableName": …, "Key": {"k": {"S": …}}}`)
    /// and decodes the answer; shorter than building the model's structures for the many
    /// optional members of table and item calls.
    pub async fn call_json(&self, operation: DynamoDbOperation, body: &serde_json::Value) -> Result<DynamoDbResponse> {
        let body = Bytes::from(body.to_string());
        let answer = self.transport.call(operation.name(), Service::DynamoDb.json_content_type(), body).await?;
        rheo_protocol::dynamodb::decode_response(operation, &answer).map_err(|e| ClientError::Decode {
            service: "DynamoDB",
            operation: operation.name(),
            detail: e.to_string(),
        })
    }

    typed_calls! { DynamoDbRequest, DynamoDbResponse, "DynamoDB";
        /// `CreateTable`.
        create_table: CreateTable(ddb::CreateTableInput) -> ddb::CreateTableOutput;
        /// `DescribeTable`.
        describe_table: DescribeTable(ddb::DescribeTableInput) -> ddb::DescribeTableOutput;
        /// `DeleteTable`.
        delete_table: DeleteTable(ddb::DeleteTableInput) -> ddb::DeleteTableOutput;
        /// `GetItem`.
        get_item: GetItem(ddb::GetItemInput) -> ddb::GetItemOutput;
        /// `PutItem`.
        put_item: PutItem(ddb::PutItemInput) -> ddb::PutItemOutput;
        /// `UpdateItem`.
        update_item: UpdateItem(ddb::UpdateItemInput) -> ddb::UpdateItemOutput;
        /// `DeleteItem`.
        delete_item: DeleteItem(ddb::DeleteItemInput) -> ddb::DeleteItemOutput;
        /// `Scan` (one page).
        scan: Scan(ddb::ScanInput) -> ddb::ScanOutput;
        /// `Query` (one page).
        query: Query(ddb::QueryInput) -> ddb::QueryOutput;
    }
}

/// A Firehose client.
#[derive(Debug)]
pub struct Firehose {
    transport: Transport,
}

impl Firehose {
    /// A client for `config`'s endpoint.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        Ok(Firehose { transport: Transport::new(config, Service::Firehose, HttpVersion::Http1)? })
    }

    /// Sends any Firehose request.
    pub async fn call(&self, request: FirehoseRequest) -> Result<FirehoseResponse> {
        let operation = request.operation();
        let body = Bytes::from(rheo_protocol::firehose::encode_request(&request));
        let answer = self.transport.call(operation.name(), Service::Firehose.json_content_type(), body).await?;
        rheo_protocol::firehose::decode_response(operation, &answer).map_err(|e| ClientError::Decode {
            service: "Firehose",
            operation: operation.name(),
            detail: e.to_string(),
        })
    }

    typed_calls! { FirehoseRequest, FirehoseResponse, "Firehose";
        /// `PutRecordBatch`.
        put_record_batch: PutRecordBatch(fh::PutRecordBatchInput) -> fh::PutRecordBatchOutput;
        /// `DescribeDeliveryStream`.
        describe_delivery_stream: DescribeDeliveryStream(fh::DescribeDeliveryStreamInput) -> fh::DescribeDeliveryStreamOutput;
    }
}
