//! A schema from sampled records, as DiscoverInputSchema returns it: the format (JSON
//! objects or CSV), the columns with their names, mappings and SQL types, and each
//! sampled row parsed with that schema.
//!
//! Rules (developer guide, "Using the Schema Discovery Feature", and its documented CSV
//! example): a name that is a reserved word, holds characters other than letters, digits
//! and `_`, starts with a digit or is longer than 100 characters is prefixed `COL_` (after
//! dropping the unsupported characters; `COL_<position>` when nothing remains); VARCHAR
//! widths are the longest value rounded up to a power of two, at least 4; the header row
//! of a CSV sample gives the names and is parsed like the other rows (NULL where a value
//! does not fit). Where the guide is silent (Rheo's choices): JSON members of nested
//! objects become columns named by their own key (`$.a.b` → `b`, made unique with a
//! `_<n>` suffix), arrays map whole (`$.a[0:]`, VARCHAR), fractional numbers are REAL
//! (the guide's stock-ticker demo schema), and strings that all read as timestamps are
//! TIMESTAMP.

use bytes::Bytes;
use serde_json::Value as Json;

use super::coerce::{coerce, Raw};
use super::datetime::parse_timestamp;
use crate::config::{RecordColumn, RecordFormat, SourceSchemaDef};
use crate::value::{SqlType, Value};

/// What DiscoverInputSchema answers besides the raw records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferredSchema {
    pub schema: SourceSchemaDef,
    /// Each sampled row's values as text, one per column; `None` where the value is
    /// missing or does not fit the inferred type (AWS's `ParsedInputRecords`).
    pub parsed: Vec<Vec<Option<String>>>,
}

/// Longest column name kept as it is.
const NAME_CHARS_MAX: usize = 100;
/// Smallest VARCHAR width inferred.
const VARCHAR_MIN: u32 = 4;
/// Largest VARCHAR width inferred (longer samples are still VARCHAR of this width).
const VARCHAR_MAX: u32 = 65_535;

/// Infers a schema from sampled records; `None` when they hold nothing usable (no
/// record, only empty ones, or text that is neither JSON objects nor UTF-8 rows).
pub fn infer(records: &[Bytes]) -> Option<InferredSchema> {
    let records: Vec<&Bytes> = records.iter().filter(|record| !record.trim_ascii().is_empty()).collect();
    if records.is_empty() {
        return None;
    }
    infer_json(&records).or_else(|| infer_csv(&records))
}

/// The values seen in one column, enough to choose its type.
#[derive(Debug, Default, Clone)]
struct Seen {
    booleans: bool,
    integers: Option<(i128, i128)>,
    fractions: bool,
    strings: bool,
    non_timestamp_strings: bool,
    composites: bool,
    longest_text: usize,
}

impl Seen {
    fn add(&mut self, raw: Raw<'_>) {
        match raw {
            Raw::Null => {}
            Raw::Bool(_) => self.booleans = true,
            Raw::Int(value) => self.integer(i128::from(value)),
            Raw::UInt(value) => self.integer(i128::from(value)),
            Raw::Float(_) => self.fractions = true,
            Raw::Str(text) => {
                self.strings = true;
                self.non_timestamp_strings |= parse_timestamp(text).is_none() || !text.contains(':');
            }
            Raw::Composite(_) => self.composites = true,
        }
        if let Raw::Str(text) | Raw::Composite(text) = raw {
            self.longest_text = self.longest_text.max(text.chars().count());
        } else if !matches!(raw, Raw::Null) {
            self.longest_text = self.longest_text.max(text_of(raw).len());
        }
    }

    fn integer(&mut self, value: i128) {
        let (low, high) = self.integers.unwrap_or((value, value));
        self.integers = Some((low.min(value), high.max(value)));
    }

