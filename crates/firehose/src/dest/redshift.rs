//! Redshift delivery onto any PostgreSQL-wire database: the object Firehose staged in S3
//! is loaded into the table the way Redshift's `COPY ... FROM 's3://...'` would load it.
//!
//! PostgreSQL's `COPY` knows neither Redshift's options nor JSON input, so the object is
//! parsed here, following the `CopyOptions`, into rows of text values. The rows go
//! through `COPY ... FROM STDIN (FORMAT binary)` into a temporary all-text table, and one
//! `INSERT ... SELECT CAST(...)` moves them into the target table, so the server's own
//! input functions convert each value to its column's type and the load is all or
//! nothing. (The binary writer is the one way to feed `copy_in` through tokio-postgres's
//! inherent API; its text format would need the `futures` `Sink` trait.)

use std::collections::HashMap;
use std::io::Read as _;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::retry::{Retried, RetryBudget, RetryPolicy, StopSignal};
use super::s3::{put_until_written, stage, S3Sink, StagedObject};
use super::{DeliveryContext, DestError, Layout, Outcome, ProcessedGroup, Sink};
use crate::metrics::StreamStats;
use crate::prefix;

/// Redshift's port when a `jdbc:redshift://` URL names none.
pub const REDSHIFT_DEFAULT_PORT: u16 = 5439;
/// PostgreSQL's port when a `jdbc:postgresql://` URL names none.
pub const POSTGRES_DEFAULT_PORT: u16 = 5432;
/// How long to wait for the database to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Redshift's default field delimiter for text input.
pub const DEFAULT_DELIMITER: char = '|';

/// The `COPY` a Redshift destination issues for each staged object.
#[derive(Clone)]
pub struct CopyTarget {
    pub jdbc_url: String,
    pub username: String,
    pub password: String,
    /// `DataTableName`, possibly schema-qualified; unquoted names fold to lower case.
    pub table: String,
    /// `DataTableColumns`: comma-separated column names; all columns when absent.
    pub columns: Option<String>,
    /// `CopyOptions` in Redshift syntax.
    pub copy_options: Option<String>,
}

impl std::fmt::Debug for CopyTarget {
    // The password is sensitive in the API model; keep it out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyTarget")
            .field("jdbc_url", &self.jdbc_url)
            .field("username", &self.username)
            .field("table", &self.table)
            .field("columns", &self.columns)
            .field("copy_options", &self.copy_options)
            .finish_non_exhaustive()
    }
}

