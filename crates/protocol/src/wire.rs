//! Writing typed values to JSON or CBOR, and building typed values from checked trees.
//!
//! Every model type implements [`WireType`]; structures get theirs from the
//! `wire_struct!` macro, which also emits the structure's shape
//! table, so a member's name, Rust type and constraints are declared exactly once.
//! Output is written straight into a byte buffer through a [`Sink`] — no intermediate
//! value tree — because GetRecords responses of thousands of records are the hot path.

use std::collections::BTreeMap;
use std::convert::Infallible;

use bytes::Bytes;
use minicbor::Encoder;

use crate::check::Checked;
use crate::shape::StructShape;
use crate::types::{write_i64, Document, HashKey, SequenceNumber, Timestamp};

/// An output format being written. Maps and lists announce their length up front so
/// CBOR can use definite-length headers.
pub(crate) trait Sink {
    fn begin_map(&mut self, entries: usize);
    fn end_map(&mut self);
    fn key(&mut self, name: &str);
    fn begin_list(&mut self, items: usize);
    fn list_item(&mut self);
    fn end_list(&mut self);
    fn text(&mut self, text: &str);
    fn blob(&mut self, blob: &[u8]);
    fn integer(&mut self, number: i64);
    fn boolean(&mut self, flag: bool);
    fn timestamp(&mut self, timestamp: Timestamp);
    /// An opaque member, written as the JSON it holds.
    fn document(&mut self, document: &serde_json::Value);
}

/// A type that can travel on the wire.
pub(crate) trait WireType: Sized {
    /// Converts a type-checked value; `None` only when the value does not have this
    /// type's shape, which the type check rules out for values it produced.
    fn from_checked(value: Checked) -> Option<Self>;
    fn write<S: Sink>(&self, sink: &mut S);
    /// A rough upper bound of the JSON size, used to size output buffers once.
    fn size_hint(&self) -> usize;
}

/// A structure: its shape table plus conversion in both directions.
pub(crate) trait WireStruct: Sized {
    const SHAPE: &'static StructShape;
    /// Operations without an output shape answer with an empty body rather than `{}`.
    const EMPTY_BODY: bool = false;
    fn from_fields(fields: Vec<Option<Checked>>) -> Option<Self>;
    fn write_fields<S: Sink>(&self, sink: &mut S);
    fn fields_size_hint(&self) -> usize;
}

