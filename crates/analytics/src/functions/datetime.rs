//! Date and time functions: STEP, FLOOR/CEIL TO, EXTRACT, TSDIFF, the current time,
//! and the conversions with Java `SimpleDateFormat` patterns.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::args::{arg, int, mismatch, text};
use super::java_date;
use crate::plan::TimeUnit;
use crate::value::{ErrorKind, EvalError, SqlType, Value};

pub const MS_PER_DAY: i64 = 86_400_000;

fn out_of_range(what: &str) -> EvalError {
    EvalError::new(ErrorKind::Arithmetic, format!("{what}: timestamp out of range"))
}

/// The UTC date and time of epoch milliseconds.
pub fn naive(ms: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms).map(|at| at.naive_utc())
}

pub fn epoch_ms(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_millis()
}

pub fn epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Days since 1970-01-01 of a date.
pub fn days(date: NaiveDate) -> Option<i32> {
    i32::try_from(date.signed_duration_since(epoch_date()).num_days()).ok()
}

pub fn date_of_days(days: i32) -> Option<NaiveDate> {
    epoch_date().checked_add_signed(chrono::TimeDelta::try_days(i64::from(days))?)
}

/// `STEP(ts BY interval)`: the start of the epoch-aligned window of that width holding
/// `ts`; `STEP(n BY width)`: the multiple of `width` at or below `n`.
pub fn step(args: &[Value]) -> Result<Value, EvalError> {
    let (x, width) = (arg(args, 0, "STEP")?, arg(args, 1, "STEP")?);
    let (value, width, timestamp) = match (x, width) {
        (Value::Timestamp(ts), Value::Interval(width)) => (*ts, *width, true),
        (Value::Int(n), Value::Int(width)) => (*n, *width, false),
        (other, _) => return Err(mismatch("STEP", "(TIMESTAMP BY INTERVAL) or (integer BY integer)", other)),
    };
    if width <= 0 {
        return Err(EvalError::new(ErrorKind::Arithmetic, format!("STEP: width {width} is not positive")));
    }
    // Euclidean division so that windows before the epoch align like those after it.
    let start = value
        .div_euclid(width)
        .checked_mul(width)
        .ok_or_else(|| EvalError::new(ErrorKind::Arithmetic, format!("STEP: the window of {value} is out of range")))?;
    Ok(if timestamp { Value::Timestamp(start) } else { Value::Int(start) })
}

/// `FLOOR(x TO unit)` / `CEIL(x TO unit)` of a TIMESTAMP or DATE.
pub fn round_to(args: &[Value], unit: TimeUnit, ceil: bool) -> Result<Value, EvalError> {
    let what = if ceil { "CEIL" } else { "FLOOR" };
    match arg(args, 0, what)? {
        Value::Timestamp(ms) => {
            round_timestamp(*ms, unit, ceil).map(Value::Timestamp).ok_or_else(|| out_of_range(what))
        }
        Value::Date(day) => {
            let ms = i64::from(*day) * MS_PER_DAY;
            let rounded = round_timestamp(ms, unit, ceil).ok_or_else(|| out_of_range(what))?;
            i32::try_from(rounded.div_euclid(MS_PER_DAY)).map(Value::Date).map_err(|_| out_of_range(what))
        }
        other => Err(mismatch(what, "a TIMESTAMP or DATE", other)),
    }
}

/// FLOOR (or, with `ceil`, CEIL) of a timestamp to a unit: fixed widths on the epoch,
/// months and years on the UTC calendar. `None` out of the representable range.
pub fn round_timestamp(ms: i64, unit: TimeUnit, ceil: bool) -> Option<i64> {
    let fixed = match unit {
        TimeUnit::Second => Some(1_000),
        TimeUnit::Minute => Some(60_000),
        TimeUnit::Hour => Some(3_600_000),
        TimeUnit::Day => Some(MS_PER_DAY),
        TimeUnit::Month | TimeUnit::Year => None,
    };
    if let Some(width) = fixed {
        let floor = ms.div_euclid(width).checked_mul(width)?;
        return if ceil && floor != ms { floor.checked_add(width) } else { Some(floor) };
    }
    let at = naive(ms)?;
    let month = if unit == TimeUnit::Year { 1 } else { at.month() };
    let floor_date = NaiveDate::from_ymd_opt(at.year(), month, 1)?;
    let floor = epoch_ms(floor_date.and_hms_opt(0, 0, 0)?);
    if !ceil || floor == ms {
        return Some(floor);
    }
    let next = if unit == TimeUnit::Year {
        NaiveDate::from_ymd_opt(at.year() + 1, 1, 1)?
    } else {
        floor_date.checked_add_months(chrono::Months::new(1))?
    };
    Some(epoch_ms(next.and_hms_opt(0, 0, 0)?))
}

pub fn current_date(now_ms: i64) -> Result<Value, EvalError> {
    i32::try_from(now_ms.div_euclid(MS_PER_DAY)).map(Value::Date).map_err(|_| out_of_range("CURRENT_DATE"))
}

pub fn current_time(now_ms: i64) -> Value {
    Value::Time(now_ms.rem_euclid(MS_PER_DAY) as u32)
}

