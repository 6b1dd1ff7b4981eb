//! An in-memory [`FileSystem`] with a crash and fault model.
//!
//! It serves two purposes: the server's `--in-memory` mode (nothing touches the disk),
//! and tests that need faults a real disk will not produce on demand.
//!
//! Fault model:
//! - **File contents.** Every file remembers the bytes it had at its last `sync_data`.
//!   [`MemFs::crash`] throws away everything written since, optionally keeping a prefix
//!   of the unsynced bytes and appending garbage, which is what a torn write looks like
//!   after power loss.
//! - **Folder entries.** Beside the namespace the calls see (path → file), MemFs keeps
//!   the *durable* namespace: what a crash leaves. Creating a file (`open_write`,
//!   `try_lock`), renaming and removing change only the current namespace; `sync_dir(d)`
//!   copies every entry directly in `d` (files and sub-folders, present or gone) into the
//!   durable one. A crash reverts the namespace to the durable one: files created since
//!   their folder's last sync vanish, renames revert (a replaced file comes back with its
//!   synced content), removed files come back. `fdatasync` of a file does not make its
//!   name durable; POSIX promises nothing more, and ext4 and xfs need the folder sync too.
//! - **Renames are taken per folder**, the strict reading: the new name is durable once
//!   the target's folder is synced, the old name is gone once the source's folder is.
//!   Across two folders a crash between the two syncs can leave the file under both
//!   names or under neither (a journaling filesystem would keep the rename atomic). The
//!   engine renames only within one folder (temporary file beside its target), where one
//!   sync makes the whole replacement durable at once.
//! - **Folders** (`create_dir_all`) are entries of their parent like files: a folder
//!   whose entry is not durable vanishes in a crash with everything in it, even entries
//!   synced into it. Roots (`/`) are always durable. Folders are modelled, not taken as
//!   durable at once, because a fresh data folder (`log/`, `meta/`, `meta/archive/`)
//!   depends on exactly these syncs.
//! - Both namespaces map names to the same shared file, so the durable namespace costs
//!   no copy of file data (the `--in-memory` mode keeps its size); a removed file's bytes
//!   are freed once its folder is synced.
//! - [`MemFs::fail_next_syncs`], [`MemFs::fail_next_writes`] and
//!   [`MemFs::fail_next_dir_syncs`] (of one folder) make the next N calls of their kind
//!   fail with EIO (a failed folder sync makes none of the folder's entries durable);
//!   [`MemFs::deny_dir_syncs`] fails a folder's syncs with EACCES;
//!   [`MemFs::set_capacity`] makes writes fail with ENOSPC once the total size of all
//!   files would exceed the capacity.

use std::collections::{BTreeMap, BTreeSet, HashSet};
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

type SharedFile = Arc<Mutex<MemFile>>;

#[derive(Default)]
struct State {
    /// The namespace calls see now.
    files: BTreeMap<PathBuf, SharedFile>,
    dirs: BTreeSet<PathBuf>,
    /// The namespace a crash leaves: each folder's entries as of its last `sync_dir`.
    /// The values are the same shared files as in `files`, never copies.
    durable_files: BTreeMap<PathBuf, SharedFile>,
    durable_dirs: BTreeSet<PathBuf>,
    failing_syncs: u32,
    /// A folder whose next syncs fail, how many, and the OS error code they fail with.
    failing_dir_syncs: Option<(PathBuf, u32, i32)>,
    failing_writes: u32,
    capacity_bytes: Option<u64>,
    syncs: u64,
    locked: BTreeSet<PathBuf>,
}

impl State {
    fn used_bytes(&self) -> u64 {
        self.files.values().map(|f| f.lock().data.len() as u64).sum()
    }

