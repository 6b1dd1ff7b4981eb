//! The declarative model: every member's wire type and constraints, transcribed from the
//! botocore service model (`kinesis/2013-12-02/service-2.json`).
//!
//! AWS generates its request validation from this model, so we do too: one generic
//! type-check pass and one generic validation pass walk these tables, and the exact
//! `SerializationException` / `ValidationException` texts fall out of the table data
//! instead of being hand-written per operation.

use std::sync::LazyLock;

use regex::Regex;

use crate::types::{is_canonical_decimal, HASH_KEY_MAX_DIGITS, SEQUENCE_NUMBER_MAX_DIGITS};

/// The wire type of a member plus the constraints the model attaches to it.
#[derive(Debug)]
pub(crate) enum Shape {
    String(StringShape),
    Blob(LengthRange),
    Integer(ValueRange),
    Long(ValueRange),
    Boolean,
    Timestamp,
    List(ListShape),
    Map(MapShape),
    Structure(&'static StructShape),
    /// A member kept as opaque JSON: type-checked as a structure (an object), its
    /// content neither checked nor validated. Used only where the service accepts a
    /// member it does not interpret (see `firehose::model`).
    Document,
}

/// Inclusive bounds on a length (characters, bytes, elements or entries).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LengthRange {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// Inclusive bounds on a numeric value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ValueRange {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct StringShape {
    pub length: LengthRange,
    pub pattern: Option<Pattern>,
    pub allowed_values: Option<&'static [&'static str]>,
    /// The model marks the value sensitive: AWS prints `*** sensitive data ***` instead
    /// of it in validation messages.
    pub sensitive: bool,
}

#[derive(Debug)]
pub(crate) struct ListShape {
    pub member: &'static Shape,
    pub length: LengthRange,
}

#[derive(Debug)]
pub(crate) struct MapShape {
    pub key: &'static Shape,
    pub value: &'static Shape,
    pub length: LengthRange,
}

/// A structure: its model name (used when AWS prints a list of them) and its members in
/// the order AWS reports their validation errors.
#[derive(Debug)]
pub(crate) struct StructShape {
    pub name: &'static str,
    pub members: &'static [Member],
}

#[derive(Debug)]
pub(crate) struct Member {
    /// PascalCase wire name.
    pub name: &'static str,
    pub required: bool,
    pub shape: &'static Shape,
}

impl StructShape {
    pub(crate) fn member_index(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|member| member.name == name)
    }
}

pub(crate) const UNBOUNDED: LengthRange = LengthRange { min: None, max: None };

pub(crate) const fn length(min: u64, max: u64) -> LengthRange {
    LengthRange { min: Some(min), max: Some(max) }
}

pub(crate) const fn string(min: u64, max: u64, pattern: Option<Pattern>) -> Shape {
    Shape::String(StringShape { length: length(min, max), pattern, allowed_values: None, sensitive: false })
}

const fn pattern_only(pattern: Pattern) -> Shape {
    Shape::String(StringShape { length: UNBOUNDED, pattern: Some(pattern), allowed_values: None, sensitive: false })
}

pub(crate) const fn enumeration(values: &'static [&'static str]) -> Shape {
    Shape::String(StringShape { length: UNBOUNDED, pattern: None, allowed_values: Some(values), sensitive: false })
}

pub(crate) const fn integer(min: Option<i64>, max: Option<i64>) -> Shape {
    Shape::Integer(ValueRange { min, max })
}

pub(crate) const fn list_of(member: &'static Shape, length: LengthRange) -> Shape {
    Shape::List(ListShape { member, length })
}

/// The string patterns the model uses. Each is matched against the whole value (Java
/// `Pattern.matches` semantics) and printed in its unanchored model form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `[a-zA-Z0-9_.-]+`: stream, shard and consumer names.
    NameCharacters,
    HashKey,
    SequenceNumber,
    StreamId,
    StreamArn,
    ResourceArn,
    ConsumerArn,
    /// Any other model pattern, compiled on first use (Firehose's model).
    Regex(&'static ModelRegex),
}

