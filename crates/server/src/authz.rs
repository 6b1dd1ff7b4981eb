//! Authorization: every service asks here whether the signed-in caller may run the
//! decoded call, after decoding and before anything runs, so a denied call changes
//! nothing. Under `--auth none` the caller has no principal and nothing is checked.
//!
//! - one table per service (`kinesis`, `firehose`, `analytics`, `dynamodb`) turns a
//!   decoded request into [`Check`]s: the IAM action and the resource ARN AWS's Service
//!   Authorization Reference names for the operation (`*` where the action takes none);
//! - [`context`] builds the request's condition keys (`aws:SourceIp`, `aws:CurrentTime`...);
//! - [`Authorizer`] evaluates each check with `rheo_iam` over the caller's identity policy
//!   and the resource's policy (PutResourcePolicy's, through a [`ResourceLookup`]), with
//!   parsed resource policies kept in a bounded cache keyed by the document;
//! - [`roles`] is the same for the roles Firehose and Analytics act as (their `RoleARN`).

pub mod analytics;
pub mod context;
pub mod dynamodb;
pub mod firehose;
pub mod kinesis;
pub mod pass_role;
pub mod roles;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;
use rheo_engine::ResourceAccess;
use rheo_iam::{AccessRequest, Context, ContextValue, Decision, Identity, Policy};

use crate::auth::Caller;
use crate::state::AppState;

/// The resource of actions that take none (such as `kinesis:ListStreams`).
pub const ANY_RESOURCE: &str = "*";

/// How many parsed resource policies are kept; beyond it the cache starts afresh (each
/// entry is re-parsed on its next use, so a flood of distinct documents costs parse time,
/// never memory).
pub const RESOURCE_POLICY_CACHE_MAX: usize = 1024;

/// One permission a call needs: an IAM action on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The action, such as `kinesis:PutRecord`.
    pub action: String,
    /// The resource's ARN, or [`ANY_RESOURCE`].
    pub resource: String,
}

impl Check {
    /// `service:name` on `resource`.
    pub fn new(service: &str, name: &str, resource: impl Into<String>) -> Check {
        Check { action: format!("{service}:{name}"), resource: resource.into() }
    }
}

/// What a call needs: its checks, and the condition keys the request itself supplies
/// (`aws:RequestTag/KEY`, `aws:TagKeys`, service keys such as `dynamodb:Select`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// The permissions, all required.
    pub checks: Vec<Check>,
    /// Condition keys from the request's parameters.
    pub keys: Vec<(String, ContextValue)>,
}

impl Needs {
    /// One permission, no request keys.
    pub fn one(check: Check) -> Needs {
        Needs { checks: vec![check], keys: Vec::new() }
    }

    /// Adds the `aws:RequestTag/KEY` and `aws:TagKeys` keys of the tags a call sets.
    pub fn with_request_tags<'a>(mut self, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Needs {
        let mut keys = Vec::new();
        for (key, value) in tags {
            self.keys.push((format!("aws:RequestTag/{key}"), ContextValue::String(value.clone())));
            keys.push(key.clone());
        }
        if !keys.is_empty() {
            self.keys.push(("aws:TagKeys".to_owned(), ContextValue::Strings(keys)));
        }
        self
    }

    /// Adds the `aws:TagKeys` key of the tag keys a call removes.
    pub fn with_tag_keys(mut self, keys: &[String]) -> Needs {
        self.keys.push(("aws:TagKeys".to_owned(), ContextValue::Strings(keys.to_vec())));
        self
    }
}

/// A denied call: the message AWS's `AccessDeniedException` carries. Each service maps it
/// to its error shape (`crate::errors::access_denied`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// `User: ARN is not authorized to perform: ACTION on resource: ARN because ...`.
    pub message: String,
}

/// Where the policy and tags of a resource come from (the Kinesis engine for streams,
/// consumers and queues; nothing for the other services' resources).
pub trait ResourceLookup {
    /// The resource's stored policy and tags, or `None` when it has none or does not exist.
    fn access(&self, arn: &str) -> Option<ResourceAccess>;
}

/// Resources without policies or tags.
pub struct NoResourcePolicies;

impl ResourceLookup for NoResourcePolicies {
    fn access(&self, _arn: &str) -> Option<ResourceAccess> {
        None
    }
}

impl ResourceLookup for rheo_engine::Engine {
    fn access(&self, arn: &str) -> Option<ResourceAccess> {
        if arn == ANY_RESOURCE {
            return None;
        }
        self.resource_access(arn)
    }
}

/// A principal as authorization sees it: a signed-in user, or the role a Firehose
/// delivery stream or an Analytics application acts as.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// `arn:aws:iam::ACCOUNT:user/NAME` or `arn:aws:iam::ACCOUNT:role/NAME`.
    pub arn: &'a str,
    /// Its identity policy.
    pub identity: Identity<'a>,
}

