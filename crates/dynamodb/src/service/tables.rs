//! Table control: CreateTable, DescribeTable, UpdateTable, DeleteTable, ListTables, the stored
//! settings (continuous backups, time to live, tags) and DescribeLimits/DescribeEndpoints.
//!
//! SKELETON: the `dy-tables` piece owns this file and `catalog.rs`.

use rheo_protocol::dynamodb::model::{
    CreateTableInput, CreateTableOutput, DeleteTableInput, DeleteTableOutput, DescribeContinuousBackupsInput,
    DescribeContinuousBackupsOutput, DescribeEndpointsRequest, DescribeEndpointsResponse, DescribeLimitsInput,
    DescribeLimitsOutput, DescribeTableInput, DescribeTableOutput, DescribeTimeToLiveInput, DescribeTimeToLiveOutput,
    ListTablesInput, ListTablesOutput, ListTagsOfResourceInput, ListTagsOfResourceOutput, TagResourceInput,
    UntagResourceInput, UpdateContinuousBackupsInput, UpdateContinuousBackupsOutput, UpdateTableInput,
    UpdateTableOutput, UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
};
use rheo_protocol::model::EmptyOutput;

use crate::error::DynamoError;
use crate::service::DynamoDb;

impl DynamoDb {
    /// `CreateTable`.
    pub async fn create_table(&self, input: CreateTableInput) -> Result<CreateTableOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("CreateTable".into()))
    }

    /// `DescribeTable`.
    pub async fn describe_table(&self, input: DescribeTableInput) -> Result<DescribeTableOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DescribeTable".into()))
    }

    /// `UpdateTable`.
    pub async fn update_table(&self, input: UpdateTableInput) -> Result<UpdateTableOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("UpdateTable".into()))
    }

    /// `DeleteTable`.
    pub async fn delete_table(&self, input: DeleteTableInput) -> Result<DeleteTableOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DeleteTable".into()))
    }

    /// `ListTables`.
    pub async fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("ListTables".into()))
    }

    /// `DescribeContinuousBackups`.
    pub async fn describe_continuous_backups(
        &self,
        input: DescribeContinuousBackupsInput,
    ) -> Result<DescribeContinuousBackupsOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DescribeContinuousBackups".into()))
    }

    /// `UpdateContinuousBackups`.
    pub async fn update_continuous_backups(
        &self,
        input: UpdateContinuousBackupsInput,
    ) -> Result<UpdateContinuousBackupsOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("UpdateContinuousBackups".into()))
    }

    /// `DescribeTimeToLive`.
    pub async fn describe_time_to_live(
        &self,
        input: DescribeTimeToLiveInput,
    ) -> Result<DescribeTimeToLiveOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DescribeTimeToLive".into()))
    }

    /// `UpdateTimeToLive`.
    pub async fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("UpdateTimeToLive".into()))
    }

    /// `TagResource`.
    pub async fn tag_resource(&self, input: TagResourceInput) -> Result<EmptyOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("TagResource".into()))
    }

    /// `UntagResource`.
    pub async fn untag_resource(&self, input: UntagResourceInput) -> Result<EmptyOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("UntagResource".into()))
    }

    /// `ListTagsOfResource`.
    pub async fn list_tags_of_resource(
        &self,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("ListTagsOfResource".into()))
    }

    /// `DescribeLimits`.
    pub async fn describe_limits(&self, input: DescribeLimitsInput) -> Result<DescribeLimitsOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DescribeLimits".into()))
    }

    /// `DescribeEndpoints`.
    pub async fn describe_endpoints(
        &self,
        input: DescribeEndpointsRequest,
    ) -> Result<DescribeEndpointsResponse, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DescribeEndpoints".into()))
    }
}
