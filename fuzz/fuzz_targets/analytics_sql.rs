//! Arbitrary text as Analytics application code: the compiler must never panic, and
//! what it accepts must name only the streams it declares, each pump writing a stream
//! the code created. A second pass reads the same text as a column type.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_analytics::plan::{ColumnDef, StreamKind, APPROXIMATE_ARRIVAL_TIME};
use rheo_analytics::sql::{compile, parse_sql_type, InputCatalog, InputStreamDef};
use rheo_analytics::value::SqlType;

fuzz_target!(|data: &[u8]| {
    let Ok(code) = std::str::from_utf8(data) else { return };
    let column = |name: &str, sql_type| ColumnDef { name: name.to_owned(), sql_type, not_null: false };
    let inputs = InputCatalog {
        streams: vec![InputStreamDef {
            name: "SOURCE_SQL_STREAM_001".to_owned(),
            columns: vec![
                column("REFERRER", SqlType::Varchar(32)),
                column("BYTES", SqlType::Integer),
                column(APPROXIMATE_ARRIVAL_TIME, SqlType::Timestamp),
            ],
        }],
    };
    if let Ok(plan) = compile(code, &inputs) {
        for pump in &plan.pumps {
            assert_eq!(plan.streams[pump.target].kind, StreamKind::Created);
            for column in &pump.target_columns {
                assert!(*column < plan.streams[pump.target].columns.len());
            }
        }
    }
    let _ = parse_sql_type(code);
});