/// Splits `jdbc:postgresql://host[:port]/db[?params]` or `jdbc:redshift://...` into host,
/// port and database. Parameters after `?` are ignored.
pub fn parse_jdbc_url(url: &str) -> Result<(String, u16, String), String> {
    let (rest, default_port) = if let Some(rest) = url.strip_prefix("jdbc:postgresql://") {
        (rest, POSTGRES_DEFAULT_PORT)
    } else if let Some(rest) = url.strip_prefix("jdbc:redshift://") {
        (rest, REDSHIFT_DEFAULT_PORT)
    } else {
        return Err(format!("{url:?} is not a jdbc:postgresql:// or jdbc:redshift:// URL"));
    };
    let (authority, path) = rest.split_once('/').ok_or_else(|| format!("{url:?} names no database"))?;
    let database = path.split(['?', ';']).next().unwrap_or_default();
    if database.is_empty() {
        return Err(format!("{url:?} names no database"));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        // An IPv6 literal: [::1]:5432
        let (host, after) = bracketed.split_once(']').ok_or_else(|| format!("{url:?} has an unclosed '['"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{url:?} names no host"));
    }
    let port = match port {
        Some(port) => port.parse::<u16>().map_err(|_| format!("{url:?} has an invalid port {port:?}"))?,
        None => default_port,
    };
    Ok((host.to_owned(), port, database.to_owned()))
}

/// Loads one staged object into the target table; returns the number of rows loaded.
pub async fn copy_object(target: &CopyTarget, object: &[u8]) -> Result<u64, DestError> {
    let options = CopyOptions::parse(target.copy_options.as_deref().unwrap_or(""))?;
    let (host, port, database) = parse_jdbc_url(&target.jdbc_url).map_err(DestError::Config)?;
    let data = options.decode(object)?;

    let (mut client, connection) = tokio_postgres::Config::new()
        .host(&host)
        .port(port)
        .dbname(&database)
        .user(&target.username)
        .password(&target.password)
        .application_name("rheo-firehose")
        .connect_timeout(CONNECT_TIMEOUT)
        .connect(tokio_postgres::NoTls)
        .await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "redshift destination connection ended with an error");
        }
    });

    let txn = client.transaction().await?;
    // The server resolves the name (schema search path, case folding, quoting) and hands
    // back a correctly quoted form, so the table name is never spliced into SQL raw.
    let relation: String = txn.query_one("SELECT $1::text::regclass::text", &[&target.table]).await?.get(0);
    let table_columns: Vec<(String, String)> = txn
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&target.table],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let columns = select_columns(&table_columns, target.columns.as_deref())?;
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let rows = options.rows(&data, &names)?;

    let staging_columns: Vec<String> = (0..columns.len()).map(|i| format!("c{i} text")).collect();
    txn.batch_execute(&format!("CREATE TEMP TABLE rheo_copy_staging ({}) ON COMMIT DROP", staging_columns.join(", ")))
        .await?;
    let sink = txn.copy_in("COPY rheo_copy_staging FROM STDIN (FORMAT binary)").await?;
    let types = vec![Type::TEXT; columns.len()];
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
    for row in &rows {
        writer.as_mut().write_raw(row.iter().map(Option::as_deref)).await?;
    }
    writer.finish().await?;

    let targets: Vec<String> = names.iter().map(|name| quote_ident(name)).collect();
    let casts: Vec<String> = columns.iter().enumerate().map(|(i, (_, ty))| format!("CAST(c{i} AS {ty})")).collect();
    let loaded = txn
        .execute(
            &format!(
                "INSERT INTO {relation} ({}) SELECT {} FROM rheo_copy_staging",
                targets.join(", "),
                casts.join(", ")
            ),
            &[],
        )
        .await?;
    txn.commit().await?;
    Ok(loaded)
}

/// The columns to load, in load order, with their SQL types: `DataTableColumns` matched
/// case-insensitively (Redshift folds identifiers to lower case), or the whole table.
fn select_columns(table: &[(String, String)], wanted: Option<&str>) -> Result<Vec<(String, String)>, DestError> {
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(table.to_vec());
    };
    wanted
        .split(',')
        .map(|name| {
            let name = name.trim().trim_matches('"');
            table.iter().find(|(column, _)| column.eq_ignore_ascii_case(name)).cloned().ok_or_else(|| {
                DestError::Config(format!("DataTableColumns names {name:?}, which the table does not have"))
            })
        })
        .collect()
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What the object looks like.
#[derive(Debug, Clone, PartialEq)]
enum Format {
    /// PostgreSQL text format: `\N` is NULL, backslash escapes.
    Text { delimiter: char },
    /// CSV: an unquoted empty field is NULL.
    Csv { delimiter: char, quote: char },
    /// `JSON 'auto'`: concatenated JSON objects whose keys name the columns.
    JsonAuto,
}

/// Redshift `CopyOptions`, reduced to what the loader supports.
#[derive(Debug, Clone, PartialEq)]
struct CopyOptions {
    format: Format,
    gzip: bool,
    ignore_header: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word, upper-cased.
    Word(String),
    /// A single-quoted string.
    Quoted(String),
}

const SUPPORTED: &str = "supported: GZIP, CSV [QUOTE [AS] 'c'], DELIMITER [AS] 'c', JSON 'auto', \
                         FORMAT [AS] JSON 'auto' | CSV, IGNOREHEADER [AS] n";

