//! The JSONPath subset of KDA's column mappings (developer guide, "Working with
//! JSONPath"): `$`, members `.name` and `['name']`/`["name"]`, `[0:]` (every element:
//! the whole array as text when last, one row per element when followed by more steps)
//! and, beyond the guide, a fixed index `[n]`.

use super::MappingConfigError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Member(String),
    Index(usize),
    /// `[0:]`.
    Every,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonPath {
    pub steps: Vec<Step>,
}

fn refuse(path: &str, why: &str) -> MappingConfigError {
    MappingConfigError(format!("JSONPath {path:?}: {why}"))
}

impl JsonPath {
    pub(crate) fn parse(path: &str) -> Result<Self, MappingConfigError> {
        let rest = path.strip_prefix('$').ok_or_else(|| refuse(path, "does not start with $"))?;
        let mut steps = Vec::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((at, next)) = chars.next() {
            match next {
                '.' => {
                    let start = at + 1;
                    let mut end = start;
                    while let Some(&(position, c)) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        end = position + c.len_utf8();
                        chars.next();
                    }
                    let name = &rest[start..end.max(start)];
                    if name.is_empty() {
                        return Err(refuse(path, "has an empty member name"));
                    }
                    if name == "*" {
                        return Err(refuse(path, "uses a wildcard member, which KDA does not support"));
                    }
                    steps.push(Step::Member(name.to_string()));
                }
                '[' => {
                    let close_search = &rest[at + 1..];
                    if let Some(quote @ ('\'' | '"')) = close_search.chars().next() {
                        let (name, used) = quoted_member(&close_search[1..], quote)
                            .ok_or_else(|| refuse(path, "has an unterminated quoted member"))?;
                        // Skip the quote, the name's characters and the closing `']`.
                        let skip_to = at + 1 + 1 + used;
                        while chars.peek().is_some_and(|&(position, _)| position < skip_to) {
                            chars.next();
                        }
                        steps.push(Step::Member(name));
                        continue;
                    }
                    let close = close_search.find(']').ok_or_else(|| refuse(path, "has an unclosed ["))?;
                    let inside = &close_search[..close];
                    let skip_to = at + 1 + close + 1;
                    while chars.peek().is_some_and(|&(position, _)| position < skip_to) {
                        chars.next();
                    }
                    if inside == "0:" {
                        steps.push(Step::Every);
                    } else if !inside.is_empty() && inside.bytes().all(|byte| byte.is_ascii_digit()) {
                        let index = inside.parse().map_err(|_| refuse(path, "has an index too large"))?;
                        steps.push(Step::Index(index));
                    } else {
                        return Err(refuse(path, &format!("[{inside}] is not supported (only [0:] and [n])")));
                    }
                }
                other => return Err(refuse(path, &format!("unexpected {other:?}"))),
            }
        }
        Ok(JsonPath { steps })
    }
}

/// The name of `['…']` (`\\` and `\'` escapes) and how many bytes it used up to and
/// including the closing `]`.
fn quoted_member(text: &str, quote: char) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => name.push(chars.next()?.1),
            c if c == quote => {
                let after = &text[at + 1..];
                return after.starts_with(']').then_some((name, at + 2));
            }
            c => name.push(c),
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn steps(path: &str) -> Vec<Step> {
        JsonPath::parse(path).unwrap().steps
    }

    fn member(name: &str) -> Step {
        Step::Member(name.into())
    }

    #[test]
    fn parses_the_forms_kda_documents() {
        assert_eq!(steps("$"), vec![]);
        assert_eq!(steps("$.customerName"), vec![member("customerName")]);
        assert_eq!(steps("$.address.city"), vec![member("address"), member("city")]);
        assert_eq!(steps("$.orders[0:]"), vec![member("orders"), Step::Every]);
        assert_eq!(steps("$.orders[0:].orderId"), vec![member("orders"), Step::Every, member("orderId")]);
        assert_eq!(steps("$.a[2].b"), vec![member("a"), Step::Index(2), member("b")]);
        assert_eq!(steps("$['quoted key'].x"), vec![member("quoted key"), member("x")]);
        assert_eq!(steps(r#"$["it's"]"#), vec![member("it's")]);
        assert_eq!(steps(r"$['a\'b']"), vec![member("a'b")]);
        assert_eq!(steps("$.ünï"), vec![member("ünï")]);
    }

    #[test]
    fn refuses_what_kda_does_not_run() {
        for path in ["a.b", "$.", "$..a", "$.a[*]", "$.a[1:2]", "$.a[", "$['a", "$.*", "$a", "$[-1]"] {
            assert!(JsonPath::parse(path).is_err(), "{path} must be refused");
        }
    }
}
