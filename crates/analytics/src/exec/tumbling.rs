//! A streaming GROUP BY over tumbling windows.
//!
//! Windows of a STEP or FLOOR key close on the clock: every window with `end <= now`
//! closes when the executor reaches `now` (a row stamped `now` arriving, or the timer's
//! `advance`). That holds whether the key is ROWTIME or an event-time column: an
//! event-time window closes once processing time has passed its end, so a row whose event
//! time is already past opens a group that closes at the end of the same step. A MONOTONIC
//! key has no end: its groups close when a row with a larger key arrives; but when the key
//! is ROWTIME itself or `CEIL(ROWTIME TO unit)`, no later row can have a key the clock has
//! passed, so those groups also close on the clock, once `now` is past the key (an idle
//! input does not hold them open), with the key as ROWTIME.
//!
//! A closed window emits one row per group, in order of the groups' first rows; the row's
//! ROWTIME is the window's end (never earlier than a row this stage emitted before, so a
//! stream's ROWTIMEs do not go back); an empty window emits nothing.

use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};

use crate::exec::compare::{compare, key_eq, random_hash_seed};
use crate::exec::error_stream::render_values;
use crate::exec::eval::{Evaluator, RowRef};
use crate::exec::groups::{key_hash, GroupTable};
use crate::exec::window::window_of;
use crate::functions::ScalarFunction;
use crate::plan::{AggregatePlan, Expr, ExprKind, ProgressKey};
use crate::value::{ErrorKind, EvalError, Row, Value};

/// The executor's bound on open-window state, shared by every stage of an application.
pub(crate) struct StateBudget {
    pub(crate) used: usize,
    pub(crate) max: usize,
}

/// A row of a stage's output, or a failure to send to `error_stream`.
pub(crate) enum StageOutput {
    Row(Row),
    Failure(Failure),
}

pub(crate) struct Failure {
    pub(crate) error: EvalError,
    pub(crate) rowtime_ms: i64,
    pub(crate) data: bytes::Bytes,
    pub(crate) epoch: u32,
}

struct Window {
    /// The progress key's value for the window (its start; the MONOTONIC key itself).
    start: Value,
    /// The ROWTIME of the window's rows: its end, or the key of a ROWTIME-bounded key.
    emit_rowtime_ms: i64,
    groups: GroupTable,
    /// The oldest read epoch of the window's rows.
    min_epoch: u32,
}

/// How a stage's windows close.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Closing {
    /// STEP or FLOOR: when `now` reaches the window's end.
    Clock,
    /// ROWTIME or `CEIL(ROWTIME TO unit)` as a MONOTONIC key: when `now` passes the key.
    RowtimeKey,
    /// Any other MONOTONIC key: when a larger key arrives.
    LargerKey,
}

impl Closing {
    fn of(progress: &ProgressKey) -> Closing {
        match progress {
            ProgressKey::Step { .. } | ProgressKey::Floor { .. } => Closing::Clock,
            ProgressKey::Monotonic(expr) => {
                let rowtime = |expr: &Expr| matches!(expr.kind, ExprKind::Rowtime);
                match &expr.kind {
                    ExprKind::Rowtime => Closing::RowtimeKey,
                    ExprKind::Call { function: ScalarFunction::CeilTo(_), args }
                        if args.len() == 1 && args.iter().all(rowtime) =>
                    {
                        Closing::RowtimeKey
                    }
                    _ => Closing::LargerKey,
                }
            }
        }
    }
}

pub(crate) struct AggregateStage {
    plan: AggregatePlan,
    closing: Closing,
    /// Clock-closed windows by end.
    timed: BTreeMap<i64, Window>,
    /// MONOTONIC windows in ascending key order. A row of key k first closes every window
    /// below k, so the windows left are all at or above k: k's window is the front one
    /// or a new front. Finding, opening and closing are therefore O(1) (amortized) per
    /// row, however disordered the keys.
    monotonic: VecDeque<Window>,
    last_rowtime_ms: i64,
    /// The secret start of this stage's group-key hashes (see `KeyHash`).
    hash_seed: u64,
    key: Vec<Value>,
    args: Vec<Option<Value>>,
    group_row: Vec<Value>,
}

