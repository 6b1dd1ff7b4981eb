//! The scalar functions of the dialect, CAST, and LIKE / SIMILAR TO matching: what an
//! expression does once its arguments are values. Signatures (argument and result
//! types) are checked by the compiler through [`ScalarFunction::result_type`]; the
//! executor calls [`call`], [`cast`] and [`matches_pattern`].

use crate::plan::{PatternKind, TimeUnit};
use crate::value::{ErrorKind, EvalError, SqlType, Value};

/// Every scalar function the compiler accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunction {
    /// `STEP(x BY width)` (arguments: x, width as interval or integer).
    Step,
    /// `FLOOR(x TO unit)`.
    FloorTo(TimeUnit),
    /// `CEIL(x TO unit)`.
    CeilTo(TimeUnit),
}

/// What a call needs beyond its arguments.
#[derive(Debug, Clone, Copy)]
pub struct CallContext {
    /// The step's time (CURRENT_ROW_TIMESTAMP).
    pub now_ms: i64,
}

impl ScalarFunction {
    /// The result type for these argument types, or why the call is refused.
    pub fn result_type(self, args: &[SqlType]) -> Result<SqlType, String> {
        // SKELETON: replaced by the SQL front end.
        let _ = args;
        Err(format!("{self:?} is not implemented yet"))
    }
}

/// Evaluates a call. NULL handling is the function's own (most return NULL on a NULL
/// argument; some, as TIMESTAMP_TO_CHAR, do not).
pub fn call(function: ScalarFunction, args: &[Value], context: CallContext) -> Result<Value, EvalError> {
    // SKELETON: replaced by the SQL front end.
    let _ = (args, context);
    Err(EvalError::new(ErrorKind::Function, format!("{function:?} is not implemented yet")))
}

/// `CAST(value AS to)`.
pub fn cast(value: &Value, to: SqlType) -> Result<Value, EvalError> {
    // SKELETON: replaced by the SQL front end.
    let _ = value;
    Err(EvalError::new(ErrorKind::Function, format!("CAST to {to:?} is not implemented yet")))
}

/// `value LIKE pattern [ESCAPE c]` or `value SIMILAR TO pattern`; `None` when either is NULL.
pub fn matches_pattern(
    kind: PatternKind,
    value: &Value,
    pattern: &Value,
    escape: Option<char>,
) -> Result<Option<bool>, EvalError> {
    // SKELETON: replaced by the SQL front end.
    let _ = (value, pattern, escape);
    Err(EvalError::new(ErrorKind::Function, format!("{kind:?} is not implemented yet")))
}