    fn sql_type(&self) -> SqlType {
        let numbers = self.integers.is_some() || self.fractions;
        let kinds = [self.booleans, numbers, self.strings, self.composites].iter().filter(|&&kind| kind).count();
        if kinds == 1 && self.booleans {
            return SqlType::Boolean;
        }
        if kinds == 1 && self.strings && !self.non_timestamp_strings {
            return SqlType::Timestamp;
        }
        if kinds == 1 && numbers {
            if self.fractions {
                return SqlType::Real;
            }
            if let Some((low, high)) = self.integers {
                let fits_integer = low >= i128::from(i32::MIN) && high <= i128::from(i32::MAX);
                let fits_bigint = low >= i128::from(i64::MIN) && high <= i128::from(i64::MAX);
                if fits_integer {
                    return SqlType::Integer;
                }
                if fits_bigint {
                    return SqlType::BigInt;
                }
            }
        }
        self.sql_type_as_text()
    }
}

fn text_of(raw: Raw<'_>) -> String {
    match raw {
        Raw::Null => String::new(),
        Raw::Bool(value) => value.to_string(),
        Raw::Int(value) => value.to_string(),
        Raw::UInt(value) => value.to_string(),
        Raw::Float(value) => value.to_string(),
        Raw::Str(text) | Raw::Composite(text) => text.to_string(),
    }
}

/// The text of `raw` in a parsed record, or `None` when it is NULL or does not fit.
fn parsed_text(raw: Raw<'_>, sql_type: SqlType) -> Option<String> {
    match coerce(raw, sql_type, &Bytes::new()) {
        Ok(Value::Null) | Err(_) => None,
        Ok(_) => Some(text_of(raw)),
    }
}

/// Applies the guide's renaming rules to a member or header name.
pub fn column_name(raw: &str, position: usize) -> String {
    let kept: String = raw.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if kept.is_empty() {
        return format!("COL_{position}");
    }
    let starts_with_digit = kept.starts_with(|c: char| c.is_ascii_digit());
    let needs_prefix =
        kept.len() != raw.len() || kept.len() > NAME_CHARS_MAX || starts_with_digit || is_reserved(&kept);
    if !needs_prefix {
        return kept;
    }
    let mut name = String::from("COL_");
    name.extend(kept.chars().take(NAME_CHARS_MAX));
    name
}

fn is_reserved(name: &str) -> bool {
    RESERVED_WORDS.split_ascii_whitespace().any(|word| word.eq_ignore_ascii_case(name))
}

/// Names made unique within a schema: a repeated name gets `_2`, `_3`, ….
fn unique(names: &mut Vec<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut suffix = 2;
    while names.contains(&candidate) {
        candidate = format!("{name}_{suffix}");
        suffix += 1;
    }
    names.push(candidate.clone());
    candidate
}

fn number_raw(number: &serde_json::Number) -> Raw<'static> {
    match (number.as_i64(), number.as_u64()) {
        (Some(value), _) => Raw::Int(value),
        (None, Some(value)) => Raw::UInt(value),
        (None, None) => Raw::Float(number.as_f64().unwrap_or(f64::NAN)),
    }
}

/// A leaf of the sampled JSON objects: its path and the member name it ends with.
#[derive(Debug, Clone)]
struct Leaf {
    path: String,
    steps: Vec<String>,
    array: bool,
    key: String,
    seen: Seen,
}