impl AggregateStage {
    pub(crate) fn new(plan: AggregatePlan) -> Self {
        AggregateStage {
            closing: Closing::of(&plan.progress),
            plan,
            timed: BTreeMap::new(),
            monotonic: VecDeque::new(),
            last_rowtime_ms: i64::MIN,
            hash_seed: random_hash_seed(),
            key: Vec::new(),
            args: Vec::new(),
            group_row: Vec::new(),
        }
    }

    /// The earliest end of an open clock-closed window.
    pub(crate) fn earliest_end(&self) -> Option<i64> {
        self.timed.keys().next().copied()
    }

    pub(crate) fn has_open_windows(&self) -> bool {
        !self.timed.is_empty() || !self.monotonic.is_empty()
    }

    pub(crate) fn open_groups(&self) -> usize {
        self.timed.values().chain(&self.monotonic).map(|w| w.groups.len()).sum()
    }

    pub(crate) fn min_epoch(&self) -> Option<u32> {
        self.timed.values().chain(&self.monotonic).map(|w| w.min_epoch).min()
    }

    /// Adds one row to its group. MONOTONIC windows that the row's larger key closes are
    /// emitted into `out`. On error, nothing of the row was added.
    pub(crate) fn accept(
        &mut self,
        eval: &mut Evaluator,
        row: &Row,
        now_ms: i64,
        budget: &mut StateBudget,
        out: &mut Vec<StageOutput>,
    ) -> Result<(), EvalError> {
        let source = RowRef { values: &row.values, rowtime_ms: row.rowtime_ms };
        let progress = eval.eval(self.plan.progress.expr(), source, now_ms)?;
        self.key.clear();
        for key in &self.plan.keys {
            let value = eval.eval(key, source, now_ms)?;
            self.key.push(value);
        }
        self.args.clear();
        for call in &self.plan.aggregates {
            let arg = match &call.arg {
                Some(arg) => Some(eval.eval(arg, source, now_ms)?),
                None => None,
            };
            self.args.push(arg);
        }
        let window = if self.closing == Closing::LargerKey {
            if progress.is_null() {
                return Err(EvalError::new(ErrorKind::NotNull, "the MONOTONIC key is NULL"));
            }
            self.close_monotonic_below(&progress, row.rowtime_ms, eval, now_ms, budget, out)?;
            if !self.monotonic.front().is_some_and(|w| key_eq(&w.start, &progress)) {
                self.monotonic.push_front(Window::new(progress, i64::MAX, &self.plan, row.epoch));
            }
            self.monotonic.front_mut()
        } else {
            let (start, end, emit_rowtime) = if self.closing == Closing::RowtimeKey {
                let Value::Timestamp(key) = progress else {
                    return Err(EvalError::new(ErrorKind::Function, "a ROWTIME key is not a timestamp"));
                };
                // Rows of key k have ROWTIME <= k: the group is complete once now > k.
                (key, key.saturating_add(1), key)
            } else {
                let (start, end) = window_of(&self.plan.progress, &progress)?;
                (start, end, end)
            };
            let plan = &self.plan;
            Some(
                self.timed
                    .entry(end)
                    .or_insert_with(|| Window::new(Value::Timestamp(start), emit_rowtime, plan, row.epoch)),
            )
        };
        let Some(window) = window else {
            return Err(EvalError::new(ErrorKind::Function, "window lost"));
        };
        let hash = key_hash(self.hash_seed, &self.key);
        let group = match window.groups.find(hash, &self.key) {
            Some(group) => group,
            None => {
                let bytes = window.groups.new_group_bytes(&self.key);
                if budget.used.saturating_add(bytes) > budget.max {
                    return Err(EvalError::new(
                        ErrorKind::ResourceLimit,
                        format!(
                            "open windows hold {} bytes, the bound is {}: the row's group is not opened",
                            budget.used, budget.max
                        ),
                    ));
                }
                budget.used += bytes;
                window.groups.insert(hash, &self.key, &self.plan.aggregates)
            }
        };
        let accs = window.groups.accs_mut(group);
        for ((acc, call), arg) in accs.iter().zip(&self.plan.aggregates).zip(&self.args) {
            acc.check(arg.as_ref(), call)?;
        }
        let mut grown: isize = 0;
        for ((acc, call), arg) in accs.iter_mut().zip(&self.plan.aggregates).zip(&self.args) {
            grown += acc.add(arg.as_ref(), call)?;
        }
        window.groups.bytes = window.groups.bytes.saturating_add_signed(grown);
        budget.used = budget.used.saturating_add_signed(grown);
        window.min_epoch = window.min_epoch.min(row.epoch);
        Ok(())
    }