/// Declares a model structure together with its shape table and wire conversions.
///
/// Each member is `field: Type => "WireName", req|opt|need, SHAPE;`. `req` members are plain
/// types, `opt` members are `Option`s. `need` members are required by the model but
/// `Option`s in Rust: a destination configuration that UpdateDestination merges may lack
/// them until the merged result is validated against the same shape. Members are listed in the order AWS reports their
/// validation errors, which is also the order they are written in.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $ty:ty => $wire:literal, $mode:ident, $shape:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[doc = concat!("`", $wire, "` on the wire.")]
                pub $field: $ty,
            )*
        }

        impl $crate::wire::WireStruct for $name {
            const SHAPE: &'static $crate::shape::StructShape = &$crate::shape::StructShape {
                name: stringify!($name),
                members: &[
                    $( $crate::shape::Member {
                        name: $wire,
                        required: $crate::wire::wire_struct!(@required $mode),
                        shape: &$shape,
                    }, )*
                ],
            };

            #[allow(unused_mut, unused_variables)]
            fn from_fields(fields: Vec<Option<$crate::check::Checked>>) -> Option<Self> {
                let mut slots = fields.into_iter();
                $( let $field: $ty = $crate::wire::wire_struct!(@take $mode, slots.next().flatten()); )*
                Some(Self { $($field,)* })
            }

            #[allow(unused_variables)]
            fn write_fields<S: $crate::wire::Sink>(&self, sink: &mut S) {
                let present = 0usize $( + usize::from($crate::wire::wire_struct!(@present $mode, self.$field)) )*;
                sink.begin_map(present);
                $( $crate::wire::wire_struct!(@write $mode, sink, $wire, self.$field); )*
                sink.end_map();
            }

            fn fields_size_hint(&self) -> usize {
                2 $( + $crate::wire::wire_struct!(@hint $mode, $wire, self.$field) )*
            }
        }

        impl $crate::wire::WireType for $name {
            fn from_checked(value: $crate::check::Checked) -> Option<Self> {
                match value {
                    $crate::check::Checked::Struct(fields) => {
                        <Self as $crate::wire::WireStruct>::from_fields(fields)
                    }
                    _ => None,
                }
            }

            fn write<S: $crate::wire::Sink>(&self, sink: &mut S) {
                <Self as $crate::wire::WireStruct>::write_fields(self, sink)
            }

            fn size_hint(&self) -> usize {
                <Self as $crate::wire::WireStruct>::fields_size_hint(self)
            }
        }
    };
    (@required req) => { true };
    (@required opt) => { false };
    (@required need) => { true };
    (@take need, $slot:expr) => { $crate::wire::wire_struct!(@take opt, $slot) };
    (@present need, $value:expr) => { $value.is_some() };
    (@write need, $sink:ident, $wire:literal, $value:expr) => { $crate::wire::wire_struct!(@write opt, $sink, $wire, $value) };
    (@hint need, $wire:literal, $value:expr) => { $crate::wire::wire_struct!(@hint opt, $wire, $value) };
    (@take req, $slot:expr) => { $crate::wire::WireType::from_checked($slot?)? };
    (@take opt, $slot:expr) => {
        match $slot {
            Some(value) => Some($crate::wire::WireType::from_checked(value)?),
            None => None,
        }
    };
    (@present req, $value:expr) => { true };
    (@present opt, $value:expr) => { $value.is_some() };
    (@write req, $sink:ident, $wire:literal, $value:expr) => {{
        $sink.key($wire);
        $crate::wire::WireType::write(&$value, $sink);
    }};
    (@write opt, $sink:ident, $wire:literal, $value:expr) => {
        if let Some(value) = &$value {
            $sink.key($wire);
            $crate::wire::WireType::write(value, $sink);
        }
    };
    (@hint req, $wire:literal, $value:expr) => { $wire.len() + 4 + $crate::wire::WireType::size_hint(&$value) };
    (@hint opt, $wire:literal, $value:expr) => {
        $value.as_ref().map_or(0, |value| $wire.len() + 4 + $crate::wire::WireType::size_hint(value))
    };
}

/// Declares a string enumeration of the model with its wire values, in model order.
///
/// AWS prints the values of an "enum value set" message in an order of its own, which is
/// not the model's (ShardIteratorType is the recorded example). An enumeration whose
/// message order has been recorded declares it after the variants:
/// `message_order = [Variant, …];`; every variant must appear exactly once (a missing one
/// fails to compile as a non-exhaustive match, a repeated one as an unreachable pattern).
/// Without the clause the message order is the model order, unconfirmed.
/// [`crate::model`] keeps the table of which enumerations are confirmed.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $crate::wire::wire_enum! {
            $(#[$meta])*
            pub enum $name {
                $( $(#[$variant_meta])* $variant = $wire, )*
            }
            message_order = [$($variant),*];
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )*
        }
        message_order = [$($ordered:ident),* $(,)?];
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )*
        }

        impl $name {
            /// Every wire value, in model order.
            pub const VALUES: &'static [&'static str] = &[$($wire,)*];

            /// Every wire value, in the order AWS lists them in "Member must satisfy enum
            /// value set: [...]" messages.
            pub const MESSAGE_ORDER: &'static [&'static str] = &[$($name::$ordered.as_str(),)*];

            /// The wire value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )*
                }
            }

            /// Never called: it makes `MESSAGE_ORDER` list every variant exactly once, at
            /// compile time.
            #[allow(dead_code)]
            #[deny(unreachable_patterns)]
            const fn message_order_lists_every_variant_once(self) {
                match self {
                    $( $name::$ordered => {} )*
                }
            }

            /// The variant for a wire value.
            pub fn from_wire(value: &str) -> Option<Self> {
                match value {
                    $( $wire => Some($name::$variant), )*
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl $crate::wire::WireType for $name {
            fn from_checked(value: $crate::check::Checked) -> Option<Self> {
                match value {
                    $crate::check::Checked::Text(text) => Self::from_wire(&text),
                    _ => None,
                }
            }

            fn write<S: $crate::wire::Sink>(&self, sink: &mut S) {
                sink.text(self.as_str())
            }

            fn size_hint(&self) -> usize {
                self.as_str().len() + 2
            }
        }
    };
}

