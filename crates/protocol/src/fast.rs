//! Fast paths for the data-plane hot path: PutRecords, PutRecord and GetRecords.
//!
//! The generic path builds a value tree, a checked tree and then the typed input — three
//! allocations per member, which dominates at hundreds of thousands of records per
//! second. Here JSON is deserialized by serde straight into flat "raw" structs and CBOR is
//! read token by token with minicbor; the raw values are then validated against the same
//! shape constants the generic validator uses.
//!
//! The contract: a fast path returns `Some` only for a body the generic path would accept
//! with the same result. Whenever anything is unusual — a type mismatch, a constraint
//! violation, a tag, an escaped key, an indefinite-length string — it returns `None` and
//! the generic path decodes the body again and produces AWS's exact error. Unknown CBOR
//! members are parsed with the generic parser so both paths accept the same bodies.

use std::fmt;

use bytes::Bytes;
use minicbor::data::Type;
use minicbor::Decoder;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::check::decode_base64_blob;
use crate::codec::Body;
use crate::model::{
    GetRecordsInput, PutRecordInput, PutRecordsInput, PutRecordsRequestEntry, PUT_RECORDS_REQUEST_ENTRY_LIST,
};
use crate::operation::{Operation, Request, WireFormat};
use crate::shape::scalars::{
    DATA, HASH_KEY, LIMIT_10000, PARTITION_KEY, SEQUENCE_NUMBER, SHARD_ITERATOR, STREAM_ARN, STREAM_ID, STREAM_NAME,
};
use crate::shape::Shape;
use crate::types::{HashKey, SequenceNumber};
use crate::value::{at_break, read_cbor_value, skip_break};

/// Decodes `body` if it is a well-formed, valid hot-path request; `None` otherwise.
pub(crate) fn decode(operation: Operation, format: WireFormat, body: Body<'_>) -> Option<Request> {
    match (operation, format) {
        (Operation::PutRecords, WireFormat::Json) => {
            serde_json::from_slice(body.bytes()).ok().and_then(build_put_records).map(Request::PutRecords)
        }
        (Operation::PutRecords, WireFormat::Cbor) => {
            cbor_put_records(body).and_then(build_put_records).map(Request::PutRecords)
        }
        (Operation::PutRecord, WireFormat::Json) => {
            serde_json::from_slice(body.bytes()).ok().and_then(build_put_record).map(Request::PutRecord)
        }
        (Operation::PutRecord, WireFormat::Cbor) => {
            cbor_put_record(body).and_then(build_put_record).map(Request::PutRecord)
        }
        (Operation::GetRecords, WireFormat::Json) => {
            serde_json::from_slice(body.bytes()).ok().and_then(build_get_records).map(Request::GetRecords)
        }
        (Operation::GetRecords, WireFormat::Cbor) => {
            cbor_get_records(body).and_then(build_get_records).map(Request::GetRecords)
        }
        _ => None,
    }
}

/// A blob as it arrives: decoded from base64 (JSON, or a CBOR text string) or taken from
/// a CBOR byte string.
struct RawBlob(Bytes);

/// Declares a flat struct of optional members that deserializes only from a JSON object
/// (serde's derive would also accept an array, which AWS rejects), borrowing keys so an
/// escaped key falls back to the generic path.
macro_rules! raw_struct {
    ($name:ident { $($field:ident : $ty:ty = $key:literal,)* }) => {
        #[derive(Default)]
        struct $name {
            $($field: Option<$ty>,)*
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct MapOnly;

                impl<'de> Visitor<'de> for MapOnly {
                    type Value = $name;

                    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                        formatter.write_str(concat!("a ", stringify!($name), " object"))
                    }

                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut raw = $name::default();
                        while let Some(key) = map.next_key::<&'de str>()? {
                            match key {
                                $( $key => raw.$field = map.next_value::<Option<$ty>>()?, )*
                                _ => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(raw)
                    }
                }

                deserializer.deserialize_map(MapOnly)
            }
        }
    };
}

