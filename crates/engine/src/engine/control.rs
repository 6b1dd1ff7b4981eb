//! The control-plane limits of `--enforce-limits`: per-operation rates, the streams that
//! may be CREATING or DELETING at once, and encryption changes per day. Without the flag
//! every check here passes.

use crate::catalog::ChangeLock;
use crate::control_rates::{ControlOperation, RateScope};
use crate::error::{EngineError, LimitExceeded, Result};
use crate::ids::{Account, ShardId};
use crate::limits::{ENCRYPTION_CHANGES_PER_DAY_MAX, STREAMS_CHANGING_MAX};
use crate::model::StreamRef;
use crate::status::StreamStatus;

use super::Engine;

/// What a control-plane call names, for choosing its rate budget.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateTarget<'a> {
    /// The stream, by name or ARN.
    pub stream: Option<&'a StreamRef>,
    /// The consumer, by ARN (its stream is read from the ARN when `stream` is absent).
    pub consumer_arn: Option<&'a str>,
    /// The shard id as given.
    pub shard: Option<&'a str>,
}

impl RateTarget<'_> {
    /// The stream name the call names: from the reference (the ARN's name when both
    /// are given), else from the consumer ARN.
    fn stream_name(&self) -> Option<&str> {
        match self.stream {
            Some(StreamRef { name: Some(name), arn: None }) => Some(name),
            Some(StreamRef { arn: Some(arn), .. }) => Some(Account::stream_name_in_arn(arn)),
            _ => self.consumer_arn.map(Account::stream_name_in_arn),
        }
    }
}

impl Engine {
    /// Takes one call of `operation` from its rate budget; `LimitExceededException`
    /// ("Rate exceeded") when the budget is spent, or for GetShardIterator the shard's
    /// `ProvisionedThroughputExceededException`, as AWS answers.
    pub fn admit_control(&self, operation: ControlOperation, target: &RateTarget<'_>) -> Result<()> {
        let Some(rates) = &self.control_rates else { return Ok(()) };
        let stream = target.stream_name();
        let shard =
            target.shard.map(|given| ShardId::parse(given).map_or_else(|| given.to_owned(), |id| id.to_string()));
        let scope = match operation.rate().1 {
            RateScope::Account => String::new(),
            RateScope::Stream => stream.unwrap_or_default().to_owned(),
            RateScope::Shard => format!("{}/{}", stream.unwrap_or_default(), shard.as_deref().unwrap_or_default()),
            RateScope::ConsumerShard => {
                format!("{}/{}", target.consumer_arn.unwrap_or_default(), shard.as_deref().unwrap_or_default())
            }
        };
        if rates.admit(operation, &scope, self.monotonic_ms()) {
            return Ok(());
        }
        tracing::debug!(message = "Control-plane rate exceeded.", ?operation, stream = stream.unwrap_or_default());
        if operation == ControlOperation::GetShardIterator {
            return Err(EngineError::ThroughputExceeded {
                shard: shard.unwrap_or_default(),
                stream: stream.unwrap_or_default().to_owned(),
                account: self.account_id(),
            });
        }
        Err(LimitExceeded::Rate { operation, stream: stream.map(str::to_owned), account: self.account_id() }.into())
    }

    /// CreateStream and DeleteStream: refused while as many streams as allowed are
    /// CREATING or DELETING.
    pub(super) fn check_streams_changing(&self, _lock: &ChangeLock<'_>) -> Result<()> {
        if self.control_rates.is_none() {
            return Ok(());
        }
        let now = self.now_ms();
        let changing = self
            .catalog
            .all_snapshots()
            .iter()
            .filter(|snapshot| match self.catalog.status(snapshot) {
                StreamStatus::Creating => true,
                // A deletion whose period is over is gone, whether reaped yet or not.
                StreamStatus::Deleting => snapshot.settings.deleting_until_ms.is_some_and(|until| now < until),
                StreamStatus::Active | StreamStatus::Updating => false,
            })
            .count();
        if changing >= STREAMS_CHANGING_MAX {
            return Err(
                LimitExceeded::StreamsChanging { account: self.account_id(), limit: STREAMS_CHANGING_MAX }.into()
            );
        }
        Ok(())
    }

    /// StartStreamEncryption and StopStreamEncryption: refused once the stream's
    /// encryption changed as often as allowed in the last 24 hours.
    pub fn check_encryption_change(&self, stream: &StreamRef) -> Result<()> {
        let Some(rates) = &self.control_rates else { return Ok(()) };
        let name = self.catalog.referenced_name(stream)?;
        if rates.encryption_change_allowed(name, self.monotonic_ms()) {
            return Ok(());
        }
        Err(LimitExceeded::EncryptionChangesPerDay {
            stream: name.to_owned(),
            account: self.account_id(),
            limit: ENCRYPTION_CHANGES_PER_DAY_MAX,
        }
        .into())
    }

    /// Counts a successful StartStreamEncryption or StopStreamEncryption.
    pub fn note_encryption_change(&self, stream: &StreamRef) {
        let Some(rates) = &self.control_rates else { return };
        if let Ok(name) = self.catalog.referenced_name(stream) {
            rates.note_encryption_change(name, self.monotonic_ms());
        }
    }
}
