//! The key file: every key and version in one file, replaced atomically.
//!
//! ```text
//! │ magic "RHEOKEYS" │ version u16 │ 0 u16 │ body_len u32 │ crc u32 │ body (JSON) │
//!   crc (CRC-32C) covers bytes 0..16 and the body.
//! ```
//! A change writes `keys.bin.tmp` (mode 0600), syncs it, renames it over `keys.bin` and
//! syncs the folder, so a crash leaves the old or the new file, never a mix; readers
//! need no lock. Writers (the server creating the file, `rheo keys create|rotate`) hold
//! an exclusive lock on `keys.lock` from reading the file to renaming the new one, so
//! neither loses the other's change. The folder is 0700 and the file 0600; a file or
//! folder others can read is refused, as ssh refuses such private keys.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::KeyError;

/// The key file's name inside the key folder.
pub const KEY_FILE: &str = "keys.bin";
/// The writers' lock file's name inside the key folder.
pub const LOCK_FILE: &str = "keys.lock";
const TEMP_FILE: &str = "keys.bin.tmp";
const MAGIC: [u8; 8] = *b"RHEOKEYS";
const FORMAT_VERSION: u16 = 1;
const HEADER_BYTES: usize = 20;
/// A key file larger than this is refused unread (thousands of keys fit in far less).
pub const KEY_FILE_BYTES_MAX: u64 = 16 << 20;
const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;
/// Permission bits that let other users in.
const OTHERS_MASK: u32 = 0o077;

/// The file's body: every key, in number order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Keyring {
    /// The number the next new key gets; numbers are never reused.
    pub(crate) next_key: u32,
    pub(crate) keys: Vec<StoredKey>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredKey {
    pub(crate) number: u32,
    /// The KMS-style key id, a hyphenated UUID.
    pub(crate) id: String,
    pub(crate) aliases: Vec<String>,
    /// Oldest first; the last one seals new data.
    pub(crate) versions: Vec<StoredVersion>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredVersion {
    pub(crate) version: u32,
    /// The 32 bytes of key material, base64.
    pub(crate) material: String,
}

impl std::fmt::Debug for StoredVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredVersion").field("version", &self.version).finish_non_exhaustive()
    }
}

impl Drop for StoredVersion {
    fn drop(&mut self) {
        self.material.zeroize();
    }
}

/// The file's bytes for a keyring.
pub(crate) fn encode(keyring: &Keyring) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let body = Zeroizing::new(serde_json::to_vec(keyring).map_err(|error| KeyError::Encode(error.to_string()))?);
    let body_len = u32::try_from(body.len()).map_err(|_| KeyError::Limit("the key file is too large".into()))?;
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_BYTES + body.len()));
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&body_len.to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out), &body);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The keyring in a key file's bytes; any damage is an error naming what is wrong.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Keyring, KeyError> {
    let damaged = |reason: String| KeyError::Damaged { path: path.to_owned(), reason };
    if bytes.len() < HEADER_BYTES {
        return Err(damaged(format!("{} bytes is shorter than the {HEADER_BYTES}-byte header", bytes.len())));
    }
    let (header, body) = bytes.split_at(HEADER_BYTES);
    if header[..8] != MAGIC {
        return Err(damaged("it does not begin with the key file magic".into()));
    }
    let version = u16::from_le_bytes([header[8], header[9]]);
    if version != FORMAT_VERSION {
        return Err(damaged(format!("format version {version} is not {FORMAT_VERSION}")));
    }
    let body_len = u32::from_le_bytes([header[12], header[13], header[14], header[15]]) as usize;
    if body_len != body.len() {
        return Err(damaged(format!("the header says {body_len} body bytes, the file has {}", body.len())));
    }
    let stored_crc = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
    let crc = crc32c::crc32c_append(crc32c::crc32c(&header[..16]), body);
    if crc != stored_crc {
        return Err(damaged(format!("checksum {crc:08x} does not match the stored {stored_crc:08x}")));
    }
    serde_json::from_slice(body).map_err(|error| damaged(format!("unreadable body: {error}")))
}

pub(crate) fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> KeyError + 'a {
    move |source| KeyError::Io { action, path: path.to_owned(), source }
}

/// Creates the key folder (0700) if missing and refuses one others can enter.
pub(crate) fn prepare_dir(dir: &Path) -> Result<(), KeyError> {
    let created = !dir.exists();
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir).map_err(io("creating", dir))?;
    if created {
        // The new folder's entry lives in its parent: without this sync a crash soon
        // after the first start could lose the folder, key file and all.
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    check_private("folder", dir, DIR_MODE)
}

