//! The S3 archive (`s3://BUCKET[/PREFIX]`), on `object_store`.
//!
//! [`ObjectArchive`] is blocking and is called from the log's plain threads and from
//! tokio workers inside `block_in_place`. Blocking on a future from such a thread would
//! tie the caller to a runtime it may not be in, so the archive owns a small runtime of
//! its own: every request is spawned onto it and the caller waits on a channel for the
//! answer. Memory stays bounded: large files go up as a multipart upload, one part read
//! from the local file at a time.
//!
//! Integrity: the client sends a SHA-256 checksum with every PUT and part
//! (`x-amz-checksum-sha256`), which S3 verifies before storing, and after each put a HEAD
//! checks the stored size. The manifests' CRC-32C lets readers check what they fetch.
//!
//! Closing ([`ObjectArchive::close`], at shutdown): callers stop waiting at once (they
//! look every `CLOSE_POLL`), the request's task is aborted, and a multipart upload cut
//! short is aborted within [`ARCHIVE_CLOSE_GRACE`]; later calls fail without a request.

use std::future::Future;
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt as _;
use object_store::aws::{AmazonS3Builder, Checksum};
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, MultipartUpload, ObjectStore, PutPayload, RetryConfig};
use rheo_storage::archive::{ListPage, ObjectInfo, ARCHIVE_LIST_PAGE};
use rheo_storage::fs::ReadFile;
use rheo_storage::limits::{ARCHIVE_MULTIPART_THRESHOLD_BYTES, ARCHIVE_PART_BYTES};
use rheo_storage::{ArchiveError, ObjectArchive};

use crate::ArchiveOpenError;

/// Longest one HTTP request may take (a part of `ARCHIVE_PART_BYTES` at a few MB/s fits).
pub const S3_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest connecting may take.
pub const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries of one request inside the client; the archiver retries whole uploads with its
/// own back-off, so the client gives up early and reports.
pub const S3_MAX_RETRIES: usize = 3;
/// Longest the client keeps retrying one request.
pub const S3_RETRY_TIMEOUT: Duration = Duration::from_secs(60);
/// Worker threads of the archive's own runtime.
const RUNTIME_THREADS: usize = 2;
/// Longest a closed archive waits for the abort of a multipart upload it cut short
/// (best effort: parts left behind go with the bucket's AbortIncompleteMultipartUpload
/// lifecycle rule). Bounds how long a shutdown can wait for the store.
pub const ARCHIVE_CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How often a caller waiting for the runtime's answer looks whether the archive was
/// closed: the most a close adds to a shutdown besides the grace above.
const CLOSE_POLL: Duration = Duration::from_millis(50);

/// An archive in an S3 bucket (or an S3-compatible store), under a key prefix.
pub struct S3Archive {
    store: Arc<dyn ObjectStore>,
    /// `PREFIX/` or empty.
    key_prefix: String,
    description: String,
    /// `Some` until dropped; shut down without blocking, since the last owner may drop it
    /// on a runtime thread.
    runtime: Option<tokio::runtime::Runtime>,
    /// Set by [`ObjectArchive::close`]: calls end at once with `Unavailable`.
    closed: AtomicBool,
}

impl std::fmt::Debug for S3Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Archive").field("url", &self.description).finish_non_exhaustive()
    }
}

