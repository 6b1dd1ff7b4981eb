//! The engine's front: [`Engine`] holds the components and exposes one method per
//! Kinesis operation. The operations live in the submodules by area (`streams`,
//! `records`, `reshard`, `consumers`, `subscribe`, `distribution`); each is a thin sequence of
//! component calls:
//!
//! - [`Catalog`]: stream names, cached metadata snapshots and routing tables, lifecycle
//!   states, and the change lock every metadata change holds;
//! - [`Tokens`]: shard iterators and pagination tokens;
//! - [`Throttle`]: per-shard throughput budgets, present only under `--enforce-limits`;
//! - [`ControlRates`]: control-plane rate budgets, present only under `--enforce-limits`;
//! - [`Subscriptions`]: the SubscribeToShard registry and its takeover rule;
//! - [`AutoDistribution`]: the round robin of streams with AUTO record distribution.

mod access;
mod consumers;
mod control;
mod distribution;
mod queues;
mod records;
mod reshard;
mod streams;
mod subscribe;

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rheo_keys::{KeyStore, Scope};
use rheo_storage::{Clock, FileSystem, LogConfig, ShardLog};

use crate::auto_distribution::AutoDistribution;
use crate::catalog::{Catalog, ChangeLock, Lifecycle};
use crate::control_rates::ControlRates;
use crate::error::{EngineError, Result};
use crate::ids::Account;
use crate::limits::{
    CONSUMER_LIMIT_DEFAULT, LIFECYCLE_DELAY_MS_DEFAULT, ON_DEMAND_STREAM_LIMIT_DEFAULT, SHARD_LIMIT_DEFAULT,
};
use crate::model::BillingCommitment;
use crate::queues::Queues;
use crate::settings::{self, ConsumerSettings};
use crate::snapshot::Snapshot;
use crate::subscriptions::Subscriptions;
use crate::throttle::Throttle;
use crate::token::{TokenKey, Tokens};

pub use access::{ResourceAccess, RoleAccess, RoleDenied};
pub use control::RateTarget;
pub use subscribe::{Subscription, SubscriptionRead, Wake};

/// How the engine behaves; every field has a flag in the binary.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Region shown in ARNs and messages.
    pub region: String,
    /// 12-digit account id shown in ARNs and messages.
    pub account_id: String,
    /// How long a new stream stays CREATING.
    pub create_stream_ms: u64,
    /// How long a deleted stream stays DELETING.
    pub delete_stream_ms: u64,
    /// How long a stream stays UPDATING after resharding or a mode/encryption change.
    pub update_stream_ms: u64,
    /// How long a consumer stays CREATING (and DELETING when deregistered).
    pub consumer_ms: u64,
    /// Account shard quota (open shards over all streams).
    pub shard_limit: u32,
    /// Account on-demand stream quota.
    pub on_demand_stream_limit: u32,
    /// Consumers per stream.
    pub consumer_limit: u32,
    /// Enforce AWS's rates and quotas: per-shard read and write throughput
    /// (ProvisionedThroughputExceeded), control-plane rates, streams changing at once
    /// and encryption changes per day (LimitExceeded).
    pub enforce_limits: bool,
    /// The key store StartStreamEncryption resolves `KeyId`s in and the log takes key
    /// material from. `None`: a store in memory only (tests; the binary always gives
    /// one), whose keys die with the process.
    pub keys: Option<Arc<KeyStore>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            create_stream_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            delete_stream_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            update_stream_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            consumer_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            shard_limit: SHARD_LIMIT_DEFAULT,
            on_demand_stream_limit: ON_DEMAND_STREAM_LIMIT_DEFAULT,
            consumer_limit: CONSUMER_LIMIT_DEFAULT,
            enforce_limits: false,
            keys: None,
        }
    }
}

/// Kinesis Data Streams semantics over a [`ShardLog`].
pub struct Engine {
    catalog: Catalog,
    tokens: Tokens,
    /// Per-shard budgets; `None` unless limits are enforced.
    throttle: Option<Throttle>,
    /// Control-plane rate budgets; `None` unless limits are enforced.
    control_rates: Option<ControlRates>,
    subscriptions: Subscriptions,
    /// Kinesis queues, over a log of their own.
    queues: Queues,
    /// The round robin of streams with AUTO record distribution.
    auto_distribution: AutoDistribution,
    /// The account's billing commitment. Kept in memory only: it is a billing setting
    /// with no effect on behaviour.
    billing: Mutex<BillingCommitment>,
    /// Whether the roles other services act as may read and write streams; unset (every
    /// role may) unless the server authorizes calls.
    role_access: std::sync::OnceLock<Arc<dyn access::RoleAccess>>,
    config: EngineConfig,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("account", self.catalog.account()).finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (recovering) the log in `dir` and the token key beside it.
    pub fn open(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        dir: &Path,
        mut log_config: LogConfig,
        mut config: EngineConfig,
    ) -> Result<Self> {
        let keys = match &config.keys {
            Some(keys) => keys.clone(),
            None => Arc::new(KeyStore::in_memory(
                Scope { region: config.region.clone(), account: config.account_id.clone() },
                Arc::new(rheo_storage::OsRandom),
            )?),
        };
        config.keys = Some(keys.clone());
        // Encrypted streams' chunks are sealed with the same keys StartStreamEncryption names.
        if log_config.keys.is_none() {
            log_config.keys = Some(keys);
        }
        // The log takes the folder's lock first, so a second server never touches the key.
        let log = ShardLog::open(fs.clone(), clock.clone(), dir, log_config.clone())?;
        let key = TokenKey::load_or_create(&*fs, dir)?;
        // Only the streams' log tiers to the archive: the queues' log holds short-lived
        // messages, and sharing the archive would put both logs under one layout.
        let queues = Queues::open(fs, clock, dir, LogConfig { archive: None, ..log_config }, key.clone())?;
        Ok(Self::with_logs(log, queues, key, config))
    }

