//! `OutputKeyTemplate`: how a channel names the objects it writes.
//!
//! Syntax and default from the developer guide's "S3 output key template for Amazon S3
//! delivery" page (`streams/latest/dev/data-delivery-s3-key-template`): literal text and
//! `!{name}` variables — `channel-name`, `channel-id`, `stream-name`, `yyyy`, `yy` (also
//! spelled `YY`), `MM`, `dd`, `HH`, `mm` and `extension` (the compression's extension, or a
//! literal one as `!{extension:.json.gz}`). AWS appends a unique suffix to every key; the
//! page does not say where, so Rheo puts it before a trailing `!{extension}` (keeping the
//! extension last, as a user expects) and otherwise at the end.
//!
//! The structural rules are those the MSK channel pages state for the same template
//! language (`msk-data-delivery-s3-template-rules`: no `..` or `./`, no leading or
//! trailing `/`, balanced `!{…}`, known variables only), plus no empty segment, which no
//! folder bucket can hold. The uniqueness-token rules of that page are Kafka's
//! (`!{kafka-offset}`, `!{sequence-number}`) and do not apply: Kinesis appends its suffix.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// AWS's default template (developer guide, "Default template").
pub const DEFAULT_TEMPLATE: &str = "kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/\
!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}";

/// Why a template is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("a '!{{' has no closing '}}'")]
    Unclosed,
    #[error("'{{' or '}}' outside a '!{{...}}' variable")]
    StrayBrace,
    #[error("unknown variable '!{{{0}}}'")]
    UnknownVariable(String),
    #[error("the extension in '!{{{0}}}' must start with '.' and use only letters, digits, '.', '-' and '_'")]
    BadExtension(String),
    #[error("it must not start with '/'")]
    LeadingSlash,
    #[error("it must not end with '/'")]
    TrailingSlash,
    #[error("it must not contain an empty path segment ('//')")]
    EmptySegment,
    #[error("it must not contain '.' or '..' path segments")]
    DotSegment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Variable {
    ChannelName,
    ChannelId,
    StreamName,
    Year,
    ShortYear,
    Month,
    Day,
    Hour,
    Minute,
    /// The compression's extension, or the literal given after `extension:`.
    Extension(Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(Variable),
}

/// A parsed, checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

/// What the variables of one object's key stand for.
pub struct KeyValues<'a> {
    pub channel_name: &'a str,
    pub channel_id: &'a str,
    pub stream_name: &'a str,
    /// The instant the time variables show (UTC), epoch ms.
    pub time_ms: u64,
    /// The compression's extension (`.gz`, `.zst`, or empty).
    pub extension: &'a str,
    /// The unique suffix appended to the key.
    pub unique: &'a str,
}

fn variable(name: &str) -> Result<Variable, TemplateError> {
    Ok(match name {
        "channel-name" => Variable::ChannelName,
        "channel-id" => Variable::ChannelId,
        "stream-name" => Variable::StreamName,
        "yyyy" => Variable::Year,
        "yy" | "YY" => Variable::ShortYear,
        "MM" => Variable::Month,
        "dd" => Variable::Day,
        "HH" => Variable::Hour,
        "mm" => Variable::Minute,
        "extension" => Variable::Extension(None),
        other => match other.strip_prefix("extension:") {
            Some(literal) => {
                let valid = literal.starts_with('.')
                    && literal.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
                if !valid {
                    return Err(TemplateError::BadExtension(other.to_owned()));
                }
                Variable::Extension(Some(literal.to_owned()))
            }
            None => return Err(TemplateError::UnknownVariable(other.to_owned())),
        },
    })
}

impl KeyTemplate {
    /// Parses and checks a template.
    pub fn parse(text: &str) -> Result<KeyTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find("!{") {
                Some(start) => {
                    if start > 0 {
                        parts.push(Part::Literal(rest[..start].to_owned()));
                    }
                    let after = &rest[start + 2..];
                    let end = after.find('}').ok_or(TemplateError::Unclosed)?;
                    parts.push(Part::Variable(variable(&after[..end])?));
                    rest = &after[end + 1..];
                }
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        let literals = || {
            parts.iter().filter_map(|p| match p {
                Part::Literal(text) => Some(text.as_str()),
                Part::Variable(_) => None,
            })
        };
        if literals().any(|l| l.contains(['{', '}'])) {
            return Err(TemplateError::StrayBrace);
        }
        if text.starts_with('/') {
            return Err(TemplateError::LeadingSlash);
        }
        if text.ends_with('/') {
            return Err(TemplateError::TrailingSlash);
        }
        if text.contains("//") {
            return Err(TemplateError::EmptySegment);
        }
        let template = KeyTemplate { parts };
        // Judged on a rendering: `!{extension}` is empty without compression and a literal
        // extension may be dots, so only the rendered key shows empty or dot segments.
        // Every other variable renders non-empty text without '/' or dots alone, and the
        // unique suffix is never empty, so this one rendering stands for all of them.
        let sample = template.render(&KeyValues {
            channel_name: "c",
            channel_id: "i",
            stream_name: "s",
            time_ms: 0,
            extension: "",
            unique: "-u",
        });
        if sample.starts_with('/') {
            return Err(TemplateError::LeadingSlash);
        }
        let mut segments = sample.split('/');
        if segments.any(|segment| segment.is_empty()) {
            return Err(TemplateError::EmptySegment);
        }
        if sample.split('/').any(|segment| segment.chars().all(|c| c == '.')) {
            return Err(TemplateError::DotSegment);
        }
        Ok(template)
    }

