//! Expressions, by precedence from OR down to primaries, and the special forms of the
//! dialect's functions (CAST, EXTRACT, POSITION, SUBSTRING, OVERLAY, TRIM, STEP,
//! FLOOR/CEIL TO, INTERVAL, CASE).

use super::{type_error, unsupported, Parsed, Parser};
use crate::error::{CodeError, CodeErrorKind};
use crate::functions::TrimSide;
use crate::plan::{BinaryOp, PatternKind, TimeUnit, UnaryOp};
use crate::sql::ast::{Expr, ExprKind, Name};
use crate::sql::lexer::{Pos, Tok};
use crate::sql::literal;
use crate::value::{SqlType, Value};

impl Parser {
    pub fn parse_expr(&mut self) -> Parsed<Expr> {
        self.nested(|parser| parser.parse_or())
    }

    /// A left-associative chain `operand (op operand)*`, where `op_at` names the
    /// operator at the next token (or refuses it).
    fn left_chain(
        &mut self,
        op_at: fn(&Tok) -> Option<BinaryOp>,
        operand: fn(&mut Self) -> Parsed<Expr>,
    ) -> Parsed<Expr> {
        let mut left = operand(self)?;
        while let Some(op) = op_at(self.peek()) {
            let pos = self.advance().pos;
            let right = operand(self)?;
            left = binary(op, left, right, pos);
        }
        Ok(left)
    }

    fn parse_or(&mut self) -> Parsed<Expr> {
        self.left_chain(|tok| tok.is_keyword("OR").then_some(BinaryOp::Or), Self::parse_and)
    }

    fn parse_and(&mut self) -> Parsed<Expr> {
        self.left_chain(|tok| tok.is_keyword("AND").then_some(BinaryOp::And), Self::parse_not)
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
        self.left_chain(|tok| (tok == &Tok::Concat).then_some(BinaryOp::Concat), Self::parse_additive)
    }

    fn parse_additive(&mut self) -> Parsed<Expr> {
        let op_at = |tok: &Tok| match tok {
            Tok::Plus => Some(BinaryOp::Plus),
            Tok::Minus => Some(BinaryOp::Minus),
            _ => None,
        };
        self.left_chain(op_at, Self::parse_multiplicative)
    }

    fn parse_multiplicative(&mut self) -> Parsed<Expr> {
        let op_at = |tok: &Tok| match tok {
            Tok::Star => Some(BinaryOp::Multiply),
            Tok::Slash => Some(BinaryOp::Divide),
            _ => None,
        };
        let chain = self.left_chain(op_at, Self::parse_unary)?;
        if self.peek() == &Tok::Percent {
            return Err(unsupported("% (use MOD)", self.pos()));
        }
        Ok(chain)
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
}

fn literal_string(text: String) -> ExprKind {
    let length = u32::try_from(text.chars().count().max(1)).unwrap_or(u32::MAX);
    ExprKind::Literal(Value::Str(text.into()), Some(SqlType::Char(length)))
}

fn binary(op: BinaryOp, left: Expr, right: Expr, pos: Pos) -> Expr {
    Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), pos }
}
