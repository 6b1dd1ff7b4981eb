//! The condition tree (condition and filter expressions, legacy `Expected`/`ScanFilter`)
//! and its evaluation on an item, per AWS's "Comparison operator and function reference":
//! comparisons hold only between values of one type, sets compare as sets, and a missing
//! attribute makes every comparison but `<>` false.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::expr::path::Path;
use crate::value::{AttrValue, Item, Number};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    /// The operator as expressions write it.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }

    /// The operator with its operands swapped (`:v < a` is `a > :v`).
    pub fn mirrored(self) -> Comparator {
        match self {
            Comparator::Lt => Comparator::Gt,
            Comparator::Le => Comparator::Ge,
            Comparator::Gt => Comparator::Lt,
            Comparator::Ge => Comparator::Le,
            other => other,
        }
    }
}

/// What a comparison or function reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(AttrValue),
    /// `size(path)`.
    Size(Path),
}

/// A node of a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Compare(Comparator, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Exists(Path),
    NotExists(Path),
    /// `attribute_type(path, :t)` with the type's wire name.
    AttributeType(Path, String),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    /// Always holds: an empty legacy `Expected` or `ScanFilter`.
    True,
}

impl Node {
    /// Whether the node holds for `item`.
    pub(crate) fn eval(&self, item: &Item) -> bool {
        match self {
            Node::Compare(comparator, left, right) => compare(*comparator, read(left, item), read(right, item)),
            Node::Between(value, low, high) => {
                let value = read(value, item);
                compare(Comparator::Ge, value.clone(), read(low, item))
                    && compare(Comparator::Le, value, read(high, item))
            }
            Node::In(value, candidates) => {
                let value = read(value, item);
                candidates.iter().any(|candidate| compare(Comparator::Eq, value.clone(), read(candidate, item)))
            }
            Node::And(left, right) => left.eval(item) && right.eval(item),
            Node::Or(left, right) => left.eval(item) || right.eval(item),
            Node::Not(inner) => !inner.eval(item),
            Node::Exists(path) => path.get(item).is_some(),
            Node::NotExists(path) => path.get(item).is_none(),
            Node::AttributeType(path, type_name) => {
                path.get(item).is_some_and(|value| value.attr_type().wire_name() == type_name)
            }
            Node::BeginsWith(value, prefix) => match (read(value, item).as_deref(), read(prefix, item).as_deref()) {
                (Some(AttrValue::S(text)), Some(AttrValue::S(prefix))) => text.starts_with(prefix.as_str()),
                (Some(AttrValue::B(bytes)), Some(AttrValue::B(prefix))) => bytes.starts_with(prefix),
                _ => false,
            },
            Node::True => true,
            Node::Contains(haystack, needle) => {
                match (read(haystack, item).as_deref(), read(needle, item).as_deref()) {
                    (Some(haystack), Some(needle)) => contains(haystack, needle),
                    _ => false,
                }
            }
        }
    }

    /// Calls `visit` with every path the node reads.
    pub(crate) fn visit_paths<'a>(&'a self, visit: &mut impl FnMut(&'a Path)) {
        let operand = |operand: &'a Operand, visit: &mut dyn FnMut(&'a Path)| match operand {
            Operand::Path(path) | Operand::Size(path) => visit(path),
            Operand::Value(_) => {}
        };
        match self {
            Node::Compare(_, left, right) | Node::BeginsWith(left, right) | Node::Contains(left, right) => {
                operand(left, visit);
                operand(right, visit);
            }
            Node::Between(value, low, high) => {
                for each in [value, low, high] {
                    operand(each, visit);
                }
            }
            Node::In(value, candidates) => {
                operand(value, visit);
                for candidate in candidates {
                    operand(candidate, visit);
                }
            }
            Node::And(left, right) | Node::Or(left, right) => {
                left.visit_paths(visit);
                right.visit_paths(visit);
            }
            Node::Not(inner) => inner.visit_paths(visit),
            Node::True => {}
            Node::Exists(path) | Node::NotExists(path) | Node::AttributeType(path, _) => visit(path),
        }
    }
}

