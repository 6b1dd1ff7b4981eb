//! From the stored configuration to what the compiler and the runtime take: the inputs'
//! in-application streams as a [`crate::sql::InputCatalog`], and [`AppConfig`] with
//! parsed types and resolved stream names. The wire conversions live beside the service
//! (`service::wire`), the only module that sees `rheo_protocol`.

use crate::config::{
    AppConfig, DestinationRef, InputConfig, OutputConfig, RecordColumn, RecordFormat, RoleAccess, SourceRef,
    SourceSchemaDef,
};
use crate::error::{AnalyticsError, Result};
use crate::sql::{InputCatalog, InputStreamDef};
use crate::state::{Resource, ResourceKind, StoredApplication, StoredRecordFormat, StoredSchema};

/// `RecordRowPath` when a JSON input gives no mapping parameters: the whole record.
pub const JSON_ROW_PATH_DEFAULT: &str = "$";
/// CSV delimiters when a CSV input gives no mapping parameters [DECISION: the common case].
pub const CSV_ROW_DELIMITER_DEFAULT: &str = "\n";
pub const CSV_COLUMN_DELIMITER_DEFAULT: &str = ",";

/// The region and account whose ARNs name resources of this Rheo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub partition: String,
    pub region: String,
    pub account_id: String,
}

impl Owner {
    /// The name in `arn:<partition>:<service>:<region>:<account>:<kind>/<name>` if the ARN
    /// is of that service and kind and of this region and account; a resource of another
    /// account or region is not on this Rheo.
    pub fn resource_name<'a>(&self, arn: &'a str, service: &str, kind: &str) -> Option<&'a str> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(svc), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if partition != self.partition || svc != service || region != self.region || account != self.account_id {
            return None;
        }
        let name = resource.strip_prefix(kind)?.strip_prefix('/')?;
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }

    /// `arn:aws:kinesisanalytics:<region>:<account>:application/<name>`.
    pub fn application_arn(&self, name: &str) -> String {
        format!("arn:{}:kinesisanalytics:{}:{}:application/{name}", self.partition, self.region, self.account_id)
    }

    /// The stream a Kinesis stream or Firehose delivery stream resource names.
    fn stream(&self, resource: &Resource, member: &str) -> Result<Stream> {
        let parsed = match resource.kind {
            ResourceKind::KinesisStreams => self
                .resource_name(&resource.resource_arn, "kinesis", "stream")
                .map(|name| Stream::Kinesis(name.to_owned())),
            ResourceKind::KinesisFirehose => self
                .resource_name(&resource.resource_arn, "firehose", "deliverystream")
                .map(|name| Stream::Firehose(name.to_owned())),
            ResourceKind::Lambda => return Err(AnalyticsError::LambdaUnsupported { member: "LambdaOutput" }),
        };
        parsed.ok_or_else(|| {
            AnalyticsError::InvalidArgument(format!(
                "{member}.ResourceARN {} does not name a {} of this Rheo (region {}, account {}).",
                resource.resource_arn,
                match resource.kind {
                    ResourceKind::KinesisFirehose => "delivery stream",
                    _ => "stream",
                },
                self.region,
                self.account_id
            ))
        })
    }

    /// The input's source stream.
    pub fn source(&self, resource: &Resource) -> Result<SourceRef> {
        Ok(match self.stream(resource, source_member(resource.kind))? {
            Stream::Kinesis(stream_name) => SourceRef::Kinesis { stream_name },
            Stream::Firehose(delivery_stream_name) => SourceRef::Firehose { delivery_stream_name },
        })
    }

    /// The output's destination stream.
    pub fn destination(&self, resource: &Resource) -> Result<DestinationRef> {
        Ok(match self.stream(resource, destination_member(resource.kind))? {
            Stream::Kinesis(stream_name) => DestinationRef::Kinesis { stream_name },
            Stream::Firehose(delivery_stream_name) => DestinationRef::Firehose { delivery_stream_name },
        })
    }
}

enum Stream {
    Kinesis(String),
    Firehose(String),
}

fn source_member(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::KinesisFirehose => "KinesisFirehoseInput",
        _ => "KinesisStreamsInput",
    }
}

fn destination_member(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::KinesisFirehose => "KinesisFirehoseOutput",
        ResourceKind::Lambda => "LambdaOutput",
        ResourceKind::KinesisStreams => "KinesisStreamsOutput",
    }
}

