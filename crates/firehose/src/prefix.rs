//! S3 object keys: `Prefix` / `ErrorOutputPrefix` expressions and the object-name suffix.
//!
//! An object key is `<evaluated prefix><stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>`.
//! Prefixes may embed `!{namespace:value}` expressions:
//! - `!{timestamp:<Java DateTimeFormatter pattern>}`, evaluated at the approximate arrival time of
//!   the oldest record in the object, in UTC or the destination's `CustomTimeZone`;
//! - `!{firehose:error-output-type}` (ErrorOutputPrefix only) and `!{firehose:random-string}`;
//! - `!{partitionKeyFromQuery:<key>}` / `!{partitionKeyFromLambda:<key>}` (dynamic partitioning only).
//!
//! [`validate`] enforces AWS's configuration rules at create/update time; [`KeyTemplate`] holds a
//! parsed prefix so the delivery path parses once and evaluates per object.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;
use rand::Rng;

/// Longest `Prefix` / `ErrorOutputPrefix` a configuration may hold (API model constraint).
pub const MAX_PREFIX_CHARS: usize = 1024;
/// Longest prefix after evaluation; AWS fails the delivery beyond this.
pub const MAX_EVALUATED_PREFIX_CHARS: usize = 512;
/// Length of each `!{firehose:random-string}` value.
pub const RANDOM_STRING_CHARS: usize = 11;
/// Longest `CustomTimeZone` (API model constraint).
pub const MAX_TIME_ZONE_CHARS: usize = 50;

const RANDOM_STRING_ALPHABET: &[u8; 16] = b"0123456789abcdef";
/// Java's `DateTimeFormatter` accepts a value width of at most 19 digits.
const MAX_YEAR_LETTERS: usize = 19;
/// Java's fraction-of-second prints at most nanosecond precision.
const MAX_FRACTION_LETTERS: usize = 9;

const NAMESPACE_TIMESTAMP: &str = "timestamp";
const NAMESPACE_FIREHOSE: &str = "firehose";
const NAMESPACE_PARTITION_KEY_FROM_QUERY: &str = "partitionKeyFromQuery";
const NAMESPACE_PARTITION_KEY_FROM_LAMBDA: &str = "partitionKeyFromLambda";
const FIREHOSE_ERROR_OUTPUT_TYPE: &str = "error-output-type";
const FIREHOSE_RANDOM_STRING: &str = "random-string";

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// What a key is evaluated against: one object's worth of facts.
#[derive(Debug, Clone, Copy)]
pub struct KeyContext<'a> {
    /// Approximate arrival time (ms since the epoch) of the oldest record in the object.
    pub arrival_ms: u64,
    pub time_zone: Tz,
    /// Value of `!{firehose:error-output-type}`, e.g. `processing-failed`; `None` outside error output.
    pub error_output_type: Option<&'a str>,
    /// The object's partition keys. JQ and Lambda keys share one map: a partition is one set of
    /// key values whichever processor produced them.
    pub partition_keys: &'a BTreeMap<String, String>,
}

/// Where a dynamic-partitioning key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKeySource {
    /// `partitionKeyFromQuery`: the inline JQ `MetadataExtraction` processor.
    Query,
    /// `partitionKeyFromLambda`: `metadata.partitionKeys` of a Lambda transform's response.
    Lambda,
}

