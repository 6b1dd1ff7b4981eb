//! A recursive-descent parser for the statements and expressions of the KDA dialect
//! that Rheo runs. It reads only what it accepts: every other construct stops it with
//! an error naming the construct and where it is, so nothing is parsed and then ignored.

use super::ast::{ColumnSpec, CreatePump, CreateStream, Expr, ExprKind, From, Name, Select, SelectItem, Statement};
use super::lexer::{Lexeme, Pos, Tok};
use super::literal;
use crate::error::{CodeError, CodeErrorKind};
use crate::functions::TrimSide;
use crate::plan::{BinaryOp, PatternKind, TimeUnit, UnaryOp};
use crate::value::{SqlType, Value};

/// Expressions nest at most this deep: deeper code is refused instead of exhausting the
/// stack (the parser recurses once per level).
pub const NESTING_MAX: usize = 64;

/// Words that end an expression or a clause, so they are never read as an alias.
const CLAUSE_WORDS: &[&str] = &[
    "FROM",
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "WINDOW",
    "WINDOWED",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "LIMIT",
    "OFFSET",
    "FETCH",
    "OVER",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IS",
    "IN",
    "LIKE",
    "SIMILAR",
    "BETWEEN",
    "ESCAPE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "BY",
    "SELECT",
    "PARTITION",
    "WITHIN",
    "IGNORE",
    "RESPECT",
    "TABLESAMPLE",
    "FOR",
    "TO",
    "PLACING",
];

/// Constructs of the dialect recognised by their leading word where a clause may start,
/// refused with their name.
const REFUSED_CLAUSES: &[(&str, &str)] = &[
    ("ORDER", "ORDER BY"),
    ("UNION", "UNION"),
    ("EXCEPT", "EXCEPT"),
    ("INTERSECT", "INTERSECT"),
    ("WINDOW", "WINDOW clause (sliding windows)"),
    ("WINDOWED", "WINDOWED BY STAGGER"),
    ("JOIN", "JOIN"),
    ("INNER", "JOIN"),
    ("LEFT", "JOIN"),
    ("RIGHT", "JOIN"),
    ("FULL", "JOIN"),
    ("CROSS", "JOIN"),
    ("NATURAL", "JOIN"),
    ("OVER", "OVER (sliding windows)"),
    ("LIMIT", "LIMIT"),
    ("OFFSET", "OFFSET"),
    ("FETCH", "FETCH"),
];

pub struct Parser {
    tokens: Vec<Lexeme>,
    next: usize,
    depth: usize,
}

type Parsed<T> = Result<T, CodeError>;

impl Parser {
    pub fn new(tokens: Vec<Lexeme>) -> Self {
        Parser { tokens, next: 0, depth: 0 }
    }

