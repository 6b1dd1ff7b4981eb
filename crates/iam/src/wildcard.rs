//! IAM's wildcard matching: `*` (any run of characters, possibly empty) and `?` (exactly
//! one character), over whole strings (actions, `StringLike`) or component by component
//! over ARNs (`Resource`, `ArnLike`).

/// One element of a compiled wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// This character, literally.
    Char(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A compiled pattern. Most patterns in real policies are literal text, possibly followed by
/// one `*` (`kinesis:GetRecords`, `kinesis:Get*`, `arn:aws:kinesis:*:*:stream/*` is not, but
/// `arn:aws:kinesis:us-east-1:123456789012:stream/*` is); those are matched by comparing
/// strings, which is several times cheaper than stepping through tokens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
    /// The literal text and whether a `*` follows it, when the pattern has that shape.
    simple: Option<(String, bool)>,
    /// An ARN pattern's components, each compiled on its own (empty for other patterns).
    arn_components: Vec<Pattern>,
}

impl Pattern {
    pub(crate) fn new(tokens: Vec<Token>) -> Pattern {
        let mut pattern = Pattern::flat(tokens);
        if is_arn_pattern(&pattern.tokens) {
            let components = pattern.tokens.splitn(ARN_COMPONENTS, |t| *t == Token::Char(':'));
            pattern.arn_components = components.map(|c| Pattern::flat(c.to_vec())).collect();
        }
        pattern
    }

    /// The pattern without its ARN components.
    fn flat(tokens: Vec<Token>) -> Pattern {
        let (body, trailing_any) = match tokens.split_last() {
            Some((Token::Any, body)) => (body, true),
            _ => (tokens.as_slice(), false),
        };
        let literal: Option<String> =
            body.iter().map(|t| if let Token::Char(c) = t { Some(*c) } else { None }).collect();
        let simple = literal.map(|text| (text, trailing_any));
        Pattern { tokens, simple, arn_components: Vec::new() }
    }

    /// Compiles `text` where `*` and `?` are wildcards.
    pub(crate) fn parse(text: &str) -> Pattern {
        Pattern::new(compile(text))
    }

    #[cfg(test)]
    pub(crate) fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// [`matches`], by string comparison when the pattern's shape allows.
    pub(crate) fn matches(&self, value: &str, case: Case) -> bool {
        match &self.simple {
            Some((text, trailing_any)) => match simple_match(text, *trailing_any, value, case) {
                Some(result) => result,
                None => matches(&self.tokens, value, case),
            },
            None => matches(&self.tokens, value, case),
        }
    }

    /// [`matches_arn`]. For literal text with at most a trailing `*`, the component-wise
    /// match is the same as a whole-string one: the literal components must be equal, and
    /// the component holding the `*` is the pattern's last, which covers the rest.
    pub(crate) fn matches_arn(&self, value: &str) -> bool {
        if let Some((text, trailing_any)) = &self.simple {
            return simple_match(text, *trailing_any, value, Case::Sensitive).unwrap_or(false);
        }
        if self.arn_components.is_empty() || !value.starts_with("arn:") {
            return matches(&self.tokens, value, Case::Sensitive);
        }
        match_components(&self.arn_components, value, |component, part| component.matches(part, Case::Sensitive))
    }
}

/// Literal (or literal-then-`*`) matching by string comparison, or `None` when case-insensitive
/// comparison of non-ASCII text needs the general matcher's Unicode case folding.
fn simple_match(text: &str, trailing_any: bool, value: &str, case: Case) -> Option<bool> {
    match case {
        Case::Sensitive if trailing_any => Some(value.starts_with(text)),
        Case::Sensitive => Some(value == text),
        Case::Insensitive if text.is_ascii() && value.is_ascii() => Some(if trailing_any {
            value.len() >= text.len() && value.as_bytes()[..text.len()].eq_ignore_ascii_case(text.as_bytes())
        } else {
            value.eq_ignore_ascii_case(text)
        }),
        Case::Insensitive => None,
    }
}

/// Whether characters compare exactly or ignoring case (actions are case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    Sensitive,
    Insensitive,
}

/// Compiles `text` where `*` and `?` are wildcards.
pub(crate) fn compile(text: &str) -> Vec<Token> {
    text.chars()
        .map(|c| match c {
            '*' => Token::Any,
            '?' => Token::One,
            c => Token::Char(c),
        })
        .collect()
}

