//! The JSON extractor: one pass over a record with `serde_json`'s streaming deserializer,
//! guided by a trie of the columns' JSONPaths. Only members on a mapped path are looked
//! at; everything else is skipped with `IgnoredAny` (no DOM, no allocation), and strings
//! without escapes become slices of the record (`Bytes::slice_ref`), not copies.
//!
//! A path may end where the document holds an object or array: the column then gets the
//! value's compact JSON text (what the guide's `$.orders[0:]` example shows). When the
//! same node is also the parent of other mapped paths, its text is written first and then
//! parsed again for those paths; schemas rarely do this, so the fast path does not pay.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::coerce::{coerce, CoerceError, Raw};
use super::jsonpath::{JsonPath, Step};
use super::{MappingConfigError, FLATTENED_ROWS_PER_RECORD_MAX};
use crate::config::RecordColumn;
use crate::value::{SqlType, Value};

type NodeId = usize;
const ROOT: NodeId = 0;

/// A column's value, or why it does not fit.
pub(crate) type Slot = Result<Value, CoerceError>;

#[derive(Debug, Clone, Copy)]
struct Target {
    column: usize,
    /// The path ended in `[0:]`: the value counts only when it is an array.
    whole_array: bool,
}

#[derive(Debug, Default)]
struct Node {
    members: Vec<(Box<str>, NodeId)>,
    indexes: Vec<(usize, NodeId)>,
    /// `[0:]` followed by more steps: each element is a row.
    every: Option<NodeId>,
    targets: Vec<Target>,
}

impl Node {
    fn has_children(&self) -> bool {
        !self.members.is_empty() || !self.indexes.is_empty() || self.every.is_some()
    }
}

/// The compiled mappings of a JSON input.
#[derive(Debug)]
pub(crate) struct JsonShape {
    nodes: Vec<Node>,
    types: Vec<SqlType>,
    /// Whether each column's path goes through the flattened array.
    flattened: Vec<bool>,
}

/// What one record yielded, reused from record to record.
#[derive(Debug, Default)]
pub(crate) struct Extraction {
    /// One slot per column (flattened columns unused).
    pub base: Vec<Slot>,
    /// `element_count` rows of one slot per column (only flattened columns used).
    pub elements: Vec<Slot>,
    pub element_count: usize,
    /// The flattened array had more elements than [`FLATTENED_ROWS_PER_RECORD_MAX`].
    pub too_many_elements: bool,
}

impl Extraction {
    fn reset(&mut self, columns: usize) {
        self.base.clear();
        self.base.resize_with(columns, || Ok(Value::Null));
        self.elements.clear();
        self.element_count = 0;
        self.too_many_elements = false;
    }
}

impl JsonShape {
    /// Compiles the column mappings; a mapping that does not start with the row path is
    /// read relative to it (so `$.x` under row path `$.items[0:]` is `$.items[0:].x`).
    pub(crate) fn new(row_path: &str, columns: &[RecordColumn]) -> Result<Self, MappingConfigError> {
        let row_steps = JsonPath::parse(row_path)?.steps;
        let mut shape = JsonShape {
            nodes: vec![Node::default()],
            types: columns.iter().map(|column| column.sql_type).collect(),
            flattened: vec![false; columns.len()],
        };
        let mut flattened_array: Option<Vec<Step>> = None;
        for (index, column) in columns.iter().enumerate() {
            let mapping = column.mapping.as_deref().ok_or_else(|| {
                MappingConfigError(format!("column {:?} of a JSON input has no mapping", column.name))
            })?;
            let mut steps = JsonPath::parse(mapping)?.steps;
            if !steps.starts_with(&row_steps) {
                steps.splice(0..0, row_steps.iter().cloned());
            }
            let every_positions: Vec<usize> = steps
                .iter()
                .enumerate()
                .filter(|(at, step)| **step == Step::Every && at + 1 < steps.len())
                .map(|(at, _)| at)
                .collect();
            if every_positions.len() > 1 {
                return Err(MappingConfigError(format!(
                    "mapping {mapping:?}: only one level of [0:] may be followed by more steps"
                )));
            }
            if let Some(&at) = every_positions.first() {
                let array = steps[..at].to_vec();
                match &flattened_array {
                    Some(existing) if *existing != array => {
                        return Err(MappingConfigError(format!(
                            "mapping {mapping:?}: only one array may be flattened into rows per schema"
                        )))
                    }
                    _ => flattened_array = Some(array),
                }
                shape.flattened[index] = true;
            }
            shape.insert(&steps, index, mapping)?;
        }
        Ok(shape)
    }

