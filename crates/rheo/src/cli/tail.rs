//! `rheo tail`: every record of a stream as it arrives (or up to now with `--no-follow`),
//! through `rheo-client`'s lease-free reader.

use std::io::{BufWriter, IsTerminal as _, Write};
use std::sync::Arc;

use base64::Engine as _;
use rheo_client::reader::{ReaderConfig, StartPosition, StreamReader, StreamRecord};
use rheo_client::Kinesis;
use rheo_protocol::Timestamp;
use serde_json::json;

use super::output::{escape_controls, Paint, Style};
use super::{rfc3339, runtime, Connection};

/// How records are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `PARTITION-KEY DATA`, the data as text (invalid UTF-8 replaced).
    Text,
    /// One JSON object per record with its shard, sequence numbers, key, arrival and data.
    Json,
    /// `PARTITION-KEY HEX-OF-DATA`.
    Hex,
}

/// `rheo tail`.
#[derive(clap::Args, Debug)]
pub struct TailArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The stream's name or ARN.
    pub stream: String,
    /// Where to start: latest, trim-horizon, an RFC 3339 time (2024-05-01T12:00:00Z,
    /// 2024-05-01T14:00:00+02:00) or epoch seconds (1714564800.5).
    #[arg(long, default_value = "latest", value_parser = parse_from)]
    pub from: StartPosition,
    /// Stop once every open shard is caught up instead of waiting for new records.
    #[arg(long)]
    pub no_follow: bool,
    /// How records are printed.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs `rheo tail`.
pub fn tail(args: TailArgs) -> anyhow::Result<()> {
    // CBOR carries record data as raw bytes (JSON would base64 it).
    let kinesis = Arc::new(Kinesis::new_cbor(&args.connection.client_config()?)?);
    let style = Style::stdout();
    // Record data is untrusted: a terminal is shown its control characters as escapes,
    // while a pipe gets the bytes as they are.
    let escape = std::io::stdout().is_terminal();
    if std::io::stderr().is_terminal() && args.from == StartPosition::Latest && !args.no_follow {
        let hint =
            Style::stderr().paint(Paint::Dim, &format!("Waiting for new records in {} (Ctrl-C to stop)", args.stream));
        eprintln!("{hint}");
    }
    runtime()?.block_on(async {
        let mut config = ReaderConfig::new(args.from);
        config.stop_when_caught_up = args.no_follow;
        let mut reader = StreamReader::start(kinesis, &args.stream, config).await?;
        let mut out = BufWriter::new(std::io::stdout().lock());
        while let Some(record) = reader.next().await {
            let mut write = |record: StreamRecord| write_record(&mut out, style, escape, args.format, &record);
            let mut result = write(record?);
            // Everything already read goes out before one flush.
            while result.is_ok() {
                match reader.try_next() {
                    Some(record) => result = write(record?),
                    None => break,
                }
            }
            match result.and_then(|()| out.flush()) {
                Ok(()) => {}
                // The reading side went away (`rheo tail s | head`): done, not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        anyhow::Ok(())
    })
}

fn write_record(
    out: &mut impl Write,
    style: Style,
    escape: bool,
    format: Format,
    record: &StreamRecord,
) -> std::io::Result<()> {
    let shown = |text: &'_ str| if escape { escape_controls(text).into_owned() } else { text.to_owned() };
    let key = style.paint(Paint::Cyan, &shown(&record.partition_key));
    match format {
        Format::Text => {
            let text = String::from_utf8_lossy(&record.data);
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            writeln!(out, "{key} {}", shown(text))
        }
        Format::Hex => {
            let hex: String = record.data.iter().map(|b| format!("{b:02x}")).collect();
            writeln!(out, "{key} {hex}")
        }
        Format::Json => {
            let (data, encoding) = match std::str::from_utf8(&record.data) {
                Ok(text) => (text.to_owned(), "text"),
                Err(_) => (base64::engine::general_purpose::STANDARD.encode(&record.data), "base64"),
            };
            let object = json!({
                "shard_id": record.shard_id,
                "sequence_number": record.sequence_number.as_str(),
                "sub_sequence_number": record.sub_sequence_number,
                "partition_key": record.partition_key,
                "explicit_hash_key": record.explicit_hash_key,
                "arrival": record.arrival.map(rfc3339),
                "data": data,
                "encoding": encoding,
            });
            let line = object.to_string();
            // JSON escapes C0 characters itself, but not DEL and C1 (such as the one-byte CSI).
            if escape && line.chars().any(char::is_control) {
                let line: String = line
                    .chars()
                    .map(|c| if c.is_control() { format!("\\u{:04x}", u32::from(c)) } else { c.to_string() })
                    .collect();
                return writeln!(out, "{line}");
            }
            writeln!(out, "{line}")
        }
    }
}

/// Parses `--from`: `latest`, `trim-horizon`, epoch seconds or an RFC 3339 time.
fn parse_from(text: &str) -> Result<StartPosition, String> {
    match text.to_ascii_lowercase().as_str() {
        "latest" => return Ok(StartPosition::Latest),
        "trim-horizon" | "trim_horizon" => return Ok(StartPosition::TrimHorizon),
        _ => {}
    }
    let wanted = "expected latest, trim-horizon, an RFC 3339 time (2024-05-01T12:00:00Z) or epoch seconds";
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return match text.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() => {
                Ok(StartPosition::AtTimestamp(Timestamp::from_epoch_seconds_f64(seconds)))
            }
            _ => Err(wanted.to_owned()),
        };
    }
    parse_rfc3339(text).map(StartPosition::AtTimestamp).ok_or_else(|| wanted.to_owned())
}

