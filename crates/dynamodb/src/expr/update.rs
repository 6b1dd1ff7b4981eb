//! Update expressions (AWS: "Update expressions"): the grammar, and the application of
//! the actions to an item.
//!
//! ```text
//! update    := clause+            (each of SET, REMOVE, ADD, DELETE at most once)
//! clause    := "SET" set ("," set)* | "REMOVE" path ("," path)*
//!            | "ADD" path ":value" ("," …)* | "DELETE" path ":value" ("," …)*
//! set       := path "=" term (("+" | "-") term)?
//! term      := path | ":value" | "if_not_exists" "(" path "," term ")"
//!            | "list_append" "(" term "," term ")"
//! ```
//!
//! DynamoDB evaluates every SET's right-hand side on the item as it was before the
//! update, then applies SET, REMOVE, ADD and DELETE; no two actions may touch overlapping
//! paths, so the order among them does not change the result.

use std::collections::HashSet;
use std::hash::Hash;

use crate::error::DynamoError;
use crate::expr::lexer::TokenKind;
use crate::expr::parser::Parser;
use crate::expr::path::{first_clash, Path};
use crate::limits::ATTRIBUTE_DEPTH_MAX;
use crate::value::{AttrValue, Item, NESTING_TOO_DEEP};

/// DynamoDB's text for a SET operand that names a missing attribute.
const MISSING_OPERAND: &str = "The provided expression refers to an attribute that does not exist in the item";
/// DynamoDB's text for operands of the wrong type at update time.
pub(crate) const WRONG_OPERAND_TYPE: &str = "An operand in the update expression has an incorrect data type";

/// A SET action's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Path(Path),
    Value(AttrValue),
    IfNotExists(Path, Box<Term>),
    ListAppend(Box<Term>, Box<Term>),
    Plus(Box<Term>, Box<Term>),
    Minus(Box<Term>, Box<Term>),
}

/// One action of an update.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Set(Path, Term),
    Remove(Path),
    /// ADD: a number to add, or set members to add.
    Add(Path, AttrValue),
    /// DELETE: set members to remove.
    Delete(Path, AttrValue),
}

impl Action {
    /// The path the action writes or removes.
    pub fn target(&self) -> &Path {
        match self {
            Action::Set(path, _) | Action::Remove(path) | Action::Add(path, _) | Action::Delete(path, _) => path,
        }
    }
}

/// The clause keywords, as DynamoDB names them in its messages.
const CLAUSES: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

/// Parses a whole update expression.
pub(crate) fn parse(parser: &mut Parser<'_>) -> Result<Vec<Action>, DynamoError> {
    let mut seen = [false; 4];
    let mut actions = Vec::new();
    while *parser.peek() != TokenKind::End {
        let Some(clause) = CLAUSES.iter().position(|keyword| parser.eat_keyword(keyword)) else {
            return Err(parser.syntax_error());
        };
        if std::mem::replace(&mut seen[clause], true) {
            return Err(parser.invalid(format!(
                "The \"{}\" section can only be used once in an update expression;",
                CLAUSES[clause]
            )));
        }
        loop {
            actions.push(match clause {
                0 => set_action(parser)?,
                1 => Action::Remove(parser.path()?),
                _ => set_member_action(parser, clause == 2)?,
            });
            if !parser.eat(&TokenKind::Comma) {
                break;
            }
        }
    }
    let targets: Vec<&Path> = actions.iter().map(Action::target).collect();
    if let Some(message) = first_clash(&targets) {
        return Err(parser.invalid(message));
    }
    Ok(actions)
}

fn set_action(parser: &mut Parser<'_>) -> Result<Action, DynamoError> {
    let path = parser.path()?;
    parser.expect(&TokenKind::Equal)?;
    let left = term(parser)?;
    let combine: fn(Box<Term>, Box<Term>) -> Term = match parser.peek() {
        TokenKind::Plus => Term::Plus,
        TokenKind::Minus => Term::Minus,
        _ => return Ok(Action::Set(path, left)),
    };
    let operator = if *parser.peek() == TokenKind::Plus { "+" } else { "-" };
    parser.advance();
    let right = term(parser)?;
    for operand in [&left, &right] {
        if let Term::Value(value) = operand {
            if !matches!(value, AttrValue::N(_)) {
                return Err(parser.wrong_operand_type(operator, value));
            }
        }
    }
    Ok(Action::Set(path, combine(Box::new(left), Box::new(right))))
}