    /// The whole code: statements separated by `;`.
    pub fn parse_script(&mut self) -> Parsed<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            while self.eat(&Tok::Semicolon) {}
            if self.peek() == &Tok::End {
                return Ok(statements);
            }
            statements.push(self.parse_statement()?);
            if !self.eat(&Tok::Semicolon) && self.peek() != &Tok::End {
                return Err(self.unexpected_here("; between statements"));
            }
        }
    }

    /// Only a column type (for `parse_sql_type`), then the end.
    pub fn parse_type_only(&mut self) -> Parsed<SqlType> {
        let sql_type = self.parse_type()?;
        if self.peek() != &Tok::End {
            return Err(self.unexpected_here("end of the type"));
        }
        Ok(sql_type)
    }

    fn parse_statement(&mut self) -> Parsed<Statement> {
        let pos = self.pos();
        if !self.eat_keyword("CREATE") {
            let construct = match self.peek() {
                Tok::Word { text, quoted: false } => format!("{} statement", text.to_ascii_uppercase()),
                other => other.describe(),
            };
            return Err(unsupported(construct, pos));
        }
        if self.eat_keyword("OR") {
            self.expect_keyword("REPLACE")?;
        }
        if self.eat_keyword("STREAM") {
            self.parse_create_stream(pos).map(Statement::CreateStream)
        } else if self.eat_keyword("PUMP") {
            self.parse_create_pump(pos).map(Statement::CreatePump)
        } else {
            let what = self.peek().describe().to_ascii_uppercase();
            Err(unsupported(format!("CREATE {what}"), self.pos()))
        }
    }

    fn parse_create_stream(&mut self, pos: Pos) -> Parsed<CreateStream> {
        let name = self.parse_name()?;
        self.expect(&Tok::LParen)?;
        let mut columns = Vec::new();
        loop {
            let column = self.parse_name()?;
            let sql_type = self.parse_type()?;
            let not_null = if self.eat_keyword("NOT") {
                self.expect_keyword("NULL")?;
                true
            } else {
                self.eat_keyword("NULL");
                false
            };
            columns.push(ColumnSpec { name: column, sql_type, not_null });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen)?;
        self.parse_description()?;
        Ok(CreateStream { name, columns, pos })
    }

    fn parse_create_pump(&mut self, pos: Pos) -> Parsed<CreatePump> {
        let name = self.parse_name()?;
        self.parse_description()?;
        self.expect_keyword("AS")?;
        self.expect_keyword("INSERT")?;
        self.expect_keyword("INTO")?;
        let target = self.parse_name()?;
        let columns = if self.eat(&Tok::LParen) {
            let mut names = vec![self.parse_name()?];
            while self.eat(&Tok::Comma) {
                names.push(self.parse_name()?);
            }
            self.expect(&Tok::RParen)?;
            Some(names)
        } else {
            None
        };
        let query = Box::new(self.parse_select()?);
        Ok(CreatePump { name, target, columns, query, pos })
    }

    /// `DESCRIPTION '…'`: documentation only, with no effect on the plan.
    fn parse_description(&mut self) -> Parsed<()> {
        if self.eat_keyword("DESCRIPTION") {
            match self.advance().tok {
                Tok::Str(_) => {}
                _ => return Err(self.unexpected_previous("a string after DESCRIPTION")),
            }
        }
        Ok(())
    }

    fn parse_select(&mut self) -> Parsed<Select> {
        let pos = self.pos();
        if self.peek_keyword("VALUES") {
            return Err(unsupported("VALUES", pos));
        }
        if self.peek_keyword("WITH") {
            return Err(unsupported("WITH", pos));
        }
        self.expect_keyword("SELECT")?;
        if !self.eat_keyword("STREAM") {
            return Err(unsupported("SELECT without STREAM (a pump's query is SELECT STREAM)", pos));
        }
        if self.peek_keyword("DISTINCT") {
            return Err(unsupported("DISTINCT", self.pos()));
        }
        if self.peek_keyword("ALL") {
            return Err(unsupported("SELECT ALL", self.pos()));
        }
        let mut items = vec![self.parse_select_item()?];
        while self.eat(&Tok::Comma) {
            items.push(self.parse_select_item()?);
        }
        self.expect_keyword("FROM")?;
        let from = self.parse_from()?;
        let filter = if self.eat_keyword("WHERE") { Some(self.parse_expr()?) } else { None };
        let mut group_by = Vec::new();
        if self.eat_keyword("GROUP") {
            self.expect_keyword("BY")?;
            group_by.push(self.parse_expr()?);
            while self.eat(&Tok::Comma) {
                group_by.push(self.parse_expr()?);
            }
        }
        let having = if self.eat_keyword("HAVING") { Some(self.parse_expr()?) } else { None };
        self.refuse_clause()?;
        Ok(Select { pos, items, from, filter, group_by, having })
    }

    /// A clause Rheo does not run where the query could go on.
    fn refuse_clause(&self) -> Parsed<()> {
        if let Tok::Word { text, quoted: false } = self.peek() {
            if let Some((_, construct)) = REFUSED_CLAUSES.iter().find(|(word, _)| text.eq_ignore_ascii_case(word)) {
                return Err(unsupported(*construct, self.pos()));
            }
        }
        Ok(())
    }

    fn parse_select_item(&mut self) -> Parsed<SelectItem> {
        let pos = self.pos();
        if self.eat(&Tok::Star) {
            return Ok(SelectItem::Wildcard { qualifier: None, pos });
        }
        if matches!(self.peek(), Tok::Word { .. }) && self.peek_at(1) == &Tok::Period && self.peek_at(2) == &Tok::Star {
            let qualifier = self.parse_name()?;
            self.advance();
            self.advance();
            return Ok(SelectItem::Wildcard { qualifier: Some(qualifier), pos });
        }
        let expr = self.parse_expr()?;
        self.refuse_clause()?;
        let alias = self.parse_alias()?;
        if let Some(alias) = &alias {
            if alias.text == "ROWTIME" {
                return Err(unsupported("AS ROWTIME (ROWTIME assignment)", alias.pos));
            }
        }
        Ok(SelectItem::Expr { expr, alias })
    }

    /// `[AS] name`, where a bare word is an alias unless it starts a clause.
    fn parse_alias(&mut self) -> Parsed<Option<Name>> {
        if self.eat_keyword("AS") {
            return self.parse_name().map(Some);
        }
        match self.peek() {
            Tok::Word { quoted: true, .. } => self.parse_name().map(Some),
            Tok::Word { text, quoted: false } if !is_clause_word(text) => self.parse_name().map(Some),
            _ => Ok(None),
        }
    }

    fn parse_from(&mut self) -> Parsed<From> {
        let pos = self.pos();
        let from = if self.eat(&Tok::LParen) {
            let query = self.nested(|parser| parser.parse_select())?;
            self.expect(&Tok::RParen)?;
            self.refuse_clause()?;
            let alias = self.parse_alias()?;
            From::Subquery { query: Box::new(query), alias, pos }
        } else {
            if self.peek_keyword("TABLE") {
                return Err(unsupported("TABLE function", pos));
            }
            let name = self.parse_name()?;
            if self.peek() == &Tok::LParen {
                return Err(unsupported(format!("table function {}", name.text), pos));
            }
            if self.peek() == &Tok::Period {
                return Err(unsupported("schema-qualified stream name", self.pos()));
            }
            self.refuse_clause()?;
            let alias = self.parse_alias()?;
            From::Stream { name, alias }
        };
        if self.peek() == &Tok::LParen {
            return Err(unsupported("column aliases on a FROM item", self.pos()));
        }
        if self.peek() == &Tok::Comma {
            return Err(unsupported("JOIN", self.pos()));
        }
        self.refuse_clause()?;
        Ok(from)
    }

    /// A name: unquoted words fold to upper case, quoted ones keep theirs.
    fn parse_name(&mut self) -> Parsed<Name> {
        let lexeme = self.advance();
        match lexeme.tok {
            Tok::Word { text, quoted: false } => Ok(Name { text: text.to_uppercase(), pos: lexeme.pos }),
            Tok::Word { text, quoted: true } => Ok(Name { text, pos: lexeme.pos }),
            _ => Err(self.unexpected_previous("a name")),
        }
    }

    fn parse_type(&mut self) -> Parsed<SqlType> {
        let pos = self.pos();
        let word = match self.advance().tok {
            Tok::Word { text, quoted: false } => text.to_ascii_uppercase(),
            _ => return Err(self.unexpected_previous("a type")),
        };
        let sql_type = match word.as_str() {
            "BOOLEAN" => SqlType::Boolean,
            "TINYINT" => SqlType::TinyInt,
            "SMALLINT" => SqlType::SmallInt,
            "INTEGER" | "INT" => SqlType::Integer,
            "BIGINT" => SqlType::BigInt,
            "REAL" => SqlType::Real,
            "DOUBLE" => {
                self.eat_keyword("PRECISION");
                SqlType::Double
            }
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let (precision, scale) = match self.parse_type_lengths(2, pos)?.as_slice() {
                    [] => (literal::DECIMAL_DIGITS_MAX, 0),
                    [precision] => (*precision, 0),
                    [precision, scale, ..] => (*precision, *scale),
                };
                if precision == 0 || precision > literal::DECIMAL_DIGITS_MAX || scale > precision {
                    return Err(type_error(
                        format!(
                            "DECIMAL({precision},{scale}) (precision 1 to {}, scale at most the precision)",
                            literal::DECIMAL_DIGITS_MAX
                        ),
                        pos,
                    ));
                }
                SqlType::Decimal { precision: precision as u8, scale: scale as u8 }
            }
            "CHAR" | "CHARACTER" => {
                if self.eat_keyword("VARYING") {
                    SqlType::Varchar(self.parse_length(true, pos)?)
                } else {
                    SqlType::Char(self.parse_length(false, pos)?)
                }
            }
            "VARCHAR" => SqlType::Varchar(self.parse_length(true, pos)?),
            "BINARY" => SqlType::Binary(self.parse_length(false, pos)?),
            "VARBINARY" => SqlType::Varbinary(self.parse_length(true, pos)?),
            "DATE" => SqlType::Date,
            "TIME" => SqlType::Time,
            "TIMESTAMP" => SqlType::Timestamp,
            _ => return Err(unsupported(format!("type {word}"), pos)),
        };
        if self.peek_keyword("WITH") || self.peek_keyword("WITHOUT") {
            return Err(unsupported("time zone qualifier", self.pos()));
        }
        Ok(sql_type)
    }

    /// A `(n)` length: required for the varying types, 1 by default for the others.
    fn parse_length(&mut self, required: bool, pos: Pos) -> Parsed<u32> {
        match self.parse_type_lengths(1, pos)?.first() {
            Some(&length) if (1..=literal::STRING_LENGTH_MAX).contains(&length) => Ok(length),
            Some(&length) => Err(type_error(format!("length {length} (1 to {})", literal::STRING_LENGTH_MAX), pos)),
            None if required => Err(type_error("a length, as in VARCHAR(16)".to_owned(), pos)),
            None => Ok(1),
        }
    }

    fn parse_type_lengths(&mut self, max: usize, pos: Pos) -> Parsed<Vec<u32>> {
        let mut lengths = Vec::new();
        if !self.eat(&Tok::LParen) {
            return Ok(lengths);
        }
        loop {
            match self.advance().tok {
                Tok::Number(text) => {
                    let value = text.parse::<u32>().map_err(|_| type_error(format!("type length {text}"), pos))?;
                    lengths.push(value);
                }
                _ => return Err(self.unexpected_previous("a type length")),
            }
            if lengths.len() == max || !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen)?;
        Ok(lengths)
    }

    pub fn parse_expr(&mut self) -> Parsed<Expr> {
        self.nested(|parser| parser.parse_or())
    }

    /// Runs `parse` one nesting level deeper, refusing code nested past [`NESTING_MAX`].
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        if self.depth >= NESTING_MAX {
            return Err(unsupported(format!("nesting deeper than {NESTING_MAX} levels"), self.pos()));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn parse_or(&mut self) -> Parsed<Expr> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("OR") {
            let pos = self.advance().pos;
            let right = self.parse_and()?;
            left = binary(BinaryOp::Or, left, right, pos);
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Parsed<Expr> {
        let mut left = self.parse_not()?;
        while self.peek_keyword("AND") {
            let pos = self.advance().pos;
            let right = self.parse_not()?;
            left = binary(BinaryOp::And, left, right, pos);
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> Parsed<Expr> {
        if self.peek_keyword("NOT") {
            let pos = self.advance().pos;
            let operand = self.nested(|parser| parser.parse_not())?;
            return Ok(Expr { kind: ExprKind::Unary(UnaryOp::Not, Box::new(operand)), pos });
        }
        self.parse_predicate()
    }

    /// Comparisons and the predicates (IS NULL, LIKE, SIMILAR TO, IN, BETWEEN).
    fn parse_predicate(&mut self) -> Parsed<Expr> {
        let left = self.parse_concat()?;
        let pos = self.pos();
        let comparison = match self.peek() {
            Tok::Eq => Some(BinaryOp::Eq),
            Tok::NotEq => Some(BinaryOp::NotEq),
            Tok::Lt => Some(BinaryOp::Lt),
            Tok::LtEq => Some(BinaryOp::LtEq),
            Tok::Gt => Some(BinaryOp::Gt),
            Tok::GtEq => Some(BinaryOp::GtEq),
            _ => None,
        };
        if let Some(op) = comparison {
            self.advance();
            if self.peek_keyword("ANY") || self.peek_keyword("ALL") || self.peek_keyword("SOME") {
                return Err(unsupported("quantified comparison (ANY/ALL/SOME)", self.pos()));
            }
            let right = self.parse_concat()?;
            return Ok(binary(op, left, right, pos));
        }
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            if self.eat_keyword("NULL") {
                return Ok(Expr { kind: ExprKind::IsNull { operand: Box::new(left), negated }, pos });
            }
            let construct =
                format!("IS {}{}", if negated { "NOT " } else { "" }, self.peek().describe().to_ascii_uppercase());
            return Err(unsupported(construct, pos));
        }
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("LIKE") {
            return self.parse_pattern(PatternKind::Like, left, negated, pos);
        }
        if self.eat_keyword("SIMILAR") {
            self.expect_keyword("TO")?;
            return self.parse_pattern(PatternKind::SimilarTo, left, negated, pos);
        }
        if self.eat_keyword("IN") {
            self.expect(&Tok::LParen)?;
            if self.peek_keyword("SELECT") {
                return Err(unsupported("IN (subquery)", self.pos()));
            }
            let mut list = vec![self.parse_expr()?];
            while self.eat(&Tok::Comma) {
                list.push(self.parse_expr()?);
            }
            self.expect(&Tok::RParen)?;
            return Ok(Expr { kind: ExprKind::InList { operand: Box::new(left), list, negated }, pos });
        }
        if self.eat_keyword("BETWEEN") {
            if self.peek_keyword("SYMMETRIC") || self.peek_keyword("ASYMMETRIC") {
                return Err(unsupported("BETWEEN SYMMETRIC/ASYMMETRIC", self.pos()));
            }
            let low = self.parse_concat()?;
            self.expect_keyword("AND")?;
            let high = self.parse_concat()?;
            return Ok(Expr {
                kind: ExprKind::Between { operand: Box::new(left), low: Box::new(low), high: Box::new(high), negated },
                pos,
            });
        }
        if negated {
            return Err(self.unexpected_here("LIKE, SIMILAR TO, IN or BETWEEN after NOT"));
        }
        Ok(left)
    }

    fn parse_pattern(&mut self, kind: PatternKind, operand: Expr, negated: bool, pos: Pos) -> Parsed<Expr> {
        let pattern = self.parse_concat()?;
        let escape = if self.eat_keyword("ESCAPE") { Some(Box::new(self.parse_concat()?)) } else { None };
        Ok(Expr {
            kind: ExprKind::Pattern { kind, operand: Box::new(operand), pattern: Box::new(pattern), escape, negated },
            pos,
        })
    }

    fn parse_concat(&mut self) -> Parsed<Expr> {
        let mut left = self.parse_additive()?;
        while self.peek() == &Tok::Concat {
            let pos = self.advance().pos;
            let right = self.parse_additive()?;
            left = binary(BinaryOp::Concat, left, right, pos);
        }
        Ok(left)
    }

    fn parse_additive(&mut self) -> Parsed<Expr> {
        let mut left = self.parse_multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinaryOp::Plus,
                Tok::Minus => BinaryOp::Minus,
                _ => return Ok(left),
            };
            let pos = self.advance().pos;
            let right = self.parse_multiplicative()?;
            left = binary(op, left, right, pos);
        }
    }

    fn parse_multiplicative(&mut self) -> Parsed<Expr> {
        let mut left = self.parse_unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinaryOp::Multiply,
                Tok::Slash => BinaryOp::Divide,
                Tok::Percent => return Err(unsupported("% (use MOD)", self.pos())),
                _ => return Ok(left),
            };
            let pos = self.advance().pos;
            let right = self.parse_unary()?;
            left = binary(op, left, right, pos);
        }
    }

    fn parse_unary(&mut self) -> Parsed<Expr> {
        let op = match self.peek() {
            Tok::Minus => UnaryOp::Minus,
            Tok::Plus => UnaryOp::Plus,
            _ => return self.parse_primary(),
        };
        let pos = self.advance().pos;
        // A negative numeric literal stays a literal, read with its sign so that the
        // smallest BIGINT can be written.
        if op == UnaryOp::Minus {
            if let Tok::Number(text) = self.peek() {
                let signed = format!("-{text}");
                self.advance();
                let (value, sql_type) = literal::number(&signed).map_err(|message| type_error(message, pos))?;
                return Ok(Expr { kind: ExprKind::Literal(value, Some(sql_type)), pos });
            }
        }
        let operand = self.nested(|parser| parser.parse_unary())?;
        Ok(Expr { kind: ExprKind::Unary(op, Box::new(operand)), pos })
    }

    fn parse_primary(&mut self) -> Parsed<Expr> {
        let lexeme = self.advance();
        let pos = lexeme.pos;
        let kind = match lexeme.tok {
            Tok::Number(text) => {
                let (value, sql_type) = literal::number(&text).map_err(|message| type_error(message, pos))?;
                ExprKind::Literal(value, Some(sql_type))
            }
            Tok::Str(text) => literal_string(text),
            Tok::Hex(digits) => {
                let bytes = literal::hex(&digits).map_err(|message| type_error(message, pos))?;
                let length = u32::try_from(bytes.len().max(1)).unwrap_or(u32::MAX);
                ExprKind::Literal(Value::Bin(bytes.into()), Some(SqlType::Varbinary(length)))
            }
            Tok::LParen => {
                if self.peek_keyword("SELECT") {
                    return Err(unsupported("scalar subquery", self.pos()));
                }
                let inner = self.parse_expr()?;
                if self.peek() == &Tok::Comma {
                    return Err(unsupported("row constructor", self.pos()));
                }
                self.expect(&Tok::RParen)?;
                return Ok(inner);
            }
            Tok::Word { text, quoted: true } => return self.parse_identifier(Name { text, pos }),
            Tok::Word { text, quoted: false } => return self.parse_word(text, pos),
            other => {
                return Err(CodeError {
                    kind: CodeErrorKind::Syntax(format!("expected an expression, found {}", other.describe())),
                    construct: other.describe(),
                    line: pos.line,
                    column: pos.column,
                })
            }
        };
        Ok(Expr { kind, pos })
    }

    /// An expression that starts with an unquoted word: a keyword form, a function call,
    /// or a column.
    fn parse_word(&mut self, text: String, pos: Pos) -> Parsed<Expr> {
        let upper = text.to_ascii_uppercase();
        let kind = match upper.as_str() {
            "NULL" => ExprKind::Literal(Value::Null, None),
            "TRUE" => ExprKind::Literal(Value::Bool(true), Some(SqlType::Boolean)),
            "FALSE" => ExprKind::Literal(Value::Bool(false), Some(SqlType::Boolean)),
            "UNKNOWN" => ExprKind::Literal(Value::Null, Some(SqlType::Boolean)),
            "TIMESTAMP" | "DATE" | "TIME" if matches!(self.peek(), Tok::Str(_)) => {
                let text = match self.advance().tok {
                    Tok::Str(text) => text,
                    _ => String::new(),
                };
                let (value, sql_type) = literal::datetime(&upper, &text).map_err(|message| type_error(message, pos))?;
                ExprKind::Literal(value, Some(sql_type))
            }
            "INTERVAL" => self.parse_interval(pos)?,
            "CASE" => self.parse_case()?,
            "CAST" => {
                self.expect(&Tok::LParen)?;
                let operand = self.parse_expr()?;
                self.expect_keyword("AS")?;
                let to = self.parse_type()?;
                self.expect(&Tok::RParen)?;
                ExprKind::Cast { operand: Box::new(operand), to }
            }
            "CURRENT_ROW_TIMESTAMP" => ExprKind::CurrentRowTimestamp,
            "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" | "LOCALTIME"
                if self.peek() != &Tok::LParen =>
            {
                ExprKind::Call { name: upper, args: Vec::new() }
            }
            "EXTRACT" => {
                self.expect(&Tok::LParen)?;
                let unit = self.parse_unit()?;
                self.expect_keyword("FROM")?;
                let operand = self.parse_expr()?;
                self.expect(&Tok::RParen)?;
                ExprKind::Extract { unit, operand: Box::new(operand) }
            }
            "POSITION" if self.peek() == &Tok::LParen => {
                self.advance();
                let needle = self.parse_concat()?;
                self.expect_keyword("IN")?;
                let haystack = self.parse_expr()?;
                self.expect(&Tok::RParen)?;
                ExprKind::Call { name: upper, args: vec![needle, haystack] }
            }
            "SUBSTRING" if self.peek() == &Tok::LParen => {
                self.advance();
                let mut args = vec![self.parse_expr()?];
                if self.eat_keyword("FROM") {
                    args.push(self.parse_expr()?);
                    if self.eat_keyword("FOR") {
                        args.push(self.parse_expr()?);
                    }
                } else {
                    while self.eat(&Tok::Comma) {
                        args.push(self.parse_expr()?);
                    }
                }
                self.expect(&Tok::RParen)?;
                ExprKind::Call { name: upper, args }
            }
            "OVERLAY" if self.peek() == &Tok::LParen => {
                self.advance();
                let mut args = vec![self.parse_expr()?];
                self.expect_keyword("PLACING")?;
                args.push(self.parse_expr()?);
                self.expect_keyword("FROM")?;
                args.push(self.parse_expr()?);
                if self.eat_keyword("FOR") {
                    args.push(self.parse_expr()?);
                }
                self.expect(&Tok::RParen)?;
                ExprKind::Call { name: upper, args }
            }
            "TRIM" if self.peek() == &Tok::LParen => {
                self.advance();
                self.parse_trim()?
            }
            "STEP" if self.peek() == &Tok::LParen => {
                self.advance();
                let operand = self.parse_expr()?;
                self.expect_keyword("BY")?;
                let width = self.parse_expr()?;
                self.expect(&Tok::RParen)?;
                ExprKind::Step { operand: Box::new(operand), width: Box::new(width) }
            }
            "FLOOR" | "CEIL" | "CEILING" if self.peek() == &Tok::LParen => {
                self.advance();
                let operand = self.parse_expr()?;
                if self.eat_keyword("TO") {
                    let unit = self.parse_unit()?;
                    self.expect(&Tok::RParen)?;
                    ExprKind::RoundTo { operand: Box::new(operand), unit, ceil: upper != "FLOOR" }
                } else {
                    self.expect(&Tok::RParen)?;
                    ExprKind::Call { name: upper, args: vec![operand] }
                }
            }
            "CURSOR" | "TABLE" => return Err(unsupported(format!("{upper} expression"), pos)),
            "EXISTS" | "ARRAY" | "ROW" | "MULTISET" if self.peek() == &Tok::LParen => {
                return Err(unsupported(upper, pos));
            }
            _ if self.peek() == &Tok::LParen => {
                self.advance();
                return self.parse_call(upper, pos);
            }
            _ => return self.parse_identifier(Name { text: text.to_uppercase(), pos }),
        };
        Ok(Expr { kind, pos })
    }

    /// `name(args)` after its `(`, with `COUNT(*)`.
    fn parse_call(&mut self, name: String, pos: Pos) -> Parsed<Expr> {
        if self.peek_keyword("DISTINCT") || self.peek_keyword("ALL") {
            return Err(unsupported(
                format!("{} in {name}(…)", self.peek().describe().to_ascii_uppercase()),
                self.pos(),
            ));
        }
        let kind = if name == "COUNT" && self.peek() == &Tok::Star {
            self.advance();
            self.expect(&Tok::RParen)?;
            ExprKind::CountStar
        } else {
            let mut args = Vec::new();
            if !self.eat(&Tok::RParen) {
                args.push(self.parse_expr()?);
                while self.eat(&Tok::Comma) {
                    args.push(self.parse_expr()?);
                }
                self.expect(&Tok::RParen)?;
            }
            ExprKind::Call { name, args }
        };
        if self.peek_keyword("OVER") {
            return Err(unsupported("OVER (sliding windows)", self.pos()));
        }
        if self.peek_keyword("IGNORE") || self.peek_keyword("RESPECT") {
            return Err(unsupported("IGNORE/RESPECT NULLS", self.pos()));
        }
        Ok(Expr { kind, pos })
    }

    /// `col`, `qualifier.col`: one or two parts.
    fn parse_identifier(&mut self, first: Name) -> Parsed<Expr> {
        let pos = first.pos;
        let mut parts = vec![first];
        while self.peek() == &Tok::Period {
            self.advance();
            parts.push(self.parse_name()?);
        }
        if parts.len() > 2 {
            return Err(unsupported("a name of more than two parts", pos));
        }
        if self.peek() == &Tok::LParen {
            return Err(unsupported("a qualified function name", pos));
        }
        Ok(Expr { kind: ExprKind::Identifier(parts), pos })
    }

    fn parse_case(&mut self) -> Parsed<ExprKind> {
        let operand = if self.peek_keyword("WHEN") { None } else { Some(Box::new(self.parse_expr()?)) };
        let mut branches = Vec::new();
        while self.eat_keyword("WHEN") {
            let condition = self.parse_expr()?;
            self.expect_keyword("THEN")?;
            let result = self.parse_expr()?;
            branches.push((condition, result));
        }
        if branches.is_empty() {
            return Err(self.unexpected_here("WHEN"));
        }
        let otherwise = if self.eat_keyword("ELSE") { Some(Box::new(self.parse_expr()?)) } else { None };
        self.expect_keyword("END")?;
        Ok(ExprKind::Case { operand, branches, otherwise })
    }

    /// After `TRIM(`: `[BOTH|LEADING|TRAILING] [chars] FROM operand` or `operand`.
    fn parse_trim(&mut self) -> Parsed<ExprKind> {
        let side = if self.eat_keyword("LEADING") {
            Some(TrimSide::Leading)
        } else if self.eat_keyword("TRAILING") {
            Some(TrimSide::Trailing)
        } else if self.eat_keyword("BOTH") {
            Some(TrimSide::Both)
        } else {
            None
        };
        let (characters, operand) = if self.eat_keyword("FROM") {
            (None, self.parse_expr()?)
        } else {
            let first = self.parse_expr()?;
            if self.eat_keyword("FROM") {
                (Some(Box::new(first)), self.parse_expr()?)
            } else if side.is_none() {
                (None, first)
            } else {
                return Err(self.unexpected_here("FROM"));
            }
        };
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Trim { side: side.unwrap_or(TrimSide::Both), characters, operand: Box::new(operand) })
    }

    /// After `INTERVAL`: `[-]'text' unit [(p)] [TO unit [(p)]]`, day-time only.
    fn parse_interval(&mut self, pos: Pos) -> Parsed<ExprKind> {
        let negative = self.eat(&Tok::Minus);
        let text = match self.advance().tok {
            Tok::Str(text) => text,
            _ => return Err(self.unexpected_previous("a quoted interval value, as in INTERVAL '10' SECOND")),
        };
        let leading = self.parse_unit()?;
        self.parse_interval_precision()?;
        let trailing = if self.eat_keyword("TO") {
            let unit = self.parse_unit()?;
            self.parse_interval_precision()?;
            unit
        } else {
            leading
        };
        if matches!(leading, TimeUnit::Year | TimeUnit::Month) || matches!(trailing, TimeUnit::Year | TimeUnit::Month) {
            return Err(unsupported("year-month interval", pos));
        }
        let millis = literal::interval_ms(&text, leading, trailing).map_err(|message| type_error(message, pos))?;
        let millis = if negative { -millis } else { millis };
        Ok(ExprKind::Literal(Value::Interval(millis), Some(SqlType::IntervalDayTime)))
    }

    /// A field precision as in `SECOND(3)`: it bounds the digits written, and the value
    /// is exact whatever it says, so it is read and not needed further.
    fn parse_interval_precision(&mut self) -> Parsed<()> {
        if self.eat(&Tok::LParen) {
            match self.advance().tok {
                Tok::Number(_) => {}
                _ => return Err(self.unexpected_previous("a precision")),
            }
            if self.eat(&Tok::Comma) {
                match self.advance().tok {
                    Tok::Number(_) => {}
                    _ => return Err(self.unexpected_previous("a precision")),
                }
            }
            self.expect(&Tok::RParen)?;
        }
        Ok(())
    }

    fn parse_unit(&mut self) -> Parsed<TimeUnit> {
        let pos = self.pos();
        let word = match self.advance().tok {
            Tok::Word { text, quoted: false } => text.to_ascii_uppercase(),
            _ => return Err(self.unexpected_previous("a time unit")),
        };
        match word.as_str() {
            "SECOND" => Ok(TimeUnit::Second),
            "MINUTE" => Ok(TimeUnit::Minute),
            "HOUR" => Ok(TimeUnit::Hour),
            "DAY" => Ok(TimeUnit::Day),
            "MONTH" => Ok(TimeUnit::Month),
            "YEAR" => Ok(TimeUnit::Year),
            _ => Err(unsupported(format!("time unit {word}"), pos)),
        }
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.tokens.get(self.next + ahead).or(self.tokens.last()).map_or(&Tok::End, |lexeme| &lexeme.tok)
    }

    fn pos(&self) -> Pos {
        self.tokens.get(self.next).or(self.tokens.last()).map_or(Pos::default(), |lexeme| lexeme.pos)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        self.peek().is_keyword(keyword)
    }

    /// The next token, moving past it (the end stays the end).
    fn advance(&mut self) -> Lexeme {
        let lexeme = self.tokens.get(self.next).or(self.tokens.last()).cloned();
        if self.next < self.tokens.len() {
            self.next += 1;
        }
        lexeme.unwrap_or(Lexeme { tok: Tok::End, pos: Pos::default() })
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == tok {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.peek_keyword(keyword) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> Parsed<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.unexpected_here(&tok.describe()))
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Parsed<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.unexpected_here(keyword))
        }
    }

    /// A syntax error at the next token; a refused clause there is named as such.
    fn unexpected_here(&self, expected: &str) -> CodeError {
        if let Err(refused) = self.refuse_clause() {
            return refused;
        }
        let pos = self.pos();
        syntax(expected, self.peek(), pos)
    }

    fn unexpected_previous(&self, expected: &str) -> CodeError {
        let index = self.next.saturating_sub(1);
        match self.tokens.get(index) {
            Some(lexeme) => syntax(expected, &lexeme.tok, lexeme.pos),
            None => syntax(expected, &Tok::End, Pos::default()),
        }
    }
}

fn is_clause_word(text: &str) -> bool {
    CLAUSE_WORDS.iter().any(|word| text.eq_ignore_ascii_case(word))
}

fn literal_string(text: String) -> ExprKind {
    let length = u32::try_from(text.chars().count().max(1)).unwrap_or(u32::MAX);
    ExprKind::Literal(Value::Str(text.into()), Some(SqlType::Char(length)))
}

fn binary(op: BinaryOp, left: Expr, right: Expr, pos: Pos) -> Expr {
    Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), pos }
}

pub(super) fn unsupported(construct: impl Into<String>, pos: Pos) -> CodeError {
    CodeError { kind: CodeErrorKind::Unsupported, construct: construct.into(), line: pos.line, column: pos.column }
}

fn type_error(message: String, pos: Pos) -> CodeError {
    CodeError { kind: CodeErrorKind::Type(message.clone()), construct: message, line: pos.line, column: pos.column }
}

fn syntax(expected: &str, found: &Tok, pos: Pos) -> CodeError {
    CodeError {
        kind: CodeErrorKind::Syntax(format!("expected {expected}, found {}", found.describe())),
        construct: found.describe(),
        line: pos.line,
        column: pos.column,
    }
}