raw_struct!(RawPutRecords {
    records: Vec<RawPutRecordsEntry> = "Records",
    stream_name: String = "StreamName",
    stream_arn: String = "StreamARN",
    stream_id: String = "StreamId",
    dry_run: bool = "DryRun",
});

raw_struct!(RawPutRecordsEntry {
    partition_key: String = "PartitionKey",
    explicit_hash_key: String = "ExplicitHashKey",
    data: RawBlob = "Data",
});

raw_struct!(RawPutRecord {
    sequence_number_for_ordering: String = "SequenceNumberForOrdering",
    partition_key: String = "PartitionKey",
    explicit_hash_key: String = "ExplicitHashKey",
    data: RawBlob = "Data",
    stream_name: String = "StreamName",
    stream_arn: String = "StreamARN",
    stream_id: String = "StreamId",
    dry_run: bool = "DryRun",
});

raw_struct!(RawGetRecords {
    shard_iterator: String = "ShardIterator",
    limit: i64 = "Limit",
    stream_arn: String = "StreamARN",
    stream_id: String = "StreamId",
    dry_run: bool = "DryRun",
});

impl<'de> Deserialize<'de> for RawBlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Base64Text;

        impl Visitor<'_> for Base64Text {
            type Value = RawBlob;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a base64 string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawBlob, E> {
                decode_base64_blob(text).map(RawBlob).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Base64Text)
    }
}

// ---------------------------------------------------------------------------------------
// Validation of raw values: the same constraints the shape tables give the generic path.
// ---------------------------------------------------------------------------------------

fn valid_optional(shape: &Shape, text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|text| shape.accepts_string(text))
}

