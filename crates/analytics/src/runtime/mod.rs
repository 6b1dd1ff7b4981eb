//! Running applications: one task per RUNNING application reads its input in-process,
//! maps records to rows, drives the executor with the clock, writes output rows to their
//! destinations, and checkpoints input positions once the rows they produced are out.
//!
//! Module map: `task` (the loop of one run), `source` (Kinesis reader or Firehose tap),
//! `sink` (output queues and their writers), `epochs` (which positions are safe to save),
//! `ticker` (time through the Clock seam), `metrics` (counters).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use tokio::sync::{oneshot, watch};

use crate::config::AppConfig;
use crate::error::AnalyticsError;
use crate::plan::AppPlan;

mod epochs;
mod metrics;
mod role;
mod sink;
mod source;
mod task;
mod ticker;

pub use metrics::RunMetrics;
pub use sink::{KINESIS_BATCH_BYTES_MAX, KINESIS_BATCH_RECORDS_MAX};
pub use ticker::{ManualTicker, SystemTicker, Ticker};

use task::{Ended, StopRequest, Task};

/// Where an input's reading goes on; stored durably (its serde form never changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputPosition {
    Kinesis(rheo_engine::ReaderCheckpoint),
    Firehose { stream_uid: u64, next_lsn: u64 },
}

/// Where an input starts when an application starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPosition {
    Now,
    TrimHorizon,
    At(InputPosition),
}

/// Saves positions durably; the control plane implements it (one metadata transaction).
pub trait CheckpointStore: Send + Sync + 'static {
    fn save<'a>(
        &'a self,
        application: &'a str,
        generation: u64,
        positions: BTreeMap<String, InputPosition>,
    ) -> Pin<Box<dyn Future<Output = Result<(), AnalyticsError>> + Send + 'a>>;
}

/// What one run of an application needs.
pub struct RunSpec {
    pub application: String,
    /// Bumped by every start; a checkpoint of an older generation is ignored.
    pub generation: u64,
    pub config: Arc<AppConfig>,
    pub plan: Arc<AppPlan>,
    /// Per input id.
    pub starts: BTreeMap<String, StartPosition>,
}

/// What every run of this process shares.
#[derive(Clone)]
pub(crate) struct Services {
    pub engine: Arc<rheo_engine::Engine>,
    pub firehose: Option<Arc<rheo_firehose::Firehose>>,
    pub ticker: Arc<dyn Ticker>,
    pub store: Arc<dyn CheckpointStore>,
}

/// Runs applications: one task per run, owning its executor, readers and outputs.
pub struct Runtime {
    services: Services,
}

impl Runtime {
    /// A runtime whose timers follow `clock` with tokio's timer.
    pub fn new(
        engine: Arc<rheo_engine::Engine>,
        firehose: Option<Arc<rheo_firehose::Firehose>>,
        clock: Arc<dyn rheo_storage::Clock>,
        store: Arc<dyn CheckpointStore>,
    ) -> Self {
        Runtime::with_ticker(engine, firehose, Arc::new(SystemTicker::new(clock)), store)
    }

    /// A runtime on a given time source ([`ManualTicker`] in tests).
    pub fn with_ticker(
        engine: Arc<rheo_engine::Engine>,
        firehose: Option<Arc<rheo_firehose::Firehose>>,
        ticker: Arc<dyn Ticker>,
        store: Arc<dyn CheckpointStore>,
    ) -> Self {
        Runtime { services: Services { engine, firehose, ticker, store } }
    }

    /// Starts a run; the readers are opened before [`RunHandle::started`] answers. Must be
    /// called inside a tokio runtime.
    pub fn start(&self, spec: RunSpec) -> RunHandle {
        let metrics = Arc::new(RunMetrics::default());
        let (started_tx, started_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = watch::channel(StopRequest::Running);
        let task = tokio::spawn(supervise(spec, self.services.clone(), metrics.clone(), started_tx, stop_rx));
        RunHandle { started: Some(started_rx), start_failed: false, stop: stop_tx, task: Some(task), metrics }
    }
}

/// The first wait before a run whose task failed runs again; it doubles per failure in a
/// row up to [`RUN_RESTART_BACKOFF_MS_MAX`].
pub const RUN_RESTART_BACKOFF_MS_MIN: i64 = 1_000;
pub const RUN_RESTART_BACKOFF_MS_MAX: i64 = 60_000;

/// Remembers the positions a run saved last, for its next attempt after a failure.
struct RecordingStore {
    inner: Arc<dyn CheckpointStore>,
    saved: Arc<parking_lot::Mutex<Option<BTreeMap<String, InputPosition>>>>,
}

impl CheckpointStore for RecordingStore {
    fn save<'a>(
        &'a self,
        application: &'a str,
        generation: u64,
        positions: BTreeMap<String, InputPosition>,
    ) -> Pin<Box<dyn Future<Output = Result<(), AnalyticsError>> + Send + 'a>> {
        Box::pin(async move {
            self.inner.save(application, generation, positions.clone()).await?;
            *self.saved.lock() = Some(positions);
            Ok(())
        })
    }
}

