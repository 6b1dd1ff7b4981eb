//! Rheo's local key store: the stand-in for AWS KMS that encryption at rest needs.
//!
//! Keys live in one file (see [`file`](mod@file)) under the key folder, `<data-dir>/keys/` unless
//! the operator keeps it elsewhere. Each key has a KMS-style id (a UUID), an ARN, any
//! number of aliases, a number the shard log records in chunk headers, and versions:
//! rotation adds a version that seals new data while older versions still open old data.
//!
//! Module map:
//! - [`names`]: the names a client gives a key (id, key ARN, alias, alias ARN), parsed
//!   and checked against the server's region and account.
//! - [`file`](mod@file): the on-disk format (magic, version, checksum), atomic replacement, the
//!   writers' lock file and permissions.
//! - [`store`]: [`KeyStore`]: resolution, creation, rotation, reloading, and the
//!   [`rheo_storage::KeyProvider`] the log asks for key material.
//!
//! Randomness (key material, key ids) comes through the storage's seam,
//! [`rheo_storage::RandomSource`] ([`rheo_storage::OsRandom`] in production).

pub mod binding;
pub mod error;
pub mod file;
pub mod names;
pub mod store;

pub use error::KeyError;
pub use names::{AliasName, KeyName, Scope};
pub use store::{check_key_file, KeyInfo, KeyStore, ResolvedKey};

/// The alias of the key Kinesis Data Streams uses when a client names `alias/aws/kinesis`.
pub const KINESIS_ALIAS: &str = "alias/aws/kinesis";
/// The alias of the key Firehose uses for `AWS_OWNED_CMK` server-side encryption.
pub const FIREHOSE_ALIAS: &str = "alias/aws/firehose";
/// The keys every store starts with: AWS manages these in real accounts.
pub const AWS_MANAGED_ALIASES: [&str; 2] = [KINESIS_ALIAS, FIREHOSE_ALIAS];
/// Folder name of the key store inside the data folder.
pub const KEY_DIR: &str = "keys";
