#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::plan::{
    error_stream_columns, AggregateCall, AggregateFunction, AggregatePlan, BinaryOp, ColumnDef, Expr, ExprKind,
    ProgressKey, PumpPlan, Query, QueryShape, Source, StreamDef,
};
use crate::value::{ErrorKind, SqlType};

const IN: StreamId = 0;
const ERRORS: StreamId = 1;
const OUT: StreamId = 2;

fn column(name: &str, sql_type: SqlType) -> ColumnDef {
    ColumnDef { name: name.into(), sql_type, not_null: false }
}

fn stream(name: &str, kind: StreamKind, columns: Vec<ColumnDef>) -> StreamDef {
    StreamDef { name: name.into(), kind, columns, line: 0 }
}

fn col(index: usize, ty: SqlType) -> Expr {
    Expr { kind: ExprKind::Column(index), ty }
}

fn int(v: i64) -> Expr {
    Expr { kind: ExprKind::Literal(Value::Int(v)), ty: SqlType::Integer }
}

fn binary(op: BinaryOp, left: Expr, right: Expr, ty: SqlType) -> Expr {
    Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, ty }
}

fn rowtime() -> Expr {
    Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp }
}

/// The input stream IN(K VARCHAR(16), V INTEGER), `error_stream`, then `outputs`.
fn plan(outputs: Vec<StreamDef>, pumps: Vec<PumpPlan>) -> Arc<AppPlan> {
    let mut streams = vec![
        stream("IN", StreamKind::Input, vec![column("K", SqlType::Varchar(16)), column("V", SqlType::Integer)]),
        stream("error_stream", StreamKind::Error, error_stream_columns()),
    ];
    streams.extend(outputs);
    Arc::new(AppPlan { streams, pumps })
}

fn pump(name: &str, target: StreamId, columns: usize, query: Query) -> PumpPlan {
    PumpPlan { name: name.into(), target, target_columns: (0..columns).collect(), query, line: 1 }
}

fn project(source: Source, filter: Option<Expr>, exprs: Vec<Expr>) -> Query {
    Query { source, filter, shape: QueryShape::Project(exprs) }
}

/// `SELECT STREAM K, COUNT(*), SUM(V) FROM IN GROUP BY K, STEP(ROWTIME BY width)`.
fn count_by_key(width_ms: i64) -> Query {
    Query {
        source: Source::Stream(IN),
        filter: None,
        shape: QueryShape::Aggregate(AggregatePlan {
            progress: ProgressKey::Step { expr: rowtime(), width_ms },
            keys: vec![col(0, SqlType::Varchar(16))],
            aggregates: vec![
                AggregateCall { function: AggregateFunction::Count, arg: None, result_type: SqlType::BigInt },
                AggregateCall {
                    function: AggregateFunction::Sum,
                    arg: Some(col(1, SqlType::Integer)),
                    result_type: SqlType::Integer,
                },
            ],
            having: None,
            // Group row: [window start, K, COUNT, SUM].
            output: vec![col(1, SqlType::Varchar(16)), col(2, SqlType::BigInt), col(3, SqlType::Integer)],
        }),
    }
}

fn counts_stream() -> StreamDef {
    stream(
        "COUNTS",
        StreamKind::Created,
        vec![column("K", SqlType::Varchar(16)), column("N", SqlType::BigInt), column("S", SqlType::Integer)],
    )
}

fn row(rowtime_ms: i64, key: Option<&str>, value: Option<i64>) -> Row {
    let key = key.map_or(Value::Null, |k| Value::Str(bytes::Bytes::copy_from_slice(k.as_bytes())));
    let value = value.map_or(Value::Null, Value::Int);
    Row { rowtime_ms, epoch: (rowtime_ms / 1000) as u32, values: vec![key, value].into_boxed_slice() }
}

fn drained(executor: &mut Executor, stream: StreamId) -> Vec<Row> {
    let mut out = Vec::new();
    executor.drain(stream, &mut out);
    out
}

fn push(executor: &mut Executor, now_ms: i64, rows: Vec<Row>) {
    let mut rows = rows;
    executor.push(IN, &mut rows, now_ms);
}

fn s(text: &str) -> Value {
    Value::Str(bytes::Bytes::copy_from_slice(text.as_bytes()))
}

