//! A Kinesis channel driven by the AWS SDK for Rust (`aws-sdk-kinesis` 1.130 has the channel
//! operations): create, describe, records delivered to a folder bucket, delete.

use std::time::{Duration, Instant};

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    ChannelStatus, ChannelStreamConfiguration, RecordConfiguration, RecordFormatType, S3CompressionType,
    S3DestinationConfiguration, S3StorageConfiguration, StreamMode, StreamModeDetails,
};
use aws_sdk_kinesis::Client;

mod common;
use common::{wait_active, Server};

const ACCOUNT: &str = "000000000000";
const WAIT: Duration = Duration::from_secs(30);

async fn channel_status(client: &Client, arn: &str) -> ChannelStatus {
    let described = client.describe_channel().channel_arn(arn).send().await.expect("DescribeChannel");
    described.channel_description().expect("ChannelDescription").channel_status().clone()
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.to_string_lossy().contains('#') {
                let relative = path.strip_prefix(dir).expect("under dir").to_string_lossy().into_owned();
                out.push((relative, std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_channel_delivers_a_stream_to_a_folder_bucket() {
    let buckets = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&[
        "--channel-delivery-interval-ms",
        "200",
        "--channel-lifecycle-ms",
        "200",
        "--s3-dir",
        buckets.path().to_str().expect("utf-8 path"),
    ]);
    let client = server.client();
    let mode = StreamModeDetails::builder().stream_mode(StreamMode::OnDemand).build().expect("mode");
    client.create_stream().stream_name("src").stream_mode_details(mode).send().await.expect("CreateStream");
    wait_active(&client, "src").await;

    let storage = S3StorageConfiguration::builder()
        .bucket_arn("arn:aws:s3:::sdk-bucket")
        .expected_bucket_owner(ACCOUNT)
        .compression_type(S3CompressionType::None)
        .output_key_template("sdk/!{channel-name}/!{yyyy}!{MM}!{dd}/batch")
        .build()
        .expect("storage");
    let stream = ChannelStreamConfiguration::builder()
        .stream_arn(format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/src"))
        .record_configuration(
            RecordConfiguration::builder().record_format_type(RecordFormatType::String).build().expect("record"),
        )
        .build()
        .expect("stream");
    let created = client
        .create_channel()
        .channel_name("sdk")
        .service_execution_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/channel"))
        .stream_configuration_list(stream)
        .s3_destination_configuration(S3DestinationConfiguration::builder().storage_configuration(storage).build())
        .send()
        .await
        .expect("CreateChannel");
    let description = created.channel_description().expect("ChannelDescription");
    let arn = description.channel_arn().to_owned();
    assert_eq!(arn, format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:channel/sdk"));
    assert_eq!(description.channel_status(), &ChannelStatus::Creating);
    let destination = description.s3_destination_configuration().expect("S3DestinationConfiguration");
    assert_eq!(destination.data_freshness_in_seconds(), 300);

    let started = Instant::now();
    while channel_status(&client, &arn).await != ChannelStatus::Active {
        assert!(started.elapsed() < WAIT, "the channel did not become ACTIVE");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for line in ["one\n", "two\n", "three\n"] {
        client
            .put_record()
            .stream_name("src")
            .partition_key("k")
            .data(Blob::new(line))
            .send()
            .await
            .expect("PutRecord");
    }
    let bucket = buckets.path().join("sdk-bucket");
    let started = Instant::now();
    let delivered = loop {
        let found = files(&bucket);
        let text: String = found.iter().map(|(_, body)| String::from_utf8_lossy(body).into_owned()).collect();
        if text.contains("three") {
            break found;
        }
        assert!(started.elapsed() < WAIT, "records not delivered: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (key, body) = &delivered[0];
    assert!(key.starts_with("sdk/sdk/20") && key.contains("/batch-"), "{key}");
    assert_eq!(body, b"one\ntwo\nthree\n");

    client.delete_channel().channel_arn(&arn).send().await.expect("DeleteChannel");
    assert_eq!(channel_status(&client, &arn).await, ChannelStatus::Deleting);
    let started = Instant::now();
    let error = loop {
        match client.describe_channel().channel_arn(&arn).send().await {
            Err(error) => break error,
            Ok(_) => assert!(started.elapsed() < WAIT, "the channel is still there"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(error.code(), Some("ResourceNotFoundException"));
    assert_eq!(error.message(), Some(format!("Channel {arn} under account {ACCOUNT} not found.").as_str()));
}
