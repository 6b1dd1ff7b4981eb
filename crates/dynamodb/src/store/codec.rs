//! The stored form of items (and of index entries' projected items): a small binary codec
//! with a leading format version.
//!
//! Why not serde JSON of the wire form: numbers would be re-parsed from text on every read
//! and binaries base64-expanded by a third; this codec writes numbers as their normalized
//! parts and binaries as they are, and decodes without any parsing of text (see
//! ARCHITECTURE's figures). Values round-trip exactly: sets keep their order, numbers
//! their parts.
//!
//! Layout (varints are LEB128): `version`, then an item is `count` then per attribute
//! `name_len name value`; a value is a tag byte and its payload: `S`/`B` `len bytes`,
//! `N` `sign exponent(zigzag) digit_count digits(two per byte)`, `BOOL`/`NULL` nothing,
//! `M` an item, `L`/`SS`/`NS`/`BS` `count` then elements. Decoding checks every length
//! against the bytes left and bounds nesting, so damaged bytes are
//! [`StoreError::Corrupt`], never a panic or a huge allocation.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::StoreError;
use crate::limits::ATTRIBUTE_DEPTH_MAX;
use crate::value::{AttrValue, Item, Number};

/// The format of every stored item record; a record of another version is corrupt (or
/// written by a newer Rheo).
pub const ITEM_FORMAT: u8 = 1;

/// Deepest nesting the decoder accepts: DynamoDB's limit, with room for the top level.
const DECODE_DEPTH_MAX: usize = ATTRIBUTE_DEPTH_MAX + 1;

const TAG_S: u8 = 0;
const TAG_N: u8 = 1;
const TAG_B: u8 = 2;
const TAG_FALSE: u8 = 3;
const TAG_TRUE: u8 = 4;
const TAG_NULL: u8 = 5;
const TAG_M: u8 = 6;
const TAG_L: u8 = 7;
const TAG_SS: u8 = 8;
const TAG_NS: u8 = 9;
const TAG_BS: u8 = 10;

/// The stored bytes of `item`.
pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(ITEM_FORMAT);
    encode_map(item, &mut out);
    out
}

/// The item stored as `bytes`.
pub fn decode_item(bytes: &[u8]) -> Result<Item, StoreError> {
    let mut reader = Reader { bytes, at: 0 };
    let version = reader.byte()?;
    if version != ITEM_FORMAT {
        return Err(corrupt(format!("item record of unknown format version {version}")));
    }
    let item = reader.map(0)?;
    if reader.at != bytes.len() {
        return Err(corrupt("bytes left after an item record".into()));
    }
    Ok(item)
}

fn encode_map(map: &BTreeMap<String, AttrValue>, out: &mut Vec<u8>) {
    write_varint(map.len() as u64, out);
    for (name, value) in map {
        write_bytes(name.as_bytes(), out);
        encode_value(value, out);
    }
}

fn encode_value(value: &AttrValue, out: &mut Vec<u8>) {
    match value {
        AttrValue::S(text) => {
            out.push(TAG_S);
            write_bytes(text.as_bytes(), out);
        }
        AttrValue::N(number) => {
            out.push(TAG_N);
            encode_number(number, out);
        }
        AttrValue::B(bytes) => {
            out.push(TAG_B);
            write_bytes(bytes, out);
        }
        AttrValue::Bool(false) => out.push(TAG_FALSE),
        AttrValue::Bool(true) => out.push(TAG_TRUE),
        AttrValue::Null => out.push(TAG_NULL),
        AttrValue::M(map) => {
            out.push(TAG_M);
            encode_map(map, out);
        }
        AttrValue::L(values) => encode_list(TAG_L, values, out, encode_value),
        AttrValue::Ss(texts) => encode_list(TAG_SS, texts, out, |text, out| write_bytes(text.as_bytes(), out)),
        AttrValue::Ns(numbers) => encode_list(TAG_NS, numbers, out, encode_number),
        AttrValue::Bs(values) => encode_list(TAG_BS, values, out, |bytes, out| write_bytes(bytes, out)),
    }
}

