//! The special forms of the dialect's expressions: typed literals (`TIMESTAMP '…'`,
//! `INTERVAL '…' unit`), CASE, CAST, and the functions with keyword arguments (EXTRACT,
//! POSITION, SUBSTRING, OVERLAY, TRIM, STEP, FLOOR/CEIL TO).

use super::{type_error, unsupported, Parsed, Parser};
use crate::functions::TrimSide;
use crate::plan::TimeUnit;
use crate::sql::ast::ExprKind;
use crate::sql::lexer::{Pos, Tok};
use crate::sql::literal;
use crate::value::{SqlType, Value};

/// The largest interval field precision: an i64 of milliseconds holds no more digits.
const INTERVAL_PRECISION_MAX: u32 = 18;

impl Parser {
    /// After `TIMESTAMP`, `DATE` or `TIME`: the quoted value.
    pub(super) fn parse_datetime_literal(&mut self, keyword: &str, pos: Pos) -> Parsed<ExprKind> {
        let text = match self.advance().tok {
            Tok::Str(text) => text,
            _ => return Err(self.unexpected_previous("a quoted date or time")),
        };
        let (value, sql_type) = literal::datetime(keyword, &text).map_err(|message| type_error(message, pos))?;
        Ok(ExprKind::Literal(value, Some(sql_type)))
    }

    /// After `CAST`: `(operand AS type)`.
    pub(super) fn parse_cast(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
        let operand = self.parse_expr()?;
        self.expect_keyword("AS")?;
        let to = self.parse_type()?;
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Cast { operand: Box::new(operand), to })
    }

    /// After `EXTRACT`: `(unit FROM operand)`.
    pub(super) fn parse_extract(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
        let unit = self.parse_unit()?;
        self.expect_keyword("FROM")?;
        let operand = self.parse_expr()?;
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Extract { unit, operand: Box::new(operand) })
    }

    /// After `POSITION`: `(needle IN haystack)`.
    pub(super) fn parse_position(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
        let needle = self.parse_concat()?;
        self.expect_keyword("IN")?;
        let haystack = self.parse_expr()?;
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Call { name: "POSITION".into(), args: vec![needle, haystack] })
    }

    /// After `SUBSTRING`: `(s FROM start [FOR length])` or `(s, start [, length])`.
    pub(super) fn parse_substring(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
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
        Ok(ExprKind::Call { name: "SUBSTRING".into(), args })
    }

    /// After `OVERLAY`: `(s PLACING r FROM start [FOR length])`.
    pub(super) fn parse_overlay(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
        let mut args = vec![self.parse_expr()?];
        self.expect_keyword("PLACING")?;
        args.push(self.parse_expr()?);
        self.expect_keyword("FROM")?;
        args.push(self.parse_expr()?);
        if self.eat_keyword("FOR") {
            args.push(self.parse_expr()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Call { name: "OVERLAY".into(), args })
    }

    /// After `STEP`: `(operand BY width)`.
    pub(super) fn parse_step(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
        let operand = self.parse_expr()?;
        self.expect_keyword("BY")?;
        let width = self.parse_expr()?;
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Step { operand: Box::new(operand), width: Box::new(width) })
    }

    /// After `FLOOR`, `CEIL` or `CEILING`: `(operand TO unit)` or the numeric `(operand)`.
    pub(super) fn parse_floor_or_ceil(&mut self, name: String) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
        let operand = self.parse_expr()?;
        if self.eat_keyword("TO") {
            let unit = self.parse_unit()?;
            self.expect(&Tok::RParen)?;
            return Ok(ExprKind::RoundTo { operand: Box::new(operand), unit, ceil: name != "FLOOR" });
        }
        self.expect(&Tok::RParen)?;
        Ok(ExprKind::Call { name, args: vec![operand] })
    }

    pub(super) fn parse_case(&mut self) -> Parsed<ExprKind> {
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

    /// After `TRIM`: `([BOTH|LEADING|TRAILING] [chars] FROM operand)` or `(operand)`.
    pub(super) fn parse_trim(&mut self) -> Parsed<ExprKind> {
        self.expect(&Tok::LParen)?;
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
    pub(super) fn parse_interval(&mut self, pos: Pos) -> Parsed<ExprKind> {
        let negative = self.eat(&Tok::Minus);
        let text = match self.advance().tok {
            Tok::Str(text) => text,
            _ => return Err(self.unexpected_previous("a quoted interval value, as in INTERVAL '10' SECOND")),
        };
        let leading = self.parse_unit()?;
        let leading_precision = self.parse_interval_precision()?;
        let (trailing, trailing_precision) = if self.eat_keyword("TO") {
            let unit_pos = self.pos();
            let unit = self.parse_unit()?;
            let precision = self.parse_interval_precision()?;
            // SQL: only a trailing SECOND has a precision, its fraction digits.
            if precision.is_some() && unit != TimeUnit::Second {
                return Err(type_error("only SECOND takes a precision after TO".into(), unit_pos));
            }
            (unit, precision)
        } else {
            (leading, None)
        };
        if matches!(leading, TimeUnit::Year | TimeUnit::Month) || matches!(trailing, TimeUnit::Year | TimeUnit::Month) {
            return Err(unsupported("year-month interval", pos));
        }
        // SQL: `unit(p)` bounds the leading field's digits, `SECOND(p, s)` and `TO SECOND(s)`
        // the fraction digits. Without a written precision, no bound is applied.
        let leading_digits = leading_precision.map(|(digits, _)| digits);
        let fraction_digits = match (leading_precision, trailing_precision) {
            (_, Some((digits, _))) => Some(digits),
            (Some((_, fraction)), None) => fraction,
            (None, None) => None,
        };
        literal::check_interval_precision(&text, leading_digits, fraction_digits)
            .map_err(|message| type_error(message, pos))?;
        let millis = literal::interval_ms(&text, leading, trailing).map_err(|message| type_error(message, pos))?;
        let millis = if negative { -millis } else { millis };
        Ok(ExprKind::Literal(Value::Interval(millis), Some(SqlType::IntervalDayTime)))
    }

    /// A field precision as in `SECOND(3)` or `SECOND(2, 3)`: the first number and the
    /// second if written.
    fn parse_interval_precision(&mut self) -> Parsed<Option<(u32, Option<u32>)>> {
        if !self.eat(&Tok::LParen) {
            return Ok(None);
        }
        let first = self.parse_precision_number()?;
        let second = if self.eat(&Tok::Comma) { Some(self.parse_precision_number()?) } else { None };
        self.expect(&Tok::RParen)?;
        Ok(Some((first, second)))
    }

    fn parse_precision_number(&mut self) -> Parsed<u32> {
        match self.advance().tok {
            Tok::Number(text) => match text.parse::<u32>() {
                Ok(digits) if (1..=INTERVAL_PRECISION_MAX).contains(&digits) => Ok(digits),
                _ => Err(self.unexpected_previous("a precision from 1 to 18")),
            },
            _ => Err(self.unexpected_previous("a precision")),
        }
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
