//! Unit tests of the functions, with SQLREF's documented examples where it gives them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::plan::{PatternKind, TimeUnit};
use crate::value::{ErrorKind, SqlType, Value};

const NOW: CallContext = CallContext { now_ms: 1_475_209_703_456 }; // 2016-09-30 04:28:23.456

fn s(text: &str) -> Value {
    Value::Str(text.to_owned().into())
}

fn ts(text: &str) -> Value {
    Value::Timestamp(cast::parse_timestamp(text).unwrap())
}

fn run(function: ScalarFunction, args: &[Value]) -> Value {
    call(function, args, NOW).unwrap_or_else(|error| panic!("{function:?}{args:?}: {error}"))
}

fn fails(function: ScalarFunction, args: &[Value]) -> ErrorKind {
    match call(function, args, NOW) {
        Ok(value) => panic!("{function:?}{args:?} gave {value:?}"),
        Err(error) => error.kind,
    }
}

#[test]
fn null_arguments_give_null_except_where_documented() {
    use ScalarFunction as F;
    let strict: &[(ScalarFunction, usize)] = &[
        (F::Step, 2),
        (F::FloorTo(TimeUnit::Minute), 1),
        (F::CharLength, 1),
        (F::Lower, 1),
        (F::Upper, 1),
        (F::Initcap, 1),
        (F::Substring, 3),
        (F::Position, 2),
        (F::Trim(TrimSide::Both), 1),
        (F::Overlay, 3),
        (F::RegexReplace, 5),
        (F::Abs, 1),
        (F::Ceil, 1),
        (F::Mod, 2),
        (F::Power, 2),
        (F::Round, 1),
        (F::Ln, 1),
        (F::CharToTimestamp, 2),
        (F::Tsdiff, 2),
        (F::Extract(TimeUnit::Hour), 1),
    ];
    for (function, arity) in strict {
        let args = vec![Value::Null; *arity];
        assert_eq!(run(*function, &args), Value::Null, "{function:?}");
    }
    assert_eq!(run(F::TimestampToChar, &[s("yyyy"), Value::Null]), s("null"));
    assert_eq!(run(F::Coalesce, &[Value::Null, Value::Int(2), Value::Int(3)]), Value::Int(2));
    assert_eq!(run(F::Coalesce, &[Value::Null, Value::Null]), Value::Null);
    assert_eq!(run(F::Nullif, &[Value::Int(2), Value::Int(2)]), Value::Null);
    assert_eq!(run(F::Nullif, &[Value::Int(2), Value::Decimal(200, 2)]), Value::Null);
    assert_eq!(run(F::Nullif, &[Value::Int(2), Value::Int(3)]), Value::Int(2));
    assert_eq!(run(F::Nullif, &[Value::Int(2), Value::Null]), Value::Int(2));
}

#[test]
fn step_follows_sqlref() {
    // SQLREF STEP examples.
    assert_eq!(run(ScalarFunction::Step, &[Value::Int(23), Value::Int(5)]), Value::Int(20));
    assert_eq!(run(ScalarFunction::Step, &[Value::Int(30), Value::Int(10)]), Value::Int(30));
    assert_eq!(
        run(ScalarFunction::Step, &[ts("2004-09-30 13:48:23"), Value::Interval(10_000)]),
        ts("2004-09-30 13:48:20")
    );
    assert_eq!(
        run(ScalarFunction::Step, &[ts("2004-09-30 13:48:23"), Value::Interval(3_600_000)]),
        ts("2004-09-30 13:00:00")
    );
    // Before the epoch, windows stay aligned on it.
    assert_eq!(run(ScalarFunction::Step, &[Value::Timestamp(-1), Value::Interval(1_000)]), Value::Timestamp(-1_000));
    assert_eq!(run(ScalarFunction::Step, &[Value::Int(-3), Value::Int(5)]), Value::Int(-5));
    assert_eq!(fails(ScalarFunction::Step, &[Value::Int(3), Value::Int(0)]), ErrorKind::Arithmetic);
    // The window start of i64::MIN is below i64::MIN: an error, not a panic or a wrap.
    assert_eq!(fails(ScalarFunction::Step, &[Value::Int(i64::MIN), Value::Int(7)]), ErrorKind::Arithmetic);
    assert_eq!(fails(ScalarFunction::FloorTo(TimeUnit::Second), &[Value::Timestamp(i64::MIN)]), ErrorKind::Arithmetic);
}