#[test]
fn where_keeps_only_true_rows_and_rowtime_is_carried() {
    let filter = binary(BinaryOp::Gt, col(1, SqlType::Integer), int(1), SqlType::Boolean);
    let query = project(Source::Stream(IN), Some(filter), vec![col(0, SqlType::Varchar(16)), col(1, SqlType::Integer)]);
    let out = stream("OUT", StreamKind::Created, vec![column("K", SqlType::Varchar(4)), column("V", SqlType::Integer)]);
    let mut executor = Executor::new(plan(vec![out], vec![pump("P", OUT, 2, query)]), &[OUT], ExecLimits::default(), 0);
    push(
        &mut executor,
        1_000,
        vec![row(1_000, Some("a"), Some(1)), row(1_000, Some("bbbbbb"), Some(2)), row(1_000, None, None)],
    );
    let rows = drained(&mut executor, OUT);
    // V = 1 is FALSE and NULL > 1 is UNKNOWN: only the second row passes, its K cut to 4.
    assert_eq!(rows, vec![Row { rowtime_ms: 1_000, epoch: 1, values: vec![s("bbbb"), Value::Int(2)].into() }]);
    assert_eq!(executor.held_epoch(), None);
}

#[test]
fn tumbling_count_closes_when_time_reaches_the_window_end() {
    let plan = plan(vec![counts_stream()], vec![pump("P", OUT, 3, count_by_key(10_000))]);
    let mut executor = Executor::new(plan, &[OUT], ExecLimits::default(), 0);
    push(&mut executor, 1_000, vec![row(1_000, Some("b"), Some(1)), row(1_000, Some("a"), Some(2))]);
    push(&mut executor, 9_999, vec![row(9_999, Some("b"), None), row(9_999, None, Some(4))]);
    assert_eq!(drained(&mut executor, OUT), vec![]);
    assert_eq!(executor.next_deadline_ms(), Some(10_000));
    assert_eq!(executor.held_epoch(), Some(1));
    // The row at 10 000 belongs to the next window; the first closes before it enters.
    push(&mut executor, 10_000, vec![row(10_000, Some("a"), Some(7))]);
    let rows = drained(&mut executor, OUT);
    let expected =
        |k: Value, n: i64, sum: Value| Row { rowtime_ms: 10_000, epoch: 1, values: vec![k, Value::Int(n), sum].into() };
    assert_eq!(
        rows,
        vec![
            expected(s("b"), 2, Value::Int(1)),
            expected(s("a"), 1, Value::Int(2)),
            expected(Value::Null, 1, Value::Int(4)),
        ]
    );
    assert_eq!(executor.next_deadline_ms(), Some(20_000));
    // Idle input: the timer's advance closes the window with no new row.
    executor.advance(19_999);
    assert_eq!(drained(&mut executor, OUT), vec![]);
    executor.advance(25_000);
    assert_eq!(
        drained(&mut executor, OUT),
        vec![Row { rowtime_ms: 20_000, epoch: 10, values: vec![s("a"), Value::Int(1), Value::Int(7)].into() }]
    );
    assert_eq!(executor.next_deadline_ms(), None);
    assert_eq!(executor.stats().state_bytes, 0);
    // Empty windows emit nothing.
    executor.advance(100_000);
    assert_eq!(drained(&mut executor, OUT), vec![]);
}

#[test]
fn division_by_zero_goes_to_error_stream_and_the_app_goes_on() {
    let quotient = binary(BinaryOp::Divide, int(100), col(1, SqlType::Integer), SqlType::Integer);
    let query = project(Source::Stream(IN), None, vec![quotient]);
    let out = stream("OUT", StreamKind::Created, vec![column("Q", SqlType::Integer)]);
    let mut executor =
        Executor::new(plan(vec![out], vec![pump("DIVIDE", OUT, 1, query)]), &[OUT, ERRORS], ExecLimits::default(), 0);
    push(&mut executor, 5_000, vec![row(4_000, Some("a"), Some(0)), row(4_000, Some("a"), Some(-7))]);
    assert_eq!(
        drained(&mut executor, OUT),
        vec![Row { rowtime_ms: 4_000, epoch: 4, values: vec![Value::Int(-14)].into() }]
    );
    let errors = drained(&mut executor, ERRORS);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].rowtime_ms, 5_000);
    assert_eq!(
        errors[0].values.as_ref(),
        &[
            Value::Timestamp(5_000),
            s("ERROR"),
            s("ARITHMETIC"),
            s("division by zero"),
            Value::Timestamp(4_000),
            s(r#"["a",0]"#),
            s("DIVIDE"),
        ]
    );
    assert_eq!(executor.stats().error_rows, 1);
}