/// A parsed `Prefix` or `ErrorOutputPrefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Timestamp(Vec<TimePart>),
    ErrorOutputType,
    RandomString,
    PartitionKey {
        source: PartitionKeySource,
        key: String,
    },
    /// Separates a non-empty prefix that does not end in `/` from an appended default part, as
    /// moto and LocalStack do; decided on the evaluated text because expressions can end a prefix.
    SlashUnlessEmptyOrTerminated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TimePart {
    Literal(String),
    /// A run of one pattern letter, already checked to be a count Java accepts for it.
    Field {
        field: TimeField,
        letters: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeField {
    Year,
    Month,
    DayOfMonth,
    DayOfYear,
    Hour24,
    Hour12,
    Minute,
    Second,
    FractionOfSecond,
    DayOfWeek,
    AmPm,
}

impl KeyTemplate {
    /// Parses a prefix exactly as written: no default time part, no implicit error prefix.
    pub fn parse(text: &str) -> Result<KeyTemplate, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("!{") {
            push_literal(&mut segments, &rest[..start]);
            let body_and_rest = &rest[start + 2..];
            let Some(end) = body_and_rest.find('}') else {
                return Err(format!("Unterminated expression '{}': !{{ may only start an expression", &rest[start..]));
            };
            segments.push(parse_expression(&body_and_rest[..end])?);
            rest = &body_and_rest[end + 1..];
        }
        push_literal(&mut segments, rest);
        Ok(KeyTemplate { segments })
    }

    /// The template that names delivered objects: `prefix` as written, followed by the default
    /// `yyyy/MM/dd/HH/` time part when it has no `timestamp` expression. A prefix with partition
    /// keys (dynamic partitioning) is used as written, as in AWS's dynamic-partitioning example.
    pub fn for_prefix(prefix: Option<&str>) -> Result<KeyTemplate, String> {
        let mut template = KeyTemplate::parse(prefix.unwrap_or(""))?;
        if !template.has_timestamp() && !template.has_partition_keys() {
            template.segments.push(Segment::SlashUnlessEmptyOrTerminated);
            template.segments.push(Segment::Timestamp(default_time_parts()));
        }
        Ok(template)
    }

    /// The template that names error output: `error_output_prefix` as written, or when it is
    /// absent or empty `<prefix>[/]<error-output-type>/yyyy/MM/dd/HH/`.
    pub fn for_error_prefix(error_output_prefix: Option<&str>, prefix: Option<&str>) -> Result<KeyTemplate, String> {
        if let Some(text) = error_output_prefix.filter(|text| !text.is_empty()) {
            return KeyTemplate::parse(text);
        }
        let mut template = KeyTemplate::parse(prefix.unwrap_or(""))?;
        template.segments.extend([
            Segment::SlashUnlessEmptyOrTerminated,
            Segment::ErrorOutputType,
            Segment::Literal("/".to_owned()),
            Segment::Timestamp(default_time_parts()),
        ]);
        Ok(template)
    }

    pub fn has_expressions(&self) -> bool {
        self.segments.iter().any(|segment| !matches!(segment, Segment::Literal(_)))
    }

    pub fn has_timestamp(&self) -> bool {
        self.segments.iter().any(|segment| matches!(segment, Segment::Timestamp(_)))
    }

    pub fn has_error_output_type(&self) -> bool {
        self.segments.iter().any(|segment| matches!(segment, Segment::ErrorOutputType))
    }

    pub fn has_partition_keys(&self) -> bool {
        self.partition_keys().next().is_some()
    }

    /// The partition keys the template reads, in order of appearance (repeats included).
    pub fn partition_keys(&self) -> impl Iterator<Item = (PartitionKeySource, &str)> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::PartitionKey { source, key } => Some((*source, key.as_str())),
            _ => None,
        })
    }

    /// Evaluates the template for one object. Every `timestamp` expression formats the same
    /// instant; every `random-string` draws a new value.
    pub fn evaluate(&self, ctx: &KeyContext) -> Result<String, String> {
        let instant = if self.has_timestamp() { Some(zoned_instant(ctx.arrival_ms, ctx.time_zone)?) } else { None };
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Timestamp(parts) => {
                    if let Some(instant) = &instant {
                        format_time(&mut out, parts, instant);
                    }
                }
                Segment::ErrorOutputType => {
                    let Some(error_output_type) = ctx.error_output_type else {
                        return Err(
                            "The expression !{firehose:error-output-type} has no value outside error output".to_owned()
                        );
                    };
                    out.push_str(error_output_type);
                }
                Segment::RandomString => push_random_string(&mut out),
                Segment::PartitionKey { source, key } => {
                    let Some(value) = ctx.partition_keys.get(key) else {
                        return Err(format!(
                            "The record has no value for partition key '{key}' used by !{{{}:{key}}}",
                            source.namespace()
                        ));
                    };
                    out.push_str(value);
                }
                Segment::SlashUnlessEmptyOrTerminated => {
                    if !out.is_empty() && !out.ends_with('/') {
                        out.push('/');
                    }
                }
            }
        }
        let evaluated_chars = out.chars().count();
        if evaluated_chars > MAX_EVALUATED_PREFIX_CHARS {
            return Err(format!(
                "The evaluated prefix is {evaluated_chars} characters long; at most {MAX_EVALUATED_PREFIX_CHARS} are allowed"
            ));
        }
        Ok(out)
    }
}

impl PartitionKeySource {
    fn namespace(self) -> &'static str {
        match self {
            PartitionKeySource::Query => NAMESPACE_PARTITION_KEY_FROM_QUERY,
            PartitionKeySource::Lambda => NAMESPACE_PARTITION_KEY_FROM_LAMBDA,
        }
    }
}

/// Checks `Prefix` / `ErrorOutputPrefix` for CreateDeliveryStream and UpdateDestination; the
/// error is the InvalidArgumentException message. An empty string counts as absent.
pub fn validate(
    prefix: Option<&str>,
    error_output_prefix: Option<&str>,
    dynamic_partitioning: bool,
) -> Result<(), String> {
    let prefix = prefix.unwrap_or("");
    let error_output_prefix = error_output_prefix.filter(|text| !text.is_empty());
    check_length("Prefix", prefix)?;
    if let Some(text) = error_output_prefix {
        check_length("ErrorOutputPrefix", text)?;
    }
    check_key_path("Prefix", prefix)?;
    if let Some(text) = error_output_prefix {
        check_key_path("ErrorOutputPrefix", text)?;
    }
    let prefix_template = KeyTemplate::parse(prefix).map_err(|problem| format!("Invalid Prefix: {problem}"))?;
    let error_template = error_output_prefix
        .map(KeyTemplate::parse)
        .transpose()
        .map_err(|problem| format!("Invalid ErrorOutputPrefix: {problem}"))?;

    if prefix_template.has_error_output_type() {
        return Err("The expression !{firehose:error-output-type} is not allowed in Prefix".to_owned());
    }
    if error_template.as_ref().is_some_and(KeyTemplate::has_partition_keys) {
        return Err("The expressions !{partitionKeyFromQuery:...} and !{partitionKeyFromLambda:...} are not allowed \
                    in ErrorOutputPrefix"
            .to_owned());
    }
    if dynamic_partitioning {
        if !prefix_template.has_partition_keys() {
            return Err("When dynamic partitioning is enabled, Prefix must contain at least one \
                        !{partitionKeyFromQuery:...} or !{partitionKeyFromLambda:...} expression"
                .to_owned());
        }
        if error_template.is_none() {
            return Err("ErrorOutputPrefix cannot be null or empty when dynamic partitioning is enabled".to_owned());
        }
    } else if prefix_template.has_partition_keys() {
        return Err("The expressions !{partitionKeyFromQuery:...} and !{partitionKeyFromLambda:...} are only allowed \
                    in Prefix when dynamic partitioning is enabled"
            .to_owned());
    }
    match &error_template {
        None if prefix_template.has_expressions() => {
            Err("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions".to_owned())
        }
        // Only an ErrorOutputPrefix with expressions must name the error output type: a plain
        // one such as `errors/` is accepted (rule 4 of AWS's semantic rules).
        Some(template) if template.has_expressions() && !template.has_error_output_type() => {
            Err("The ErrorOutputPrefix expression must contain at least one !{firehose:error-output-type} expression"
                .to_owned())
        }
        _ => Ok(()),
    }
}

