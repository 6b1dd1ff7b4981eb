#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The control plane over a real engine on an in-memory filesystem with a manual clock:
//! every operation, versions and ids, statuses and their transitions, limits, tags,
//! paging, the Lambda rules, and state that survives reopening.

mod engines;
#[macro_use]
mod control_common;

use std::collections::BTreeMap;

use control_common::*;
use rheo_analytics::error::AnalyticsError;
use rheo_protocol::analytics::model::*;
use serde_json::{json, Value as Json};

// ----- Create, describe, list -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_application_is_ready_at_version_one_with_ids_one_dot_n() {
    let h = Harness::new().await;
    let created = h
        .create(json!({
            "ApplicationName": "app",
            "ApplicationDescription": "counts referrers",
            "Outputs": [kinesis_output("A", "out"), kinesis_output("B", "out")],
            "CloudWatchLoggingOptions": [{"LogStreamARN": "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s", "RoleARN": ROLE}],
        }))
        .await
        .unwrap();
    assert_eq!(created.application_summary.application_status, ApplicationStatus::Ready);
    assert_eq!(created.application_summary.application_arn, app_arn("app"));

    let detail = h.describe("app").await;
    assert_eq!(detail.application_version_id, 1);
    assert_eq!(detail.application_status, ApplicationStatus::Ready);
    assert_eq!(detail.application_description.as_deref(), Some("counts referrers"));
    assert_eq!(detail.create_timestamp.unwrap().epoch_millis(), T0_MS as i64);
    let outputs = detail.output_descriptions.unwrap();
    let ids: Vec<_> = outputs.iter().map(|o| o.output_id.clone().unwrap()).collect();
    assert_eq!(ids, ["1.1", "1.2"]);
    assert_eq!(outputs[0].kinesis_streams_output_description.as_ref().unwrap().resource_arn, Some(stream_arn("out")));
    let logging = detail.cloud_watch_logging_option_descriptions.unwrap();
    assert_eq!(logging[0].cloud_watch_logging_option_id.as_deref(), Some("1.1"));
    assert_eq!(detail.application_code, None, "no code given");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_unique_and_the_account_limit_holds() {
    let h = Harness::with(0, 2).await;
    h.create(json!({"ApplicationName": "a"})).await.unwrap();
    let error = h.create(json!({"ApplicationName": "a"})).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::Exists { application } if application == "a"), "{error:?}");
    h.create(json!({"ApplicationName": "b"})).await.unwrap();
    let error = h.create(json!({"ApplicationName": "c"})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LimitExceeded(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_application_is_not_found() {
    let h = Harness::new().await;
    let request = req!(DescribeApplication, json!({"ApplicationName": "nope"}));
    let error = h.analytics().describe_application(request).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::NotFound { application } if application == "nope"), "{error:?}");
    let error = h.update("nope", 1, json!({"ApplicationCodeUpdate": ""})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::NotFound { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_by_name_after_the_exclusive_start() {
    let h = Harness::new().await;
    for name in ["e", "b", "d", "a", "c"] {
        h.create(json!({"ApplicationName": name})).await.unwrap();
    }
    let names = |page: &ListApplicationsResponse| {
        page.application_summaries.iter().map(|s| s.application_name.clone()).collect::<Vec<_>>()
    };
    let first = h.list(json!({"Limit": 2})).await;
    assert_eq!((names(&first), first.has_more_applications), (vec!["a".to_owned(), "b".to_owned()], true));
    let second = h.list(json!({"Limit": 2, "ExclusiveStartApplicationName": "b"})).await;
    assert_eq!((names(&second), second.has_more_applications), (vec!["c".to_owned(), "d".to_owned()], true));
    let last = h.list(json!({"Limit": 2, "ExclusiveStartApplicationName": "d"})).await;
    assert_eq!((names(&last), last.has_more_applications), (vec!["e".to_owned()], false));
    let all = h.list(json!({})).await;
    assert_eq!(names(&all), ["a", "b", "c", "d", "e"]);
    assert!(!all.has_more_applications);
    assert!(all.application_summaries.iter().all(|s| s.application_status == ApplicationStatus::Ready));
}

// ----- Versions and ids -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configuration_change_needs_the_current_version_and_bumps_it() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();

    let error = h.add_logging("app", 2).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::StaleVersion { given: 2, current: 1, .. }), "{error:?}");
    assert_eq!(h.version("app").await, 1, "a refused change changes nothing");

    h.add_logging("app", 1).await.unwrap();
    assert_eq!(h.version("app").await, 2);
    h.add_output("app", 2, kinesis_output("OUT", "out")).await.unwrap();
    assert_eq!(h.version("app").await, 3);
    h.update("app", 3, json!({"ApplicationCodeUpdate": ""})).await.unwrap();
    assert_eq!(h.version("app").await, 4);

    // Ids name the version the adding change created.
    let detail = h.describe("app").await;
    assert_eq!(
        detail.cloud_watch_logging_option_descriptions.unwrap()[0].cloud_watch_logging_option_id.as_deref(),
        Some("2.1")
    );
    assert_eq!(detail.output_descriptions.unwrap()[0].output_id.as_deref(), Some("3.1"));

    let stale = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 3, "OutputId": "3.1"});
    let error = h.analytics().delete_application_output(req!(DeleteApplicationOutput, stale)).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::StaleVersion { given: 3, current: 4, .. }), "{error:?}");
    let current = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 4, "OutputId": "3.1"});
    h.analytics().delete_application_output(req!(DeleteApplicationOutput, current)).await.unwrap();
    let detail = h.describe("app").await;
    assert_eq!(detail.application_version_id, 5);
    assert!(detail.output_descriptions.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_element_ids_are_not_found() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
    let body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 1, "CloudWatchLoggingOptionId": "1.1"});
    let error = h
        .analytics()
        .delete_application_cloud_watch_logging_option(req!(DeleteApplicationCloudWatchLoggingOption, body))
        .await
        .unwrap_err();
    assert!(matches!(&error, AnalyticsError::ElementNotFound { id, .. } if id == "1.1"), "{error:?}");
    let error =
        h.update("app", 1, json!({"OutputUpdates": [{"OutputId": "9.9", "NameUpdate": "X"}]})).await.unwrap_err();
    assert!(matches!(&error, AnalyticsError::ElementNotFound { id, what: "output", .. } if id == "9.9"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_merge_into_the_element_they_name() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app", "Outputs": [kinesis_output("A", "out")]})).await.unwrap();
    h.create_stream("other").await;
    let update = json!({"OutputUpdates": [{
        "OutputId": "1.1",
        "NameUpdate": "B",
        "KinesisStreamsOutputUpdate": {"ResourceARNUpdate": stream_arn("other")},
        "DestinationSchemaUpdate": {"RecordFormatType": "CSV"},
    }]});
    h.update("app", 1, update).await.unwrap();
    let output = h.describe("app").await.output_descriptions.unwrap().remove(0);
    assert_eq!(output.output_id.as_deref(), Some("1.1"));
    assert_eq!(output.name.as_deref(), Some("B"));
    let kinesis = output.kinesis_streams_output_description.unwrap();
    assert_eq!((kinesis.resource_arn, kinesis.role_arn), (Some(stream_arn("other")), Some(ROLE.to_owned())));
    assert_eq!(output.destination_schema.unwrap().record_format_type, RecordFormatType::Csv);
}

// ----- Limits and the Lambda rules -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_three_outputs() {
    let h = Harness::new().await;
    let outputs: Vec<Json> = (0..3).map(|n| kinesis_output(&format!("S{n}"), "out")).collect();
    h.create(json!({"ApplicationName": "app", "Outputs": outputs})).await.unwrap();
    let error = h.add_output("app", 1, kinesis_output("S3", "out")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LimitExceeded(_)), "{error:?}");
    let four: Vec<Json> = (0..4).map(|n| kinesis_output(&format!("S{n}"), "out")).collect();
    let error = h.create(json!({"ApplicationName": "four", "Outputs": four})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LimitExceeded(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_outputs_are_refused_wherever_they_are_configured() {
    let h = Harness::new().await;
    let error = h.create(json!({"ApplicationName": "app", "Outputs": [lambda_output("A")]})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LambdaUnsupported { member: "LambdaOutput" }), "{error:?}");
    h.create(json!({"ApplicationName": "app", "Outputs": [kinesis_output("A", "out")]})).await.unwrap();
    let error = h.add_output("app", 1, lambda_output("B")).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LambdaUnsupported { .. }), "{error:?}");
    let update = json!({"OutputUpdates": [{"OutputId": "1.1", "LambdaOutputUpdate": {"ResourceARNUpdate": "arn:aws:lambda:us-east-1:000000000000:function:f"}}]});
    let error = h.update("app", 1, update).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::LambdaUnsupported { .. }), "{error:?}");
    assert_eq!(h.version("app").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_of_another_account_or_region_are_invalid() {
    let h = Harness::new().await;
    let foreign = json!({
        "Name": "A",
        "KinesisStreamsOutput": {"ResourceARN": "arn:aws:kinesis:eu-west-1:000000000000:stream/out", "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"},
    });
    let error = h.create(json!({"ApplicationName": "app", "Outputs": [foreign]})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{error:?}");
}

// ----- Start rules that need no input -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_without_input_cannot_start() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
    let error = h.start("app", json!([])).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidConfiguration(_)), "{error:?}");
    assert_eq!(h.status("app").await, ApplicationStatus::Ready);
    let error = h
        .start("app", json!([{"Id": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": "NOW"}}]))
        .await
        .unwrap_err();
    assert!(matches!(&error, AnalyticsError::ElementNotFound { id, .. } if id == "1.1"), "{error:?}");
    let stop = req!(StopApplication, json!({"ApplicationName": "app"}));
    let error = h.analytics().stop_application(stop).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InUse { status: "READY", .. }), "{error:?}");
}

// ----- Delete -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_needs_the_create_timestamp_and_shows_deleting_for_a_while() {
    let h = Harness::with(1_000, 50).await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
    let detail = h.describe("app").await;
    let error = h.delete("app", json!(1.0)).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::CreateTimestampMismatch { .. }), "{error:?}");

    h.delete("app", created_seconds(&detail)).await.unwrap();
    assert_eq!(h.status("app").await, ApplicationStatus::Deleting);
    let listed = h.list(json!({})).await.application_summaries;
    assert_eq!(listed[0].application_status, ApplicationStatus::Deleting);
    let error = h.create(json!({"ApplicationName": "app"})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::Exists { .. }), "the name is taken while DELETING: {error:?}");

    h.advance_ms(1_000);
    let request = req!(DescribeApplication, json!({"ApplicationName": "app"}));
    assert!(matches!(h.analytics().describe_application(request).await, Err(AnalyticsError::NotFound { .. })));
    assert!(h.list(json!({})).await.application_summaries.is_empty());
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
}

