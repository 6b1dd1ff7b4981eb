//! The global condition keys of a request, from its caller and the clock.

use std::time::SystemTime;

use rheo_iam::{Context, ContextValue};

use super::Acting;
use crate::auth::Caller;

/// The keys every request of a signed-in `caller` carries: `aws:SourceIp` (when it came
/// over a connection), `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`,
/// `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:username` and
/// `aws:RequestedRegion`.
pub fn for_caller(caller: &Caller, user_name: &str, acting: Acting<'_>, region: &str) -> Context {
    let mut context = for_principal(acting, region, SystemTime::now());
    context.insert("aws:SecureTransport", ContextValue::Bool(caller.secure_transport));
    if let Some(ip) = caller.source_ip {
        context.insert("aws:SourceIp", ContextValue::Ip(ip));
    }
    context.insert("aws:username", ContextValue::String(user_name.to_owned()));
    context
}

/// The keys of a call made by `acting` itself (a role a service acts as, or a user) at
/// `now`, without the keys of a client connection.
pub fn for_principal(acting: Acting<'_>, region: &str, now: SystemTime) -> Context {
    let epoch_seconds = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let principal_type = if acting.arn.contains(":role/") { "AssumedRole" } else { "User" };
    Context::new()
        .with("aws:CurrentTime", ContextValue::Date(now))
        .with("aws:EpochTime", ContextValue::Number(epoch_seconds as f64))
        .with("aws:PrincipalArn", ContextValue::String(acting.arn.to_owned()))
        .with("aws:PrincipalAccount", ContextValue::String(acting.account().to_owned()))
        .with("aws:PrincipalType", ContextValue::String(principal_type.to_owned()))
        .with("aws:RequestedRegion", ContextValue::String(region.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use rheo_iam::Identity;

    use super::*;
    use crate::auth::Principal;

    #[test]
    fn a_callers_keys_name_it_its_connection_and_the_region() {
        let principal = Arc::new(Principal {
            name: "alice".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            policy: None,
        });
        let caller = Caller {
            principal: Some(principal.clone()),
            source_ip: Some("192.0.2.7".parse().unwrap()),
            secure_transport: true,
        };
        let acting = Acting { arn: &principal.arn, identity: Identity::Unrestricted };
        let context = for_caller(&caller, "alice", acting, "eu-west-1");
        let string = |s: &str| Some(ContextValue::String(s.to_owned()));
        assert_eq!(context.get("aws:SourceIp"), Some(&ContextValue::Ip("192.0.2.7".parse().unwrap())));
        assert_eq!(context.get("aws:securetransport"), Some(&ContextValue::Bool(true)));
        assert_eq!(context.get("aws:username").cloned(), string("alice"));
        assert_eq!(context.get("aws:PrincipalAccount").cloned(), string("123456789012"));
        assert_eq!(context.get("aws:PrincipalArn").cloned(), string("arn:aws:iam::123456789012:user/alice"));
        assert_eq!(context.get("aws:PrincipalType").cloned(), string("User"));
        assert_eq!(context.get("aws:RequestedRegion").cloned(), string("eu-west-1"));
        assert!(matches!(context.get("aws:CurrentTime"), Some(ContextValue::Date(_))));
        assert!(matches!(context.get("aws:EpochTime"), Some(ContextValue::Number(n)) if *n > 1.0e9));
    }

    #[test]
    fn a_role_is_an_assumed_role_without_connection_keys() {
        let acting = Acting { arn: "arn:aws:iam::123456789012:role/delivery", identity: Identity::Unrestricted };
        let context = for_principal(acting, "us-east-1", SystemTime::UNIX_EPOCH);
        assert_eq!(context.get("aws:PrincipalType"), Some(&ContextValue::String("AssumedRole".into())));
        assert_eq!(context.get("aws:SourceIp"), None);
        assert_eq!(context.get("aws:EpochTime"), Some(&ContextValue::Number(0.0)));
    }
}