#[test]
fn floor_and_ceil_to_units() {
    let floor = |unit, text: &str| run(ScalarFunction::FloorTo(unit), &[ts(text)]);
    let ceil = |unit, text: &str| run(ScalarFunction::CeilTo(unit), &[ts(text)]);
    assert_eq!(floor(TimeUnit::Minute, "2004-09-30 13:48:23.5"), ts("2004-09-30 13:48:00"));
    assert_eq!(floor(TimeUnit::Day, "2004-09-30 13:48:23"), ts("2004-09-30 00:00:00"));
    assert_eq!(floor(TimeUnit::Month, "2004-09-30 13:48:23"), ts("2004-09-01 00:00:00"));
    assert_eq!(floor(TimeUnit::Year, "2004-09-30 13:48:23"), ts("2004-01-01 00:00:00"));
    assert_eq!(ceil(TimeUnit::Hour, "2004-09-30 13:48:23"), ts("2004-09-30 14:00:00"));
    assert_eq!(ceil(TimeUnit::Hour, "2004-09-30 13:00:00"), ts("2004-09-30 13:00:00"));
    assert_eq!(ceil(TimeUnit::Month, "2004-12-30 13:48:23"), ts("2005-01-01 00:00:00"));
    assert_eq!(ceil(TimeUnit::Second, "1969-12-31 23:59:59.5"), ts("1970-01-01 00:00:00"));
}

#[test]
fn numeric_floor_ceil_abs_round_mod() {
    use ScalarFunction as F;
    assert_eq!(run(F::Floor, &[Value::Double(-1.5)]), Value::Double(-2.0));
    assert_eq!(run(F::Ceil, &[Value::Decimal(-150, 2)]), Value::Decimal(-100, 2));
    assert_eq!(run(F::Ceil, &[Value::Decimal(101, 2)]), Value::Decimal(200, 2));
    assert_eq!(run(F::Floor, &[Value::Decimal(-101, 2)]), Value::Decimal(-200, 2));
    assert_eq!(run(F::Abs, &[Value::Int(-4)]), Value::Int(4));
    assert_eq!(fails(F::Abs, &[Value::Int(i64::MIN)]), ErrorKind::Arithmetic);
    assert_eq!(run(F::Round, &[Value::Decimal(125, 2), Value::Int(1)]), Value::Decimal(130, 2));
    assert_eq!(run(F::Round, &[Value::Decimal(-125, 2), Value::Int(1)]), Value::Decimal(-130, 2));
    assert_eq!(run(F::Round, &[Value::Int(1250), Value::Int(-2)]), Value::Int(1300));
    assert_eq!(run(F::Round, &[Value::Double(2.5)]), Value::Double(3.0));
    assert_eq!(run(F::Mod, &[Value::Int(-7), Value::Int(3)]), Value::Int(-1));
    assert_eq!(fails(F::Mod, &[Value::Int(7), Value::Int(0)]), ErrorKind::Arithmetic);
    assert_eq!(run(F::Power, &[Value::Int(2), Value::Int(10)]), Value::Double(1024.0));
    assert_eq!(run(F::Sqrt, &[Value::Int(16)]), Value::Double(4.0));
    assert_eq!(run(F::Log10, &[Value::Int(1000)]), Value::Double(3.0));
    assert_eq!(run(F::Exp, &[Value::Int(0)]), Value::Double(1.0));
    assert_eq!(run(F::Ln, &[Value::Double(1.0)]), Value::Double(0.0));
    assert_eq!(fails(F::Ln, &[Value::Int(0)]), ErrorKind::Arithmetic);
    assert_eq!(fails(F::Sqrt, &[Value::Int(-1)]), ErrorKind::Arithmetic);
    assert_eq!(fails(F::Power, &[Value::Double(1e300), Value::Int(2)]), ErrorKind::Arithmetic);
}