impl CopyOptions {
    fn parse(text: &str) -> Result<Self, DestError> {
        let tokens = tokenize(text)?;
        let mut gzip = false;
        let mut ignore_header = 0;
        let mut csv = false;
        let mut json = false;
        let mut delimiter = None;
        let mut quote = None;
        let mut i = 0;
        // The value of an option, after an optional AS.
        let value = |i: &mut usize, option: &str| -> Result<Token, DestError> {
            *i += 1;
            if tokens.get(*i) == Some(&Token::Word("AS".into())) {
                *i += 1;
            }
            tokens.get(*i).cloned().ok_or_else(|| DestError::CopyOptions(format!("{option} needs a value")))
        };
        while i < tokens.len() {
            match &tokens[i] {
                Token::Word(word) => match word.as_str() {
                    "GZIP" => gzip = true,
                    "CSV" => csv = true,
                    "FORMAT" => {
                        // FORMAT [AS] names the format that follows as its own keyword.
                        if tokens.get(i + 1) == Some(&Token::Word("AS".into())) {
                            i += 1;
                        }
                    }
                    "JSON" => {
                        match value(&mut i, "JSON")? {
                            Token::Quoted(s)
                                if s.eq_ignore_ascii_case("auto") || s.eq_ignore_ascii_case("auto ignorecase") => {}
                            other => {
                                return Err(DestError::CopyOptions(format!(
                                    "JSON {other:?}: only JSON 'auto' is supported (no JSONPaths files)"
                                )))
                            }
                        }
                        json = true;
                    }
                    "DELIMITER" => delimiter = Some(single_char("DELIMITER", value(&mut i, "DELIMITER")?)?),
                    "QUOTE" => quote = Some(single_char("QUOTE", value(&mut i, "QUOTE")?)?),
                    "IGNOREHEADER" => match value(&mut i, "IGNOREHEADER")? {
                        Token::Word(n) => {
                            ignore_header = n.parse().map_err(|_| {
                                DestError::CopyOptions(format!("IGNOREHEADER needs a line count, not {n:?}"))
                            })?
                        }
                        Token::Quoted(n) => {
                            return Err(DestError::CopyOptions(format!("IGNOREHEADER needs a line count, not '{n}'")))
                        }
                    },
                    other => return Err(DestError::CopyOptions(format!("{other} is not supported ({SUPPORTED})"))),
                },
                Token::Quoted(s) => {
                    return Err(DestError::CopyOptions(format!("unexpected '{s}' ({SUPPORTED})")));
                }
            }
            i += 1;
        }
        let format = match (csv, json) {
            (true, true) => return Err(DestError::CopyOptions("CSV and JSON cannot be combined".into())),
            (false, true) if delimiter.is_some() || quote.is_some() => {
                return Err(DestError::CopyOptions("DELIMITER and QUOTE do not apply to JSON".into()))
            }
            (false, true) => Format::JsonAuto,
            (true, false) => Format::Csv { delimiter: delimiter.unwrap_or(','), quote: quote.unwrap_or('"') },
            (false, false) if quote.is_some() => {
                return Err(DestError::CopyOptions("QUOTE applies only to CSV".into()));
            }
            (false, false) => Format::Text { delimiter: delimiter.unwrap_or(DEFAULT_DELIMITER) },
        };
        Ok(CopyOptions { format, gzip, ignore_header })
    }

    /// The object's text: gunzipped if asked, header lines skipped.
    fn decode(&self, object: &[u8]) -> Result<String, DestError> {
        let mut raw = Vec::new();
        let bytes = if self.gzip {
            // Multi-member: concatenated gzip files are one valid gzip stream to Redshift.
            flate2::read::MultiGzDecoder::new(object)
                .read_to_end(&mut raw)
                .map_err(|e| DestError::Data(format!("GZIP was given but the object does not gunzip: {e}")))?;
            raw.as_slice()
        } else {
            object
        };
        let text = std::str::from_utf8(bytes).map_err(|e| DestError::Data(format!("the object is not UTF-8: {e}")))?;
        let mut rest = text;
        for _ in 0..self.ignore_header {
            rest = rest.split_once('\n').map_or("", |(_, after)| after);
        }
        Ok(rest.to_owned())
    }

    /// The object's rows, one text value (or NULL) per column in `columns` order.
    fn rows(&self, data: &str, columns: &[&str]) -> Result<Vec<Vec<Option<String>>>, DestError> {
        let rows = match &self.format {
            Format::Text { delimiter } => parse_text(data, *delimiter),
            Format::Csv { delimiter, quote } => parse_csv(data, *delimiter, *quote)?,
            Format::JsonAuto => return parse_json_auto(data, columns),
        };
        for (n, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(DestError::Data(format!(
                    "row {} has {} fields but {} columns are loaded",
                    n + 1 + self.ignore_header,
                    row.len(),
                    columns.len()
                )));
            }
        }
        Ok(rows)
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, DestError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ';' {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    // '' inside a quoted string is one quote, as in SQL.
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(c) => s.push(c),
                    None => return Err(DestError::CopyOptions(format!("unterminated quote in {text:?}"))),
                }
            }
            tokens.push(Token::Quoted(s));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == ';' || c == '\'' {
                    break;
                }
                word.push(c.to_ascii_uppercase());
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