/// Aborts a task when dropped (a supervisor aborted with its handle ends its run too).
struct AbortOnDrop(tokio::task::JoinHandle<Ended>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs an application's task and supervises it: a task that panics, or whose output's
/// task panicked, is logged and run again after a back-off, from the positions it saved
/// last (so what its outputs had not taken is read again), with the same generation and
/// counters. The application stays RUNNING, as on AWS, where the service restarts a failed
/// application's processing [DECISION: rather than settling READY, which would need a user
/// to notice and start it again]. A stop ends the supervision.
async fn supervise(
    spec: RunSpec,
    services: Services,
    metrics: Arc<RunMetrics>,
    started: oneshot::Sender<Result<(), AnalyticsError>>,
    mut stop: watch::Receiver<StopRequest>,
) {
    let saved = Arc::new(parking_lot::Mutex::new(None));
    let services = Services {
        store: Arc::new(RecordingStore { inner: services.store.clone(), saved: saved.clone() }),
        ..services
    };
    let RunSpec { application, generation, config, plan, mut starts } = spec;
    let mut started = Some(started);
    let mut backoff_ms = RUN_RESTART_BACKOFF_MS_MIN;
    loop {
        let spec = RunSpec {
            application: application.clone(),
            generation,
            config: config.clone(),
            plan: plan.clone(),
            starts: starts.clone(),
        };
        // A run again after a failure reports its start to no one.
        let started = started.take().unwrap_or_else(|| oneshot::channel().0);
        let run = Task::run(spec, services.clone(), metrics.clone(), started, stop.clone());
        let mut task = AbortOnDrop(tokio::spawn(run));
        let failure = match (&mut task.0).await {
            Ok(Ended::NotStarted | Ended::Stopped) => return,
            Ok(Ended::OutputFailed) => "an output's task failed".to_owned(),
            Err(error) => error.to_string(),
        };
        if *stop.borrow() != StopRequest::Running {
            return;
        }
        RunMetrics::add(&metrics.restarts, 1);
        tracing::error!(message = "Application task failed; running it again.", application = %application, error = %failure, backoff_ms);
        if let Some(positions) = saved.lock().clone() {
            for (input, position) in positions {
                starts.insert(input, StartPosition::At(position));
            }
        }
        let deadline = services.ticker.now_ms().saturating_add(backoff_ms);
        tokio::select! {
            _ = services.ticker.sleep_until(deadline) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() != StopRequest::Running {
                    return;
                }
            }
        }
        backoff_ms = backoff_ms.saturating_mul(2).min(RUN_RESTART_BACKOFF_MS_MAX);
    }
}

/// A running application. Dropping it without [`RunHandle::stop`] ends the run at once
/// and saves nothing more, as a crash would.
pub struct RunHandle {
    started: Option<oneshot::Receiver<Result<(), AnalyticsError>>>,
    start_failed: bool,
    stop: watch::Sender<StopRequest>,
    task: Option<tokio::task::JoinHandle<()>>,
    metrics: Arc<RunMetrics>,
}

impl RunHandle {
    /// Waits until the inputs are open (or failed to open: a missing stream).
    pub async fn started(&mut self) -> Result<(), AnalyticsError> {
        let Some(started) = self.started.take() else {
            return match self.start_failed {
                true => Err(AnalyticsError::Internal("the run failed to start".into())),
                false => Ok(()),
            };
        };
        let result = started.await.unwrap_or_else(|_| Err(AnalyticsError::Internal("the run ended at start".into())));
        self.start_failed = result.is_err();
        result
    }

    /// The run's counters.
    pub fn metrics(&self) -> Arc<RunMetrics> {
        self.metrics.clone()
    }

    /// Whether the run ended (failed to start, or stopped).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }

    /// Stops reading; with `drain`, waits (bounded by `STOP_DRAIN_MS`) for outputs to take
    /// the rows already emitted, then saves the positions. Open windows are discarded; the
    /// saved positions stay before their records, which the next run reads again.
    pub async fn stop(mut self, drain: bool) {
        self.stop.send_replace(StopRequest::Stop { drain });
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::error!(message = "Application task failed.", %error);
            }
        }
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
