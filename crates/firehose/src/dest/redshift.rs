//! Redshift delivery on any PostgreSQL-wire database: the staged object is loaded
//! with `COPY … FROM STDIN`, translating Redshift's common `CopyOptions`.
//!
//! PostgreSQL has no JSON COPY format, so `JSON 'auto'` objects are parsed here and
//! streamed as CSV rows in the table's column order (keys matched case-insensitively,
//! missing ones NULL), which is what Redshift's `'auto'` does.

use std::io::Read as _;

use bytes::Bytes;
use futures_util::SinkExt;
use serde_json::Value;
use tokio_postgres::NoTls;

use super::DestError;

/// Redshift's default field delimiter.
const DEFAULT_DELIMITER: &str = "|";
/// Largest decompressed object loaded.
const OBJECT_BYTES_MAX: u64 = 1 << 30;

/// Where and how rows are loaded.
#[derive(Debug, Clone)]
pub struct CopyTarget {
    pub jdbc_url: String,
    pub username: String,
    pub password: String,
    pub table: String,
    /// `DataTableColumns`, comma-separated.
    pub columns: Option<String>,
    pub copy_options: Option<String>,
}

/// `jdbc:postgresql://host:port/db` or `jdbc:redshift://host:port/db`.
pub fn parse_jdbc_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("jdbc:postgresql://")
        .or_else(|| url.strip_prefix("jdbc:redshift://"))
        .ok_or_else(|| format!("ClusterJDBCURL must start with jdbc:redshift:// or jdbc:postgresql://: {url}"))?;
    let (address, database) = rest.split_once('/').ok_or_else(|| format!("ClusterJDBCURL has no database: {url}"))?;
    let database = database.split(['?', ';']).next().unwrap_or_default();
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| format!("ClusterJDBCURL has a bad port: {url}"))?),
        None => (address, 5439),
    };
    if host.is_empty() || database.is_empty() {
        return Err(format!("ClusterJDBCURL needs a host and a database: {url}"));
    }
    Ok((host.to_owned(), port, database.to_owned()))
}

#[derive(Debug, Default, PartialEq)]
struct Options {
    gzip: bool,
    json: bool,
    csv: bool,
    quote: Option<String>,
    delimiter: Option<String>,
    ignore_header: usize,
}

/// Reads the CopyOptions Rheo understands; anything else is refused, not ignored.
fn parse_options(text: &str) -> Result<Options, String> {
    let mut options = Options::default();
    let mut words = text.trim().trim_end_matches(';').split_whitespace().peekable();
    let quoted = |word: Option<&str>| -> Result<String, String> {
        let word = word.ok_or("a quoted value is missing in CopyOptions")?;
        let inner = word
            .strip_prefix('\'')
            .and_then(|w| w.strip_suffix('\''))
            .ok_or(format!("expected a quoted value, found {word}"))?;
        Ok(inner.replace("\\t", "\t"))
    };
    while let Some(word) = words.next() {
        match word.to_ascii_uppercase().as_str() {
            "GZIP" => options.gzip = true,
            "CSV" => options.csv = true,
            "FORMAT" => {
                if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
                    words.next();
                }
            }
            "JSON" => {
                let argument = quoted(words.next())?;
                if !argument.eq_ignore_ascii_case("auto") {
                    return Err(format!("only JSON 'auto' is supported, not JSON '{argument}'"));
                }
                options.json = true;
            }
            "DELIMITER" => {
                if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
                    words.next();
                }
                options.delimiter = Some(quoted(words.next())?);
            }
            "QUOTE" => {
                if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
                    words.next();
                }
                options.quote = Some(quoted(words.next())?);
            }
            "IGNOREHEADER" => {
                if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
                    words.next();
                }
                options.ignore_header =
                    words.next().and_then(|n| n.parse().ok()).ok_or("IGNOREHEADER needs a number")?;
            }
            other => return Err(format!("unsupported COPY option {other}")),
        }
    }
    Ok(options)
}