/// A model pattern matched with the `regex` crate: its text as AWS prints it and a
/// source rewritten for the `regex` crate with Java's semantics (ASCII `\d` and `\w`,
/// whole-value match).
#[derive(Debug)]
pub(crate) struct ModelRegex {
    pub display: &'static str,
    pub compiled: LazyLock<Option<Regex>>,
}

impl ModelRegex {
    /// `source` must already be anchored and in `regex` syntax; `None` (never in a
    /// tested build) fails closed.
    pub(crate) const fn new(display: &'static str, compile: fn() -> Option<Regex>) -> Self {
        Self { display, compiled: LazyLock::new(compile) }
    }
}

impl PartialEq for ModelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.display == other.display
    }
}

impl Eq for ModelRegex {}

impl Pattern {
    /// The pattern as AWS prints it in validation messages: the model text without the
    /// `^…$` anchors newer models added (the AWS-recorded messages predate them).
    pub(crate) fn display(self) -> &'static str {
        match self {
            Pattern::NameCharacters => "[a-zA-Z0-9_.-]+",
            Pattern::HashKey => "0|([1-9]\\d{0,38})",
            Pattern::SequenceNumber => "0|([1-9]\\d{0,128})",
            Pattern::StreamId => "[a-z0-9]{20}-[a-z0-9]{3}",
            Pattern::StreamArn => "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
            Pattern::ResourceArn => "arn:aws.*:kinesis:.*:\\d{12}:.*(stream|channel|queue)/\\S+",
            Pattern::Regex(regex) => regex.display,
            Pattern::ConsumerArn => {
                "(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"
            }
        }
    }

    pub(crate) fn matches(self, text: &str) -> bool {
        match self {
            Pattern::NameCharacters => {
                !text.is_empty()
                    && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
            }
            Pattern::HashKey => is_canonical_decimal(text, HASH_KEY_MAX_DIGITS),
            Pattern::SequenceNumber => is_canonical_decimal(text, SEQUENCE_NUMBER_MAX_DIGITS),
            Pattern::StreamId => {
                let bytes = text.as_bytes();
                let lower_alphanumeric = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
                bytes.len() == 24
                    && bytes.get(20) == Some(&b'-')
                    && bytes.iter().take(20).all(lower_alphanumeric)
                    && bytes.iter().skip(21).all(lower_alphanumeric)
            }
            Pattern::StreamArn => regex_matches(&STREAM_ARN_REGEX, text),
            Pattern::ResourceArn => regex_matches(&RESOURCE_ARN_REGEX, text),
            Pattern::ConsumerArn => regex_matches(&CONSUMER_ARN_REGEX, text),
            Pattern::Regex(regex) => regex.compiled.as_ref().is_some_and(|compiled| compiled.is_match(text)),
        }
    }
}

// The ARN patterns are rewritten for the `regex` crate with Java's default semantics:
// `.` excludes line terminators, `\d` and `\S` are ASCII-only, and the match is anchored
// at both ends because Java validates with `Pattern.matches`.
const JAVA_DOT: &str = r"[^\n\r\u{85}\u{2028}\u{2029}]";
const JAVA_NON_SPACE: &str = r"[^ \t\n\x0B\f\r]";

pub(crate) fn java_regex(template: &str) -> Option<Regex> {
    let source = template.replace("{DOT}", JAVA_DOT).replace("{NONSPACE}", JAVA_NON_SPACE);
    Regex::new(&format!("^(?:{source})$")).ok()
}

static STREAM_ARN_REGEX: LazyLock<Option<Regex>> =
    LazyLock::new(|| java_regex("arn:aws{DOT}*:kinesis:{DOT}*:[0-9]{12}:stream/{NONSPACE}+"));
static RESOURCE_ARN_REGEX: LazyLock<Option<Regex>> =
    LazyLock::new(|| java_regex("arn:aws{DOT}*:kinesis:{DOT}*:[0-9]{12}:{DOT}*(stream|channel|queue)/{NONSPACE}+"));
