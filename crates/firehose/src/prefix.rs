//! S3 object keys: the `Prefix` and `ErrorOutputPrefix` expression language
//! (`!{namespace:value}`) and the object name Firehose appends.
//!
//! Rules (Firehose developer guide, "Custom Prefixes for Amazon S3 Objects"):
//! a prefix without a `timestamp` expression gets `yyyy/MM/dd/HH/` appended; every
//! `timestamp` expression in one key is evaluated at the same instant (the arrival of the
//! oldest record in the object) in UTC or `CustomTimeZone`; an `ErrorOutputPrefix` must
//! name the error output type; evaluated prefixes are at most 512 characters.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;
use rand::Rng;

/// Longest evaluated prefix.
pub const EVALUATED_PREFIX_CHARS_MAX: usize = 512;
/// Characters of a `!{firehose:random-string}`.
const RANDOM_STRING_CHARS: usize = 11;

/// One field of a Java `DateTimeFormatter` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DateField {
    Literal(String),
    Year4,
    Year2,
    Month(usize),
    MonthName,
    Day(usize),
    DayOfYear(usize),
    Hour24(usize),
    Hour12(usize),
    Minute(usize),
    Second(usize),
    Millis,
    Weekday,
    AmPm,
}

/// A piece of a parsed prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Timestamp(Vec<DateField>),
    ErrorOutputType,
    RandomString,
    PartitionKeyFromQuery(String),
    PartitionKeyFromLambda(String),
}

/// A parsed `Prefix` or `ErrorOutputPrefix`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

fn parse_date_pattern(pattern: &str) -> Result<Vec<DateField>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // 'literal text', with '' meaning one quote.
            if chars.get(i + 1) == Some(&'\'') {
                fields.push(DateField::Literal("'".into()));
                i += 2;
                continue;
            }
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("Unterminated quote in timestamp pattern '{pattern}'")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        text.push(*other);
                        i += 1;
                    }
                }
            }
            fields.push(DateField::Literal(text));
            continue;
        }
        if !c.is_ascii_alphabetic() {
            fields.push(DateField::Literal(c.to_string()));
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let field = match (c, run) {
            ('y' | 'u', 2) => DateField::Year2,
            ('y' | 'u', _) => DateField::Year4,
            ('M', 1 | 2) => DateField::Month(run),
            ('M', 3) => DateField::MonthName,
            ('d', 1 | 2) => DateField::Day(run),
            ('D', 1..=3) => DateField::DayOfYear(run),
            ('H', 1 | 2) => DateField::Hour24(run),
            ('h', 1 | 2) => DateField::Hour12(run),
            ('m', 1 | 2) => DateField::Minute(run),
            ('s', 1 | 2) => DateField::Second(run),
            ('S', 3) => DateField::Millis,
            ('E', 1..=3) => DateField::Weekday,
            ('a', 1) => DateField::AmPm,
            _ => {
                return Err(format!(
                    "Unsupported timestamp pattern '{}' in '{pattern}'",
                    chars[i..i + run].iter().collect::<String>()
                ))
            }
        };
        fields.push(field);
        i += run;
    }
    Ok(fields)
}

impl KeyTemplate {
    /// Parses a prefix; `!{` may only start a valid expression.
    pub fn parse(text: &str) -> Result<KeyTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("!{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| format!("Unterminated expression in '{text}'"))?;
            let expression = &after[..end];
            let (namespace, value) = expression
                .split_once(':')
                .ok_or_else(|| format!("Invalid expression '!{{{expression}}}': expected !{{namespace:value}}"))?;
            let part = match (namespace, value) {
                ("timestamp", pattern) if !pattern.is_empty() => Part::Timestamp(parse_date_pattern(pattern)?),
                ("firehose", "error-output-type") => Part::ErrorOutputType,
                ("firehose", "random-string") => Part::RandomString,
                ("firehose", other) => return Err(format!("Unsupported firehose expression: {other}")),
                ("partitionKeyFromQuery", key) if !key.is_empty() => Part::PartitionKeyFromQuery(key.to_owned()),
                ("partitionKeyFromLambda", key) if !key.is_empty() => Part::PartitionKeyFromLambda(key.to_owned()),
                (namespace, _) => return Err(format!("Unsupported expression namespace: {namespace}")),
            };
            parts.push(part);
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(KeyTemplate { parts })
    }

    fn has_expressions(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }

