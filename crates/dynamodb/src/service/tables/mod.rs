//! Table control: CreateTable, DescribeTable, UpdateTable, DeleteTable and ListTables here;
//! the stored settings (continuous backups, time to live, tags) and DescribeLimits /
//! DescribeEndpoints in `settings.rs`; reading definitions in `define.rs`; descriptions in
//! `describe.rs`; metrics in `metrics.rs`.
//!
//! Every change holds `DynamoDb::control`, so changes to one table apply in order, and is
//! durable in the store before it is answered. Statuses move on the service's clock (see
//! `catalog.rs`): a new table is CREATING for `create_table_ms`, an updated one UPDATING
//! (with a new index CREATING and backfilling) for `update_table_ms`, a deleted one
//! DELETING for `delete_table_ms`. A new index is filled from the table's items before
//! UpdateTable answers, so it is complete whenever it shows ACTIVE.

mod define;
mod describe;
mod metrics;
mod settings;

use std::collections::BTreeMap;
use std::sync::Arc;

use rheo_protocol::dynamodb::model::{
    CreateTableInput, CreateTableOutput, DeleteTableInput, DeleteTableOutput, DescribeTableInput, DescribeTableOutput,
    GlobalSecondaryIndexUpdate, ListTablesInput, ListTablesOutput, UpdateTableInput, UpdateTableOutput,
};

use self::define::{invalid, GlobalIndexSpec};
pub(super) use self::metrics::render_metrics;
use crate::error::DynamoError;
use crate::limits;
use crate::service::DynamoDb;
use crate::store::StoreError;
use crate::table::{Billing, IndexStatus, TableDef, TableStatus};

impl DynamoDb {
    /// `CreateTable`.
    pub async fn create_table(&self, input: CreateTableInput) -> Result<CreateTableOutput, DynamoError> {
        let now = self.clock.now_ms();
        let table = self.table_def(&input, now)?;
        let _control = self.control.lock().await;
        // A deleted table whose DELETING time is over no longer holds its name.
        match self.settled_table(&table.name).await {
            Ok(_) => return Err(DynamoError::ResourceInUse(format!("Table already exists: {}", table.name))),
            Err(DynamoError::ResourceNotFound(_)) => {}
            Err(other) => return Err(other),
        }
        if self.catalog.read().len() >= self.config.table_limit {
            return Err(DynamoError::LimitExceeded(format!(
                "Subscriber limit exceeded: the account may have at most {} tables",
                self.config.table_limit
            )));
        }
        let created = self
            .store
            .write(move |txn| {
                let mut table = table;
                table.uid = txn.allocate_uid()?;
                txn.put_table(&table)?;
                Ok::<_, StoreError>(table)
            })
            .await??;
        let created = Arc::new(created);
        self.catalog.write().insert(created.name.clone(), created.clone());
        tracing::info!(table = %created.name, "DynamoDB table created");
        Ok(CreateTableOutput { table_description: Some(self.describe(&created)?) })
    }

    /// The definition CreateTable asks for, checked (status CREATING; `uid` is the store's
    /// to allocate).
    fn table_def(&self, input: &CreateTableInput, now: u64) -> Result<TableDef, DynamoError> {
        if input.stream_specification.as_ref().is_some_and(|stream| stream.stream_enabled) {
            return Err(DynamoError::Unsupported("DynamoDB Streams (StreamSpecification)".into()));
        }
        if input.global_table_source_arn.is_some() || input.global_table_settings_replication_mode.is_some() {
            return Err(DynamoError::Unsupported("Global tables".into()));
        }
        if input.resource_policy.is_some() {
            return Err(DynamoError::Unsupported("ResourcePolicy".into()));
        }
        define::refuse_capacity_settings(input.on_demand_throughput.is_some(), input.warm_throughput.is_some())?;
        define::refuse_storage_options(input.table_class, input.sse_specification.as_ref())?;
        define::check_table_name(&input.table_name)?;
        let ends_ms = now.saturating_add(self.config.create_table_ms);
        // The model lets both be absent (for tables restored from a global table source,
        // which Rheo refuses above); CreateTable itself needs them.
        let attributes = define::attributes(define::required(&input.attribute_definitions, "attributeDefinitions")?)?;
        let key = define::key_schema(define::required(&input.key_schema, "keySchema")?, &attributes)?;
        let billing = define::billing(input.billing_mode, input.provisioned_throughput.as_ref())?;
        let mut indexes = Vec::new();
        if let Some(locals) = &input.local_secondary_indexes {
            if locals.is_empty() {
                return Err(invalid("List of LocalSecondaryIndexes is empty"));
            }
            for index in locals {
                indexes.push(define::local_index(index, &attributes, &key, ends_ms)?);
            }
        }
        if let Some(globals) = &input.global_secondary_indexes {
            if globals.is_empty() {
                return Err(invalid("List of GlobalSecondaryIndexes is empty"));
            }
            for index in globals {
                let spec = GlobalIndexSpec::of_create_table(index);
                indexes.push(define::global_index(&spec, &attributes, &billing, ends_ms)?);
            }
        }
        define::check_index_counts(&indexes)?;
        define::check_attributes_used(&attributes, &key, &indexes)?;
        let mut tags = BTreeMap::new();
        define::merge_tags(&mut tags, input.tags.as_deref().unwrap_or_default())?;
        Ok(TableDef {
            uid: 0,
            name: input.table_name.clone(),
            table_id: uuid::Uuid::new_v4().to_string(),
            key,
            attributes,
            indexes,
            billing,
            status: TableStatus::Creating,
            created_ms: now,
            transition_ends_ms: Some(ends_ms),
            deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
            tags,
            ttl: None,
            point_in_time_recovery: false,
        })
    }