pub(crate) use wire_enum;
pub(crate) use wire_struct;

impl WireType for String {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Text(text) => Some(text),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.text(self)
    }
    fn size_hint(&self) -> usize {
        self.len() + 2
    }
}

impl WireType for HashKey {
    fn from_checked(value: Checked) -> Option<Self> {
        String::from_checked(value).map(HashKey::from_validated)
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.text(self.as_str())
    }
    fn size_hint(&self) -> usize {
        self.as_str().len() + 2
    }
}

impl WireType for SequenceNumber {
    fn from_checked(value: Checked) -> Option<Self> {
        String::from_checked(value).map(SequenceNumber::from_validated)
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.text(self.as_str())
    }
    fn size_hint(&self) -> usize {
        self.as_str().len() + 2
    }
}

impl WireType for Bytes {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Blob(blob) => Some(blob),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.blob(self)
    }
    fn size_hint(&self) -> usize {
        self.len().div_ceil(3) * 4 + 2
    }
}

impl WireType for i32 {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Integer(number) => i32::try_from(number).ok(),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.integer(i64::from(*self))
    }
    fn size_hint(&self) -> usize {
        11
    }
}

impl WireType for i64 {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Integer(number) => Some(number),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.integer(*self)
    }
    fn size_hint(&self) -> usize {
        20
    }
}

impl WireType for bool {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Boolean(flag) => Some(flag),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.boolean(*self)
    }
    fn size_hint(&self) -> usize {
        5
    }
}

impl WireType for Timestamp {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Timestamp(millis) => Some(Timestamp::from_epoch_millis(millis)),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.timestamp(*self)
    }
    fn size_hint(&self) -> usize {
        24
    }
}

impl WireType for Document {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Document(json) => Some(Document::new(json)),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.document(self.as_json())
    }
    fn size_hint(&self) -> usize {
        64
    }
}

impl<T: WireType> WireType for Vec<T> {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::List(items) => items.into_iter().map(T::from_checked).collect(),
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.begin_list(self.len());
        for item in self {
            sink.list_item();
            item.write(sink);
        }
        sink.end_list();
    }
    fn size_hint(&self) -> usize {
        2 + self.iter().map(|item| item.size_hint() + 1).sum::<usize>()
    }
}

impl<T: WireType> WireType for BTreeMap<String, T> {
    fn from_checked(value: Checked) -> Option<Self> {
        match value {
            Checked::Map(entries) => {
                entries.into_iter().map(|(key, value)| Some((key, T::from_checked(value)?))).collect()
            }
            _ => None,
        }
    }
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.begin_map(self.len());
        for (key, value) in self {
            sink.key(key);
            value.write(sink);
        }
        sink.end_map();
    }
    fn size_hint(&self) -> usize {
        2 + self.iter().map(|(key, value)| key.len() + value.size_hint() + 4).sum::<usize>()
    }
}

/// Writes `application/x-amz-json-1.1`: blobs as padded standard base64, timestamps as
/// epoch seconds with a millisecond fraction.
pub(crate) struct JsonSink {
    out: Vec<u8>,
}

impl JsonSink {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { out: Vec::with_capacity(capacity) }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn separate(&mut self, opener: u8) {
        if self.out.last().is_some_and(|last| *last != opener) {
            self.out.push(b',');
        }
    }
}

impl Sink for JsonSink {
    fn begin_map(&mut self, _entries: usize) {
        self.out.push(b'{');
    }
    fn end_map(&mut self) {
        self.out.push(b'}');
    }
    fn key(&mut self, name: &str) {
        self.separate(b'{');
        write_json_string(&mut self.out, name);
        self.out.push(b':');
    }
    fn begin_list(&mut self, _items: usize) {
        self.out.push(b'[');
    }
    fn list_item(&mut self) {
        self.separate(b'[');
    }
    fn end_list(&mut self) {
        self.out.push(b']');
    }
    fn text(&mut self, text: &str) {
        write_json_string(&mut self.out, text);
    }
    fn blob(&mut self, blob: &[u8]) {
        self.out.push(b'"');
        // Appends into spare capacity: no zero-filling of the target first.
        base64_simd::STANDARD.encode_append(blob, &mut self.out);
        self.out.push(b'"');
    }
    fn integer(&mut self, number: i64) {
        write_i64(&mut self.out, number);
    }
    fn boolean(&mut self, flag: bool) {
        self.out.extend_from_slice(if flag { b"true" } else { b"false" });
    }
    fn timestamp(&mut self, timestamp: Timestamp) {
        timestamp.write_json_seconds(&mut self.out);
    }
    fn document(&mut self, document: &serde_json::Value) {
        // Writing a `Value` into a `Vec` cannot fail: its keys are strings.
        let _ = serde_json::to_writer(&mut self.out, document);
    }
}

