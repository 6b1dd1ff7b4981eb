//! Scan (paging, parallel segments, filters, projections) and Query (key conditions on a
//! table or an index, direction, paging).
//!
//! Both read one snapshot of the store through a cursor in key order and stop at `Limit`
//! items evaluated (before the filter, as DynamoDB counts) or after
//! [`PAGE_BYTES_MAX`](crate::limits::PAGE_BYTES_MAX) read, answering a `LastEvaluatedKey`
//! (the table's key attributes of the last item read, plus the index's for an index) from
//! which the next page starts. Like DynamoDB, a page that stopped at `Limit` carries a
//! `LastEvaluatedKey` even when no item follows. Reads are always strongly consistent here;
//! `ConsumedCapacity` is not reported (see `items.rs`).

mod read_plan;

use rheo_protocol::dynamodb::model::{QueryInput, QueryOutput, ScanInput, ScanOutput};

use crate::error::DynamoError;
use crate::expr::{legacy, parse_key_condition, Condition, ExpressionKind};
use crate::key::{KeyCondition, KeySchema, KeyValue};
use crate::service::item_request::{present, projection, ParameterStyles, INVALID};
use crate::service::DynamoDb;
use crate::store::Segment;
use crate::table::{IndexDef, IndexStatus, TableDef};
use crate::value::Item;

use read_plan::{output, read_page, start_key, ReadPlan};

/// The expressions of Scan and Query that may use `:values`.
const SCAN_VALUE_USERS: &[&str] = &["FilterExpression"];
const QUERY_VALUE_USERS: &[&str] = &["KeyConditionExpression", "FilterExpression"];

fn validation(text: impl Into<String>) -> DynamoError {
    DynamoError::Validation(text.into())
}

/// The index `name` of `table`, readable, with DynamoDB's refusal of consistent reads on a
/// global index.
fn readable_index<'t>(
    table: &'t TableDef,
    name: Option<&str>,
    consistent_read: Option<bool>,
) -> Result<Option<&'t IndexDef>, DynamoError> {
    let Some(name) = name else { return Ok(None) };
    let index =
        table.index(name).ok_or_else(|| validation(format!("The table does not have the specified index: {name}")))?;
    if index.status == IndexStatus::Creating {
        return Err(validation(format!("Cannot read from backfilling global secondary index: {name}")));
    }
    if !index.local && consistent_read == Some(true) {
        return Err(validation("Consistent reads are not supported on global secondary indexes"));
    }
    Ok(Some(index))
}

/// `Segment` and `TotalSegments` come together, and the segment is one of the total.
fn segment_of(segment: Option<i32>, total: Option<i32>) -> Result<Option<Segment>, DynamoError> {
    match (segment, total) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(validation(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is \
             present",
        )),
        (None, Some(_)) => Err(validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is \
             present",
        )),
        (Some(segment), Some(total)) => {
            if segment >= total {
                return Err(validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \
                     {segment} is not less than TotalSegments: {total}"
                )));
            }
            let segment = u32::try_from(segment).map_err(|_| validation("Segment must not be negative"))?;
            let total = u32::try_from(total).map_err(|_| validation("TotalSegments must be positive"))?;
            Ok(Some(Segment { segment, total }))
        }
    }
}

/// A filter: `FilterExpression`, or the legacy `ScanFilter`/`QueryFilter` with
/// `ConditionalOperator`.
fn filter_condition(
    expression: Option<&str>,
    legacy_filter: Option<&std::collections::BTreeMap<String, rheo_protocol::dynamodb::model::Condition>>,
    operator: Option<&rheo_protocol::dynamodb::model::ConditionalOperator>,
    legacy_name: &str,
    substitutions: &mut crate::expr::Substitutions,
) -> Result<Option<Condition>, DynamoError> {
    if let Some(text) = expression {
        return Condition::parse(text, ExpressionKind::Filter, substitutions).map(Some);
    }
    match legacy_filter {
        Some(filter) => legacy::filter(filter, operator).map(Some),
        None if operator.is_some() => {
            Err(validation(format!("{INVALID}ConditionalOperator can only be used when {legacy_name} is specified")))
        }
        None => Ok(None),
    }
}

/// A Query's filter may not read the key attributes of the table or index queried (the
/// key condition already decides them).
fn refuse_key_attributes(filter: &Condition, schema: &KeySchema, parameter: &str) -> Result<(), DynamoError> {
    let names = filter.top_level_names();
    match schema.names().find(|key| names.contains(key)) {
        Some(key) => Err(validation(format!(
            "{parameter} can only contain non-primary key attributes: Primary key attribute: {key}"
        ))),
        None => Ok(()),
    }
}

/// A Query's `ExclusiveStartKey` must lie in the partition its key condition reads.
fn refuse_start_outside(start: &Item, schema: &KeySchema, condition: &KeyCondition) -> Result<(), DynamoError> {
    let partition = start.get(&schema.hash.name).and_then(|value| KeyValue::from_attr(value, schema.hash.ty));
    if partition.as_ref() != Some(&condition.hash) {
        return Err(validation("The provided starting key is outside query boundaries based on provided conditions"));
    }
    Ok(())
}

