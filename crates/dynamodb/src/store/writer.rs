//! The group-commit writer: one thread that takes queued jobs in order, runs up to
//! [`GROUP_COMMIT_JOBS_MAX`] of them in one redb write transaction, commits once, then
//! answers each.
//!
//! A job's changes are kept only when it returns `Ok`; a job that returns `Err` or panics
//! is undone (see `write_txn`). A database failure (in a job's reads or writes, or the
//! commit) aborts the whole group, answers each of its jobs [`StoreError::Stopped`] and
//! stops writes: what was acknowledged before stays acknowledged, and nothing after it
//! is acknowledged, as the shard log does after a failed fsync.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use parking_lot::Mutex;
use redb::{Database, Durability};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, WriteTxn};
use crate::limits::GROUP_COMMIT_JOBS_MAX;

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
    pub durability: Durability,
    pub stopped: Arc<Mutex<Option<String>>>,
}

impl Writer {
    /// Serves the queue until every sender is gone.
    pub fn run(self, mut queue: mpsc::Receiver<Job>) {
        while let Some(first) = queue.blocking_recv() {
            let mut group = Vec::with_capacity(GROUP_COMMIT_JOBS_MAX);
            group.push(first);
            while group.len() < GROUP_COMMIT_JOBS_MAX {
                match queue.try_recv() {
                    Ok(job) => group.push(job),
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
    }

    /// Runs and commits one group. On failure, records why writes stop before any job of
    /// the group is answered or dropped, so each caller sees [`StoreError::Stopped`].
    fn commit_group(&self, group: Vec<Job>) -> Result<(), String> {
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

    fn run_group(&self, group: Vec<Job>, answers: &mut Vec<Answer>) -> Result<(), String> {
        let mut txn = self.db.begin_write().map_err(|error| error.to_string())?;
        txn.set_durability(self.durability);
        {
            let mut view = WriteTxn::open(&txn).map_err(|error| error.to_string())?;
            for job in group {
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