fn chars_equal(a: char, b: char, case: Case) -> bool {
    match case {
        Case::Sensitive => a == b,
        // Actions are ASCII: compare without Unicode case tables unless a character is not.
        Case::Insensitive if a.is_ascii() && b.is_ascii() => a.eq_ignore_ascii_case(&b),
        Case::Insensitive => a == b || a.to_lowercase().eq(b.to_lowercase()),
    }
}

/// Whether `value` matches `pattern` as a whole. Greedy with one back-tracking point (the
/// last `*`), so the cost is O(pattern × value) at worst and never recursive.
pub(crate) fn matches(pattern: &[Token], value: &str, case: Case) -> bool {
    if value.is_ascii() {
        // Every value Rheo matches in practice (ARNs, actions) is ASCII: one byte is one
        // character, so no UTF-8 decoding per step (this runs on every authorized call).
        let bytes = value.as_bytes();
        matches_units(pattern, value.len(), |at| (char::from(bytes[at]), 1), case)
    } else {
        matches_units(
            pattern,
            value.len(),
            |at| value[at..].chars().next().map_or(('\0', 1), |c| (c, c.len_utf8())),
            case,
        )
    }
}

/// The matcher over a value of `len` bytes whose character at a byte offset `char_at` gives
/// (with its width in bytes); offsets passed are always character boundaries below `len`.
fn matches_units(pattern: &[Token], len: usize, char_at: impl Fn(usize) -> (char, usize), case: Case) -> bool {
    let mut p = 0;
    let mut s = 0;
    // (the pattern index after the last `*`, the value index that `*` currently ends at)
    let mut backtrack: Option<(usize, usize)> = None;
    while s < len {
        let (c, width) = char_at(s);
        match pattern.get(p) {
            Some(Token::One) => {
                p += 1;
                s += width;
                continue;
            }
            Some(Token::Char(expected)) if chars_equal(*expected, c, case) => {
                p += 1;
                s += width;
                continue;
            }
            Some(Token::Any) => {
                p += 1;
                backtrack = Some((p, s));
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((after_star, star_end)) => {
                let star_end = star_end + char_at(star_end).1;
                backtrack = Some((after_star, star_end));
                p = after_star;
                s = star_end;
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|t| *t == Token::Any)
}

/// The number of colon-separated components of an ARN (`arn:partition:service:region:
/// account:resource`); the resource part may itself contain colons.
const ARN_COMPONENTS: usize = 6;

/// Whether `value` matches the ARN pattern `pattern`, as IAM matches `Resource` elements
/// and `ArnLike`: when both are ARNs, each of the six colon-separated components is matched
/// on its own, so a wildcard never spans from the region into the account. A pattern with
/// fewer components (`arn:aws:kinesis:*`) lets its last component cover the rest. A value or
/// pattern that is not an ARN (such as the `*` of actions on no resource) is matched whole.
/// [`Pattern::matches_arn`] does the same over pre-compiled components; this token form is
/// the reference its tests compare against.
#[cfg(test)]
pub(crate) fn matches_arn(pattern: &[Token], value: &str) -> bool {
    if !is_arn_pattern(pattern) || !value.starts_with("arn:") {
        return matches(pattern, value, Case::Sensitive);
    }
    let components = pattern.splitn(ARN_COMPONENTS, |t| *t == Token::Char(':'));
    match_components(components, value, |component, part| matches(component, part, Case::Sensitive))
}

fn is_arn_pattern(pattern: &[Token]) -> bool {
    pattern.len() > 4 && pattern[..4] == [Token::Char('a'), Token::Char('r'), Token::Char('n'), Token::Char(':')]
}

/// Matches an ARN's colon-separated components against the pattern's, in order; the
/// pattern's last component covers the rest of the value.
fn match_components<C>(
    components: impl IntoIterator<Item = C>,
    value: &str,
    matches: impl Fn(C, &str) -> bool,
) -> bool {
    let mut components = components.into_iter().peekable();
    let mut value_rest = value;
    while let Some(component) = components.next() {
        if components.peek().is_none() {
            return matches(component, value_rest);
        }
        let Some((value_part, tail)) = value_rest.split_once(':') else {
            return false;
        };
        if !matches(component, value_part) {
            return false;
        }
        value_rest = tail;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(pattern: &str, value: &str) -> bool {
        matches(&compile(pattern), value, Case::Sensitive)
    }

    /// The compiled pattern's answer, checked against the token reference.
    fn arn(pattern: &str, value: &str) -> bool {
        let compiled = Pattern::parse(pattern).matches_arn(value);
        assert_eq!(compiled, matches_arn(&compile(pattern), value), "{pattern} ~ {value}");
        compiled
    }

    #[test]
    fn whole_string_wildcards() {
        assert!(glob("*", ""));
        assert!(glob("*", "anything"));
        assert!(glob("kinesis:Put*", "kinesis:PutRecords"));
        assert!(!glob("kinesis:Put*", "kinesis:GetRecords"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(!glob("a*b*c", "aXbYbZ"));
        assert!(glob("é?", "éü"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("**", "x"));
    }

    #[test]
    fn case_insensitive_for_actions() {
        assert!(matches(&compile("Kinesis:put*"), "kinesis:PutRecord", Case::Insensitive));
        assert!(!matches(&compile("Kinesis:put*"), "kinesis:PutRecord", Case::Sensitive));
    }

    #[test]
    fn arns_match_component_by_component() {
        let stream = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
        assert!(arn("arn:aws:kinesis:*:123456789012:stream/*", stream));
        assert!(arn("arn:aws:kinesis:us-east-1:*:stream/orders", stream));
        assert!(!arn("arn:aws:kinesis:us-east-1:*:stream/order", stream));
        // A wildcard in the region does not reach into the account.
        assert!(!arn(
            "arn:aws:kinesis:us-*1:123456789012:stream/orders",
            "arn:aws:kinesis:us-east:1:123456789012:stream/orders"
        ));
        assert!(arn("arn:aws:kinesis:*", stream));
        assert!(arn(
            "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/*",
            "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/c1:1700000000"
        ));
        assert!(arn("*", stream));
        assert!(arn("*", "*"));
        assert!(!arn("arn:aws:kinesis:*:*:*", "*"));
        assert!(!arn("arn:aws:kinesis:us-east-1:123456789012:stream/Orders", stream));
    }

    /// The reference: the pattern as an anchored regular expression.
    fn reference(pattern: &str, value: &str, case_insensitive: bool) -> bool {
        let mut re = String::from(if case_insensitive { "(?is)^" } else { "(?s)^" });
        for c in pattern.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        regex::Regex::new(&re).unwrap().is_match(value)
    }

    proptest::proptest! {
        #[test]
        fn matcher_agrees_with_a_regex(pattern in "[ab*?:é]{0,12}", value in "[abAB:é]{0,16}") {
            proptest::prop_assert_eq!(matches(&compile(&pattern), &value, Case::Sensitive), reference(&pattern, &value, false));
            proptest::prop_assert_eq!(matches(&compile(&pattern), &value, Case::Insensitive), reference(&pattern, &value, true));
            let compiled = Pattern::parse(&pattern);
            proptest::prop_assert_eq!(compiled.matches(&value, Case::Sensitive), reference(&pattern, &value, false));
            proptest::prop_assert_eq!(compiled.matches(&value, Case::Insensitive), reference(&pattern, &value, true));
            proptest::prop_assert_eq!(compiled.matches_arn(&value), matches_arn(&compile(&pattern), &value));
        }

        #[test]
        fn compiled_arn_patterns_agree_with_component_matching(pattern in "arn:[ab:]{0,10}\\*?", value in "(arn:)?[ab:]{0,12}") {
            proptest::prop_assert_eq!(Pattern::parse(&pattern).matches_arn(&value), matches_arn(&compile(&pattern), &value));
        }

        #[test]
        fn a_value_matches_itself_and_star(value in "[a-zA-Z0-9:/_-]{0,40}") {
            let literal: Vec<Token> = value.chars().map(Token::Char).collect();
            proptest::prop_assert!(matches(&literal, &value, Case::Sensitive));
            proptest::prop_assert!(Pattern::new(literal).matches(&value, Case::Sensitive));
            proptest::prop_assert!(matches(&[Token::Any], &value, Case::Sensitive));
            proptest::prop_assert!(matches_arn(&[Token::Any], &value));
        }

        #[test]
        fn arn_components_are_matched_separately(
            region in "[a-z]{1,4}(-[a-z]{1,4})?",
            account in "[0-9]{3}",
            other_region in "[a-z]{1,4}(-[a-z]{1,4})?",
            name in "[a-z/]{1,10}",
        ) {
            let value = format!("arn:aws:kinesis:{region}:{account}:stream/{name}");
            // A wildcard region matches any region but the account stays exact.
            let any_region = format!("arn:aws:kinesis:*:{account}:stream/*");
            let other_account = format!("arn:aws:kinesis:*:9{account}:stream/*");
            let in_other_region = format!("arn:aws:kinesis:{other_region}:*:*");
            proptest::prop_assert!(arn(&any_region, &value));
            proptest::prop_assert!(!arn(&other_account, &value));
            proptest::prop_assert_eq!(arn(&in_other_region, &value), other_region == region);
        }
    }
}
