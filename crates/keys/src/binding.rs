//! Binds a data folder to the key store its encrypted records are sealed with.
//!
//! Key numbers are only meaningful within one key store: a server started with a lost,
//! moved or mistyped key folder would create a fresh store whose first keys get the same
//! numbers as the old ones, and would go on sealing new records with unrelated material
//! while every old record stopped opening. So the first time a key store is used with a
//! data folder, the id of its first key is written into the folder's binding file, and
//! later starts with any other store are refused.
//!
//! ```text
//! │ magic "RHEOKBND" │ version u16 │ 0 u16 │ key id (16 bytes, UUID) │ crc u32 │
//!   crc (CRC-32C) covers bytes 0..28.
//! ```
//! The file is written like the key file (temporary file, sync, rename, folder sync).

use std::path::Path;

use uuid::Uuid;

use crate::error::KeyError;
use crate::file::{io, replace_file, sync_dir};
use crate::store::KeyStore;

/// The binding file's name inside the data folder.
pub const BINDING_FILE: &str = "key-store.id";
const TEMP_FILE: &str = "key-store.id.tmp";
const MAGIC: [u8; 8] = *b"RHEOKBND";
const FORMAT_VERSION: u16 = 1;
const BODY_BYTES: usize = 28;
const FILE_BYTES: usize = BODY_BYTES + 4;

/// The identity of a key store: the id of its lowest-numbered key, which is created with
/// the store and never deleted. `None` for a store without keys.
pub fn store_identity(store: &KeyStore) -> Option<Uuid> {
    store.list().into_iter().min_by_key(|key| key.number).map(|key| key.id)
}

/// Binds `data_dir` to `store` on first use (creating the folder if needed), and refuses a
/// store other than the one the folder is bound to.
pub fn bind_data_dir(data_dir: &Path, store: &KeyStore) -> Result<(), KeyError> {
    let Some(identity) = store_identity(store) else { return Ok(()) };
    let path = data_dir.join(BINDING_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let bound = decode(&bytes, &path)?;
            if bound != identity {
                return Err(KeyError::ForeignStore { data_dir: data_dir.to_owned(), bound, found: identity });
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if !data_dir.exists() {
                std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
                if let Some(parent) = data_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                    sync_dir(parent)?;
                }
            }
            replace_file(data_dir, BINDING_FILE, TEMP_FILE, &encode(identity))
        }
        Err(error) => Err(io("reading", &path)(error)),
    }
}

fn encode(identity: Uuid) -> [u8; FILE_BYTES] {
    let mut out = [0u8; FILE_BYTES];
    out[..8].copy_from_slice(&MAGIC);
    out[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..28].copy_from_slice(identity.as_bytes());
    let crc = crc32c::crc32c(&out[..BODY_BYTES]);
    out[BODY_BYTES..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(bytes: &[u8], path: &Path) -> Result<Uuid, KeyError> {
    let damaged = |reason: String| KeyError::Damaged { path: path.to_owned(), reason };
    if bytes.len() != FILE_BYTES {
        return Err(damaged(format!("{} bytes is not the binding file's {FILE_BYTES}", bytes.len())));
    }
    if bytes[..8] != MAGIC {
        return Err(damaged("it does not begin with the binding file magic".into()));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(damaged(format!("format version {version} is not {FORMAT_VERSION}")));
    }
    let stored_crc = u32::from_le_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]);
    let crc = crc32c::crc32c(&bytes[..BODY_BYTES]);
    if crc != stored_crc {
        return Err(damaged(format!("checksum {crc:08x} does not match the stored {stored_crc:08x}")));
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[12..28]);
    Ok(Uuid::from_bytes(id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::names::Scope;

    fn scope() -> Scope {
        Scope { region: "us-east-1".into(), account: "000000000000".into() }
    }

    #[test]
    fn a_data_folder_refuses_a_key_store_other_than_its_own() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let own = KeyStore::open(&root.path().join("keys-a"), scope()).unwrap();
        bind_data_dir(&data, &own).unwrap();
        // Its own store again (reopened from the same file) is accepted.
        let reopened = KeyStore::open(&root.path().join("keys-a"), scope()).unwrap();
        bind_data_dir(&data, &reopened).unwrap();
        // A fresh store has the same key numbers but other keys.
        let stranger = KeyStore::open(&root.path().join("keys-b"), scope()).unwrap();
        let error = bind_data_dir(&data, &stranger).unwrap_err();
        assert!(matches!(error, KeyError::ForeignStore { bound, found, .. }
            if Some(bound) == store_identity(&own) && Some(found) == store_identity(&stranger)));
    }

    #[test]
    fn a_damaged_binding_file_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let store = KeyStore::open(&root.path().join("keys"), scope()).unwrap();
        bind_data_dir(root.path(), &store).unwrap();
        let path = root.path().join(BINDING_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(bind_data_dir(root.path(), &store), Err(KeyError::Damaged { .. })));
        assert!(matches!(decode(&bytes[..4], &path), Err(KeyError::Damaged { .. })));
    }
}
