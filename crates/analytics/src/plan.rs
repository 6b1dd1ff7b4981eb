//! The compiled form of an application's code: the contract between the SQL front end
//! ([`crate::sql`], which builds it) and the executor ([`crate::exec`], which runs it).
//!
//! Names are resolved (identifiers folded to upper case unless quoted), columns are
//! indexes, every expression carries its type, and only constructs the executor runs
//! appear: anything else was refused by the compiler with a `CodeValidationException`.

use crate::functions::ScalarFunction;
use crate::value::{SqlType, Value};

/// Index of a stream in [`AppPlan::streams`].
pub type StreamId = usize;

/// A whole application: its streams (inputs first, then `error_stream`, then those the
/// code creates, in code order) and its pumps (in code order).
#[derive(Debug, Clone, PartialEq)]
pub struct AppPlan {
    pub streams: Vec<StreamDef>,
    pub pumps: Vec<PumpPlan>,
}

impl AppPlan {
    /// The stream of this exact (already folded) name.
    pub fn stream_id(&self, exact_name: &str) -> Option<StreamId> {
        self.streams.iter().position(|stream| stream.name == exact_name)
    }

    /// The names of the streams the code creates (outputs may name only these and
    /// `error_stream`).
    pub fn created_streams(&self) -> impl Iterator<Item = &str> {
        self.streams.iter().filter(|stream| stream.kind == StreamKind::Created).map(|stream| stream.name.as_str())
    }
}

/// Where a stream's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// An input's in-application stream (`SOURCE_SQL_STREAM_001`), fed by the mapper.
    Input,
    /// `error_stream`, fed by every failure; its columns are fixed.
    Error,
    /// A `CREATE STREAM` of the code, fed by pumps.
    Created,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamDef {
    /// The exact name (`SOURCE_SQL_STREAM_001`, `DESTINATION_SQL_STREAM`, `error_stream`).
    pub name: String,
    pub kind: StreamKind,
    /// The columns, ROWTIME excluded (every stream has it).
    pub columns: Vec<ColumnDef>,
    /// The line of its CREATE STREAM (0 for inputs and `error_stream`).
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// The exact name (folded unless it was quoted).
    pub name: String,
    pub sql_type: SqlType,
    pub not_null: bool,
}

/// `CREATE PUMP name AS INSERT INTO target [(columns)] SELECT STREAM ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct PumpPlan {
    pub name: String,
    pub target: StreamId,
    /// For each output column of `query`, the index of the target column it fills; the
    /// target's other columns are NULL.
    pub target_columns: Vec<usize>,
    pub query: Query,
    /// The line of its CREATE PUMP, for error messages.
    pub line: u32,
}

/// A `SELECT STREAM` over one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub source: Source,
    /// WHERE, over the source's row.
    pub filter: Option<Expr>,
    pub shape: QueryShape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Stream(StreamId),
    /// `FROM (SELECT STREAM ...)`: the inner query's output row is this query's input.
    Subquery(Box<Query>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryShape {
    /// One output row per input row passing the filter; ROWTIME is carried over. The
    /// expressions are over the source row.
    Project(Vec<Expr>),
    /// A streaming GROUP BY with a progress key.
    Aggregate(AggregatePlan),
}

/// `GROUP BY <progress key>, <keys...>` with aggregates. A group row is the values
/// `[progress key value, keys..., aggregate results...]`; `having` and `output` are
/// expressions over that group row (as [`ExprKind::Column`] indexes), and the group
/// row's ROWTIME is the window's end.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePlan {
    pub progress: ProgressKey,
    /// The other grouping expressions, over the source row.
    pub keys: Vec<Expr>,
    pub aggregates: Vec<AggregateCall>,
    pub having: Option<Expr>,
    pub output: Vec<Expr>,
}

/// The GROUP BY member that moves with time and so closes windows.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressKey {
    /// `STEP(expr BY INTERVAL ...)`: windows of `width_ms` aligned on the epoch.
    Step { expr: Expr, width_ms: i64 },
    /// `FLOOR(expr TO unit)`.
    Floor { expr: Expr, unit: TimeUnit },
    /// `MONOTONIC(expr)`, or an integer STEP: a group closes when a larger key arrives.
    Monotonic(Expr),
}

impl ProgressKey {
    /// True when the key is ROWTIME-based and so the window closes on the clock.
    pub fn expr(&self) -> &Expr {
        match self {
            ProgressKey::Step { expr, .. } | ProgressKey::Floor { expr, .. } | ProgressKey::Monotonic(expr) => expr,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Second,
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub function: AggregateFunction,
    /// The argument over the source row; `None` for `COUNT(*)`.
    pub arg: Option<Expr>,
    pub result_type: SqlType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Count,
    Sum,
    /// Integer arguments truncate toward zero, in the argument's type, as KDA does.
    Avg,
    Min,
    Max,
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: SqlType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A column of the row the expression is evaluated over.
    Column(usize),
    /// The row's ROWTIME.
    Rowtime,
    Literal(Value),
    /// The `now_ms` of the step that produces the row.
    CurrentRowTimestamp,
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    IsNull {
        operand: Box<Expr>,
        negated: bool,
    },
    /// `CASE [operand] WHEN .. THEN .. ELSE .. END`; with an operand, each `when` is
    /// compared to it for equality.
    Case {
        operand: Option<Box<Expr>>,
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast {
        operand: Box<Expr>,
        to: SqlType,
    },
    /// `LIKE` or `SIMILAR TO`.
    Pattern {
        kind: PatternKind,
        operand: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        negated: bool,
    },
    InList {
        operand: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        operand: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// STEP, FLOOR/CEIL TO a unit, and every scalar function.
    Call {
        function: ScalarFunction,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    Like,
    SimilarTo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Minus,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    And,
    Or,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Plus,
    Minus,
    Multiply,
    Divide,
    /// `||`.
    Concat,
}

/// The name of `error_stream` (lower case: KDA creates it so, and code quotes it).
pub const ERROR_STREAM: &str = "error_stream";

/// The system column every input stream ends with: when the source accepted the record.
/// It is selectable by name but not part of `SELECT *` (KDA's rule).
pub const APPROXIMATE_ARRIVAL_TIME: &str = "APPROXIMATE_ARRIVAL_TIME";

/// The columns of `error_stream`, in order (ROWTIME aside). The executor fills them from
/// an [`crate::value::ErrorRow`].
pub fn error_stream_columns() -> Vec<ColumnDef> {
    use SqlType::{Timestamp, Varchar};
    [
        ("ERROR_TIME", Timestamp),
        ("ERROR_LEVEL", Varchar(10)),
        ("ERROR_NAME", Varchar(32)),
        ("MESSAGE", Varchar(4096)),
        ("DATA_ROWTIME", Timestamp),
        ("DATA_ROW", Varchar(crate::limits::ROW_BYTES_MAX as u32)),
        ("PUMP_NAME", Varchar(128)),
    ]
    .into_iter()
    .map(|(name, sql_type)| ColumnDef { name: name.to_owned(), sql_type, not_null: false })
    .collect()
}
