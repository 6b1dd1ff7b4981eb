//! The control plane: the 20 operations of `KinesisAnalytics_20150814` over durable
//! application state, and the runs of RUNNING applications.
//!
//! Applications live in a log of their own (`<data-dir>/analytics`, with its own lock),
//! one storage stream without shards per application whose settings hold its
//! [`StoredApplication`] and whose tags are its tags. The committed metadata is the only
//! copy of an application's state: every operation reads it and every change replaces it
//! in one durable metadata transaction before it is answered. Control-plane changes are
//! serialised by one mutex; a running application's checkpoints edit only its positions
//! inside their own transactions (see `runs::CheckpointSink`), so neither undoes the other.
//!
//! Submodules: `ops` (the operations, in the wire types), `wire` (wire ↔ stored
//! conversions), `runs` (starting, stopping and relaunching runs; checkpoints), `checks`
//! (the business rules a configuration must meet).

mod checks;
mod ops;
mod runs;
pub(crate) mod wire;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};
use rheo_engine::Engine;
use rheo_firehose::Firehose;
use rheo_storage::{Clock, FileSystem, LogConfig, NewStream, ShardLog, StorageError, StreamProps};

use crate::convert::Owner;
use crate::error::{AnalyticsError, Result};
use crate::lifecycle::{self, Action, Status};
use crate::runtime::{RunHandle, RunMetrics, Runtime, SystemTicker, Ticker};
use crate::state::StoredApplication;

/// Subfolder of the data directory holding the Analytics log.
pub const LOG_DIR: &str = "analytics";

/// Retention of the log's storage streams; they hold no records, only metadata.
const RETENTION_HOURS: u32 = 24;

/// How the control plane behaves; every field has a flag in the binary.
#[derive(Debug, Clone)]
pub struct AnalyticsConfig {
    /// The region and account of ARNs, as the engine and Firehose know them.
    pub region: String,
    pub account_id: String,
    /// How long STARTING, STOPPING, UPDATING and DELETING last at least (tests use 0).
    pub transition_ms: u64,
    /// Applications per account.
    pub application_limit: usize,
}

/// A live application: where its state is stored and its current run.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) stream_id: u64,
    /// The run of a RUNNING application; taken by whoever stops it.
    pub(crate) run: tokio::sync::Mutex<Option<RunHandle>>,
    /// Background work of a transition in progress (opening readers, draining outputs):
    /// the transition's status shows while it is not zero.
    pub(crate) working: AtomicUsize,
    /// The stored transition was begun before this process opened the log: its work
    /// ended with that process, so it no longer shows (plan §4.2: STOPPING is READY and
    /// UPDATING the previous status after a restart).
    pub(crate) transition_over: AtomicBool,
    /// The counters of the current (or last) run.
    pub(crate) metrics: Mutex<Option<Arc<RunMetrics>>>,
}

/// A deleted application, shown as DELETING for a while and until its run has ended:
/// its name cannot be taken again before, so a late checkpoint of the old run can never
/// land in a new application of the same name.
struct Deleting {
    until_ms: u64,
    /// Its last state, which DescribeApplication still shows.
    state: StoredApplication,
    entry: Arc<Entry>,
}

/// What ListApplications shows of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) status: Status,
}

/// Kinesis Data Analytics for SQL applications.
pub struct Analytics {
    me: Weak<Analytics>,
    log: Arc<ShardLog>,
    clock: Arc<dyn Clock>,
    config: AnalyticsConfig,
    owner: Owner,
    engine: Arc<Engine>,
    firehose: Option<Arc<Firehose>>,
    runtime: Runtime,
    /// Serialises control-plane changes so each validates against what it changes.
    control: tokio::sync::Mutex<()>,
    apps: Arc<RwLock<BTreeMap<String, Arc<Entry>>>>,
    deleting: Mutex<BTreeMap<String, Deleting>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Set by [`Analytics::shutdown`]: no run starts any more.
    closing: AtomicBool,
}