fn build_put_records(raw: RawPutRecords) -> Option<PutRecordsInput> {
    let entries = raw.records?;
    let Shape::List(list) = &PUT_RECORDS_REQUEST_ENTRY_LIST else {
        return None;
    };
    if !list.length.contains(entries.len() as u64)
        || !valid_optional(&STREAM_NAME, &raw.stream_name)
        || !valid_optional(&STREAM_ARN, &raw.stream_arn)
        || !valid_optional(&STREAM_ID, &raw.stream_id)
    {
        return None;
    }
    let records = entries
        .into_iter()
        .map(|entry| {
            let data = entry.data?.0;
            let valid = DATA.accepts_blob_length(data.len())
                && valid_optional(&PARTITION_KEY, &entry.partition_key)
                && valid_optional(&HASH_KEY, &entry.explicit_hash_key);
            valid.then(|| PutRecordsRequestEntry {
                partition_key: entry.partition_key,
                explicit_hash_key: entry.explicit_hash_key.map(HashKey::from_validated),
                data,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(PutRecordsInput {
        records,
        stream_name: raw.stream_name,
        stream_arn: raw.stream_arn,
        stream_id: raw.stream_id,
        dry_run: raw.dry_run,
    })
}

fn build_put_record(raw: RawPutRecord) -> Option<PutRecordInput> {
    let data = raw.data?.0;
    let valid = DATA.accepts_blob_length(data.len())
        && valid_optional(&SEQUENCE_NUMBER, &raw.sequence_number_for_ordering)
        && valid_optional(&PARTITION_KEY, &raw.partition_key)
        && valid_optional(&HASH_KEY, &raw.explicit_hash_key)
        && valid_optional(&STREAM_NAME, &raw.stream_name)
        && valid_optional(&STREAM_ARN, &raw.stream_arn)
        && valid_optional(&STREAM_ID, &raw.stream_id);
    valid.then(|| PutRecordInput {
        sequence_number_for_ordering: raw.sequence_number_for_ordering.map(SequenceNumber::from_validated),
        partition_key: raw.partition_key,
        explicit_hash_key: raw.explicit_hash_key.map(HashKey::from_validated),
        data,
        stream_name: raw.stream_name,
        stream_arn: raw.stream_arn,
        stream_id: raw.stream_id,
        dry_run: raw.dry_run,
    })
}

fn build_get_records(raw: RawGetRecords) -> Option<GetRecordsInput> {
    let shard_iterator = raw.shard_iterator?;
    // Out-of-range limits would be clamped by the generic path before validation, so only
    // in-range values may be taken here.
    let limit = match raw.limit {
        Some(limit) if LIMIT_10000.accepts_integer(limit) => Some(i32::try_from(limit).ok()?),
        Some(_) => return None,
        None => None,
    };
    let valid = SHARD_ITERATOR.accepts_string(&shard_iterator)
        && valid_optional(&STREAM_ARN, &raw.stream_arn)
        && valid_optional(&STREAM_ID, &raw.stream_id);
    valid.then_some(GetRecordsInput {
        shard_iterator,
        limit,
        stream_arn: raw.stream_arn,
        stream_id: raw.stream_id,
        dry_run: raw.dry_run,
    })
}

// ---------------------------------------------------------------------------------------
// CBOR readers
// ---------------------------------------------------------------------------------------

/// Nesting depth of the values of a top-level member, as the generic parser counts it.
const MEMBER_DEPTH: usize = 1;
/// Nesting depth of the values of a `Records` entry member.
const ENTRY_MEMBER_DEPTH: usize = 3;

/// Calls `member` for each entry of the map at the decoder's position. Keys must be
/// definite-length text; `member` consumes the value and returns `None` to give up.
fn for_each_member<'b>(
    decoder: &mut Decoder<'b>,
    mut member: impl FnMut(&mut Decoder<'b>, &'b str) -> Option<()>,
) -> Option<()> {
    match decoder.map().ok()? {
        Some(count) => {
            for _ in 0..count {
                let key = decoder.str().ok()?;
                member(decoder, key)?;
            }
        }
        None => {
            while !at_break(decoder).ok()? {
                let key = decoder.str().ok()?;
                member(decoder, key)?;
            }
            skip_break(decoder);
        }
    }
    Some(())
}

/// Reads and discards an unknown member's value exactly as the generic parser would.
fn skip_unknown(decoder: &mut Decoder<'_>, depth: usize) -> Option<()> {
    read_cbor_value(decoder, depth).ok().map(drop)
}

/// `null` and `undefined` are absent members; anything else is read by `read`.
fn nullable<'b, T>(decoder: &mut Decoder<'b>, read: impl FnOnce(&mut Decoder<'b>) -> Option<T>) -> Option<Option<T>> {
    match decoder.datatype().ok()? {
        Type::Null => {
            decoder.null().ok()?;
            Some(None)
        }
        Type::Undefined => {
            decoder.undefined().ok()?;
            Some(None)
        }
        _ => read(decoder).map(Some),
    }
}

fn text(decoder: &mut Decoder<'_>) -> Option<String> {
    match decoder.datatype().ok()? {
        Type::String => decoder.str().ok().map(str::to_owned),
        _ => None,
    }
}

fn boolean(decoder: &mut Decoder<'_>) -> Option<bool> {
    match decoder.datatype().ok()? {
        Type::Bool => decoder.bool().ok(),
        _ => None,
    }
}

fn integer(decoder: &mut Decoder<'_>) -> Option<i64> {
    match decoder.datatype().ok()? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 => {
            decoder.i64().ok()
        }
        _ => None,
    }
}

fn blob(decoder: &mut Decoder<'_>, body: Body<'_>) -> Option<RawBlob> {
    match decoder.datatype().ok()? {
        Type::Bytes => decoder.bytes().ok().map(|slice| RawBlob(body.share(slice))),
        Type::String => decoder.str().ok().and_then(|text| decode_base64_blob(text).ok()).map(RawBlob),
        _ => None,
    }
}

/// Reads a whole body with `read_members` and checks nothing follows it.
fn cbor_body<'b, T: Default>(
    body: Body<'b>,
    mut read_member: impl FnMut(&mut T, &mut Decoder<'b>, &'b str) -> Option<()>,
) -> Option<T> {
    let bytes = body.bytes();
    let mut decoder = Decoder::new(bytes);
    let mut raw = T::default();
    for_each_member(&mut decoder, |decoder, key| read_member(&mut raw, decoder, key))?;
    (decoder.position() == bytes.len()).then_some(raw)
}

fn cbor_put_records(body: Body<'_>) -> Option<RawPutRecords> {
    cbor_body(body, |raw: &mut RawPutRecords, decoder, key| {
        match key {
            "Records" => raw.records = nullable(decoder, |decoder| cbor_entries(decoder, body))?,
            "StreamName" => raw.stream_name = nullable(decoder, text)?,
            "StreamARN" => raw.stream_arn = nullable(decoder, text)?,
            "StreamId" => raw.stream_id = nullable(decoder, text)?,
            "DryRun" => raw.dry_run = nullable(decoder, boolean)?,
            _ => skip_unknown(decoder, MEMBER_DEPTH)?,
        }
        Some(())
    })
}

fn cbor_entries(decoder: &mut Decoder<'_>, body: Body<'_>) -> Option<Vec<RawPutRecordsEntry>> {
    let declared = match decoder.datatype().ok()? {
        Type::Array | Type::ArrayIndef => decoder.array().ok()?,
        _ => return None,
    };
    let remaining = body.bytes().len().saturating_sub(decoder.position());
    let mut entries = Vec::with_capacity(declared.map_or(0, |count| (count as usize).min(remaining)));
    match declared {
        Some(count) => {
            for _ in 0..count {
                entries.push(cbor_entry(decoder, body)?);
            }
        }
        None => {
            while !at_break(decoder).ok()? {
                entries.push(cbor_entry(decoder, body)?);
            }
            skip_break(decoder);
        }
    }
    Some(entries)
}

fn cbor_entry(decoder: &mut Decoder<'_>, body: Body<'_>) -> Option<RawPutRecordsEntry> {
    if !matches!(decoder.datatype().ok()?, Type::Map | Type::MapIndef) {
        return None;
    }
    let mut entry = RawPutRecordsEntry::default();
    for_each_member(decoder, |decoder, key| {
        match key {
            "Data" => entry.data = nullable(decoder, |decoder| blob(decoder, body))?,
            "PartitionKey" => entry.partition_key = nullable(decoder, text)?,
            "ExplicitHashKey" => entry.explicit_hash_key = nullable(decoder, text)?,
            _ => skip_unknown(decoder, ENTRY_MEMBER_DEPTH)?,
        }
        Some(())
    })?;
    Some(entry)
}

fn cbor_put_record(body: Body<'_>) -> Option<RawPutRecord> {
    cbor_body(body, |raw: &mut RawPutRecord, decoder, key| {
        match key {
            "SequenceNumberForOrdering" => raw.sequence_number_for_ordering = nullable(decoder, text)?,
            "PartitionKey" => raw.partition_key = nullable(decoder, text)?,
            "ExplicitHashKey" => raw.explicit_hash_key = nullable(decoder, text)?,
            "Data" => raw.data = nullable(decoder, |decoder| blob(decoder, body))?,
            "StreamName" => raw.stream_name = nullable(decoder, text)?,
            "StreamARN" => raw.stream_arn = nullable(decoder, text)?,
            "StreamId" => raw.stream_id = nullable(decoder, text)?,
            "DryRun" => raw.dry_run = nullable(decoder, boolean)?,
            _ => skip_unknown(decoder, MEMBER_DEPTH)?,
        }
        Some(())
    })
}

fn cbor_get_records(body: Body<'_>) -> Option<RawGetRecords> {
    cbor_body(body, |raw: &mut RawGetRecords, decoder, key| {
        match key {
            "ShardIterator" => raw.shard_iterator = nullable(decoder, text)?,
            "Limit" => raw.limit = nullable(decoder, integer)?,
            "StreamARN" => raw.stream_arn = nullable(decoder, text)?,
            "StreamId" => raw.stream_id = nullable(decoder, text)?,
            "DryRun" => raw.dry_run = nullable(decoder, boolean)?,
            _ => skip_unknown(decoder, MEMBER_DEPTH)?,
        }
        Some(())
    })
}