impl Acting<'_> {
    /// The account in the principal's ARN (`arn:aws:iam::ACCOUNT:...`).
    pub fn account(&self) -> &str {
        self.arn.split(':').nth(4).unwrap_or_default()
    }
}

/// Evaluates checks, with the parsed resource policies cached; shared by every service
/// (one in the server's [`crate::state::AppState`]).
#[derive(Debug, Default)]
pub struct Authorizer {
    /// Parsed resource policies by document text: a changed policy is a new key, so the
    /// cache never answers with a stale document.
    resource_policies: Mutex<HashMap<String, Arc<Policy>>>,
}

impl Authorizer {
    /// Authorizes a call of `caller`; `Ok` without looking at anything when the caller has
    /// no principal (`--auth none`).
    pub fn authorize(
        &self,
        caller: &Caller,
        region: &str,
        needs: &Needs,
        lookup: &dyn ResourceLookup,
    ) -> Result<(), Denied> {
        let Some(principal) = &caller.principal else {
            return Ok(());
        };
        let identity = match &principal.policy {
            Some(policy) => Identity::Policy(policy),
            None => Identity::Unrestricted,
        };
        let acting = Acting { arn: &principal.arn, identity };
        let mut context = context::for_caller(caller, &principal.name, acting, region);
        for (key, value) in &needs.keys {
            context.insert(key, value.clone());
        }
        self.evaluate(acting, &context, &needs.checks, lookup)
    }

    /// Evaluates every check for `acting` in `context` (plus each resource's tags); the
    /// first check not allowed is the denial.
    pub fn evaluate(
        &self,
        acting: Acting<'_>,
        context: &Context,
        checks: &[Check],
        lookup: &dyn ResourceLookup,
    ) -> Result<(), Denied> {
        for check in checks {
            let access = lookup.access(&check.resource);
            let resource_policy = match access.as_ref().and_then(|access| access.policy.as_deref()) {
                None => None,
                Some(document) => Some(self.parsed(document).ok_or_else(|| Denied {
                    message: format!(
                        "The resource policy of {} cannot be evaluated; replace it with PutResourcePolicy.",
                        check.resource
                    ),
                })?),
            };
            let tagged;
            let context = match access.as_ref().map(|access| &access.tags).filter(|tags| !tags.is_empty()) {
                Some(tags) => {
                    tagged = with_resource_tags(context, tags);
                    &tagged
                }
                None => context,
            };
            let request = AccessRequest {
                principal: acting.arn,
                account: acting.account(),
                action: &check.action,
                resource: &check.resource,
                context,
            };
            let decision = rheo_iam::evaluate(acting.identity, resource_policy.as_deref(), &request);
            if decision != Decision::Allow {
                tracing::debug!(
                    message = "Access denied.",
                    principal = acting.arn,
                    action = %check.action,
                    resource = %check.resource,
                    ?decision
                );
                return Err(Denied { message: rheo_iam::access_denied_message(&request, decision) });
            }
        }
        Ok(())
    }

    /// Authorizes a call of a service whose resources have no policies or tags here
    /// (Firehose, Analytics, DynamoDB), in the engine's region.
    pub fn authorize_call(&self, state: &AppState, caller: &Caller, needs: &Needs) -> Result<(), Denied> {
        self.authorize(caller, &state.engine.account().region, needs, &NoResourcePolicies)
    }

    /// The parsed policy of a stored document. PutResourcePolicy only stores documents
    /// that parse, so `None` means a document stored before policies were checked: calls
    /// to such a resource are denied (failing closed: the document may hold a `Deny`).
    fn parsed(&self, document: &str) -> Option<Arc<Policy>> {
        if let Some(policy) = self.resource_policies.lock().get(document) {
            return Some(policy.clone());
        }
        let policy = match Policy::parse(document) {
            Ok(policy) => Arc::new(policy),
            Err(error) => {
                tracing::warn!(message = "A stored resource policy does not parse; calls to its resource are denied.", %error);
                return None;
            }
        };
        let mut cache = self.resource_policies.lock();
        if cache.len() >= RESOURCE_POLICY_CACHE_MAX {
            cache.clear();
        }
        cache.insert(document.to_owned(), policy.clone());
        Some(policy)
    }
}

/// `context` with `aws:ResourceTag/KEY` for each of the resource's tags.
fn with_resource_tags(context: &Context, tags: &BTreeMap<String, String>) -> Context {
    let mut context = context.clone();
    for (key, value) in tags {
        context.insert(&format!("aws:ResourceTag/{key}"), ContextValue::String(value.clone()));
    }
    context
}

#[cfg(test)]
mod tests;
