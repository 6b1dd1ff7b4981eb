//! The principals a server knows: the credentials file's profiles with their identity
//! policies, as one immutable snapshot that a reload replaces whole (a request sees
//! either the old principals or the new ones, never a mix).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rheo_aws::credentials_file::{CredentialsFile, CredentialsFileError};
use rheo_engine::ids::Account;
use rheo_iam::IdentityPolicies;

use super::verify::SIGNING_KEYS_CACHED_MAX;
use super::{Authenticator, Principal};
use crate::reload::Reload;

/// One principal and what proves it.
pub(super) struct Identity {
    pub(super) principal: Arc<Principal>,
    pub(super) secret_key: String,
    pub(super) session_token: Option<String>,
}

/// A derived signing key's cache key: access key, date, region, service.
type SigningKeyId = (String, String, String, String);

/// The principals by access key, the identity policies, and the signing keys derived for
/// them (cached here, so a reload that changes a secret drops its old keys).
#[derive(Default)]
pub struct Identities {
    by_access_key: HashMap<String, Identity>,
    policies: Arc<IdentityPolicies>,
    signing_keys: Mutex<HashMap<SigningKeyId, [u8; 32]>>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.by_access_key.values().map(|i| i.principal.name.as_str()).collect();
        names.sort_unstable();
        f.debug_struct("Identities").field("principals", &names).finish_non_exhaustive()
    }
}

impl Identities {
    /// The principals of `file` (ARN `arn:PARTITION:iam::ACCOUNT:user/NAME`), each with its
    /// policy from `policies`.
    pub fn new(file: &CredentialsFile, policies: IdentityPolicies, account: &Account) -> Identities {
        let (partition, account_id) = (account.partition(), &account.account_id);
        let by_access_key = file
            .profiles
            .iter()
            .map(|profile| {
                let principal = Principal {
                    name: profile.name.clone(),
                    arn: format!("arn:{partition}:iam::{account_id}:user/{}", profile.name),
                    policy: policies.user(&profile.name).cloned(),
                };
                let identity = Identity {
                    principal: Arc::new(principal),
                    secret_key: profile.credentials.secret_key.clone(),
                    session_token: profile.credentials.session_token.clone(),
                };
                (profile.credentials.access_key.clone(), identity)
            })
            .collect();
        Identities { by_access_key, policies: Arc::new(policies), signing_keys: Mutex::default() }
    }

    /// Reads the files of `files`.
    pub fn load(files: &AuthFiles) -> Result<Identities, AuthLoadError> {
        let path = &files.credentials;
        let text = std::fs::read_to_string(path)
            .map_err(|source| AuthLoadError::Read { path: path.display().to_string(), source })?;
        let file = CredentialsFile::parse(&text)
            .map_err(|source| AuthLoadError::Credentials { path: path.display().to_string(), source })?;
        let policies = match &files.policies {
            Some(dir) => IdentityPolicies::load_dir(dir)?,
            None => IdentityPolicies::default(),
        };
        Ok(Identities::new(&file, policies, &files.account))
    }

    /// The identity policies (users' and roles').
    pub fn policies(&self) -> &Arc<IdentityPolicies> {
        &self.policies
    }

    /// How many principals there are.
    pub fn len(&self) -> usize {
        self.by_access_key.len()
    }

    /// Whether there are none (every request is then refused).
    pub fn is_empty(&self) -> bool {
        self.by_access_key.is_empty()
    }

    pub(super) fn identity(&self, access_key: &str) -> Option<&Identity> {
        self.by_access_key.get(access_key)
    }

