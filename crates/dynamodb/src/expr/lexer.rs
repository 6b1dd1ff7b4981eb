//! The expression languages' tokens. Keywords (`AND`, `SET`, `BETWEEN`, …) are plain
//! words here; the parser matches them without regard to case where its grammar expects
//! one, which is unambiguous because every keyword is also a reserved word that may not
//! name an attribute.

/// One token and where it stands in the text (byte offsets), for DynamoDB's `near:` text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A name or keyword: a letter or `_`, then letters, digits and `_`.
    Word(String),
    /// `#name`: an expression attribute name.
    NamePlaceholder(String),
    /// `:value`: an expression attribute value.
    ValuePlaceholder(String),
    /// Digits (list indexes).
    Integer(String),
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
    Dot,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    /// A character no token starts with; the parser reports it as a syntax error.
    Unexpected,
    End,
}

fn is_word_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Splits `text` into tokens, ending with [`TokenKind::End`].
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        let word_end = |from: usize| from + bytes[from..].iter().take_while(|&&b| is_word_char(b)).count();
        let (kind, end) = match byte {
            b'#' | b':' => {
                let end = word_end(at + 1);
                let name = text[start..end].to_owned();
                if end == at + 1 {
                    (TokenKind::Unexpected, end)
                } else if byte == b'#' {
                    (TokenKind::NamePlaceholder(name), end)
                } else {
                    (TokenKind::ValuePlaceholder(name), end)
                }
            }
            b'0'..=b'9' => {
                let end = at + bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count();
                (TokenKind::Integer(text[start..end].to_owned()), end)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let end = word_end(at);
                (TokenKind::Word(text[start..end].to_owned()), end)
            }
            b'(' => (TokenKind::LeftParen, at + 1),
            b')' => (TokenKind::RightParen, at + 1),
            b'[' => (TokenKind::LeftBracket, at + 1),
            b']' => (TokenKind::RightBracket, at + 1),
            b',' => (TokenKind::Comma, at + 1),
            b'.' => (TokenKind::Dot, at + 1),
            b'+' => (TokenKind::Plus, at + 1),
            b'-' => (TokenKind::Minus, at + 1),
            b'=' => (TokenKind::Equal, at + 1),
            b'<' => match bytes.get(at + 1) {
                Some(b'>') => (TokenKind::NotEqual, at + 2),
                Some(b'=') => (TokenKind::LessEqual, at + 2),
                _ => (TokenKind::Less, at + 1),
            },
            b'>' => match bytes.get(at + 1) {
                Some(b'=') => (TokenKind::GreaterEqual, at + 2),
                _ => (TokenKind::Greater, at + 1),
            },
            _ => {
                // One whole character, so the error quotes it and slicing stays on a
                // character boundary.
                let width = text[at..].chars().next().map_or(1, char::len_utf8);
                (TokenKind::Unexpected, at + width)
            }
        };
        tokens.push(Token { kind, start, end });
        at = end;
    }
    tokens.push(Token { kind: TokenKind::End, start: bytes.len(), end: bytes.len() });
    tokens
}