/// Checks that a prefix, as configured or as evaluated, makes object keys that every
/// store can hold: no `.` or `..` segment (which would climb out of a local bucket's
/// folder, and which object_store refuses for every store), no empty segment inside
/// (`a//b`) and no control character. One leading `/` is allowed (stores drop it), and a
/// trailing one is what usually precedes the object name. A delivery to a key that breaks
/// these rules can never succeed, so such a prefix is refused up front rather than retried
/// forever.
pub fn check_key_path(field: &str, prefix: &str) -> Result<(), String> {
    if let Some(c) = prefix.chars().find(char::is_ascii_control) {
        return Err(format!("{field} {prefix:?} is not valid: it contains the control character {c:?}"));
    }
    let inner = prefix.strip_prefix('/').unwrap_or(prefix);
    // What follows the last `/` is the start of the object's name, not a folder of its own.
    let folders = inner.rsplit_once('/').map_or("", |(folders, _)| folders);
    for segment in folders.split('/').filter(|_| inner.contains('/')) {
        match segment {
            "." | ".." => {
                return Err(format!(
                    "{field} {prefix:?} is not valid: a path segment {segment:?} would leave the bucket's key space"
                ))
            }
            "" => return Err(format!("{field} {prefix:?} is not valid: it contains an empty path segment (//)")),
            _ => {}
        }
    }
    Ok(())
}

/// The evaluated `Prefix` of a delivered object (see [`KeyTemplate::for_prefix`]).
pub fn evaluate_prefix(prefix: Option<&str>, ctx: &KeyContext) -> Result<String, String> {
    KeyTemplate::for_prefix(prefix)?.evaluate(ctx)
}

/// The evaluated error prefix for `error_output_type` (see [`KeyTemplate::for_error_prefix`]).
pub fn evaluate_error_prefix(
    error_output_prefix: Option<&str>,
    prefix: Option<&str>,
    error_output_type: &str,
    ctx: &KeyContext,
) -> Result<String, String> {
    let ctx = KeyContext { error_output_type: Some(error_output_type), ..*ctx };
    KeyTemplate::for_error_prefix(error_output_prefix, prefix)?.evaluate(&ctx)
}

/// Resolves `CustomTimeZone`; absent or empty means UTC.
pub fn parse_time_zone(name: Option<&str>) -> Result<Tz, String> {
    let name = name.unwrap_or("");
    if name.is_empty() {
        return Ok(Tz::UTC);
    }
    // The API model admits only letters, '/' and '_' (pattern `^$|[a-zA-Z/_]+`).
    let well_formed = name.chars().count() <= MAX_TIME_ZONE_CHARS
        && name.chars().all(|c| c.is_ascii_alphabetic() || c == '/' || c == '_');
    if !well_formed {
        return Err(format!(
            "CustomTimeZone '{name}' must be at most {MAX_TIME_ZONE_CHARS} letters, '/' or '_' characters"
        ));
    }
    name.parse::<Tz>().map_err(|_| format!("CustomTimeZone '{name}' is not a valid time zone"))
}

/// The object-name suffix: `<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid v4><extension>`,
/// with the delivery time shown in `tz`.
pub fn object_name(stream_name: &str, version: u64, delivery_ms: u64, tz: Tz, extension: &str) -> String {
    // Only a time past chrono's range (year 262143) fails to convert, which no clock produces.
    let time = utc_instant(delivery_ms).unwrap_or_default().with_timezone(&tz);
    format!(
        "{stream_name}-{version}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{extension}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        uuid::Uuid::new_v4()
    )
}

fn check_length(field: &str, text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_PREFIX_CHARS {
        return Err(format!("{field} is {chars} characters long; at most {MAX_PREFIX_CHARS} are allowed"));
    }
    Ok(())
}

fn push_literal(segments: &mut Vec<Segment>, text: &str) {
    if !text.is_empty() {
        segments.push(Segment::Literal(text.to_owned()));
    }
}

fn parse_expression(body: &str) -> Result<Segment, String> {
    if body.contains("!{") {
        return Err(format!("Invalid expression '!{{{body}}}': !{{ may only start an expression"));
    }
    let Some((namespace, value)) = body.split_once(':') else {
        return Err(format!("Invalid expression '!{{{body}}}': expected !{{namespace:value}}"));
    };
    match namespace {
        NAMESPACE_TIMESTAMP => Ok(Segment::Timestamp(parse_time_pattern(value)?)),
        NAMESPACE_FIREHOSE => match value {
            FIREHOSE_ERROR_OUTPUT_TYPE => Ok(Segment::ErrorOutputType),
            FIREHOSE_RANDOM_STRING => Ok(Segment::RandomString),
            _ => Err(format!("Unsupported expression value for namespace firehose: {value}")),
        },
        NAMESPACE_PARTITION_KEY_FROM_QUERY => partition_key(PartitionKeySource::Query, value),
        NAMESPACE_PARTITION_KEY_FROM_LAMBDA => partition_key(PartitionKeySource::Lambda, value),
        _ => Err(format!("Unsupported expression namespace: {namespace}")),
    }
}

