//! An archive in memory, with knobs that make it fail, for tests of the log's tiering.

use std::collections::BTreeMap;
use std::ops::{Bound, Range};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;

use super::{ArchiveError, ListPage, ObjectArchive, ObjectInfo, ARCHIVE_LIST_PAGE};
use crate::fs::ReadFile;

/// What a [`MemArchive`] does wrong, switchable at any time.
#[derive(Debug, Default)]
pub struct MemArchiveFaults {
    /// Every call fails with [`ArchiveError::Unavailable`] (the store is down).
    pub down: AtomicBool,
    /// Every call first sleeps this many milliseconds (the store is slow).
    pub delay_ms: AtomicU64,
    /// Writes (puts) fail while reads still work.
    pub refuse_writes: AtomicBool,
    /// Puts wait at a gate while this is set (a store that does not answer), until it
    /// is cleared or the archive is closed; see [`MemArchive::held_puts`].
    pub hold_puts: AtomicBool,
}

/// Objects in a map. Cheap to clone the handle of: wrap it in an `Arc`.
#[derive(Debug, Default)]
pub struct MemArchive {
    objects: Mutex<BTreeMap<String, Bytes>>,
    /// The knobs.
    pub faults: MemArchiveFaults,
    /// Calls made, by kind: puts, gets, deletes, lists.
    pub calls: [AtomicU64; 4],
    /// Puts waiting at the `hold_puts` gate now.
    held: AtomicU64,
    /// Times [`ObjectArchive::close`] was called: a held put sees it change and ends.
    closes: AtomicU64,
}

/// How often a put held at the gate looks whether it may go on (a test knob only).
const GATE_POLL: Duration = Duration::from_millis(5);

impl MemArchive {
    /// An empty archive that works.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys it holds, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().keys().cloned().collect()
    }

    /// The object under `key`, bypassing the faults.
    pub fn object(&self, key: &str) -> Option<Bytes> {
        self.objects.lock().get(key).cloned()
    }

    /// Replaces an object directly, bypassing the faults (to damage one in a test).
    pub fn set_object(&self, key: &str, bytes: Bytes) {
        self.objects.lock().insert(key.to_owned(), bytes);
    }

    /// Puts waiting at the `hold_puts` gate now.
    pub fn held_puts(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    /// Waits at the gate while `hold_puts` is set; a close ends the wait with a failure.
    fn gate(&self) -> Result<(), ArchiveError> {
        if !self.faults.hold_puts.load(Ordering::Acquire) {
            return Ok(());
        }
        let closes = self.closes.load(Ordering::Acquire);
        self.held.fetch_add(1, Ordering::AcqRel);
        let outcome = loop {
            if self.closes.load(Ordering::Acquire) != closes {
                break Err(ArchiveError::Unavailable { detail: "memory archive closed while a put was held".into() });
            }
            if !self.faults.hold_puts.load(Ordering::Acquire) {
                break Ok(());
            }
            std::thread::sleep(GATE_POLL);
        };
        self.held.fetch_sub(1, Ordering::AcqRel);
        outcome
    }

    fn enter(&self, kind: usize, write: bool) -> Result<(), ArchiveError> {
        self.calls[kind].fetch_add(1, Ordering::Relaxed);
        if kind == 0 {
            self.gate()?;
        }
        let delay = self.faults.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        if self.faults.down.load(Ordering::Relaxed) || (write && self.faults.refuse_writes.load(Ordering::Relaxed)) {
            return Err(ArchiveError::Unavailable { detail: "memory archive switched off by the test".into() });
        }
        Ok(())
    }
}

impl ObjectArchive for MemArchive {
    fn describe(&self) -> String {
        "memory://".into()
    }

    fn put_file(&self, key: &str, source: &dyn ReadFile, len: u64) -> Result<(), ArchiveError> {
        self.enter(0, true)?;
        let mut bytes = vec![0u8; len as usize];
        source
            .read_exact_at(&mut bytes, 0)
            .map_err(|e| ArchiveError::Unavailable { detail: format!("reading the local file failed: {e}") })?;
        self.objects.lock().insert(key.to_owned(), Bytes::from(bytes));
        Ok(())
    }

    fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError> {
        self.enter(0, true)?;
        self.objects.lock().insert(key.to_owned(), bytes);
        Ok(())
    }

    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, ArchiveError> {
        self.enter(1, false)?;
        let object = self.objects.lock().get(key).cloned().ok_or_else(|| ArchiveError::NotFound { key: key.into() })?;
        if range.start > range.end || range.end > object.len() as u64 {
            return Err(ArchiveError::Refused { detail: format!("range {range:?} outside {} bytes", object.len()) });
        }
        Ok(object.slice(range.start as usize..range.end as usize))
    }

    fn get(&self, key: &str) -> Result<Bytes, ArchiveError> {
        self.enter(1, false)?;
        self.objects.lock().get(key).cloned().ok_or_else(|| ArchiveError::NotFound { key: key.into() })
    }

    fn delete(&self, key: &str) -> Result<(), ArchiveError> {
        self.enter(2, true)?;
        self.objects.lock().remove(key);
        Ok(())
    }

    /// Ends the puts held at the gate. Later calls work as before: tests reopen a log on
    /// the same memory archive after a shutdown, as a new process would open the store.
    fn close(&self) {
        self.closes.fetch_add(1, Ordering::AcqRel);
    }

    /// One page per call of the store (counted as a list call, as S3 makes one request a
    /// page); the lock is not held while the caller handles a page, so it may delete.
    fn list_pages(&self, prefix: &str, page: &mut ListPage<'_>) -> Result<(), ArchiveError> {
        let mut after: Option<String> = None;
        loop {
            self.enter(3, false)?;
            let objects: Vec<ObjectInfo> = {
                let objects = self.objects.lock();
                let from = match &after {
                    Some(key) => Bound::Excluded(key.clone()),
                    None => Bound::Included(prefix.to_owned()),
                };
                objects
                    .range((from, Bound::Unbounded))
                    .take_while(|(key, _)| key.starts_with(prefix))
                    .take(ARCHIVE_LIST_PAGE)
                    .map(|(key, bytes)| ObjectInfo { key: key.clone(), size: bytes.len() as u64 })
                    .collect()
            };
            let Some(last) = objects.last() else {
                return Ok(());
            };
            let full = objects.len() == ARCHIVE_LIST_PAGE;
            after = Some(last.key.clone());
            if page(objects)?.is_break() || !full {
                return Ok(());
            }
        }
    }
}