#[test]
fn string_functions() {
    use ScalarFunction as F;
    assert_eq!(run(F::CharLength, &[s("héllo")]), Value::Int(5));
    assert_eq!(run(F::Upper, &[s("abc")]), s("ABC"));
    assert_eq!(run(F::Lower, &[s("ÀBC")]), s("àbc"));
    assert_eq!(run(F::Initcap, &[s("hello wORLD-foo")]), s("Hello World-Foo"));
    assert_eq!(run(F::Substring, &[s("Hello"), Value::Int(2), Value::Int(3)]), s("ell"));
    assert_eq!(run(F::Substring, &[s("Hello"), Value::Int(0), Value::Int(3)]), s("He"));
    assert_eq!(run(F::Substring, &[s("Hello"), Value::Int(4)]), s("lo"));
    assert_eq!(run(F::Substring, &[s("Hello"), Value::Int(9)]), s(""));
    assert_eq!(fails(F::Substring, &[s("Hello"), Value::Int(1), Value::Int(-1)]), ErrorKind::Function);
    assert_eq!(run(F::Position, &[s("l"), s("héllo")]), Value::Int(3));
    assert_eq!(run(F::Position, &[s("z"), s("hello")]), Value::Int(0));
    assert_eq!(run(F::Position, &[s(""), s("hello")]), Value::Int(1));
    assert_eq!(run(F::Trim(TrimSide::Both), &[s("  a b  ")]), s("a b"));
    assert_eq!(run(F::Trim(TrimSide::Leading), &[s("xxaxx"), s("x")]), s("axx"));
    assert_eq!(run(F::Trim(TrimSide::Trailing), &[s("xxaxx"), s("x")]), s("xxa"));
    assert_eq!(fails(F::Trim(TrimSide::Both), &[s("xxaxx"), s("xy")]), ErrorKind::Function);
    assert_eq!(concat(&s("ab"), &s("cd")), Ok(s("abcd")));
    assert_eq!(concat(&s("ab"), &Value::Null), Ok(Value::Null));
    assert_eq!(concat(&Value::Bin(vec![1].into()), &Value::Bin(vec![2].into())), Ok(Value::Bin(vec![1, 2].into())));
}

#[test]
fn overlay_follows_sqlref_examples() {
    let overlay = |start: i64, length: Option<i64>| {
        let mut args = vec![s("12345"), s("foo"), Value::Int(start)];
        args.extend(length.map(Value::Int));
        run(ScalarFunction::Overlay, &args)
    };
    assert_eq!(overlay(1, None), s("foo45"));
    assert_eq!(overlay(0, None), s("foo345"));
    assert_eq!(overlay(-2, None), s("foo12345"));
    assert_eq!(overlay(4, None), s("123foo"));
    assert_eq!(overlay(17, None), s("12345foo"));
    assert_eq!(overlay(2, Some(0)), s("1foo2345"));
    assert_eq!(overlay(2, Some(2)), s("1foo45"));
    assert_eq!(overlay(2, Some(9)), s("1foo"));
    assert_eq!(
        fails(ScalarFunction::Overlay, &[s("12345"), s("foo"), Value::Int(1), Value::Int(-1)]),
        ErrorKind::Function
    );
}

#[test]
fn regex_replace_with_java_replacements() {
    let replace = |text: &str, regex: &str, replacement: &str, start: i64, occurrence: i64| {
        run(
            ScalarFunction::RegexReplace,
            &[s(text), s(regex), s(replacement), Value::Int(start), Value::Int(occurrence)],
        )
    };
    assert_eq!(replace("abcabc", "b", "X", 1, 0), s("aXcaXc"));
    assert_eq!(replace("abcabc", "b", "X", 1, 2), s("abcaXc"));
    assert_eq!(replace("abcabc", "b", "X", 3, 0), s("abcaXc"));
    assert_eq!(replace("john smith", "(\\w+) (\\w+)", "$2, $1", 1, 0), s("smith, john"));
    assert_eq!(replace("a1", "(\\d)", "$1a", 1, 0), s("a1a"));
    assert_eq!(replace("price", "i", "\\$", 1, 0), s("pr$ce"));
    assert_eq!(
        fails(ScalarFunction::RegexReplace, &[s("a"), s("("), s("x"), Value::Int(1), Value::Int(0)]),
        ErrorKind::Function
    );
    assert_eq!(
        fails(ScalarFunction::RegexReplace, &[s("a"), s("a"), s("x"), Value::Int(0), Value::Int(0)]),
        ErrorKind::Function
    );
}