/// `Limit` as a count (the model keeps it at least 1).
fn limit_of(limit: Option<i32>) -> Option<usize> {
    limit.map(|limit| usize::try_from(limit).unwrap_or(1).max(1))
}

impl DynamoDb {
    /// `Scan`.
    pub async fn scan(&self, input: ScanInput) -> Result<ScanOutput, DynamoError> {
        let styles = ParameterStyles {
            legacy: present(&[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("ScanFilter", input.scan_filter.is_some()),
            ]),
            expressions: present(&[
                ("ProjectionExpression", input.projection_expression.is_some()),
                ("FilterExpression", input.filter_expression.is_some()),
            ]),
            value_users: SCAN_VALUE_USERS,
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let mut substitutions = styles.substitutions()?;
        let projection =
            projection(input.projection_expression.as_deref(), input.attributes_to_get.as_deref(), &mut substitutions)?;
        let filter = filter_condition(
            input.filter_expression.as_deref(),
            input.scan_filter.as_ref(),
            input.conditional_operator.as_ref(),
            "ScanFilter",
            &mut substitutions,
        )?;
        substitutions.finish()?;
        let segment = segment_of(input.segment, input.total_segments)?;
        let table = self.table_for_items(&input.table_name).await?;
        let index = readable_index(&table, input.index_name.as_deref(), input.consistent_read)?;
        let projection_param = projection_param(input.projection_expression.is_some());
        let output = output(input.select.as_ref(), projection, index, projection_param)?;
        let start = start_key(&table, index, input.exclusive_start_key.as_ref())?;
        let plan = ReadPlan { table: &table, index, limit: limit_of(input.limit), filter: filter.as_ref(), output };
        let read = self.store.read()?;
        let cursor = read.scan(&table, index, start.as_ref(), segment)?;
        let page = read_page(&read, cursor, &plan)?;
        Ok(ScanOutput {
            items: page.items,
            count: Some(page.count),
            scanned_count: Some(page.scanned),
            last_evaluated_key: page.last_key,
            consumed_capacity: None,
        })
    }

    /// `Query`.
    pub async fn query(&self, input: QueryInput) -> Result<QueryOutput, DynamoError> {
        let styles = ParameterStyles {
            legacy: present(&[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("QueryFilter", input.query_filter.is_some()),
                ("KeyConditions", input.key_conditions.is_some()),
            ]),
            expressions: present(&[
                ("ProjectionExpression", input.projection_expression.is_some()),
                ("FilterExpression", input.filter_expression.is_some()),
                ("KeyConditionExpression", input.key_condition_expression.is_some()),
            ]),
            value_users: QUERY_VALUE_USERS,
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let mut substitutions = styles.substitutions()?;
        let table = self.table_for_items(&input.table_name).await?;
        let index = readable_index(&table, input.index_name.as_deref(), input.consistent_read)?;
        let schema = index.map_or(&table.key, |index| &index.key);
        let condition =
            match (&input.key_condition_expression, &input.key_conditions) {
                (Some(text), _) => parse_key_condition(text, schema, &mut substitutions)?,
                (None, Some(conditions)) => legacy::key_conditions(conditions, schema)?,
                (None, None) => return Err(validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
                )),
            };
        let projection =
            projection(input.projection_expression.as_deref(), input.attributes_to_get.as_deref(), &mut substitutions)?;
        let filter = filter_condition(
            input.filter_expression.as_deref(),
            input.query_filter.as_ref(),
            input.conditional_operator.as_ref(),
            "QueryFilter",
            &mut substitutions,
        )?;
        substitutions.finish()?;
        if let Some(filter) = &filter {
            let parameter = if input.query_filter.is_some() { "QueryFilter" } else { "Filter Expression" };
            refuse_key_attributes(filter, schema, parameter)?;
        }
        let projection_param = projection_param(input.projection_expression.is_some());
        let output = output(input.select.as_ref(), projection, index, projection_param)?;
        let start = start_key(&table, index, input.exclusive_start_key.as_ref())?;
        if let Some(start) = &start {
            refuse_start_outside(start, schema, &condition)?;
        }
        let plan = ReadPlan { table: &table, index, limit: limit_of(input.limit), filter: filter.as_ref(), output };
        let forward = input.scan_index_forward.unwrap_or(true);
        let read = self.store.read()?;
        let cursor = read.query(&table, index, &condition, forward, start.as_ref())?;
        let page = read_page(&read, cursor, &plan)?;
        Ok(QueryOutput {
            items: page.items,
            count: Some(page.count),
            scanned_count: Some(page.scanned),
            last_evaluated_key: page.last_key,
            consumed_capacity: None,
        })
    }
}

/// The projection parameter's name, for DynamoDB's `Select` texts.
fn projection_param(expression: bool) -> &'static str {
    if expression {
        "ProjectionExpression"
    } else {
        "AttributesToGet"
    }
}
