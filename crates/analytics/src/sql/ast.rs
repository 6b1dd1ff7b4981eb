//! The parsed form of application code, before names are resolved and types checked.
//! It holds only the constructs the compiler accepts: the parser refuses the others.

use super::lexer::Pos;
use crate::functions::TrimSide;
use crate::plan::{BinaryOp, PatternKind, TimeUnit, UnaryOp};
use crate::value::{SqlType, Value};

/// An identifier as written: unquoted ones are folded to upper case by the parser.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    CreateStream(CreateStream),
    CreatePump(CreatePump),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateStream {
    pub name: Name,
    pub columns: Vec<ColumnSpec>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: Name,
    pub sql_type: SqlType,
    pub not_null: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatePump {
    pub name: Name,
    pub target: Name,
    pub columns: Option<Vec<Name>>,
    pub query: Box<Select>,
    pub pos: Pos,
}

/// `SELECT STREAM items FROM source [WHERE] [GROUP BY] [HAVING]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub pos: Pos,
    pub items: Vec<SelectItem>,
    pub from: From,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*` or `alias.*`.
    Wildcard {
        qualifier: Option<Name>,
        pos: Pos,
    },
    Expr {
        expr: Expr,
        alias: Option<Name>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum From {
    Stream { name: Name, alias: Option<Name> },
    Subquery { query: Box<Select>, alias: Option<Name>, pos: Pos },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `col`, `s.col`, `ROWTIME`, `s.ROWTIME`.
    Identifier(Vec<Name>),
    /// A literal with its type; NULL has none until its context gives one.
    Literal(Value, Option<SqlType>),
    CurrentRowTimestamp,
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    IsNull {
        operand: Box<Expr>,
        negated: bool,
    },
    Case {
        operand: Option<Box<Expr>>,
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast {
        operand: Box<Expr>,
        to: SqlType,
    },
    Pattern {
        kind: PatternKind,
        operand: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
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
    /// `name(args)`, and the special forms normalised to a call (SUBSTRING … FROM … FOR,
    /// POSITION … IN, OVERLAY … PLACING).
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `COUNT(*)`.
    CountStar,
    /// `STEP(operand BY width)`.
    Step {
        operand: Box<Expr>,
        width: Box<Expr>,
    },
    /// `FLOOR(operand TO unit)` or `CEIL(operand TO unit)`.
    RoundTo {
        operand: Box<Expr>,
        unit: TimeUnit,
        ceil: bool,
    },
    /// `EXTRACT(unit FROM operand)`.
    Extract {
        unit: TimeUnit,
        operand: Box<Expr>,
    },
    /// `TRIM([side] [characters] FROM operand)`.
    Trim {
        side: TrimSide,
        characters: Option<Box<Expr>>,
        operand: Box<Expr>,
    },
}
