//! The roles Firehose delivery streams and Analytics applications act as (their
//! `RoleARN`): their identity policies (`--policies DIR/roles/NAME.json`), replaced as a
//! whole when the policies are reloaded.

use std::sync::Arc;

use parking_lot::RwLock;
use rheo_iam::{IdentityPolicies, Policy};

/// The identity policies of roles, shared by the services that act as them.
#[derive(Debug, Default)]
pub struct RolePolicies {
    policies: RwLock<Arc<IdentityPolicies>>,
}

impl RolePolicies {
    /// Replaces the policies (start-up and each reload).
    pub fn replace(&self, policies: Arc<IdentityPolicies>) {
        *self.policies.write() = policies;
    }

    /// The policy of the role `arn:aws:iam::ACCOUNT:role/NAME`, or `None`: no policy file,
    /// so the role may do everything a resource policy does not deny it.
    pub fn policy_of(&self, role_arn: &str) -> Option<Arc<Policy>> {
        let name = role_name(role_arn)?;
        self.policies.read().role(name).cloned()
    }
}

/// The name in a role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`: the last path part).
pub fn role_name(role_arn: &str) -> Option<&str> {
    let resource = role_arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("role/")?;
    path.rsplit('/').next().filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_arn_names_its_role() {
        assert_eq!(role_name("arn:aws:iam::123456789012:role/delivery"), Some("delivery"));
        assert_eq!(role_name("arn:aws:iam::123456789012:role/service/delivery"), Some("delivery"));
        assert_eq!(role_name("arn:aws:iam::123456789012:user/alice"), None);
        assert_eq!(role_name("not an arn"), None);
    }
}