#[test]
fn string_results_past_the_value_bound_are_error_rows() {
    use crate::limits::VALUE_BYTES_MAX;
    let half = "a".repeat(VALUE_BYTES_MAX / 2 + 1);
    // Every position matches the empty pattern: the result would be 1 MiB × 1 KiB.
    let kilobyte = "b".repeat(1024);
    assert_eq!(
        fails(ScalarFunction::RegexReplace, &[s(&half), s(""), s(&kilobyte), Value::Int(1), Value::Int(0)]),
        ErrorKind::ResourceLimit
    );
    assert_eq!(
        fails(ScalarFunction::RegexReplace, &[s(&half), s("(a+)"), s("$1$1"), Value::Int(1), Value::Int(1)]),
        ErrorKind::ResourceLimit
    );
    assert_eq!(concat(&s(&half), &s(&half)).map_err(|e| e.kind), Err(ErrorKind::ResourceLimit));
    assert_eq!(
        fails(ScalarFunction::Overlay, &[s(&half), s(&half), Value::Int(1), Value::Int(0)]),
        ErrorKind::ResourceLimit
    );
    // Up to the bound, results are whole.
    let Value::Str(joined) = concat(&s(&half[1..]), &s(&half[1..])).unwrap() else { panic!() };
    assert_eq!(joined.len(), VALUE_BYTES_MAX);
    assert_eq!(
        run(ScalarFunction::RegexReplace, &[s("aaa"), s(""), s("-"), Value::Int(1), Value::Int(0)]),
        s("-a-a-a-")
    );
}

#[test]
fn like_and_similar_to() {
    let like = |value: &str, pattern: &str, escape: Option<char>| {
        matches_pattern(PatternKind::Like, &s(value), &s(pattern), escape).unwrap().unwrap()
    };
    assert!(like("abc", "a%", None));
    assert!(like("abc", "_b_", None));
    assert!(!like("abc", "b%", None));
    assert!(like("a.c", "a.c", None));
    assert!(!like("abc", "a.c", None));
    assert!(like("50%", "50!%", Some('!')));
    assert!(!like("500", "50!%", Some('!')));
    assert!(like("line\nbreak", "line%", None));
    assert!(matches_pattern(PatternKind::Like, &s("a"), &s("a!"), Some('!')).is_err());
    assert_eq!(matches_pattern(PatternKind::Like, &Value::Null, &s("a"), None), Ok(None));
    let similar = |value: &str, pattern: &str| {
        matches_pattern(PatternKind::SimilarTo, &s(value), &s(pattern), None).unwrap().unwrap()
    };
    assert!(similar("abc", "(a|x)%"));
    assert!(similar("aaa", "a+"));
    assert!(!similar("ab", "a+"));
    assert!(similar("b7", "[a-c][0-9]"));
    assert!(similar("a.b", "a.b"));
    assert!(!similar("axb", "a.b"));
    assert!(matches_pattern(PatternKind::SimilarTo, &s("a"), &s("[a"), None).is_err());
}

#[test]
fn pattern_cache_stays_bounded() {
    for n in 0..(pattern::PATTERN_CACHE_MAX * 2) {
        let pattern = format!("{n}%");
        assert_eq!(matches_pattern(PatternKind::Like, &s(&format!("{n}x")), &s(&pattern), None), Ok(Some(true)));
        assert!(pattern::cached_patterns() <= pattern::PATTERN_CACHE_MAX);
    }
    assert!(pattern::cached_patterns() > 0);
}

fn extract(unit: TimeUnit, value: &Value) -> Value {
    run(ScalarFunction::Extract(unit), std::slice::from_ref(value))
}

#[test]
fn extract_follows_sqlref() {
    let at = ts("2016-09-23 04:29:26.234");
    assert_eq!(extract(TimeUnit::Minute, &at), Value::Int(29));
    assert_eq!(extract(TimeUnit::Hour, &at), Value::Int(4));
    assert_eq!(extract(TimeUnit::Year, &at), Value::Int(2016));
    assert_eq!(extract(TimeUnit::Second, &at), Value::Decimal(26_234, 3));
    // INTERVAL '2 3:4:5.678' DAY TO SECOND
    let interval = Value::Interval(2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5_678);
    assert_eq!(extract(TimeUnit::Day, &interval), Value::Int(2));
    assert_eq!(extract(TimeUnit::Hour, &interval), Value::Int(3));
    assert_eq!(extract(TimeUnit::Minute, &interval), Value::Int(4));
    assert_eq!(extract(TimeUnit::Second, &interval), Value::Decimal(5_678, 3));
    assert_eq!(extract(TimeUnit::Month, &Value::Date(31)), Value::Int(2));
}

#[test]
fn current_time_functions_read_the_step_time() {
    assert_eq!(run(ScalarFunction::CurrentTimestamp, &[]), Value::Timestamp(NOW.now_ms));
    assert_eq!(run(ScalarFunction::CurrentDate, &[]), Value::Date(17_074));
    assert_eq!(run(ScalarFunction::CurrentTime, &[]), Value::Time(((4 * 60 + 28) * 60 + 23) * 1000 + 456));
}