    fn has_timestamp(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Timestamp(_)))
    }

    fn has_error_output_type(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::ErrorOutputType))
    }

    fn has_partition_keys(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::PartitionKeyFromQuery(_) | Part::PartitionKeyFromLambda(_)))
    }
}

/// Checks a destination's two prefixes against Firehose's rules; the error is an
/// InvalidArgumentException message.
pub fn validate(
    prefix: Option<&str>,
    error_output_prefix: Option<&str>,
    dynamic_partitioning: bool,
) -> Result<(), String> {
    let prefix = KeyTemplate::parse(prefix.unwrap_or_default())?;
    let error_prefix = error_output_prefix.filter(|p| !p.is_empty()).map(KeyTemplate::parse).transpose()?;
    if prefix.has_error_output_type() {
        return Err("The expression !{firehose:error-output-type} is not allowed in Prefix".into());
    }
    if prefix.has_partition_keys() && !dynamic_partitioning {
        return Err("Prefix may contain partitionKeyFromQuery or partitionKeyFromLambda expressions only when dynamic partitioning is enabled".into());
    }
    if dynamic_partitioning && !prefix.has_partition_keys() {
        return Err("When dynamic partitioning is enabled, Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda expression".into());
    }
    match &error_prefix {
        None if prefix.has_expressions() || dynamic_partitioning => {
            Err("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions or dynamic partitioning is enabled".into())
        }
        None => Ok(()),
        Some(error_prefix) if !error_prefix.has_error_output_type() => {
            Err("The ErrorOutputPrefix expression must contain at least one !{firehose:error-output-type} expression".into())
        }
        Some(error_prefix) if error_prefix.has_partition_keys() => {
            Err("partitionKeyFromQuery and partitionKeyFromLambda expressions are not allowed in ErrorOutputPrefix".into())
        }
        Some(_) => Ok(()),
    }
}

/// What an evaluation needs.
pub struct KeyContext<'a> {
    /// Approximate arrival of the oldest record in the object, epoch ms.
    pub arrival_ms: u64,
    pub time_zone: Tz,
    pub error_output_type: Option<&'a str>,
    pub partition_keys: &'a BTreeMap<String, String>,
}

/// `CustomTimeZone`: empty or absent means UTC.
pub fn parse_time_zone(name: Option<&str>) -> Result<Tz, String> {
    match name.filter(|n| !n.is_empty()) {
        None => Ok(Tz::UTC),
        Some(name) => name.parse().map_err(|_| format!("Invalid CustomTimeZone: {name}")),
    }
}

fn instant(ms: u64, tz: Tz) -> DateTime<Tz> {
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    DateTime::from_timestamp_millis(ms).unwrap_or_default().with_timezone(&tz)
}

fn format_date(fields: &[DateField], at: &DateTime<Tz>, out: &mut String) {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    for field in fields {
        let _ = match field {
            DateField::Literal(text) => write!(out, "{text}"),
            DateField::Year4 => write!(out, "{:04}", at.year()),
            DateField::Year2 => write!(out, "{:02}", at.year().rem_euclid(100)),
            DateField::Month(width) => write!(out, "{:0width$}", at.month(), width = *width),
            DateField::MonthName => write!(out, "{}", MONTHS[at.month0() as usize]),
            DateField::Day(width) => write!(out, "{:0width$}", at.day(), width = *width),
            DateField::DayOfYear(width) => write!(out, "{:0width$}", at.ordinal(), width = *width),
            DateField::Hour24(width) => write!(out, "{:0width$}", at.hour(), width = *width),
            DateField::Hour12(width) => write!(out, "{:0width$}", at.hour12().1, width = *width),
            DateField::Minute(width) => write!(out, "{:0width$}", at.minute(), width = *width),
            DateField::Second(width) => write!(out, "{:0width$}", at.second(), width = *width),
            DateField::Millis => write!(out, "{:03}", at.timestamp_subsec_millis()),
            DateField::Weekday => write!(out, "{}", at.weekday()),
            DateField::AmPm => write!(out, "{}", if at.hour12().0 { "PM" } else { "AM" }),
        };
    }
}

fn random_string() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    (0..RANDOM_STRING_CHARS).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

fn default_time_fields() -> Vec<DateField> {
    parse_date_pattern("yyyy/MM/dd/HH/").unwrap_or_default()
}

