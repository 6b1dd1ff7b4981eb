//! A recursive-descent parser for the statements and expressions of the KDA dialect
//! that Rheo runs. It reads only what it accepts: every other construct stops it with
//! an error naming the construct and where it is, so nothing is parsed and then ignored.
//! Statements, queries and types here; expressions in [`expr`].

mod expr;
mod forms;

use crate::error::{CodeError, CodeErrorKind};
use crate::sql::ast::{ColumnSpec, CreatePump, CreateStream, From, Name, Select, SelectItem, Statement};
use crate::sql::lexer::{Lexeme, Pos, Tok};
use crate::sql::literal;
use crate::value::SqlType;

/// Expressions nest at most this deep: deeper code is refused instead of exhausting the
/// stack (the parser recurses once per level).
pub const NESTING_MAX: usize = 64;

/// Identifiers have at most 128 characters (SQLREF identifiers).
pub const IDENTIFIER_CHARS_MAX: usize = 128;

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
        let text = match lexeme.tok {
            Tok::Word { text, quoted: false } => text.to_uppercase(),
            Tok::Word { text, quoted: true } => text,
            _ => return Err(self.unexpected_previous("a name")),
        };
        if text.is_empty() || text.chars().count() > IDENTIFIER_CHARS_MAX {
            return Err(CodeError {
                kind: CodeErrorKind::Syntax(format!("an identifier has 1 to {IDENTIFIER_CHARS_MAX} characters")),
                construct: text,
                line: lexeme.pos.line,
                column: lexeme.pos.column,
            });
        }
        Ok(Name { text, pos: lexeme.pos })
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

    /// Runs `parse` one nesting level deeper, refusing code nested past [`NESTING_MAX`].
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        self.deeper()?;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// One level deeper, or the refusal of code nested past [`NESTING_MAX`].
    fn deeper(&mut self) -> Parsed<()> {
        if self.depth >= NESTING_MAX {
            return Err(unsupported(format!("expressions nested deeper than {NESTING_MAX} levels"), self.pos()));
        }
        self.depth += 1;
        Ok(())
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