impl Drop for S3Archive {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl S3Archive {
    /// The archive in `bucket` under `prefix` (no leading or trailing `/`), at `endpoint`
    /// (path-style, plain HTTP allowed, for MinIO and emulators) or AWS's own.
    pub fn open(bucket: &str, prefix: &str, endpoint: Option<&str>, region: &str) -> Result<Self, ArchiveOpenError> {
        let description = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: S3_MAX_RETRIES,
            retry_timeout: S3_RETRY_TIMEOUT,
        };
        let options = ClientOptions::new().with_timeout(S3_REQUEST_TIMEOUT).with_connect_timeout(S3_CONNECT_TIMEOUT);
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_retry(retry)
            .with_client_options(options)
            .with_checksum_algorithm(Checksum::SHA256);
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(true).with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|source| ArchiveOpenError::S3 { url: description.clone(), source })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("rheo-archive")
            .enable_all()
            .build()?;
        let key_prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        tracing::info!(message = "Opened the S3 archive.", url = %description, endpoint = ?endpoint, region);
        Ok(S3Archive {
            store: Arc::new(store),
            key_prefix,
            description,
            runtime: Some(runtime),
            closed: AtomicBool::new(false),
        })
    }

    /// Runs `work` on the archive's runtime and waits for its answer on this thread; once
    /// the archive is closed, the request is dropped (its task aborted) and the caller
    /// answered `Unavailable` at once.
    fn run<T: Send + 'static>(&self, work: impl Future<Output = T> + Send + 'static) -> Result<T, ArchiveError> {
        let Some(runtime) = self.runtime.as_ref().filter(|_| !self.is_closed()) else {
            return Err(closed_error());
        };
        let (sender, receiver) = mpsc::sync_channel(1);
        let task = runtime.handle().spawn(async move {
            // The caller may have gone; nothing to tell then.
            let _ = sender.send(work.await);
        });
        loop {
            match receiver.recv_timeout(CLOSE_POLL) {
                Ok(answer) => return Ok(answer),
                Err(mpsc::RecvTimeoutError::Timeout) if self.is_closed() => {
                    task.abort();
                    return Err(closed_error());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(ArchiveError::Unavailable {
                        detail: "the archive's runtime stopped the request".into(),
                    })
                }
            }
        }
    }

    /// Runs `work` on the runtime even if the archive is closed, waiting at most `bound`
    /// (`None` past it; the work goes on in the background until the runtime ends).
    fn run_within<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
        bound: Duration,
    ) -> Option<T> {
        let runtime = self.runtime.as_ref()?;
        let (sender, receiver) = mpsc::sync_channel(1);
        runtime.handle().spawn(async move {
            let _ = sender.send(work.await);
        });
        receiver.recv_timeout(bound).ok()
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Aborts a multipart upload that will not complete, so its parts stop costing
    /// storage; bounded by [`ARCHIVE_CLOSE_GRACE`], since it also runs after a close.
    fn abort_multipart(&self, key: &str, mut upload: Box<dyn MultipartUpload>) {
        match self.run_within(async move { upload.abort().await }, ARCHIVE_CLOSE_GRACE) {
            Some(Ok(())) => {}
            Some(Err(error)) => {
                tracing::warn!(message = "Aborting a failed multipart upload failed.", key, %error);
            }
            None => tracing::warn!(
                message = "Aborting a failed multipart upload did not finish in time; its parts wait for the bucket's lifecycle rule.",
                key,
                grace_ms = ARCHIVE_CLOSE_GRACE.as_millis() as u64,
            ),
        }
    }

    fn path(&self, key: &str) -> Path {
        Path::from(format!("{}{key}", self.key_prefix))
    }

    fn check_size(&self, key: &str, expected: u64) -> Result<(), ArchiveError> {
        let store = self.store.clone();
        let path = self.path(key);
        let meta = self.run(async move { store.head(&path).await })?.map_err(|e| store_error(key, e))?;
        if meta.size != expected {
            return Err(ArchiveError::Corrupt {
                key: key.to_owned(),
                detail: format!("stored {} bytes, uploaded {expected}", meta.size),
            });
        }
        Ok(())
    }

    fn put_multipart(&self, key: &str, source: &dyn ReadFile, len: u64) -> Result<(), ArchiveError> {
        let store = self.store.clone();
        let path = self.path(key);
        let mut upload = self.run(async move { store.put_multipart(&path).await })?.map_err(|e| write_error(key, e))?;
        let mut offset = 0u64;
        let mut failure = None;
        while offset < len {
            let piece = (len - offset).min(ARCHIVE_PART_BYTES);
            let mut part = vec![0u8; piece as usize];
            if let Err(e) = source.read_exact_at(&mut part, offset) {
                failure = Some(ArchiveError::Unavailable { detail: format!("reading the local file for {key}: {e}") });
                break;
            }
            let sent = upload.put_part(PutPayload::from(part));
            if let Err(e) = self.run(sent).and_then(|r| r.map_err(|e| write_error(key, e))) {
                failure = Some(e);
                break;
            }
            offset += piece;
        }
        if let Some(error) = failure {
            // Parts already sent cost storage until the upload is aborted.
            self.abort_multipart(key, upload);
            return Err(error);
        }
        let completed = self.run(async move {
            let completed = upload.complete().await.map(|_| ());
            if completed.is_err() {
                // A failed completion leaves the parts behind as well.
                if let Err(abort) = upload.abort().await {
                    tracing::warn!(message = "Aborting a multipart upload that did not complete failed.", error = %abort);
                }
            }
            completed
        })?;
        completed.map_err(|e| write_error(key, e))
    }
}

