//! Scalar wire types that carry more meaning than a bare `String` or integer.
//!
//! Kinesis timestamps travel as epoch *seconds* in JSON and epoch *milliseconds* in CBOR,
//! so the in-memory form is the one unit both encodings can represent exactly:
//! milliseconds. Hash keys and sequence numbers are decimal strings on the wire whose
//! magnitude (up to 129 digits for sequence numbers) does not fit any machine integer,
//! so they stay strings, but strings that have passed the model's pattern.

use std::fmt;

/// A point in time with millisecond precision, stored as milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    epoch_millis: i64,
}

impl Timestamp {
    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub const fn from_epoch_millis(epoch_millis: i64) -> Self {
        Self { epoch_millis }
    }

    /// Builds a timestamp from (possibly fractional) seconds since the Unix epoch, rounding
    /// to the nearest millisecond. Rounding rather than truncating matters because decimal
    /// fractions such as `.48` are not exact in binary floating point.
    pub fn from_epoch_seconds_f64(epoch_seconds: f64) -> Self {
        // `as` saturates on overflow and maps NaN to 0, which is the lenient behaviour we
        // want for garbage input instead of a panic.
        Self::from_epoch_millis((epoch_seconds * 1000.0).round() as i64)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn epoch_millis(self) -> i64 {
        self.epoch_millis
    }

    /// Appends the JSON form: epoch seconds with the millisecond fraction, trailing zeros
    /// trimmed (`1459799926.48`, `1459799926`, `-1.5`).
    pub(crate) fn write_json_seconds(self, out: &mut Vec<u8>) {
        let millis = i128::from(self.epoch_millis);
        if millis < 0 {
            out.push(b'-');
        }
        let magnitude = millis.unsigned_abs();
        write_u128(out, magnitude / 1000);
        let fraction = (magnitude % 1000) as u32;
        if fraction != 0 {
            out.push(b'.');
            let digits =
                [b'0' + (fraction / 100) as u8, b'0' + (fraction / 10 % 10) as u8, b'0' + (fraction % 10) as u8];
            let significant = if fraction.is_multiple_of(100) {
                1
            } else if fraction.is_multiple_of(10) {
                2
            } else {
                3
            };
            out.extend_from_slice(digits.get(..significant).unwrap_or(&digits));
        }
    }
}

/// Appends the decimal digits of `value`.
pub(crate) fn write_u128(out: &mut Vec<u8>, value: u128) {
    // itoa divides 64 bits at a time: a generic u128 division per digit cost about 2 %
    // of the server's time writing the arrival timestamps of a GetRecords answer.
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends the decimal form of a signed integer.
pub(crate) fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u128(out, u128::from(value.unsigned_abs()));
}

/// A value did not match the pattern its type requires.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` does not satisfy the {kind} pattern {pattern}")]
pub struct InvalidValue {
    kind: &'static str,
    pattern: &'static str,
    value: String,
}

/// True when `text` is `0` or a decimal number without leading zeros of at most
/// `max_digits` digits: the shape of the model's `HashKey` and `SequenceNumber` patterns.
pub(crate) fn is_canonical_decimal(text: &str, max_digits: usize) -> bool {
    let bytes = text.as_bytes();
    match bytes.split_first() {
        None => false,
        Some((b'0', rest)) => rest.is_empty(),
        Some((first, _)) => first.is_ascii_digit() && bytes.len() <= max_digits && bytes.iter().all(u8::is_ascii_digit),
    }
}

/// Digits allowed by the `HashKey` pattern `0|([1-9]\d{0,38})`.
pub(crate) const HASH_KEY_MAX_DIGITS: usize = 39;
/// Digits allowed by the `SequenceNumber` pattern `0|([1-9]\d{0,128})`.
pub(crate) const SEQUENCE_NUMBER_MAX_DIGITS: usize = 129;

/// A 128-bit hash key in the decimal form the wire uses (`0` ..= 39 digits).
///
/// The pattern admits values up to `10^39 - 1`, which is larger than `2^128 - 1`; such
/// keys pass request validation and must be rejected by the engine as
/// `InvalidArgumentException` (see [`HashKey::to_u128`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashKey(String);

impl HashKey {
    /// Checks `text` against the `HashKey` pattern.
    pub fn parse(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text = text.into();
        if is_canonical_decimal(&text, HASH_KEY_MAX_DIGITS) {
            Ok(Self(text))
        } else {
            Err(InvalidValue { kind: "HashKey", pattern: "0|([1-9]\\d{0,38})", value: text })
        }
    }

