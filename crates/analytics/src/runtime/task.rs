//! The task of one running application: it owns the executor, the inputs and the output
//! queues, and loops: read a batch per input (unless an output queue is full), stamp and
//! map it, push it through the executor, move output rows to their queues, save positions
//! when due, then sleep until new input, the executor's next window end, an output's
//! progress, a checkpoint due, or a stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinSet;

use super::epochs::{Epochs, Positions};
use super::metrics::RunMetrics;
use super::role::{RoleCheck, FIREHOSE_OUTPUT_ACTIONS, KINESIS_OUTPUT_ACTIONS};
use super::sink::{self, Destination, SinkQueue};
use super::source::{Source, SourceBatch};
use super::ticker::Ticker;
use super::{CheckpointStore, RunSpec, Services};
use crate::config::DestinationRef;
use crate::error::AnalyticsError;
use crate::exec::{ExecLimits, Executor};
use crate::limits::{CHECKPOINT_INTERVAL_MS, STOP_DRAIN_MS};
use crate::mapping::{RecordMapper, RowEncoder};
use crate::plan::StreamId;
use crate::value::{ErrorRow, Row};

/// How long reading pauses after an input failed to read (a storage error), so a lasting
/// failure is retried and logged at this pace rather than in a tight loop.
const READ_RETRY_MS: i64 = 1_000;

/// How a run's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// Its inputs could not be opened (reported to the starter).
    NotStarted,
    /// Stopped as asked (or its handle is gone).
    Stopped,
    /// An output's task panicked: the run cannot go on as it is.
    OutputFailed,
}

/// What the handle asks of the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StopRequest {
    Running,
    Stop { drain: bool },
}

struct Input {
    id: String,
    source: Source,
    mapper: RecordMapper,
}

struct Output {
    stream: StreamId,
    encoder: RowEncoder,
    queue: Arc<SinkQueue>,
}

pub(super) struct Task {
    application: String,
    generation: u64,
    ticker: Arc<dyn Ticker>,
    store: Arc<dyn CheckpointStore>,
    metrics: Arc<RunMetrics>,
    executor: Executor,
    inputs: Vec<Input>,
    outputs: Vec<Output>,
    /// The outputs' tasks; dropped (so aborted) with this task.
    sinks: JoinSet<()>,
    /// Woken by any output whose queue shrank.
    progress: Arc<Notify>,
    epochs: Epochs,
    /// ROWTIMEs never decrease, even if the clock steps back.
    last_rowtime_ms: i64,
    saved: Option<Positions>,
    last_save_ms: Option<i64>,
    /// Reading was paused for a full output at the last look (counts pauses, not looks).
    was_paused: bool,
    /// Set when a read failed: no input is read before then.
    read_retry_at_ms: Option<i64>,
    /// Reused per batch.
    rows: Vec<Row>,
    errors: Vec<ErrorRow>,
}

