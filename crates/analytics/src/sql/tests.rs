//! Unit tests of the compiler: code in, plan or refusal out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{compile, parse_sql_type, InputCatalog, InputStreamDef};
use crate::error::{CodeError, CodeErrorKind};
use crate::functions::ScalarFunction;
use crate::plan::*;
use crate::value::{SqlType, Value};

fn column(name: &str, sql_type: SqlType) -> ColumnDef {
    ColumnDef { name: name.to_owned(), sql_type, not_null: false }
}

/// One input: REFERRER VARCHAR(32), BYTES INTEGER, PRICE DECIMAL(10,2), EVENT_TS
/// TIMESTAMP, then APPROXIMATE_ARRIVAL_TIME.
fn inputs() -> InputCatalog {
    InputCatalog {
        streams: vec![InputStreamDef {
            name: "SOURCE_SQL_STREAM_001".into(),
            columns: vec![
                column("REFERRER", SqlType::Varchar(32)),
                column("BYTES", SqlType::Integer),
                column("PRICE", SqlType::Decimal { precision: 10, scale: 2 }),
                column("EVENT_TS", SqlType::Timestamp),
                column(APPROXIMATE_ARRIVAL_TIME, SqlType::Timestamp),
            ],
        }],
    }
}

fn ok(code: &str) -> AppPlan {
    match compile(code, &inputs()) {
        Ok(plan) => plan,
        Err(error) => panic!("refused: {error:?}\n{code}"),
    }
}

fn refused(code: &str) -> CodeError {
    match compile(code, &inputs()) {
        Ok(plan) => panic!("accepted: {plan:?}\n{code}"),
        Err(error) => error,
    }
}

fn unsupported(code: &str, construct: &str, line: u32, column: u32) {
    let error = refused(code);
    assert_eq!(error.kind, CodeErrorKind::Unsupported, "{error:?}");
    assert!(error.construct.contains(construct), "{error:?} should name {construct}");
    assert_eq!((error.line, error.column), (line, column), "{error:?}");
}

fn stream(columns: &str) -> String {
    format!("CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" ({columns});\n")
}

/// A pump into DESTINATION_SQL_STREAM (created with `columns`) selecting `select`.
fn pump(columns: &str, select: &str) -> String {
    format!(
        "{}CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"\n{select};",
        stream(columns)
    )
}

fn project(plan: &AppPlan) -> &Vec<Expr> {
    match &plan.pumps[0].query.shape {
        QueryShape::Project(exprs) => exprs,
        other => panic!("not a projection: {other:?}"),
    }
}

fn first_expr(columns: &str, expr: &str) -> Expr {
    let plan = ok(&pump(columns, &format!("SELECT STREAM {expr} FROM SOURCE_SQL_STREAM_001")));
    project(&plan)[0].clone()
}

fn col(index: usize, ty: SqlType) -> Expr {
    Expr { kind: ExprKind::Column(index), ty }
}

fn lit(value: Value, ty: SqlType) -> Expr {
    Expr { kind: ExprKind::Literal(value), ty }
}

const REFERRER_COUNTER: &str = r#"
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (referrer VARCHAR(32), referrer_count BIGINT);
-- one row per referrer every 10 seconds
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM referrer, COUNT(*) AS referrer_count
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY referrer, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);
"#;

#[test]
fn referrer_counter_compiles_to_a_step_aggregate() {
    let plan = ok(REFERRER_COUNTER);
    let names: Vec<&str> = plan.streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["SOURCE_SQL_STREAM_001", ERROR_STREAM, "DESTINATION_SQL_STREAM"]);
    assert_eq!(plan.streams[2].kind, StreamKind::Created);
    assert_eq!(plan.streams[2].line, 2);
    assert_eq!(
        plan.streams[2].columns,
        vec![column("REFERRER", SqlType::Varchar(32)), column("REFERRER_COUNT", SqlType::BigInt)]
    );
    assert_eq!(plan.created_streams().collect::<Vec<_>>(), ["DESTINATION_SQL_STREAM"]);
    let pump = &plan.pumps[0];
    assert_eq!((pump.name.as_str(), pump.target, pump.line), ("STREAM_PUMP", 2, 4));
    assert_eq!(pump.target_columns, vec![0, 1]);
    assert_eq!(pump.query.source, Source::Stream(0));
    assert_eq!(pump.query.filter, None);
    let QueryShape::Aggregate(aggregate) = &pump.query.shape else { panic!("not an aggregate") };
    assert_eq!(
        aggregate.progress,
        ProgressKey::Step { expr: Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp }, width_ms: 10_000 }
    );
    assert_eq!(aggregate.keys, vec![col(0, SqlType::Varchar(32))]);
    assert_eq!(
        aggregate.aggregates,
        vec![AggregateCall { function: AggregateFunction::Count, arg: None, result_type: SqlType::BigInt }]
    );
    assert_eq!(aggregate.having, None);
    // Group row: [window start, REFERRER, COUNT(*)].
    assert_eq!(aggregate.output, vec![col(1, SqlType::Varchar(32)), col(2, SqlType::BigInt)]);
}

#[test]
fn projection_with_where_and_aliases() {
    let code = pump(
        "r VARCHAR(32), b INTEGER",
        "SELECT STREAM s.referrer AS r, bytes + 1 FROM SOURCE_SQL_STREAM_001 AS s WHERE bytes > 10 AND referrer <> 'x'",
    );
    let plan = ok(&code);
    let exprs = project(&plan);
    assert_eq!(exprs[0], col(0, SqlType::Varchar(32)));
    assert_eq!(
        exprs[1],
        Expr {
            kind: ExprKind::Binary {
                op: BinaryOp::Plus,
                left: Box::new(col(1, SqlType::Integer)),
                right: Box::new(lit(Value::Int(1), SqlType::Integer))
            },
            ty: SqlType::Integer
        }
    );
    let filter = plan.pumps[0].query.filter.clone().unwrap();
    let ExprKind::Binary { op: BinaryOp::And, .. } = filter.kind else { panic!("{filter:?}") };
}