fn term(parser: &mut Parser<'_>) -> Result<Term, DynamoError> {
    if let Some(function) = parser.at_function() {
        if function != "if_not_exists" && function != "list_append" {
            return Err(parser.misplaced_function(&function));
        }
        parser.advance();
        parser.expect(&TokenKind::LeftParen)?;
        parser.enter()?;
        let first = term(parser)?;
        let mut count = 1;
        let mut second = None;
        while parser.eat(&TokenKind::Comma) {
            count += 1;
            second = Some(term(parser)?);
        }
        parser.expect(&TokenKind::RightParen)?;
        parser.leave();
        let (2, Some(second)) = (count, second) else {
            return Err(parser.wrong_operand_count(&function, count));
        };
        if function == "if_not_exists" {
            let Term::Path(path) = first else {
                return Err(parser.needs_path(&function));
            };
            return Ok(Term::IfNotExists(path, Box::new(second)));
        }
        for operand in [&first, &second] {
            if let Term::Value(value) = operand {
                if !matches!(value, AttrValue::L(_)) {
                    return Err(parser.wrong_operand_type(&function, value));
                }
            }
        }
        return Ok(Term::ListAppend(Box::new(first), Box::new(second)));
    }
    if let TokenKind::ValuePlaceholder(placeholder) = parser.peek().clone() {
        let value = parser.value(&placeholder)?;
        parser.advance();
        return Ok(Term::Value(value));
    }
    Ok(Term::Path(parser.path()?))
}

/// `ADD path :value` or `DELETE path :value`.
fn set_member_action(parser: &mut Parser<'_>, add: bool) -> Result<Action, DynamoError> {
    let path = parser.path()?;
    let TokenKind::ValuePlaceholder(placeholder) = parser.peek().clone() else {
        return Err(parser.syntax_error());
    };
    let value = parser.value(&placeholder)?;
    parser.advance();
    let allowed = match value {
        AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_) => true,
        AttrValue::N(_) => add,
        _ => false,
    };
    if !allowed {
        return Err(parser.invalid(format!(
            "Incorrect operand type for operator or function; operator: {}, operand type: {}",
            if add { "ADD" } else { "DELETE" },
            long_type_name(&value)
        )));
    }
    Ok(if add { Action::Add(path, value) } else { Action::Delete(path, value) })
}

/// The type names DynamoDB uses in ADD and DELETE operand errors.
fn long_type_name(value: &AttrValue) -> &'static str {
    match value {
        AttrValue::S(_) => "STRING",
        AttrValue::N(_) => "NUMBER",
        AttrValue::B(_) => "BINARY",
        AttrValue::Bool(_) => "BOOLEAN",
        AttrValue::Null => "NULL",
        AttrValue::M(_) => "MAP",
        AttrValue::L(_) => "LIST",
        AttrValue::Ss(_) => "STRING SET",
        AttrValue::Ns(_) => "NUMBER SET",
        AttrValue::Bs(_) => "BINARY SET",
    }
}

/// Applies `actions` to `item`: all SET values are read from the item as it was, then
/// SETs, REMOVEs (later list elements first, so indexes mean the original elements),
/// ADDs and DELETEs are applied.
pub(crate) fn apply(actions: &[Action], item: &mut Item) -> Result<(), DynamoError> {
    let mut sets = Vec::new();
    for action in actions {
        if let Action::Set(path, value) = action {
            sets.push((path, evaluate(value, item)?));
        }
    }
    for (path, value) in sets {
        path.set(item, value)?;
    }
    let mut removals: Vec<&Path> = actions
        .iter()
        .filter_map(|action| match action {
            Action::Remove(path) => Some(path),
            _ => None,
        })
        .collect();
    removals.sort_by(|a, b| b.cmp(a));
    for path in removals {
        path.remove(item)?;
    }
    for action in actions {
        match action {
            Action::Add(path, value) => add(path, value, item)?,
            Action::Delete(path, value) => delete(path, value, item)?,
            _ => {}
        }
    }
    // SET can place a deep value under a deep path; the result must stay within the
    // nesting DynamoDB stores.
    let too_deep = actions
        .iter()
        .filter_map(|action| item.get(action.target().top()))
        .any(|value| value.nesting_depth() > ATTRIBUTE_DEPTH_MAX);
    if too_deep {
        return Err(DynamoError::Validation(NESTING_TOO_DEEP.into()));
    }
    Ok(())
}

