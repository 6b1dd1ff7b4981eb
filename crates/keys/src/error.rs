//! Key store errors. The server maps the "not found" ones to each service's AWS error
//! (Kinesis: `KMSNotFoundException`; Firehose: `InvalidKMSResourceException`).

use std::path::PathBuf;

/// Everything the key store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key named by id or key ARN does not exist (in this region and account).
    #[error("Key '{arn}' does not exist")]
    KeyNotFound { arn: String },
    /// An alias named by name or alias ARN does not exist (in this region and account).
    #[error("Alias {arn} is not found.")]
    AliasNotFound { arn: String },
    /// The text is none of the forms a KMS key can be named by.
    #[error("Invalid keyId '{given}'")]
    InvalidKeyId { given: String },
    /// An alias name breaks KMS's rules.
    #[error("Alias name {given} is invalid: {reason}")]
    InvalidAlias { given: String, reason: &'static str },
    /// `alias/aws/...` names belong to the keys AWS manages.
    #[error("Alias {given} is reserved for AWS managed keys.")]
    ReservedAlias { given: String },
    /// The alias already names a key.
    #[error("An alias with the name {arn} already exists")]
    AliasExists { arn: String },
    /// A bound of the store is reached.
    #[error("{0}")]
    Limit(String),
    /// The key file is damaged or not a key file; the store refuses to guess.
    #[error("key file {path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    /// The key file or folder can be read by other users.
    #[error("key {what} {path} is accessible to other users (mode {mode:o}); run chmod {wanted:o} on it")]
    Permissions { what: &'static str, path: PathBuf, mode: u32, wanted: u32 },
    /// Reading or writing the key folder failed.
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    /// The CSPRNG failed.
    #[error(transparent)]
    Random(#[from] rheo_storage::cipher::RandomError),
    /// The data folder is bound to another key store (see [`crate::binding`]).
    #[error(
        "the data folder {data_dir} belongs to the key store whose first key is {bound}, but the key store in use begins with key {found}: its encrypted records would not open and new ones would be sealed with unrelated keys; start with the --key-dir holding that folder's key file (or restore its keys.bin)"
    )]
    ForeignStore { data_dir: PathBuf, bound: uuid::Uuid, found: uuid::Uuid },
    /// The keys could not be encoded (a bug).
    #[error("encoding the key file: {0}")]
    Encode(String),
}

impl KeyError {
    /// Whether this error means that the named key does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KeyError::KeyNotFound { .. } | KeyError::AliasNotFound { .. } | KeyError::InvalidKeyId { .. })
    }
}