#[test]
fn select_star_leaves_out_the_arrival_time_but_names_it() {
    let plan = ok(&pump(
        "a VARCHAR(32), b INTEGER, c DECIMAL(10,2), d TIMESTAMP",
        "SELECT STREAM * FROM SOURCE_SQL_STREAM_001",
    ));
    assert_eq!(project(&plan).len(), 4);
    let plan = ok(&pump("a TIMESTAMP", "SELECT STREAM APPROXIMATE_ARRIVAL_TIME FROM SOURCE_SQL_STREAM_001"));
    assert_eq!(project(&plan)[0], col(4, SqlType::Timestamp));
}

#[test]
fn identifiers_fold_to_upper_case_unless_quoted() {
    let code = "CREATE STREAM MixedCase (Col1 INTEGER, \"lower\" INTEGER);\n\
                CREATE PUMP p AS INSERT INTO mixedcase (COL1, \"lower\") SELECT STREAM bytes, bytes FROM source_sql_stream_001;";
    let plan = ok(code);
    assert_eq!(plan.streams[2].name, "MIXEDCASE");
    assert_eq!(plan.streams[2].columns[1].name, "lower");
    let error = refused("CREATE STREAM s (a INTEGER);\nCREATE PUMP p AS INSERT INTO \"s\" SELECT STREAM bytes FROM source_sql_stream_001;");
    assert_eq!((error.kind, error.line, error.column), (CodeErrorKind::UnknownStream, 2, 30));
}

#[test]
fn insert_with_a_column_list_fills_those_columns() {
    let plan =
        ok(&pump("a INTEGER, b VARCHAR(8), c INTEGER", "(c, a) SELECT STREAM bytes, bytes FROM SOURCE_SQL_STREAM_001")
            .replace("\"\n(c", "\" (c"));
    assert_eq!(plan.pumps[0].target_columns, vec![2, 0]);
}

#[test]
fn null_fits_every_column() {
    ok(&pump("a INTEGER, b TIMESTAMP", "SELECT STREAM NULL, NULL FROM SOURCE_SQL_STREAM_001"));
}

#[test]
fn insert_mismatches_are_refused() {
    let error = refused(
        &pump("a INTEGER NOT NULL, b INTEGER", "(b) SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001")
            .replace("\"\n(b", "\" (b"),
    );
    assert_eq!(error.kind, CodeErrorKind::InsertMismatch);
    let error = refused(&pump("a INTEGER, b INTEGER", "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001"));
    assert_eq!(error.kind, CodeErrorKind::InsertMismatch);
    let error = refused(&pump("a TIMESTAMP", "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001"));
    assert_eq!(error.kind, CodeErrorKind::InsertMismatch);
}

#[test]
fn subquery_in_from_and_chains_of_streams() {
    let code = "CREATE STREAM mid (r VARCHAR(32), b INTEGER);\n\
                CREATE STREAM out1 (r VARCHAR(32));\n\
                CREATE PUMP p1 AS INSERT INTO mid SELECT STREAM referrer, bytes FROM SOURCE_SQL_STREAM_001;\n\
                CREATE PUMP p2 AS INSERT INTO out1 SELECT STREAM q.r FROM (SELECT STREAM r, b FROM mid WHERE b > 0) AS q;\n\
                CREATE PUMP p3 AS INSERT INTO out1 SELECT STREAM r FROM mid;";
    let plan = ok(code);
    assert_eq!(plan.pumps.len(), 3);
    assert_eq!(plan.pumps[1].target, plan.pumps[2].target);
    let Source::Subquery(inner) = &plan.pumps[1].query.source else { panic!("no subquery") };
    assert_eq!(inner.source, Source::Stream(2));
    assert!(inner.filter.is_some());
}

#[test]
fn group_by_floor_of_rowtime_and_having() {
    let plan = ok(&pump(
        "r VARCHAR(32), total BIGINT, average INTEGER, w TIMESTAMP",
        "SELECT STREAM referrer, SUM(bytes), AVG(bytes), FLOOR(ROWTIME TO MINUTE) FROM SOURCE_SQL_STREAM_001 \
         GROUP BY FLOOR(ROWTIME TO MINUTE), referrer HAVING COUNT(*) > 2",
    ));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    assert_eq!(
        aggregate.progress,
        ProgressKey::Floor { expr: Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp }, unit: TimeUnit::Minute }
    );
    assert_eq!(aggregate.aggregates.len(), 3);
    assert_eq!(aggregate.aggregates[0].result_type, SqlType::BigInt);
    assert_eq!(aggregate.aggregates[1].result_type, SqlType::Integer);
    // The window start is group row column 0.
    assert_eq!(aggregate.output[3], col(0, SqlType::Timestamp));
    let having = aggregate.having.clone().unwrap();
    let ExprKind::Binary { left, .. } = having.kind else { panic!() };
    assert_eq!(*left, col(4, SqlType::BigInt));
}

#[test]
fn rowtime_of_a_group_row_is_its_own() {
    let plan = ok(&pump(
        "w TIMESTAMP, n BIGINT",
        "SELECT STREAM ROWTIME, COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE)",
    ));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    assert_eq!(aggregate.output[0].kind, ExprKind::Rowtime);
    assert_eq!(
        aggregate.progress,
        ProgressKey::Step { expr: Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp }, width_ms: 60_000 }
    );
}

#[test]
fn event_time_step_is_an_ordinary_key_beside_the_rowtime_one() {
    let plan = ok(&pump(
        "t TIMESTAMP, n BIGINT",
        "SELECT STREAM STEP(event_ts BY INTERVAL '1' MINUTE), COUNT(*) FROM SOURCE_SQL_STREAM_001 \
         GROUP BY STEP(event_ts BY INTERVAL '1' MINUTE), STEP(ROWTIME BY INTERVAL '10' SECOND)",
    ));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    assert!(matches!(aggregate.progress, ProgressKey::Step { width_ms: 10_000, .. }));
    assert_eq!(aggregate.output[0], col(1, SqlType::Timestamp));
}

#[test]
fn monotonic_is_a_progress_key() {
    let plan = ok(&pump(
        "b INTEGER, n BIGINT",
        "SELECT STREAM MONOTONIC(bytes), COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY MONOTONIC(bytes)",
    ));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    assert_eq!(aggregate.progress, ProgressKey::Monotonic(col(1, SqlType::Integer)));
    assert_eq!(aggregate.output[0], col(0, SqlType::Integer));
}