/// A stored schema with its column types parsed.
pub fn schema(stored: &StoredSchema) -> Result<SourceSchemaDef> {
    let format = match &stored.record_format {
        StoredRecordFormat::Json { record_row_path } => {
            RecordFormat::Json { row_path: record_row_path.clone().unwrap_or_else(|| JSON_ROW_PATH_DEFAULT.to_owned()) }
        }
        StoredRecordFormat::Csv { record_row_delimiter, record_column_delimiter } => RecordFormat::Csv {
            row_delimiter: record_row_delimiter.clone().unwrap_or_else(|| CSV_ROW_DELIMITER_DEFAULT.to_owned()),
            column_delimiter: record_column_delimiter
                .clone()
                .unwrap_or_else(|| CSV_COLUMN_DELIMITER_DEFAULT.to_owned()),
        },
    };
    let columns = stored
        .record_columns
        .iter()
        .map(|column| {
            let sql_type = crate::sql::parse_sql_type(&column.sql_type).map_err(|reason| {
                AnalyticsError::InvalidArgument(format!(
                    "RecordColumn {}: SqlType {} is not valid: {reason}.",
                    column.name, column.sql_type
                ))
            })?;
            Ok(RecordColumn { name: column.name.clone(), sql_type, mapping: column.mapping.clone() })
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = SourceSchemaDef { format, columns };
    crate::mapping::RecordMapper::new(&schema)
        .map_err(|error| AnalyticsError::InvalidArgument(format!("InputSchema: {error}.")))?;
    Ok(schema)
}

fn role_access(resource: &Resource) -> RoleAccess {
    RoleAccess { role_arn: resource.role_arn.clone(), resource_arn: resource.resource_arn.clone() }
}

/// The runtime's form of an application.
pub fn app_config(name: &str, app: &StoredApplication, owner: &Owner) -> Result<AppConfig> {
    let inputs = app
        .inputs
        .iter()
        .map(|input| {
            Ok(InputConfig {
                id: input.id.clone(),
                name_prefix: input.name_prefix.clone(),
                parallelism: input.parallelism,
                source: owner.source(&input.source)?,
                schema: schema(&input.schema)?,
                access: role_access(&input.source),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let outputs = app
        .outputs
        .iter()
        .map(|output| {
            Ok(OutputConfig {
                id: output.id.clone(),
                stream_name: output.name.clone(),
                destination: owner.destination(&output.destination)?,
                format: output.format,
                access: role_access(&output.destination),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AppConfig { name: name.to_owned(), code: app.code.clone(), inputs, outputs })
}

/// The in-application streams the inputs create: `<prefix>_001..N`, each with the
/// schema's columns and then `APPROXIMATE_ARRIVAL_TIME`.
pub fn input_catalog(config: &AppConfig) -> InputCatalog {
    let streams = config
        .inputs
        .iter()
        .flat_map(|input| {
            let columns = input.schema.in_app_columns();
            input.in_app_stream_names().into_iter().map(move |name| InputStreamDef { name, columns: columns.clone() })
        })
        .collect();
    InputCatalog { streams }
}

/// Compiles the code and checks that every output names a stream the code creates or
/// `error_stream` (AWS: CodeValidationException otherwise).
pub fn compile(config: &AppConfig) -> Result<crate::plan::AppPlan> {
    let plan = crate::sql::compile(&config.code, &input_catalog(config)).map_err(AnalyticsError::CodeValidation)?;
    for output in &config.outputs {
        let named = output.stream_name == crate::plan::ERROR_STREAM
            || plan.created_streams().any(|created| created == output.stream_name);
        if !named {
            return Err(AnalyticsError::OutputNotCreated { output: output.stream_name.clone() });
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn owner() -> Owner {
        Owner { partition: "aws".into(), region: "us-east-1".into(), account_id: "000000000000".into() }
    }

    fn resource(kind: ResourceKind, arn: &str) -> Resource {
        Resource { kind, resource_arn: arn.into(), role_arn: "arn:aws:iam::000000000000:role/r".into() }
    }

    #[test]
    fn arns_of_this_region_and_account_name_streams() {
        let owner = owner();
        let kinesis = resource(ResourceKind::KinesisStreams, "arn:aws:kinesis:us-east-1:000000000000:stream/in");
        assert_eq!(owner.source(&kinesis).unwrap(), SourceRef::Kinesis { stream_name: "in".into() });
        let firehose =
            resource(ResourceKind::KinesisFirehose, "arn:aws:firehose:us-east-1:000000000000:deliverystream/out");
        assert_eq!(
            owner.destination(&firehose).unwrap(),
            DestinationRef::Firehose { delivery_stream_name: "out".into() }
        );
    }

    #[test]
    fn foreign_or_mismatched_arns_are_invalid_arguments() {
        let owner = owner();
        for (kind, arn) in [
            (ResourceKind::KinesisStreams, "arn:aws:kinesis:eu-west-1:000000000000:stream/in"),
            (ResourceKind::KinesisStreams, "arn:aws:kinesis:us-east-1:111111111111:stream/in"),
            (ResourceKind::KinesisStreams, "arn:aws:firehose:us-east-1:000000000000:deliverystream/in"),
            (ResourceKind::KinesisFirehose, "arn:aws:kinesis:us-east-1:000000000000:stream/in"),
            (ResourceKind::KinesisStreams, "arn:aws:kinesis:us-east-1:000000000000:stream/"),
            (ResourceKind::KinesisStreams, "not an arn"),
        ] {
            let error = owner.source(&resource(kind, arn)).unwrap_err();
            assert!(matches!(error, AnalyticsError::InvalidArgument(_)), "{arn}: {error:?}");
        }
    }

    #[test]
    fn a_lambda_destination_is_refused() {
        let lambda = resource(ResourceKind::Lambda, "arn:aws:lambda:us-east-1:000000000000:function:f");
        assert!(matches!(
            owner().destination(&lambda),
            Err(AnalyticsError::LambdaUnsupported { member: "LambdaOutput" })
        ));
    }

    #[test]
    fn the_application_arn_is_in_the_owner_region_and_account() {
        assert_eq!(owner().application_arn("app"), "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app");
    }
}
