//! Order-preserving, prefix-free byte encodings of key values, and the byte ranges a
//! Query's key condition covers.
//!
//! Comparing two encodings as bytes gives the order DynamoDB sorts keys in: strings by
//! their UTF-8 bytes, binaries by unsigned bytes, numbers numerically. Every encoding is
//! prefix-free (no value's encoding starts with another's), so after a partition key's
//! encoding nothing of another partition key can follow, a Query's byte range stays
//! within one partition key, and a sort-key encoding followed by more key bytes still
//! sorts by the sort key first.

use std::ops::Bound;

use crate::key::{KeyValue, PrimaryKey, RangeCondition};
use crate::value::Number;

/// Ends a string or binary; an embedded zero byte is written [`ZERO`] [`ESCAPED_ZERO`].
const ZERO: u8 = 0x00;
const TERMINATOR: u8 = 0x01;
const ESCAPED_ZERO: u8 = 0xFF;

/// Leading byte of a number's encoding, ordered negative < zero < positive.
const NEGATIVE: u8 = 0x01;
const NUMBER_ZERO: u8 = 0x02;
const POSITIVE: u8 = 0x03;
/// Ends a positive number's digits (each digit is written as `digit + 1`).
const DIGITS_END: u8 = 0x00;

/// Appends the encoding of `value`.
pub fn encode_value(value: &KeyValue, out: &mut Vec<u8>) {
    match value {
        KeyValue::S(text) => encode_bytes(text.as_bytes(), out),
        KeyValue::B(bytes) => encode_bytes(bytes, out),
        KeyValue::N(number) => encode_number(number, out),
    }
}

/// Appends the encoding of a primary key: partition key, then sort key.
pub fn encode_key(key: &PrimaryKey, out: &mut Vec<u8>) {
    encode_value(&key.hash, out);
    if let Some(range) = &key.range {
        encode_value(range, out);
    }
}

/// Bytes escaped (so only the terminator pair `00 01` can end them) then terminated:
/// byte order is kept, and a string sorts before every longer string it begins.
fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    escape_bytes(bytes, out);
    out.extend_from_slice(&[ZERO, TERMINATOR]);
}

/// The escaped body without its terminator: `begins_with(p)` matches exactly the values
/// whose encoding starts with `escape(p)`.
fn escape_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    for &byte in bytes {
        out.push(byte);
        if byte == ZERO {
            out.push(ESCAPED_ZERO);
        }
    }
}

/// A number `±0.d₁d₂… × 10^e`: its sign class, then (for positives) the exponent as a
/// sign-flipped big-endian `i32` and the digits each plus one, ended by `00`. A larger
/// exponent means a larger magnitude because the digits are normalized (d₁ ≠ 0); with
/// equal exponents the digits compare lexicographically, a shorter prefix being smaller
/// (no trailing zeros). Negatives write the complement of their magnitude's encoding,
/// which reverses its order and keeps it prefix-free (digit bytes stay below `FF`).
fn encode_number(number: &Number, out: &mut Vec<u8>) {
    if number.digits().is_empty() {
        out.push(NUMBER_ZERO);
        return;
    }
    let start = out.len() + 1;
    out.push(if number.is_negative() { NEGATIVE } else { POSITIVE });
    out.extend_from_slice(&((number.exponent() as u32) ^ 0x8000_0000).to_be_bytes());
    out.extend(number.digits().iter().map(|digit| digit + 1));
    out.push(DIGITS_END);
    if number.is_negative() {
        for byte in &mut out[start..] {
            *byte = !*byte;
        }
    }
}

/// The smallest byte string above every string that starts with `prefix`, or `None`
/// when there is none (the prefix is all `FF`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A byte range: lower and upper bound.
pub type ByteRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// `range` borrowed, as redb's range calls take it.
pub fn as_slices(range: &ByteRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (borrow(&range.0), borrow(&range.1))
}

