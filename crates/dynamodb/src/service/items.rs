//! Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem, with both condition
//! styles and `ReturnValues`/`ReturnValuesOnConditionCheckFailure`.
//!
//! A conditional write reads the stored item, checks the condition and makes its change in
//! one job of the store's writer, so nothing can change the item in between: two workers
//! taking one lease cannot both succeed.
//!
//! Reads are always strongly consistent here (one node, every acknowledged write
//! committed), so `ConsistentRead` changes nothing and is accepted either way.
//! `ConsumedCapacity` and `ItemCollectionMetrics` are not reported (nothing is metered):
//! the fields are left out of the answers rather than filled with made-up numbers.

use rheo_protocol::dynamodb::model::{
    DeleteItemInput, DeleteItemOutput, GetItemInput, GetItemOutput, PutItemInput, PutItemOutput, ReturnValue,
    UpdateItemInput, UpdateItemOutput,
};

use crate::error::DynamoError;
use crate::expr::{legacy, Update};
use crate::key::{KeySchema, PrimaryKey};
use crate::service::item_request::{
    check_condition, check_index_keys, check_item_size, item_from_request, key_from_wire, only_condition,
    only_projection, present, returns_old_on_failure, write_condition, ConditionParams, ParameterStyles, INVALID,
};
use crate::service::DynamoDb;
use crate::table::TableDef;
use crate::value::{item_to_wire, Item};

/// The expressions of UpdateItem that may use `:values` (for DynamoDB's text when values
/// come without them).
const UPDATE_VALUE_USERS: &[&str] = &["UpdateExpression", "ConditionExpression"];

/// PutItem and DeleteItem return the old item or nothing.
fn returns_all_old(return_values: Option<&ReturnValue>) -> Result<bool, DynamoError> {
    match return_values {
        None | Some(ReturnValue::None) => Ok(false),
        Some(ReturnValue::AllOld) => Ok(true),
        Some(_) => Err(DynamoError::Validation("ReturnValues can only be ALL_OLD or NONE".into())),
    }
}

impl DynamoDb {
    /// `PutItem`.
    pub async fn put_item(&self, input: PutItemInput) -> Result<PutItemOutput, DynamoError> {
        let return_old = returns_all_old(input.return_values.as_ref())?;
        let condition = only_condition(ConditionParams {
            expression: input.condition_expression.as_deref(),
            expected: input.expected.as_ref(),
            operator: input.conditional_operator.as_ref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        })?;
        let table = self.table_for_items(&input.table_name).await?;
        let (key, item) = item_from_request(&table, &input.item)?;
        let old_on_failure = returns_old_on_failure(input.return_values_on_condition_check_failure.as_ref());
        let old = self
            .store
            .write(move |txn| {
                let old = txn.get(&table, &key)?;
                check_condition(condition.as_ref(), old.as_ref(), old_on_failure)?;
                txn.put(&table, &key, item)?;
                Ok::<_, DynamoError>(old)
            })
            .await??;
        Ok(PutItemOutput {
            attributes: old.filter(|_| return_old).map(|old| item_to_wire(&old)),
            consumed_capacity: None,
            item_collection_metrics: None,
        })
    }

    /// `GetItem`.
    pub async fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput, DynamoError> {
        let projection = only_projection(
            input.projection_expression.as_deref(),
            input.attributes_to_get.as_deref(),
            input.expression_attribute_names.as_ref(),
        )?;
        let table = self.table_for_items(&input.table_name).await?;
        let key = key_from_wire(&table, &input.key)?;
        let item = self.store.read()?.get(&table, &key)?;
        let item = match (item, &projection) {
            (Some(item), Some(projection)) => Some(projection.apply(&item)),
            (item, _) => item,
        };
        Ok(GetItemOutput { item: item.map(|item| item_to_wire(&item)), consumed_capacity: None })
    }

