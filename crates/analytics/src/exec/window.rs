//! Window bounds of the progress keys: `STEP(ts BY width)` windows are aligned on the
//! Unix epoch (`floor(ts / width) * width`); `FLOOR(ts TO unit)` windows are one unit
//! long, months and years by the UTC calendar.

use crate::exec::compare::kind_name;
use crate::functions::round_timestamp;
use crate::plan::ProgressKey;
use crate::value::{ErrorKind, EvalError, Value};

const MS_PER_DAY: i64 = 86_400_000;

/// The window `[start, end)` of a timestamp (epoch ms) under a STEP or FLOOR key.
pub(crate) fn window_of(progress: &ProgressKey, value: &Value) -> Result<(i64, i64), EvalError> {
    let ts = match value {
        Value::Timestamp(ms) => *ms,
        Value::Date(days) => i64::from(*days) * MS_PER_DAY,
        Value::Null => {
            return Err(EvalError::new(ErrorKind::NotNull, "the window key is NULL, so the row belongs to no window"))
        }
        other => {
            return Err(EvalError::new(
                ErrorKind::Function,
                format!("a window key must be a timestamp, not {}", kind_name(other)),
            ))
        }
    };
    let out_of_range =
        || EvalError::new(ErrorKind::Arithmetic, format!("timestamp {ts} is out of the range of windows"));
    match progress {
        ProgressKey::Step { width_ms, .. } => {
            if *width_ms <= 0 {
                return Err(EvalError::new(ErrorKind::Function, "a STEP width must be positive"));
            }
            let start = ts.checked_sub(ts.rem_euclid(*width_ms)).ok_or_else(out_of_range)?;
            Ok((start, start.checked_add(*width_ms).ok_or_else(out_of_range)?))
        }
        ProgressKey::Floor { unit, .. } => {
            // One unit long, so the end is the next unit's start: the ceiling of the
            // window's first millisecond past its start.
            let start = round_timestamp(ts, *unit, false).ok_or_else(out_of_range)?;
            let end =
                start.checked_add(1).and_then(|next| round_timestamp(next, *unit, true)).ok_or_else(out_of_range)?;
            Ok((start, end))
        }
        ProgressKey::Monotonic(_) => Err(EvalError::new(ErrorKind::Function, "a MONOTONIC key has no window bounds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TimeUnit;
    use crate::plan::{Expr, ExprKind};
    use crate::value::SqlType;

    fn rowtime() -> Expr {
        Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp }
    }

    #[test]
    fn step_windows_align_on_the_epoch() {
        let step = ProgressKey::Step { expr: rowtime(), width_ms: 10_000 };
        assert_eq!(window_of(&step, &Value::Timestamp(12_345)).ok(), Some((10_000, 20_000)));
        assert_eq!(window_of(&step, &Value::Timestamp(20_000)).ok(), Some((20_000, 30_000)));
        assert_eq!(window_of(&step, &Value::Timestamp(-1)).ok(), Some((-10_000, 0)));
        assert!(window_of(&step, &Value::Null).is_err());
    }

    #[test]
    fn windows_past_the_timestamp_range_are_errors() {
        // i64::MIN's 7 ms window starts below i64::MIN; i64::MAX's 10 s window ends past it.
        let step = |width_ms| ProgressKey::Step { expr: rowtime(), width_ms };
        let kind = |progress: &ProgressKey, ms| window_of(progress, &Value::Timestamp(ms)).err().map(|e| e.kind);
        assert_eq!(kind(&step(7), i64::MIN), Some(ErrorKind::Arithmetic));
        assert_eq!(kind(&step(10_000), i64::MAX), Some(ErrorKind::Arithmetic));
        let second = ProgressKey::Floor { expr: rowtime(), unit: TimeUnit::Second };
        assert_eq!(kind(&second, i64::MIN), Some(ErrorKind::Arithmetic));
    }

    #[test]
    fn floor_to_month_follows_the_calendar() {
        let month = ProgressKey::Floor { expr: rowtime(), unit: TimeUnit::Month };
        // 2024-02-15T00:00:00Z; February 2024 has 29 days.
        let feb = 1_707_955_200_000;
        let (start, end) = window_of(&month, &Value::Timestamp(feb)).unwrap_or_default();
        assert_eq!(start, 1_706_745_600_000);
        assert_eq!(end, 1_709_251_200_000);
        let minute = ProgressKey::Floor { expr: rowtime(), unit: TimeUnit::Minute };
        assert_eq!(window_of(&minute, &Value::Timestamp(61_500)).ok(), Some((60_000, 120_000)));
    }
}