impl ObjectArchive for S3Archive {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn put_file(&self, key: &str, source: &dyn ReadFile, len: u64) -> Result<(), ArchiveError> {
        if len > ARCHIVE_MULTIPART_THRESHOLD_BYTES {
            self.put_multipart(key, source, len)?;
        } else {
            let mut bytes = vec![0u8; len as usize];
            source
                .read_exact_at(&mut bytes, 0)
                .map_err(|e| ArchiveError::Unavailable { detail: format!("reading the local file for {key}: {e}") })?;
            self.put_one(key, Bytes::from(bytes))?;
        }
        self.check_size(key, len)
    }

    fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError> {
        let len = bytes.len() as u64;
        self.put_one(key, bytes)?;
        self.check_size(key, len)
    }

    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, ArchiveError> {
        if range.start > range.end {
            return Err(ArchiveError::Refused { detail: format!("range {range:?} of {key} is reversed") });
        }
        if range.start == range.end {
            // An empty range is not a valid HTTP range; check the object exists instead.
            let store = self.store.clone();
            let path = self.path(key);
            let meta = self.run(async move { store.head(&path).await })?.map_err(|e| store_error(key, e))?;
            return if range.end <= meta.size {
                Ok(Bytes::new())
            } else {
                Err(ArchiveError::Refused {
                    detail: format!("range {range:?} of {key} outside its {} bytes", meta.size),
                })
            };
        }
        let store = self.store.clone();
        let path = self.path(key);
        let wanted = range.end - range.start;
        let bytes = self.run(async move { store.get_range(&path, range).await })?.map_err(|e| store_error(key, e))?;
        // object_store checks the answer's range; a short body means the object is shorter.
        if bytes.len() as u64 != wanted {
            return Err(ArchiveError::Refused {
                detail: format!("{key}: asked for {wanted} bytes, the object had {}", bytes.len()),
            });
        }
        Ok(bytes)
    }

    fn get(&self, key: &str) -> Result<Bytes, ArchiveError> {
        let store = self.store.clone();
        let path = self.path(key);
        self.run(async move { store.get(&path).await?.bytes().await })?.map_err(|e| store_error(key, e))
    }

    fn delete(&self, key: &str) -> Result<(), ArchiveError> {
        let store = self.store.clone();
        let path = self.path(key);
        match self.run(async move { store.delete(&path).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(key, e)),
        }
    }

