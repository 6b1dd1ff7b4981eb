//! The authorization tables: every operation of every service has its row (a sample
//! request each, checked against the action and resource the Service Authorization
//! Reference names), and the Authorizer's decisions over identity and resource policies.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use rheo_engine::ids::Account;
use rheo_engine::Engine;
use rheo_iam::Policy;
use rheo_protocol::{decode_request, Operation, WireFormat};

use super::*;
use crate::auth::Principal;

const ACCOUNT: &str = "000000000000";
const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
const CONSUMER: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000";
const QUEUE: &str = "arn:aws:kinesis:us-east-1:000000000000:queue/q-1";
const CHANNEL: &str = "arn:aws:kinesis:us-east-1:000000000000:channel/ch";

fn engine() -> Engine {
    let log_config = rheo_storage::LogConfig { durability: rheo_storage::Durability::Never, ..Default::default() };
    Engine::open(
        Arc::new(rheo_storage::MemFs::default()),
        Arc::new(rheo_storage::SystemClock),
        "/rheo".as_ref(),
        log_config,
        rheo_engine::EngineConfig { create_stream_ms: 0, ..Default::default() },
    )
    .unwrap()
}

fn account() -> Account {
    Account { region: "us-east-1".into(), account_id: ACCOUNT.into() }
}

/// The (action, resource) pairs of a decoded request's needs.
fn pairs(needs: &Needs) -> Vec<(String, String)> {
    needs.checks.iter().map(|c| (c.action.clone(), c.resource.clone())).collect()
}