fn encode_list<T>(tag: u8, elements: &[T], out: &mut Vec<u8>, encode: impl Fn(&T, &mut Vec<u8>)) {
    out.push(tag);
    write_varint(elements.len() as u64, out);
    elements.iter().for_each(|element| encode(element, out));
}

fn encode_number(number: &Number, out: &mut Vec<u8>) {
    out.push(u8::from(number.is_negative()));
    let exponent = number.exponent();
    write_varint(((exponent << 1) ^ (exponent >> 31)) as u32 as u64, out);
    let digits = number.digits();
    write_varint(digits.len() as u64, out);
    for pair in digits.chunks(2) {
        let low = pair.get(1).copied().unwrap_or(0);
        out.push((pair[0] << 4) | low);
    }
}

fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn write_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, StoreError> {
        let byte = *self.bytes.get(self.at).ok_or_else(|| corrupt("item record cut short".into()))?;
        self.at += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(corrupt("an overlong length in an item record".into()))
    }

    /// A count of elements that each take at least one byte: never more than the bytes
    /// left, so a damaged count cannot make the decoder allocate without bound.
    fn count(&mut self) -> Result<usize, StoreError> {
        let count = self.varint()?;
        match usize::try_from(count) {
            Ok(count) if count <= self.left() => Ok(count),
            _ => Err(corrupt(format!("an item record claims {count} elements"))),
        }
    }

    fn slice(&mut self) -> Result<&[u8], StoreError> {
        let len = self.count()?;
        let slice = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(slice)
    }

    fn text(&mut self) -> Result<String, StoreError> {
        let bytes = self.slice()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("a string in an item record is not UTF-8".into()))
    }

    fn map(&mut self, depth: usize) -> Result<BTreeMap<String, AttrValue>, StoreError> {
        let count = self.count()?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let name = self.text()?;
            let value = self.value(depth)?;
            if map.insert(name, value).is_some() {
                return Err(corrupt("an attribute stored twice in one item record".into()));
            }
        }
        Ok(map)
    }

    fn value(&mut self, depth: usize) -> Result<AttrValue, StoreError> {
        if depth > DECODE_DEPTH_MAX {
            return Err(corrupt("an item record nests deeper than DynamoDB allows".into()));
        }
        Ok(match self.byte()? {
            TAG_S => AttrValue::S(self.text()?),
            TAG_N => AttrValue::N(self.number()?),
            TAG_B => AttrValue::B(Bytes::copy_from_slice(self.slice()?)),
            TAG_FALSE => AttrValue::Bool(false),
            TAG_TRUE => AttrValue::Bool(true),
            TAG_NULL => AttrValue::Null,
            TAG_M => AttrValue::M(self.map(depth + 1)?),
            TAG_L => {
                let count = self.count()?;
                AttrValue::L((0..count).map(|_| self.value(depth + 1)).collect::<Result<_, _>>()?)
            }
            TAG_SS => {
                let count = self.count()?;
                AttrValue::Ss((0..count).map(|_| self.text()).collect::<Result<_, _>>()?)
            }
            TAG_NS => {
                let count = self.count()?;
                AttrValue::Ns((0..count).map(|_| self.number()).collect::<Result<_, _>>()?)
            }
            TAG_BS => {
                let count = self.count()?;
                AttrValue::Bs((0..count).map(|_| self.slice().map(Bytes::copy_from_slice)).collect::<Result<_, _>>()?)
            }
            tag => return Err(corrupt(format!("unknown value tag {tag} in an item record"))),
        })
    }

    fn number(&mut self) -> Result<Number, StoreError> {
        let negative = match self.byte()? {
            0 => false,
            1 => true,
            sign => return Err(corrupt(format!("number sign {sign} in an item record"))),
        };
        let zigzag =
            u32::try_from(self.varint()?).map_err(|_| corrupt("a number's exponent is out of range".into()))?;
        let exponent = ((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32);
        let count = self.varint()?;
        let count = match usize::try_from(count) {
            Ok(count) if count.div_ceil(2) <= self.left() => count,
            _ => return Err(corrupt(format!("a number claims {count} digits"))),
        };
        let mut digits = Vec::with_capacity(count);
        for index in 0..count.div_ceil(2) {
            let byte = self.byte()?;
            digits.push(byte >> 4);
            if 2 * index + 1 < count {
                digits.push(byte & 0x0F);
            } else if byte & 0x0F != 0 {
                return Err(corrupt("a number's padding digit is not zero".into()));
            }
        }
        Number::from_parts(negative, digits, exponent).ok_or_else(|| corrupt("a number is not normalized".into()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The number with these digits (leading and trailing zeros trimmed).
    pub(crate) fn normalized(negative: bool, mut digits: Vec<u8>, exponent: i32) -> Number {
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let leading_zeros = digits.iter().take_while(|&&digit| digit == 0).count();
        digits.drain(..leading_zeros);
        if digits.is_empty() {
            return Number::zero();
        }
        Number::from_parts(negative, digits, exponent).unwrap()
    }

    /// Any number in the normalized representation (not only DynamoDB's range: the codec
    /// must round-trip whatever the value type holds).
    pub(crate) fn number() -> impl Strategy<Value = Number> {
        (any::<bool>(), proptest::collection::vec(0u8..=9, 0..40), any::<i32>())
            .prop_map(|(negative, digits, exponent)| normalized(negative, digits, exponent))
    }

    pub(crate) fn value() -> impl Strategy<Value = AttrValue> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..8).prop_map(Bytes::from);
        let leaf = prop_oneof![
            ".{0,8}".prop_map(AttrValue::S),
            number().prop_map(AttrValue::N),
            bytes().prop_map(AttrValue::B),
            any::<bool>().prop_map(AttrValue::Bool),
            Just(AttrValue::Null),
            proptest::collection::vec(".{0,4}", 1..4).prop_map(AttrValue::Ss),
            proptest::collection::vec(number(), 1..4).prop_map(AttrValue::Ns),
            proptest::collection::vec(bytes(), 1..4).prop_map(AttrValue::Bs),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::btree_map(".{0,4}", inner.clone(), 0..4).prop_map(AttrValue::M),
                proptest::collection::vec(inner, 0..4).prop_map(AttrValue::L),
            ]
        })
    }

    pub(crate) fn item() -> impl Strategy<Value = Item> {
        proptest::collection::btree_map("[a-z]{1,6}", value(), 0..6)
    }

    proptest! {
        #[test]
        fn items_round_trip(item in item()) {
            prop_assert_eq!(decode_item(&encode_item(&item)).unwrap(), item);
        }

        /// Damaged records decode to an item or `Corrupt`, never a panic.
        #[test]
        fn damaged_records_never_panic(item in item(), cut in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)) {
            let mut bytes = encode_item(&item);
            for (at, byte) in flips {
                let at = at.index(bytes.len());
                bytes[at] ^= byte;
            }
            let cut = cut.index(bytes.len() + 1);
            let _ = decode_item(&bytes[..cut]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_item(&bytes);
        }
    }

    #[test]
    fn refuses_unknown_versions_and_trailing_bytes() {
        let mut bytes = encode_item(&Item::new());
        bytes[0] = 9;
        assert!(matches!(decode_item(&bytes), Err(StoreError::Corrupt(_))));
        let mut bytes = encode_item(&Item::new());
        bytes.push(0);
        assert!(matches!(decode_item(&bytes), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn refuses_nesting_beyond_the_limit() {
        let mut value = AttrValue::Null;
        for _ in 0..DECODE_DEPTH_MAX + 1 {
            value = AttrValue::L(vec![value]);
        }
        let item = Item::from([("deep".to_string(), value)]);
        assert!(matches!(decode_item(&encode_item(&item)), Err(StoreError::Corrupt(_))));
    }
}