#[test]
fn tsdiff_is_end_minus_start() {
    assert_eq!(
        run(ScalarFunction::Tsdiff, &[ts("2020-01-01 00:00:00"), ts("2020-01-01 00:00:01.5")]),
        Value::Int(1_500)
    );
    assert_eq!(run(ScalarFunction::Tsdiff, &[Value::Int(10), Value::Int(4)]), Value::Int(-6));
}

#[test]
fn java_date_patterns_format_and_parse() {
    let format = |pattern: &str, at: &str| run(ScalarFunction::TimestampToChar, &[s(pattern), ts(at)]);
    assert_eq!(format("yyyy-MM-dd HH:mm:ss", "2009-09-16 15:15:24"), s("2009-09-16 15:15:24"));
    assert_eq!(format("yyyy-MM-dd hh:mm:ss a", "2009-09-16 15:15:24"), s("2009-09-16 03:15:24 PM"));
    assert_eq!(format("dd MMM yy, EEE", "2009-09-16 15:15:24"), s("16 Sep 09, Wed"));
    assert_eq!(format("MMMM d 'at' H'h' SSS", "2009-09-06 05:15:24.07"), s("September 6 at 5h 070"));
    assert_eq!(format("''yyyy''", "2009-09-06 05:15:24"), s("'2009'"));
    assert_eq!(fails(ScalarFunction::TimestampToChar, &[s("yyyy-ww"), ts("2009-09-06 05:15:24")]), ErrorKind::Function);
    let parse = |pattern: &str, text: &str| run(ScalarFunction::CharToTimestamp, &[s(pattern), s(text)]);
    // SQLREF CHAR_TO_TIMESTAMP: fields the pattern leaves out take their defaults.
    assert_eq!(parse("yyyy-MM-dd hh:mm:ss", "2009-09-16 03:15:24"), ts("2009-09-16 03:15:24"));
    assert_eq!(parse("yyyy-MM", "2009-09"), ts("2009-09-01 00:00:00"));
    assert_eq!(parse("yyyyMMddHHmmss", "20090916151524"), ts("2009-09-16 15:15:24"));
    assert_eq!(parse("dd/MMM/yyyy:HH:mm:ss Z", "10/Oct/2000:13:55:36 -0700"), ts("2000-10-10 20:55:36"));
    assert_eq!(parse("hh:mm a", "12:30 AM"), ts("1970-01-01 00:30:00"));
    assert_eq!(parse("hh:mm a", "01:30 PM"), ts("1970-01-01 13:30:00"));
    assert_eq!(parse("yyyy-MM-dd hh:mm:ss", "2009-09-16 15:15:24"), ts("2009-09-16 15:15:24"));
    assert_eq!(fails(ScalarFunction::CharToTimestamp, &[s("hh:mm a"), s("13:30 PM")]), ErrorKind::Function);
    assert_eq!(fails(ScalarFunction::CharToTimestamp, &[s("HH:mm"), s("24:30")]), ErrorKind::Function);
    assert_eq!(parse("yyyy-MM-dd HH:mm:ss.SSS", "2009-09-16 15:15:24.5"), ts("2009-09-16 15:15:24.005"));
    assert_eq!(fails(ScalarFunction::CharToTimestamp, &[s("yyyy-MM-dd"), s("2009-13-01")]), ErrorKind::Function);
    assert_eq!(fails(ScalarFunction::CharToTimestamp, &[s("yyyy-MM-dd"), s("yesterday")]), ErrorKind::Function);
    assert_eq!(run(ScalarFunction::CharToDate, &[s("yyyy-MM-dd"), s("1970-01-03")]), Value::Date(2));
    assert_eq!(run(ScalarFunction::DateToChar, &[s("dd/MM/yyyy"), Value::Date(2)]), s("03/01/1970"));
    assert_eq!(run(ScalarFunction::TimeToChar, &[s("HH:mm"), Value::Time(3_720_000)]), s("01:02"));
    assert_eq!(run(ScalarFunction::ToTimestamp, &[Value::Int(1_500)]), Value::Timestamp(1_500));
    assert_eq!(run(ScalarFunction::UnixTimestamp, &[Value::Timestamp(1_500)]), Value::Int(1_500));
    assert_eq!(run(ScalarFunction::ToTimestamp, &[Value::Null]), Value::Null);
    assert_eq!(run(ScalarFunction::CharToTime, &[s("HH:mm"), s("01:02")]), Value::Time(3_720_000));
}

