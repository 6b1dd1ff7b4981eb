//! `--policies DIR`: `NAME.json` is the identity policy of the user `NAME`, and
//! `roles/NAME.json` the policy of the role `NAME`. Other files are ignored, so editors'
//! backups and READMEs can sit beside the policies.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::policy::MAX_POLICY_BYTES;
use crate::{IdentityPolicies, LoadError, Policy, PolicyError, PolicyKind};

/// The folder of role policies inside `--policies DIR`.
pub const ROLES_FOLDER: &str = "roles";

/// The most policy files one folder may hold (each is parsed at every reload).
pub const MAX_POLICY_FILES: usize = 10_000;

pub(crate) fn load_dir(dir: &Path) -> Result<IdentityPolicies, LoadError> {
    let users = load_folder(dir)?;
    let roles_dir = dir.join(ROLES_FOLDER);
    let roles = if roles_dir.is_dir() { load_folder(&roles_dir)? } else { BTreeMap::new() };
    Ok(IdentityPolicies { users, roles })
}

fn io_error(path: &Path, source: std::io::Error) -> LoadError {
    LoadError::Io { path: path.display().to_string(), source }
}

fn load_folder(dir: &Path) -> Result<BTreeMap<String, Arc<Policy>>, LoadError> {
    let mut policies = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        if name.is_empty() || !path.is_file() {
            continue;
        }
        if policies.len() >= MAX_POLICY_FILES {
            return Err(io_error(dir, std::io::Error::other(format!("more than {MAX_POLICY_FILES} policy files"))));
        }
        let document = read_bounded(&path)?;
        let policy = Policy::parse_as(&document, PolicyKind::Identity)
            .map_err(|source| LoadError::Policy { path: path.display().to_string(), source })?;
        policies.insert(name.to_owned(), Arc::new(policy));
    }
    Ok(policies)
}

/// Reads at most one byte more than a policy may have, so a huge file is refused without
/// being read whole.
fn read_bounded(path: &Path) -> Result<String, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    if bytes.len() > MAX_POLICY_BYTES {
        return Err(LoadError::Policy {
            path: path.display().to_string(),
            source: PolicyError::TooLarge { limit: MAX_POLICY_BYTES },
        });
    }
    String::from_utf8(bytes).map_err(|_| LoadError::Policy {
        path: path.display().to_string(),
        source: PolicyError::Syntax("Syntax errors in policy: the file is not UTF-8.".to_owned()),
    })
}
