//! Expressions, by precedence from OR down to primaries, and the special forms of the
//! dialect's functions (CAST, EXTRACT, POSITION, SUBSTRING, OVERLAY, TRIM, STEP,
//! FLOOR/CEIL TO, INTERVAL, CASE).

use super::{type_error, unsupported, Parsed, Parser};
use crate::error::{CodeError, CodeErrorKind};
use crate::plan::{BinaryOp, PatternKind, UnaryOp};
use crate::sql::ast::{Expr, ExprKind, Name};
use crate::sql::lexer::{Pos, Tok};
use crate::sql::literal;
use crate::value::{SqlType, Value};

impl Parser {
    pub fn parse_expr(&mut self) -> Parsed<Expr> {
        self.nested(|parser| parser.parse_or())
    }

    /// A left-associative chain `operand (op operand)*`, where `op_at` names the
    /// operator at the next token.
    ///
    /// The compiler's later passes recurse once per tree level, so a left-deep chain
    /// counts each operator against the nesting bound; but a chain of one associative
    /// operator (AND, OR, `||`) is built balanced instead, which evaluates the same
    /// operands in the same order, so long condition lists stay shallow.
    fn left_chain(
        &mut self,
        op_at: fn(&Tok) -> Option<BinaryOp>,
        operand: fn(&mut Self) -> Parsed<Expr>,
    ) -> Parsed<Expr> {
        let first = operand(self)?;
        let Some(op) = op_at(self.peek()) else {
            return Ok(first);
        };
        if matches!(op, BinaryOp::And | BinaryOp::Or | BinaryOp::Concat) {
            let mut operands = vec![first];
            let mut positions = Vec::new();
            while op_at(self.peek()) == Some(op) {
                positions.push(self.advance().pos);
                operands.push(operand(self)?);
            }
            return Ok(balanced(op, operands, &positions));
        }
        let depth_before = self.depth;
        let mut left = first;
        let chained = (|| {
            while let Some(op) = op_at(self.peek()) {
                let pos = self.advance().pos;
                self.deeper()?;
                let right = operand(self)?;
                left = binary(op, left, right, pos);
            }
            Ok(left)
        })();
        self.depth = depth_before;
        chained
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

    pub(super) fn parse_concat(&mut self) -> Parsed<Expr> {
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
        // Each form is its own method so that this dispatcher's frame stays small: the
        // parser recurses through it once per nesting level.
        let upper = text.to_ascii_uppercase();
        let call_follows = self.peek() == &Tok::LParen;
        let kind = match upper.as_str() {
            "NULL" => ExprKind::Literal(Value::Null, None),
            "TRUE" => ExprKind::Literal(Value::Bool(true), Some(SqlType::Boolean)),
            "FALSE" => ExprKind::Literal(Value::Bool(false), Some(SqlType::Boolean)),
            "UNKNOWN" => ExprKind::Literal(Value::Null, Some(SqlType::Boolean)),
            "TIMESTAMP" | "DATE" | "TIME" if matches!(self.peek(), Tok::Str(_)) => {
                self.parse_datetime_literal(&upper, pos)?
            }
            "INTERVAL" => self.parse_interval(pos)?,
            "CASE" => self.parse_case()?,
            "CAST" => self.parse_cast()?,
            "CURRENT_ROW_TIMESTAMP" => ExprKind::CurrentRowTimestamp,
            "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" | "LOCALTIME" if !call_follows => {
                ExprKind::Call { name: upper, args: Vec::new() }
            }
            "EXTRACT" => self.parse_extract()?,
            "POSITION" if call_follows => self.parse_position()?,
            "SUBSTRING" if call_follows => self.parse_substring()?,
            "OVERLAY" if call_follows => self.parse_overlay()?,
            "TRIM" if call_follows => self.parse_trim()?,
            "STEP" if call_follows => self.parse_step()?,
            "FLOOR" | "CEIL" | "CEILING" if call_follows => self.parse_floor_or_ceil(upper)?,
            "CURSOR" | "TABLE" => return Err(unsupported(format!("{upper} expression"), pos)),
            "EXISTS" | "ARRAY" | "ROW" | "MULTISET" if call_follows => return Err(unsupported(upper, pos)),
            _ if call_follows => {
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
}

fn literal_string(text: String) -> ExprKind {
    let length = u32::try_from(text.chars().count().max(1)).unwrap_or(u32::MAX);
    ExprKind::Literal(Value::Str(text.into()), Some(SqlType::Char(length)))
}

fn binary(op: BinaryOp, left: Expr, right: Expr, pos: Pos) -> Expr {
    Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), pos }
}

/// `operands[0] op operands[1] op …` as a balanced tree; `positions[i]` is the place of
/// the operator between operands `i` and `i + 1`.
fn balanced(op: BinaryOp, mut operands: Vec<Expr>, positions: &[Pos]) -> Expr {
    if operands.len() <= 1 {
        return operands.pop().unwrap_or(Expr { kind: ExprKind::Literal(Value::Null, None), pos: Pos::default() });
    }
    let middle = operands.len() / 2;
    let right_operands = operands.split_off(middle);
    let left = balanced(op, operands, &positions[..middle - 1]);
    let right = balanced(op, right_operands, &positions[middle..]);
    binary(op, left, right, positions[middle - 1])
}