    /// AWS's default template.
    pub fn default_template() -> KeyTemplate {
        // The default is a constant that parses; the fallback keeps this total.
        KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap_or(KeyTemplate { parts: Vec::new() })
    }

    /// The key of one object.
    pub fn render(&self, values: &KeyValues<'_>) -> String {
        let time = DateTime::<Utc>::from_timestamp_millis(i64::try_from(values.time_ms).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let ends_with_extension = matches!(self.parts.last(), Some(Part::Variable(Variable::Extension(_))));
        let mut key = String::new();
        for (index, part) in self.parts.iter().enumerate() {
            if ends_with_extension && index + 1 == self.parts.len() {
                key.push_str(values.unique);
            }
            match part {
                Part::Literal(text) => key.push_str(text),
                Part::Variable(variable) => match variable {
                    Variable::ChannelName => key.push_str(values.channel_name),
                    Variable::ChannelId => key.push_str(values.channel_id),
                    Variable::StreamName => key.push_str(values.stream_name),
                    Variable::Year => key.push_str(&format!("{:04}", time.year())),
                    Variable::ShortYear => key.push_str(&format!("{:02}", time.year().rem_euclid(100))),
                    Variable::Month => key.push_str(&format!("{:02}", time.month())),
                    Variable::Day => key.push_str(&format!("{:02}", time.day())),
                    Variable::Hour => key.push_str(&format!("{:02}", time.hour())),
                    Variable::Minute => key.push_str(&format!("{:02}", time.minute())),
                    Variable::Extension(literal) => key.push_str(literal.as_deref().unwrap_or(values.extension)),
                },
            }
        }
        if !ends_with_extension {
            key.push_str(values.unique);
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn values(extension: &str) -> KeyValues<'_> {
        KeyValues {
            channel_name: "orders",
            channel_id: "0f8e",
            stream_name: "src",
            // 2026-07-14 09:05:33 UTC
            time_ms: 1_784_019_933_000,
            extension,
            unique: "-u1",
        }
    }

    #[test]
    fn the_default_template_names_objects_by_channel_and_hour() {
        let key = KeyTemplate::default_template().render(&values(".gz"));
        assert_eq!(key, "kinesis-channel/orders/0f8e/2026/07/14/09/orders-0f8e-2026-07-14-09-05-u1.gz");
        let plain = KeyTemplate::default_template().render(&values(""));
        assert_eq!(plain, "kinesis-channel/orders/0f8e/2026/07/14/09/orders-0f8e-2026-07-14-09-05-u1");
    }

    #[test]
    fn custom_templates_render_every_variable() {
        let template = KeyTemplate::parse("d/!{stream-name}/!{yy}!{YY}=!{mm}/x!{extension:.json.gz}").unwrap();
        assert_eq!(template.render(&values(".zst")), "d/src/2626=05/x-u1.json.gz");
        // Without a trailing extension the suffix goes last.
        let template = KeyTemplate::parse("!{channel-id}/!{HH}.json").unwrap();
        assert_eq!(template.render(&values(".gz")), "0f8e/09.json-u1");
    }

    #[test]
    fn malformed_templates_are_refused_with_their_rule() {
        let cases = [
            ("a/!{yyyy", TemplateError::Unclosed),
            ("a/!{badvar}/b", TemplateError::UnknownVariable("badvar".into())),
            ("a/{x}", TemplateError::StrayBrace),
            ("a/!{extension:gz}", TemplateError::BadExtension("extension:gz".into())),
            ("/a/!{HH}", TemplateError::LeadingSlash),
            ("!{yyyy}/!{MM}/", TemplateError::TrailingSlash),
            ("a//!{HH}", TemplateError::EmptySegment),
            ("a/../!{HH}", TemplateError::DotSegment),
            ("./!{HH}", TemplateError::DotSegment),
            ("!{extension:..}/x", TemplateError::DotSegment),
            ("a/!{extension}/x", TemplateError::EmptySegment),
            ("!{extension}/x", TemplateError::LeadingSlash),
        ];
        for (text, expected) in cases {
            assert_eq!(KeyTemplate::parse(text), Err(expected), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text the model's pattern admits (and more) parses or is refused without
        /// panicking, and an accepted template renders a key a folder bucket can hold.
        #[test]
        fn parsing_never_panics_and_accepted_templates_make_storable_keys(
            text in "[0-9A-Za-z!_'.*()/=:{}-]{0,40}|(!\\{(channel-name|yyyy|mm|extension|extension:\\.\\.?|bad)\\}|/|a|\\.){0,8}"
        ) {
            if let Ok(template) = KeyTemplate::parse(&text) {
                let key = template.render(&values(".gz"));
                prop_assert!(!key.starts_with('/') && !key.contains("//"), "{key}");
                prop_assert!(key.split('/').all(|segment| segment != "." && segment != ".."), "{key}");
            }
        }
    }
}