#[test]
fn rowtime_and_its_ceiling_are_monotonic_keys() {
    let plan = ok(&pump("n BIGINT", "SELECT STREAM COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY ROWTIME"));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    assert_eq!(aggregate.progress, ProgressKey::Monotonic(Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp }));
    let plan =
        ok(&pump("n BIGINT", "SELECT STREAM COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY CEIL(ROWTIME TO HOUR)"));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    assert!(matches!(
        &aggregate.progress,
        ProgressKey::Monotonic(Expr {
            kind: ExprKind::Call { function: ScalarFunction::CeilTo(TimeUnit::Hour), .. },
            ..
        })
    ));
}

#[test]
fn group_by_without_progress_key_is_refused() {
    let error = refused(&pump(
        "r VARCHAR(32), n BIGINT",
        "SELECT STREAM referrer, COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY referrer",
    ));
    assert_eq!((error.kind, error.line, error.column), (CodeErrorKind::NoProgressKey, 3, 70));
}

#[test]
fn aggregate_without_group_by_is_refused() {
    let error = refused(&pump("n BIGINT", "SELECT STREAM COUNT(*) FROM SOURCE_SQL_STREAM_001"));
    assert_eq!((error.kind, error.line, error.column), (CodeErrorKind::AggregateWithoutGroupBy, 3, 15));
}

#[test]
fn ungrouped_column_is_refused() {
    let error = refused(&pump(
        "r VARCHAR(32), n BIGINT",
        "SELECT STREAM referrer, COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND)",
    ));
    assert!(matches!(error.kind, CodeErrorKind::Type(_)), "{error:?}");
    assert_eq!((error.line, error.column), (3, 15));
}

#[test]
fn unknown_column_over_a_group_row_is_unknown_not_ungrouped() {
    let error = refused(&pump(
        "n BIGINT",
        "SELECT STREAM COUNT(*) AS c FROM SOURCE_SQL_STREAM_001 GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND) HAVING c > 1",
    ));
    assert_eq!((error.kind, error.construct.as_str()), (CodeErrorKind::UnknownColumn, "C"));
}

#[test]
fn comments_of_both_kinds_are_skipped() {
    ok(&format!(
        "/* header\n comment */ -- line\n{}",
        pump("b INTEGER", "SELECT STREAM bytes /* inline */ FROM SOURCE_SQL_STREAM_001 -- end")
    ));
}

#[test]
fn literals_and_expressions_are_typed() {
    let e = first_expr("t TIMESTAMP", "TIMESTAMP '2020-01-02 03:04:05.5'");
    assert_eq!(e, lit(Value::Timestamp(1_577_934_245_500), SqlType::Timestamp));
    let e = first_expr("t TIMESTAMP", "event_ts + INTERVAL '1:30' MINUTE TO SECOND");
    let ExprKind::Binary { right, .. } = e.kind else { panic!() };
    assert_eq!(*right, lit(Value::Interval(90_000), SqlType::IntervalDayTime));
    assert_eq!(first_expr("d DECIMAL(12,2)", "price * 2").ty, SqlType::Decimal { precision: 19, scale: 2 });
    assert_eq!(first_expr("d DOUBLE", "1.5e3").ty, SqlType::Double);
    assert_eq!(first_expr("d BIGINT", "-9223372036854775808"), lit(Value::Int(i64::MIN), SqlType::BigInt));
    assert_eq!(first_expr("v VARCHAR(40)", "referrer || 'x'").ty, SqlType::Varchar(33));
    assert_eq!(first_expr("v BOOLEAN", "bytes BETWEEN 1 AND 10").ty, SqlType::Boolean);
    assert_eq!(first_expr("v BOOLEAN", "referrer IN ('a', 'b') OR referrer IS NULL").ty, SqlType::Boolean);
    assert_eq!(first_expr("v BOOLEAN", "NOT referrer LIKE 'a!%%' ESCAPE '!'").ty, SqlType::Boolean);
    assert_eq!(first_expr("v BOOLEAN", "referrer SIMILAR TO '(a|b)%'").ty, SqlType::Boolean);
    assert_eq!(
        first_expr("v DOUBLE", "CASE WHEN bytes > 1 THEN 1 WHEN bytes > 2 THEN 2.5 ELSE 1e0 END").ty,
        SqlType::Double
    );
    assert_eq!(first_expr("v INTEGER", "CASE bytes WHEN 1 THEN 10 ELSE NULL END").ty, SqlType::Integer);
    assert_eq!(first_expr("v VARCHAR(4)", "CAST(bytes AS VARCHAR(4))").ty, SqlType::Varchar(4));
    assert_eq!(first_expr("v TIMESTAMP", "CURRENT_ROW_TIMESTAMP").kind, ExprKind::CurrentRowTimestamp);
    // NULL arguments take a type the function accepts.
    assert_eq!(first_expr("v INTEGER", "COALESCE(bytes, NULL, 0)").ty, SqlType::Integer);
    assert_eq!(first_expr("v VARCHAR(9)", "SUBSTRING(referrer FROM NULL)").ty, SqlType::Varchar(32));
    assert_eq!(first_expr("v TIMESTAMP", "FLOOR(NULL TO MINUTE)").ty, SqlType::Timestamp);
}

