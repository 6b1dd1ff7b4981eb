//! A table's `TableDescription`, as DescribeTable, CreateTable, UpdateTable and DeleteTable
//! answer it: what is stored, the status, and item counts from the store.

use rheo_protocol::dynamodb::model as wire;
use rheo_protocol::types::Timestamp;

use super::define::{wire_key_schema, wire_key_type, wire_projection};
use crate::error::DynamoError;
use crate::service::DynamoDb;
use crate::table::{Billing, IndexDef, IndexStatus, TableDef, TableStatus};

impl DynamoDb {
    /// The description of `table` with item counts read from the store (none for a table
    /// being deleted: its items are already gone).
    pub(super) fn describe(&self, table: &TableDef) -> Result<wire::TableDescription, DynamoError> {
        let deleting = table.status == TableStatus::Deleting;
        let read = if deleting { None } else { Some(self.store.read()?) };
        let table_stats = match &read {
            Some(read) => read.table_stats(table)?,
            None => (0, 0),
        };
        let mut global = Vec::new();
        let mut local = Vec::new();
        for index in &table.indexes {
            let stats = match &read {
                Some(read) => read.index_stats(table, index)?,
                None => (0, 0),
            };
            if index.local {
                local.push(self.describe_local_index(table, index, stats));
            } else {
                global.push(self.describe_global_index(table, index, stats));
            }
        }
        Ok(self.describe_with(table, table_stats, global, local))
    }

    /// The description with a global index that was just removed shown as DELETING, as
    /// UpdateTable's answer shows it.
    pub(super) fn describe_deleting_index(
        &self,
        table: &TableDef,
        removed: &IndexDef,
    ) -> Result<wire::TableDescription, DynamoError> {
        let mut description = self.describe(table)?;
        let mut removed = removed.clone();
        removed.status = IndexStatus::Deleting;
        description.global_secondary_indexes.get_or_insert_with(Vec::new).push(self.describe_global_index(
            table,
            &removed,
            (0, 0),
        ));
        Ok(description)
    }

    /// The description with the given item counts (DeleteTable shows those of the table
    /// it just emptied).
    pub(super) fn describe_with(
        &self,
        table: &TableDef,
        (item_count, size_bytes): (u64, u64),
        global: Vec<wire::GlobalSecondaryIndexDescription>,
        local: Vec<wire::LocalSecondaryIndexDescription>,
    ) -> wire::TableDescription {
        let on_demand = table.billing == Billing::PayPerRequest;
        wire::TableDescription {
            attribute_definitions: Some(
                table
                    .attributes
                    .iter()
                    .map(|attr| wire::AttributeDefinition {
                        attribute_name: attr.name.clone(),
                        attribute_type: wire_key_type(attr.ty),
                    })
                    .collect(),
            ),
            table_name: Some(table.name.clone()),
            key_schema: Some(wire_key_schema(&table.key)),
            table_status: Some(wire_table_status(table.status)),
            creation_date_time: Some(timestamp(table.created_ms)),
            provisioned_throughput: Some(throughput_description(match table.billing {
                Billing::PayPerRequest => None,
                Billing::Provisioned { read, write } => Some((read, write)),
            })),
            table_size_bytes: Some(saturating_i64(size_bytes)),
            item_count: Some(saturating_i64(item_count)),
            table_arn: Some(self.table_arn(&table.name)),
            table_id: Some(table.table_id.clone()),
            // AWS shows the summary for on-demand tables (since when) and leaves it out for
            // tables that were always provisioned.
            billing_mode_summary: on_demand.then(|| wire::BillingModeSummary {
                billing_mode: Some(wire::BillingMode::PayPerRequest),
                last_update_to_pay_per_request_date_time: Some(timestamp(table.created_ms)),
            }),
            local_secondary_indexes: (!local.is_empty()).then_some(local),
            global_secondary_indexes: (!global.is_empty()).then_some(global),
            stream_specification: None,
            latest_stream_label: None,
            latest_stream_arn: None,
            global_table_version: None,
            replicas: None,
            global_table_witnesses: None,
            global_table_settings_replication_mode: None,
            restore_summary: None,
            // Rheo refuses KMS keys and other table classes, so every table has DynamoDB's
            // defaults, which AWS leaves out of the description.
            sse_description: None,
            archival_summary: None,
            table_class_summary: None,
            deletion_protection_enabled: Some(table.deletion_protection),
            on_demand_throughput: None,
            warm_throughput: None,
            multi_region_consistency: None,
        }
    }

