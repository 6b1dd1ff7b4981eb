//! The server's side of a jq worker: starts it, sends it batches, times every record, and
//! kills it when a record overruns or the client is dropped.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::codec::{self, ProtocolError, Request, Response, FRAME_HEADER_BYTES, RESPONSE_FRAME_BYTES_MAX};
use crate::limits::{
    JQ_BATCH_BYTES_MAX, JQ_BATCH_RECORDS_MAX, JQ_RECORD_TIMEOUT_MS, JQ_WORKER_MEMORY_BYTES, JQ_WORKER_RETIRE_BUSY_MS,
    JQ_WORKER_START_TIMEOUT_MS,
};
use crate::process::PartitionKeys;

/// How long a worker that closed its output gets to exit before it is killed.
const EXIT_WAIT_MS: u64 = 1_000;

/// How to start a jq worker: the server passes its own executable and `jq-worker`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JqWorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// A failure that is not any one record's fault (the worker cannot be started, or broke
/// between records). The caller retries the delivery later; no record is failed for it.
#[derive(Debug, thiserror::Error)]
pub enum JqError {
    #[error("starting the jq worker {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("the jq worker did not start: {0}")]
    Start(String),
    #[error("talking to the jq worker: {0}")]
    Io(#[from] std::io::Error),
    #[error("jq worker protocol: {0}")]
    Protocol(#[from] ProtocolError),
}

/// One record's outcome: its partition keys, or why extraction failed.
pub type Extracted = Result<PartitionKeys, String>;

/// The jq worker of one delivery stream, started on first use and restarted after a
/// record kills it. Dropping the client kills the worker.
pub struct JqClient {
    command: Arc<JqWorkerCommand>,
    /// Who the worker works for, for logs.
    stream: String,
    /// `None` until first use, and while a request is in flight: a request abandoned half
    /// way (the delivery stopped) drops the worker with it instead of leaving it out of step.
    worker: Option<Worker>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Time spent evaluating so far: a bound on the CPU time the worker has used.
    busy: Duration,
}

/// How one request to a worker ended.
enum Chunk {
    /// Every record has its outcome.
    Done,
    /// The record after those answered brought the worker down, or overran (`busy`: the
    /// worker is still at it): the record's error message.
    Culprit { message: String, busy: bool },
}

impl JqClient {
    pub fn new(command: Arc<JqWorkerCommand>, stream: &str) -> JqClient {
        JqClient { command, stream: stream.to_owned(), worker: None }
    }

    /// The process id of the running worker, if any (for tests and diagnostics).
    pub fn worker_pid(&self) -> Option<u32> {
        self.worker.as_ref().and_then(|w| w.child.id())
    }

    /// Evaluates `query` on each record, in batches, and returns one outcome per record.
    /// A record whose evaluation overruns [`JQ_RECORD_TIMEOUT_MS`], exhausts the worker's
    /// memory or stack, or produces an answer over the limits gets an error outcome, and
    /// the rest are evaluated by a fresh worker. Cancel-safe: dropping the future kills
    /// the worker it was using.
    pub async fn extract(&mut self, query: &str, records: &[&[u8]]) -> Result<Vec<Extracted>, JqError> {
        let mut outcomes = Vec::with_capacity(records.len());
        while outcomes.len() < records.len() {
            let start = outcomes.len();
            let end = batch_end(records, start);
            let mut worker = match self.worker.take() {
                Some(worker) => worker,
                None => self.spawn().await?,
            };
            let began = Instant::now();
            let chunk = worker.evaluate(query, &records[start..end], &mut outcomes).await;
            worker.busy += began.elapsed();
            match chunk {
                Ok(Chunk::Done) if worker.busy < Duration::from_millis(JQ_WORKER_RETIRE_BUSY_MS) => {
                    self.worker = Some(worker);
                }
                Ok(Chunk::Done) => {
                    tracing::debug!(message = "Retiring a busy jq worker.", stream = %self.stream, busy_ms = worker.busy.as_millis() as u64);
                }
                Ok(Chunk::Culprit { message, busy }) => {
                    let record = outcomes.len();
                    let detail = worker.end(busy).await;
                    let message = format!("{message}{detail}");
                    tracing::warn!(message = "A record's MetadataExtractionQuery broke its limits; it goes to the error output.", stream = %self.stream, record, error = %message);
                    outcomes.push(Err(message));
                }
                Err(error) => {
                    // Outcomes already received stand; the caller retries the whole batch.
                    drop(worker);
                    return Err(error);
                }
            }
        }
        Ok(outcomes)
    }

    async fn spawn(&self) -> Result<Worker, JqError> {
        let mut child = Command::new(&self.command.program)
            .args(&self.command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // A worker that dies says why here (out of memory, stack overflow).
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| JqError::Spawn { program: self.command.program.display().to_string(), source })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(JqError::Start("its standard input or output is missing".to_owned()));
        };
        let mut worker = Worker { child, stdin, stdout: BufReader::new(stdout), busy: Duration::ZERO };
        match tokio::time::timeout(Duration::from_millis(JQ_WORKER_START_TIMEOUT_MS), worker.receive()).await {
            Ok(Ok(Some(Response::Ready))) => {
                tracing::debug!(message = "jq worker started.", stream = %self.stream, pid = worker.child.id());
                Ok(worker)
            }
            Ok(Ok(Some(other))) => Err(JqError::Start(format!("it greeted with {other:?}"))),
            Ok(Ok(None)) => Err(JqError::Start(format!("it exited{}", worker.end(false).await))),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(JqError::Start(format!("no greeting within {JQ_WORKER_START_TIMEOUT_MS} ms"))),
        }
    }
}

/// The end of the batch that starts at `start`: at most [`JQ_BATCH_RECORDS_MAX`] records
/// and [`JQ_BATCH_BYTES_MAX`] bytes, but always at least one record.
fn batch_end(records: &[&[u8]], start: usize) -> usize {
    let mut bytes = 0usize;
    let mut end = start;
    while end < records.len() && end - start < JQ_BATCH_RECORDS_MAX {
        bytes += records[end].len();
        if bytes > JQ_BATCH_BYTES_MAX && end > start {
            break;
        }
        end += 1;
    }
    end
}

impl Worker {
    /// Sends one request and collects its outcomes into `outcomes`.
    async fn evaluate(
        &mut self,
        query: &str,
        records: &[&[u8]],
        outcomes: &mut Vec<Extracted>,
    ) -> Result<Chunk, JqError> {
        let request = Request { query: query.to_owned(), records: records.iter().map(|r| r.to_vec()).collect() };
        let frame = codec::encode_request(&request)?;
        drop(request);
        let start_timeout = Duration::from_millis(JQ_WORKER_START_TIMEOUT_MS);
        // The worker reads the whole request before answering, so writing cannot deadlock;
        // a worker that stops reading is broken, not slow because of a record.
        tokio::time::timeout(start_timeout, async {
            self.stdin.write_all(&frame).await?;
            self.stdin.flush().await
        })
        .await
        .map_err(|_| JqError::Start(format!("it did not read a request within {JQ_WORKER_START_TIMEOUT_MS} ms")))??;
        // Compiling the query is not any record's doing.
        match tokio::time::timeout(start_timeout, self.receive()).await {
            Ok(Ok(Some(Response::Compiled(Ok(()))))) => {}
            Ok(Ok(Some(Response::Compiled(Err(message))))) => {
                // The query compiled when the configuration was checked, so this is a
                // difference between versions of server and worker: every record fails.
                outcomes.extend(records.iter().map(|_| Err(message.clone())));
                return Ok(Chunk::Done);
            }
            Ok(Ok(Some(other))) => return Err(JqError::Start(format!("it answered {other:?} to a request"))),
            Ok(Ok(None)) => return Err(JqError::Start("it exited before compiling the query".to_owned())),
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(JqError::Start(format!("the query did not compile within {JQ_WORKER_START_TIMEOUT_MS} ms")))
            }
        }
        for _ in records {
            let answer = tokio::time::timeout(Duration::from_millis(JQ_RECORD_TIMEOUT_MS), self.receive()).await;
            match answer {
                Ok(Ok(Some(Response::Record(outcome)))) => outcomes.push(outcome),
                Ok(Ok(Some(other))) => {
                    let message = format!("MetadataExtractionQuery evaluation answered {other:?}");
                    return Ok(Chunk::Culprit { message, busy: true });
                }
                Ok(Ok(None)) => {
                    let message = format!(
                        "MetadataExtractionQuery evaluation exceeded its limits (memory {} MiB, stack or CPU) or crashed",
                        JQ_WORKER_MEMORY_BYTES / (1024 * 1024)
                    );
                    return Ok(Chunk::Culprit { message, busy: false });
                }
                Ok(Err(JqError::Protocol(error))) => {
                    let message = format!("MetadataExtractionQuery evaluation gave a bad answer: {error}");
                    return Ok(Chunk::Culprit { message, busy: true });
                }
                Ok(Err(error)) => return Err(error),
                Err(_) => {
                    let message =
                        format!("MetadataExtractionQuery evaluation took longer than {JQ_RECORD_TIMEOUT_MS} ms");
                    return Ok(Chunk::Culprit { message, busy: true });
                }
            }
        }
        Ok(Chunk::Done)
    }

