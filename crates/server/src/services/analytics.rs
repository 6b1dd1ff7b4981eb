//! The Kinesis Analytics API (`KinesisAnalytics_20150814.*`, JSON 1.1, signing name
//! `kinesisanalytics`) on the same port as Kinesis and Firehose.

use rheo_analytics::service::Analytics;
use rheo_protocol::analytics::{
    decode_request, encode_response, AnalyticsOperation, AnalyticsRequest, AnalyticsResponse,
};
use rheo_protocol::WireError;

use crate::errors::analytics_wire_error;

mod service;
pub use service::AnalyticsService;

/// Runs one Analytics operation on a JSON body and encodes its response. The body is
/// decoded and validated by `rheo_protocol::analytics` (AWS's `SerializationException` and
/// `ValidationException` texts) before the control plane sees it, then `authorize`d.
pub async fn call(
    analytics: &Analytics,
    operation: AnalyticsOperation,
    body: &[u8],
    authorize: impl FnOnce(&AnalyticsRequest) -> Result<(), WireError>,
) -> Result<Vec<u8>, WireError> {
    let request = decode_request(operation, body).map_err(|error| error.to_wire_error())?;
    authorize(&request)?;
    // Each operation calls the control plane's method of the same name, snake_case.
    macro_rules! operations {
        ($($operation:ident => $method:ident),* $(,)?) => {
            match request {
                $( AnalyticsRequest::$operation(input) => analytics.$method(input).await.map(AnalyticsResponse::$operation), )*
            }
        };
    }
    let result = operations! {
        AddApplicationCloudWatchLoggingOption => add_application_cloud_watch_logging_option,
        AddApplicationInput => add_application_input,
        AddApplicationInputProcessingConfiguration => add_application_input_processing_configuration,
        AddApplicationOutput => add_application_output,
        AddApplicationReferenceDataSource => add_application_reference_data_source,
        CreateApplication => create_application,
        DeleteApplication => delete_application,
        DeleteApplicationCloudWatchLoggingOption => delete_application_cloud_watch_logging_option,
        DeleteApplicationInputProcessingConfiguration => delete_application_input_processing_configuration,
        DeleteApplicationOutput => delete_application_output,
        DeleteApplicationReferenceDataSource => delete_application_reference_data_source,
        DescribeApplication => describe_application,
        DiscoverInputSchema => discover_input_schema,
        ListApplications => list_applications,
        ListTagsForResource => list_tags_for_resource,
        StartApplication => start_application,
        StopApplication => stop_application,
        TagResource => tag_resource,
        UntagResource => untag_resource,
        UpdateApplication => update_application,
    };
    result.map(|response| encode_response(&response)).map_err(|error| {
        let wire = analytics_wire_error(&error);
        if wire.http_status >= 500 {
            tracing::error!(message = "Analytics request failed.", operation = operation.name(), %error);
        }
        wire
    })
}
