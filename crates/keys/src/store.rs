//! [`KeyStore`]: the keys in memory, the file behind them, and the key material the
//! shard log asks for.
//!
//! The running server reads the file at start, again when a client names a key it does
//! not know and the file was replaced since (a key `rheo keys create` added), and on
//! [`KeyStore::reload`], which
//! the binary calls on SIGHUP (so that a `rheo keys rotate` seals new data with the new
//! version). Changes go through [`KeyStore::create`] and [`KeyStore::rotate`], which
//! re-read the file under the writers' lock before changing it, so a server and a
//! `rheo keys` command never lose each other's keys.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use parking_lot::{Mutex, RwLock};
use rheo_storage::cipher::KEY_BYTES;
use rheo_storage::{KeyBytes, KeyProvider, KeyRef, OsRandom, RandomSource};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::file::{self, Keyring, StoredKey, StoredVersion};
use crate::names::{AliasName, KeyName, Scope};
use crate::AWS_MANAGED_ALIASES;

/// Most keys one store holds.
pub const KEYS_MAX: usize = 10_000;
/// Most versions one key has (one rotation a day for over a century).
pub const VERSIONS_MAX: usize = 50_000;
/// Most aliases one key has.
pub const ALIASES_PER_KEY_MAX: usize = 50;

/// A key a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    /// The key's number, which the log records (see [`rheo_storage::KeyRef`]).
    pub number: u32,
    /// Its KMS-style key id.
    pub id: Uuid,
    /// Its key ARN.
    pub arn: String,
}

/// What `rheo keys list` shows of a key (never its material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub number: u32,
    pub id: Uuid,
    pub arn: String,
    pub aliases: Vec<String>,
    /// The newest version, which seals new data.
    pub current_version: u32,
    /// How many versions the key has.
    pub versions: usize,
}

struct Key {
    number: u32,
    id: Uuid,
    aliases: Vec<AliasName>,
    /// Oldest first, by version number.
    versions: Vec<(u32, Zeroizing<KeyBytes>)>,
}

#[derive(Default)]
struct Ring {
    next_key: u32,
    keys: BTreeMap<u32, Key>,
}

impl Ring {
    fn find(&self, name: &KeyName) -> Option<&Key> {
        self.keys.values().find(|key| match name {
            KeyName::Id(id) => key.id == *id,
            KeyName::Alias(alias) => key.aliases.contains(alias),
        })
    }

    fn find_mut(&mut self, name: &KeyName) -> Option<&mut Key> {
        self.keys.values_mut().find(|key| match name {
            KeyName::Id(id) => key.id == *id,
            KeyName::Alias(alias) => key.aliases.contains(alias),
        })
    }

    fn alias_taken(&self, alias: &AliasName) -> bool {
        self.keys.values().any(|key| key.aliases.contains(alias))
    }

    /// Adds a key with one fresh version.
    fn add(&mut self, aliases: Vec<AliasName>, random: &dyn RandomSource) -> Result<u32, KeyError> {
        if self.keys.len() >= KEYS_MAX {
            return Err(KeyError::Limit(format!("the key store already holds its limit of {KEYS_MAX} keys")));
        }
        let number = self.next_key.max(1);
        let next = number.checked_add(1).ok_or_else(|| KeyError::Limit("key numbers are exhausted".into()))?;
        let mut id_bytes = [0u8; 16];
        random.fill(&mut id_bytes)?;
        let id = uuid::Builder::from_random_bytes(id_bytes).into_uuid();
        let material = fresh_material(random)?;
        self.keys.insert(number, Key { number, id, aliases, versions: vec![(1, material)] });
        self.next_key = next;
        Ok(number)
    }

    /// Adds the AWS managed keys the ring lacks; whether it added any.
    fn add_aws_managed(&mut self, random: &dyn RandomSource) -> Result<bool, KeyError> {
        let mut added = false;
        for text in AWS_MANAGED_ALIASES {
            let alias = AliasName::parse(text)?;
            if !self.alias_taken(&alias) {
                self.add(vec![alias], random)?;
                added = true;
            }
        }
        Ok(added)
    }