static CONSUMER_ARN_REGEX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    java_regex("(arn):aws{DOT}*:kinesis:{DOT}*:[0-9]{12}:{DOT}*stream/[a-zA-Z0-9_.-]+/consumer/[a-zA-Z0-9_.-]+:[0-9]+")
});

fn regex_matches(regex: &LazyLock<Option<Regex>>, text: &str) -> bool {
    // The sources are constants covered by a unit test, so `None` cannot happen in a
    // tested build; failing closed keeps a broken pattern visible as validation errors.
    regex.as_ref().is_some_and(|regex| regex.is_match(text))
}

/// Scalar member shapes of the model, named after the model's shape names.
pub(crate) mod scalars {
    use super::*;

    pub(crate) const STREAM_NAME: Shape = string(1, 128, Some(Pattern::NameCharacters));
    pub(crate) const STREAM_ARN: Shape = string(1, 2048, Some(Pattern::StreamArn));
    pub(crate) const STREAM_ID: Shape = string(1, 24, Some(Pattern::StreamId));
    pub(crate) const SHARD_ID: Shape = string(1, 128, Some(Pattern::NameCharacters));
    pub(crate) const CONSUMER_NAME: Shape = string(1, 128, Some(Pattern::NameCharacters));
    pub(crate) const CONSUMER_ARN: Shape = string(1, 2048, Some(Pattern::ConsumerArn));
    pub(crate) const RESOURCE_ARN: Shape = string(1, 2048, Some(Pattern::ResourceArn));
    pub(crate) const SEQUENCE_NUMBER: Shape = pattern_only(Pattern::SequenceNumber);
    pub(crate) const HASH_KEY: Shape = pattern_only(Pattern::HashKey);
    pub(crate) const PARTITION_KEY: Shape = string(1, 256, None);
    pub(crate) const NEXT_TOKEN: Shape = string(1, 1_048_576, None);
    pub(crate) const TAG_KEY: Shape = string(1, 128, None);
    pub(crate) const TAG_VALUE: Shape = string(0, 256, None);
    pub(crate) const KEY_ID: Shape = string(1, 2048, None);
    pub(crate) const SHARD_ITERATOR: Shape = string(1, 512, None);
    /// `Policy`, `ErrorCode`, `ErrorMessage`: strings without constraints.
    pub(crate) const PLAIN_STRING: Shape =
        Shape::String(StringShape { length: UNBOUNDED, pattern: None, allowed_values: None, sensitive: false });

    /// `Data`: up to 10 MiB since large-record support; the per-stream record size limit
    /// is business logic.
    pub(crate) const DATA: Shape = Shape::Blob(length(0, 10_485_760));

    pub(crate) const BOOLEAN: Shape = Shape::Boolean;
    pub(crate) const TIMESTAMP: Shape = Shape::Timestamp;

    pub(crate) const POSITIVE_INTEGER: Shape = integer(Some(1), None);
    pub(crate) const NATURAL_INTEGER: Shape = integer(Some(0), None);
    pub(crate) const RETENTION_PERIOD_HOURS: Shape = integer(None, None);
    pub(crate) const MAX_RECORD_SIZE_IN_KIB: Shape = integer(Some(1024), Some(10_240));
    /// `DescribeStreamInputLimit`, `GetRecordsInputLimit`, `ListShardsInputLimit`,
    /// `ListStreamConsumersInputLimit`, `ListStreamsInputLimit`.
    pub(crate) const LIMIT_10000: Shape = integer(Some(1), Some(10_000));
    pub(crate) const LIST_TAGS_FOR_STREAM_LIMIT: Shape = integer(Some(1), Some(50));
    /// `ShardCountObject`, `ConsumerCountObject`, `*CountObject`: 0..=1000000.
    pub(crate) const COUNT_OBJECT: Shape = integer(Some(0), Some(1_000_000));
    pub(crate) const MILLIS_BEHIND_LATEST: Shape = Shape::Long(ValueRange { min: Some(0), max: None });