fn evaluate(term: &Term, item: &Item) -> Result<AttrValue, DynamoError> {
    let wrong_type = || DynamoError::Validation(WRONG_OPERAND_TYPE.into());
    Ok(match term {
        Term::Path(path) => path.get(item).cloned().ok_or_else(|| DynamoError::Validation(MISSING_OPERAND.into()))?,
        Term::Value(value) => value.clone(),
        Term::IfNotExists(path, fallback) => match path.get(item) {
            Some(value) => value.clone(),
            None => evaluate(fallback, item)?,
        },
        Term::ListAppend(first, second) => match (evaluate(first, item)?, evaluate(second, item)?) {
            (AttrValue::L(mut first), AttrValue::L(second)) => {
                first.extend(second);
                AttrValue::L(first)
            }
            _ => return Err(wrong_type()),
        },
        Term::Plus(left, right) | Term::Minus(left, right) => match (evaluate(left, item)?, evaluate(right, item)?) {
            (AttrValue::N(left), AttrValue::N(right)) => AttrValue::N(if matches!(term, Term::Plus(..)) {
                left.checked_add(&right)?
            } else {
                left.checked_sub(&right)?
            }),
            _ => return Err(wrong_type()),
        },
    })
}

/// ADD: creates a missing attribute, adds to a number, adds members to a set of the
/// same type (AWS: "ADD … Use the ADD action … to add a new attribute and its values").
pub(crate) fn add(path: &Path, value: &AttrValue, item: &mut Item) -> Result<(), DynamoError> {
    let merged = match (path.get(item), value) {
        (None, _) => value.clone(),
        (Some(AttrValue::N(current)), AttrValue::N(addend)) => AttrValue::N(current.checked_add(addend)?),
        (Some(AttrValue::Ss(current)), AttrValue::Ss(members)) => AttrValue::Ss(union(current, members)),
        (Some(AttrValue::Ns(current)), AttrValue::Ns(members)) => AttrValue::Ns(union(current, members)),
        (Some(AttrValue::Bs(current)), AttrValue::Bs(members)) => AttrValue::Bs(union(current, members)),
        _ => return Err(DynamoError::Validation(WRONG_OPERAND_TYPE.into())),
    };
    path.set(item, merged)
}

/// DELETE: removes members from a set of the same type; a set left empty is removed
/// (sets may not be empty), a missing attribute is no change.
pub(crate) fn delete(path: &Path, value: &AttrValue, item: &mut Item) -> Result<(), DynamoError> {
    let remaining = match (path.get(item), value) {
        (None, _) => return Ok(()),
        (Some(AttrValue::Ss(current)), AttrValue::Ss(members)) => difference(current, members).map(AttrValue::Ss),
        (Some(AttrValue::Ns(current)), AttrValue::Ns(members)) => difference(current, members).map(AttrValue::Ns),
        (Some(AttrValue::Bs(current)), AttrValue::Bs(members)) => difference(current, members).map(AttrValue::Bs),
        _ => return Err(DynamoError::Validation(WRONG_OPERAND_TYPE.into())),
    };
    match remaining {
        Some(set) => path.set(item, set),
        None => path.remove(item),
    }
}

/// `current` followed by the members it lacks, in their order (hashing keeps large sets
/// linear).
fn union<T: Clone + Eq + Hash>(current: &[T], members: &[T]) -> Vec<T> {
    let mut seen: HashSet<&T> = current.iter().collect();
    let mut merged = current.to_vec();
    for member in members {
        if seen.insert(member) {
            merged.push(member.clone());
        }
    }
    merged
}

/// The members of `current` not in `members`; `None` when none remain.
fn difference<T: Clone + Eq + Hash>(current: &[T], members: &[T]) -> Option<Vec<T>> {
    let removed: HashSet<&T> = members.iter().collect();
    let remaining: Vec<T> = current.iter().filter(|member| !removed.contains(member)).cloned().collect();
    (!remaining.is_empty()).then_some(remaining)
}