    fn insert(&mut self, steps: &[Step], column: usize, mapping: &str) -> Result<(), MappingConfigError> {
        let mut node = ROOT;
        let mut whole_array = false;
        for (at, step) in steps.iter().enumerate() {
            let next = self.nodes.len();
            let current = &mut self.nodes[node];
            node = match step {
                Step::Every if at + 1 == steps.len() => {
                    whole_array = true;
                    break;
                }
                Step::Every => *current.every.get_or_insert(next),
                Step::Index(index) => match current.indexes.iter().find(|(i, _)| i == index) {
                    Some(&(_, child)) => child,
                    None => {
                        current.indexes.push((*index, next));
                        next
                    }
                },
                Step::Member(name) => match current.members.iter().find(|(n, _)| **n == **name) {
                    Some(&(_, child)) => child,
                    None => {
                        current.members.push((name.as_str().into(), next));
                        next
                    }
                },
            };
            if current.every.is_some() && !current.indexes.is_empty() {
                return Err(MappingConfigError(format!(
                    "mapping {mapping:?}: an array cannot be both flattened with [0:] and indexed"
                )));
            }
            if node == next {
                self.nodes.push(Node::default());
            }
        }
        self.nodes[node].targets.push(Target { column, whole_array });
        Ok(())
    }

    pub(crate) fn has_flattened_columns(&self) -> bool {
        self.flattened.iter().any(|&flattened| flattened)
    }

    pub(crate) fn is_flattened(&self, column: usize) -> bool {
        self.flattened[column]
    }

    /// Walks one record (a single JSON document) into `out`.
    pub(crate) fn extract(&self, record: &Bytes, out: &mut Extraction) -> Result<(), serde_json::Error> {
        out.reset(self.types.len());
        let mut walk = Walk { shape: self, source: record, out };
        let mut deserializer = serde_json::Deserializer::from_slice(record);
        NodeSeed { walk: &mut walk, node: ROOT, children_only: false }.deserialize(&mut deserializer)?;
        deserializer.end()
    }
}

struct Walk<'a> {
    shape: &'a JsonShape,
    /// The text being walked: the record, or the JSON text of a node parsed again.
    source: &'a Bytes,
    out: &'a mut Extraction,
}

impl Walk<'_> {
    fn assign(&mut self, node: NodeId, raw: Raw<'_>, is_array: bool) {
        let shape = self.shape;
        let columns = shape.types.len();
        for target in &shape.nodes[node].targets {
            let value = if target.whole_array && !is_array {
                Ok(Value::Null)
            } else {
                coerce(raw, shape.types[target.column], self.source)
            };
            if !shape.flattened[target.column] {
                self.out.base[target.column] = value;
            } else if let Some(row) = self.out.element_count.checked_sub(1) {
                self.out.elements[row * columns + target.column] = value;
            }
        }
    }

    fn begin_element(&mut self) -> bool {
        if self.out.element_count >= FLATTENED_ROWS_PER_RECORD_MAX {
            self.out.too_many_elements = true;
            return false;
        }
        let columns = self.shape.types.len();
        self.out.elements.resize_with(self.out.elements.len() + columns, || Ok(Value::Null));
        self.out.element_count += 1;
        true
    }

    /// Walks `text` (the JSON of `node`) again, for the paths below `node`.
    fn walk_children_of_text<E: de::Error>(&mut self, node: NodeId, text: Vec<u8>) -> Result<(), E> {
        let text = Bytes::from(text);
        let mut inner = Walk { shape: self.shape, source: &text, out: &mut *self.out };
        let mut deserializer = serde_json::Deserializer::from_slice(&text);
        let walked = NodeSeed { walk: &mut inner, node, children_only: true }.deserialize(&mut deserializer);
        walked.map_err(E::custom)
    }
}