    fn close_monotonic_below(
        &mut self,
        key: &Value,
        rowtime_ms: i64,
        eval: &mut Evaluator,
        now_ms: i64,
        budget: &mut StateBudget,
        out: &mut Vec<StageOutput>,
    ) -> Result<(), EvalError> {
        while let Some(front) = self.monotonic.front() {
            if compare(&front.start, key)? != Ordering::Less {
                break;
            }
            if let Some(window) = self.monotonic.pop_front() {
                self.emit(window, rowtime_ms, eval, now_ms, budget, out);
            }
        }
        Ok(())
    }

    /// Closes the earliest clock-closed window if it ends at or before `limit_ms`.
    pub(crate) fn close_earliest(
        &mut self,
        limit_ms: i64,
        eval: &mut Evaluator,
        now_ms: i64,
        budget: &mut StateBudget,
        out: &mut Vec<StageOutput>,
    ) -> bool {
        match self.timed.first_entry() {
            Some(entry) if *entry.key() <= limit_ms => {
                let window = entry.remove();
                let rowtime_ms = window.emit_rowtime_ms;
                self.emit(window, rowtime_ms, eval, now_ms, budget, out);
                true
            }
            _ => false,
        }
    }

    /// Closes every MONOTONIC window (a stop).
    pub(crate) fn close_monotonic(
        &mut self,
        eval: &mut Evaluator,
        now_ms: i64,
        budget: &mut StateBudget,
        out: &mut Vec<StageOutput>,
    ) {
        for window in std::mem::take(&mut self.monotonic) {
            self.emit(window, now_ms, eval, now_ms, budget, out);
        }
    }

    fn emit(
        &mut self,
        window: Window,
        rowtime_ms: i64,
        eval: &mut Evaluator,
        now_ms: i64,
        budget: &mut StateBudget,
        out: &mut Vec<StageOutput>,
    ) {
        budget.used = budget.used.saturating_sub(window.groups.bytes);
        let rowtime_ms = rowtime_ms.max(self.last_rowtime_ms);
        self.last_rowtime_ms = rowtime_ms;
        for group in 0..window.groups.len() {
            self.group_row.clear();
            self.group_row.push(window.start.clone());
            self.group_row.extend(window.groups.key(group).iter().cloned());
            let finished =
                window.groups.accs(group).iter().zip(&self.plan.aggregates).map(|(acc, call)| acc.finish(call));
            let mut failed = None;
            for value in finished {
                match value {
                    Ok(value) => self.group_row.push(value),
                    Err(error) => {
                        failed = Some(error);
                        break;
                    }
                }
            }
            let result = match failed {
                Some(error) => Err(error),
                None => self.output_row(eval, rowtime_ms, now_ms),
            };
            match result {
                Ok(Some(values)) => out.push(StageOutput::Row(Row { rowtime_ms, epoch: window.min_epoch, values })),
                Ok(None) => {}
                Err(error) => out.push(StageOutput::Failure(Failure {
                    error,
                    rowtime_ms,
                    data: render_values(&self.group_row),
                    epoch: window.min_epoch,
                })),
            }
        }
    }

    /// HAVING and the SELECT list over the group row; `None` when HAVING rejects it.
    fn output_row(
        &self,
        eval: &mut Evaluator,
        rowtime_ms: i64,
        now_ms: i64,
    ) -> Result<Option<Box<[Value]>>, EvalError> {
        let group = RowRef { values: &self.group_row, rowtime_ms };
        if let Some(having) = &self.plan.having {
            if !eval.is_true(having, group, now_ms)? {
                return Ok(None);
            }
        }
        self.plan
            .output
            .iter()
            .map(|expr| eval.eval(expr, group, now_ms))
            .collect::<Result<Box<[Value]>, _>>()
            .map(Some)
    }
}

impl Window {
    fn new(start: Value, emit_rowtime_ms: i64, plan: &AggregatePlan, epoch: u32) -> Self {
        Window {
            start,
            emit_rowtime_ms,
            groups: GroupTable::new(plan.keys.len(), plan.aggregates.len()),
            min_epoch: epoch,
        }
    }
}