    /// object_store's list stream is read on the runtime and handed over a page at a
    /// time through a channel of one page, so at most two pages are held; S3 lists keys
    /// in order. Dropping the receiver (the caller broke off) ends the listing task.
    fn list_pages(&self, prefix: &str, page: &mut ListPage<'_>) -> Result<(), ArchiveError> {
        // object_store lists whole path segments; list the folder the prefix is in and
        // keep the keys that start with it.
        let full = format!("{}{prefix}", self.key_prefix);
        let folder = full.rsplit_once('/').map(|(folder, _)| folder.to_owned()).unwrap_or_default();
        let (sender, pages) = mpsc::sync_channel::<Result<Vec<ObjectInfo>, ArchiveError>>(1);
        let (store, key_prefix, wanted) = (self.store.clone(), self.key_prefix.clone(), prefix.to_owned());
        let listing = async move {
            let folder = (!folder.is_empty()).then(|| Path::from(folder));
            let mut stream = store.list(folder.as_ref());
            let mut pending = Vec::with_capacity(ARCHIVE_LIST_PAGE);
            loop {
                let next = stream.try_next().await;
                let last = matches!(next, Ok(None) | Err(_));
                match next {
                    Ok(Some(meta)) => {
                        let key = meta.location.as_ref().strip_prefix(key_prefix.as_str()).map(str::to_owned);
                        if let Some(key) = key.filter(|key| key.starts_with(&wanted)) {
                            pending.push(ObjectInfo { key, size: meta.size });
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        let _ = sender.send(Err(store_error(&wanted, error)));
                        return;
                    }
                }
                if (pending.len() >= ARCHIVE_LIST_PAGE || last) && !pending.is_empty() {
                    let full = std::mem::replace(&mut pending, Vec::with_capacity(ARCHIVE_LIST_PAGE));
                    // Blocking send off the runtime's workers: the caller takes pages at
                    // its own pace, and a caller gone ends the listing.
                    let sender = sender.clone();
                    let sent = tokio::task::spawn_blocking(move || sender.send(Ok(full)).is_ok()).await;
                    if !matches!(sent, Ok(true)) {
                        return;
                    }
                }
                if last {
                    return;
                }
            }
        };
        let Some(runtime) = self.runtime.as_ref().filter(|_| !self.is_closed()) else {
            return Err(closed_error());
        };
        let task = runtime.handle().spawn(listing);
        let outcome = loop {
            match pages.recv_timeout(CLOSE_POLL) {
                Ok(Ok(objects)) => match page(objects) {
                    Ok(ControlFlow::Continue(())) => {}
                    Ok(ControlFlow::Break(())) => break Ok(()),
                    Err(error) => break Err(error),
                },
                Ok(Err(error)) => break Err(error),
                Err(mpsc::RecvTimeoutError::Timeout) if self.is_closed() => break Err(closed_error()),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // Every page sent and the task done.
                Err(mpsc::RecvTimeoutError::Disconnected) => break Ok(()),
            }
        };
        task.abort();
        outcome
    }

    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            tracing::info!(message = "S3 archive closed; requests in flight are dropped.", url = %self.description);
        }
    }
}

