//! An in-memory [`FileSystem`] with a crash and fault model.
//!
//! It serves two purposes: the server's `--in-memory` mode (nothing touches the disk),
//! and tests that need faults a real disk will not produce on demand.
//!
//! Fault model:
//! - Every file remembers the bytes it had at its last `sync_data`. [`MemFs::crash`]
//!   throws away everything written since, optionally keeping a prefix of the unsynced
//!   bytes and appending garbage, which is what a torn write looks like after power loss.
//! - Folder operations (create, rename, remove) are durable at once. The engine syncs
//!   folders after each of them anyway; modelling lost renames is left to the crash tests
//!   on a real filesystem.
//! - [`MemFs::fail_next_syncs`] and [`MemFs::fail_next_writes`] make the next N calls
//!   fail with EIO; [`MemFs::set_capacity`] makes writes fail with ENOSPC once the total
//!   size of all files would exceed the capacity.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::fs::{FileSystem, LockGuard, ReadFile, WriteFile};

#[derive(Default)]
struct MemFile {
    data: Vec<u8>,
    /// Bytes `..durable_len` survive a crash. The log only appends, so a synced prefix
    /// never changes afterwards; tracking its length instead of a copy keeps the
    /// in-memory server mode cheap.
    durable_len: usize,
}

#[derive(Default)]
struct State {
    files: BTreeMap<PathBuf, Arc<Mutex<MemFile>>>,
    dirs: std::collections::BTreeSet<PathBuf>,
    failing_syncs: u32,
    failing_writes: u32,
    capacity_bytes: Option<u64>,
    syncs: u64,
    locked: std::collections::BTreeSet<PathBuf>,
}

impl State {
    fn used_bytes(&self) -> u64 {
        self.files.values().map(|f| f.lock().data.len() as u64).sum()
    }
}

/// How [`MemFs::crash`] treats bytes written after the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tear {
    /// All unsynced bytes are lost.
    DropUnsynced,
    /// The first `keep` unsynced bytes of every file survive, then `garbage` bytes of 0xA5.
    Partial {
        /// Unsynced bytes that reached the platter.
        keep: usize,
        /// Junk appended after them.
        garbage: usize,
    },
}

/// The in-memory filesystem. Clones share the same files.
#[derive(Clone, Default)]
pub struct MemFs {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemFs").finish_non_exhaustive()
    }
}

impl MemFs {
    /// An empty filesystem.
    pub fn new() -> Self {
        Self::default()
    }

    /// Simulates power loss: every file falls back to its last synced content, torn as `tear` says.
    pub fn crash(&self, tear: Tear) {
        let state = self.state.lock();
        for file in state.files.values() {
            let mut file = file.lock();
            let durable_len = file.durable_len.min(file.data.len());
            let unsynced = file.data.split_off(durable_len);
            // Only a file with writes in flight can be torn; a fully synced one is intact.
            if let (Tear::Partial { keep, garbage }, false) = (tear, unsynced.is_empty()) {
                file.data.extend_from_slice(&unsynced[..keep.min(unsynced.len())]);
                file.data.extend(std::iter::repeat_n(0xA5, garbage));
            }
            file.durable_len = file.data.len();
        }
    }

    /// The next `count` calls to `sync_data` fail with EIO.
    pub fn fail_next_syncs(&self, count: u32) {
        self.state.lock().failing_syncs = count;
    }

    /// The next `count` writes fail with EIO.
    pub fn fail_next_writes(&self, count: u32) {
        self.state.lock().failing_writes = count;
    }

    /// Writes that would make all files together larger than this fail with ENOSPC.
    pub fn set_capacity(&self, capacity_bytes: Option<u64>) {
        self.state.lock().capacity_bytes = capacity_bytes;
    }

    /// Total bytes held by all files.
    pub fn used_bytes(&self) -> u64 {
        self.state.lock().used_bytes()
    }

    /// How many `sync_data` calls succeeded so far (to check group commit).
    pub fn sync_count(&self) -> u64 {
        self.state.lock().syncs
    }

    /// Overwrites bytes of a file in place, as bit rot would (for corruption tests).
    pub fn corrupt(&self, path: &Path, offset: usize, bytes: &[u8]) -> io::Result<()> {
        let state = self.state.lock();
        let file = state.files.get(path).ok_or_else(|| not_found(path))?;
        let mut file = file.lock();
        for (i, b) in bytes.iter().enumerate() {
            if let Some(slot) = file.data.get_mut(offset + i) {
                *slot = *b;
            }
        }
        Ok(())
    }

    /// Bytes of a file that a crash would lose now (`None` if there is no such file).
    pub fn unsynced_bytes(&self, path: &Path) -> Option<usize> {
        let state = self.state.lock();
        let file = state.files.get(path)?.lock();
        Some(file.data.len().saturating_sub(file.durable_len))
    }

