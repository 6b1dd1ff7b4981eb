//! The recursive-descent parser shared by the expression languages: tokens, DynamoDB's
//! syntax-error text, document paths with `#name` and `:value` substitution, and the
//! condition grammar (AWS: "Condition and filter expressions"):
//!
//! ```text
//! condition := or
//! or        := and ("OR" and)*
//! and       := not ("AND" not)*
//! not       := "NOT" not | primary
//! primary   := "(" condition ")"
//!            | function "(" operand ("," operand)* ")"
//!            | operand comparator operand
//!            | operand "BETWEEN" operand "AND" operand
//!            | operand "IN" "(" operand ("," operand)* ")"
//! operand   := path | ":value" | "size" "(" path ")"
//! path      := (word | "#name") ("." (word | "#name") | "[" integer "]")*
//! ```

use crate::error::DynamoError;
use crate::expr::condition::{Comparator, Node, Operand};
use crate::expr::lexer::{tokenize, Token, TokenKind};
use crate::expr::path::{Path, PathElement};
use crate::expr::reserved::is_reserved;
use crate::expr::{ExpressionKind, Substitutions};
use crate::limits::{ATTRIBUTE_DEPTH_MAX, EXPRESSION_BYTES_MAX, IN_OPERANDS_MAX};
use crate::value::{AttrType, AttrValue};

/// The functions of condition expressions and the update expression's own.
const CONDITION_FUNCTIONS: [&str; 6] =
    ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"];
const UPDATE_FUNCTIONS: [&str; 2] = ["if_not_exists", "list_append"];

/// A parser over one expression's tokens.
pub(crate) struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
    kind: ExpressionKind,
    substitutions: &'a mut Substitutions,
    /// The nesting of parentheses and NOT, bounded so deep input cannot exhaust the stack.
    nesting: usize,
}

/// Deepest nesting of parentheses, NOT and update functions the parser follows (a 4 KB expression could
/// otherwise nest 2000 deep).
const NESTING_MAX: usize = 64;