fn check_private(what: &'static str, path: &Path, wanted: u32) -> Result<(), KeyError> {
    let mode = std::fs::metadata(path).map_err(io("inspecting", path))?.permissions().mode() & 0o777;
    if mode & OTHERS_MASK != 0 {
        return Err(KeyError::Permissions { what, path: path.to_owned(), mode, wanted });
    }
    Ok(())
}

/// An exclusive lock on the key folder's lock file, released when dropped.
pub(crate) struct WriteLock(#[allow(dead_code)] File);

/// Waits for the writers' lock of the key folder.
pub(crate) fn lock(dir: &Path) -> Result<WriteLock, KeyError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(FILE_MODE)
        .open(&path)
        .map_err(io("opening", &path))?;
    file.lock().map_err(io("locking", &path))?;
    Ok(WriteLock(file))
}

/// The keyring in the folder's key file, `None` when there is none yet.
pub(crate) fn read(dir: &Path) -> Result<Option<Keyring>, KeyError> {
    let path = dir.join(KEY_FILE);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io("opening", &path)(error)),
    };
    check_private("file", &path, FILE_MODE)?;
    let len = file.metadata().map_err(io("inspecting", &path))?.len();
    if len > KEY_FILE_BYTES_MAX {
        return Err(KeyError::Damaged {
            path,
            reason: format!("{len} bytes is more than a key file's {KEY_FILE_BYTES_MAX}"),
        });
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(len as usize));
    file.read_to_end(&mut bytes).map_err(io("reading", &path))?;
    decode(&bytes, &path).map(Some)
}

/// Replaces the folder's key file with `keyring`, durably (see the module notes). The
/// caller holds the [`WriteLock`].
pub(crate) fn write(dir: &Path, keyring: &Keyring, _lock: &WriteLock) -> Result<(), KeyError> {
    let bytes = encode(keyring)?;
    replace_file(dir, KEY_FILE, TEMP_FILE, &bytes)
}

/// Replaces `dir/name` with `bytes` (mode 0600) through `dir/temp_name`: written, synced,
/// renamed into place, and the folder synced, so a crash leaves the old or the new file.
pub(crate) fn replace_file(dir: &Path, name: &str, temp_name: &str, bytes: &[u8]) -> Result<(), KeyError> {
    let temp = dir.join(temp_name);
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(FILE_MODE)
        .open(&temp)
        .map_err(io("creating", &temp))?;
    // `mode` applies only when the file is created; a leftover temp file keeps its own.
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE)).map_err(io("restricting", &temp))?;
    file.write_all(bytes).map_err(io("writing", &temp))?;
    file.sync_all().map_err(io("syncing", &temp))?;
    drop(file);
    std::fs::rename(&temp, &path).map_err(io("renaming into", &path))?;
    sync_dir(dir)
}

/// Makes the folder's entries (a file renamed or created in it) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("syncing", dir))
}

/// What tells one key file from another without reading it: every change renames a new
/// file into place, so its inode (with size and modification time) changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

/// The stamp of the folder's key file, `None` when there is none.
pub(crate) fn stamp(dir: &Path) -> Result<Option<FileStamp>, KeyError> {
    use std::os::unix::fs::MetadataExt as _;
    let path = dir.join(KEY_FILE);
    match std::fs::metadata(&path) {
        Ok(meta) => Ok(Some(FileStamp { inode: meta.ino(), len: meta.len(), modified: meta.modified().ok() })),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io("inspecting", &path)(error)),
    }
}

/// The key file's path in a key folder.
pub fn key_file(dir: &Path) -> PathBuf {
    dir.join(KEY_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Keyring {
        Keyring {
            next_key: 2,
            keys: vec![StoredKey {
                number: 1,
                id: "12345678-1234-1234-1234-123456789012".into(),
                aliases: vec!["alias/x".into()],
                versions: vec![StoredVersion { version: 1, material: "AAAA".into() }],
            }],
        }
    }

    #[test]
    fn encoding_round_trips() {
        let bytes = encode(&sample()).unwrap();
        let back = decode(&bytes, Path::new("k")).unwrap();
        assert_eq!(back.next_key, 2);
        assert_eq!(back.keys[0].aliases, vec!["alias/x".to_owned()]);
        assert_eq!(back.keys[0].versions[0].material, "AAAA");
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let bytes = encode(&sample()).unwrap();
        for at in 0..bytes.len() {
            let mut damaged = bytes.to_vec();
            damaged[at] ^= 0x01;
            let error = decode(&damaged, Path::new("k")).unwrap_err();
            assert!(matches!(error, KeyError::Damaged { .. }), "byte {at}: {error:?}");
        }
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], Path::new("k")).is_err(), "truncated to {len}");
        }
    }
}