impl Analytics {
    /// Opens (recovering) the Analytics log under `data_dir` and runs again every
    /// application that was STARTING or RUNNING, from its stored positions. Must be
    /// called inside a tokio runtime.
    pub fn open(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        data_dir: &Path,
        log_config: LogConfig,
        engine: Arc<Engine>,
        firehose: Option<Arc<Firehose>>,
        config: AnalyticsConfig,
    ) -> Result<Arc<Analytics>> {
        let ticker = Arc::new(SystemTicker::new(clock.clone()));
        Self::open_with_ticker(fs, clock, data_dir, log_config, engine, firehose, config, ticker)
    }

    /// [`Analytics::open`] with the runs' timers on `ticker` (a [`crate::runtime::ManualTicker`]
    /// over the same manual clock in tests).
    #[allow(clippy::too_many_arguments)]
    pub fn open_with_ticker(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        data_dir: &Path,
        log_config: LogConfig,
        engine: Arc<Engine>,
        firehose: Option<Arc<Firehose>>,
        config: AnalyticsConfig,
        ticker: Arc<dyn Ticker>,
    ) -> Result<Arc<Analytics>> {
        let dir = data_dir.join(LOG_DIR);
        fs.create_dir_all(&dir).map_err(|source| StorageError::Io {
            operation: "create the log folder",
            path: dir.clone(),
            source,
        })?;
        let log = Arc::new(ShardLog::open(fs, clock.clone(), &dir, log_config)?);
        let owner = Owner {
            partition: engine.account().partition().to_owned(),
            region: config.region.clone(),
            account_id: config.account_id.clone(),
        };
        let apps: Arc<RwLock<BTreeMap<String, Arc<Entry>>>> = Arc::default();
        let store = Arc::new(runs::CheckpointSink { log: log.clone(), apps: Arc::downgrade(&apps) });
        let runtime = Runtime::with_ticker(engine.clone(), firehose.clone(), ticker, store);
        let analytics = Arc::new_cyclic(|me| Analytics {
            me: me.clone(),
            log,
            clock,
            config,
            owner,
            engine,
            firehose,
            runtime,
            control: tokio::sync::Mutex::new(()),
            apps,
            deleting: Mutex::new(BTreeMap::new()),
            tasks: Mutex::new(Vec::new()),
            closing: AtomicBool::new(false),
        });
        for meta in analytics.log.streams() {
            let Some(state) = StoredApplication::from_settings(&meta.props.settings) else {
                tracing::error!(message = "Analytics application without state; not loaded.", application = %meta.name);
                continue;
            };
            let entry = analytics.register(&meta.name, meta.stream_id);
            entry.transition_over.store(state.transition.is_some(), Ordering::Release);
            if state.status == Status::Running {
                analytics.spawn_relaunch(entry);
            }
        }
        Ok(analytics)
    }

    /// Stops every run, draining its outputs and saving its positions, all at once so
    /// one stuck destination delays the others by at most the drain bound; the stored
    /// statuses stay, so RUNNING applications run again after the next open.
    pub async fn shutdown(&self) {
        // Relaunches not yet under way start nothing now; the work in progress ends.
        self.closing.store(true, Ordering::Release);
        let tasks: Vec<_> = self.tasks.lock().drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
        let entries: Vec<Arc<Entry>> = self.apps.read().values().cloned().collect();
        let stops: Vec<_> = entries
            .into_iter()
            .map(|entry| {
                tokio::spawn(async move {
                    let run = entry.run.lock().await.take();
                    if let Some(run) = run {
                        run.stop(true).await;
                    }
                })
            })
            .collect();
        for stop in stops {
            let _ = stop.await;
        }
    }

    /// Renders the applications' statuses and their runs' counters in Prometheus's text
    /// format (`rheo_analytics_*`).
    pub fn render_metrics(&self, out: &mut String) {
        let statuses: Vec<Status> = self.summaries().into_iter().map(|s| s.status).collect();
        let runs: Vec<(String, Arc<RunMetrics>)> = self
            .apps
            .read()
            .values()
            .filter_map(|entry| Some((entry.name.clone(), entry.metrics.lock().clone()?)))
            .collect();
        crate::metrics::render(out, &statuses, &runs);
    }