#[test]
fn state_bound_refuses_new_groups_not_existing_ones() {
    let plan = plan(vec![counts_stream()], vec![pump("P", OUT, 3, count_by_key(10_000))]);
    let limits = ExecLimits { state_bytes_max: 400, error_rows_max: 100 };
    let mut executor = Executor::new(plan, &[OUT, ERRORS], limits, 0);
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    push(&mut executor, 0, keys.iter().map(|k| row(0, Some(k), Some(1))).collect());
    let opened = executor.stats().open_groups;
    assert!(opened > 0 && opened < 20, "{opened} groups opened");
    assert!(executor.stats().state_bytes <= 400);
    // An existing group still counts.
    push(&mut executor, 1, vec![row(1, Some("k0"), Some(1))]);
    let errors = drained(&mut executor, ERRORS);
    assert_eq!(errors.len(), 20 - opened);
    assert!(errors.iter().all(|e| e.values[2] == s(ErrorKind::ResourceLimit.name())));
    executor.advance(10_000);
    let rows = drained(&mut executor, OUT);
    assert_eq!(rows.len(), opened);
    assert_eq!(rows[0].values[1], Value::Int(2));
}

#[test]
fn pending_error_rows_are_bounded_oldest_dropped() {
    let quotient = binary(BinaryOp::Divide, int(1), col(1, SqlType::Integer), SqlType::Integer);
    let query = project(Source::Stream(IN), None, vec![quotient]);
    let out = stream("OUT", StreamKind::Created, vec![column("Q", SqlType::Integer)]);
    let limits = ExecLimits { state_bytes_max: 1 << 20, error_rows_max: 3 };
    let mut executor = Executor::new(plan(vec![out], vec![pump("P", OUT, 1, query)]), &[ERRORS], limits, 0);
    push(&mut executor, 0, (0..5).map(|i| row(i, Some("a"), Some(0))).collect());
    let errors = drained(&mut executor, ERRORS);
    assert_eq!(
        errors.iter().map(|e| e.values[4].clone()).collect::<Vec<_>>(),
        vec![Value::Timestamp(2), Value::Timestamp(3), Value::Timestamp(4)]
    );
    assert_eq!(executor.stats().error_rows_dropped, 2);
}

#[test]
fn sum_overflow_is_an_error_row_and_leaves_the_group() {
    let plan = plan(vec![counts_stream()], vec![pump("P", OUT, 3, count_by_key(10_000))]);
    let mut executor = Executor::new(plan, &[OUT, ERRORS], ExecLimits::default(), 0);
    let max = i64::from(i32::MAX);
    push(&mut executor, 0, vec![row(0, Some("a"), Some(max)), row(0, Some("a"), Some(1)), row(0, Some("a"), Some(-1))]);
    executor.advance(10_000);
    assert_eq!(drained(&mut executor, OUT)[0].values.as_ref(), &[s("a"), Value::Int(2), Value::Int(max - 1)]);
    assert_eq!(drained(&mut executor, ERRORS).len(), 1);
}

#[test]
fn chains_subqueries_and_two_pumps_into_one_stream() {
    // P1: MID <- IN where V > 0; P2: OUT <- (SELECT V * 2 FROM MID); P3: OUT <- IN's V.
    let mid =
        stream("MID", StreamKind::Created, vec![column("K", SqlType::Varchar(16)), column("V", SqlType::Integer)]);
    let out = stream("OUT", StreamKind::Created, vec![column("V", SqlType::BigInt)]);
    let positive = binary(BinaryOp::Gt, col(1, SqlType::Integer), int(0), SqlType::Boolean);
    let p1 = pump(
        "P1",
        2,
        2,
        project(Source::Stream(IN), Some(positive), vec![col(0, SqlType::Varchar(16)), col(1, SqlType::Integer)]),
    );
    let inner = project(
        Source::Stream(2),
        None,
        vec![binary(BinaryOp::Multiply, col(1, SqlType::Integer), int(2), SqlType::Integer)],
    );
    let p2 = pump("P2", 3, 1, project(Source::Subquery(Box::new(inner)), None, vec![col(0, SqlType::Integer)]));
    let p3 = pump("P3", 3, 1, project(Source::Stream(IN), None, vec![col(1, SqlType::Integer)]));
    let mut executor = Executor::new(plan(vec![mid, out], vec![p1, p2, p3]), &[3], ExecLimits::default(), 0);
    push(&mut executor, 0, vec![row(0, Some("a"), Some(5)), row(0, Some("b"), Some(-1))]);
    let values: Vec<Value> = drained(&mut executor, 3).into_iter().map(|r| r.values[0].clone()).collect();
    // Depth first, pumps in code order: row 5 through P1→P2 (10), then P3 (5); row -1 only P3.
    assert_eq!(values, vec![Value::Int(10), Value::Int(5), Value::Int(-1)]);
}