fn borrow(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(bytes) => Bound::Included(bytes.as_slice()),
        Bound::Excluded(bytes) => Bound::Excluded(bytes.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Every key that starts with `prefix`.
pub fn prefix_range(prefix: &[u8]) -> ByteRange {
    (Bound::Included(prefix.to_vec()), prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded))
}

/// Why a key condition has no byte range.
#[derive(Debug, PartialEq, Eq)]
pub struct NotARange;

/// The keys under `partition` (the table or index prefix and the encoded partition key)
/// whose sort key satisfies `condition`. `begins_with` on a number has no byte range (the
/// caller refuses it, as DynamoDB does).
pub fn condition_range(partition: &[u8], condition: Option<&RangeCondition>) -> Result<ByteRange, NotARange> {
    let with = |value: &KeyValue| {
        let mut bytes = partition.to_vec();
        encode_value(value, &mut bytes);
        bytes
    };
    let after_all_starting_with = |bytes: &[u8]| prefix_end(bytes).map_or(Bound::Unbounded, Bound::Excluded);
    let partition_end = after_all_starting_with(partition);
    Ok(match condition {
        None => prefix_range(partition),
        Some(RangeCondition::Eq(value)) => prefix_range(&with(value)),
        Some(RangeCondition::Lt(value)) => (Bound::Included(partition.to_vec()), Bound::Excluded(with(value))),
        Some(RangeCondition::Le(value)) => (Bound::Included(partition.to_vec()), after_all_starting_with(&with(value))),
        Some(RangeCondition::Gt(value)) => (after_all_starting_with(&with(value)), partition_end),
        Some(RangeCondition::Ge(value)) => (Bound::Included(with(value)), partition_end),
        Some(RangeCondition::Between(low, high)) => (Bound::Included(with(low)), after_all_starting_with(&with(high))),
        Some(RangeCondition::BeginsWith(value)) => {
            let mut prefix = partition.to_vec();
            match value {
                KeyValue::S(text) => escape_bytes(text.as_bytes(), &mut prefix),
                KeyValue::B(bytes) => escape_bytes(bytes, &mut prefix),
                KeyValue::N(_) => return Err(NotARange),
            }
            prefix_range(&prefix)
        }
    })
}

/// Whether `range` holds no key at all (so iterating it must be skipped: redb refuses a
/// range whose start lies after its end).
pub fn is_empty(range: &ByteRange) -> bool {
    match range {
        (Bound::Included(low), Bound::Included(high)) => low > high,
        (Bound::Included(low) | Bound::Excluded(low), Bound::Excluded(high))
        | (Bound::Excluded(low), Bound::Included(high)) => low >= high,
        _ => false,
    }
}

/// Narrows `range` to keys after `start` (reading forward) or before it (backward).
pub fn narrow_after(range: ByteRange, start: Vec<u8>, forward: bool) -> ByteRange {
    let (low, high) = range;
    if forward {
        let keep = matches!(&low, Bound::Included(bound) | Bound::Excluded(bound) if *bound > start);
        (if keep { low } else { Bound::Excluded(start) }, high)
    } else {
        let keep = matches!(&high, Bound::Included(bound) | Bound::Excluded(bound) if *bound < start);
        (low, if keep { high } else { Bound::Excluded(start) })
    }
}

/// A stable 64-bit hash (FNV-1a, then a SplitMix64 finish to spread FNV's low bits): a
/// parallel Scan's segment of an item depends on nothing but its partition key bytes, so
/// it is the same in every request and after every restart.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::store::codec::tests::normalized;

    /// A number and its exact value scaled by 10²⁰ (the generated numbers have at most 10
    /// digits and exponents within ±5, so the scaled value is an integer that fits i128):
    /// an order reference independent of the encoding's reasoning.
    fn number() -> impl Strategy<Value = (Number, i128)> {
        (any::<bool>(), proptest::collection::vec(0u8..=9, 0..10), -5i32..=5).prop_map(
            |(negative, digits, exponent)| {
                let number = normalized(negative, digits, exponent);
                let mut scaled: i128 = 0;
                for &digit in number.digits() {
                    scaled = scaled * 10 + i128::from(digit);
                }
                let shift = 20 + exponent - number.digits().len() as i32;
                scaled *= 10i128.pow(shift as u32);
                let value = if negative { -scaled } else { scaled };
                (number, value)
            },
        )
    }

    fn encoded(value: &KeyValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(value, &mut out);
        out
    }

    fn is_prefix(a: &[u8], b: &[u8]) -> bool {
        a.len() < b.len() && b.starts_with(a)
    }

    proptest! {
        #[test]
        fn number_encoding_orders_numerically((a, a_value) in number(), (b, b_value) in number()) {
            let (ea, eb) = (encoded(&KeyValue::N(a.clone())), encoded(&KeyValue::N(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a_value.cmp(&b_value));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b), "the value type's own numeric order");
            prop_assert!(!is_prefix(&ea, &eb) && !is_prefix(&eb, &ea));
        }

        #[test]
        fn string_encoding_orders_by_utf8_bytes(a in "[a\\x00\\u{e9}\\u{10000}b]{0,6}", b in "[a\\x00\\u{e9}\\u{10000}b]{0,6}") {
            let (ea, eb) = (encoded(&KeyValue::S(a.clone())), encoded(&KeyValue::S(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a.as_bytes().cmp(b.as_bytes()));
            prop_assert!(!is_prefix(&ea, &eb) && !is_prefix(&eb, &ea));
        }

        #[test]
        fn binary_encoding_orders_by_unsigned_bytes(
            a in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF), any::<u8>()], 0..6),
            b in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF), any::<u8>()], 0..6),
        ) {
            let (ea, eb) = (encoded(&KeyValue::B(Bytes::from(a.clone()))), encoded(&KeyValue::B(Bytes::from(b.clone()))));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
            prop_assert!(!is_prefix(&ea, &eb) && !is_prefix(&eb, &ea));
        }

        /// Every condition's byte range holds exactly the sort keys the condition accepts
        /// (numbers, compared by the reference value).
        #[test]
        fn number_condition_ranges_match_the_condition(
            (key, key_value) in number(),
            (low, low_value) in number(),
            (high, high_value) in number(),
            which in 0usize..6,
        ) {
            let partition = encoded(&KeyValue::S("p".into()));
            let value = KeyValue::N(low.clone());
            let (condition, expected) = match which {
                0 => (RangeCondition::Eq(value), key_value == low_value),
                1 => (RangeCondition::Lt(value), key_value < low_value),
                2 => (RangeCondition::Le(value), key_value <= low_value),
                3 => (RangeCondition::Gt(value), key_value > low_value),
                4 => (RangeCondition::Ge(value), key_value >= low_value),
                _ => (RangeCondition::Between(value, KeyValue::N(high)), low_value <= key_value && key_value <= high_value),
            };
            let range = condition_range(&partition, Some(&condition)).unwrap();
            let mut full = partition.clone();
            encode_value(&KeyValue::N(key), &mut full);
            full.extend_from_slice(b"rest of the entry key");
            prop_assert_eq!(!is_empty(&range) && range_contains(&range, &full), expected);
        }

        #[test]
        fn begins_with_range_matches_string_prefixes(key in "[a\\x00b]{0,5}", prefix in "[a\\x00b]{0,3}") {
            let partition = encoded(&KeyValue::S("p".into()));
            let range = condition_range(&partition, Some(&RangeCondition::BeginsWith(KeyValue::S(prefix.clone())))).unwrap();
            let mut full = partition.clone();
            encode_value(&KeyValue::S(key.clone()), &mut full);
            prop_assert_eq!(range_contains(&range, &full), key.starts_with(&prefix));
        }
    }

    fn range_contains(range: &ByteRange, key: &[u8]) -> bool {
        let key = key.to_vec();
        let above_low = match &range.0 {
            Bound::Included(low) => key >= *low,
            Bound::Excluded(low) => key > *low,
            Bound::Unbounded => true,
        };
        let below_high = match &range.1 {
            Bound::Included(high) => key <= *high,
            Bound::Excluded(high) => key < *high,
            Bound::Unbounded => true,
        };
        above_low && below_high
    }

    #[test]
    fn partition_ranges_do_not_reach_other_partition_keys() {
        let a = encoded(&KeyValue::S("a".into()));
        let range = condition_range(&a, None).unwrap();
        let mut other = encoded(&KeyValue::S("a\u{0}".into()));
        other.extend_from_slice(&encoded(&KeyValue::S("x".into())));
        assert!(!range_contains(&range, &other));
        let mut own = a.clone();
        own.extend_from_slice(&encoded(&KeyValue::S("\u{0}".into())));
        assert!(range_contains(&range, &own));
    }

    #[test]
    fn begins_with_has_no_range_on_numbers() {
        let condition = RangeCondition::BeginsWith(KeyValue::N(Number::zero()));
        assert_eq!(condition_range(b"p", Some(&condition)), Err(NotARange));
    }

    #[test]
    fn prefix_end_skips_trailing_ff() {
        assert_eq!(prefix_end(&[1, 0xFF, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