    /// Makes the current entries directly in `dir` durable, and forgets durable entries
    /// that are gone from it.
    fn sync_entries(&mut self, dir: &Path) {
        let State { files, dirs, durable_files, durable_dirs, .. } = self;
        // Descendants of `dir` sort right after it, so each walk stops at the first path
        // outside it instead of visiting every file (the `--in-memory` mode syncs its log
        // folder at every new segment).
        let under = |path: &PathBuf| path.starts_with(dir);
        let in_dir = |path: &PathBuf| path.parent() == Some(dir);
        let gone: Vec<PathBuf> = durable_files
            .range(dir.to_path_buf()..)
            .map(|(path, _)| path)
            .take_while(|path| under(path))
            .filter(|path| in_dir(path) && !files.contains_key(*path))
            .cloned()
            .collect();
        for path in gone {
            durable_files.remove(&path);
        }
        let gone: Vec<PathBuf> = durable_dirs
            .range(dir.to_path_buf()..)
            .take_while(|path| under(path))
            .filter(|path| in_dir(path) && !dirs.contains(*path))
            .cloned()
            .collect();
        for path in gone {
            durable_dirs.remove(&path);
        }
        for (path, file) in files.range(dir.to_path_buf()..).take_while(|(path, _)| under(path)) {
            if in_dir(path) {
                durable_files.insert(path.clone(), file.clone());
            }
        }
        for path in dirs.range(dir.to_path_buf()..).take_while(|path| under(path)) {
            if in_dir(path) {
                durable_dirs.insert(path.clone());
            }
        }
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

    /// Simulates power loss: the namespace falls back to its durable entries (see the
    /// module doc), and every file left to its last synced content, torn as `tear` says.
    pub fn crash(&self, tear: Tear) {
        let mut state = self.state.lock();
        // Parents sort before their children, so one pass drops every folder whose own
        // entry (or an ancestor's) was lost.
        let mut dirs = BTreeSet::new();
        for dir in &state.durable_dirs {
            if dir.parent().is_none_or(|parent| dirs.contains(parent)) {
                dirs.insert(dir.clone());
            }
        }
        let known_dirs: BTreeSet<&Path> = state.dirs.iter().chain(&state.durable_dirs).map(PathBuf::as_path).collect();
        let files: BTreeMap<PathBuf, SharedFile> = state
            .durable_files
            .iter()
            // A file in a folder MemFs never created (placed by `write_all`) stays.
            .filter(|(path, _)| {
                path.parent().is_none_or(|parent| dirs.contains(parent) || !known_dirs.contains(parent))
            })
            .map(|(path, file)| (path.clone(), file.clone()))
            .collect();
        drop(known_dirs);
        // A file durable under two names (a rename across folders half synced) is torn once.
        let mut seen = HashSet::new();
        for file in files.values().filter(|file| seen.insert(Arc::as_ptr(file))) {
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
        state.files = files.clone();
        state.durable_files = files;
        state.dirs = dirs.clone();
        state.durable_dirs = dirs;
    }

    /// Whether `path` (a file or a folder) would still be there after a crash now.
    pub fn is_durable(&self, path: &Path) -> bool {
        let state = self.state.lock();
        state.durable_files.contains_key(path) || state.durable_dirs.contains(path)
    }

    /// The next `count` calls to `sync_data` fail with EIO.
    pub fn fail_next_syncs(&self, count: u32) {
        self.state.lock().failing_syncs = count;
    }

    /// The next `count` syncs of folder `dir` fail with EIO, leaving its entries as
    /// durable as they were (other folders sync as usual).
    pub fn fail_next_dir_syncs(&self, dir: &Path, count: u32) {
        self.state.lock().failing_dir_syncs = Some((dir.to_path_buf(), count, libc::EIO));
    }

    /// The next `count` syncs of folder `dir` fail with EACCES, as for a folder the
    /// process may enter but not read.
    pub fn deny_dir_syncs(&self, dir: &Path, count: u32) {
        self.state.lock().failing_dir_syncs = Some((dir.to_path_buf(), count, libc::EACCES));
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

    /// Replaces a file's content entirely (durably, name included), for tests that craft
    /// damaged logs.
    pub fn write_all(&self, path: &Path, data: &[u8]) {
        let mut state = self.state.lock();
        let file = state.files.entry(path.to_path_buf()).or_default().clone();
        state.durable_files.insert(path.to_path_buf(), file.clone());
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
            if dir.parent().is_none() {
                // A root has no folder to sync it into.
                state.durable_dirs.insert(dir.to_path_buf());
            }
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
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        if path.parent().is_some() && !state.dirs.contains(path) {
            return Err(not_found(path));
        }
        if let Some((_, count, code)) =
            state.failing_dir_syncs.as_mut().filter(|(dir, count, _)| dir == path && *count > 0)
        {
            *count -= 1;
            return Err(io::Error::from_raw_os_error(*code));
        }
        state.sync_entries(path);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A filesystem with `/d`, whose entry is durable.
    fn with_durable_folder() -> MemFs {
        let fs = MemFs::new();
        fs.create_dir_all(Path::new("/d")).unwrap();
        fs.sync_dir(Path::new("/")).unwrap();
        fs
    }

    /// Writes `bytes` to a new file at `path` and fdatasyncs it (its name is not synced).
    fn write_synced(fs: &MemFs, path: &str, bytes: &[u8]) {
        let mut file = fs.open_write(Path::new(path)).unwrap();
        file.set_len(0).unwrap();
        file.write_all_at(bytes, 0).unwrap();
        file.sync_data().unwrap();
    }

    fn content(fs: &MemFs, path: &str) -> Option<Vec<u8>> {
        fs.read_all(Path::new(path)).ok()
    }

    #[test]
    fn a_file_whose_folder_was_not_synced_vanishes_in_a_crash_even_with_its_data_synced() {
        let fs = with_durable_folder();
        write_synced(&fs, "/d/new", b"synced data");
        assert!(!fs.is_durable(Path::new("/d/new")));
        fs.crash(Tear::DropUnsynced);
        assert_eq!(content(&fs, "/d/new"), None);
        assert_eq!(fs.list_dir(Path::new("/d")).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_failed_folder_sync_makes_nothing_durable_and_the_next_one_works() {
        let fs = with_durable_folder();
        write_synced(&fs, "/d/new", b"synced data");
        fs.fail_next_dir_syncs(Path::new("/d"), 1);
        fs.sync_dir(Path::new("/")).unwrap();
        let error = fs.sync_dir(Path::new("/d")).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EIO));
        assert!(!fs.is_durable(Path::new("/d/new")));
        fs.sync_dir(Path::new("/d")).unwrap();
        assert!(fs.is_durable(Path::new("/d/new")));
    }

    #[test]
    fn a_rename_whose_folder_was_not_synced_reverts_in_a_crash() {
        let fs = with_durable_folder();
        write_synced(&fs, "/d/file", b"old");
        fs.sync_dir(Path::new("/d")).unwrap();
        write_synced(&fs, "/d/file.tmp", b"new");
        fs.rename(Path::new("/d/file.tmp"), Path::new("/d/file")).unwrap();
        assert_eq!(content(&fs, "/d/file").as_deref(), Some(&b"new"[..]));
        fs.crash(Tear::DropUnsynced);
        assert_eq!(content(&fs, "/d/file").as_deref(), Some(&b"old"[..]));
        assert_eq!(content(&fs, "/d/file.tmp"), None);
    }

    #[test]
    fn a_removal_whose_folder_was_not_synced_is_undone_with_the_synced_content() {
        let fs = with_durable_folder();
        write_synced(&fs, "/d/file", b"synced");
        fs.sync_dir(Path::new("/d")).unwrap();
        let mut writer = fs.open_write(Path::new("/d/file")).unwrap();
        writer.write_all_at(b" and not", 6).unwrap();
        fs.remove_file(Path::new("/d/file")).unwrap();
        assert!(!fs.exists(Path::new("/d/file")));
        fs.crash(Tear::DropUnsynced);
        assert_eq!(content(&fs, "/d/file").as_deref(), Some(&b"synced"[..]));
    }

    #[test]
    fn after_a_folder_sync_creations_renames_and_removals_all_survive_a_crash() {
        let fs = with_durable_folder();
        write_synced(&fs, "/d/removed", b"r");
        write_synced(&fs, "/d/replaced", b"old");
        fs.sync_dir(Path::new("/d")).unwrap();
        write_synced(&fs, "/d/created", b"c");
        write_synced(&fs, "/d/replaced.tmp", b"new");
        fs.rename(Path::new("/d/replaced.tmp"), Path::new("/d/replaced")).unwrap();
        fs.remove_file(Path::new("/d/removed")).unwrap();
        fs.sync_dir(Path::new("/d")).unwrap();
        assert!(fs.is_durable(Path::new("/d/created")));
        fs.crash(Tear::DropUnsynced);
        assert_eq!(fs.list_dir(Path::new("/d")).unwrap(), ["created", "replaced"]);
        assert_eq!(content(&fs, "/d/created").as_deref(), Some(&b"c"[..]));
        assert_eq!(content(&fs, "/d/replaced").as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn a_folder_whose_own_entry_was_not_synced_vanishes_with_everything_synced_into_it() {
        let fs = with_durable_folder();
        fs.create_dir_all(Path::new("/d/sub/deeper")).unwrap();
        write_synced(&fs, "/d/sub/deeper/file", b"x");
        fs.sync_dir(Path::new("/d/sub/deeper")).unwrap();
        fs.sync_dir(Path::new("/d/sub")).unwrap();
        // `/d` never synced: `sub` (and so all below it) is lost.
        fs.crash(Tear::DropUnsynced);
        assert!(!fs.exists(Path::new("/d/sub")));
        assert!(!fs.exists(Path::new("/d/sub/deeper/file")));
        assert!(fs.exists(Path::new("/d")));

        fs.create_dir_all(Path::new("/d/sub")).unwrap();
        write_synced(&fs, "/d/sub/file", b"y");
        fs.sync_dir(Path::new("/d/sub")).unwrap();
        fs.sync_dir(Path::new("/d")).unwrap();
        fs.crash(Tear::DropUnsynced);
        assert_eq!(content(&fs, "/d/sub/file").as_deref(), Some(&b"y"[..]));
    }

    #[test]
    fn a_rename_across_folders_is_durable_per_folder() {
        let fs = with_durable_folder();
        fs.create_dir_all(Path::new("/e")).unwrap();
        fs.sync_dir(Path::new("/")).unwrap();
        write_synced(&fs, "/d/file", b"x");
        fs.sync_dir(Path::new("/d")).unwrap();

        // Only the target's folder synced: the file is under both names.
        fs.rename(Path::new("/d/file"), Path::new("/e/file")).unwrap();
        fs.sync_dir(Path::new("/e")).unwrap();
        fs.crash(Tear::Partial { keep: 0, garbage: 3 });
        assert_eq!(content(&fs, "/d/file").as_deref(), Some(&b"x"[..]));
        assert_eq!(content(&fs, "/e/file").as_deref(), Some(&b"x"[..]));

        // Only the source's folder synced: under neither.
        fs.remove_file(Path::new("/e/file")).unwrap();
        fs.sync_dir(Path::new("/e")).unwrap();
        fs.rename(Path::new("/d/file"), Path::new("/e/file")).unwrap();
        fs.sync_dir(Path::new("/d")).unwrap();
        fs.crash(Tear::DropUnsynced);
        assert_eq!(content(&fs, "/d/file"), None);
        assert_eq!(content(&fs, "/e/file"), None);
    }

    #[test]
    fn unsynced_bytes_of_a_durable_file_are_still_torn() {
        let fs = with_durable_folder();
        write_synced(&fs, "/d/log", b"synced");
        fs.sync_dir(Path::new("/d")).unwrap();
        let mut writer = fs.open_write(Path::new("/d/log")).unwrap();
        writer.write_all_at(b"unsynced", 6).unwrap();
        assert_eq!(fs.unsynced_bytes(Path::new("/d/log")), Some(8));
        fs.crash(Tear::Partial { keep: 2, garbage: 3 });
        assert_eq!(content(&fs, "/d/log").as_deref(), Some(&b"syncedun\xA5\xA5\xA5"[..]));
        assert_eq!(fs.unsynced_bytes(Path::new("/d/log")), Some(0));
    }

    #[test]
    fn syncing_a_folder_that_does_not_exist_fails() {
        let fs = with_durable_folder();
        let error = fs.sync_dir(Path::new("/missing")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