/// `SELECT STREAM <progress key>, COUNT(*) ... GROUP BY <progress key>`.
fn count_rows(progress: ProgressKey, key_type: SqlType) -> QueryShape {
    QueryShape::Aggregate(AggregatePlan {
        progress,
        keys: vec![],
        aggregates: vec![AggregateCall { function: AggregateFunction::Count, arg: None, result_type: SqlType::BigInt }],
        having: None,
        output: vec![col(0, key_type), col(1, SqlType::BigInt)],
    })
}

#[test]
fn monotonic_groups_close_when_a_larger_key_arrives() {
    let query = Query {
        source: Source::Stream(IN),
        filter: None,
        shape: count_rows(ProgressKey::Monotonic(col(1, SqlType::Integer)), SqlType::Integer),
    };
    let out = stream("OUT", StreamKind::Created, vec![column("V", SqlType::Integer), column("N", SqlType::BigInt)]);
    let mut executor = Executor::new(plan(vec![out], vec![pump("P", OUT, 2, query)]), &[OUT], ExecLimits::default(), 0);
    push(&mut executor, 0, vec![row(0, None, Some(1)), row(1, None, Some(1)), row(2, None, Some(3))]);
    assert_eq!(executor.next_deadline_ms(), None);
    let rows = drained(&mut executor, OUT);
    assert_eq!(rows, vec![Row { rowtime_ms: 2, epoch: 0, values: vec![Value::Int(1), Value::Int(2)].into() }]);
    executor.close_all(50);
    assert_eq!(drained(&mut executor, OUT)[0].values.as_ref(), &[Value::Int(3), Value::Int(1)]);
}

#[test]
fn event_time_windows_close_on_processing_time_and_late_rows_close_at_once() {
    // GROUP BY STEP(TS BY 10 s) where TS is a column of the (projected) row.
    let inner = project(
        Source::Stream(IN),
        None,
        vec![
            Expr { kind: ExprKind::Literal(Value::Timestamp(3_000)), ty: SqlType::Timestamp },
            col(1, SqlType::Integer),
        ],
    );
    let query = Query {
        source: Source::Subquery(Box::new(inner)),
        filter: None,
        shape: count_rows(ProgressKey::Step { expr: col(0, SqlType::Timestamp), width_ms: 10_000 }, SqlType::Timestamp),
    };
    let out = stream("OUT", StreamKind::Created, vec![column("W", SqlType::Timestamp), column("N", SqlType::BigInt)]);
    let mut executor = Executor::new(plan(vec![out], vec![pump("P", OUT, 2, query)]), &[OUT], ExecLimits::default(), 0);
    push(&mut executor, 5_000, vec![row(5_000, None, Some(1))]);
    assert_eq!(drained(&mut executor, OUT), vec![]);
    push(&mut executor, 12_000, vec![row(12_000, None, Some(1))]);
    // The first window [0, 10 s) closed at 12 s before the late row came; the late row's
    // group of the same window closes in the same step, its ROWTIME not going back.
    let rows = drained(&mut executor, OUT);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].rowtime_ms, 10_000);
    assert_eq!(rows[1].rowtime_ms, 10_000);
    assert_eq!(rows[1].values.as_ref(), &[Value::Timestamp(0), Value::Int(1)]);
}