    pub(crate) const TAG_MAP: Shape = Shape::Map(MapShape { key: &TAG_KEY, value: &TAG_VALUE, length: length(1, 200) });
    pub(crate) const TAG_KEY_LIST: Shape = list_of(&TAG_KEY, length(1, 50));
    pub(crate) const SHARD_ID_LIST: Shape = list_of(&SHARD_ID, UNBOUNDED);
    pub(crate) const STREAM_NAME_LIST: Shape = list_of(&STREAM_NAME, UNBOUNDED);
}

/// Length helpers shared by the validator and the fast paths, so both agree on what a
/// "length" is.
pub(crate) mod measure {
    /// String lengths are Java `String.length()`: UTF-16 code units.
    pub(crate) fn string_length(text: &str) -> u64 {
        if text.is_ascii() {
            text.len() as u64
        } else {
            text.encode_utf16().count() as u64
        }
    }
}

impl LengthRange {
    pub(crate) fn contains(&self, length: u64) -> bool {
        self.min.is_none_or(|min| length >= min) && self.max.is_none_or(|max| length <= max)
    }
}

impl ValueRange {
    pub(crate) fn contains(&self, value: i64) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }
}

impl StringShape {
    /// True when `text` satisfies every constraint; the fast paths use this to decide
    /// whether the slow path must produce the exact error.
    pub(crate) fn accepts(&self, text: &str) -> bool {
        self.pattern.is_none_or(|pattern| pattern.matches(text))
            && self.length.contains(measure::string_length(text))
            && self.allowed_values.is_none_or(|values| values.contains(&text))
    }
}

impl Shape {
    pub(crate) fn accepts_string(&self, text: &str) -> bool {
        match self {
            Shape::String(shape) => shape.accepts(text),
            _ => false,
        }
    }

    pub(crate) fn accepts_blob_length(&self, length: usize) -> bool {
        match self {
            Shape::Blob(range) => range.contains(length as u64),
            _ => false,
        }
    }

    pub(crate) fn accepts_integer(&self, value: i64) -> bool {
        match self {
            Shape::Integer(range) | Shape::Long(range) => range.contains(value),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_regexes_compile() {
        assert!(STREAM_ARN_REGEX.is_some());
        assert!(RESOURCE_ARN_REGEX.is_some());
        assert!(CONSUMER_ARN_REGEX.is_some());
    }

    #[test]
    fn patterns_match_whole_values() {
        assert!(Pattern::StreamArn.matches("arn:aws:kinesis:us-east-1:123456789012:stream/foo"));
        assert!(Pattern::StreamArn.matches("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b"));
        assert!(!Pattern::StreamArn.matches("arn:aws:kinesis:us-east-1:12345678901:stream/foo"));
        assert!(!Pattern::StreamArn.matches("arn:aws:kinesis:us-east-1:123456789012:stream/foo bar"));
        assert!(!Pattern::StreamArn.matches("xarn:aws:kinesis:us-east-1:123456789012:stream/foo"));
        assert!(Pattern::ResourceArn.matches("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1"));
        assert!(Pattern::ResourceArn.matches("arn:aws:kinesis:us-east-1:123456789012:queue/q"));
        assert!(Pattern::ConsumerArn.matches("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1525898737"));
        assert!(!Pattern::ConsumerArn.matches("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:"));
        assert!(Pattern::StreamId.matches("abcdefghij0123456789-abc"));
        assert!(!Pattern::StreamId.matches("abcdefghij0123456789_abc"));
        assert!(Pattern::NameCharacters.matches("a-b_c.d"));
        assert!(!Pattern::NameCharacters.matches(""));
        assert!(!Pattern::NameCharacters.matches("a b"));
    }

    #[test]
    fn string_lengths_count_utf16_units() {
        assert_eq!(measure::string_length("abc"), 3);
        assert_eq!(measure::string_length("é"), 1);
        assert_eq!(measure::string_length("😀"), 2);
    }
}