fn evaluate(template: &KeyTemplate, context: &KeyContext) -> Result<String, String> {
    let at = instant(context.arrival_ms, context.time_zone);
    let mut out = String::new();
    for part in &template.parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Timestamp(fields) => format_date(fields, &at, &mut out),
            Part::ErrorOutputType => out.push_str(context.error_output_type.unwrap_or_default()),
            Part::RandomString => out.push_str(&random_string()),
            Part::PartitionKeyFromQuery(key) | Part::PartitionKeyFromLambda(key) => {
                let value =
                    context.partition_keys.get(key).ok_or_else(|| format!("Partition key {key} was not extracted"))?;
                out.push_str(value);
            }
        }
    }
    if out.chars().count() > EVALUATED_PREFIX_CHARS_MAX {
        return Err(format!("The evaluated prefix is longer than {EVALUATED_PREFIX_CHARS_MAX} characters"));
    }
    Ok(out)
}

/// Joins a literal prefix and the default time part with a `/` when the prefix lacks one
/// (what moto and LocalStack do; AWS's own documentation shows both forms).
fn with_default_time(prefix: &str, at: &DateTime<Tz>, extra: Option<&str>) -> String {
    let mut out = prefix.to_owned();
    if !out.is_empty() && !out.ends_with('/') {
        out.push('/');
    }
    if let Some(extra) = extra {
        out.push_str(extra);
        out.push('/');
    }
    format_date(&default_time_fields(), at, &mut out);
    out
}

/// Evaluates a `Prefix`: without a `timestamp` or partition-key expression it gets the
/// default `yyyy/MM/dd/HH/` time part.
pub fn evaluate_prefix(prefix: Option<&str>, context: &KeyContext) -> Result<String, String> {
    let template = KeyTemplate::parse(prefix.unwrap_or_default())?;
    let evaluated = evaluate(&template, context)?;
    // Dynamic partitioning prefixes name their own layout (the guide's example key has
    // no appended time), so only plain prefixes get the default time part.
    if template.has_timestamp() || template.has_partition_keys() {
        return Ok(evaluated);
    }
    Ok(with_default_time(&evaluated, &instant(context.arrival_ms, context.time_zone), None))
}

/// Evaluates an `ErrorOutputPrefix`; without one, errors go under
/// `<prefix>/<error-output-type>/yyyy/MM/dd/HH/`.
pub fn evaluate_error_prefix(
    error_output_prefix: Option<&str>,
    prefix: Option<&str>,
    error_output_type: &str,
    context: &KeyContext,
) -> Result<String, String> {
    let context = KeyContext { error_output_type: Some(error_output_type), ..*context };
    match error_output_prefix.filter(|p| !p.is_empty()) {
        Some(error_prefix) => evaluate(&KeyTemplate::parse(error_prefix)?, &context),
        None => Ok(with_default_time(
            prefix.unwrap_or_default(),
            &instant(context.arrival_ms, context.time_zone),
            Some(error_output_type),
        )),
    }
}

