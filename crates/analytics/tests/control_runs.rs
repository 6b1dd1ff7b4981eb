#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The control plane with inputs, code and runs: input descriptions, code validation with
//! outputs, the Lambda processor rule, starting positions, stop and LAST_STOPPED_POINT,
//! and a RUNNING application running again after the service reopens.

mod engines;
#[macro_use]
mod control_common;
mod runtime_common;

use control_common::*;
use rheo_analytics::error::{AnalyticsError, CodeErrorKind};
use rheo_protocol::analytics::model::*;
use runtime_common::read_kinesis;
use serde_json::json;
use std::future::Future as _;

async fn create_projection(h: &Harness) {
    h.create(json!({
        "ApplicationName": "app",
        "Inputs": [json_input("in", 1)],
        "Outputs": [kinesis_output("DESTINATION_SQL_STREAM", "out")],
        "ApplicationCode": PROJECTION,
    }))
    .await
    .unwrap();
}

/// The referrers of what the output stream holds, in order.
async fn output_referrers(h: &Harness, count: usize) -> Vec<String> {
    let records = read_kinesis(&h.engine, "out", count).await;
    records.iter().map(|record| record["REFERRER"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_are_described_with_their_id_streams_schema_and_no_starting_position_yet() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app", "Inputs": [json_input("in", 2)]})).await.unwrap();
    let input = h.describe("app").await.input_descriptions.unwrap().remove(0);
    assert_eq!(input.input_id.as_deref(), Some("1.1"));
    assert_eq!(input.in_app_stream_names.unwrap(), ["SOURCE_SQL_STREAM_001", "SOURCE_SQL_STREAM_002"]);
    assert_eq!(input.input_parallelism.unwrap().count, Some(2));
    assert_eq!(input.kinesis_streams_input_description.unwrap().resource_arn, Some(stream_arn("in")));
    let sent = req!(CreateApplication, json!({"ApplicationName": "x", "Inputs": [json_input("in", 2)]}));
    assert_eq!(input.input_schema.unwrap(), sent.inputs.unwrap().remove(0).input_schema);
    assert_eq!(input.input_starting_position_configuration.unwrap().input_starting_position, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_must_read_an_existing_stream_and_there_is_only_one() {
    let h = Harness::new().await;
    let error = h.create(json!({"ApplicationName": "app", "Inputs": [json_input("missing", 1)]})).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidArgument(text) if text.contains("missing")), "{error:?}");
    h.create(json!({"ApplicationName": "app", "Inputs": [json_input("in", 1)]})).await.unwrap();
    let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 1, "Input": json_input("out", 1)});
    let error = h.analytics().add_application_input(req!(AddApplicationInput, body)).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LimitExceeded(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_is_compiled_against_the_inputs_and_outputs_must_name_its_streams() {
    let h = Harness::new().await;
    let error = h
        .create(
            json!({"ApplicationName": "bad", "Inputs": [json_input("in", 1)], "ApplicationCode": "CREATE STREAM ("}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AnalyticsError::CodeValidation(code) if matches!(code.kind, CodeErrorKind::Syntax(_))),
        "{error:?}"
    );

    let error = h
        .create(json!({
            "ApplicationName": "app",
            "Inputs": [json_input("in", 1)],
            "Outputs": [kinesis_output("NOT_CREATED", "out")],
            "ApplicationCode": PROJECTION,
        }))
        .await
        .unwrap_err();
    assert!(matches!(&error, AnalyticsError::OutputNotCreated { output } if output == "NOT_CREATED"), "{error:?}");

    create_projection(&h).await;
    h.add_output("app", 1, kinesis_output("error_stream", "out")).await.unwrap();
    let error = h.add_output("app", 2, kinesis_output("OTHER", "out")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::OutputNotCreated { .. }), "{error:?}");
    let error = h.update("app", 2, json!({"ApplicationCodeUpdate": "SELECT STREAM FROM"})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::CodeValidation(_)), "{error:?}");
    assert_eq!(h.version("app").await, 2, "refused changes change nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_processor_is_kept_and_described_but_a_start_refuses_it() {
    let h = Harness::new().await;
    create_projection(&h).await;
    let lambda = "arn:aws:lambda:us-east-1:000000000000:function:pre";
    let body = json!({
        "ApplicationName": "app",
        "CurrentApplicationVersionId": 1,
        "InputId": "1.1",
        "InputProcessingConfiguration": {"InputLambdaProcessor": {"ResourceARN": lambda, "RoleARN": ROLE}},
    });
    let request = req!(AddApplicationInputProcessingConfiguration, body);
    h.analytics().add_application_input_processing_configuration(request).await.unwrap();
    let input = h.describe("app").await.input_descriptions.unwrap().remove(0);
    let described =
        input.input_processing_configuration_description.unwrap().input_lambda_processor_description.unwrap();
    assert_eq!((described.resource_arn.as_deref(), described.role_arn.as_deref()), (Some(lambda), Some(ROLE)));

    let error = h.start("app", from("NOW")).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidConfiguration(text) if text.contains("Lambda")), "{error:?}");
    assert_eq!(h.status("app").await, ApplicationStatus::Ready);

    let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 2, "InputId": "1.1"});
    let request = req!(DeleteApplicationInputProcessingConfiguration, body.clone());
    h.analytics().delete_application_input_processing_configuration(request).await.unwrap();
    let input = h.describe("app").await.input_descriptions.unwrap().remove(0);
    assert!(input.input_processing_configuration_description.is_none());
    let again = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 3, "InputId": "1.1"});
    let request = req!(DeleteApplicationInputProcessingConfiguration, again);
    let error = h.analytics().delete_application_input_processing_configuration(request).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::ElementNotFound { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_names_every_input_and_only_from_ready() {
    let h = Harness::new().await;
    create_projection(&h).await;
    let error = h.start("app", json!([])).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "every input must be named: {error:?}");
    h.start("app", from("NOW")).await.unwrap();
    assert_eq!(h.status("app").await, ApplicationStatus::Running);
    let error = h.start("app", from("NOW")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InUse { status: "RUNNING", .. }), "{error:?}");
    let error = h.add_logging("app", 2).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::StaleVersion { .. }), "a start does not change the version: {error:?}");
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_application_resumes_from_the_last_stopped_point() {
    let h = Harness::new().await;
    create_projection(&h).await;
    h.start("app", from("NOW")).await.unwrap();
    let input = h.describe("app").await.input_descriptions.unwrap().remove(0);
    let position = input.input_starting_position_configuration.unwrap().input_starting_position;
    assert_eq!(position, Some(InputStartingPosition::Now));
    h.put_referrers("in", &["a", "b"]).await;
    assert_eq!(output_referrers(&h, 2).await, ["a", "b"]);

    let stop = req!(StopApplication, json!({"ApplicationName": "app"}));
    h.analytics().stop_application(stop).await.unwrap();
    h.wait_status("app", ApplicationStatus::Ready).await;
    h.put_referrers("in", &["c", "d"]).await;
    h.start("app", from("LAST_STOPPED_POINT")).await.unwrap();
    assert_eq!(output_referrers(&h, 4).await, ["a", "b", "c", "d"], "nothing read twice, nothing lost");
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn now_skips_what_arrived_while_stopped() {
    let h = Harness::new().await;
    create_projection(&h).await;
    h.put_referrers("in", &["before"]).await;
    h.start("app", from("NOW")).await.unwrap();
    h.put_referrers("in", &["after"]).await;
    assert_eq!(output_referrers(&h, 1).await, ["after"]);
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_application_runs_again_after_reopening() {
    let mut h = Harness::new().await;
    create_projection(&h).await;
    h.start("app", from("NOW")).await.unwrap();
    h.put_referrers("in", &["a"]).await;
    assert_eq!(output_referrers(&h, 1).await, ["a"]);
    h.reopen().await;
    h.put_referrers("in", &["b"]).await;
    h.wait_status("app", ApplicationStatus::Running).await;
    assert_eq!(output_referrers(&h, 2).await, ["a", "b"]);
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_a_running_application_takes_effect_from_its_own_position() {
    let h = Harness::new().await;
    create_projection(&h).await;
    h.start("app", from("NOW")).await.unwrap();
    h.put_referrers("in", &["a"]).await;
    assert_eq!(output_referrers(&h, 1).await, ["a"]);
    let upper = PROJECTION.replace(r#"SELECT STREAM "referrer""#, r#"SELECT STREAM UPPER("referrer")"#);
    h.update("app", 1, json!({"ApplicationCodeUpdate": upper})).await.unwrap();
    h.wait_status("app", ApplicationStatus::Running).await;
    h.put_referrers("in", &["b"]).await;
    assert_eq!(output_referrers(&h, 2).await, ["a", "B"]);

    // What could not run again is refused while running.
    let error = h.update("app", 2, json!({"ApplicationCodeUpdate": ""})).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidArgument(text) if text.contains("no code")), "{error:?}");
    let lambda = json!({"InputLambdaProcessor": {"ResourceARN": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleARN": ROLE}});
    let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 2, "InputId": "1.1", "InputProcessingConfiguration": lambda});
    let request = req!(AddApplicationInputProcessingConfiguration, body);
    let error = h.analytics().add_application_input_processing_configuration(request).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidArgument(text) if text.contains("Lambda")), "{error:?}");
    assert_eq!(h.version("app").await, 2);
    assert_eq!(h.status("app").await, ApplicationStatus::Running);
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_change_to_what_the_run_uses_runs_it_again() {
    let h = Harness::new().await;
    create_projection(&h).await;
    h.start("app", from("NOW")).await.unwrap();
    h.wait_status("app", ApplicationStatus::Running).await;
    let run = h.analytics().run_metrics("app").unwrap();
    let same_run = |h: &Harness| std::sync::Arc::ptr_eq(&run, &h.analytics().run_metrics("app").unwrap());

    h.add_logging("app", 1).await.unwrap();
    h.wait_status("app", ApplicationStatus::Running).await;
    assert!(same_run(&h), "a logging option does not restart the run");
    let reference = json!({
        "TableName": "COMPANIES",
        "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::refs", "FileKey": "companies.csv", "ReferenceRoleARN": ROLE},
        "ReferenceSchema": {
            "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
            "RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(8)"}],
        },
    });
    let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 2, "ReferenceDataSource": reference});
    h.analytics().add_application_reference_data_source(req!(AddApplicationReferenceDataSource, body)).await.unwrap();
    h.wait_status("app", ApplicationStatus::Running).await;
    assert!(same_run(&h), "a reference source does not restart the run");

    let upper = PROJECTION.replace(r#"SELECT STREAM "referrer""#, r#"SELECT STREAM UPPER("referrer")"#);
    h.update("app", 3, json!({"ApplicationCodeUpdate": upper})).await.unwrap();
    h.wait_status("app", ApplicationStatus::Running).await;
    assert!(!same_run(&h), "new code runs again");
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_run_starts_once_the_service_is_shutting_down() {
    let h = Harness::new().await;
    create_projection(&h).await;
    h.analytics().shutdown().await;
    let error = h.start("app", from("NOW")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::Internal(_)), "{error:?}");
    assert_eq!(h.status("app").await, ApplicationStatus::Ready);
    assert!(h.analytics().run_metrics("app").is_none());
}

