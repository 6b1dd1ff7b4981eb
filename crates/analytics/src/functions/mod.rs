//! The scalar functions of the dialect, CAST, and LIKE / SIMILAR TO matching: what an
//! expression does once its arguments are values. Signatures (argument and result
//! types) are checked by the compiler through [`ScalarFunction::result_type`]; the
//! executor calls [`call`], [`cast()`], [`matches_pattern`] and [`concat()`].
//!
//! Every failure is an [`EvalError`] (the row goes to `error_stream`), never a panic.

mod args;
pub mod cast;
mod datetime;
mod java_date;
mod numeric;
mod pattern;
mod signature;
mod string;
#[cfg(test)]
mod tests;
pub mod types;

use crate::plan::TimeUnit;
use crate::value::{EvalError, SqlType, Value};

pub use args::compare;
pub use cast::cast;
pub use datetime::round_timestamp;
pub use pattern::matches_pattern;
pub use string::concat;

/// The declared length of text results whose length depends on the data
/// (REGEX_REPLACE, TIMESTAMP_TO_CHAR): the largest VARCHAR.
pub const TEXT_RESULT_LENGTH: u32 = 65_534;

/// Every scalar function the compiler accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunction {
    /// `STEP(x BY width)` (arguments: x, width as interval or integer).
    Step,
    /// `FLOOR(x TO unit)`.
    FloorTo(TimeUnit),
    /// `CEIL(x TO unit)`.
    CeilTo(TimeUnit),
    /// `CHAR_LENGTH(s)`, `CHARACTER_LENGTH(s)`.
    CharLength,
    Lower,
    Upper,
    Initcap,
    /// `SUBSTRING(s FROM start [FOR length])` or `SUBSTRING(s, start [, length])`.
    Substring,
    /// `POSITION(needle IN haystack)`.
    Position,
    /// `TRIM([side] [characters FROM] s)`: arguments s, then the characters if given.
    Trim(TrimSide),
    /// `OVERLAY(s PLACING r FROM start [FOR length])`.
    Overlay,
    /// `REGEX_REPLACE(s, regex, replacement, start, occurrence)`.
    RegexReplace,
    Abs,
    /// `CEIL(x)`, `CEILING(x)`.
    Ceil,
    Floor,
    Mod,
    Power,
    Round,
    Ln,
    Log10,
    Exp,
    Sqrt,
    /// `CURRENT_TIMESTAMP`, `LOCALTIMESTAMP` (UTC, so the same): the step's time.
    CurrentTimestamp,
    CurrentDate,
    /// `CURRENT_TIME`, `LOCALTIME`.
    CurrentTime,
    /// `CHAR_TO_TIMESTAMP(format, text)`.
    CharToTimestamp,
    /// `CHAR_TO_DATE(format, text)`.
    CharToDate,
    /// `CHAR_TO_TIME(format, text)`.
    CharToTime,
    /// `TIMESTAMP_TO_CHAR(format, ts)`.
    TimestampToChar,
    /// `DATE_TO_CHAR(format, date)`.
    DateToChar,
    /// `TIME_TO_CHAR(format, time)`.
    TimeToChar,
    /// `TO_TIMESTAMP(epoch_ms)`.
    ToTimestamp,
    /// `UNIX_TIMESTAMP(ts)`: epoch milliseconds.
    UnixTimestamp,
    /// `TSDIFF(start, end)`: end − start in milliseconds.
    Tsdiff,
    /// `EXTRACT(unit FROM x)`.
    Extract(TimeUnit),
    Coalesce,
    Nullif,
}

/// Which ends TRIM trims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimSide {
    Both,
    Leading,
    Trailing,
}

/// What a call needs beyond its arguments.
#[derive(Debug, Clone, Copy)]
pub struct CallContext {
    /// The step's time (CURRENT_ROW_TIMESTAMP).
    pub now_ms: i64,
}

