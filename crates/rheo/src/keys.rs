//! `rheo keys`: lists, creates and rotates the keys of a data folder's key store, and
//! opens the store for `rheo serve` (with its SIGHUP reload).
//!
//! The command may run while a server uses the same store: both change the key file
//! only under its writers' lock, and the server reads new keys when a client names one
//! it does not know, and new versions on SIGHUP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use rheo_keys::{KeyStore, Scope, KEY_DIR};

/// Where the key folder is and whose keys it holds.
#[derive(Args)]
pub struct KeyLocation {
    /// The server's data folder; the keys live in its `keys` subfolder unless --key-dir
    /// says otherwise.
    #[arg(long, env = "RHEO_DATA_DIR", default_value = "./rheo-data")]
    pub data_dir: PathBuf,
    /// The key folder, to keep keys apart from the data (and its backups).
    #[arg(long, env = "RHEO_KEY_DIR")]
    pub key_dir: Option<PathBuf>,
    /// Region shown in key ARNs (the server's --region).
    #[arg(long, env = "RHEO_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id shown in key ARNs (the server's --account-id).
    #[arg(long, env = "RHEO_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,
}

impl KeyLocation {
    fn dir(&self) -> PathBuf {
        key_dir(&self.data_dir, self.key_dir.as_deref())
    }

    fn scope(&self) -> Scope {
        Scope { region: self.region.clone(), account: self.account_id.clone() }
    }
}

/// The key folder: `--key-dir`, else `<data-dir>/keys`.
pub fn key_dir(data_dir: &Path, key_dir: Option<&Path>) -> PathBuf {
    key_dir.map_or_else(|| data_dir.join(KEY_DIR), Path::to_owned)
}

#[derive(Args)]
pub struct KeysArgs {
    #[command(flatten)]
    location: KeyLocation,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Subcommand)]
enum KeysAction {
    /// List the keys: id, current version, aliases, ARN.
    List,
    /// Create a key, optionally with an alias (alias/NAME; alias/aws/... is reserved).
    Create {
        #[arg(long)]
        alias: Option<String>,
    },
    /// Give a key a new version that seals new data (a running server uses it after
    /// SIGHUP); older versions still open older data.
    Rotate {
        /// Key id, key ARN, alias name or alias ARN.
        key_id: String,
    },
}

/// Runs `rheo keys ...`.
pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let dir = args.location.dir();
    let store = KeyStore::open(&dir, args.location.scope())
        .with_context(|| format!("opening the key store in {}", dir.display()))?;
    match args.action {
        KeysAction::List => {
            println!("{:<36}  {:>7}  {:<40}  ARN", "KEY ID", "VERSION", "ALIASES");
            for key in store.list() {
                println!("{:<36}  {:>7}  {:<40}  {}", key.id, key.current_version, key.aliases.join(","), key.arn);
            }
        }
        KeysAction::Create { alias } => {
            let key = store.create(alias.as_deref())?;
            println!("{}\t{}", key.id, key.arn);
        }
        KeysAction::Rotate { key_id } => {
            let key = store.rotate(&key_id)?;
            println!("{}\tversion {}", key.id, key.current_version);
        }
    }
    Ok(())
}

/// The key store `rheo serve` seals encrypted streams with: in the key folder, or in
/// memory with `--in-memory`.
pub fn open_for_server(
    data_dir: &Path,
    key_dir: Option<&Path>,
    scope: Scope,
    in_memory: bool,
) -> anyhow::Result<Arc<KeyStore>> {
    if in_memory {
        return Ok(Arc::new(KeyStore::in_memory(scope, Arc::new(rheo_storage::OsRandom))?));
    }
    let dir = self::key_dir(data_dir, key_dir);
    let store = KeyStore::open(&dir, scope).with_context(|| format!("opening the key store in {}", dir.display()))?;
    rheo_keys::binding::bind_data_dir(data_dir, &store)?;
    Ok(Arc::new(store))
}

/// Reads the key file again on SIGHUP (one of the server's reload hooks), so that keys
/// rotated by `rheo keys rotate` seal new data.
pub struct KeyReloader(pub Arc<KeyStore>);

impl rheo_server::reload::Reload for KeyReloader {
    fn what(&self) -> &'static str {
        "key store"
    }

    fn reload(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        self.0.reload()?;
        Ok(format!("{} keys", self.0.list().len()))
    }
}
