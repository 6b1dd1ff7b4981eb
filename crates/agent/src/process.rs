//! The data-processing options of a flow (`dataProcessingOptions`), applied to every
//! record in the order given. Each takes a record's bytes and returns the new bytes; the
//! JSON-producing ones end their output with a newline, as the real agent does, so that
//! records concatenated by Firehose stay one per line.

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// The log formats LOGTOJSON knows.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogFormat {
    /// Apache common log format.
    #[serde(rename = "COMMONAPACHELOG")]
    CommonApacheLog,
    /// Apache combined log format (common plus referrer and user agent).
    #[serde(rename = "COMBINEDAPACHELOG")]
    CombinedApacheLog,
    /// Apache error log.
    #[serde(rename = "APACHEERRORLOG")]
    ApacheErrorLog,
    /// BSD syslog as written by most Linux daemons.
    #[serde(rename = "SYSLOG")]
    Syslog,
    /// RFC 3164 syslog (the same shape as SYSLOG).
    #[serde(rename = "RFC3164SYSLOG")]
    Rfc3164Syslog,
    /// RFC 5424 syslog.
    #[serde(rename = "RFC5424SYSLOG")]
    Rfc5424Syslog,
}

const COMMON_APACHE: &str = r#"^(\S+) (\S+) (\S+) \[([^\]]+)\] "([^"]*)" (-|\d+) (-|\d+)"#;
const SYSLOG_BSD: &str =
    r"^(?:<\d+>)?([A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: (.*)$";

impl LogFormat {
    /// The regular expression a line of this format is parsed with.
    pub fn pattern(self) -> Regex {
        let text = match self {
            LogFormat::CommonApacheLog => COMMON_APACHE.to_owned(),
            LogFormat::CombinedApacheLog => format!(r#"{COMMON_APACHE} "([^"]*)" "([^"]*)""#),
            LogFormat::ApacheErrorLog => {
                r"^\[([^\]]+)\] \[(?:(\w+):)?(\w+)\] \[pid (\d+)(?::tid (\d+))?\](?: \[client ([^\]]+)\])? (.*)$"
                    .to_owned()
            }
            LogFormat::Syslog | LogFormat::Rfc3164Syslog => SYSLOG_BSD.to_owned(),
            LogFormat::Rfc5424Syslog => {
                r"^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*\])+) ?(.*)$".to_owned()
            }
        };
        // The patterns are constants checked by the unit tests; a failure here is a bug.
        #[allow(clippy::expect_used)]
        Regex::new(&text).expect("built-in log pattern")
    }

    /// The JSON field names of the pattern's groups, in order.
    pub fn field_names(self) -> &'static [&'static str] {
        match self {
            LogFormat::CommonApacheLog => &["host", "ident", "authuser", "datetime", "request", "response", "bytes"],
            LogFormat::CombinedApacheLog => {
                &["host", "ident", "authuser", "datetime", "request", "response", "bytes", "referrer", "agent"]
            }
            LogFormat::ApacheErrorLog => {
                &["timestamp", "module", "severity", "processid", "threadid", "client", "message"]
            }
            LogFormat::Syslog | LogFormat::Rfc3164Syslog => {
                &["timestamp", "hostname", "program", "processid", "message"]
            }
            LogFormat::Rfc5424Syslog => &[
                "pri",
                "version",
                "timestamp",
                "hostname",
                "program",
                "processid",
                "msgid",
                "structureddata",
                "message",
            ],
        }
    }
}

/// One configured data-processing option.
#[derive(Clone, Debug)]
pub enum Processor {
    /// Joins a multi-line record into one line (line breaks and the spaces around them go).
    SingleLine,
    /// Parses a delimited line into a JSON object with the given field names.
    CsvToJson {
        /// Names of the columns, in order.
        field_names: Vec<String>,
        /// The column separator.
        delimiter: String,
    },
    /// Parses a log line with a pattern into a JSON object.
    LogToJson {
        /// The pattern (a format's, or `matchPattern`).
        pattern: Regex,
        /// A name per group.
        field_names: Vec<String>,
    },
    /// Wraps the record as `{"metadata":…, "timestamp":…, "data":…}`.
    AddMetadata {
        /// Whether to add the time of processing (RFC 3339, UTC).
        timestamp: bool,
        /// The values to add.
        metadata: serde_json::Map<String, Value>,
    },
}