fn partition_key(source: PartitionKeySource, key: &str) -> Result<Segment, String> {
    if key.is_empty() {
        return Err(format!("The expression !{{{}:}} must name a partition key", source.namespace()));
    }
    Ok(Segment::PartitionKey { source, key: key.to_owned() })
}

/// Parses the subset of Java `DateTimeFormatter.ofPattern` that prefixes use; any other letter is
/// rejected rather than silently printed, since Java reserves every ASCII letter.
fn parse_time_pattern(pattern: &str) -> Result<Vec<TimePart>, String> {
    let invalid = |detail: String| format!("Invalid timestamp pattern '{pattern}': {detail}");
    if pattern.is_empty() {
        return Err(invalid("the pattern is empty".to_owned()));
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut open_optional_sections = 0usize;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_alphabetic() {
            let letters = chars[i..].iter().take_while(|&&next| next == c).count();
            let field = time_field(c, letters).map_err(invalid)?;
            if !literal.is_empty() {
                parts.push(TimePart::Literal(std::mem::take(&mut literal)));
            }
            parts.push(TimePart::Field { field, letters });
            i += letters;
        } else if c == '\'' {
            i += 1;
            if chars.get(i) == Some(&'\'') {
                literal.push('\'');
                i += 1;
                continue;
            }
            loop {
                match chars.get(i) {
                    None => return Err(invalid("the pattern ends inside a quoted literal".to_owned())),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        literal.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&quoted) => {
                        literal.push(quoted);
                        i += 1;
                    }
                }
            }
        } else if c == '[' {
            // Optional sections print whenever their fields are available, and every supported
            // field is available when formatting an instant, so the brackets only need balancing.
            open_optional_sections += 1;
            i += 1;
        } else if c == ']' {
            open_optional_sections = open_optional_sections
                .checked_sub(1)
                .ok_or_else(|| invalid("']' without a preceding '['".to_owned()))?;
            i += 1;
        } else if matches!(c, '{' | '}' | '#') {
            return Err(invalid(format!("'{c}' is reserved")));
        } else {
            literal.push(c);
            i += 1;
        }
    }
    if !literal.is_empty() {
        parts.push(TimePart::Literal(literal));
    }
    Ok(parts)
}

fn time_field(letter: char, letters: usize) -> Result<TimeField, String> {
    let (field, max_letters) = match letter {
        'y' | 'u' => (TimeField::Year, MAX_YEAR_LETTERS),
        'M' | 'L' => (TimeField::Month, 5),
        'd' => (TimeField::DayOfMonth, 2),
        'D' => (TimeField::DayOfYear, 3),
        'H' => (TimeField::Hour24, 2),
        'h' => (TimeField::Hour12, 2),
        'm' => (TimeField::Minute, 2),
        's' => (TimeField::Second, 2),
        'S' => (TimeField::FractionOfSecond, MAX_FRACTION_LETTERS),
        'E' => (TimeField::DayOfWeek, 5),
        'a' => (TimeField::AmPm, 1),
        _ => return Err(format!("unsupported pattern letter '{letter}'")),
    };
    if letters > max_letters {
        return Err(format!("too many pattern letters: {}", letter.to_string().repeat(letters)));
    }
    Ok(field)
}

/// The time part appended to a prefix that has no `timestamp` expression: `yyyy/MM/dd/HH/`,
/// built directly since the pattern is known to be valid.
fn default_time_parts() -> Vec<TimePart> {
    let field = |field, letters| TimePart::Field { field, letters };
    let slash = || TimePart::Literal("/".to_owned());
    vec![
        field(TimeField::Year, 4),
        slash(),
        field(TimeField::Month, 2),
        slash(),
        field(TimeField::DayOfMonth, 2),
        slash(),
        field(TimeField::Hour24, 2),
        slash(),
    ]
}

fn utc_instant(ms: u64) -> Option<DateTime<chrono::Utc>> {
    i64::try_from(ms).ok().and_then(DateTime::from_timestamp_millis)
}

fn zoned_instant(arrival_ms: u64, time_zone: Tz) -> Result<DateTime<Tz>, String> {
    utc_instant(arrival_ms)
        .map(|utc| utc.with_timezone(&time_zone))
        .ok_or_else(|| format!("Arrival time {arrival_ms} ms is outside the representable range"))
}

fn format_time(out: &mut String, parts: &[TimePart], time: &DateTime<Tz>) {
    for part in parts {
        match part {
            TimePart::Literal(text) => out.push_str(text),
            TimePart::Field { field, letters } => format_field(out, *field, *letters, time),
        }
    }
}