impl ScalarFunction {
    /// The function called by this (upper-case) name with ordinary call syntax; the
    /// special forms (STEP, FLOOR … TO, EXTRACT, TRIM) are the parser's.
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name {
            "CHAR_LENGTH" | "CHARACTER_LENGTH" => ScalarFunction::CharLength,
            "LOWER" => ScalarFunction::Lower,
            "UPPER" => ScalarFunction::Upper,
            "INITCAP" => ScalarFunction::Initcap,
            "SUBSTRING" => ScalarFunction::Substring,
            "POSITION" => ScalarFunction::Position,
            "OVERLAY" => ScalarFunction::Overlay,
            "REGEX_REPLACE" => ScalarFunction::RegexReplace,
            "ABS" => ScalarFunction::Abs,
            "CEIL" | "CEILING" => ScalarFunction::Ceil,
            "FLOOR" => ScalarFunction::Floor,
            "MOD" => ScalarFunction::Mod,
            "POWER" => ScalarFunction::Power,
            "ROUND" => ScalarFunction::Round,
            "LN" => ScalarFunction::Ln,
            "LOG10" => ScalarFunction::Log10,
            "EXP" => ScalarFunction::Exp,
            "SQRT" => ScalarFunction::Sqrt,
            "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP" => ScalarFunction::CurrentTimestamp,
            "CURRENT_DATE" => ScalarFunction::CurrentDate,
            "CURRENT_TIME" | "LOCALTIME" => ScalarFunction::CurrentTime,
            "CHAR_TO_TIMESTAMP" => ScalarFunction::CharToTimestamp,
            "CHAR_TO_DATE" => ScalarFunction::CharToDate,
            "CHAR_TO_TIME" => ScalarFunction::CharToTime,
            "TIMESTAMP_TO_CHAR" => ScalarFunction::TimestampToChar,
            "DATE_TO_CHAR" => ScalarFunction::DateToChar,
            "TIME_TO_CHAR" => ScalarFunction::TimeToChar,
            "TO_TIMESTAMP" => ScalarFunction::ToTimestamp,
            "UNIX_TIMESTAMP" => ScalarFunction::UnixTimestamp,
            "TSDIFF" => ScalarFunction::Tsdiff,
            "COALESCE" => ScalarFunction::Coalesce,
            "NULLIF" => ScalarFunction::Nullif,
            _ => return None,
        })
    }

    /// The result type for these argument types, or why the call is refused.
    pub fn result_type(self, args: &[SqlType]) -> Result<SqlType, String> {
        signature::result_type(self, args)
    }
}

/// Evaluates a call. NULL handling is the function's own (most return NULL on a NULL
/// argument; some, as TIMESTAMP_TO_CHAR, do not).
pub fn call(function: ScalarFunction, args: &[Value], context: CallContext) -> Result<Value, EvalError> {
    use ScalarFunction as F;
    if !function.handles_nulls() && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    match function {
        F::Step => datetime::step(args),
        F::FloorTo(unit) => datetime::round_to(args, unit, false),
        F::CeilTo(unit) => datetime::round_to(args, unit, true),
        F::CharLength => string::char_length(args),
        F::Lower => string::map_text(args, str::to_lowercase),
        F::Upper => string::map_text(args, str::to_uppercase),
        F::Initcap => string::map_text(args, string::initcap),
        F::Substring => string::substring(args),
        F::Position => string::position(args),
        F::Trim(side) => string::trim(args, side),
        F::Overlay => string::overlay(args),
        F::RegexReplace => pattern::regex_replace(args),
        F::Abs => numeric::abs(args),
        F::Ceil => numeric::round_whole(args, true),
        F::Floor => numeric::round_whole(args, false),
        F::Mod => numeric::modulo(args),
        F::Power => numeric::binary_double(args, "POWER", f64::powf),
        F::Round => numeric::round(args),
        F::Ln => numeric::unary_double(args, "LN", f64::ln),
        F::Log10 => numeric::unary_double(args, "LOG10", f64::log10),
        F::Exp => numeric::unary_double(args, "EXP", f64::exp),
        F::Sqrt => numeric::unary_double(args, "SQRT", f64::sqrt),
        F::CurrentTimestamp => Ok(Value::Timestamp(context.now_ms)),
        F::CurrentDate => datetime::current_date(context.now_ms),
        F::CurrentTime => Ok(datetime::current_time(context.now_ms)),
        F::CharToTimestamp => datetime::char_to(args, SqlType::Timestamp),
        F::CharToDate => datetime::char_to(args, SqlType::Date),
        F::CharToTime => datetime::char_to(args, SqlType::Time),
        F::TimestampToChar => datetime::timestamp_to_char(args),
        F::DateToChar => datetime::date_or_time_to_char(args, "DATE_TO_CHAR"),
        F::TimeToChar => datetime::date_or_time_to_char(args, "TIME_TO_CHAR"),
        F::ToTimestamp => args::int(args::arg(args, 0, "TO_TIMESTAMP")?, "TO_TIMESTAMP").map(Value::Timestamp),
        F::UnixTimestamp => match args::arg(args, 0, "UNIX_TIMESTAMP")? {
            Value::Timestamp(ms) => Ok(Value::Int(*ms)),
            other => Err(args::mismatch("UNIX_TIMESTAMP", "a TIMESTAMP", other)),
        },
        F::Tsdiff => datetime::tsdiff(args),
        F::Extract(unit) => datetime::extract(args, unit),
        F::Coalesce => Ok(args.iter().find(|arg| !arg.is_null()).cloned().unwrap_or(Value::Null)),
        F::Nullif => numeric::nullif(args),
    }
}

impl ScalarFunction {
    /// True for the functions whose result on a NULL argument is not simply NULL.
    fn handles_nulls(self) -> bool {
        matches!(self, ScalarFunction::Coalesce | ScalarFunction::Nullif | ScalarFunction::TimestampToChar)
    }
}