#[test]
fn special_function_forms_become_calls() {
    let call = |expr: &str| match first_expr("v VARCHAR(64)", expr).kind {
        ExprKind::Call { function, args } => (function, args.len()),
        other => panic!("{other:?}"),
    };
    assert_eq!(call("SUBSTRING(referrer FROM 2 FOR 3)"), (ScalarFunction::Substring, 3));
    assert_eq!(call("SUBSTRING(referrer, 2)"), (ScalarFunction::Substring, 2));
    assert_eq!(call("TRIM(LEADING 'x' FROM referrer)"), (ScalarFunction::Trim(crate::functions::TrimSide::Leading), 2));
    assert_eq!(call("TRIM(referrer)"), (ScalarFunction::Trim(crate::functions::TrimSide::Both), 1));
    assert_eq!(call("OVERLAY(referrer PLACING 'ab' FROM 2 FOR 1)"), (ScalarFunction::Overlay, 4));
    assert_eq!(call("UPPER(referrer)"), (ScalarFunction::Upper, 1));
    assert_eq!(call("TIMESTAMP_TO_CHAR('yyyy-MM-dd', event_ts)"), (ScalarFunction::TimestampToChar, 2));
    let call = |expr: &str| match first_expr("v BIGINT", expr).kind {
        ExprKind::Call { function, args } => (function, args.len()),
        other => panic!("{other:?}"),
    };
    assert_eq!(call("POSITION('a' IN referrer)"), (ScalarFunction::Position, 2));
    assert_eq!(call("EXTRACT(HOUR FROM event_ts)"), (ScalarFunction::Extract(TimeUnit::Hour), 1));
    assert_eq!(call("TSDIFF(event_ts, ROWTIME)"), (ScalarFunction::Tsdiff, 2));
    assert_eq!(call("UNIX_TIMESTAMP(event_ts)"), (ScalarFunction::UnixTimestamp, 1));
    assert_eq!(first_expr("v TIMESTAMP", "TO_TIMESTAMP(bytes)").ty, SqlType::Timestamp);
    let e = first_expr("v TIMESTAMP", "FLOOR(event_ts TO HOUR)");
    assert!(matches!(e.kind, ExprKind::Call { function: ScalarFunction::FloorTo(TimeUnit::Hour), .. }));
}

#[test]
fn type_errors_are_refused_with_their_place() {
    let error = refused(&pump("v BOOLEAN", "SELECT STREAM referrer > 1 FROM SOURCE_SQL_STREAM_001"));
    assert!(matches!(error.kind, CodeErrorKind::Type(_)));
    assert_eq!((error.line, error.column), (3, 24));
    let error = refused(&pump("v INTEGER", "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE bytes"));
    assert!(matches!(error.kind, CodeErrorKind::Type(_)));
    let error = refused(&pump("v INTEGER", "SELECT STREAM UPPER(bytes) FROM SOURCE_SQL_STREAM_001"));
    assert!(matches!(error.kind, CodeErrorKind::Type(_)));
}

#[test]
fn unknown_names_are_refused() {
    let error = refused(&pump("v INTEGER", "SELECT STREAM nope FROM SOURCE_SQL_STREAM_001"));
    assert_eq!(
        (error.kind, error.construct.as_str(), error.line, error.column),
        (CodeErrorKind::UnknownColumn, "NOPE", 3, 15)
    );
    let error = refused(&pump("v INTEGER", "SELECT STREAM bytes FROM nowhere"));
    assert_eq!((error.kind, error.line, error.column), (CodeErrorKind::UnknownStream, 3, 26));
    let error = refused(&pump("v INTEGER", "SELECT STREAM x.bytes FROM SOURCE_SQL_STREAM_001"));
    assert_eq!(error.kind, CodeErrorKind::UnknownStream);
}

#[test]
fn duplicate_names_are_refused() {
    let error = refused("CREATE STREAM a (x INTEGER);\nCREATE STREAM A (y INTEGER);");
    assert_eq!((error.kind, error.line, error.column), (CodeErrorKind::DuplicateName, 2, 15));
    let error = refused("CREATE STREAM a (x INTEGER, X INTEGER);");
    assert_eq!(error.kind, CodeErrorKind::DuplicateName);
    let code = "CREATE STREAM a (x INTEGER);\nCREATE PUMP p AS INSERT INTO a SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001;\nCREATE PUMP p AS INSERT INTO a SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001;";
    assert_eq!(refused(code).kind, CodeErrorKind::DuplicateName);
}

#[test]
fn identifiers_are_at_most_128_characters() {
    ok(&format!("CREATE STREAM {} (x INTEGER);", "a".repeat(128)));
    let error = refused(&format!("CREATE STREAM {} (x INTEGER);", "a".repeat(129)));
    assert!(matches!(error.kind, CodeErrorKind::Syntax(_)), "{error:?}");
    assert!(matches!(refused("CREATE STREAM \"\" (x INTEGER);").kind, CodeErrorKind::Syntax(_)));
}

#[test]
fn syntax_errors_carry_the_parser_message_and_place() {
    let error = refused("CREATE STREAM a (x INTEGER\n");
    assert!(matches!(error.kind, CodeErrorKind::Syntax(_)), "{error:?}");
    let error = refused("CREATE STREAM a (x INTEGER);\nCREATE PUMP p AS INSERT INTO a SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE;");
    assert!(matches!(error.kind, CodeErrorKind::Syntax(_)), "{error:?}");
    assert_eq!((error.line, error.column), (2, 84));
    let error = refused("CREATE STREAM a (x INTEGER) 'unterminated");
    assert!(matches!(error.kind, CodeErrorKind::Syntax(_)), "{error:?}");
}

#[test]
fn cycles_of_pumps_are_refused() {
    let code = "CREATE STREAM a (x INTEGER);\nCREATE STREAM b (x INTEGER);\n\
                CREATE PUMP p1 AS INSERT INTO b SELECT STREAM x FROM a;\n\
                CREATE PUMP p2 AS INSERT INTO a SELECT STREAM x FROM b;";
    unsupported(code, "cycle", 3, 1);
}