impl Task {
    /// Opens the inputs and outputs of a run.
    pub fn open(spec: RunSpec, services: &Services, metrics: Arc<RunMetrics>) -> Result<Task, AnalyticsError> {
        let plan = &spec.plan;
        let mut inputs = Vec::with_capacity(spec.config.inputs.len());
        for input in &spec.config.inputs {
            let start = spec.starts.get(&input.id).cloned().unwrap_or(super::StartPosition::Now);
            let source = Source::open(&services.engine, services.firehose.as_ref(), input, plan, &start)?;
            let mapper = RecordMapper::new(&input.schema)
                .map_err(|error| AnalyticsError::InvalidConfiguration(format!("input {}: {error}", input.id)))?;
            inputs.push(Input { id: input.id.clone(), source, mapper });
        }
        let progress = Arc::new(Notify::new());
        let mut outputs = Vec::with_capacity(spec.config.outputs.len());
        let mut destinations = Vec::with_capacity(spec.config.outputs.len());
        for output in &spec.config.outputs {
            let stream = plan
                .stream_id(&output.stream_name)
                .ok_or_else(|| AnalyticsError::OutputNotCreated { output: output.stream_name.clone() })?;
            let columns = plan.streams.get(stream).map(|s| s.columns.as_slice()).unwrap_or_default();
            let destination = match &output.destination {
                DestinationRef::Kinesis { stream_name } => Destination::Kinesis {
                    engine: services.engine.clone(),
                    stream_name: stream_name.clone(),
                    role: RoleCheck::new(services.engine.clone(), output.access.clone(), KINESIS_OUTPUT_ACTIONS),
                },
                DestinationRef::Firehose { delivery_stream_name } => match &services.firehose {
                    Some(firehose) => Destination::Firehose {
                        firehose: firehose.clone(),
                        delivery_stream_name: delivery_stream_name.clone(),
                        role: RoleCheck::new(services.engine.clone(), output.access.clone(), FIREHOSE_OUTPUT_ACTIONS),
                    },
                    None => {
                        return Err(AnalyticsError::InvalidConfiguration(format!(
                            "output {} writes to Firehose, which is not served here",
                            output.id
                        )))
                    }
                },
            };
            let queue = Arc::new(SinkQueue::new(progress.clone()));
            outputs.push(Output { stream, encoder: RowEncoder::new(output.format, columns), queue: queue.clone() });
            destinations.push((queue, destination));
        }
        let now = services.ticker.now_ms();
        let output_streams: Vec<StreamId> = outputs.iter().map(|o| o.stream).collect();
        let executor = Executor::new(plan.clone(), &output_streams, ExecLimits::default(), now);
        let mut sinks = JoinSet::new();
        for (queue, destination) in destinations {
            let run = sink::run(queue, destination, services.ticker.clone(), metrics.clone(), spec.application.clone());
            sinks.spawn(run);
        }
        let start: Positions = inputs.iter().map(|i| (i.id.clone(), i.source.position())).collect();
        Ok(Task {
            application: spec.application,
            generation: spec.generation,
            ticker: services.ticker.clone(),
            store: services.store.clone(),
            metrics,
            executor,
            inputs,
            outputs,
            sinks,
            progress,
            epochs: Epochs::new(start, now),
            last_rowtime_ms: i64::MIN,
            saved: None,
            last_save_ms: None,
            read_retry_at_ms: None,
            was_paused: false,
            rows: Vec::new(),
            errors: Vec::new(),
        })
    }

    /// Opens the run, reports how that went, then runs it until stopped.
    pub async fn run(
        spec: RunSpec,
        services: Services,
        metrics: Arc<RunMetrics>,
        started: oneshot::Sender<Result<(), AnalyticsError>>,
        stop: watch::Receiver<StopRequest>,
    ) -> Ended {
        let application = spec.application.clone();
        match Task::open(spec, &services, metrics) {
            Ok(task) => {
                let _ = started.send(Ok(()));
                task.run_until_stopped(stop).await
            }
            Err(error) => {
                tracing::warn!(message = "Application could not start.", application = %application, %error);
                let _ = started.send(Err(error));
                Ended::NotStarted
            }
        }
    }

