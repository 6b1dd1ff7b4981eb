//! The stored settings of a table (continuous backups, time to live, tags) and the two
//! account-level descriptions (DescribeLimits, DescribeEndpoints).
//!
//! Settings are kept and described exactly as DynamoDB would, but Rheo does not act on
//! them: there are no point-in-time backups, and items are not expired by their time to
//! live attribute (KCL does not use TTL; a client that relies on expiry must delete).

use rheo_protocol::dynamodb::model::{
    ContinuousBackupsDescription, ContinuousBackupsStatus, DescribeContinuousBackupsInput,
    DescribeContinuousBackupsOutput, DescribeEndpointsRequest, DescribeEndpointsResponse, DescribeLimitsInput,
    DescribeLimitsOutput, DescribeTimeToLiveInput, DescribeTimeToLiveOutput, Endpoint, ListTagsOfResourceInput,
    ListTagsOfResourceOutput, PointInTimeRecoveryDescription, PointInTimeRecoveryStatus, Tag, TagResourceInput,
    TimeToLiveDescription, TimeToLiveSpecification, TimeToLiveStatus, UntagResourceInput, UpdateContinuousBackupsInput,
    UpdateContinuousBackupsOutput, UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
};
use rheo_protocol::model::EmptyOutput;

use super::define;
use crate::error::DynamoError;
use crate::limits;
use crate::service::DynamoDb;
use crate::table::{TableDef, TableStatus, TtlSetting};

impl DynamoDb {
    /// `DescribeContinuousBackups`.
    pub async fn describe_continuous_backups(
        &self,
        input: DescribeContinuousBackupsInput,
    ) -> Result<DescribeContinuousBackupsOutput, DynamoError> {
        let table = self.table(&input.table_name).await?;
        Ok(DescribeContinuousBackupsOutput { continuous_backups_description: Some(continuous_backups(&table)) })
    }

    /// `UpdateContinuousBackups`: stores whether point-in-time recovery is on. Only
    /// DynamoDB's default recovery period (35 days) is accepted, as the only one described.
    pub async fn update_continuous_backups(
        &self,
        input: UpdateContinuousBackupsInput,
    ) -> Result<UpdateContinuousBackupsOutput, DynamoError> {
        let specification = &input.point_in_time_recovery_specification;
        if let Some(days) = specification.recovery_period_in_days {
            if days != limits::RECOVERY_PERIOD_DAYS_DEFAULT {
                return Err(DynamoError::Unsupported(format!(
                    "A RecoveryPeriodInDays other than {}",
                    limits::RECOVERY_PERIOD_DAYS_DEFAULT
                )));
            }
        }
        let enabled = specification.point_in_time_recovery_enabled;
        let table = self.change_settings(&input.table_name, |table| {
            table.point_in_time_recovery = enabled;
            Ok(())
        });
        let table = table.await?;
        Ok(UpdateContinuousBackupsOutput { continuous_backups_description: Some(continuous_backups(&table)) })
    }

    /// `DescribeTimeToLive`.
    pub async fn describe_time_to_live(
        &self,
        input: DescribeTimeToLiveInput,
    ) -> Result<DescribeTimeToLiveOutput, DynamoError> {
        let table = self.table(&input.table_name).await?;
        let description = match &table.ttl {
            Some(TtlSetting { attribute, enabled: true }) => TimeToLiveDescription {
                time_to_live_status: Some(TimeToLiveStatus::Enabled),
                attribute_name: Some(attribute.clone()),
            },
            _ => TimeToLiveDescription { time_to_live_status: Some(TimeToLiveStatus::Disabled), attribute_name: None },
        };
        Ok(DescribeTimeToLiveOutput { time_to_live_description: Some(description) })
    }

    /// `UpdateTimeToLive`: stores the setting (items are not expired, see the module).
    /// As on AWS, enabling needs TTL off and disabling needs it on, so changing the
    /// attribute takes a disable first.
    pub async fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput, DynamoError> {
        let specification = input.time_to_live_specification.clone();
        let wanted = specification.clone();
        self.change_settings(&input.table_name, move |table| {
            let enabled_now = table.ttl.as_ref().is_some_and(|ttl| ttl.enabled);
            match (wanted.enabled, enabled_now) {
                (true, true) => Err(DynamoError::Validation("TimeToLive is already enabled".into())),
                (false, false) => Err(DynamoError::Validation("TimeToLive is already disabled".into())),
                (enabled, _) => {
                    table.ttl = Some(TtlSetting { attribute: wanted.attribute_name, enabled });
                    Ok(())
                }
            }
        })
        .await?;
        Ok(UpdateTimeToLiveOutput {
            time_to_live_specification: Some(TimeToLiveSpecification {
                enabled: specification.enabled,
                attribute_name: specification.attribute_name,
            }),
        })
    }

    /// `TagResource`: adds or replaces tags of the table the ARN names.
    pub async fn tag_resource(&self, input: TagResourceInput) -> Result<EmptyOutput, DynamoError> {
        let name = self.tagged_table_name(&input.resource_arn)?;
        self.change_settings(name, |table| define::merge_tags(&mut table.tags, &input.tags))
            .await
            .map_err(|error| resource_not_found(error, &input.resource_arn))?;
        Ok(EmptyOutput {})
    }

