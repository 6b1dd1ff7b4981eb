//! Turns a file's bytes into records: lines, or multi-line records that begin at a line
//! matching `multiLineStartPattern`; header lines skipped; records longer than the limit
//! truncated with the terminator. Every record carries the file offset just past it, which
//! is what a checkpoint stores once the record is acknowledged.

use regex::Regex;

/// A record cut from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assembled {
    /// The bytes, line breaks included.
    pub data: Vec<u8>,
    /// The offset just past the record: reading resumes there after it is acknowledged.
    pub end_offset: u64,
    /// Whether it was cut to the maximum size.
    pub truncated: bool,
}

/// The per-file state of record assembly.
#[derive(Clone, Debug)]
pub struct Assembler {
    max_record_bytes: usize,
    /// The line being read (no newline yet), capped at `max_record_bytes + 1`.
    partial: Vec<u8>,
    partial_overflow: bool,
    /// The length of the line being read, which `partial` may hold only the start of.
    partial_bytes: u64,
    /// The offset of the first byte of `partial`.
    partial_start: u64,
    /// A multi-line record waiting for the next start line: its bytes, start offset, end.
    pending: Option<(Vec<u8>, u64, u64, bool)>,
    header_lines_left: u64,
    /// Offset up to which lines were consumed without producing a record (headers).
    pub skipped_to: u64,
}

impl Assembler {
    /// A fresh assembler for a file read from `offset`.
    pub fn new(offset: u64, max_record_bytes: usize, header_lines: u64) -> Self {
        let header_lines_left = if offset == 0 { header_lines } else { 0 };
        Assembler {
            max_record_bytes,
            partial: Vec::new(),
            partial_overflow: false,
            partial_bytes: 0,
            partial_start: offset,
            pending: None,
            header_lines_left,
            skipped_to: offset,
        }
    }

    /// Whether a multi-line record or a partial line is waiting.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some() || !self.partial.is_empty()
    }

    /// Feeds bytes read at `offset` (contiguous with what came before); complete records go to `out`.
    pub fn feed(&mut self, offset: u64, bytes: &[u8], start: Option<&Regex>, out: &mut Vec<Assembled>) {
        let mut position = 0;
        while position < bytes.len() {
            let rest = &bytes[position..];
            let (piece, complete) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (&rest[..=i], true),
                None => (rest, false),
            };
            let room = (self.max_record_bytes + 1).saturating_sub(self.partial.len());
            if piece.len() > room {
                self.partial.extend_from_slice(&piece[..room]);
                self.partial_overflow = true;
            } else {
                self.partial.extend_from_slice(piece);
            }
            position += piece.len();
            self.partial_bytes += piece.len() as u64;
            if complete {
                let end = offset + position as u64;
                self.complete_line(end, start, out);
            }
        }
    }

    fn complete_line(&mut self, end: u64, start: Option<&Regex>, out: &mut Vec<Assembled>) {
        let line = std::mem::take(&mut self.partial);
        let overflow = std::mem::replace(&mut self.partial_overflow, false);
        self.partial_bytes = 0;
        let line_start = std::mem::replace(&mut self.partial_start, end);
        if self.header_lines_left > 0 {
            self.header_lines_left -= 1;
            self.skipped_to = end;
            return;
        }
        let Some(start) = start else {
            out.push(self.finish(line, end, overflow));
            return;
        };
        let begins = start.is_match(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']));
        match self.pending.take() {
            Some((data, _, _, pending_overflow)) if begins => {
                out.push(self.finish(data, line_start, pending_overflow));
                self.pending = Some((line, line_start, end, overflow));
            }
            Some((mut data, first, _, pending_overflow)) => {
                let room = (self.max_record_bytes + 1).saturating_sub(data.len());
                let overflow_now = line.len() > room || pending_overflow || overflow;
                data.extend_from_slice(&line[..line.len().min(room)]);
                self.pending = Some((data, first, end, overflow_now));
            }
            None => self.pending = Some((line, line_start, end, overflow)),
        }
    }

    /// Emits the waiting multi-line record (the file went quiet or away), and with
    /// `include_partial` the last line even without its newline (the file is gone).
    pub fn flush(&mut self, include_partial: bool, start: Option<&Regex>, out: &mut Vec<Assembled>) {
        if include_partial && !self.partial.is_empty() {
            let end = self.partial_start + self.partial_bytes;
            self.complete_line(end, start, out);
        }
        if let Some((data, _, end, overflow)) = self.pending.take() {
            out.push(self.finish(data, end, overflow));
        }
    }

    fn finish(&self, data: Vec<u8>, end_offset: u64, overflow: bool) -> Assembled {
        let truncated = overflow || data.len() > self.max_record_bytes;
        Assembled { data, end_offset, truncated }
    }
}

/// Cuts a record to `max` bytes ending with `terminator` (which is shorter than `max`).
pub fn truncate(mut data: Vec<u8>, max: usize, terminator: &[u8]) -> Vec<u8> {
    if data.len() <= max {
        return data;
    }
    data.truncate(max.saturating_sub(terminator.len()));
    data.extend_from_slice(terminator);
    data
}

#[cfg(test)]
mod tests;