impl<'a> Parser<'a> {
    /// A parser for `text`, refusing empty and oversized expressions with DynamoDB's texts.
    pub(crate) fn new(
        text: &'a str,
        kind: ExpressionKind,
        substitutions: &'a mut Substitutions,
    ) -> Result<Parser<'a>, DynamoError> {
        let parser = Parser { text, tokens: Vec::new(), at: 0, kind, substitutions, nesting: 0 };
        if text.len() > EXPRESSION_BYTES_MAX {
            return Err(parser.invalid(format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            )));
        }
        let tokens = tokenize(text);
        if tokens.len() == 1 {
            return Err(parser.invalid("The expression can not be empty;"));
        }
        Ok(Parser { tokens, ..parser })
    }

    /// DynamoDB's `Invalid <Kind>Expression: <detail>` error.
    pub(crate) fn invalid(&self, detail: impl std::fmt::Display) -> DynamoError {
        DynamoError::Validation(format!("Invalid {}: {detail}", self.kind.parameter_name()))
    }

    pub(crate) fn peek(&self) -> &TokenKind {
        self.tokens.get(self.at).map_or(&TokenKind::End, |token| &token.kind)
    }

    fn peek_second(&self) -> &TokenKind {
        self.tokens.get(self.at + 1).map_or(&TokenKind::End, |token| &token.kind)
    }

    pub(crate) fn advance(&mut self) {
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
    }

    /// Whether the next token is the keyword `word` (any case); consumes it if so.
    pub(crate) fn eat_keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), TokenKind::Word(found) if found.eq_ignore_ascii_case(word)) {
            self.advance();
            return true;
        }
        false
    }

    pub(crate) fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.peek() == kind {
            self.advance();
            return true;
        }
        false
    }

    pub(crate) fn expect(&mut self, kind: &TokenKind) -> Result<(), DynamoError> {
        if self.eat(kind) {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    pub(crate) fn expect_end(&self) -> Result<(), DynamoError> {
        if *self.peek() == TokenKind::End {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// DynamoDB's syntax error at the current token: `Syntax error; token: "x", near:
    /// "a x b"`, the text from the token before to the token after.
    pub(crate) fn syntax_error(&self) -> DynamoError {
        let current = &self.tokens[self.at.min(self.tokens.len() - 1)];
        let token = if current.kind == TokenKind::End { "<EOF>" } else { &self.text[current.start..current.end] };
        let start = if self.at > 0 { self.tokens[self.at - 1].start } else { current.start };
        let end = match self.tokens.get(self.at + 1) {
            Some(next) if next.kind != TokenKind::End => next.end,
            _ => current.end,
        };
        self.invalid(format!("Syntax error; token: \"{token}\", near: \"{}\"", &self.text[start..end]))
    }

    /// Leaves a level entered with [`Parser::enter`].
    pub(crate) fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// Enters one level of nesting (parentheses, NOT, function calls in updates).
    pub(crate) fn enter(&mut self) -> Result<(), DynamoError> {
        self.nesting += 1;
        if self.nesting > NESTING_MAX {
            return Err(self.invalid(format!("The expression is nested too deeply; nesting levels: {}", self.nesting)));
        }
        Ok(())
    }

    /// A `:value` placeholder's value, marked used.
    pub(crate) fn value(&mut self, placeholder: &str) -> Result<AttrValue, DynamoError> {
        match self.substitutions.use_value(placeholder) {
            Some(value) => Ok(value.clone()),
            None => Err(self.invalid(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))),
        }
    }

    fn name(&mut self) -> Result<String, DynamoError> {
        let name = match self.peek().clone() {
            TokenKind::Word(word) => {
                if is_reserved(&word) {
                    return Err(self.invalid(format!("Attribute name is a reserved keyword; reserved keyword: {word}")));
                }
                word
            }
            TokenKind::NamePlaceholder(placeholder) => match self.substitutions.use_name(&placeholder) {
                Some(name) => name.to_owned(),
                None => {
                    return Err(self.invalid(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
                    )))
                }
            },
            _ => return Err(self.syntax_error()),
        };
        self.advance();
        Ok(name)
    }

    /// A document path.
    pub(crate) fn path(&mut self) -> Result<Path, DynamoError> {
        let mut path = Path::attribute(self.name()?);
        loop {
            let element = match self.peek() {
                TokenKind::Dot => {
                    self.advance();
                    PathElement::Name(self.name()?)
                }
                TokenKind::LeftBracket => {
                    self.advance();
                    let TokenKind::Integer(digits) = self.peek().clone() else {
                        return Err(self.syntax_error());
                    };
                    let index = digits.parse::<usize>().map_err(|_| self.syntax_error())?;
                    self.advance();
                    self.expect(&TokenKind::RightBracket)?;
                    PathElement::Index(index)
                }
                _ => return Ok(path),
            };
            path = path.child(element);
            if path.depth() > ATTRIBUTE_DEPTH_MAX {
                return Err(self.invalid(format!(
                    "The document path has too many nesting levels; nesting levels: {}",
                    path.depth()
                )));
            }
        }
    }

    /// Whether the next tokens are a function call (`word (`).
    pub(crate) fn at_function(&self) -> Option<String> {
        match (self.peek(), self.peek_second()) {
            (TokenKind::Word(name), TokenKind::LeftParen) => Some(name.clone()),
            _ => None,
        }
    }

    /// The error for a function the grammar does not allow where it stands.
    pub(crate) fn misplaced_function(&self, name: &str) -> DynamoError {
        if CONDITION_FUNCTIONS.contains(&name) || UPDATE_FUNCTIONS.contains(&name) {
            self.invalid(format!("The function is not allowed to be used this way in an expression; function: {name}"))
        } else {
            self.invalid(format!("Invalid function name; function: {name}"))
        }
    }

    pub(crate) fn wrong_operand_count(&self, function: &str, count: usize) -> DynamoError {
        self.invalid(format!(
            "Incorrect number of operands for operator or function; operator or function: {function}, number of operands: {count}"
        ))
    }

    pub(crate) fn wrong_operand_type(&self, function: &str, value: &AttrValue) -> DynamoError {
        self.invalid(format!(
            "Incorrect operand type for operator or function; operator or function: {function}, operand type: {}",
            value.attr_type().wire_name()
        ))
    }

    pub(crate) fn needs_path(&self, function: &str) -> DynamoError {
        self.invalid(format!("Operator or function requires a document path; operator or function: {function}"))
    }

    // ---- conditions ----

    /// A whole condition expression.
    pub(crate) fn condition(&mut self) -> Result<Node, DynamoError> {
        let node = self.or()?;
        self.expect_end()?;
        Ok(node)
    }

    fn or(&mut self) -> Result<Node, DynamoError> {
        let mut node = self.and()?;
        while self.eat_keyword("OR") {
            node = Node::Or(Box::new(node), Box::new(self.and()?));
        }
        Ok(node)
    }

    fn and(&mut self) -> Result<Node, DynamoError> {
        let mut node = self.not()?;
        while self.eat_keyword("AND") {
            node = Node::And(Box::new(node), Box::new(self.not()?));
        }
        Ok(node)
    }

    fn not(&mut self) -> Result<Node, DynamoError> {
        if self.eat_keyword("NOT") {
            self.enter()?;
            let inner = self.not()?;
            self.leave();
            return Ok(Node::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, DynamoError> {
        if self.eat(&TokenKind::LeftParen) {
            self.enter()?;
            let node = self.or()?;
            self.expect(&TokenKind::RightParen)?;
            self.leave();
            return Ok(node);
        }
        if let Some(function) = self.at_function() {
            if function != "size" {
                return self.condition_function(&function);
            }
        }
        let left = self.operand()?;
        if let Some(comparator) = self.comparator() {
            self.advance();
            let right = self.operand()?;
            return Ok(Node::Compare(comparator, left, right));
        }
        if self.eat_keyword("BETWEEN") {
            let low = self.operand()?;
            if !self.eat_keyword("AND") {
                return Err(self.syntax_error());
            }
            let high = self.operand()?;
            if let (Operand::Value(low), Operand::Value(high)) = (&low, &high) {
                if crate::expr::condition::order(low, high) == Some(std::cmp::Ordering::Greater) {
                    return Err(self.invalid(format!(
                        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {{{}:{}}}, upper bound operand: AttributeValue: {{{}:{}}}",
                        low.attr_type().wire_name(), scalar_text(low), high.attr_type().wire_name(), scalar_text(high)
                    )));
                }
            }
            return Ok(Node::Between(left, low, high));
        }
        if self.eat_keyword("IN") {
            self.expect(&TokenKind::LeftParen)?;
            let mut candidates = vec![self.operand()?];
            while self.eat(&TokenKind::Comma) {
                candidates.push(self.operand()?);
            }
            self.expect(&TokenKind::RightParen)?;
            if candidates.len() > IN_OPERANDS_MAX {
                return Err(self.invalid(format!(
                    "The IN operator is provided with too many operands; number of operands: {}",
                    candidates.len()
                )));
            }
            return Ok(Node::In(left, candidates));
        }
        Err(self.syntax_error())
    }

    fn comparator(&self) -> Option<Comparator> {
        Some(match self.peek() {
            TokenKind::Equal => Comparator::Eq,
            TokenKind::NotEqual => Comparator::Ne,
            TokenKind::Less => Comparator::Lt,
            TokenKind::LessEqual => Comparator::Le,
            TokenKind::Greater => Comparator::Gt,
            TokenKind::GreaterEqual => Comparator::Ge,
            _ => return None,
        })
    }

    /// A comparison's operand: a path, a `:value` or `size(path)`.
    pub(crate) fn operand(&mut self) -> Result<Operand, DynamoError> {
        if let Some(function) = self.at_function() {
            if function != "size" {
                return Err(self.misplaced_function(&function));
            }
            let mut operands = self.arguments()?;
            if operands.len() != 1 {
                return Err(self.wrong_operand_count("size", operands.len()));
            }
            return match operands.pop() {
                Some(Operand::Path(path)) => Ok(Operand::Size(path)),
                Some(Operand::Value(value)) => Err(self.wrong_operand_type("size", &value)),
                _ => Err(self.needs_path("size")),
            };
        }
        if let TokenKind::ValuePlaceholder(placeholder) = self.peek().clone() {
            let value = self.value(&placeholder)?;
            self.advance();
            return Ok(Operand::Value(value));
        }
        Ok(Operand::Path(self.path()?))
    }

    /// A call's parenthesized, comma-separated operands (the function's name is next).
    fn arguments(&mut self) -> Result<Vec<Operand>, DynamoError> {
        self.advance();
        self.expect(&TokenKind::LeftParen)?;
        let mut operands = vec![self.operand()?];
        while self.eat(&TokenKind::Comma) {
            operands.push(self.operand()?);
        }
        self.expect(&TokenKind::RightParen)?;
        Ok(operands)
    }

    fn condition_function(&mut self, function: &str) -> Result<Node, DynamoError> {
        let arity = match function {
            "attribute_exists" | "attribute_not_exists" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            _ => return Err(self.misplaced_function(function)),
        };
        let operands = self.arguments()?;
        if operands.len() != arity {
            return Err(self.wrong_operand_count(function, operands.len()));
        }
        let mut operands = operands.into_iter();
        let (Some(first), second) = (operands.next(), operands.next()) else {
            return Err(self.wrong_operand_count(function, 0));
        };
        let path = |parser: &Self, operand: Operand| match operand {
            Operand::Path(path) => Ok(path),
            _ => Err(parser.needs_path(function)),
        };
        Ok(match (function, second) {
            ("attribute_exists", _) => Node::Exists(path(self, first)?),
            ("attribute_not_exists", _) => Node::NotExists(path(self, first)?),
            ("attribute_type", Some(type_operand)) => {
                let path = path(self, first)?;
                let type_name = match type_operand {
                    Operand::Value(AttrValue::S(name)) => name,
                    Operand::Value(other) => return Err(self.wrong_operand_type(function, &other)),
                    _ => {
                        return Err(
                            self.invalid("Operator or function requires a value; operator or function: attribute_type")
                        )
                    }
                };
                if !ALL_TYPES.iter().any(|ty| ty.wire_name() == type_name) {
                    return Err(self.invalid(format!(
                        "Invalid attribute type name found; type: {type_name}, valid types: {{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }}"
                    )));
                }
                Node::AttributeType(path, type_name)
            }
            ("begins_with", Some(prefix)) => {
                for operand in [&first, &prefix] {
                    if let Operand::Value(value) = operand {
                        if !matches!(value, AttrValue::S(_) | AttrValue::B(_)) {
                            return Err(self.wrong_operand_type(function, value));
                        }
                    }
                }
                Node::BeginsWith(first, prefix)
            }
            (_, Some(needle)) => Node::Contains(first, needle),
            (_, None) => return Err(self.wrong_operand_count(function, 1)),
        })
    }

    // ---- projections ----

    /// A projection expression: comma-separated paths.
    pub(crate) fn projection(&mut self) -> Result<Vec<Path>, DynamoError> {
        let mut paths = vec![self.path()?];
        while self.eat(&TokenKind::Comma) {
            paths.push(self.path()?);
        }
        self.expect_end()?;
        Ok(paths)
    }
}

const ALL_TYPES: [AttrType; 10] = [
    AttrType::S,
    AttrType::N,
    AttrType::B,
    AttrType::Bool,
    AttrType::Null,
    AttrType::M,
    AttrType::L,
    AttrType::Ss,
    AttrType::Ns,
    AttrType::Bs,
];

/// A scalar as DynamoDB prints it inside `AttributeValue: {N:5}`.
fn scalar_text(value: &AttrValue) -> String {
    match value {
        AttrValue::S(text) => text.clone(),
        AttrValue::N(number) => number.to_string(),
        other => other.to_json().to_string(),
    }
}
