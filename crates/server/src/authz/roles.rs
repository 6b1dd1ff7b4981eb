//! The roles Firehose delivery streams and Analytics applications act as (their
//! `RoleARN`): their identity policies are `--policies DIR/roles/NAME.json`, read from the
//! authenticator's snapshot, so a reload (SIGHUP) applies to them as to users.

use std::sync::{Arc, Weak};
use std::time::SystemTime;

use rheo_engine::{Engine, RoleAccess, RoleDenied};
use rheo_iam::{Identity, Policy};

use super::{context, Acting, Authorizer, Check};
use crate::auth::Authenticator;

/// The engine's check of the roles Firehose and Analytics act as: the role's identity
/// policy and the resource's policy (a stream's), evaluated like a user's call, with the
/// keys a role's call has (no client address).
pub struct RoleChecker {
    authorizer: Arc<Authorizer>,
    authenticator: Arc<Authenticator>,
    /// Weak: the engine holds this checker.
    engine: Weak<Engine>,
}

impl RoleChecker {
    /// A checker over `authenticator`'s role policies and `engine`'s resource policies.
    pub fn new(authorizer: Arc<Authorizer>, authenticator: Arc<Authenticator>, engine: &Arc<Engine>) -> RoleChecker {
        RoleChecker { authorizer, authenticator, engine: Arc::downgrade(engine) }
    }

    /// The policy of the role `arn:aws:iam::ACCOUNT:role/NAME`, or `None`: no policy file,
    /// so the role may do everything a resource policy does not deny it.
    fn policy_of(&self, role_arn: &str) -> Option<Arc<Policy>> {
        let name = role_name(role_arn)?;
        self.authenticator.snapshot().policies().role(name).cloned()
    }
}

impl RoleAccess for RoleChecker {
    fn check(&self, role_arn: &str, action: &str, resource: &str) -> Result<(), RoleDenied> {
        let Some(engine) = self.engine.upgrade() else {
            return Err(RoleDenied { message: "The server is shutting down.".into() });
        };
        let policy = self.policy_of(role_arn);
        let identity = policy.as_deref().map_or(Identity::Unrestricted, Identity::Policy);
        let acting = Acting { arn: role_arn, identity };
        let context = context::for_principal(acting, &engine.account().region, SystemTime::now());
        let check = Check { action: action.to_owned(), resource: resource.to_owned() };
        self.authorizer
            .evaluate(acting, &context, std::slice::from_ref(&check), engine.as_ref())
            .map_err(|denied| RoleDenied { message: denied.message })
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
