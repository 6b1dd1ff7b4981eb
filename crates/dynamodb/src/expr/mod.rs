//! DynamoDB's expression languages and the legacy parameters, lowered to one set of trees:
//! - condition expressions (`ConditionExpression`, `FilterExpression`) and the legacy
//!   `Expected`, `ScanFilter` and `QueryFilter` maps → [`Condition`];
//! - update expressions (`SET`, `REMOVE`, `ADD`, `DELETE`) and the legacy
//!   `AttributeUpdates` (PUT/ADD/DELETE) → [`Update`];
//! - projection expressions and the legacy `AttributesToGet` → [`Projection`];
//! - key condition expressions and the legacy `KeyConditions` → [`KeyCondition`].
//!
//! `#name` and `:value` placeholders resolve through [`Substitutions`], which also reports
//! the names and values a request supplied but no expression used (DynamoDB refuses
//! those).
//!
//! SKELETON: the `dy-expr` piece owns this folder and implements every body marked
//! `// SKELETON:`, keeping these public signatures (adding is fine).

use std::collections::BTreeMap;

use crate::error::DynamoError;
use crate::key::{KeyCondition, KeySchema};
use crate::value::Item;

pub mod legacy;

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which
/// of them the request's expressions used.
#[derive(Debug, Default)]
pub struct Substitutions {
    names: BTreeMap<String, String>,
    values: Item,
}

impl Substitutions {
    /// The request's placeholders (empty maps when absent).
    pub fn new(names: BTreeMap<String, String>, values: Item) -> Substitutions {
        Substitutions { names, values }
    }

    /// After every expression of the request was parsed: DynamoDB's error for names or
    /// values supplied but unused (`Value provided in ExpressionAttributeValues unused in
    /// expressions: keys: {:v}`).
    pub fn finish(&self) -> Result<(), DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = (&self.names, &self.values);
        Ok(())
    }
}

/// Where an expression came from, for DynamoDB's messages (`Invalid ConditionExpression: …`,
/// `Invalid FilterExpression: …`) and for the rules that differ (a filter may not name key
/// attributes in a Query).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpressionKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

/// A parsed condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    // SKELETON: dy-expr defines the tree.
}

impl Condition {
    /// Parses a condition or filter expression.
    pub fn parse(
        text: &str,
        kind: ExpressionKind,
        substitutions: &mut Substitutions,
    ) -> Result<Condition, DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = (text, kind, substitutions);
        Err(DynamoError::Internal("conditions not built yet".into()))
    }

    /// Evaluates the condition on `item` (an empty item when none exists). Errors are the
    /// evaluation-time ones DynamoDB reports (for example an operand of the wrong type in
    /// `size` is just false, but a bad `attribute_type` type name is a ValidationException).
    pub fn eval(&self, item: &Item) -> Result<bool, DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = item;
        Err(DynamoError::Internal("conditions not built yet".into()))
    }
}

/// A parsed update: the actions of `SET`, `REMOVE`, `ADD` and `DELETE` clauses.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    // SKELETON: dy-expr defines the tree.
}

impl Update {
    /// Parses an update expression.
    pub fn parse(text: &str, substitutions: &mut Substitutions) -> Result<Update, DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = (text, substitutions);
        Err(DynamoError::Internal("updates not built yet".into()))
    }

    /// Applies the update to `item` (an item holding only the key when none existed),
    /// with DynamoDB's errors for operands of the wrong type and results over the limits.
    pub fn apply(&self, item: &mut Item) -> Result<(), DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = item;
        Err(DynamoError::Internal("updates not built yet".into()))
    }

    /// The top-level attribute names the update writes or removes (for DynamoDB's
    /// "Cannot update attribute X. This attribute is part of the key" check).
    pub fn top_level_names(&self) -> Vec<&str> {
        // SKELETON: dy-expr implements.
        Vec::new()
    }

    /// The parts of `item` the update touched, as `ReturnValues: UPDATED_OLD` (on the
    /// item before) and `UPDATED_NEW` (on the item after) return them.
    pub fn updated_parts(&self, item: &Item) -> Item {
        // SKELETON: dy-expr implements.
        let _ = item;
        Item::new()
    }
}

/// A parsed projection: the document paths to return.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    // SKELETON: dy-expr defines the paths.
}

impl Projection {
    /// Parses a projection expression.
    pub fn parse(text: &str, substitutions: &mut Substitutions) -> Result<Projection, DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = (text, substitutions);
        Err(DynamoError::Internal("projections not built yet".into()))
    }

    /// The parts of `item` the projection names (missing paths are left out).
    pub fn apply(&self, item: &Item) -> Item {
        // SKELETON: dy-expr implements.
        let _ = item;
        Item::new()
    }
}

/// Parses a key condition expression against the key schema of the table or index queried,
/// with DynamoDB's errors (`Query condition missed key schema element: leaseOwner`, a
/// condition on a non-key attribute, two conditions on one key, …).
pub fn parse_key_condition(
    text: &str,
    schema: &KeySchema,
    substitutions: &mut Substitutions,
) -> Result<KeyCondition, DynamoError> {
    // SKELETON: dy-expr implements.
    let _ = (text, schema, substitutions);
    Err(DynamoError::Internal("key conditions not built yet".into()))
}