fn quote_identifier(name: &str) -> String {
    name.split('.').map(|part| format!("\"{}\"", part.trim().replace('"', "\"\""))).collect::<Vec<_>>().join(".")
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn csv_field(value: &Value, out: &mut String) {
    let text = match value {
        Value::Null => return, // an unquoted empty field is NULL in CSV COPY
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    out.push('"');
    out.push_str(&text.replace('"', "\"\""));
    out.push('"');
}

/// JSON objects (concatenated or one per line) as CSV rows of `columns`.
fn json_to_csv(data: &[u8], columns: &[String]) -> Result<Vec<u8>, String> {
    let mut out = String::new();
    for object in serde_json::Deserializer::from_slice(data).into_iter::<Value>() {
        let object = object.map_err(|e| format!("record is not JSON: {e}"))?;
        let Value::Object(map) = object else { return Err("record is not a JSON object".into()) };
        let lowered: std::collections::HashMap<String, &Value> =
            map.iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(lowered.get(&column.to_lowercase()).copied().unwrap_or(&Value::Null), &mut out);
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Loads one staged object; returns the rows copied.
pub async fn copy_object(target: &CopyTarget, object: &[u8]) -> Result<u64, DestError> {
    let db = |e: String| DestError::Database(e);
    let (host, port, database) = parse_jdbc_url(&target.jdbc_url).map_err(db)?;
    let options = parse_options(target.copy_options.as_deref().unwrap_or_default()).map_err(db)?;
    let mut data = object.to_vec();
    if options.gzip {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(object)
            .take(OBJECT_BYTES_MAX)
            .read_to_end(&mut plain)
            .map_err(|e| db(format!("GZIP object does not decompress: {e}")))?;
        data = plain;
    }
    let mut config = tokio_postgres::Config::new();
    config.host(&host).port(port).dbname(&database).user(&target.username).password(&target.password);
    let (client, connection) = config.connect(NoTls).await.map_err(|e| db(e.to_string()))?;
    let connection = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(message = "Database connection ended.", %error);
        }
    });
    let result = async {
        let table = quote_identifier(&target.table);
        let columns: Vec<String> = match &target.columns {
            Some(list) => list.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
            None if options.json => {
                let (schema, name) = match target.table.split_once('.') {
                    Some((schema, name)) => (schema.to_owned(), name.to_owned()),
                    None => ("public".to_owned(), target.table.clone()),
                };
                let rows = client
                    .query(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                        &[&schema, &name],
                    )
                    .await
                    .map_err(|e| db(e.to_string()))?;
                rows.iter().map(|r| r.get::<_, String>(0)).collect()
            }
            None => Vec::new(),
        };
        if options.json && columns.is_empty() {
            return Err(db(format!("table {} not found or has no columns", target.table)));
        }
        let column_list = if columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", columns.iter().map(|c| quote_identifier(c)).collect::<Vec<_>>().join(", "))
        };
        let (payload, format) = if options.json {
            (json_to_csv(&data, &columns).map_err(db)?, "FORMAT csv".to_owned())
        } else if options.csv {
            let mut format = format!("FORMAT csv, DELIMITER {}", quote_literal(options.delimiter.as_deref().unwrap_or(",")));
            if let Some(quote) = &options.quote {
                format.push_str(&format!(", QUOTE {}", quote_literal(quote)));
            }
            (data, format)
        } else {
            (data, format!("FORMAT text, DELIMITER {}", quote_literal(options.delimiter.as_deref().unwrap_or(DEFAULT_DELIMITER))))
        };
        let payload: Vec<u8> = if options.ignore_header > 0 {
            payload.split_inclusive(|b| *b == b'\n').skip(options.ignore_header).flatten().copied().collect()
        } else {
            payload
        };
        let statement = format!("COPY {table}{column_list} FROM STDIN WITH ({format})");
        let sink = client.copy_in(&statement).await.map_err(|e| db(e.to_string()))?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::from(payload)).await.map_err(|e| db(e.to_string()))?;
        sink.as_mut().finish().await.map_err(|e| db(e.to_string()))
    }
    .await;
    drop(client);
    let _ = connection.await;
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jdbc_urls_and_options_parse() {
        assert_eq!(
            parse_jdbc_url("jdbc:postgresql://127.0.0.1:5433/db").unwrap(),
            ("127.0.0.1".into(), 5433, "db".into())
        );
        assert_eq!(
            parse_jdbc_url("jdbc:redshift://h.example/dev?ssl=true").unwrap(),
            ("h.example".into(), 5439, "dev".into())
        );
        assert!(parse_jdbc_url("postgres://h/db").is_err());
        let options = parse_options("JSON 'auto' GZIP;").unwrap();
        assert!(options.json && options.gzip);
        let options = parse_options("FORMAT AS CSV DELIMITER AS ';' IGNOREHEADER 1").unwrap();
        assert_eq!((options.csv, options.delimiter.as_deref(), options.ignore_header), (true, Some(";"), 1));
        assert!(parse_options("lzop").is_err());
        assert!(parse_options("JSON 's3://paths.json'").is_err());
    }

    #[test]
    fn json_records_become_csv_rows() {
        let rows = json_to_csv(br#"{"ID":1,"name":"a \"q\""}{"id":2}"#, &["id".into(), "name".into()]).unwrap();
        assert_eq!(String::from_utf8(rows).unwrap(), "\"1\",\"a \"\"q\"\"\"\n\"2\",\n");
        assert!(json_to_csv(b"[1]", &["id".into()]).is_err());
    }
}