    /// The next frame, or `None` if the worker closed its output between frames.
    async fn receive(&mut self) -> Result<Option<Response>, JqError> {
        let mut header = [0u8; FRAME_HEADER_BYTES];
        match self.stdout.read_exact(&mut header).await {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        let len = codec::body_len(header, RESPONSE_FRAME_BYTES_MAX)?;
        let mut body = vec![0u8; len];
        match self.stdout.read_exact(&mut body).await {
            Ok(_) => {}
            // Died in the middle of an answer: as good as no answer.
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        Ok(Some(codec::decode_response(&body)?))
    }

    /// Ends the worker and describes how it ended, for error messages. A worker that
    /// closed its output is given [`EXIT_WAIT_MS`] to exit on its own (its exit status
    /// says why); one that is still busy is killed at once.
    async fn end(mut self, busy: bool) -> String {
        if !busy {
            if let Ok(Ok(status)) = tokio::time::timeout(Duration::from_millis(EXIT_WAIT_MS), self.child.wait()).await {
                return match (status.code(), status.signal()) {
                    (_, Some(signal)) => format!(" (the worker was ended by signal {signal})"),
                    (Some(code), _) => format!(" (the worker exited with status {code})"),
                    _ => String::new(),
                };
            }
        }
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        String::new()
    }
}