    /// The counters of an application's current (or last) run in this process.
    pub fn run_metrics(&self, application: &str) -> Option<Arc<RunMetrics>> {
        self.apps.read().get(application)?.metrics.lock().clone()
    }

    /// The counters of the Analytics log.
    pub fn log_stats(&self) -> rheo_storage::LogStats {
        self.log.stats()
    }

    /// Whose resources ARNs name.
    pub(crate) fn owner(&self) -> &Owner {
        &self.owner
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub(crate) fn firehose(&self) -> Option<&Arc<Firehose>> {
        self.firehose.as_ref()
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn register(&self, name: &str, stream_id: u64) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            name: name.to_owned(),
            stream_id,
            run: tokio::sync::Mutex::new(None),
            working: AtomicUsize::new(0),
            transition_over: AtomicBool::new(false),
            metrics: Mutex::new(None),
        });
        self.apps.write().insert(name.to_owned(), entry.clone());
        entry
    }

    /// Forgets deleted applications whose DELETING period and run have ended.
    fn reap(&self) {
        let now = self.now_ms();
        self.deleting.lock().retain(|_, d| d.until_ms > now || d.entry.working.load(Ordering::Acquire) > 0);
    }

    fn entry(&self, name: &str) -> Result<Arc<Entry>> {
        self.apps.read().get(name).cloned().ok_or_else(|| AnalyticsError::NotFound { application: name.to_owned() })
    }

    /// The committed state of an application.
    fn stored(&self, entry: &Entry) -> Result<StoredApplication> {
        self.log
            .stream(entry.stream_id)
            .and_then(|meta| StoredApplication::from_settings(&meta.props.settings))
            .ok_or_else(|| AnalyticsError::NotFound { application: entry.name.clone() })
    }

    fn tags(&self, entry: &Entry) -> BTreeMap<String, String> {
        self.log.stream(entry.stream_id).map(|meta| meta.props.tags.clone()).unwrap_or_default()
    }

    fn status(&self, entry: &Entry, state: &StoredApplication) -> Status {
        let working = entry.working.load(Ordering::Acquire) > 0;
        let transition = state.transition.filter(|_| !entry.transition_over.load(Ordering::Acquire));
        lifecycle::shown(state.status, transition, self.now_ms(), working)
    }

    /// Every application, live and DELETING, by name.
    fn summaries(&self) -> Vec<Summary> {
        self.reap();
        let entries: Vec<Arc<Entry>> = self.apps.read().values().cloned().collect();
        let mut all: BTreeMap<String, Summary> = entries
            .iter()
            .filter_map(|entry| {
                let state = self.stored(entry).ok()?;
                let summary = Summary {
                    name: entry.name.clone(),
                    arn: self.owner.application_arn(&entry.name),
                    status: self.status(entry, &state),
                };
                Some((entry.name.clone(), summary))
            })
            .collect();
        all.extend(self.deleting.lock().keys().map(|name| {
            let summary =
                Summary { name: name.clone(), arn: self.owner.application_arn(name), status: Status::Deleting };
            (name.clone(), summary)
        }));
        all.into_values().collect()
    }

    /// Fails unless the application's status allows `action`.
    fn check_status(&self, entry: &Entry, state: &StoredApplication, action: Action) -> Result<()> {
        let status = self.status(entry, state);
        if lifecycle::allows(status, action) {
            Ok(())
        } else {
            Err(AnalyticsError::InUse {
                application: entry.name.clone(),
                status: status.name(),
                operation: action.operation(),
            })
        }
    }

    /// Fails unless `given` is the application's current version.
    fn check_version(entry: &Entry, state: &StoredApplication, given: i64) -> Result<()> {
        if u64::try_from(given).ok() == Some(state.version) {
            Ok(())
        } else {
            Err(AnalyticsError::StaleVersion {
                application: entry.name.clone(),
                given: u64::try_from(given).unwrap_or(0),
                current: state.version,
            })
        }
    }

    /// Stores a new application (READY, version 1).
    async fn insert(&self, name: &str, state: StoredApplication, tags: BTreeMap<String, String>) -> Result<()> {
        let mut props = StreamProps { retention_hours: RETENTION_HOURS, tags, ..Default::default() };
        state.store(&mut props.settings)?;
        let meta = self.log.create_stream(NewStream { name: name.to_owned(), shards: Vec::new(), props }).await?;
        self.register(name, meta.stream_id);
        tracing::info!(message = "Analytics application created.", application = %name);
        Ok(())
    }

    /// The shared path of every configuration change (UpdateApplication, Add*, Delete*):
    /// existence, version, status, the change itself, the rules, then one commit with the
    /// version bumped; a RUNNING application then runs again with the new configuration
    /// from its own positions (UPDATING meanwhile).
    async fn configure(
        &self,
        name: &str,
        current_version: i64,
        change: impl FnOnce(&mut StoredApplication, u64) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let name = name.to_owned();
        self.detached(move |this| async move { this.configure_now(&name, current_version, change).await }).await
    }

    async fn configure_now(
        &self,
        name: &str,
        current_version: i64,
        change: impl FnOnce(&mut StoredApplication, u64) -> Result<()>,
    ) -> Result<()> {
        let _guard = self.control.lock().await;
        let entry = self.entry(name)?;
        let state = self.stored(&entry)?;
        Self::check_version(&entry, &state, current_version)?;
        self.check_status(&entry, &state, Action::Configure)?;
        let version = state.version + 1;
        let mut candidate = state.clone();
        change(&mut candidate, version)?;
        self.check_configuration(&candidate)?;
        if state.status == Status::Running {
            // The operations that change a configuration cannot answer
            // InvalidApplicationConfiguration (the model lists it for Start only).
            Self::check_runnable(name, &candidate).map_err(|error| match error {
                AnalyticsError::InvalidConfiguration(rule) => AnalyticsError::InvalidArgument(rule),
                other => other,
            })?;
        }
        self.check_new_sources(&state, &candidate).await?;
        // Only what the run uses (code, inputs with their schema and parallelism, outputs)
        // runs it again; a logging option or a reference source does not (the runtime
        // reads neither).
        let relaunch = state.status == Status::Running
            && crate::convert::app_config(name, &state, &self.owner).ok()
                != crate::convert::app_config(name, &candidate, &self.owner).ok();
        let now = self.now_ms();
        candidate.version = version;
        candidate.updated_ms = now;
        candidate.transition = lifecycle::transition_of(Action::Configure, now, self.config.transition_ms);
        self.commit(&entry, move |s| s.take_configuration(candidate)).await?;
        entry.transition_over.store(false, Ordering::Release);
        if relaunch {
            self.spawn_relaunch(entry);
        }
        Ok(())
    }

    /// Runs a mutating operation in its own task and waits for it: a client that goes
    /// away (dropping the request) cannot cut a commit-then-launch sequence in half and
    /// leave, say, RUNNING without a run.
    async fn detached<T, F, Fut>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Analytics>) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let this = self.me.upgrade().ok_or_else(|| AnalyticsError::Internal("the service is gone".into()))?;
        tokio::spawn(work(this))
            .await
            .unwrap_or_else(|error| Err(AnalyticsError::Internal(format!("the operation's task failed: {error}"))))
    }

    /// Runs `work` in the background as part of `entry`'s transition.
    fn spawn_work(&self, entry: &Arc<Entry>, work: impl std::future::Future<Output = ()> + Send + 'static) {
        entry.working.fetch_add(1, Ordering::AcqRel);
        let entry = entry.clone();
        let task = tokio::spawn(async move {
            work.await;
            entry.working.fetch_sub(1, Ordering::AcqRel);
        });
        let mut tasks = self.tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(task);
    }
}