    /// The hash key of a 128-bit value.
    pub fn from_u128(value: u128) -> Self {
        let mut digits = Vec::with_capacity(39);
        write_u128(&mut digits, value);
        Self(String::from_utf8(digits).unwrap_or_default())
    }

    /// The numeric value, or `None` when it exceeds `2^128 - 1`.
    pub fn to_u128(&self) -> Option<u128> {
        self.0.parse().ok()
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives back the decimal text.
    pub fn into_string(self) -> String {
        self.0
    }

    pub(crate) fn from_validated(text: String) -> Self {
        Self(text)
    }
}

/// A record sequence number in the decimal form the wire uses (`0` ..= 129 digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SequenceNumber(String);

impl SequenceNumber {
    /// Checks `text` against the `SequenceNumber` pattern.
    pub fn parse(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text = text.into();
        if is_canonical_decimal(&text, SEQUENCE_NUMBER_MAX_DIGITS) {
            Ok(Self(text))
        } else {
            Err(InvalidValue { kind: "SequenceNumber", pattern: "0|([1-9]\\d{0,128})", value: text })
        }
    }

    /// The sequence number of a 128-bit value.
    pub fn from_u128(value: u128) -> Self {
        let mut digits = Vec::with_capacity(39);
        write_u128(&mut digits, value);
        Self(String::from_utf8(digits).unwrap_or_default())
    }

    /// A sequence number the service itself formatted, which is canonical by
    /// construction: answers carry one per record, so the pattern is checked only in
    /// debug builds.
    pub fn from_issued(text: String) -> Self {
        debug_assert!(is_canonical_decimal(&text, SEQUENCE_NUMBER_MAX_DIGITS), "{text}");
        Self(text)
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives back the decimal text.
    pub fn into_string(self) -> String {
        self.0
    }

    pub(crate) fn from_validated(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Display for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_seconds(millis: i64) -> String {
        let mut out = Vec::new();
        Timestamp::from_epoch_millis(millis).write_json_seconds(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn json_seconds_keep_millisecond_fraction_without_trailing_zeros() {
        assert_eq!(json_seconds(1_459_799_926_480), "1459799926.48");
        assert_eq!(json_seconds(1_459_799_926_000), "1459799926");
        assert_eq!(json_seconds(1_459_799_926_005), "1459799926.005");
        assert_eq!(json_seconds(1_459_799_926_050), "1459799926.05");
        assert_eq!(json_seconds(-1_500), "-1.5");
        assert_eq!(json_seconds(0), "0");
        assert_eq!(json_seconds(i64::MIN), "-9223372036854775.808");
    }

    #[test]
    fn seconds_round_to_the_nearest_millisecond() {
        assert_eq!(Timestamp::from_epoch_seconds_f64(1459799926.48).epoch_millis(), 1_459_799_926_480);
        assert_eq!(Timestamp::from_epoch_seconds_f64(f64::NAN).epoch_millis(), 0);
        assert_eq!(Timestamp::from_epoch_seconds_f64(f64::INFINITY).epoch_millis(), i64::MAX);
    }

    #[test]
    fn hash_keys_follow_the_model_pattern() {
        assert!(HashKey::parse("0").is_ok());
        assert!(HashKey::parse("340282366920938463463374607431768211455").is_ok());
        assert!(HashKey::parse("01").is_err());
        assert!(HashKey::parse("").is_err());
        assert!(HashKey::parse("1".repeat(40)).is_err());
        assert_eq!(HashKey::parse("9".repeat(39)).ok().and_then(|key| key.to_u128()), None);
        assert_eq!(HashKey::from_u128(u128::MAX).as_str(), "340282366920938463463374607431768211455");
        assert!(SequenceNumber::parse("1".repeat(129)).is_ok());
        assert!(SequenceNumber::parse("1".repeat(130)).is_err());
    }
}

/// A member the service accepts without interpreting, kept as the JSON object the client
/// sent so that it can be stored and described back unchanged.
///
/// Only members whose content Rheo never reads are documents (see the Firehose model);
/// everything Rheo acts on is typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Document(serde_json::Value);

impl Document {
    /// Wraps a JSON value.
    pub fn new(json: serde_json::Value) -> Self {
        Document(json)
    }

    /// The JSON value.
    pub fn as_json(&self) -> &serde_json::Value {
        &self.0
    }

    /// The JSON value, owned.
    pub fn into_json(self) -> serde_json::Value {
        self.0
    }
}