impl S3Archive {
    fn put_one(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError> {
        let store = self.store.clone();
        let path = self.path(key);
        self.run(async move { store.put(&path, PutPayload::from(bytes)).await })?
            .map(|_| ())
            .map_err(|e| write_error(key, e))
    }
}

/// What a call on a closed archive answers.
fn closed_error() -> ArchiveError {
    ArchiveError::Unavailable { detail: "the archive is closed (shutting down)".into() }
}

/// object_store's error as an archive error: missing → `NotFound`; credentials, a
/// request S3 refuses (4xx other than throttling) or a misconfiguration → `Refused`;
/// everything else (5xx, timeouts, connection failures) → `Unavailable`, which the
/// archiver retries.
fn store_error(key: &str, error: object_store::Error) -> ArchiveError {
    use object_store::Error as E;
    match error {
        E::NotFound { .. } => ArchiveError::NotFound { key: key.to_owned() },
        E::PermissionDenied { .. }
        | E::Unauthenticated { .. }
        | E::InvalidPath { .. }
        | E::NotSupported { .. }
        | E::NotImplemented
        | E::UnknownConfigurationKey { .. }
        | E::Precondition { .. }
        | E::AlreadyExists { .. } => ArchiveError::Refused { detail: format!("{key}: {error}") },
        other => {
            let detail = format!("{key}: {other}");
            if is_client_error(&detail) {
                ArchiveError::Refused { detail }
            } else {
                ArchiveError::Unavailable { detail }
            }
        }
    }
}

/// A failed write: S3 answers 404 to a put only when the bucket is missing, which
/// retrying will not fix.
fn write_error(key: &str, error: object_store::Error) -> ArchiveError {
    match error {
        object_store::Error::NotFound { .. } => {
            ArchiveError::Refused { detail: format!("{key}: the bucket does not exist: {error}") }
        }
        other => store_error(key, other),
    }
}

/// S3 error codes sent with a 4xx status that a retry can cure: the connection was too
/// slow or cut (400 RequestTimeout, IncompleteBody) or a concurrent operation on the
/// bucket got in the way (409 OperationAborted).
const TRANSIENT_S3_CODES: [&str; 3] =
    ["<Code>RequestTimeout</Code>", "<Code>IncompleteBody</Code>", "<Code>OperationAborted</Code>"];

/// Whether a generic error's text reports a 4xx status other than 408 and 429 and the
/// [`TRANSIENT_S3_CODES`] (which are worth retrying). object_store keeps the status in a
/// private type; its text is "... status code: 400 Bad Request: <body>".
fn is_client_error(detail: &str) -> bool {
    let Some((_, after)) = detail.split_once("status code: ") else {
        return false;
    };
    if TRANSIENT_S3_CODES.iter().any(|code| after.contains(code)) {
        return false;
    }
    let code: String = after.chars().take_while(char::is_ascii_digit).collect();
    matches!(code.parse::<u16>(), Ok(400..=499)) && code != "408" && code != "429"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_ends_a_request_the_store_never_answers_and_refuses_new_ones() {
        // Static credentials, so the request goes to the endpoint (not to a credentials
        // service); nextest runs each test in a process of its own.
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        // A listener that takes the connection and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", silent.local_addr().unwrap());
        let archive = Arc::new(S3Archive::open("bucket", "", Some(&endpoint), "us-east-1").unwrap());
        let (done, answered) = mpsc::channel();
        let caller = archive.clone();
        let waiting = std::thread::spawn(move || {
            let _ = done.send(caller.get("rheo-archive.json"));
        });
        // The request is in flight once its connection arrives (a 20 s bound, so a
        // client that never connects fails the test instead of hanging it).
        silent.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let _connection = loop {
            match silent.accept() {
                Ok((connection, _)) => break connection,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(std::time::Instant::now() < deadline, "the request never reached the store");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(error) => panic!("{error}"),
            }
        };
        archive.close();
        // Generous next to CLOSE_POLL, far below the client's 120 s request timeout.
        let answer = answered.recv_timeout(Duration::from_secs(20)).expect("the close did not end the request");
        waiting.join().unwrap();
        assert!(
            matches!(&answer, Err(ArchiveError::Unavailable { detail }) if detail.contains("closed")),
            "{answer:?}"
        );
        let started = std::time::Instant::now();
        let after = archive.put_bytes("k", Bytes::from_static(b"x"));
        assert!(matches!(&after, Err(ArchiveError::Unavailable { detail }) if detail.contains("closed")), "{after:?}");
        assert!(started.elapsed() < S3_CONNECT_TIMEOUT, "a call after close went to the store");
        drop(silent);
    }

    #[test]
    fn only_lasting_client_errors_are_refusals() {
        assert!(is_client_error("k: Generic S3 error: Server returned non-2xx status code: 400 Bad Request: x"));
        assert!(!is_client_error("k: Generic S3 error: Server returned non-2xx status code: 503 Slow Down"));
        assert!(!is_client_error("k: Generic S3 error: Server returned non-2xx status code: 429 Too Many"));
        assert!(!is_client_error("k: Generic S3 error: error sending request: connection refused"));
        let timeout = "k: Generic S3 error: Server returned non-2xx status code: 400 Bad Request: \
                       <Error><Code>RequestTimeout</Code><Message>slow</Message></Error>";
        assert!(!is_client_error(timeout));
        let aborted = "k: Generic S3 error: Server returned non-2xx status code: 409 Conflict: \
                       <Error><Code>OperationAborted</Code></Error>";
        assert!(!is_client_error(aborted));
        let incomplete = "k: Generic S3 error: Server returned non-2xx status code: 400 Bad Request: \
                          <Error><Code>IncompleteBody</Code></Error>";
        assert!(!is_client_error(incomplete));
        let missing = store_error("k", object_store::Error::NotFound { path: "k".into(), source: "gone".into() });
        assert!(matches!(missing, ArchiveError::NotFound { .. }));
        let generic = store_error("k", object_store::Error::Generic { store: "S3", source: "timed out".into() });
        assert!(generic.is_transient());
        let no_bucket = write_error("k", object_store::Error::NotFound { path: "k".into(), source: "gone".into() });
        assert!(matches!(no_bucket, ArchiveError::Refused { .. }));
    }
}
