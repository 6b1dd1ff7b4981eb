//! The Analytics input mapping must never panic, whatever bytes a record holds: every
//! record becomes rows or `error_stream` rows. The rows it makes must encode as valid
//! JSON output records, and schema discovery over the same bytes must not panic either.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rheo_analytics::config::{OutputFormat, RecordColumn, RecordFormat, SourceSchemaDef};
use rheo_analytics::mapping::{infer, RecordMapper, RowEncoder};
use rheo_analytics::plan::ColumnDef;
use rheo_analytics::value::SqlType;

fn schemas() -> Vec<SourceSchemaDef> {
    let json = |row_path: &str, columns: &[(&str, SqlType)]| SourceSchemaDef {
        format: RecordFormat::Json { row_path: row_path.into() },
        columns: columns
            .iter()
            .enumerate()
            .map(|(at, (mapping, sql_type))| RecordColumn {
                name: format!("c{at}"),
                sql_type: *sql_type,
                mapping: Some((*mapping).into()),
            })
            .collect(),
    };
    let csv = |row: &str, column: &str, types: &[SqlType]| SourceSchemaDef {
        format: RecordFormat::Csv { row_delimiter: row.into(), column_delimiter: column.into() },
        columns: types
            .iter()
            .enumerate()
            .map(|(at, sql_type)| RecordColumn { name: format!("c{at}"), sql_type: *sql_type, mapping: None })
            .collect(),
    };
    vec![
        json("$", &[("$.a", SqlType::Varchar(8)), ("$.b.c", SqlType::BigInt), ("$.d[0:]", SqlType::Varchar(32))]),
        json("$", &[("$.a[0:].x", SqlType::Integer), ("$.a[0:].y", SqlType::Double), ("$", SqlType::Varchar(16))]),
        json("$.r[0:]", &[("$.t", SqlType::Timestamp), ("$['k y'][1]", SqlType::Decimal { precision: 9, scale: 2 })]),
        json("$", &[("$.a", SqlType::Boolean), ("$.a.b", SqlType::Varbinary(4)), ("$.a", SqlType::Char(3))]),
        csv("\n", ",", &[SqlType::Varchar(4), SqlType::Integer, SqlType::Timestamp, SqlType::Date]),
        csv("\r\n", "||", &[SqlType::Real, SqlType::Time, SqlType::TinyInt, SqlType::Boolean]),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, record)) = data.split_first() else { return };
    let schemas = schemas();
    let schema = &schemas[usize::from(choice) % schemas.len()];
    let mut mapper = RecordMapper::new(schema).expect("the fuzz schemas are valid");
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    mapper.map(record, 1, 2, 3, &mut rows, &mut errors);
    assert!(!rows.is_empty() || !errors.is_empty() || record.is_empty() || matches!(schema.format, RecordFormat::Csv { .. }));
    let columns: Vec<ColumnDef> = schema
        .columns
        .iter()
        .map(|column| ColumnDef { name: column.name.clone(), sql_type: column.sql_type, not_null: false })
        .chain([ColumnDef { name: "APPROXIMATE_ARRIVAL_TIME".into(), sql_type: SqlType::Timestamp, not_null: false }])
        .collect();
    let encoder = RowEncoder::new(OutputFormat::Json, &columns);
    for row in &rows {
        let mut out = Vec::new();
        encoder.encode(row, &mut out);
        serde_json::from_slice::<serde_json::Value>(&out).expect("an encoded row is JSON");
    }
    let _ = infer::infer(&[Bytes::copy_from_slice(record)]);
});