// ----- Statuses -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_shows_updating_and_refuses_other_changes_until_it_ends() {
    let h = Harness::with(500, 50).await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
    h.add_logging("app", 1).await.unwrap();
    assert_eq!(h.status("app").await, ApplicationStatus::Updating);
    let error = h.add_logging("app", 2).await.unwrap_err();
    assert!(
        matches!(error, AnalyticsError::InUse { status: "UPDATING", operation: "a configuration change", .. }),
        "{error:?}"
    );
    h.advance_ms(500);
    assert_eq!(h.status("app").await, ApplicationStatus::Ready);
    h.add_logging("app", 2).await.unwrap();
}

// ----- Tags -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_kept_limited_and_leave_the_version_alone() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "app", "Tags": [{"Key": "team", "Value": "web"}]})).await.unwrap();
    h.tag("app", json!([{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "data"}])).await.unwrap();
    let expected = BTreeMap::from([("env".to_owned(), "dev".to_owned()), ("team".to_owned(), "data".to_owned())]);
    assert_eq!(h.tags("app").await, expected);
    assert_eq!(h.version("app").await, 1);

    let untag = req!(UntagResource, json!({"ResourceARN": app_arn("app"), "TagKeys": ["env", "absent"]}));
    h.analytics().untag_resource(untag).await.unwrap();
    assert_eq!(h.tags("app").await.keys().collect::<Vec<_>>(), ["team"]);

    let error = h.tag("app", json!([{"Key": "aws:owner", "Value": "x"}])).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{error:?}");
    let many: Vec<Json> = (0..49).map(|n| json!({"Key": format!("k{n}"), "Value": ""})).collect();
    h.tag("app", json!(many)).await.unwrap();
    assert_eq!(h.tags("app").await.len(), 50);
    let error = h.tag("app", json!([{"Key": "one-more", "Value": ""}])).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::TooManyTags { count: 51, max: 50 }), "{error:?}");

    let too_many: Vec<Json> = (0..51).map(|n| json!({"Key": format!("k{n}"), "Value": ""})).collect();
    let error = h.create(json!({"ApplicationName": "b", "Tags": too_many})).await.unwrap_err();
    assert!(matches!(error, AnalyticsError::TooManyTags { .. }), "{error:?}");

    let missing = req!(ListTagsForResource, json!({"ResourceARN": app_arn("nope")}));
    assert!(matches!(h.analytics().list_tags_for_resource(missing).await, Err(AnalyticsError::NotFound { .. })));
}