/// What a processor did to a record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The record's new bytes.
    Converted(Vec<u8>),
    /// The record did not have the expected shape and is sent unchanged.
    Unparsed(Vec<u8>),
}

impl Processor {
    /// Applies the processor; `now_millis` (Unix time) is used by ADDMETADATA's timestamp.
    pub fn apply(&self, record: Vec<u8>, now_millis: u64) -> Outcome {
        match self {
            Processor::SingleLine => {
                let text = String::from_utf8_lossy(&record);
                let mut out: String = text.lines().map(str::trim).collect();
                out.push('\n');
                Outcome::Converted(out.into_bytes())
            }
            Processor::CsvToJson { field_names, delimiter } => {
                let text = String::from_utf8_lossy(&record);
                let values = split_csv(strip_line_end(&text), delimiter);
                let fields = field_names
                    .iter()
                    .zip(values.into_iter().map(Value::String).chain(std::iter::repeat(Value::Null)))
                    .map(|(name, value)| (name.as_str(), value));
                Outcome::Converted(json_line(fields))
            }
            Processor::LogToJson { pattern, field_names } => {
                let text = String::from_utf8_lossy(&record);
                match pattern.captures(strip_line_end(&text)) {
                    Some(caps) => {
                        let fields = field_names.iter().enumerate().filter_map(|(i, name)| {
                            caps.get(i + 1).map(|m| (name.as_str(), Value::String(m.as_str().to_owned())))
                        });
                        Outcome::Converted(json_line(fields))
                    }
                    None => Outcome::Unparsed(record),
                }
            }
            Processor::AddMetadata { timestamp, metadata } => {
                let text = String::from_utf8_lossy(&record);
                let body = strip_line_end(&text);
                let data = serde_json::from_str::<Value>(body).unwrap_or_else(|_| Value::String(body.to_owned()));
                let mut fields = vec![("metadata", Value::Object(metadata.clone()))];
                if *timestamp {
                    fields.push(("timestamp", Value::String(rfc3339_millis(now_millis))));
                }
                fields.push(("data", data));
                Outcome::Converted(json_line(fields.into_iter()))
            }
        }
    }
}

fn strip_line_end(text: &str) -> &str {
    text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(text)
}

/// A JSON object with the keys in the given order (serde_json's map would sort them),
/// followed by a newline.
fn json_line<'a>(fields: impl Iterator<Item = (&'a str, Value)>) -> Vec<u8> {
    let mut out = String::from("{");
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(name.to_owned()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    }
    out.push_str("}\n");
    out.into_bytes()
}

/// Splits one delimited line. A field may be quoted with `"`; inside quotes the delimiter
/// is data and `""` is one quote.
pub fn split_csv(line: &str, delimiter: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut rest = line;
    let mut quoted = false;
    let mut field_start = true;
    while let Some(c) = rest.chars().next() {
        if quoted {
            if let Some(after) = rest.strip_prefix("\"\"") {
                current.push('"');
                rest = after;
                continue;
            }
            if c == '"' {
                quoted = false;
            } else {
                current.push(c);
            }
            rest = &rest[c.len_utf8()..];
        } else if field_start && c == '"' {
            quoted = true;
            field_start = false;
            rest = &rest[1..];
        } else if let Some(after) = rest.strip_prefix(delimiter) {
            fields.push(std::mem::take(&mut current));
            field_start = true;
            rest = after;
        } else {
            current.push(c);
            field_start = false;
            rest = &rest[c.len_utf8()..];
        }
    }
    fields.push(current);
    fields
}

/// `2024-05-01T12:00:00.123Z` for a Unix time in milliseconds.
pub fn rfc3339_millis(unix_millis: u64) -> String {
    let secs = unix_millis / 1000;
    let days = (secs / 86_400) as i64;
    let time = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        time / 3600,
        time % 3600 / 60,
        time % 60,
        unix_millis % 1000
    )
}

#[cfg(test)]
mod tests;
