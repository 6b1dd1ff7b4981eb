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
//! Modules: `lexer` tokens; `parser` the shared recursive-descent parser (paths,
//! placeholders, conditions, projections); [`update`] the update grammar and its
//! application; [`condition`] the condition tree and its evaluation; [`path`] document
//! paths on items; `key_condition` the lowering of a key condition to the key schema;
//! `reserved` DynamoDB's reserved words; [`legacy`] the pre-expression parameters.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::DynamoError;
use crate::key::{KeyCondition, KeySchema};
use crate::value::{AttrValue, Item};

pub mod condition;
mod key_condition;
pub mod legacy;
mod lexer;
mod parser;
pub mod path;
mod reserved;
pub mod update;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod roundtrip;
#[cfg(test)]
mod tests;

use condition::Node;
use parser::Parser;
use path::{first_clash, Path, Selection};
use update::Action;

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which
/// of them the request's expressions used.
#[derive(Debug, Default)]
pub struct Substitutions {
    names: BTreeMap<String, String>,
    values: Item,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Substitutions {
    /// The request's placeholders (empty maps when absent).
    pub fn new(names: BTreeMap<String, String>, values: Item) -> Substitutions {
        Substitutions { names, values, used_names: BTreeSet::new(), used_values: BTreeSet::new() }
    }

    /// The attribute name `#placeholder` stands for, marked used.
    pub(crate) fn use_name(&mut self, placeholder: &str) -> Option<&str> {
        let name = self.names.get(placeholder)?;
        self.used_names.insert(placeholder.to_owned());
        Some(name)
    }

    /// The value `:placeholder` stands for, marked used.
    pub(crate) fn use_value(&mut self, placeholder: &str) -> Option<&AttrValue> {
        let value = self.values.get(placeholder)?;
        self.used_values.insert(placeholder.to_owned());
        Some(value)
    }

    /// After every expression of the request was parsed: DynamoDB's error for names or
    /// values supplied but unused (`Value provided in ExpressionAttributeValues unused in
    /// expressions: keys: {:v}`).
    pub fn finish(&self) -> Result<(), DynamoError> {
        let unused = |supplied: Vec<&String>, used: &BTreeSet<String>| -> Option<String> {
            let unused: Vec<&str> =
                supplied.into_iter().filter(|key| !used.contains(*key)).map(String::as_str).collect();
            (!unused.is_empty()).then(|| unused.join(", "))
        };
        if let Some(keys) = unused(self.names.keys().collect(), &self.used_names) {
            return Err(DynamoError::Validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{keys}}}"
            )));
        }
        if let Some(keys) = unused(self.values.keys().collect(), &self.used_values) {
            return Err(DynamoError::Validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{keys}}}"
            )));
        }
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

impl ExpressionKind {
    /// The request parameter, as DynamoDB's messages name it.
    pub fn parameter_name(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        }
    }
}

/// A parsed condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    root: Node,
}

impl Condition {
    /// Parses a condition or filter expression.
    pub fn parse(
        text: &str,
        kind: ExpressionKind,
        substitutions: &mut Substitutions,
    ) -> Result<Condition, DynamoError> {
        let root = Parser::new(text, kind, substitutions)?.condition()?;
        Ok(Condition { root })
    }

    /// A condition of the given tree (the legacy parameters build these).
    pub fn from_node(root: Node) -> Condition {
        Condition { root }
    }

    /// The tree.
    pub fn node(&self) -> &Node {
        &self.root
    }

    /// The top-level attribute names the condition reads (a Query's filter may not name
    /// key attributes).
    pub fn top_level_names(&self) -> BTreeSet<&str> {
        let mut names = BTreeSet::new();
        self.root.visit_paths(&mut |path| {
            names.insert(path.top());
        });
        names
    }

    /// Evaluates the condition on `item` (an empty item when none exists). Errors are the
    /// evaluation-time ones DynamoDB reports (for example an operand of the wrong type in
    /// `size` is just false, but a bad `attribute_type` type name is a ValidationException).
    pub fn eval(&self, item: &Item) -> Result<bool, DynamoError> {
        // Every type error DynamoDB reports is found when parsing, where the operand
        // values are known; on items a mistyped operand only makes its comparison false.
        Ok(self.root.eval(item))
    }
}

/// A parsed update: the actions of `SET`, `REMOVE`, `ADD` and `DELETE` clauses.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    actions: Vec<Action>,
}

impl Update {
    /// Parses an update expression.
    pub fn parse(text: &str, substitutions: &mut Substitutions) -> Result<Update, DynamoError> {
        let mut parser = Parser::new(text, ExpressionKind::Update, substitutions)?;
        Ok(Update { actions: update::parse(&mut parser)? })
    }

    /// An update of the given actions (the legacy `AttributeUpdates` build these).
    pub fn from_actions(actions: Vec<Action>) -> Update {
        Update { actions }
    }

    /// The actions.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// Applies the update to `item` (an item holding only the key when none existed),
    /// with DynamoDB's errors for operands of the wrong type and results over the limits.
    pub fn apply(&self, item: &mut Item) -> Result<(), DynamoError> {
        update::apply(&self.actions, item)
    }

    /// The top-level attribute names the update writes or removes (for DynamoDB's
    /// "Cannot update attribute X. This attribute is part of the key" check).
    pub fn top_level_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.actions.iter().map(|action| action.target().top()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The parts of `item` the update touched, as `ReturnValues: UPDATED_OLD` (on the
    /// item before) and `UPDATED_NEW` (on the item after) return them.
    pub fn updated_parts(&self, item: &Item) -> Item {
        let mut selection = Selection::default();
        for action in &self.actions {
            selection.add(action.target(), item);
        }
        selection.into_item()
    }
}

/// A parsed projection: the document paths to return.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    paths: Vec<Path>,
}

impl Projection {
    /// Parses a projection expression.
    pub fn parse(text: &str, substitutions: &mut Substitutions) -> Result<Projection, DynamoError> {
        let mut parser = Parser::new(text, ExpressionKind::Projection, substitutions)?;
        let paths = parser.projection()?;
        if let Some(message) = first_clash(&paths.iter().collect::<Vec<_>>()) {
            return Err(parser.invalid(message));
        }
        Ok(Projection { paths })
    }

    /// A projection of the given paths (the legacy `AttributesToGet` build these).
    pub fn from_paths(paths: Vec<Path>) -> Projection {
        Projection { paths }
    }

    /// The paths.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// The parts of `item` the projection names (missing paths are left out).
    pub fn apply(&self, item: &Item) -> Item {
        let mut selection = Selection::default();
        for path in &self.paths {
            selection.add(path, item);
        }
        selection.into_item()
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
    let node = Parser::new(text, ExpressionKind::KeyCondition, substitutions)?.condition()?;
    key_condition::lower(node, schema)
}