// ----- Durability -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_and_tags_survive_reopening() {
    let mut h = Harness::new().await;
    h.create(json!({"ApplicationName": "app", "Outputs": [kinesis_output("A", "out")], "Tags": [{"Key": "k", "Value": "v"}]}))
        .await
        .unwrap();
    h.add_logging("app", 1).await.unwrap();
    let before = h.describe("app").await;
    h.reopen().await;
    assert_eq!(h.describe("app").await, before);
    assert_eq!(h.tags("app").await, BTreeMap::from([("k".to_owned(), "v".to_owned())]));
    h.add_logging("app", 1).await.unwrap_err();
    h.add_logging("app", 2).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_updating_at_a_restart_is_back_in_its_previous_status() {
    let mut h = Harness::with(60_000, 50).await;
    h.create(json!({"ApplicationName": "app"})).await.unwrap();
    h.add_logging("app", 1).await.unwrap();
    assert_eq!(h.status("app").await, ApplicationStatus::Updating);
    h.reopen().await;
    assert_eq!(h.status("app").await, ApplicationStatus::Ready, "the change's work ended with the process");
    assert_eq!(h.version("app").await, 2, "the committed change stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_applications_by_status() {
    let h = Harness::new().await;
    h.create(json!({"ApplicationName": "a"})).await.unwrap();
    h.create(json!({"ApplicationName": "b"})).await.unwrap();
    let mut out = String::new();
    h.analytics().render_metrics(&mut out);
    assert!(out.contains("rheo_analytics_applications{status=\"READY\"} 2\n"), "{out}");
}
