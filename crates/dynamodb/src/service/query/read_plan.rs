//! What Scan and Query share once the request is read: which attributes each kept item
//! returns (`Select`, projections, an index's projection), where the page starts
//! (`ExclusiveStartKey`) and the page itself (`Limit`, the 1 MB bound, the filter,
//! `LastEvaluatedKey`).

use std::collections::BTreeMap;

use rheo_protocol::dynamodb::model::Select;
use rheo_protocol::types::Document;

use crate::error::DynamoError;
use crate::expr::{Condition, Projection};
use crate::key::{KeyAttr, KeyValue};
use crate::limits::PAGE_BYTES_MAX;
use crate::service::item_request::{key_of_key_item, INVALID};
use crate::store::{Cursor, ReadTxn};
use crate::table::{IndexDef, Projection as IndexProjection, TableDef};
use crate::value::{item_from_wire, item_size, item_to_wire, Item};

/// The text of every malformed `ExclusiveStartKey`.
const BAD_START_KEY: &str = "The provided starting key is invalid: The provided key element does not match the schema";

/// What each kept item returns.
pub(super) enum Output {
    /// The item as read: the whole item from a table, the projected item from an index.
    AsRead,
    /// The whole item, read from the table for a local index that does not project all.
    FromTable,
    /// The attributes a projection names (of the whole item for a local index).
    Specific(Projection),
    /// Only the count (`Select: COUNT`).
    Count,
}

/// Reads `Select` with the projection, per DynamoDB's rules for tables and indexes.
pub(super) fn output(
    select: Option<&Select>,
    projection: Option<Projection>,
    index: Option<&IndexDef>,
    projection_param: &str,
) -> Result<Output, DynamoError> {
    let index_projects_all = index.is_none_or(|index| index.projection == IndexProjection::All);
    let refuse_projection = |select: &str| -> Result<(), DynamoError> {
        match projection {
            Some(_) => Err(DynamoError::Validation(format!(
                "Cannot specify the {projection_param} when choosing to get {select}"
            ))),
            None => Ok(()),
        }
    };
    match select {
        None => Ok(match projection {
            Some(projection) => Output::Specific(projection),
            None => Output::AsRead,
        }),
        Some(Select::AllAttributes) => {
            refuse_projection("ALL_ATTRIBUTES")?;
            match index {
                Some(index) if !index_projects_all && !index.local => Err(DynamoError::Validation(format!(
                    "{INVALID}Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its \
                     projection type is not ALL",
                    index.name
                ))),
                Some(_) if !index_projects_all => Ok(Output::FromTable),
                _ => Ok(Output::AsRead),
            }
        }
        Some(Select::AllProjectedAttributes) => {
            refuse_projection("ALL_PROJECTED_ATTRIBUTES")?;
            if index.is_none() {
                return Err(DynamoError::Validation(
                    "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName".into(),
                ));
            }
            Ok(Output::AsRead)
        }
        Some(Select::SpecificAttributes) => match projection {
            Some(projection) => Ok(Output::Specific(projection)),
            None => Err(DynamoError::Validation(
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
                    .into(),
            )),
        },
        Some(Select::Count) => {
            refuse_projection("only the Count")?;
            Ok(Output::Count)
        }
    }
}

/// The key attributes that position a cursor: the table's, then the index's not among them.
fn position_attrs<'t>(table: &'t TableDef, index: Option<&'t IndexDef>) -> Vec<&'t KeyAttr> {
    let mut attrs: Vec<&KeyAttr> = std::iter::once(&table.key.hash).chain(table.key.range.as_ref()).collect();
    if let Some(index) = index {
        for attr in std::iter::once(&index.key.hash).chain(index.key.range.as_ref()) {
            if !attrs.iter().any(|known| known.name == attr.name) {
                attrs.push(attr);
            }
        }
    }
    attrs
}

