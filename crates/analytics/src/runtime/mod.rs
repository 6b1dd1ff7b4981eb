//! Running applications: one task per RUNNING application reads its input in-process,
//! maps records to rows, drives the executor with the clock, writes output rows to their
//! destinations, and checkpoints input positions once the rows they produced are out.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::AppConfig;
use crate::error::AnalyticsError;
use crate::plan::AppPlan;

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

pub struct Runtime {
    // SKELETON: replaced by the runtime.
    _store: Arc<dyn CheckpointStore>,
}

impl Runtime {
    pub fn new(
        engine: Arc<rheo_engine::Engine>,
        firehose: Option<Arc<rheo_firehose::Firehose>>,
        clock: Arc<dyn rheo_storage::Clock>,
        store: Arc<dyn CheckpointStore>,
    ) -> Self {
        let _ = (engine, firehose, clock);
        Runtime { _store: store }
    }

    /// Starts a run; the readers are opened before [`RunHandle::started`] answers.
    pub fn start(&self, spec: RunSpec) -> RunHandle {
        let _ = spec;
        RunHandle {}
    }
}

/// A running application.
pub struct RunHandle {}

impl RunHandle {
    /// Waits until the inputs are open (or failed to open: a missing stream).
    pub async fn started(&mut self) -> Result<(), AnalyticsError> {
        Err(AnalyticsError::Internal("runtime not implemented yet".into()))
    }

    /// Stops reading; with `drain`, closes open windows and waits (bounded) for outputs,
    /// then saves the positions.
    pub async fn stop(self, drain: bool) {
        let _ = drain;
    }
}
