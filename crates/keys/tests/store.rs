#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use rheo_keys::file::KEY_FILE;
use rheo_keys::{KeyError, KeyStore, Scope, FIREHOSE_ALIAS, KINESIS_ALIAS};
use rheo_storage::cipher::RandomError;
use rheo_storage::RandomSource;
use rheo_storage::{KeyProvider, KeyRef};

fn scope() -> Scope {
    Scope { region: "us-east-1".into(), account: "123456789012".into() }
}

fn open(dir: &Path) -> KeyStore {
    KeyStore::open(&dir.join("keys"), scope()).unwrap()
}

/// Predictable bytes, so a test can tell keys apart by their material.
#[derive(Debug, Default)]
struct Counting(AtomicU8);

impl RandomSource for Counting {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), RandomError> {
        for byte in bytes {
            *byte = self.0.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn first_use_creates_a_private_file_with_the_aws_managed_keys() {
    let temp = tempfile::tempdir().unwrap();
    let store = open(temp.path());
    let aliases: Vec<String> = store.list().into_iter().flat_map(|k| k.aliases).collect();
    assert_eq!(aliases, vec![KINESIS_ALIAS.to_owned(), FIREHOSE_ALIAS.to_owned()]);
    let dir_mode = std::fs::metadata(temp.path().join("keys")).unwrap().permissions().mode() & 0o777;
    let file_mode = std::fs::metadata(temp.path().join("keys").join(KEY_FILE)).unwrap().permissions().mode() & 0o777;
    assert_eq!((dir_mode, file_mode), (0o700, 0o600));
}

#[test]
fn keys_survive_a_reopen_with_the_same_ids_and_material() {
    let temp = tempfile::tempdir().unwrap();
    let store = open(temp.path());
    let mine = store.create(Some("alias/mine")).unwrap();
    let before = store.current(mine.number).unwrap();
    drop(store);
    let again = open(temp.path());
    assert_eq!(again.list().len(), 3);
    let resolved = again.resolve("alias/mine").unwrap();
    assert_eq!((resolved.number, resolved.id), (mine.number, mine.id));
    assert_eq!(again.current(mine.number).unwrap(), before);
}

#[test]
fn material_and_ids_come_from_the_random_source() {
    let temp = tempfile::tempdir().unwrap();
    let store = KeyStore::open_with(&temp.path().join("keys"), scope(), Arc::new(Counting::default())).unwrap();
    // Key 1: 16 id bytes (0..16), then 32 bytes of material (16..48).
    let (key_ref, material) = store.current(1).unwrap();
    assert_eq!(key_ref, KeyRef { key: 1, version: 1 });
    assert_eq!(material.to_vec(), (16u8..48).collect::<Vec<_>>());
    assert_ne!(store.current(2).unwrap().1, material);
}

#[test]
fn a_damaged_file_is_refused_with_a_clear_error() {
    let temp = tempfile::tempdir().unwrap();
    drop(open(temp.path()));
    let path = temp.path().join("keys").join(KEY_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let error = KeyStore::open(&temp.path().join("keys"), scope()).unwrap_err();
    assert!(matches!(error, KeyError::Damaged { .. }), "{error:?}");
    assert!(error.to_string().contains("checksum"), "{error}");
}

#[test]
fn files_and_folders_others_can_read_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    drop(open(temp.path()));
    let path = temp.path().join("keys").join(KEY_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = KeyStore::open(&temp.path().join("keys"), scope()).unwrap_err();
    assert!(matches!(error, KeyError::Permissions { what: "file", mode: 0o644, .. }), "{error:?}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(temp.path().join("keys"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let error = KeyStore::open(&temp.path().join("keys"), scope()).unwrap_err();
    assert!(matches!(error, KeyError::Permissions { what: "folder", .. }), "{error:?}");
}

#[test]
fn every_form_of_key_id_resolves_and_unknown_ones_are_not_found() {
    let temp = tempfile::tempdir().unwrap();
    let store = open(temp.path());
    let mine = store.create(Some("alias/mine")).unwrap();
    let id = mine.id.to_string();
    for form in [
        id.clone(),
        id.to_uppercase(),
        mine.arn.clone(),
        "alias/mine".to_owned(),
        "arn:aws:kms:us-east-1:123456789012:alias/mine".to_owned(),
    ] {
        assert_eq!(store.resolve(&form).unwrap().number, mine.number, "{form}");
    }
    assert_eq!(mine.arn, format!("arn:aws:kms:us-east-1:123456789012:key/{id}"));
    let kinesis = store.resolve(KINESIS_ALIAS).unwrap();
    assert_ne!(kinesis.number, mine.number);

    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(
        store.resolve(unknown).unwrap_err().to_string(),
        format!("Key 'arn:aws:kms:us-east-1:123456789012:key/{unknown}' does not exist")
    );
    assert_eq!(
        store.resolve("alias/nope").unwrap_err().to_string(),
        "Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found."
    );
    let elsewhere = format!("arn:aws:kms:eu-west-1:123456789012:key/{id}");
    assert!(matches!(store.resolve(&elsewhere), Err(KeyError::KeyNotFound { .. })));
    let other_account = "arn:aws:kms:us-east-1:999999999999:alias/mine";
    assert!(matches!(store.resolve(other_account), Err(KeyError::AliasNotFound { .. })));
    assert!(store.resolve("mine").unwrap_err().is_not_found());
}

#[test]
fn aliases_are_unique_and_aws_names_reserved() {
    let temp = tempfile::tempdir().unwrap();
    let store = open(temp.path());
    store.create(Some("alias/mine")).unwrap();
    assert!(matches!(store.create(Some("alias/mine")), Err(KeyError::AliasExists { .. })));
    assert!(matches!(store.create(Some("alias/aws/mine")), Err(KeyError::ReservedAlias { .. })));
    assert!(matches!(store.create(Some("mine")), Err(KeyError::InvalidAlias { .. })));
    let bare = store.create(None).unwrap();
    assert!(bare.aliases.is_empty());
    store.add_alias(&bare.id.to_string(), "alias/second").unwrap();
    assert_eq!(store.resolve("alias/second").unwrap().number, bare.number);
}

#[test]
fn rotation_seals_with_the_new_version_and_keeps_the_old_ones() {
    let temp = tempfile::tempdir().unwrap();
    let store = open(temp.path());
    let kinesis = store.resolve(KINESIS_ALIAS).unwrap().number;
    let (first, first_material) = store.current(kinesis).unwrap();
    let rotated = store.rotate(KINESIS_ALIAS).unwrap();
    assert_eq!((rotated.current_version, rotated.versions), (2, 2));
    let (second, second_material) = store.current(kinesis).unwrap();
    assert_eq!(second, KeyRef { key: kinesis, version: 2 });
    assert_ne!(first_material, second_material);
    assert_eq!(store.get(first), Some(first_material));
    assert_eq!(store.get(KeyRef { key: kinesis, version: 3 }), None);
    assert!(matches!(store.rotate("alias/nope"), Err(KeyError::AliasNotFound { .. })));
    // A reopened store still has both versions.
    let again = open(temp.path());
    assert_eq!(again.get(first), Some(first_material));
    assert_eq!(again.current(kinesis), Some((second, second_material)));
}

#[test]
fn a_running_store_sees_other_writers_on_reload_and_on_a_miss() {
    let temp = tempfile::tempdir().unwrap();
    let server = open(temp.path());
    let command = open(temp.path());
    // A key created by the command is found on a miss, without an explicit reload.
    let created = command.create(Some("alias/new")).unwrap();
    assert_eq!(server.resolve("alias/new").unwrap().number, created.number);
    // A rotation is picked up on reload (SIGHUP in the binary).
    let kinesis = server.resolve(KINESIS_ALIAS).unwrap().number;
    command.rotate(KINESIS_ALIAS).unwrap();
    assert_eq!(server.current(kinesis).unwrap().0.version, 1);
    server.reload().unwrap();
    assert_eq!(server.current(kinesis).unwrap().0.version, 2);
}

#[test]
fn concurrent_writers_lose_no_update() {
    let temp = tempfile::tempdir().unwrap();
    drop(open(temp.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let dir = temp.path().join("keys");
            std::thread::spawn(move || {
                let store = KeyStore::open(&dir, scope()).unwrap();
                for i in 0..5 {
                    store.create(Some(&format!("alias/t{t}-{i}"))).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let store = open(temp.path());
    assert_eq!(store.list().len(), 2 + 4 * 5);
    let numbers: std::collections::BTreeSet<u32> = store.list().iter().map(|k| k.number).collect();
    assert_eq!(numbers.len(), 22);
}

#[test]
fn an_in_memory_store_needs_no_folder() {
    let store = KeyStore::in_memory(scope(), Arc::new(Counting::default())).unwrap();
    let number = store.resolve(FIREHOSE_ALIAS).unwrap().number;
    store.rotate(FIREHOSE_ALIAS).unwrap();
    assert_eq!(store.current(number).unwrap().0.version, 2);
    assert!(store.dir().is_none());
    store.reload().unwrap();
}

#[test]
fn debug_output_shows_no_material() {
    let store = KeyStore::in_memory(scope(), Arc::new(Counting::default())).unwrap();
    let text = format!("{store:?}");
    assert!(text.contains("keys: 2"), "{text}");
    assert!(!text.contains("material"), "{text}");
}

#[test]
fn unknown_names_reread_the_key_file_only_when_it_was_replaced() {
    let temp = tempfile::tempdir().unwrap();
    let store = open(temp.path());
    let path = temp.path().join("keys").join(KEY_FILE);
    // A mode others can read makes a read fail; it changes nothing a re-read would find,
    // so a miss does not read the file, and says the key is not found.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let unknown = "alias/nobody-made-this";
    assert!(matches!(store.resolve(unknown), Err(KeyError::AliasNotFound { .. })));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Replaced by another writer: the next miss reads it.
    let created = open(temp.path()).create(Some("alias/made-elsewhere")).unwrap();
    assert_eq!(store.resolve("alias/made-elsewhere").unwrap().id, created.id);
}
