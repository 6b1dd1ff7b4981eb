//! SQL types, values and rows: the leaf every other module of the crate shares.

use bytes::Bytes;

/// A column's declared SQL type. Lengths and precisions are those the application
/// declared (`VARCHAR(16)`), used when values are coerced into the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    /// DECIMAL(precision, scale).
    Decimal {
        precision: u8,
        scale: u8,
    },
    Char(u32),
    Varchar(u32),
    Binary(u32),
    Varbinary(u32),
    Date,
    Time,
    Timestamp,
    /// A day-time interval, in milliseconds (`INTERVAL '10' SECOND`).
    IntervalDayTime,
}

/// One SQL value. Every type of [`SqlType`] maps to exactly one variant; integers of
/// every width are held as `i64` and range-checked against their declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f32),
    Double(f64),
    /// Unscaled value and scale: `Decimal(12345, 2)` is 123.45.
    Decimal(i128, u8),
    /// UTF-8 text (CHAR, VARCHAR). Often a slice of the input record, so no copy.
    Str(Bytes),
    /// BINARY, VARBINARY.
    Bin(Bytes),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since midnight.
    Time(u32),
    /// Milliseconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// Milliseconds.
    Interval(i64),
}

/// The type as SQL writes it (`VARCHAR(16)`, `DECIMAL(8,2)`), for messages.
impl std::fmt::Display for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("BOOLEAN"),
            SqlType::TinyInt => f.write_str("TINYINT"),
            SqlType::SmallInt => f.write_str("SMALLINT"),
            SqlType::Integer => f.write_str("INTEGER"),
            SqlType::BigInt => f.write_str("BIGINT"),
            SqlType::Real => f.write_str("REAL"),
            SqlType::Double => f.write_str("DOUBLE"),
            SqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            SqlType::Char(length) => write!(f, "CHAR({length})"),
            SqlType::Varchar(length) => write!(f, "VARCHAR({length})"),
            SqlType::Binary(length) => write!(f, "BINARY({length})"),
            SqlType::Varbinary(length) => write!(f, "VARBINARY({length})"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::Time => f.write_str("TIME"),
            SqlType::Timestamp => f.write_str("TIMESTAMP"),
            SqlType::IntervalDayTime => f.write_str("INTERVAL DAY TO SECOND"),
        }
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// A row of an in-application stream. `ROWTIME` is held beside the values, not among
/// them: every stream has it, and it is never NULL.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row's ROWTIME, epoch ms.
    pub rowtime_ms: i64,
    /// The read epoch of the input records the row derives from (oldest, for aggregates):
    /// the runtime checkpoints only positions whose rows have left the application.
    pub epoch: u32,
    /// The values, in the stream's column order.
    pub values: Box<[Value]>,
}

/// Why a row went to `error_stream` instead of on. Rheo's own set: AWS never published
/// the names its ERROR_NAME column carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An input value did not fit its column's type.
    Coercion,
    /// An input record could not be parsed as the declared format.
    Parse,
    /// Overflow, division by zero, a value out of a function's domain.
    Arithmetic,
    /// NULL into a NOT NULL column.
    NotNull,
    /// A row above the size limit.
    RowTooLarge,
    /// A per-application bound (state bytes, groups) was reached.
    ResourceLimit,
    /// A function refused its arguments (bad pattern, bad format).
    Function,
}

impl ErrorKind {
    /// The text of the ERROR_NAME column.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Coercion => "COERCION",
            ErrorKind::Parse => "PARSE",
            ErrorKind::Arithmetic => "ARITHMETIC",
            ErrorKind::NotNull => "NOT_NULL",
            ErrorKind::RowTooLarge => "ROW_TOO_LARGE",
            ErrorKind::ResourceLimit => "RESOURCE_LIMIT",
            ErrorKind::Function => "FUNCTION",
        }
    }
}

/// A failure evaluating one row: the row goes to `error_stream`, the application goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub kind: ErrorKind,
    pub message: String,
}

impl EvalError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        EvalError { kind, message: message.into() }
    }
}

/// A row of `error_stream`, before it is made into that stream's columns (ERROR_TIME,
/// ERROR_LEVEL, ERROR_NAME, MESSAGE, DATA_ROWTIME, DATA_ROW, PUMP_NAME).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    pub kind: ErrorKind,
    pub message: String,
    /// When the error happened (the step's `now_ms`).
    pub error_time_ms: i64,
    /// The failed row's ROWTIME, when it had one.
    pub data_rowtime_ms: Option<i64>,
    /// The raw input record, or the failed row in a readable form.
    pub data: Bytes,
    /// The pump that failed; `None` for input mapping errors.
    pub pump: Option<String>,
    /// The read epoch of the record the error derives from.
    pub epoch: u32,
}
