//! The argument and result types of each scalar function (SQLREF's function pages;
//! where they are silent, SQL:2011's).

use super::types::{common_type, is_integer, is_numeric, is_string, string_length};
use super::{ScalarFunction, TrimSide, TEXT_RESULT_LENGTH};
use crate::plan::TimeUnit;
use crate::value::SqlType;

pub fn result_type(function: ScalarFunction, args: &[SqlType]) -> Result<SqlType, String> {
    use ScalarFunction as F;
    use SqlType::{BigInt, Date, Double, Integer, IntervalDayTime, Time, Timestamp, Varchar};
    match (function, args) {
        (F::Step, [Timestamp, IntervalDayTime]) => Ok(Timestamp),
        (F::Step, [x, width]) if is_integer(*x) && is_integer(*width) => Ok(*x),
        (F::Step, _) => Err(expected("(TIMESTAMP BY INTERVAL) or (integer BY integer)", args)),
        (F::FloorTo(_) | F::CeilTo(_), [Timestamp]) => Ok(Timestamp),
        (F::FloorTo(unit) | F::CeilTo(unit), [Date])
            if matches!(unit, TimeUnit::Day | TimeUnit::Month | TimeUnit::Year) =>
        {
            Ok(Date)
        }
        (F::FloorTo(_) | F::CeilTo(_), _) => Err(expected("a TIMESTAMP", args)),
        (F::CharLength, [s]) if is_string(*s) => Ok(Integer),
        (F::Lower | F::Upper | F::Initcap, [s]) if is_string(*s) => Ok(Varchar(string_length(*s))),
        (F::Substring, [s, start]) if is_string(*s) && is_integer(*start) => Ok(Varchar(string_length(*s))),
        (F::Substring, [s, start, length]) if is_string(*s) && is_integer(*start) && is_integer(*length) => {
            Ok(Varchar(string_length(*s)))
        }
        (F::Position, [needle, haystack]) if is_string(*needle) && is_string(*haystack) => Ok(Integer),
        (F::Trim(_), [s]) if is_string(*s) => Ok(Varchar(string_length(*s))),
        (F::Trim(_), [s, characters]) if is_string(*s) && is_string(*characters) => Ok(Varchar(string_length(*s))),
        (F::Overlay, [s, placing, start]) if is_string(*s) && is_string(*placing) && is_integer(*start) => {
            Ok(Varchar(string_length(*s).saturating_add(string_length(*placing))))
        }
        (F::Overlay, [s, placing, start, length])
            if is_string(*s) && is_string(*placing) && is_integer(*start) && is_integer(*length) =>
        {
            Ok(Varchar(string_length(*s).saturating_add(string_length(*placing))))
        }
        (F::RegexReplace, [s, regex, replacement, start, occurrence])
            if is_string(*s)
                && is_string(*regex)
                && is_string(*replacement)
                && is_integer(*start)
                && is_integer(*occurrence) =>
        {
            Ok(Varchar(TEXT_RESULT_LENGTH))
        }
        (F::Abs | F::Ceil | F::Floor, [x]) if is_numeric(*x) => Ok(*x),
        (F::Round, [x]) if is_numeric(*x) => Ok(*x),
        (F::Round, [x, digits]) if is_numeric(*x) && is_integer(*digits) => Ok(*x),
        (F::Mod, [a, b]) if is_integer(*a) && is_integer(*b) => Ok(*b),
        (F::Power, [a, b]) if is_numeric(*a) && is_numeric(*b) => Ok(Double),
        (F::Ln | F::Log10 | F::Exp | F::Sqrt, [x]) if is_numeric(*x) => Ok(Double),
        (F::CurrentTimestamp, []) => Ok(Timestamp),
        (F::CurrentDate, []) => Ok(Date),
        (F::CurrentTime, []) => Ok(Time),
        (F::CharToTimestamp, [format, text]) if is_string(*format) && is_string(*text) => Ok(Timestamp),
        (F::CharToDate, [format, text]) if is_string(*format) && is_string(*text) => Ok(Date),
        (F::CharToTime, [format, text]) if is_string(*format) && is_string(*text) => Ok(Time),
        (F::TimestampToChar, [format, Timestamp]) if is_string(*format) => Ok(Varchar(TEXT_RESULT_LENGTH)),
        (F::DateToChar, [format, Date]) if is_string(*format) => Ok(Varchar(TEXT_RESULT_LENGTH)),
        (F::TimeToChar, [format, Time]) if is_string(*format) => Ok(Varchar(TEXT_RESULT_LENGTH)),
        // SQLREF TO_TIMESTAMP and UNIX_TIMESTAMP: epoch milliseconds as BIGINT.
        (F::ToTimestamp, [ms]) if is_integer(*ms) => Ok(Timestamp),
        (F::UnixTimestamp, [Timestamp]) => Ok(BigInt),
        // SQLREF gives TSDIFF's arguments as epoch milliseconds (BIGINT); TIMESTAMPs,
        // which are the same instants, are taken as well.
        (F::Tsdiff, [Timestamp, Timestamp]) => Ok(BigInt),
        (F::Tsdiff, [start, end]) if is_integer(*start) && is_integer(*end) => Ok(BigInt),
        // SQLREF EXTRACT: BIGINT, but SECOND is DECIMAL(5,3) with the milliseconds.
        (F::Extract(TimeUnit::Second), [Timestamp | Time | IntervalDayTime]) => Ok(SECONDS),
        (F::Extract(unit), [Timestamp | Date]) if unit_in_date(unit, args) => Ok(BigInt),
        (F::Extract(TimeUnit::Hour | TimeUnit::Minute), [Time]) => Ok(BigInt),
        (F::Extract(TimeUnit::Day | TimeUnit::Hour | TimeUnit::Minute), [IntervalDayTime]) => Ok(BigInt),
        (F::Coalesce, [first, rest @ ..]) => rest
            .iter()
            .try_fold(*first, |so_far, next| common_type(so_far, *next))
            .ok_or_else(|| expected("arguments of one type", args)),
        (F::Nullif, [a, b]) if common_type(*a, *b).is_some() => Ok(*a),
        _ => Err(expected(signature_text(function), args)),
    }
}