/// `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>`, time in `tz`.
pub fn object_name(stream_name: &str, version: u64, delivery_ms: u64, tz: Tz, extension: &str) -> String {
    let at = instant(delivery_ms, tz);
    format!(
        "{stream_name}-{version}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{extension}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        uuid::Uuid::new_v4()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// 2018-08-27T10:30:00Z, the instant of the developer guide's table.
    const GUIDE_MS: u64 = 1_535_365_800_000;

    fn context(keys: &BTreeMap<String, String>) -> KeyContext<'_> {
        KeyContext { arrival_ms: GUIDE_MS, time_zone: Tz::UTC, error_output_type: None, partition_keys: keys }
    }

    #[test]
    fn the_developer_guide_table() {
        let none = BTreeMap::new();
        let ctx = context(&none);
        // Prefix unspecified.
        let error = "myFirehoseFailures/!{firehose:error-output-type}/";
        validate(None, Some(error), false).unwrap();
        assert_eq!(evaluate_prefix(None, &ctx).unwrap(), "2018/08/27/10/");
        assert_eq!(
            evaluate_error_prefix(Some(error), None, "processing-failed", &ctx).unwrap(),
            "myFirehoseFailures/processing-failed/"
        );
        // Expressions without an error prefix.
        assert!(validate(Some("!{timestamp:yyyy/MM/dd}"), None, false)
            .unwrap_err()
            .contains("ErrorOutputPrefix cannot be null"));
        // Random string and partial timestamps.
        let prefix = "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}";
        let error = "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}";
        validate(Some(prefix), Some(error), false).unwrap();
        let evaluated = evaluate_prefix(Some(prefix), &ctx).unwrap();
        let random = evaluated.strip_prefix("myFirehose/DeliveredYear=2018/anyMonth/rand=").unwrap();
        assert_eq!(random.len(), 11);
        assert!(random.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(
            evaluate_error_prefix(Some(error), Some(prefix), "processing-failed", &ctx).unwrap(),
            "myFirehoseFailures/processing-failed/2018/anyMonth/27"
        );
        // Hive-style.
        let prefix = "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/";
        let error = "myErrorPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}";
        validate(Some(prefix), Some(error), false).unwrap();
        assert_eq!(evaluate_prefix(Some(prefix), &ctx).unwrap(), "myPrefix/year=2018/month=08/day=27/hour=10/");
        assert_eq!(
            evaluate_error_prefix(Some(error), Some(prefix), "processing-failed", &ctx).unwrap(),
            "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed"
        );
        // A literal prefix.
        validate(Some("myFirehosePrefix"), None, false).unwrap();
        assert_eq!(evaluate_prefix(Some("myFirehosePrefix"), &ctx).unwrap(), "myFirehosePrefix/2018/08/27/10/");
        assert_eq!(
            evaluate_error_prefix(None, Some("myFirehosePrefix"), "processing-failed", &ctx).unwrap(),
            "myFirehosePrefix/processing-failed/2018/08/27/10/"
        );
    }

    #[test]
    fn rules_on_error_output_type_and_partition_keys() {
        assert!(validate(None, Some("errors/"), false).unwrap_err().contains("must contain at least one"));
        assert!(validate(Some("a/!{firehose:error-output-type}"), Some("e/!{firehose:error-output-type}"), false)
            .unwrap_err()
            .contains("not allowed in Prefix"));
        assert!(
            validate(Some("k=!{partitionKeyFromQuery:k}/"), Some("e/!{firehose:error-output-type}"), false).is_err()
        );
        assert!(validate(Some("static/"), Some("e/!{firehose:error-output-type}"), true).is_err());
        assert!(validate(Some("a/!{bogus:x}"), Some("e/!{firehose:error-output-type}"), false)
            .unwrap_err()
            .contains("namespace"));
        assert!(validate(Some("a/!{timestamp:yyyy"), Some("e/!{firehose:error-output-type}"), false).is_err());
        assert!(validate(Some("a/!{timestamp:QQ}"), Some("e/!{firehose:error-output-type}"), false).is_err());
    }

    #[test]
    fn dynamic_partitioning_example() {
        let keys: BTreeMap<String, String> = [
            ("customer_id", "1234567890"),
            ("device", "mobile"),
            ("year", "2019"),
            ("month", "08"),
            ("day", "09"),
            ("hour", "20"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let prefix = "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/";
        validate(Some(prefix), Some("errors/!{firehose:error-output-type}/"), true).unwrap();
        let ctx = KeyContext { arrival_ms: 1_565_382_027_000, ..context(&keys) };
        assert_eq!(
            evaluate_prefix(Some(prefix), &ctx).unwrap(),
            "customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/"
        );
        let missing = BTreeMap::new();
        assert!(evaluate_prefix(Some(prefix), &context(&missing)).is_err());
    }

    #[test]
    fn time_zones_quotes_and_object_names() {
        let none = BTreeMap::new();
        let tz = parse_time_zone(Some("America/New_York")).unwrap();
        let ctx = KeyContext { time_zone: tz, ..context(&none) };
        assert_eq!(evaluate_prefix(None, &ctx).unwrap(), "2018/08/27/06/");
        assert_eq!(
            evaluate_prefix(Some("!{timestamp:'y='yyyy'/q='''DDD EEE MMM a hh:mm:ss.SSS}"), &ctx).unwrap(),
            "y=2018/q='239 Mon Aug AM 06:30:00.000"
        );
        assert!(parse_time_zone(Some("Mars/Olympus")).is_err());
        assert_eq!(parse_time_zone(Some("")).unwrap(), Tz::UTC);
        let name = object_name("orders", 2, GUIDE_MS, Tz::UTC, ".gz");
        let rest = name.strip_prefix("orders-2-2018-08-27-10-30-00-").unwrap();
        assert_eq!(rest.len(), 36 + 3);
        assert!(rest.ends_with(".gz"));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,64}", raw in "(!\\{[a-zA-Z:'/ -]{0,12}\\}?|[a-z/]){0,6}") {
            let _ = KeyTemplate::parse(&text);
            let _ = validate(Some(&raw), Some(&text), false);
            let none = BTreeMap::new();
            let _ = evaluate_prefix(Some(&raw), &context(&none));
        }
    }
}