    /// The signing key of `secret` for a scope, derived once per access key, day, region
    /// and service. At most [`SIGNING_KEYS_CACHED_MAX`] are kept; when full the cache starts
    /// over (keys change daily, so the cost is one derivation per key and day).
    pub(super) fn signing_key(
        &self,
        access_key: &str,
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> [u8; 32] {
        let id = (access_key.to_owned(), date.to_owned(), region.to_owned(), service.to_owned());
        let mut cache = match self.signing_keys.lock() {
            Ok(cache) => cache,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(key) = cache.get(&id) {
            return *key;
        }
        let key = rheo_aws::sigv4::signing_key(secret, date, region, service);
        if cache.len() >= SIGNING_KEYS_CACHED_MAX {
            cache.clear();
        }
        cache.insert(id, key);
        key
    }
}

#[cfg(test)]
impl Identities {
    pub(super) fn signing_keys_cached(&self) -> usize {
        self.signing_keys.lock().map(|cache| cache.len()).unwrap_or_default()
    }
}

/// Where the principals come from (`--credentials`, `--policies`, `--account-id`).
#[derive(Debug, Clone)]
pub struct AuthFiles {
    /// The AWS shared-credentials file.
    pub credentials: PathBuf,
    /// The folder of identity policies, if any.
    pub policies: Option<PathBuf>,
    /// The account (and, by its region, the partition) in the principals' ARNs.
    pub account: Account,
}

/// Why the principals could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AuthLoadError {
    /// The credentials file could not be read.
    #[error("cannot read the credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The credentials file does not parse.
    #[error("bad credentials file {path}: {source}")]
    Credentials {
        /// The file.
        path: String,
        /// What is wrong.
        #[source]
        source: CredentialsFileError,
    },
    /// A policy does not load.
    #[error("cannot load the identity policies: {0}")]
    Policies(#[from] rheo_iam::LoadError),
}

/// Reloads the credentials file and the policies into an [`Authenticator`] (on SIGHUP):
/// a file that does not load leaves the previous principals in force.
pub struct AuthReloader {
    authenticator: Arc<Authenticator>,
    files: AuthFiles,
}

impl AuthReloader {
    /// Reloads `files` into `authenticator`.
    pub fn new(authenticator: Arc<Authenticator>, files: AuthFiles) -> AuthReloader {
        AuthReloader { authenticator, files }
    }

    /// The credentials file.
    pub fn credentials_path(&self) -> &Path {
        &self.files.credentials
    }
}

impl Reload for AuthReloader {
    fn what(&self) -> &'static str {
        "credentials and policies"
    }

    fn reload(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let identities = Identities::load(&self.files)?;
        let principals = identities.len();
        self.authenticator.replace(identities);
        Ok(format!("{principals} principals"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::reload::reload_all;

    const ALLOW_KINESIS: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}"#;

    fn profile(name: &str) -> String {
        format!("[{name}]\naws_access_key_id = AKID{name}\naws_secret_access_key = secret-{name}\n")
    }

    #[test]
    fn principals_are_named_in_the_partition_of_the_region() {
        let file = CredentialsFile::parse(&profile("alice")).unwrap();
        for (region, arn) in [
            ("us-east-1", "arn:aws:iam::123456789012:user/alice"),
            ("cn-north-1", "arn:aws-cn:iam::123456789012:user/alice"),
            ("us-gov-west-1", "arn:aws-us-gov:iam::123456789012:user/alice"),
        ] {
            let account = Account { region: region.into(), account_id: "123456789012".into() };
            let identities = Identities::new(&file, IdentityPolicies::default(), &account);
            assert_eq!(identities.identity("AKIDalice").unwrap().principal.arn, arn);
        }
    }

    #[test]
    fn a_failed_reload_keeps_the_previous_principals() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        let policies = dir.path().join("policies");
        std::fs::create_dir(&policies).unwrap();
        std::fs::write(&credentials, profile("alice")).unwrap();
        std::fs::write(policies.join("alice.json"), ALLOW_KINESIS).unwrap();
        let files = AuthFiles {
            credentials: credentials.clone(),
            policies: Some(policies.clone()),
            account: Account { region: "us-east-1".into(), account_id: "123456789012".into() },
        };
        let identities = Identities::load(&files).unwrap();
        let alice = identities.identity("AKIDalice").unwrap();
        assert_eq!(alice.principal.arn, "arn:aws:iam::123456789012:user/alice");
        assert!(alice.principal.policy.is_some());
        let authenticator =
            Arc::new(Authenticator::sigv4("us-east-1", Arc::new(rheo_storage::SystemClock), identities));
        let hooks: Vec<Arc<dyn Reload>> = vec![Arc::new(AuthReloader::new(authenticator.clone(), files))];

        // A credentials file that does not parse, then a policy that does not: nothing changes.
        std::fs::write(&credentials, format!("{}[bob]\naws_access_key_id = AKIDbob\n", profile("alice"))).unwrap();
        assert_eq!(reload_all(&hooks), 1);
        std::fs::write(&credentials, format!("{}{}", profile("alice"), profile("bob"))).unwrap();
        std::fs::write(policies.join("bob.json"), "{not json").unwrap();
        assert_eq!(reload_all(&hooks), 1);
        let snapshot = authenticator.snapshot();
        assert!(snapshot.identity("AKIDalice").is_some() && snapshot.identity("AKIDbob").is_none());

        std::fs::write(policies.join("bob.json"), ALLOW_KINESIS).unwrap();
        assert_eq!(reload_all(&hooks), 0);
        let snapshot = authenticator.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot.identity("AKIDbob").unwrap().principal.policy.is_some());
        assert!(snapshot.policies().user("bob").is_some());
    }
}