    /// `DescribeTable`.
    pub async fn describe_table(&self, input: DescribeTableInput) -> Result<DescribeTableOutput, DynamoError> {
        let table = self.table(&input.table_name).await?;
        Ok(DescribeTableOutput { table: Some(self.describe(&table)?) })
    }

    /// `UpdateTable`.
    pub async fn update_table(&self, input: UpdateTableInput) -> Result<UpdateTableOutput, DynamoError> {
        refuse_unserved_updates(&input)?;
        let gsi_updates = input.global_secondary_index_updates.as_deref().unwrap_or_default();
        if input.billing_mode.is_none()
            && input.provisioned_throughput.is_none()
            && gsi_updates.is_empty()
            && input.sse_specification.is_none()
            && input.table_class.is_none()
            && input.deletion_protection_enabled.is_none()
            && input.stream_specification.is_none()
        {
            return Err(DynamoError::Validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required".into(),
            ));
        }
        check_index_updates(gsi_updates)?;
        let _control = self.control.lock().await;
        let name = self.table_name_of(&input.table_name)?;
        let current = self.settled_table(name).await?;
        refuse_unless_active(&current)?;
        let now = self.clock.now_ms();
        let ends_ms = now.saturating_add(self.config.update_table_ms);
        let mut table = (*current).clone();
        let mut reshaped = update_billing(&mut table, &input)?;

        let new_attributes = define::attributes(input.attribute_definitions.as_deref().unwrap_or_default())?;
        for attr in &new_attributes {
            match table.attributes.iter().find(|known| known.name == attr.name) {
                Some(known) if known.ty != attr.ty => {
                    return Err(invalid(format!(
                        "Cannot change the type of attribute {} in AttributeDefinitions",
                        attr.name
                    )))
                }
                Some(_) => {}
                None => table.attributes.push(attr.clone()),
            }
        }

        let mut created = None;
        let mut removed = None;
        for update in gsi_updates {
            if let Some(create) = &update.create {
                if table.index(&create.index_name).is_some() {
                    return Err(invalid(format!(
                        "Attempting to create an index which already exists: {}",
                        create.index_name
                    )));
                }
                let spec = GlobalIndexSpec::of_update_table(create);
                let index = define::global_index(&spec, &table.attributes, &table.billing, ends_ms)?;
                created = Some(index.name.clone());
                table.indexes.push(index);
            } else if let Some(delete) = &update.delete {
                let position = global_index_position(&table, &delete.index_name)?;
                removed = Some(table.indexes.remove(position));
            } else if let Some(change) = &update.update {
                define::refuse_capacity_settings(
                    change.on_demand_throughput.is_some(),
                    change.warm_throughput.is_some(),
                )?;
                let position = global_index_position(&table, &change.index_name)?;
                let Some(throughput) = &change.provisioned_throughput else {
                    return Err(invalid(format!(
                        "ProvisionedThroughput must be specified for index: {}",
                        change.index_name
                    )));
                };
                let billing = table.billing.clone();
                table.indexes[position].provisioned =
                    define::index_throughput(&change.index_name, &billing, Some(throughput))?;
                reshaped = true;
            }
        }
        define::check_index_counts(&table.indexes)?;
        // Attribute definitions follow the keys: those of a deleted index go with it, and
        // new ones must be keys of the new index.
        if created.is_some() {
            define::check_attributes_used(&table.attributes, &table.key, &table.indexes)?;
        }
        let used: Vec<String> =
            define::used_attribute_names(&table.key, &table.indexes).into_iter().map(str::to_owned).collect();
        table.attributes.retain(|attr| used.contains(&attr.name));