/// Refused constructs of a pump's SELECT (third line of [`pump`]'s code): the SELECT, the
/// construct the error must name, and the column it must point at.
const REFUSED_SELECTS: &[(&str, &str, u32)] = &[
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 ORDER BY bytes", "ORDER BY", 48),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 UNION ALL SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001", "UNION", 48),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 JOIN x ON true", "JOIN", 48),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 AS s LEFT JOIN x ON true", "JOIN", 53),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 , other", "JOIN", 48),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WINDOWED BY STAGGER (PARTITION BY bytes RANGE INTERVAL '1' MINUTE)", "WINDOWED BY STAGGER", 48),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WINDOW w AS (RANGE INTERVAL '1' MINUTE PRECEDING)", "WINDOW", 48),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 LIMIT 3", "LIMIT", 48),
    ("SELECT STREAM DISTINCT bytes FROM SOURCE_SQL_STREAM_001", "DISTINCT", 15),
    ("SELECT bytes FROM SOURCE_SQL_STREAM_001", "SELECT without STREAM", 1),
    ("SELECT STREAM SUM(bytes) OVER (RANGE INTERVAL '1' MINUTE PRECEDING) FROM SOURCE_SQL_STREAM_001", "OVER", 26),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 OVER (RANGE INTERVAL '1' MINUTE PRECEDING)", "OVER", 48),
    ("SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM SOURCE_SQL_STREAM_001), 'x', 3, 60))", "TABLE", 22),
    ("SELECT STREAM LAG(bytes, 1) FROM SOURCE_SQL_STREAM_001", "LAG", 15),
    ("SELECT STREAM STDDEV_POP(bytes) FROM SOURCE_SQL_STREAM_001", "STDDEV_POP", 15),
    ("SELECT STREAM COUNT(DISTINCT bytes) FROM SOURCE_SQL_STREAM_001", "DISTINCT", 21),
    ("SELECT STREAM NO_SUCH_FUNCTION(bytes) FROM SOURCE_SQL_STREAM_001", "NO_SUCH_FUNCTION", 15),
    ("SELECT STREAM event_ts + INTERVAL '1' YEAR FROM SOURCE_SQL_STREAM_001", "year-month", 26),
    ("SELECT STREAM event_ts AS ROWTIME FROM SOURCE_SQL_STREAM_001", "AS ROWTIME", 27),
    ("SELECT STREAM (SELECT STREAM 1 FROM SOURCE_SQL_STREAM_001) FROM SOURCE_SQL_STREAM_001", "scalar subquery", 16),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE bytes IN (SELECT STREAM 1 FROM SOURCE_SQL_STREAM_001)", "IN (subquery)", 64),
    ("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE bytes = ANY (1)", "ANY", 62),
    ("SELECT STREAM bytes % 2 FROM SOURCE_SQL_STREAM_001", "%", 21),
    ("SELECT STREAM ERROR_NAME FROM \"error_stream\"", "error_stream", 31),
    ("VALUES (1)", "VALUES", 1),
    ("WITH a AS (SELECT STREAM 1 FROM SOURCE_SQL_STREAM_001) SELECT STREAM * FROM a", "WITH", 1),
];

#[test]
fn refused_selects_are_named_with_their_place() {
    for (select, construct, column) in REFUSED_SELECTS {
        unsupported(&pump("v INTEGER", select), construct, 3, *column);
    }
}

/// Refused statements and code-wide constructs: code, construct, line, column.
const REFUSED_CODE: &[(&str, &str, u32, u32)] = &[
    ("CREATE FUNCTION f() RETURNS INTEGER", "CREATE FUNCTION", 1, 8),
    ("SELECT STREAM * FROM SOURCE_SQL_STREAM_001", "SELECT statement", 1, 1),
    ("INSERT INTO x SELECT STREAM * FROM SOURCE_SQL_STREAM_001", "INSERT statement", 1, 1),
    ("CREATE STREAM a (x INTEGER);\n// comment\n", "// comment", 2, 1),
    (
        "CREATE STREAM a (x INTEGER);\nCREATE PUMP p AS INSERT INTO SOURCE_SQL_STREAM_001 SELECT STREAM * FROM a;",
        "INSERT INTO SOURCE_SQL_STREAM_001",
        2,
        30,
    ),
    ("CREATE STREAM a (x TIMESTAMP WITH TIME ZONE)", "time zone", 1, 30),
    ("CREATE STREAM a (x INTERVAL)", "type INTERVAL", 1, 20),
    ("CREATE STREAM a (x INTEGER) DESCRIPTION U&'\\0041'", "U&", 1, 41),
];

#[test]
fn refused_statements_are_named_with_their_place() {
    for (code, construct, line, column) in REFUSED_CODE {
        unsupported(code, construct, *line, *column);
    }
}

#[test]
fn an_aggregate_in_where_is_refused() {
    let error = refused(&pump("v INTEGER", "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE COUNT(*) > 1"));
    assert_eq!((error.kind, error.line, error.column), (CodeErrorKind::AggregateWithoutGroupBy, 3, 54));
}

