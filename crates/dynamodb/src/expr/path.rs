//! Document paths (`a.b[3].c`, names already resolved from `#placeholders`) and how they
//! read, write, remove and project parts of an item.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::DynamoError;
use crate::value::{AttrValue, Item};

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// A map key (or, first, a top-level attribute name).
    Name(String),
    /// A list index.
    Index(usize),
}

/// A document path: a top-level attribute name followed by map keys and list indexes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path {
    top: String,
    rest: Vec<PathElement>,
}

/// DynamoDB's text when an update's path runs through a missing or mistyped part.
pub(crate) const INVALID_UPDATE_PATH: &str =
    "The document path provided in the update expression is invalid for update";

impl Path {
    /// A path to a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> Path {
        Path { top: name.into(), rest: Vec::new() }
    }

    /// The path extended by one step.
    pub fn child(mut self, element: PathElement) -> Path {
        self.rest.push(element);
        self
    }

    /// The top-level attribute the path starts at.
    pub fn top(&self) -> &str {
        &self.top
    }

    /// The steps after the top-level attribute.
    pub fn rest(&self) -> &[PathElement] {
        &self.rest
    }

    /// Steps in all, the top-level name included.
    pub fn depth(&self) -> usize {
        1 + self.rest.len()
    }

    fn elements(&self) -> impl Iterator<Item = PathElement> + '_ {
        std::iter::once(PathElement::Name(self.top.clone())).chain(self.rest.iter().cloned())
    }

    /// The value at the path, if every step exists with the right type.
    pub fn get<'a>(&self, item: &'a Item) -> Option<&'a AttrValue> {
        let mut value = item.get(&self.top)?;
        for element in &self.rest {
            value = step(value, element)?;
        }
        Some(value)
    }

    /// Writes `value` at the path: the parent must exist; an index past a list's end
    /// appends.
    pub(crate) fn set(&self, item: &mut Item, value: AttrValue) -> Result<(), DynamoError> {
        let Some((last, parents)) = self.rest.split_last() else {
            item.insert(self.top.clone(), value);
            return Ok(());
        };
        let parent = parent_mut(item, &self.top, parents).ok_or_else(invalid_update_path)?;
        match (parent, last) {
            (AttrValue::M(map), PathElement::Name(name)) => {
                map.insert(name.clone(), value);
            }
            (AttrValue::L(list), PathElement::Index(index)) => match list.get_mut(*index) {
                Some(slot) => *slot = value,
                None => list.push(value),
            },
            _ => return Err(invalid_update_path()),
        }
        Ok(())
    }

    /// Removes the value at the path; a missing value is no change, a parent of another
    /// type is DynamoDB's invalid-path error.
    pub(crate) fn remove(&self, item: &mut Item) -> Result<(), DynamoError> {
        let Some((last, parents)) = self.rest.split_last() else {
            item.remove(&self.top);
            return Ok(());
        };
        let Some(parent) = parent_mut(item, &self.top, parents) else {
            return Ok(());
        };
        match (parent, last) {
            (AttrValue::M(map), PathElement::Name(name)) => {
                map.remove(name);
            }
            (AttrValue::L(list), PathElement::Index(index)) => {
                if *index < list.len() {
                    list.remove(*index);
                }
            }
            _ => return Err(invalid_update_path()),
        }
        Ok(())
    }

    /// How two paths relate, for DynamoDB's refusal of overlapping or conflicting paths in
    /// one update or projection.
    pub(crate) fn clash(&self, other: &Path) -> Option<Clash> {
        for (mine, theirs) in self.elements().zip(other.elements()) {
            match (&mine, &theirs) {
                (PathElement::Name(a), PathElement::Name(b)) if a != b => return None,
                (PathElement::Index(a), PathElement::Index(b)) if a != b => return None,
                (PathElement::Name(_), PathElement::Index(_)) | (PathElement::Index(_), PathElement::Name(_)) => {
                    return Some(Clash::Conflict)
                }
                _ => {}
            }
        }
        Some(Clash::Overlap)
    }
}

/// Two paths of one expression that DynamoDB refuses together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clash {
    /// One path is a prefix of (or equal to) the other.
    Overlap,
    /// The paths treat one value as a map and as a list.
    Conflict,
}