    /// An engine over an already open log and queue component.
    fn with_logs(log: ShardLog, queues: Queues, key: TokenKey, config: EngineConfig) -> Self {
        let account = Account { region: config.region.clone(), account_id: config.account_id.clone() };
        let lifecycle =
            Lifecycle { create_stream_ms: config.create_stream_ms, update_stream_ms: config.update_stream_ms };
        Engine {
            catalog: Catalog::new(log, account, lifecycle),
            tokens: Tokens::new(key),
            throttle: config.enforce_limits.then(Throttle::default),
            control_rates: config.enforce_limits.then(ControlRates::default),
            subscriptions: Subscriptions::default(),
            queues,
            auto_distribution: AutoDistribution::default(),
            billing: Mutex::new(BillingCommitment::default()),
            role_access: std::sync::OnceLock::new(),
            config,
        }
    }

    /// The underlying log.
    pub fn log(&self) -> &ShardLog {
        self.catalog.log()
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The metadata-change counter (reshard, create, a finished delete): stream readers
    /// and subscriptions wait on it instead of polling.
    pub(crate) fn watch_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.catalog.watch_changes()
    }

    /// Region and account.
    pub fn account(&self) -> &Account {
        self.catalog.account()
    }

    /// Stops the log writer after queued work; call once the server has drained.
    pub fn shutdown(self) {
        self.catalog.into_log().shutdown();
        self.queues.shutdown();
    }

    /// SubscribeToShard subscriptions open now.
    pub fn open_subscriptions(&self) -> usize {
        self.subscriptions.len()
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.catalog.now_ms()
    }

    /// Monotonic milliseconds, which rate budgets refill by: a wall clock stepped back
    /// would otherwise freeze them for as long as the step.
    pub(crate) fn monotonic_ms(&self) -> u64 {
        self.log().monotonic_ms()
    }

    fn account_id(&self) -> String {
        self.catalog.account_id()
    }

    /// Fails with AWS's shard-limit message if `additional` more open shards would exceed
    /// the account quota.
    fn check_shard_limit(&self, additional: u64) -> Result<()> {
        let current = self.catalog.open_shards_in_account();
        if current + additional > u64::from(self.config.shard_limit) {
            return Err(EngineError::ShardLimit {
                account: self.account_id(),
                region: self.account().region.clone(),
                current,
                limit: self.config.shard_limit,
                additional,
            });
        }
        Ok(())
    }

    /// Finishes the transitions whose period is over: deletions (streams and consumers;
    /// lookups already treat such streams as gone) and pending reshardings (the stream
    /// stays UPDATING until then). The server calls this periodically (every 100 ms).
    pub async fn reap(&self) -> Result<()> {
        let lock = self.catalog.lock().await;
        self.reap_locked(&lock).await?;
        drop(lock);
        self.reap_queues().await
    }

    async fn reap_locked(&self, lock: &ChangeLock<'_>) -> Result<()> {
        let now = self.now_ms();
        for snapshot in self.catalog.all_snapshots() {
            if let Some(until) = snapshot.settings.deleting_until_ms {
                if now >= until {
                    self.finish_delete(lock, &snapshot).await?;
                }
                continue;
            }
            if snapshot.settings.pending_reshard.as_ref().is_some_and(|p| now >= p.until_ms) {
                self.finish_reshard(lock, &snapshot).await?;
            }
            let expired = move |c: &rheo_storage::ConsumerMeta| {
                settings::decode::<ConsumerSettings>(&c.settings).deleting_until_ms.is_some_and(|until| now >= until)
            };
            if snapshot.consumers().iter().any(expired) {
                self.catalog
                    .update(lock, snapshot.id(), move |txn| {
                        txn.props_mut().consumers.retain(|c| !expired(c));
                        Ok(())
                    })
                    .await?;
            }
        }
        Ok(())
    }

    async fn finish_delete(&self, lock: &ChangeLock<'_>, snapshot: &Snapshot) -> Result<()> {
        self.catalog.delete(lock, snapshot).await?;
        self.auto_distribution.forget(snapshot.id());
        if let Some(throttle) = &self.throttle {
            throttle.forget(snapshot.meta.shards.iter().map(|s| s.uid));
        }
        tracing::info!(message = "Stream deleted.", stream = snapshot.name(), stream_id = snapshot.id());
        Ok(())
    }
}
