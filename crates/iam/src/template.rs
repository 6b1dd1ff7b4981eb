//! Policy values that may hold policy variables (`${aws:username}`), as IAM reads them in
//! `Resource` elements and condition values of policies with `"Version": "2012-10-17"`.
//!
//! A variable's value is substituted as literal text: a user named `*` does not turn
//! `arn:...:stream/${aws:username}` into a wildcard.

use std::borrow::Cow;

use crate::wildcard::{self, Token};
use crate::{Context, ContextValue};

/// At most this many variables in one value (bounds the work of resolving it).
pub(crate) const MAX_VARIABLES_PER_VALUE: usize = 16;

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// Policy text: `*` and `?` are wildcards where the operator allows them.
    Text(String),
    /// A character written as `${*}`, `${?}` or `${$}`: always literal.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`.
    Variable { key: String, default: Option<String> },
}

/// A policy value, compiled once at parse time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// The wildcard tokens when the value has no variable (the common case: no work per
    /// request).
    fixed_tokens: Option<Vec<Token>>,
}

/// Why a value's variables could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError(pub(crate) String);

impl Template {
    /// A value without variables (policies of version 2008-10-17 have none).
    pub(crate) fn literal(text: &str) -> Template {
        Template::from_pieces(vec![Piece::Text(text.to_owned())])
    }

    /// Reads `${...}` variables out of `text`.
    pub(crate) fn with_variables(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut variables = 0;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(TemplateError(format!("The policy variable in \"{text}\" is not closed with '}}'.")));
            };
            let inner = after[..end].trim();
            match inner {
                "*" => pieces.push(Piece::Escaped('*')),
                "?" => pieces.push(Piece::Escaped('?')),
                "$" => pieces.push(Piece::Escaped('$')),
                _ => {
                    variables += 1;
                    if variables > MAX_VARIABLES_PER_VALUE {
                        return Err(TemplateError(format!(
                            "\"{text}\" has more than {MAX_VARIABLES_PER_VALUE} policy variables."
                        )));
                    }
                    pieces.push(parse_variable(inner, text)?);
                }
            }
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(Template::from_pieces(pieces))
    }

    fn from_pieces(pieces: Vec<Piece>) -> Template {
        let has_variable = pieces.iter().any(|p| matches!(p, Piece::Variable { .. }));
        let mut template = Template { pieces, fixed_tokens: None };
        if !has_variable {
            template.fixed_tokens = template.tokens(&Context::new()).map(Cow::into_owned);
        }
        template
    }

    /// The wildcard tokens with the request's variables substituted, or `None` when a
    /// variable without default has no value in the request (then the value matches
    /// nothing, as IAM documents).
    pub(crate) fn tokens<'a>(&'a self, context: &Context) -> Option<Cow<'a, [Token]>> {
        if let Some(tokens) = &self.fixed_tokens {
            return Some(Cow::Borrowed(tokens));
        }
        let mut tokens = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => tokens.extend(wildcard::compile(text)),
                Piece::Escaped(c) => tokens.push(Token::Char(*c)),
                Piece::Variable { key, default } => {
                    let value = variable_value(context, key).or_else(|| default.clone())?;
                    tokens.extend(value.chars().map(Token::Char));
                }
            }
        }
        Some(Cow::Owned(tokens))
    }

    /// The text with the request's variables substituted (wildcards literal), for the
    /// operators that compare exactly.
    pub(crate) fn text<'a>(&'a self, context: &Context) -> Option<Cow<'a, str>> {
        if let [Piece::Text(text)] = self.pieces.as_slice() {
            return Some(Cow::Borrowed(text));
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Escaped(c) => out.push(*c),
                Piece::Variable { key, default } => {
                    out.push_str(&variable_value(context, key).or_else(|| default.clone())?)
                }
            }
        }
        Some(Cow::Owned(out))
    }
}

fn parse_variable(inner: &str, whole: &str) -> Result<Piece, TemplateError> {
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let Some(default) = default.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')) else {
                return Err(TemplateError(format!(
                    "The default value of the policy variable in \"{whole}\" must be quoted with single quotes."
                )));
            };
            (key.trim(), Some(default.to_owned()))
        }
        None => (inner, None),
    };
    let well_formed =
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '/' | '.'));
    if !well_formed {
        return Err(TemplateError(format!("\"${{{inner}}}\" in \"{whole}\" is not a valid policy variable.")));
    }
    Ok(Piece::Variable { key: key.to_owned(), default })
}

/// A single-valued context key as text; multivalued keys cannot be substituted.
fn variable_value(context: &Context, key: &str) -> Option<String> {
    match context.get(key)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Bool(b) => Some(b.to_string()),
        ContextValue::Ip(ip) => Some(ip.to_string()),
        ContextValue::Number(n) => Some(n.to_string()),
        ContextValue::Date(_) | ContextValue::Strings(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wildcard::{matches_arn, Token};

    fn user(name: &str) -> Context {
        Context::new().with("aws:username", ContextValue::String(name.to_owned()))
    }

    #[test]
    fn variables_are_substituted_as_literal_text() {
        let t = Template::with_variables("arn:aws:kinesis:*:*:stream/${aws:username}-*").unwrap();
        let tokens = t.tokens(&user("alice")).unwrap();
        assert!(matches_arn(&tokens, "arn:aws:kinesis:us-east-1:123456789012:stream/alice-logs"));
        assert!(!matches_arn(&tokens, "arn:aws:kinesis:us-east-1:123456789012:stream/bob-logs"));
        // A name made of wildcards stays literal.
        let tokens = t.tokens(&user("*")).unwrap();
        assert!(!matches_arn(&tokens, "arn:aws:kinesis:us-east-1:123456789012:stream/bob-logs"));
    }

    #[test]
    fn missing_variable_uses_its_default_or_matches_nothing() {
        let t = Template::with_variables("team-${aws:PrincipalTag/team, 'none'}").unwrap();
        assert_eq!(t.text(&Context::new()).unwrap(), "team-none");
        let t = Template::with_variables("${aws:username}").unwrap();
        assert!(t.text(&Context::new()).is_none());
        assert!(t.tokens(&Context::new()).is_none());
    }

    #[test]
    fn escapes_are_literal() {
        let t = Template::with_variables("a${*}b").unwrap();
        assert_eq!(
            t.tokens(&Context::new()).unwrap().as_ref(),
            &[Token::Char('a'), Token::Char('*'), Token::Char('b')]
        );
        assert_eq!(t.text(&Context::new()).unwrap(), "a*b");
    }

    #[test]
    fn malformed_variables_are_refused() {
        assert!(Template::with_variables("${aws:username").is_err());
        assert!(Template::with_variables("${}").is_err());
        assert!(Template::with_variables("${aws:username, none}").is_err());
    }
}