/// A one-character option value; Redshift writes a tab as `'\t'`.
fn single_char(option: &str, token: Token) -> Result<char, DestError> {
    let Token::Quoted(s) = token else {
        return Err(DestError::CopyOptions(format!("{option} needs a quoted character")));
    };
    let s = match s.as_str() {
        "\\t" => "\t",
        "\\\\" => "\\",
        other => other,
    };
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c != '\n' && c != '\r' => Ok(c),
        _ => Err(DestError::CopyOptions(format!("{option} must be a single character, not '{s}'"))),
    }
}

/// PostgreSQL text format: one row per line, `\N` is NULL, backslash escapes the next
/// character (so an escaped delimiter is data). Blank lines are skipped.
fn parse_text(data: &str, delimiter: char) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    for line in data.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line == "\\." {
            // PostgreSQL's end-of-data marker.
            break;
        }
        let mut row = Vec::new();
        let mut raw = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                raw.push(c);
                if let Some(next) = chars.next() {
                    raw.push(next);
                }
            } else if c == delimiter {
                row.push(unescape_text(&raw));
                raw.clear();
            } else {
                raw.push(c);
            }
        }
        row.push(unescape_text(&raw));
        rows.push(row);
    }
    rows
}

fn unescape_text(raw: &str) -> Option<String> {
    if raw == "\\N" {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('v') => out.push('\u{b}'),
            Some(d @ '0'..='7') => {
                let mut code = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(digit) => {
                            code = code * 8 + digit;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Some(out)
}

/// CSV as PostgreSQL reads it: quoted fields may hold delimiters, newlines and doubled
/// quotes; an unquoted empty field is NULL, a quoted one is the empty string.
fn parse_csv(data: &str, delimiter: char, quote: char) -> Result<Vec<Vec<Option<String>>>, DestError> {
    let mut rows = Vec::new();
    let mut row: Vec<Option<String>> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut chars = data.chars().peekable();
    let end_field = |row: &mut Vec<Option<String>>, field: &mut String, quoted: &mut bool| {
        let value = if field.is_empty() && !*quoted { None } else { Some(std::mem::take(field)) };
        row.push(value);
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == quote {
                if chars.peek() == Some(&quote) {
                    chars.next();
                    field.push(quote);
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == quote {
            in_quotes = true;
            quoted = true;
        } else if c == delimiter {
            end_field(&mut row, &mut field, &mut quoted);
        } else if c == '\n' || (c == '\r' && chars.peek() == Some(&'\n')) {
            if c == '\r' {
                chars.next();
            }
            if row.is_empty() && field.is_empty() && !quoted {
                // A blank line holds no row.
                continue;
            }
            end_field(&mut row, &mut field, &mut quoted);
            rows.push(std::mem::take(&mut row));
        } else {
            field.push(c);
        }
    }
    if in_quotes {
        return Err(DestError::Data("unterminated CSV quoted field at the end of the object".into()));
    }
    if !row.is_empty() || !field.is_empty() || quoted {
        end_field(&mut row, &mut field, &mut quoted);
        rows.push(row);
    }
    Ok(rows)
}

/// `JSON 'auto'`: each top-level JSON object is a row; its keys, compared without case
/// (Redshift lower-cases them), pick the columns. Missing keys and `null` load NULL;
/// strings load as they are, other values as their JSON text.
fn parse_json_auto(data: &str, columns: &[&str]) -> Result<Vec<Vec<Option<String>>>, DestError> {
    let mut rows = Vec::new();
    for (n, value) in serde_json::Deserializer::from_str(data).into_iter::<serde_json::Value>().enumerate() {
        let value = value.map_err(|e| DestError::Data(format!("JSON record {}: {e}", n + 1)))?;
        let serde_json::Value::Object(object) = value else {
            return Err(DestError::Data(format!("JSON record {} is not an object", n + 1)));
        };
        let by_key: HashMap<String, serde_json::Value> =
            object.into_iter().map(|(key, value)| (key.to_lowercase(), value)).collect();
        let row = columns
            .iter()
            .map(|column| match by_key.get(&column.to_lowercase()) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

/// A Redshift destination: each group is staged as an object in the staging bucket,
/// then loaded with [`copy_object`], retried for the destination's retry duration. An
/// object that cannot be loaded in time is skipped and named in a manifest under
/// `errors/manifests/` of the staging bucket, as AWS does.
pub(crate) struct CopySink<'a> {
    pub(crate) staging: &'a S3Sink,
    pub(crate) copy: &'a CopyTarget,
    /// `RetryOptions.DurationInSeconds`.
    pub(crate) retry: Duration,
    pub(crate) backup: Option<&'a S3Sink>,
}

impl Sink for CopySink<'_> {
    type Payload = StagedObject;

    fn layout(&self) -> Layout<'_> {
        Layout::Objects(self.staging)
    }

    async fn encode(&self, context: &DeliveryContext<'_>, group: ProcessedGroup) -> Option<Vec<StagedObject>> {
        Some(vec![stage(context, self.staging, group).await?])
    }

    async fn deliver(&self, context: &DeliveryContext<'_>, object: StagedObject, stop: &mut StopSignal) -> Outcome {
        let StagedObject { key, body, records, bytes, arrivals } = object;
        if !put_until_written(context, &self.staging.bucket, &key, body.clone(), stop).await {
            return Outcome::Stopped;
        }
        let policy = RetryPolicy::delivery().with_budget(RetryBudget::Elapsed(self.retry));
        let copied = policy
            .run(
                context.clock,
                Some(&mut *stop),
                || copy_object(self.copy, &body),
                |error, attempt| {
                    StreamStats::add(&context.stats.delivery_failures, 1);
                    tracing::warn!(message = "COPY into the database failed.", stream = %context.stream_name, %error, attempt);
                },
            )
            .await;
        match copied {
            Retried::Done { .. } => Outcome::Delivered { records, bytes, arrivals },
            Retried::Stopped => Outcome::Stopped,
            Retried::GaveUp { .. } => {
                // AWS skips the object and records it in a manifest under errors/.
                let manifest =
                    json!({"entries": [{"url": format!("s3://{}/{key}", self.staging.bucket), "mandatory": true}]});
                let name = prefix::object_name(
                    context.stream_name,
                    context.version,
                    context.clock.now_ms(),
                    self.staging.time_zone,
                    "",
                );
                let manifest_key = format!("errors/manifests/{name}");
                let manifest = Bytes::from(manifest.to_string());
                if !put_until_written(context, &self.staging.bucket, &manifest_key, manifest, stop).await {
                    return Outcome::Stopped;
                }
                Outcome::Discarded { records }
            }
        }
    }

    fn error_output(&self) -> &S3Sink {
        self.staging
    }

    fn source_backup(&self) -> Option<&S3Sink> {
        self.backup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(text: &str) -> CopyOptions {
        CopyOptions::parse(text).unwrap()
    }

    #[test]
    fn jdbc_urls() {
        assert_eq!(
            parse_jdbc_url("jdbc:redshift://c.abc.us-east-1.redshift.amazonaws.com:5439/dev").unwrap(),
            ("c.abc.us-east-1.redshift.amazonaws.com".to_owned(), 5439, "dev".to_owned())
        );
        assert_eq!(
            parse_jdbc_url("jdbc:postgresql://127.0.0.1:6543/db?ssl=true").unwrap(),
            ("127.0.0.1".into(), 6543, "db".into())
        );
        assert_eq!(parse_jdbc_url("jdbc:postgresql://h/db").unwrap(), ("h".into(), 5432, "db".into()));
        assert_eq!(parse_jdbc_url("jdbc:redshift://h/db").unwrap(), ("h".into(), 5439, "db".into()));
        assert_eq!(parse_jdbc_url("jdbc:postgresql://[::1]:7/db").unwrap(), ("::1".into(), 7, "db".into()));
        for bad in [
            "postgresql://h:1/db",
            "jdbc:mysql://h/db",
            "jdbc:postgresql://h:1",
            "jdbc:postgresql://h:x/db",
            "jdbc:postgresql://:1/db",
            "jdbc:postgresql://h:1/",
        ] {
            assert!(parse_jdbc_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn copy_options_translate() {
        assert_eq!(opts(""), CopyOptions { format: Format::Text { delimiter: '|' }, gzip: false, ignore_header: 0 });
        assert_eq!(opts("delimiter '\\t' ;").format, Format::Text { delimiter: '\t' });
        assert_eq!(opts("DELIMITER AS ','").format, Format::Text { delimiter: ',' });
        assert_eq!(opts("csv").format, Format::Csv { delimiter: ',', quote: '"' });
        assert_eq!(opts("CSV QUOTE AS '%' DELIMITER ';'").format, Format::Csv { delimiter: ';', quote: '%' });
        assert_eq!(opts("json 'auto' gzip"), CopyOptions { format: Format::JsonAuto, gzip: true, ignore_header: 0 });
        assert_eq!(opts("FORMAT AS JSON 'auto'").format, Format::JsonAuto);
        assert_eq!(opts("format csv ignoreheader 2").ignore_header, 2);
        assert_eq!(opts("IGNOREHEADER AS 1").ignore_header, 1);
        for bad in [
            "LZOP",
            "JSON 's3://b/paths.json'",
            "CSV JSON 'auto'",
            "JSON 'auto' DELIMITER ','",
            "QUOTE '\"'",
            "DELIMITER 'ab'",
            "DELIMITER",
            "IGNOREHEADER x",
            "FIXEDWIDTH 'a:1'",
            "DELIMITER '|",
        ] {
            let err = CopyOptions::parse(bad).unwrap_err();
            assert!(matches!(err, DestError::CopyOptions(_)), "{bad}: {err}");
        }
        assert!(CopyOptions::parse("LZOP").unwrap_err().to_string().contains("LZOP is not supported"));
    }

    #[test]
    fn text_format() {
        let rows = parse_text("1|a\\|b|\\N\n2||x\\ty\r\n\n", '|');
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("a|b".into()), None],
                vec![Some("2".into()), Some(String::new()), Some("x\ty".into())]
            ]
        );
        assert_eq!(parse_text("\\101\\\\\n\\.\nignored", '|'), vec![vec![Some("A\\".into())]]);
    }

    #[test]
    fn csv_format() {
        let rows = parse_csv("1,\"a,b\",\n2,\"\",\"x\"\"y\nz\"\r\n\n3,c,d", ',', '"').unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("a,b".into()), None],
                vec![Some("2".into()), Some(String::new()), Some("x\"y\nz".into())],
                vec![Some("3".into()), Some("c".into()), Some("d".into())],
            ]
        );
        assert!(parse_csv("1,\"open", ',', '"').is_err());
    }

    #[test]
    fn json_auto_matches_keys_without_case() {
        let rows = parse_json_auto(
            "{\"ID\":1,\"Name\":\"a\"}\n{\"id\":2,\"extra\":true,\"tags\":[1]} {\"name\":null}",
            &["id", "name", "tags"],
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("a".into()), None],
                vec![Some("2".into()), None, Some("[1]".into())],
                vec![None, None, None],
            ]
        );
        assert!(parse_json_auto("[1]", &["id"]).is_err());
        assert!(parse_json_auto("{\"id\":", &["id"]).is_err());
    }

    #[test]
    fn decode_gunzips_and_skips_headers() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"h1\nh2\n1|a\n").unwrap();
        let object = gz.finish().unwrap();
        let options = opts("GZIP IGNOREHEADER 2");
        assert_eq!(options.decode(&object).unwrap(), "1|a\n");
        assert!(opts("GZIP").decode(b"not gzip").is_err());
        assert!(matches!(opts("").rows("1|2\n", &["a"]), Err(DestError::Data(_))));
    }

    #[test]
    fn columns_selection() {
        let table = vec![("id".to_owned(), "integer".to_owned()), ("Name".to_owned(), "text".to_owned())];
        assert_eq!(select_columns(&table, None).unwrap(), table);
        assert_eq!(select_columns(&table, Some(" name , ID ")).unwrap(), vec![table[1].clone(), table[0].clone()]);
        assert!(select_columns(&table, Some("id,nope")).is_err());
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
