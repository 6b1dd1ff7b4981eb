//! The live table definitions: lookup by name or ARN, and the status transitions that
//! are due (CREATING → ACTIVE, UPDATING → ACTIVE, an index's CREATING → ACTIVE, DELETING →
//! gone), applied and stored when a table is looked up after its transition's end.
//!
//! Transitions run on the service's clock rather than on timers, so a test moves a
//! [`ManualClock`](rheo_storage::ManualClock) and a restart loses nothing: a table stored
//! as CREATING whose time is over is ACTIVE at its next lookup. Table control holds
//! `DynamoDb::control` while it reads, changes and stores a definition; a lookup that finds
//! a transition due takes it too, so it never stores over a control operation's change.

use std::sync::Arc;

use crate::error::DynamoError;
use crate::service::DynamoDb;
use crate::table::{IndexStatus, TableDef, TableStatus};

impl DynamoDb {
    /// The table `name_or_arn` names, in any status (DescribeTable, DeleteTable, …), with
    /// DynamoDB's ResourceNotFoundException when there is none.
    pub(crate) async fn table(&self, name_or_arn: &str) -> Result<Arc<TableDef>, DynamoError> {
        let name = self.table_name_of(name_or_arn)?;
        let now = self.clock.now_ms();
        match self.catalog.read().get(name) {
            Some(table) if !transition_due(table, now) => return Ok(table.clone()),
            Some(_) => {}
            None => return Err(table_not_found(name)),
        }
        let _control = self.control.lock().await;
        self.settled_table(name).await
    }

    /// The table an item operation may use: ACTIVE or UPDATING; CREATING, DELETING and
    /// missing tables are DynamoDB's ResourceNotFoundException for item operations.
    pub(crate) async fn table_for_items(&self, name_or_arn: &str) -> Result<Arc<TableDef>, DynamoError> {
        match self.table(name_or_arn).await {
            Ok(table) if matches!(table.status, TableStatus::Active | TableStatus::Updating) => Ok(table),
            Ok(_) | Err(DynamoError::ResourceNotFound(_)) => {
                Err(DynamoError::ResourceNotFound("Requested resource not found".into()))
            }
            Err(other) => Err(other),
        }
    }

    /// The table called `name` with its due transitions applied and stored. The caller
    /// holds `self.control`.
    pub(super) async fn settled_table(&self, name: &str) -> Result<Arc<TableDef>, DynamoError> {
        let now = self.clock.now_ms();
        let Some(table) = self.catalog.read().get(name).cloned() else {
            return Err(table_not_found(name));
        };
        if !transition_due(&table, now) {
            return Ok(table);
        }
        if table.status == TableStatus::Deleting {
            // A deleted table's definition and items left the store when DeleteTable
            // answered; only its DELETING description lingers, in memory.
            self.catalog.write().remove(name);
            return Err(table_not_found(name));
        }
        let settled = settle(&table, now);
        let stored = settled.clone();
        self.store.write(move |txn| txn.put_table(&stored)).await??;
        let settled = Arc::new(settled);
        self.catalog.write().insert(name.to_owned(), settled.clone());
        Ok(settled)
    }

    /// Every table, with due transitions applied (ListTables, metrics). The caller holds
    /// `self.control`.
    pub(super) async fn settle_all(&self) -> Result<(), DynamoError> {
        let now = self.clock.now_ms();
        let due: Vec<String> = self
            .catalog
            .read()
            .values()
            .filter(|table| transition_due(table, now))
            .map(|table| table.name.clone())
            .collect();
        for name in due {
            match self.settled_table(&name).await {
                Ok(_) | Err(DynamoError::ResourceNotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// Stores `table` (replacing its definition) and makes it the live one. The caller
    /// holds `self.control`.
    pub(super) async fn store_table(&self, table: TableDef) -> Result<Arc<TableDef>, DynamoError> {
        let stored = table.clone();
        self.store.write(move |txn| txn.put_table(&stored)).await??;
        let table = Arc::new(table);
        self.catalog.write().insert(table.name.clone(), table.clone());
        Ok(table)
    }

    /// The table name a `TableName` parameter holds: a name, or a table ARN of this
    /// service's region and account.
    pub(super) fn table_name_of<'a>(&self, name_or_arn: &'a str) -> Result<&'a str, DynamoError> {
        if !name_or_arn.starts_with("arn:") {
            return Ok(name_or_arn);
        }
        let name = self.table_name_of_arn(name_or_arn)?;
        Ok(name)
    }

    /// The table name in a table ARN (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`), with
    /// DynamoDB's text for anything else (index ARNs included). A table ARN of another
    /// region or account names no table here.
    pub(super) fn table_name_of_arn<'a>(&self, arn: &'a str) -> Result<&'a str, DynamoError> {
        let invalid =
            || DynamoError::Validation(format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}"));
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("dynamodb"), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let name = resource.strip_prefix("table/").ok_or_else(invalid)?;
        if name.is_empty() || name.contains('/') {
            return Err(invalid());
        }
        // Authorization sees the ARN as sent: another partition's spelling of one of our
        // tables must not be ours, or a Deny on `arn:aws:...` would not apply to it.
        if partition != rheo_aws::arn::partition_of(&self.config.region)
            || region != self.config.region
            || account != self.config.account_id
        {
            return Err(table_not_found(name));
        }
        Ok(name)
    }
}

/// DynamoDB's text for a table control operation on a table that does not exist.
pub(super) fn table_not_found(name: &str) -> DynamoError {
    DynamoError::ResourceNotFound(format!("Requested resource not found: Table: {name} not found"))
}

/// Whether the table or one of its indexes has a transition whose time is over.
fn transition_due(table: &TableDef, now: u64) -> bool {
    let due = |ends: Option<u64>| ends.is_some_and(|ends| ends <= now);
    due(table.transition_ends_ms) || table.indexes.iter().any(|index| due(index.transition_ends_ms))
}

/// The table after its due transitions (DELETING is the caller's: it removes the table).
fn settle(table: &TableDef, now: u64) -> TableDef {
    let due = |ends: Option<u64>| ends.is_some_and(|ends| ends <= now);
    let mut settled = table.clone();
    if due(settled.transition_ends_ms) {
        settled.transition_ends_ms = None;
        if matches!(settled.status, TableStatus::Creating | TableStatus::Updating) {
            settled.status = TableStatus::Active;
        }
    }
    for index in &mut settled.indexes {
        if due(index.transition_ends_ms) {
            index.transition_ends_ms = None;
            if matches!(index.status, IndexStatus::Creating | IndexStatus::Updating) {
                index.status = IndexStatus::Active;
            }
        }
    }
    settled
}