/// True for the bytes a JSON string literal must escape.
fn needs_json_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends `text` as a JSON string literal, copying runs that need no escaping in bulk.
pub(crate) fn write_json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    // Nearly every string (partition keys, sequence numbers, names) needs no escape; the
    // branch-free scan lets the compiler check many bytes at a time.
    if !bytes.iter().fold(false, |any, &byte| any | needs_json_escape(byte)) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut run_start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(run_start..index).unwrap_or_default());
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0'));
            out.push(HEX.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'0'));
        } else {
            out.extend_from_slice(escape);
        }
        run_start = index + 1;
    }
    out.extend_from_slice(bytes.get(run_start..).unwrap_or_default());
    out.push(b'"');
}

/// Writes `application/x-amz-cbor-1.1`: definite-length maps with text keys, blobs as
/// byte strings, timestamps as tag 1 around integer epoch milliseconds (what the Java
/// SDK expects, although RFC 8949 says seconds).
pub(crate) struct CborSink {
    encoder: Encoder<Vec<u8>>,
}

/// Writes into a `Vec` cannot fail; this documents that the discarded results are
/// `Result<_, Infallible>`-shaped.
fn infallible<T>(result: Result<T, minicbor::encode::Error<Infallible>>) {
    let _ = result;
}

impl CborSink {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { encoder: Encoder::new(Vec::with_capacity(capacity)) }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.encoder.into_writer()
    }
}

impl Sink for CborSink {
    fn begin_map(&mut self, entries: usize) {
        infallible(self.encoder.map(entries as u64));
    }
    fn end_map(&mut self) {}
    fn key(&mut self, name: &str) {
        infallible(self.encoder.str(name));
    }
    fn begin_list(&mut self, items: usize) {
        infallible(self.encoder.array(items as u64));
    }
    fn list_item(&mut self) {}
    fn end_list(&mut self) {}
    fn text(&mut self, text: &str) {
        infallible(self.encoder.str(text));
    }
    fn blob(&mut self, blob: &[u8]) {
        infallible(self.encoder.bytes(blob));
    }
    fn integer(&mut self, number: i64) {
        infallible(self.encoder.i64(number));
    }
    fn boolean(&mut self, flag: bool) {
        infallible(self.encoder.bool(flag));
    }
    fn timestamp(&mut self, timestamp: Timestamp) {
        infallible(self.encoder.tag(minicbor::data::Tag::new(1)));
        infallible(self.encoder.i64(timestamp.epoch_millis()));
    }
    fn document(&mut self, document: &serde_json::Value) {
        use serde_json::Value as Json;
        match document {
            Json::Null => infallible(self.encoder.null()),
            Json::Bool(flag) => self.boolean(*flag),
            Json::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
                (Some(integer), _, _) => self.integer(integer),
                (None, Some(unsigned), _) => infallible(self.encoder.u64(unsigned)),
                (None, None, float) => infallible(self.encoder.f64(float.unwrap_or(0.0))),
            },
            Json::String(text) => self.text(text),
            Json::Array(items) => {
                self.begin_list(items.len());
                for item in items {
                    self.document(item);
                }
            }
            Json::Object(entries) => {
                self.begin_map(entries.len());
                for (key, item) in entries {
                    self.key(key);
                    self.document(item);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_like_serde_json() {
        for text in ["plain", "quote\"back\\slash", "line\nfeed\ttab", "\u{1}\u{1f}", "ünïcødé 😀", ""] {
            let mut out = Vec::new();
            write_json_string(&mut out, text);
            let reparsed: Result<String, _> = serde_json::from_slice(&out);
            assert_eq!(reparsed.ok().as_deref(), Some(text));
        }
    }
}