#[test]
fn casts_between_types() {
    assert_eq!(cast(&s(" 42 "), SqlType::Integer), Ok(Value::Int(42)));
    assert_eq!(cast(&s("4.2"), SqlType::Integer).unwrap_err().kind, ErrorKind::Coercion);
    assert_eq!(cast(&Value::Int(300), SqlType::TinyInt).unwrap_err().kind, ErrorKind::Coercion);
    assert_eq!(cast(&Value::Double(-2.7), SqlType::Integer), Ok(Value::Int(-2)));
    assert_eq!(cast(&Value::Decimal(-299, 2), SqlType::Integer), Ok(Value::Int(-2)));
    assert_eq!(cast(&s("12.345"), SqlType::Decimal { precision: 5, scale: 2 }), Ok(Value::Decimal(1235, 2)));
    assert_eq!(cast(&s("-0.005"), SqlType::Decimal { precision: 5, scale: 2 }), Ok(Value::Decimal(-1, 2)));
    assert_eq!(
        cast(&Value::Int(1234), SqlType::Decimal { precision: 5, scale: 2 }).unwrap_err().kind,
        ErrorKind::Coercion
    );
    assert_eq!(
        cast(&Value::Decimal(12345, 3), SqlType::Decimal { precision: 5, scale: 1 }),
        Ok(Value::Decimal(123, 1))
    );
    assert_eq!(cast(&Value::Double(1.5), SqlType::Decimal { precision: 5, scale: 0 }), Ok(Value::Decimal(2, 0)));
    assert_eq!(cast(&s("1e3"), SqlType::Double), Ok(Value::Double(1000.0)));
    assert_eq!(cast(&Value::Double(1e300), SqlType::Real).unwrap_err().kind, ErrorKind::Coercion);
    assert_eq!(cast(&Value::Int(7), SqlType::Varchar(4)), Ok(s("7")));
    assert_eq!(cast(&Value::Int(7), SqlType::Char(3)), Ok(s("7  ")));
    assert_eq!(cast(&Value::Decimal(-5, 2), SqlType::Varchar(8)), Ok(s("-0.05")));
    assert_eq!(cast(&Value::Double(100.0), SqlType::Varchar(16)), Ok(s("100.0")));
    assert_eq!(cast(&Value::Double(1.5e10), SqlType::Varchar(16)), Ok(s("1.5E10")));
    assert_eq!(cast(&s("abcdef"), SqlType::Varchar(3)), Ok(s("abc")));
    // SQLREF CAST: a date does not fit VARCHAR(9).
    assert_eq!(cast(&Value::Date(14_114), SqlType::Varchar(10)), Ok(s("2008-08-23")));
    assert_eq!(cast(&Value::Date(14_114), SqlType::Varchar(9)).unwrap_err().kind, ErrorKind::Coercion);
    assert_eq!(cast(&s("2008-08-23 01:02:03.5"), SqlType::Timestamp), Ok(ts("2008-08-23 01:02:03.500")));
    assert_eq!(cast(&ts("2008-08-23 01:02:03"), SqlType::Varchar(32)), Ok(s("2008-08-23 01:02:03")));
    assert_eq!(cast(&ts("2008-08-23 01:02:03.25"), SqlType::Varchar(32)), Ok(s("2008-08-23 01:02:03.250")));
    assert_eq!(cast(&ts("2008-08-23 01:02:03"), SqlType::Date), Ok(Value::Date(14_114)));
    assert_eq!(cast(&ts("2008-08-23 01:02:03"), SqlType::Time), Ok(Value::Time(3_723_000)));
    assert_eq!(cast(&s("01:02:03"), SqlType::Time), Ok(Value::Time(3_723_000)));
    assert_eq!(cast(&s("not a date"), SqlType::Date).unwrap_err().kind, ErrorKind::Coercion);
    assert_eq!(cast(&s(" true "), SqlType::Boolean), Ok(Value::Bool(true)));
    assert_eq!(cast(&s("maybe"), SqlType::Boolean).unwrap_err().kind, ErrorKind::Coercion);
    assert_eq!(cast(&Value::Bool(false), SqlType::Varchar(5)), Ok(s("FALSE")));
    assert_eq!(cast(&Value::Bin(vec![1].into()), SqlType::Binary(3)), Ok(Value::Bin(vec![1, 0, 0].into())));
    assert_eq!(cast(&Value::Interval(90_500), SqlType::Varchar(32)), Ok(s("0 00:01:30.500")));
    assert_eq!(cast(&Value::Null, SqlType::Integer), Ok(Value::Null));
}

