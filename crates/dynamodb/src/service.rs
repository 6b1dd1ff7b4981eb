//! The DynamoDB operations over the [`Store`], taking and returning the wire model's types
//! (`rheo_protocol::dynamodb::model`); rheo-server only decodes, calls and encodes.
//!
//! One file per group of operations: `tables.rs` (table control and stored settings),
//! `catalog.rs` (the live table definitions and their status transitions), `items.rs`
//! (single items), `query.rs` (Scan and Query), `batch.rs`, `transact.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;
use rheo_storage::Clock;

use crate::error::DynamoError;
use crate::store::{Store, StoreConfig, StoreLocation};
use crate::table::TableDef;

mod batch;
mod catalog;
mod item_request;
mod items;
mod query;
mod tables;
mod tokens;
mod transact;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct DynamoDbConfig {
    /// The region and account of table ARNs, as the other services know them.
    pub region: String,
    pub account_id: String,
    /// Where the store lives and whether commits fsync.
    pub store: StoreConfig,
    /// How long a new table stays CREATING (tests and laptops use 0).
    pub create_table_ms: u64,
    /// How long a deleted table stays DELETING.
    pub delete_table_ms: u64,
    /// How long a table stays UPDATING and a new index CREATING.
    pub update_table_ms: u64,
    /// Tables per account.
    pub table_limit: usize,
}

impl DynamoDbConfig {
    /// A configuration for tests: in memory, instant transitions.
    pub fn in_memory() -> DynamoDbConfig {
        DynamoDbConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            store: StoreConfig { location: StoreLocation::InMemory, durable: false },
            create_table_ms: 0,
            delete_table_ms: 0,
            update_table_ms: 0,
            table_limit: crate::limits::TABLES_PER_ACCOUNT_DEFAULT,
        }
    }
}

/// The DynamoDB service.
pub struct DynamoDb {
    pub(crate) store: Store,
    /// Live table definitions by name, as stored; status transitions that are due are
    /// applied when a table is looked up (see `catalog.rs`).
    pub(crate) catalog: RwLock<BTreeMap<String, Arc<TableDef>>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: DynamoDbConfig,
    /// Serializes table control (create, update, delete, settings, due transitions), so
    /// each change starts from the definition the previous one stored.
    pub(crate) control: tokio::sync::Mutex<()>,
    /// TransactWriteItems' request tokens, read and filled inside store jobs.
    pub(crate) tokens: Arc<parking_lot::Mutex<tokens::RequestTokens>>,
}

impl DynamoDb {
    /// Opens the store and loads its tables.
    pub fn open(config: DynamoDbConfig, clock: Arc<dyn Clock>) -> Result<Arc<DynamoDb>, DynamoError> {
        let store = Store::open(config.store.clone())?;
        let catalog = store.tables()?.into_iter().map(|table| (table.name.clone(), Arc::new(table))).collect();
        Ok(Arc::new(DynamoDb {
            store,
            catalog: RwLock::new(catalog),
            clock,
            config,
            control: tokio::sync::Mutex::new(()),
            tokens: Arc::default(),
        }))
    }

    /// The ARN of the table called `name`.
    pub fn table_arn(&self, name: &str) -> String {
        let partition = rheo_aws::arn::partition_of(&self.config.region);
        format!("arn:{partition}:dynamodb:{}:{}:table/{}", self.config.region, self.config.account_id, name)
    }

    /// Prometheus lines of the tables: how many in each status, and each table's items
    /// and bytes (`rheo_dynamodb_*`). Operation counts are the server's.
    pub fn render_metrics(&self, out: &mut String) {
        tables::render_metrics(self, out);
    }

    /// Stops the store's writer after the writes already queued.
    pub async fn shutdown(&self) {
        self.store.shutdown();
    }
}
