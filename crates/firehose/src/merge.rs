//! UpdateDestination's merge rule on typed configurations: a member the update gives
//! replaces the stored one, structures merge member by member, lists and scalars are
//! replaced, and members the update leaves out keep their stored values.
//!
//! The rule is AWS's; it was applied to JSON objects before the configurations were
//! typed, and `Merge` reproduces it member by member. An update's structure names
//! (`S3BackupUpdate`, `S3Update`) map onto the configuration's (`S3BackupConfiguration`,
//! `S3Configuration`) in [`crate::config`], before merging.

use rheo_protocol::firehose::model::*;
use rheo_protocol::Document;
use serde_json::Value;

/// Merges an update of the same type into a stored value.
pub trait Merge {
    /// Applies `update` to `self` by the merge rule.
    fn merge(&mut self, update: Self);
}

impl<T: Merge> Merge for Option<T> {
    fn merge(&mut self, update: Self) {
        match (self.as_mut(), update) {
            (Some(stored), Some(update)) => stored.merge(update),
            (None, Some(update)) => *self = Some(update),
            (_, None) => {}
        }
    }
}

/// Scalars, enumerations and lists: the update replaces the stored value.
macro_rules! replaced {
    ($($type:ty),* $(,)?) => {
        $(
            impl Merge for $type {
                fn merge(&mut self, update: Self) {
                    *self = update;
                }
            }
        )*
    };
}

replaced!(
    String,
    i32,
    bool,
    CompressionFormat,
    ContentEncoding,
    HttpEndpointS3BackupMode,
    RedshiftS3BackupMode,
    S3BackupMode,
    NoEncryptionConfig,
    KMSEncryptionConfig,
    Vec<Processor>,
    Vec<HttpEndpointCommonAttribute>,
);

/// Structures: member by member. The destructuring lists every member, so a member
/// added to the model does not compile until it is merged here.
macro_rules! merged {
    ($($type:ident { $($member:ident),* $(,)? })*) => {
        $(
            impl Merge for $type {
                fn merge(&mut self, update: Self) {
                    let $type { $($member),* } = update;
                    $( self.$member.merge($member); )*
                }
            }
        )*
    };
}

merged! {
    BufferingHints { size_in_mbs, interval_in_seconds }
    HttpEndpointBufferingHints { size_in_mbs, interval_in_seconds }
    RetryOptions { duration_in_seconds }
    HttpEndpointRetryOptions { duration_in_seconds }
    RedshiftRetryOptions { duration_in_seconds }
    DynamicPartitioningConfiguration { retry_options, enabled }
    EncryptionConfiguration { no_encryption_config, kms_encryption_config }
    CloudWatchLoggingOptions { enabled, log_group_name, log_stream_name }
    ProcessingConfiguration { enabled, processors }
    DataFormatConversionConfiguration {
        schema_configuration, input_format_configuration, output_format_configuration, enabled
    }
    HttpEndpointConfiguration { url, name, access_key }
    HttpEndpointRequestConfiguration { content_encoding, common_attributes }
    CopyCommand { data_table_name, data_table_columns, copy_options }
    S3DestinationConfiguration {
        role_arn, bucket_arn, prefix, error_output_prefix, buffering_hints, compression_format,
        encryption_configuration, cloud_watch_logging_options
    }
    ExtendedS3DestinationConfiguration {
        role_arn, bucket_arn, prefix, error_output_prefix, buffering_hints, compression_format,
        encryption_configuration, cloud_watch_logging_options, processing_configuration, s3_backup_mode,
        s3_backup_configuration, data_format_conversion_configuration, dynamic_partitioning_configuration,
        file_extension, custom_time_zone
    }
    HttpEndpointDestinationConfiguration {
        endpoint_configuration, buffering_hints, cloud_watch_logging_options, request_configuration,
        processing_configuration, role_arn, retry_options, s3_backup_mode, s3_configuration,
        secrets_manager_configuration
    }
    RedshiftDestinationConfiguration {
        role_arn, cluster_jdbcurl, copy_command, username, password, retry_options, s3_configuration,
        processing_configuration, s3_backup_mode, s3_backup_configuration, cloud_watch_logging_options,
        secrets_manager_configuration
    }
}

/// Opaque members are JSON objects and merge as JSON: objects member by member,
/// anything else replaced.
impl Merge for Document {
    fn merge(&mut self, update: Self) {
        let mut merged = self.as_json().clone();
        merge_json(&mut merged, update.as_json());
        *self = Document::new(merged);
    }
}

fn merge_json(stored: &mut Value, update: &Value) {
    match (stored, update) {
        (Value::Object(stored), Value::Object(update)) => {
            for (key, value) in update {
                match stored.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge_json(existing, value),
                    _ => {
                        stored.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (stored, update) => *stored = update.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_merge_as_json_objects() {
        let mut stored = Document::new(serde_json::json!({"a": {"b": 1, "c": 2}, "l": [1, 2]}));
        stored.merge(Document::new(serde_json::json!({"a": {"c": 3}, "l": [3]})));
        assert_eq!(stored.as_json(), &serde_json::json!({"a": {"b": 1, "c": 3}, "l": [3]}));
    }

    #[test]
    fn structures_merge_member_by_member() {
        let mut stored = Some(BufferingHints { size_in_mbs: Some(2), interval_in_seconds: Some(60) });
        stored.merge(Some(BufferingHints { size_in_mbs: None, interval_in_seconds: Some(0) }));
        assert_eq!(stored, Some(BufferingHints { size_in_mbs: Some(2), interval_in_seconds: Some(0) }));
        stored.merge(None);
        assert_eq!(stored, Some(BufferingHints { size_in_mbs: Some(2), interval_in_seconds: Some(0) }));
    }
}
