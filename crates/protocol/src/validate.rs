//! Constraint validation: the second of AWS's two request checks.
//!
//! Runs on a type-checked [`Checked`] tree and reports every violated constraint from the
//! shape table the way AWS's generated validators do:
//! `N validation error(s) detected: Value <v> at '<path>' failed to satisfy constraint: <c>; …`
//! with at most ten items, lowerCamel member paths (`records.1.member.partitionKey`) and
//! Java `toString()` renderings of the offending values.

use std::fmt::Write as _;

use crate::check::Checked;
use crate::shape::{measure, LengthRange, Shape, StringShape, StructShape, ValueRange};

/// AWS lists at most this many violations (and counts only the listed ones).
const MAX_ITEMS: usize = 10;

/// Package of Kinesis's generated Java model classes, visible when AWS prints a list of
/// structures.
pub(crate) const KINESIS_MODEL_PACKAGE: &str = "com.amazonaws.kinesis.v20131202";

/// Returns the full `ValidationException` message when any constraint is violated.
/// `package` is the service's Java model package; `prefix` the path of the structure
/// (empty for a request body).
pub(crate) fn validate_body(
    fields: &[Option<Checked>],
    shape: &StructShape,
    package: &'static str,
    prefix: &str,
) -> Result<(), String> {
    let mut report = Report { items: Vec::new(), package };
    report.structure(fields, shape, prefix);
    if report.items.is_empty() {
        return Ok(());
    }
    let count = report.items.len();
    let plural = if count == 1 { "" } else { "s" };
    Err(format!("{count} validation error{plural} detected: {}", report.items.join("; ")))
}

struct Report {
    items: Vec<String>,
    package: &'static str,
}

impl Report {
    fn full(&self) -> bool {
        self.items.len() >= MAX_ITEMS
    }

    /// Records one violation; `value` is rendered only when the item is kept, because
    /// rendering can be expensive (a 10 MiB string, a 500-element list).
    fn violation(&mut self, value: Option<&Checked>, path: &str, constraint: &str) {
        self.violation_in(value, path, constraint, "");
    }

    /// `element_shape` names the structure type of list elements, which Java prints.
    fn violation_in(&mut self, value: Option<&Checked>, path: &str, constraint: &str, element_shape: &str) {
        if self.full() {
            return;
        }
        let rendered = match value {
            None | Some(Checked::Null) => "null".to_owned(),
            Some(value) => format!("'{}'", render(value, self.package, element_shape)),
        };
        self.items.push(format!("Value {rendered} at '{path}' failed to satisfy constraint: {constraint}"));
    }

    fn structure(&mut self, fields: &[Option<Checked>], shape: &StructShape, prefix: &str) {
        for (member, slot) in shape.members.iter().zip(fields) {
            if self.full() {
                return;
            }
            let path = member_path(prefix, member.name);
            match slot {
                None if member.required => self.violation(None, &path, "Member must not be null"),
                None => {}
                Some(value) => self.value(value, member.shape, &path),
            }
        }
    }

    fn value(&mut self, value: &Checked, shape: &Shape, path: &str) {
        match (shape, value) {
            (Shape::String(string), Checked::Text(text)) => {
                let shown = if string.sensitive { Checked::Text(SENSITIVE.to_owned()) } else { value.clone() };
                for constraint in string_violations(string, text) {
                    self.violation(Some(&shown), path, &constraint);
                }
            }
            (Shape::Blob(range), Checked::Blob(blob)) => self.length(value, blob.len() as u64, range, path),
            (Shape::Integer(range) | Shape::Long(range), Checked::Integer(number)) => {
                for constraint in range_violations(range, *number) {
                    self.violation(Some(value), path, &constraint);
                }
            }
            (Shape::List(list), Checked::List(items)) => {
                let element_shape = match list.member {
                    Shape::Structure(structure) => structure.name,
                    _ => "",
                };
                self.length_in(value, items.len() as u64, &list.length, path, element_shape);
                match list.member {
                    Shape::Structure(structure) => {
                        for (index, item) in items.iter().enumerate() {
                            let item_path = format!("{path}.{}.member", index + 1);
                            match item {
                                Checked::Struct(fields) => self.structure(fields, structure, &item_path),
                                _ => self.violation(None, &item_path, "Member must not be null"),
                            }
                        }
                    }
                    member => {
                        if items.iter().any(|item| !element_satisfies(item, member)) {
                            let constraint = format!("Member must satisfy constraint: [{}]", describe(member, items));
                            self.violation(Some(value), path, &constraint);
                        }
                    }
                }
            }
            (Shape::Map(map), Checked::Map(entries)) => {
                self.length(value, entries.len() as u64, &map.length, path);
                if entries.iter().any(|(key, _)| !map.key.accepts_string(key)) {
                    let keys: Vec<Checked> = entries.iter().map(|(key, _)| Checked::Text(key.clone())).collect();
                    let constraint = format!("Map keys must satisfy constraint: [{}]", describe(map.key, &keys));
                    self.violation(Some(value), path, &constraint);
                }
                if entries.iter().any(|(_, item)| !element_satisfies(item, map.value)) {
                    let values: Vec<Checked> = entries.iter().map(|(_, item)| item.clone()).collect();
                    let constraint = format!("Map value must satisfy constraint: [{}]", describe(map.value, &values));
                    self.violation(Some(value), path, &constraint);
                }
            }
            (Shape::Structure(structure), Checked::Struct(fields)) => self.structure(fields, structure, path),
            // Booleans and timestamps carry no constraints; other pairs cannot come out of
            // the type check.
            _ => {}
        }
    }