#[test]
fn sql_types_parse_as_record_columns_write_them() {
    assert_eq!(parse_sql_type("varchar(16)"), Ok(SqlType::Varchar(16)));
    assert_eq!(parse_sql_type("DECIMAL(10, 2)"), Ok(SqlType::Decimal { precision: 10, scale: 2 }));
    assert_eq!(parse_sql_type("Double Precision"), Ok(SqlType::Double));
    assert_eq!(parse_sql_type("INT"), Ok(SqlType::Integer));
    assert_eq!(parse_sql_type("CHAR"), Ok(SqlType::Char(1)));
    assert_eq!(parse_sql_type("TIMESTAMP"), Ok(SqlType::Timestamp));
    for bad in ["VARCHAR", "VARCHAR(0)", "DECIMAL(20)", "DECIMAL(5,6)", "BLOB", "INTEGER INTEGER", "", "VARCHAR(16"] {
        assert!(parse_sql_type(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn description_clauses_are_read() {
    ok("CREATE STREAM a (x INTEGER) DESCRIPTION 'out';\nCREATE PUMP p DESCRIPTION 'copy' AS INSERT INTO a SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001");
}

mod property {
    use proptest::prelude::*;

    use super::{compile, inputs};

    fn numeric_expression() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("bytes".to_owned()),
            Just("price".to_owned()),
            Just("s.bytes".to_owned()),
            (0u32..1000).prop_map(|n| n.to_string()),
            (0u32..1000).prop_map(|n| format!("{n}.25")),
            Just("1.5e2".to_owned()),
            Just("-7".to_owned()),
        ];
        leaf.prop_recursive(4, 32, 3, |inner| {
            prop_oneof![
                (inner.clone(), prop_oneof![Just("+"), Just("-"), Just("*"), Just("/")], inner.clone())
                    .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
                inner.clone().prop_map(|a| format!("({a})")),
                inner.clone().prop_map(|a| format!("-({a})")),
                inner.clone().prop_map(|a| format!("ABS({a})")),
                inner.clone().prop_map(|a| format!("CAST({a} AS DECIMAL(12, 3))")),
                inner.clone().prop_map(|a| format!("COALESCE({a}, NULL, 0)")),
                (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(a, b, c)| format!("CASE WHEN {a} > {b} THEN {b} ELSE {c} END")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("CASE {a} WHEN 1 THEN {b} END")),
            ]
        })
    }

    proptest! {
        #[test]
        fn compile_never_panics(code in ".{0,200}") {
            let _ = compile(&code, &inputs());
        }

        /// Generated numeric expressions (columns, literals, arithmetic, parentheses,
        /// CASE, CAST, functions) always compile, to a numeric type.
        #[test]
        fn generated_numeric_expressions_compile(expr in numeric_expression()) {
            let code = super::pump("v DOUBLE", &format!("SELECT STREAM {expr} FROM SOURCE_SQL_STREAM_001 AS s WHERE {expr} > 0"));
            match compile(&code, &inputs()) {
                Ok(plan) => {
                    let ty = super::project(&plan)[0].ty;
                    prop_assert!(crate::functions::types::is_numeric(ty), "{expr}: {ty:?}");
                }
                Err(error) => prop_assert!(false, "{expr}: {error:?}"),
            }
        }

        #[test]
        fn compile_never_panics_on_sql_like_text(words in proptest::collection::vec(
            prop_oneof![
                Just("CREATE"), Just("OR REPLACE"), Just("STREAM"), Just("PUMP"), Just("AS"), Just("INSERT INTO"),
                Just("SELECT STREAM"), Just("FROM"), Just("WHERE"), Just("GROUP BY"), Just("HAVING"), Just("("), Just(")"),
                Just(","), Just(";"), Just("a"), Just("\"b\""), Just("INTEGER"), Just("VARCHAR(3)"), Just("COUNT(*)"),
                Just("STEP(ROWTIME BY INTERVAL '1' SECOND)"), Just("SOURCE_SQL_STREAM_001"), Just("'x'"), Just("1"),
                Just("+"), Just("*"), Just("="), Just("CASE WHEN"), Just("THEN"), Just("END"), Just("bytes"),
                Just("FLOOR(ROWTIME TO MINUTE)"), Just("INTERVAL '1:2' MINUTE TO SECOND"), Just("CAST("), Just("NULL"),
            ],
            0..40,
        )) {
            let _ = compile(&words.join(" "), &inputs());
        }
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    let deep = format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000));
    let error = refused(&pump("v INTEGER", &format!("SELECT STREAM {deep} FROM SOURCE_SQL_STREAM_001")));
    assert_eq!(error.kind, CodeErrorKind::Unsupported);
    let deep = format!("{}1", "- ".repeat(5_000));
    assert_eq!(
        refused(&pump("v INTEGER", &format!("SELECT STREAM {deep} FROM SOURCE_SQL_STREAM_001"))).kind,
        CodeErrorKind::Unsupported
    );
    let deep = format!("{}TRUE", "NOT ".repeat(5_000));
    assert_eq!(
        refused(&pump("v BOOLEAN", &format!("SELECT STREAM {deep} FROM SOURCE_SQL_STREAM_001"))).kind,
        CodeErrorKind::Unsupported
    );
}

/// Applications shaped like the Developer Guide's: a stock ticker input, a filter, an
/// aggregate over a chain of streams, the "two windows" pattern on an event-time column.
#[test]
fn developer_guide_shaped_applications_compile() {
    let ticker = InputCatalog {
        streams: vec![InputStreamDef {
            name: "SOURCE_SQL_STREAM_001".into(),
            columns: vec![
                column("TICKER_SYMBOL", SqlType::Varchar(4)),
                column("SECTOR", SqlType::Varchar(16)),
                column("CHANGE", SqlType::Real),
                column("PRICE", SqlType::Real),
                column("EVENT_TIME", SqlType::Varchar(32)),
                column(APPROXIMATE_ARRIVAL_TIME, SqlType::Timestamp),
            ],
        }],
    };
    let apps = [
        r#"CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), change DOUBLE, price DOUBLE);
           CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
             SELECT STREAM ticker_symbol, change, price FROM "SOURCE_SQL_STREAM_001"
             WHERE sector SIMILAR TO '%TECH%' AND change <> 0;"#,
        r#"CREATE OR REPLACE STREAM "INTERMEDIATE" (ticker VARCHAR(4), price REAL, arrived TIMESTAMP);
           CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker VARCHAR(4), low REAL, high REAL, average REAL, n BIGINT, window_start TIMESTAMP);
           CREATE OR REPLACE PUMP "P1" AS INSERT INTO "INTERMEDIATE"
             SELECT STREAM ticker_symbol, price, APPROXIMATE_ARRIVAL_TIME FROM "SOURCE_SQL_STREAM_001";
           CREATE OR REPLACE PUMP "P2" AS INSERT INTO "DESTINATION_SQL_STREAM"
             SELECT STREAM ticker, MIN(price), MAX(price), AVG(price), COUNT(*), FLOOR(i.ROWTIME TO MINUTE)
             FROM "INTERMEDIATE" AS i
             GROUP BY ticker, FLOOR(i.ROWTIME TO MINUTE)
             HAVING MAX(price) - MIN(price) > 1;"#,
        r#"CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (event_minute TIMESTAMP, ticker VARCHAR(4), n BIGINT);
           CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
             SELECT STREAM FLOOR(CHAR_TO_TIMESTAMP('yyyy-MM-dd''T''HH:mm:ss', event_time) TO MINUTE) AS event_minute,
                    ticker_symbol, COUNT(*) AS n
             FROM "SOURCE_SQL_STREAM_001"
             GROUP BY ticker_symbol, FLOOR(CHAR_TO_TIMESTAMP('yyyy-MM-dd''T''HH:mm:ss', event_time) TO MINUTE),
                      STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '60' SECOND);"#,
        r#"CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (t TIMESTAMP, ticker VARCHAR(4), label VARCHAR(8));
           CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
             SELECT STREAM ROWTIME, ticker_symbol,
                    CASE WHEN change > 0 THEN 'UP' WHEN change < 0 THEN 'DOWN' ELSE 'FLAT' END
             FROM (SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" WHERE price BETWEEN 10 AND 100) AS s;"#,
    ];
    for code in apps {
        if let Err(error) = compile(code, &ticker) {
            panic!("{error:?}\n{code}");
        }
    }
}