    async fn run_until_stopped(mut self, mut stop: watch::Receiver<StopRequest>) -> Ended {
        loop {
            let request = *stop.borrow_and_update();
            if let StopRequest::Stop { drain } = request {
                self.finish(drain).await;
                return Ended::Stopped;
            }
            let read_any = off_workers(|| self.step());
            self.checkpoint_if_due(false).await;
            if read_any {
                // Let the outputs and other applications run between batches.
                tokio::task::yield_now().await;
                continue;
            }
            let wake_at = [self.executor.next_deadline_ms(), self.checkpoint_due_ms(), self.read_retry_at_ms]
                .into_iter()
                .flatten()
                .min();
            let reading = !self.paused() && self.read_retry_at_ms.is_none();
            let Task { inputs, ticker, progress, sinks, application, .. } = &mut self;
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() {
                        // The handle is gone without a stop: nothing to report to.
                        return Ended::Stopped;
                    }
                }
                // An output's task runs until aborted: one that ended has panicked.
                Some(ended) = sinks.join_next(), if !sinks.is_empty() => {
                    let error = ended.err().map(|error| error.to_string()).unwrap_or_default();
                    tracing::error!(message = "An output of the application failed.", application = %application, %error);
                    return Ended::OutputFailed;
                }
                _ = wait_any(inputs), if reading => {}
                _ = sleep_until(ticker.as_ref(), wake_at) => {}
                _ = progress.notified() => {}
            }
        }
    }

    /// Closes due windows, reads one batch per input (unless an output is full) and
    /// moves output rows to their queues. Returns whether anything was read.
    fn step(&mut self) -> bool {
        let now = self.ticker.now_ms();
        let rowtime = self.rowtime(now);
        self.executor.advance(rowtime);
        let mut read_any = false;
        if self.read_retry_at_ms.is_some_and(|at| now >= at) {
            self.read_retry_at_ms = None;
        }
        let paused = self.paused();
        if paused && !self.was_paused {
            RunMetrics::add(&self.metrics.read_pauses, 1);
        }
        self.was_paused = paused;
        if !paused && self.read_retry_at_ms.is_none() {
            for index in 0..self.inputs.len() {
                let batch = match self.inputs.get_mut(index).map(|input| input.source.next_batch()) {
                    Some(Ok(Some(batch))) => batch,
                    Some(Ok(None)) | None => continue,
                    Some(Err(error)) => {
                        tracing::error!(message = "Input read failed; retrying.", application = %self.application, %error);
                        self.read_retry_at_ms = Some(now.saturating_add(READ_RETRY_MS));
                        continue;
                    }
                };
                read_any = true;
                self.process(index, batch);
            }
        }
        self.drain_outputs();
        read_any
    }

    /// The ROWTIME of rows inserted at `now`: the clock, never going back.
    fn rowtime(&mut self, now: i64) -> i64 {
        self.last_rowtime_ms = self.last_rowtime_ms.max(now);
        self.last_rowtime_ms
    }

    fn paused(&self) -> bool {
        self.outputs.iter().any(|output| output.queue.is_full())
    }

    fn process(&mut self, index: usize, batch: SourceBatch) {
        let now = self.ticker.now_ms();
        let rowtime = self.rowtime(now);
        let epoch = self.epochs.epoch_at(now);
        let Some(input) = self.inputs.get_mut(index) else { return };
        RunMetrics::add(&self.metrics.records_in, batch.records.len() as u64);
        let Task { executor, rows, errors, .. } = self;
        let mapper = &mut input.mapper;
        for record in &batch.records {
            mapper.map_bytes(&record.data, record.arrival_ms, rowtime, epoch, rows, errors);
        }
        executor.push(batch.stream, rows, rowtime);
        let mapping_errors = errors.len() as u64;
        if !errors.is_empty() {
            executor.push_errors(errors);
        }
        rows.clear();
        errors.clear();
        RunMetrics::add(&self.metrics.mapping_errors, mapping_errors);
        let positions = self.positions();
        self.epochs.after_batch(positions);
    }

    fn positions(&self) -> Positions {
        self.inputs.iter().map(|input| (input.id.clone(), input.source.position())).collect()
    }

    /// Encodes the rows waiting in output streams into their queues. Each stream is
    /// drained once and its rows go to every output reading it (two outputs may name the
    /// same in-application stream, each with its own format and destination).
    fn drain_outputs(&mut self) {
        let Task { executor, outputs, rows, .. } = self;
        for (index, output) in outputs.iter().enumerate() {
            let stream = output.stream;
            if outputs.iter().take(index).any(|earlier| earlier.stream == stream) {
                // Drained (and queued) with the first output reading it.
                continue;
            }
            executor.drain(stream, rows);
            if rows.is_empty() {
                continue;
            }
            for reader in outputs.iter().skip(index).filter(|reader| reader.stream == stream) {
                let encoder = &reader.encoder;
                let encoded = rows.iter().map(|row| {
                    let mut data = Vec::new();
                    encoder.encode(row, &mut data);
                    (row.epoch, Bytes::from(data))
                });
                reader.queue.push(encoded);
            }
            rows.clear();
        }
    }

    /// The oldest epoch whose rows have not all left the application.
    fn held_epoch(&self) -> Option<u32> {
        let queued = self.outputs.iter().filter_map(|output| output.queue.oldest_epoch());
        self.executor.held_epoch().into_iter().chain(queued).min()
    }

    fn durable_positions(&mut self) -> Positions {
        let held = self.held_epoch();
        let now = self.positions();
        self.epochs.durable(held, now).clone()
    }

    /// When positions should next be saved, if they moved since the last save.
    fn checkpoint_due_ms(&mut self) -> Option<i64> {
        let durable = self.durable_positions();
        if self.saved.as_ref() == Some(&durable) {
            return None;
        }
        Some(self.last_save_ms.map_or(i64::MIN, |last| last.saturating_add(CHECKPOINT_INTERVAL_MS)))
    }

    /// Saves the durable positions when they moved and the interval has passed (or
    /// `force`, at stop).
    async fn checkpoint_if_due(&mut self, force: bool) {
        let Some(due) = self.checkpoint_due_ms() else { return };
        let now = self.ticker.now_ms();
        if !force && now < due {
            return;
        }
        let positions = self.durable_positions();
        match self.store.save(&self.application, self.generation, positions.clone()).await {
            Ok(()) => {
                RunMetrics::add(&self.metrics.checkpoints, 1);
                self.saved = Some(positions);
            }
            Err(error) => {
                tracing::error!(message = "Positions could not be saved.", application = %self.application, %error);
            }
        }
        // A failed save is tried again after the interval, not in a tight loop.
        self.last_save_ms = Some(now);
    }

    /// A stop: with `drain`, gives the outputs a bounded time to take the rows already
    /// emitted; then saves what was released. Open windows are discarded, not closed early
    /// (a partial row would carry a ROWTIME ahead of the clock, and the restart would emit
    /// a second one for the same window): the saved position stays before their records
    /// (the held epoch), so the next run reads those records again and counts them once.
    async fn finish(&mut self, drain: bool) {
        if drain {
            off_workers(|| self.drain_outputs());
            let deadline = self.ticker.now_ms().saturating_add(STOP_DRAIN_MS);
            while !self.outputs.iter().all(|output| output.queue.is_empty()) {
                tokio::select! {
                    _ = self.progress.notified() => {}
                    _ = self.ticker.sleep_until(deadline) => break,
                }
            }
        }
        self.sinks.abort_all();
        self.checkpoint_if_due(true).await;
    }
}

/// Runs CPU work of the run (closing windows, reading, mapping and evaluating a batch,
/// encoding output rows) off the async workers when the runtime has others to take them
/// over (not possible on a current-thread runtime), so one busy application does not hold
/// up the requests and the other applications served by the same workers.
fn off_workers<R>(work: impl FnOnce() -> R) -> R {
    if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(ticker: &dyn Ticker, deadline: Option<i64>) {
    match deadline {
        Some(deadline) => ticker.sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Waits until any input may have something new.
async fn wait_any(inputs: &mut [Input]) {
    let mut waits: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = inputs
        .iter_mut()
        .map(|input| Box::pin(input.source.wait()) as Pin<Box<dyn Future<Output = ()> + Send>>)
        .collect();
    if waits.is_empty() {
        return std::future::pending().await;
    }
    std::future::poll_fn(|cx| {
        for wait in waits.iter_mut() {
            if wait.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    })
    .await
}