struct NodeSeed<'w, 'a> {
    walk: &'w mut Walk<'a>,
    node: NodeId,
    /// The node's own targets are already assigned (its text is being walked again).
    children_only: bool,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl NodeSeed<'_, '_> {
    fn scalar(self, raw: Raw<'_>) {
        if !self.children_only {
            self.walk.assign(self.node, raw, false);
        }
    }

    /// Whether this visit must produce the node's JSON text.
    fn wants_text(&self) -> bool {
        !self.children_only && !self.walk.shape.nodes[self.node].targets.is_empty()
    }

    fn assign_text<E: de::Error>(self, text: Vec<u8>, is_array: bool) -> Result<(), E> {
        let shape = self.walk.shape;
        let composite = std::str::from_utf8(&text).map_err(E::custom)?;
        self.walk.assign(self.node, Raw::Composite(composite), is_array);
        if shape.nodes[self.node].has_children() {
            self.walk.walk_children_of_text(self.node, text)?;
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(Raw::Null);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.scalar(Raw::Bool(value));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        self.scalar(Raw::Int(value));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        self.scalar(Raw::UInt(value));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        self.scalar(Raw::Float(value));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        self.scalar(Raw::Str(value));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.wants_text() {
            let mut text = Vec::new();
            transcode_map(&mut map, &mut text)?;
            return self.assign_text(text, false);
        }
        let shape: &JsonShape = self.walk.shape;
        let node = &shape.nodes[self.node];
        while let Some(child) = map.next_key_seed(MemberSeed { node })? {
            match child {
                Some(child) => map.next_value_seed(NodeSeed { walk: self.walk, node: child, children_only: false })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.wants_text() {
            let mut text = Vec::new();
            transcode_seq(&mut seq, &mut text)?;
            return self.assign_text(text, true);
        }
        let shape: &JsonShape = self.walk.shape;
        let node = &shape.nodes[self.node];
        if let Some(every) = node.every {
            // A member seen twice: the last one wins, as in a DOM.
            self.walk.out.elements.clear();
            self.walk.out.element_count = 0;
            loop {
                if !self.walk.begin_element() {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    return Ok(());
                }
                let seed = NodeSeed { walk: self.walk, node: every, children_only: false };
                if seq.next_element_seed(seed)?.is_none() {
                    let columns = self.walk.shape.types.len();
                    self.walk.out.element_count -= 1;
                    let kept = self.walk.out.elements.len() - columns;
                    self.walk.out.elements.truncate(kept);
                    return Ok(());
                }
            }
        }
        let mut index = 0;
        loop {
            let child = node.indexes.iter().find(|(i, _)| *i == index).map(|&(_, child)| child);
            let more = match child {
                Some(child) => {
                    seq.next_element_seed(NodeSeed { walk: self.walk, node: child, children_only: false })?.is_some()
                }
                None => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// A member name, answered with the child node it leads to (if any path goes there).
struct MemberSeed<'n> {
    node: &'n Node,
}

impl<'de> DeserializeSeed<'de> for MemberSeed<'_> {
    type Value = Option<NodeId>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<NodeId>, D::Error> {
        // As bytes: a name is only compared, so its UTF-8 check (a tenth of the mapping
        // time) is skipped, as `serde_json` skips it for ignored values.
        deserializer.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed<'_> {
    type Value = Option<NodeId>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a member name")
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Option<NodeId>, E> {
        Ok(self.node.members.iter().find(|(member, _)| member.as_bytes() == name).map(|&(_, child)| child))
    }
}

/// Writes the compact JSON text of the value being deserialized.
struct Transcode<'o> {
    out: &'o mut Vec<u8>,
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and every value here is serializable.
    let _ = serde_json::to_writer(out, value);
}

fn transcode_map<'de, A: MapAccess<'de>>(map: &mut A, out: &mut Vec<u8>) -> Result<(), A::Error> {
    out.push(b'{');
    let mut first = true;
    while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
        if !first {
            out.push(b',');
        }
        first = false;
        write_json(out, key.as_ref());
        out.push(b':');
        map.next_value_seed(Transcode { out: &mut *out })?;
    }
    out.push(b'}');
    Ok(())
}

fn transcode_seq<'de, A: SeqAccess<'de>>(seq: &mut A, out: &mut Vec<u8>) -> Result<(), A::Error> {
    out.push(b'[');
    let mut first = true;
    loop {
        let comma = out.len();
        if !first {
            out.push(b',');
        }
        if seq.next_element_seed(Transcode { out: &mut *out })?.is_none() {
            out.truncate(comma);
            break;
        }
        first = false;
    }
    out.push(b']');
    Ok(())
}

impl<'de> DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        write_json(self.out, &value);
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        write_json(self.out, &value);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        write_json(self.out, &value);
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        write_json(self.out, &value);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        write_json(self.out, value);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        transcode_map(&mut map, self.out)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        transcode_seq(&mut seq, self.out)
    }
}