#[test]
fn every_aggregate_with_its_type_and_shared_accumulators() {
    let plan = ok(&pump(
        "a BIGINT, b BIGINT, c DECIMAL(19,2), d DECIMAL(10,2), e DECIMAL(10,2), f TIMESTAMP, g BIGINT",
        "SELECT STREAM COUNT(referrer), COUNT(*), SUM(price), AVG(price), MIN(price), MAX(event_ts), COUNT(*) + 1 \
         FROM SOURCE_SQL_STREAM_001 GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND)",
    ));
    let QueryShape::Aggregate(aggregate) = &plan.pumps[0].query.shape else { panic!() };
    let calls: Vec<(AggregateFunction, Option<ExprKind>, SqlType)> = aggregate
        .aggregates
        .iter()
        .map(|call| (call.function, call.arg.as_ref().map(|arg| arg.kind.clone()), call.result_type))
        .collect();
    let decimal = SqlType::Decimal { precision: 10, scale: 2 };
    assert_eq!(
        calls,
        vec![
            (AggregateFunction::Count, Some(ExprKind::Column(0)), SqlType::BigInt),
            (AggregateFunction::Count, None, SqlType::BigInt),
            (AggregateFunction::Sum, Some(ExprKind::Column(2)), SqlType::Decimal { precision: 19, scale: 2 }),
            (AggregateFunction::Avg, Some(ExprKind::Column(2)), decimal),
            (AggregateFunction::Min, Some(ExprKind::Column(2)), decimal),
            (AggregateFunction::Max, Some(ExprKind::Column(3)), SqlType::Timestamp),
        ]
    );
    // COUNT(*) + 1 reuses the second accumulator (group row column 1 + 1 + 1 = 2).
    let ExprKind::Binary { left, .. } = &aggregate.output[6].kind else { panic!() };
    assert_eq!(**left, col(2, SqlType::BigInt));
    let error = refused(&pump("a BIGINT", "SELECT STREAM SUM(referrer) FROM SOURCE_SQL_STREAM_001 GROUP BY ROWTIME"));
    assert!(matches!(error.kind, CodeErrorKind::Type(_)));
    let error = refused(&pump("a BIGINT", "SELECT STREAM SUM(COUNT(*)) FROM SOURCE_SQL_STREAM_001 GROUP BY ROWTIME"));
    assert_eq!(error.kind, CodeErrorKind::Unsupported);
}

#[test]
fn boolean_operators_and_null_tests_keep_their_shape() {
    let e = first_expr("v BOOLEAN", "NOT (bytes IS NOT NULL AND referrer IS NULL OR bytes NOT BETWEEN 1 AND 2)");
    let ExprKind::Unary { op: UnaryOp::Not, operand } = e.kind else { panic!("{e:?}") };
    let ExprKind::Binary { op: BinaryOp::Or, left, right } = operand.kind else { panic!() };
    let ExprKind::Binary { op: BinaryOp::And, left: not_null, .. } = left.kind else { panic!() };
    assert!(matches!(not_null.kind, ExprKind::IsNull { negated: true, .. }));
    assert!(matches!(right.kind, ExprKind::Between { negated: true, .. }));
    let e = first_expr("v BOOLEAN", "referrer NOT IN ('a', NULL)");
    let ExprKind::InList { negated: true, list, .. } = e.kind else { panic!() };
    assert_eq!(list[1], lit(Value::Null, SqlType::Varchar(32)));
    let e = first_expr("v BOOLEAN", "referrer NOT SIMILAR TO 'a+'");
    assert!(matches!(e.kind, ExprKind::Pattern { kind: PatternKind::SimilarTo, negated: true, escape: None, .. }));
}
/// Expressions at the nesting bound, in every shape that recurses, compile without
/// exhausting a test thread's stack (debug frames, the largest), in a grouped query
/// (the deepest lowering).
#[test]
fn expressions_at_the_nesting_bound_compile() {
    let n = super::parser::NESTING_MAX - 3;
    let shapes = [
        vec!["bytes"; n].join(" + "),
        format!("{}bytes{}", "(".repeat(n), ")".repeat(n)),
        format!("{}bytes{}", "ABS(".repeat(n), ")".repeat(n)),
        format!("{}bytes{}", "CASE WHEN bytes > 1 THEN ".repeat(n), " END".repeat(n)),
        format!("{}bytes", "- ".repeat(n)),
        format!("{}bytes{}", "CAST(".repeat(n), " AS INTEGER)".repeat(n)),
        format!("{}bytes{}", "COALESCE(1, ".repeat(n), ")".repeat(n)),
    ];
    for expr in shapes {
        let code = pump(
            "a INTEGER, b INTEGER",
            &format!(
                "SELECT STREAM SUM({expr}), {expr} FROM SOURCE_SQL_STREAM_001 WHERE {expr} > 0 \
                 GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND), {expr}"
            ),
        );
        if let Err(error) = compile(&code, &inputs()) {
            panic!("{error:?}: {expr}");
        }
    }
}

#[test]
fn long_condition_lists_stay_shallow_and_long_arithmetic_is_refused() {
    let conditions = vec!["referrer = 'x'"; 5_000].join(" OR ");
    let both = [conditions.as_str(); 3].join(") AND (");
    ok(&pump("v INTEGER", &format!("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE ({both})")));
    let text = vec!["referrer"; 2_000].join(" || ");
    ok(&pump("v VARCHAR(65534)", &format!("SELECT STREAM {text} FROM SOURCE_SQL_STREAM_001")));
    let sum = vec!["bytes"; 2_000].join(" + ");
    let error = refused(&pump("v INTEGER", &format!("SELECT STREAM {sum} FROM SOURCE_SQL_STREAM_001")));
    assert_eq!(error.kind, CodeErrorKind::Unsupported);
    assert!(error.construct.contains("nested deeper"), "{error:?}");
}

