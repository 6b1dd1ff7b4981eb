//! The LSN reservation: a durable upper bound of every LSN the log has handed out.
//!
//! Recovery alone cannot know the highest LSN ever acknowledged: a damaged frame that
//! `--recover-truncate` cuts, or a torn last frame, takes its LSNs with it, and without a
//! bound the log would hand the same numbers out again. A consumer resuming
//! `AFTER_SEQUENCE_NUMBER` from a checkpoint inside the lost range would then silently
//! skip every new record up to the old high-water mark. So before any LSN reaches the disk
//! (in a frame or in metadata) the writer makes sure it lies below the reservation kept
//! here, extending it by [`LSN_RESERVE_BLOCK`] at a time (one small synced file write per
//! block, so its cost disappears next to the group commits), and after any start-up the
//! log continues at or above the reservation.
//!
//! ```text
//! │ magic "RHEOLSNR" │ version u16 │ 0 u16 │ reserved_until u64 │ crc u32 │
//!   crc (CRC-32C) covers the 20 bytes before it. Replaced atomically (temporary file,
//!   fdatasync, rename, folder sync), like the stream metadata beside it.
//! ```

use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};
use crate::fs::{join, FileSystem};

/// The reservation's file name, in the metadata folder.
pub const RESERVE_FILE: &str = "lsn.reserve";

/// How many LSNs one extension of the reservation covers. A restart skips at most this
/// many, out of 2^63: a million restarts a day for ten thousand years still fit.
pub const LSN_RESERVE_BLOCK: u64 = 1 << 24;

const MAGIC: [u8; 8] = *b"RHEOLSNR";
const VERSION: u16 = 1;
const BODY_BYTES: usize = 20;
const FILE_BYTES: usize = BODY_BYTES + 4;
const TEMP_SUFFIX: &str = ".tmp";

/// The file's path in `meta_dir`.
pub fn path(meta_dir: &Path) -> PathBuf {
    join(meta_dir, RESERVE_FILE)
}

/// Encodes a reservation.
pub fn encode(reserved_until: u64) -> [u8; FILE_BYTES] {
    let mut bytes = [0u8; FILE_BYTES];
    bytes[..8].copy_from_slice(&MAGIC);
    bytes[8..10].copy_from_slice(&VERSION.to_le_bytes());
    bytes[12..20].copy_from_slice(&reserved_until.to_le_bytes());
    let crc = crc32c::crc32c(&bytes[..BODY_BYTES]);
    bytes[BODY_BYTES..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// Decodes a reservation; never panics.
pub fn decode(bytes: &[u8]) -> Result<u64, String> {
    if bytes.len() != FILE_BYTES {
        return Err(format!("{} bytes, expected {FILE_BYTES}", bytes.len()));
    }
    if bytes[..8] != MAGIC {
        return Err("bad magic".into());
    }
    let stored_crc = u32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    if crc32c::crc32c(&bytes[..BODY_BYTES]) != stored_crc {
        return Err("checksum mismatch".into());
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(format!("unknown version {version}"));
    }
    let mut value = [0u8; 8];
    value.copy_from_slice(&bytes[12..20]);
    Ok(u64::from_le_bytes(value))
}

/// Reads the reservation; `None` for a log written before reservations existed.
pub fn load(fs: &dyn FileSystem, meta_dir: &Path) -> Result<Option<u64>> {
    let path = path(meta_dir);
    let temp = join(meta_dir, &format!("{RESERVE_FILE}{TEMP_SUFFIX}"));
    if fs.exists(&temp) {
        fs.remove_file(&temp).map_err(|e| StorageError::io("remove temporary LSN reservation", &temp, e))?;
    }
    if !fs.exists(&path) {
        return Ok(None);
    }
    let file = fs.open_read(&path).map_err(|e| StorageError::io("open LSN reservation", &path, e))?;
    let len = file.len().map_err(|e| StorageError::io("stat LSN reservation", &path, e))?;
    let mut bytes = vec![0u8; len.min(FILE_BYTES as u64 + 1) as usize];
    file.read_exact_at(&mut bytes, 0).map_err(|e| StorageError::io("read LSN reservation", &path, e))?;
    decode(&bytes).map(Some).map_err(|detail| StorageError::MetadataCorrupt { path, detail })
}

/// Replaces the reservation durably.
pub fn store(fs: &dyn FileSystem, meta_dir: &Path, reserved_until: u64) -> io::Result<()> {
    let temp = join(meta_dir, &format!("{RESERVE_FILE}{TEMP_SUFFIX}"));
    let mut file = fs.open_write(&temp)?;
    file.set_len(0)?;
    file.write_all_at(&encode(reserved_until), 0)?;
    file.sync_data()?;
    drop(file);
    fs.rename(&temp, &path(meta_dir))?;
    fs.sync_dir(meta_dir)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fs::create_dir_durably;
    use crate::memfs::{MemFs, Tear};

    proptest! {
        #[test]
        fn round_trips(value: u64) {
            prop_assert_eq!(decode(&encode(value)), Ok(value));
        }

        #[test]
        fn any_bit_flip_is_detected(value: u64, bit in 0usize..FILE_BYTES * 8) {
            let mut bytes = encode(value);
            bytes[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(decode(&bytes).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }

    /// Fails without the folder sync after the rename: MemFs loses unsynced folder entries.
    #[test]
    fn a_stored_reservation_survives_a_crash_right_after_the_call_returns() {
        let fs = MemFs::new();
        let meta_dir = Path::new("/d/meta");
        create_dir_durably(&fs, meta_dir).unwrap();
        // The first store creates the file; the second replaces it.
        for reserved_until in [10, 20] {
            store(&fs, meta_dir, reserved_until).unwrap();
            fs.crash(Tear::Partial { keep: 2, garbage: 4 });
            assert_eq!(load(&fs, meta_dir).unwrap(), Some(reserved_until));
        }
    }
}