// One thread: the start's own task cannot run (and end) during the one poll.
#[tokio::test(flavor = "current_thread")]
async fn a_start_whose_client_goes_away_still_runs() {
    let h = Harness::new().await;
    create_projection(&h).await;
    // The request is dropped after its first poll, in the middle of its work.
    let mut start = Box::pin(h.start("app", from("NOW")));
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(start.as_mut().poll(cx))).await;
    assert!(first.is_pending(), "the start finished in one poll: nothing was cut");
    drop(start);
    h.wait_status("app", ApplicationStatus::Running).await;
    let ran = tokio::time::timeout(WAIT, async {
        while h.analytics().run_metrics("app").is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(ran.is_ok(), "RUNNING without a run");
    h.put_referrers("in", &["a"]).await;
    assert_eq!(output_referrers(&h, 1).await, ["a"]);
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_application_can_be_deleted() {
    let h = Harness::new().await;
    create_projection(&h).await;
    h.start("app", from("NOW")).await.unwrap();
    let detail = h.describe("app").await;
    h.delete("app", created_seconds(&detail)).await.unwrap();
    // DELETING until the run has ended, then gone; the name is free again.
    let gone = tokio::time::timeout(WAIT, async {
        loop {
            let request = req!(DescribeApplication, json!({"ApplicationName": "app"}));
            match h.analytics().describe_application(request).await {
                Err(AnalyticsError::NotFound { .. }) => break,
                Ok(found) => assert_eq!(found.application_detail.application_status, ApplicationStatus::Deleting),
                Err(other) => panic!("{other:?}"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "the deleted application never went");
    create_projection(&h).await;
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_referrer_counter_counts_per_referrer_when_its_window_closes() {
    let h = Harness::new().await;
    let code = r#"
        CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (referrer VARCHAR(32), views INTEGER);
        CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
          SELECT STREAM "referrer", COUNT(*)
          FROM "SOURCE_SQL_STREAM_001"
          GROUP BY "referrer", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);
    "#;
    h.create(json!({
        "ApplicationName": "referrers",
        "Inputs": [json_input("in", 1)],
        "Outputs": [kinesis_output("DESTINATION_SQL_STREAM", "out")],
        "ApplicationCode": code,
    }))
    .await
    .unwrap();
    h.start("referrers", from("NOW")).await.unwrap();
    h.put_referrers("in", &["a.com", "b.com", "a.com"]).await;
    // The window [T0, T0 + 10 s) closes on the timer, with no later record.
    h.wait_read("referrers", 3).await;
    h.advance_ms(10_000);
    let rows = read_kinesis(&h.engine, "out", 2).await;
    let counts: Vec<(&str, i64)> =
        rows.iter().map(|row| (row["REFERRER"].as_str().unwrap(), row["VIEWS"].as_i64().unwrap())).collect();
    assert_eq!(counts, [("a.com", 2), ("b.com", 1)]);
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_infers_a_schema_from_the_stream() {
    let h = Harness::new().await;
    h.put_referrers("in", &["a.com", "bb.com"]).await;
    let body = json!({
        "ResourceARN": stream_arn("in"),
        "RoleARN": ROLE,
        "InputStartingPositionConfiguration": {"InputStartingPosition": "TRIM_HORIZON"},
    });
    let found = h.analytics().discover_input_schema(req!(DiscoverInputSchema, body)).await.unwrap();
    let schema = found.input_schema.unwrap();
    assert_eq!(schema.record_format.record_format_type, RecordFormatType::Json);
    let columns: Vec<(&str, Option<&str>, &str)> =
        schema.record_columns.iter().map(|c| (c.name.as_str(), c.mapping.as_deref(), c.sql_type.as_str())).collect();
    assert_eq!(columns, [("referrer", Some("$.referrer"), "VARCHAR(8)")]);
    assert_eq!(found.raw_input_records.unwrap(), [r#"{"referrer":"a.com"}"#, r#"{"referrer":"bb.com"}"#]);
    assert_eq!(found.parsed_input_records.unwrap(), [["a.com"], ["bb.com"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_refuses_what_it_cannot_sample() {
    let h = Harness::new().await;
    let empty = json!({
        "ResourceARN": stream_arn("in"),
        "RoleARN": ROLE,
        "InputStartingPositionConfiguration": {"InputStartingPosition": "TRIM_HORIZON"},
    });
    let error = h.analytics().discover_input_schema(req!(DiscoverInputSchema, empty)).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::UnableToDetectSchema { raw, .. } if raw.is_empty()), "{error:?}");
    let s3 = json!({"S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::b", "FileKey": "k"}});
    let error = h.analytics().discover_input_schema(req!(DiscoverInputSchema, s3)).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{error:?}");
    let lambda = json!({
        "ResourceARN": stream_arn("in"),
        "RoleARN": ROLE,
        "InputProcessingConfiguration": {"InputLambdaProcessor": {"ResourceARN": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleARN": ROLE}},
    });
    let error = h.analytics().discover_input_schema(req!(DiscoverInputSchema, lambda)).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LambdaUnsupported { .. }), "{error:?}");
    let missing = json!({"ResourceARN": stream_arn("missing"), "RoleARN": ROLE});
    let error = h.analytics().discover_input_schema(req!(DiscoverInputSchema, missing)).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_stream_input_must_exist_and_cannot_start_at_trim_horizon() {
    let h = Harness::new().await;
    let mut input = json_input("in", 1);
    input.as_object_mut().unwrap().remove("KinesisStreamsInput");
    input["KinesisFirehoseInput"] = json!({"ResourceARN": delivery_stream_arn("events"), "RoleARN": ROLE});
    let body = json!({
        "ApplicationName": "app",
        "Inputs": [input],
        "Outputs": [kinesis_output("DESTINATION_SQL_STREAM", "out")],
        "ApplicationCode": PROJECTION,
    });
    let error = h.create(body.clone()).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidArgument(text) if text.contains("events")), "{error:?}");
    h.create_delivery_stream("events").await;
    h.create(body).await.unwrap();
    let described = h.describe("app").await.input_descriptions.unwrap().remove(0);
    assert_eq!(described.kinesis_firehose_input_description.unwrap().resource_arn, Some(delivery_stream_arn("events")));

    let error = h.start("app", from("TRIM_HORIZON")).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::InvalidArgument(text) if text.contains("TRIM_HORIZON")), "{error:?}");
    assert_eq!(h.status("app").await, ApplicationStatus::Ready);
    h.start("app", from("NOW")).await.unwrap();
    assert_eq!(h.status("app").await, ApplicationStatus::Running);
    h.analytics().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_sources_are_stored_described_updated_and_limited_to_one() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
    let reference = |table: &str| {
        json!({
            "TableName": table,
            "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::refs", "FileKey": "companies.csv", "ReferenceRoleARN": ROLE},
            "ReferenceSchema": {
                "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
                "RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(8)"}, {"Name": "company", "SqlType": "VARCHAR(64)"}],
            },
        })
    };
    let add = |version: i64, table: &str| {
        let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": version, "ReferenceDataSource": reference(table)});
        req!(AddApplicationReferenceDataSource, body)
    };
    h.analytics().add_application_reference_data_source(add(1, "COMPANIES")).await.unwrap();
    let error = h.analytics().add_application_reference_data_source(add(2, "OTHER")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LimitExceeded(_)), "{error:?}");

    let update = json!({"ReferenceDataSourceUpdates": [{
        "ReferenceId": "2.1",
        "TableNameUpdate": "TICKERS",
        "S3ReferenceDataSourceUpdate": {"FileKeyUpdate": "tickers.csv"},
    }]});
    h.update("app", 2, update).await.unwrap();
    let described = h.describe("app").await.reference_data_source_descriptions.unwrap().remove(0);
    assert_eq!((described.reference_id.as_str(), described.table_name.as_str()), ("2.1", "TICKERS"));
    let s3 = described.s3_reference_data_source_description;
    assert_eq!((s3.bucket_arn.as_str(), s3.file_key.as_str()), ("arn:aws:s3:::refs", "tickers.csv"));
    let sent = req!(
        AddApplicationReferenceDataSource,
        json!({"ApplicationName": "x", "CurrentApplicationVersionId": 1, "ReferenceDataSource": reference("T")})
    );
    assert_eq!(described.reference_schema.unwrap(), sent.reference_data_source.reference_schema);

    let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 3, "ReferenceId": "2.1"});
    let request = req!(DeleteApplicationReferenceDataSource, body);
    h.analytics().delete_application_reference_data_source(request).await.unwrap();
    assert!(h.describe("app").await.reference_data_source_descriptions.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_and_logging_updates_merge_into_what_is_stored() {
    let h = Harness::new().await;
    h.create(json!({
        "ApplicationName": "app",
        "Inputs": [json_input("in", 1)],
        "CloudWatchLoggingOptions": [{"LogStreamARN": "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s", "RoleARN": ROLE}],
    }))
    .await
    .unwrap();
    let update = json!({
        "InputUpdates": [{
            "InputId": "1.1",
            "NamePrefixUpdate": "EVENTS",
            "InputParallelismUpdate": {"CountUpdate": 3},
            "InputSchemaUpdate": {"RecordColumnUpdates": [
                {"Name": "referrer", "Mapping": "$.referrer", "SqlType": "VARCHAR(64)"},
                {"Name": "path", "Mapping": "$.path", "SqlType": "VARCHAR(128)"},
            ]},
        }],
        "CloudWatchLoggingOptionUpdates": [{"CloudWatchLoggingOptionId": "1.1", "RoleARNUpdate": "arn:aws:iam::000000000000:role/other"}],
    });
    h.update("app", 1, update).await.unwrap();
    let detail = h.describe("app").await;
    let input = detail.input_descriptions.unwrap().remove(0);
    assert_eq!(input.in_app_stream_names.unwrap(), ["EVENTS_001", "EVENTS_002", "EVENTS_003"]);
    let schema = input.input_schema.unwrap();
    assert_eq!(schema.record_columns.len(), 2);
    assert_eq!(schema.record_format.record_format_type, RecordFormatType::Json, "the format is kept");
    let logging = detail.cloud_watch_logging_option_descriptions.unwrap().remove(0);
    assert_eq!(logging.role_arn, "arn:aws:iam::000000000000:role/other");

    // The code is compiled against the renamed streams.
    let error = h.update("app", 2, json!({"ApplicationCodeUpdate": PROJECTION})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::CodeValidation(_)), "{error:?}");
    let renamed = PROJECTION.replace("SOURCE_SQL_STREAM_001", "EVENTS_002");
    h.update("app", 2, json!({"ApplicationCodeUpdate": renamed})).await.unwrap();
    let error = h
        .update("app", 3, json!({"InputUpdates": [{"InputId": "1.1", "InputSchemaUpdate": {"RecordColumnUpdates": [{"Name": "referrer", "SqlType": "NOT A TYPE"}]}}]}))
        .await
        .unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_input_is_gone_fails_and_leaves_the_application_ready() {
    let h = Harness::new().await;
    create_projection(&h).await;
    let stream = rheo_engine::StreamRef { name: Some("in".to_owned()), arn: None };
    h.engine.delete_stream(&rheo_engine::DeleteStream { stream, enforce_consumer_deletion: true }).await.unwrap();
    h.advance_ms(1);
    let error = h.start("app", from("NOW")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidConfiguration(_)), "{error:?}");
    assert_eq!(h.status("app").await, ApplicationStatus::Ready);
    let stop = req!(StopApplication, json!({"ApplicationName": "app"}));
    let error = h.analytics().stop_application(stop).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InUse { status: "READY", .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_a_running_application_runs_again_and_loses_nothing() {
    let mut h = Harness::new().await;
    create_projection(&h).await;
    h.start("app", from("NOW")).await.unwrap();
    h.put_referrers("in", &["a"]).await;
    assert_eq!(output_referrers(&h, 1).await, ["a"]);
    h.crash_and_reopen().await;
    h.put_referrers("in", &["b"]).await;
    h.wait_status("app", ApplicationStatus::Running).await;
    // At least once: what was read since the last saved position may come again.
    let seen = tokio::time::timeout(WAIT, async {
        loop {
            let request = rheo_engine::StreamReaderRequest {
                stream_name: "out".to_owned(),
                start: rheo_engine::ReaderStart::TrimHorizon,
            };
            let mut reader = h.engine.stream_reader(request).unwrap();
            let mut referrers = Vec::new();
            while let Some(batch) = reader.next_batch(1000, 1 << 20).unwrap() {
                for record in batch.records {
                    let row: serde_json::Value = serde_json::from_slice(&record.data).unwrap();
                    referrers.push(row["REFERRER"].as_str().unwrap().to_owned());
                }
            }
            if referrers.iter().any(|r| r == "b") {
                return referrers;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("b delivered after the crash");
    assert_eq!(seen.first().map(String::as_str), Some("a"));
    assert!(seen.iter().all(|r| r == "a" || r == "b"), "{seen:?}");
    h.analytics().shutdown().await;
}
