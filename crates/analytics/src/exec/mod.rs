//! The executor of an [`AppPlan`]: synchronous, deterministic, and clock-free. The caller
//! pushes rows with the step's time and advances time; closed windows and projected rows
//! flow through pumps into streams, and rows of streams that outputs read wait in
//! per-stream queues until drained.
//!
//! Streams are not buffers: a row inserted into a stream goes at once, depth first, through
//! every pump reading it (in code order) and on into their target streams, so nothing waits
//! between pumps; only open windows and the queues of output streams hold rows. Per-row
//! failures (overflow, division by zero, a function refusing its arguments, NULL into a
//! NOT NULL column, the state bound) become rows of `error_stream` naming the pump; the
//! application never stops.
//!
//! Modules: `eval` (expressions, three-valued logic) over `compare` and `arith`;
//! `aggregate` (accumulators), `groups` (the group hash table), `window` (window
//! bounds) and `tumbling` (the GROUP BY stage); `graph` (pumps as chains of stages);
//! `fit` (values into target columns); `error_stream` (its rows).

mod aggregate;
mod arith;
mod compare;
mod error_stream;
mod eval;
mod fit;
mod graph;
mod groups;
mod tumbling;
mod window;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::exec::error_stream::{error_row_to_row, render_values};
use crate::exec::eval::{Evaluator, RowRef};
use crate::exec::graph::{Graph, StageKind};
use crate::exec::tumbling::{StageOutput, StateBudget};
use crate::plan::{AppPlan, StreamId, StreamKind};
use crate::value::{ErrorRow, EvalError, Row, Value};