/// Formats one field as Java does: one letter is unpadded, N letters pad numbers to N digits,
/// except the special counts (two-letter year, text months/weekdays, fraction digits).
fn format_field(out: &mut String, field: TimeField, letters: usize, time: &DateTime<Tz>) {
    let number = |out: &mut String, value: i64| {
        let _ = write!(out, "{value:0letters$}");
    };
    match field {
        TimeField::Year if letters == 2 => {
            let _ = write!(out, "{:02}", time.year().rem_euclid(100));
        }
        TimeField::Year => number(out, i64::from(time.year())),
        TimeField::Month => {
            let name = MONTH_NAMES.get(time.month0() as usize).copied().unwrap_or_default();
            match letters {
                1 | 2 => number(out, i64::from(time.month())),
                3 => out.push_str(name.get(..3).unwrap_or(name)),
                4 => out.push_str(name),
                _ => out.push_str(name.get(..1).unwrap_or(name)),
            }
        }
        TimeField::DayOfMonth => number(out, i64::from(time.day())),
        TimeField::DayOfYear => number(out, i64::from(time.ordinal())),
        TimeField::Hour24 => number(out, i64::from(time.hour())),
        TimeField::Hour12 => number(out, i64::from(time.hour12().1)),
        TimeField::Minute => number(out, i64::from(time.minute())),
        TimeField::Second => number(out, i64::from(time.second())),
        TimeField::FractionOfSecond => {
            // chrono reports a leap second as nanoseconds past 1e9; Java has no leap seconds.
            let nanos = format!("{:09}", time.nanosecond() % 1_000_000_000);
            out.push_str(nanos.get(..letters).unwrap_or(&nanos));
        }
        TimeField::DayOfWeek => {
            let name = WEEKDAY_NAMES.get(time.weekday().num_days_from_monday() as usize).copied().unwrap_or_default();
            match letters {
                1..=3 => out.push_str(name.get(..3).unwrap_or(name)),
                4 => out.push_str(name),
                _ => out.push_str(name.get(..1).unwrap_or(name)),
            }
        }
        TimeField::AmPm => out.push_str(if time.hour12().0 { "PM" } else { "AM" }),
    }
}

