//! Enhanced fan-out consumers: registration, description, listing, deregistration.
//! SubscribeToShard itself is in `subscribe`.

use std::sync::Arc;

use rheo_storage::ConsumerMeta;

use super::Engine;
use crate::error::{EngineError, InvalidArgument, LimitExceeded, ResourceInUse, Result};
use crate::ids::{Account, ResourceName};
use crate::limits::{CONSUMERS_CREATING_MAX, LIST_CONSUMERS_LIMIT_DEFAULT};
use crate::model::{
    ConsumerInfo, ConsumerList, ConsumerRef, ConsumerStatus, ListConsumers, RegisterConsumer, StreamRef, StreamStatus,
};
use crate::settings::{self, ConsumerSettings};
use crate::snapshot::Snapshot;
use crate::tags::check_tags;
use crate::token::PageKind;

impl Engine {
    /// A consumer's state; consumers of a stream being deleted are DELETING too
    /// (DeleteStream with EnforceConsumerDeletion deregisters them).
    pub(super) fn consumer_status(&self, snapshot: &Snapshot, consumer: &ConsumerMeta) -> ConsumerStatus {
        if snapshot.settings.deleting_until_ms.is_some() {
            return ConsumerStatus::Deleting;
        }
        self.own_consumer_status(consumer)
    }

    fn own_consumer_status(&self, consumer: &ConsumerMeta) -> ConsumerStatus {
        let settings: ConsumerSettings = settings::decode(&consumer.settings);
        if settings.deleting_until_ms.is_some() {
            ConsumerStatus::Deleting
        } else if self.now_ms() < consumer.created_ms.saturating_add(self.config.consumer_ms) {
            ConsumerStatus::Creating
        } else {
            ConsumerStatus::Active
        }
    }

    fn consumer_gone(&self, consumer: &ConsumerMeta) -> bool {
        settings::decode::<ConsumerSettings>(&consumer.settings)
            .deleting_until_ms
            .is_some_and(|until| self.now_ms() >= until)
    }

    fn consumer_info(&self, snapshot: &Snapshot, consumer: &ConsumerMeta) -> ConsumerInfo {
        ConsumerInfo {
            name: consumer.name.clone(),
            arn: self.account().consumer_arn(snapshot.name(), &consumer.name, consumer.created_ms),
            status: self.consumer_status(snapshot, consumer),
            created_ms: consumer.created_ms,
            stream_arn: self.account().stream_arn(snapshot.name()),
        }
    }

    /// Finds a consumer by ARN, or by stream ARN and name.
    pub(super) fn find_consumer(&self, reference: &ConsumerRef) -> Result<(Arc<Snapshot>, ConsumerMeta)> {
        let account = self.account_id();
        match (&reference.consumer_arn, &reference.stream_arn, &reference.consumer_name) {
            (Some(arn), stream_arn, name) => {
                let Some(ResourceName::Consumer { stream, consumer, created_secs }) = self.account().parse_arn(arn)
                else {
                    return Err(EngineError::ConsumerNotFound {
                        consumer: arn.clone(),
                        stream: Account::stream_name_in_arn(arn).to_owned(),
                        account,
                    });
                };
                if let Some(stream_arn) = stream_arn {
                    if self.account().stream_arn(&stream) != *stream_arn {
                        return Err(InvalidArgument::ConsumerArnStreamMismatch {
                            consumer_arn: arn.clone(),
                            stream_arn: stream_arn.clone(),
                        }
                        .into());
                    }
                }
                if let Some(name) = name.as_ref().filter(|name| **name != consumer) {
                    return Err(InvalidArgument::ConsumerArnNameMismatch {
                        consumer_arn: arn.clone(),
                        consumer_name: name.clone(),
                    }
                    .into());
                }
                let snapshot = self.catalog.resolve_name(&stream)?;
                let found = snapshot
                    .consumers()
                    .iter()
                    .find(|c| c.name == consumer && c.created_ms / 1000 == created_secs && !self.consumer_gone(c))
                    .cloned()
                    .ok_or(EngineError::ConsumerNotFound { consumer: arn.clone(), stream, account })?;
                Ok((snapshot, found))
            }
            (None, Some(stream_arn), Some(name)) => {
                let snapshot = self.catalog.resolve(&StreamRef::arn(stream_arn.clone()))?;
                let found = snapshot
                    .consumers()
                    .iter()
                    .find(|c| c.name == *name && !self.consumer_gone(c))
                    .cloned()
                    .ok_or_else(|| EngineError::ConsumerNotFound {
                        consumer: name.clone(),
                        stream: snapshot.name().to_owned(),
                        account,
                    })?;
                Ok((snapshot, found))
            }
            _ => Err(InvalidArgument::ConsumerRefMissing.into()),
        }
    }