fn mapping_member(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(".{key}")
    } else {
        format!("['{}']", key.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A JSON document that keeps members in record order (`serde_json`'s map sorts them
/// unless its `preserve_order` feature is on), so columns come out in the order records
/// hold them.
#[derive(Debug)]
enum Doc {
    Value(Json),
    Object(Vec<(String, Doc)>),
}

impl<'de> serde::Deserialize<'de> for Doc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Doc, D::Error> {
        deserializer.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

impl<'de> serde::de::Visitor<'de> for DocVisitor {
    type Value = Doc;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Doc, E> {
        Ok(Doc::Value(Json::Null))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Doc, E> {
        Ok(Doc::Value(Json::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Doc, E> {
        Ok(Doc::Value(Json::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Doc, E> {
        Ok(Doc::Value(Json::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Doc, E> {
        Ok(Doc::Value(Json::from(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Doc, E> {
        Ok(Doc::Value(Json::String(value.to_string())))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element::<Json>()? {
            elements.push(element);
        }
        Ok(Doc::Value(Json::Array(elements)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Doc>()? {
            members.push(member);
        }
        Ok(Doc::Object(members))
    }
}

impl Doc {
    fn member(&self, name: &str) -> Option<&Doc> {
        match self {
            // A member written twice: the last one counts, as in the mapper.
            Doc::Object(members) => members.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value),
            Doc::Value(_) => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Doc::Value(json) => json.to_string(),
            Doc::Object(members) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(key, value)| format!("{}:{}", Json::from(key.as_str()), value.text()))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
        }
    }
}

fn collect_leaves(members: &[(String, Doc)], prefix: &str, steps: &[String], leaves: &mut Vec<Leaf>) {
    for (key, value) in members {
        let path = format!("{prefix}{}", mapping_member(key));
        let mut leaf_steps = steps.to_vec();
        leaf_steps.push(key.clone());
        match value {
            Doc::Object(inner) if !inner.is_empty() => collect_leaves(inner, &path, &leaf_steps, leaves),
            _ => {
                let array = matches!(value, Doc::Value(Json::Array(_)));
                let path = if array { format!("{path}[0:]") } else { path };
                if !leaves.iter().any(|leaf| leaf.path == path) {
                    leaves.push(Leaf { path, steps: leaf_steps, array, key: key.clone(), seen: Seen::default() });
                }
            }
        }
    }
}

fn lookup<'d>(root: &'d Doc, steps: &[String]) -> Option<&'d Doc> {
    steps.iter().try_fold(root, |node, step| node.member(step))
}

fn with_raw<T>(doc: Option<&Doc>, apply: impl FnOnce(Raw<'_>) -> T) -> T {
    match doc {
        None | Some(Doc::Value(Json::Null)) => apply(Raw::Null),
        Some(Doc::Value(Json::Bool(value))) => apply(Raw::Bool(*value)),
        Some(Doc::Value(Json::Number(number))) => apply(number_raw(number)),
        Some(Doc::Value(Json::String(text))) => apply(Raw::Str(text)),
        Some(composite) => {
            let text = composite.text();
            apply(Raw::Composite(&text))
        }
    }
}

fn infer_json(records: &[&Bytes]) -> Option<InferredSchema> {
    let documents: Vec<Doc> = records
        .iter()
        .map(|record| serde_json::from_slice::<Doc>(record).ok().filter(|doc| matches!(doc, Doc::Object(_))))
        .collect::<Option<_>>()?;
    let mut leaves = Vec::new();
    for document in &documents {
        if let Doc::Object(members) = document {
            collect_leaves(members, "$", &[], &mut leaves);
        }
    }
    if leaves.is_empty() {
        return None;
    }
    for leaf in &mut leaves {
        for document in &documents {
            with_raw(lookup(document, &leaf.steps), |raw| leaf.seen.add(raw));
        }
    }
    let mut names = Vec::new();
    let columns: Vec<RecordColumn> = leaves
        .iter()
        .enumerate()
        .map(|(position, leaf)| {
            let sql_type = if leaf.array { leaf.seen.sql_type_as_text() } else { leaf.seen.sql_type() };
            RecordColumn {
                name: unique(&mut names, column_name(&leaf.key, position)),
                sql_type,
                mapping: Some(leaf.path.clone()),
            }
        })
        .collect();
    let parsed = documents
        .iter()
        .map(|document| {
            leaves
                .iter()
                .zip(&columns)
                .map(|(leaf, column)| with_raw(lookup(document, &leaf.steps), |raw| parsed_text(raw, column.sql_type)))
                .collect()
        })
        .collect();
    Some(InferredSchema {
        schema: SourceSchemaDef { format: RecordFormat::Json { row_path: "$".into() }, columns },
        parsed,
    })
}

impl Seen {
    /// VARCHAR wide enough for every value's text.
    fn sql_type_as_text(&self) -> SqlType {
        let width = u32::try_from(self.longest_text).unwrap_or(VARCHAR_MAX);
        SqlType::Varchar(width.max(VARCHAR_MIN).checked_next_power_of_two().unwrap_or(VARCHAR_MAX).min(VARCHAR_MAX))
    }
}

/// Column delimiters tried, in order of preference.
const COLUMN_DELIMITERS: [&str; 4] = [",", "|", "\t", ";"];

fn infer_csv(records: &[&Bytes]) -> Option<InferredSchema> {
    let texts: Vec<&str> = records.iter().map(|record| std::str::from_utf8(record).ok()).collect::<Option<_>>()?;
    let row_delimiter = if texts.iter().any(|text| text.contains("\r\n")) { "\r\n" } else { "\n" };
    let rows: Vec<&str> =
        texts.iter().flat_map(|text| text.split(row_delimiter)).filter(|row| !row.trim().is_empty()).collect();
    // Whitespace other than ASCII may leave no row at all.
    let first_row = rows.first()?;
    let column_delimiter = COLUMN_DELIMITERS
        .into_iter()
        .find(|delimiter| {
            let width = first_row.split(delimiter).count();
            width > 1 && rows.iter().all(|row| row.split(delimiter).count() == width)
        })
        .unwrap_or(",");
    let table: Vec<Vec<&str>> = rows.iter().map(|row| row.split(column_delimiter).collect()).collect();
    let width = table.iter().map(Vec::len).max()?;
    let seen_from = |skip: usize| {
        let mut seen = vec![Seen::default(); width];
        for row in table.iter().skip(skip) {
            for (column, field) in row.iter().enumerate() {
                seen[column].add(field_raw(field));
            }
        }
        seen
    };
    let body = seen_from(1);
    let header = table.first()?;
    let has_header = table.len() > 1
        && header.iter().all(|field| !field.is_empty() && field_raw(field).is_text())
        && body.iter().enumerate().any(|(column, seen)| {
            let sql_type = seen.sql_type();
            header.get(column).is_some_and(|field| coerce(Raw::Str(field), sql_type, &Bytes::new()).is_err())
        });
    let seen = if has_header { body } else { seen_from(0) };
    let mut names = Vec::new();
    let columns: Vec<RecordColumn> = seen
        .iter()
        .enumerate()
        .map(|(position, seen)| {
            let raw_name = if has_header { header.get(position).copied().unwrap_or("") } else { "" };
            RecordColumn {
                name: unique(&mut names, column_name(raw_name, position)),
                sql_type: seen.sql_type(),
                mapping: None,
            }
        })
        .collect();
    let parsed = table
        .iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(position, column)| {
                    let field = row.get(position).copied().unwrap_or("");
                    if field.is_empty() {
                        return None;
                    }
                    coerce(Raw::Str(field), column.sql_type, &Bytes::new()).ok().map(|_| field.to_string())
                })
                .collect()
        })
        .collect();
    Some(InferredSchema {
        schema: SourceSchemaDef {
            format: RecordFormat::Csv {
                row_delimiter: row_delimiter.to_string(),
                column_delimiter: column_delimiter.to_string(),
            },
            columns,
        },
        parsed,
    })
}

/// A CSV field as the JSON kind it reads as (so both formats share [`Seen`]).
fn field_raw(field: &str) -> Raw<'_> {
    if field.is_empty() {
        Raw::Null
    } else if let Ok(value) = field.parse::<i64>() {
        Raw::Int(value)
    } else if let Some(value) = field.parse::<f64>().ok().filter(|value| value.is_finite()) {
        Raw::Float(value)
    } else if field.eq_ignore_ascii_case("true") || field.eq_ignore_ascii_case("false") {
        Raw::Bool(field.eq_ignore_ascii_case("true"))
    } else {
        Raw::Str(field)
    }
}

impl Raw<'_> {
    fn is_text(&self) -> bool {
        matches!(self, Raw::Str(_))
    }
}

/// Reserved words of KDA's SQL (SQL reference, "Reserved Words and Keywords"): the
/// SQL:2008 reserved words plus the streaming ones.
const RESERVED_WORDS: &str = "
ABS ALL ALLOCATE ALLOW ALTER ANALYZE AND ANY APPROXIMATE_ARRIVAL_TIME ARE ARRAY AS ASENSITIVE ASYMMETRIC AT
ATOMIC AUTHORIZATION AVG BEGIN BETWEEN BIGINT BINARY BIT BLOB BOOLEAN BOTH BY CALL CALLED CARDINALITY
CASCADED CASE CAST CEIL CEILING CHAR CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CHECKPOINT CLOB CLOSE
CLUSTERED COALESCE COLLATE COLLECT COLUMN COMMIT CONDITION CONNECT CONSTRAINT CONVERT CORR CORRESPONDING
COUNT COVAR_POP COVAR_SAMP CREATE CROSS CUBE CUME_DIST CURRENT CURRENT_CATALOG CURRENT_DATE
CURRENT_DEFAULT_TRANSFORM_GROUP CURRENT_PATH CURRENT_ROLE CURRENT_ROW_TIMESTAMP CURRENT_SCHEMA CURRENT_TIME
CURRENT_TIMESTAMP CURRENT_TRANSFORM_GROUP_FOR_TYPE CURRENT_USER CURSOR CYCLE DATE DAY DEALLOCATE DEC DECIMAL
DECLARE DEFAULT DELETE DENSE_RANK DEREF DESCRIBE DETERMINISTIC DISALLOW DISCONNECT DISTINCT DOUBLE DROP
DYNAMIC EACH ELEMENT ELSE END END-EXEC ESCAPE EVERY EXCEPT EXEC EXECUTE EXISTS EXP EXPLAIN EXP_AVG EXTERNAL
EXTRACT FALSE FETCH FILTER FIRST_VALUE FLOAT FLOOR FOR FOREIGN FREE FROM FULL FUNCTION FUSION GET GLOBAL
GRANT GROUP GROUPING HAVING HOLD HOUR IDENTITY IMPORT IN INDICATOR INNER INOUT INSENSITIVE INSERT INT
INTEGER INTERSECT INTERSECTION INTERVAL INTO IS JOIN LANGUAGE LARGE LAST_VALUE LATERAL LEADING LEFT LIKE
LIMIT LN LOCAL LOCALTIME LOCALTIMESTAMP LOWER MATCH MAX MEMBER MERGE METHOD MIN MINUTE MOD MODIFIES MODULE
MONTH MULTISET NATIONAL NATURAL NCHAR NCLOB NEW NO NONE NORMALIZE NOT NULL NULLIF NUMERIC OCTET_LENGTH OF
OLD ON ONLY OPEN OR ORDER OUT OUTER OVER OVERLAPS OVERLAY PARAMETER PARTITION PERCENTILE_CONT
PERCENTILE_DISC PERCENT_RANK POSITION POWER PRECISION PREPARE PRIMARY PROCEDURE PUMP RANGE RANK READS REAL
RECURSIVE REF REFERENCES REFERENCING REGR_AVGX REGR_AVGY REGR_COUNT REGR_INTERCEPT REGR_R2 REGR_SLOPE
REGR_SXX REGR_SXY REGR_SYY RELEASE RESULT RETURN RETURNS REVOKE RIGHT ROLLBACK ROLLUP ROW ROWS ROWTIME
ROW_NUMBER SAVEPOINT SCOPE SCROLL SEARCH SECOND SELECT SENSITIVE SESSION_USER SET SIMILAR SMALLINT SOME
SPECIFIC SPECIFICTYPE SQL SQLEXCEPTION SQLSTATE SQLWARNING SQRT START STATIC STDDEV STDDEV_POP STDDEV_SAMP
STREAM SUBMULTISET SUBSTRING SUM SYMMETRIC SYSTEM SYSTEM_USER TABLE TABLESAMPLE THEN TIME TIMESTAMP
TIMEZONE_HOUR TIMEZONE_MINUTE TINYINT TO TRAILING TRANSLATE TRANSLATION TREAT TRIGGER TRIM TRUE TRUNCATE
UESCAPE UNION UNIQUE UNKNOWN UNNEST UPDATE UPPER USER USING VALUE VALUES VARBINARY VARCHAR VARYING VAR_POP
VAR_SAMP WHEN WHENEVER WHERE WIDTH_BUCKET WINDOW WITH WITHIN WITHOUT YEAR
";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_guides_renaming_examples() {
        assert_eq!(column_name("USER", 0), "COL_USER");
        assert_eq!(column_name("USER@DOMAIN", 0), "COL_USERDOMAIN");
        assert_eq!(column_name("@@", 0), "COL_0");
        assert_eq!(column_name("year", 0), "COL_year");
        assert_eq!(column_name("1st", 3), "COL_1st");
        assert_eq!(column_name("referrer", 1), "referrer");
        assert_eq!(column_name(&"x".repeat(101), 0), format!("COL_{}", "x".repeat(100)));
    }

    /// The guide's documented S3 example: `data.csv` with CRLF line ends.
    #[test]
    fn the_guides_csv_example() {
        let file = "year,month,state,producer_type,energy_source,units,consumption\r\n\
            2001,1,AK,TotalElectricPowerIndustry,Coal,ShortTons,47615\r\n\
            2001,1,AK,ElectricGeneratorsElectricUtilities,Coal,ShortTons,16535\r\n\
            2001,1,AK,CombinedHeatandPowerElectricPower,Coal,ShortTons,22890\r\n\
            2001,1,AL,TotalElectricPowerIndustry,Coal,ShortTons,3020601\r\n\
            2001,1,AL,ElectricGeneratorsElectricUtilities,Coal,ShortTons,2987681";
        let inferred = infer(&[Bytes::from(file)]).unwrap();
        assert_eq!(
            inferred.schema.format,
            RecordFormat::Csv { row_delimiter: "\r\n".into(), column_delimiter: ",".into() }
        );
        let columns: Vec<(String, SqlType)> =
            inferred.schema.columns.iter().map(|column| (column.name.clone(), column.sql_type)).collect();
        let expected = [
            ("COL_year", SqlType::Integer),
            ("COL_month", SqlType::Integer),
            ("state", SqlType::Varchar(4)),
            ("producer_type", SqlType::Varchar(64)),
            ("energy_source", SqlType::Varchar(4)),
            ("units", SqlType::Varchar(16)),
            ("consumption", SqlType::Integer),
        ];
        assert_eq!(columns, expected.map(|(name, sql_type)| (name.to_string(), sql_type)));
        assert_eq!(inferred.parsed.len(), 6);
        let header: Vec<Option<&str>> = inferred.parsed[0].iter().map(Option::as_deref).collect();
        assert_eq!(
            header,
            [None, None, Some("state"), Some("producer_type"), Some("energy_source"), Some("units"), None]
        );
        assert_eq!(inferred.parsed[4][6].as_deref(), Some("3020601"));
    }

    #[test]
    fn json_objects_give_members_types_and_mappings() {
        let records = [
            Bytes::from_static(br#"{"ts":1733480000000,"referrer":"site-17.example","ms":123,"ok":true,"geo":{"country":"FR"},"tags":["a"],"price":1.5,"at":"2024-12-06 10:00:00"}"#),
            Bytes::from_static(br#"{"ts":1733480000001,"referrer":"a.example","ms":7,"ok":false,"geo":{"country":"DE"},"tags":[],"price":2,"at":"2024-12-06 10:00:01.5"}"#),
        ];
        let inferred = infer(&records).unwrap();
        let columns: Vec<(&str, SqlType, &str)> = inferred
            .schema
            .columns
            .iter()
            .map(|column| (column.name.as_str(), column.sql_type, column.mapping.as_deref().unwrap()))
            .collect();
        assert_eq!(
            columns,
            [
                ("ts", SqlType::BigInt, "$.ts"),
                ("referrer", SqlType::Varchar(16), "$.referrer"),
                ("ms", SqlType::Integer, "$.ms"),
                ("ok", SqlType::Boolean, "$.ok"),
                ("country", SqlType::Varchar(4), "$.geo.country"),
                ("tags", SqlType::Varchar(8), "$.tags[0:]"),
                ("price", SqlType::Real, "$.price"),
                ("COL_at", SqlType::Timestamp, "$.at"),
            ]
        );
        assert_eq!(inferred.parsed[0][1].as_deref(), Some("site-17.example"));
        assert_eq!(inferred.parsed[1][5].as_deref(), Some("[]"));
    }

    #[test]
    fn nothing_usable_is_none() {
        assert_eq!(infer(&[]), None);
        assert_eq!(infer(&[Bytes::from_static(b"  \n")]), None);
        assert_eq!(infer(&[Bytes::from_static(b"\xff\xfe")]), None);
        assert_eq!(infer(&[Bytes::from("\u{a0}\n\u{2003}")]), None);
    }
}