#[test]
fn compare_orders_across_numeric_kinds() {
    use std::cmp::Ordering;
    assert_eq!(compare(&Value::Int(1), &Value::Decimal(150, 2)), Some(Ordering::Less));
    assert_eq!(compare(&Value::Double(1.5), &Value::Decimal(150, 2)), Some(Ordering::Equal));
    assert_eq!(compare(&s("ab "), &s("ab")), Some(Ordering::Equal));
    assert_eq!(compare(&Value::Null, &Value::Int(1)), None);
    assert_eq!(compare(&s("1"), &Value::Int(1)), None);
}

#[test]
fn signatures_check_argument_types() {
    use ScalarFunction as F;
    assert_eq!(F::Step.result_type(&[SqlType::Timestamp, SqlType::IntervalDayTime]), Ok(SqlType::Timestamp));
    assert_eq!(F::Step.result_type(&[SqlType::SmallInt, SqlType::Integer]), Ok(SqlType::SmallInt));
    assert!(F::Step.result_type(&[SqlType::Timestamp, SqlType::Integer]).is_err());
    assert_eq!(F::Upper.result_type(&[SqlType::Char(4)]), Ok(SqlType::Varchar(4)));
    assert!(F::Upper.result_type(&[SqlType::Integer]).is_err());
    assert!(F::Upper.result_type(&[]).is_err());
    assert_eq!(F::Coalesce.result_type(&[SqlType::Integer, SqlType::BigInt]), Ok(SqlType::BigInt));
    assert!(F::Coalesce.result_type(&[SqlType::Integer, SqlType::Varchar(3)]).is_err());
    assert_eq!(
        F::Extract(TimeUnit::Second).result_type(&[SqlType::Timestamp]),
        Ok(SqlType::Decimal { precision: 5, scale: 3 })
    );
    assert!(F::Extract(TimeUnit::Hour).result_type(&[SqlType::Date]).is_err());
    assert_eq!(F::Tsdiff.result_type(&[SqlType::BigInt, SqlType::BigInt]), Ok(SqlType::BigInt));
}

mod property {
    use proptest::prelude::*;

    use super::super::*;
    use super::like_reference;
    use crate::value::{SqlType, Value};

    fn every_function() -> Vec<ScalarFunction> {
        use crate::plan::TimeUnit as U;
        use ScalarFunction as F;
        let units = [U::Second, U::Minute, U::Hour, U::Day, U::Month, U::Year];
        let mut all = vec![
            F::Step,
            F::CharLength,
            F::Lower,
            F::Upper,
            F::Initcap,
            F::Substring,
            F::Position,
            F::Trim(TrimSide::Both),
            F::Trim(TrimSide::Leading),
            F::Trim(TrimSide::Trailing),
            F::Overlay,
            F::RegexReplace,
            F::Abs,
            F::Ceil,
            F::Floor,
            F::Mod,
            F::Power,
            F::Round,
            F::Ln,
            F::Log10,
            F::Exp,
            F::Sqrt,
            F::CurrentTimestamp,
            F::CurrentDate,
            F::CurrentTime,
            F::CharToTimestamp,
            F::CharToDate,
            F::CharToTime,
            F::TimestampToChar,
            F::DateToChar,
            F::TimeToChar,
            F::ToTimestamp,
            F::UnixTimestamp,
            F::Tsdiff,
            F::Coalesce,
            F::Nullif,
        ];
        for unit in units {
            all.extend([F::FloorTo(unit), F::CeilTo(unit), F::Extract(unit)]);
        }
        all
    }