/// `TSDIFF(start, end)` = end − start, in milliseconds.
pub fn tsdiff(args: &[Value]) -> Result<Value, EvalError> {
    let millis = |value: &Value| match value {
        Value::Timestamp(ms) => Ok(*ms),
        other => int(other, "TSDIFF"),
    };
    let start = millis(arg(args, 0, "TSDIFF")?)?;
    let end = millis(arg(args, 1, "TSDIFF")?)?;
    end.checked_sub(start).map(Value::Int).ok_or_else(|| EvalError::new(ErrorKind::Arithmetic, "TSDIFF: overflow"))
}

/// `EXTRACT(unit FROM x)` of a TIMESTAMP, DATE, TIME or day-time interval: BIGINT, and
/// for SECOND the seconds with their milliseconds as DECIMAL(5,3) (SQLREF EXTRACT).
pub fn extract(args: &[Value], unit: TimeUnit) -> Result<Value, EvalError> {
    let at = match arg(args, 0, "EXTRACT")? {
        Value::Timestamp(ms) => naive(*ms).ok_or_else(|| out_of_range("EXTRACT"))?,
        Value::Date(day) => {
            date_of_days(*day).and_then(|date| date.and_hms_opt(0, 0, 0)).ok_or_else(|| out_of_range("EXTRACT"))?
        }
        Value::Time(ms) => naive(i64::from(*ms)).ok_or_else(|| out_of_range("EXTRACT"))?,
        Value::Interval(ms) => return extract_interval(*ms, unit),
        other => return Err(mismatch("EXTRACT", "a TIMESTAMP, DATE, TIME or interval", other)),
    };
    let field = match unit {
        TimeUnit::Year => i64::from(at.year()),
        TimeUnit::Month => i64::from(at.month()),
        TimeUnit::Day => i64::from(at.day()),
        TimeUnit::Hour => i64::from(at.hour()),
        TimeUnit::Minute => i64::from(at.minute()),
        TimeUnit::Second => {
            let millis = i128::from(at.second()) * 1000 + i128::from(at.nanosecond() / 1_000_000);
            return Ok(Value::Decimal(millis, 3));
        }
    };
    Ok(Value::Int(field))
}

/// A field of a day-time interval, signed like the interval.
fn extract_interval(ms: i64, unit: TimeUnit) -> Result<Value, EvalError> {
    let sign = ms.signum();
    let magnitude = ms.unsigned_abs();
    let field = match unit {
        TimeUnit::Day => magnitude / MS_PER_DAY as u64,
        TimeUnit::Hour => magnitude / 3_600_000 % 24,
        TimeUnit::Minute => magnitude / 60_000 % 60,
        TimeUnit::Second => return Ok(Value::Decimal(i128::from(sign) * i128::from(magnitude % 60_000), 3)),
        TimeUnit::Month | TimeUnit::Year => {
            return Err(mismatch("EXTRACT", "a day-time field of an interval", &Value::Interval(ms)))
        }
    };
    Ok(Value::Int(sign * field as i64))
}

/// `CHAR_TO_TIMESTAMP(format, text)` and its DATE and TIME siblings.
pub fn char_to(args: &[Value], to: SqlType) -> Result<Value, EvalError> {
    let format = text(arg(args, 0, "CHAR_TO_TIMESTAMP")?, "CHAR_TO_TIMESTAMP")?;
    let input = text(arg(args, 1, "CHAR_TO_TIMESTAMP")?, "CHAR_TO_TIMESTAMP")?;
    let ms = java_date::parse(format, input).map_err(|message| EvalError::new(ErrorKind::Function, message))?;
    Ok(match to {
        SqlType::Date => {
            Value::Date(i32::try_from(ms.div_euclid(MS_PER_DAY)).map_err(|_| out_of_range("CHAR_TO_DATE"))?)
        }
        SqlType::Time => Value::Time(ms.rem_euclid(MS_PER_DAY) as u32),
        _ => Value::Timestamp(ms),
    })
}

/// `TIMESTAMP_TO_CHAR(format, ts)`; a NULL timestamp gives the string `null` (SQLREF
/// TIMESTAMP_TO_CHAR note), a NULL format gives NULL.
pub fn timestamp_to_char(args: &[Value]) -> Result<Value, EvalError> {
    let format = match arg(args, 0, "TIMESTAMP_TO_CHAR")? {
        Value::Null => return Ok(Value::Null),
        format => text(format, "TIMESTAMP_TO_CHAR")?,
    };
    let ms = match arg(args, 1, "TIMESTAMP_TO_CHAR")? {
        Value::Null => return Ok(Value::Str("null".into())),
        Value::Timestamp(ms) => *ms,
        other => return Err(mismatch("TIMESTAMP_TO_CHAR", "a TIMESTAMP", other)),
    };
    let formatted = java_date::format(format, ms).map_err(|message| EvalError::new(ErrorKind::Function, message))?;
    Ok(Value::Str(formatted.into()))
}

/// `DATE_TO_CHAR(format, date)` and `TIME_TO_CHAR(format, time)`: the value as the
/// timestamp at its start (a date) or on the epoch's day (a time), formatted.
pub fn date_or_time_to_char(args: &[Value], what: &str) -> Result<Value, EvalError> {
    let format = text(arg(args, 0, what)?, what)?;
    let ms = match arg(args, 1, what)? {
        Value::Date(day) => i64::from(*day) * MS_PER_DAY,
        Value::Time(ms) => i64::from(*ms),
        other => return Err(mismatch(what, "a DATE or TIME", other)),
    };
    let formatted = java_date::format(format, ms).map_err(|message| EvalError::new(ErrorKind::Function, message))?;
    Ok(Value::Str(formatted.into()))
}