    fn length(&mut self, value: &Checked, length: u64, range: &LengthRange, path: &str) {
        self.length_in(value, length, range, path, "");
    }

    fn length_in(&mut self, value: &Checked, length: u64, range: &LengthRange, path: &str, element_shape: &str) {
        if let Some(min) = range.min.filter(|min| length < *min) {
            let constraint = format!("Member must have length greater than or equal to {min}");
            self.violation_in(Some(value), path, &constraint, element_shape);
        }
        if let Some(max) = range.max.filter(|max| length > *max) {
            let constraint = format!("Member must have length less than or equal to {max}");
            self.violation_in(Some(value), path, &constraint, element_shape);
        }
    }
}

/// What AWS prints instead of a value the model marks sensitive.
const SENSITIVE: &str = "*** sensitive data ***";

/// String constraints in the order AWS lists them: pattern, minimum length, maximum
/// length, enumeration.
fn string_violations(shape: &StringShape, text: &str) -> Vec<String> {
    let mut violations = Vec::new();
    if let Some(pattern) = shape.pattern.filter(|pattern| !pattern.matches(text)) {
        violations.push(format!("Member must satisfy regular expression pattern: {}", pattern.display()));
    }
    let length = measure::string_length(text);
    if let Some(min) = shape.length.min.filter(|min| length < *min) {
        violations.push(format!("Member must have length greater than or equal to {min}"));
    }
    if let Some(max) = shape.length.max.filter(|max| length > *max) {
        violations.push(format!("Member must have length less than or equal to {max}"));
    }
    if let Some(values) = shape.allowed_values.filter(|values| !values.contains(&text)) {
        violations.push(enum_constraint(values));
    }
    violations
}

fn range_violations(range: &ValueRange, number: i64) -> Vec<String> {
    let mut violations = Vec::new();
    if let Some(min) = range.min.filter(|min| number < *min) {
        violations.push(format!("Member must have value greater than or equal to {min}"));
    }
    if let Some(max) = range.max.filter(|max| number > *max) {
        violations.push(format!("Member must have value less than or equal to {max}"));
    }
    violations
}

fn enum_constraint(values: &[&str]) -> String {
    format!("Member must satisfy enum value set: [{}]", values.join(", "))
}

fn element_satisfies(item: &Checked, shape: &Shape) -> bool {
    match (shape, item) {
        (_, Checked::Null) => false,
        (Shape::String(string), Checked::Text(text)) => string.accepts(text),
        (Shape::Blob(range), Checked::Blob(blob)) => range.contains(blob.len() as u64),
        (Shape::Integer(range) | Shape::Long(range), Checked::Integer(number)) => range.contains(*number),
        _ => true,
    }
}

