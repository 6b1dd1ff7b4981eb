//! What the server's authorization needs to know of a resource before it lets a call run:
//! the resource policy PutResourcePolicy stored and the tags (`aws:ResourceTag/KEY`), and
//! which stream a shard iterator or a consumer name refers to. Lookups only: nothing here
//! changes state, and a resource that does not exist is `None` (the operation itself then
//! reports it, after authorization).

use std::collections::BTreeMap;

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

impl Engine {
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
