use super::*;

fn parse(json: &str) -> Result<AgentConfig, ConfigError> {
    AgentConfig::parse(json, "test")
}

fn flow_with(extra: &str) -> String {
    format!(r#"{{"flows":[{{"filePattern":"/var/log/app/*.log","kinesisStream":"s"{extra}}}]}}"#)
}

fn error_of(json: &str) -> String {
    match parse(json) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_the_documented_ones() {
    let config = parse(&flow_with("")).unwrap();
    assert_eq!(config.checkpoint_file, PathBuf::from(DEFAULT_CHECKPOINT_FILE));
    let flow = &config.flows[0];
    assert_eq!(flow.directory, PathBuf::from("/var/log/app"));
    assert_eq!(flow.file_name_pattern, "*.log");
    assert_eq!(flow.target, Target::Kinesis { stream: "s".into(), partition_key: PartitionKeyOption::Random });
    assert_eq!(flow.initial_position, InitialPosition::EndOfFile);
    assert_eq!(flow.max_buffer_age, std::time::Duration::from_millis(60_000));
    assert_eq!(flow.max_buffer_records, 500);
    assert_eq!(flow.max_buffer_bytes, KINESIS_MAX_BUFFER_SIZE_BYTES);
    assert_eq!(flow.max_record_bytes, KINESIS_MAX_RECORD_SIZE_BYTES);
    assert_eq!(flow.truncated_record_terminator, b"\n");
    assert_eq!(flow.skip_header_lines, 0);
    assert!(flow.multi_line_start.is_none() && flow.processors.is_empty());
    assert_eq!(flow.id, "kinesis:s:/var/log/app/*.log");
}

#[test]
fn a_full_configuration_is_read() {
    let config = parse(
        r#"{
        "kinesis.endpoint": "http://127.0.0.1:4567", "kinesis.region": "eu-west-1",
        "firehose.endpoint": "http://127.0.0.1:4567", "checkpointFile": "/tmp/cp",
        "awsAccessKeyId": "AK", "awsSecretAccessKey": "SK", "cloudwatch.emitMetrics": "true",
        "shutdownTimeoutMillis": "2500",
        "flows": [
          {"filePattern": "/logs/a*.log", "kinesisStream": "s", "partitionKeyOption": "DETERMINISTIC",
           "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000, "maxBufferSizeRecords": "10",
           "maxBufferSizeBytes": 1000, "multiLineStartPattern": "^\\d{4}-", "skipHeaderLines": 2,
           "truncatedRecordTerminator": "...\n",
           "dataProcessingOptions": [
             {"optionName": "CSVTOJSON", "customFieldNames": ["a", "b"], "delimiter": "\t"},
             {"optionName": "ADDMETADATA", "timestamp": "true", "metadata": {"env": "test"}}]},
          {"filePattern": "/logs/b.log", "deliveryStream": "d",
           "dataProcessingOptions": [{"optionName": "LOGTOJSON", "logFormat": "SYSLOG"}, {"optionName": "SINGLELINE"}]}
        ]}"#,
    )
    .unwrap();
    assert_eq!(config.kinesis_region.as_deref(), Some("eu-west-1"));
    assert_eq!(config.kinesis_endpoint.as_deref(), Some("http://127.0.0.1:4567"));
    let bare = parse(
        r#"{"firehose.endpoint":"firehose.eu-west-1.amazonaws.com","flows":[{"filePattern":"/x/*","deliveryStream":"d"}]}"#,
    );
    assert_eq!(bare.unwrap().firehose_endpoint.as_deref(), Some("https://firehose.eu-west-1.amazonaws.com"));
    assert_eq!(config.static_credentials, Some(("AK".into(), "SK".into())));
    assert_eq!(config.shutdown_timeout, std::time::Duration::from_millis(2500));
    assert_eq!(config.notes.len(), 1, "CloudWatch publishing is reported as not done");
    let a = &config.flows[0];
    assert_eq!(a.max_buffer_records, 10);
    assert_eq!(a.skip_header_lines, 2);
    assert!(matches!(a.processors[0], Processor::CsvToJson { ref delimiter, .. } if delimiter == "\t"));
    assert!(matches!(a.processors[1], Processor::AddMetadata { timestamp: true, .. }));
    let b = &config.flows[1];
    assert_eq!(b.target, Target::Firehose { delivery_stream: "d".into() });
    assert_eq!(b.max_buffer_bytes, FIREHOSE_MAX_BUFFER_SIZE_BYTES);
    assert_eq!(b.max_record_bytes, FIREHOSE_MAX_RECORD_SIZE_BYTES);
    assert!(matches!(b.processors[0], Processor::LogToJson { ref field_names, .. } if field_names[0] == "timestamp"));
}

#[test]
fn each_error_names_its_key() {
    let cases: &[(String, &str)] = &[
        (r#"{"flows":[], "bogus": 1}"#.into(), "bogus"),
        (r#"{"flows":[]}"#.into(), "flows"),
        (flow_with(r#","bogusFlowKey":1"#), "bogusFlowKey"),
        (flow_with(r#","maxBufferSizeRecords":0"#), "flows[0].maxBufferSizeRecords"),
        (flow_with(r#","maxBufferSizeRecords":501"#), "flows[0].maxBufferSizeRecords"),
        (flow_with(r#","maxBufferAgeMillis":999"#), "flows[0].maxBufferAgeMillis"),
        (flow_with(r#","maxBufferAgeMillis":"soon""#), "flows[0].maxBufferAgeMillis"),
        (flow_with(r#","maxBufferSizeBytes":5242881"#), "flows[0].maxBufferSizeBytes"),
        (flow_with(r#","maxRecordSizeBytes":0"#), "flows[0].maxRecordSizeBytes"),
        (flow_with(r#","partitionKeyOption":"SOMETIMES""#), "SOMETIMES"),
        (flow_with(r#","initialPosition":"MIDDLE""#), "MIDDLE"),
        (flow_with(r#","multiLineStartPattern":"(""#), "flows[0].multiLineStartPattern"),
        (flow_with(r#","deliveryStream":"d""#), "not both"),
        (flow_with(r#","maxRecordSizeBytes":2,"truncatedRecordTerminator":"ab""#), "truncatedRecordTerminator"),
        (r#"{"flows":[{"filePattern":"/x/*.log"}]}"#.into(), "kinesisStream or deliveryStream"),
        (r#"{"flows":[{"filePattern":"relative/*.log","kinesisStream":"s"}]}"#.into(), "filePattern"),
        (r#"{"flows":[{"filePattern":"/var/*/x.log","kinesisStream":"s"}]}"#.into(), "folders"),
        (
            r#"{"flows":[{"filePattern":"/x/*.log","deliveryStream":"d","partitionKeyOption":"RANDOM"}]}"#.into(),
            "partitionKeyOption",
        ),
        (flow_with(r#","dataProcessingOptions":[{"optionName":"ADDEC2METADATA"}]"#), "ADDEC2METADATA"),
        (flow_with(r#","dataProcessingOptions":[{"optionName":"GZIP"}]"#), "GZIP"),
        (flow_with(r#","dataProcessingOptions":[{"optionName":"CSVTOJSON"}]"#), "customFieldNames"),
        (
            flow_with(r#","dataProcessingOptions":[{"optionName":"CSVTOJSON","customFieldNames":["a"],"extra":1}]"#),
            "extra",
        ),
        (flow_with(r#","dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"NGINX"}]"#), "NGINX"),
        (
            flow_with(
                r#","dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"SYSLOG","matchPattern":"^(a)(b)$"}]"#,
            ),
            "required with matchPattern",
        ),
        (
            flow_with(
                r#","dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"SYSLOG","customFieldNames":["a"]}]"#,
            ),
            "5 groups",
        ),
        (r#"{"assumeRoleARN":"arn:aws:iam::1:role/r","flows":[]}"#.into(), "assumeRoleARN"),
        (
            r#"{"awsAccessKeyId":"a","flows":[{"filePattern":"/x/*.log","kinesisStream":"s"}]}"#.into(),
            "awsSecretAccessKey",
        ),
        (
            r#"{"cloudwatch.emitMetrics":"maybe","flows":[{"filePattern":"/x/*.log","kinesisStream":"s"}]}"#.into(),
            "cloudwatch.emitMetrics",
        ),
        ("not json".into(), "test"),
    ];
    for (json, key) in cases {
        let message = error_of(json);
        assert!(message.contains(key), "{json}: {message:?} does not name {key}");
    }
}

#[test]
fn two_flows_to_the_same_stream_and_pattern_are_refused() {
    let flow = r#"{"filePattern":"/x/*.log","kinesisStream":"s"}"#;
    assert!(error_of(&format!(r#"{{"flows":[{flow},{flow}]}}"#)).contains("same stream"));
}

#[test]
fn the_real_agents_tuning_keys_are_accepted_and_the_retry_back_off_is_honoured() {
    let config = parse(
        r#"{
            "maxSendingThreads": 8, "sendingThreadsMaxQueueSize": 100, "maxConnections": 50,
            "connectionTimeoutMillis": 5000, "socketTimeoutMillis": 5000, "useHttpGzip": true,
            "checkpointTimeToLiveDays": 7, "cloudwatch.tagInstance": false,
            "log.statusReportingPeriodSeconds": 30,
            "flows": [{"filePattern": "/var/log/app/*.log", "kinesisStream": "s",
                       "retryInitialBackoffMillis": 250, "retryMaxBackoffMillis": 4000,
                       "publishQueueCapacity": 100, "waitOnFullPublishQueueMillis": 100,
                       "waitOnEmptyPublishQueueMillis": 100, "maxTimeBetweenFileTrackerRefreshMillis": 1000,
                       "log.emitInternalMetrics": false}]
        }"#,
    )
    .unwrap();
    assert_eq!(config.notes.len(), 9, "{:?}", config.notes);
    assert!(config.notes.iter().any(|n| n.starts_with("useHttpGzip:")));
    let flow = &config.flows[0];
    assert_eq!(flow.notes.len(), 5, "{:?}", flow.notes);
    assert!(flow.notes.iter().any(|n| n.starts_with("flows[0].publishQueueCapacity:")));
    assert_eq!(
        flow.retry,
        RetryBackoff { initial: std::time::Duration::from_millis(250), max: std::time::Duration::from_millis(4000) }
    );
    let defaults = parse(&flow_with("")).unwrap();
    assert_eq!(
        defaults.flows[0].retry,
        RetryBackoff { initial: std::time::Duration::from_millis(100), max: std::time::Duration::from_secs(10) }
    );
    assert!(error_of(&flow_with(r#","retryInitialBackoffMillis":500,"retryMaxBackoffMillis":100"#))
        .contains("retryMaxBackoffMillis"));
}

#[test]
fn features_not_implemented_are_refused_and_unknown_keys_still_are() {
    for key in ["aggregatedRecordSizeBytes", "fileFooterPattern"] {
        let value = if key == "fileFooterPattern" { r#""^END""# } else { "1024" };
        let error = error_of(&flow_with(&format!(r#","{key}":{value}"#)));
        assert!(error.contains(&format!("flows[0].{key}")) && error.contains("not"), "{error}");
    }
    assert!(error_of(&flow_with(r#","publishQueueCapcity":1"#)).contains("publishQueueCapcity"));
    assert!(error_of(r#"{"maxSendingThread":1,"flows":[]}"#).contains("maxSendingThread"));
}