        if let Some(protect) = input.deletion_protection_enabled {
            table.deletion_protection = protect;
        }
        if reshaped || created.is_some() || removed.is_some() {
            table.status = TableStatus::Updating;
            table.transition_ends_ms = Some(ends_ms);
        }

        let before = current.clone();
        let after = table.clone();
        let dropped = removed.as_ref().map(|index| index.name.clone());
        self.store
            .write(move |txn| {
                if let Some(index) = &dropped {
                    txn.drop_index(&before, index)?;
                }
                txn.put_table(&after)?;
                if let Some(index) = &created {
                    txn.build_index(&after, index)?;
                }
                Ok::<_, StoreError>(())
            })
            .await??;
        let table = Arc::new(table);
        self.catalog.write().insert(table.name.clone(), table.clone());
        let description = match &removed {
            Some(index) => self.describe_deleting_index(&table, index)?,
            None => self.describe(&table)?,
        };
        Ok(UpdateTableOutput { table_description: Some(description) })
    }

    /// `DeleteTable`: the definition, items and index entries leave the store before the
    /// answer; the table is described as DELETING for `delete_table_ms`, then is gone.
    pub async fn delete_table(&self, input: DeleteTableInput) -> Result<DeleteTableOutput, DynamoError> {
        let _control = self.control.lock().await;
        let name = self.table_name_of(&input.table_name)?;
        let table = self.settled_table(name).await?;
        refuse_unless_active(&table)?;
        if table.deletion_protection {
            return Err(DynamoError::Validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into(),
            ));
        }
        let before = self.describe(&table)?;
        let doomed = table.clone();
        self.store.write(move |txn| txn.delete_table(&doomed)).await??;
        let mut deleting = (*table).clone();
        deleting.status = TableStatus::Deleting;
        deleting.transition_ends_ms = Some(self.clock.now_ms().saturating_add(self.config.delete_table_ms));
        let mut description = before;
        description.table_status = Some(rheo_protocol::dynamodb::model::TableStatus::Deleting);
        self.catalog.write().insert(deleting.name.clone(), Arc::new(deleting));
        tracing::info!(table = %table.name, "DynamoDB table deleted");
        Ok(DeleteTableOutput { table_description: Some(description) })
    }

    /// `ListTables`: names in order, after `ExclusiveStartTableName`, at most `Limit`
    /// (100 by default).
    pub async fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput, DynamoError> {
        let limit = match input.limit {
            Some(limit) => usize::try_from(limit).unwrap_or(0).clamp(1, limits::LIST_TABLES_LIMIT_MAX),
            None => limits::LIST_TABLES_LIMIT_MAX,
        };
        {
            let _control = self.control.lock().await;
            self.settle_all().await?;
        }
        let catalog = self.catalog.read();
        let after = input.exclusive_start_table_name.as_deref();
        let mut names = catalog.keys().filter(|name| after.is_none_or(|after| name.as_str() > after));
        let page: Vec<String> = names.by_ref().take(limit).cloned().collect();
        let more = names.next().is_some();
        Ok(ListTablesOutput {
            last_evaluated_table_name: if more { page.last().cloned() } else { None },
            table_names: Some(page),
        })
    }
}

/// The parts of UpdateTable that belong to what Rheo does not serve.
fn refuse_unserved_updates(input: &UpdateTableInput) -> Result<(), DynamoError> {
    if input.stream_specification.as_ref().is_some_and(|stream| stream.stream_enabled) {
        return Err(DynamoError::Unsupported("DynamoDB Streams (StreamSpecification)".into()));
    }
    if input.replica_updates.is_some()
        || input.global_table_witness_updates.is_some()
        || input.multi_region_consistency.is_some()
        || input.global_table_settings_replication_mode.is_some()
    {
        return Err(DynamoError::Unsupported("Global tables".into()));
    }
    define::refuse_storage_options(input.table_class, input.sse_specification.as_ref())?;
    define::refuse_capacity_settings(input.on_demand_throughput.is_some(), input.warm_throughput.is_some())
}

