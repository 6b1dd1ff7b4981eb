//! The Amazon Kinesis Analytics (SQL applications) wire protocol, API version 2015-08-14,
//! JSON 1.1 only, signing name `kinesisanalytics`: a pure codec on the machinery Kinesis
//! and Firehose use.
//!
//! [`model`] is transcribed from the botocore model by `crates/protocol/gen/analytics_model.py`
//! (through the shared `gen/botocore_shapes.py`): all 20 operations, every member typed
//! and every constraint (lengths, ranges, enums, the model's patterns) declared once, so
//! the `SerializationException` texts and AWS's `N validation errors detected: …` texts
//! come from the model. Business rules the model cannot express (statuses, versions,
//! limits, Lambda refusals) are rheo-analytics' and their texts rheo-server's.
//!
//! ```
//! use rheo_protocol::analytics::{decode_request, encode_response, AnalyticsOperation, AnalyticsRequest, AnalyticsResponse};
//! use rheo_protocol::analytics::model::StopApplicationResponse;
//!
//! let operation = AnalyticsOperation::from_target("KinesisAnalytics_20150814.StopApplication").unwrap().unwrap();
//! let Ok(AnalyticsRequest::StopApplication(input)) = decode_request(operation, br#"{"ApplicationName":"app"}"#) else {
//!     panic!("valid")
//! };
//! assert_eq!(input.application_name, "app");
//! assert_eq!(encode_response(&AnalyticsResponse::StopApplication(StopApplicationResponse {})), b"{}");
//! ```

pub mod model;
#[cfg(test)]
mod tests;

use crate::error::DecodeError;
use crate::json_service::json_service;
use model::*;

/// The `X-Amz-Target` prefix of every Analytics operation (service and dot).
pub const TARGET_PREFIX: &str = "KinesisAnalytics_20150814.";

/// The SigV4 signing name (service) clients sign Analytics requests with.
pub const SIGNING_NAME: &str = "kinesisanalytics";

/// Package of the service's generated Java model classes, visible when AWS prints a list
/// of structures in a validation message; by analogy with Firehose's, not observed.
const MODEL_PACKAGE: &str = "com.amazonaws.kinesisanalytics.v20150814";

json_service! {
    service: "Analytics",
    operation: AnalyticsOperation,
    request: AnalyticsRequest,
    response: AnalyticsResponse,
    unknown: UnknownAnalyticsOperation,
    operations {
        AddApplicationCloudWatchLoggingOption: AddApplicationCloudWatchLoggingOptionRequest => AddApplicationCloudWatchLoggingOptionResponse;
        AddApplicationInput: AddApplicationInputRequest => AddApplicationInputResponse;
        AddApplicationInputProcessingConfiguration: AddApplicationInputProcessingConfigurationRequest => AddApplicationInputProcessingConfigurationResponse;
        AddApplicationOutput: AddApplicationOutputRequest => AddApplicationOutputResponse;
        AddApplicationReferenceDataSource: AddApplicationReferenceDataSourceRequest => AddApplicationReferenceDataSourceResponse;
        CreateApplication: CreateApplicationRequest => CreateApplicationResponse;
        DeleteApplication: DeleteApplicationRequest => DeleteApplicationResponse;
        DeleteApplicationCloudWatchLoggingOption: DeleteApplicationCloudWatchLoggingOptionRequest => DeleteApplicationCloudWatchLoggingOptionResponse;
        DeleteApplicationInputProcessingConfiguration: DeleteApplicationInputProcessingConfigurationRequest => DeleteApplicationInputProcessingConfigurationResponse;
        DeleteApplicationOutput: DeleteApplicationOutputRequest => DeleteApplicationOutputResponse;
        DeleteApplicationReferenceDataSource: DeleteApplicationReferenceDataSourceRequest => DeleteApplicationReferenceDataSourceResponse;
        DescribeApplication: DescribeApplicationRequest => DescribeApplicationResponse;
        DiscoverInputSchema: DiscoverInputSchemaRequest => DiscoverInputSchemaResponse;
        ListApplications: ListApplicationsRequest => ListApplicationsResponse;
        ListTagsForResource: ListTagsForResourceRequest => ListTagsForResourceResponse;
        StartApplication: StartApplicationRequest => StartApplicationResponse;
        StopApplication: StopApplicationRequest => StopApplicationResponse;
        TagResource: TagResourceRequest => TagResourceResponse;
        UntagResource: UntagResourceRequest => UntagResourceResponse;
        UpdateApplication: UpdateApplicationRequest => UpdateApplicationResponse;
    }
}