/// Reads and checks an `ExclusiveStartKey`: exactly the table's key attributes, plus the
/// index's when reading an index, of their types.
pub(super) fn start_key(
    table: &TableDef,
    index: Option<&IndexDef>,
    start: Option<&BTreeMap<String, Document>>,
) -> Result<Option<Item>, DynamoError> {
    let Some(start) = start else { return Ok(None) };
    let item = item_from_wire(start)?;
    let Some(index) = index else {
        key_of_key_item(&table.key, &item, BAD_START_KEY)?;
        return Ok(Some(item));
    };
    let attrs = position_attrs(table, Some(index));
    let well_typed =
        attrs.iter().all(|attr| item.get(&attr.name).and_then(|v| KeyValue::from_attr(v, attr.ty)).is_some());
    if !well_typed || item.len() != attrs.len() {
        return Err(DynamoError::Validation(BAD_START_KEY.into()));
    }
    Ok(Some(item))
}

/// One Scan or Query, read.
pub(super) struct ReadPlan<'a> {
    pub table: &'a TableDef,
    pub index: Option<&'a IndexDef>,
    /// Items to evaluate at most (`Limit`).
    pub limit: Option<usize>,
    pub filter: Option<&'a Condition>,
    pub output: Output,
}

/// One page of a Scan or Query, in the wire's form.
pub(super) struct Page {
    /// `None` for `Select: COUNT`.
    pub items: Option<Vec<BTreeMap<String, Document>>>,
    pub count: i32,
    pub scanned: i32,
    pub last_key: Option<BTreeMap<String, Document>>,
}

fn wire_count(count: usize) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// Reads items from `cursor` until `Limit` items were evaluated, the page bound was read or
/// the cursor ends; keeps those the filter passes, shaped by the plan's output.
pub(super) fn read_page(read: &ReadTxn, cursor: Cursor<'_>, plan: &ReadPlan<'_>) -> Result<Page, DynamoError> {
    let mut items = Vec::new();
    let mut count = 0usize;
    let mut scanned = 0usize;
    let mut bytes = 0usize;
    let mut last_key = None;
    for read_item in cursor {
        let read_item = read_item?;
        scanned += 1;
        bytes += item_size(&read_item);
        let full = match (&plan.output, plan.index) {
            (Output::FromTable, _) | (Output::Specific(_), Some(IndexDef { local: true, .. })) => {
                table_item(read, plan.table, &read_item)?
            }
            _ => read_item.clone(),
        };
        let kept = match plan.filter {
            Some(filter) => filter.eval(&full)?,
            None => true,
        };
        if kept {
            count += 1;
            match &plan.output {
                Output::Count => {}
                Output::Specific(projection) => items.push(item_to_wire(&projection.apply(&full))),
                Output::AsRead | Output::FromTable => items.push(item_to_wire(&full)),
            }
        }
        if plan.limit.is_some_and(|limit| scanned >= limit) || bytes >= PAGE_BYTES_MAX {
            last_key = Some(position_of(plan, &read_item));
            break;
        }
    }
    Ok(Page {
        items: match plan.output {
            Output::Count => None,
            _ => Some(items),
        },
        count: wire_count(count),
        scanned: wire_count(scanned),
        last_key,
    })
}

/// The whole item behind an index item of a local index (its table key attributes name it).
fn table_item(read: &ReadTxn, table: &TableDef, index_item: &Item) -> Result<Item, DynamoError> {
    let key = table
        .key
        .key_of(index_item)
        .ok_or_else(|| DynamoError::Internal("an index entry lacks the table's key attributes".into()))?;
    // The snapshot holds the item its index entry came from.
    read.get(table, &key)?.ok_or_else(|| DynamoError::Internal("an index entry without its item".into()))
}

/// The `LastEvaluatedKey` of an item read: its position attributes.
fn position_of(plan: &ReadPlan<'_>, item: &Item) -> BTreeMap<String, Document> {
    let key: Item = position_attrs(plan.table, plan.index)
        .into_iter()
        .filter_map(|attr| item.get(&attr.name).map(|value| (attr.name.clone(), value.clone())))
        .collect();
    item_to_wire(&key)
}