impl Clash {
    /// DynamoDB's text for the clash of `first` and `second`.
    pub(crate) fn message(self, first: &Path, second: &Path) -> String {
        let verb = match self {
            Clash::Overlap => "overlap with each other",
            Clash::Conflict => "conflict with each other",
        };
        format!("Two document paths {verb}; must remove or rewrite one of these paths; path one: {first}, path two: {second}")
    }
}

/// The first pair of clashing paths among `paths`, in DynamoDB's text.
pub(crate) fn first_clash(paths: &[&Path]) -> Option<String> {
    for (index, first) in paths.iter().enumerate() {
        for second in &paths[index + 1..] {
            if let Some(clash) = first.clash(second) {
                return Some(clash.message(first, second));
            }
        }
    }
    None
}

/// DynamoDB's form in its messages: `[a, b, [3]]`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}", self.top)?;
        for element in &self.rest {
            match element {
                PathElement::Name(name) => write!(f, ", {name}")?,
                PathElement::Index(index) => write!(f, ", [{index}]")?,
            }
        }
        f.write_str("]")
    }
}

fn invalid_update_path() -> DynamoError {
    DynamoError::Validation(INVALID_UPDATE_PATH.into())
}

fn step<'a>(value: &'a AttrValue, element: &PathElement) -> Option<&'a AttrValue> {
    match (value, element) {
        (AttrValue::M(map), PathElement::Name(name)) => map.get(name),
        (AttrValue::L(list), PathElement::Index(index)) => list.get(*index),
        _ => None,
    }
}

fn parent_mut<'a>(item: &'a mut Item, top: &str, steps: &[PathElement]) -> Option<&'a mut AttrValue> {
    let mut value = item.get_mut(top)?;
    for element in steps {
        value = match (value, element) {
            (AttrValue::M(map), PathElement::Name(name)) => map.get_mut(name)?,
            (AttrValue::L(list), PathElement::Index(index)) => list.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(value)
}

/// The parts of an item that some paths select, built up path by path: selected list
/// elements keep their order and close up (`a[3]` alone gives a one-element list).
#[derive(Debug, Default)]
pub(crate) struct Selection {
    top: BTreeMap<String, Selected>,
}

#[derive(Debug)]
enum Selected {
    Whole(AttrValue),
    Map(BTreeMap<String, Selected>),
    List(BTreeMap<usize, Selected>),
}

impl Selection {
    /// Adds the value at `path` in `item`, if there is one.
    pub(crate) fn add(&mut self, path: &Path, item: &Item) {
        let Some(value) = path.get(item) else {
            return;
        };
        let Some((last, steps)) = path.rest.split_last() else {
            self.top.insert(path.top.clone(), Selected::Whole(value.clone()));
            return;
        };
        let mut node = self.top.entry(path.top.clone()).or_insert_with(|| container_for(steps.first().unwrap_or(last)));
        for (index, element) in steps.iter().enumerate() {
            let next = steps.get(index + 1).unwrap_or(last);
            node = match (node, element) {
                (Selected::Map(map), PathElement::Name(name)) => {
                    map.entry(name.clone()).or_insert_with(|| container_for(next))
                }
                (Selected::List(list), PathElement::Index(at)) => {
                    list.entry(*at).or_insert_with(|| container_for(next))
                }
                // The item has one shape, and clashing paths were refused when parsed.
                _ => return,
            };
        }
        match (node, last) {
            (Selected::Map(map), PathElement::Name(name)) => {
                map.insert(name.clone(), Selected::Whole(value.clone()));
            }
            (Selected::List(list), PathElement::Index(at)) => {
                list.insert(*at, Selected::Whole(value.clone()));
            }
            _ => {}
        }
    }

    /// The selected parts as an item.
    pub(crate) fn into_item(self) -> Item {
        self.top.into_iter().map(|(name, selected)| (name, selected.into_value())).collect()
    }
}

fn container_for(element: &PathElement) -> Selected {
    match element {
        PathElement::Name(_) => Selected::Map(BTreeMap::new()),
        PathElement::Index(_) => Selected::List(BTreeMap::new()),
    }
}

impl Selected {
    fn into_value(self) -> AttrValue {
        match self {
            Selected::Whole(value) => value,
            Selected::Map(map) => AttrValue::M(map.into_iter().map(|(name, part)| (name, part.into_value())).collect()),
            Selected::List(list) => AttrValue::L(list.into_values().map(Selected::into_value).collect()),
        }
    }
}
