//! IAM policy documents and their evaluation: the subset of AWS IAM that Rheo's services
//! need to decide whether a signed-in principal may call an operation on a resource.
//!
//! - [`Policy::parse`] reads a policy document (identity or resource policy) and refuses
//!   what AWS refuses, with [`PolicyError`].
//! - [`evaluate`] applies AWS's evaluation logic for one account: an explicit `Deny` in
//!   any applicable policy wins; otherwise an `Allow` in the identity policy or in the
//!   resource policy allows; otherwise the request is implicitly denied.
//! - [`access_denied_message`] spells the `AccessDeniedException` text AWS returns.
//! - [`IdentityPolicies::load_dir`] reads `--policies DIR`.
//!
//! Modules: `policy` (document model and parser), `wildcard` (`*`/`?` and ARN matching),
//! `template` (policy variables), `condition` (operators), `values` (dates, numbers, CIDR
//! blocks), `evaluate` (decision and denial texts), `load` (the policies folder).

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

mod condition;
mod error;
mod evaluate;
mod load;
mod policy;
mod template;
mod values;
mod wildcard;

pub use error::PolicyError;
pub use load::{MAX_POLICY_FILES, ROLES_FOLDER};
pub use policy::{
    Effect, Policy, PolicyVersion, Statement, MAX_IDENTITY_POLICY_CHARS, MAX_POLICY_BYTES, MAX_STATEMENTS,
};

/// Which kind of policy a statement came from; AWS's denial texts name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A principal's own (identity-based) policy.
    Identity,
    /// A policy attached to the resource (resource-based).
    Resource,
}

/// What a principal's identity policies are.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// No policy file: Rheo's rule is that such a principal may do everything (a
    /// resource policy can still deny it explicitly).
    Unrestricted,
    /// The principal's policy document.
    Policy(&'a Policy),
}

/// A value of a condition key, as the request context supplies it.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    /// A string (also what `StringEquals`, `ArnLike`... compare).
    String(String),
    /// Several strings (multivalued keys, for `ForAnyValue:`/`ForAllValues:`).
    Strings(Vec<String>),
    /// A boolean (`aws:SecureTransport`).
    Bool(bool),
    /// An IP address (`aws:SourceIp`).
    Ip(IpAddr),
    /// A point in time (`aws:CurrentTime`, `aws:EpochTime`).
    Date(SystemTime),
    /// A number.
    Number(f64),
}

/// The condition keys of one request, looked up case-insensitively by name (AWS's
/// condition key names are case-insensitive).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    entries: BTreeMap<String, ContextValue>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn with(mut self, key: &str, value: ContextValue) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.entries.insert(key.to_ascii_lowercase(), value);
    }

    /// The value of `key`, if the request has it.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(&key.to_ascii_lowercase())
    }

    /// The value of a key already lowercased (conditions store their keys so), without
    /// allocating per lookup.
    pub(crate) fn get_lowercase(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(key)
    }
}

/// One request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// The caller's ARN: `arn:aws:iam::ACCOUNT:user/NAME` or `arn:aws:iam::ACCOUNT:role/NAME`.
    pub principal: &'a str,
    /// The caller's account id (12 digits).
    pub account: &'a str,
    /// The action, such as `kinesis:PutRecord`.
    pub action: &'a str,
    /// The resource's ARN, or `*` for actions on no resource (such as `kinesis:ListStreams`
    /// as AWS models it... see the service's authorization table).
    pub resource: &'a str,
    /// The condition keys.
    pub context: &'a Context,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// No policy allowed it.
    ImplicitDeny,
    /// A `Deny` statement of this kind of policy matched.
    ExplicitDeny(PolicyKind),
}

/// AWS's evaluation logic (same account) over the principal's identity policy and the
/// resource's policy, if any.
pub fn evaluate(identity: Identity<'_>, resource_policy: Option<&Policy>, request: &AccessRequest<'_>) -> Decision {
    evaluate::evaluate(identity, resource_policy, request)
}

/// The message of the `AccessDeniedException` AWS answers for a denied request, such as
/// `User: arn:aws:iam::123456789012:user/alice is not authorized to perform:
/// kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:123456789012:stream/orders
/// because no identity-based policy allows the kinesis:GetRecords action`.
pub fn access_denied_message(request: &AccessRequest<'_>, decision: Decision) -> String {
    evaluate::access_denied_message(request, decision)
}

/// Why `--policies DIR` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder or a file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A document is not a valid policy.
    #[error("{path}: {source}")]
    Policy {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: PolicyError,
    },
}

/// The identity policies of `--policies DIR`: `NAME.json` is the policy of the principal
/// named `NAME` in the credentials file (a user), `roles/NAME.json` the policy of the role
/// `arn:aws:iam::ACCOUNT:role/NAME` (the role a Firehose delivery stream or an Analytics
/// application names in its `RoleARN`).
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicies {
    users: BTreeMap<String, std::sync::Arc<Policy>>,
    roles: BTreeMap<String, std::sync::Arc<Policy>>,
}

impl IdentityPolicies {
    /// Reads every policy of `dir`; one bad document fails the whole load (so a reload
    /// keeps the previous policies rather than silently dropping one).
    pub fn load_dir(dir: &Path) -> Result<IdentityPolicies, LoadError> {
        load::load_dir(dir)
    }

    /// The policy of the user `name`, or `None` (unrestricted).
    pub fn user(&self, name: &str) -> Option<&std::sync::Arc<Policy>> {
        self.users.get(name)
    }

    /// The policy of the role `name`, or `None` (unrestricted).
    pub fn role(&self, name: &str) -> Option<&std::sync::Arc<Policy>> {
        self.roles.get(name)
    }
}
