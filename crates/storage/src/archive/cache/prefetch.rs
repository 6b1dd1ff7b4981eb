//! Read-ahead: a few threads fetching, into the cache, the blocks a sequential reader of
//! an archived segment will want next, so its next read does not wait for the archive.
//!
//! The queue is bounded; a full queue drops the request (read-ahead only saves time).
//! The threads hold the cache, not the [`super::ArchiveReader`]: dropping the reader
//! closes the queue, and each thread ends after the fetch it is doing.

use std::sync::Arc;
use std::thread::JoinHandle;

use super::Fetcher;
use crate::limits::{ARCHIVE_PREFETCH_QUEUE_MAX, ARCHIVE_PREFETCH_THREADS};

/// One block to fetch ahead.
pub(super) struct Job {
    pub(super) segment_id: u64,
    pub(super) key: Arc<str>,
    pub(super) block: u64,
    pub(super) segment_len: u64,
}

/// The queue and its threads.
pub(super) struct Prefetcher {
    queue: Option<flume::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Prefetcher {
    /// Starts the threads; `None` if none could be started (reads still work, without
    /// read-ahead).
    pub(super) fn start(fetcher: Arc<Fetcher>) -> Option<Self> {
        let (queue, jobs) = flume::bounded::<Job>(ARCHIVE_PREFETCH_QUEUE_MAX);
        let mut threads = Vec::with_capacity(ARCHIVE_PREFETCH_THREADS);
        for number in 0..ARCHIVE_PREFETCH_THREADS {
            let (fetcher, jobs) = (fetcher.clone(), jobs.clone());
            let spawned =
                std::thread::Builder::new().name(format!("rheo-archive-prefetch-{number}")).spawn(move || {
                    for job in jobs.iter() {
                        fetcher.prefetch(&job);
                    }
                });
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(error) => {
                    tracing::warn!(message = "A read-ahead thread could not be started.", %error);
                }
            }
        }
        (!threads.is_empty()).then_some(Prefetcher { queue: Some(queue), threads })
    }

    /// Queues a job; `false` when the queue is full (the job is dropped).
    pub(super) fn offer(&self, job: Job) -> bool {
        self.queue.as_ref().is_some_and(|queue| queue.try_send(job).is_ok())
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.queue.take();
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!(message = "A read-ahead thread panicked.");
            }
        }
    }
}