fn push_random_string(out: &mut String) {
    let mut rng = rand::thread_rng();
    for _ in 0..RANDOM_STRING_CHARS {
        out.push(char::from(RANDOM_STRING_ALPHABET[rng.gen_range(0..RANDOM_STRING_ALPHABET.len())]));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    fn ms(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> u64 {
        let time = Utc.with_ymd_and_hms(year, month, day, hour, minute, second).unwrap();
        u64::try_from(time.timestamp_millis()).unwrap()
    }

    /// "10:30 AM UTC on Aug 27, 2018", the instant of the AWS acceptance table.
    fn table_instant() -> u64 {
        ms(2018, 8, 27, 10, 30, 0)
    }

    fn no_keys() -> &'static BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        &EMPTY
    }

    fn ctx(arrival_ms: u64) -> KeyContext<'static> {
        KeyContext { arrival_ms, time_zone: Tz::UTC, error_output_type: None, partition_keys: no_keys() }
    }

    fn is_random_string(text: &str) -> bool {
        text.len() == RANDOM_STRING_CHARS && text.bytes().all(|b| RANDOM_STRING_ALPHABET.contains(&b))
    }

    fn format_pattern(pattern: &str, arrival_ms: u64) -> String {
        KeyTemplate::parse(&format!("!{{timestamp:{pattern}}}")).unwrap().evaluate(&ctx(arrival_ms)).unwrap()
    }

    #[test]
    fn table_unspecified_prefix_with_error_prefix() {
        let error_prefix = Some("myFirehoseFailures/!{firehose:error-output-type}/");
        validate(None, error_prefix, false).unwrap();
        let c = ctx(table_instant());
        assert_eq!(evaluate_prefix(None, &c).unwrap(), "2018/08/27/10/");
        assert_eq!(
            evaluate_error_prefix(error_prefix, None, "processing-failed", &c).unwrap(),
            "myFirehoseFailures/processing-failed/"
        );
    }

    #[test]
    fn table_timestamp_prefix_without_error_prefix_is_rejected() {
        let message = validate(Some("!{timestamp:yyyy/MM/dd}"), None, false).unwrap_err();
        assert_eq!(message, "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
        assert!(validate(Some("!{timestamp:yyyy/MM/dd}"), Some(""), false).is_err());
    }

    #[test]
    fn table_random_string_row() {
        let prefix = Some("myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}");
        let error_prefix =
            Some("myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}");
        validate(prefix, error_prefix, false).unwrap();
        let c = ctx(table_instant());
        let evaluated = evaluate_prefix(prefix, &c).unwrap();
        let random = evaluated.strip_prefix("myFirehose/DeliveredYear=2018/anyMonth/rand=").unwrap();
        assert!(is_random_string(random), "{evaluated}");
        assert_eq!(
            evaluate_error_prefix(error_prefix, prefix, "processing-failed", &c).unwrap(),
            "myFirehoseFailures/processing-failed/2018/anyMonth/27"
        );
    }

    #[test]
    fn table_hive_style_row() {
        let prefix =
            Some("myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/");
        let error_prefix = Some(
            "myErrorPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/\
             !{firehose:error-output-type}",
        );
        validate(prefix, error_prefix, false).unwrap();
        // This row of the AWS table uses its own instant.
        let c = ctx(ms(2018, 7, 6, 23, 15, 0));
        assert_eq!(evaluate_prefix(prefix, &c).unwrap(), "myPrefix/year=2018/month=07/day=06/hour=23/");
        assert_eq!(
            evaluate_error_prefix(error_prefix, prefix, "processing-failed", &c).unwrap(),
            "myErrorPrefix/year=2018/month=07/day=06/hour=23/processing-failed"
        );
    }

    #[test]
    fn table_literal_prefix_row() {
        let prefix = Some("myFirehosePrefix");
        validate(prefix, None, false).unwrap();
        let c = ctx(table_instant());
        assert_eq!(evaluate_prefix(prefix, &c).unwrap(), "myFirehosePrefix/2018/08/27/10/");
        assert_eq!(
            evaluate_error_prefix(None, prefix, "processing-failed", &c).unwrap(),
            "myFirehosePrefix/processing-failed/2018/08/27/10/"
        );
        // A prefix that already ends in '/' gets no second one.
        assert_eq!(evaluate_prefix(Some("logs/"), &c).unwrap(), "logs/2018/08/27/10/");
        assert_eq!(
            evaluate_error_prefix(None, None, "processing-failed", &c).unwrap(),
            "processing-failed/2018/08/27/10/"
        );
    }

    #[test]
    fn dynamic_partitioning_example() {
        let prefix = "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/\
             year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/\
             day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/";
        let error_prefix = Some("errors/!{firehose:error-output-type}/");
        validate(Some(prefix), error_prefix, true).unwrap();
        let keys: BTreeMap<String, String> = crate::test_data::worked_example_keys();
        let c = KeyContext { partition_keys: &keys, ..ctx(ms(2019, 8, 9, 23, 55, 9)) };
        assert_eq!(
            evaluate_prefix(Some(prefix), &c).unwrap(),
            "customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/"
        );
        let template = KeyTemplate::parse(prefix).unwrap();
        let names: Vec<_> = template.partition_keys().map(|(_, key)| key).collect();
        assert_eq!(names, ["customer_id", "device", "year", "month", "day", "hour"]);

        let lambda = KeyTemplate::parse("k=!{partitionKeyFromLambda:k}/").unwrap();
        assert_eq!(lambda.partition_keys().collect::<Vec<_>>(), [(PartitionKeySource::Lambda, "k")]);
    }

    #[test]
    fn prefixes_that_leave_the_bucket_are_refused() {
        for bad in ["../", "../x/", "../x", "a/../b/", "./a/", "a//b/", "//a/", "a//", "a\nb/"] {
            assert!(check_key_path("Prefix", bad).is_err(), "{bad:?}");
            assert!(validate(Some(bad), None, false).is_err(), "{bad:?}");
            let error_prefix = format!("{bad}/!{{firehose:error-output-type}}/");
            assert!(validate(Some("ok/"), Some(&error_prefix), false).is_err(), "{error_prefix:?}");
        }
        for good in
            ["", "a/", "/a/", "a", "a/b/", "..a/", "a../b", "a.b/", "!{timestamp:yyyy/MM}/", "a/.b/", "a/..", "."]
        {
            assert!(check_key_path("Prefix", good).is_ok(), "{good:?}");
        }
        let message = validate(Some("../"), None, false).unwrap_err();
        assert!(message.starts_with("Prefix \"../\" is not valid"), "{message}");
    }

    #[test]
    fn missing_partition_key_is_an_error() {
        let message = evaluate_prefix(Some("c=!{partitionKeyFromQuery:customer_id}/"), &ctx(0)).unwrap_err();
        assert!(message.contains("customer_id"), "{message}");
    }

    #[test]
    fn validation_rules() {
        let eop = Some("err/!{firehose:error-output-type}/");
        let query = Some("c=!{partitionKeyFromQuery:c}/");
        assert_eq!(
            validate(Some("a/!{firehose:error-output-type}/"), eop, false).unwrap_err(),
            "The expression !{firehose:error-output-type} is not allowed in Prefix"
        );
        assert_eq!(
            validate(Some("a/"), Some("err/!{timestamp:yyyy}/"), false).unwrap_err(),
            "The ErrorOutputPrefix expression must contain at least one !{firehose:error-output-type} expression"
        );
        assert!(validate(query, eop, false).unwrap_err().contains("only allowed in Prefix when dynamic partitioning"));
        assert!(validate(query, Some("e/!{firehose:error-output-type}/!{partitionKeyFromLambda:c}"), true)
            .unwrap_err()
            .contains("not allowed in ErrorOutputPrefix"));
        assert!(validate(Some("a/!{timestamp:yyyy}/"), eop, true).unwrap_err().contains("at least one"));
        assert_eq!(
            validate(query, None, true).unwrap_err(),
            "ErrorOutputPrefix cannot be null or empty when dynamic partitioning is enabled"
        );
        assert!(validate(Some("!{foo:bar}"), eop, false)
            .unwrap_err()
            .contains("Unsupported expression namespace: foo"));
        assert!(validate(Some("a/!{timestamp:yyyy"), eop, false).unwrap_err().contains("may only start an expression"));
        assert!(validate(Some("!{firehose:nope}"), eop, false).is_err());
        assert!(validate(Some("!{partitionKeyFromQuery:}"), eop, true).is_err());
        assert!(validate(Some("!{timestamp:}"), eop, false).is_err());
        assert!(validate(Some("!{timestamp}"), eop, false).is_err());
        assert!(validate(Some(&"a".repeat(MAX_PREFIX_CHARS + 1)), None, false).unwrap_err().contains("Prefix"));
        validate(Some(&"a".repeat(MAX_PREFIX_CHARS)), None, false).unwrap();
        // No expressions: an absent ErrorOutputPrefix is fine, an unused '!' or '}' is literal.
        validate(Some("a!b}c/"), None, false).unwrap();
        validate(None, None, false).unwrap();
        validate(Some(""), Some(""), false).unwrap();
        // random-string is allowed in both prefixes.
        validate(
            Some("r=!{firehose:random-string}/"),
            Some("!{firehose:error-output-type}/!{firehose:random-string}"),
            false,
        )
        .unwrap();
    }

    /// AWS's semantic rules for `Prefix` and `ErrorOutputPrefix` (firehose.md §3.4), each with
    /// a configuration it accepts and one it refuses, with the exact message.
    #[test]
    fn aws_semantic_rules_accept_and_refuse() {
        let eop = Some("err/!{firehose:error-output-type}/");
        // `!{` may only start an expression; an unused '!' or '}' is literal.
        validate(Some("a!b}c/"), None, false).unwrap();
        assert_eq!(
            validate(Some("a/!{timestamp:yyyy"), eop, false).unwrap_err(),
            "Invalid Prefix: Unterminated expression '!{timestamp:yyyy': !{ may only start an expression"
        );
        // ErrorOutputPrefix may be absent only when Prefix has no expressions.
        validate(Some("plain/"), None, false).unwrap();
        validate(None, None, false).unwrap();
        for prefix in ["!{timestamp:yyyy/MM/dd}", "r=!{firehose:random-string}/"] {
            for absent in [None, Some("")] {
                assert_eq!(
                    validate(Some(prefix), absent, false).unwrap_err(),
                    "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions",
                    "{prefix} {absent:?}"
                );
            }
        }
        // An ErrorOutputPrefix with an expression must contain !{firehose:error-output-type};
        // one without expressions is accepted as it is, whatever Prefix holds.
        validate(Some("data/"), Some("errors/"), false).unwrap();
        validate(None, Some("errors/"), false).unwrap();
        validate(Some("data/!{timestamp:yyyy}/"), Some("errors/"), false).unwrap();
        validate(Some("c=!{partitionKeyFromQuery:c}/"), Some("errors/"), true).unwrap();
        validate(Some("data/"), Some("errors/!{timestamp:yyyy}/!{firehose:error-output-type}/"), false).unwrap();
        for refused in ["errors/!{timestamp:yyyy}/", "errors/!{firehose:random-string}/"] {
            assert_eq!(
                validate(Some("data/"), Some(refused), false).unwrap_err(),
                "The ErrorOutputPrefix expression must contain at least one !{firehose:error-output-type} expression",
                "{refused}"
            );
        }
        // Prefix must not contain !{firehose:error-output-type}.
        assert_eq!(
            validate(Some("a/!{firehose:error-output-type}/"), eop, false).unwrap_err(),
            "The expression !{firehose:error-output-type} is not allowed in Prefix"
        );
        // Partition keys: only in Prefix, and only with dynamic partitioning, which needs an
        // ErrorOutputPrefix.
        validate(Some("c=!{partitionKeyFromQuery:c}/"), eop, true).unwrap();
        assert_eq!(
            validate(Some("c=!{partitionKeyFromQuery:c}/"), eop, false).unwrap_err(),
            "The expressions !{partitionKeyFromQuery:...} and !{partitionKeyFromLambda:...} are only allowed \
             in Prefix when dynamic partitioning is enabled"
        );
        assert_eq!(
            validate(Some("c=!{partitionKeyFromQuery:c}/"), Some("e/!{partitionKeyFromLambda:c}/"), true).unwrap_err(),
            "The expressions !{partitionKeyFromQuery:...} and !{partitionKeyFromLambda:...} are not allowed \
             in ErrorOutputPrefix"
        );
        // Neither may exceed 512 characters after evaluation.
        let c = KeyContext { error_output_type: Some("processing-failed"), ..ctx(table_instant()) };
        let at_most = "a".repeat(MAX_EVALUATED_PREFIX_CHARS - 1) + "/";
        validate(Some(&at_most), Some(&at_most), false).unwrap();
        assert_eq!(KeyTemplate::parse(&at_most).unwrap().evaluate(&c).unwrap(), at_most);
        let too_long = "a".repeat(MAX_EVALUATED_PREFIX_CHARS) + "/";
        validate(Some(&too_long), Some(&too_long), false).unwrap();
        assert_eq!(
            KeyTemplate::for_error_prefix(Some(&too_long), None).unwrap().evaluate(&c).unwrap_err(),
            "The evaluated prefix is 513 characters long; at most 512 are allowed"
        );
        // 513 characters and the default time part `2018/08/27/10/`.
        assert_eq!(
            KeyTemplate::for_prefix(Some(&too_long)).unwrap().evaluate(&c).unwrap_err(),
            "The evaluated prefix is 527 characters long; at most 512 are allowed"
        );
    }

    #[test]
    fn java_pattern_letters() {
        // 2018-08-27 was a Monday, the 239th day of the year.
        let t = ms(2018, 8, 27, 15, 4, 5) + 42;
        assert_eq!(format_pattern("yyyy-MM-dd'T'HH:mm:ss.SSS", t), "2018-08-27T15:04:05.042");
        assert_eq!(format_pattern("yy M d H D DD DDD", t), "18 8 27 15 239 239 239");
        assert_eq!(format_pattern("EEE MMM EEEE MMMM", t), "Mon Aug Monday August");
        assert_eq!(format_pattern("hh a h", t), "03 PM 3");
        assert_eq!(format_pattern("S SSSSSS", t), "0 042000");
        assert_eq!(format_pattern("'year='yyyy'/it''s'''", t), "year=2018/it's'");
        assert_eq!(format_pattern("[yyyy]", t), "2018");
        let january_first = ms(2018, 1, 5, 0, 7, 0);
        assert_eq!(format_pattern("D DD DDD M d hh a", january_first), "5 05 005 1 5 12 AM");
        for bad in ["yyyy/Q", "dddd", "HHH", "a'unterminated", "aa", "x", "yyyy]", "y#"] {
            assert!(KeyTemplate::parse(&format!("!{{timestamp:{bad}}}")).is_err(), "{bad}");
        }
        let default = KeyTemplate::parse("!{timestamp:yyyy/MM/dd/HH/}").unwrap();
        assert_eq!(default.segments, [Segment::Timestamp(default_time_parts())]);
    }

    #[test]
    fn every_timestamp_and_fresh_random_strings_per_occurrence() {
        let template =
            KeyTemplate::parse("!{timestamp:HH}/!{firehose:random-string}/!{timestamp:HH}/!{firehose:random-string}")
                .unwrap();
        let evaluated = template.evaluate(&ctx(table_instant())).unwrap();
        let pieces: Vec<_> = evaluated.split('/').collect();
        assert_eq!(pieces[0], "10");
        assert_eq!(pieces[2], "10");
        assert!(is_random_string(pieces[1]) && is_random_string(pieces[3]));
        assert_ne!(pieces[1], pieces[3]);
    }

    #[test]
    fn custom_time_zone_shifts_the_time_part() {
        let new_york = parse_time_zone(Some("America/New_York")).unwrap();
        let c = KeyContext { time_zone: new_york, ..ctx(table_instant()) };
        // August in New York is EDT, UTC-4.
        assert_eq!(evaluate_prefix(None, &c).unwrap(), "2018/08/27/06/");
        assert_eq!(evaluate_prefix(Some("h=!{timestamp:HH}"), &c).unwrap(), "h=06");
        let evening = KeyContext { arrival_ms: ms(2018, 8, 27, 2, 0, 0), ..c };
        assert_eq!(evaluate_prefix(None, &evening).unwrap(), "2018/08/26/22/");
    }

    #[test]
    fn time_zone_names() {
        assert_eq!(parse_time_zone(None).unwrap(), Tz::UTC);
        assert_eq!(parse_time_zone(Some("")).unwrap(), Tz::UTC);
        assert_eq!(parse_time_zone(Some("Asia/Tokyo")).unwrap(), Tz::Asia__Tokyo);
        assert!(parse_time_zone(Some("Mars/Olympus")).is_err());
        assert!(parse_time_zone(Some("Etc/GMT+5")).is_err());
        assert!(parse_time_zone(Some(&"A".repeat(MAX_TIME_ZONE_CHARS + 1))).is_err());
    }

    #[test]
    fn evaluated_prefix_longer_than_512_chars_is_an_error() {
        let keys: BTreeMap<String, String> = [("k".to_owned(), "v".repeat(MAX_EVALUATED_PREFIX_CHARS))].into();
        let c = KeyContext { partition_keys: &keys, ..ctx(0) };
        let message = evaluate_prefix(Some("!{partitionKeyFromQuery:k}/"), &c).unwrap_err();
        assert!(message.contains("512"), "{message}");
        let exactly = BTreeMap::from([("k".to_owned(), "v".repeat(MAX_EVALUATED_PREFIX_CHARS - 1))]);
        let c = KeyContext { partition_keys: &exactly, ..ctx(0) };
        assert_eq!(evaluate_prefix(Some("!{partitionKeyFromQuery:k}/"), &c).unwrap().len(), MAX_EVALUATED_PREFIX_CHARS);
    }

    #[test]
    fn error_output_type_needs_a_value() {
        assert!(KeyTemplate::parse("!{firehose:error-output-type}").unwrap().evaluate(&ctx(0)).is_err());
    }

    #[test]
    fn object_name_shape() {
        let delivery = ms(2019, 8, 9, 23, 55, 9);
        let name = object_name("my-delivery-stream", 3, delivery, Tz::UTC, ".gz");
        let rest = name.strip_prefix("my-delivery-stream-3-2019-08-09-23-55-09-").unwrap();
        let uuid = rest.strip_suffix(".gz").unwrap();
        let parsed = uuid::Uuid::parse_str(uuid).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(uuid.len(), 36);
        assert_ne!(name, object_name("my-delivery-stream", 3, delivery, Tz::UTC, ".gz"));

        let tokyo = object_name("s", 1, delivery, Tz::Asia__Tokyo, "");
        assert!(tokyo.starts_with("s-1-2019-08-10-08-55-09-"), "{tokyo}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".*") {
            if let Ok(template) = KeyTemplate::parse(&text) {
                let _ = template.evaluate(&ctx(table_instant()));
            }
        }

        #[test]
        fn expression_like_text_never_panics(
            text in "(!\\{|\\}|timestamp:|firehose:|partitionKeyFromQuery:|random-string|'|''|\\[|\\]|[a-zA-Z]{1,4}|[/=:_ -]|é)*",
            arrival_ms in any::<u64>(),
        ) {
            if let Ok(template) = KeyTemplate::parse(&text) {
                let c = KeyContext { arrival_ms, error_output_type: Some("processing-failed"), ..ctx(0) };
                let _ = template.evaluate(&c);
            }
            let _ = validate(Some(&text), Some(&text), true);
            let _ = KeyTemplate::for_prefix(Some(&text));
            let _ = KeyTemplate::for_error_prefix(None, Some(&text));
        }
    }
}