#[test]
fn every_kinesis_operation_has_its_action_and_resource() {
    let engine = engine();
    let stream_body = r#"{"StreamName":"s"}"#;
    // (operation, request body, resource). The action is always `kinesis:` and the name.
    let table: &[(&str, &str, &str)] = &[
        ("AcknowledgeDeadLetterQueueRecords", r#"{"QueueARN":"Q","Entries":[{"ReceiptHandle":"h"}]}"#, QUEUE),
        ("AcknowledgeQueueRecords", r#"{"QueueARN":"Q","Entries":[{"ReceiptHandle":"h"}]}"#, QUEUE),
        ("AddTagsToStream", r#"{"StreamName":"s","Tags":{"k":"v"}}"#, STREAM),
        ("CreateChannel", "", "*"),
        ("CreateQueue", r#"{"QueueName":"q","StreamConfigurationList":[{"StreamARN":"S"}]}"#, "*"),
        ("CreateStream", r#"{"StreamName":"s","ShardCount":1}"#, STREAM),
        ("DecreaseStreamRetentionPeriod", r#"{"StreamName":"s","RetentionPeriodHours":24}"#, STREAM),
        ("DeleteChannel", r#"{"ChannelARN":"CH"}"#, CHANNEL),
        ("DeleteQueue", r#"{"QueueARN":"Q"}"#, QUEUE),
        ("DeleteResourcePolicy", r#"{"ResourceARN":"S"}"#, STREAM),
        ("DeleteStream", stream_body, STREAM),
        ("DeregisterStreamConsumer", r#"{"ConsumerARN":"C"}"#, CONSUMER),
        ("DescribeAccountSettings", "{}", "*"),
        ("DescribeChannel", r#"{"ChannelARN":"CH"}"#, CHANNEL),
        ("DescribeLimits", "{}", "*"),
        ("DescribeQueue", r#"{"QueueARN":"Q"}"#, QUEUE),
        ("DescribeStream", stream_body, STREAM),
        ("DescribeStreamConsumer", r#"{"ConsumerARN":"C"}"#, CONSUMER),
        ("DescribeStreamSummary", r#"{"StreamARN":"S"}"#, STREAM),
        ("DisableEnhancedMonitoring", r#"{"StreamName":"s","ShardLevelMetrics":["ALL"]}"#, STREAM),
        ("EnableEnhancedMonitoring", r#"{"StreamName":"s","ShardLevelMetrics":["ALL"]}"#, STREAM),
        ("GetRecords", r#"{"ShardIterator":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","StreamARN":"S"}"#, "*"),
        ("GetResourcePolicy", r#"{"ResourceARN":"C"}"#, CONSUMER),
        (
            "GetShardIterator",
            r#"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}"#,
            STREAM,
        ),
        ("IncreaseStreamRetentionPeriod", r#"{"StreamName":"s","RetentionPeriodHours":48}"#, STREAM),
        ("ListChannels", "{}", "*"),
        ("ListQueues", "{}", "*"),
        ("ListShards", stream_body, STREAM),
        ("ListStreamConsumers", r#"{"StreamARN":"S"}"#, STREAM),
        ("ListStreams", "{}", "*"),
        ("ListTagsForResource", r#"{"ResourceARN":"S"}"#, STREAM),
        ("ListTagsForStream", stream_body, STREAM),
        (
            "MergeShards",
            r#"{"StreamName":"s","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}"#,
            STREAM,
        ),
        ("PutRecord", r#"{"StreamName":"s","Data":"AA==","PartitionKey":"k"}"#, STREAM),
        ("PutRecords", r#"{"StreamARN":"S","Records":[{"Data":"AA==","PartitionKey":"k"}]}"#, STREAM),
        ("PutResourcePolicy", r#"{"ResourceARN":"S","Policy":"{}"}"#, STREAM),
        ("ReceiveDeadLetterQueueRecords", r#"{"QueueARN":"Q"}"#, QUEUE),
        ("ReceiveQueueRecords", r#"{"QueueARN":"Q"}"#, QUEUE),
        ("RegisterStreamConsumer", r#"{"StreamARN":"S","ConsumerName":"c"}"#, STREAM),
        ("RemoveTagsFromStream", r#"{"StreamName":"s","TagKeys":["k"]}"#, STREAM),
        ("RestoreDeadLetterQueueRecords", r#"{"QueueARN":"Q","Entries":[{"ReceiptHandle":"h"}]}"#, QUEUE),
        ("SplitShard", r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1"}"#, STREAM),
        ("StartStreamEncryption", r#"{"StreamName":"s","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}"#, STREAM),
        ("StopStreamEncryption", r#"{"StreamName":"s","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}"#, STREAM),
        (
            "SubscribeToShard",
            r#"{"ConsumerARN":"C","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}"#,
            CONSUMER,
        ),
        ("TagResource", r#"{"ResourceARN":"S","Tags":{"k":"v"}}"#, STREAM),
        ("UntagResource", r#"{"ResourceARN":"S","TagKeys":["k"]}"#, STREAM),
        ("UpdateAccountSettings", r#"{"MinimumThroughputBillingCommitment":{"Status":"DISABLED"}}"#, "*"),
        ("UpdateChannel", r#"{"ChannelARN":"CH"}"#, CHANNEL),
        (
            "UpdateDeadLetterQueueRecordsVisibility",
            r#"{"QueueARN":"Q","Entries":[{"ReceiptHandle":"h","VisibilityTimeoutSeconds":1}]}"#,
            QUEUE,
        ),
        ("UpdateMaxRecordSize", r#"{"StreamARN":"S","MaxRecordSizeInKiB":1024}"#, STREAM),
        ("UpdateQueue", r#"{"QueueARN":"Q","QueueAttributes":{}}"#, QUEUE),
        (
            "UpdateQueueRecordsVisibility",
            r#"{"QueueARN":"Q","Entries":[{"ReceiptHandle":"h","VisibilityTimeoutSeconds":1}]}"#,
            QUEUE,
        ),
        ("UpdateShardCount", r#"{"StreamName":"s","TargetShardCount":2,"ScalingType":"UNIFORM_SCALING"}"#, STREAM),
        ("UpdateStreamMode", r#"{"StreamARN":"S","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}"#, STREAM),
        ("UpdateStreamRecordDistributionStrategy", r#"{"StreamARN":"S","RecordDistributionStrategy":"AUTO"}"#, STREAM),
        ("UpdateStreamWarmThroughput", r#"{"StreamName":"s","WarmThroughputMiBps":10}"#, STREAM),
    ];
    let listed: BTreeSet<&str> = table.iter().map(|(name, _, _)| *name).collect();
    let all: BTreeSet<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
    assert_eq!(listed, all, "an operation was added or removed: give it its row here");
    for (name, body, resource) in table {
        if body.is_empty() {
            continue; // CreateChannel: below, with its streams.
        }
        let body = body.replace("\"Q\"", &format!("\"{QUEUE}\"")).replace("\"CH\"", &format!("\"{CHANNEL}\""));
        let body = body.replace("\"S\"", &format!("\"{STREAM}\"")).replace("\"C\"", &format!("\"{CONSUMER}\""));
        let operation = Operation::from_name(name).unwrap();
        let request = decode_request(operation, WireFormat::Json, body.as_bytes())
            .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        let needs = kinesis::needs(&engine, &request);
        let first = needs.checks.first().unwrap();
        assert_eq!((first.action.as_str(), first.resource.as_str()), (format!("kinesis:{name}").as_str(), *resource));
    }
}

fn kinesis_needs(engine: &Engine, name: &str, body: &str) -> Needs {
    let request = decode_request(Operation::from_name(name).unwrap(), WireFormat::Json, body.as_bytes()).unwrap();
    kinesis::needs(engine, &request)
}

#[tokio::test]
async fn kinesis_requests_name_their_resources_as_the_engine_resolves_them() {
    let engine = engine();
    let pair = |action: &str, resource: &str| (action.to_owned(), resource.to_owned());
    // Tags at creation need AddTagsToStream too, and are the request's tag keys.
    let needs = kinesis_needs(&engine, "CreateStream", r#"{"StreamName":"s","Tags":{"team":"a"}}"#);
    assert_eq!(pairs(&needs), vec![pair("kinesis:CreateStream", STREAM), pair("kinesis:AddTagsToStream", STREAM)]);
    assert!(needs.keys.contains(&("aws:RequestTag/team".into(), rheo_iam::ContextValue::String("a".into()))));
    assert!(needs.keys.contains(&("aws:TagKeys".into(), rheo_iam::ContextValue::Strings(vec!["team".into()]))));
    // The ARN wins over the name (the engine acts on the ARN's stream).
    let other = "arn:aws:kinesis:us-east-1:000000000000:stream/other";
    let needs = kinesis_needs(
        &engine,
        "PutRecord",
        &format!(r#"{{"StreamName":"s","StreamARN":"{other}","Data":"AA==","PartitionKey":"k"}}"#),
    );
    assert_eq!(pairs(&needs), vec![pair("kinesis:PutRecord", other)]);
    // Neither: `*`, and the call then fails its own validation.
    let needs = kinesis_needs(&engine, "DescribeStreamSummary", "{}");
    assert_eq!(pairs(&needs), vec![pair("kinesis:DescribeStreamSummary", "*")]);
    // GetRecords without a StreamARN: the stream its iterator reads.
    engine
        .create_stream(rheo_engine::CreateStream { name: "s".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap();
    let iterator = engine
        .get_shard_iterator(&rheo_engine::GetShardIterator {
            stream: rheo_engine::StreamRef::name("s"),
            shard_id: "shardId-000000000000".into(),
            start: rheo_engine::IteratorStart::Latest,
            stray_sequence_number: false,
        })
        .unwrap();
    let needs = kinesis_needs(&engine, "GetRecords", &format!(r#"{{"ShardIterator":"{iterator}"}}"#));
    assert_eq!(pairs(&needs), vec![pair("kinesis:GetRecords", STREAM)]);
    // With a StreamARN naming another stream: the iterator's stream is read, so it is
    // authorized, and the named one too.
    let needs =
        kinesis_needs(&engine, "GetRecords", &format!(r#"{{"ShardIterator":"{iterator}","StreamARN":"{other}"}}"#));
    assert_eq!(pairs(&needs), vec![pair("kinesis:GetRecords", STREAM), pair("kinesis:GetRecords", other)]);
    let needs =
        kinesis_needs(&engine, "GetRecords", &format!(r#"{{"ShardIterator":"{iterator}","StreamARN":"{STREAM}"}}"#));
    assert_eq!(pairs(&needs), vec![pair("kinesis:GetRecords", STREAM)]);
    // ListShards with only a NextToken: the stream the token pages.
    engine
        .create_stream(rheo_engine::CreateStream { name: "two".into(), shard_count: Some(2), ..Default::default() })
        .await
        .unwrap();
    let page = engine
        .list_shards(&rheo_engine::ListShards {
            stream: rheo_engine::StreamRef::name("two"),
            max_results: Some(1),
            ..Default::default()
        })
        .unwrap();
    let token = page.next_token.unwrap();
    let needs = kinesis_needs(&engine, "ListShards", &format!(r#"{{"NextToken":"{token}"}}"#));
    assert_eq!(pairs(&needs), vec![pair("kinesis:ListShards", &engine.account().stream_arn("two").into_string())]);
    // A consumer by stream ARN and name: its ARN when registered, else the name's form.
    let needs =
        kinesis_needs(&engine, "DescribeStreamConsumer", &format!(r#"{{"StreamARN":"{STREAM}","ConsumerName":"c"}}"#));
    assert_eq!(pairs(&needs), vec![pair("kinesis:DescribeStreamConsumer", &format!("{STREAM}/consumer/c"))]);
    // A queue reads its streams: creating one needs GetRecords on each.
    let needs = kinesis_needs(
        &engine,
        "CreateQueue",
        &format!(r#"{{"QueueName":"q","StreamConfigurationList":[{{"StreamARN":"{STREAM}"}}]}}"#),
    );
    assert_eq!(pairs(&needs), vec![pair("kinesis:CreateQueue", "*"), pair("kinesis:GetRecords", STREAM)]);
}

#[test]
fn every_firehose_operation_has_its_action_and_resource() {
    use rheo_protocol::firehose::{decode_request, FirehoseOperation};
    let arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/d";
    let named = r#"{"DeliveryStreamName":"d"}"#;
    let table: &[(&str, &str, &str)] = &[
        ("CreateDeliveryStream", named, arn),
        ("DeleteDeliveryStream", named, arn),
        ("DescribeDeliveryStream", named, arn),
        ("ListDeliveryStreams", "{}", "*"),
        ("ListTagsForDeliveryStream", named, arn),
        ("PutRecord", r#"{"DeliveryStreamName":"d","Record":{"Data":"AA=="}}"#, arn),
        ("PutRecordBatch", r#"{"DeliveryStreamName":"d","Records":[{"Data":"AA=="}]}"#, arn),
        ("StartDeliveryStreamEncryption", named, arn),
        ("StopDeliveryStreamEncryption", named, arn),
        ("TagDeliveryStream", r#"{"DeliveryStreamName":"d","Tags":[{"Key":"k","Value":"v"}]}"#, arn),
        ("UntagDeliveryStream", r#"{"DeliveryStreamName":"d","TagKeys":["k"]}"#, arn),
        (
            "UpdateDestination",
            r#"{"DeliveryStreamName":"d","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001"}"#,
            arn,
        ),
    ];
    let listed: BTreeSet<&str> = table.iter().map(|(name, _, _)| *name).collect();
    let all: BTreeSet<&str> = FirehoseOperation::ALL.iter().map(|op| op.name()).collect();
    assert_eq!(listed, all, "an operation was added or removed: give it its row here");
    for (name, body, resource) in table {
        let operation = FirehoseOperation::from_name(name).unwrap();
        let request = decode_request(operation, body.as_bytes()).unwrap_or_else(|error| panic!("{name}: {error:?}"));
        let needs = firehose::needs(&account(), name, &request);
        assert_eq!(pairs(&needs), vec![(format!("firehose:{name}"), resource.to_string())]);
    }
}

#[test]
fn every_analytics_operation_has_its_action_and_resource() {
    use rheo_protocol::analytics::{decode_request, AnalyticsOperation};
    let arn = "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app";
    let all: Vec<&str> = AnalyticsOperation::ALL.iter().map(|op| op.name()).collect();
    for name in all {
        let operation = AnalyticsOperation::from_name(name).unwrap();
        let (body, resource) = match name {
            "ListApplications" => ("{}".to_owned(), "*"),
            "DiscoverInputSchema" => ("{}".to_owned(), "*"),
            "ListTagsForResource" | "TagResource" | "UntagResource" => {
                (format!(r#"{{"ResourceARN":"{arn}","Tags":[{{"Key":"k","Value":"v"}}],"TagKeys":["k"]}}"#), arn)
            }
            _ => (String::new(), arn),
        };
        // The application operations' other members vary; their needs depend on the name
        // only, which the exhaustive match pins. The others are decoded here.
        if body.is_empty() {
            continue;
        }
        let request = decode_request(operation, body.as_bytes()).unwrap_or_else(|error| panic!("{name}: {error:?}"));
        let needs = analytics::needs(&account(), name, &request);
        assert_eq!(pairs(&needs), vec![(format!("kinesisanalytics:{name}"), resource.to_string())]);
    }
    // DiscoverInputSchema returns the input's records: the caller must be able to read them.
    let discover = |input: &str| {
        let body = format!(r#"{{"ResourceARN":"{input}","RoleARN":"arn:aws:iam::{ACCOUNT}:role/r"}}"#);
        let request =
            decode_request(AnalyticsOperation::from_name("DiscoverInputSchema").unwrap(), body.as_bytes()).unwrap();
        pairs(&analytics::needs(&account(), "DiscoverInputSchema", &request))
    };
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(a, r)| (a.to_string(), r.to_string())).collect()
    };
    let delivery = "arn:aws:firehose:us-east-1:000000000000:deliverystream/d";
    assert_eq!(
        discover(STREAM)[..4],
        owned(&[
            ("kinesisanalytics:DiscoverInputSchema", "*"),
            ("kinesis:DescribeStream", STREAM),
            ("kinesis:GetShardIterator", STREAM),
            ("kinesis:GetRecords", STREAM),
        ])[..]
    );
    assert_eq!(
        discover(delivery)[..2],
        owned(&[("kinesisanalytics:DiscoverInputSchema", "*"), ("firehose:DescribeDeliveryStream", delivery)])[..]
    );
    let request =
        decode_request(AnalyticsOperation::from_name("StopApplication").unwrap(), br#"{"ApplicationName":"app"}"#)
            .unwrap();
    assert_eq!(
        pairs(&analytics::needs(&account(), "StopApplication", &request)),
        vec![("kinesisanalytics:StopApplication".to_owned(), arn.to_owned())]
    );
}

#[test]
fn dynamodb_needs_the_documented_actions_per_table() {
    use rheo_protocol::dynamodb::{decode_request, DynamoDbOperation};
    let table = |name: &str| format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}");
    let needs = |name: &str, body: &str| {
        let request = decode_request(DynamoDbOperation::from_name(name).unwrap(), body.as_bytes())
            .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        pairs(&dynamodb::needs(&account(), name, &request))
    };
    let pair = |action: &str, resource: String| (action.to_owned(), resource);
    assert_eq!(
        needs("GetItem", r#"{"TableName":"t","Key":{"k":{"S":"a"}}}"#),
        vec![pair("dynamodb:GetItem", table("t"))]
    );
    assert_eq!(needs("ListTables", "{}"), vec![pair("dynamodb:ListTables", "*".into())]);
    assert_eq!(
        needs(
            "Query",
            r#"{"TableName":"t","IndexName":"by-owner","KeyConditionExpression":"o = :o","ExpressionAttributeValues":{":o":{"S":"x"}}}"#
        ),
        vec![pair("dynamodb:Query", format!("{}/index/by-owner", table("t")))]
    );
    assert_eq!(
        needs("BatchGetItem", r#"{"RequestItems":{"a":{"Keys":[{"k":{"S":"1"}}]},"b":{"Keys":[{"k":{"S":"1"}}]}}}"#),
        vec![pair("dynamodb:BatchGetItem", table("a")), pair("dynamodb:BatchGetItem", table("b"))]
    );
    assert_eq!(
        needs(
            "TransactWriteItems",
            r#"{"TransactItems":[{"Put":{"TableName":"a","Item":{"k":{"S":"1"}}}},{"ConditionCheck":{"TableName":"b","Key":{"k":{"S":"1"}},"ConditionExpression":"attribute_exists(k)"}}]}"#
        ),
        vec![pair("dynamodb:PutItem", table("a")), pair("dynamodb:ConditionCheckItem", table("b"))]
    );
    // DynamoDB's parameter keys.
    let request = decode_request(
        DynamoDbOperation::Query,
        br#"{"TableName":"t","Select":"COUNT","ReturnConsumedCapacity":"TOTAL","KeyConditionExpression":"k = :k","ExpressionAttributeValues":{":k":{"S":"x"}}}"#,
    )
    .unwrap();
    let keys = dynamodb::needs(&account(), "Query", &request).keys;
    let string = |key: &str, value: &str| (key.to_owned(), rheo_iam::ContextValue::String(value.to_owned()));
    assert_eq!(keys, vec![string("dynamodb:ReturnConsumedCapacity", "TOTAL"), string("dynamodb:Select", "COUNT")]);
    // A table ARN in TableName is the resource as given.
    assert_eq!(
        needs("DescribeTable", &format!(r#"{{"TableName":"{}"}}"#, table("t"))),
        vec![pair("dynamodb:DescribeTable", table("t"))]
    );
}

// ----- The Authorizer -----

fn caller(name: &str, policy: Option<&str>) -> Caller {
    Caller {
        principal: Some(Arc::new(Principal {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            policy: policy.map(|document| Arc::new(Policy::parse(document).unwrap())),
        })),
        source_ip: Some("192.0.2.1".parse().unwrap()),
        secure_transport: false,
    }
}

/// A lookup holding one resource's policy.
struct OnePolicy(&'static str, String);

impl ResourceLookup for OnePolicy {
    fn access(&self, arn: &str) -> Option<ResourceAccess> {
        (arn == self.0).then(|| ResourceAccess { policy: Some(self.1.clone()), tags: Default::default() })
    }
}

fn put_record() -> Needs {
    Needs::one(Check::new("kinesis", "PutRecord", STREAM))
}

fn get_records() -> Needs {
    Needs::one(Check::new("kinesis", "GetRecords", STREAM))
}

const ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecord*","kinesis:Describe*"],"Resource":"*"}]}"#;

#[test]
fn no_principal_is_not_authorized_at_all() {
    let authorizer = Authorizer::default();
    let deny_all = OnePolicy(
        STREAM,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#
            .into(),
    );
    assert_eq!(authorizer.authorize(&Caller::unauthenticated(), "us-east-1", &put_record(), &deny_all), Ok(()));
}

#[test]
fn an_identity_policy_allows_what_it_names_and_nothing_else() {
    let authorizer = Authorizer::default();
    let alice = caller("alice", Some(ALICE));
    assert_eq!(authorizer.authorize(&alice, "us-east-1", &put_record(), &NoResourcePolicies), Ok(()));
    let denied = authorizer.authorize(&alice, "us-east-1", &get_records(), &NoResourcePolicies).unwrap_err();
    assert_eq!(
        denied.message,
        format!("User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: kinesis:GetRecords on resource: {STREAM} because no identity-based policy allows the kinesis:GetRecords action")
    );
    // Without a policy file a principal may do everything.
    assert_eq!(authorizer.authorize(&caller("root", None), "us-east-1", &get_records(), &NoResourcePolicies), Ok(()));
}

#[test]
fn a_resource_policy_grants_and_its_explicit_deny_wins() {
    let authorizer = Authorizer::default();
    let grant = OnePolicy(
        STREAM,
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/bob"}},"Action":"kinesis:GetRecords","Resource":"{STREAM}"}}]}}"#
        ),
    );
    let nothing =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#;
    let bob = caller("bob", Some(nothing));
    assert!(authorizer.authorize(&bob, "us-east-1", &get_records(), &NoResourcePolicies).is_err());
    assert_eq!(authorizer.authorize(&bob, "us-east-1", &get_records(), &grant), Ok(()));
    assert!(authorizer.authorize(&caller("carol", Some(nothing)), "us-east-1", &get_records(), &grant).is_err());

    let deny = OnePolicy(
        STREAM,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kinesis:PutRecord","Resource":"*"}]}"#.into(),
    );
    let denied = authorizer.authorize(&caller("alice", Some(ALICE)), "us-east-1", &put_record(), &deny).unwrap_err();
    assert!(denied.message.ends_with("with an explicit deny in a resource-based policy"), "{}", denied.message);
}

#[test]
fn conditions_see_the_callers_address_and_the_resources_tags() {
    let authorizer = Authorizer::default();
    let outside = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"},{"Effect":"Deny","Action":"kinesis:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let dave = caller("dave", Some(outside));
    assert!(authorizer.authorize(&dave, "us-east-1", &put_record(), &NoResourcePolicies).is_err());
    let inside = Caller { source_ip: Some("10.1.2.3".parse().unwrap()), ..dave };
    assert_eq!(authorizer.authorize(&inside, "us-east-1", &put_record(), &NoResourcePolicies), Ok(()));

    struct Tagged;
    impl ResourceLookup for Tagged {
        fn access(&self, _arn: &str) -> Option<ResourceAccess> {
            Some(ResourceAccess { policy: None, tags: [("team".to_owned(), "a".to_owned())].into() })
        }
    }
    let team_a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}}]}"#;
    let erin = caller("erin", Some(team_a));
    assert_eq!(authorizer.authorize(&erin, "us-east-1", &put_record(), &Tagged), Ok(()));
    assert!(authorizer.authorize(&erin, "us-east-1", &put_record(), &NoResourcePolicies).is_err());
}

#[test]
fn a_stored_policy_that_does_not_parse_denies() {
    let authorizer = Authorizer::default();
    let broken = OnePolicy(STREAM, "{not json".into());
    assert!(authorizer.authorize(&caller("root", None), "us-east-1", &put_record(), &broken).is_err());
}

#[test]
fn the_parsed_policy_cache_is_bounded() {
    let authorizer = Authorizer::default();
    for n in 0..RESOURCE_POLICY_CACHE_MAX + 10 {
        let document = format!(
            r#"{{"Version":"2012-10-17","Id":"p{n}","Statement":[{{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Resource":"*"}}]}}"#
        );
        assert!(authorizer.parsed(&document).is_some());
        assert!(authorizer.resource_policies.lock().len() <= RESOURCE_POLICY_CACHE_MAX);
    }
}

// ----- Roles (Firehose and Analytics) -----

fn authenticator(policies: &[(&str, &str)]) -> Arc<crate::auth::Authenticator> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("roles")).unwrap();
    for (path, document) in policies {
        std::fs::write(dir.path().join(path), document).unwrap();
    }
    let policies = rheo_iam::IdentityPolicies::load_dir(dir.path()).unwrap();
    let identities = crate::auth::Identities::new(&Default::default(), policies, &account());
    Arc::new(crate::auth::Authenticator::sigv4("us-east-1", Arc::new(rheo_storage::SystemClock), identities))
}

#[tokio::test]
async fn a_roles_access_is_its_policy_and_the_streams_policy() {
    let engine = Arc::new(engine());
    let writer_policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:PutRecords","Resource":"*"}]}"#;
    let authenticator = authenticator(&[("roles/writer.json", writer_policy)]);
    let role = format!("arn:aws:iam::{ACCOUNT}:role/delivery");
    let writer = format!("arn:aws:iam::{ACCOUNT}:role/writer");
    // No check installed: every role may.
    assert_eq!(engine.check_role(&writer, &["kinesis:GetRecords"], STREAM), Ok(()));
    let checker = roles::RoleChecker::new(Arc::new(Authorizer::default()), authenticator, &engine);
    assert!(engine.install_role_access(Arc::new(checker)));
    engine
        .create_stream(rheo_engine::CreateStream { name: "s".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap();
    // A role policy restricts its role only.
    assert_eq!(engine.check_role(&writer, &["kinesis:PutRecords"], STREAM), Ok(()));
    assert!(engine.check_role(&writer, &["kinesis:GetRecords"], STREAM).is_err());
    // No role policy: unrestricted, until the stream's policy denies the role.
    assert_eq!(engine.check_role(&role, &["kinesis:DescribeStream", "kinesis:GetRecords"], STREAM), Ok(()));
    let deny = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":{{"AWS":"{role}"}},"Action":"kinesis:Get*","Resource":"*"}}]}}"#
    );
    engine
        .put_resource_policy(rheo_engine::PutResourcePolicy { resource_arn: STREAM.into(), policy: deny })
        .await
        .unwrap();
    let denied = engine.check_role(&role, &["kinesis:DescribeStream", "kinesis:GetRecords"], STREAM).unwrap_err();
    assert_eq!(
        denied.message,
        format!("User: {role} is not authorized to perform: kinesis:GetRecords on resource: {STREAM} with an explicit deny in a resource-based policy")
    );
    engine.delete_resource_policy(STREAM).await.unwrap();
    assert_eq!(engine.check_role(&role, &["kinesis:GetRecords"], STREAM), Ok(()));
    // Another account's role, or a malformed one, gets no policy of this account: denied.
    assert!(engine.check_role("arn:aws:iam::999999999999:role/writer", &["kinesis:PutRecords"], STREAM).is_err());
    assert!(engine.check_role("arn:aws:iam::999999999999:role/delivery", &["kinesis:GetRecords"], STREAM).is_err());
    assert!(engine.check_role("delivery", &["kinesis:GetRecords"], STREAM).is_err());
}

#[test]
fn handing_a_role_to_a_service_needs_iam_pass_role() {
    use rheo_protocol::{analytics, firehose};
    let role = format!("arn:aws:iam::{ACCOUNT}:role/delivery");
    let pass = (String::from("iam:PassRole"), role.clone());
    let body = format!(
        r#"{{"DeliveryStreamName":"d","DeliveryStreamType":"KinesisStreamAsSource","KinesisStreamSourceConfiguration":{{"KinesisStreamARN":"{STREAM}","RoleARN":"{role}"}},"S3DestinationConfiguration":{{"RoleARN":"{role}","BucketARN":"arn:aws:s3:::b"}}}}"#
    );
    let request = firehose::decode_request(
        firehose::FirehoseOperation::from_name("CreateDeliveryStream").unwrap(),
        body.as_bytes(),
    )
    .unwrap();
    let needs = pairs(&super::firehose::needs(&account(), "CreateDeliveryStream", &request));
    assert_eq!(needs.iter().filter(|pair| **pair == pass).count(), 1, "{needs:?}");
    let body = format!(
        r#"{{"ApplicationName":"app","Inputs":[{{"NamePrefix":"p","KinesisStreamsInput":{{"ResourceARN":"{STREAM}","RoleARN":"{role}"}},"InputSchema":{{"RecordFormat":{{"RecordFormatType":"JSON","MappingParameters":{{"JSONMappingParameters":{{"RecordRowPath":"$"}}}}}},"RecordColumns":[{{"Name":"a","SqlType":"INT","Mapping":"$.a"}}]}}}}]}}"#
    );
    let request = analytics::decode_request(
        analytics::AnalyticsOperation::from_name("CreateApplication").unwrap(),
        body.as_bytes(),
    )
    .unwrap();
    assert!(pairs(&super::analytics::needs(&account(), "CreateApplication", &request)).contains(&pass));
    let request = analytics::decode_request(
        analytics::AnalyticsOperation::from_name("DiscoverInputSchema").unwrap(),
        format!(r#"{{"ResourceARN":"{STREAM}","RoleARN":"{role}"}}"#).as_bytes(),
    )
    .unwrap();
    assert!(pairs(&super::analytics::needs(&account(), "DiscoverInputSchema", &request)).contains(&pass));
    let engine = engine();
    let body = format!(
        r#"{{"ChannelName":"c","ServiceExecutionRoleARN":"{role}","StreamConfigurationList":[{{"StreamARN":"{STREAM}","RecordConfiguration":{{"RecordFormatType":"JSON"}}}}],"S3DestinationConfiguration":{{"StorageConfiguration":{{"BucketARN":"arn:aws:s3:::bkt","ExpectedBucketOwner":"{ACCOUNT}","CompressionType":"ZSTD"}}}}}}"#
    );
    let needs = pairs(&kinesis_needs(&engine, "CreateChannel", &body));
    assert_eq!(
        needs,
        vec![
            ("kinesis:CreateChannel".to_owned(), "*".to_owned()),
            ("kinesis:GetRecords".to_owned(), STREAM.to_owned()),
            pass.clone()
        ]
    );
    // A user allowed CreateChannel and the stream's reads but not the role is refused.
    let authorizer = Authorizer::default();
    let no_pass = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}"#;
    let needs = kinesis_needs(&engine, "CreateChannel", &body);
    let denied = authorizer.authorize(&caller("mallory", Some(no_pass)), "us-east-1", &needs, &NoResourcePolicies);
    assert!(denied.unwrap_err().message.contains("iam:PassRole"));
}
