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
fn insert_mismatches_are_refused() {
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

#[test]
fn refused_constructs_are_named_with_their_place() {
    let select = |tail: &str| pump("v INTEGER", &format!("SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 {tail}"));
    unsupported(&select("ORDER BY bytes"), "ORDER BY", 3, 48);
    unsupported(&select("UNION ALL SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001"), "UNION", 3, 48);
    unsupported(&select("JOIN x ON true"), "JOIN", 3, 48);
    unsupported(&select("AS s LEFT JOIN x ON true"), "JOIN", 3, 53);
    unsupported(&select(", other"), "JOIN", 3, 48);
    unsupported(
        &select("WINDOWED BY STAGGER (PARTITION BY bytes RANGE INTERVAL '1' MINUTE)"),
        "WINDOWED BY STAGGER",
        3,
        48,
    );
    unsupported(&select("WINDOW w AS (RANGE INTERVAL '1' MINUTE PRECEDING)"), "WINDOW", 3, 48);
    unsupported(&select("LIMIT 3"), "LIMIT", 3, 48);
    unsupported(&pump("v INTEGER", "SELECT STREAM DISTINCT bytes FROM SOURCE_SQL_STREAM_001"), "DISTINCT", 3, 15);
    unsupported(&pump("v INTEGER", "SELECT bytes FROM SOURCE_SQL_STREAM_001"), "SELECT without STREAM", 3, 1);
    unsupported(
        &pump(
            "v INTEGER",
            "SELECT STREAM SUM(bytes) OVER (RANGE INTERVAL '1' MINUTE PRECEDING) FROM SOURCE_SQL_STREAM_001",
        ),
        "OVER",
        3,
        26,
    );
    unsupported(
        &pump("v INTEGER", "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 OVER (RANGE INTERVAL '1' MINUTE PRECEDING)"),
        "OVER",
        3,
        48,
    );
    unsupported(
        &pump("v INTEGER", "SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM SOURCE_SQL_STREAM_001), 'x', 3, 60))"),
        "TABLE",
        3,
        22,
    );
    unsupported(&pump("v INTEGER", "SELECT STREAM LAG(bytes, 1) FROM SOURCE_SQL_STREAM_001"), "LAG", 3, 15);
    unsupported(&pump("v INTEGER", "SELECT STREAM STDDEV_POP(bytes) FROM SOURCE_SQL_STREAM_001"), "STDDEV_POP", 3, 15);
    unsupported(
        &pump("v INTEGER", "SELECT STREAM COUNT(DISTINCT bytes) FROM SOURCE_SQL_STREAM_001"),
        "DISTINCT",
        3,
        21,
    );
    unsupported(
        &pump("v INTEGER", "SELECT STREAM NO_SUCH_FUNCTION(bytes) FROM SOURCE_SQL_STREAM_001"),
        "NO_SUCH_FUNCTION",
        3,
        15,
    );
    unsupported(
        &pump("v TIMESTAMP", "SELECT STREAM event_ts + INTERVAL '1' YEAR FROM SOURCE_SQL_STREAM_001"),
        "year-month",
        3,
        26,
    );
    unsupported(
        &pump("v TIMESTAMP", "SELECT STREAM event_ts AS ROWTIME FROM SOURCE_SQL_STREAM_001"),
        "AS ROWTIME",
        3,
        27,
    );
    unsupported(
        &pump("v INTEGER", "SELECT STREAM (SELECT STREAM 1 FROM SOURCE_SQL_STREAM_001) FROM SOURCE_SQL_STREAM_001"),
        "scalar subquery",
        3,
        16,
    );
    unsupported("CREATE FUNCTION f() RETURNS INTEGER", "CREATE FUNCTION", 1, 8);
    unsupported("SELECT STREAM * FROM SOURCE_SQL_STREAM_001", "SELECT statement", 1, 1);
    unsupported("INSERT INTO x SELECT STREAM * FROM SOURCE_SQL_STREAM_001", "INSERT statement", 1, 1);
    unsupported("CREATE STREAM a (x INTEGER);\n// comment\n", "// comment", 2, 1);
    unsupported(&pump("v INTEGER", "VALUES (1)"), "VALUES", 3, 1);
    unsupported(
        &pump("v INTEGER", "SELECT STREAM bytes FROM SOURCE_SQL_STREAM_001 WHERE bytes = ANY (1)"),
        "ANY",
        3,
        62,
    );
    unsupported(&pump("v INTEGER", "SELECT STREAM bytes % 2 FROM SOURCE_SQL_STREAM_001"), "%", 3, 21);
    unsupported(
        "CREATE STREAM a (x INTEGER);\nCREATE PUMP p AS INSERT INTO SOURCE_SQL_STREAM_001 SELECT STREAM * FROM a;",
        "INSERT INTO SOURCE_SQL_STREAM_001",
        2,
        30,
    );
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

    proptest! {
        #[test]
        fn compile_never_panics(code in ".{0,200}") {
            let _ = compile(&code, &inputs());
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