/// The value an operand reads from `item`, if any.
fn read<'a>(operand: &'a Operand, item: &'a Item) -> Option<Cow<'a, AttrValue>> {
    match operand {
        Operand::Path(path) => path.get(item).map(Cow::Borrowed),
        Operand::Value(value) => Some(Cow::Borrowed(value)),
        Operand::Size(path) => size_of(path.get(item)?).map(|size| Cow::Owned(AttrValue::N(Number::from_u64(size)))),
    }
}

/// AWS: `size` is "an attribute's size in bytes" for strings (UTF-8) and binaries, and
/// the members of a set, list or map; other types have no size (the comparison is false).
fn size_of(value: &AttrValue) -> Option<u64> {
    let size = match value {
        AttrValue::S(text) => text.len(),
        AttrValue::B(bytes) => bytes.len(),
        AttrValue::Ss(members) => members.len(),
        AttrValue::Ns(members) => members.len(),
        AttrValue::Bs(members) => members.len(),
        AttrValue::M(map) => map.len(),
        AttrValue::L(list) => list.len(),
        AttrValue::N(_) | AttrValue::Bool(_) | AttrValue::Null => return None,
    };
    Some(size as u64)
}

fn compare(comparator: Comparator, left: Option<Cow<'_, AttrValue>>, right: Option<Cow<'_, AttrValue>>) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return comparator == Comparator::Ne;
    };
    match comparator {
        Comparator::Eq => values_equal(&left, &right),
        Comparator::Ne => !values_equal(&left, &right),
        ordered => match order(&left, &right) {
            Some(ordering) => match ordered {
                Comparator::Lt => ordering == Ordering::Less,
                Comparator::Le => ordering != Ordering::Greater,
                Comparator::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            },
            None => false,
        },
    }
}

/// The order of two scalars of one ordered type (N numerically, S and B by bytes).
pub(crate) fn order(left: &AttrValue, right: &AttrValue) -> Option<Ordering> {
    match (left, right) {
        (AttrValue::N(a), AttrValue::N(b)) => Some(a.cmp(b)),
        (AttrValue::S(a), AttrValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttrValue::B(a), AttrValue::B(b)) => Some(a.as_ref().cmp(b.as_ref())),
        _ => None,
    }
}

/// Equality as DynamoDB compares values: sets as sets (order aside), maps and lists
/// member by member.
pub fn values_equal(left: &AttrValue, right: &AttrValue) -> bool {
    match (left, right) {
        (AttrValue::Ss(a), AttrValue::Ss(b)) => same_members(a, b),
        (AttrValue::Ns(a), AttrValue::Ns(b)) => same_members(a, b),
        (AttrValue::Bs(a), AttrValue::Bs(b)) => same_members(a, b),
        (AttrValue::M(a), AttrValue::M(b)) => {
            a.len() == b.len()
                && a.iter().all(|(name, value)| b.get(name).is_some_and(|other| values_equal(value, other)))
        }
        (AttrValue::L(a), AttrValue::L(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_equal(x, y)),
        _ => left == right,
    }
}

/// Sets have no duplicates, so equal lengths and inclusion make equal sets. Hashed, so two
/// large sets cost linear time (this runs in the store's writer for conditional writes).
fn same_members<T: Eq + std::hash::Hash>(a: &[T], b: &[T]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let members: std::collections::HashSet<&T> = b.iter().collect();
    a.iter().all(|member| members.contains(member))
}

/// `contains`: a substring of a string, a member of a set of the needle's type, an
/// element of a list.
fn contains(haystack: &AttrValue, needle: &AttrValue) -> bool {
    match (haystack, needle) {
        (AttrValue::S(text), AttrValue::S(part)) => text.contains(part.as_str()),
        (AttrValue::Ss(members), AttrValue::S(member)) => members.contains(member),
        (AttrValue::Ns(members), AttrValue::N(member)) => members.contains(member),
        (AttrValue::Bs(members), AttrValue::B(member)) => members.contains(member),
        (AttrValue::L(list), needle) => list.iter().any(|element| values_equal(element, needle)),
        _ => false,
    }
}