/// EXTRACT of a time field from a DATE has no meaning.
/// The type of `EXTRACT(SECOND FROM …)`.
pub const SECONDS: SqlType = SqlType::Decimal { precision: 5, scale: 3 };

fn unit_in_date(unit: TimeUnit, args: &[SqlType]) -> bool {
    args.first() != Some(&SqlType::Date) || matches!(unit, TimeUnit::Day | TimeUnit::Month | TimeUnit::Year)
}

fn signature_text(function: ScalarFunction) -> &'static str {
    use ScalarFunction as F;
    match function {
        F::CharLength | F::Lower | F::Upper | F::Initcap => "(string)",
        F::Substring => "(string FROM integer [FOR integer])",
        F::Position => "(string IN string)",
        F::Trim(TrimSide::Both | TrimSide::Leading | TrimSide::Trailing) => {
            "([BOTH|LEADING|TRAILING] [string FROM] string)"
        }
        F::Overlay => "(string PLACING string FROM integer [FOR integer])",
        F::RegexReplace => "(string, regex, replacement, start integer, occurrence integer)",
        F::Abs | F::Ceil | F::Floor | F::Ln | F::Log10 | F::Exp | F::Sqrt => "(number)",
        F::Round => "(number [, integer])",
        F::Mod => "(integer, integer)",
        F::Power => "(number, number)",
        F::CurrentTimestamp | F::CurrentDate | F::CurrentTime => "no arguments",
        F::CharToTimestamp | F::CharToDate | F::CharToTime => "(format string, text string)",
        F::TimestampToChar => "(format string, TIMESTAMP)",
        F::DateToChar => "(format string, DATE)",
        F::TimeToChar => "(format string, TIME)",
        F::ToTimestamp => "(BIGINT epoch milliseconds)",
        F::UnixTimestamp => "(TIMESTAMP)",
        F::Tsdiff => "(TIMESTAMP, TIMESTAMP) or (BIGINT, BIGINT)",
        F::Extract(_) => "(unit FROM TIMESTAMP, DATE, TIME or day-time INTERVAL)",
        F::Coalesce => "(value, ...) of one type",
        F::Nullif => "(value, value) of comparable types",
        F::Step => "(TIMESTAMP BY INTERVAL) or (integer BY integer)",
        F::FloorTo(_) | F::CeilTo(_) => "(TIMESTAMP TO unit)",
    }
}

fn expected(what: &str, args: &[SqlType]) -> String {
    let found: Vec<String> = args.iter().map(|ty| ty.to_string()).collect();
    format!("expected {what}, found ({})", found.join(", "))
}
