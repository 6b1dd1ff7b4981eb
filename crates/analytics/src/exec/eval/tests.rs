#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::plan::Expr;
use crate::value::SqlType;

fn lit(value: Value, ty: SqlType) -> Expr {
    Expr { kind: ExprKind::Literal(value), ty }
}

fn boolean(value: Option<bool>) -> Expr {
    lit(from_truth(value), SqlType::Boolean)
}

fn int(value: Option<i64>) -> Expr {
    lit(value.map_or(Value::Null, Value::Int), SqlType::Integer)
}

fn binary(op: BinaryOp, left: Expr, right: Expr, ty: SqlType) -> Expr {
    Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, ty }
}

fn eval(expr: &Expr) -> Result<Value, EvalError> {
    Evaluator::default().eval(expr, RowRef { values: &[], rowtime_ms: 0 }, 0)
}

/// A tiny boolean expression language and its reference semantics (Kleene logic).
#[derive(Debug, Clone)]
enum Logic {
    Const(Option<bool>),
    Not(Box<Logic>),
    And(Box<Logic>, Box<Logic>),
    Or(Box<Logic>, Box<Logic>),
    IsNull(Box<Logic>),
    /// `a < b` over nullable integers.
    Less(Option<i64>, Option<i64>),
}

fn reference(logic: &Logic) -> Option<bool> {
    match logic {
        Logic::Const(v) => *v,
        Logic::Not(inner) => reference(inner).map(|b| !b),
        Logic::And(a, b) => match (reference(a), reference(b)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Logic::Or(a, b) => match (reference(a), reference(b)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Logic::IsNull(inner) => Some(reference(inner).is_none()),
        Logic::Less(a, b) => Some(a.as_ref()? < b.as_ref()?),
    }
}

fn to_expr(logic: &Logic) -> Expr {
    match logic {
        Logic::Const(v) => boolean(*v),
        Logic::Not(inner) => {
            Expr { kind: ExprKind::Unary { op: UnaryOp::Not, operand: Box::new(to_expr(inner)) }, ty: SqlType::Boolean }
        }
        Logic::And(a, b) => binary(BinaryOp::And, to_expr(a), to_expr(b), SqlType::Boolean),
        Logic::Or(a, b) => binary(BinaryOp::Or, to_expr(a), to_expr(b), SqlType::Boolean),
        Logic::IsNull(inner) => {
            Expr { kind: ExprKind::IsNull { operand: Box::new(to_expr(inner)), negated: false }, ty: SqlType::Boolean }
        }
        Logic::Less(a, b) => binary(BinaryOp::Lt, int(*a), int(*b), SqlType::Boolean),
    }
}

fn logic() -> impl Strategy<Value = Logic> {
    let leaf = prop_oneof![
        proptest::option::of(any::<bool>()).prop_map(Logic::Const),
        (proptest::option::of(-3i64..3), proptest::option::of(-3i64..3)).prop_map(|(a, b)| Logic::Less(a, b)),
    ];
    leaf.prop_recursive(4, 32, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|l| Logic::Not(Box::new(l))),
            inner.clone().prop_map(|l| Logic::IsNull(Box::new(l))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Logic::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Logic::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn integer_type() -> impl Strategy<Value = SqlType> {
    prop::sample::select(vec![SqlType::TinyInt, SqlType::SmallInt, SqlType::Integer, SqlType::BigInt])
}

proptest! {
    #[test]
    fn three_valued_logic_matches_the_reference(logic in logic()) {
        prop_assert_eq!(eval(&to_expr(&logic)).unwrap(), from_truth(reference(&logic)));
    }

    #[test]
    fn integer_arithmetic_matches_i128_or_errs(
        a in proptest::option::of(any::<i64>()),
        b in proptest::option::of(prop_oneof![any::<i64>(), -3i64..3]),
        op in prop::sample::select(vec![BinaryOp::Plus, BinaryOp::Minus, BinaryOp::Multiply, BinaryOp::Divide]),
        ty in integer_type(),
    ) {
        let got = eval(&binary(op, int(a), int(b), ty));
        let (Some(a), Some(b)) = (a, b) else {
            prop_assert_eq!(got.unwrap(), Value::Null);
            return Ok(());
        };
        let (a, b) = (i128::from(a), i128::from(b));
        let exact = match op {
            BinaryOp::Plus => Some(a + b),
            BinaryOp::Minus => Some(a - b),
            BinaryOp::Multiply => Some(a * b),
            // i128 division truncates toward zero, the reference for SQL's.
            _ => (b != 0).then(|| a / b),
        };
        let (min, max) = crate::exec::arith::integer_range(ty).unwrap();
        match exact {
            Some(v) if v >= i128::from(min) && v <= i128::from(max) => prop_assert_eq!(got.unwrap(), Value::Int(v as i64)),
            _ => prop_assert_eq!(got.unwrap_err().kind, ErrorKind::Arithmetic),
        }
    }
}

#[test]
fn false_and_skips_the_right_side_errors() {
    let failing = binary(BinaryOp::Divide, int(Some(1)), int(Some(0)), SqlType::Integer);
    let failing_test = binary(BinaryOp::Eq, failing, int(Some(1)), SqlType::Boolean);
    let expr = binary(BinaryOp::And, boolean(Some(false)), failing_test.clone(), SqlType::Boolean);
    assert_eq!(eval(&expr).unwrap(), Value::Bool(false));
    let expr = binary(BinaryOp::And, boolean(Some(true)), failing_test, SqlType::Boolean);
    assert_eq!(eval(&expr).unwrap_err().kind, ErrorKind::Arithmetic);
}

#[test]
fn in_list_and_between_follow_null_rules() {
    let in_list = |operand: Option<i64>, list: Vec<Option<i64>>, negated: bool| {
        let expr = Expr {
            kind: ExprKind::InList {
                operand: Box::new(int(operand)),
                list: list.into_iter().map(int).collect(),
                negated,
            },
            ty: SqlType::Boolean,
        };
        eval(&expr).unwrap()
    };
    assert_eq!(in_list(Some(1), vec![Some(2), Some(1)], false), Value::Bool(true));
    assert_eq!(in_list(Some(1), vec![Some(2), None], false), Value::Null);
    assert_eq!(in_list(Some(1), vec![Some(2), Some(3)], false), Value::Bool(false));
    assert_eq!(in_list(Some(1), vec![Some(2), Some(3)], true), Value::Bool(true));
    assert_eq!(in_list(None, vec![Some(2)], false), Value::Null);
    let between = |operand: Option<i64>, low: Option<i64>, high: Option<i64>, negated: bool| {
        let expr = Expr {
            kind: ExprKind::Between {
                operand: Box::new(int(operand)),
                low: Box::new(int(low)),
                high: Box::new(int(high)),
                negated,
            },
            ty: SqlType::Boolean,
        };
        eval(&expr).unwrap()
    };
    assert_eq!(between(Some(2), Some(1), Some(2), false), Value::Bool(true));
    assert_eq!(between(Some(3), Some(1), Some(2), true), Value::Bool(true));
    // 5 BETWEEN NULL AND 2: FALSE whatever the NULL is.
    assert_eq!(between(Some(5), None, Some(2), false), Value::Bool(false));
    assert_eq!(between(Some(1), None, Some(2), false), Value::Null);
}

#[test]
fn case_compares_its_operand_and_falls_to_else_or_null() {
    let case = |operand: Option<i64>, otherwise: Option<Expr>| Expr {
        kind: ExprKind::Case {
            operand: Some(Box::new(int(operand))),
            branches: vec![
                (int(Some(1)), lit(Value::Str("one".into()), SqlType::Varchar(3))),
                (int(None), int(Some(0))),
            ],
            otherwise: otherwise.map(Box::new),
        },
        ty: SqlType::Varchar(3),
    };
    assert_eq!(eval(&case(Some(1), None)).unwrap(), Value::Str("one".into()));
    // NULL never equals NULL: the second branch is not taken.
    assert_eq!(eval(&case(None, None)).unwrap(), Value::Null);
    assert_eq!(
        eval(&case(Some(2), Some(lit(Value::Str("x".into()), SqlType::Varchar(1))))).unwrap(),
        Value::Str("x".into())
    );
}

#[test]
fn comparisons_mix_numeric_types_and_concat_joins() {
    let lt = binary(BinaryOp::Lt, int(Some(2)), lit(Value::Double(2.5), SqlType::Double), SqlType::Boolean);
    assert_eq!(eval(&lt).unwrap(), Value::Bool(true));
    let concat = binary(
        BinaryOp::Concat,
        lit(Value::Str("ab".into()), SqlType::Varchar(2)),
        lit(Value::Str("cd".into()), SqlType::Varchar(2)),
        SqlType::Varchar(4),
    );
    assert_eq!(eval(&concat).unwrap(), Value::Str("abcd".into()));
    let with_null = binary(
        BinaryOp::Concat,
        lit(Value::Str("ab".into()), SqlType::Varchar(2)),
        lit(Value::Null, SqlType::Varchar(2)),
        SqlType::Varchar(4),
    );
    assert_eq!(eval(&with_null).unwrap(), Value::Null);
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f32>().prop_map(Value::Real),
        any::<f64>().prop_map(Value::Double),
        (any::<i128>(), 0u8..40).prop_map(|(v, s)| Value::Decimal(v, s)),
        ".{0,4}".prop_map(|s| Value::Str(s.into())),
        any::<i32>().prop_map(Value::Date),
        any::<u32>().prop_map(Value::Time),
        any::<i64>().prop_map(Value::Timestamp),
        any::<i64>().prop_map(Value::Interval),
    ]
}

fn any_type() -> impl Strategy<Value = SqlType> {
    prop_oneof![
        Just(SqlType::Boolean),
        integer_type(),
        Just(SqlType::Double),
        Just(SqlType::Real),
        (0u8..40, 0u8..40).prop_map(|(precision, scale)| SqlType::Decimal { precision, scale }),
        Just(SqlType::Varchar(3)),
        Just(SqlType::Timestamp),
        Just(SqlType::IntervalDayTime),
    ]
}

/// Any tree over any values with any operator and any declared type: whatever the
/// compiler might let through, evaluation answers a value or an error row, never panics.
fn any_expr() -> impl Strategy<Value = Expr> {
    let leaf = (any_value(), any_type()).prop_map(|(value, ty)| lit(value, ty));
    leaf.prop_recursive(3, 16, 3, |inner| {
        let ops = vec![
            BinaryOp::And,
            BinaryOp::Or,
            BinaryOp::Eq,
            BinaryOp::Lt,
            BinaryOp::GtEq,
            BinaryOp::Plus,
            BinaryOp::Minus,
            BinaryOp::Multiply,
            BinaryOp::Divide,
            BinaryOp::Concat,
        ];
        prop_oneof![
            (prop::sample::select(ops), inner.clone(), inner.clone(), any_type())
                .prop_map(|(op, l, r, ty)| binary(op, l, r, ty)),
            (prop::sample::select(vec![UnaryOp::Not, UnaryOp::Minus, UnaryOp::Plus]), inner.clone(), any_type())
                .prop_map(|(op, operand, ty)| Expr { kind: ExprKind::Unary { op, operand: Box::new(operand) }, ty }),
            (inner.clone(), proptest::collection::vec(inner.clone(), 0..3), any::<bool>()).prop_map(
                |(operand, list, negated)| Expr {
                    kind: ExprKind::InList { operand: Box::new(operand), list, negated },
                    ty: SqlType::Boolean
                }
            ),
            (inner.clone(), inner.clone(), inner, any::<bool>()).prop_map(|(operand, low, high, negated)| Expr {
                kind: ExprKind::Between {
                    operand: Box::new(operand),
                    low: Box::new(low),
                    high: Box::new(high),
                    negated
                },
                ty: SqlType::Boolean
            }),
        ]
    })
}

proptest! {
    #[test]
    fn evaluation_never_panics(expr in any_expr()) {
        let _ = eval(&expr);
    }
}
