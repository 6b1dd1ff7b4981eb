//! AWS's policy evaluation logic for requests within one account, and the texts of the
//! `AccessDeniedException` it leads to.

use crate::policy::{Effect, Policy};
use crate::{AccessRequest, Decision, Identity, PolicyKind};

impl Policy {
    /// Whether a statement of this effect applies to the request.
    fn has_matching(&self, effect: Effect, kind: PolicyKind, request: &AccessRequest<'_>) -> bool {
        self.statements().iter().any(|s| {
            s.effect() == effect
                && s.applies_to_action(request.action)
                && s.applies_to_resource(request.resource, request.context)
                && s.applies_to_principal(kind, request.principal, request.account)
                && s.conditions_hold(request.context)
        })
    }
}

/// Explicit deny in either policy wins (the identity policy is looked at first, so its kind
/// is the one reported when both deny); otherwise an allow in either policy allows: within
/// one account a resource policy that names the caller grants on its own.
pub(crate) fn evaluate(
    identity: Identity<'_>,
    resource_policy: Option<&Policy>,
    request: &AccessRequest<'_>,
) -> Decision {
    if let Identity::Policy(policy) = identity {
        if policy.has_matching(Effect::Deny, PolicyKind::Identity, request) {
            return Decision::ExplicitDeny(PolicyKind::Identity);
        }
    }
    if let Some(policy) = resource_policy {
        if policy.has_matching(Effect::Deny, PolicyKind::Resource, request) {
            return Decision::ExplicitDeny(PolicyKind::Resource);
        }
    }
    let identity_allows = match identity {
        Identity::Unrestricted => true,
        Identity::Policy(policy) => policy.has_matching(Effect::Allow, PolicyKind::Identity, request),
    };
    if identity_allows || resource_policy.is_some_and(|p| p.has_matching(Effect::Allow, PolicyKind::Resource, request))
    {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

pub(crate) fn access_denied_message(request: &AccessRequest<'_>, decision: Decision) -> String {
    let AccessRequest { principal, action, resource, .. } = request;
    let head = format!("User: {principal} is not authorized to perform: {action} on resource: {resource}");
    match decision {
        Decision::ImplicitDeny => format!("{head} because no identity-based policy allows the {action} action"),
        Decision::ExplicitDeny(PolicyKind::Identity) => {
            format!("{head} with an explicit deny in an identity-based policy")
        }
        Decision::ExplicitDeny(PolicyKind::Resource) => {
            format!("{head} with an explicit deny in a resource-based policy")
        }
        // Not a denial: said plainly rather than dressed as one.
        Decision::Allow => format!("User: {principal} is authorized to perform: {action} on resource: {resource}"),
    }
}
