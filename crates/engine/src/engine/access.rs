//! What the server's authorization needs to know of a resource before it lets a call run:
//! the resource policy PutResourcePolicy stored and the tags (`aws:ResourceTag/KEY`), and
//! which stream a shard iterator or a consumer name refers to. Lookups only: nothing here
//! changes state, and a resource that does not exist is `None` (the operation itself then
//! reports it, after authorization).
//!
//! And the seam through which the services that read and write streams in-process
//! (Firehose's Kinesis sources, Analytics' inputs and outputs) ask whether the role they
//! act as may: [`RoleAccess`], which the server implements over IAM and installs when it
//! authorizes calls, so those crates need no IAM or HTTP knowledge.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ids::{ConsumerArn, ResourceName, StreamArn};

use super::Engine;

/// A stream's, consumer's or queue's access facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceAccess {
    /// The stored resource policy document, if one is attached.
    pub policy: Option<String>,
    /// The resource's tags.
    pub tags: BTreeMap<String, String>,
}

/// Decides whether a role (`arn:aws:iam::ACCOUNT:role/NAME`) may perform an action (such
/// as `kinesis:GetRecords`) on a resource's ARN.
pub trait RoleAccess: Send + Sync {
    /// `Ok` when allowed; the denial's message otherwise.
    fn check(&self, role_arn: &str, action: &str, resource: &str) -> Result<(), RoleDenied>;
}

/// A role's action refused, with the `AccessDeniedException` text AWS would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RoleDenied {
    /// The message.
    pub message: String,
}

impl Engine {
    /// Installs the check of roles' access (once; later calls are ignored and say so).
    pub fn install_role_access(&self, access: Arc<dyn RoleAccess>) -> bool {
        self.role_access.set(access).is_ok()
    }

    /// Whether `role_arn` may perform each of `actions` on `resource`; always `Ok` when no
    /// check is installed (the server does not authorize calls).
    pub fn check_role(&self, role_arn: &str, actions: &[&str], resource: &str) -> Result<(), RoleDenied> {
        let Some(access) = self.role_access.get() else {
            return Ok(());
        };
        actions.iter().try_for_each(|action| access.check(role_arn, action, resource))
    }

    /// The policy and tags of the stream, consumer or queue `arn` names, or `None` when
    /// it names none of this account's.
    pub fn resource_access(&self, arn: &str) -> Option<ResourceAccess> {
        if self.is_queue_arn(arn) {
            let def = self.find_queue(arn).ok()?.def();
            return Some(ResourceAccess { policy: def.policy, tags: def.tags });
        }
        let (snapshot, consumer) = self.resolve_resource(arn).ok()?;
        match consumer {
            None => Some(ResourceAccess {
                policy: snapshot.settings.policy.clone(),
                tags: snapshot.meta.props.tags.clone(),
            }),
            Some(consumer) => {
                let settings = snapshot.consumer_settings(&consumer)?;
                Some(ResourceAccess { policy: settings.policy, tags: settings.tags })
            }
        }
    }

    /// The ARN of the stream a shard iterator this engine issued reads, or `None` when the
    /// text is not such an iterator (GetRecords then refuses it on its own).
    pub fn iterator_stream_arn(&self, iterator: &str) -> Option<StreamArn> {
        let state = self.tokens.open_iterator(iterator)?;
        Some(self.account().stream_arn(&state.stream_name))
    }

    /// The ARN of the consumer `name` of the stream `stream_arn`, when it is registered.
    pub fn consumer_arn_by_name(&self, stream_arn: &str, name: &str) -> Option<ConsumerArn> {
        let Some(ResourceName::Stream(stream)) = self.account().parse_arn(stream_arn) else {
            return None;
        };
        let snapshot = self.catalog.resolve_name(&stream).ok()?;
        let consumer = snapshot.consumers().iter().find(|c| c.name == name)?;
        Some(self.account().consumer_arn(&stream, &consumer.name, consumer.created_ms))
    }
}