/// Per-application bounds of the executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    pub state_bytes_max: usize,
    pub error_rows_max: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        ExecLimits {
            state_bytes_max: crate::limits::APP_STATE_BYTES_MAX,
            error_rows_max: crate::limits::ERROR_PENDING_ROWS_MAX,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecStats {
    pub state_bytes: usize,
    pub open_groups: usize,
    pub error_rows: u64,
    pub error_rows_dropped: u64,
}

/// One step of the depth-first walk of a row through the graph.
enum Work {
    /// The row enters a stream: queued if an output reads it, and given to its pumps.
    Insert { stream: StreamId, row: Row, depth: u32 },
    /// The row enters stage `stage` of pump `pump`.
    Stage { pump: usize, stage: usize, row: Row, depth: u32 },
    /// The row leaves pump `pump`'s last stage, to be stored into its target stream.
    Emit { pump: usize, row: Row, depth: u32 },
}

/// What a stage did with one row.
enum StageResult {
    Dropped,
    Row(Row),
    Failed(EvalError),
    /// Rows of closed windows are in `outputs_buf`.
    Closed,
}

pub struct Executor {
    plan: Arc<AppPlan>,
    graph: Graph,
    /// For each stream, the rows waiting for [`Executor::drain`] (`None`: no output reads it).
    queues: Vec<Option<VecDeque<Row>>>,
    error_stream: Option<StreamId>,
    limits: ExecLimits,
    budget: StateBudget,
    eval: Evaluator,
    work: Vec<Work>,
    outputs_buf: Vec<StageOutput>,
    /// A row deeper than this has gone round a cycle of streams and pumps.
    depth_max: u32,
    error_rows: u64,
    error_rows_dropped: u64,
}

impl Executor {
    /// `outputs` are the streams whose rows are kept for [`Executor::drain`]; rows of
    /// other streams only feed pumps.
    pub fn new(plan: Arc<AppPlan>, outputs: &[StreamId], limits: ExecLimits, start_ms: i64) -> Self {
        // The plan has no CURRENT_TIMESTAMP yet: nothing reads the start time.
        let _ = start_ms;
        let graph = Graph::new(&plan);
        let queues = (0..plan.streams.len()).map(|id| outputs.contains(&id).then(VecDeque::new)).collect();
        let error_stream = plan.streams.iter().position(|stream| stream.kind == StreamKind::Error);
        let depth_max = 2 * u32::try_from(plan.pumps.len()).unwrap_or(u32::MAX / 4) + 2;
        Executor {
            plan,
            graph,
            queues,
            error_stream,
            limits,
            budget: StateBudget { used: 0, max: limits.state_bytes_max },
            eval: Evaluator::default(),
            work: Vec::new(),
            outputs_buf: Vec::new(),
            depth_max,
            error_rows: 0,
            error_rows_dropped: 0,
        }
    }

    /// Inserts rows into an input stream at `now_ms` (windows ending at or before it are
    /// closed first). The rows' ROWTIMEs are the caller's and never decrease per stream.
    pub fn push(&mut self, stream: StreamId, rows: &mut Vec<Row>, now_ms: i64) {
        self.advance(now_ms);
        for row in rows.drain(..) {
            self.work.push(Work::Insert { stream, row, depth: 0 });
            self.run(now_ms);
        }
        // Rows whose event time is already past opened groups of windows that have
        // ended: they close in this same step.
        self.advance(now_ms);
    }

    /// Inserts failures found before the executor (input mapping) into `error_stream`.
    pub fn push_errors(&mut self, errors: &mut Vec<ErrorRow>) {
        for error in errors.drain(..) {
            let now_ms = error.error_time_ms;
            self.push_error_row(error, 0);
            self.run(now_ms);
        }
    }

    /// Closes every window whose end is at or before `now_ms`, earliest first.
    pub fn advance(&mut self, now_ms: i64) {
        self.close_timed(now_ms, now_ms);
    }

    /// Closes every open window (a graceful stop): clock windows with their own end as
    /// ROWTIME, MONOTONIC groups at `now_ms`.
    pub fn close_all(&mut self, now_ms: i64) {
        // Each pass closes what earlier stages emitted into later ones; without a cycle,
        // as many passes as stages empty everything.
        let passes = self.graph.pumps.iter().map(|pump| pump.stages.len()).sum::<usize>() + 1;
        for _ in 0..passes {
            self.close_timed(i64::MAX, now_ms);
            for pump in 0..self.graph.pumps.len() {
                for stage in 0..self.graph.pumps[pump].stages.len() {
                    let mut out = std::mem::take(&mut self.outputs_buf);
                    if let StageKind::Aggregate(aggregate) = &mut self.graph.pumps[pump].stages[stage].kind {
                        aggregate.close_monotonic(&mut self.eval, now_ms, &mut self.budget, &mut out);
                    }
                    self.dispatch(pump, stage, &mut out, 0, now_ms);
                    self.outputs_buf = out;
                }
            }
            if !self.has_open_windows() {
                break;
            }
        }
    }

    fn has_open_windows(&self) -> bool {
        self.aggregates().any(|aggregate| aggregate.has_open_windows())
    }

    fn aggregates(&self) -> impl Iterator<Item = &tumbling::AggregateStage> {
        self.graph.pumps.iter().flat_map(|pump| &pump.stages).filter_map(|stage| match &stage.kind {
            StageKind::Aggregate(aggregate) => Some(aggregate.as_ref()),
            StageKind::Project(_) => None,
        })
    }

    /// Closes clock windows ending at or before `limit_ms`, in order of end (upstream
    /// pumps and stages first on a tie), each window's rows flowing on before the next.
    fn close_timed(&mut self, limit_ms: i64, now_ms: i64) {
        loop {
            // Earliest end first; at a tie, the pump fewer pumps downstream, then the
            // inner stage, so a window's rows reach a later window before that one closes.
            let mut earliest: Option<(i64, usize, usize, usize)> = None;
            for (pump_index, pump) in self.graph.pumps.iter().enumerate() {
                for (stage_index, stage) in pump.stages.iter().enumerate() {
                    if let StageKind::Aggregate(aggregate) = &stage.kind {
                        if let Some(end) = aggregate.earliest_end() {
                            let candidate = (end, pump.rank, stage_index, pump_index);
                            if end <= limit_ms && earliest.is_none_or(|best| candidate < best) {
                                earliest = Some(candidate);
                            }
                        }
                    }
                }
            }
            let Some((end, _, stage, pump)) = earliest else { return };
            let mut out = std::mem::take(&mut self.outputs_buf);
            if let StageKind::Aggregate(aggregate) = &mut self.graph.pumps[pump].stages[stage].kind {
                aggregate.close_earliest(end, &mut self.eval, now_ms, &mut self.budget, &mut out);
            }
            self.dispatch(pump, stage, &mut out, 0, now_ms);
            self.outputs_buf = out;
        }
    }

    /// Sends a stage's outputs on, in order, each all the way before the next.
    fn dispatch(&mut self, pump: usize, stage: usize, out: &mut Vec<StageOutput>, depth: u32, now_ms: i64) {
        if out.is_empty() {
            return;
        }
        let base = self.work.len();
        for output in out.drain(..).rev() {
            if let Some(work) = self.next_work(pump, stage, output, depth, now_ms) {
                self.work.push(work);
            }
        }
        if base == 0 {
            self.run(now_ms);
        }
    }

    fn next_work(&mut self, pump: usize, stage: usize, output: StageOutput, depth: u32, now_ms: i64) -> Option<Work> {
        match output {
            StageOutput::Row(row) => Some(self.forward(pump, stage, row, depth)),
            StageOutput::Failure(failure) => {
                self.error_rows += 1;
                let error = ErrorRow {
                    kind: failure.error.kind,
                    message: failure.error.message,
                    error_time_ms: now_ms,
                    data_rowtime_ms: Some(failure.rowtime_ms),
                    data: failure.data,
                    pump: Some(self.graph.pumps.get(pump)?.name.clone()),
                    epoch: failure.epoch,
                };
                let stream = self.error_stream?;
                Some(Work::Insert { stream, row: error_row_to_row(error), depth: depth + 1 })
            }
        }
    }

    /// The work a row leaving stage `stage` of `pump` becomes.
    fn forward(&self, pump: usize, stage: usize, row: Row, depth: u32) -> Work {
        let last = self.graph.pumps.get(pump).map_or(0, |p| p.stages.len());
        if stage + 1 >= last {
            Work::Emit { pump, row, depth }
        } else {
            Work::Stage { pump, stage: stage + 1, row, depth }
        }
    }

    fn run(&mut self, now_ms: i64) {
        while let Some(work) = self.work.pop() {
            match work {
                Work::Insert { stream, row, depth } => self.insert(stream, row, depth),
                Work::Stage { pump, stage, row, depth } => self.run_stage(pump, stage, row, depth, now_ms),
                Work::Emit { pump, row, depth } => self.emit(pump, row, depth, now_ms),
            }
        }
    }

    fn insert(&mut self, stream: StreamId, row: Row, depth: u32) {
        if depth > self.depth_max {
            // Only a cycle of pumps gets here; the compiler should refuse those.
            self.error_rows_dropped += 1;
            tracing::warn!(stream, "a row went round a cycle of pumps and was dropped");
            return;
        }
        let readers = self.graph.readers.get(stream).map_or(&[][..], Vec::as_slice);
        let mut row = Some(row);
        if let Some(Some(queue)) = self.queues.get_mut(stream) {
            if Some(stream) == self.error_stream && queue.len() >= self.limits.error_rows_max {
                queue.pop_front();
                self.error_rows_dropped += 1;
            }
            let queued = if readers.is_empty() { row.take() } else { row.clone() };
            queue.extend(queued);
        }
        for (index, pump) in readers.iter().enumerate().rev() {
            let copy = if index == 0 { row.take() } else { row.clone() };
            if let Some(row) = copy {
                self.work.push(Work::Stage { pump: *pump, stage: 0, row, depth });
            }
        }
    }

    fn run_stage(&mut self, pump: usize, stage: usize, row: Row, depth: u32, now_ms: i64) {
        let Some(stage_plan) = self.graph.pumps.get_mut(pump).and_then(|p| p.stages.get_mut(stage)) else { return };
        let source = RowRef { values: &row.values, rowtime_ms: row.rowtime_ms };
        let passes = match &stage_plan.filter {
            Some(filter) => self.eval.is_true(filter, source, now_ms),
            None => Ok(true),
        };
        let result = match passes {
            Ok(false) => StageResult::Dropped,
            Err(error) => StageResult::Failed(error),
            Ok(true) => match &mut stage_plan.kind {
                StageKind::Project(exprs) => {
                    let values = exprs.iter().map(|expr| self.eval.eval(expr, source, now_ms)).collect();
                    match values {
                        Ok(values) => StageResult::Row(Row { rowtime_ms: row.rowtime_ms, epoch: row.epoch, values }),
                        Err(error) => StageResult::Failed(error),
                    }
                }
                StageKind::Aggregate(aggregate) => {
                    match aggregate.accept(&mut self.eval, &row, now_ms, &mut self.budget, &mut self.outputs_buf) {
                        Ok(()) => StageResult::Closed,
                        Err(error) => StageResult::Failed(error),
                    }
                }
            },
        };
        match result {
            StageResult::Dropped => {}
            StageResult::Row(out) => {
                let work = self.forward(pump, stage, out, depth);
                self.work.push(work);
            }
            StageResult::Failed(error) => self.fail(pump, error, &row, depth, now_ms),
            StageResult::Closed => {
                // MONOTONIC groups the row closed go on before anything queued after it.
                let mut out = std::mem::take(&mut self.outputs_buf);
                for output in out.drain(..).rev() {
                    if let Some(work) = self.next_work(pump, stage, output, depth, now_ms) {
                        self.work.push(work);
                    }
                }
                self.outputs_buf = out;
            }
        }
    }

    /// Stores a pump's output row into its target stream's columns.
    fn emit(&mut self, pump: usize, mut row: Row, depth: u32, now_ms: i64) {
        let Some(pump_plan) = self.graph.pumps.get(pump) else { return };
        let target = pump_plan.target;
        let Some(stream) = self.plan.streams.get(target) else { return };
        if pump_plan.fills_target_in_order && row.values.len() == stream.columns.len() {
            for index in 0..row.values.len() {
                // A clone (a reference count for text) so that a failure still shows the row.
                match fit::fit(row.values[index].clone(), &stream.columns[index]) {
                    Ok(value) => row.values[index] = value,
                    Err(error) => return self.fail(pump, error, &row, depth, now_ms),
                }
            }
            self.work.push(Work::Insert { stream: target, row, depth: depth + 1 });
            return;
        }
        let mut values = vec![Value::Null; stream.columns.len()];
        for (value, column) in row.values.iter().zip(&pump_plan.target_columns) {
            if let Some(slot) = values.get_mut(*column) {
                *slot = value.clone();
            }
        }
        for (slot, column) in values.iter_mut().zip(&stream.columns) {
            match fit::fit(std::mem::replace(slot, Value::Null), column) {
                Ok(value) => *slot = value,
                Err(error) => return self.fail(pump, error, &row, depth, now_ms),
            }
        }
        let stored = Row { rowtime_ms: row.rowtime_ms, epoch: row.epoch, values: values.into_boxed_slice() };
        self.work.push(Work::Insert { stream: target, row: stored, depth: depth + 1 });
    }

    fn fail(&mut self, pump: usize, error: EvalError, row: &Row, depth: u32, now_ms: i64) {
        let name = self.graph.pumps.get(pump).map(|p| p.name.clone());
        let error = ErrorRow {
            kind: error.kind,
            message: error.message,
            error_time_ms: now_ms,
            data_rowtime_ms: Some(row.rowtime_ms),
            data: render_values(&row.values),
            pump: name,
            epoch: row.epoch,
        };
        self.push_error_row(error, depth + 1);
    }

    fn push_error_row(&mut self, error: ErrorRow, depth: u32) {
        self.error_rows += 1;
        if let Some(stream) = self.error_stream {
            self.work.push(Work::Insert { stream, row: error_row_to_row(error), depth });
        }
    }

    /// When the next window closes on the clock, if any is open.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        self.aggregates().filter_map(|aggregate| aggregate.earliest_end()).min()
    }

    /// Moves the rows waiting in an output stream into `out`.
    pub fn drain(&mut self, stream: StreamId, out: &mut Vec<Row>) {
        if let Some(Some(queue)) = self.queues.get_mut(stream) {
            out.extend(queue.drain(..));
        }
    }

    /// The oldest read epoch still held in open windows or undrained rows.
    pub fn held_epoch(&self) -> Option<u32> {
        let queued = self.queues.iter().flatten().flat_map(|queue| queue.iter().map(|row| row.epoch));
        self.aggregates().filter_map(|aggregate| aggregate.min_epoch()).chain(queued).min()
    }

    pub fn stats(&self) -> ExecStats {
        ExecStats {
            state_bytes: self.budget.used,
            open_groups: self.aggregates().map(|aggregate| aggregate.open_groups()).sum(),
            error_rows: self.error_rows,
            error_rows_dropped: self.error_rows_dropped,
        }
    }
}

#[cfg(test)]
mod tests;
