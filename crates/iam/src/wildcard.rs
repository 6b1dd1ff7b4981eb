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
        Case::Insensitive => a == b || a.to_lowercase().eq(b.to_lowercase()),
    }
}

/// Whether `value` matches `pattern` as a whole. Greedy with one back-tracking point (the
/// last `*`), so the cost is O(pattern × value) at worst and never recursive.
pub(crate) fn matches(pattern: &[Token], value: &str, case: Case) -> bool {
    let mut p = 0;
    let mut s = 0;
    // (the pattern index after the last `*`, the value index that `*` currently ends at)
    let mut backtrack: Option<(usize, usize)> = None;
    while s < value.len() {
        let Some(c) = value[s..].chars().next() else { break };
        match pattern.get(p) {
            Some(Token::One) => {
                p += 1;
                s += c.len_utf8();
                continue;
            }
            Some(Token::Char(expected)) if chars_equal(*expected, c, case) => {
                p += 1;
                s += c.len_utf8();
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
                let Some(swallowed) = value[star_end..].chars().next() else { return false };
                let star_end = star_end + swallowed.len_utf8();
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
pub(crate) fn matches_arn(pattern: &[Token], value: &str) -> bool {
    let is_arn_pattern =
        pattern.len() > 4 && pattern[..4] == [Token::Char('a'), Token::Char('r'), Token::Char('n'), Token::Char(':')];
    if !is_arn_pattern || !value.starts_with("arn:") {
        return matches(pattern, value, Case::Sensitive);
    }
    let mut pattern_parts = pattern.splitn(ARN_COMPONENTS, |t| *t == Token::Char(':')).peekable();
    let mut value_rest = value;
    while let Some(part) = pattern_parts.next() {
        if pattern_parts.peek().is_none() {
            // The pattern's last component covers the rest of the value.
            return matches(part, value_rest, Case::Sensitive);
        }
        let Some((value_part, tail)) = value_rest.split_once(':') else {
            return false;
        };
        if !matches(part, value_part, Case::Sensitive) {
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

    fn arn(pattern: &str, value: &str) -> bool {
        matches_arn(&compile(pattern), value)
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
        }

        #[test]
        fn a_value_matches_itself_and_star(value in "[a-zA-Z0-9:/_-]{0,40}") {
            let literal: Vec<Token> = value.chars().map(Token::Char).collect();
            proptest::prop_assert!(matches(&literal, &value, Case::Sensitive));
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
