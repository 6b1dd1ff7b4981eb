//! The rules a configuration must meet before it is committed (beyond the model's own
//! validation, which the server applies): AWS's per-application quotas, resources of
//! this Rheo, no Lambda output, schemas the mapper takes, and code that compiles with its
//! outputs. Tags have their own rules ([`check_tags`]).

use std::collections::BTreeMap;

use rheo_engine::{StreamRef, StreamStatus};
use rheo_protocol::firehose::model::DescribeDeliveryStreamInput;

use super::Analytics;
use crate::config::SourceRef;
use crate::error::{AnalyticsError, Result};
use crate::limits::{
    APPLICATION_CODE_CHARS_MAX, INPUTS_MAX, INPUT_PARALLELISM_MAX, OUTPUTS_MAX, REFERENCE_SOURCES_MAX, USER_TAGS_MAX,
};
use crate::state::StoredApplication;

/// Tag keys with this prefix are AWS's own (AWS: "The aws: prefix is reserved").
pub(crate) const RESERVED_TAG_PREFIX: &str = "aws:";

impl Analytics {
    /// Quotas, resources, schemas and code of a whole configuration.
    pub(super) fn check_configuration(&self, app: &StoredApplication) -> Result<()> {
        let over = |what: &str, count: usize, max: usize| {
            (count > max).then(|| {
                AnalyticsError::LimitExceeded(format!(
                    "An application has at most {max} {what}; this one would have {count}."
                ))
            })
        };
        let quotas = [
            over("inputs", app.inputs.len(), INPUTS_MAX),
            over("outputs", app.outputs.len(), OUTPUTS_MAX),
            over("reference data sources", app.reference_sources.len(), REFERENCE_SOURCES_MAX),
        ];
        if let Some(error) = quotas.into_iter().flatten().next() {
            return Err(error);
        }
        let code_chars = app.code.chars().count();
        if code_chars > APPLICATION_CODE_CHARS_MAX {
            return Err(AnalyticsError::InvalidArgument(format!(
                "ApplicationCode has {code_chars} characters; at most {APPLICATION_CODE_CHARS_MAX} are allowed."
            )));
        }
        for input in &app.inputs {
            if !(1..=INPUT_PARALLELISM_MAX).contains(&input.parallelism) {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "InputParallelism Count {} is not between 1 and {INPUT_PARALLELISM_MAX}.",
                    input.parallelism
                )));
            }
        }
        for reference in &app.reference_sources {
            crate::convert::schema(&reference.schema)?;
        }
        // Converting checks every ARN, refuses Lambda outputs and parses every schema.
        let config = crate::convert::app_config("", app, &self.owner)?;
        if !app.code.trim().is_empty() {
            crate::convert::compile(&config)?;
        }
        Ok(())
    }

    /// The inputs a change adds or points elsewhere must read streams that exist now
    /// [DECISION, plan §4.3]; outputs may name missing destinations (retried at run time).
    pub(super) async fn check_new_sources(&self, before: &StoredApplication, after: &StoredApplication) -> Result<()> {
        for input in &after.inputs {
            let unchanged = before.inputs.iter().any(|old| old.id == input.id && old.source == input.source);
            if unchanged {
                continue;
            }
            match self.owner.source(&input.source)? {
                SourceRef::Kinesis { stream_name } => {
                    let stream = StreamRef { name: Some(stream_name.clone()), arn: None };
                    let found = self.engine.describe_stream_summary(&stream).ok();
                    if found.is_none_or(|summary| summary.status == StreamStatus::Deleting) {
                        return Err(AnalyticsError::InvalidArgument(format!(
                            "Input stream {stream_name} does not exist."
                        )));
                    }
                }
                SourceRef::Firehose { delivery_stream_name } => {
                    let Some(firehose) = &self.firehose else {
                        return Err(AnalyticsError::InvalidArgument(
                            "Firehose is not enabled on this Rheo; an input cannot read a delivery stream.".into(),
                        ));
                    };
                    let request = DescribeDeliveryStreamInput {
                        delivery_stream_name: delivery_stream_name.clone(),
                        limit: None,
                        exclusive_start_destination_id: None,
                    };
                    if firehose.describe_delivery_stream(request).await.is_err() {
                        return Err(AnalyticsError::InvalidArgument(format!(
                            "Input delivery stream {delivery_stream_name} does not exist."
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Tags after adding `added` to `existing`: keys with the reserved prefix are refused,
/// and at most [`USER_TAGS_MAX`] user tags may result (AWS: TooManyTagsException).
pub(crate) fn check_tags(existing: &BTreeMap<String, String>, added: &BTreeMap<String, String>) -> Result<()> {
    if let Some(key) = added.keys().find(|key| key.starts_with(RESERVED_TAG_PREFIX)) {
        return Err(AnalyticsError::InvalidArgument(format!(
            "Tag key {key} uses the reserved prefix {RESERVED_TAG_PREFIX}."
        )));
    }
    let count = existing.keys().chain(added.keys()).collect::<std::collections::BTreeSet<_>>().len();
    if count > USER_TAGS_MAX {
        return Err(AnalyticsError::TooManyTags { count, max: USER_TAGS_MAX });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tags(range: std::ops::Range<usize>) -> BTreeMap<String, String> {
        range.map(|n| (format!("k{n}"), String::new())).collect()
    }

    #[test]
    fn fifty_user_tags_are_allowed_and_fifty_one_are_too_many() {
        check_tags(&tags(0..25), &tags(25..50)).unwrap();
        check_tags(&tags(0..50), &tags(0..50)).unwrap();
        assert!(matches!(
            check_tags(&tags(0..50), &tags(50..51)),
            Err(AnalyticsError::TooManyTags { count: 51, max: USER_TAGS_MAX })
        ));
    }

    #[test]
    fn the_aws_prefix_is_reserved() {
        let added = BTreeMap::from([("aws:owner".to_owned(), "x".to_owned())]);
        assert!(matches!(check_tags(&BTreeMap::new(), &added), Err(AnalyticsError::InvalidArgument(_))));
    }
}
