//! Running applications: one task per RUNNING application reads its input in-process,
//! maps records to rows, drives the executor with the clock, writes output rows to their
//! destinations, and checkpoints input positions once the rows they produced are out.
//!
//! Module map: [`task`] (the loop of one run), `source` (Kinesis reader or Firehose tap),
//! `sink` (output queues and their writers), `epochs` (which positions are safe to save),
//! [`ticker`] (time through the Clock seam), `metrics` (counters).

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
mod sink;
mod source;
mod task;
mod ticker;

pub use metrics::RunMetrics;
pub use sink::{KINESIS_BATCH_BYTES_MAX, KINESIS_BATCH_RECORDS_MAX};
pub use ticker::{ManualTicker, SystemTicker, Ticker};

use task::{StopRequest, Task};

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
        let task = tokio::spawn(Task::run(spec, self.services.clone(), metrics.clone(), started_tx, stop_rx));
        RunHandle { started: Some(started_rx), start_failed: false, stop: stop_tx, task: Some(task), metrics }
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