/// All constraints of a collection's element shape, as AWS nests them inside
/// "Member must satisfy constraint: [...]": maximum before minimum, then pattern and
/// enumeration. A `null` element adds "Member must not be null" (no AWS capture exists).
fn describe(shape: &Shape, items: &[Checked]) -> String {
    let mut parts = Vec::new();
    if items.iter().any(|item| matches!(item, Checked::Null)) {
        parts.push("Member must not be null".to_owned());
    }
    match shape {
        Shape::String(string) => {
            if let Some(max) = string.length.max {
                parts.push(format!("Member must have length less than or equal to {max}"));
            }
            if let Some(min) = string.length.min {
                parts.push(format!("Member must have length greater than or equal to {min}"));
            }
            if let Some(pattern) = string.pattern {
                parts.push(format!("Member must satisfy regular expression pattern: {}", pattern.display()));
            }
            if let Some(values) = string.allowed_values {
                parts.push(enum_constraint(values));
            }
        }
        Shape::Blob(range) => {
            if let Some(max) = range.max {
                parts.push(format!("Member must have length less than or equal to {max}"));
            }
            if let Some(min) = range.min {
                parts.push(format!("Member must have length greater than or equal to {min}"));
            }
        }
        Shape::Integer(range) | Shape::Long(range) => {
            if let Some(max) = range.max {
                parts.push(format!("Member must have value less than or equal to {max}"));
            }
            if let Some(min) = range.min {
                parts.push(format!("Member must have value greater than or equal to {min}"));
            }
        }
        _ => {}
    }
    parts.join(", ")
}

/// `prefix.lowerCamelName`.
fn member_path(prefix: &str, name: &str) -> String {
    let mut path = String::with_capacity(prefix.len() + name.len() + 1);
    if !prefix.is_empty() {
        path.push_str(prefix);
        path.push('.');
    }
    let mut characters = name.chars();
    if let Some(first) = characters.next() {
        path.push(first.to_ascii_lowercase());
        path.push_str(characters.as_str());
    }
    path
}

/// Java's `toString()` of the deserialized value, which is what AWS prints.
/// `element_shape` is the structure type name of list elements.
fn render(value: &Checked, package: &str, element_shape: &str) -> String {
    match value {
        Checked::Null => "null".to_owned(),
        Checked::Text(text) => text.clone(),
        Checked::Blob(blob) => {
            format!("java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]", blob.len())
        }
        Checked::Integer(number) => number.to_string(),
        Checked::Boolean(flag) => flag.to_string(),
        Checked::Timestamp(millis) => millis.to_string(),
        Checked::List(items) => {
            let mut out = String::from("[");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                out.push_str(&render(item, package, element_shape));
            }
            out.push(']');
            out
        }
        Checked::Map(entries) => {
            let mut out = String::from("{");
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{key}={}", render(item, package, element_shape));
            }
            out.push('}');
            out
        }
        // `com.amazonaws.kinesis.v20131202.<Shape>@<hashCode in hex>`.
        Checked::Struct(_) => format!("{package}.{element_shape}@{:x}", java_hash(value) as u32),
        // Java's `toString()` of the map the service deserialized; only reachable for a
        // list of opaque members, which no model has.
        Checked::Document(json) => json.to_string(),
    }
}

/// A stand-in for the generated classes' `hashCode()`: `1 + Σ member hashCodes`, which
/// reproduces the `@2` AWS printed for an entry with an empty partition key and empty
/// data. Other values are unverified.
fn java_hash(value: &Checked) -> i32 {
    match value {
        Checked::Null => 0,
        Checked::Text(text) => {
            text.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
        }
        Checked::Blob(blob) => {
            blob.iter().rev().fold(1i32, |hash, byte| hash.wrapping_mul(31).wrapping_add(i32::from(*byte as i8)))
        }
        Checked::Integer(number) => (*number ^ (*number >> 32)) as i32,
        Checked::Boolean(flag) => {
            if *flag {
                1231
            } else {
                1237
            }
        }
        Checked::Timestamp(millis) => (*millis ^ (*millis >> 32)) as i32,
        Checked::List(items) => {
            items.iter().fold(1i32, |hash, item| hash.wrapping_mul(31).wrapping_add(java_hash(item)))
        }
        Checked::Map(entries) => entries.iter().fold(0i32, |hash, (key, item)| {
            hash.wrapping_add(java_hash(&Checked::Text(key.clone())) ^ java_hash(item))
        }),
        Checked::Struct(fields) => {
            fields.iter().fold(1i32, |hash, field| hash.wrapping_add(field.as_ref().map_or(0, java_hash)))
        }
        Checked::Document(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_are_lower_camel() {
        assert_eq!(member_path("", "StreamARN"), "streamARN");
        assert_eq!(member_path("records.1.member", "PartitionKey"), "records.1.member.partitionKey");
    }

    #[test]
    fn empty_entry_hash_matches_the_aws_capture() {
        let entry =
            Checked::Struct(vec![Some(Checked::Text(String::new())), None, Some(Checked::Blob(bytes::Bytes::new()))]);
        assert_eq!(
            render(&Checked::List(vec![entry]), KINESIS_MODEL_PACKAGE, "PutRecordsRequestEntry"),
            "[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2]"
        );
    }
}
