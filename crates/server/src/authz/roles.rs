//! The roles Firehose delivery streams and Analytics applications act as (their
//! `RoleARN`): their identity policies are `--policies DIR/roles/NAME.json`, read from the
//! authenticator's snapshot, so a reload (SIGHUP) applies to them as to users.

use std::sync::{Arc, Weak};
use std::time::SystemTime;

use rheo_engine::ids::Account;
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

    /// The policy of this account's role `name`, or `None`: no policy file, so the role
    /// may do everything a resource policy does not deny it.
    fn policy_of(&self, name: &str) -> Option<Arc<Policy>> {
        self.authenticator.snapshot().policies().role(name).cloned()
    }
}

impl RoleAccess for RoleChecker {
    fn check(&self, role_arn: &str, action: &str, resource: &str) -> Result<(), RoleDenied> {
        let Some(engine) = self.engine.upgrade() else {
            return Err(RoleDenied { message: "The server is shutting down.".into() });
        };
        // A role of another account or partition, or no role ARN at all, is none of the
        // roles `--policies DIR/roles` describes: it may do nothing here.
        let Some(name) = own_role_name(role_arn, engine.account()) else {
            return Err(RoleDenied {
                message: format!("User: {role_arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"),
            });
        };
        let policy = self.policy_of(name);
        let identity = policy.as_deref().map_or(Identity::Unrestricted, Identity::Policy);
        let acting = Acting { arn: role_arn, identity };
        let context = context::for_principal(acting, &engine.account().region, SystemTime::now());
        let check = Check { action: action.to_owned(), resource: resource.to_owned() };
        self.authorizer
            .evaluate(acting, &context, std::slice::from_ref(&check), engine.as_ref())
            .map_err(|denied| RoleDenied { message: denied.message })
    }
}

/// The name of `role_arn` when it is a role of `account` (same partition and account
/// ID), else `None`.
pub fn own_role_name<'a>(role_arn: &'a str, account: &Account) -> Option<&'a str> {
    let mut parts = role_arn.splitn(6, ':');
    let own = parts.next() == Some("arn")
        && parts.next() == Some(account.partition())
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts.next() == Some(account.account_id.as_str());
    if own {
        role_name(role_arn)
    } else {
        None
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

    #[test]
    fn only_this_accounts_roles_are_its_roles() {
        let account = Account { region: "us-east-1".into(), account_id: "123456789012".into() };
        assert_eq!(own_role_name("arn:aws:iam::123456789012:role/x/reader", &account), Some("reader"));
        assert_eq!(own_role_name("arn:aws:iam::999999999999:role/x/reader", &account), None);
        assert_eq!(own_role_name("arn:aws-cn:iam::123456789012:role/reader", &account), None);
        assert_eq!(own_role_name("arn:aws:sts::123456789012:role/reader", &account), None);
        assert_eq!(own_role_name("reader", &account), None);
    }
}