#[test]
fn balanced_chains_keep_operand_order() {
    let e = first_expr("v BOOLEAN", "bytes = 1 OR bytes = 2 OR bytes = 3");
    let literals: Vec<Value> = leaves(&e);
    assert_eq!(literals, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
}

fn leaves(expr: &Expr) -> Vec<Value> {
    match &expr.kind {
        ExprKind::Literal(value) => vec![value.clone()],
        ExprKind::Binary { left, right, .. } => {
            let mut out = leaves(left);
            out.extend(leaves(right));
            out
        }
        _ => Vec::new(),
    }
}

#[test]
fn nested_subqueries_at_the_bound_compile() {
    let n = super::parser::NESTING_MAX - 3;
    let mut query = "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001".to_owned();
    for _ in 0..n {
        query = format!("SELECT STREAM bytes FROM ({query})");
    }
    ok(&pump("v INTEGER", &query));
    let mut query = "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001".to_owned();
    for _ in 0..1_000 {
        query = format!("SELECT STREAM bytes FROM ({query})");
    }
    assert_eq!(refused(&pump("v INTEGER", &query)).kind, CodeErrorKind::Unsupported);
}

#[test]
fn double_slash_inside_strings_and_comments_is_text() {
    ok(&pump("v BOOLEAN", "SELECT STREAM referrer LIKE 'http://%' /* a // b */ FROM SOURCE_SQL_STREAM_001 -- c // d"));
    // Two slashes apart are two divisions, a syntax error, not a comment.
    let error = refused(&pump("v INTEGER", "SELECT STREAM bytes / /2 FROM SOURCE_SQL_STREAM_001"));
    assert!(matches!(error.kind, CodeErrorKind::Syntax(_)), "{error:?}");
    unsupported(&pump("v INTEGER", "SELECT STREAM bytes //2\n FROM SOURCE_SQL_STREAM_001"), "//", 3, 21);
}

#[test]
fn a_real_varchar_1_is_not_taken_for_an_untyped_null() {
    // VARCHAR(1) was once the marker of "only NULL literals so far", so a VARCHAR(1)
    // value unified with any type and failed on every row instead of at compile time.
    let short = "CAST(referrer AS VARCHAR(1))";
    for select in [
        format!("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE {short} IN (1, 2)"),
        format!("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE {short} BETWEEN 1 AND 2"),
        format!("SELECT STREAM CASE WHEN bytes > 0 THEN {short} ELSE 7 END FROM SOURCE_SQL_STREAM_001"),
    ] {
        let error = refused(&pump("v INTEGER", &select));
        assert!(matches!(error.kind, CodeErrorKind::Type(_)), "{select}: {error:?}");
    }
    // NULL literals still take the type of the others.
    ok(&pump("v INTEGER", "SELECT STREAM CASE WHEN bytes > 0 THEN NULL ELSE 7 END FROM SOURCE_SQL_STREAM_001"));
    ok(&pump(
        "v INTEGER",
        "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE NULL IN (NULL, 2) OR NULL BETWEEN NULL AND 3",
    ));
    ok(&pump(
        "v VARCHAR(1)",
        &format!("SELECT STREAM {short} FROM SOURCE_SQL_STREAM_001 WHERE {short} IN ('a', NULL)"),
    ));
}

#[test]
fn interval_literals_past_the_millisecond_range_are_refused() {
    // Whole seconds fit i64 milliseconds here, the fraction pushes them past i64::MAX.
    let error = refused(&pump(
        "t TIMESTAMP",
        "SELECT STREAM ROWTIME + INTERVAL '9223372036854775.999' SECOND FROM SOURCE_SQL_STREAM_001",
    ));
    assert!(error.construct.contains("past the range"), "{error:?}");
    ok(&pump(
        "t TIMESTAMP",
        "SELECT STREAM ROWTIME + INTERVAL '9223372036854775.807' SECOND FROM SOURCE_SQL_STREAM_001",
    ));
}

#[test]
fn a_qualified_source_rowtime_over_a_group_row_must_be_grouped() {
    let group_by = "FROM SOURCE_SQL_STREAM_001 AS s GROUP BY referrer, STEP(s.ROWTIME BY INTERVAL '1' MINUTE)";
    for select in [
        format!("SELECT STREAM s.ROWTIME, COUNT(*) {group_by}"),
        format!("SELECT STREAM COUNT(*) {group_by} HAVING s.ROWTIME IS NOT NULL"),
    ] {
        let error = refused(&pump("w TIMESTAMP, n BIGINT", &select));
        assert!(matches!(error.kind, CodeErrorKind::Type(_)), "{error:?}");
        assert!(error.construct.contains("S.ROWTIME"), "{error:?}");
        assert_eq!(error.line, 3, "{error:?}");
    }
    // Unqualified, it is the output row's ROWTIME; as a grouping expression or inside an
    // aggregate, the source rows'.
    ok(&pump("w TIMESTAMP, n BIGINT", &format!("SELECT STREAM ROWTIME, COUNT(*) {group_by}")));
    ok(&pump(
        "w TIMESTAMP, n BIGINT",
        &format!("SELECT STREAM STEP(s.ROWTIME BY INTERVAL '1' MINUTE), COUNT(*) {group_by}"),
    ));
    ok(&pump("w TIMESTAMP, n TIMESTAMP", &format!("SELECT STREAM ROWTIME, MAX(s.ROWTIME) {group_by}")));
}

#[test]
fn interval_field_precisions_are_enforced() {
    let interval = |literal: &str| format!("SELECT STREAM ROWTIME + {literal} FROM SOURCE_SQL_STREAM_001");
    for accepted in [
        "INTERVAL '99' SECOND(2)",
        "INTERVAL '100' SECOND",
        "INTERVAL '12.345' SECOND(2, 3)",
        "INTERVAL '1:02.5' MINUTE(1) TO SECOND(1)",
        "INTERVAL '3 04:05:06' DAY(1) TO SECOND",
    ] {
        ok(&pump("t TIMESTAMP", &interval(accepted)));
    }
    for refused_literal in [
        "INTERVAL '100' SECOND(2)",
        "INTERVAL '12.345' SECOND(2, 2)",
        "INTERVAL '1:02.55' MINUTE TO SECOND(1)",
        "INTERVAL '10 04' DAY(1) TO HOUR",
        "INTERVAL '10 04' DAY TO HOUR(2)",
        "INTERVAL '1' SECOND(0)",
    ] {
        let error = refused(&pump("t TIMESTAMP", &interval(refused_literal)));
        assert_eq!(error.line, 3, "{refused_literal}: {error:?}");
    }
}
