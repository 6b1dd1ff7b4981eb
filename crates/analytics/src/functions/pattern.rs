//! LIKE, SIMILAR TO and REGEX_REPLACE, through the `regex` crate. Compiled patterns are
//! cached per thread (the executor of an application runs on one), keyed by the
//! pattern's text, and the cache is bounded: past [`PATTERN_CACHE_MAX`] entries it is
//! emptied, so a pattern that changes on every row costs a compile, not memory.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use super::args::{arg, int, text, within_value_bound};
use crate::plan::PatternKind;
use crate::value::{ErrorKind, EvalError, Value};

/// Distinct compiled patterns kept per thread.
pub const PATTERN_CACHE_MAX: usize = 256;
/// Compiled regular expressions larger than this are refused (a row's pattern is data).
pub const REGEX_SIZE_MAX: usize = 1 << 20;

/// The pattern language of a cached regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Flavor {
    Like,
    SimilarTo,
    Java,
}

/// Compiled patterns per (language, escape character), then by pattern text, so that a
/// lookup borrows the row's text instead of allocating a key.
type Cache = HashMap<(Flavor, Option<char>), HashMap<String, Regex>>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
    /// Entries in [`CACHE`], across its inner maps.
    static CACHED: RefCell<usize> = const { RefCell::new(0) };
}

fn compiled(flavor: Flavor, pattern: &str, escape: Option<char>) -> Result<Regex, EvalError> {
    let hit =
        CACHE.with(|cache| cache.borrow().get(&(flavor, escape)).and_then(|by_text| by_text.get(pattern)).cloned());
    if let Some(regex) = hit {
        return Ok(regex);
    }
    let (source, what) = match flavor {
        Flavor::Like => (like_to_regex(pattern, escape)?, "LIKE"),
        Flavor::SimilarTo => (similar_to_regex(pattern, escape)?, "SIMILAR TO"),
        Flavor::Java => (pattern.to_owned(), "REGEX_REPLACE"),
    };
    let regex = regex::RegexBuilder::new(&source)
        .size_limit(REGEX_SIZE_MAX)
        .build()
        .map_err(|error| EvalError::new(ErrorKind::Function, format!("{what}: pattern not supported: {error}")))?;
    CACHE.with(|cache| {
        CACHED.with(|cached| {
            let (mut cache, mut cached) = (cache.borrow_mut(), cached.borrow_mut());
            if *cached >= PATTERN_CACHE_MAX {
                cache.clear();
                *cached = 0;
            }
            cache.entry((flavor, escape)).or_default().insert(pattern.to_owned(), regex.clone());
            *cached += 1;
        })
    });
    Ok(regex)
}

/// How many compiled patterns this thread holds.
#[cfg(test)]
pub(super) fn cached_patterns() -> usize {
    CACHE.with(|cache| cache.borrow().values().map(HashMap::len).sum())
}

/// `value LIKE pattern [ESCAPE c]` or `value SIMILAR TO pattern`; `None` when either is NULL.
pub fn matches_pattern(
    kind: PatternKind,
    value: &Value,
    pattern: &Value,
    escape: Option<char>,
) -> Result<Option<bool>, EvalError> {
    if value.is_null() || pattern.is_null() {
        return Ok(None);
    }
    let what = match kind {
        PatternKind::Like => "LIKE",
        PatternKind::SimilarTo => "SIMILAR TO",
    };
    let value = text(value, what)?;
    let pattern = text(pattern, what)?;
    let flavor = match kind {
        PatternKind::Like => Flavor::Like,
        PatternKind::SimilarTo => Flavor::SimilarTo,
    };
    Ok(Some(compiled(flavor, pattern, escape)?.is_match(value)))
}

fn bad_escape(what: &str, pattern: &str) -> EvalError {
    EvalError::new(ErrorKind::Function, format!("{what}: invalid escape in pattern '{pattern}'"))
}

/// LIKE: `%` any run, `_` any one character, the escape character makes the next one
/// literal; the whole value must match.
fn like_to_regex(pattern: &str, escape: Option<char>) -> Result<String, EvalError> {
    let mut out = String::from("(?s)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(next) if next == '%' || next == '_' || Some(next) == escape => {
                    out.push_str(&regex::escape(&next.to_string()));
                }
                _ => return Err(bad_escape("LIKE", pattern)),
            }
        } else if c == '%' {
            out.push_str(".*");
        } else if c == '_' {
            out.push('.');
        } else {
            out.push_str(&regex::escape(&c.to_string()));
        }
    }
    out.push('$');
    Ok(out)
}

