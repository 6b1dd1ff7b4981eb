//! The tables' Prometheus lines: how many tables in each status, and each table's items
//! and bytes (exact counts the store keeps). Operation counts are rheo-server's.

use std::fmt::Write as _;

use crate::service::DynamoDb;
use crate::table::TableStatus;

/// Appends the `rheo_dynamodb_*` lines to `out`.
pub(crate) fn render_metrics(db: &DynamoDb, out: &mut String) {
    let tables: Vec<_> = db.catalog.read().values().cloned().collect();
    let statuses = [
        (TableStatus::Creating, "CREATING"),
        (TableStatus::Active, "ACTIVE"),
        (TableStatus::Updating, "UPDATING"),
        (TableStatus::Deleting, "DELETING"),
    ];
    let _ = writeln!(out, "# HELP rheo_dynamodb_tables DynamoDB tables by status.");
    let _ = writeln!(out, "# TYPE rheo_dynamodb_tables gauge");
    for (status, label) in statuses {
        let count = tables.iter().filter(|table| table.status == status).count();
        let _ = writeln!(out, "rheo_dynamodb_tables{{status=\"{label}\"}} {count}");
    }
    let Ok(read) = db.store.read() else {
        // A failed store shows in the operations' errors; the table counts above stand.
        return;
    };
    let stats: Vec<(&str, u64, u64)> = tables
        .iter()
        .filter(|table| table.status != TableStatus::Deleting)
        .filter_map(|table| read.table_stats(table).ok().map(|(items, bytes)| (table.name.as_str(), items, bytes)))
        .collect();
    let _ = writeln!(out, "# HELP rheo_dynamodb_table_items Items in a DynamoDB table.");
    let _ = writeln!(out, "# TYPE rheo_dynamodb_table_items gauge");
    for (name, items, _) in &stats {
        // Table names are [a-zA-Z0-9_.-]: nothing to escape in a label value.
        let _ = writeln!(out, "rheo_dynamodb_table_items{{table=\"{name}\"}} {items}");
    }
    let _ = writeln!(out, "# HELP rheo_dynamodb_table_bytes DynamoDB's size of a table's items, in bytes.");
    let _ = writeln!(out, "# TYPE rheo_dynamodb_table_bytes gauge");
    for (name, _, bytes) in &stats {
        let _ = writeln!(out, "rheo_dynamodb_table_bytes{{table=\"{name}\"}} {bytes}");
    }
}