/// RFC 3339 with `Z` or a numeric offset (`+02:00`); humantime reads the UTC part.
fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let (local, offset_seconds) = match text.strip_suffix(['Z', 'z']) {
        Some(local) => (local, 0),
        None => {
            // The offset is the last six characters: `+HH:MM` or `-HH:MM`.
            let split = text.len().checked_sub(6)?;
            let (local, offset) = (text.get(..split)?, text.get(split..)?);
            let sign = match offset.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = offset.get(1..3)?.parse().ok()?;
            let minutes: i64 = offset.get(4..6)?.parse().ok()?;
            if offset.as_bytes().get(3) != Some(&b':') || hours > 23 || minutes > 59 {
                return None;
            }
            (local, sign * (hours * 3600 + minutes * 60))
        }
    };
    let utc = humantime::parse_rfc3339_weak(local).ok()?;
    let millis = i64::try_from(utc.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()?;
    Some(Timestamp::from_epoch_millis(millis - offset_seconds * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> Result<StartPosition, String> {
        Ok(StartPosition::AtTimestamp(Timestamp::from_epoch_millis(millis)))
    }

    #[test]
    fn from_takes_names_epoch_seconds_and_rfc3339_with_offsets() {
        assert_eq!(parse_from("latest"), Ok(StartPosition::Latest));
        assert_eq!(parse_from("trim-horizon"), Ok(StartPosition::TrimHorizon));
        assert_eq!(parse_from("1714564800"), at(1_714_564_800_000));
        assert_eq!(parse_from("1714564800.25"), at(1_714_564_800_250));
        assert_eq!(parse_from("2024-05-01T12:00:00Z"), at(1_714_564_800_000));
        assert_eq!(parse_from("2024-05-01T12:00:00.5Z"), at(1_714_564_800_500));
        assert_eq!(parse_from("2024-05-01T14:00:00+02:00"), at(1_714_564_800_000));
        assert_eq!(parse_from("2024-05-01T07:30:00-04:30"), at(1_714_564_800_000));
        for bad in ["yesterday", "2024-05-01", "2024-05-01T12:00:00+2:00", "1.2.3", "2024-13-01T00:00:00Z", ""] {
            assert!(parse_from(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_records_carry_text_or_base64() {
        let record = |data: &'static [u8]| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: rheo_protocol::SequenceNumber::parse("49").unwrap(),
            sub_sequence_number: Some(2),
            partition_key: "k".into(),
            explicit_hash_key: None,
            arrival: Some(Timestamp::from_epoch_millis(1_714_564_800_250)),
            data: bytes::Bytes::from_static(data),
        };
        let plain = Style::plain();
        let mut out = Vec::new();
        write_record(&mut out, plain, false, Format::Json, &record(b"hi")).unwrap();
        write_record(&mut out, plain, false, Format::Json, &record(&[0xff, 0x00])).unwrap();
        write_record(&mut out, plain, false, Format::Hex, &record(&[0xff, 0x00])).unwrap();
        write_record(&mut out, plain, false, Format::Text, &record(b"line\n")).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["data"], "hi");
        assert_eq!(first["encoding"], "text");
        assert_eq!(first["sub_sequence_number"], 2);
        assert_eq!(first["arrival"], "2024-05-01T12:00:00.250Z");
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["data"], "/wA=");
        assert_eq!(second["encoding"], "base64");
        assert_eq!(lines[2], "k ff00");
        assert_eq!(lines[3], "k line");
    }

    #[test]
    fn a_terminal_sees_control_characters_as_escapes_and_a_pipe_gets_the_bytes() {
        let record = StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: rheo_protocol::SequenceNumber::parse("49").unwrap(),
            sub_sequence_number: None,
            partition_key: "k\u{1b}[2J".into(),
            explicit_hash_key: None,
            arrival: None,
            data: bytes::Bytes::from_static("\u{1b}]52;c;aGk=\u{7}\u{9b}1m\tok\n".as_bytes()),
        };
        let written = |escape: bool, format: Format| {
            let mut out = Vec::new();
            write_record(&mut out, Style::plain(), escape, format, &record).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(written(true, Format::Text), "k\\x1b[2J \\x1b]52;c;aGk=\\x07\\x9b1m\tok\n");
        assert_eq!(written(false, Format::Text), "k\u{1b}[2J \u{1b}]52;c;aGk=\u{7}\u{9b}1m\tok\n");
        assert_eq!(written(true, Format::Hex), "k\\x1b[2J 1b5d35323b633b61476b3d07c29b316d096f6b0a\n");
        let json = written(true, Format::Json);
        assert!(!json.trim_end().chars().any(char::is_control), "{json:?}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["data"], "\u{1b}]52;c;aGk=\u{7}\u{9b}1m\tok\n", "escaped, not changed");
    }
}