    fn extreme_values() -> Vec<Value> {
        let mut values = vec![Value::Null, Value::Str("x".into()), Value::Str("yyyy".into())];
        for n in [i64::MIN, i64::MIN + 1, -1, 0, 1, 7, i64::MAX] {
            values.extend([Value::Int(n), Value::Timestamp(n), Value::Interval(n)]);
        }
        for day in [i32::MIN, 0, i32::MAX] {
            values.push(Value::Date(day));
        }
        values.extend([Value::Time(0), Value::Time(u32::MAX)]);
        for unscaled in [i128::MIN, -1, i128::MAX] {
            values.extend([Value::Decimal(unscaled, 0), Value::Decimal(unscaled, 38)]);
        }
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -0.0, 1e300] {
            values.extend([Value::Double(v), Value::Real(v as f32)]);
        }
        values
    }

    proptest! {
        #[test]
        fn date_patterns_never_panic(pattern in ".{0,40}", text in ".{0,40}", ms in any::<i64>()) {
            let format = Value::Str(pattern.clone().into());
            let _ = call(ScalarFunction::TimestampToChar, &[format.clone(), Value::Timestamp(ms)], CallContext { now_ms: 0 });
            let _ = call(ScalarFunction::CharToTimestamp, &[format, Value::Str(text.into())], CallContext { now_ms: 0 });
        }

        #[test]
        fn patterns_never_panic(value in ".{0,20}", pattern in ".{0,20}", escape in proptest::option::of(any::<char>())) {
            let (value, pattern) = (Value::Str(value.into()), Value::Str(pattern.into()));
            let _ = matches_pattern(crate::plan::PatternKind::Like, &value, &pattern, escape);
            let _ = matches_pattern(crate::plan::PatternKind::SimilarTo, &value, &pattern, escape);
        }

        #[test]
        fn casts_from_text_never_panic(text in ".{0,30}") {
            for to in [SqlType::Integer, SqlType::Decimal { precision: 19, scale: 4 }, SqlType::Double, SqlType::Date,
                       SqlType::Time, SqlType::Timestamp, SqlType::Boolean, SqlType::Char(3)] {
                let _ = cast(&Value::Str(text.clone().into()), to);
            }
        }

        /// The LIKE translation agrees with a direct matcher (a reference written from
        /// the standard's definition) over a small alphabet where collisions are common.
        #[test]
        fn like_agrees_with_a_direct_matcher(value in "[ab%_!.]{0,8}", pattern in "[ab%_!.]{0,6}") {
            let expected = like_reference(&value.chars().collect::<Vec<_>>(), &pattern.chars().collect::<Vec<_>>());
            let got = matches_pattern(
                crate::plan::PatternKind::Like,
                &Value::Str(value.clone().into()),
                &Value::Str(pattern.clone().into()),
                Some('!'),
            );
            match expected {
                Some(expected) => prop_assert_eq!(got, Ok(Some(expected))),
                None => prop_assert!(got.is_err()),
            }
        }

        #[test]
        fn date_patterns_round_trip(ms in 0i64..253_402_300_799_999) {
            let pattern = Value::Str("yyyy-MM-dd HH:mm:ss.SSS".into());
            let context = CallContext { now_ms: 0 };
            let text = call(ScalarFunction::TimestampToChar, &[pattern.clone(), Value::Timestamp(ms)], context).unwrap();
            prop_assert_eq!(call(ScalarFunction::CharToTimestamp, &[pattern, text], context), Ok(Value::Timestamp(ms)));
        }

        /// Every function over arguments at the extremes of their types (i64::MIN and
        /// MAX as integers, timestamps and intervals; NaN, infinities): an error row,
        /// never a panic or a wrapped result.
        #[test]
        fn functions_never_panic_at_the_extremes(
            function in prop::sample::select(every_function()),
            args in prop::collection::vec(prop::sample::select(extreme_values()), 0..5),
        ) {
            let _ = call(function, &args, CallContext { now_ms: i64::MAX });
            let _ = call(function, &args, CallContext { now_ms: i64::MIN });
        }

        #[test]
        fn timestamp_text_round_trips(ms in -30_000_000_000_000i64..30_000_000_000_000) {
            let text = cast::timestamp_text(ms).unwrap();
            prop_assert_eq!(cast::parse_timestamp(&text), Some(ms));
        }
    }
}

/// LIKE with `!` as the escape character, by recursion on the pattern: `None` when the
/// pattern has an invalid escape.
fn like_reference(value: &[char], pattern: &[char]) -> Option<bool> {
    match pattern.split_first() {
        None => Some(value.is_empty()),
        Some(('!', rest)) => match rest.split_first() {
            Some((c, rest)) if matches!(c, '%' | '_' | '!') => {
                let matched = value.first() == Some(c) && like_reference(&value[1..], rest)?;
                // An invalid escape later in the pattern is an error whatever the value.
                like_reference(&[], rest)?;
                Some(matched)
            }
            _ => None,
        },
        Some(('%', rest)) => {
            let mut any = false;
            for skip in 0..=value.len() {
                any |= like_reference(&value[skip..], rest)?;
            }
            Some(any)
        }
        Some(('_', rest)) => {
            like_reference(&[], rest)?;
            Some(!value.is_empty() && like_reference(&value[1..], rest)?)
        }
        Some((c, rest)) => {
            like_reference(&[], rest)?;
            Some(value.first() == Some(c) && like_reference(&value[1..], rest)?)
        }
    }
}