    fn describe_global_index(
        &self,
        table: &TableDef,
        index: &IndexDef,
        (item_count, size_bytes): (u64, u64),
    ) -> wire::GlobalSecondaryIndexDescription {
        // Backfilling is an index added to an existing table being filled from its items;
        // indexes created with their table have nothing to backfill.
        let backfilling = index.status == IndexStatus::Creating && table.status == TableStatus::Updating;
        wire::GlobalSecondaryIndexDescription {
            index_name: Some(index.name.clone()),
            key_schema: Some(wire_key_schema(&index.key)),
            projection: Some(wire_projection(&index.projection)),
            index_status: Some(wire_index_status(index.status)),
            backfilling: backfilling.then_some(true),
            provisioned_throughput: Some(throughput_description(index.provisioned)),
            index_size_bytes: Some(saturating_i64(size_bytes)),
            item_count: Some(saturating_i64(item_count)),
            index_arn: Some(self.index_arn(&table.name, &index.name)),
            on_demand_throughput: None,
            warm_throughput: None,
        }
    }

    fn describe_local_index(
        &self,
        table: &TableDef,
        index: &IndexDef,
        (item_count, size_bytes): (u64, u64),
    ) -> wire::LocalSecondaryIndexDescription {
        wire::LocalSecondaryIndexDescription {
            index_name: Some(index.name.clone()),
            key_schema: Some(wire_key_schema(&index.key)),
            projection: Some(wire_projection(&index.projection)),
            index_size_bytes: Some(saturating_i64(size_bytes)),
            item_count: Some(saturating_i64(item_count)),
            index_arn: Some(self.index_arn(&table.name, &index.name)),
        }
    }

    /// The ARN of a table's index.
    pub(crate) fn index_arn(&self, table: &str, index: &str) -> String {
        format!("{}/index/{index}", self.table_arn(table))
    }
}

/// Throughput as described: zeros on demand, as AWS shows it.
fn throughput_description(provisioned: Option<(u64, u64)>) -> wire::ProvisionedThroughputDescription {
    let (read, write) = provisioned.unwrap_or((0, 0));
    wire::ProvisionedThroughputDescription {
        last_increase_date_time: None,
        last_decrease_date_time: None,
        number_of_decreases_today: Some(0),
        read_capacity_units: Some(saturating_i64(read)),
        write_capacity_units: Some(saturating_i64(write)),
    }
}

pub(super) fn timestamp(epoch_ms: u64) -> Timestamp {
    Timestamp::from_epoch_millis(saturating_i64(epoch_ms))
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn wire_table_status(status: TableStatus) -> wire::TableStatus {
    match status {
        TableStatus::Creating => wire::TableStatus::Creating,
        TableStatus::Active => wire::TableStatus::Active,
        TableStatus::Updating => wire::TableStatus::Updating,
        TableStatus::Deleting => wire::TableStatus::Deleting,
    }
}

fn wire_index_status(status: IndexStatus) -> wire::IndexStatus {
    match status {
        IndexStatus::Creating => wire::IndexStatus::Creating,
        IndexStatus::Active => wire::IndexStatus::Active,
        IndexStatus::Updating => wire::IndexStatus::Updating,
        IndexStatus::Deleting => wire::IndexStatus::Deleting,
    }
}
