//! The jq worker process: the other end of [`super::client::JqClient`].
//!
//! The server's executable runs this as a hidden subcommand (`rheo jq-worker`); the
//! firehose crate's tests run it as the `rheo-jq-worker` binary. It reads [`Request`]s on
//! stdin until end of file and answers on stdout (see [`super::codec`]).

use std::io::{self, Read, Write};
use std::time::Duration;

use rlimit::Resource;

use super::codec::{self, ProtocolError, Request, Response, FRAME_HEADER_BYTES, REQUEST_FRAME_BYTES_MAX};
use crate::limits::{JQ_WORKER_CPU_SECS, JQ_WORKER_MEMORY_BYTES, JQ_WORKER_PARENT_POLL_MS};
use crate::process::{self, JqFilter};

/// Extra CPU seconds between the soft limit (SIGXCPU) and the hard one (SIGKILL).
const CPU_HARD_LIMIT_GRACE_SECS: u64 = 5;
/// Stack of the thread that watches for the parent's death: it only sleeps and compares.
const WATCHDOG_STACK_BYTES: usize = 64 * 1024;

/// Why the worker stopped other than at the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("setting the jq worker's {resource} limit: {source}")]
    Limit { resource: &'static str, source: io::Error },
    #[error("jq worker I/O: {0}")]
    Io(#[from] io::Error),
    #[error("jq worker protocol: {0}")]
    Protocol(#[from] ProtocolError),
}

/// Runs the worker until its stdin closes. Call from a `main` before anything else
/// starts threads or allocates much: the limits apply from here on.
pub fn run() -> Result<(), WorkerError> {
    apply_limits()?;
    watch_parent();
    let mut input = io::stdin().lock();
    let mut output = io::BufWriter::new(io::stdout().lock());
    send(&mut output, &Response::Ready)?;
    // The compiled query of the last request: a stream's requests all carry the same query
    // until its configuration changes.
    let mut compiled: Option<(String, JqFilter)> = None;
    while let Some(body) = read_frame(&mut input)? {
        let Request { query, records } = codec::decode_request(&body)?;
        drop(body);
        let filter = match compiled.take() {
            Some((text, filter)) if text == query => filter,
            _ => match process::compile_query(&query) {
                Ok(filter) => filter,
                Err(message) => {
                    send(&mut output, &Response::Compiled(Err(message)))?;
                    continue;
                }
            },
        };
        send(&mut output, &Response::Compiled(Ok(())))?;
        for record in &records {
            // Flushed per record: the server times each record from the previous answer.
            send(&mut output, &Response::Record(process::extract(&filter, record)))?;
        }
        compiled = Some((query, filter));
    }
    Ok(())
}

/// Caps the worker's address space and CPU time, and turns off core dumps: a worker
/// killed by its limits should not leave a core file of hundreds of MiB behind.
fn apply_limits() -> Result<(), WorkerError> {
    lower(Resource::CORE, "core file size", 0, 0)?;
    lower(Resource::AS, "address space", JQ_WORKER_MEMORY_BYTES, JQ_WORKER_MEMORY_BYTES)?;
    lower(Resource::CPU, "CPU time", JQ_WORKER_CPU_SECS, JQ_WORKER_CPU_SECS + CPU_HARD_LIMIT_GRACE_SECS)
}

/// Sets a limit, never above what the process already has (raising a hard limit needs
/// privileges, and a lower inherited limit is stricter anyway).
fn lower(resource: Resource, name: &'static str, soft: u64, hard: u64) -> Result<(), WorkerError> {
    let limit_error = |source| WorkerError::Limit { resource: name, source };
    let (_, current_hard) = resource.get().map_err(limit_error)?;
    let hard = hard.min(current_hard);
    resource.set(soft.min(hard), hard).map_err(limit_error)
}

/// Exits once the process that started the worker is gone (the worker is then adopted by
/// another), so that a server killed with SIGKILL does not leave a query spinning.
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    let watchdog = std::thread::Builder::new().name("jq-parent-watch".to_owned()).stack_size(WATCHDOG_STACK_BYTES);
    let spawned = watchdog.spawn(move || loop {
        std::thread::sleep(Duration::from_millis(JQ_WORKER_PARENT_POLL_MS));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(1);
        }
    });
    // Without the watchdog the CPU limit still ends an orphaned worker, only later.
    drop(spawned);
}

/// The next frame's body, or `None` at end of input between frames.
fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>, WorkerError> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    match input.read_exact(&mut header) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    let len = codec::body_len(header, REQUEST_FRAME_BYTES_MAX)?;
    let mut body = vec![0u8; len];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

fn send(output: &mut impl Write, response: &Response) -> Result<(), WorkerError> {
    let frame = match codec::encode_response(response) {
        Ok(frame) => frame,
        // Cannot happen for keys within JQ_OUTPUT_BYTES_MAX and truncated messages; answer
        // something the server can attribute to the record rather than nothing.
        Err(error) => codec::encode_response(&Response::Record(Err(format!("answer not sent: {error}"))))?,
    };
    output.write_all(&frame)?;
    output.flush()?;
    Ok(())
}