#[test]
fn a_cycle_of_pumps_is_cut() {
    let a = stream("A", StreamKind::Created, vec![column("V", SqlType::Integer)]);
    let p1 = pump("P1", 2, 1, project(Source::Stream(IN), None, vec![col(1, SqlType::Integer)]));
    let p2 = pump("P2", 2, 1, project(Source::Stream(2), None, vec![col(0, SqlType::Integer)]));
    let mut executor = Executor::new(plan(vec![a], vec![p1, p2]), &[2], ExecLimits::default(), 0);
    push(&mut executor, 0, vec![row(0, None, Some(1))]);
    assert!(executor.stats().error_rows_dropped >= 1);
    assert!(drained(&mut executor, 2).len() <= 2 * 2 + 3);
}

/// The model of a tumbling COUNT/SUM by key: sort by (window, first appearance) and fold.
fn model(events: &[(i64, u8, i32)], width: i64) -> Vec<(i64, String, i64, i64)> {
    let mut groups: Vec<(i64, String, i64, i64)> = Vec::new();
    for (time, key, value) in events {
        let end = (time.div_euclid(width) + 1) * width;
        let key = format!("k{key}");
        match groups.iter_mut().find(|g| g.0 == end && g.1 == key) {
            Some(group) => {
                group.2 += 1;
                group.3 += i64::from(*value);
            }
            None => groups.push((end, key, 1, i64::from(*value))),
        }
    }
    // Stable: groups of one window stay in order of first appearance.
    groups.sort_by_key(|g| g.0);
    groups
}

proptest! {
    #[test]
    fn tumbling_matches_the_model(
        mut events in proptest::collection::vec((0i64..60_000, 0u8..5, -1000i32..1000), 0..200),
        width in prop::sample::select(vec![1_000i64, 7_000, 10_000]),
        ticks in proptest::collection::vec(0i64..70_000, 0..5),
    ) {
        events.sort_by_key(|e| e.0);
        let plan = plan(vec![counts_stream()], vec![pump("P", OUT, 3, count_by_key(width))]);
        let mut executor = Executor::new(plan, &[OUT], ExecLimits::default(), 0);
        let mut ticks = ticks;
        ticks.sort_unstable();
        let mut ticks = ticks.into_iter().peekable();
        let mut emitted = Vec::new();
        for (time, key, value) in &events {
            while let Some(tick) = ticks.next_if(|t| t <= time) {
                executor.advance(tick);
            }
            push(&mut executor, *time, vec![row(*time, Some(&format!("k{key}")), Some(i64::from(*value)))]);
            executor.drain(OUT, &mut emitted);
        }
        executor.advance(i64::MAX);
        executor.drain(OUT, &mut emitted);
        let got: Vec<(i64, String, i64, i64)> = emitted
            .iter()
            .map(|r| match r.values.as_ref() {
                [Value::Str(k), Value::Int(n), Value::Int(sum)] => (r.rowtime_ms, String::from_utf8_lossy(k).into_owned(), *n, *sum),
                other => panic!("unexpected row {other:?}"),
            })
            .collect();
        prop_assert_eq!(got, model(&events, width));
        prop_assert_eq!(executor.stats().state_bytes, 0);
    }
}

#[test]
fn a_rowtime_key_closes_on_the_clock_with_the_key_as_rowtime() {
    // GROUP BY ROWTIME: the compiler makes it a MONOTONIC key; no later row can carry a
    // ROWTIME the clock has passed, so the timer closes it without a larger key arriving.
    let query = Query {
        source: Source::Stream(IN),
        filter: None,
        shape: count_rows(ProgressKey::Monotonic(rowtime()), SqlType::Timestamp),
    };
    let out = stream("OUT", StreamKind::Created, vec![column("T", SqlType::Timestamp), column("N", SqlType::BigInt)]);
    let mut executor = Executor::new(plan(vec![out], vec![pump("P", OUT, 2, query)]), &[OUT], ExecLimits::default(), 0);
    push(&mut executor, 1_000, vec![row(1_000, None, Some(1)), row(1_000, None, Some(2))]);
    assert_eq!(executor.next_deadline_ms(), Some(1_001));
    assert_eq!(drained(&mut executor, OUT), vec![]);
    executor.advance(1_001);
    assert_eq!(
        drained(&mut executor, OUT),
        vec![Row { rowtime_ms: 1_000, epoch: 1, values: vec![Value::Timestamp(1_000), Value::Int(2)].into() }]
    );
}