    /// The content of a file.
    pub fn read_all(&self, path: &Path) -> io::Result<Vec<u8>> {
        let state = self.state.lock();
        let file = state.files.get(path).ok_or_else(|| not_found(path))?;
        let data = file.lock().data.clone();
        Ok(data)
    }

    /// Replaces a file's content entirely (durably), for tests that craft damaged logs.
    pub fn write_all(&self, path: &Path, data: &[u8]) {
        let mut state = self.state.lock();
        let file = state.files.entry(path.to_path_buf()).or_default().clone();
        let mut file = file.lock();
        file.data = data.to_vec();
        file.durable_len = data.len();
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display()))
}

struct MemReadFile(Arc<Mutex<MemFile>>);

impl ReadFile for MemReadFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let file = self.0.lock();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(file.data.len());
        let n = buf.len().min(file.data.len() - start);
        buf[..n].copy_from_slice(&file.data[start..start + n]);
        Ok(n)
    }
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.lock().data.len() as u64)
    }
}

struct MemWriteFile {
    file: Arc<Mutex<MemFile>>,
    state: Arc<Mutex<State>>,
}

impl WriteFile for MemWriteFile {
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut state = self.state.lock();
        if state.failing_writes > 0 {
            state.failing_writes -= 1;
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let end = offset as usize + buf.len();
        if let Some(capacity) = state.capacity_bytes {
            let current = self.file.lock().data.len();
            let growth = end.saturating_sub(current) as u64;
            if state.used_bytes() + growth > capacity {
                // A real disk may accept part of the write before running out; keep a
                // few bytes to exercise the truncation that follows.
                let room = capacity.saturating_sub(state.used_bytes()) as usize;
                let mut file = self.file.lock();
                let partial = room.min(buf.len()).min(7);
                if offset as usize <= file.data.len() {
                    let start = offset as usize;
                    file.data.truncate(start);
                    file.data.extend_from_slice(&buf[..partial]);
                }
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
        }
        drop(state);
        let mut file = self.file.lock();
        if file.data.len() < end {
            file.data.resize(end, 0);
        }
        file.data[offset as usize..end].copy_from_slice(buf);
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        let mut state = self.state.lock();
        if state.failing_syncs > 0 {
            state.failing_syncs -= 1;
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        drop(state);
        let mut file = self.file.lock();
        file.durable_len = file.data.len();
        drop(file);
        // Counted once the bytes are durable, so a test that waits for the count to move
        // never races ahead of the sync it waits for.
        self.state.lock().syncs += 1;
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let mut file = self.file.lock();
        file.data.resize(len as usize, 0);
        // A shrink must never let a later crash resurrect the cut bytes.
        file.durable_len = file.durable_len.min(len as usize);
        Ok(())
    }
}

impl FileSystem for MemFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        let mut current = Some(path);
        while let Some(dir) = current {
            state.dirs.insert(dir.to_path_buf());
            current = dir.parent();
        }
        Ok(())
    }
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let state = self.state.lock();
        if !state.dirs.contains(path) {
            return Err(not_found(path));
        }
        // Sub-folders are entries too, as on a real filesystem (the folder archive walks them).
        let mut names: Vec<String> = state
            .files
            .keys()
            .chain(state.dirs.iter())
            .filter(|p| p.parent() == Some(path))
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn ReadFile>> {
        let state = self.state.lock();
        let file = state.files.get(path).ok_or_else(|| not_found(path))?;
        Ok(Arc::new(MemReadFile(file.clone())))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let mut state = self.state.lock();
        match path.parent() {
            Some(parent) if !state.dirs.contains(parent) => return Err(not_found(parent)),
            _ => {}
        }
        let file = state.files.entry(path.to_path_buf()).or_default().clone();
        Ok(Box::new(MemWriteFile { file, state: self.state.clone() }))
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.state.lock().files.remove(path).map(|_| ()).ok_or_else(|| not_found(path))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        let file = state.files.remove(from).ok_or_else(|| not_found(from))?;
        state.files.insert(to.to_path_buf(), file);
        Ok(())
    }
    fn sync_dir(&self, _path: &Path) -> io::Result<()> {
        Ok(())
    }
    fn exists(&self, path: &Path) -> bool {
        let state = self.state.lock();
        state.files.contains_key(path) || state.dirs.contains(path)
    }
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>> {
        let mut state = self.state.lock();
        if !state.locked.insert(path.to_path_buf()) {
            return Ok(None);
        }
        let file = state.files.entry(path.to_path_buf()).or_default().clone();
        let mut file = file.lock();
        file.data = format!("{}\n", std::process::id()).into_bytes();
        file.durable_len = file.data.len();
        Ok(Some(LockGuard::new(MemLock { state: self.state.clone(), path: path.to_path_buf() })))
    }
}

/// A lock on the in-memory filesystem: held while this value lives.
struct MemLock {
    state: Arc<Mutex<State>>,
    path: PathBuf,
}

impl Drop for MemLock {
    fn drop(&mut self) {
        self.state.lock().locked.remove(&self.path);
    }
}