    /// `UntagResource`: removes the named tags (absent keys are no error, as on AWS).
    pub async fn untag_resource(&self, input: UntagResourceInput) -> Result<EmptyOutput, DynamoError> {
        let name = self.tagged_table_name(&input.resource_arn)?;
        self.change_settings(name, |table| {
            for key in &input.tag_keys {
                table.tags.remove(key);
            }
            Ok(())
        })
        .await
        .map_err(|error| resource_not_found(error, &input.resource_arn))?;
        Ok(EmptyOutput {})
    }

    /// `ListTagsOfResource`: every tag in one page (a table has at most 50).
    pub async fn list_tags_of_resource(
        &self,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput, DynamoError> {
        if input.next_token.is_some() {
            // This service never hands out a token: every tag fits one page.
            return Err(DynamoError::Validation("Invalid NextToken".into()));
        }
        let name = self.tagged_table_name(&input.resource_arn)?;
        let table = self.table(name).await.map_err(|error| resource_not_found(error, &input.resource_arn))?;
        let tags = table.tags.iter().map(|(key, value)| Tag { key: key.clone(), value: value.clone() }).collect();
        Ok(ListTagsOfResourceOutput { tags: Some(tags), next_token: None })
    }

    /// `DescribeLimits`: AWS's default quotas (Rheo throttles nothing).
    pub async fn describe_limits(&self, input: DescribeLimitsInput) -> Result<DescribeLimitsOutput, DynamoError> {
        let DescribeLimitsInput {} = input;
        Ok(DescribeLimitsOutput {
            account_max_read_capacity_units: Some(limits::ACCOUNT_CAPACITY_UNITS_DEFAULT),
            account_max_write_capacity_units: Some(limits::ACCOUNT_CAPACITY_UNITS_DEFAULT),
            table_max_read_capacity_units: Some(limits::TABLE_CAPACITY_UNITS_DEFAULT),
            table_max_write_capacity_units: Some(limits::TABLE_CAPACITY_UNITS_DEFAULT),
        })
    }

    /// `DescribeEndpoints`: the service cannot know the address clients reach it by, so
    /// it answers AWS's regional endpoint as AWS does; clients configured with an endpoint
    /// URL do not use endpoint discovery.
    pub async fn describe_endpoints(
        &self,
        input: DescribeEndpointsRequest,
    ) -> Result<DescribeEndpointsResponse, DynamoError> {
        let DescribeEndpointsRequest {} = input;
        Ok(DescribeEndpointsResponse {
            endpoints: vec![Endpoint {
                address: format!("dynamodb.{}.amazonaws.com", self.config.region),
                cache_period_in_minutes: limits::ENDPOINT_CACHE_MINUTES,
            }],
        })
    }

    /// Changes a stored setting of an ACTIVE or UPDATING table with `change` (which may
    /// refuse), then stores the definition.
    async fn change_settings(
        &self,
        name_or_arn: &str,
        change: impl FnOnce(&mut TableDef) -> Result<(), DynamoError>,
    ) -> Result<std::sync::Arc<TableDef>, DynamoError> {
        let _control = self.control.lock().await;
        let name = self.table_name_of(name_or_arn)?;
        let current = self.settled_table(name).await?;
        match current.status {
            TableStatus::Active | TableStatus::Updating => {}
            TableStatus::Creating | TableStatus::Deleting => {
                return Err(DynamoError::ResourceInUse(format!(
                    "Attempt to change a resource which is still in use: Table is being {}: {name}",
                    if current.status == TableStatus::Creating { "created" } else { "deleted" }
                )))
            }
        }
        let mut table = (*current).clone();
        change(&mut table)?;
        if table == *current {
            return Ok(current);
        }
        self.store_table(table).await
    }

    /// The table name a tagging ARN names (a table ARN of this account and region).
    fn tagged_table_name<'a>(&self, arn: &'a str) -> Result<&'a str, DynamoError> {
        self.table_name_of_arn(arn).map_err(|error| resource_not_found(error, arn))
    }
}

/// Tagging operations name what is missing by its ARN.
fn resource_not_found(error: DynamoError, arn: &str) -> DynamoError {
    match error {
        DynamoError::ResourceNotFound(_) => {
            DynamoError::ResourceNotFound(format!("Requested resource not found: ResourceArn: {arn} not found"))
        }
        other => other,
    }
}

fn continuous_backups(table: &TableDef) -> ContinuousBackupsDescription {
    let (status, period) = if table.point_in_time_recovery {
        (PointInTimeRecoveryStatus::Enabled, Some(limits::RECOVERY_PERIOD_DAYS_DEFAULT))
    } else {
        (PointInTimeRecoveryStatus::Disabled, None)
    };
    ContinuousBackupsDescription {
        // AWS reports continuous backups as ENABLED for every table: on-demand backups
        // are always available there.
        continuous_backups_status: ContinuousBackupsStatus::Enabled,
        point_in_time_recovery_description: Some(PointInTimeRecoveryDescription {
            point_in_time_recovery_status: Some(status),
            recovery_period_in_days: period,
            earliest_restorable_date_time: None,
            latest_restorable_date_time: None,
        }),
    }
}
