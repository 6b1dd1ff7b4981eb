//! The group-commit writer: one thread that takes queued jobs in order, runs up to
//! [`GROUP_COMMIT_JOBS_MAX`] of them in one redb write transaction, commits once, then
//! answers each.
//!
//! A job's changes are kept only when it returns `Ok`; a job that returns `Err` or panics
//! is undone (see `write_txn`). A database failure (in a job's reads or writes, or the
//! commit) aborts the whole group, answers each of its jobs [`StoreError::Stopped`] and
//! stops writes: what was acknowledged before stays acknowledged, and nothing after it
//! is acknowledged, as the shard log does after a failed fsync.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redb::{Database, Durability};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use super::{StoreError, WriteTxn};
use crate::limits::GROUP_COMMIT_JOBS_MAX;

/// How long commits may stay unsynced when the store is not durable
/// (`--durability relaxed`): redb's non-durable commits are visible at once but reach the
/// disk only with the next durable commit, which also frees their old pages.
pub const RELAXED_SYNC_INTERVAL: Duration = Duration::from_millis(500);

/// How commits reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// Every commit is durable (fsync) before its jobs are answered.
    EveryCommit,
    /// Commits are durable at most [`RELAXED_SYNC_INTERVAL`] apart, and at shutdown.
    Relaxed,
}

/// A job in the queue, holding its place (one of
/// [`WRITE_QUEUE_MAX`](crate::limits::WRITE_QUEUE_MAX)) until the writer takes it.
pub struct Queued {
    pub job: Job,
    pub _place: OwnedSemaphorePermit,
}

/// Sends a job's answer, or the group's failure.
pub type Answer = Box<dyn FnOnce(Option<StoreError>) + Send>;
/// A queued job: runs, says whether to keep its changes, and hands back its answer.
pub type Job = Box<dyn FnOnce(&mut WriteTxn<'_>) -> (bool, Answer) + Send>;

/// Wraps a caller's job and the channel its answer goes to.
pub fn job<T, E, F>(job: F, answer_to: oneshot::Sender<Result<Result<T, E>, StoreError>>) -> Job
where
    T: Send + 'static,
    E: Send + 'static,
    F: FnOnce(&mut WriteTxn<'_>) -> Result<T, E> + Send + 'static,
{
    Box::new(move |txn: &mut WriteTxn<'_>| {
        let result = job(txn);
        let keep = result.is_ok();
        let answer: Answer = Box::new(move |failure| {
            // The caller may have gone away (its request was dropped): nothing to tell.
            let _ = answer_to.send(match failure {
                None => Ok(result),
                Some(error) => Err(error),
            });
        });
        (keep, answer)
    })
}

pub struct Writer {
    pub db: Arc<Database>,
    pub sync: Sync,
    pub stopped: Arc<Mutex<Option<String>>>,
    /// When the last durable commit was (relaxed mode), and whether commits came after it.
    pub last_sync: Instant,
    pub unsynced: bool,
}

impl Writer {
    /// Serves the queue until every sender is gone.
    pub fn run(mut self, queue: Receiver<Queued>) {
        loop {
            let first = if self.unsynced {
                let due = self.last_sync + RELAXED_SYNC_INTERVAL;
                match queue.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(queued) => queued,
                    Err(RecvTimeoutError::Timeout) => {
                        self.sync_now();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match queue.recv() {
                    Ok(queued) => queued,
                    Err(_) => break,
                }
            };
            let mut group = Vec::with_capacity(GROUP_COMMIT_JOBS_MAX);
            group.push(first.job);
            while group.len() < GROUP_COMMIT_JOBS_MAX {
                match queue.try_recv() {
                    Ok(queued) => group.push(queued.job),
                    Err(_) => break,
                }
            }
            if self.stopped.lock().is_some() {
                // Dropped unanswered: each caller reads why writes stopped.
                continue;
            }
            if let Err(reason) = self.commit_group(group) {
                tracing::error!(%reason, "a DynamoDB store commit failed; writes are stopped until restart");
            }
        }
        if self.unsynced {
            self.sync_now();
        }
    }

    /// The durability of the next commit: durable when every commit is, or when the last
    /// durable commit is [`RELAXED_SYNC_INTERVAL`] old.
    fn next_durability(&mut self) -> Durability {
        let now = Instant::now();
        if self.sync == Sync::EveryCommit || now >= self.last_sync + RELAXED_SYNC_INTERVAL {
            self.last_sync = now;
            self.unsynced = false;
            Durability::Immediate
        } else {
            self.unsynced = true;
            Durability::None
        }
    }

    /// An empty durable commit, making every earlier commit durable.
    fn sync_now(&mut self) {
        let synced = self.db.begin_write().map_err(|error| error.to_string()).and_then(|mut txn| {
            txn.set_durability(Durability::Immediate);
            txn.commit().map_err(|error| error.to_string())
        });
        self.last_sync = Instant::now();
        self.unsynced = false;
        if let Err(reason) = synced {
            tracing::error!(%reason, "a DynamoDB store sync failed; writes are stopped until restart");
            *self.stopped.lock() = Some(reason);
        }
    }

    /// Runs and commits one group. On failure, records why writes stop before any job of
    /// the group is answered or dropped, so each caller sees [`StoreError::Stopped`].
    fn commit_group(&mut self, group: Vec<Job>) -> Result<(), String> {
        let mut answers = Vec::with_capacity(group.len());
        let outcome = self.run_group(group, &mut answers);
        match outcome {
            Ok(()) => {
                answers.into_iter().for_each(|answer| answer(None));
                Ok(())
            }
            Err(reason) => {
                *self.stopped.lock() = Some(reason.clone());
                for answer in answers {
                    answer(Some(StoreError::Stopped(reason.clone())));
                }
                Err(reason)
            }
        }
    }

    /// Runs the group's jobs in one transaction and commits it. On failure, `stopped` is
    /// set before the jobs not yet run are dropped, so their callers read why too.
    fn run_group(&mut self, group: Vec<Job>, answers: &mut Vec<Answer>) -> Result<(), String> {
        let mut pending: VecDeque<Job> = group.into();
        let outcome = self.run_jobs(&mut pending, answers);
        if let Err(reason) = &outcome {
            *self.stopped.lock() = Some(reason.clone());
        }
        drop(pending);
        outcome
    }

    fn run_jobs(&mut self, pending: &mut VecDeque<Job>, answers: &mut Vec<Answer>) -> Result<(), String> {
        let mut txn = self.db.begin_write().map_err(|error| error.to_string())?;
        txn.set_durability(self.next_durability());
        {
            let mut view = WriteTxn::open(&txn).map_err(|error| error.to_string())?;
            while let Some(job) = pending.pop_front() {
                view.begin_job();
                match catch_unwind(AssertUnwindSafe(|| job(&mut view))) {
                    Ok((true, answer)) => answers.push(answer),
                    Ok((false, answer)) => {
                        view.discard_job();
                        answers.push(answer);
                    }
                    Err(_) => {
                        tracing::error!("a DynamoDB write job panicked; its changes are discarded");
                        view.discard_job();
                    }
                }
                if let Some(failure) = view.failure() {
                    return Err(failure.to_string());
                }
            }
        }
        txn.commit().map_err(|error| error.to_string())
    }
}