    /// `UpdateItem`.
    pub async fn update_item(&self, input: UpdateItemInput) -> Result<UpdateItemOutput, DynamoError> {
        let styles = ParameterStyles {
            legacy: present(&[
                ("AttributeUpdates", input.attribute_updates.is_some()),
                ("Expected", input.expected.is_some()),
            ]),
            expressions: present(&[
                ("UpdateExpression", input.update_expression.is_some()),
                ("ConditionExpression", input.condition_expression.is_some()),
            ]),
            value_users: UPDATE_VALUE_USERS,
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let mut substitutions = styles.substitutions()?;
        let update = match (&input.update_expression, &input.attribute_updates) {
            (Some(text), _) => Some(Update::parse(text, &mut substitutions)?),
            (None, Some(updates)) => Some(legacy::attribute_updates(updates)?),
            (None, None) => None,
        };
        let condition = write_condition(
            input.condition_expression.as_deref(),
            input.expected.as_ref(),
            input.conditional_operator.as_ref(),
            &mut substitutions,
        )?;
        substitutions.finish()?;
        let table = self.table_for_items(&input.table_name).await?;
        let key = key_from_wire(&table, &input.key)?;
        if let Some(update) = &update {
            refuse_key_updates(&table.key, update)?;
        }
        let return_values = input.return_values.unwrap_or(ReturnValue::None);
        let old_on_failure = returns_old_on_failure(input.return_values_on_condition_check_failure.as_ref());
        let attributes = self
            .store
            .write(move |txn| {
                let old = txn.get(&table, &key)?;
                check_condition(condition.as_ref(), old.as_ref(), old_on_failure)?;
                let new = updated_item(&table, &key, old.as_ref(), update.as_ref())?;
                if let Some(new) = &new {
                    txn.put(&table, &key, new.clone())?;
                }
                let parts = |item: &Item| update.as_ref().map(|update| update.updated_parts(item)).unwrap_or_default();
                Ok::<_, DynamoError>(match return_values {
                    ReturnValue::None => None,
                    ReturnValue::AllOld => old,
                    ReturnValue::AllNew => new,
                    ReturnValue::UpdatedOld => old.as_ref().map(parts),
                    ReturnValue::UpdatedNew => new.as_ref().map(parts),
                })
            })
            .await??;
        Ok(UpdateItemOutput {
            attributes: attributes.filter(|item| !item.is_empty()).map(|item| item_to_wire(&item)),
            consumed_capacity: None,
            item_collection_metrics: None,
        })
    }

    /// `DeleteItem`.
    pub async fn delete_item(&self, input: DeleteItemInput) -> Result<DeleteItemOutput, DynamoError> {
        let return_old = returns_all_old(input.return_values.as_ref())?;
        let condition = only_condition(ConditionParams {
            expression: input.condition_expression.as_deref(),
            expected: input.expected.as_ref(),
            operator: input.conditional_operator.as_ref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        })?;
        let table = self.table_for_items(&input.table_name).await?;
        let key = key_from_wire(&table, &input.key)?;
        let old_on_failure = returns_old_on_failure(input.return_values_on_condition_check_failure.as_ref());
        let old = self
            .store
            .write(move |txn| {
                let old = txn.get(&table, &key)?;
                check_condition(condition.as_ref(), old.as_ref(), old_on_failure)?;
                if old.is_some() {
                    txn.delete(&table, &key)?;
                }
                Ok::<_, DynamoError>(old)
            })
            .await??;
        Ok(DeleteItemOutput {
            attributes: old.filter(|_| return_old).map(|old| item_to_wire(&old)),
            consumed_capacity: None,
            item_collection_metrics: None,
        })
    }
}

/// DynamoDB refuses updates that write or remove a key attribute.
pub(crate) fn refuse_key_updates(schema: &KeySchema, update: &Update) -> Result<(), DynamoError> {
    let names = update.top_level_names();
    match schema.names().find(|key| names.contains(key)) {
        Some(key) => Err(DynamoError::Validation(format!(
            "{INVALID}Cannot update attribute {key}. This attribute is part of the key"
        ))),
        None => Ok(()),
    }
}

/// The item an update leaves under `key`: the stored item (or just the key when there is
/// none) with the update applied, checked against the index keys and the size limit.
/// `None` when nothing is to be stored: DynamoDB does not create an item from an update
/// that only removes or deletes (an update with no action at all does create it).
pub(crate) fn updated_item(
    table: &TableDef,
    key: &PrimaryKey,
    old: Option<&Item>,
    update: Option<&Update>,
) -> Result<Option<Item>, DynamoError> {
    let mut item = old.cloned().unwrap_or_else(|| table.key.key_item(key));
    if let Some(update) = update {
        update.apply(&mut item)?;
        if old.is_none() && item.len() == table.key.names().count() {
            return Ok(None);
        }
    }
    check_index_keys(table, &item)?;
    check_item_size(&item, "Item size to update has exceeded the maximum allowed size")?;
    Ok(Some(item))
}
