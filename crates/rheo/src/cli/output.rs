//! What the commands for people print: aligned tables, colour and a progress line only on a
//! terminal (and only while NO_COLOR is unset), plain text for pipes.

use std::borrow::Cow;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

/// ANSI styles used on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    Bold,
    Dim,
    Green,
    Yellow,
    Red,
    Cyan,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Bold => "1",
            Paint::Dim => "2",
            Paint::Green => "32",
            Paint::Yellow => "33",
            Paint::Red => "31",
            Paint::Cyan => "36",
        }
    }
}

/// How one output (stdout or stderr) is written: coloured or plain.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    pub fn stdout() -> Self {
        Style { colour: std::io::stdout().is_terminal() && !no_color() }
    }

    /// Colour when stderr is a terminal and NO_COLOR is unset.
    pub fn stderr() -> Self {
        Style { colour: std::io::stderr().is_terminal() && !no_color() }
    }

    /// Never coloured.
    #[cfg(test)]
    pub fn plain() -> Self {
        Style { colour: false }
    }

    /// `text` in `paint` when colouring, else as it is.
    pub fn paint(self, paint: Paint, text: &str) -> String {
        if self.colour {
            format!("\x1b[{}m{text}\x1b[0m", paint.code())
        } else {
            text.to_owned()
        }
    }
}

/// NO_COLOR counts when set to anything but the empty string (no-color.org).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// A cell: its text and, on a terminal, its colour.
pub struct Cell {
    text: String,
    paint: Option<Paint>,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Self {
        Cell { text: text.into(), paint: None }
    }

    pub fn painted(text: impl Into<String>, paint: Paint) -> Self {
        Cell { text: text.into(), paint: Some(paint) }
    }
}

/// Columns left-aligned and padded to their widest cell (counted in characters), two
/// spaces apart; the header bold on a terminal. Padding is computed on the plain text so
/// colour codes do not break the alignment.
pub fn table(style: Style, headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.text.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<(String, usize)>| {
        let last = cells.len().saturating_sub(1);
        for (i, (shown, plain_len)) in cells.into_iter().enumerate() {
            out.push_str(&shown);
            if i < last {
                let width = widths.get(i).copied().unwrap_or(0);
                out.push_str(&" ".repeat(width.saturating_sub(plain_len) + 2));
            }
        }
        out.push('\n');
    };
    line(headers.iter().map(|h| (style.paint(Paint::Bold, h), h.chars().count())).collect());
    for row in rows {
        line(
            row.iter()
                .map(|cell| {
                    let shown = match cell.paint {
                        Some(paint) => style.paint(paint, &cell.text),
                        None => cell.text.clone(),
                    };
                    (shown, cell.text.chars().count())
                })
                .collect(),
        );
    }
    out
}

/// A one-line progress indicator on stderr, redrawn in place; silent unless stderr is a
/// terminal (pipes and logs get no carriage returns).
pub struct Progress {
    active: bool,
    style: Style,
    ticks: usize,
}

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

impl Progress {
    pub fn new() -> Self {
        Progress { active: std::io::stderr().is_terminal(), style: Style::stderr(), ticks: 0 }
    }

    /// Redraws the line: `message` and the time waited so far.
    pub fn update(&mut self, message: &str, waited: Duration) {
        if !self.active {
            return;
        }
        let spinner = SPINNER.get(self.ticks % SPINNER.len()).copied().unwrap_or("-");
        self.ticks += 1;
        let line = format!("{spinner} {message} ({}s)", waited.as_secs());
        let mut stderr = std::io::stderr().lock();
        // \x1b[K clears what a longer earlier line left.
        let _ = write!(stderr, "\r{}\x1b[K", self.style.paint(Paint::Cyan, &line));
        let _ = stderr.flush();
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.active && self.ticks > 0 {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
        }
    }
}

/// Colour of a stream status.
pub fn status_paint(status: &str) -> Paint {
    match status {
        "ACTIVE" => Paint::Green,
        "DELETING" => Paint::Red,
        _ => Paint::Yellow,
    }
}

/// `text` with its control characters (C0, DEL and C1, but not tab) written as visible
/// escapes such as `\x1b`, for untrusted text shown on a terminal: escape sequences in it
/// could otherwise retitle the window, write the clipboard or rewrite earlier output.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c != '\t' && c.is_control();
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            // Every control character is below U+0100, so two hex digits hold it.
            escaped.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_on_the_plain_text_even_when_coloured() {
        let rows = vec![
            vec![Cell::plain("orders"), Cell::painted("ACTIVE", Paint::Green)],
            vec![Cell::plain("a"), Cell::painted("CREATING", Paint::Yellow)],
        ];
        let plain = table(Style { colour: false }, &["NAME", "STATUS"], &rows);
        assert_eq!(plain, "NAME    STATUS\norders  ACTIVE\na       CREATING\n");
        let coloured = table(Style { colour: true }, &["NAME", "STATUS"], &rows);
        let stripped =
            coloured.replace("\x1b[1m", "").replace("\x1b[32m", "").replace("\x1b[33m", "").replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
        assert!(coloured.contains("\x1b[32mACTIVE\x1b[0m"));
    }

    #[test]
    fn control_characters_are_shown_as_escapes_and_tabs_kept() {
        assert_eq!(escape_controls("plain\ttext é"), "plain\ttext é");
        assert_eq!(escape_controls("\u{1b}]0;title\u{7}x"), "\\x1b]0;title\\x07x");
        assert_eq!(escape_controls("a\u{9b}2Jb\u{7f}\r"), "a\\x9b2Jb\\x7f\\x0d");
    }
}