/// SIMILAR TO (SQL:2011): LIKE's `%` and `_`, plus the regular-expression operators
/// `| * + ? {m,n} ( ) [ ]`; every other character is literal.
fn similar_to_regex(pattern: &str, escape: Option<char>) -> Result<String, EvalError> {
    let mut out = String::from("(?s)^(?:");
    let mut chars = pattern.chars();
    let mut in_brackets = false;
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            let next = chars.next().ok_or_else(|| bad_escape("SIMILAR TO", pattern))?;
            out.push_str(&regex::escape(&next.to_string()));
            continue;
        }
        if in_brackets {
            match c {
                ']' => {
                    in_brackets = false;
                    out.push(']');
                }
                '\\' | '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
            continue;
        }
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '[' => {
                in_brackets = true;
                out.push('[');
                // A leading `^` negates, as in POSIX brackets.
            }
            '|' | '*' | '+' | '?' | '(' | ')' | '{' | '}' | ',' => out.push(c),
            _ if c.is_ascii_digit() => out.push(c),
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    if in_brackets {
        return Err(EvalError::new(ErrorKind::Function, format!("SIMILAR TO: unclosed [ in pattern '{pattern}'")));
    }
    out.push_str(")$");
    Ok(out)
}

/// Java's replacement syntax (`$n` a group, `\x` a literal x) in `regex`'s (`${n}`, `$$`).
fn java_replacement(replacement: &str) -> Result<String, EvalError> {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(next) => out.push(next),
                None => {
                    return Err(EvalError::new(ErrorKind::Function, "REGEX_REPLACE: replacement ends with a backslash"))
                }
            },
            '$' => {
                let mut group = String::new();
                while let Some(digit) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    group.push(*digit);
                    chars.next();
                }
                if group.is_empty() {
                    return Err(EvalError::new(ErrorKind::Function, "REGEX_REPLACE: $ not followed by a group number"));
                }
                out.push_str(&format!("${{{group}}}"));
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// `REGEX_REPLACE(s, regex, replacement, start, occurrence)`: from the 1-based character
/// `start`, replaces every match (occurrence 0) or only the n-th.
pub fn regex_replace(args: &[Value]) -> Result<Value, EvalError> {
    let s = text(arg(args, 0, "REGEX_REPLACE")?, "REGEX_REPLACE")?;
    let pattern = text(arg(args, 1, "REGEX_REPLACE")?, "REGEX_REPLACE")?;
    let replacement = java_replacement(text(arg(args, 2, "REGEX_REPLACE")?, "REGEX_REPLACE")?)?;
    let start = int(arg(args, 3, "REGEX_REPLACE")?, "REGEX_REPLACE")?;
    let occurrence = int(arg(args, 4, "REGEX_REPLACE")?, "REGEX_REPLACE")?;
    if start < 1 || occurrence < 0 {
        return Err(EvalError::new(
            ErrorKind::Function,
            format!("REGEX_REPLACE: start {start} must be at least 1 and occurrence {occurrence} at least 0"),
        ));
    }
    let regex = compiled(Flavor::Java, pattern, None)?;
    let split = s.char_indices().nth(usize::try_from(start - 1).unwrap_or(usize::MAX)).map_or(s.len(), |(at, _)| at);
    let (head, tail) = s.split_at(split);
    // Built piece by piece, each checked against the bound before it is appended, since
    // replacing every match of a short pattern can multiply the string's size.
    let group_refs = replacement.matches("${").count();
    let mut out = String::from(head);
    let mut copied_to = 0;
    let mut expanded = String::new();
    let wanted = |index: usize| occurrence == 0 || usize::try_from(occurrence - 1).is_ok_and(|nth| nth == index);
    for (index, captures) in regex.captures_iter(tail).enumerate() {
        if !wanted(index) {
            continue;
        }
        let whole = captures.get(0).map_or(0..0, |m| m.range());
        // A group is at most the whole match, so this bounds the expansion.
        let expansion_max = replacement.len().saturating_add(group_refs.saturating_mul(whole.len()));
        within_value_bound(out.len() + (whole.start - copied_to) + expansion_max, "REGEX_REPLACE")?;
        out.push_str(&tail[copied_to..whole.start]);
        expanded.clear();
        captures.expand(&replacement, &mut expanded);
        out.push_str(&expanded);
        copied_to = whole.end;
        if occurrence != 0 {
            break;
        }
    }
    within_value_bound(out.len() + (tail.len() - copied_to), "REGEX_REPLACE")?;
    out.push_str(&tail[copied_to..]);
    Ok(Value::Str(out.into()))
}