    fn from_file(keyring: Keyring, path: &Path) -> Result<Ring, KeyError> {
        let damaged = |reason: String| KeyError::Damaged { path: path.to_owned(), reason };
        let mut ring = Ring { next_key: keyring.next_key, keys: BTreeMap::new() };
        for stored in &keyring.keys {
            let id = Uuid::try_parse(&stored.id)
                .map_err(|_| damaged(format!("key {} has the malformed id {:?}", stored.number, stored.id)))?;
            let aliases = stored
                .aliases
                .iter()
                .map(|alias| AliasName::parse(alias))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| damaged(format!("key {}: {error}", stored.number)))?;
            let mut versions = Vec::with_capacity(stored.versions.len());
            for version in &stored.versions {
                if versions.last().is_some_and(|(last, _)| *last >= version.version) {
                    return Err(damaged(format!("key {}: versions are out of order", stored.number)));
                }
                versions.push((
                    version.version,
                    decode_material(&version.material).ok_or_else(|| {
                        damaged(format!("key {} version {} has no 32-byte material", stored.number, version.version))
                    })?,
                ));
            }
            if versions.is_empty() {
                return Err(damaged(format!("key {} has no versions", stored.number)));
            }
            if stored.number == 0 || stored.number >= ring.next_key {
                return Err(damaged(format!("key number {} is not below next_key {}", stored.number, ring.next_key)));
            }
            if ring.keys.values().any(|k| k.id == id) || aliases.iter().any(|a| ring.alias_taken(a)) {
                return Err(damaged(format!("key {} repeats another key's id or alias", stored.number)));
            }
            let key = Key { number: stored.number, id, aliases, versions };
            if ring.keys.insert(stored.number, key).is_some() {
                return Err(damaged(format!("key number {} appears twice", stored.number)));
            }
        }
        Ok(ring)
    }

    fn to_file(&self) -> Keyring {
        Keyring {
            next_key: self.next_key,
            keys: self
                .keys
                .values()
                .map(|key| StoredKey {
                    number: key.number,
                    id: key.id.hyphenated().to_string(),
                    aliases: key.aliases.iter().map(|a| a.as_str().to_owned()).collect(),
                    versions: key
                        .versions
                        .iter()
                        .map(|(version, material)| StoredVersion {
                            version: *version,
                            material: BASE64.encode(material.as_slice()),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn fresh_material(random: &dyn RandomSource) -> Result<Zeroizing<KeyBytes>, KeyError> {
    let mut material = Zeroizing::new([0u8; KEY_BYTES]);
    random.fill(material.as_mut_slice())?;
    Ok(material)
}

fn decode_material(text: &str) -> Option<Zeroizing<KeyBytes>> {
    let bytes = Zeroizing::new(BASE64.decode(text).ok()?);
    let mut material = Zeroizing::new([0u8; KEY_BYTES]);
    if bytes.len() != KEY_BYTES {
        return None;
    }
    material.copy_from_slice(&bytes);
    Some(material)
}

/// Decodes and checks a key file's bytes as [`KeyStore::open`] does (format, checksum,
/// then every key: ids, aliases, 32-byte versions in order, unique numbers); returns how
/// many keys it holds. For tools and the fuzz target: a key file may hold anything.
pub fn check_key_file(bytes: &[u8]) -> Result<usize, KeyError> {
    let path = Path::new(file::KEY_FILE);
    Ring::from_file(file::decode(bytes, path)?, path).map(|ring| ring.keys.len())
}

/// The keys of one region and account, in a key folder or (with `--in-memory`) in memory only.
pub struct KeyStore {
    dir: Option<PathBuf>,
    scope: Scope,
    random: Arc<dyn RandomSource>,
    ring: RwLock<Ring>,
    /// Held from reading the file to installing what was read (reloads and changes), so
    /// that a slower reader can never install an older file over a newer one; it also
    /// guards the stamp of the file the ring was last read from.
    loaded: Mutex<Option<file::FileStamp>>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("dir", &self.dir)
            .field("scope", &self.scope)
            .field("keys", &self.ring.read().keys.len())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Opens the key folder `dir`, creating it and its key file (with the AWS managed
    /// keys) on first use.
    pub fn open(dir: &Path, scope: Scope) -> Result<KeyStore, KeyError> {
        KeyStore::open_with(dir, scope, Arc::new(OsRandom))
    }

    /// [`KeyStore::open`] with another random source.
    pub fn open_with(dir: &Path, scope: Scope, random: Arc<dyn RandomSource>) -> Result<KeyStore, KeyError> {
        let store = KeyStore {
            dir: Some(dir.to_owned()),
            scope,
            random,
            ring: RwLock::new(Ring::default()),
            loaded: Mutex::new(None),
        };
        file::prepare_dir(dir)?;
        store.modify(|ring, random| ring.add_aws_managed(random).map(|added| ((), added)))?;
        Ok(store)
    }

    /// A store that lives in memory only (its keys die with the process).
    pub fn in_memory(scope: Scope, random: Arc<dyn RandomSource>) -> Result<KeyStore, KeyError> {
        let mut ring = Ring::default();
        ring.add_aws_managed(random.as_ref())?;
        Ok(KeyStore { dir: None, scope, random, ring: RwLock::new(ring), loaded: Mutex::new(None) })
    }

    /// The region and account of the store's ARNs.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The key folder, `None` in memory.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Reads the key file again (keys created or rotated by `rheo keys` since).
    pub fn reload(&self) -> Result<(), KeyError> {
        self.reload_if(|_| true)
    }

    /// Reads the key file again if `stale` says the one read last (by its stamp) is out of
    /// date, serialised with every other reload and change.
    fn reload_if(&self, stale: impl FnOnce(Option<file::FileStamp>) -> bool) -> Result<(), KeyError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let mut loaded = self.loaded.lock();
        let path = file::key_file(dir);
        let stamp = file::stamp(dir)?;
        if !stale(stamp.filter(|now| Some(*now) != *loaded)) {
            return Ok(());
        }
        let keyring = file::read(dir)?
            .ok_or_else(|| KeyError::Damaged { path: path.clone(), reason: "the key file has disappeared".into() })?;
        let ring = Ring::from_file(keyring, &path)?;
        *self.ring.write() = ring;
        *loaded = stamp;
        Ok(())
    }

    /// The key a `KeyId` names: key id, key ARN, alias name or alias ARN. A name the
    /// store does not know makes it read the file again before giving up.
    pub fn resolve(&self, text: &str) -> Result<ResolvedKey, KeyError> {
        let name = KeyName::parse(text, &self.scope)?;
        if let Some(found) = self.lookup(&name) {
            return Ok(found);
        }
        if self.dir.is_some() {
            // Only a key file replaced since it was last read can hold new keys: names
            // nobody created cost a stat of the file, not a read and parse of it.
            self.reload_if(|changed| changed.is_some())?;
            if let Some(found) = self.lookup(&name) {
                return Ok(found);
            }
        }
        Err(match name {
            KeyName::Id(id) => KeyError::KeyNotFound { arn: self.scope.key_arn(&id) },
            KeyName::Alias(alias) => KeyError::AliasNotFound { arn: self.scope.alias_arn(&alias) },
        })
    }

    fn lookup(&self, name: &KeyName) -> Option<ResolvedKey> {
        self.ring.read().find(name).map(|key| ResolvedKey {
            number: key.number,
            id: key.id,
            arn: self.scope.key_arn(&key.id),
        })
    }

    /// Every key, in number order.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.ring.read().keys.values().map(|key| self.info(key)).collect()
    }

    fn info(&self, key: &Key) -> KeyInfo {
        KeyInfo {
            number: key.number,
            id: key.id,
            arn: self.scope.key_arn(&key.id),
            aliases: key.aliases.iter().map(|a| a.as_str().to_owned()).collect(),
            current_version: key.versions.last().map_or(0, |(version, _)| *version),
            versions: key.versions.len(),
        }
    }

    /// Creates a key, with an alias if given (never an `alias/aws/...` one).
    pub fn create(&self, alias: Option<&str>) -> Result<KeyInfo, KeyError> {
        let alias = alias.map(AliasName::parse_customer).transpose()?;
        let number = self.modify(|ring, random| {
            if let Some(alias) = &alias {
                if ring.alias_taken(alias) {
                    return Err(KeyError::AliasExists { arn: self.scope.alias_arn(alias) });
                }
            }
            ring.add(alias.iter().cloned().collect(), random).map(|number| (number, true))
        })?;
        self.info_of(number)
    }

    /// Adds an alias to an existing key.
    pub fn add_alias(&self, key: &str, alias: &str) -> Result<KeyInfo, KeyError> {
        let alias = AliasName::parse_customer(alias)?;
        let name = KeyName::parse(key, &self.scope)?;
        let number = self.modify(|ring, _| {
            if ring.alias_taken(&alias) {
                return Err(KeyError::AliasExists { arn: self.scope.alias_arn(&alias) });
            }
            let key = ring.find_mut(&name).ok_or_else(|| self.not_found(&name))?;
            if key.aliases.len() >= ALIASES_PER_KEY_MAX {
                return Err(KeyError::Limit(format!("a key has at most {ALIASES_PER_KEY_MAX} aliases")));
            }
            key.aliases.push(alias.clone());
            Ok((key.number, true))
        })?;
        self.info_of(number)
    }

    /// Gives the key a new version, which seals new data from now on (in a running
    /// server: once it reloads); older versions still open what they sealed.
    pub fn rotate(&self, key: &str) -> Result<KeyInfo, KeyError> {
        let name = KeyName::parse(key, &self.scope)?;
        let number = self.modify(|ring, random| {
            let key = ring.find_mut(&name).ok_or_else(|| self.not_found(&name))?;
            if key.versions.len() >= VERSIONS_MAX {
                return Err(KeyError::Limit(format!("a key has at most {VERSIONS_MAX} versions")));
            }
            let next = key
                .versions
                .last()
                .map_or(Some(1), |(version, _)| version.checked_add(1))
                .ok_or_else(|| KeyError::Limit("version numbers are exhausted".into()))?;
            key.versions.push((next, fresh_material(random)?));
            Ok((key.number, true))
        })?;
        self.info_of(number)
    }

    fn info_of(&self, number: u32) -> Result<KeyInfo, KeyError> {
        let ring = self.ring.read();
        let key = ring.keys.get(&number).ok_or_else(|| KeyError::Limit(format!("key {number} vanished")))?;
        Ok(self.info(key))
    }

    fn not_found(&self, name: &KeyName) -> KeyError {
        match name {
            KeyName::Id(id) => KeyError::KeyNotFound { arn: self.scope.key_arn(id) },
            KeyName::Alias(alias) => KeyError::AliasNotFound { arn: self.scope.alias_arn(alias) },
        }
    }

    /// Applies a change to the newest keys: in a folder, under the writers' lock, to the
    /// file as it is now, written back only if the change says it changed something.
    fn modify<T>(
        &self,
        change: impl FnOnce(&mut Ring, &dyn RandomSource) -> Result<(T, bool), KeyError>,
    ) -> Result<T, KeyError> {
        let Some(dir) = &self.dir else {
            let mut ring = self.ring.write();
            return change(&mut ring, self.random.as_ref()).map(|(value, _)| value);
        };
        let mut loaded = self.loaded.lock();
        let lock = file::lock(dir)?;
        let path = file::key_file(dir);
        let mut ring = match file::read(dir)? {
            Some(keyring) => Ring::from_file(keyring, &path)?,
            None => Ring::default(),
        };
        let existed = path.exists();
        let (value, changed) = change(&mut ring, self.random.as_ref())?;
        if changed || !existed {
            file::write(dir, &ring.to_file(), &lock)?;
        }
        *self.ring.write() = ring;
        *loaded = file::stamp(dir)?;
        Ok(value)
    }
}

impl KeyProvider for KeyStore {
    fn current(&self, key: u32) -> Option<(KeyRef, KeyBytes)> {
        let ring = self.ring.read();
        let (version, material) = ring.keys.get(&key)?.versions.last()?;
        Some((KeyRef { key, version: *version }, **material))
    }

    fn get(&self, key: KeyRef) -> Option<KeyBytes> {
        let ring = self.ring.read();
        let versions = &ring.keys.get(&key.key)?.versions;
        versions.iter().find(|(version, _)| *version == key.version).map(|(_, material)| **material)
    }
}
