//! UpdateStreamRecordDistributionStrategy: how an on-demand stream places records.
//!
//! Rules (API_UpdateStreamRecordDistributionStrategy): the stream is named by its ARN
//! only; the change takes effect at once, without an UPDATING period, for records put
//! afterwards (records already written keep their shards); AUTO on a provisioned stream is
//! an InvalidArgumentException. Like the stream's other settings, the strategy lives in its
//! metadata, so it survives a restart. The placement itself is in `records.rs` (prepare)
//! and `auto_distribution.rs`.

use super::Engine;
use crate::error::{InvalidArgument, Result};
use crate::model::{RecordDistribution, StreamMode, StreamRef, UpdateRecordDistribution};

impl Engine {
    /// UpdateStreamRecordDistributionStrategy.
    pub async fn update_record_distribution(&self, request: &UpdateRecordDistribution) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve_active(&StreamRef::arn(request.stream_arn.clone()))?;
        let strategy = request.strategy;
        if strategy == RecordDistribution::Auto && snapshot.settings.mode == StreamMode::Provisioned {
            return Err(InvalidArgument::AutoDistributionProvisioned {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
            }
            .into());
        }
        self.catalog.update_settings(&lock, snapshot.id(), move |s| s.record_distribution = strategy).await?;
        tracing::info!(
            message = "Record distribution changed.",
            stream = snapshot.name(),
            strategy = strategy.as_str()
        );
        Ok(())
    }
}