    /// RegisterStreamConsumer.
    pub async fn register_consumer(&self, request: RegisterConsumer) -> Result<ConsumerInfo> {
        let RegisterConsumer { stream_arn, consumer_name: name, tags } = request;
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&StreamRef::arn(stream_arn))?;
        if matches!(self.catalog.status(&snapshot), StreamStatus::Creating | StreamStatus::Deleting) {
            self.catalog.require_active(&snapshot)?;
        }
        let live: Vec<&ConsumerMeta> = snapshot.consumers().iter().filter(|c| !self.consumer_gone(c)).collect();
        let account = &self.account().account_id;
        if live.iter().any(|c| c.name == name) {
            return Err(ResourceInUse::ConsumerExists {
                consumer: name,
                stream: snapshot.name().to_owned(),
                account: account.clone(),
            }
            .into());
        }
        // AWS: queues count as registered consumers against the same quota.
        if live.len() + self.queue_count(snapshot.name()) >= self.config.consumer_limit as usize {
            return Err(LimitExceeded::Consumers {
                stream: snapshot.name().to_owned(),
                account: account.clone(),
                limit: self.config.consumer_limit,
            }
            .into());
        }
        let creating = live.iter().filter(|c| self.own_consumer_status(c) == ConsumerStatus::Creating).count();
        if creating >= CONSUMERS_CREATING_MAX {
            return Err(LimitExceeded::ConsumersCreating {
                stream: snapshot.name().to_owned(),
                account: account.clone(),
                limit: CONSUMERS_CREATING_MAX,
            }
            .into());
        }
        check_tags(account, &name, &tags, &Default::default())?;
        let consumer = ConsumerMeta {
            name: name.clone(),
            created_ms: self.now_ms(),
            settings: settings::encode(&ConsumerSettings { tags, ..Default::default() }),
        };
        let stored = consumer.clone();
        let target = name;
        let snapshot = self
            .catalog
            .update(&lock, snapshot.id(), move |txn| {
                // Drop a deregistered consumer of the same name for good.
                txn.props_mut().consumers.retain(|c| c.name != target);
                txn.props_mut().consumers.push(stored);
                Ok(())
            })
            .await?;
        Ok(self.consumer_info(&snapshot, &consumer))
    }

    /// DescribeStreamConsumer.
    pub fn describe_consumer(&self, reference: &ConsumerRef) -> Result<ConsumerInfo> {
        let (snapshot, consumer) = self.find_consumer(reference)?;
        Ok(self.consumer_info(&snapshot, &consumer))
    }

    /// DeregisterStreamConsumer.
    pub async fn deregister_consumer(&self, reference: &ConsumerRef) -> Result<()> {
        let lock = self.catalog.lock().await;
        let (snapshot, consumer) = self.find_consumer(reference)?;
        if self.config.consumer_ms == 0 {
            let name = consumer.name.clone();
            self.catalog
                .update(&lock, snapshot.id(), move |txn| {
                    txn.props_mut().consumers.retain(|c| c.name != name);
                    Ok(())
                })
                .await?;
            return Ok(());
        }
        let until = self.now_ms().saturating_add(self.config.consumer_ms);
        self.catalog
            .update_consumer(&lock, snapshot.id(), consumer.name, move |s| {
                s.deleting_until_ms.get_or_insert(until);
            })
            .await
    }

    /// ListStreamConsumers.
    pub fn list_consumers(&self, request: &ListConsumers) -> Result<ConsumerList> {
        let snapshot = self.catalog.resolve(&StreamRef::arn(request.stream_arn.clone()))?;
        if let Some(created) = request.stream_creation_ms {
            if created != snapshot.meta.created_ms as i64 {
                return Err(self.catalog.stream_not_found(snapshot.name()));
            }
        }
        let now = self.now_ms();
        let after = match &request.next_token {
            Some(token) => Some(self.tokens.open_name_page(PageKind::Consumers, token, now)?),
            None => None,
        };
        let max = request.max_results.map_or(LIST_CONSUMERS_LIMIT_DEFAULT, |m| m as usize).max(1);
        let mut consumers: Vec<&ConsumerMeta> = snapshot
            .consumers()
            .iter()
            .filter(|c| !self.consumer_gone(c))
            .filter(|c| after.as_deref().is_none_or(|after| c.name.as_str() > after))
            .collect();
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        let more = consumers.len() > max;
        let page: Vec<ConsumerInfo> =
            consumers.into_iter().take(max).map(|c| self.consumer_info(&snapshot, c)).collect();
        let next_token = match page.last() {
            Some(last) if more => Some(self.tokens.seal_page(PageKind::Consumers, last.name.as_bytes(), now)),
            _ => None,
        };
        Ok(ConsumerList { consumers: page, next_token })
    }
}
