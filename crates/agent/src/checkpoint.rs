//! The checkpoint file: for every flow, every file's identity and the offset up to which
//! its records are acknowledged. Written whole, atomically (temporary file, fsync, rename,
//! fsync of the folder), so a crash leaves the old or the new version, never a mix; a
//! header with a magic, a version, the body's length and its CRC-32C rejects a damaged or
//! foreign file instead of misreading it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rotation::{FileId, Fingerprint};

/// First word of the header line.
const MAGIC: &str = "rheo-agent-checkpoints";
/// Version of the body's layout.
const VERSION: u32 = 1;
/// Largest checkpoint file read (a damaged length must not make us allocate gigabytes).
pub const MAX_CHECKPOINT_BYTES: u64 = 64 * 1024 * 1024;

/// One file's acknowledged position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheckpoint {
    /// Where it was last seen (informational: files are found by identity).
    pub path: PathBuf,
    /// (device, inode).
    pub id: FileId,
    /// Its first bytes' fingerprint.
    pub fingerprint: Option<Fingerprint>,
    /// Records up to here are acknowledged.
    pub offset: u64,
}

/// Every flow's file positions, by flow id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoints {
    /// Flow id → its files.
    pub flows: BTreeMap<String, Vec<FileCheckpoint>>,
}

/// A checkpoint file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a checkpoint file, or damaged.
    #[error("checkpoint file {path} is damaged ({what}); move it away to start over (files are then read from initialPosition)")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What does not check.
        what: String,
    },
}

/// Encodes checkpoints: a header line `MAGIC VERSION LENGTH CRC32C` and the JSON body.
pub fn encode(checkpoints: &Checkpoints) -> Vec<u8> {
    // Serializing plain structs and maps of strings cannot fail.
    let body = serde_json::to_vec(checkpoints).unwrap_or_default();
    let mut out = format!("{MAGIC} {VERSION} {} {:08x}\n", body.len(), crc32c::crc32c(&body)).into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Decodes what [`encode`] wrote, checking the header.
pub fn decode(bytes: &[u8]) -> Result<Checkpoints, String> {
    let newline = bytes.iter().position(|b| *b == b'\n').ok_or("no header line")?;
    let header = std::str::from_utf8(&bytes[..newline]).map_err(|_| "header is not text")?;
    let body = &bytes[newline + 1..];
    let fields: Vec<&str> = header.split(' ').collect();
    let [magic, version, length, crc] = fields.as_slice() else {
        return Err("header has the wrong shape".into());
    };
    if *magic != MAGIC {
        return Err("not a rheo agent checkpoint file".into());
    }
    if version.parse::<u32>().ok() != Some(VERSION) {
        return Err(format!("version {version}, expected {VERSION}"));
    }
    if length.parse::<usize>().ok() != Some(body.len()) {
        return Err(format!("body is {} bytes, header says {length}", body.len()));
    }
    if u32::from_str_radix(crc, 16).ok() != Some(crc32c::crc32c(body)) {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(body).map_err(|e| format!("body: {e}"))
}

/// Reads the checkpoint file; a missing file is an empty set.
pub fn load(path: &Path) -> Result<Checkpoints, CheckpointError> {
    let io = |source| CheckpointError::Io { path: path.into(), source };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Checkpoints::default()),
        Err(e) => return Err(io(e)),
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_CHECKPOINT_BYTES + 1), &mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_CHECKPOINT_BYTES {
        return Err(CheckpointError::Damaged { path: path.into(), what: "larger than any checkpoint file".into() });
    }
    decode(&bytes).map_err(|what| CheckpointError::Damaged { path: path.into(), what })
}

/// Replaces the checkpoint file atomically and durably.
pub fn store(path: &Path, checkpoints: &Checkpoints) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io { path: path.into(), source };
    let directory = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(directory).map_err(io)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary).map_err(io)?;
    file.write_all(&encode(checkpoints)).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io)?;
    std::fs::File::open(directory).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests;
