//! Bounded evaluation of `MetadataExtractionQuery` (jq) in worker processes.
//!
//! jaq has no step limit and no interruption hook, and a query can allocate without bound
//! (`[range(0; 1e9)]`), spin forever, or recurse until the stack overflows, which aborts
//! the whole process and cannot be caught. So the server never runs a query itself: each
//! delivery stream with dynamic partitioning owns a worker process (the server's own
//! executable, started with a hidden subcommand) that it sends batches of records to.
//!
//! - The worker caps its own address space and CPU time with `setrlimit` as it starts
//!   ([`worker::run`]), and exits once the server that started it is gone.
//! - The server ([`client::JqClient`]) gives each record [`crate::limits::JQ_RECORD_TIMEOUT_MS`]
//!   of wall-clock time; the worker answers record by record, so when it overruns, dies
//!   (memory, stack) or answers nonsense, the record being evaluated is known exactly. That
//!   record goes to the error output (`DynamicPartitioning.MetadataExtractionFailed`), the
//!   worker is killed, and a fresh one carries on with the rest of the batch.
//! - Dropping the client (the stream is deleted, or the server stops) kills its worker.
//!
//! [`codec`] is the length-prefixed protocol on the worker's stdin and stdout.

pub mod client;
pub mod codec;
pub mod worker;

pub use client::{JqClient, JqError, JqWorkerCommand};
pub use worker::{run as run_worker, WorkerError};