/// Checks GlobalSecondaryIndexUpdates on their own: one action each, one per index, and
/// one index created or deleted per call (AWS's limit for online index changes).
fn check_index_updates(updates: &[GlobalSecondaryIndexUpdate]) -> Result<(), DynamoError> {
    let mut names: Vec<&str> = Vec::new();
    let mut creates_and_deletes = 0;
    for update in updates {
        let actions = [update.create.is_some(), update.delete.is_some(), update.update.is_some()];
        let name = match (&update.create, &update.delete, &update.update) {
            (Some(create), _, _) => &create.index_name,
            (None, Some(delete), _) => &delete.index_name,
            (None, None, Some(change)) => &change.index_name,
            (None, None, None) => {
                return Err(invalid(
                    "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
                ))
            }
        };
        if actions.iter().filter(|present| **present).count() > 1 {
            return Err(invalid(
                "Only one of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete may be specified",
            ));
        }
        if names.contains(&name.as_str()) {
            return Err(invalid(format!(
                "Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )));
        }
        names.push(name);
        if update.update.is_none() {
            creates_and_deletes += 1;
        }
    }
    if creates_and_deletes > 1 {
        return Err(DynamoError::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    Ok(())
}

/// UpdateTable's billing mode and table throughput; whether the table changes shape
/// (and so is UPDATING for a while).
fn update_billing(table: &mut TableDef, input: &UpdateTableInput) -> Result<bool, DynamoError> {
    use rheo_protocol::dynamodb::model::BillingMode;
    let on_demand = match input.billing_mode {
        Some(mode) => mode == BillingMode::PayPerRequest,
        None => table.billing == Billing::PayPerRequest,
    };
    let billing = match (on_demand, &input.provisioned_throughput) {
        (true, Some(_)) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        (true, None) => Billing::PayPerRequest,
        (false, Some(throughput)) => {
            let (read, write) = define::throughput(throughput)?;
            if table.billing == (Billing::Provisioned { read, write }) {
                return Err(DynamoError::Validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {read}. Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned for the table: {write}. Requested WriteCapacityUnits: {write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
                )));
            }
            Billing::Provisioned { read, write }
        }
        (false, None) => {
            match &table.billing {
                Billing::Provisioned { .. } => return Ok(false),
                Billing::PayPerRequest => return Err(invalid(
                    "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                )),
            }
        }
    };
    if billing == table.billing {
        return Ok(false);
    }
    let switching = (billing == Billing::PayPerRequest) != (table.billing == Billing::PayPerRequest);
    if switching {
        let provisioned_indexes = input
            .global_secondary_index_updates
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter_map(|update| update.update.as_ref())
            .filter(|change| change.provisioned_throughput.is_some())
            .map(|change| change.index_name.as_str())
            .collect::<Vec<_>>();
        for index in table.indexes.iter_mut().filter(|index| !index.local) {
            match billing {
                // Each global index needs its own throughput when the table becomes
                // provisioned: UpdateTable's `Update` actions carry it.
                Billing::Provisioned { .. } if !provisioned_indexes.contains(&index.name.as_str()) => {
                    return Err(invalid(format!("ProvisionedThroughput must be specified for index: {}", index.name)));
                }
                Billing::Provisioned { .. } => {}
                Billing::PayPerRequest => index.provisioned = None,
            }
        }
    }
    table.billing = billing;
    Ok(true)
}

/// Where the global index `name` is in `table.indexes`.
fn global_index_position(table: &TableDef, name: &str) -> Result<usize, DynamoError> {
    table
        .indexes
        .iter()
        .position(|index| index.name == name && !index.local)
        .ok_or_else(|| DynamoError::ResourceNotFound(format!("Requested resource not found: Index: {name} not found")))
}

/// Table changes need an ACTIVE table (AWS: ResourceInUseException otherwise).
fn refuse_unless_active(table: &TableDef) -> Result<(), DynamoError> {
    let doing = match table.status {
        TableStatus::Active => {
            return match table.indexes.iter().find(|index| index.status != IndexStatus::Active) {
                Some(index) => Err(DynamoError::ResourceInUse(format!(
                    "Attempt to change a resource which is still in use: Index is being changed: {}",
                    index.name
                ))),
                None => Ok(()),
            }
        }
        TableStatus::Creating => "created",
        TableStatus::Updating => "updated",
        TableStatus::Deleting => "deleted",
    };
    Err(DynamoError::ResourceInUse(format!(
        "Attempt to change a resource which is still in use: Table is being {doing}: {}",
        table.name
    )))
}

#[cfg(test)]
mod tests;
