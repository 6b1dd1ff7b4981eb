//! Between the wire types of `rheo_protocol::analytics` and the stored state: requests'
//! configuration members into [`crate::state`] values (with their ids), updates merged
//! into stored values, and stored values described as DescribeApplication shows them.

use rheo_protocol::analytics::model::*;
use rheo_protocol::Timestamp;

use crate::config::OutputFormat;
use crate::error::{AnalyticsError, Result};
use crate::lifecycle::Status;
use crate::state::{
    Resource, ResourceKind, StartingPosition, StoredApplication, StoredColumn, StoredInput, StoredLoggingOption,
    StoredOutput, StoredRecordFormat, StoredReferenceSource, StoredSchema,
};

fn invalid(text: impl Into<String>) -> AnalyticsError {
    AnalyticsError::InvalidArgument(text.into())
}

fn resource(kind: ResourceKind, resource_arn: &str, role_arn: &str) -> Resource {
    Resource { kind, resource_arn: resource_arn.to_owned(), role_arn: role_arn.to_owned() }
}

/// Exactly one of the given members must be present (AWS's "one of" members).
fn one_of(present: &[(&'static str, Option<Resource>)], parent: &str) -> Result<Resource> {
    let mut given = present.iter().filter_map(|(name, value)| value.clone().map(|v| (*name, v)));
    match (given.next(), given.next()) {
        (Some((_, value)), None) => Ok(value),
        (None, _) => {
            let names: Vec<&str> = present.iter().map(|(name, _)| *name).collect();
            Err(invalid(format!("{parent} needs one of {}.", names.join(", "))))
        }
        (Some((first, _)), Some((second, _))) => {
            Err(invalid(format!("{parent} takes only one of {first} and {second}.")))
        }
    }
}

fn parallelism(count: Option<i32>) -> Result<u32> {
    let count = count.unwrap_or(1);
    u32::try_from(count).map_err(|_| invalid(format!("InputParallelism Count {count} is not valid.")))
}

pub(crate) fn schema(schema: &SourceSchema) -> Result<StoredSchema> {
    let mapping = schema.record_format.mapping_parameters.as_ref();
    let json = mapping.and_then(|m| m.json_mapping_parameters.as_ref());
    let csv = mapping.and_then(|m| m.csv_mapping_parameters.as_ref());
    let record_format = match schema.record_format.record_format_type {
        RecordFormatType::Json if csv.is_some() => {
            return Err(invalid("RecordFormat JSON takes JSONMappingParameters, not CSVMappingParameters."))
        }
        RecordFormatType::Csv if json.is_some() => {
            return Err(invalid("RecordFormat CSV takes CSVMappingParameters, not JSONMappingParameters."))
        }
        RecordFormatType::Json => StoredRecordFormat::Json { record_row_path: json.map(|j| j.record_row_path.clone()) },
        RecordFormatType::Csv => StoredRecordFormat::Csv {
            record_row_delimiter: csv.map(|c| c.record_row_delimiter.clone()),
            record_column_delimiter: csv.map(|c| c.record_column_delimiter.clone()),
        },
    };
    Ok(StoredSchema {
        record_format,
        record_encoding: schema.record_encoding.clone(),
        record_columns: schema
            .record_columns
            .iter()
            .map(|c| StoredColumn { name: c.name.clone(), mapping: c.mapping.clone(), sql_type: c.sql_type.clone() })
            .collect(),
    })
}

fn lambda_processor(config: &InputProcessingConfiguration) -> Resource {
    let lambda = &config.input_lambda_processor;
    resource(ResourceKind::Lambda, &lambda.resource_arn, &lambda.role_arn)
}

pub(crate) fn input(input: &Input, id: String) -> Result<StoredInput> {
    let source = one_of(
        &[
            (
                "KinesisStreamsInput",
                input
                    .kinesis_streams_input
                    .as_ref()
                    .map(|k| resource(ResourceKind::KinesisStreams, &k.resource_arn, &k.role_arn)),
            ),
            (
                "KinesisFirehoseInput",
                input
                    .kinesis_firehose_input
                    .as_ref()
                    .map(|k| resource(ResourceKind::KinesisFirehose, &k.resource_arn, &k.role_arn)),
            ),
        ],
        "Input",
    )?;
    Ok(StoredInput {
        id,
        name_prefix: input.name_prefix.clone(),
        parallelism: parallelism(input.input_parallelism.as_ref().and_then(|p| p.count))?,
        source,
        lambda_processor: input.input_processing_configuration.as_ref().map(lambda_processor),
        schema: schema(&input.input_schema)?,
        starting_position: None,
    })
}

fn output_format(schema: &DestinationSchema) -> OutputFormat {
    match schema.record_format_type {
        RecordFormatType::Json => OutputFormat::Json,
        RecordFormatType::Csv => OutputFormat::Csv,
    }
}

pub(crate) fn output(output: &Output, id: String) -> Result<StoredOutput> {
    // Issue 15: Lambda outputs are refused with an error saying so (Rheo runs no Lambda).
    if output.lambda_output.is_some() {
        return Err(AnalyticsError::LambdaUnsupported { member: "LambdaOutput" });
    }
    let destination = one_of(
        &[
            (
                "KinesisStreamsOutput",
                output
                    .kinesis_streams_output
                    .as_ref()
                    .map(|k| resource(ResourceKind::KinesisStreams, &k.resource_arn, &k.role_arn)),
            ),
            (
                "KinesisFirehoseOutput",
                output
                    .kinesis_firehose_output
                    .as_ref()
                    .map(|k| resource(ResourceKind::KinesisFirehose, &k.resource_arn, &k.role_arn)),
            ),
        ],
        "Output",
    )?;
    Ok(StoredOutput { id, name: output.name.clone(), destination, format: output_format(&output.destination_schema) })
}

pub(crate) fn reference_source(source: &ReferenceDataSource, id: String) -> Result<StoredReferenceSource> {
    let s3 = source
        .s3_reference_data_source
        .as_ref()
        .ok_or_else(|| invalid("ReferenceDataSource needs S3ReferenceDataSource."))?;
    Ok(StoredReferenceSource {
        id,
        table_name: source.table_name.clone(),
        bucket_arn: s3.bucket_arn.clone(),
        file_key: s3.file_key.clone(),
        role_arn: s3.reference_role_arn.clone(),
        schema: schema(&source.reference_schema)?,
    })
}

pub(crate) fn logging_option(option: &CloudWatchLoggingOption, id: String) -> StoredLoggingOption {
    StoredLoggingOption { id, log_stream_arn: option.log_stream_arn.clone(), role_arn: option.role_arn.clone() }
}

pub(crate) fn starting_position(position: Option<InputStartingPosition>) -> StartingPosition {
    match position {
        Some(InputStartingPosition::TrimHorizon) => StartingPosition::TrimHorizon,
        Some(InputStartingPosition::LastStoppedPoint) => StartingPosition::LastStoppedPoint,
        // The member is optional in the model; NOW is what a missing position means
        // [DECISION: AWS's console default].
        Some(InputStartingPosition::Now) | None => StartingPosition::Now,
    }
}

fn wire_starting_position(position: StartingPosition) -> InputStartingPosition {
    match position {
        StartingPosition::Now => InputStartingPosition::Now,
        StartingPosition::TrimHorizon => InputStartingPosition::TrimHorizon,
        StartingPosition::LastStoppedPoint => InputStartingPosition::LastStoppedPoint,
    }
}

/// Applies `update` to `(arn, role)` of a resource, switching its kind when the update is
/// for another kind (then the ARN must be given).
fn update_resource(
    target: &mut Resource,
    kind: ResourceKind,
    arn: Option<&String>,
    role: Option<&String>,
    member: &str,
) -> Result<()> {
    if target.kind != kind {
        let arn = arn
            .ok_or_else(|| invalid(format!("{member} must give ResourceARNUpdate to change the kind of resource.")))?;
        *target = resource(kind, arn, role.unwrap_or(&target.role_arn));
        return Ok(());
    }
    if let Some(arn) = arn {
        target.resource_arn = arn.clone();
    }
    if let Some(role) = role {
        target.role_arn = role.clone();
    }
    Ok(())
}

pub(crate) fn apply_input_update(input: &mut StoredInput, update: &InputUpdate) -> Result<()> {
    if let Some(prefix) = &update.name_prefix_update {
        input.name_prefix = prefix.clone();
    }
    if let Some(processing) = &update.input_processing_configuration_update {
        let lambda = &processing.input_lambda_processor_update;
        match &mut input.lambda_processor {
            Some(existing) => update_resource(
                existing,
                ResourceKind::Lambda,
                lambda.resource_arn_update.as_ref(),
                lambda.role_arn_update.as_ref(),
                "InputLambdaProcessorUpdate",
            )?,
            None => {
                return Err(invalid(format!(
                    "Input {} has no InputProcessingConfiguration to update; add one first.",
                    input.id
                )))
            }
        }
    }
    if let Some(kinesis) = &update.kinesis_streams_input_update {
        let (arn, role) = (kinesis.resource_arn_update.as_ref(), kinesis.role_arn_update.as_ref());
        update_resource(&mut input.source, ResourceKind::KinesisStreams, arn, role, "KinesisStreamsInputUpdate")?;
    }
    if let Some(firehose) = &update.kinesis_firehose_input_update {
        let (arn, role) = (firehose.resource_arn_update.as_ref(), firehose.role_arn_update.as_ref());
        update_resource(&mut input.source, ResourceKind::KinesisFirehose, arn, role, "KinesisFirehoseInputUpdate")?;
    }
    if let Some(schema_update) = &update.input_schema_update {
        if let Some(format) = &schema_update.record_format_update {
            let probe =
                SourceSchema { record_format: format.clone(), record_encoding: None, record_columns: Vec::new() };
            input.schema.record_format = schema(&probe)?.record_format;
        }
        if let Some(encoding) = &schema_update.record_encoding_update {
            input.schema.record_encoding = Some(encoding.clone());
        }
        if let Some(columns) = &schema_update.record_column_updates {
            input.schema.record_columns = columns
                .iter()
                .map(|c| StoredColumn {
                    name: c.name.clone(),
                    mapping: c.mapping.clone(),
                    sql_type: c.sql_type.clone(),
                })
                .collect();
        }
    }
    if let Some(count) = update.input_parallelism_update.as_ref().and_then(|p| p.count_update) {
        input.parallelism = parallelism(Some(count))?;
    }
    Ok(())
}

pub(crate) fn apply_output_update(output: &mut StoredOutput, update: &OutputUpdate) -> Result<()> {
    if update.lambda_output_update.is_some() {
        return Err(AnalyticsError::LambdaUnsupported { member: "LambdaOutputUpdate" });
    }
    if let Some(name) = &update.name_update {
        output.name = name.clone();
    }
    if let Some(kinesis) = &update.kinesis_streams_output_update {
        let (arn, role) = (kinesis.resource_arn_update.as_ref(), kinesis.role_arn_update.as_ref());
        update_resource(
            &mut output.destination,
            ResourceKind::KinesisStreams,
            arn,
            role,
            "KinesisStreamsOutputUpdate",
        )?;
    }
    if let Some(firehose) = &update.kinesis_firehose_output_update {
        let (arn, role) = (firehose.resource_arn_update.as_ref(), firehose.role_arn_update.as_ref());
        update_resource(
            &mut output.destination,
            ResourceKind::KinesisFirehose,
            arn,
            role,
            "KinesisFirehoseOutputUpdate",
        )?;
    }
    if let Some(schema) = &update.destination_schema_update {
        output.format = output_format(schema);
    }
    Ok(())
}

pub(crate) fn apply_reference_update(
    source: &mut StoredReferenceSource,
    update: &ReferenceDataSourceUpdate,
) -> Result<()> {
    if let Some(name) = &update.table_name_update {
        source.table_name = name.clone();
    }
    if let Some(s3) = &update.s3_reference_data_source_update {
        if let Some(bucket) = &s3.bucket_arn_update {
            source.bucket_arn = bucket.clone();
        }
        if let Some(key) = &s3.file_key_update {
            source.file_key = key.clone();
        }
        if let Some(role) = &s3.reference_role_arn_update {
            source.role_arn = role.clone();
        }
    }
    if let Some(new_schema) = &update.reference_schema_update {
        source.schema = schema(new_schema)?;
    }
    Ok(())
}

pub(crate) fn apply_logging_update(option: &mut StoredLoggingOption, update: &CloudWatchLoggingOptionUpdate) {
    if let Some(arn) = &update.log_stream_arn_update {
        option.log_stream_arn = arn.clone();
    }
    if let Some(role) = &update.role_arn_update {
        option.role_arn = role.clone();
    }
}

fn describe_schema(stored: &StoredSchema) -> SourceSchema {
    let (record_format_type, mapping_parameters) = match &stored.record_format {
        StoredRecordFormat::Json { record_row_path } => (
            RecordFormatType::Json,
            record_row_path.as_ref().map(|path| MappingParameters {
                json_mapping_parameters: Some(JSONMappingParameters { record_row_path: path.clone() }),
                csv_mapping_parameters: None,
            }),
        ),
        StoredRecordFormat::Csv { record_row_delimiter, record_column_delimiter } => (
            RecordFormatType::Csv,
            record_row_delimiter.as_ref().zip(record_column_delimiter.as_ref()).map(|(row, column)| {
                MappingParameters {
                    json_mapping_parameters: None,
                    csv_mapping_parameters: Some(CSVMappingParameters {
                        record_row_delimiter: row.clone(),
                        record_column_delimiter: column.clone(),
                    }),
                }
            }),
        ),
    };
    SourceSchema {
        record_format: RecordFormat { record_format_type, mapping_parameters },
        record_encoding: stored.record_encoding.clone(),
        record_columns: stored
            .record_columns
            .iter()
            .map(|c| RecordColumn { name: c.name.clone(), mapping: c.mapping.clone(), sql_type: c.sql_type.clone() })
            .collect(),
    }
}

/// The ARN and role of a resource, if it is of `kind`.
fn arn_role(resource: &Resource, kind: ResourceKind) -> Option<(Option<String>, Option<String>)> {
    (resource.kind == kind).then(|| (Some(resource.resource_arn.clone()), Some(resource.role_arn.clone())))
}

fn describe_input(input: &StoredInput) -> InputDescription {
    let in_app_stream_names = (1..=input.parallelism).map(|n| format!("{}_{n:03}", input.name_prefix)).collect();
    InputDescription {
        input_id: Some(input.id.clone()),
        name_prefix: Some(input.name_prefix.clone()),
        in_app_stream_names: Some(in_app_stream_names),
        input_processing_configuration_description: input.lambda_processor.as_ref().map(|lambda| {
            InputProcessingConfigurationDescription {
                input_lambda_processor_description: Some(InputLambdaProcessorDescription {
                    resource_arn: Some(lambda.resource_arn.clone()),
                    role_arn: Some(lambda.role_arn.clone()),
                }),
            }
        }),
        kinesis_streams_input_description: arn_role(&input.source, ResourceKind::KinesisStreams)
            .map(|(resource_arn, role_arn)| KinesisStreamsInputDescription { resource_arn, role_arn }),
        kinesis_firehose_input_description: arn_role(&input.source, ResourceKind::KinesisFirehose)
            .map(|(resource_arn, role_arn)| KinesisFirehoseInputDescription { resource_arn, role_arn }),
        input_schema: Some(describe_schema(&input.schema)),
        input_parallelism: Some(InputParallelism { count: i32::try_from(input.parallelism).ok() }),
        // `{}` before the first start, as AWS shows it.
        input_starting_position_configuration: Some(InputStartingPositionConfiguration {
            input_starting_position: input.starting_position.map(wire_starting_position),
        }),
    }
}

fn describe_output(output: &StoredOutput) -> OutputDescription {
    let format = match output.format {
        OutputFormat::Json => RecordFormatType::Json,
        OutputFormat::Csv => RecordFormatType::Csv,
    };
    OutputDescription {
        output_id: Some(output.id.clone()),
        name: Some(output.name.clone()),
        kinesis_streams_output_description: arn_role(&output.destination, ResourceKind::KinesisStreams)
            .map(|(resource_arn, role_arn)| KinesisStreamsOutputDescription { resource_arn, role_arn }),
        kinesis_firehose_output_description: arn_role(&output.destination, ResourceKind::KinesisFirehose)
            .map(|(resource_arn, role_arn)| KinesisFirehoseOutputDescription { resource_arn, role_arn }),
        lambda_output_description: arn_role(&output.destination, ResourceKind::Lambda)
            .map(|(resource_arn, role_arn)| LambdaOutputDescription { resource_arn, role_arn }),
        destination_schema: Some(DestinationSchema { record_format_type: format }),
    }
}

fn describe_reference(source: &StoredReferenceSource) -> ReferenceDataSourceDescription {
    ReferenceDataSourceDescription {
        reference_id: source.id.clone(),
        table_name: source.table_name.clone(),
        s3_reference_data_source_description: S3ReferenceDataSourceDescription {
            bucket_arn: source.bucket_arn.clone(),
            file_key: source.file_key.clone(),
            reference_role_arn: source.role_arn.clone(),
        },
        reference_schema: Some(describe_schema(&source.schema)),
    }
}

fn describe_logging(option: &StoredLoggingOption) -> CloudWatchLoggingOptionDescription {
    CloudWatchLoggingOptionDescription {
        cloud_watch_logging_option_id: Some(option.id.clone()),
        log_stream_arn: option.log_stream_arn.clone(),
        role_arn: option.role_arn.clone(),
    }
}

pub(crate) fn status(status: Status) -> ApplicationStatus {
    match status {
        Status::Ready => ApplicationStatus::Ready,
        Status::Starting => ApplicationStatus::Starting,
        Status::Running => ApplicationStatus::Running,
        Status::Stopping => ApplicationStatus::Stopping,
        Status::Updating => ApplicationStatus::Updating,
        Status::Deleting => ApplicationStatus::Deleting,
    }
}

fn timestamp(ms: u64) -> Timestamp {
    Timestamp::from_epoch_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// DescribeApplication's `ApplicationDetail`.
pub(crate) fn detail(name: &str, arn: String, app: &StoredApplication, shown: Status) -> ApplicationDetail {
    let nonempty = |empty: bool| !empty;
    ApplicationDetail {
        application_name: name.to_owned(),
        application_description: app.description.clone(),
        application_arn: arn,
        application_status: status(shown),
        create_timestamp: Some(timestamp(app.created_ms)),
        last_update_timestamp: Some(timestamp(app.updated_ms)),
        input_descriptions: Some(app.inputs.iter().map(describe_input).collect()),
        output_descriptions: Some(app.outputs.iter().map(describe_output).collect()),
        reference_data_source_descriptions: nonempty(app.reference_sources.is_empty())
            .then(|| app.reference_sources.iter().map(describe_reference).collect()),
        cloud_watch_logging_option_descriptions: Some(app.logging_options.iter().map(describe_logging).collect()),
        application_code: nonempty(app.code.is_empty()).then(|| app.code.clone()),
        application_version_id: i64::try_from(app.version).unwrap_or(i64::MAX),
    }
}

/// Whether DeleteApplication's `CreateTimestamp` is the application's: the same
/// millisecond, or, when it was sent in whole seconds, the same second [DECISION: SDKs
/// in legacy timestamp precision send Describe's value truncated to seconds, and a
/// client passing back what it was shown expects the delete to work].
pub(crate) fn same_create_timestamp(given: Timestamp, created_ms: u64) -> bool {
    let Ok(given_ms) = u64::try_from(given.epoch_millis()) else { return false };
    given_ms == created_ms || (given_ms % 1000 == 0 && given_ms / 1000 == created_ms / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_create_timestamp_matches_to_the_millisecond_or_in_whole_seconds() {
        let created_ms = 1_700_000_000_123;
        let at = |ms: i64| same_create_timestamp(Timestamp::from_epoch_millis(ms), created_ms);
        assert!(at(1_700_000_000_123));
        assert!(at(1_700_000_000_000), "whole seconds");
        assert!(!at(1_700_000_000_124));
        assert!(!at(1_700_000_000_100));
        assert!(!at(1_699_999_999_000));
        assert!(!at(-1));
    }
}
